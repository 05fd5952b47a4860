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
    rest: Signal<Local, Bits<32>>,
    up: Signal<Local, Bit>,
    drop_mask: Constant<Bits<32>>,
    half: Constant<Bits<32>>,
    unit: Constant<Bits<32>>,
    exp_max: Constant<Bits<8>>,
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
            rest: Default::default(),
            up: Default::default(),
            drop_mask: c(mask),
            half: c(1 << (drop - 1)),
            unit: c(1 << drop),
            exp_max: c(0xFF),
            nearest: Constant::new(p.lo_rounding == Rounding::NearestEven),
            bypass: Constant::new(bypass),
        }
    }
}

impl Logic for Reduce {
    #[hdl_gen]
    fn update(&mut self) {
        if self.bypass.val() {
            self.y.next = self.x.val();
        } else {
            comment!("Keep the top L fraction bits; UNIT is the weight of the last one kept.");
            self.kept.next = self.x.val() & !self.drop_mask.val();
            self.rest.next = self.x.val() & self.drop_mask.val();
            self.up.next = false;
            if self.nearest.val() {
                self.up.next = (self.rest.val() > self.half.val())
                    | ((self.rest.val() == self.half.val()) & (self.x.val() & self.unit.val()).any());
            }
            self.y.next = self.kept.val();
            if self.up.val() {
                self.y.next = self.kept.val() + self.unit.val();
            }
            comment!("Zeros, Inf and NaN pass unchanged.");
            if !self.x.val().get_bits::<8>(23).any() | (self.x.val().get_bits::<8>(23) == self.exp_max.val()) {
                self.y.next = self.x.val();
            }
        }
    }
}
