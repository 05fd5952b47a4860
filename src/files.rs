//! Every file and directory a command writes goes through here (`docs/limits.md`, "Output").
//!
//! - Outputs are written to temporaries beside their targets and renamed into place, so a
//!   failed run leaves every previous output untouched and no half-written file; the files
//!   of one command are renamed together, and if one rename fails the others are undone.
//! - Temporaries are named `.daa-tmp-<pid>-*` (and moved-aside old outputs
//!   `.daa-old-<pid>-*`): every error path removes its own, and every later write into the
//!   same directory removes those of processes that no longer exist (a killed run's).
//! - Files get the mode the umask gives (0644 with the usual umask), like any other tool's.
//! - A package directory (`daa generate`) is replaced only while holding a lock on its
//!   parent directory, only when its `manifest.json` accounts for every file in it with
//!   the hash it was written with (or with `force`), and by an atomic exchange where the
//!   system has one.
//!
//! Locking, the exchange and the liveness test use `rustix` (already in the tree through
//! `tempfile`): one well-kept crate for `flock`, `renameat2(RENAME_EXCHANGE)` and
//! `kill(pid, 0)`, where `fs4` would add a second crate for the lock alone. The lock is on
//! the directory itself, so no lock file is left behind.

use crate::error::InputError;
use anyhow::Result;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Prefix of a temporary being written.
const TMP: &str = ".daa-tmp-";
/// Prefix of an old output moved aside while its replacement goes in.
const OLD: &str = ".daa-old-";
/// The file of a package that lists every other file with its sha256.
pub const MANIFEST: &str = "manifest.json";

/// The directory `path` lives in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn cannot_write(path: &Path, e: impl std::fmt::Display) -> anyhow::Error {
    InputError::msg(format!("cannot write {}: {e}", path.display())).into()
}

/// Checks, before any work, that `path` (the value of `--<field>`) can name an output file:
/// not an existing directory, and no existing non-directory on the way to it.
pub fn check_output_file(field: &str, path: &Path) -> Result<(), InputError> {
    let shown = path.display().to_string();
    if path.as_os_str().is_empty() {
        return Err(InputError::field(field, "", "a file path"));
    }
    if path.is_dir() {
        return Err(InputError::field(field, &shown, "a file path, not a directory"));
    }
    for a in path.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()) {
        if a.exists() {
            if !a.is_dir() {
                return Err(InputError::field(
                    field,
                    &shown,
                    &format!("a file path ({} is not a directory)", a.display()),
                ));
            }
            break;
        }
    }
    Ok(())
}

/// Checks that two outputs of one command are different files (`--stats` equal to `--out`
/// would silently overwrite one with the other).
pub fn check_distinct(a: (&str, &Path), b: (&str, &Path)) -> Result<(), InputError> {
    let norm = |p: &Path| {
        let dir = std::fs::canonicalize(parent_of(p)).unwrap_or_else(|_| parent_of(p).to_path_buf());
        dir.join(p.file_name().unwrap_or_default())
    };
    if norm(a.1) == norm(b.1) {
        return Err(InputError::field(
            b.0,
            &b.1.display().to_string(),
            &format!("a file other than --{} ({})", a.0, a.1.display()),
        ));
    }
    Ok(())
}

/// Creates `dir` and its missing ancestors; returns the ones it created, outermost first,
/// so that a failed command can remove them again.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<PathBuf> =
        dir.ancestors().take_while(|a| !a.as_os_str().is_empty() && !a.exists()).map(Path::to_path_buf).collect();
    std::fs::create_dir_all(dir).map_err(|e| cannot_write(dir, e))?;
    Ok(missing.into_iter().rev().collect())
}

/// Removes directories [`create_dirs`] made, innermost first, if they are still empty.
fn remove_created(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// A builder of temporaries named for this process (so a later run knows whose they are),
/// with the given mode before the umask.
fn temp_builder<'a>(prefix: &'a str, mode: u32) -> tempfile::Builder<'a, 'a> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    b.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    b
}

fn temp_prefix() -> String {
    format!("{TMP}{}-", std::process::id())
}

