//! Grid verification: random GEMMs through the emitted array in Verilator, every output
//! bit-exact against the golden GEMM, every output row's cycle against the cycle model and,
//! on dual-stream arrays, each batch's `pe_high` sum against the golden stream-1 count.

use super::cycles::{Pattern, RowOut, Timing};
use super::{grid_files, lanes};
use crate::config::Config;
use crate::format::describe_f32;
use crate::golden::gemm::{gemm, GemmInput, GemmStats};
use crate::golden::pe::PeParams;
use crate::golden::vectors::operand_corners;
use crate::npy::CodeMatrix;
use crate::rtl::emit::RtlFile;
use crate::sim::verilator::build_exe;
use anyhow::{bail, Context, Result};
use askama::Template;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

#[derive(Template)]
#[template(path = "grid_harness.cpp", escape = "none")]
struct GridHarness<'a> {
    top: &'a str,
    version: &'static str,
    words_in: usize,
    a_words: usize,
    b_words: usize,
    cols: u32,
    width: u32,
    dual: bool,
    /// 32-bit words of `pe_high`.
    high_words: u32,
}

/// One GEMM of a verification batch.
#[derive(Clone, Debug)]
pub struct Gemm {
    /// A (M x K) codes.
    pub a: CodeMatrix,
    /// B (K x N) codes.
    pub b: CodeMatrix,
}

/// The outcome of a grid verification.
#[derive(Clone, Debug, Default)]
pub struct GridReport {
    /// What was checked.
    pub label: String,
    /// GEMMs run.
    pub gemms: u64,
    /// Output elements compared (inside M x N).
    pub outputs: u64,
    /// Simulated cycles, summed over batches.
    pub cycles: u64,
    /// Output elements that differ from the golden GEMM.
    pub mismatches: u64,
    /// Output rows whose cycle differs from the cycle model (or batches whose total does).
    pub timing_mismatches: u64,
    /// The array has two streams (and a `pe_high` output).
    pub dual: bool,
    /// Dual-stream arrays: batches whose count of `pe_high` (PE steps whose full multiplier
    /// went to stream 1) differs from the golden model's.
    pub decision_mismatches: u64,
    /// Dual-stream arrays: `pe_high` steps counted, summed over batches.
    pub stream1_steps: u64,
    /// First mismatch reports.
    pub examples: Vec<String>,
    /// Seconds of the whole check (stimulus, golden GEMMs, cycle model, simulation).
    pub seconds: f64,
    /// Seconds the Verilator harness ran (the simulation alone, process start included).
    pub sim_seconds: f64,
    /// Build seconds (0 when cached).
    pub build_seconds: f64,
}

impl GridReport {
    /// Everything that differs from the golden model or the cycle model.
    pub fn failures(&self) -> u64 {
        self.mismatches + self.timing_mismatches + self.decision_mismatches
    }

    /// One summary line.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} GEMMs, {} outputs checked, {} mismatches, {} cycle-model mismatches, {}{} cycles in {:.1} s ({:.0} cycles/s in Verilator), build {}",
            self.label,
            self.gemms,
            self.outputs,
            self.mismatches,
            self.timing_mismatches,
            if self.dual {
                format!("{} stream-1 steps ({} batch mismatches), ", self.stream1_steps, self.decision_mismatches)
            } else {
                String::new()
            },
            self.cycles,
            self.seconds,
            self.cycles as f64 / self.sim_seconds.max(1e-9),
            if self.build_seconds > 0.0 { format!("{:.1} s", self.build_seconds) } else { "cached".into() }
        )
    }
}

/// A seeded random GEMM for an R x C array: M and N below, at and above multiples of R and
/// C, K from 1 (odd and even) up to a few times the array side; realistic operands with
/// corner codes (zeros, subnormals, Inf, NaN, extremes) sprinkled in.
pub fn random_gemm(cfg: &Config, rng: &mut ChaCha8Rng) -> Gemm {
    let (r, c) = (cfg.rows as usize, cfg.cols as usize);
    let m = rng.random_range(1..=3 * r);
    let n = rng.random_range(1..=3 * c);
    let k = match rng.random_range(0..4) {
        0 => rng.random_range(1..=3),
        1 => 2 * r.max(c) + rng.random_range(0..=3),
        _ => rng.random_range(1..=4 * r.max(c) + 5),
    };
    let f = cfg.format;
    let (mut a, mut b) = crate::golden::explore::random_operands(f, m, k, n, rng.random(), 0.3);
    let corners = operand_corners(f);
    let rate = rng.random_range(0..4) as f64 * 0.02;
    for x in a.codes.iter_mut().chain(b.codes.iter_mut()) {
        if rng.random_bool(rate) {
            *x = corners[rng.random_range(0..corners.len())];
        }
    }
    Gemm { a, b }
}

