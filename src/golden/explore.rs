//! The researcher's first look: every policy on the same seeded random GEMM, error and statistics.

use crate::config::{Config, Policy};
use crate::format::Format;
use crate::golden::gemm::{gemm, GemmInput, GemmStats};
use crate::golden::pe::PeParams;
use crate::npy::CodeMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::Serialize;
use std::time::Instant;

/// Seeded random operands: A like post-ReLU activations (|N(0,1)|, a share `sparsity` of zeros), B like weights (N(0, 0.1^2)).
pub fn random_operands(f: Format, m: usize, k: usize, n: usize, seed: u64, sparsity: f64) -> (CodeMatrix, CodeMatrix) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let a = (0..m * k)
        .map(|_| {
            let x: f32 = rng.sample(StandardNormal);
            let zero = rng.random_bool(sparsity);
            f.encode_rne(if zero { 0.0 } else { x.abs() })
        })
        .collect();
    let b = (0..k * n)
        .map(|_| {
            let x: f32 = rng.sample(StandardNormal);
            f.encode_rne(0.1 * x)
        })
        .collect();
    (CodeMatrix { rows: m, cols: k, codes: a }, CodeMatrix { rows: k, cols: n, codes: b })
}

/// The exact product of the decoded operands in f64 (exact for K up to 2^(53-2(Y+1))-ish, and very close beyond).
pub fn exact_product(f: Format, a: &CodeMatrix, b: &CodeMatrix) -> Vec<f64> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let av: Vec<f64> = a.codes.iter().map(|&c| f.decode(c) as f64).collect();
    let bv: Vec<f64> = b.codes.iter().map(|&c| f.decode(c) as f64).collect();
    let mut c = vec![0f64; m * n];
    for i in 0..m {
        for kk in 0..k {
            let x = av[i * k + kk];
            for j in 0..n {
                c[i * n + j] += x * bv[kk * n + j];
            }
        }
    }
    c
}

/// Error of one policy's result against the exact product.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyResult {
    /// Policy name.
    pub policy: String,
    /// ||C - C_exact||_F / ||C_exact||_F.
    pub rel_frobenius_error: f64,
    /// max |C - C_exact| / max |C_exact|.
    pub max_abs_error_rel: f64,
    /// Elements that are not finite.
    pub non_finite: usize,
    /// Controller and datapath statistics.
    pub stats: GemmStats,
    /// Wall time of the golden GEMM in seconds.
    pub seconds: f64,
}

/// Runs `gemm` for one policy and measures its error against `exact`.
pub fn evaluate(
    cfg: &Config,
    policy: Policy,
    a: &CodeMatrix,
    b: &CodeMatrix,
    exact: &[f64],
) -> (Vec<f32>, PolicyResult) {
    let p = PeParams::from(&cfg.with_policy(policy));
    let g = GemmInput { m: a.rows, k: a.cols, n: b.cols, a: &a.codes, b: &b.codes };
    let t = Instant::now();
    let (c, stats) = gemm(&p, &g);
    let seconds = t.elapsed().as_secs_f64();
    let (mut num, mut den, mut maxerr, mut maxref, mut non_finite) = (0f64, 0f64, 0f64, 0f64, 0usize);
    for (&x, &e) in c.iter().zip(exact) {
        if !x.is_finite() {
            non_finite += 1;
            continue;
        }
        let d = x as f64 - e;
        num += d * d;
        den += e * e;
        maxerr = maxerr.max(d.abs());
        maxref = maxref.max(e.abs());
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { a };
    let r = PolicyResult {
        policy: policy.name().into(),
        rel_frobenius_error: ratio(num.sqrt(), den.sqrt()),
        max_abs_error_rel: ratio(maxerr, maxref),
        non_finite,
        stats,
        seconds,
    };
    (c, r)
}

/// A fixed-width text table of the results, one row per policy.
pub fn table(results: &[PolicyResult]) -> String {
    let mut s = format!(
        "{:<7} {:>12} {:>12} {:>9} {:>9} {:>9} {:>10} {:>9}\n",
        "policy", "rel_err_F", "max_err_rel", "high_s0", "high_s1", "zero_prod", "q_changed", "seconds"
    );
    for r in results {
        let st = &r.stats;
        let pct =
            |x: u64, of: u64| if of == 0 { "-".to_string() } else { format!("{:.1}%", 100.0 * x as f64 / of as f64) };
        let dual_ctl = r.policy == "daa" || r.policy == "static";
        s += &format!(
            "{:<7} {:>12.3e} {:>12.3e} {:>9} {:>9} {:>9} {:>10} {:>9.3}\n",
            r.policy,
            r.rel_frobenius_error,
            r.max_abs_error_rel,
            if dual_ctl { pct(st.high_stream0, st.steps) } else { "-".into() },
            if dual_ctl { pct(st.high_stream1, st.steps) } else { "-".into() },
            pct(st.zero_products, st.products),
            pct(st.reductions_changed, st.reduced_operands),
            r.seconds
        );
    }
    s
}
