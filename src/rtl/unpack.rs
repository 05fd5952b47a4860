//! `unpack`: an F_in code widened to binary32 fields, with DAZ and the canonical NaN.
//!
//! Golden counterpart: [`crate::format::Format::decode_bits`] and
//! [`crate::golden::softfloat::unpack`]. The input port is 32 bits wide for every
//! format; the format's field positions are `localparam`s, so Yosys trims the
//! unused bits away.

use super::{c, UnitParams};
use rust_hdl::prelude::*;

/// F_in code -> binary32 encoding (sign, exponent and significand fields; the hidden bit is implied).
#[derive(LogicBlock)]
pub struct Unpack {
    /// The F_in code, right-aligned; bits above the format's width must be 0.
    pub code: Signal<In, Bits<32>>,
    /// The exactly widened binary32 encoding (DAZ: subnormals -> signed zero; NaN -> 0x7FC00000).
    pub bits: Signal<Out, Bits<32>>,
    efield: Signal<Local, Bits<32>>,
    frac: Signal<Local, Bits<32>>,
    sgn: Signal<Local, Bits<32>>,
    special: Signal<Local, Bit>,
    zero: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    word: Signal<Local, Bits<32>>,
    frac_shift: Constant<Bits<5>>,
    sign_shift: Constant<Bits<5>>,
    widen_shift: Constant<Bits<5>>,
    exp_mask: Constant<Bits<32>>,
    frac_mask: Constant<Bits<32>>,
    rebias: Constant<Bits<32>>,
    one: Constant<Bits<32>>,
    inf_bits: Constant<Bits<32>>,
    nan_bits: Constant<Bits<32>>,
}

impl Unpack {
    /// An unpacker for the configuration's input format.
    pub fn new(p: &UnitParams) -> Self {
        let (x, y) = (p.format.exp_bits() as u64, p.format.frac_bits() as u64);
        Unpack {
            code: Default::default(),
            bits: Default::default(),
            zero: Default::default(),
            nan: Default::default(),
            efield: Default::default(),
            frac: Default::default(),
            sgn: Default::default(),
            special: Default::default(),
            word: Default::default(),
            frac_shift: c(y),
            sign_shift: c(x + y),
            widen_shift: c(23 - y),
            exp_mask: c((1 << x) - 1),
            frac_mask: c((1 << y) - 1),
            rebias: c((127 - p.format.bias()) as u64),
            one: c(1),
            inf_bits: c(0x7F80_0000),
            nan_bits: c(0x7FC0_0000),
        }
    }
}

impl Logic for Unpack {
    #[hdl_gen]
    fn update(&mut self) {
        self.efield.next = (self.code.val() >> self.frac_shift.val()) & self.exp_mask.val();
        self.frac.next = self.code.val() & self.frac_mask.val();
        self.sgn.next = (self.code.val() >> self.sign_shift.val()) & self.one.val();
        self.special.next = self.efield.val() == self.exp_mask.val();
        self.zero.next = !self.efield.val().any();
        self.nan.next = self.special.val() & self.frac.val().any();
        self.word.next = (self.sgn.val() << 31)
            | ((self.efield.val() + self.rebias.val()) << 23)
            | (self.frac.val() << self.widen_shift.val());
        if self.zero.val() {
            self.word.next = self.sgn.val() << 31;
        }
        if self.special.val() {
            self.word.next = (self.sgn.val() << 31) | self.inf_bits.val();
        }
        if self.nan.val() {
            self.word.next = self.nan_bits.val();
        }
        self.bits.next = self.word.val();
    }
}
