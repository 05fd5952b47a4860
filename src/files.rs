//! Atomic file output: write beside the target, then rename, so no half-written file is left.

use anyhow::{Context, Result};
use std::io::{BufWriter, Write};
use std::path::Path;

/// Writes `path` through `fill`; on any error the previous file (or its absence) is untouched.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".daa-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w)?;
        w.flush().with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.persist(path).with_context(|| format!("cannot move the output into place at {}", path.display()))?;
    Ok(())
}

/// Writes a string atomically.
pub fn write_string_atomic(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
}
