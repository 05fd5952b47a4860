//! `fadd`: binary32 sum with RNE, DAZ/FTZ, canonical NaN and IEEE signed zeros.
//!
//! Golden counterpart: [`crate::golden::arith::add`] (algorithm: [`crate::golden::softfloat::add`]).
//! The smaller operand is aligned with three extra bits and its shifted-out bits jammed
//! into the last one (round to odd), which makes the final nearest-even rounding exact.
//! A subnormal sum of two normal numbers is always exact, so FTZ needs no rounding.

use super::c;
use rust_hdl::prelude::*;

/// binary32 + binary32 -> binary32.
#[derive(LogicBlock)]
pub struct Fadd {
    /// First addend (binary32).
    pub a: Signal<In, Bits<32>>,
    /// Second addend (binary32).
    pub b: Signal<In, Bits<32>>,
    /// `add(a, b)`.
    pub s: Signal<Out, Bits<32>>,
    ea: Signal<Local, Bits<32>>,
    eb: Signal<Local, Bits<32>>,
    za: Signal<Local, Bit>,
    zb: Signal<Local, Bit>,
    inf_a: Signal<Local, Bit>,
    inf_b: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    sub: Signal<Local, Bit>,
    op_big: Signal<Local, Bits<32>>,
    op_small: Signal<Local, Bits<32>>,
    e_big: Signal<Local, Bits<32>>,
    d: Signal<Local, Bits<32>>,
    x: Signal<Local, Bits<32>>,
    y: Signal<Local, Bits<32>>,
    ys: Signal<Local, Bits<32>>,
    sum: Signal<Local, Bits<32>>,
    w: Signal<Local, Bits<32>>,
    n: Signal<Local, Bits<32>>,
    e: Signal<Local, Bits<32>>,
    sig: Signal<Local, Bits<24>>,
    sigr: Signal<Local, Bits<24>>,
    fw: Signal<Local, Bits<32>>,
    sign: Signal<Local, Bits<32>>,
    res: Signal<Local, Bits<32>>,
    exp8: Constant<Bits<32>>,
    frac23: Constant<Bits<32>>,
    abs_mask: Constant<Bits<32>>,
    sign_bit: Constant<Bits<32>>,
    hidden32: Constant<Bits<32>>,
    low7: Constant<Bits<32>>,
    zero32: Constant<Bits<32>>,
    all_ones: Constant<Bits<32>>,
    one32: Constant<Bits<32>>,
    two32: Constant<Bits<32>>,
    four32: Constant<Bits<32>>,
    eight32: Constant<Bits<32>>,
    sixteen32: Constant<Bits<32>>,
    exp_inf: Constant<Bits<32>>,
    inf_bits: Constant<Bits<32>>,
    nan_bits: Constant<Bits<32>>,
    one24: Constant<Bits<24>>,
}

impl Default for Fadd {
    fn default() -> Self {
        Fadd {
            a: Default::default(),
            b: Default::default(),
            s: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            za: Default::default(),
            zb: Default::default(),
            inf_a: Default::default(),
            inf_b: Default::default(),
            nan: Default::default(),
            sub: Default::default(),
            op_big: Default::default(),
            op_small: Default::default(),
            e_big: Default::default(),
            d: Default::default(),
            x: Default::default(),
            y: Default::default(),
            ys: Default::default(),
            sum: Default::default(),
            w: Default::default(),
            n: Default::default(),
            e: Default::default(),
            sig: Default::default(),
            sigr: Default::default(),
            fw: Default::default(),
            sign: Default::default(),
            res: Default::default(),
            exp8: c(0xFF),
            frac23: c(0x7F_FFFF),
            abs_mask: c(0x7FFF_FFFF),
            sign_bit: c(0x8000_0000),
            hidden32: c(0x80_0000),
            low7: c(0x7F),
            zero32: c(0),
            all_ones: c(0xFFFF_FFFF),
            one32: c(1),
            two32: c(2),
            four32: c(4),
            eight32: c(8),
            sixteen32: c(16),
            exp_inf: c(255),
            inf_bits: c(0x7F80_0000),
            nan_bits: c(0x7FC0_0000),
            one24: c(1),
        }
    }
}

