//! The PE and its units as rust-hdl descriptions, and their emission as Verilog files.
//!
//! Every unit is built at the maximum width (32-bit codes, binary32 internals) and takes
//! its format-dependent values as `Constant`s (emitted as `localparam`s), so one binary
//! serves any format and L; Yosys constant propagation trims the logic to the
//! configuration. See `docs/pe.md`.

pub mod controller;
pub mod emit;
pub mod fadd;
pub mod fmul;
pub mod pe;
pub mod reduce;
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
