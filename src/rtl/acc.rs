//! `acc`: the accumulation loop, `interleave` accumulators in a ring around one pipelined
//! binary32 adder (C-slow).
//!
//! Golden counterpart: the ring of [`crate::golden::pe::Pipeline`]; arithmetic
//! [`crate::golden::arith::add`].
//!
//! The ring has `interleave` (N) registers and turns every cycle: up to
//! [`crate::config::MAX_ACC_STAGES`] of them are the adder's stages, the rest plain delay
//! registers after the accumulator:
//!
//! ```text
//! a = (valid & first) ? +0 : tail        b = valid ? s : -0
//! fadd_order            [acc_ordered]  N >= 4
//! fadd_shift            [acc_aligned]  N >= 2
//! fadd_norm             [acc_raw]      N >= 3
//! round                 acc            (the PE's output)
//! delay registers       ring1 .. ring(N-4), tail = the last one (or acc)
//! ```
//!
//! The cuts come in the order that shortens the longest stage on ECP5: alignment
//! (ordering and shifting together) was the longest at N = 3 (`docs/fpga.md`).
//!
//! An element at the adder's inputs in cycle t is back there in cycle t + N, so the N
//! elements a PE holds each see their terms in order, N cycles apart, and no path closes
//! in fewer than N registers. Without a term the adder adds -0, which leaves every value
//! the accumulator can hold unchanged (never subnormal; NaN canonical). The stage
//! registers have no reset but carry a `live` bit: after a reset, the values in flight
//! reach the accumulator as +0.

use super::c;
use super::fadd::{AddNorm, AddOrder, AddShift};
use super::hdl::Reg;
use super::round::Round;
use crate::config::{acc_stages, MAX_ACC_STAGES, MAX_INTERLEAVE};
use rust_hdl::prelude::*;

/// Delay registers after the accumulator, at most.
const MAX_DELAY: u32 = MAX_INTERLEAVE - MAX_ACC_STAGES;

/// The accumulation loop.
#[derive(LogicBlock)]
pub struct Accumulate {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high: every accumulator to +0.
    pub rst: Signal<In, Bit>,
    /// A term is at `s`.
    pub valid: Signal<In, Bit>,
    /// The term starts its element from +0.
    pub first: Signal<In, Bit>,
    /// The term (binary32).
    pub s: Signal<In, Bits<32>>,
    /// The accumulator the last edge wrote (binary32).
    pub acc: Signal<Out, Bits<32>>,
    order: AddOrder,
    shifter: AddShift,
    norm: AddNorm,
    round: Round,
    acc_ordered: Reg<Bits<69>>,
    order_live: Reg<Bit>,
    acc_aligned: Reg<Bits<64>>,
    align_live: Reg<Bit>,
    acc_raw: Reg<Bits<40>>,
    norm_live: Reg<Bit>,
    acc_reg: Reg<Bits<32>>,
    ring1: Reg<Bits<32>>,
    ring2: Reg<Bits<32>>,
    ring3: Reg<Bits<32>>,
    ring4: Reg<Bits<32>>,
    tail: Signal<Local, Bits<32>>,
    round_live: Signal<Local, Bit>,
    pipe_order: Constant<Bit>,
    pipe_align: Constant<Bit>,
    pipe_norm: Constant<Bit>,
    delay1: Constant<Bit>,
    delay2: Constant<Bit>,
    delay3: Constant<Bit>,
    delay4: Constant<Bit>,
    pos_zero: Constant<Bits<32>>,
    neg_zero: Constant<Bits<32>>,
}

impl Accumulate {
    /// The loop for `interleave` accumulators.
    pub fn new(interleave: u32) -> Self {
        let stages = acc_stages(interleave);
        let delays = interleave - stages;
        debug_assert!(delays <= MAX_DELAY);
        let delay = |k: u32| Constant::new(delays >= k);
        Accumulate {
            clock: Default::default(),
            rst: Default::default(),
            valid: Default::default(),
            first: Default::default(),
            s: Default::default(),
            acc: Default::default(),
            order: Default::default(),
            shifter: Default::default(),
            norm: Default::default(),
            round: Default::default(),
            acc_ordered: Default::default(),
            order_live: Default::default(),
            acc_aligned: Default::default(),
            align_live: Default::default(),
            acc_raw: Default::default(),
            norm_live: Default::default(),
            acc_reg: Default::default(),
            ring1: Default::default(),
            ring2: Default::default(),
            ring3: Default::default(),
            ring4: Default::default(),
            tail: Default::default(),
            round_live: Default::default(),
            pipe_order: Constant::new(stages >= 4),
            pipe_align: Constant::new(stages >= 2),
            pipe_norm: Constant::new(stages >= 3),
            delay1: delay(1),
            delay2: delay(2),
            delay3: delay(3),
            delay4: delay(4),
            pos_zero: c(0),
            neg_zero: c(0x8000_0000),
        }
    }
}

