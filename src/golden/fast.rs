//! The statistics-free GEMM: what training runs, bit-identical to [`super::gemm::gemm_reference`].
//!
//! Operands are decoded and reduced once per GEMM into planes holding only what the
//! policy's kernel reads (`daa`: both streams' widened and reduced values and the
//! controller's key difference; `static`: stream 0 widened and stream 1 reduced; `full`:
//! both widened; `single`: one value per k). A is packed into panels of `MR` rows, B into
//! strips of `NR` = V x W columns (W lanes per vector of the instruction set). A register
//! tile of MR x NR accumulators folds a panel against a strip, every output element's
//! steps in contract order; the fold is cut into chunks of `KC` steps so the strip's
//! chunk stays in cache while every panel passes over it, the accumulators going to
//! memory and back between chunks (which changes no bit). Tasks are (strip, row group)
//! pairs on rayon; each decodes its strip chunk by chunk into a per-thread buffer, just
//! before the group's panels fold the chunk.
//!
//! FTZ costs a few operations per product, so each (panel, strip) pair runs the FTZ
//! kernel only from the chunk on where its operands' smallest exponents allow a subnormal
//! at all ([`flush_needed`]); in training that is almost never.

// The lane loops index several planes in lockstep; that is the form the kernels take.
#![allow(clippy::needless_range_loop)]

use super::arith::canonical;
use super::gemm::{key_diff_a, key_diff_b, Decoder, GemmInput};
use super::pe::PeParams;
use super::simd::{prefetch, Isa, Portable, Simd};
#[cfg(target_arch = "x86_64")]
use super::simd::{Avx2, Avx512};
use crate::config::Policy;
use crate::format::Format;
use rayon::prelude::*;
use std::cell::RefCell;
use std::ops::Range;

/// Steps of one chunk of the fold (a strip's chunk of `daa` planes at NR = 32 is 80 kB).
const KC: usize = 128;
/// No exponent: the operands hold only zeros, Inf and NaN.
const NO_EXP: i32 = i32::MAX;

/// The three kernels and their plane layouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Planes w0, w1, q0, q1, key difference: the controller picks per lane.
    Daa,
    /// Planes: stream 0's high-path value, stream 1's low-path value (`static`; `full`,
    /// whose low path is the identity).
    Fixed,
    /// One plane, one value per k.
    Single,
}

impl Kind {
    fn of(policy: Policy) -> Kind {
        match policy {
            Policy::Daa => Kind::Daa,
            Policy::Static | Policy::Full => Kind::Fixed,
            Policy::Single => Kind::Single,
        }
    }
    /// Values per step and row (or column).
    fn planes(self) -> usize {
        match self {
            Kind::Daa => 5,
            Kind::Fixed => 2,
            Kind::Single => 1,
        }
    }
    /// Operands per step.
    fn width(self) -> usize {
        if self == Kind::Single {
            1
        } else {
            2
        }
    }
}

/// Everything the tasks share.
struct Job<'a> {
    dec: Decoder,
    g: &'a GemmInput<'a>,
    kind: Kind,
    /// Steps per output element.
    steps: usize,
    /// Rows per panel.
    mr: usize,
    /// Vectors per strip and columns per strip.
    v: usize,
    nr: usize,
    /// Panels per row group, row groups.
    group: usize,
    groups: usize,
    /// Rows of the padded output buffer: groups * group * mr.
    m_pad: usize,
    /// Packed A: panel after panel, each `steps` x planes x mr.
    a: Vec<f32>,
    /// Smallest unbiased exponent of each panel's non-zero finite operands.
    a_min: Vec<i32>,
}

impl Job<'_> {
    fn panel_len(&self) -> usize {
        self.steps * self.kind.planes() * self.mr
    }
}

/// Whether a (panel, strip) pair can produce a subnormal anywhere in its fold.
///
/// If every non-zero product is at least 2^-102 (`q` never lowers an exponent), every
/// rounded product and every rounded partial sum is a multiple of 2^-125, so a non-zero
/// one is at least 2^-125: nothing is ever flushed, and the FTZ steps are identities.
fn flush_needed(a_min: i32, b_min: i32) -> bool {
    a_min != NO_EXP && b_min != NO_EXP && a_min + b_min < -102
}