/// A temporary file beside its target.
fn temp_file(dir: &Path) -> Result<tempfile::NamedTempFile> {
    temp_builder(&temp_prefix(), 0o666).tempfile_in(dir).map_err(|e| cannot_write(dir, e))
}

/// One output of a command, filled and waiting to be renamed into place.
struct Pending {
    target: PathBuf,
    tmp: tempfile::TempPath,
}

/// Writes every output or none: each goes to a temporary first, then all are renamed;
/// when a rename fails, the outputs already renamed get their previous contents back.
pub struct OutputSet {
    pending: Vec<Pending>,
    created: Vec<PathBuf>,
}

impl Default for OutputSet {
    fn default() -> Self {
        Self::new()
    }
}

impl OutputSet {
    /// Nothing yet.
    pub fn new() -> OutputSet {
        OutputSet { pending: Vec::new(), created: Vec::new() }
    }

    /// Adds `path`, written by `fill` into its temporary now.
    pub fn add(&mut self, path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        let dir = parent_of(path);
        self.created.extend(create_dirs(dir)?);
        clean_stale(dir);
        let tmp = temp_file(dir)?;
        {
            let mut w = BufWriter::new(tmp.as_file());
            fill(&mut w)?;
            w.flush().map_err(|e| cannot_write(path, e))?;
        }
        self.pending.push(Pending { target: path.to_path_buf(), tmp: tmp.into_temp_path() });
        Ok(())
    }

    /// Adds `path` with the given contents.
    pub fn add_bytes(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.add(path, |w| Ok(w.write_all(bytes)?))
    }

    /// The file names of the outputs added so far, in order.
    pub fn names(&self) -> Vec<String> {
        self.pending
            .iter()
            .map(|p| p.target.file_name().map_or(String::new(), |n| n.to_string_lossy().into_owned()))
            .collect()
    }

