//! The bit-exact golden model: arithmetic, the PE step, the GEMM; its test vectors, its
//! first look at a GEMM's error (`daa gemm`) and its benchmark (`daa bench`).

pub mod arith;
pub mod bench;
pub mod explore;
mod fast;
pub mod gemm;
pub mod pe;
pub mod simd;
pub mod softfloat;
pub mod vectors;