/// An exponent field as [`flush_needed`] reads it: zeros, Inf and NaN never make a subnormal.
#[inline(always)]
fn field_key(field: i32, emax: i32) -> i32 {
    if field == 0 || field == emax {
        i32::MAX
    } else {
        field
    }
}

/// The unbiased exponent of the smallest [`field_key`], or [`NO_EXP`].
fn unbiased(f: Format, min_key: i32) -> i32 {
    if min_key == i32::MAX {
        NO_EXP
    } else {
        min_key - f.bias()
    }
}

/// Scratch planes of one operand run: widened, reduced, exponent field, for both streams.
#[derive(Default)]
struct Scratch {
    w: [Vec<f32>; 2],
    q: [Vec<f32>; 2],
    e: [Vec<i32>; 2],
}

impl Scratch {
    /// Zeroed planes of `len` lanes (a zero code decodes to +0 with exponent field 0).
    fn reset(&mut self, len: usize) {
        for s in 0..2 {
            self.w[s].clear();
            self.w[s].resize(len, 0.0);
            self.q[s].clear();
            self.q[s].resize(len, 0.0);
            self.e[s].clear();
            self.e[s].resize(len, 0);
        }
    }
}

/// Packs panel `pi` of A (rows pi*mr.., zero rows past M) into `out`; returns its smallest exponent.
///
/// Each row is decoded as one contiguous run per stream (even and odd k), then spread
/// over the panel's step-major layout.
#[inline(always)]
fn pack_panel(job: &Job, pi: usize, out: &mut [f32], sc: &mut Scratch) -> i32 {
    let (g, kind, mr, steps) = (job.g, job.kind, job.mr, job.steps);
    let (width, planes) = (kind.width(), kind.planes());
    let emax = job.dec.format.exp_max() as i32;
    let mut min = i32::MAX;
    let mut codes = vec![0u32; steps];
    for r in 0..mr.min(g.m - pi * mr) {
        let row = &g.a[(pi * mr + r) * g.k..][..g.k];
        sc.reset(steps);
        for s in 0..width {
            codes.iter_mut().zip(row.iter().skip(s).step_by(width)).for_each(|(d, &c)| *d = c);
            let len = (g.k + width - 1 - s) / width;
            job.dec.run(&codes[..len], &mut sc.w[s], &mut sc.q[s], &mut sc.e[s]);
            min = min.min(sc.e[s][..len].iter().map(|&x| field_key(x, emax)).fold(i32::MAX, i32::min));
        }
        for t in 0..steps {
            let o = &mut out[t * planes * mr..];
            match kind {
                Kind::Daa => {
                    o[r] = sc.w[0][t];
                    o[mr + r] = sc.w[1][t];
                    o[2 * mr + r] = sc.q[0][t];
                    o[3 * mr + r] = sc.q[1][t];
                    o[4 * mr + r] = f32::from_bits(key_diff_a(sc.e[0][t], sc.e[1][t]) as u32);
                }
                Kind::Fixed => {
                    o[r] = sc.w[0][t];
                    o[mr + r] = sc.q[1][t];
                }
                Kind::Single => o[r] = sc.w[0][t],
            }
        }
    }
    // Zero rows past M: +0 values; both keys zero, so stream 1 never wins.
    if kind == Kind::Daa {
        for r in mr.min(g.m - pi * mr)..mr {
            for t in 0..steps {
                out[t * planes * mr + 4 * mr + r] = f32::from_bits(key_diff_a(0, 0) as u32);
            }
        }
    }
    unbiased(job.dec.format, min)
}

