//! `daa bench`: golden GEMM throughput of every policy against `matrixmultiply`'s sgemm, in one run.

use crate::config::{Policy, Settings};
use crate::format::Format;
use crate::golden::explore::random_operands;
use crate::golden::gemm::{gemm, gemm_nostats, isa, GemmInput};
use crate::golden::pe::PeParams;
use serde::Serialize;
use std::time::Instant;

/// One measured configuration.
#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    /// Format name.
    pub format: String,
    /// Policy name.
    pub policy: String,
    /// `nostats` (the statistics-free GEMM training runs) or `stats` (`gemm`, counting).
    pub kernel: String,
    /// Best wall time over the repetitions, seconds.
    pub seconds: f64,
    /// Multiply-accumulates per second (M*N*K / seconds).
    pub macs_per_second: f64,
    /// Throughput as a fraction of sgemm's measured in the same run.
    pub fraction_of_sgemm: f64,
}

/// Everything one `daa bench` run measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// M = N = K.
    pub size: usize,
    /// Threads used by both the golden GEMM (rayon) and sgemm (matrixmultiply).
    pub threads: usize,
    /// Instruction set of the golden kernels (`DAA_GEMM_ISA`).
    pub isa: String,
    /// Best sgemm time, seconds.
    pub sgemm_seconds: f64,
    /// One row per format and policy.
    pub rows: Vec<BenchRow>,
}

fn best_of(reps: usize, mut f: impl FnMut()) -> f64 {
    (0..reps.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Times sgemm and the golden GEMM for fp32 and bf16, every policy, at M = N = K = `size`.
pub fn run(size: usize, reps: usize, threads: usize) -> anyhow::Result<BenchReport> {
    // matrixmultiply reads its thread count once, from the environment.
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let n = size;
    let macs = (n * n * n) as f64;
    let (a, b) = random_operands(Format::FP32, n, n, n, 1, 0.5);
    let af: Vec<f32> = a.codes.iter().map(|&c| f32::from_bits(c)).collect();
    let bf: Vec<f32> = b.codes.iter().map(|&c| f32::from_bits(c)).collect();
    let mut cf = vec![0f32; n * n];
    // sgemm is fast and its time noisy here: take the best of more runs.
    let sgemm_seconds = best_of(reps.max(1) * 10, || sgemm_square(n, &af, &bf, &mut cf));
    let mut rows = Vec::new();
    for f in [Format::FP32, Format::BF16] {
        let (a, b) = random_operands(f, n, n, n, 1, 0.5);
        for policy in Policy::ALL {
            let cfg = Settings { format: Some(f.name()), policy: Some(policy.name().into()), ..Default::default() }
                .resolve()?;
            let p = PeParams::from(&cfg);
            let g = GemmInput { m: n, k: n, n, a: &a.codes, b: &b.codes };
            let nostats = pool.install(|| best_of(reps, || drop(gemm_nostats(&p, &g))));
            let stats = pool.install(|| best_of(reps, || drop(gemm(&p, &g))));
            for (kernel, seconds) in [("nostats", nostats), ("stats", stats)] {
                rows.push(BenchRow {
                    format: f.name(),
                    policy: policy.name().into(),
                    kernel: kernel.into(),
                    seconds,
                    macs_per_second: macs / seconds,
                    fraction_of_sgemm: sgemm_seconds / seconds,
                });
            }
        }
    }
    Ok(BenchReport { size, threads, isa: isa().name().into(), sgemm_seconds, rows })
}

/// `c = a * b` for row-major n x n matrices with `matrixmultiply`'s sgemm: the reference speed.
pub fn sgemm_square(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    crate::train::engine::sgemm_into(n, n, n, a, b, c)
}

/// The report as a text table.
pub fn table(r: &BenchReport) -> String {
    let mut s = format!(
        "M = N = K = {}, {} thread(s), golden kernels {}; sgemm (matrixmultiply): {:.4} s, {:.2} GMAC/s\n\
         kernel nostats: the statistics-free GEMM (training); stats: `gemm` with statistics\n",
        r.size,
        r.threads,
        r.isa,
        r.sgemm_seconds,
        (r.size as f64).powi(3) / r.sgemm_seconds / 1e9
    );
    s += &format!(
        "{:<6} {:<7} {:<8} {:>10} {:>10} {:>14}\n",
        "format", "policy", "kernel", "seconds", "GMAC/s", "vs sgemm"
    );
    for row in &r.rows {
        s += &format!(
            "{:<6} {:<7} {:<8} {:>10.4} {:>10.3} {:>9.3} (1/{:.1})\n",
            row.format,
            row.policy,
            row.kernel,
            row.seconds,
            row.macs_per_second / 1e9,
            row.fraction_of_sgemm,
            1.0 / row.fraction_of_sgemm
        );
    }
    s
}
