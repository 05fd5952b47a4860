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