/// Packs steps `steps` of strip `s` of B (columns s*NR.., zero columns past N) into `out`;
/// returns their smallest exponent.
///
/// A strip's row is only NR codes (8 to 32): one or two vectors, decoded by [`Simd::decode`]
/// with nothing else done per row (the smallest exponent is kept per lane). As loops over
/// rows of run-time length, the per-row overhead cost more than the decode (the forward
/// GEMMs of resnet-mini have N = 50,176 and K = 72).
///
/// # Safety
/// `S` must be an instruction set the CPU runs, and NR a multiple of `S::W`.
#[inline(always)]
unsafe fn pack_strip<S: Simd, const NR: usize>(job: &Job, s: usize, steps: Range<usize>, out: &mut [f32]) -> i32 {
    // Whole vectors only (folded away at compile time).
    assert!(NR.is_multiple_of(S::W), "a strip of {NR} columns is not whole vectors of {} lanes", S::W);
    let (g, kind, dec) = (job.g, job.kind, job.dec);
    let (width, planes) = (kind.width(), kind.planes());
    let emax = dec.format.exp_max() as i32;
    let j0 = s * NR;
    let valid = NR.min(g.n - j0);
    let mut mins = [i32::MAX; NR];
    let mut e = [[0i32; NR]; 2];
    // The codes of a ragged row: zero (+0, exponent field 0) past N.
    let mut ragged = [0u32; NR];
    // Where the values this kind does not keep are decoded to.
    let mut spare = [[0f32; NR]; 3];
    let [sw1, sq0, sq1] = &mut spare;
    for (i, t) in steps.enumerate() {
        let o = &mut out[i * planes * NR..(i + 1) * planes * NR];
        let (wq, key): ([(&mut [f32], &mut [f32]); 2], _) = match kind {
            Kind::Daa => {
                let (w, rest) = o.split_at_mut(2 * NR);
                let (q, key) = rest.split_at_mut(2 * NR);
                let ((w0, w1), (q0, q1)) = (w.split_at_mut(NR), q.split_at_mut(NR));
                ([(w0, q0), (w1, q1)], Some(key))
            }
            Kind::Fixed => {
                let (w0, q1) = o.split_at_mut(NR);
                ([(w0, &mut sq0[..]), (&mut sw1[..], q1)], None)
            }
            Kind::Single => ([(o, &mut sq0[..]), (&mut sw1[..], &mut sq1[..])], None),
        };
        for (stream, (w, q)) in wq.into_iter().enumerate().take(width) {
            let k = width * t + stream;
            let codes: &[u32; NR] = if k < g.k {
                let row = &g.b[k * g.n + j0..][..valid];
                // B's rows lie N codes apart, too far for the hardware prefetchers, so a
                // strip's loads would wait on memory one row after another. Two strips ahead
                // measured best (training GEMM time of vgg-small and resnet-mini `daa`, 1
                // thread: 14-15 % less; one strip ahead: 7-11 %).
                prefetch(g.b.get(k * g.n + j0 + 2 * NR..k * g.n + j0 + 3 * NR).unwrap_or(&[]));
                // A reference, not a copy: a copy of `valid` codes became a memcpy call per row.
                <&[u32; NR]>::try_from(row).unwrap_or_else(|_| {
                    ragged[..valid].copy_from_slice(row);
                    &ragged
                })
            } else {
                // The +0 padding of an odd K.
                &[0; NR]
            };
            let e = &mut e[stream];
            for l in (0..NR).step_by(S::W) {
                S::decode(&dec, codes[l..].as_ptr(), w[l..].as_mut_ptr(), q[l..].as_mut_ptr(), e[l..].as_mut_ptr());
            }
            for (m, &x) in mins.iter_mut().zip(e.iter()) {
                *m = (*m).min(field_key(x, emax));
            }
        }
        if let Some(key) = key {
            for ((d, &e0), &e1) in key.iter_mut().zip(&e[0]).zip(&e[1]) {
                *d = f32::from_bits(key_diff_b(e0, e1) as u32);
            }
        }
    }
    unbiased(dec.format, mins.into_iter().fold(i32::MAX, i32::min))
}

