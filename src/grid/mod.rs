//! The systolic grid: its top level rendered from `templates/grid.v` over the PE module,
//! and the cycle model that reproduces its timing.

pub mod cycles;
pub mod package;
pub mod verify;

use crate::config::Config;
use crate::rtl::emit::{pe_files, RtlFile};

use anyhow::Result;
use askama::Template;

#[derive(Template)]
#[template(path = "grid.v", escape = "none")]
struct GridTop<'a> {
    name: &'a str,
    version: &'static str,
    format: String,
    policy: &'static str,
    lo_bits: u32,
    lo_rounding: &'static str,
    rows: u32,
    cols: u32,
    pipeline: u32,
    interleave: u32,
    tile_rows: u32,
    group_bits: u32,
    width: u32,
    lanes: u32,
    latency: u32,
    row_bits: u32,
    dual: bool,
}

#[derive(Template)]
#[template(path = "axis.v", escape = "none")]
struct AxisTop<'a> {
    name: &'a str,
    version: &'static str,
    rows: u32,
    cols: u32,
    interleave: u32,
    group_bits: u32,
    row_bits: u32,
    a_bits: u32,
    b_bits: u32,
    in_bytes: u32,
    pad_bits: u32,
    dual: bool,
    row_count_bits: u32,
    all_count_bits: u32,
    regs: Vec<RegCase>,
    control: String,
}

/// Identification word of the AXI4-Lite register map (offset 0x00): "DAA1" in ASCII.
pub const AXIL_ID: u32 = 0x4441_4131;

/// What an AXI4-Lite register reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxilSource {
    /// A constant of the configuration (`axil_constant`).
    Constant,
    /// A 32-bit expression of the top's signals.
    Word(&'static str),
    /// A 64-bit counter: the low word at the offset (reading it freezes the high word),
    /// the high word at offset + 4.
    Counter(&'static str),
    /// Write-only; reads 0.
    Control,
}

/// One register of the AXI4-Lite slave of `<name>_axis`.
#[derive(Clone, Copy, Debug)]
pub struct AxilRegister {
    /// Name, as in README.md and manifest.json.
    pub name: &'static str,
    /// Byte offset.
    pub offset: u32,
    /// What it reads.
    pub source: AxilSource,
    /// Present only for the dual-stream policies.
    pub dual_only: bool,
    /// What it means.
    pub meaning: &'static str,
}

/// The register map of the AXI4-Lite slave: the template, README.md, manifest.json and the
/// cocotb testbench all read it from here.
pub const AXIL_REGISTERS: &[AxilRegister] = &[
    AxilRegister { name: "ID", offset: 0x00, source: AxilSource::Constant, dual_only: false, meaning: "0x44414131, \"DAA1\" in ASCII" },
    AxilRegister { name: "SHAPE", offset: 0x04, source: AxilSource::Constant, dual_only: false, meaning: "rows R in [15:0], columns C in [31:16]" },
    AxilRegister { name: "CONFIG", offset: 0x08, source: AxilSource::Constant, dual_only: false, meaning: "policy in [3:0] (0 daa, 1 static, 2 full, 3 single), lanes in [7:4], interleave in [11:8], pipeline in [15:12], PE latency in [23:16]" },
    AxilRegister { name: "FORMAT", offset: 0x0C, source: AxilSource::Constant, dual_only: false, meaning: "exponent bits X in [7:0], fraction bits Y in [15:8], lo_bits L in [23:16], lo_rounding in [24] (1 = toward-zero); L and the rounding are the configured values, unused by `single`" },
    AxilRegister { name: "STATUS", offset: 0x10, source: AxilSource::Word("{25'd0, open_tiles, error, m_axis_tvalid, s_axis_tready, busy}"), dual_only: false, meaning: "[0] busy (a tile is open: its first beat taken, its last row not yet out), [1] s_axis_tready, [2] m_axis_tvalid, [3] protocol error (interleave > 1: TLAST not on the last round's final beat; sticky), [6:4] open tiles" },
    AxilRegister { name: "CONTROL", offset: 0x14, source: AxilSource::Control, dual_only: false, meaning: "write 1 to bit 0: clear every counter and the protocol error (one cycle later); reads 0" },
    AxilRegister { name: "CYCLES", offset: 0x18, source: AxilSource::Counter("cycles"), dual_only: false, meaning: "cycles since reset or clear" },
    AxilRegister { name: "BUSY_CYCLES", offset: 0x20, source: AxilSource::Counter("busy_cycles"), dual_only: false, meaning: "cycles with STATUS.busy set: from the cycle after a tile's first beat is taken to the cycle its last row leaves" },
    AxilRegister { name: "IN_STALL_CYCLES", offset: 0x28, source: AxilSource::Counter("in_stall_cycles"), dual_only: false, meaning: "cycles with s_axis_tvalid high and s_axis_tready low" },
    AxilRegister { name: "OUT_STALL_CYCLES", offset: 0x30, source: AxilSource::Counter("out_stall_cycles"), dual_only: false, meaning: "cycles with m_axis_tvalid high and m_axis_tready low" },
    AxilRegister { name: "TILES_DONE", offset: 0x38, source: AxilSource::Counter("tiles_done"), dual_only: false, meaning: "tiles whose last row left (m_axis TLAST transfers)" },
    AxilRegister { name: "BEATS_IN", offset: 0x40, source: AxilSource::Counter("beats_in"), dual_only: false, meaning: "operand beats taken" },
    AxilRegister { name: "ROWS_OUT", offset: 0x48, source: AxilSource::Counter("rows_out"), dual_only: false, meaning: "result rows sent" },
    AxilRegister { name: "PE_STEPS", offset: 0x50, source: AxilSource::Counter("pe_steps"), dual_only: true, meaning: "PE steps issued: R x C per beat taken" },
    AxilRegister { name: "STREAM0_FULL", offset: 0x58, source: AxilSource::Counter("stream0_full"), dual_only: true, meaning: "PE steps whose full multiplier went to stream 0: PE_STEPS - STREAM1_FULL (for `full`, whose multipliers are both full, every step); STREAM1_FULL lags PE_STEPS while beats are in the array, so read both when STATUS.busy is 0" },
    AxilRegister { name: "STREAM1_FULL", offset: 0x60, source: AxilSource::Counter("stream1_full"), dual_only: true, meaning: "PE steps whose full multiplier went to stream 1 (the sum of the native pe_high over time)" },
];

/// The registers `cfg`'s AXI4-Lite slave has.
pub fn axil_registers(cfg: &Config) -> Vec<&'static AxilRegister> {
    AXIL_REGISTERS.iter().filter(|r| cfg.policy.is_dual() || !r.dual_only).collect()
}

