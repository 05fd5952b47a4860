//! The bit-exact golden model: arithmetic, the PE step, the GEMM.

pub mod arith;
pub mod gemm;
pub mod pe;
pub mod softfloat;