#[inline(always)]
unsafe fn fl<S: Simd, const FLUSH: bool>(x: S::F) -> S::F {
    if FLUSH {
        S::flush(x)
    } else {
        x
    }
}

/// Loads the accumulators of a tile (row stride `ldc`), or +0 on the first chunk.
#[inline(always)]
unsafe fn load_acc<S: Simd, const MR: usize, const V: usize>(
    c: *const f32,
    ldc: usize,
    first: bool,
) -> [[S::F; V]; MR] {
    let mut acc = [[S::zero(); V]; MR];
    if !first {
        for r in 0..MR {
            for v in 0..V {
                acc[r][v] = S::load(c.add(r * ldc + v * S::W));
            }
        }
    }
    acc
}

#[inline(always)]
unsafe fn store_acc<S: Simd, const MR: usize, const V: usize>(c: *mut f32, ldc: usize, acc: &[[S::F; V]; MR]) {
    for r in 0..MR {
        for v in 0..V {
            S::store(c.add(r * ldc + v * S::W), acc[r][v]);
        }
    }
}

/// Loads plane vectors of one strip step.
#[inline(always)]
unsafe fn load_b<S: Simd, const P: usize, const V: usize>(b: *const f32) -> [[S::F; V]; P] {
    let mut out = [[S::zero(); V]; P];
    for pl in 0..P {
        for v in 0..V {
            out[pl][v] = S::load(b.add((pl * V + v) * S::W));
        }
    }
    out
}

/// The `daa` register tile: `steps` steps of an MR-row panel against a V-vector strip.
#[inline(always)]
unsafe fn tile_daa<S: Simd, const MR: usize, const V: usize, const FLUSH: bool>(
    a: *const f32,
    b: *const f32,
    steps: usize,
    c: *mut f32,
    first: bool,
) {
    let ldc = V * S::W;
    let mut acc = load_acc::<S, MR, V>(c, ldc, first);
    for t in 0..steps {
        let at = a.add(t * 5 * MR);
        let [bw0, bw1, bq0, bq1, bd] = load_b::<S, 5, V>(b.add(t * 5 * ldc));
        for r in 0..MR {
            let (aw0, aw1) = (S::splat(at.add(r)), S::splat(at.add(MR + r)));
            let (aq0, aq1) = (S::splat(at.add(2 * MR + r)), S::splat(at.add(3 * MR + r)));
            let ad = S::splat(at.add(4 * MR + r));
            for v in 0..V {
                // Stream 1 gets the full multiplier where its key is larger.
                let h1 = S::gt_i32(ad, bd[v]);
                let s = if S::MASKED {
                    // Stream 0's products, overwritten where stream 1 wins.
                    let ph = fl::<S, FLUSH>(S::mul_where(S::mul(aw0, bw0[v]), h1, aw1, bw1[v]));
                    let pl = fl::<S, FLUSH>(S::mul_where(S::mul(aq1, bq1[v]), h1, aq0, bq0[v]));
                    fl::<S, FLUSH>(S::add(ph, pl))
                } else {
                    // Both outcomes' sums, one blend (`add` is commutative, so either
                    // product may come first).
                    let s0 = S::add(fl::<S, FLUSH>(S::mul(aw0, bw0[v])), fl::<S, FLUSH>(S::mul(aq1, bq1[v])));
                    let s1 = S::add(fl::<S, FLUSH>(S::mul(aw1, bw1[v])), fl::<S, FLUSH>(S::mul(aq0, bq0[v])));
                    fl::<S, FLUSH>(S::select(h1, s1, s0))
                };
                acc[r][v] = fl::<S, FLUSH>(S::add(acc[r][v], s));
            }
        }
    }
    store_acc::<S, MR, V>(c, ldc, &acc);
}

