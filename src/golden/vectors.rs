//! PE-level test vectors from the golden model: generation, text lines, parsing.
//!
//! One vector per line, lowercase hex fields separated by single spaces:
//! `acc a0 b0 a1 b1 expected` (dual-stream) or `acc a b expected` (`single`).

use crate::config::Config;
use crate::error::InputError;
use crate::format::Format;
use crate::golden::pe::{step_dual, step_single, PeParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The kinds of vector in the mix and their weights (out of 100), documented in docs/vectors.md.
pub const MIX: [(Class, u32); 9] = [
    (Class::Random, 35),
    (Class::RawBits, 10),
    (Class::OperandCorners, 25),
    (Class::ReductionEdges, 8),
    (Class::MulTie, 5),
    (Class::AddTie, 5),
    (Class::Cancellation, 5),
    (Class::Extremes, 5),
    (Class::AccCorners, 2),
];

/// A class of test vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Random finite normal operands of moderate exponent, acc 0 or near the step's sum.
    Random,
    /// Uniformly random code bits for every operand and the accumulator.
    RawBits,
    /// Each operand drawn with probability 1/2 from the corner set (zeros, subnormals, Inf, NaN, extremes, one).
    OperandCorners,
    /// Operands whose low-path reduction is an exact tie or carries into the exponent.
    ReductionEdges,
    /// A full-path product that is an exact rounding tie (formats whose product is not exact).
    MulTie,
    /// `acc + s` exactly halfway between two binary32 values.
    AddTie,
    /// `acc = -s`: exact cancellation to +0.
    Cancellation,
    /// Exponents near the top or bottom of the range: overflow to Inf and FTZ of results.
    Extremes,
    /// Special accumulators: signed zeros, subnormal, Inf, NaN, largest finite.
    AccCorners,
}

/// One PE-level vector: accumulator in, operand codes, expected accumulator out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vector {
    /// Accumulator before the step (binary32 bits).
    pub acc: u32,
    /// `[a0, b0, a1, b1]` for dual-stream policies, `[a, b]` for `single`.
    pub ops: Vec<u32>,
    /// Accumulator after the step (binary32 bits).
    pub expected: u32,
}

/// The golden result of one vector's step.
pub fn expected(p: &PeParams, acc: u32, ops: &[u32]) -> u32 {
    let acc = f32::from_bits(acc);
    let out = if p.policy.is_dual() {
        step_dual(p, acc, ops[0], ops[1], ops[2], ops[3]).acc
    } else {
        step_single(p, acc, ops[0], ops[1])
    };
    out.to_bits()
}

/// Draws `count` vectors with a seeded generator: same seed, same vectors.
pub fn generate(cfg: &Config, count: usize, seed: u64) -> Vec<Vector> {
    let p = PeParams::from(cfg);
    let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(seed), f: cfg.format, lo_bits: cfg.lo_bits };
    let total: u32 = MIX.iter().map(|m| m.1).sum();
    (0..count)
        .map(|_| {
            let mut pick = g.rng.random_range(0..total);
            let class = MIX
                .iter()
                .find(|m| {
                    if pick < m.1 {
                        true
                    } else {
                        pick -= m.1;
                        false
                    }
                })
                .unwrap()
                .0;
            g.vector(&p, class)
        })
        .collect()
}

/// Formats one vector as its text line.
pub fn to_line(f: Format, v: &Vector) -> String {
    let w = f.hex_digits();
    let mut s = format!("{:08x}", v.acc);
    for op in &v.ops {
        s.push_str(&format!(" {op:0w$x}"));
    }
    s.push_str(&format!(" {:08x}", v.expected));
    s
}

