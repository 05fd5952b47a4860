//! Icarus Verilog: the portability gate (`iverilog -g2005` compiles every file).

use super::{require_tool, write_sources};
use crate::rtl::emit::RtlFile;
use anyhow::{bail, Context, Result};
use std::process::Command;

/// Compiles `files` with `iverilog -g2005` and top `top`.
pub fn compile(files: &[RtlFile], top: &str) -> Result<()> {
    let iverilog = require_tool("iverilog")?;
    let dir = tempfile::tempdir()?;
    let paths = write_sources(dir.path(), files)?;
    let out = Command::new(iverilog)
        .args(["-g2005", "-Wall", "-s", top, "-o"])
        .arg(dir.path().join("a.vvp"))
        .args(&paths)
        .output()
        .context("cannot run iverilog")?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() || !text.trim().is_empty() {
        bail!("iverilog -g2005 on {top}: {}", text.trim());
    }
    Ok(())
}

/// Compiles and runs a self-checking testbench in `dir` (files relative to it); returns its output.
pub fn run_testbench(dir: &std::path::Path, sources: &[String], top: &str) -> Result<String> {
    let iverilog = require_tool("iverilog")?;
    let vvp = require_tool("vvp")?;
    let out = Command::new(iverilog)
        .current_dir(dir)
        .args(["-g2005", "-s", top, "-o", "tb.vvp"])
        .args(sources)
        .output()
        .context("cannot run iverilog")?;
    if !out.status.success() {
        bail!("iverilog on {top}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    let run = Command::new(vvp).current_dir(dir).arg("tb.vvp").output().context("cannot run vvp")?;
    let _ = std::fs::remove_file(dir.join("tb.vvp"));
    Ok(String::from_utf8_lossy(&run.stdout).into_owned())
}