/// The `static` / `full` register tile: stream 0 high, stream 1 on the (possibly identity) low path.
#[inline(always)]
unsafe fn tile_fixed<S: Simd, const MR: usize, const V: usize, const FLUSH: bool>(
    a: *const f32,
    b: *const f32,
    steps: usize,
    c: *mut f32,
    first: bool,
) {
    let ldc = V * S::W;
    let mut acc = load_acc::<S, MR, V>(c, ldc, first);
    for t in 0..steps {
        let at = a.add(t * 2 * MR);
        let [bh, bl] = load_b::<S, 2, V>(b.add(t * 2 * ldc));
        for r in 0..MR {
            let (ah, al) = (S::splat(at.add(r)), S::splat(at.add(MR + r)));
            for v in 0..V {
                let ph = fl::<S, FLUSH>(S::mul(ah, bh[v]));
                let pl = fl::<S, FLUSH>(S::mul(al, bl[v]));
                let s = fl::<S, FLUSH>(S::add(ph, pl));
                acc[r][v] = fl::<S, FLUSH>(S::add(acc[r][v], s));
            }
        }
    }
    store_acc::<S, MR, V>(c, ldc, &acc);
}

/// The `single` register tile.
#[inline(always)]
unsafe fn tile_single<S: Simd, const MR: usize, const V: usize, const FLUSH: bool>(
    a: *const f32,
    b: *const f32,
    steps: usize,
    c: *mut f32,
    first: bool,
) {
    let ldc = V * S::W;
    let mut acc = load_acc::<S, MR, V>(c, ldc, first);
    for t in 0..steps {
        let at = a.add(t * MR);
        let [bw] = load_b::<S, 1, V>(b.add(t * ldc));
        for r in 0..MR {
            let aw = S::splat(at.add(r));
            for v in 0..V {
                let p = fl::<S, FLUSH>(S::mul(aw, bw[v]));
                acc[r][v] = fl::<S, FLUSH>(S::add(acc[r][v], p));
            }
        }
    }
    store_acc::<S, MR, V>(c, ldc, &acc);
}

/// Runs the register tile of a kernel kind, strip width and FTZ need (inlined into the
/// ISA's entry, so that every instance is compiled with its target feature).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn tile<S: Simd, const MR: usize>(
    kind: Kind,
    v: usize,
    flush: bool,
    a: *const f32,
    b: *const f32,
    steps: usize,
    c: *mut f32,
    first: bool,
) {
    macro_rules! pick {
        ($f:ident) => {
            match (v, flush) {
                (1, false) => $f::<S, MR, 1, false>(a, b, steps, c, first),
                (1, true) => $f::<S, MR, 1, true>(a, b, steps, c, first),
                (_, false) => $f::<S, MR, 2, false>(a, b, steps, c, first),
                (_, true) => $f::<S, MR, 2, true>(a, b, steps, c, first),
            }
        };
    }
    match kind {
        Kind::Daa => pick!(tile_daa),
        Kind::Fixed => pick!(tile_fixed),
        Kind::Single => pick!(tile_single),
    }
}

/// Per-thread buffers, kept between tasks and GEMMs.
#[derive(Default)]
struct Workspace {
    /// A decoded chunk of a strip.
    strip: Vec<f32>,
    scratch: Scratch,
}

