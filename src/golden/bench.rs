//! `daa bench`: golden GEMM throughput of every policy against an sgemm of the same vector
//! width, in one run.
//!
//! Two sgemms are timed: `matrixmultiply`'s (AVX-512 where the CPU has it, else AVX2+FMA) and
//! `gemm`'s built without AVX-512 (AVX2+FMA). The ratio column compares the golden kernels
//! with the one of their own instruction set: AVX-512 kernels with the AVX-512 sgemm, AVX2
//! kernels (`DAA_GEMM_ISA=avx2`) with the AVX2 sgemm, which is what a CPU without AVX-512
//! would run; comparing them with an AVX-512 sgemm would charge them for registers they are
//! not allowed to use.

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
    /// Throughput as a fraction of the reference sgemm's ([`BenchReport::reference`]) in the same run.
    pub fraction_of_sgemm: f64,
}

/// One timed sgemm.
#[derive(Clone, Debug, Serialize)]
pub struct SgemmTime {
    /// Library and the instruction set it ran with, e.g. `matrixmultiply (avx512)`.
    pub name: String,
    /// Instruction set: `avx512`, `avx2` or `other`.
    pub isa: String,
    /// Best wall time, seconds.
    pub seconds: f64,
}

/// Everything one `daa bench` run measured.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// M = N = K.
    pub size: usize,
    /// Threads used by the golden GEMM (rayon) and both sgemms.
    pub threads: usize,
    /// Instruction set of the golden kernels (`DAA_GEMM_ISA`).
    pub isa: String,
    /// Every sgemm timed (the AVX2 one only where the CPU has AVX2 and FMA).
    pub sgemms: Vec<SgemmTime>,
    /// Index in `sgemms` of the one the ratios are against: the fastest of the golden
    /// kernels' instruction set where one was timed (an AVX2-only CPU times two), else the
    /// first.
    pub reference: usize,
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
    let mut sgemms = vec![SgemmTime {
        name: format!("matrixmultiply ({})", matrixmultiply_isa()),
        isa: matrixmultiply_isa().into(),
        seconds: best_of(reps.max(1) * 10, || sgemm_square(n, &af, &bf, &mut cf)),
    }];
    if avx2_fma() {
        let seconds = pool.install(|| best_of(reps.max(1) * 10, || sgemm_avx2_square(n, &af, &bf, &mut cf, threads)));
        sgemms.push(SgemmTime { name: "gemm (avx2)".into(), isa: "avx2".into(), seconds });
    }
    let golden_isa = isa().name();
    let reference = (0..sgemms.len())
        .filter(|&i| sgemms[i].isa == golden_isa)
        .min_by(|&i, &j| sgemms[i].seconds.total_cmp(&sgemms[j].seconds))
        .unwrap_or(0);
    let sgemm_seconds = sgemms[reference].seconds;
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
    Ok(BenchReport { size, threads, isa: golden_isa.into(), sgemms, reference, rows })
}