impl Logic for Accumulate {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            acc_ordered,
            order_live,
            acc_aligned,
            align_live,
            acc_raw,
            norm_live,
            acc_reg,
            ring1,
            ring2,
            ring3,
            ring4
        );
        comment!("The value leaving the ring: the accumulator, or the last delay register.");
        self.tail.next = self.acc_reg.q.val();
        if self.delay1.val() {
            self.tail.next = self.ring1.q.val();
        }
        if self.delay2.val() {
            self.tail.next = self.ring2.q.val();
        }
        if self.delay3.val() {
            self.tail.next = self.ring3.q.val();
        }
        if self.delay4.val() {
            self.tail.next = self.ring4.q.val();
        }
        comment!("Operands: +0 starts an element; -0 is the idle term (it changes no value).");
        self.order.a.next = self.tail.val();
        if self.valid.val() & self.first.val() {
            self.order.a.next = self.pos_zero.val();
        }
        self.order.b.next = self.neg_zero.val();
        if self.valid.val() {
            self.order.b.next = self.s.val();
        }
        if self.pipe_order.val() {
            comment!("Adder stage register after ordering (interleave >= 4).");
            self.acc_ordered.d.next = self.order.ordered.val();
            self.order_live.d.next = true;
            self.shifter.ordered.next = self.acc_ordered.q.val();
        } else {
            self.shifter.ordered.next = self.order.ordered.val();
        }
        if self.pipe_align.val() {
            comment!("Adder stage register after alignment (interleave >= 2).");
            self.acc_aligned.d.next = self.shifter.aligned.val();
            self.align_live.d.next = true;
            if self.pipe_order.val() {
                self.align_live.d.next = self.order_live.q.val();
            }
            self.norm.aligned.next = self.acc_aligned.q.val();
        } else {
            self.norm.aligned.next = self.shifter.aligned.val();
        }
        if self.pipe_norm.val() {
            comment!("Adder stage register after normalisation (interleave >= 3).");
            self.acc_raw.d.next = self.norm.raw.val();
            self.norm_live.d.next = self.align_live.q.val();
            self.round.raw.next = self.acc_raw.q.val();
            self.round_live.next = self.norm_live.q.val();
        } else {
            self.round.raw.next = self.norm.raw.val();
            self.round_live.next = self.align_live.q.val();
        }
        if !self.pipe_align.val() {
            self.round_live.next = true;
        }
        comment!("The accumulator: the rounded sum, or +0 for a value a reset emptied.");
        self.acc_reg.d.next = self.round.y.val();
        if !self.round_live.val() {
            self.acc_reg.d.next = self.pos_zero.val();
        }
        if self.delay1.val() {
            comment!("Delay registers close the ring at interleave cycles.");
            self.ring1.d.next = self.acc_reg.q.val();
        }
        if self.delay2.val() {
            self.ring2.d.next = self.ring1.q.val();
        }
        if self.delay3.val() {
            self.ring3.d.next = self.ring2.q.val();
        }
        if self.delay4.val() {
            self.ring4.d.next = self.ring3.q.val();
        }
        comment!("Synchronous reset: every accumulator +0, the adder's stages empty.");
        if self.rst.val() {
            self.order_live.d.next = false;
            self.align_live.d.next = false;
            self.norm_live.d.next = false;
            self.acc_reg.d.next = self.pos_zero.val();
            self.ring1.d.next = self.pos_zero.val();
            self.ring2.d.next = self.pos_zero.val();
            self.ring3.d.next = self.pos_zero.val();
            self.ring4.d.next = self.pos_zero.val();
        }
        self.acc.next = self.acc_reg.q.val();
    }
}
