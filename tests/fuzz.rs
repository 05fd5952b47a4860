//! Fuzzing the release binary: malformed and extreme `.npy` headers, TOML configurations,
//! workload tables, IDX files and command lines must each exit 0 or 2, never panic or hang,
//! and leave nothing in the output directory but what the run announced; `daa generate`
//! killed at any moment is repaired by the next run, and concurrent runs into one directory
//! all succeed. Cases per property: 16, or `PROPTEST_CASES` (docs/limits.md).

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hang detector, not a performance bound: every case is meant to end in well under a second.
const HANG: Duration = Duration::from_secs(120);

/// A seeded runner (same cases every run), with `PROPTEST_CASES` cases or `default`.
fn runner(default: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default);
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

/// Runs `daa args` in `dir` to its end (killed at [`HANG`]): (exit status, stdout, stderr).
fn run_in(dir: &Path, args: &[String]) -> (i32, String, String) {
    let mut child = common::daa()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > HANG {
            let _ = child.kill();
            panic!("daa {args:?} ran longer than {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs one case: exit 0 or 2 without a panic; on 0 the directory holds `inputs` plus
/// exactly `outputs`, on 2 `inputs` alone. Returns the exit status.
fn check(dir: &Path, args: &[String], inputs: &[&str], outputs: &[&str]) -> Result<i32, TestCaseError> {
    let (code, _, err) = run_in(dir, args);
    prop_assert!(!err.contains("panicked at"), "daa {args:?} panicked: {err}");
    prop_assert!(code == 0 || code == 2, "daa {args:?} exited {code}: {err}");
    prop_assert!(code == 0 || err.starts_with("error: "), "daa {args:?}: {err}");
    prop_assert!(err.len() < 4000, "daa {args:?}: a message of {} bytes", err.len());
    let mut want: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    if code == 0 {
        want.extend(outputs.iter().map(|s| s.to_string()));
    }
    want.sort();
    prop_assert_eq!(names(dir), want, "daa {:?} exited {}: {}", args, code, err);
    Ok(code)
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Sizes that are valid, zero, or past every limit and word size.
fn extreme() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..6,
        Just(28),
        Just(4096),
        Just(100_000),
        Just(1 << 20),
        Just((1 << 20) + 1),
        Just(u32::MAX as u64),
        Just(1 << 32),
        Just(1 << 62),
        Just(u64::MAX),
    ]
}

/// A `.npy` file from its parts: version, header text, a header length that may lie, data.
fn npy_bytes(version: u8, header: &str, lie: Option<u32>, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    let pre = if version == 1 { 10 } else { 12 };
    while !(pre + h.len() + 1).is_multiple_of(64) {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    let len = lie.unwrap_or(h.len() as u32);
    if version == 1 {
        out.extend((len as u16).to_le_bytes());
    } else {
        out.extend(len.to_le_bytes());
    }
    out.extend(h);
    out.extend(data);
    out
}

fn npy_case() -> impl Strategy<Value = Vec<u8>> {
    let descr = prop_oneof![
        Just("<u2"),
        Just("<u4"),
        Just("<f4"),
        Just("<f8"),
        Just(">u4"),
        Just("|u1"),
        Just("<i8"),
        Just("<c8"),
        Just("zz")
    ];
    let fortran = prop_oneof![Just("False"), Just("True"), Just("1"), Just("'x'")];
    let shape = prop::collection::vec(extreme(), 0..4);
    let version = prop_oneof![Just(1u8), Just(2), Just(3), Just(9)];
    let lie = prop::option::weighted(0.15, any::<u32>());
    let data = prop::collection::vec(any::<u8>(), 0..200);
    let junk = any::<bool>();
    (descr, fortran, shape, version, lie, data, junk).prop_map(|(d, f, s, v, lie, data, junk)| {
        let dims: Vec<String> = s.iter().map(|x| x.to_string()).collect();
        let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
        let header = if junk {
            format!("{{'descr': '{d}', 'shape': {shape}")
        } else {
            format!("{{'descr': '{d}', 'fortran_order': {f}, 'shape': {shape}, }}")
        };
        npy_bytes(v, &header, lie, &data)
    })
}

#[test]
fn malformed_and_extreme_npy_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A valid 2 x 2 B, so that A's header is what is tested (and the other way round).
    let valid =
        npy_bytes(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (2, 2), }", None, &[0x80, 0x3f].repeat(4));
    runner(16)
        .run(&(npy_case(), any::<bool>()), |(bytes, a_side)| {
            let (fuzzed, other) = if a_side { ("A.npy", "B.npy") } else { ("B.npy", "A.npy") };
            std::fs::write(d.join(fuzzed), &bytes).unwrap();
            std::fs::write(d.join(other), &valid).unwrap();
            let a = args(&[
                "gemm", "--format", "bf16", "--a", "A.npy", "--b", "B.npy", "--out", "C.npy", "--stats", "S.json",
            ]);
            check(d, &a, &["A.npy", "B.npy"], &["C.npy", "S.json"])?;
            for f in ["C.npy", "S.json"] {
                let _ = std::fs::remove_file(d.join(f));
            }
            Ok(())
        })
        .unwrap();
}

/// A TOML value of any type, valid or not for the key it is given to.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        extreme().prop_map(|v| v.to_string()),
        Just("-1".into()),
        Just("1e400".into()),
        Just("nan".into()),
        Just("-inf".into()),
        Just("0.5".into()),
        Just("2.0".into()),
        Just("true".into()),
        Just("[1, 2]".into()),
        prop_oneof![
            Just("fp32"),
            Just("bf16"),
            Just("e5m2"),
            Just("e9m2"),
            Just("daa"),
            Just("single"),
            Just("toward-zero"),
            Just("module"),
            Just("always_ff"),
            Just("wire"),
            Just("ok_name"),
            Just("9x"),
            Just("")
        ]
        .prop_map(|s| format!("\"{s}\"")),
        (1usize..100_000).prop_map(|n| format!("\"{}\"", "n".repeat(n))),
    ]
}