thread_local! {
    static WORKSPACE: RefCell<Workspace> = RefCell::new(Workspace::default());
    /// The result tiles of the GEMMs this thread starts (see `run`).
    static PARTIALS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's workspace (taken out, so that nothing is borrowed across `f`).
fn with_workspace<R>(f: impl FnOnce(&mut Workspace) -> R) -> R {
    let mut ws = WORKSPACE.with(|w| std::mem::take(&mut *w.borrow_mut()));
    let r = f(&mut ws);
    WORKSPACE.with(|w| *w.borrow_mut() = ws);
    r
}

/// Task `ti` (strip `ti / groups`, row group `ti % groups`) into `out`, the group's rows x NR.
///
/// The strip is decoded one chunk of `KC` steps at a time, right before every panel of the
/// group folds it, so that the chunk is still in L1/L2 (a whole strip decoded first went
/// out to L3 and back when K is large: the weight gradients have K = 50,176).
///
/// A pair's FTZ need is decided from the strip's smallest exponent so far, which is exact:
/// while every product so far is at least 2^-102, every partial sum so far is a multiple of
/// 2^-125 and nothing has been flushed (see [`flush_needed`]), so the plain kernel's
/// accumulators equal the FTZ kernel's, and once a chunk lowers the bound, that pair's
/// remaining chunks take the FTZ kernel.
#[inline(always)]
unsafe fn task<S: Simd, const MR: usize>(job: &Job, ti: usize, out: &mut [f32], ws: &mut Workspace) {
    let (s, gi) = (ti / job.groups, ti % job.groups);
    let (nr, planes) = (job.nr, job.kind.planes());
    // Reused between tasks without clearing: `pack_strip` writes every value of a chunk.
    let len = KC.min(job.steps) * planes * nr;
    if ws.strip.len() < len {
        ws.strip.resize(len, 0.0);
    }
    let first_panel = gi * job.group;
    let panels = job.group.min(job.a_min.len() - first_panel);
    let mut b_min = NO_EXP;
    for k0 in (0..job.steps).step_by(KC) {
        let len = KC.min(job.steps - k0);
        let steps = k0..k0 + len;
        let chunk_min = match nr {
            8 => pack_strip::<S, 8>(job, s, steps, &mut ws.strip),
            16 => pack_strip::<S, 16>(job, s, steps, &mut ws.strip),
            32 => pack_strip::<S, 32>(job, s, steps, &mut ws.strip),
            _ => unreachable!("strips are one or two vectors of 8 or 16 lanes"),
        };
        b_min = b_min.min(chunk_min);
        let buf = &ws.strip[..len * planes * nr];
        for lp in 0..panels {
            let pi = first_panel + lp;
            let a = job.a.as_ptr().add(pi * job.panel_len() + k0 * planes * MR);
            let flush = flush_needed(job.a_min[pi], b_min);
            tile::<S, MR>(job.kind, job.v, flush, a, buf.as_ptr(), len, out.as_mut_ptr().add(lp * MR * nr), k0 == 0);
        }
    }
}

/// Entry points compiled for one instruction set: the packing and the tasks.
trait Entry {
    /// Lanes per vector.
    const W: usize;
    /// Rows per panel and vectors per strip at most (1 or 2) of a kernel kind: as many
    /// accumulators as the registers hold beside the kind's B planes and A values.
    fn shape(kind: Kind) -> (usize, usize);
    unsafe fn pack(job: &Job, pi: usize, out: &mut [f32], ws: &mut Workspace) -> i32;
    unsafe fn task(job: &Job, ti: usize, out: &mut [f32], ws: &mut Workspace);
}

macro_rules! entry {
    ($isa:ty, daa: ($dm:literal, $dv:literal), fixed: ($fm:literal, $fv:literal), single: ($sm:literal, $sv:literal) $(, $feature:literal)?) => {
        impl Entry for $isa {
            const W: usize = <$isa as Simd>::W;
            fn shape(kind: Kind) -> (usize, usize) {
                match kind {
                    Kind::Daa => ($dm, $dv),
                    Kind::Fixed => ($fm, $fv),
                    Kind::Single => ($sm, $sv),
                }
            }
            $(#[target_feature(enable = $feature)])?
            unsafe fn pack(job: &Job, pi: usize, out: &mut [f32], ws: &mut Workspace) -> i32 {
                pack_panel(job, pi, out, &mut ws.scratch)
            }
            $(#[target_feature(enable = $feature)])?
            unsafe fn task(job: &Job, ti: usize, out: &mut [f32], ws: &mut Workspace) {
                match job.kind {
                    Kind::Daa => task::<$isa, $dm>(job, ti, out, ws),
                    Kind::Fixed => task::<$isa, $fm>(job, ti, out, ws),
                    Kind::Single => task::<$isa, $sm>(job, ti, out, ws),
                }
            }
        }
    };
}

// Registers: AVX-512 has 32, AVX2 16. `daa` holds 5 B planes per vector and 5 A values;
// `static`/`full` 2 and 2; `single` 1 and 1.
#[cfg(target_arch = "x86_64")]
entry!(Avx512, daa: (3, 2), fixed: (6, 2), single: (6, 2), "avx512f");
#[cfg(target_arch = "x86_64")]
entry!(Avx2, daa: (3, 1), fixed: (3, 2), single: (4, 2), "avx2");
entry!(Portable, daa: (4, 2), fixed: (4, 2), single: (4, 2));

/// C = A x B without statistics, with the kernels of `isa` (which the CPU must support).
pub fn gemm_fast(p: &PeParams, g: &GemmInput, isa: Isa) -> Vec<f32> {
    assert!(isa.supported(), "the CPU does not support {isa:?}");
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => run::<Avx512>(p, g),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => run::<Avx2>(p, g),
        _ => run::<Portable>(p, g),
    }
}

fn run<E: Entry>(p: &PeParams, g: &GemmInput) -> Vec<f32> {
    let (m, n) = (g.m, g.n);
    if m == 0 || n == 0 {
        return vec![0f32; m * n];
    }
    let kind = Kind::of(p.policy);
    let steps = g.k.div_ceil(kind.width());
    let ((mr, max_v), w) = (E::shape(kind), E::W);
    let threads = rayon::current_num_threads();
    let panels = m.div_ceil(mr);
    // Two vectors per strip halve the loads of A, unless that leaves cores idle.
    let v = if max_v > 1 && n > w && (n.div_ceil(2 * w) >= threads || panels >= 2) { 2 } else { 1 };
    let nr = v * w;
    let strips = n.div_ceil(nr);
    // About four tasks per thread; row groups re-decode their strip, so no more than needed,
    // and none on one thread, where they balance nothing.
    let tasks = if threads == 1 { 1 } else { 4 * threads };
    let groups = tasks.div_ceil(strips).clamp(1, panels);
    let group = panels.div_ceil(groups);
    let groups = panels.div_ceil(group);
    let mut job = Job {
        dec: Decoder::new(p),
        g,
        kind,
        steps,
        mr,
        v,
        nr,
        group,
        groups,
        m_pad: groups * group * mr,
        a: Vec::new(),
        a_min: Vec::new(),
    };
    let panel_len = job.panel_len();
    let mut a = vec![0f32; panels * panel_len];
    // SAFETY (all `unsafe` below): `E` is the entry of an ISA the CPU supports (`gemm_fast`).
    job.a_min = a
        .par_chunks_mut(panel_len.max(1))
        .enumerate()
        .map(|(pi, out)| with_workspace(|ws| unsafe { E::pack(&job, pi, out, ws) }))
        .collect();
    job.a_min.resize(panels, NO_EXP);
    job.a = a;
    // The tasks' results, in a buffer reused from GEMM to GEMM (zeroing a fresh one cost a
    // pass over it each time): every value read below is one a task wrote (a task's first
    // chunk of the fold overwrites its rows; rows past M are never read).
    let mut c_buf = PARTIALS.with(|b| std::mem::take(&mut *b.borrow_mut()));
    let len = strips * job.m_pad * nr;
    if c_buf.len() < len {
        c_buf.resize(len, 0.0);
    }
    if steps > 0 {
        c_buf[..len]
            .par_chunks_mut(group * mr * nr)
            .enumerate()
            .for_each(|(ti, out)| with_workspace(|ws| unsafe { E::task(&job, ti, out, ws) }));
    } else {
        c_buf[..len].fill(0.0);
    }
    let mut c: Vec<f32> = Vec::with_capacity(m * n);
    c.spare_capacity_mut().par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (s, part) in row.chunks_mut(nr).enumerate() {
            let src = &c_buf[(s * job.m_pad + i) * nr..][..part.len()];
            for (d, &x) in part.iter_mut().zip(src) {
                d.write(canonical(x));
            }
        }
    });
    // SAFETY: the rows of n cover all m * n values, each row's strips all of its n.
    unsafe { c.set_len(m * n) };
    PARTIALS.with(|b| *b.borrow_mut() = c_buf);
    c
}
