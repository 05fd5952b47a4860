//! Throughput: the grid's cycle model applied to every training GEMM of a workload, per policy.

use super::workloads::{Pass, Workload};
use crate::config::{Config, Policy};
use crate::grid::cycles::Timing;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One GEMM of the workload on the array.
#[derive(Clone, Debug, Serialize)]
pub struct GemmPerf {
    /// Layer name.
    pub layer: String,
    /// Training pass.
    pub pass: Pass,
    /// Rows of C.
    pub m: usize,
    /// Reduction length.
    pub k: usize,
    /// Columns of C.
    pub n: usize,
    /// Multiply-accumulates (m * k * n).
    pub macs: u64,
    /// Cycles per policy.
    pub cycles: BTreeMap<String, u64>,
    /// MACs / (cycles * R * C * MACs per PE per cycle), per policy.
    pub utilisation: BTreeMap<String, f64>,
    /// cycles(single) / cycles(daa).
    pub speedup: f64,
}

/// Totals of one policy.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyPerf {
    /// Cycles of one training step (every GEMM, each with its own fill and drain).
    pub cycles: u64,
    /// cycles(single) / cycles(this policy).
    pub speedup_vs_single: f64,
    /// MACs / (cycles * R * C * MACs per PE per cycle).
    pub utilisation: f64,
    /// PE latency used by the cycle model.
    pub pe_latency: u32,
    /// Operands per link per cycle.
    pub lanes: u32,
}

/// `daa perf`'s result.
#[derive(Clone, Debug, Serialize)]
pub struct PerfReport {
    /// Workload name.
    pub workload: String,
    /// Mini-batch.
    pub batch: usize,
    /// Array rows.
    pub rows: u32,
    /// Array columns.
    pub cols: u32,
    /// Row groups per tile: a tile is `interleave * rows` x `cols` outputs.
    pub interleave: u32,
    /// Total MACs of one training step.
    pub macs: u64,
    /// Per-policy totals.
    pub policies: BTreeMap<String, PolicyPerf>,
    /// Per-GEMM numbers.
    pub gemms: Vec<GemmPerf>,
    /// What the numbers assume.
    pub assumptions: Vec<String>,
}

/// Cycles of one training step of `w` on `cfg`'s array (its policy, pipeline and interleave).
pub fn step_cycles(cfg: &Config, w: &Workload, batch: usize) -> u64 {
    let t = Timing::of(cfg);
    w.training_gemms(batch).iter().map(|g| t.gemm_cycles(g.m, g.k, g.n)).sum()
}

/// Runs the cycle model over the workload's training GEMMs for every policy.
pub fn perf(cfg: &Config, w: &Workload, batch: usize) -> PerfReport {
    let timings: Vec<(Policy, Timing)> = Policy::ALL.iter().map(|&p| (p, Timing::of(&cfg.with_policy(p)))).collect();
    let pes = (cfg.rows * cfg.cols) as f64;
    let mut gemms = Vec::new();
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut macs_total = 0u64;
    for g in w.training_gemms(batch) {
        let macs = (g.m * g.k * g.n) as u64;
        macs_total += macs;
        let mut cycles = BTreeMap::new();
        let mut utilisation = BTreeMap::new();
        for (p, t) in &timings {
            let c = t.gemm_cycles(g.m, g.k, g.n);
            *totals.entry(p.name().into()).or_default() += c;
            utilisation.insert(p.name().into(), macs as f64 / (c as f64 * pes * t.lanes as f64));
            cycles.insert(p.name().to_string(), c);
        }
        let speedup = cycles["single"] as f64 / cycles["daa"] as f64;
        gemms.push(GemmPerf {
            layer: g.layer,
            pass: g.pass,
            m: g.m,
            k: g.k,
            n: g.n,
            macs,
            cycles,
            utilisation,
            speedup,
        });
    }
    let single = totals["single"] as f64;
    let policies = timings
        .iter()
        .map(|(p, t)| {
            let c = totals[p.name()];
            (
                p.name().to_string(),
                PolicyPerf {
                    cycles: c,
                    speedup_vs_single: single / c as f64,
                    utilisation: macs_total as f64 / (c as f64 * pes * t.lanes as f64),
                    pe_latency: t.latency,
                    lanes: t.lanes,
                },
            )
        })
        .collect();
    PerfReport {
        workload: w.name.clone(),
        batch,
        rows: cfg.rows,
        cols: cfg.cols,
        interleave: cfg.interleave,
        macs: macs_total,
        policies,
        gemms,
        assumptions: vec![
            "cycles from the grid's cycle model (equal to the RTL's, tests/grid.rs and tests/cost.rs), source and sink at full speed".into(),
            "each GEMM runs on its own: one fill and one drain per GEMM; tiles over M and N back to back".into(),
            "forward, backward-data (not for the first layer) and backward-weight GEMMs as `daa train` forms them (im2col)".into(),
            "pooling, batch norm, activations and the optimiser run outside the array and are not counted".into(),
        ],
    }
}

/// The report as markdown: totals, then one row per GEMM.
pub fn markdown(r: &PerfReport) -> String {
    let mut s = format!(
        "{} training step, batch {}, {}x{} array, interleave {} (tiles of {} x {} outputs), {:.3e} MACs\n\n| policy | cycles | speed-up vs single | utilisation |\n|---|---:|---:|---:|\n",
        r.workload,
        r.batch,
        r.rows,
        r.cols,
        r.interleave,
        r.interleave * r.rows,
        r.cols,
        r.macs as f64
    );
    for (name, p) in &r.policies {
        let _ = writeln!(s, "| {name} | {} | {:.3}x | {:.1} % |", p.cycles, p.speedup_vs_single, 100.0 * p.utilisation);
    }
    s += "\n| layer | pass | M | K | N | cycles single | cycles daa | speed-up | util. single | util. daa |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for g in &r.gemms {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.3}x | {:.1} % | {:.1} % |",
            g.layer,
            g.pass.short(),
            g.m,
            g.k,
            g.n,
            g.cycles["single"],
            g.cycles["daa"],
            g.speedup,
            100.0 * g.utilisation["single"],
            100.0 * g.utilisation["daa"]
        );
    }
    s += "\nAssumptions:\n";
    for a in &r.assumptions {
        let _ = writeln!(s, "- {a}");
    }
    s
}
