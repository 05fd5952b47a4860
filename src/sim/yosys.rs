//! Yosys: the synthesis gate (`synth -flatten`, `check -assert`) and size statistics.

use super::{require_tool, run_tool, write_sources, Expect};
use crate::rtl::emit::RtlFile;
use anyhow::{Context, Result};
use std::process::Command;

/// Size of a synthesized module (generic Yosys gates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SynthStats {
    /// Total cell count after `synth -flatten`.
    pub cells: u64,
    /// `stat -tech cmos` transistor estimate of the combinational cells (flip-flops have none).
    pub transistors: u64,
    /// Flip-flop bits.
    pub flops: u64,
}

fn number_after(text: &str, key: &str) -> Option<u64> {
    // `stat -tech cmos` appends `+` when some cells (here the flip-flops) have no estimate.
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(key).and_then(|r| r.trim().trim_end_matches('+').parse().ok()))
}

/// Synthesizes `top` from `files` flattened, runs `check -assert`, and returns its size.
pub fn synth(files: &[RtlFile], top: &str) -> Result<SynthStats> {
    let dir = tempfile::tempdir()?;
    let d = dir.path().display();
    let commands = format!(
        "synth -flatten -top {top}; check -assert; tee -o {d}/stat.txt stat; tee -o {d}/cmos.txt stat -tech cmos"
    );
    run(files, top, dir.path(), &commands)?;
    let stat = std::fs::read_to_string(dir.path().join("stat.txt"))?;
    let cmos = std::fs::read_to_string(dir.path().join("cmos.txt"))?;
    let cells = number_after(&stat, "Number of cells:").context("no cell count in yosys stat")?;
    let transistors =
        number_after(&cmos, "Estimated number of transistors:").context("no transistor estimate in yosys stat")?;
    let flops = stat
        .lines()
        .filter(|l| l.trim_start().starts_with("$_DFF") || l.trim_start().starts_with("$_SDFF"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    Ok(SynthStats { cells, transistors, flops })
}

/// Hierarchical `synth -top` (each module once, as for a large array) and `check -assert`.
pub fn synth_check(files: &[RtlFile], top: &str) -> Result<()> {
    let dir = tempfile::tempdir()?;
    run(files, top, dir.path(), &format!("synth -top {top}; check -assert"))
}

/// Reads `files` (written into `dir`) and runs `commands` in Yosys; any failure is an error.
pub fn run(files: &[RtlFile], top: &str, dir: &std::path::Path, commands: &str) -> Result<()> {
    let yosys = require_tool("yosys")?;
    let paths = write_sources(dir, files)?;
    let reads: Vec<String> = paths.iter().map(|p| format!("read_verilog {};", p.display())).collect();
    let script = format!("{} {commands}", reads.join(" "));
    let mut cmd = Command::new(yosys);
    cmd.args(["-q", "-p", &script]);
    run_tool(&mut cmd, &format!("yosys synth/check of {top} failed"), Expect::Success)?;
    Ok(())
}

/// The Yosys version line (part of cache keys).
pub fn version() -> Result<String> {
    let out = Command::new(require_tool("yosys")?).arg("-V").output().context("cannot run yosys -V")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// [`synth`], with the result kept in the cache directory under a hash of the Yosys
/// version, the top and every source file: the same configuration is synthesized once.
pub fn synth_cached(files: &[RtlFile], top: &str) -> Result<SynthStats> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(version()?);
    h.update(top);
    for f in files {
        h.update(f.file_name());
        h.update(&f.text);
    }
    let hash: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    let path = super::cache_dir().join("yosys").join(format!("{top}-{hash}.json"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(s) = serde_json::from_str(&text) {
            return Ok(s);
        }
    }
    let s = synth(files, top)?;
    crate::files::write_string_atomic(&path, &serde_json::to_string(&s)?)?;
    Ok(s)
}
