//! `pe`: the processing element of docs/arithmetic.md section 3, for every policy and `pipeline`.
//!
//! Golden counterpart: [`crate::golden::pe::step_dual`] and [`crate::golden::pe::step_single`];
//! cycle by cycle, [`crate::golden::pe::Pipeline`].
//!
//! Dual-stream datapath, one stage per line; `[..]` marks the registers the `pipeline`
//! setting adds (FPnew's `PipeRegs`), the others are always there:
//!
//! ```text
//! controller                                           [selected codes] pipeline >= 5
//! unpack, reduce                                       [operands]       pipeline >= 4
//! significand products                                 [raw products]   pipeline >= 1
//! round the products                                   products
//! product adder: align                                 [aligned pair]   pipeline >= 2
//! product adder: add, leading zeros, normalise         [raw sum]        pipeline >= 3
//! product adder: round                                 s
//! accumulate: acc = add(first ? +0 : acc, s)           acc              (the loop)
//! ```
//!
//! The two front registers come last in `pipeline` order because they cut stages the
//! array sees, not a bare PE: operands and controls arrive from the neighbours'
//! registers, and the controller's compare, the operand selection, the reduction and the
//! DSP product in one cycle were the array's critical path once the loop was pipelined
//! (`docs/fpga.md`).
//!
//! Single-stream: unpack, `[operands]` (pipeline >= 2), product, `[raw product]`
//! (pipeline >= 1), round, product, accumulate. Latency: [`crate::config::pe_latency`]. `en` marks a valid beat; `first`
//! starts a new accumulation from +0; `rst` (synchronous) clears the valid bits and the
//! accumulator. Data registers load only on a valid beat and have no reset.

use super::acc::Accumulate;
use super::fadd::{AddNorm, AddOrder, AddShift};
use super::fmul::MulRaw;
use super::hdl::Reg;
use super::round::Round;
use super::{Controller, Reduce, UnitParams, Unpack};
use crate::config::Policy;
use rust_hdl::prelude::*;

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
    mul_hi: MulRaw,
    mul_lo: MulRaw,
    round_hi: Round,
    round_lo: Round,
    order_s: AddOrder,
    shifter_s: AddShift,
    norm_s: AddNorm,
    round_s: Round,
    acc_loop: Accumulate,
    sel_valid: Reg<Bit>,
    sel_first: Reg<Bit>,
    sel_ah: Reg<Bits<32>>,
    sel_bh: Reg<Bits<32>>,
    sel_al: Reg<Bits<32>>,
    sel_bl: Reg<Bits<32>>,
    ops_en: Signal<Local, Bit>,
    ops_first: Signal<Local, Bit>,
    op_valid: Reg<Bit>,
    op_first: Reg<Bit>,
    op_ah: Reg<Bits<32>>,
    op_bh: Reg<Bits<32>>,
    op_al: Reg<Bits<32>>,
    op_bl: Reg<Bits<32>>,
    mul_en: Signal<Local, Bit>,
    mul_in_first: Signal<Local, Bit>,
    mul_valid: Reg<Bit>,
    mul_first: Reg<Bit>,
    raw_hi: Reg<Bits<40>>,
    raw_lo: Reg<Bits<40>>,
    prod_valid: Reg<Bit>,
    prod_first: Reg<Bit>,
    p_hi: Reg<Bits<32>>,
    p_lo: Reg<Bits<32>>,
    align_valid: Reg<Bit>,
    align_first: Reg<Bit>,
    aligned: Reg<Bits<64>>,
    norm_valid: Reg<Bit>,
    norm_first: Reg<Bit>,
    raw_s: Reg<Bits<40>>,
    sum_valid: Reg<Bit>,
    sum_first: Reg<Bit>,
    s: Reg<Bits<32>>,
    round_valid: Signal<Local, Bit>,
    round_first: Signal<Local, Bit>,
    add_valid: Signal<Local, Bit>,
    add_first: Signal<Local, Bit>,
    sround_valid: Signal<Local, Bit>,
    sround_first: Signal<Local, Bit>,
    pipe_ctrl: Constant<Bit>,
    pipe_ops: Constant<Bit>,
    pipe_mul: Constant<Bit>,
    pipe_align: Constant<Bit>,
    pipe_norm: Constant<Bit>,
}