fn config_case() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("format"),
        Just("policy"),
        Just("lo_bits"),
        Just("lo_rounding"),
        Just("rows"),
        Just("cols"),
        Just("pipeline"),
        Just("interleave"),
        Just("name"),
        Just("colour"),
    ];
    let energy_key = prop_oneof![
        Just("fj_per_transistor_toggle"),
        Just("leakage_share"),
        Just("macs_per_gemm"),
        Just("max_run"),
        Just("warmup_steps"),
        Just("other"),
    ];
    let top = prop::collection::btree_map(key, toml_value(), 0..6);
    let energy = prop::option::of(prop::collection::btree_map(energy_key, toml_value(), 0..4));
    let garbage = prop::option::weighted(0.1, "[\\[\\]=\"a-z0-9 \n]{0,40}");
    (top, energy, garbage).prop_map(|(top, energy, garbage)| {
        let mut s: String = top.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
        if let Some(e) = energy {
            s += "[energy]\n";
            s.extend(e.iter().map(|(k, v)| format!("{k} = {v}\n")));
        }
        s + &garbage.unwrap_or_default()
    })
}

#[test]
fn malformed_and_extreme_configurations() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    runner(16)
        .run(&config_case(), |text| {
            std::fs::write(d.join("c.toml"), &text).unwrap();
            let code = check(d, &args(&["config", "--config", "c.toml"]), &["c.toml"], &[])?;
            // Every command that loads a configuration validates all of it, [energy] included.
            let (gen_code, out, err) = run_in(d, &args(&["generate", "--pe-only", "--config", "c.toml", "--out", "o"]));
            prop_assert_eq!(gen_code, code, "config and generate disagree on {:?}: {}", text, err);
            if gen_code == 0 {
                // Exactly the announced package directory, and nothing beside it.
                let pkg = out.trim_end().rsplit(" to ").next().unwrap().to_string();
                let pkg_name = Path::new(&pkg).file_name().unwrap().to_string_lossy().into_owned();
                prop_assert_eq!(names(&d.join("o")), vec![pkg_name]);
                std::fs::remove_dir_all(d.join("o")).unwrap();
            } else {
                prop_assert!(!err.contains("panicked at"));
                prop_assert!(!d.join("o").exists(), "a failed generate left {:?}", names(&d.join("o")));
            }
            Ok(())
        })
        .unwrap();
}

fn workload_case() -> impl Strategy<Value = String> {
    let conv = (extreme(), extreme(), 1u64..8, 1u64..4, prop_oneof![0u64..3, extreme()], extreme(), extreme())
        .prop_map(|(ci, co, k, s, p, h, w)| {
            format!(
                "{{ name = \"c\", kind = \"conv\", cin = {ci}, cout = {co}, k = {k}, stride = {s}, pad = {p}, h = {h}, w = {w} }}"
            )
        });
    let linear = (extreme(), extreme())
        .prop_map(|(i, o)| format!("{{ name = \"l\", kind = \"linear\", fin = {i}, fout = {o} }}"));
    let layer = prop_oneof![conv, linear];
    (extreme(), prop::collection::vec(layer, 0..4)).prop_map(|(batch, layers)| {
        format!("name = \"w\"\ndescription = \"fuzz\"\nbatch = {batch}\nlayers = [\n{}\n]\n", layers.join(",\n"))
    })
}

