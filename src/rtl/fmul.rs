//! `fmul`: binary32 product with RNE, overflow to Inf, FTZ after rounding, canonical NaN.
//!
//! Golden counterpart: [`crate::golden::arith::mul`] (algorithm: [`crate::golden::softfloat::mul`]).
//! The significand multiplier is an unrolled shift-and-add array over `sig_bits` of each
//! operand: `sig_mask` keeps the top `sig_bits` of the 24-bit significand (Y+1 for the
//! full path, L+1 for the low path), so constant propagation leaves exactly a
//! (Y+1) x (Y+1) or (L+1) x (L+1) array. Operands must carry no significand bits below
//! that width (they are widened F_in values or outputs of `reduce`).
//!
//! Subnormal results: rounded at the subnormal position, then flushed. Only a product
//! whose normalised exponent is one below the normal range and whose top 24 significand
//! bits are all ones rounds up to 2^-126 (the tie goes to the even 2^-126 too); every
//! other subnormal product becomes a signed zero.

use super::c;
use rust_hdl::prelude::*;

/// binary32 x binary32 -> binary32.
#[derive(LogicBlock)]
pub struct Fmul {
    /// Multiplicand (binary32).
    pub a: Signal<In, Bits<32>>,
    /// Multiplier (binary32).
    pub b: Signal<In, Bits<32>>,
    /// `mul(a, b)`.
    pub p: Signal<Out, Bits<32>>,
    ea: Signal<Local, Bits<32>>,
    eb: Signal<Local, Bits<32>>,
    sa: Signal<Local, Bits<24>>,
    sb: Signal<Local, Bits<24>>,
    saw: Signal<Local, Bits<48>>,
    prod: Signal<Local, Bits<48>>,
    top: Signal<Local, Bit>,
    sig: Signal<Local, Bits<24>>,
    guard: Signal<Local, Bit>,
    sticky: Signal<Local, Bit>,
    t: Signal<Local, Bits<32>>,
    e: Signal<Local, Bits<32>>,
    sigr: Signal<Local, Bits<24>>,
    fw: Signal<Local, Bits<32>>,
    sign: Signal<Local, Bits<32>>,
    nan: Signal<Local, Bit>,
    inf: Signal<Local, Bit>,
    zero: Signal<Local, Bit>,
    res: Signal<Local, Bits<32>>,
    sig_mask: Constant<Bits<24>>,
    hidden24: Constant<Bits<24>>,
    one24: Constant<Bits<24>>,
    zero48: Constant<Bits<48>>,
    one48: Constant<Bits<48>>,
    sticky_hi: Constant<Bits<48>>,
    sticky_lo: Constant<Bits<48>>,
    exp8: Constant<Bits<32>>,
    frac23: Constant<Bits<32>>,
    sign_bit: Constant<Bits<32>>,
    zero32: Constant<Bits<32>>,
    one32: Constant<Bits<32>>,
    bias: Constant<Bits<32>>,
    min_normal_t: Constant<Bits<32>>,
    exp_inf: Constant<Bits<32>>,
    inf_bits: Constant<Bits<32>>,
    nan_bits: Constant<Bits<32>>,
    hidden32: Constant<Bits<32>>,
}

impl Fmul {
    /// A multiplier whose operands carry `sig_bits` significant bits (1..=24).
    pub fn new(sig_bits: u32) -> Self {
        let sig_mask = ((1u64 << sig_bits) - 1) << (24 - sig_bits);
        Fmul {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            ea: Default::default(),
            eb: Default::default(),
            sa: Default::default(),
            sb: Default::default(),
            saw: Default::default(),
            prod: Default::default(),
            top: Default::default(),
            sig: Default::default(),
            guard: Default::default(),
            sticky: Default::default(),
            t: Default::default(),
            e: Default::default(),
            sigr: Default::default(),
            fw: Default::default(),
            sign: Default::default(),
            nan: Default::default(),
            inf: Default::default(),
            zero: Default::default(),
            res: Default::default(),
            sig_mask: c(sig_mask),
            hidden24: c(1 << 23),
            one24: c(1),
            zero48: c(0),
            one48: c(1),
            sticky_hi: c((1 << 23) - 1),
            sticky_lo: c((1 << 22) - 1),
            exp8: c(0xFF),
            frac23: c(0x7F_FFFF),
            sign_bit: c(0x8000_0000),
            zero32: c(0),
            one32: c(1),
            bias: c(127),
            min_normal_t: c(128),
            exp_inf: c(255),
            inf_bits: c(0x7F80_0000),
            nan_bits: c(0x7FC0_0000),
            hidden32: c(0x80_0000),
        }
    }
}