/// The PE's pipeline stages, each named by the registers that end it, in datapath order
/// (for the logic-depth table of `daa area`). With a smaller `pipeline`, a stage whose
/// registers are absent joins the next one.
pub const STAGES: &[(&[&str], &str)] = &[
    (&["sel_ah", "sel_bh", "sel_al", "sel_bl", "sel_valid", "sel_first"], "controller"),
    (&["op_ah", "op_bh", "op_al", "op_bl", "op_valid", "op_first"], "unpack, reduce"),
    (&["raw_hi", "raw_lo", "mul_valid", "mul_first"], "significand products"),
    (&["p_hi", "p_lo", "prod_valid", "prod_first"], "round the products"),
    (&["aligned", "align_valid", "align_first"], "product adder: align"),
    (&["raw_s", "norm_valid", "norm_first"], "product adder: add, leading zeros, normalise"),
    (&["s", "sum_valid", "sum_first"], "product adder: round"),
    (&["acc_ordered", "order_live"], "accumulate: order (interleave >= 4)"),
    (&["acc_aligned", "align_live"], "accumulate: shift (interleave >= 2)"),
    (&["acc_raw", "norm_live"], "accumulate: add, leading zeros, normalise (interleave >= 3)"),
    (&["acc_reg"], "accumulate: round, the accumulator"),
];

/// The registers a `pipeline` value adds to a dual-stream PE, in the order they come:
/// after the products, after alignment, after normalisation, after the operand selection
/// (unpack and reduce), after the controller.
pub fn pipe_stages(pipeline: u32) -> [bool; 5] {
    [pipeline >= 1, pipeline >= 2, pipeline >= 3, pipeline >= 4, pipeline >= 5]
}

impl PeDual {
    /// The PE for a dual-stream configuration.
    pub fn new(p: &UnitParams) -> Self {
        let y = p.format.frac_bits();
        let reduces = p.policy.reduces();
        let lo_sig = if reduces { p.lo_bits + 1 } else { y + 1 };
        let [mul, align, norm, ops, ctrl] = pipe_stages(p.pipeline);
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
            mul_hi: MulRaw::new(y + 1),
            mul_lo: MulRaw::new(lo_sig),
            round_hi: Round::default(),
            round_lo: Round::default(),
            order_s: AddOrder::default(),
            shifter_s: AddShift::default(),
            norm_s: AddNorm::default(),
            round_s: Round::default(),
            acc_loop: Accumulate::new(p.interleave),
            sel_valid: Default::default(),
            sel_first: Default::default(),
            sel_ah: Default::default(),
            sel_bh: Default::default(),
            sel_al: Default::default(),
            sel_bl: Default::default(),
            ops_en: Default::default(),
            ops_first: Default::default(),
            op_valid: Default::default(),
            op_first: Default::default(),
            op_ah: Default::default(),
            op_bh: Default::default(),
            op_al: Default::default(),
            op_bl: Default::default(),
            mul_en: Default::default(),
            mul_in_first: Default::default(),
            mul_valid: Default::default(),
            mul_first: Default::default(),
            raw_hi: Default::default(),
            raw_lo: Default::default(),
            prod_valid: Default::default(),
            prod_first: Default::default(),
            p_hi: Default::default(),
            p_lo: Default::default(),
            align_valid: Default::default(),
            align_first: Default::default(),
            aligned: Default::default(),
            norm_valid: Default::default(),
            norm_first: Default::default(),
            raw_s: Default::default(),
            sum_valid: Default::default(),
            sum_first: Default::default(),
            s: Default::default(),
            round_valid: Default::default(),
            round_first: Default::default(),
            add_valid: Default::default(),
            add_first: Default::default(),
            sround_valid: Default::default(),
            sround_first: Default::default(),
            pipe_ctrl: Constant::new(ctrl),
            pipe_ops: Constant::new(ops),
            pipe_mul: Constant::new(mul),
            pipe_align: Constant::new(align),
            pipe_norm: Constant::new(norm),
        }
    }
}