/// The value of a constant register.
pub fn axil_constant(cfg: &Config, name: &str) -> Option<u32> {
    match name {
        "ID" => Some(AXIL_ID),
        "SHAPE" => Some(cfg.cols << 16 | cfg.rows),
        "CONFIG" => Some(axil_config_word(cfg)),
        "FORMAT" => Some(axil_format_word(cfg)),
        _ => None,
    }
}

/// A register as the template writes its read multiplexer: word index, Verilog source.
struct RegCase {
    lo: String,
    hi: String,
    expr: String,
    wide: bool,
}

/// Bits that hold the unsigned value `x`.
fn bits_for(x: u32) -> u32 {
    32 - x.leading_zeros()
}

/// The AXI4-Lite CONFIG word (offset 0x08): policy code (0 daa, 1 static, 2 full, 3 single)
/// in [3:0], lanes in [7:4], interleave in [11:8], pipeline in [15:12], PE latency in [23:16].
pub fn axil_config_word(cfg: &Config) -> u32 {
    let policy = crate::config::Policy::ALL.iter().position(|p| *p == cfg.policy).expect("listed") as u32;
    policy | lanes(cfg) << 4 | cfg.interleave << 8 | cfg.pipeline << 12 | cfg.latency() << 16
}

/// The AXI4-Lite FORMAT word (offset 0x0C): exponent bits X in [7:0], fraction bits Y in
/// [15:8], lo_bits L in [23:16], lo_rounding in bit 24 (1 = toward-zero).
pub fn axil_format_word(cfg: &Config) -> u32 {
    let tz = (cfg.lo_rounding == crate::config::Rounding::TowardZero) as u32;
    cfg.format.exp_bits() | cfg.format.frac_bits() << 8 | cfg.lo_bits << 16 | tz << 24
}

