//! The GEMM of docs/arithmetic.md section 4: an ordered reference and a fast vectorised version.
//!
//! The fast version decodes every operand once into planes (widened value, reduced
//! value, controller key difference, "reduction changed it" flags), keeps each output
//! element's fold order, runs 16 output columns side by side so the inner loop
//! vectorises, and splits the work over rayon tasks of row blocks.

// The lane loops index several planes in lockstep; that is the form LLVM vectorises.
#![allow(clippy::needless_range_loop)]

use super::arith::{canonical, flush_bits, mul, q, Reducer};
use super::pe::{step_dual, step_single, PeParams};
pub use super::simd::{isa, Isa};
use crate::config::Policy;
use crate::error::InputError;
use crate::format::Format;
use rayon::prelude::*;
use serde::Serialize;

/// Output columns computed side by side in one kernel call.
const LANES: usize = 16;
/// Rows of C computed together, sharing every load of B.
const ROWS: usize = 4;
/// Stands for "a zero decides the comparison" in the key differences; far above 2 * 255.
const KEY_BIG: i32 = 1 << 20;

/// Controller and datapath statistics of one GEMM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GemmStats {
    /// PE steps taken (M * N * ceil(K/2) for dual-stream policies, M * N * K for `single`).
    pub steps: u64,
    /// Steps in which the controller gave the full multiplier to stream 0 (`daa`, `static`).
    pub high_stream0: u64,
    /// Steps in which the controller gave the full multiplier to stream 1 (`daa`).
    pub high_stream1: u64,
    /// Products computed (both multipliers, including the +0 padding of an odd K).
    pub products: u64,
    /// Products that were +-0 after FTZ.
    pub zero_products: u64,
    /// Operands that went through the low-path reduction `q`.
    pub reduced_operands: u64,
    /// Of those, operands that `q` changed.
    pub reductions_changed: u64,
}

impl GemmStats {
    /// The counts of both, summed.
    pub fn merge(mut self, o: GemmStats) -> GemmStats {
        self.steps += o.steps;
        self.high_stream0 += o.high_stream0;
        self.high_stream1 += o.high_stream1;
        self.products += o.products;
        self.zero_products += o.zero_products;
        self.reduced_operands += o.reduced_operands;
        self.reductions_changed += o.reductions_changed;
        self
    }
}

/// Shape and operands of one GEMM: A is M x K, B is K x N, both row-major F_in codes.
#[derive(Clone, Copy, Debug)]
pub struct GemmInput<'a> {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// A as codes, row-major.
    pub a: &'a [u32],
    /// B as codes, row-major.
    pub b: &'a [u32],
}

/// Checks that A (`a_rows` x `a_cols`) and B (`b_rows` x `b_cols`) can be multiplied.
pub fn check_shapes(a_rows: usize, a_cols: usize, b_rows: usize, b_cols: usize) -> Result<(), InputError> {
    if a_cols == b_rows {
        return Ok(());
    }
    Err(InputError::msg(format!(
        "A is {a_rows}x{a_cols} and B is {b_rows}x{b_cols}: the columns of A (K) must equal the rows of B"
    )))
}

impl GemmInput<'_> {
    fn check(&self) {
        assert_eq!(self.a.len(), self.m * self.k, "A must hold M*K codes");
        assert_eq!(self.b.len(), self.k * self.n, "B must hold K*N codes");
    }
}