impl Logic for PeDual {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self,
            clock,
            sel_valid,
            sel_first,
            sel_ah,
            sel_bh,
            sel_al,
            sel_bl,
            op_valid,
            op_first,
            op_ah,
            op_bh,
            op_al,
            op_bl,
            mul_valid,
            mul_first,
            raw_hi,
            raw_lo,
            prod_valid,
            prod_first,
            p_hi,
            p_lo,
            align_valid,
            align_first,
            aligned,
            norm_valid,
            norm_first,
            raw_s,
            sum_valid,
            sum_first,
            s
        );
        comment!("Stage: controller.");
        self.ctrl.a0.next = self.a0.val();
        self.ctrl.b0.next = self.b0.val();
        self.ctrl.a1.next = self.a1.val();
        self.ctrl.b1.next = self.b1.val();
        self.high.next = self.ctrl.high.val();
        if self.pipe_ctrl.val() {
            comment!("Pipeline register after the controller (pipeline >= 5).");
            self.sel_valid.d.next = self.en.val();
            if self.en.val() {
                self.sel_ah.d.next = self.ctrl.ah.val();
                self.sel_bh.d.next = self.ctrl.bh.val();
                self.sel_al.d.next = self.ctrl.al.val();
                self.sel_bl.d.next = self.ctrl.bl.val();
                self.sel_first.d.next = self.first.val();
            }
            self.unpack_ah.code.next = self.sel_ah.q.val();
            self.unpack_bh.code.next = self.sel_bh.q.val();
            self.unpack_al.code.next = self.sel_al.q.val();
            self.unpack_bl.code.next = self.sel_bl.q.val();
            self.ops_en.next = self.sel_valid.q.val();
            self.ops_first.next = self.sel_first.q.val();
        } else {
            self.unpack_ah.code.next = self.ctrl.ah.val();
            self.unpack_bh.code.next = self.ctrl.bh.val();
            self.unpack_al.code.next = self.ctrl.al.val();
            self.unpack_bl.code.next = self.ctrl.bl.val();
            self.ops_en.next = self.en.val();
            self.ops_first.next = self.first.val();
        }
        self.reduce_a.x.next = self.unpack_al.bits.val();
        self.reduce_b.x.next = self.unpack_bl.bits.val();
        comment!("Stage: unpack, low-path reduction.");
        if self.pipe_ops.val() {
            comment!("Pipeline register after unpack and reduction (pipeline >= 4).");
            self.op_valid.d.next = self.ops_en.val();
            if self.ops_en.val() {
                self.op_ah.d.next = self.unpack_ah.bits.val();
                self.op_bh.d.next = self.unpack_bh.bits.val();
                self.op_al.d.next = self.reduce_a.y.val();
                self.op_bl.d.next = self.reduce_b.y.val();
                self.op_first.d.next = self.ops_first.val();
            }
            self.mul_hi.a.next = self.op_ah.q.val();
            self.mul_hi.b.next = self.op_bh.q.val();
            self.mul_lo.a.next = self.op_al.q.val();
            self.mul_lo.b.next = self.op_bl.q.val();
            self.mul_en.next = self.op_valid.q.val();
            self.mul_in_first.next = self.op_first.q.val();
        } else {
            self.mul_hi.a.next = self.unpack_ah.bits.val();
            self.mul_hi.b.next = self.unpack_bh.bits.val();
            self.mul_lo.a.next = self.reduce_a.y.val();
            self.mul_lo.b.next = self.reduce_b.y.val();
            self.mul_en.next = self.ops_en.val();
            self.mul_in_first.next = self.ops_first.val();
        }
        comment!("Stage: significand products.");
        if self.pipe_mul.val() {
            comment!("Pipeline register after the significand products (pipeline >= 1).");
            self.mul_valid.d.next = self.mul_en.val();
            if self.mul_en.val() {
                self.raw_hi.d.next = self.mul_hi.raw.val();
                self.raw_lo.d.next = self.mul_lo.raw.val();
                self.mul_first.d.next = self.mul_in_first.val();
            }
            self.round_hi.raw.next = self.raw_hi.q.val();
            self.round_lo.raw.next = self.raw_lo.q.val();
            self.round_valid.next = self.mul_valid.q.val();
            self.round_first.next = self.mul_first.q.val();
        } else {
            self.round_hi.raw.next = self.mul_hi.raw.val();
            self.round_lo.raw.next = self.mul_lo.raw.val();
            self.round_valid.next = self.mul_en.val();
            self.round_first.next = self.mul_in_first.val();
        }
        comment!("Stage: round both products; registered.");
        self.prod_valid.d.next = self.round_valid.val();
        if self.round_valid.val() {
            self.p_hi.d.next = self.round_hi.y.val();
            self.p_lo.d.next = self.round_lo.y.val();
            self.prod_first.d.next = self.round_first.val();
        }
        comment!("Stage: the product adder, s = add(p_hi, p_lo): align.");
        self.order_s.a.next = self.p_hi.q.val();
        self.order_s.b.next = self.p_lo.q.val();
        self.shifter_s.ordered.next = self.order_s.ordered.val();
        if self.pipe_align.val() {
            comment!("Pipeline register after alignment (pipeline >= 2).");
            self.align_valid.d.next = self.prod_valid.q.val();
            if self.prod_valid.q.val() {
                self.aligned.d.next = self.shifter_s.aligned.val();
                self.align_first.d.next = self.prod_first.q.val();
            }
            self.norm_s.aligned.next = self.aligned.q.val();
            self.add_valid.next = self.align_valid.q.val();
            self.add_first.next = self.align_first.q.val();
        } else {
            self.norm_s.aligned.next = self.shifter_s.aligned.val();
            self.add_valid.next = self.prod_valid.q.val();
            self.add_first.next = self.prod_first.q.val();
        }
        comment!("Product adder: add, count leading zeros, normalise.");
        if self.pipe_norm.val() {
            comment!("Pipeline register after normalisation (pipeline >= 3).");
            self.norm_valid.d.next = self.add_valid.val();
            if self.add_valid.val() {
                self.raw_s.d.next = self.norm_s.raw.val();
                self.norm_first.d.next = self.add_first.val();
            }
            self.round_s.raw.next = self.raw_s.q.val();
            self.sround_valid.next = self.norm_valid.q.val();
            self.sround_first.next = self.norm_first.q.val();
        } else {
            self.round_s.raw.next = self.norm_s.raw.val();
            self.sround_valid.next = self.add_valid.val();
            self.sround_first.next = self.add_first.val();
        }
        comment!("Product adder: round; s registered.");
        self.sum_valid.d.next = self.sround_valid.val();
        if self.sround_valid.val() {
            self.s.d.next = self.round_s.y.val();
            self.sum_first.d.next = self.sround_first.val();
        }
        comment!("Stage: accumulate, acc = add(first ? +0 : acc, s), interleave accumulators in one loop.");
        self.acc_loop.clock.next = self.clock.val();
        self.acc_loop.rst.next = self.rst.val();
        self.acc_loop.valid.next = self.sum_valid.q.val();
        self.acc_loop.first.next = self.sum_first.q.val();
        self.acc_loop.s.next = self.s.q.val();
        comment!("Synchronous reset: the valid bits (and, in the loop, the accumulators).");
        if self.rst.val() {
            self.sel_valid.d.next = false;
            self.op_valid.d.next = false;
            self.mul_valid.d.next = false;
            self.prod_valid.d.next = false;
            self.align_valid.d.next = false;
            self.norm_valid.d.next = false;
            self.sum_valid.d.next = false;
        }
        self.acc.next = self.acc_loop.acc.val();
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
    mul_hi: MulRaw,
    round_hi: Round,
    acc_loop: Accumulate,
    op_valid: Reg<Bit>,
    op_first: Reg<Bit>,
    op_a: Reg<Bits<32>>,
    op_b: Reg<Bits<32>>,
    mul_en: Signal<Local, Bit>,
    mul_in_first: Signal<Local, Bit>,
    mul_valid: Reg<Bit>,
    mul_first: Reg<Bit>,
    raw_hi: Reg<Bits<40>>,
    prod_valid: Reg<Bit>,
    prod_first: Reg<Bit>,
    p_hi: Reg<Bits<32>>,
    round_valid: Signal<Local, Bit>,
    round_first: Signal<Local, Bit>,
    pipe_ops: Constant<Bit>,
    pipe_mul: Constant<Bit>,
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
            mul_hi: MulRaw::new(p.format.frac_bits() + 1),
            round_hi: Round::default(),
            acc_loop: Accumulate::new(p.interleave),
            op_valid: Default::default(),
            op_first: Default::default(),
            op_a: Default::default(),
            op_b: Default::default(),
            mul_en: Default::default(),
            mul_in_first: Default::default(),
            mul_valid: Default::default(),
            mul_first: Default::default(),
            raw_hi: Default::default(),
            prod_valid: Default::default(),
            prod_first: Default::default(),
            p_hi: Default::default(),
            round_valid: Default::default(),
            round_first: Default::default(),
            pipe_ops: Constant::new(p.pipeline >= crate::config::useful_pipeline(Policy::Single)),
            pipe_mul: Constant::new(pipe_stages(p.pipeline)[0]),
        }
    }
}