    /// Renames every temporary into place, or none (see the type).
    pub fn commit(mut self) -> Result<()> {
        let pending = std::mem::take(&mut self.pending);
        let several = pending.len() > 1;
        for p in &pending {
            if p.target.is_dir() {
                return Err(cannot_write(&p.target, "it is a directory"));
            }
        }
        // Old contents are kept (hard links) until every rename has succeeded.
        let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        let mut result = Ok(());
        for p in pending {
            let backup = if several && p.target.is_file() { backup_of(&p.target) } else { None };
            match p.tmp.persist(&p.target) {
                Ok(()) => done.push((p.target, backup)),
                Err(e) => {
                    // The temporary goes with `e`; dropping it here removes the file.
                    let err = cannot_write(&p.target, &e.error);
                    drop(e);
                    if let Some(b) = backup {
                        let _ = std::fs::remove_file(b);
                    }
                    result = Err(err);
                    break;
                }
            }
        }
        for (target, backup) in done {
            match (&result, backup) {
                (Ok(()), Some(b)) => {
                    let _ = std::fs::remove_file(b);
                }
                (Ok(()), None) => {}
                (Err(_), Some(b)) => {
                    let _ = std::fs::rename(b, &target);
                }
                (Err(_), None) => {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
        if result.is_err() {
            remove_created(&self.created);
        }
        self.created.clear();
        result
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        // Not committed (an error on the way): the temporaries go with `pending`.
        self.pending.clear();
        remove_created(&self.created);
    }
}

/// A hard link to `target` under an `.daa-old-` name, to restore it if a later rename fails.
fn backup_of(target: &Path) -> Option<PathBuf> {
    let dir = parent_of(target);
    let name = format!("{OLD}{}-{}", std::process::id(), unique());
    let b = dir.join(name);
    std::fs::hard_link(target, &b).ok().map(|_| b)
}

/// A string no other name of this process uses.
fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{t:08x}{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Writes `path` through `fill`; on any error the previous file (or its absence) is untouched.
pub fn write_atomic(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut set = OutputSet::new();
    set.add(path, fill)?;
    set.commit()
}

/// Writes a string atomically.
pub fn write_string_atomic(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| Ok(w.write_all(text.as_bytes())?))
}

/// sha256 of `bytes` as lowercase hex, as `manifest.json` lists it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `files` list of a manifest: every (name, text) with its sha256.
pub fn manifest_files(files: &[(String, String)]) -> serde_json::Value {
    files.iter().map(|(f, t)| serde_json::json!({ "path": f, "sha256": sha256_hex(t.as_bytes()) })).collect()
}

/// Writes the package directory `dir` with exactly `files` (name, text), one of them
/// [`MANIFEST`] listing every other with its sha256.
///
/// While holding a lock on the parent directory: removes dead processes' temporaries there
/// (putting back a package a killed run had moved aside), refuses — unless `force` — to
/// replace anything at `dir` that this tool did not write (a file, a symlink, a directory
/// without a manifest, a file not in the manifest or changed since), writes everything to
/// a temporary directory and exchanges it with `dir`. A failure at any point leaves the
/// previous `dir` untouched.
pub fn write_package(dir: &Path, files: &[(String, String)], force: bool) -> Result<()> {
    let parent = parent_of(dir);
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() || name == "." || name == ".." {
        return Err(InputError::msg(format!("{} cannot be a package directory", dir.display())).into());
    }
    let created = create_dirs(parent)?;
    let result = (|| -> Result<()> {
        let _lock = DirLock::acquire(parent)?;
        recover_and_clean(parent);
        if !force {
            check_replaceable(dir)?;
        }
        let tmp = temp_dir(parent)?;
        for (f, text) in files {
            let path = tmp.path().join(f);
            if let Some(sub) = path.parent() {
                std::fs::create_dir_all(sub).map_err(|e| cannot_write(sub, e))?;
            }
            std::fs::write(&path, text).map_err(|e| cannot_write(&path, e))?;
        }
        // The user's simulator outputs wait beside the package and move into the new one.
        let build = dir.join(PACKAGE_BUILD_DIR);
        let aside = parent.join(format!("{}{}", temp_prefix(), PACKAGE_BUILD_DIR));
        let kept = build.symlink_metadata().is_ok_and(|m| m.is_dir()) && std::fs::rename(&build, &aside).is_ok();
        let installed = install_dir(tmp, dir, &name);
        if kept {
            // Into the new package, or back into the old one if it stayed.
            std::fs::rename(&aside, &build).map_err(|e| cannot_write(&build, e))?;
        }
        installed
    })();
    if result.is_err() {
        remove_created(&created);
    }
    result
}

/// The directory of a package where its README sends simulator outputs: not part of the
/// package, kept when the package is regenerated.
pub const PACKAGE_BUILD_DIR: &str = "build";

/// A temporary directory beside the package.
fn temp_dir(dir: &Path) -> Result<tempfile::TempDir> {
    temp_builder(&temp_prefix(), 0o777).tempdir_in(dir).map_err(|e| cannot_write(dir, e))
}

/// Puts the finished temporary directory at `dir`.
fn install_dir(tmp: tempfile::TempDir, dir: &Path, name: &str) -> Result<()> {
    let exists = dir.symlink_metadata().is_ok();
    if !exists {
        return std::fs::rename(tmp.path(), dir).map_err(|e| cannot_write(dir, e));
    }
    if exchange(tmp.path(), dir).is_ok() {
        // `tmp` now holds the old contents; dropping it removes them.
        if tmp.path().is_dir() {
            drop(tmp);
        } else {
            let p = tmp.keep();
            let _ = std::fs::remove_file(p);
        }
        return Ok(());
    }
    swap_by_renames(tmp.path(), dir, name)
}

/// Where there is no exchange: moves the old `dir` aside under a name that says which
/// package it is, so that a run killed between the two renames is repaired by the next.
fn swap_by_renames(new: &Path, dir: &Path, name: &str) -> Result<()> {
    let old = parent_of(dir).join(format!("{OLD}{}-{}-{name}", std::process::id(), unique()));
    std::fs::rename(dir, &old).map_err(|e| cannot_write(dir, e))?;
    if let Err(e) = std::fs::rename(new, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(cannot_write(dir, e));
    }
    remove_any(&old);
    Ok(())
}

/// Atomically swaps two paths (Linux `renameat2(RENAME_EXCHANGE)`, macOS `renamex_np`).
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "ios"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "ios")))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