/// The ordered reference: one PE step at a time, exactly as docs/arithmetic.md states it, with
/// statistics counted step by step. Slow; the oracle for [`gemm`].
pub fn gemm_reference(p: &PeParams, g: &GemmInput) -> (Vec<f32>, GemmStats) {
    g.check();
    let mut c = vec![0f32; g.m * g.n];
    let mut st = GemmStats::default();
    let is_zero = |x: f32| x == 0.0;
    for i in 0..g.m {
        for j in 0..g.n {
            let a = |k: usize| if k < g.k { g.a[i * g.k + k] } else { 0 };
            let b = |k: usize| if k < g.k { g.b[k * g.n + j] } else { 0 };
            let mut acc = 0f32;
            if p.policy.is_dual() {
                for t in 0..g.k.div_ceil(2) {
                    let ops = [(a(2 * t), b(2 * t)), (a(2 * t + 1), b(2 * t + 1))];
                    let tr = step_dual(p, acc, ops[0].0, ops[0].1, ops[1].0, ops[1].1);
                    acc = tr.acc;
                    st.steps += 1;
                    st.products += 2;
                    st.zero_products += is_zero(tr.p_high) as u64 + is_zero(tr.p_low) as u64;
                    if p.policy.reduces() {
                        st.high_stream0 += (tr.high == 0) as u64;
                        st.high_stream1 += (tr.high == 1) as u64;
                        st.reduced_operands += 2;
                        let (al, bl) = ops[1 - tr.high];
                        for code in [al, bl] {
                            let w = p.format.decode(code);
                            st.reductions_changed += (q(w, p.lo_bits, p.lo_rounding).to_bits() != w.to_bits()) as u64;
                        }
                    }
                }
            } else {
                for k in 0..g.k {
                    let prod = mul(p.format.decode(a(k)), p.format.decode(b(k)));
                    acc = step_single(p, acc, a(k), b(k));
                    st.steps += 1;
                    st.products += 1;
                    st.zero_products += is_zero(prod) as u64;
                }
            }
            c[i * g.n + j] = acc;
        }
    }
    (c, st)
}

/// One stream's operand decoded: widened value, low-path value, whether `q` changed it, zero key.
#[derive(Clone, Copy)]
struct Operand {
    w: f32,
    q: f32,
    changed: i32,
    /// The raw exponent field (0 for a zero).
    exp: i32,
}

#[inline(always)]
fn decode_operand(d: Decoder, code: u32) -> Operand {
    let (w, q) = d.wq(code);
    Operand { w, q, changed: (q.to_bits() != w.to_bits()) as i32, exp: d.format.exp_field(code) as i32 }
}

/// How one configuration turns codes into the kernels' operands: widened to binary32 and,
/// where the policy has a low path (`daa`, `static`), reduced by `q`, whose parameters
/// are worked out once here rather than per value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Decoder {
    pub format: Format,
    /// `q` of the policy's low path; none where there is no low path (`q` is then the identity).
    pub reduce: Option<Reducer>,
}

impl Decoder {
    pub fn new(p: &PeParams) -> Decoder {
        Decoder { format: p.format, reduce: p.policy.reduces().then(|| Reducer::new(p.lo_bits, p.lo_rounding)) }
    }

    /// A code widened to binary32 and its low-path value.
    #[inline(always)]
    pub fn wq(self, code: u32) -> (f32, f32) {
        let w = self.format.decode_bits(code);
        let q = match self.reduce {
            Some(r) => r.q_bits(w),
            None => w,
        };
        (f32::from_bits(w), f32::from_bits(q))
    }

    /// [`Decoder::wq`] and the raw exponent field of every code of a run. The policy is
    /// matched once per run, not per value: inside the loop the match became a select that
    /// computed `q` for every value, also where the policy has none (7 % of a resnet-mini
    /// `single` epoch). Plain loops without branches, so that they vectorise.
    #[inline(always)]
    pub fn run(self, codes: &[u32], w: &mut [f32], q: &mut [f32], e: &mut [i32]) {
        let f = self.format;
        let planes = codes.iter().zip(w.iter_mut()).zip(q.iter_mut()).zip(e.iter_mut());
        match self.reduce {
            Some(r) => {
                for (((&c, w), q), e) in planes {
                    let x = f.decode_bits(c);
                    (*w, *q, *e) = (f32::from_bits(x), f32::from_bits(r.q_bits(x)), f.exp_field(c) as i32);
                }
            }
            None => {
                for (((&c, w), q), e) in planes {
                    let x = f32::from_bits(f.decode_bits(c));
                    (*w, *q, *e) = (x, x, f.exp_field(c) as i32);
                }
            }
        }
    }
}

