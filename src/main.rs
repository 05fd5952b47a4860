//! The `daa` binary: parse, run, map errors to exit codes (2 for bad input, 1 otherwise).

use clap::Parser;
use daa_gen::cli::{run, Cli};
use daa_gen::error::{exit_code, report};

fn main() {
    keep_freed_memory();
    let cli = Cli::parse();
    let result = run(cli, &mut std::io::stdout());
    if let Err(e) = result {
        eprintln!("error: {}", report(&e));
        let code = exit_code(&e);
        // Dropped before exiting: an error may own a temporary file that its drop removes.
        drop(e);
        std::process::exit(code);
    }
}

/// Keeps freed memory in the heap instead of returning it to the kernel.
///
/// glibc serves blocks above its mmap threshold (at most 32 MiB once it has adapted) with
/// fresh mappings and unmaps them on free; training allocates and frees its operand,
/// column and result buffers in every GEMM, so each came back as new pages that fault in
/// and are zeroed by the kernel again. With the threshold at its maximum and no trimming,
/// a resnet-mini bf16 `daa` epoch on 1,920 images took 2.6-2.7 s instead of 3.4-3.8 s.
/// The cost: memory is not given back after the peak, and each allocator arena (one per
/// busy thread, at most a few here) keeps its own peak.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