#[test]
fn malformed_and_extreme_workload_tables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    runner(24)
        .run(&(workload_case(), any::<bool>()), |(text, json)| {
            std::fs::write(d.join("w.toml"), &text).unwrap();
            let mut a = args(&["perf", "--workload", "w.toml", "--rows", "3", "--cols", "5", "--interleave", "2"]);
            if json {
                a.push("--json".into());
            }
            let (code, out, err) = run_in(d, &a);
            prop_assert!(code == 0 || code == 2, "{text}: exit {code}: {err}");
            prop_assert!(!err.contains("panicked at"), "{text}: {err}");
            prop_assert!(!out.contains("NaN") && !out.contains("inf"), "{text}: {out}");
            prop_assert_eq!(names(d), vec!["w.toml".to_string()]);
            Ok(())
        })
        .unwrap();
}

/// An IDX file: the right or a wrong magic, dimensions, a payload that may be short or long.
fn idx_bytes(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(payload);
    v
}

#[test]
fn malformed_and_extreme_idx_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = [
        ("train-images-idx3-ubyte", 0x803u32),
        ("train-labels-idx1-ubyte", 0x801),
        ("t10k-images-idx3-ubyte", 0x803),
        ("t10k-labels-idx1-ubyte", 0x801),
    ];
    // Per file: a mutation (none, wrong magic, extreme count, other image size, cut short,
    // bad label, not gzip), and whether it is gzipped.
    let case = prop::collection::vec((0u8..8, any::<bool>(), extreme()), 4);
    runner(16)
        .run(&case, |muts| {
            let data = d.join("data");
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir(&data).unwrap();
            let n = 3u32;
            for ((name, magic), (m, gz, big)) in files.iter().zip(&muts) {
                let images = *magic == 0x803;
                let mut dims = if images { vec![n, 28, 28] } else { vec![n] };
                let mut payload = vec![if images { 128u8 } else { 3 }; dims.iter().product::<u32>() as usize];
                let mut magic = *magic;
                match m {
                    1 => magic ^= 0x100,
                    2 => dims[0] = *big as u32,
                    3 if images => dims[1] = (*big as u32).max(1),
                    4 => payload.truncate(payload.len() / 2),
                    5 if !images => payload[0] = 200,
                    6 => dims[0] = 0,
                    _ => {}
                }
                let bytes = idx_bytes(magic, &dims, &payload);
                if *m == 7 {
                    std::fs::write(data.join(format!("{name}.gz")), &bytes).unwrap();
                } else if *gz {
                    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                    e.write_all(&bytes).unwrap();
                    std::fs::write(data.join(format!("{name}.gz")), e.finish().unwrap()).unwrap();
                } else {
                    std::fs::write(data.join(name), &bytes).unwrap();
                }
            }
            let a = args(&[
                "train",
                "--data",
                "data",
                "--epochs",
                "1",
                "--train-subset",
                "3",
                "--test-subset",
                "3",
                "--batch",
                "2",
                "--out",
                "out",
            ]);
            let code = check(d, &a, &["data"], &["out"])?;
            prop_assert!(code == 0 || muts.iter().any(|(m, _, _)| *m != 0), "valid data refused");
            let _ = std::fs::remove_dir_all(d.join("out"));
            Ok(())
        })
        .unwrap();
}

