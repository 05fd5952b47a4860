//! `reduce`: the low path's `q`, a binary32 significand rounded to L fraction bits.
//!
//! Golden counterpart: [`crate::golden::arith::q`]. Works on the binary32 encoding, so
//! a rounding carry runs into the exponent field (and from the largest exponent to Inf)
//! without extra logic; zeros, Inf and NaN pass unchanged.

use super::{c, UnitParams};
use crate::config::Rounding;
use rust_hdl::prelude::*;

/// binary32 -> binary32 with L fraction bits (nearest-even or toward zero).
#[derive(LogicBlock)]
pub struct Reduce {
    /// A binary32 operand (DAZ already applied by `unpack`).
    pub x: Signal<In, Bits<32>>,
    /// `q(x)`.
    pub y: Signal<Out, Bits<32>>,
    kept: Signal<Local, Bits<32>>,
    rem: Signal<Local, Bits<32>>,
    exp: Signal<Local, Bits<32>>,
    up: Signal<Local, Bit>,
    drop_mask: Constant<Bits<32>>,
    keep_mask: Constant<Bits<32>>,
    half: Constant<Bits<32>>,
    unit: Constant<Bits<32>>,
    exp_field: Constant<Bits<32>>,
    nearest: Constant<Bit>,
    bypass: Constant<Bit>,
}

impl Reduce {
    /// A reducer to `lo_bits` fraction bits; `bypass` makes it a wire (policy `full`).
    pub fn new(p: &UnitParams, bypass: bool) -> Self {
        let drop = 23 - p.lo_bits.min(22) as u64;
        let mask = (1u64 << drop) - 1;
        Reduce {
            x: Default::default(),
            y: Default::default(),
            kept: Default::default(),
            rem: Default::default(),
            exp: Default::default(),
            up: Default::default(),
            drop_mask: c(mask),
            keep_mask: c(0xFFFF_FFFF & !mask),
            half: c(1 << (drop - 1)),
            unit: c(1 << drop),
            exp_field: c(0x7F80_0000),
            nearest: Constant::new(p.lo_rounding == Rounding::NearestEven),
            bypass: Constant::new(bypass),
        }
    }
}

impl Logic for Reduce {
    #[hdl_gen]
    fn update(&mut self) {
        self.kept.next = self.x.val() & self.keep_mask.val();
        self.rem.next = self.x.val() & self.drop_mask.val();
        self.exp.next = self.x.val() & self.exp_field.val();
        self.up.next = self.nearest.val()
            & ((self.rem.val() > self.half.val())
                | ((self.rem.val() == self.half.val()) & (self.x.val() & self.unit.val()).any()));
        self.y.next = self.kept.val();
        if self.up.val() {
            self.y.next = self.kept.val() + self.unit.val();
        }
        if !self.exp.val().any() | (self.exp.val() == self.exp_field.val()) | self.bypass.val() {
            self.y.next = self.x.val();
        }
    }
}
