//! The PE step and the controller of docs/arithmetic.md section 3, on F_in codes.

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
    /// Extra PE pipeline registers (timing only: results do not depend on it).
    pub pipeline: u32,
    /// Accumulators of the PE, filled round-robin (timing and element order only).
    pub interleave: u32,
}

impl From<&Config> for PeParams {
    fn from(c: &Config) -> Self {
        PeParams {
            format: c.format,
            policy: c.policy,
            lo_bits: c.lo_bits,
            lo_rounding: c.lo_rounding,
            pipeline: c.pipeline,
            interleave: c.interleave,
        }
    }
}

impl PeParams {
    /// PE latency in cycles ([`crate::config::pe_latency`]).
    pub fn latency(&self) -> u32 {
        crate::config::pe_latency(self.policy, self.pipeline, self.interleave)
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

/// Deepest front end of any configuration: the registers before the accumulation adder
/// (`pe_latency` with `MAX_PIPELINE`, minus the adder's stages).
const MAX_FRONT: usize = 2 + crate::config::MAX_PIPELINE as usize;
/// Most registers in the accumulation loop.
const MAX_LOOP: usize = crate::config::MAX_INTERLEAVE as usize;

/// A step in flight: valid, first, and what it adds to the accumulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Slot {
    valid: bool,
    first: bool,
    addend: u32,
}

/// `-0`: adding it changes no value the accumulator can hold (its values are never
/// subnormal and its NaN is canonical), which is what an idle slot of the loop adds.
const NEG_ZERO: u32 = 0x8000_0000;

/// The RTL PE clock by clock: the cycle-accurate golden model of `rtl::pe`.
///
/// A beat's products and their sum (`add(p_h, p_l)`, or the product for `single`) travel
/// through the front-end registers, as in the RTL, whatever the stages in between compute.
/// The accumulation is a ring of `interleave` registers that turns every cycle: the
/// adder's stages (`acc_stages`), the accumulator, and plain delay registers. In every
/// cycle the adder adds the value leaving the ring (or +0 on a `first` beat) and the
/// beat's sum (or -0 without a beat), so an element met at the adder in cycle t meets it
/// again in cycle t + interleave. A reset clears every valid bit and the ring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    front: [Slot; MAX_FRONT],
    /// The loop, newest first: `ring[0]` is what the adder produced on the last edge; the
    /// accumulator register is `ring[stages - 1]`; `live` is false for values a reset
    /// emptied (the RTL's accumulator then loads +0).
    ring: [(bool, u32); MAX_LOOP],
}

impl Pipeline {
    /// The accumulator register (the PE's `acc` output) after the last edge.
    pub fn acc(&self, p: &PeParams) -> u32 {
        self.ring[crate::config::acc_stages(p.interleave) as usize - 1].1
    }

    /// Applies one rising clock edge with `b` at the inputs; returns the new accumulator.
    pub fn clock(&mut self, p: &PeParams, b: &Beat) -> u32 {
        let stages = crate::config::acc_stages(p.interleave) as usize;
        let ring_len = p.interleave as usize;
        let depth = p.latency() as usize - stages;
        let [a0, b0, a1, b1] = b.ops;
        let at_adder = self.front[depth - 1];
        let base = if at_adder.valid && at_adder.first { 0 } else { self.ring[ring_len - 1].1 };
        let term = if at_adder.valid { at_adder.addend } else { NEG_ZERO };
        let sum = add(f32::from_bits(base), f32::from_bits(term)).to_bits();
        self.ring.copy_within(0..ring_len - 1, 1);
        self.ring[0] = (true, sum);
        if !self.ring[stages - 1].0 {
            self.ring[stages - 1] = (true, 0);
        }
        self.front.copy_within(0..depth - 1, 1);
        let addend = if !b.en {
            0
        } else if p.policy.is_dual() {
            step_dual(p, 0.0, a0, b0, a1, b1).sum.to_bits()
        } else {
            mul(p.format.decode(a0), p.format.decode(b0)).to_bits()
        };
        self.front[0] = Slot { valid: b.en, first: b.first, addend };
        if b.rst {
            self.front = Default::default();
            for (k, r) in self.ring.iter_mut().enumerate() {
                // The adder's stage registers lose their values; from the accumulator on, +0.
                *r = (k + 1 >= stages, 0);
            }
        }
        self.acc(p)
    }
}