/// The controller's comparison split into one number per side.
///
/// With keys k_s = ea_s + eb_s (0 when a field is 0), stream 1 wins iff k1 > k0. For
/// non-zero operands that is `ea1 - ea0 > eb0 - eb1`. Zeros become +-KEY_BIG so the same
/// single comparison `d_a > d_b` stays exact: a zero on stream 1 (d_a = -BIG or
/// d_b = +BIG) never wins, a zero only on stream 0 (d_a = +BIG or d_b = -BIG) always
/// loses, and two zeros on stream 1 compare equal (-BIG > -BIG, BIG > BIG are false).
/// Arguments are the raw exponent fields of stream 0's and stream 1's operand.
#[inline(always)]
pub(super) fn key_diff_a(e0: i32, e1: i32) -> i32 {
    let d = if e0 == 0 { KEY_BIG } else { e1 - e0 };
    if e1 == 0 {
        -KEY_BIG
    } else {
        d
    }
}

/// The B side of [`key_diff_a`].
#[inline(always)]
pub(super) fn key_diff_b(e0: i32, e1: i32) -> i32 {
    let d = if e0 == 0 { -KEY_BIG } else { e0 - e1 };
    if e1 == 0 {
        KEY_BIG
    } else {
        d
    }
}

/// True when no intermediate of the fold can be subnormal, so the FTZ steps are identities.
///
/// If every non-zero product is at least 2^-102 (q never lowers an exponent), every
/// product and every exact partial sum is a multiple of 2^-125, so a non-zero rounded
/// sum is at least 2^-125: nothing is ever flushed.
fn flush_free(f: Format, g: &GemmInput) -> bool {
    // Zeros, Inf and NaN map to u32::MAX; written as a plain fold so it vectorises.
    let field = |c: u32| {
        let e = f.exp_field(c);
        if e == 0 || e == f.exp_max() {
            u32::MAX
        } else {
            e
        }
    };
    let min_exp = |codes: &[u32]| {
        let e = codes.par_chunks(1 << 14).map(|ch| ch.iter().map(|&c| field(c)).fold(u32::MAX, u32::min)).min();
        e.filter(|&e| e != u32::MAX).map(|e| e as i32 - f.bias())
    };
    match (min_exp(g.a), min_exp(g.b)) {
        (Some(ea), Some(eb)) => ea + eb >= -102,
        _ => true,
    }
}

/// One step of a row of A: both streams' values and the A side of the comparisons.
#[derive(Clone, Copy, Default)]
struct AStep {
    w: [f32; 2],
    q: [f32; 2],
    /// [`key_diff_a`].
    d: i32,
    /// `changed(a0) - changed(a1)`: what winning stream 1 adds to the changed count.
    dc: i32,
    /// `changed(a1)`: counted when stream 0 wins (summed outside the kernel).
    c1: i32,
}

/// One step of a 16-column strip of B, as planes.
#[derive(Clone, Copy)]
struct BStep {
    w: [[f32; LANES]; 2],
    q: [[f32; LANES]; 2],
    d: [i32; LANES],
    dc: [i32; LANES],
    c1: [i32; LANES],
}

impl Default for BStep {
    fn default() -> Self {
        // Padding columns are zeros on both streams.
        BStep { w: [[0.0; LANES]; 2], q: [[0.0; LANES]; 2], d: [KEY_BIG; LANES], dc: [0; LANES], c1: [0; LANES] }
    }
}

/// Per-lane counters kept inside the kernel (summed over valid lanes afterwards).
#[derive(Clone, Copy)]
struct LaneStats {
    high1: [u32; LANES],
    zeros: [u32; LANES],
    changed1: [i32; LANES],
}

/// What a kernel needs to know besides its operands.
#[derive(Clone, Copy)]
struct KernelKind {
    policy: Policy,
    flush: bool,
}