/// Parses one vector line, checking field count and widths.
pub fn parse_line(f: Format, dual: bool, line: &str, lineno: usize) -> Result<Vector, InputError> {
    let fields: Vec<&str> = line.split(' ').collect();
    let want = if dual { 6 } else { 4 };
    let err = |m: String| InputError::msg(format!("vector line {lineno}: {m}: '{line}'"));
    if fields.len() != want {
        return Err(err(format!("expected {want} hex fields separated by single spaces, found {}", fields.len())));
    }
    let hex = |s: &str, digits: usize| -> Result<u32, InputError> {
        if s.len() != digits || !s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            return Err(err(format!("field '{s}' must be {digits} lowercase hex digits")));
        }
        u32::from_str_radix(s, 16).map_err(|e| err(e.to_string()))
    };
    let acc = hex(fields[0], 8)?;
    let ops = fields[1..want - 1]
        .iter()
        .map(|s| {
            let v = hex(s, f.hex_digits())?;
            if v & !f.code_mask() != 0 {
                return Err(err(format!("operand {s} does not fit a {}-bit code", f.width())));
            }
            Ok(v)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Vector { acc, ops, expected: hex(fields[want - 1], 8)? })
}

struct Gen {
    rng: ChaCha8Rng,
    f: Format,
    lo_bits: u32,
}

impl Gen {
    fn code(&self, sign: u32, exp: u32, frac: u32) -> u32 {
        (sign << (self.f.width() - 1)) | (exp << self.f.frac_bits()) | frac
    }
    fn sign(&mut self) -> u32 {
        self.rng.random_range(0..2)
    }
    fn frac(&mut self) -> u32 {
        self.rng.random_range(0..1u32 << self.f.frac_bits())
    }
    /// A normal code with exponent within +-spread of the bias (clamped to the normal range).
    fn moderate(&mut self, spread: i32) -> u32 {
        let bias = self.f.bias();
        let lo = (bias - spread).max(1);
        let hi = (bias + spread).min(self.f.exp_max() as i32 - 1);
        let e = self.rng.random_range(lo..=hi) as u32;
        let (s, fr) = (self.sign(), self.frac());
        self.code(s, e, fr)
    }
    fn corner(&mut self) -> u32 {
        let (s, fr) = (self.sign(), self.frac());
        let emax = self.f.exp_max();
        let full = (1u32 << self.f.frac_bits()) - 1;
        match self.rng.random_range(0..8) {
            0 => self.code(s, 0, 0),
            1 => self.code(s, 0, fr.max(1)),
            2 => self.code(s, emax, 0),
            3 => self.code(s, emax, fr.max(1)),
            4 => self.code(s, emax - 1, full),
            5 => self.code(s, 1, 0),
            6 => self.code(s, 1, fr),
            _ => self.code(s, self.f.bias() as u32, 0),
        }
    }
    /// An operand whose dropped fraction bits are exactly half (a tie) or whose kept bits are all ones (carry).
    fn reduction_edge(&mut self) -> u32 {
        let y = self.f.frac_bits();
        let drop = y - self.lo_bits;
        let kept = self.rng.random_range(0..1u32 << self.lo_bits.min(31));
        let frac = if self.rng.random_bool(0.5) {
            (kept << drop) | (1 << (drop - 1))
        } else {
            let all_kept = ((1u32 << self.lo_bits) - 1) << drop;
            all_kept | self.rng.random_range(1u32 << (drop - 1)..1u32 << drop)
        };
        let spread = self.spread();
        let e = self.f.exp_field(self.moderate(spread));
        let s = self.sign();
        self.code(s, e, frac)
    }
    fn spread(&self) -> i32 {
        // Keep random products well inside the range: a quarter of the exponent span.
        (self.f.bias() / 4).max(1)
    }
    fn acc_near(&mut self, s: f32) -> u32 {
        if self.rng.random_bool(0.3) || !s.is_finite() || s == 0.0 {
            return if self.rng.random_bool(0.5) { 0 } else { self.rng.random::<u32>() & 0xBFFF_FFFF };
        }
        let e = ((s.to_bits() >> 23) & 0xFF) as i32 + self.rng.random_range(-30..=30);
        let e = e.clamp(1, 254) as u32;
        (self.sign() << 31) | (e << 23) | self.rng.random_range(0..1 << 23)
    }
    fn ops(&mut self, p: &PeParams, mut each: impl FnMut(&mut Gen) -> u32) -> Vec<u32> {
        let n = if p.policy.is_dual() { 4 } else { 2 };
        (0..n).map(|_| each(self)).collect()
    }
    fn sum_of(&self, p: &PeParams, ops: &[u32]) -> f32 {
        f32::from_bits(expected(p, 0, ops))
    }

