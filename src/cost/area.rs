//! Synthesized size and logic depth of the units, of Yosys's own products of the same widths,
//! and of the PE of every policy (Yosys generic gates), plus the depth of every pipeline stage:
//! the tables of `docs/pe.md` and of `daa area`.
//!
//! Yosys: Debian's 0.23 (`synth -flatten`, `stat -tech cmos`; depth after `abc -g` to 2-input
//! gates, `ltp -noff`), the same for every policy. Yosys 0.70's `synth -booth` was measured as
//! well (docs/pe.md): a smaller but deeper 24 x 24 product and a PE within 2 %, so neither
//! netlist is better on area, depth and energy alike, and the native one runs in the tests.

use crate::config::{Config, Policy, MAX_PIPELINE};
use crate::cost::fpga::reference_product;
use crate::rtl::emit::{pe_files, RtlFile};
use crate::rtl::pe::STAGES;
use crate::rtl::units::{units_config, UNITS};
use crate::sim::yosys::{stage_depths, synth_cached, SynthStats};
use anyhow::Result;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One row of the table.
#[derive(Clone, Debug)]
pub struct AreaRow {
    /// Unit, `yosys product WxW`, or `pe (<policy>)`.
    pub what: String,
    /// Yosys numbers.
    pub stats: SynthStats,
}

/// Synthesizes every unit of `cfg` (as in the `daa` PE), Yosys's registered products of the
/// two multipliers' widths, and the PE of each policy (cached by configuration hash).
pub fn area_table(cfg: &Config) -> Result<Vec<AreaRow>> {
    let ucfg = units_config(cfg);
    let mut jobs: Vec<(String, Vec<RtlFile>, String)> = Vec::new();
    for unit in UNITS {
        let files = (unit.build)(&ucfg)?;
        jobs.push((unit.name.to_string(), files, format!("{}_{}", ucfg.name, unit.name)));
    }
    // The shared rounder on its own, to set the multipliers against the product references.
    let mut round = crate::rtl::round::Round::default();
    let files = crate::rtl::emit::unit_tree(&ucfg, &mut round, "round")?;
    jobs.push(("round (in fmul and fadd)".into(), files, format!("{}_round", ucfg.name)));
    for w in [cfg.format.frac_bits() + 1, cfg.lo_bits + 1] {
        let f = reference_product(&ucfg, w);
        let top = f.module.clone();
        jobs.push((format!("yosys product {w}x{w}"), vec![f], top));
    }
    for policy in Policy::ALL {
        let pcfg = cfg.with_policy(policy);
        jobs.push((format!("pe ({})", policy.name()), pe_files(&pcfg)?, format!("{}_pe", pcfg.name)));
    }
    jobs.par_iter()
        .map(|(what, files, top)| Ok(AreaRow { what: what.clone(), stats: synth_cached(files, top)? }))
        .collect()
}

/// Logic depth of every stage of `cfg`'s PE at every `pipeline` value: (stage, depth per pipeline).
pub fn stage_table(cfg: &Config) -> Result<Vec<(String, Vec<Option<u64>>)>> {
    let per_pipeline: Vec<BTreeMap<String, u64>> = (0..=MAX_PIPELINE)
        .into_par_iter()
        .map(|p| {
            let c = Config { pipeline: p, ..cfg.clone() };
            let regs: Vec<&str> = STAGES.iter().flat_map(|(r, _)| r.iter().copied()).collect();
            stage_depths(&pe_files(&c)?, &format!("{}_pe", c.name), &regs)
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::new();
    for (regs, what) in STAGES {
        let depths: Vec<Option<u64>> =
            per_pipeline.iter().map(|m| regs.iter().filter_map(|r| m.get(*r).copied()).max()).collect();
        if depths.iter().any(Option::is_some) {
            rows.push((format!("{what} (ends at {})", regs[0]), depths));
        }
    }
    for m in &per_pipeline {
        for (k, _) in m.iter().filter(|(k, _)| k.starts_with("output ")) {
            if !rows.iter().any(|r| &r.0 == k) {
                let depths = per_pipeline.iter().map(|m| m.get(k).copied()).collect();
                rows.push((k.clone(), depths));
            }
        }
    }
    Ok(rows)
}

/// The tables as markdown, with PE ratios against `single`.
pub fn markdown(cfg: &Config, rows: &[AreaRow], stages: &[(String, Vec<Option<u64>>)]) -> String {
    let single = rows.iter().find(|r| r.what == "pe (single)").map(|r| r.stats);
    let mut s = format!(
        "{} (e{}m{}), L = {}, {}, pipeline = {} (Yosys 0.23 generic gates):\n\n\
         | unit | cells | transistors (cmos est.) | flip-flops | depth (2-input gates) | vs `single` PE (transistors) |\n\
         |---|---:|---:|---:|---:|---:|\n",
        cfg.format.name(),
        cfg.format.exp_bits(),
        cfg.format.frac_bits(),
        cfg.lo_bits,
        cfg.lo_rounding.name(),
        cfg.pipeline
    );
    for r in rows {
        let ratio = match (single, r.what.starts_with("pe")) {
            (Some(b), true) => format!("{:.2}x", r.stats.transistors as f64 / b.transistors as f64),
            _ => String::new(),
        };
        s += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.what, r.stats.cells, r.stats.transistors, r.stats.flops, r.stats.depth, ratio
        );
    }
    if !stages.is_empty() {
        s += &format!("\nLogic depth of each stage of the `{}` PE, in 2-input gates:\n\n| stage |", cfg.policy.name());
        for p in 0..=MAX_PIPELINE {
            s += &format!(" pipeline={p} |");
        }
        s += "\n|---|";
        s += &"---:|".repeat(MAX_PIPELINE as usize + 1);
        s += "\n";
        for (what, d) in stages {
            let cells: Vec<String> = d.iter().map(|x| x.map_or("-".into(), |v| v.to_string())).collect();
            s += &format!("| {what} | {} |\n", cells.join(" | "));
        }
    }
    s
}
