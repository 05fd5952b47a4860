//! `fadd`: binary32 sum with RNE, DAZ/FTZ, canonical NaN and IEEE signed zeros.
//!
//! Golden counterpart: [`crate::golden::arith::add`] (algorithm: [`crate::golden::softfloat::add`]).
//! Four pieces, so that the PE can put pipeline registers between them:
//!
//! 1. [`AddOrder`]: special operands, order the operands by magnitude, the alignment
//!    shift from the exponent difference;
//! 2. [`AddShift`]: align the smaller one with a log-depth shifter, three guard bits and
//!    the shifted-out bits jammed into the last one, which makes the final nearest-even
//!    rounding exact;
//! 3. [`AddNorm`]: add or subtract (never negative), count the leading zeros with a tree
//!    and normalise with a log-depth shifter;
//! 4. the shared [`Round`].
//!
//! Ordering and shifting are two pieces because together they were the longest stage of
//! the pipelined accumulation loop on ECP5 (`docs/fpga.md`).
//!
//! A subnormal sum of two normal numbers is always exact, so FTZ needs no rounding.
//! [`Fadd`] is the four combined: the accumulation adder, and the unit the checks see.

use super::c;
use super::leaf::Lzc;
use super::round::Round;
use rust_hdl::prelude::*;

/// Width of an ordered pair (`AddOrder` -> `AddShift`).
pub const ORDERED_BITS: usize = 69;

/// The ordered pair, most significant field first: `nan` (68), `inf` (67), `sub` (66),
/// `sign` of the larger operand (65), `zsign` = sign of an exactly zero sum (64), `exp` of
/// the larger operand (63:56), its significand with hidden bit (55:32), the smaller one's
/// significand with hidden bit and three zero guard bits (31:5), the alignment shift (4:0).
#[derive(LogicBlock)]
pub struct AddOrder {
    /// First addend (binary32).
    pub a: Signal<In, Bits<32>>,
    /// Second addend (binary32).
    pub b: Signal<In, Bits<32>>,
    /// The ordered pair.
    pub ordered: Signal<Out, Bits<69>>,
    ea: Signal<Local, Bits<8>>,
    eb: Signal<Local, Bits<8>>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    swap: Signal<Local, Bit>,
    op_big: Signal<Local, Bits<32>>,
    op_small: Signal<Local, Bits<31>>,
    e_big: Signal<Local, Bits<8>>,
    e_small: Signal<Local, Bits<8>>,
    diff_ab: Signal<Local, Bits<8>>,
    diff_ba: Signal<Local, Bits<8>>,
    diff: Signal<Local, Bits<8>>,
    shift: Signal<Local, Bits<5>>,
    sig_big: Signal<Local, Bits<24>>,
    sig_small: Signal<Local, Bits<27>>,
    exp_max: Constant<Bits<8>>,
    shift_sat: Constant<Bits<5>>,
}

impl Default for AddOrder {
    fn default() -> Self {
        AddOrder {
            a: Default::default(),
            b: Default::default(),
            ordered: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            swap: Default::default(),
            op_big: Default::default(),
            op_small: Default::default(),
            e_big: Default::default(),
            e_small: Default::default(),
            diff_ab: Default::default(),
            diff_ba: Default::default(),
            diff: Default::default(),
            shift: Default::default(),
            sig_big: Default::default(),
            sig_small: Default::default(),
            exp_max: c(0xFF),
            shift_sat: c(31),
        }
    }
}

