//! The PE step and the controller of contract section 4, on F_in codes.

use super::arith::{add, mul, q};
use crate::config::{Config, Policy, Rounding};
use crate::format::Format;

/// Everything the PE's arithmetic depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeParams {
    /// Input format.
    pub format: Format,
    /// Controller policy.
    pub policy: Policy,
    /// Fraction bits of the low path.
    pub lo_bits: u32,
    /// Rounding of the low path.
    pub lo_rounding: Rounding,
}

impl From<&Config> for PeParams {
    fn from(c: &Config) -> Self {
        PeParams { format: c.format, policy: c.policy, lo_bits: c.lo_bits, lo_rounding: c.lo_rounding }
    }
}

/// Controller key: sum of the raw exponent fields, 0 when either field is 0.
pub fn key(format: Format, a: u32, b: u32) -> u32 {
    let (ea, eb) = (format.exp_field(a), format.exp_field(b));
    if ea == 0 || eb == 0 {
        0
    } else {
        ea + eb
    }
}

/// Which stream gets the full multiplier under `policy` (0 or 1); `full` reports 0.
pub fn high_stream(p: &PeParams, a0: u32, b0: u32, a1: u32, b1: u32) -> usize {
    match p.policy {
        Policy::Daa if key(p.format, a1, b1) > key(p.format, a0, b0) => 1,
        _ => 0,
    }
}

/// Everything one dual-stream step computed, for tests and vector files.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepTrace {
    /// Stream that used the full multiplier.
    pub high: usize,
    /// Full-path product.
    pub p_high: f32,
    /// Low-path product.
    pub p_low: f32,
    /// `add(p_high, p_low)`.
    pub sum: f32,
    /// New accumulator.
    pub acc: f32,
}

/// One dual-stream step: `acc + (mul(a_h, b_h) + mul(q(a_l), q(b_l)))`.
pub fn step_dual(p: &PeParams, acc: f32, a0: u32, b0: u32, a1: u32, b1: u32) -> StepTrace {
    let f = p.format;
    let ops = [(f.decode(a0), f.decode(b0)), (f.decode(a1), f.decode(b1))];
    let high = high_stream(p, a0, b0, a1, b1);
    let (ah, bh) = ops[high];
    let (al, bl) = ops[1 - high];
    let p_high = mul(ah, bh);
    let p_low = if p.policy.reduces() {
        mul(q(al, p.lo_bits, p.lo_rounding), q(bl, p.lo_bits, p.lo_rounding))
    } else {
        mul(al, bl)
    };
    let sum = add(p_high, p_low);
    StepTrace { high, p_high, p_low, sum, acc: add(acc, sum) }
}

/// One single-stream step: `acc + mul(a, b)`.
pub fn step_single(p: &PeParams, acc: f32, a: u32, b: u32) -> f32 {
    add(acc, mul(p.format.decode(a), p.format.decode(b)))
}

/// One clock cycle's inputs to the PE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Beat {
    /// Synchronous reset.
    pub rst: bool,
    /// A valid beat.
    pub en: bool,
    /// Starts a new accumulation from +0.
    pub first: bool,
    /// `[a0, b0, a1, b1]` (F_in codes); `single` uses the first two.
    pub ops: [u32; 4],
}

/// The RTL PE's registers, clock by clock: the cycle-accurate golden model of `rtl::pe`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    v1: bool,
    f1: bool,
    p_hi: u32,
    p_lo: u32,
    v2: bool,
    f2: bool,
    s: u32,
    acc: u32,
}

impl Pipeline {
    /// The accumulator register.
    pub fn acc(&self) -> u32 {
        self.acc
    }

    /// Applies one rising clock edge with `b` at the inputs; returns the new accumulator.
    pub fn clock(&mut self, p: &PeParams, b: &Beat) -> u32 {
        let f = p.format;
        let [a0, b0, a1, b1] = b.ops;
        let mut next = *self;
        next.v1 = b.en;
        if p.policy.is_dual() {
            if b.en {
                // The step's two products; its additions happen in the next two stages.
                let t = step_dual(p, 0.0, a0, b0, a1, b1);
                next.p_hi = t.p_high.to_bits();
                next.p_lo = t.p_low.to_bits();
                next.f1 = b.first;
            }
            next.v2 = self.v1;
            if self.v1 {
                next.s = add(f32::from_bits(self.p_hi), f32::from_bits(self.p_lo)).to_bits();
                next.f2 = self.f1;
            }
            if self.v2 {
                let base = if self.f2 { 0.0 } else { f32::from_bits(self.acc) };
                next.acc = add(base, f32::from_bits(self.s)).to_bits();
            }
        } else {
            if b.en {
                next.p_hi = mul(f.decode(a0), f.decode(b0)).to_bits();
                next.f1 = b.first;
            }
            if self.v1 {
                let base = if self.f1 { 0.0 } else { f32::from_bits(self.acc) };
                next.acc = add(base, f32::from_bits(self.p_hi)).to_bits();
            }
        }
        if b.rst {
            next = Pipeline::default();
        }
        *self = next;
        self.acc
    }
}
