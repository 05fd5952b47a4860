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
    /// Longest path in 2-input gates (AND, NAND, OR, NOR, XOR, XNOR, MUX; `ltp -noff`).
    #[serde(default)]
    pub depth: u64,
}

/// The 2-input gate set logic depth is measured in (plus the 2:1 multiplexer).
pub const DEPTH_GATES: &str = "AND,NAND,OR,NOR,XOR,XNOR,MUX";

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
        "synth -flatten -top {top}; check -assert; tee -o {d}/stat.txt stat; tee -o {d}/cmos.txt stat -tech cmos; \
         abc -g {DEPTH_GATES}; opt_clean; tee -o {d}/ltp.txt ltp -noff"
    );
    run(files, top, dir.path(), &commands)?;
    let stat = std::fs::read_to_string(dir.path().join("stat.txt"))?;
    let cmos = std::fs::read_to_string(dir.path().join("cmos.txt"))?;
    let ltp = std::fs::read_to_string(dir.path().join("ltp.txt"))?;
    let depth = ltp
        .lines()
        .find_map(|l| l.split("(length=").nth(1)?.split(')').next()?.parse().ok())
        .context("no longest path in yosys ltp")?;
    let cells = number_after(&stat, "Number of cells:").context("no cell count in yosys stat")?;
    let transistors =
        number_after(&cmos, "Estimated number of transistors:").context("no transistor estimate in yosys stat")?;
    let flops = stat
        .lines()
        .filter(|l| l.trim_start().starts_with("$_DFF") || l.trim_start().starts_with("$_SDFF"))
        .filter_map(|l| l.split_whitespace().last()?.parse::<u64>().ok())
        .sum();
    Ok(SynthStats { cells, transistors, flops, depth })
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
    let path = super::cache_dir().join("yosys").join(format!("{top}-{hash}-v2.json"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(s) = serde_json::from_str(&text) {
            return Ok(s);
        }
    }
    let s = synth(files, top)?;
    crate::files::write_string_atomic(&path, &serde_json::to_string(&s)?)?;
    Ok(s)
}

/// The longest path, in 2-input gates, into each register of `top` (and into its outputs):
/// register name (one of `registers`, else a name of its bits; or `output <port>`) -> depth. Registers are broken paths, so this
/// is the logic depth of each pipeline stage, named by the register that ends it.
pub fn stage_depths(
    files: &[RtlFile],
    top: &str,
    registers: &[&str],
) -> Result<std::collections::BTreeMap<String, u64>> {
    use serde_json::Value;
    use std::collections::{BTreeMap, HashMap};
    let dir = tempfile::tempdir()?;
    let json = dir.path().join("gates.json");
    let commands =
        format!("synth -flatten -top {top}; dffunmap; abc -g {DEPTH_GATES}; opt_clean; write_json {}", json.display());
    run(files, top, dir.path(), &commands)?;
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let m = &v["modules"][top];
    let cells = m["cells"].as_object().context("netlist without cells")?;
    // Net bit -> the cell output driving it.
    let mut driver: HashMap<u64, (&Value, &str)> = HashMap::new();
    for c in cells.values() {
        let kind = c["type"].as_str().unwrap_or("");
        let out = if kind.starts_with("$_DFF") { "Q" } else { "Y" };
        if let Some(b) = c["connections"][out].as_array().and_then(|a| a.first()).and_then(Value::as_u64) {
            driver.insert(b, (c, kind));
        }
    }
    fn depth(bit: &Value, driver: &HashMap<u64, (&Value, &str)>, memo: &mut HashMap<u64, u64>) -> u64 {
        let Some(b) = bit.as_u64() else { return 0 };
        if let Some(&d) = memo.get(&b) {
            return d;
        }
        let d = match driver.get(&b) {
            None => 0,
            Some((_, k)) if k.starts_with("$_DFF") => 0,
            Some((c, _)) => {
                let conns = c["connections"].as_object().expect("connections");
                1 + conns.iter().filter(|(p, _)| *p != "Y").map(|(_, v)| depth(&v[0], driver, memo)).max().unwrap_or(0)
            }
        };
        memo.insert(b, d);
        d
    }
    // A register bit's name: the public net name its Q drives.
    // Every name a bit carries; a register is known by the one in `registers` (the port
    // `acc` and a child's input `raw` are other names of the same bits).
    let mut names_of: HashMap<u64, Vec<String>> = HashMap::new();
    for (n, net) in m["netnames"].as_object().context("netlist without names")? {
        if n.contains('$') {
            continue;
        }
        let short = n.rsplit('.').next().unwrap_or(n).to_string();
        for b in net["bits"].as_array().into_iter().flatten().filter_map(Value::as_u64) {
            names_of.entry(b).or_default().push(short.clone());
        }
    }
    let name_of = |b: u64| -> String {
        let names = names_of.get(&b).map(Vec::as_slice).unwrap_or(&[]);
        names
            .iter()
            .find(|n| registers.contains(&n.as_str()))
            .or(names.first())
            .cloned()
            .unwrap_or_else(|| "unnamed".into())
    };
    let mut memo = HashMap::new();
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for c in cells.values() {
        if !c["type"].as_str().unwrap_or("").starts_with("$_DFF") {
            continue;
        }
        let q = c["connections"]["Q"][0].as_u64().unwrap_or(0);
        let name = name_of(q);
        let d = depth(&c["connections"]["D"][0], &driver, &mut memo);
        let e = out.entry(name).or_default();
        *e = (*e).max(d);
    }
    for (p, port) in m["ports"].as_object().context("netlist without ports")? {
        if port["direction"] == "output" {
            let d =
                port["bits"].as_array().into_iter().flatten().map(|b| depth(b, &driver, &mut memo)).max().unwrap_or(0);
            if d > 0 {
                out.insert(format!("output {p}"), d);
            }
        }
    }
    Ok(out)
}
