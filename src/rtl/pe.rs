//! `pe`: the processing element of contract section 4, for every policy.
//!
//! Golden counterpart: [`crate::golden::pe::step_dual`] and [`crate::golden::pe::step_single`].
//!
//! Dual-stream pipeline (latency 3): cycle 0 controller, unpack, reduce and both
//! multipliers, registered; cycle 1 `s = add(p_h, p_l)`, registered; cycle 2
//! `acc = add(first ? +0 : acc, s)`. The accumulation loop holds only that last adder.
//! Single-stream (latency 2): cycle 0 unpack and multiplier, registered; cycle 1 the
//! accumulation. `en` marks a valid beat; `first` starts a new accumulation from +0;
//! `rst` (synchronous) clears the valid pipeline and the accumulator.

use super::{c, Controller, Fadd, Fmul, Reduce, UnitParams, Unpack};
use crate::config::Policy;
use rust_hdl::prelude::*;

/// Cycles from a beat at the inputs to its effect on `acc`.
pub fn latency(policy: Policy) -> u32 {
    if policy.is_dual() {
        3
    } else {
        2
    }
}

/// Dual-stream PE (`daa`, `static`, `full`).
#[derive(LogicBlock)]
pub struct PeDual {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// A valid beat is at the inputs.
    pub en: Signal<In, Bit>,
    /// This beat starts a new accumulation.
    pub first: Signal<In, Bit>,
    /// Stream 0, A operand (F_in code).
    pub a0: Signal<In, Bits<32>>,
    /// Stream 0, B operand.
    pub b0: Signal<In, Bits<32>>,
    /// Stream 1, A operand.
    pub a1: Signal<In, Bits<32>>,
    /// Stream 1, B operand.
    pub b1: Signal<In, Bits<32>>,
    /// Accumulator (binary32).
    pub acc: Signal<Out, Bits<32>>,
    /// 1 when the controller gives stream 1 the full multiplier this cycle.
    pub high: Signal<Out, Bit>,
    ctrl: Controller,
    unpack_ah: Unpack,
    unpack_bh: Unpack,
    unpack_al: Unpack,
    unpack_bl: Unpack,
    reduce_a: Reduce,
    reduce_b: Reduce,
    fmul_hi: Fmul,
    fmul_lo: Fmul,
    fadd_s: Fadd,
    fadd_acc: Fadd,
    p_hi: DFF<Bits<32>>,
    p_lo: DFF<Bits<32>>,
    v1: DFF<Bit>,
    f1: DFF<Bit>,
    s_reg: DFF<Bits<32>>,
    v2: DFF<Bit>,
    f2: DFF<Bit>,
    acc_reg: DFF<Bits<32>>,
    zero32: Constant<Bits<32>>,
}

impl PeDual {
    /// The PE for a dual-stream configuration.
    pub fn new(p: &UnitParams) -> Self {
        let y = p.format.frac_bits();
        let reduces = p.policy.reduces();
        let lo_sig = if reduces { p.lo_bits + 1 } else { y + 1 };
        PeDual {
            clock: Default::default(),
            rst: Default::default(),
            en: Default::default(),
            first: Default::default(),
            a0: Default::default(),
            b0: Default::default(),
            a1: Default::default(),
            b1: Default::default(),
            acc: Default::default(),
            high: Default::default(),
            ctrl: Controller::new(p, p.policy == Policy::Daa),
            unpack_ah: Unpack::new(p),
            unpack_bh: Unpack::new(p),
            unpack_al: Unpack::new(p),
            unpack_bl: Unpack::new(p),
            reduce_a: Reduce::new(p, !reduces),
            reduce_b: Reduce::new(p, !reduces),
            fmul_hi: Fmul::new(y + 1),
            fmul_lo: Fmul::new(lo_sig),
            fadd_s: Fadd::default(),
            fadd_acc: Fadd::default(),
            p_hi: Default::default(),
            p_lo: Default::default(),
            v1: Default::default(),
            f1: Default::default(),
            s_reg: Default::default(),
            v2: Default::default(),
            f2: Default::default(),
            acc_reg: Default::default(),
            zero32: c(0),
        }
    }
}

