//! Where training's GEMMs run: the golden GEMM of a policy, or plain f32 (`native`).

use super::tensor::{transpose, transpose_u32};
use crate::golden::gemm::{gemm, gemm_nostats, GemmInput, GemmStats};
use crate::golden::pe::PeParams;
use std::time::Instant;

/// The arithmetic of every conv and linear GEMM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// Plain binary32 GEMMs (matrixmultiply's sgemm): ordinary fp32 training.
    Native,
    /// The golden GEMM of docs/arithmetic.md section 4: operands rounded to F_in (RNE), the policy's PE steps.
    Golden(PeParams),
}

impl Arith {
    /// `native` or the policy name.
    pub fn name(&self) -> String {
        match self {
            Arith::Native => "native".into(),
            Arith::Golden(p) => p.policy.name().into(),
        }
    }
}

/// Runs GEMMs and keeps their statistics and time.
#[derive(Clone, Debug)]
pub struct Engine {
    /// The arithmetic used.
    pub arith: Arith,
    /// Controller and datapath statistics summed over every golden GEMM (only when `count`).
    pub stats: GemmStats,
    /// Whether golden GEMMs count statistics: the counting GEMM is several times slower than
    /// the statistics-free one, and C is the same bit for bit either way.
    pub count: bool,
    /// Seconds spent in GEMMs (operand rounding included).
    pub gemm_seconds: f64,
    /// Multiply-accumulates performed (M*N*K summed).
    pub macs: u64,
    /// When set, every GEMM's (m, k, n) is appended (workload tables are checked against it).
    pub shapes: Option<Vec<(usize, usize, usize)>>,
    /// When set, every GEMM's operands are kept (energy stimuli are drawn from them).
    pub capture: Option<Vec<Captured>>,
}

/// The operands of one GEMM, row-major A (m x k) and B (k x n), as binary32 values.
#[derive(Clone, Debug)]
pub struct Captured {
    /// Rows of A.
    pub m: usize,
    /// Reduction length.
    pub k: usize,
    /// Columns of B.
    pub n: usize,
    /// A.
    pub a: Vec<f32>,
    /// B.
    pub b: Vec<f32>,
}

impl Engine {
    /// An engine with zeroed counters that does not count statistics.
    pub fn new(arith: Arith) -> Engine {
        Engine {
            arith,
            stats: GemmStats::default(),
            count: false,
            gemm_seconds: 0.0,
            macs: 0,
            shapes: None,
            capture: None,
        }
    }

    /// An engine that counts controller and datapath statistics in every golden GEMM.
    pub fn counting(arith: Arith) -> Engine {
        Engine { count: true, ..Engine::new(arith) }
    }

    /// Clears the counters (per epoch).
    pub fn reset_counters(&mut self) {
        self.stats = GemmStats::default();
        self.gemm_seconds = 0.0;
        self.macs = 0;
    }

    /// C (m x n) = A (m x k) * B (k x n), row-major.
    pub fn matmul(&mut self, a: &[f32], m: usize, k: usize, b: &[f32], n: usize) -> Vec<f32> {
        self.matmul_t(a, false, b, false, m, k, n)
    }

    /// C (m x n) = A * B where A is stored m x k (or k x m when `ta`) and B k x n (or n x k when `tb`).
    #[allow(clippy::too_many_arguments)]
    pub fn matmul_t(&mut self, a: &[f32], ta: bool, b: &[f32], tb: bool, m: usize, k: usize, n: usize) -> Vec<f32> {
        assert_eq!(a.len(), m * k, "A must hold m*k values");
        assert_eq!(b.len(), k * n, "B must hold k*n values");
        let t = Instant::now();
        let c = match self.arith {
            Arith::Native => {
                let mut c = vec![0f32; m * n];
                let sa = if ta { (1, m) } else { (k, 1) };
                let sb = if tb { (1, k) } else { (n, 1) };
                sgemm_strided(m, k, n, a, sa, b, sb, &mut c);
                c
            }
            Arith::Golden(p) => {
                let f = p.format;
                // Rounded first, then transposed: the rounding vectorises over contiguous
                // values, where inside the transpose it ran one strided value at a time.
                let ac = if ta { transpose_u32(&f.encode_rne_all(a), k, m) } else { encode(&p, a) };
                let bc = if tb { transpose_u32(&f.encode_rne_all(b), n, k) } else { encode(&p, b) };
                let g = GemmInput { m, k, n, a: &ac, b: &bc };
                if self.count {
                    let (c, s) = gemm(&p, &g);
                    self.stats = self.stats.merge(s);
                    c
                } else {
                    gemm_nostats(&p, &g)
                }
            }
        };
        self.gemm_seconds += t.elapsed().as_secs_f64();
        self.macs += (m * n * k) as u64;
        if let Some(v) = &mut self.shapes {
            v.push((m, k, n));
        }
        if let Some(v) = &mut self.capture {
            let a = if ta { transpose(a, k, m) } else { a.to_vec() };
            let b = if tb { transpose(b, n, k) } else { b.to_vec() };
            v.push(Captured { m, k, n, a, b });
        }
        c
    }
}

/// Rounds binary32 values to F_in codes with RNE (docs/training.md).
pub fn encode(p: &PeParams, x: &[f32]) -> Vec<u32> {
    p.format.encode_rne_all(x)
}

/// `c = a * b` for row-major matrices with matrixmultiply's sgemm.
pub fn sgemm_into(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    sgemm_strided(m, k, n, a, (k, 1), b, (n, 1), c)
}

/// `c = a * b` with (row, column) strides for A and B; C is row-major m x n.
#[allow(clippy::too_many_arguments)]
fn sgemm_strided(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    sa: (usize, usize),
    b: &[f32],
    sb: (usize, usize),
    c: &mut [f32],
) {
    let last = |rows: usize, cols: usize, s: (usize, usize)| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * s.0 + (cols - 1) * s.1 + 1
        }
    };
    assert!(
        a.len() >= last(m, k, sa) && b.len() >= last(k, n, sb) && c.len() >= m * n,
        "buffers must hold their matrices"
    );
    // SAFETY: the assert above makes every pointer cover its matrix with the given strides.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            sa.0 as isize,
            sa.1 as isize,
            b.as_ptr(),
            sb.0 as isize,
            sb.1 as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        )
    }
}
