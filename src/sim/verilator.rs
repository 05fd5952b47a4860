//! Verilator harnesses: C++ from `templates/harness.cpp`, builds cached by a hash of
//! everything that goes into them, and streaming of binary records through the model.

use super::{cache_dir, require_tool, run_tool, write_sources, Expect};
use crate::rtl::emit::RtlFile;
use anyhow::{bail, Context, Result};
use askama::Template;
use sha2::{Digest, Sha256};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The record-stream I/O every harness includes (`sim/records.h`), built into the binary.
const RECORDS_H: &str = include_str!("../../sim/records.h");

/// What the harness drives and reads; each entry is one C++ statement over `top`, `i`, `o`.
#[derive(Template, Clone, Debug)]
#[template(path = "harness.cpp", escape = "none")]
pub struct HarnessSpec {
    /// Verilog top module.
    pub top: String,
    /// Statements applying input words `i[k]` to ports.
    pub inputs: Vec<String>,
    /// Statements reading outputs before the clock edge (clocked harnesses only).
    pub comb_outputs: Vec<String>,
    /// Statements reading outputs after evaluation (after the edge when clocked).
    pub reg_outputs: Vec<String>,
    /// One rising clock edge per record.
    pub clocked: bool,
    /// Input words per record.
    pub words_in: usize,
    /// Tool version, for the file header.
    pub version: &'static str,
}

impl HarnessSpec {
    /// A combinational harness.
    pub fn comb(top: &str, inputs: Vec<String>, outputs: Vec<String>) -> Self {
        HarnessSpec {
            top: top.into(),
            words_in: inputs.len(),
            inputs,
            comb_outputs: vec![],
            reg_outputs: outputs,
            clocked: false,
            version: env!("CARGO_PKG_VERSION"),
        }
    }

    fn words_out(&self) -> usize {
        self.comb_outputs.len() + self.reg_outputs.len()
    }
}

/// A built harness executable.
pub struct Harness {
    exe: PathBuf,
    words_in: usize,
    words_out: usize,
    /// Whether this call built it (false: taken from the cache).
    pub built: bool,
}

fn verilator_version(exe: &Path) -> Result<String> {
    let out = Command::new(exe).arg("--version").output().context("cannot run verilator --version")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Builds (or takes from the cache) a Verilator executable from `files` and the C++ `cpp`;
/// returns its path and whether this call built it.
pub fn build_exe(files: &[RtlFile], top: &str, cpp: &str) -> Result<(PathBuf, bool)> {
    build_exe_with(files, top, cpp, &[])
}

/// [`build_exe`] with extra Verilator arguments (part of the cache key).
pub fn build_exe_with(files: &[RtlFile], top: &str, cpp: &str, extra: &[&str]) -> Result<(PathBuf, bool)> {
    let verilator = require_tool("verilator")?;
    let mut flags = vec![
        "--cc",
        "--exe",
        "--build",
        "-O3",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "-j",
        "2",
        "-MAKEFLAGS",
        "OPT_FAST=-O2",
    ];
    flags.extend_from_slice(extra);
    let mut h = Sha256::new();
    h.update(verilator_version(&verilator)?);
    h.update(flags.join(" "));
    h.update(cpp);
    h.update(RECORDS_H);
    for f in files {
        h.update(f.file_name());
        h.update(&f.text);
    }
    let hash: String = h.finalize().iter().take(10).map(|b| format!("{b:02x}")).collect();
    let root = cache_dir().join("verilator");
    let dir = root.join(format!("{top}-{hash}"));
    let exe = dir.join("obj").join("harness");
    if exe.is_file() {
        return Ok((exe, false));
    }
    let tmp = root.join(format!(".tmp-{hash}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let sources = write_sources(&tmp.join("src"), files)?;
    let cpp_path = tmp.join("src").join("harness.cpp");
    std::fs::write(&cpp_path, cpp)?;
    std::fs::write(tmp.join("src").join("records.h"), RECORDS_H)?;
    let mut cmd = Command::new(&verilator);
    cmd.args(flags)
        .arg("--top-module")
        .arg(top)
        .arg("-Mdir")
        .arg(tmp.join("obj"))
        .args(&sources)
        .arg("-CFLAGS")
        .arg(format!("-I{}", tmp.join("src").display()))
        .arg(&cpp_path)
        .args(["-o", "harness"]);
    if let Err(e) = run_tool(&mut cmd, &format!("verilator build of {top} failed"), Expect::Success) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        // Another process finished the same build first: use its copy.
        Err(_) if exe.is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e).context(format!("cannot move the build into {}", dir.display())),
    }
    Ok((exe, true))
}

impl Harness {
    /// Builds (or takes from the cache) the harness for `files` with top `spec.top`.
    pub fn build(files: &[RtlFile], spec: &HarnessSpec) -> Result<Harness> {
        let (exe, built) = build_exe(files, &spec.top, &spec.render()?)?;
        Ok(Harness { exe, words_in: spec.words_in, words_out: spec.words_out(), built })
    }

    /// Streams `chunks` (input words plus a context for the checker) through the model;
    /// `check` gets each chunk's context and output words, in order.
    pub fn run<C: Send>(
        &self,
        chunks: impl Iterator<Item = (Vec<u32>, C)> + Send,
        mut check: impl FnMut(C, &[u32]) -> Result<()>,
    ) -> Result<()> {
        let mut child = Command::new(&self.exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", self.exe.display()))?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = BufReader::with_capacity(1 << 20, child.stdout.take().expect("piped"));
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, C)>(4);
        let words_in = self.words_in;
        let result = std::thread::scope(|s| -> Result<()> {
            let writer = s.spawn(move || -> Result<()> {
                let mut w = BufWriter::with_capacity(1 << 20, stdin);
                for (words, ctx) in chunks {
                    assert_eq!(words.len() % words_in, 0, "input chunk is not whole records");
                    let records = words.len() / words_in;
                    let bytes: Vec<u8> = words.iter().flat_map(|x| x.to_le_bytes()).collect();
                    if tx.send((records, ctx)).is_err() {
                        break;
                    }
                    if w.write_all(&bytes).is_err() {
                        break;
                    }
                }
                Ok(())
            });
            let mut buf = Vec::new();
            let mut res = Ok(());
            for (records, ctx) in rx {
                buf.resize(records * self.words_out * 4, 0);
                if let Err(e) = stdout.read_exact(&mut buf) {
                    res = Err(e).context("the Verilator harness stopped early");
                    break;
                }
                let words: Vec<u32> =
                    buf.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                if let Err(e) = check(ctx, &words) {
                    res = Err(e);
                    break;
                }
            }
            drop(stdout);
            writer.join().expect("writer thread")?;
            res
        });
        let _ = child.kill();
        let status = child.wait()?;
        result?;
        if !status.success() && status.code().is_some() {
            bail!("the Verilator harness exited with {status}");
        }
        Ok(())
    }
}

/// `verilator --lint-only -Wall` on `files` with top `top`; any warning is an error.
pub fn lint(files: &[RtlFile], top: &str) -> Result<()> {
    let verilator = require_tool("verilator")?;
    let dir = tempfile::tempdir()?;
    let paths = write_sources(dir.path(), files)?;
    let mut cmd = Command::new(verilator);
    cmd.args(["--lint-only", "-Wall", "--top-module", top]).args(&paths);
    run_tool(&mut cmd, &format!("verilator --lint-only -Wall on {top}"), Expect::Silent)?;
    Ok(())
}
