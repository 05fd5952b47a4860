//! The unit registry: every checked unit reachable from one name — its RTL description,
//! its golden function, its ports by name and its stimulus (corner cases, then the
//! vector mix of `docs/vectors.md`). The units harness (`templates/units.v`,
//! `sim::verify`), the unit tests and `daa area` all read this table; nothing else lists
//! the units.
//!
//! Also here: the name of every emitted module (a unit, or a piece of one), as the emitter
//! derives it from a field of a parent unit, and the one-line description of its header.

use super::emit::{unit_tree, RtlFile};
use super::fadd::Fadd;
use super::fmul::Fmul;
use super::{Controller, Reduce, UnitParams, Unpack};
use crate::config::{Config, Policy};
use crate::format::{describe_f32, Format};
use crate::golden::arith::{add, mul, q};
use crate::golden::pe::{high_stream, PeParams};
use crate::golden::vectors::Vector;
use anyhow::Result;

/// What a port carries, for mismatch reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An F_in code.
    Code,
    /// A binary32 value.
    Binary32,
    /// One bit.
    Bit,
}

impl Kind {
    /// `w` decoded field by field.
    pub fn describe(self, f: Format, w: u32) -> String {
        match self {
            Kind::Code => format!("{} ({})", f.describe(w), describe_f32(f.decode_bits(w))),
            Kind::Binary32 => describe_f32(w),
            Kind::Bit => w.to_string(),
        }
    }
}

/// A port of a unit.
#[derive(Clone, Copy, Debug)]
pub struct Port {
    /// Port name in the unit's module.
    pub name: &'static str,
    /// Width in bits.
    pub width: u32,
    /// What it carries.
    pub kind: Kind,
}

const fn port(name: &'static str, kind: Kind) -> Port {
    Port { name, width: if matches!(kind, Kind::Bit) { 1 } else { 32 }, kind }
}

/// Everything one unit record's stimulus may draw on: a vector of the mix, the golden
/// intermediate values of the PE step it describes, and the corner pairs.
pub struct Record<'a> {
    /// Index of the record in the run.
    pub index: u64,
    /// The PE vector this record derives from.
    pub vector: &'a Vector,
    /// Operands `[a0, b0, a1, b1]` (corner pairs first).
    pub ops: [u32; 4],
    /// A multiplier corner pair (codes) for this record, if any is left.
    pub mul_corner: Option<(u32, u32)>,
    /// An adder corner pair (binary32) for this record, if any is left.
    pub add_corner: Option<(u32, u32)>,
    /// Two random words (raw bits: subnormals, NaN payloads, any exponent gap).
    pub random: (u32, u32),
}

/// A checked unit.
pub struct Unit {
    /// Its name: the module is `<config name>_<name>`, the test `tests/pe.rs::units_*`.
    pub name: &'static str,
    /// Input ports.
    pub inputs: &'static [Port],
    /// Output ports.
    pub outputs: &'static [Port],
    /// Its RTL description, emitted (the unit and the modules below it).
    pub build: fn(&Config) -> Result<Vec<RtlFile>>,
    /// The golden function: input words -> output words.
    pub golden: fn(&PeParams, &[u32]) -> Vec<u32>,
    /// Input words of one record.
    pub stimulus: fn(&PeParams, &Record) -> Vec<u32>,
}

fn decoded(p: &PeParams, r: &Record) -> [f32; 4] {
    let f = p.format;
    let h = high_stream(p, r.ops[0], r.ops[1], r.ops[2], r.ops[3]);
    [f.decode(r.ops[2 * h]), f.decode(r.ops[2 * h + 1]), f.decode(r.ops[2 - 2 * h]), f.decode(r.ops[3 - 2 * h])]
}

fn low_operands(p: &PeParams, r: &Record) -> (f32, f32) {
    let [_, _, al, bl] = decoded(p, r);
    (q(al, p.lo_bits, p.lo_rounding), q(bl, p.lo_bits, p.lo_rounding))
}

fn unpack_code(p: &PeParams, r: &Record) -> u32 {
    // Formats of up to 16 bits: every code once, first.
    let width = p.format.width();
    if width <= 16 && r.index < 1 << width {
        r.index as u32
    } else {
        r.ops[(r.index % 4) as usize]
    }
}

