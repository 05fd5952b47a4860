//! daa-gen: generator and bit-exact golden model for Dynamic Asymmetric Architecture arrays.

pub mod cli;
pub mod config;
pub mod cost;
pub mod error;
pub mod files;
pub mod format;
pub mod golden;
pub mod grid;
pub mod limits;
pub mod npy;
pub mod plot;
pub mod rtl;
pub mod sim;
pub mod train;

/// The crate version (`daa --version`, the Python package's `__version__`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