/// Bits of one operand beat: (A bits, B bits) = (R, C) x lanes x W.
pub fn beat_bits(cfg: &Config) -> (u32, u32) {
    let lw = lanes(cfg) * cfg.format.width();
    (cfg.rows * lw, cfg.cols * lw)
}

/// Bits of the AXI4-Stream operand TDATA: a beat padded to whole bytes, as AXI4-Stream
/// requires.
pub fn s_tdata_bits(cfg: &Config) -> u32 {
    let (a_bits, b_bits) = beat_bits(cfg);
    (a_bits + b_bits).div_ceil(8) * 8
}

/// The AXI4-Stream top `<name>_axis` over the native top.
pub fn axis_top(cfg: &Config) -> Result<RtlFile> {
    let (a_bits, b_bits) = beat_bits(cfg);
    let in_bytes = s_tdata_bits(cfg) / 8;
    let row_count_bits = bits_for(cfg.cols) + 1;
    let top = AxisTop {
        name: &cfg.name,
        version: env!("CARGO_PKG_VERSION"),
        rows: cfg.rows,
        cols: cfg.cols,
        interleave: cfg.interleave,
        group_bits: row_bits(cfg.interleave),
        row_bits: row_bits(cfg.tile_rows()),
        a_bits,
        b_bits,
        in_bytes,
        pad_bits: in_bytes * 8 - a_bits - b_bits,
        dual: cfg.policy.is_dual(),
        row_count_bits,
        all_count_bits: row_count_bits + bits_for(cfg.rows),
        regs: axil_registers(cfg)
            .into_iter()
            .filter_map(|r| {
                let (expr, wide) = match r.source {
                    AxilSource::Constant => (format!("32'h{:08x}", axil_constant(cfg, r.name)?), false),
                    AxilSource::Word(e) => (e.to_string(), false),
                    AxilSource::Counter(c) => (c.to_string(), true),
                    AxilSource::Control => return None,
                };
                Some(RegCase {
                    lo: format!("{:02x}", r.offset / 4),
                    hi: format!("{:02x}", r.offset / 4 + 1),
                    expr,
                    wide,
                })
            })
            .collect(),
        control: format!(
            "{:02x}",
            AXIL_REGISTERS.iter().find(|r| r.source == AxilSource::Control).expect("listed").offset / 4
        ),
    };
    Ok(RtlFile { module: format!("{}_axis", cfg.name), text: top.render()? + "\n" })
}

/// Operand lanes per link: 2 for the dual-stream policies, 1 for `single`.
pub fn lanes(cfg: &Config) -> u32 {
    if cfg.policy.is_dual() {
        2
    } else {
        1
    }
}

/// Bits of the output row index.
pub fn row_bits(rows: u32) -> u32 {
    (32 - (rows.max(2) - 1).leading_zeros()).max(1)
}

/// The grid's top module `<name>` as a file.
pub fn grid_top(cfg: &Config) -> Result<RtlFile> {
    let top = GridTop {
        name: &cfg.name,
        version: env!("CARGO_PKG_VERSION"),
        format: format!("{} (e{}m{})", cfg.format.name(), cfg.format.exp_bits(), cfg.format.frac_bits()),
        policy: cfg.policy.name(),
        lo_bits: cfg.lo_bits,
        lo_rounding: cfg.lo_rounding.name(),
        rows: cfg.rows,
        cols: cfg.cols,
        pipeline: cfg.pipeline,
        interleave: cfg.interleave,
        tile_rows: cfg.tile_rows(),
        group_bits: row_bits(cfg.interleave),
        width: cfg.format.width(),
        lanes: lanes(cfg),
        latency: cfg.latency(),
        row_bits: row_bits(cfg.tile_rows()),
        dual: cfg.policy.is_dual(),
    };
    Ok(RtlFile { module: cfg.name.clone(), text: top.render()? + "\n" })
}

/// Every Verilog file of the array: the top, the PE and its units.
pub fn grid_files(cfg: &Config) -> Result<Vec<RtlFile>> {
    let mut files = vec![grid_top(cfg)?];
    files.extend(pe_files(cfg)?);
    Ok(files)
}