    fn vector(&mut self, p: &PeParams, class: Class) -> Vector {
        let spread = self.spread();
        let (acc, ops) = match class {
            Class::Random => {
                let ops = self.ops(p, |g| g.moderate(spread));
                let s = self.sum_of(p, &ops);
                (self.acc_near(s), ops)
            }
            Class::RawBits => {
                let mask = self.f.code_mask();
                let ops = self.ops(p, |g| g.rng.random::<u32>() & mask);
                (self.rng.random(), ops)
            }
            Class::OperandCorners => {
                let ops = self.ops(p, |g| if g.rng.random_bool(0.5) { g.corner() } else { g.moderate(spread) });
                let s = self.sum_of(p, &ops);
                (self.acc_near(s), ops)
            }
            Class::ReductionEdges => {
                let ops =
                    self.ops(p, |g| if g.rng.random_bool(0.75) { g.reduction_edge() } else { g.moderate(spread) });
                let s = self.sum_of(p, &ops);
                (self.acc_near(s), ops)
            }
            Class::MulTie => self.mul_tie(p),
            Class::AddTie => self.add_tie(p),
            Class::Cancellation => {
                let ops = self.ops(p, |g| g.moderate(spread));
                let s = self.sum_of(p, &ops);
                ((-s).to_bits(), ops)
            }
            Class::Extremes => {
                let top = self.rng.random_bool(0.5);
                let emax = self.f.exp_max() - 1;
                let ops = self.ops(p, |g| {
                    let e = if top {
                        g.rng.random_range(emax.saturating_sub(3).max(1)..=emax)
                    } else {
                        g.rng.random_range(1..=4.min(emax))
                    };
                    let (s, fr) = (g.sign(), g.frac());
                    g.code(s, e, fr)
                });
                let acc = if self.rng.random_bool(0.5) {
                    0
                } else {
                    (self.sign() << 31) | (if top { 0xFE } else { 1 } << 23) | self.rng.random_range(0..1 << 23)
                };
                (acc, ops)
            }
            Class::AccCorners => {
                let ops = self.ops(p, |g| g.moderate(spread));
                let corners = [
                    0,
                    0x8000_0000,
                    0x0000_0001,
                    0x807F_FFFF,
                    0x7F80_0000,
                    0xFF80_0000,
                    0x7FC0_0000,
                    0x7F7F_FFFF,
                    0xFF7F_FFFF,
                    0x0080_0000,
                ];
                (corners[self.rng.random_range(0..corners.len())], ops)
            }
        };
        Vector { expected: expected(p, acc, &ops), acc, ops }
    }

    /// Full-path product with exactly 25 significant bits, odd: RNE sees an exact tie.
    fn mul_tie(&mut self, p: &PeParams) -> (u32, Vec<u32>) {
        let y = self.f.frac_bits();
        if self.f.product_is_exact() {
            return self.add_tie(p);
        }
        // Split 25 product bits between the two significands (each at most Y+1 bits).
        let (m1, m2) = loop {
            let w1 = self.rng.random_range(25 - (y + 1).min(24)..=(y + 1).min(24));
            let m1 = self.rng.random_range(1u64 << (w1 - 1)..1u64 << w1) | 1;
            let w2 = 26 - w1;
            let m2 = self.rng.random_range(1u64 << (w2 - 1)..1u64 << w2) | 1;
            let prod = m1 * m2;
            if prod >> 24 == 1 && w1 <= y + 1 && w2 <= y + 1 {
                break (m1 as u32, m2 as u32);
            }
        };
        let bias = self.f.bias() as u32;
        let sig_code = |m: u32| {
            let w = 32 - m.leading_zeros();
            (m << (y + 1 - w)) & ((1 << y) - 1)
        };
        let (s1, s2) = (self.sign(), self.sign());
        let a = self.code(s1, bias, sig_code(m1));
        let b = self.code(s2, bias, sig_code(m2));
        let ops = if p.policy.is_dual() {
            // Stream 0 carries the tie and wins the controller (stream 1 is zero).
            vec![a, b, 0, 0]
        } else {
            vec![a, b]
        };
        let s = self.sum_of(p, &ops);
        (self.acc_near(s), ops)
    }