fn remove_any(p: &Path) {
    match p.symlink_metadata() {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// An exclusive lock on a directory, released when dropped (or when the process dies).
struct DirLock {
    #[cfg(unix)]
    _file: std::fs::File,
}

impl DirLock {
    fn acquire(dir: &Path) -> Result<DirLock> {
        #[cfg(unix)]
        {
            let file = std::fs::File::open(dir).map_err(|e| cannot_write(dir, e))?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
                .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", dir.display()))?;
            Ok(DirLock { _file: file })
        }
        #[cfg(not(unix))]
        {
            let _ = dir;
            Ok(DirLock {})
        }
    }
}

/// The pid in a temporary's name, if it is one of ours: (kind prefix, pid, rest of the name).
fn parse_temp(name: &str) -> Option<(&'static str, u32, &str)> {
    let (kind, rest) = [TMP, OLD].iter().find_map(|k| name.strip_prefix(k).map(|r| (*k, r)))?;
    let (pid, rest) = rest.split_once('-')?;
    Some((kind, pid.parse().ok()?, rest))
}

/// Whether process `pid` is gone (never true for this process; unknown counts as alive).
fn is_dead(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    #[cfg(unix)]
    {
        match i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
            Some(p) => rustix::process::test_kill_process(p) == Err(rustix::io::Errno::SRCH),
            None => false,
        }
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Removes the temporaries of dead processes in `dir` (best effort).
pub fn clean_stale(dir: &Path) {
    for (path, _, _) in stale(dir) {
        remove_any(&path);
    }
}

/// Dead processes' temporaries in `dir`: (path, kind, rest of the name).
fn stale(dir: &Path) -> Vec<(PathBuf, &'static str, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (kind, pid, rest) = parse_temp(&name)?;
            is_dead(pid).then(|| (e.path(), kind, rest.to_string()))
        })
        .collect()
}

/// [`clean_stale`], but first puts back a package that a killed run had moved aside
/// (`.daa-old-<pid>-<unique>-<name>` with no `<name>`). Called under the directory's lock.
fn recover_and_clean(dir: &Path) {
    for (path, kind, rest) in stale(dir) {
        if kind == OLD {
            if let Some((_, name)) = rest.split_once('-') {
                let home = dir.join(name);
                if !name.is_empty() && path.is_dir() && home.symlink_metadata().is_err() {
                    let _ = std::fs::rename(&path, &home);
                    continue;
                }
            }
        }
        remove_any(&path);
    }
}

/// The refusal rule of `daa generate`: `dir` may be replaced only if it does not exist or
/// is a directory whose manifest lists every file in it with its current sha256.
fn check_replaceable(dir: &Path) -> Result<(), InputError> {
    let how = "move it away, choose another --out or --name, or pass --force to replace it";
    let shown = dir.display();
    let Ok(meta) = dir.symlink_metadata() else { return Ok(()) };
    if !meta.is_dir() {
        let what = if meta.file_type().is_symlink() { "a symbolic link" } else { "a file" };
        return Err(InputError::msg(format!(
            "{shown} is {what} that daa generate did not write; {how} (everything at {shown} would be lost)"
        )));
    }
    let listed = read_manifest(dir).map_err(|why| {
        InputError::msg(format!(
            "{shown} exists and {why}, so daa generate did not write it; {how} and everything in it"
        ))
    })?;
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    let mut pending = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, at)) = pending.pop() {
        let entries =
            std::fs::read_dir(&at).map_err(|e| InputError::msg(format!("cannot read {}: {e}", at.display())))?;
        for e in entries.filter_map(|e| e.ok()) {
            let n = format!("{prefix}{}", e.file_name().to_string_lossy());
            let path = e.path();
            // Simulator outputs (the package README sends them to build/) are kept across
            // regenerations; the manifest's subdirectories (tb/) are checked file by file.
            if n == MANIFEST || n == PACKAGE_BUILD_DIR {
                continue;
            }
            if path.symlink_metadata().is_ok_and(|m| m.is_dir())
                && listed.keys().any(|k| k.starts_with(&format!("{n}/")))
            {
                pending.push((format!("{n}/"), path));
            } else {
                names.push((n, path));
            }
        }
    }
    for (n, path) in names {
        let not_ours = |why: &str| {
            InputError::msg(format!(
                "{} {why}, so daa generate did not write it; {how} and everything in {shown}",
                path.display()
            ))
        };
        let Some(want) = listed.get(&n) else { return Err(not_ours(&format!("is not in {shown}/{MANIFEST}"))) };
        if !path.symlink_metadata().is_ok_and(|m| m.is_file()) {
            return Err(not_ours("is not a regular file"));
        }
        if file_sha256(&path).as_deref() != Some(want.as_str()) {
            return Err(not_ours(&format!(
                "was changed after daa generate wrote it (its sha256 differs from {MANIFEST})"
            )));
        }
    }
    Ok(())
}