/// A command line of the commands that need no external tool, with valid, extreme and
/// malformed values: (arguments, files it would write).
fn command_line() -> impl Strategy<Value = (Vec<String>, Vec<&'static str>)> {
    let num = prop_oneof![
        extreme().prop_map(|v| v.to_string()),
        Just("-1".to_string()),
        Just("x".to_string()),
        Just("".to_string()),
        Just("1e3".to_string()),
    ];
    let shape = prop::collection::vec(num.clone(), 1..5).prop_map(|v| v.join(","));
    let flag = prop_oneof![
        Just(vec!["--format".to_string(), "bf16".into()]),
        Just(vec!["--format".to_string(), "e1m1".into()]),
        Just(vec!["--policy".to_string(), "single".into()]),
        Just(vec!["--policy".to_string(), "native".into()]),
        num.clone().prop_map(|v| vec!["--lo-bits".to_string(), v]),
        num.clone().prop_map(|v| vec!["--rows".to_string(), v]),
        num.clone().prop_map(|v| vec!["--pipeline".to_string(), v]),
        num.clone().prop_map(|v| vec!["--interleave".to_string(), v]),
        Just(vec!["--name".to_string(), "module".into()]),
        Just(vec!["--name".to_string(), "n".repeat(10_000)]),
        Just(vec!["--out".to_string(), ".".into()]),
        Just(vec!["--out".to_string(), "x/y".into()]),
        Just(vec!["--stats".to_string(), "o.npy".into()]),
        Just(vec!["--unknown".to_string()]),
    ];
    let cmd = prop_oneof![
        (shape, num.clone()).prop_map(|(s, seed)| (args(&["gemm", "--shape", &s, "--seed", &seed]), vec![])),
        num.clone().prop_map(|c| (args(&["vectors", "--count", &c, "--out", "o.txt"]), vec!["o.txt"])),
        (num.clone(), num.clone()).prop_map(|(s, t)| (
            args(&["bench", "--size", &s, "--threads", &t, "--reps", "1", "--json", "b.json"]),
            vec!["b.json"]
        )),
        Just((args(&["generate", "--out", "o"]), vec!["o"])),
        Just((args(&["generate", "--pe-only", "--out", "o"]), vec!["o"])),
        Just((args(&["config"]), vec![])),
        num.prop_map(|b| (args(&["perf", "--workload", "lenet5", "--batch", &b]), vec![])),
    ];
    (cmd, prop::collection::vec(flag, 0..3)).prop_map(|((mut a, outs), flags)| {
        a.extend(flags.into_iter().flatten());
        (a, outs)
    })
}

#[test]
fn extreme_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    runner(64)
        .run(&command_line(), |(a, outs)| {
            // Bench sizes that pass the limit take seconds each: the cheap ones only.
            let size = a.iter().position(|x| x == "--size").map(|i| a[i + 1].as_str());
            if size.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (29..=1024).contains(&s))) {
                return Ok(());
            }
            let (code, _, err) = run_in(d, &a);
            prop_assert!(!err.contains("panicked at"), "daa {a:?} panicked: {err}");
            prop_assert!(code == 0 || code == 2, "daa {a:?} exited {code}: {err}");
            prop_assert!(err.len() < 4000, "daa {a:?}: a message of {} bytes", err.len());
            let left = names(d);
            // A flag may redirect an output (--out x/y): whatever is there must be announced.
            prop_assert!(left.iter().all(|n| !n.starts_with(".daa-")), "daa {a:?} left {left:?}");
            if code == 2 {
                prop_assert!(left.is_empty(), "daa {a:?} failed and left {left:?}");
            } else {
                prop_assert!(left.iter().all(|n| outs.contains(&n.as_str()) || n == "x"), "daa {a:?} left {left:?}");
            }
            for n in left {
                let p = d.join(n);
                if p.is_dir() {
                    std::fs::remove_dir_all(p).unwrap();
                } else {
                    std::fs::remove_file(p).unwrap();
                }
            }
            Ok(())
        })
        .unwrap();
}

const GEN: [&str; 7] = ["generate", "--format", "bf16", "--rows", "2", "--cols", "3"];
const PKG: &str = "daa_bf16_daa_2x3";

fn generate(out: &Path) -> Command {
    let mut c = common::daa();
    c.args(GEN).arg("--out").arg(out).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

#[test]
fn generate_killed_at_any_moment_is_repaired_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref");
    assert!(generate(&reference).status().unwrap().success());
    let want = common::dir_contents(&reference.join(PKG));
    let out = dir.path().join("out");
    let mut rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let rounds = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(12);
    for round in 0..rounds {
        // Half the rounds start from an existing package (the exchange), half from none.
        if round % 2 == 0 {
            let _ = std::fs::remove_dir_all(&out);
        }
        let mut child = generate(&out).spawn().unwrap();
        std::thread::sleep(Duration::from_micros(rng.next_u64() % 40_000));
        let _ = child.kill();
        let _ = child.wait();
        let o = generate(&out).output().unwrap();
        assert!(o.status.success(), "round {round}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(names(&out), vec![PKG.to_string()], "round {round}: stray files");
        assert!(common::dir_contents(&out.join(PKG)) == want, "round {round}: the package differs from a fresh one");
    }
}

#[test]
fn concurrent_generate_into_one_directory_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for round in 0..3 {
        let children: Vec<_> = (0..6).map(|_| generate(&out).spawn().unwrap()).collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "round {round}: {}", String::from_utf8_lossy(&o.stderr));
        }
        assert_eq!(names(&out), vec![PKG.to_string()], "round {round}");
    }
}