impl Logic for AddOrder {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("Special operands: NaN in, or Inf - Inf, is NaN; otherwise an Inf wins.");
        self.ea.next = self.a.val().get_bits::<8>(23);
        self.eb.next = self.b.val().get_bits::<8>(23);
        self.inf_a.next = (self.ea.val() == self.exp_max.val()) & !self.a.val().get_bits::<23>(0).any();
        self.inf_b.next = (self.eb.val() == self.exp_max.val()) & !self.b.val().get_bits::<23>(0).any();
        self.nan.next = ((self.ea.val() == self.exp_max.val()) & self.a.val().get_bits::<23>(0).any())
            | ((self.eb.val() == self.exp_max.val()) & self.b.val().get_bits::<23>(0).any())
            | (self.inf_a.val() & self.inf_b.val() & (self.a.val().get_bit(31) ^ self.b.val().get_bit(31)));
        comment!("Order by magnitude, so that the difference of significands is never negative.");
        self.swap.next = self.b.val().get_bits::<31>(0) > self.a.val().get_bits::<31>(0);
        self.op_big.next = self.a.val();
        self.op_small.next = self.b.val().get_bits::<31>(0);
        if self.swap.val() {
            self.op_big.next = self.b.val();
            self.op_small.next = self.a.val().get_bits::<31>(0);
        }
        self.e_big.next = self.op_big.val().get_bits::<8>(23);
        self.e_small.next = self.op_small.val().get_bits::<8>(23);
        comment!("Significands with hidden bits; a zero exponent field is a zero (DAZ).");
        self.sig_big.next = (bit_cast::<24, 1>(self.e_big.val().any().into()) << 23)
            | bit_cast::<24, 23>(self.op_big.val().get_bits::<23>(0));
        if !self.e_big.val().any() {
            self.sig_big.next = 0.into();
        }
        self.sig_small.next =
            (bit_cast::<27, 1>(true.into()) << 26) | (bit_cast::<27, 23>(self.op_small.val().get_bits::<23>(0)) << 3);
        if !self.e_small.val().any() {
            self.sig_small.next = 0.into();
        }
        comment!("The alignment shift: the exponent difference; from 32 on, everything is sticky.");
        comment!("Both differences are formed while the magnitudes are compared.");
        self.diff_ab.next = self.ea.val() - self.eb.val();
        self.diff_ba.next = self.eb.val() - self.ea.val();
        self.diff.next = self.diff_ab.val();
        if self.swap.val() {
            self.diff.next = self.diff_ba.val();
        }
        self.shift.next = self.diff.val().get_bits::<5>(0);
        if self.diff.val().get_bits::<3>(5).any() {
            self.shift.next = self.shift_sat.val();
        }
        self.ordered.next = (bit_cast::<69, 1>(self.nan.val().into()) << 68)
            | (bit_cast::<69, 1>((self.inf_a.val() | self.inf_b.val()).into()) << 67)
            | (bit_cast::<69, 1>((self.a.val().get_bit(31) ^ self.b.val().get_bit(31)).into()) << 66)
            | (bit_cast::<69, 1>(self.op_big.val().get_bit(31).into()) << 65)
            | (bit_cast::<69, 1>((self.a.val().get_bit(31) & self.b.val().get_bit(31)).into()) << 64)
            | (bit_cast::<69, 8>(self.e_big.val()) << 56)
            | (bit_cast::<69, 24>(self.sig_big.val()) << 32)
            | (bit_cast::<69, 27>(self.sig_small.val()) << 5)
            | bit_cast::<69, 5>(self.shift.val());
    }
}

/// Width of an aligned operand pair (`AddShift` -> `AddNorm`).
pub const ALIGNED_BITS: usize = 64;

/// Ordered pair -> aligned pair: the smaller significand shifted right by a log-depth
/// shifter, three guard bits and the shifted-out bits jammed into the last one, which
/// makes the final nearest-even rounding exact.
///
/// The aligned pair, most significant field first: `nan` (63), `inf` (62), `sub` (61),
/// `sign` (60), `zsign` (59), `exp` (58:51), the larger significand (50:27), the smaller
/// one's aligned 27-bit significand with guard, round and sticky bits (26:0).
#[derive(LogicBlock, Default)]
pub struct AddShift {
    /// The ordered pair from [`AddOrder`].
    pub ordered: Signal<In, Bits<69>>,
    /// The aligned pair.
    pub aligned: Signal<Out, Bits<64>>,
    shift: Signal<Local, Bits<5>>,
    v16: Signal<Local, Bits<27>>,
    v8: Signal<Local, Bits<27>>,
    v4: Signal<Local, Bits<27>>,
    v2: Signal<Local, Bits<27>>,
    v1: Signal<Local, Bits<27>>,
    t16: Signal<Local, Bit>,
    t8: Signal<Local, Bit>,
    t4: Signal<Local, Bit>,
    t2: Signal<Local, Bit>,
    t1: Signal<Local, Bit>,
    aligned_small: Signal<Local, Bits<27>>,
}

