//! Where `fnp run` writes: one run per output directory, checked before
//! the first case, every file replaced whole.
//!
//! - [`write_atomic`] writes a file as a fresh temporary file in the same
//!   directory (created exclusively under a random name), syncs it and
//!   renames it over the target: a reader, a crash or a signal sees the
//!   old file or the new one, never a torn one.
//! - [`OutDir::claim`] creates the directory, proves it can write there
//!   by creating and removing a temporary file, and takes an exclusive
//!   `flock` on `.<report stem>.lock` (which holds the pid and is removed
//!   when the run ends). A second run that would write the same report
//!   into the same directory fails at once, naming the directory and the
//!   pid of the run that holds it; runs writing other reports (the slices
//!   of a sharded run, other targets) share a directory.
//! - [`interrupted`]: after [`on_interrupt`], SIGINT and SIGTERM only set
//!   a flag, so a run stops starting cases and writes what finished; a
//!   second signal ends the process at once.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;

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

/// The lock file of `name` in an output directory.
pub fn lock_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.lock"))
}

/// A run's claim on its files in an output directory, held until dropped.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    lock: PathBuf,
    /// The lock file, open and `flock`ed; closing it releases the lock.
    file: File,
}

impl OutDir {
    /// Creates `dir`, checks it is writable and locks the files of `name`
    /// (a report stem, e.g. `host` or `host.shard-1-of-4`) in it for this
    /// process. Fails at once, naming the directory and the holder's pid,
    /// if another process holds them. Runs that write other names (the
    /// slices of one target, other targets) share a directory freely.
    ///
    /// The lock is `.<name>.lock` in `dir`, holding the pid, removed on
    /// drop (left behind only if the process is killed; the next run then
    /// takes it over).
    pub fn claim(dir: &Path, name: &str) -> anyhow::Result<OutDir> {
        check_writable(dir)?;
        let lock = lock_path(dir, name);
        // Unlink-safe locking: the file may be removed by its holder
        // between our open and our flock, so after locking check that the
        // path still names the file we locked; else try again.
        for _ in 0..100 {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock)
                .with_context(|| format!("cannot create {}", lock.display()))?;
            // SAFETY: flock on a descriptor this function owns.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    let holder = std::fs::read_to_string(&lock)
                        .ok()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .map(|pid| format!("pid {pid}"))
                        .unwrap_or_else(|| "pid unknown".into());
                    anyhow::bail!(
                        "output directory {} is in use by another fnp run writing {name} \
                         ({holder}); wait for it to finish or pass another --out",
                        dir.display()
                    );
                }
                return Err(err).with_context(|| format!("cannot lock {}", lock.display()));
            }
            let ours = file.metadata().ok().map(|m| (m.dev(), m.ino()));
            let named = std::fs::metadata(&lock).ok().map(|m| (m.dev(), m.ino()));
            if ours.is_none() || ours != named {
                continue;
            }
            let mut f = &file;
            f.set_len(0)
                .and_then(|()| f.write_all(format!("{}\n", std::process::id()).as_bytes()))
                .with_context(|| format!("writing {}", lock.display()))?;
            return Ok(OutDir {
                dir: dir.to_path_buf(),
                lock,
                file,
            });
        }
        anyhow::bail!("cannot lock {}: it keeps being replaced", lock.display())
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // Remove while still holding the lock; a process waiting on the
        // old file sees it is gone and makes a new one.
        let _ = std::fs::remove_file(&self.lock);
        // SAFETY: unlocking our own descriptor (closing it would too).
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
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
    fn a_claimed_name_refuses_a_second_claim_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("reports");
        let first = OutDir::claim(&out, "host").unwrap();
        let lock = lock_path(&out, "host");
        let pid = std::fs::read_to_string(&lock).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        let err = format!("{:#}", OutDir::claim(&out, "host").unwrap_err());
        assert!(
            err.contains(&out.display().to_string()) && err.contains(pid.trim()),
            "{err}"
        );
        // Another report (a slice, another target) may share the directory.
        let other = OutDir::claim(&out, "host.shard-1-of-2").unwrap();
        drop(first);
        assert!(!lock.exists());
        let again = OutDir::claim(&out, "host").unwrap();
        assert_eq!(again.path(), out);
        drop((again, other));
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert!(names.is_empty(), "{names:?}");
        // A stale lock file of a killed run is taken over.
        std::fs::write(&lock, "999999\n").unwrap();
        drop(OutDir::claim(&out, "host").unwrap());
    }
}