impl Logic for PeSingle {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, op_valid, op_first, op_a, op_b, mul_valid, mul_first, raw_hi, prod_valid, prod_first, p_hi
        );
        comment!("Stage: unpack.");
        self.unpack_a.code.next = self.a0.val();
        self.unpack_b.code.next = self.b0.val();
        if self.pipe_ops.val() {
            comment!("Pipeline register after unpacking (pipeline >= 2).");
            self.op_valid.d.next = self.en.val();
            if self.en.val() {
                self.op_a.d.next = self.unpack_a.bits.val();
                self.op_b.d.next = self.unpack_b.bits.val();
                self.op_first.d.next = self.first.val();
            }
            self.mul_hi.a.next = self.op_a.q.val();
            self.mul_hi.b.next = self.op_b.q.val();
            self.mul_en.next = self.op_valid.q.val();
            self.mul_in_first.next = self.op_first.q.val();
        } else {
            self.mul_hi.a.next = self.unpack_a.bits.val();
            self.mul_hi.b.next = self.unpack_b.bits.val();
            self.mul_en.next = self.en.val();
            self.mul_in_first.next = self.first.val();
        }
        comment!("Stage: the significand product.");
        if self.pipe_mul.val() {
            comment!("Pipeline register after the significand product (pipeline >= 1).");
            self.mul_valid.d.next = self.mul_en.val();
            if self.mul_en.val() {
                self.raw_hi.d.next = self.mul_hi.raw.val();
                self.mul_first.d.next = self.mul_in_first.val();
            }
            self.round_hi.raw.next = self.raw_hi.q.val();
            self.round_valid.next = self.mul_valid.q.val();
            self.round_first.next = self.mul_first.q.val();
        } else {
            self.round_hi.raw.next = self.mul_hi.raw.val();
            self.round_valid.next = self.mul_en.val();
            self.round_first.next = self.mul_in_first.val();
        }
        comment!("Stage: round the product; registered.");
        self.prod_valid.d.next = self.round_valid.val();
        if self.round_valid.val() {
            self.p_hi.d.next = self.round_hi.y.val();
            self.prod_first.d.next = self.round_first.val();
        }
        comment!("Stage: accumulate, acc = add(first ? +0 : acc, p), interleave accumulators in one loop.");
        self.acc_loop.clock.next = self.clock.val();
        self.acc_loop.rst.next = self.rst.val();
        self.acc_loop.valid.next = self.prod_valid.q.val();
        self.acc_loop.first.next = self.prod_first.q.val();
        self.acc_loop.s.next = self.p_hi.q.val();
        comment!("Synchronous reset: the valid bits (and, in the loop, the accumulators).");
        if self.rst.val() {
            self.op_valid.d.next = false;
            self.mul_valid.d.next = false;
            self.prod_valid.d.next = false;
        }
        self.acc.next = self.acc_loop.acc.val();
    }
}
