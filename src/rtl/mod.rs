//! The PE and its units as rust-hdl descriptions, and their emission as Verilog files.
//!
//! The binary32 units (`fmul`, `fadd`, `round`) have the widths of binary32; the
//! format-dependent units (`unpack`, `controller`, `reduce`) take 32-bit codes and carry
//! every format-dependent value as a `Constant` (a `localparam`), so one binary serves
//! any format and L and synthesis trims the logic to the configuration. Products are
//! multiplications of their real widths. Emission is our own back end over rust-hdl's
//! AST (`hdl`). See `docs/pe.md`.

/// A comment in a `#[hdl_gen]` kernel: emitted into the Verilog, nothing in Rust.
macro_rules! comment {
    ($text:literal) => {};
}

pub mod acc;
pub mod controller;
pub mod emit;
pub mod fadd;
pub mod fmul;
pub mod hdl;
pub mod leaf;
pub mod pe;
pub mod reduce;
pub mod round;
pub mod units;
pub mod unpack;

pub use controller::Controller;
pub use fadd::Fadd;
pub use fmul::Fmul;
pub use reduce::Reduce;
pub use unpack::Unpack;

use rust_hdl::prelude::*;

/// Everything a unit's constants depend on (the golden model's PE parameters).
pub type UnitParams = crate::golden::pe::PeParams;

/// A `localparam` of width `N` holding `v`.
pub(crate) fn c<const N: usize>(v: u64) -> Constant<Bits<N>> {
    Constant::new(Bits::<N>::from(v))
}