/// The beats of one tile (ti, tj) of `g`: flags word, A words, B words per beat.
pub(crate) fn tile_beats(cfg: &Config, g: &Gemm, ti: usize, tj: usize, out: &mut Vec<u32>) {
    let (r, c, l) = (cfg.rows as usize, cfg.cols as usize, lanes(cfg) as usize);
    let (groups, tr) = (cfg.interleave as usize, cfg.tile_rows() as usize);
    let (m, k, n) = (g.a.rows, g.a.cols, g.b.cols);
    let rounds = k.div_ceil(l).max(1);
    for (t, grp) in (0..rounds).flat_map(|t| (0..groups).map(move |grp| (t, grp))) {
        out.push((t == 0) as u32 | ((t + 1 == rounds) as u32) << 1);
        for rr in 0..r {
            for lane in 0..l {
                let (i, kk) = (ti * tr + grp * r + rr, t * l + lane);
                out.push(if i < m && kk < k { g.a.codes[i * k + kk] } else { 0 });
            }
        }
        // Every beat of a round carries the round's B operands.
        for cc in 0..c {
            for lane in 0..l {
                let (j, kk) = (tj * c + cc, t * l + lane);
                out.push(if j < n && kk < k { g.b.codes[kk * n + j] } else { 0 });
            }
        }
    }
}

/// The files and harness source for `cfg` (for packaging and tests).
pub fn harness_source(cfg: &Config) -> Result<String> {
    let l = lanes(cfg) as usize;
    let (a_words, b_words) = (cfg.rows as usize * l, cfg.cols as usize * l);
    Ok(GridHarness {
        top: &cfg.name,
        version: env!("CARGO_PKG_VERSION"),
        words_in: 1 + a_words + b_words,
        a_words,
        b_words,
        cols: cfg.cols,
        width: cfg.format.width(),
        dual: cfg.policy.is_dual(),
        high_words: (cfg.rows * cfg.cols).div_ceil(32),
    }
    .render()?)
}

/// Runs `gemms` random GEMMs (seeded) through the array of `cfg` in batches, each batch
/// under its own random valid/ready pattern.
pub fn verify_grid(cfg: &Config, gemms: u64, seed: u64, repro: &str) -> Result<GridReport> {
    verify_grid_files(cfg, &grid_files(cfg)?, gemms, seed, repro)
}

