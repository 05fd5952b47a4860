//! `controller`: the two keys, the comparison and the stream swap of docs/arithmetic.md section 3.
//!
//! Golden counterpart: [`crate::golden::pe::key`] and [`crate::golden::pe::high_stream`].
//! A key is the sum of the raw exponent fields, 0 when either field is 0; the stream
//! with the larger key goes to the full multiplier, a tie to stream 0. With
//! `dynamic = 0` (policies `static` and `full`) there is no comparator at all.

use super::{c, UnitParams};
use rust_hdl::prelude::*;

/// Steers the two operand pairs to the high and low multipliers.
#[derive(LogicBlock)]
pub struct Controller {
    /// Stream 0, A operand (F_in code).
    pub a0: Signal<In, Bits<32>>,
    /// Stream 0, B operand.
    pub b0: Signal<In, Bits<32>>,
    /// Stream 1, A operand.
    pub a1: Signal<In, Bits<32>>,
    /// Stream 1, B operand.
    pub b1: Signal<In, Bits<32>>,
    /// A operand for the full multiplier.
    pub ah: Signal<Out, Bits<32>>,
    /// B operand for the full multiplier.
    pub bh: Signal<Out, Bits<32>>,
    /// A operand for the low multiplier.
    pub al: Signal<Out, Bits<32>>,
    /// B operand for the low multiplier.
    pub bl: Signal<Out, Bits<32>>,
    /// 1 when stream 1 has the full multiplier.
    pub high: Signal<Out, Bit>,
    ea0: Signal<Local, Bits<8>>,
    eb0: Signal<Local, Bits<8>>,
    ea1: Signal<Local, Bits<8>>,
    eb1: Signal<Local, Bits<8>>,
    k0: Signal<Local, Bits<9>>,
    k1: Signal<Local, Bits<9>>,
    swap: Signal<Local, Bit>,
    frac_bits: Constant<Bits<5>>,
    exp_mask: Constant<Bits<8>>,
    dynamic: Constant<Bit>,
}

impl Controller {
    /// A controller for the configuration; `dynamic` is false for `static` and `full`.
    pub fn new(p: &UnitParams, dynamic: bool) -> Self {
        Controller {
            a0: Default::default(),
            b0: Default::default(),
            a1: Default::default(),
            b1: Default::default(),
            ah: Default::default(),
            bh: Default::default(),
            al: Default::default(),
            bl: Default::default(),
            high: Default::default(),
            ea0: Default::default(),
            eb0: Default::default(),
            ea1: Default::default(),
            eb1: Default::default(),
            k0: Default::default(),
            k1: Default::default(),
            swap: Default::default(),
            frac_bits: c(p.format.frac_bits() as u64),
            exp_mask: c((1 << p.format.exp_bits()) - 1),
            dynamic: Constant::new(dynamic),
        }
    }
}

impl Logic for Controller {
    #[hdl_gen]
    fn update(&mut self) {
        if self.dynamic.val() {
            comment!("Keys: the sum of the raw exponent fields, 0 when either is 0 (a zero operand).");
            self.ea0.next = self.a0.val().get_bits::<8>(self.frac_bits.val().index()) & self.exp_mask.val();
            self.eb0.next = self.b0.val().get_bits::<8>(self.frac_bits.val().index()) & self.exp_mask.val();
            self.ea1.next = self.a1.val().get_bits::<8>(self.frac_bits.val().index()) & self.exp_mask.val();
            self.eb1.next = self.b1.val().get_bits::<8>(self.frac_bits.val().index()) & self.exp_mask.val();
            self.k0.next = bit_cast::<9, 8>(self.ea0.val()) + bit_cast::<9, 8>(self.eb0.val());
            if !self.ea0.val().any() | !self.eb0.val().any() {
                self.k0.next = 0.into();
            }
            self.k1.next = bit_cast::<9, 8>(self.ea1.val()) + bit_cast::<9, 8>(self.eb1.val());
            if !self.ea1.val().any() | !self.eb1.val().any() {
                self.k1.next = 0.into();
            }
            comment!("The larger key gets the full multiplier; a tie goes to stream 0.");
            self.swap.next = self.k1.val() > self.k0.val();
            self.high.next = self.swap.val();
            self.ah.next = self.a0.val();
            self.bh.next = self.b0.val();
            self.al.next = self.a1.val();
            self.bl.next = self.b1.val();
            if self.swap.val() {
                self.ah.next = self.a1.val();
                self.bh.next = self.b1.val();
                self.al.next = self.a0.val();
                self.bl.next = self.b0.val();
            }
        } else {
            comment!("Static assignment: stream 0 always has the full multiplier.");
            self.high.next = false;
            self.ah.next = self.a0.val();
            self.bh.next = self.b0.val();
            self.al.next = self.a1.val();
            self.bl.next = self.b1.val();
        }
    }
}