    /// Powers of two on stream 0, acc 24 binades above: `acc + s` is an exact tie.
    fn add_tie(&mut self, p: &PeParams) -> (u32, Vec<u32>) {
        let spread = self.spread();
        let a = self.moderate(spread) & !((1 << self.f.frac_bits()) - 1);
        let b = self.moderate(spread) & !((1 << self.f.frac_bits()) - 1);
        let ops = if p.policy.is_dual() { vec![a, b, 0, 0] } else { vec![a, b] };
        let s = self.sum_of(p, &ops);
        let e = ((s.to_bits() >> 23) & 0xFF) + 24;
        let acc = if s == 0.0 || !s.is_finite() || e >= 0xFF {
            0
        } else {
            (self.sign() << 31) | (e << 23) | self.rng.random_range(0..1 << 23)
        };
        (acc, ops)
    }
}

/// Corner operands of `f` as codes: both signs of zero, a subnormal, Inf, NaN, and normal
/// values with exponent fields at both ends of the range and around the bias, each with
/// the fraction 0, 1 ulp, half and all ones. Every pair of them is a unit-level vector
/// (products that overflow, flush, or round up to 2^-126 at the subnormal position).
pub fn operand_corners(f: Format) -> Vec<u32> {
    let emax = f.exp_max();
    let bias = f.bias() as u32;
    let full = (1u32 << f.frac_bits()) - 1;
    let mut exps = vec![1, 2, bias - 1, bias, bias + 1, emax - 2, emax - 1];
    if f.exp_bits() == 8 {
        // Exponent-field sums of 126..128 put a product at the edge of binary32's normal range.
        exps.extend([63, 64, 125, 126]);
    }
    exps.sort_unstable();
    exps.dedup();
    let mut codes = Vec::new();
    for sign in 0..2u32 {
        let code = |e: u32, fr: u32| (sign << (f.width() - 1)) | (e << f.frac_bits()) | fr;
        codes.extend([code(0, 0), code(0, 1), code(emax, 0), code(emax, 1)]);
        for &e in &exps {
            codes.extend([code(e, 0), code(e, 1), code(e, 1 << (f.frac_bits() - 1)), code(e, full)]);
        }
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Corner pairs for the binary32 adder: every pair of special values (zeros, subnormals,
/// smallest normals, one, all-ones significands, largest finite, Inf, NaN) and, for
/// every exponent gap 0..=30, sums and differences that cancel, carry, or tie.
pub fn adder_corners() -> Vec<(u32, u32)> {
    let singles: Vec<u32> = [
        0x0000_0000u32,
        0x0000_0001,
        0x007F_FFFF,
        0x0080_0000,
        0x0080_0001,
        0x00FF_FFFF,
        0x3F80_0000,
        0x3F80_0001,
        0x3FFF_FFFF,
        0x3FC0_0000,
        0x7F7F_FFFF,
        0x7F00_0000,
        0x7F80_0000,
        0x7FC0_0000,
        0x7F80_0001,
    ]
    .iter()
    .flat_map(|&x| [x, x | 0x8000_0000])
    .collect();
    let mut pairs: Vec<(u32, u32)> = singles.iter().flat_map(|&a| singles.iter().map(move |&b| (a, b))).collect();
    let sigs = [0u32, 1, 0x40_0000, 0x7F_FFFF, 0x55_5555];
    for gap in 0..=30u32 {
        for &fa in &sigs {
            for &fb in &sigs {
                for e in [0x01u32, 0x20, 0x7F, 0xFE] {
                    if e < gap + 1 && e != 0xFE {
                        continue;
                    }
                    let eb = e.saturating_sub(gap).max(1);
                    let a = (e << 23) | fa;
                    let b = (eb << 23) | fb;
                    pairs.extend([(a, b), (a, b | 0x8000_0000), (b | 0x8000_0000, a)]);
                }
            }
        }
    }
    pairs
}
