//! Icarus Verilog: the portability gate (`iverilog -g2005` compiles every file).

use super::{require_tool, run_tool, write_sources, Expect};
use crate::rtl::emit::RtlFile;
use anyhow::{Context, Result};
use std::process::Command;

/// Compiles `files` with `iverilog -g2005` and top `top`.
pub fn compile(files: &[RtlFile], top: &str) -> Result<()> {
    let iverilog = require_tool("iverilog")?;
    let dir = tempfile::tempdir()?;
    let paths = write_sources(dir.path(), files)?;
    let mut cmd = Command::new(iverilog);
    cmd.args(["-g2005", "-Wall", "-s", top, "-o"]).arg(dir.path().join("a.vvp")).args(&paths);
    run_tool(&mut cmd, &format!("iverilog -g2005 on {top}"), Expect::Silent)?;
    Ok(())
}

/// Compiles and runs a self-checking testbench in `dir` (files relative to it); returns its output.
pub fn run_testbench(dir: &std::path::Path, sources: &[String], top: &str) -> Result<String> {
    let iverilog = require_tool("iverilog")?;
    let vvp = require_tool("vvp")?;
    let mut cmd = Command::new(iverilog);
    cmd.current_dir(dir).args(["-g2005", "-s", top, "-o", "tb.vvp"]).args(sources);
    run_tool(&mut cmd, &format!("iverilog on {top}"), Expect::Success)?;
    let run = Command::new(vvp).current_dir(dir).arg("tb.vvp").output().context("cannot run vvp")?;
    let _ = std::fs::remove_file(dir.join("tb.vvp"));
    Ok(String::from_utf8_lossy(&run.stdout).into_owned())
}
