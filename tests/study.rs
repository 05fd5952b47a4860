//! `scripts/run_study.sh`, the driver of the full-data study, with a stand-in for `daa` that
//! records its arguments and writes a summary at once: the job list (every cell, sweep and
//! schedule run with the flags docs/training.md states), the epoch count E chosen from the
//! schedule runs, `JOBS` and `FROM`, a failed run's exit status, and the input errors.

mod common;

use common::have;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `daa` that appends its arguments to $CALLS and writes `summary.json` into `--out`;
/// `native` after 10, 20 and 40 epochs reaches 90.0, 90.5, 90.9 % for lenet5 (so E = 10),
/// 89.5, 90.5, 91.0 % for vgg-small (E = 20) and 88.0, 89.0, 91.0 % for resnet-mini
/// (E = 40); the run whose `--out` ends in $FAIL exits 1.
const FAKE_DAA: &str = r#"#!/bin/bash
echo "$*" >> "$CALLS"
while [ $# -gt 0 ]; do
    case $1 in --out) out=$2; shift ;; --epochs) epochs=$2; shift ;; --model) model=$2; shift ;; esac
    shift
done
mkdir -p "$out"
case $model-$epochs in
    lenet5-10) a=0.900 ;; lenet5-20) a=0.905 ;; lenet5-40) a=0.909 ;;
    vgg-small-10) a=0.895 ;; vgg-small-20) a=0.905 ;; vgg-small-40) a=0.910 ;;
    resnet-mini-10) a=0.880 ;; resnet-mini-20) a=0.890 ;; resnet-mini-40) a=0.910 ;;
    *) a=0.5 ;;
esac
echo "{\"test_accuracy\": $a}" > "$out/summary.json"
[ -z "${FAIL:-}" ] || [[ "$out" != *"$FAIL" ]]
"#;

struct Study {
    dir: tempfile::TempDir,
}

impl Study {
    fn new() -> Study {
        let dir = tempfile::tempdir().unwrap();
        let daa = dir.path().join("daa");
        std::fs::write(&daa, FAKE_DAA).unwrap();
        std::fs::set_permissions(&daa, std::fs::Permissions::from_mode(0o755)).unwrap();
        Study { dir }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn run(&self, env: &[(&str, &str)]) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/run_study.sh");
        let mut cmd = Command::new("bash");
        // The script reads its settings from the environment: none may leak in from the caller.
        for k in ["JOBS", "FROM", "LANES", "EXTRA", "DAA", "FAIL"] {
            cmd.env_remove(k);
        }
        cmd.arg(script).arg(self.out()).env("DAA", self.dir.path().join("daa")).env("CALLS", self.calls_path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn calls_path(&self) -> PathBuf {
        self.dir.path().join("calls")
    }

    /// The recorded `daa` calls, sorted, with the output directory written as OUT.
    fn calls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.calls_path()).unwrap_or_default();
        let out = self.out().display().to_string();
        sorted(text.lines().map(|l| l.replace(&out, "OUT")))
    }
}

fn sorted(v: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().collect();
    v.sort();
    v
}

const RUN: &str = "--threads 1 --resume --out OUT";

fn schedule(m: &str) -> Vec<String> {
    [10, 20, 40]
        .iter()
        .map(|e| format!("train --model {m} --policy native --epochs {e} --seed 1 {RUN}/schedule-{m}-e{e}"))
        .collect()
}

/// The epoch count the stand-in's `native` accuracies give each model.
fn epochs(m: &str) -> u32 {
    match m {
        "lenet5" => 10,
        "vgg-small" => 20,
        _ => 40,
    }
}

fn cell(m: &str, f: &str, s: u32) -> String {
    let full = if m == "resnet-mini" { "" } else { "full," };
    let e = epochs(m);
    match f {
        "fp32" => format!(
            "train --model {m} --format fp32 --lo-bits 7 --compare native,single,{full}daa,static --epochs {e} --seed {s} {RUN}/{m}-fp32-seed{s}"
        ),
        _ => format!(
            "train --model {m} --format bf16 --lo-bits 3 --compare single,{full}daa,static --epochs {e} --seed {s} {RUN}/{m}-bf16-seed{s}"
        ),
    }
}

