//! `fmul`: binary32 product with RNE, overflow to Inf, FTZ after rounding, canonical NaN.
//!
//! Golden counterpart: [`crate::golden::arith::mul`] (algorithm: [`crate::golden::softfloat::mul`]).
//! Two pieces, so that the PE can put a pipeline register between them: [`MulRaw`]
//! (special cases, exponent sum, the significand product as a multiplication of its
//! real width) and the shared [`Round`]. [`Fmul`] is the two combined, as the unit
//! checks and the area table see it.

use super::c;
use super::leaf::SigMul;
use super::round::Round;
use rust_hdl::prelude::*;

/// binary32 x binary32 -> raw product (layout in [`super::round`]).
#[derive(LogicBlock)]
pub struct MulRaw {
    /// Multiplicand (binary32, DAZ applied: subnormals are zeros).
    pub a: Signal<In, Bits<32>>,
    /// Multiplier (binary32).
    pub b: Signal<In, Bits<32>>,
    /// The unrounded product.
    pub raw: Signal<Out, Bits<40>>,
    sigmul: SigMul,
    ea: Signal<Local, Bits<8>>,
    eb: Signal<Local, Bits<8>>,
    zero: Signal<Local, Bit>,
    inf: Signal<Local, Bit>,
    nan: Signal<Local, Bit>,
    exp: Signal<Local, Bits<10>>,
    m: Signal<Local, Bits<26>>,
    exp_max: Constant<Bits<8>>,
    bias: Constant<Bits<10>>,
}

impl MulRaw {
    /// The front end of a multiplier whose operands carry `sig_bits` significant bits (1..=24).
    pub fn new(sig_bits: u32) -> Self {
        MulRaw {
            a: Default::default(),
            b: Default::default(),
            raw: Default::default(),
            sigmul: SigMul::new(sig_bits),
            ea: Default::default(),
            eb: Default::default(),
            zero: Default::default(),
            inf: Default::default(),
            nan: Default::default(),
            exp: Default::default(),
            m: Default::default(),
            exp_max: c(0xFF),
            bias: c(127),
        }
    }
}

impl Logic for MulRaw {
    #[hdl_gen]
    fn update(&mut self) {
        comment!("Special operands: zeros (DAZ already applied), Inf, NaN; Inf x 0 is NaN.");
        self.ea.next = self.a.val().get_bits::<8>(23);
        self.eb.next = self.b.val().get_bits::<8>(23);
        self.zero.next = !self.ea.val().any() | !self.eb.val().any();
        self.inf.next = (self.ea.val() == self.exp_max.val()) | (self.eb.val() == self.exp_max.val());
        self.nan.next = ((self.ea.val() == self.exp_max.val()) & self.a.val().get_bits::<23>(0).any())
            | ((self.eb.val() == self.exp_max.val()) & self.b.val().get_bits::<23>(0).any())
            | (self.inf.val() & self.zero.val());
        comment!("Significands with their hidden bits, multiplied.");
        self.sigmul.a.next =
            (bit_cast::<24, 1>(true.into()) << 23) | bit_cast::<24, 23>(self.a.val().get_bits::<23>(0));
        self.sigmul.b.next =
            (bit_cast::<24, 1>(true.into()) << 23) | bit_cast::<24, 23>(self.b.val().get_bits::<23>(0));
        comment!("The product's exponent for a leading one at bit 46; round moves it for bit 47.");
        self.exp.next = bit_cast::<10, 8>(self.ea.val()) + bit_cast::<10, 8>(self.eb.val()) - self.bias.val();
        self.m.next = self.sigmul.p.val().get_bits::<26>(22);
        if self.zero.val() {
            self.m.next = 0.into();
        }
        self.raw.next = (bit_cast::<40, 1>(self.nan.val().into()) << 39)
            | (bit_cast::<40, 1>(self.inf.val().into()) << 38)
            | (bit_cast::<40, 1>((self.a.val().get_bit(31) ^ self.b.val().get_bit(31)).into()) << 37)
            | (bit_cast::<40, 10>(self.exp.val()) << 27)
            | (bit_cast::<40, 26>(self.m.val()) << 1)
            | bit_cast::<40, 1>((self.sigmul.p.val().get_bits::<22>(0).any() | self.sigmul.lost.val()).into());
    }
}

/// binary32 x binary32 -> binary32: [`MulRaw`] then [`Round`].
#[derive(LogicBlock)]
pub struct Fmul {
    /// Multiplicand (binary32).
    pub a: Signal<In, Bits<32>>,
    /// Multiplier (binary32).
    pub b: Signal<In, Bits<32>>,
    /// `mul(a, b)`.
    pub p: Signal<Out, Bits<32>>,
    mul: MulRaw,
    round: Round,
}

impl Fmul {
    /// A multiplier whose operands carry `sig_bits` significant bits (1..=24).
    pub fn new(sig_bits: u32) -> Self {
        Fmul {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            mul: MulRaw::new(sig_bits),
            round: Round::default(),
        }
    }
}

impl Logic for Fmul {
    #[hdl_gen]
    fn update(&mut self) {
        self.mul.a.next = self.a.val();
        self.mul.b.next = self.b.val();
        self.round.raw.next = self.mul.raw.val();
        self.p.next = self.round.y.val();
    }
}
