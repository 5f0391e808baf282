//! Where `fnp run` writes: one run per output directory, checked before
//! the first case, every file replaced whole.
//!
//! - [`write_atomic`] writes a file as a fresh temporary file in the same
//!   directory (created exclusively under a random name), syncs it and
//!   renames it over the target: a reader, a crash or a signal sees the
//!   old file or the new one, never a torn one.
//! - [`OutDir::claim`] creates the directory, takes an exclusive `flock`
//!   on the directory itself (no lock file is left among the artifacts)
//!   and proves it can write there by creating and removing a temporary
//!   file. A second run into the same directory fails at once, naming the
//!   directory and the pid of the run that holds it (`.fnp-run.pid`,
//!   present only while a run holds the lock).
//! - [`interrupted`]: after [`on_interrupt`], SIGINT and SIGTERM only set
//!   a flag, so a run stops starting cases and writes what finished; a
//!   second signal ends the process at once.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;

/// Name of the file that says which process holds an output directory.
pub const PID_FILE: &str = ".fnp-run.pid";

/// Writes `bytes` to `path` atomically: a new temporary file beside it,
/// synced, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    // On error the temporary file is removed when `PersistError` drops.
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error))?;
    // Make the rename itself durable (best effort: not every file system
    // lets a directory be synced).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `dir` if needed and proves a file can be created and removed
/// in it.
pub fn check_writable(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let mut probe = tempfile::Builder::new()
        .prefix(".fnp-probe.")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in output directory {}", dir.display()))?;
    probe
        .write_all(b"probe")
        .and_then(|()| probe.as_file().sync_all())
        .with_context(|| format!("cannot write in output directory {}", dir.display()))?;
    probe
        .close()
        .with_context(|| format!("cannot remove a file in {}", dir.display()))?;
    Ok(())
}

/// An output directory this process holds until it is dropped.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    /// The directory, open and `flock`ed; closing it releases the lock.
    _handle: File,
}

impl OutDir {
    /// Creates `dir`, locks it for this process and checks it is
    /// writable. Fails at once if another process holds it.
    pub fn claim(dir: &Path) -> anyhow::Result<OutDir> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output directory {}", dir.display()))?;
        let handle = File::open(dir)
            .with_context(|| format!("cannot open output directory {}", dir.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        let rc = unsafe { libc::flock(handle.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let holder = std::fs::read_to_string(dir.join(PID_FILE))
                    .ok()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .map(|pid| format!("pid {pid}"))
                    .unwrap_or_else(|| "pid unknown".into());
                anyhow::bail!(
                    "output directory {} is in use by another fnp run ({holder}); \
                     wait for it to finish or pass another --out",
                    dir.display()
                );
            }
            return Err(err).with_context(|| format!("cannot lock {}", dir.display()));
        }
        check_writable(dir)?;
        write_atomic(
            &dir.join(PID_FILE),
            format!("{}\n", std::process::id()).as_bytes(),
        )?;
        Ok(OutDir {
            dir: dir.to_path_buf(),
            _handle: handle,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // Still under the lock: only this process wrote it.
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
    }
}

static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signo: libc::c_int) {
    // Only async-signal-safe work here: an atomic swap and _exit.
    if SIGNAL.swap(signo, Ordering::SeqCst) != 0 {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + signo) };
    }
}

/// From now on SIGINT and SIGTERM set the flag [`interrupted`] reads
/// instead of ending the process; a second one ends it at once.
pub fn on_interrupt() -> anyhow::Result<()> {
    for signo in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction with a handler that only touches an
        // atomic and calls _exit; the mask is emptied before use.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signo, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error()).context("installing a signal handler");
        }
    }
    Ok(())
}

/// The signal that interrupted this run (SIGINT or SIGTERM), if any.
pub fn interrupted() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["r.json"]);
        // A path under a regular file is an error, not a panic.
        assert!(write_atomic(&path.join("x"), b"").is_err());
    }

    #[test]
    fn a_claimed_directory_refuses_a_second_claim_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports");
        let first = OutDir::claim(&out).unwrap();
        let pid = std::fs::read_to_string(out.join(PID_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        let err = format!("{:#}", OutDir::claim(&out).unwrap_err());
        assert!(
            err.contains(&out.display().to_string()) && err.contains(pid.trim()),
            "{err}"
        );
        drop(first);
        assert!(!out.join(PID_FILE).exists());
        let again = OutDir::claim(&out).unwrap();
        assert_eq!(again.path(), out);
    }
}
