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

/// Replaces directory `dir` with exactly `files` (name, text): everything is written to a
/// sibling temporary directory first, so a failure leaves the previous `dir` untouched.
pub fn write_dir_atomic(dir: &Path, files: &[(String, String)]) -> Result<()> {
    let parent = match dir.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create directory {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".daa-tmp-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a temporary directory in {}", parent.display()))?;
    for (name, text) in files {
        let path = tmp.path().join(name);
        if let Some(sub) = path.parent() {
            std::fs::create_dir_all(sub).with_context(|| format!("cannot create the directory of {name}"))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {name}"))?;
    }
    let old = parent.join(format!(".daa-old-{}", std::process::id()));
    let had = dir.exists();
    if had {
        std::fs::rename(dir, &old).with_context(|| format!("cannot move the old {} aside", dir.display()))?;
    }
    let kept = tmp.keep();
    if let Err(e) = std::fs::rename(&kept, dir) {
        if had {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&kept);
        return Err(e).with_context(|| format!("cannot move the output into place at {}", dir.display()));
    }
    if had {
        std::fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}