impl Logic for AddShift {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("A log-depth shifter, 16, 8, 4, 2, 1; each stage ORs the bits it drops into a sticky bit.");
        self.shift.next = self.ordered.val().get_bits::<5>(0);
        self.v16.next = self.ordered.val().get_bits::<27>(5);
        self.t16.next = false;
        if self.shift.val().get_bit(4) {
            self.v16.next = self.ordered.val().get_bits::<27>(5) >> 16;
            self.t16.next = self.ordered.val().get_bits::<16>(5).any();
        }
        self.v8.next = self.v16.val();
        self.t8.next = false;
        if self.shift.val().get_bit(3) {
            self.v8.next = self.v16.val() >> 8;
            self.t8.next = self.v16.val().get_bits::<8>(0).any();
        }
        self.v4.next = self.v8.val();
        self.t4.next = false;
        if self.shift.val().get_bit(2) {
            self.v4.next = self.v8.val() >> 4;
            self.t4.next = self.v8.val().get_bits::<4>(0).any();
        }
        self.v2.next = self.v4.val();
        self.t2.next = false;
        if self.shift.val().get_bit(1) {
            self.v2.next = self.v4.val() >> 2;
            self.t2.next = self.v4.val().get_bits::<2>(0).any();
        }
        self.v1.next = self.v2.val();
        self.t1.next = false;
        if self.shift.val().get_bit(0) {
            self.v1.next = self.v2.val() >> 1;
            self.t1.next = self.v2.val().get_bit(0);
        }
        self.aligned_small.next = self.v1.val()
            | bit_cast::<27, 1>(
                (self.t16.val() | self.t8.val() | self.t4.val() | self.t2.val() | self.t1.val()).into(),
            );
        comment!("Flags, exponent and the larger significand pass through.");
        self.aligned.next = (bit_cast::<64, 37>(self.ordered.val().get_bits::<37>(32)) << 27)
            | bit_cast::<64, 27>(self.aligned_small.val());
    }
}

/// Aligned pair -> raw sum (layout in [`super::round`]).
#[derive(LogicBlock, Default)]
pub struct AddNorm {
    /// The aligned pair from [`AddShift`].
    pub aligned: Signal<In, Bits<64>>,
    /// The unrounded, normalised sum.
    pub raw: Signal<Out, Bits<40>>,
    lzc: Lzc,
    x: Signal<Local, Bits<28>>,
    y: Signal<Local, Bits<28>>,
    y_neg: Signal<Local, Bits<28>>,
    sum: Signal<Local, Bits<28>>,
    norm: Signal<Local, Bits<28>>,
    exp: Signal<Local, Bits<10>>,
    sign: Signal<Local, Bit>,
}

impl Logic for AddNorm {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("Add or subtract: 28 bits hold the carry out of two 27-bit significands.");
        self.x.next = bit_cast::<28, 24>(self.aligned.val().get_bits::<24>(27)) << 3;
        self.y.next = bit_cast::<28, 27>(self.aligned.val().get_bits::<27>(0));
        comment!("One adder: x - y is x + ~y + 1 (the difference is never negative).");
        self.y_neg.next = self.y.val();
        if self.aligned.val().get_bit(61) {
            self.y_neg.next = !self.y.val();
        }
        self.sum.next = self.x.val() + self.y_neg.val() + bit_cast::<28, 1>(self.aligned.val().get_bit(61).into());
        comment!("Normalise: the leading one to bit 27, by the leading-zero count.");
        self.lzc.x.next = bit_cast::<32, 28>(self.sum.val()) << 4;
        self.norm.next = self.sum.val() << self.lzc.count.val();
        comment!("Exponent of norm[27] (round's m[24]); an exactly zero sum keeps zsign.");
        self.exp.next =
            bit_cast::<10, 8>(self.aligned.val().get_bits::<8>(51)) + 1 - bit_cast::<10, 5>(self.lzc.count.val());
        self.sign.next = self.aligned.val().get_bit(60);
        if self.lzc.zero.val() {
            self.sign.next = self.aligned.val().get_bit(59);
        }
        self.raw.next = (bit_cast::<40, 2>(self.aligned.val().get_bits::<2>(62)) << 38)
            | (bit_cast::<40, 1>(self.sign.val().into()) << 37)
            | (bit_cast::<40, 10>(self.exp.val()) << 27)
            | (bit_cast::<40, 25>(self.norm.val().get_bits::<25>(3)) << 1)
            | bit_cast::<40, 1>(self.norm.val().get_bits::<3>(0).any().into());
    }
}

/// binary32 + binary32 -> binary32: [`AddOrder`], [`AddShift`], [`AddNorm`], [`Round`].
#[derive(LogicBlock, Default)]
pub struct Fadd {
    /// First addend (binary32).
    pub a: Signal<In, Bits<32>>,
    /// Second addend (binary32).
    pub b: Signal<In, Bits<32>>,
    /// `add(a, b)`.
    pub s: Signal<Out, Bits<32>>,
    order: AddOrder,
    shifter: AddShift,
    norm: AddNorm,
    round: Round,
}

impl Logic for Fadd {
    #[hdl_gen]
    fn update(&mut self) {
        self.order.a.next = self.a.val();
        self.order.b.next = self.b.val();
        self.shifter.ordered.next = self.order.ordered.val();
        self.norm.aligned.next = self.shifter.aligned.val();
        self.round.raw.next = self.norm.raw.val();
        self.s.next = self.round.y.val();
    }
}
