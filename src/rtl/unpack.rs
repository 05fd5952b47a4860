//! `unpack`: an F_in code widened to binary32, with DAZ and the canonical NaN.
//!
//! Golden counterpart: [`crate::format::Format::decode_bits`] and
//! [`crate::golden::softfloat::unpack`]. The code port is 32 bits wide for every format
//! (the PE wrapper ties the unused bits to 0); the format's field positions are
//! `localparam`s, so synthesis trims the logic to the format.

use super::{c, UnitParams};
use rust_hdl::prelude::*;

/// F_in code -> binary32 encoding.
#[derive(LogicBlock)]
pub struct Unpack {
    /// The F_in code, right-aligned; bits above the format's width must be 0.
    pub code: Signal<In, Bits<32>>,
    /// The exactly widened binary32 value (DAZ: subnormals -> signed zero; NaN -> 0x7FC00000).
    pub bits: Signal<Out, Bits<32>>,
    efield: Signal<Local, Bits<32>>,
    frac: Signal<Local, Bits<32>>,
    sign: Signal<Local, Bit>,
    word: Signal<Local, Bits<32>>,
    frac_bits: Constant<Bits<5>>,
    sign_pos: Constant<Bits<5>>,
    widen: Constant<Bits<5>>,
    exp_max: Constant<Bits<32>>,
    frac_mask: Constant<Bits<32>>,
    rebias: Constant<Bits<32>>,
    inf_bits: Constant<Bits<31>>,
    nan_bits: Constant<Bits<32>>,
}

impl Unpack {
    /// An unpacker for the configuration's input format.
    pub fn new(p: &UnitParams) -> Self {
        let (x, y) = (p.format.exp_bits() as u64, p.format.frac_bits() as u64);
        Unpack {
            code: Default::default(),
            bits: Default::default(),
            efield: Default::default(),
            frac: Default::default(),
            sign: Default::default(),
            word: Default::default(),
            frac_bits: c(y),
            sign_pos: c(x + y),
            widen: c(23 - y),
            exp_max: c((1 << x) - 1),
            frac_mask: c((1 << y) - 1),
            rebias: c((127 - p.format.bias()) as u64),
            inf_bits: c(0x7F80_0000),
            nan_bits: c(0x7FC0_0000),
        }
    }
}

impl Logic for Unpack {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("Fields of the code, on all 32 bits (synthesis keeps the format's own).");
        self.efield.next = (self.code.val() >> self.frac_bits.val()) & self.exp_max.val();
        self.frac.next = self.code.val() & self.frac_mask.val();
        self.sign.next = self.code.val().get_bit(self.sign_pos.val().index());
        comment!("Widen exactly: rebias the exponent, left-align the fraction.");
        self.word.next = (bit_cast::<32, 1>(self.sign.val().into()) << 31)
            | ((self.efield.val() + self.rebias.val()) << 23)
            | (self.frac.val() << self.widen.val());
        if !self.efield.val().any() {
            self.word.next = bit_cast::<32, 1>(self.sign.val().into()) << 31;
        }
        if self.efield.val() == self.exp_max.val() {
            self.word.next =
                (bit_cast::<32, 1>(self.sign.val().into()) << 31) | bit_cast::<32, 31>(self.inf_bits.val());
            if self.frac.val().any() {
                self.word.next = self.nan_bits.val();
            }
        }
        self.bits.next = self.word.val();
    }
}