/// Decoded operand planes, kept per thread between calls: first-touching fresh pages
/// cost more than the decoding itself on the machines we measured.
#[derive(Default)]
struct Workspace {
    a: Vec<AStep>,
    b: Vec<BStep>,
}

thread_local! {
    static WORKSPACE: std::cell::RefCell<Workspace> = std::cell::RefCell::new(Workspace::default());
}

/// C = A x B without statistics: what training runs. Bit-identical to [`gemm`]'s and
/// [`gemm_reference`]'s C, several times faster than [`gemm`] ([`super::fast`]); the
/// kernels use the instruction set [`isa`] reports (`DAA_GEMM_ISA`).
pub fn gemm_nostats(p: &PeParams, g: &GemmInput) -> Vec<f32> {
    gemm_nostats_isa(p, g, isa())
}

/// [`gemm_nostats`] with the kernels of one instruction set, which the CPU must support
/// ([`Isa::supported`]): how the tests hold every path against the reference.
pub fn gemm_nostats_isa(p: &PeParams, g: &GemmInput, isa: Isa) -> Vec<f32> {
    g.check();
    super::fast::gemm_fast(p, g, isa)
}

/// Fast GEMM with statistics; bit-identical to [`gemm_reference`].
pub fn gemm(p: &PeParams, g: &GemmInput) -> (Vec<f32>, GemmStats) {
    g.check();
    if g.m == 0 || g.n == 0 {
        return (vec![0f32; g.m * g.n], GemmStats::default());
    }
    WORKSPACE.with(|ws| gemm_in(p, g, &mut ws.borrow_mut()))
}

fn gemm_in(p: &PeParams, g: &GemmInput, ws: &mut Workspace) -> (Vec<f32>, GemmStats) {
    let (m, n) = (g.m, g.n);
    // Steps per output element and operands per step.
    let (steps, width) = if p.policy.is_dual() { (g.k.div_ceil(2), 2) } else { (g.k, 1) };
    let kind = KernelKind { policy: p.policy, flush: !flush_free(p.format, g) };
    let dec = Decoder::new(p);
    let zero = decode_operand(dec, 0);
    ws.a.clear();
    ws.a.resize(m * steps, AStep::default());
    ws.a.par_chunks_mut(steps.max(1)).enumerate().for_each(|(i, row)| {
        let mut ops = vec![zero; width * steps];
        for (o, &c) in ops.iter_mut().zip(&g.a[i * g.k..(i + 1) * g.k]) {
            *o = decode_operand(dec, c);
        }
        for (st, pair) in row.iter_mut().zip(ops.chunks(width)) {
            let (a0, a1) = (&pair[0], pair.get(1).unwrap_or(&zero));
            *st = AStep {
                w: [a0.w, a1.w],
                q: [a0.q, a1.q],
                d: key_diff_a(a0.exp, a1.exp),
                dc: a0.changed - a1.changed,
                c1: a1.changed,
            };
        }
    });
    let strips = n.div_ceil(LANES);
    ws.b.clear();
    ws.b.resize(strips * steps, BStep::default());
    ws.b.par_chunks_mut(steps.max(1)).enumerate().for_each(|(s, strip)| {
        let valid = LANES.min(n - s * LANES);
        for (t, st) in strip.iter_mut().enumerate() {
            let mut ops = [[zero; LANES]; 2];
            for (lane, row) in ops.iter_mut().enumerate().take(width) {
                let k = width * t + lane;
                if k < g.k {
                    let codes = &g.b[k * n + s * LANES..k * n + s * LANES + valid];
                    for (o, &c) in row.iter_mut().zip(codes) {
                        *o = decode_operand(dec, c);
                    }
                }
            }
            for l in 0..LANES {
                let (b0, b1) = (&ops[0][l], &ops[1][l]);
                st.w[0][l] = b0.w;
                st.w[1][l] = b1.w;
                st.q[0][l] = b0.q;
                st.q[1][l] = b1.q;
                st.d[l] = key_diff_b(b0.exp, b1.exp);
                st.dc[l] = b0.changed - b1.changed;
                st.c1[l] = b1.changed;
            }
        }
    });

    let (a_planes, b_planes) = (&ws.a, &ws.b);
    // Enough row blocks to keep every core busy, whole row tiles of at most 32 rows each.
    let row_block = (m.div_ceil(4 * rayon::current_num_threads()).clamp(1, 32)).next_multiple_of(ROWS);
    let mut c = vec![0f32; m * n];
    let mut stats = c
        .par_chunks_mut(row_block * n)
        .enumerate()
        .map(|(blk, c_rows)| {
            let mut stats = GemmStats::default();
            for s in 0..strips {
                let valid = LANES.min(n - s * LANES);
                let b = &b_planes[s * steps..(s + 1) * steps];
                for (tile, c_tile) in c_rows.chunks_mut(ROWS * n).enumerate() {
                    let i0 = blk * row_block + tile * ROWS;
                    let real = c_tile.len() / n;
                    // A short tile repeats its last row; the copies are computed and dropped.
                    let a: [&[AStep]; ROWS] = std::array::from_fn(|r| {
                        let i = i0 + r.min(real - 1);
                        &a_planes[i * steps..(i + 1) * steps]
                    });
                    let (acc, ls) = run_kernel(kind, a, b);
                    for (r, c_row) in c_tile.chunks_mut(n).enumerate() {
                        for (dst, &x) in c_row[s * LANES..s * LANES + valid].iter_mut().zip(&acc[r]) {
                            *dst = canonical(x);
                        }
                        stats = stats.merge(lane_stats(p.policy, &ls[r], valid, steps, width));
                    }
                }
            }
            stats
        })
        .reduce(GemmStats::default, GemmStats::merge);
    if p.policy.reduces() {
        // Stream 1's reductions when stream 0 wins, summed here instead of in the kernel:
        // every (i, j) pair sees every step of row i of A and of column j of B.
        let a_c1: u64 = a_planes.iter().map(|s| s.c1 as u64).sum();
        let b_c1: u64 = b_planes.iter().map(|s| s.c1.iter().map(|&x| x as u64).sum::<u64>()).sum();
        stats.reductions_changed += a_c1 * n as u64 + b_c1 * m as u64;
    }
    (c, stats)
}

