//! Benchmarks of the tool itself for the report: Verilator simulation speed of grids and of
//! the PE, generation time of a 64 x 64 array, golden GEMM throughput against sgemm.

use crate::config::Config;
use anyhow::{bail, Result};
use serde::Serialize;
use std::time::Instant;

/// One grid's simulation speed.
#[derive(Clone, Debug, Serialize)]
pub struct GridSpeed {
    /// Array side (R = C).
    pub side: u32,
    /// Cycles simulated (random GEMMs with gaps and back-pressure, checked bit- and cycle-exact).
    pub cycles: u64,
    /// Seconds the Verilator harness ran (build, stimulus and golden model excluded).
    pub seconds: f64,
    /// cycles / seconds.
    pub cycles_per_second: f64,
    /// Verilator build seconds (0 when cached).
    pub build_seconds: f64,
}

/// Everything measured.
#[derive(Clone, Debug, Serialize)]
pub struct ToolBench {
    /// Grids of 4x4, 8x8, 16x16.
    pub grids: Vec<GridSpeed>,
    /// PE cycles checked per second (Verilator, golden comparison included).
    pub pe_vectors_per_second: f64,
    /// Seconds for the whole 64 x 64 IP package (Verilog, testbench vectors, README...).
    pub generate_64x64_seconds: f64,
    /// Golden GEMM vs sgemm at 256^3.
    pub gemm: crate::golden::bench::BenchReport,
}

/// Runs the benchmarks for `cfg`'s format and policy.
pub fn run(cfg: &Config, gemms: u64, bar: &indicatif::ProgressBar) -> Result<ToolBench> {
    let mut grids = Vec::new();
    for side in [4u32, 8, 16] {
        bar.set_message(format!("tool benchmark: {side}x{side} grid in Verilator"));
        let c = Config {
            rows: side,
            cols: side,
            name: crate::config::default_name(cfg.format, cfg.policy, side, side),
            ..cfg.clone()
        };
        let r = crate::grid::verify::verify_grid(&c, gemms, 1, "daa report --bench")?;
        if r.failures() > 0 {
            bail!("{}", r.summary());
        }
        grids.push(GridSpeed {
            side,
            cycles: r.cycles,
            seconds: r.sim_seconds,
            cycles_per_second: r.cycles as f64 / r.sim_seconds,
            build_seconds: r.build_seconds,
        });
    }
    bar.set_message("tool benchmark: PE in Verilator");
    let pe = crate::sim::verify::verify_pe(cfg, 1_000_000, 1, "daa report --bench")?;
    if pe.mismatches > 0 {
        bail!("{}", pe.summary());
    }
    bar.set_message("tool benchmark: daa generate 64x64");
    let big =
        Config { rows: 64, cols: 64, name: crate::config::default_name(cfg.format, cfg.policy, 64, 64), ..cfg.clone() };
    let t = Instant::now();
    let files = crate::grid::package::package(&big)?;
    let generate_64x64_seconds = t.elapsed().as_secs_f64();
    drop(files);
    bar.set_message("tool benchmark: golden GEMM vs sgemm");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let gemm = crate::golden::bench::run(256, 3, threads)?;
    Ok(ToolBench { grids, pe_vectors_per_second: pe.checked as f64 / pe.seconds, generate_64x64_seconds, gemm })
}

/// The benchmarks as markdown.
pub fn markdown(b: &ToolBench) -> String {
    let mut s = String::from("| what | measured |\n|---|---:|\n");
    for g in &b.grids {
        s += &format!(
            "| Verilator, {0}x{0} grid | {1:.0} cycles/s ({2} cycles in {3:.2} s; build {4:.1} s) |\n",
            g.side, g.cycles_per_second, g.cycles, g.seconds, g.build_seconds
        );
    }
    s += &format!("| Verilator, PE cycles checked against the golden model | {:.0} /s |\n", b.pe_vectors_per_second);
    s += &format!("| `daa generate` of a 64x64 array (whole package) | {:.2} s |\n", b.generate_64x64_seconds);
    for r in &b.gemm.rows {
        s += &format!(
            "| golden GEMM {} {} ({}, {}) at 256^3, {} threads | {:.2} GMAC/s = {:.3} of sgemm ({}) in the same run |\n",
            r.format,
            r.policy,
            r.kernel,
            b.gemm.isa,
            b.gemm.threads,
            r.macs_per_second / 1e9,
            r.fraction_of_sgemm,
            b.gemm.sgemms[b.gemm.reference].name
        );
    }
    s
}
