//! The Python package (`python/`): rebuilds it into the project's venv, then runs its pytest
//! tests against this build's `daa` command.
//!
//! Rebuilding here (`maturin develop --release`, a no-op check when nothing changed) means a
//! change to the golden model is never tested through a stale extension module. The nested
//! cargo shares `target/`: cargo releases the build-directory lock before it runs the test
//! binaries, so it does not wait on this `cargo test`, and it reuses the compiled
//! dependencies and `daa-gen` itself (docs/python.md).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn python_package_builds_and_its_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !common::have_python(&["numpy", "pytest", "daa_gen"]) {
        return;
    }
    let python = common::venv_bin().expect("checked").join("python");
    let tests = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"])
        .current_dir(root)
        .env("DAA_BIN", env!("CARGO_BIN_EXE_daa"))
        .status()
        .expect("running pytest");
    assert!(tests.success(), "pytest failed (reproduce: .venv/bin/python -m pytest python/tests)");
}