/// [`verify_grid`] on given files (those of `grid_files(cfg)`, possibly altered).
pub fn verify_grid_files(cfg: &Config, files: &[RtlFile], gemms: u64, seed: u64, repro: &str) -> Result<GridReport> {
    let t0 = Instant::now();
    let (exe, built) = build_exe(files, &cfg.name, &harness_source(cfg)?)?;
    let label = format!(
        "grid {} {}x{} {} (L={}, {})",
        cfg.format.name(),
        cfg.rows,
        cfg.cols,
        cfg.policy.name(),
        cfg.lo_bits,
        cfg.lo_rounding.name()
    );
    let mut report = GridReport {
        label,
        dual: cfg.policy.is_dual(),
        build_seconds: if built { t0.elapsed().as_secs_f64() } else { 0.0 },
        ..Default::default()
    };
    let t1 = Instant::now();
    let timing = Timing::of(cfg);
    let p = PeParams::from(cfg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir()?;
    let batch_size = 40u64;
    let mut done = 0u64;
    let bar = crate::sim::verify::progress(gemms, &report.label);
    while done < gemms {
        let count = batch_size.min(gemms - done);
        let batch: Vec<Gemm> = (0..count).map(|_| random_gemm(cfg, &mut rng)).collect();
        let pattern = match rng.random_range(0..4) {
            0 => Pattern { seed: rng.random(), valid_256: 256, ready_256: 256 },
            1 => Pattern { seed: rng.random(), valid_256: rng.random_range(64..=256), ready_256: 256 },
            2 => Pattern { seed: rng.random(), valid_256: 256, ready_256: rng.random_range(16..=256) },
            _ => Pattern {
                seed: rng.random(),
                valid_256: rng.random_range(64..=256),
                ready_256: rng.random_range(16..=256),
            },
        };
        check_batch(cfg, &p, &timing, &exe, dir.path(), &batch, &pattern, repro, &mut report)?;
        done += count;
        bar.set_position(done);
    }
    bar.finish_and_clear();
    report.gemms = gemms;
    report.seconds = t1.elapsed().as_secs_f64();
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn check_batch(
    cfg: &Config,
    p: &PeParams,
    timing: &Timing,
    exe: &std::path::Path,
    dir: &std::path::Path,
    batch: &[Gemm],
    pattern: &Pattern,
    repro: &str,
    report: &mut GridReport,
) -> Result<()> {
    let (r, c) = (cfg.tile_rows() as usize, cfg.cols as usize);
    // Tiles in input order: (gemm, ti, tj).
    let mut tiles = Vec::new();
    let mut words = Vec::new();
    let mut beats = Vec::new();
    for (gi, g) in batch.iter().enumerate() {
        for ti in 0..g.a.rows.div_ceil(r) {
            for tj in 0..g.b.cols.div_ceil(c) {
                tiles.push((gi, ti, tj));
                tile_beats(cfg, g, ti, tj, &mut words);
                beats.push(timing.beats(g.a.cols));
            }
        }
    }
    let (model_rows, model_cycles) = timing.simulate(&beats, pattern);
    let beats_path = dir.join("beats.bin");
    let out_path = dir.join("out.bin");
    std::fs::write(&beats_path, words.iter().flat_map(|w| w.to_le_bytes()).collect::<Vec<u8>>())?;
    let t_sim = Instant::now();
    let run = std::process::Command::new(exe)
        .arg(&beats_path)
        .arg(&out_path)
        .arg(pattern.seed.to_string())
        .arg(pattern.valid_256.to_string())
        .arg(pattern.ready_256.to_string())
        .arg((tiles.len() * r).to_string())
        .arg((model_cycles + 10_000).to_string())
        .output()
        .context("cannot run the grid harness")?;
    report.sim_seconds += t_sim.elapsed().as_secs_f64();
    if !run.status.success() {
        let why = match run.status.code() {
            Some(3) => "fewer output rows than the tiles need, within the cycle limit",
            Some(2) => "bad arguments, or it cannot open its beat or output file",
            _ => "it crashed or was stopped",
        };
        bail!("the grid harness failed ({}): {why}\n{}", run.status, String::from_utf8_lossy(&run.stderr).trim_end());
    }
    let bytes = std::fs::read(&out_path)?;
    let out: Vec<u32> = bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let rec = 3 + c;
    let (golden, stats): (Vec<Vec<f32>>, Vec<GemmStats>) = batch
        .iter()
        .map(|g| gemm(p, &GemmInput { m: g.a.rows, k: g.a.cols, n: g.b.cols, a: &g.a.codes, b: &g.b.codes }))
        .unzip();
    if report.dual {
        // Padding (rows past M, columns past N, the odd K's missing partner) multiplies
        // zeros, which never win the comparator, so the array's count is the golden one.
        let stdout = String::from_utf8_lossy(&run.stdout);
        let got: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("pe_high ")?.trim().parse().ok())
            .with_context(|| format!("the grid harness printed no pe_high count: {stdout}"))?;
        let want: u64 = stats.iter().map(|s| s.high_stream1).sum();
        report.stream1_steps += got;
        if got != want {
            report.decision_mismatches += 1;
            if report.examples.len() < 8 {
                report.examples.push(format!(
                    "DECISION MISMATCH: over a batch of {} GEMMs pe_high marked {got} steps whose full multiplier went to stream 1; the golden model counts {want}\n  reproduce: {repro}\n",
                    batch.len()
                ));
            }
        }
    }
    let mut last_cycle = 0u64;
    for (idx, row) in out.chunks_exact(rec).enumerate() {
        let want: &RowOut = &model_rows[idx];
        let (cycle, row_idx, last) = (row[0] as u64, row[1], row[2] != 0);
        last_cycle = cycle;
        if cycle != want.cycle || row_idx != want.row || last != (want.row as usize == r - 1) {
            report.timing_mismatches += 1;
            if report.examples.len() < 8 {
                report.examples.push(format!(
                    "TIMING MISMATCH: output row {idx} (tile {}, row {}): cycle model says cycle {}, the RTL gave row {row_idx} (last={last}) at cycle {cycle}\n  reproduce: {repro}\n",
                    want.tile, want.row, want.cycle
                ));
            }
        }
        let (gi, ti, tj) = tiles[want.tile];
        let g = &batch[gi];
        let (m, n) = (g.a.rows, g.b.cols);
        let i = ti * r + want.row as usize;
        if i >= m {
            continue;
        }
        for cc in 0..c {
            let j = tj * c + cc;
            if j >= n {
                continue;
            }
            report.outputs += 1;
            let expect = golden[gi][i * n + j].to_bits();
            if row[3 + cc] != expect {
                report.mismatches += 1;
                if report.examples.len() < 8 {
                    report.examples.push(format!(
                        "MISMATCH in C[{i}][{j}] of a {}x{}x{} GEMM (tile {ti},{tj}, tile row {}, column {cc}):\n  expected {}\n  actual   {}\n  reproduce: {repro}\n",
                        m,
                        g.a.cols,
                        n,
                        want.row,
                        describe_f32(expect),
                        describe_f32(row[3 + cc])
                    ));
                }
            }
        }
    }
    if out.len() / rec != model_rows.len() || last_cycle + 1 != model_cycles {
        report.timing_mismatches += 1;
        report.examples.push(format!(
            "TIMING MISMATCH: the RTL delivered {} rows, last at cycle {last_cycle}; the cycle model says {} rows, {} cycles\n",
            out.len() / rec,
            model_rows.len(),
            model_cycles
        ));
    }
    report.cycles += model_cycles;
    Ok(())
}