impl Logic for Fmul {
    #[hdl_gen]
    fn update(&mut self) {
        self.ea.next = (self.a.val() >> 23) & self.exp8.val();
        self.eb.next = (self.b.val() >> 23) & self.exp8.val();
        self.zero.next = !self.ea.val().any() | !self.eb.val().any();
        self.inf.next = (self.ea.val() == self.exp8.val()) | (self.eb.val() == self.exp8.val());
        self.nan.next = ((self.ea.val() == self.exp8.val()) & (self.a.val() & self.frac23.val()).any())
            | ((self.eb.val() == self.exp8.val()) & (self.b.val() & self.frac23.val()).any())
            | (self.inf.val() & self.zero.val());
        self.sign.next = (self.a.val() ^ self.b.val()) & self.sign_bit.val();
        self.sa.next = (self.a.val().get_bits::<24>(0) | self.hidden24.val()) & self.sig_mask.val();
        self.sb.next = (self.b.val().get_bits::<24>(0) | self.hidden24.val()) & self.sig_mask.val();
        // Zero-extend sa to 48 bits one bit at a time: rust-hdl's casts emit width-mismatched Verilog.
        self.saw.next = self.zero48.val();
        for i in 0..24 {
            self.saw.next = self.saw.val() << 1;
            if self.sa.val().get_bit(23 - i) {
                self.saw.next = self.saw.val() | self.one48.val();
            }
        }
        self.prod.next = self.zero48.val();
        for i in 0..24 {
            if self.sb.val().get_bit(i) {
                self.prod.next = self.prod.val() + self.saw.val();
            }
            self.saw.next = self.saw.val() << 1;
        }
        self.top.next = self.prod.val().get_bit(47);
        self.t.next = self.ea.val() + self.eb.val();
        if self.top.val() {
            self.sig.next = self.prod.val().get_bits::<24>(24);
            self.guard.next = self.prod.val().get_bit(23);
            self.sticky.next = (self.prod.val() & self.sticky_hi.val()).any();
            self.t.next = self.t.val() + self.one32.val();
        } else {
            self.sig.next = self.prod.val().get_bits::<24>(23);
            self.guard.next = self.prod.val().get_bit(22);
            self.sticky.next = (self.prod.val() & self.sticky_lo.val()).any();
        }
        self.sigr.next = self.sig.val();
        self.e.next = self.t.val() - self.bias.val();
        if self.guard.val() & (self.sticky.val() | self.sig.val().get_bit(0)) {
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
        self.res.next = self.sign.val();
        if self.t.val() >= self.min_normal_t.val() {
            self.res.next = self.sign.val() | (self.e.val() << 23) | (self.fw.val() & self.frac23.val());
            if self.e.val() >= self.exp_inf.val() {
                self.res.next = self.sign.val() | self.inf_bits.val();
            }
        }
        if (self.t.val() == self.bias.val()) & self.sig.val().all() {
            self.res.next = self.sign.val() | self.hidden32.val();
        }
        if self.zero.val() {
            self.res.next = self.sign.val();
        }
        if self.inf.val() {
            self.res.next = self.sign.val() | self.inf_bits.val();
        }
        if self.nan.val() {
            self.res.next = self.nan_bits.val();
        }
        self.p.next = self.res.val();
    }
}