impl Logic for Fadd {
    #[hdl_gen]
    fn update(&mut self) {
        self.ea.next = (self.a.val() >> 23) & self.exp8.val();
        self.eb.next = (self.b.val() >> 23) & self.exp8.val();
        self.za.next = !self.ea.val().any();
        self.zb.next = !self.eb.val().any();
        self.inf_a.next = (self.ea.val() == self.exp8.val()) & !(self.a.val() & self.frac23.val()).any();
        self.inf_b.next = (self.eb.val() == self.exp8.val()) & !(self.b.val() & self.frac23.val()).any();
        self.sub.next = self.a.val().get_bit(31) ^ self.b.val().get_bit(31);
        self.nan.next = ((self.ea.val() == self.exp8.val()) & (self.a.val() & self.frac23.val()).any())
            | ((self.eb.val() == self.exp8.val()) & (self.b.val() & self.frac23.val()).any())
            | (self.inf_a.val() & self.inf_b.val() & self.sub.val());
        // Order by magnitude: the difference of significands is then never negative.
        self.op_big.next = self.a.val();
        self.op_small.next = self.b.val();
        if (self.b.val() & self.abs_mask.val()) > (self.a.val() & self.abs_mask.val()) {
            self.op_big.next = self.b.val();
            self.op_small.next = self.a.val();
        }
        self.sign.next = self.op_big.val() & self.sign_bit.val();
        self.e_big.next = (self.op_big.val() >> 23) & self.exp8.val();
        self.d.next = self.e_big.val() - ((self.op_small.val() >> 23) & self.exp8.val());
        self.x.next = ((self.op_big.val() & self.frac23.val()) | self.hidden32.val()) << 3;
        self.y.next = ((self.op_small.val() & self.frac23.val()) | self.hidden32.val()) << 3;
        self.ys.next = self.y.val() >> self.d.val();
        // Sticky: any of the d bits shifted out (a mask from a constant costs less than shifting back).
        if (self.y.val() & !(self.all_ones.val() << self.d.val())).any() {
            self.ys.next = self.ys.val() | self.one32.val();
        }
        self.sum.next = self.x.val() + self.ys.val();
        if self.sub.val() {
            self.sum.next = self.x.val() - self.ys.val();
        }
        // Normalise: leading one of the (at most 28-bit) sum to bit 31, counting the shift
        // (each step sets its own bit of n, so OR is the sum).
        self.w.next = self.sum.val() << 4;
        self.n.next = self.zero32.val();
        if !self.w.val().get_bits::<16>(16).any() {
            self.w.next = self.w.val() << 16;
            self.n.next = self.n.val() | self.sixteen32.val();
        }
        if !self.w.val().get_bits::<8>(24).any() {
            self.w.next = self.w.val() << 8;
            self.n.next = self.n.val() | self.eight32.val();
        }
        if !self.w.val().get_bits::<4>(28).any() {
            self.w.next = self.w.val() << 4;
            self.n.next = self.n.val() | self.four32.val();
        }
        if !self.w.val().get_bits::<2>(30).any() {
            self.w.next = self.w.val() << 2;
            self.n.next = self.n.val() | self.two32.val();
        }
        if !self.w.val().get_bit(31) {
            self.w.next = self.w.val() << 1;
            self.n.next = self.n.val() | self.one32.val();
        }
        self.e.next = self.e_big.val() + self.one32.val() - self.n.val();
        self.sig.next = self.w.val().get_bits::<24>(8);
        self.sigr.next = self.sig.val();
        if self.w.val().get_bit(7) & ((self.w.val() & self.low7.val()).any() | self.sig.val().get_bit(0)) {
            self.sigr.next = self.sig.val() + self.one24.val();
            if self.sig.val().all() {
                self.e.next = self.e.val() + self.one32.val();
            }
        }
        self.fw.next = self.zero32.val();
        for i in 0..24 {
            self.fw.next = self.fw.val() << 1;
            if self.sigr.val().get_bit(23 - i) {
                self.fw.next = self.fw.val() | self.one32.val();
            }
        }
        self.res.next = self.sign.val() | (self.e.val() << 23) | (self.fw.val() & self.frac23.val());
        if self.e.val() >= self.exp_inf.val() {
            self.res.next = self.sign.val() | self.inf_bits.val();
        }
        // FTZ: a biased exponent below 1 (n >= e_big + 1) is a subnormal or zero sum.
        if self.n.val() > self.e_big.val() {
            self.res.next = self.sign.val();
        }
        if !self.sum.val().any() {
            self.res.next = self.zero32.val();
        }
        if self.za.val() {
            self.res.next = self.b.val();
        }
        if self.zb.val() {
            self.res.next = self.a.val();
        }
        if self.za.val() & self.zb.val() {
            self.res.next = self.a.val() & self.b.val() & self.sign_bit.val();
        }
        if self.inf_a.val() {
            self.res.next = (self.a.val() & self.sign_bit.val()) | self.inf_bits.val();
        }
        if self.inf_b.val() & !self.inf_a.val() {
            self.res.next = (self.b.val() & self.sign_bit.val()) | self.inf_bits.val();
        }
        if self.nan.val() {
            self.res.next = self.nan_bits.val();
        }
        self.s.next = self.res.val();
    }
}