/// The statistics of one kernel call, over its valid lanes (stream 1's baseline reductions excluded).
fn lane_stats(policy: Policy, ls: &LaneStats, valid: usize, steps: usize, width: usize) -> GemmStats {
    let sum_u = |v: &[u32; LANES]| v[..valid].iter().map(|&x| x as u64).sum::<u64>();
    let sum_i = |v: &[i32; LANES]| v[..valid].iter().map(|&x| x as i64).sum::<i64>();
    let lane_steps = (steps * valid) as u64;
    let h1 = sum_u(&ls.high1);
    GemmStats {
        steps: lane_steps,
        high_stream0: if policy.reduces() { lane_steps - h1 } else { 0 },
        high_stream1: h1,
        products: lane_steps * width as u64,
        zero_products: sum_u(&ls.zeros),
        reduced_operands: if policy.reduces() { 2 * lane_steps } else { 0 },
        // Sums of `changed(stream 0) - changed(stream 1)` over the steps stream 1 won.
        reductions_changed: sum_i(&ls.changed1) as u64,
    }
}

type KernelOut = ([[f32; LANES]; ROWS], [LaneStats; ROWS]);
/// Rows of A, all steps of one B strip: what one kernel call folds.
type KernelIn<'a> = [&'a [AStep]; ROWS];

