//! The `daa` binary: parse, run, map errors to exit codes (2 for bad input, 1 otherwise).

use clap::Parser;
use daa_gen::cli::{run, Cli};
use daa_gen::error::exit_code;

fn main() {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = run(cli, &mut stdout) {
        eprintln!("error: {e:#}");
        std::process::exit(exit_code(&e));
    }
}
