//! Synthesized size of the units and of the PE of every policy (Yosys generic gates),
//! the table of `docs/pe.md` and of `daa area`.

use crate::config::{Config, Policy};
use crate::rtl::emit::pe_files;
use crate::rtl::units::{units_config, UNITS};
use crate::sim::yosys::{synth_cached, SynthStats};
use anyhow::Result;
use rayon::prelude::*;

/// One row of the table.
#[derive(Clone, Debug)]
pub struct AreaRow {
    /// Unit or `pe (<policy>)`.
    pub what: String,
    /// Yosys numbers.
    pub stats: SynthStats,
}

/// Synthesizes every unit of `cfg` (as in the `daa` PE) and the PE of each policy (cached by configuration hash).
pub fn area_table(cfg: &Config) -> Result<Vec<AreaRow>> {
    let ucfg = units_config(cfg);
    let mut jobs: Vec<(String, Vec<crate::rtl::emit::RtlFile>, String)> = Vec::new();
    for unit in UNITS {
        let files = (unit.build)(&ucfg)?;
        jobs.push((unit.name.to_string(), files, format!("{}_{}", ucfg.name, unit.name)));
    }
    for policy in Policy::ALL {
        let pcfg = cfg.with_policy(policy);
        jobs.push((format!("pe ({})", policy.name()), pe_files(&pcfg)?, format!("{}_pe", pcfg.name)));
    }
    jobs.par_iter()
        .map(|(what, files, top)| Ok(AreaRow { what: what.clone(), stats: synth_cached(files, top)? }))
        .collect()
}

/// The table as markdown, with PE ratios against `single`.
pub fn markdown(cfg: &Config, rows: &[AreaRow]) -> String {
    let single = rows.iter().find(|r| r.what == "pe (single)").map(|r| r.stats);
    let mut s = format!(
        "{} (e{}m{}), L = {}, {}:\n\n| unit | cells | transistors (cmos est.) | flip-flops | vs `single` PE (transistors) |\n|---|---:|---:|---:|---:|\n",
        cfg.format.name(),
        cfg.format.exp_bits(),
        cfg.format.frac_bits(),
        cfg.lo_bits,
        cfg.lo_rounding.name()
    );
    for r in rows {
        let ratio = match (single, r.what.starts_with("pe")) {
            (Some(b), true) => format!("{:.2}x", r.stats.transistors as f64 / b.transistors as f64),
            _ => String::new(),
        };
        s += &format!("| {} | {} | {} | {} | {} |\n", r.what, r.stats.cells, r.stats.transistors, r.stats.flops, ratio);
    }
    s
}