const CODE_IN: &[Port] = &[port("code", Kind::Code)];
const BITS_OUT: &[Port] = &[port("bits", Kind::Binary32)];
const X_IN: &[Port] = &[port("x", Kind::Binary32)];
const Y_OUT: &[Port] = &[port("y", Kind::Binary32)];
const AB_IN: &[Port] = &[port("a", Kind::Binary32), port("b", Kind::Binary32)];
const P_OUT: &[Port] = &[port("p", Kind::Binary32)];
const S_OUT: &[Port] = &[port("s", Kind::Binary32)];
const STREAMS_IN: &[Port] =
    &[port("a0", Kind::Code), port("b0", Kind::Code), port("a1", Kind::Code), port("b1", Kind::Code)];
const STEER_OUT: &[Port] = &[
    port("ah", Kind::Code),
    port("bh", Kind::Code),
    port("al", Kind::Code),
    port("bl", Kind::Code),
    port("high", Kind::Bit),
];

/// The checked units, in harness order.
pub const UNITS: &[Unit] = &[
    Unit {
        name: "unpack",
        inputs: CODE_IN,
        outputs: BITS_OUT,
        build: |c| unit_tree(c, &mut Unpack::new(&UnitParams::from(c)), "unpack"),
        golden: |p, i| vec![p.format.decode_bits(i[0])],
        stimulus: |p, r| vec![unpack_code(p, r)],
    },
    Unit {
        name: "reduce",
        inputs: X_IN,
        outputs: Y_OUT,
        build: |c| unit_tree(c, &mut Reduce::new(&UnitParams::from(c), !c.policy.reduces()), "reduce"),
        golden: |p, i| vec![q(f32::from_bits(i[0]), p.lo_bits, p.lo_rounding).to_bits()],
        stimulus: |p, r| vec![p.format.decode_bits(unpack_code(p, r))],
    },
    Unit {
        name: "fmul",
        inputs: AB_IN,
        outputs: P_OUT,
        build: |c| unit_tree(c, &mut Fmul::new(c.format.frac_bits() + 1), "fmul"),
        golden: |_, i| vec![mul(f32::from_bits(i[0]), f32::from_bits(i[1])).to_bits()],
        stimulus: |p, r| match r.mul_corner {
            Some((a, b)) => vec![p.format.decode_bits(a), p.format.decode_bits(b)],
            None => {
                let [ah, bh, _, _] = decoded(p, r);
                vec![ah.to_bits(), bh.to_bits()]
            }
        },
    },
    Unit {
        name: "fmul_lo",
        inputs: AB_IN,
        outputs: P_OUT,
        build: |c| unit_tree(c, &mut Fmul::new(c.lo_bits + 1), "fmul_lo"),
        golden: |_, i| vec![mul(f32::from_bits(i[0]), f32::from_bits(i[1])).to_bits()],
        stimulus: |p, r| {
            // Corner codes go through q first: the low multiplier only sees reduced operands.
            let (a, b) = match r.mul_corner {
                Some((a, b)) => {
                    (q(p.format.decode(b), p.lo_bits, p.lo_rounding), q(p.format.decode(a), p.lo_bits, p.lo_rounding))
                }
                None => low_operands(p, r),
            };
            vec![a.to_bits(), b.to_bits()]
        },
    },
    Unit {
        name: "fadd",
        inputs: AB_IN,
        outputs: S_OUT,
        build: |c| unit_tree(c, &mut Fadd::default(), "fadd"),
        golden: |_, i| vec![add(f32::from_bits(i[0]), f32::from_bits(i[1])).to_bits()],
        stimulus: |p, r| {
            if let Some((a, b)) = r.add_corner {
                return vec![a, b];
            }
            // A product pair (the product adder), an accumulation (acc + s), or raw bits.
            let [ah, bh, _, _] = decoded(p, r);
            let (la, lb) = low_operands(p, r);
            let (ph, pl) = (mul(ah, bh), mul(la, lb));
            match r.index % 8 {
                7 => vec![r.random.0, r.random.1],
                1 | 3 | 5 => vec![r.vector.acc, add(ph, pl).to_bits()],
                _ => vec![ph.to_bits(), pl.to_bits()],
            }
        },
    },
    Unit {
        name: "controller",
        inputs: STREAMS_IN,
        outputs: STEER_OUT,
        build: |c| unit_tree(c, &mut Controller::new(&UnitParams::from(c), c.policy == Policy::Daa), "controller"),
        golden: |p, i| {
            let h = high_stream(p, i[0], i[1], i[2], i[3]);
            vec![i[2 * h], i[2 * h + 1], i[2 - 2 * h], i[3 - 2 * h], h as u32]
        },
        stimulus: |_, r| r.ops.to_vec(),
    },
];