/// One GEMM of a training step, named by its layer and pass.
#[derive(Clone, Debug, Serialize)]
pub struct StepGemm {
    /// `layer pass`, e.g. `s1.conv1 bwd-weight`.
    pub name: String,
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

/// The times of one GEMM of the step.
#[derive(Clone, Debug, Serialize)]
pub struct StepRow {
    #[serde(flatten)]
    pub gemm: StepGemm,
    /// matrixmultiply's sgemm, best time, seconds.
    pub sgemm_seconds: f64,
    /// The statistics-free golden GEMM per policy, best time, seconds.
    pub golden_seconds: std::collections::BTreeMap<String, f64>,
}

/// `daa bench --workload`: every GEMM of one training step, timed.
#[derive(Clone, Debug, Serialize)]
pub struct StepBench {
    /// Workload and mini-batch the shapes come from.
    pub workload: String,
    pub batch: usize,
    /// Format of the golden GEMMs (each policy at the format's default lo_bits).
    pub format: String,
    /// Threads, as in [`BenchReport::threads`].
    pub threads: usize,
    /// Instruction set of the golden kernels.
    pub isa: String,
    pub rows: Vec<StepRow>,
}

impl StepBench {
    /// Sum of the step's sgemm times and of each policy's golden times.
    pub fn totals(&self) -> (f64, std::collections::BTreeMap<String, f64>) {
        let mut golden = std::collections::BTreeMap::new();
        for r in &self.rows {
            for (p, t) in &r.golden_seconds {
                *golden.entry(p.clone()).or_insert(0.0) += t;
            }
        }
        (self.rows.iter().map(|r| r.sgemm_seconds).sum(), golden)
    }
}

/// Times every GEMM of a training step: sgemm and the statistics-free golden GEMM of every
/// policy in `format`, row-major operands (training transposes some; the time of that is
/// not counted), with `bar` advancing per GEMM.
pub fn run_step(
    workload: &str,
    batch: usize,
    gemms: &[StepGemm],
    format: Format,
    reps: usize,
    threads: usize,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<StepBench> {
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    bar.set_length(gemms.len() as u64);
    let mut rows = Vec::new();
    for (i, g) in gemms.iter().enumerate() {
        bar.set_message(g.name.clone());
        let (a, b) = random_operands(format, g.m, g.k, g.n, 1 + i as u64, 0.5);
        let to_f32 = |codes: &[u32]| -> Vec<f32> { codes.iter().map(|&c| format.decode(c)).collect() };
        let (af, bf) = (to_f32(&a.codes), to_f32(&b.codes));
        let mut c = vec![0f32; g.m * g.n];
        let sgemm_seconds =
            best_of(reps.max(1) * 10, || crate::train::engine::sgemm_into(g.m, g.k, g.n, &af, &bf, &mut c));
        let mut golden_seconds = std::collections::BTreeMap::new();
        for policy in Policy::ALL {
            let cfg =
                Settings { format: Some(format.name()), policy: Some(policy.name().into()), ..Default::default() }
                    .resolve()?;
            let p = PeParams::from(&cfg);
            let input = GemmInput { m: g.m, k: g.k, n: g.n, a: &a.codes, b: &b.codes };
            golden_seconds
                .insert(policy.name().to_string(), pool.install(|| best_of(reps, || drop(gemm_nostats(&p, &input)))));
        }
        rows.push(StepRow { gemm: g.clone(), sgemm_seconds, golden_seconds });
        bar.inc(1);
    }
    Ok(StepBench { workload: workload.into(), batch, format: format.name(), threads, isa: isa().name().into(), rows })
}

/// [`StepBench`] as a text table: milliseconds per GEMM and the step's totals, each
/// policy's total also as a multiple of sgemm's.
pub fn step_table(r: &StepBench) -> String {
    let policies: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
    let mut s = format!(
        "{} training step at batch {}, {} golden GEMMs (statistics-free, kernels {}), {} thread(s); milliseconds, best of the repetitions\n",
        r.workload, r.batch, r.format, r.isa, r.threads
    );
    s += &format!("{:<28} {:>6} {:>7} {:>7} {:>9}", "GEMM", "M", "K", "N", "sgemm");
    for p in &policies {
        s += &format!(" {p:>9}");
    }
    s += "\n";
    for row in &r.rows {
        let g = &row.gemm;
        s += &format!("{:<28} {:>6} {:>7} {:>7} {:>9.3}", g.name, g.m, g.k, g.n, row.sgemm_seconds * 1e3);
        for p in &policies {
            s += &format!(" {:>9.3}", row.golden_seconds.get(*p).copied().unwrap_or(f64::NAN) * 1e3);
        }
        s += "\n";
    }
    let (sgemm, golden) = r.totals();
    s += &format!("{:<28} {:>6} {:>7} {:>7} {:>9.3}", "step", "", "", "", sgemm * 1e3);
    for p in &policies {
        s += &format!(" {:>9.3}", golden.get(*p).copied().unwrap_or(f64::NAN) * 1e3);
    }
    s += &format!("\n{:<28} {:>6} {:>7} {:>7} {:>9}", "step / sgemm", "", "", "", "1");
    for p in &policies {
        s += &format!(" {:>8.1}x", golden.get(*p).copied().unwrap_or(f64::NAN) / sgemm);
    }
    s + "\n"
}

/// Whether the CPU has AVX2 and FMA (what the AVX2 sgemm needs).
fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The instruction set matrixmultiply 0.3 (built with its default `avx512` feature) picks at
/// run time: AVX-512F if present, else AVX2+FMA, else something narrower.
fn matrixmultiply_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return "avx512";
    }
    if avx2_fma() {
        "avx2"
    } else {
        "other"
    }
}

/// `c = a * b` for row-major n x n matrices with `matrixmultiply`'s sgemm: the reference speed.
pub fn sgemm_square(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    crate::train::engine::sgemm_into(n, n, n, a, b, c)
}

/// `c = a * b` with `gemm`'s sgemm built without AVX-512 (AVX2+FMA), on the current rayon pool.
fn sgemm_avx2_square(n: usize, a: &[f32], b: &[f32], c: &mut [f32], threads: usize) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let ld = n as isize;
    // SAFETY: the three row-major n x n buffers were checked above; gemm reads a and b and
    // writes c within them (column stride 1, row stride n).
    unsafe {
        gemm::gemm(
            n,
            n,
            n,
            c.as_mut_ptr(),
            1,
            ld,
            false,
            a.as_ptr(),
            1,
            ld,
            b.as_ptr(),
            1,
            ld,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(threads),
        )
    }
}

/// The report as a text table.
pub fn table(r: &BenchReport) -> String {
    let macs = (r.size as f64).powi(3);
    let mut s = format!("M = N = K = {}, {} thread(s), golden kernels {}\n", r.size, r.threads, r.isa);
    for (i, t) in r.sgemms.iter().enumerate() {
        s += &format!(
            "sgemm {:<24} {:.4} s, {:>7.2} GMAC/s{}\n",
            t.name,
            t.seconds,
            macs / t.seconds / 1e9,
            match (i == r.reference, t.isa == r.isa) {
                (true, true) => "  <- reference (same instruction set)",
                (true, false) => "  <- reference (no sgemm of this instruction set timed)",
                _ => "",
            }
        );
    }
    s += "kernel nostats: the statistics-free GEMM (training); stats: `gemm` with statistics\n";
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 reference computes the product (to float rounding: its order of sums is its own).
    #[test]
    fn avx2_sgemm_multiplies() {
        if !avx2_fma() {
            return;
        }
        let n = 37;
        let a: Vec<f32> = (0..n * n).map(|i| ((i * 7919) % 97) as f32 / 97.0 - 0.5).collect();
        let b: Vec<f32> = (0..n * n).map(|i| ((i * 104_729) % 89) as f32 / 89.0 - 0.5).collect();
        let mut c = vec![f32::NAN; n * n];
        sgemm_avx2_square(n, &a, &b, &mut c, 2);
        for i in 0..n {
            for j in 0..n {
                let want: f64 = (0..n).map(|k| a[i * n + k] as f64 * b[k * n + j] as f64).sum();
                assert!((c[i * n + j] as f64 - want).abs() < 1e-4, "C[{i}][{j}] = {} != {want}", c[i * n + j]);
            }
        }
    }
}
