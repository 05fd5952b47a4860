//! The Python package (`python/`): rebuilds it into the project's venv, then runs its pytest
//! tests against this build's `daa` command.
//!
//! Rebuilding here (`maturin develop --release`, a no-op check when nothing changed) means a
//! change to the golden model is never tested through a stale extension module. The nested
//! cargo shares `target/`: cargo releases the build-directory lock before it runs the test
//! binaries, so it does not wait on this `cargo test`, and it reuses the compiled
//! dependencies and `daa-gen` itself (docs/python.md).

use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install maturin pytest numpy \
                       (bash .ci/run does this)";

/// The venv's tools, or `None` after failing (under CI) or reporting the skip.
fn venv(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let bin = root.join(".venv").join("bin");
    let (python, maturin) = (bin.join("python"), bin.join("maturin"));
    let mut missing = Vec::new();
    for tool in [&python, &maturin] {
        if !tool.is_file() {
            missing.push(tool.display().to_string());
        }
    }
    if missing.is_empty() {
        let imports = Command::new(&python).args(["-c", "import numpy, pytest"]).output();
        if !imports.is_ok_and(|o| o.status.success()) {
            missing.push("the Python modules numpy and pytest in .venv".to_string());
        }
    }
    if missing.is_empty() {
        return Some((python, maturin));
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {missing:?} is missing: {INSTALL}");
    }
    eprintln!("skipping the Python package's tests: {missing:?} missing: {INSTALL}");
    None
}

#[test]
fn python_package_builds_and_its_tests_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some((python, maturin)) = venv(root) else { return };
    let venv_dir = root.join(".venv");
    let build = Command::new(&maturin)
        .args(["develop", "--release"])
        .current_dir(root.join("python"))
        .env("VIRTUAL_ENV", &venv_dir)
        .output()
        .expect("running maturin");
    let log = String::from_utf8_lossy(&build.stderr);
    eprintln!("{log}");
    assert!(
        build.status.success(),
        "building the Python package failed: cd python && ../.venv/bin/maturin develop --release"
    );
    // This test's own build has just made daa-gen in release; compiling it again means the
    // features of a dependency shared with python/Cargo.toml drifted apart, and every build
    // of the package compiles the model twice (docs/python.md, "Sharing target/").
    if !cfg!(debug_assertions) {
        assert!(
            !log.contains("Compiling daa-gen v"),
            "the Python package's build compiled daa-gen a second time: align the dependency features \
             of python/Cargo.toml and Cargo.toml (docs/python.md)"
        );
    }
    let tests = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests"])
        .current_dir(root)
        .env("DAA_BIN", env!("CARGO_BIN_EXE_daa"))
        .status()
        .expect("running pytest");
    assert!(tests.success(), "pytest failed (reproduce: .venv/bin/python -m pytest python/tests)");
}