fn run_kernel(kind: KernelKind, a: KernelIn, b: &[BStep]) -> KernelOut {
    match isa() {
        // SAFETY: `isa()` only reports an ISA the CPU was checked to support.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => unsafe { run_kernel_avx512(kind, a, b) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => unsafe { run_kernel_avx2(kind, a, b) },
        _ => run_kernel_portable(kind, a, b),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn run_kernel_avx2(kind: KernelKind, a: KernelIn, b: &[BStep]) -> KernelOut {
    run_kernel_portable(kind, a, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_kernel_avx512(kind: KernelKind, a: KernelIn, b: &[BStep]) -> KernelOut {
    run_kernel_portable(kind, a, b)
}

#[inline(always)]
fn run_kernel_portable(kind: KernelKind, a: KernelIn, b: &[BStep]) -> KernelOut {
    match (kind.policy, kind.flush) {
        (Policy::Daa, true) => dual_kernel::<true, true>(a, b),
        (Policy::Daa, false) => dual_kernel::<true, false>(a, b),
        (Policy::Static | Policy::Full, true) => dual_kernel::<false, true>(a, b),
        (Policy::Static | Policy::Full, false) => dual_kernel::<false, false>(a, b),
        (Policy::Single, true) => single_kernel::<true>(a, b),
        (Policy::Single, false) => single_kernel::<false>(a, b),
    }
}

/// FTZ when the fold can produce subnormals at all (see [`flush_free`]).
#[inline(always)]
fn maybe_flush<const FLUSH: bool>(x: f32) -> f32 {
    if FLUSH {
        flush_bits(x)
    } else {
        x
    }
}

/// The dual-stream fold of ROWS rows over 16 columns; `DAA` enables the comparator, else stream 0 is high.
#[inline(always)]
fn dual_kernel<const DAA: bool, const FLUSH: bool>(a: KernelIn, b: &[BStep]) -> KernelOut {
    let mut acc = [[0f32; LANES]; ROWS];
    let mut ls = [LaneStats { high1: [0; LANES], zeros: [0; LANES], changed1: [0; LANES] }; ROWS];
    for (t, sb) in b.iter().enumerate() {
        for r in 0..ROWS {
            let sa = &a[r][t];
            let (acc, ls) = (&mut acc[r], &mut ls[r]);
            for l in 0..LANES {
                // All-ones when stream 1 wins the comparison.
                let h1 = if DAA { ((sa.d > sb.d[l]) as u32).wrapping_neg() } else { 0 };
                let pick = |one: f32, zero: f32| f32::from_bits((one.to_bits() & h1) | (zero.to_bits() & !h1));
                let ph = maybe_flush::<FLUSH>(pick(sa.w[1] * sb.w[1][l], sa.w[0] * sb.w[0][l]));
                let pl = maybe_flush::<FLUSH>(pick(sa.q[0] * sb.q[0][l], sa.q[1] * sb.q[1][l]));
                let s = maybe_flush::<FLUSH>(ph + pl);
                acc[l] = maybe_flush::<FLUSH>(acc[l] + s);
                ls.zeros[l] += (ph == 0.0) as u32 + (pl == 0.0) as u32;
                if DAA {
                    ls.high1[l] = ls.high1[l].wrapping_sub(h1);
                    ls.changed1[l] += (sa.dc + sb.dc[l]) & h1 as i32;
                }
            }
        }
    }
    (acc, ls)
}

/// The single-stream fold of ROWS rows over 16 columns (stream 0 planes only).
#[inline(always)]
fn single_kernel<const FLUSH: bool>(a: KernelIn, b: &[BStep]) -> KernelOut {
    let mut acc = [[0f32; LANES]; ROWS];
    let mut ls = [LaneStats { high1: [0; LANES], zeros: [0; LANES], changed1: [0; LANES] }; ROWS];
    for (t, sb) in b.iter().enumerate() {
        for r in 0..ROWS {
            let sa = &a[r][t];
            for l in 0..LANES {
                let p = maybe_flush::<FLUSH>(sa.w[0] * sb.w[0][l]);
                acc[r][l] = maybe_flush::<FLUSH>(acc[r][l] + p);
                ls[r].zeros[l] += (p == 0.0) as u32;
            }
        }
    }
    (acc, ls)
}