impl Logic for PeDual {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, p_hi, p_lo, v1, f1, s_reg, v2, f2, acc_reg);
        self.ctrl.a0.next = self.a0.val();
        self.ctrl.b0.next = self.b0.val();
        self.ctrl.a1.next = self.a1.val();
        self.ctrl.b1.next = self.b1.val();
        self.high.next = self.ctrl.high.val();
        self.unpack_ah.code.next = self.ctrl.ah.val();
        self.unpack_bh.code.next = self.ctrl.bh.val();
        self.unpack_al.code.next = self.ctrl.al.val();
        self.unpack_bl.code.next = self.ctrl.bl.val();
        self.reduce_a.x.next = self.unpack_al.bits.val();
        self.reduce_b.x.next = self.unpack_bl.bits.val();
        self.fmul_hi.a.next = self.unpack_ah.bits.val();
        self.fmul_hi.b.next = self.unpack_bh.bits.val();
        self.fmul_lo.a.next = self.reduce_a.y.val();
        self.fmul_lo.b.next = self.reduce_b.y.val();
        // Stage 1: products.
        self.v1.d.next = self.en.val();
        if self.en.val() {
            self.p_hi.d.next = self.fmul_hi.p.val();
            self.p_lo.d.next = self.fmul_lo.p.val();
            self.f1.d.next = self.first.val();
        }
        // Stage 2: the pair's sum.
        self.fadd_s.a.next = self.p_hi.q.val();
        self.fadd_s.b.next = self.p_lo.q.val();
        self.v2.d.next = self.v1.q.val();
        if self.v1.q.val() {
            self.s_reg.d.next = self.fadd_s.s.val();
            self.f2.d.next = self.f1.q.val();
        }
        // Stage 3: accumulation, the only loop.
        self.fadd_acc.a.next = self.acc_reg.q.val();
        if self.f2.q.val() {
            self.fadd_acc.a.next = self.zero32.val();
        }
        self.fadd_acc.b.next = self.s_reg.q.val();
        if self.v2.q.val() {
            self.acc_reg.d.next = self.fadd_acc.s.val();
        }
        if self.rst.val() {
            self.v1.d.next = false;
            self.v2.d.next = false;
            self.f1.d.next = false;
            self.f2.d.next = false;
            self.p_hi.d.next = self.zero32.val();
            self.p_lo.d.next = self.zero32.val();
            self.s_reg.d.next = self.zero32.val();
            self.acc_reg.d.next = self.zero32.val();
        }
        self.acc.next = self.acc_reg.q.val();
    }
}

/// Single-stream PE (`single`): the conventional one-multiplier MAC.
#[derive(LogicBlock)]
pub struct PeSingle {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    /// A valid beat is at the inputs.
    pub en: Signal<In, Bit>,
    /// This beat starts a new accumulation.
    pub first: Signal<In, Bit>,
    /// A operand (F_in code).
    pub a0: Signal<In, Bits<32>>,
    /// B operand.
    pub b0: Signal<In, Bits<32>>,
    /// Accumulator (binary32).
    pub acc: Signal<Out, Bits<32>>,
    unpack_a: Unpack,
    unpack_b: Unpack,
    fmul_hi: Fmul,
    fadd_acc: Fadd,
    p_hi: DFF<Bits<32>>,
    v1: DFF<Bit>,
    f1: DFF<Bit>,
    acc_reg: DFF<Bits<32>>,
    zero32: Constant<Bits<32>>,
}

impl PeSingle {
    /// The PE for policy `single`.
    pub fn new(p: &UnitParams) -> Self {
        PeSingle {
            clock: Default::default(),
            rst: Default::default(),
            en: Default::default(),
            first: Default::default(),
            a0: Default::default(),
            b0: Default::default(),
            acc: Default::default(),
            unpack_a: Unpack::new(p),
            unpack_b: Unpack::new(p),
            fmul_hi: Fmul::new(p.format.frac_bits() + 1),
            fadd_acc: Fadd::default(),
            p_hi: Default::default(),
            v1: Default::default(),
            f1: Default::default(),
            acc_reg: Default::default(),
            zero32: c(0),
        }
    }
}

impl Logic for PeSingle {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, p_hi, v1, f1, acc_reg);
        self.unpack_a.code.next = self.a0.val();
        self.unpack_b.code.next = self.b0.val();
        self.fmul_hi.a.next = self.unpack_a.bits.val();
        self.fmul_hi.b.next = self.unpack_b.bits.val();
        self.v1.d.next = self.en.val();
        if self.en.val() {
            self.p_hi.d.next = self.fmul_hi.p.val();
            self.f1.d.next = self.first.val();
        }
        self.fadd_acc.a.next = self.acc_reg.q.val();
        if self.f1.q.val() {
            self.fadd_acc.a.next = self.zero32.val();
        }
        self.fadd_acc.b.next = self.p_hi.q.val();
        if self.v1.q.val() {
            self.acc_reg.d.next = self.fadd_acc.s.val();
        }
        if self.rst.val() {
            self.v1.d.next = false;
            self.f1.d.next = false;
            self.p_hi.d.next = self.zero32.val();
            self.acc_reg.d.next = self.zero32.val();
        }
        self.acc.next = self.acc_reg.q.val();
    }
}