/// The file list of `dir`'s manifest (path -> sha256), or why there is none.
fn read_manifest(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let path = dir.join(MANIFEST);
    if !path.is_file() {
        return Err(format!("has no {MANIFEST}"));
    }
    let bytes = crate::limits::read_bounded(&path, MANIFEST, crate::limits::MAX_TEXT_FILE_BYTES).map_err(|e| e.0)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("its {MANIFEST} is not valid JSON ({e})"))?;
    if v["tool"] != "daa-gen" {
        return Err(format!("its {MANIFEST} is not one of daa-gen's"));
    }
    let files = v["files"].as_array().ok_or_else(|| format!("its {MANIFEST} has no file list"))?;
    files
        .iter()
        .map(|f| match (f["path"].as_str(), f["sha256"].as_str()) {
            (Some(p), Some(h)) => Ok((p.to_string(), h.to_string())),
            _ => Err(format!("its {MANIFEST} has a file entry without path and sha256")),
        })
        .collect()
}

/// sha256 of a file's contents as hex, streamed.
fn file_sha256(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).ok()?;
    Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_the_pid() {
        assert_eq!(parse_temp(".daa-tmp-123-abc"), Some((TMP, 123, "abc")));
        assert_eq!(parse_temp(".daa-old-9-0001-daa_x"), Some((OLD, 9, "0001-daa_x")));
        assert_eq!(parse_temp(".daa-tmp-abc"), None, "older names without a pid are left alone");
        assert_eq!(parse_temp("daa_fp32"), None);
        assert!(!is_dead(std::process::id()));
    }

    #[test]
    fn a_failed_set_restores_what_was_there() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.txt");
        std::fs::write(&a, "old a").unwrap();
        let blocker = d.path().join("b.txt");
        std::fs::create_dir(&blocker).unwrap();
        let mut set = OutputSet::new();
        set.add_bytes(&a, b"new a").unwrap();
        set.add_bytes(&blocker, b"new b").unwrap();
        assert!(set.commit().is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "old a");
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "nothing but a.txt and the directory: {names:?}");
    }

    /// The pid of a process that has exited.
    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[test]
    fn the_fallback_swap_replaces_and_a_killed_one_is_repaired() {
        let d = tempfile::tempdir().unwrap();
        let pkg = d.path().join("p");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(pkg.join("x"), "old").unwrap();
        let new = d.path().join("new");
        std::fs::create_dir(&new).unwrap();
        std::fs::write(new.join("x"), "new").unwrap();
        swap_by_renames(&new, &pkg, "p").unwrap();
        assert_eq!(std::fs::read_to_string(pkg.join("x")).unwrap(), "new");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "the old one is gone");

        // A run killed between the two renames: the package moved aside, its owner gone.
        let pid = dead_pid();
        assert!(is_dead(pid));
        let aside = d.path().join(format!("{OLD}{pid}-1-p"));
        std::fs::rename(&pkg, &aside).unwrap();
        let tmp = d.path().join(format!("{TMP}{pid}-xyz"));
        std::fs::create_dir(&tmp).unwrap();
        recover_and_clean(d.path());
        assert_eq!(std::fs::read_to_string(pkg.join("x")).unwrap(), "new");
        assert!(!aside.exists() && !tmp.exists());
    }
}
