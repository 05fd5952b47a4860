//! `round`: the one round-and-pack unit of the multipliers and the adder (HardFloat's
//! split: each operator produces an unrounded *raw* result, one rounder finishes it).
//!
//! Golden counterpart: `round_pack` in [`crate::golden::softfloat`]. A raw result is a
//! 40-bit bus (`RAW_BITS`), most significant field first:
//!
//! | bits    | field | meaning |
//! |---------|-------|---------|
//! | 39      | nan   | the result is NaN (canonical `0x7FC00000`) |
//! | 38      | inf   | the result is infinite |
//! | 37      | sign  | sign of the result (of the zero, for a zero) |
//! | 36:27   | exp   | biased exponent, 10-bit two's complement, of `m[24]` |
//! | 26:1    | m     | significand: leading one at bit 25 (then the exponent is `exp + 1`) or bit 24; 0 for a zero |
//! | 0       | sticky| some nonzero bit lies below `m[0]` |
//!
//! The multiplier delivers a product whose leading one is at either position; the adder
//! always delivers bit 24 (bit 25 is a constant 0 there, and the normalising mux folds
//! away). Rounding is to nearest even at the normal position; results below the normal
//! range are flushed to a signed zero, except that a value of exponent 0 whose 24
//! significant bits are all ones rounds (at the subnormal position, as IEEE does) up to
//! 2^-126 whatever the bits below (docs/arithmetic.md section 2, FTZ after rounding).

use super::c;
use rust_hdl::prelude::*;

/// Width of a raw result.
pub const RAW_BITS: usize = 40;

/// Raw result -> binary32.
#[derive(LogicBlock)]
pub struct Round {
    /// Unrounded result (layout in the module docs).
    pub raw: Signal<In, Bits<40>>,
    /// binary32 result.
    pub y: Signal<Out, Bits<32>>,
    m: Signal<Local, Bits<26>>,
    top: Signal<Local, Bit>,
    sig: Signal<Local, Bits<24>>,
    rnd: Signal<Local, Bit>,
    sticky: Signal<Local, Bit>,
    exp: Signal<Local, Bits<10>>,
    up: Signal<Local, Bit>,
    inc: Signal<Local, Bits<24>>,
    e: Signal<Local, Bits<8>>,
    res: Signal<Local, Bits<32>>,
    emax: Constant<Bits<10>>,
    inf_bits: Constant<Bits<31>>,
    nan_bits: Constant<Bits<32>>,
    min_normal: Constant<Bits<31>>,
}

impl Default for Round {
    fn default() -> Self {
        Round {
            raw: Default::default(),
            y: Default::default(),
            m: Default::default(),
            top: Default::default(),
            sig: Default::default(),
            rnd: Default::default(),
            sticky: Default::default(),
            exp: Default::default(),
            up: Default::default(),
            inc: Default::default(),
            e: Default::default(),
            res: Default::default(),
            emax: c(254),
            inf_bits: c(0x7F80_0000),
            nan_bits: c(0x7FC0_0000),
            min_normal: c(0x0080_0000),
        }
    }
}

impl Logic for Round {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("Normalise by one bit: the leading one goes to sig[23].");
        self.m.next = self.raw.val().get_bits::<26>(1);
        self.top.next = self.m.val().get_bit(25);
        self.exp.next = self.raw.val().get_bits::<10>(27);
        self.sig.next = self.m.val().get_bits::<24>(1);
        self.rnd.next = self.m.val().get_bit(0);
        self.sticky.next = self.raw.val().get_bit(0);
        if self.top.val() {
            self.sig.next = self.m.val().get_bits::<24>(2);
            self.rnd.next = self.m.val().get_bit(1);
            self.sticky.next = self.m.val().get_bit(0) | self.raw.val().get_bit(0);
            self.exp.next = self.raw.val().get_bits::<10>(27) + 1;
        }
        comment!("Round to nearest even; a carry out of the significand bumps the exponent.");
        self.up.next = self.rnd.val() & (self.sticky.val() | self.sig.val().get_bit(0));
        comment!("The fraction (hidden bit aside) plus the rounding bit; inc[23] is the carry out.");
        self.inc.next = bit_cast::<24, 23>(self.sig.val().get_bits::<23>(0)) + bit_cast::<24, 1>(self.up.val().into());
        self.e.next = self.exp.val().get_bits::<8>(0) + bit_cast::<8, 1>(self.inc.val().get_bit(23).into());
        comment!("Range, decided on exp before rounding (a carry only moves 254 to 255): exp is two's");
        comment!("complement, so bit 9 is its sign. Below the normal range only 2^-126 survives the flush.");
        self.res.next = (bit_cast::<32, 1>(self.raw.val().get_bit(37).into()) << 31)
            | (bit_cast::<32, 8>(self.e.val()) << 23)
            | bit_cast::<32, 23>(self.inc.val().get_bits::<23>(0));
        if !self.exp.val().get_bit(9)
            & ((self.exp.val() > self.emax.val()) | ((self.exp.val() == self.emax.val()) & self.inc.val().get_bit(23)))
        {
            self.res.next =
                (bit_cast::<32, 1>(self.raw.val().get_bit(37).into()) << 31) | bit_cast::<32, 31>(self.inf_bits.val());
        }
        if self.exp.val().get_bit(9) | !self.exp.val().any() | !self.sig.val().get_bit(23) {
            self.res.next = bit_cast::<32, 1>(self.raw.val().get_bit(37).into()) << 31;
            if !self.exp.val().any() & self.sig.val().all() {
                self.res.next = (bit_cast::<32, 1>(self.raw.val().get_bit(37).into()) << 31)
                    | bit_cast::<32, 31>(self.min_normal.val());
            }
        }
        if self.raw.val().get_bit(38) {
            self.res.next =
                (bit_cast::<32, 1>(self.raw.val().get_bit(37).into()) << 31) | bit_cast::<32, 31>(self.inf_bits.val());
        }
        if self.raw.val().get_bit(39) {
            self.res.next = self.nan_bits.val();
        }
        self.y.next = self.res.val();
    }
}
