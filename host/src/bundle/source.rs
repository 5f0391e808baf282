//! Sequential reading of a bundle's protected files as source symbols.
//!
//! With one sub-block and every file starting on a symbol boundary, source
//! symbol `g` is bytes `[(g - first_symbol) * T, ...)` of one file, zero-padded
//! past its end. Reading is tolerant: a missing, short or unreadable file
//! yields "absent" symbols, never an error, because scrub and repair must
//! see the damage rather than stop at it.

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::format::FileEntry;

struct Open {
    handle: Option<File>,
    /// Next file-local symbol the handle is positioned at.
    next_symbol: u64,
    /// Whether the handle's position is known to equal `next_symbol * T`.
    positioned: bool,
}

pub struct SourceCursor<'a> {
    root: PathBuf,
    files: &'a [FileEntry],
    t: usize,
    file: usize,
    open: Option<Open>,
}

impl<'a> SourceCursor<'a> {
    pub fn new(root: &Path, files: &'a [FileEntry], symbol_size: usize) -> Self {
        Self {
            root: root.to_path_buf(),
            files,
            t: symbol_size,
            file: 0,
            open: None,
        }
    }

    /// Moves to the file holding the next symbol, skipping empty files,
    /// and opens it; `None` past the last file.
    fn advance(&mut self) -> Option<&'a FileEntry> {
        loop {
            let files: &'a [FileEntry] = self.files;
            let entry = files.get(self.file)?;
            let next = self.open.as_ref().map_or(0, |o| o.next_symbol);
            if next < entry.symbols {
                if self.open.is_none() {
                    self.open = Some(Open {
                        handle: open_regular(&self.root, &entry.path),
                        next_symbol: 0,
                        positioned: true,
                    });
                }
                return Some(entry);
            }
            self.file += 1;
            self.open = None;
        }
    }

    /// Fills `buf` (a whole number of symbols) with the next symbols and
    /// sets `present[i]` when all of symbol `i`'s expected bytes were read.
    /// Returns false when the layout runs out of files first.
    pub fn fill(&mut self, buf: &mut [u8], present: &mut [bool]) -> bool {
        let t = self.t;
        let count = buf.len() / t;
        let mut s = 0usize;
        while s < count {
            let Some(entry) = self.advance() else {
                return false;
            };
            let Some(open) = self.open.as_mut() else {
                return false;
            };
            let run = (entry.symbols - open.next_symbol).min((count - s) as u64) as usize;
            let start = open.next_symbol * t as u64;
            let end = ((open.next_symbol + run as u64) * t as u64).min(entry.size);
            let want = (end - start) as usize;
            let region = &mut buf[s * t..(s + run) * t];
            let got = match open.handle.as_mut() {
                Some(h) => read_from(h, open.positioned, start, &mut region[..want]),
                None => 0,
            };
            open.positioned = got == want;
            region[got..].fill(0);
            for (j, p) in present[s..s + run].iter_mut().enumerate() {
                let needed = ((j + 1) * t).min(want);
                *p = got >= needed;
            }
            open.next_symbol += run as u64;
            s += run;
        }
        true
    }

    /// Skips `count` symbols without reading them.
    pub fn skip(&mut self, mut count: u64) {
        while count > 0 {
            let Some(entry) = self.advance() else {
                return;
            };
            let Some(open) = self.open.as_mut() else {
                return;
            };
            let run = (entry.symbols - open.next_symbol).min(count);
            open.next_symbol += run;
            open.positioned = false;
            count -= run;
        }
    }
}

/// Opens `root/rel` for reading if it is a regular file reached without
/// a symlink; anything else (missing, a directory, a symlink, unreadable)
/// counts as absent: the bundle's bytes are the files inside it, never
/// whatever a link points at.
fn open_regular(root: &Path, rel: &str) -> Option<File> {
    let path = root.join(rel);
    // Check before opening: opening a FIFO for reading would block.
    if symlink_on_path(root, rel) || !std::fs::symlink_metadata(&path).ok()?.is_file() {
        return None;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(&path).ok()?;
    file.metadata().ok().filter(|m| m.is_file())?;
    Some(file)
}

/// Whether `root`, or any component of `rel` below it, is a symlink.
pub fn symlink_on_path(root: &Path, rel: &str) -> bool {
    let mut at = root.to_path_buf();
    std::iter::once(None)
        .chain(rel.split('/').map(Some))
        .any(|part| {
            if let Some(p) = part {
                at.push(p);
            }
            std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink())
        })
}

/// Reads `buf` from byte `start`, seeking first unless the handle is known
/// to be there already (after a short read or a skip it is not).
fn read_from(h: &mut File, positioned: bool, start: u64, buf: &mut [u8]) -> usize {
    if !positioned && h.seek(SeekFrom::Start(start)).is_err() {
        return 0;
    }
    read_up_to(h, buf)
}

/// Reads until `buf` is full, EOF, or an I/O error; returns bytes read.
pub fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    done
}
