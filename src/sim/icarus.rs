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