/// The unit named `name`.
pub fn unit(name: &str) -> Option<&'static Unit> {
    UNITS.iter().find(|u| u.name == name)
}

/// The unit (module suffix) that field `field` of a `parent` unit instantiates.
pub fn unit_of_field(parent: &str, field: &str) -> Option<String> {
    Some(
        match field {
            "ctrl" => "controller",
            "acc_loop" => "acc",
            "mul" => return Some(format!("{parent}_raw")),
            "mul_hi" => "fmul_raw",
            "mul_lo" => "fmul_lo_raw",
            "order" | "order_s" => "fadd_order",
            "shifter" | "shifter_s" => "fadd_shift",
            "norm" | "norm_s" => "fadd_norm",
            f if f.starts_with("unpack") => "unpack",
            f if f.starts_with("reduce") => "reduce",
            f if f.starts_with("round") => "round",
            f if f.starts_with("fadd") => "fadd",
            _ => return None,
        }
        .to_string(),
    )
}

/// One line on what a module (by its unit suffix) is, for its file header.
pub fn describe(unit: &str) -> String {
    let text = match unit {
        "controller" => "controller: keys (sum of the exponent fields, 0 for a zero operand), comparison, stream swap",
        "unpack" => "unpack: F_in code -> binary32, DAZ, canonical NaN",
        "reduce" => "reduce: low-path q(x), significand rounded to L fraction bits",
        "fmul" => "fmul: binary32 product of the full path (fmul_raw + round)",
        "fmul_lo" => "fmul_lo: binary32 product of the low path (fmul_lo_raw + round)",
        "fmul_raw" => "fmul_raw: special cases, exponent sum and significand product of the full path, unrounded",
        "fmul_lo_raw" => "fmul_lo_raw: the same for the low path (L+1-bit significands)",
        "round" => "round: the one round-and-pack unit (RNE, overflow to Inf, FTZ after rounding, canonical NaN)",
        "fadd" => "fadd: binary32 adder (fadd_order + fadd_shift + fadd_norm + round), DAZ/FTZ, canonical NaN",
        "fadd_order" => "fadd_order: special operands, operands ordered by magnitude, the alignment shift",
        "fadd_shift" => "fadd_shift: the smaller significand aligned by a log-depth shifter with sticky bits",
        "fadd_norm" => "fadd_norm: add/subtract, leading-zero count tree, log-depth normalisation",
        "acc" => "acc: the accumulation loop, interleave accumulators in a ring around a pipelined fadd",
        "lzc32" => "lzc32: leading-zero count of 32 bits, a 5-level tree",
        "pe_core" => "pe_core: the PE datapath at 32-bit operand width, pipelined as configured",
        "pe" => "pe: the PE with F_in-wide operand ports",
        "units" => "units: simulation-only top, every checked unit side by side",
        u if u.starts_with("mul") => {
            return format!("{u}: significand multiplier, written as a product so synthesis picks DSP blocks or a tree")
        }
        _ => "",
    };
    text.to_string()
}

/// The configuration whose units the units harness tests: the same format, L and
/// rounding with policy `daa` (so that the reducer and the comparator are live), at
/// pipeline 0 (units are combinational; the PE owns every pipeline register).
pub fn units_config(cfg: &Config) -> Config {
    let f = cfg.format;
    let rounding = if cfg.lo_rounding == crate::config::Rounding::NearestEven { "rne" } else { "rtz" };
    let name = format!("daa_units_e{}m{}_l{}_{rounding}", f.exp_bits(), f.frac_bits(), cfg.lo_bits);
    Config { policy: Policy::Daa, pipeline: 0, name, ..cfg.clone() }
}