#[test]
fn the_study_runs_every_job_with_the_documented_flags() {
    if !have(&["python3", "flock"]) {
        return;
    }
    let study = Study::new();
    let o = study.run(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut want = Vec::new();
    for m in ["lenet5", "vgg-small", "resnet-mini"] {
        want.extend(schedule(m));
        for f in ["fp32", "bf16"] {
            want.extend((1..=3).map(|s| cell(m, f, s)));
        }
    }
    want.extend((1..=3).map(|s| {
        format!("train --model lenet5 --sweep-lo-bits 5,3,1,0 --epochs 10 --seed {s} {RUN}/lenet5-sweep-seed{s}")
    }));
    assert_eq!(study.calls(), sorted(want));
    let log = std::fs::read_to_string(study.out().join("all.log")).unwrap();
    for m in ["lenet5", "vgg-small", "resnet-mini"] {
        assert!(log.contains(&format!("{m}: epochs {}", epochs(m))), "{log}");
    }
    assert!(log.contains("queue empty"), "{log}");
}

#[test]
fn jobs_and_from_select_and_continue_a_study() {
    if !have(&["python3", "flock"]) {
        return;
    }
    let study = Study::new();
    // FROM's finished results are copied in without overwriting what OUT already has.
    let from = study.dir.path().join("from");
    for (path, text) in [
        ("study/resnet-mini-bf16-seed2/single/checkpoint.bin", "from"),
        ("study/resnet-mini-bf16-seed3/daa/summary.json", "from"),
        ("schedule/resnet-mini-native-e40/curve.csv", "from"),
    ] {
        std::fs::create_dir_all(from.join(path).parent().unwrap()).unwrap();
        std::fs::write(from.join(path), text).unwrap();
    }
    let newer = study.out().join("resnet-mini-bf16-seed2/single/checkpoint.bin");
    std::fs::create_dir_all(newer.parent().unwrap()).unwrap();
    std::fs::write(&newer, "newer").unwrap();
    // One lane, so that no cell waits (30 s polls) for the schedule job on the other lane.
    let o = study.run(&[
        ("LANES", "1"),
        ("JOBS", "resnet-mini (fp32|bf16) 2"),
        ("FROM", from.to_str().unwrap()),
        ("FAIL", "resnet-mini-bf16-seed2"),
    ]);
    // The failed run makes the exit status 1 and is named.
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 run(s) failed"));
    let log = std::fs::read_to_string(study.out().join("all.log")).unwrap();
    assert!(log.contains("end resnet-mini-bf16-seed2 rc=1"), "{log}");
    let mut want = schedule("resnet-mini");
    want.extend([cell("resnet-mini", "fp32", 2), cell("resnet-mini", "bf16", 2)]);
    assert_eq!(study.calls(), sorted(want));
    assert_eq!(std::fs::read_to_string(newer).unwrap(), "newer");
    let out = study.out();
    assert_eq!(std::fs::read_to_string(out.join("resnet-mini-bf16-seed3/daa/summary.json")).unwrap(), "from");
    assert_eq!(std::fs::read_to_string(out.join("schedule-resnet-mini-e40/curve.csv")).unwrap(), "from");
}

#[test]
fn bad_input_and_a_running_study_exit_2_without_running_anything() {
    if !have(&["python3", "flock"]) {
        return;
    }
    let study = Study::new();
    for (jobs, says) in [("(", "not an extended regular expression"), ("cell nothing", "matches no job")] {
        let o = study.run(&[("JOBS", jobs)]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains(says), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = study.run(&[("FROM", "/nonexistent")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("FROM=/nonexistent is not a directory"));
    std::fs::create_dir_all(study.out()).unwrap();
    let lock = std::fs::File::create(study.out().join("lock")).unwrap();
    lock.try_lock().unwrap();
    let o = study.run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("a study is already running"));
    assert!(study.calls().is_empty(), "{:?}", study.calls());
}
