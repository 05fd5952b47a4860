//! The `daa` binary: parse, run, map errors to exit codes (2 for bad input, 1 otherwise).

use clap::Parser;
use daa_gen::cli::{run, Cli};
use daa_gen::error::{exit_code, report};

fn main() {
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
