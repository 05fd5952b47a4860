//! CNN training on the golden model (docs/training.md): every conv and linear GEMM
//! through the policy's exact arithmetic, everything else in binary32.

pub mod checkpoint;
pub mod data;
pub mod engine;
pub mod layers;
pub mod models;
pub mod optim;
pub mod run;
pub mod tensor;
