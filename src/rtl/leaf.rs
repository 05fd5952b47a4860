//! Leaves written as Verilog text inside rust-hdl blocks (`Verilog::Custom`), each with a
//! Rust `update` for rust-hdl's simulator.
//!
//! Why not `#[hdl_gen]`: rust-hdl multiplies only `Bits<16> x Bits<16>`, and a product
//! composed of 16-bit pieces, or a shift-and-add array, hides the multiplication from
//! synthesis (no DSP blocks, no Booth or Wallace trees). A product written as `a * b` of
//! its real width is what FPnew and HardFloat write and what every synthesiser maps
//! well. The leading-zero count is a tree of generate loops, which `#[hdl_gen]` (no
//! indexed assignment, no functions) could only spell out bit by bit.

use rust_hdl::prelude::*;

/// The significand product of the top `width` bits of two 24-bit significands, placed at
/// the top of 48 bits: `width` = Y+1 for the full path, L+1 for the low path.
#[derive(LogicBlock)]
pub struct SigMul {
    /// Significand with its hidden bit at bit 23; bits below the top `width` must be 0.
    pub a: Signal<In, Bits<24>>,
    /// Second significand, same layout.
    pub b: Signal<In, Bits<24>>,
    /// `a * b` (exact), leading one at bit 47 or 46.
    pub p: Signal<Out, Bits<48>>,
    /// Some operand bit below the top `width` is set: the product is inexact (never, for
    /// operands of the width daa-gen allows; it joins the sticky bit).
    pub lost: Signal<Out, Bit>,
    /// Significand width (a generation parameter; the Verilog does not use it as a signal).
    width: Constant<Bits<5>>,
}

impl SigMul {
    /// A product of `width`-bit significands (1..=24).
    pub fn new(width: u32) -> Self {
        assert!((1..=24).contains(&width), "significand width {width}");
        SigMul {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            lost: Default::default(),
            width: super::c(width as u64),
        }
    }

    /// The module name this leaf asks for.
    pub fn module(&self) -> String {
        format!("mul{0}x{0}", self.width.val().index())
    }
}

impl Logic for SigMul {
    fn update(&mut self) {
        let w = self.width.val().index();
        let (a, b) = (self.a.val().to_u64() >> (24 - w), self.b.val().to_u64() >> (24 - w));
        self.p.next = Bits::from((a * b) << (48 - 2 * w));
        let low = (1u64 << (24 - w)) - 1;
        self.lost.next = (self.a.val().to_u64() | self.b.val().to_u64()) & low != 0;
    }
    fn connect(&mut self) {
        self.p.connect();
        self.lost.connect();
    }
    fn hdl(&self) -> Verilog {
        let w = self.width.val().index();
        let pad = 48 - 2 * w;
        let place = if pad == 0 { "product".to_string() } else { format!("{{product, {pad}'d0}}") };
        let (note, lost) = if w < 24 {
            (
                format!(
                    "\n    // The operands carry {w} significant bits; any bit below would make the product inexact."
                ),
                format!("|a[{0}:0] | |b[{0}:0]", 23 - w),
            )
        } else {
            (String::new(), "1'b0".to_string())
        };
        Verilog::Custom(format!(
            "// module: {module}
    // {w} x {w} significand product, written as a multiplication so that synthesis maps
    // it to DSP blocks or its own multiplier tree.{note}
    wire [{m}:0] a_sig = a[23:{lo}];
    wire [{m}:0] b_sig = b[23:{lo}];
    wire [{p}:0] product = a_sig * b_sig;
    assign p = {place};
    assign lost = {lost};",
            module = self.module(),
            m = w - 1,
            lo = 24 - w,
            p = 2 * w - 1,
        ))
    }
}

/// Leading-zero count of a 32-bit word (32 for zero): a tree that merges the counts of
/// adjacent halves, log2(32) = 5 levels.
#[derive(LogicBlock, Default)]
pub struct Lzc {
    /// The word.
    pub x: Signal<In, Bits<32>>,
    /// Leading zeros, 0..=31; the all-zero word gives 31 with `zero` set.
    pub count: Signal<Out, Bits<5>>,
    /// The word is 0.
    pub zero: Signal<Out, Bit>,
}

impl Logic for Lzc {
    fn update(&mut self) {
        let x = self.x.val().to_u64() as u32;
        self.count.next = Bits::from(x.leading_zeros().min(31) as u64);
        self.zero.next = x == 0;
    }
    fn connect(&mut self) {
        self.count.connect();
        self.zero.connect();
    }
    fn hdl(&self) -> Verilog {
        // Level k has 32 >> k groups of 2^k bits; each group keeps "any bit set" and the
        // k-bit count of its leading zeros. A group's count is the upper half's when that
        // half has a one, else 2^(k-1) plus the lower half's.
        let mut s = String::from(
            "// module: lzc32
    // Level 0: every bit is a group of one; its count is 0 bits wide.
    wire [31:0] any0 = x;
",
        );
        for k in 1..=5usize {
            let groups = 32 >> k;
            s += &format!(
                "    // Level {k}: {groups} group(s) of {size} bits, {k}-bit counts.
    wire [{g}:0] any{k};
    wire [{cw}:0] cnt{k};
",
                size = 1 << k,
                g = groups - 1,
                cw = groups * k - 1
            );
        }
        s += "    genvar i;\n    generate\n";
        s += "        for (i = 0; i < 16; i = i + 1) begin : level1\n";
        s += "            assign any1[i] = any0[2*i+1] | any0[2*i];\n";
        s += "            assign cnt1[i] = ~any0[2*i+1];\n";
        s += "        end\n";
        for k in 2..=5usize {
            let groups = 32 >> k;
            let h = k - 1;
            s += &format!(
                "        for (i = 0; i < {groups}; i = i + 1) begin : level{k}
            assign any{k}[i] = any{h}[2*i+1] | any{h}[2*i];
            assign cnt{k}[{k}*i +: {k}] = any{h}[2*i+1] ? {{1'b0, cnt{h}[{h}*(2*i+1) +: {h}]}}
                                              : {{1'b1, cnt{h}[{h}*(2*i) +: {h}]}};
        end
"
            );
        }
        s += "    endgenerate\n    assign count = cnt5;\n    assign zero = ~any5[0];";
        Verilog::Custom(s)
    }
}
