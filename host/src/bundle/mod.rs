//! `fnp bundle`: files sealed with RaptorQ (RFC 6330) repair data.
//!
//! # Bundle format, version 1
//!
//! A bundle is a directory:
//!
//! ```text
//! <bundle>/files/<path>     the protected files, byte for byte
//! <bundle>/manifest.json    fnp.bundle.manifest.v1 (for people and tools)
//! <bundle>/sidecar.fnpq     header + repair symbols (the authority)
//! ```
//!
//! **Payload.** Files sorted by path (bytewise), each zero-padded to a
//! multiple of the symbol size T (1024), concatenated. The padding is
//! virtual: it is never stored. Source symbol `g` is therefore one T-byte
//! range of exactly one file, so the files *are* the source data and only
//! repair symbols are stored. The **object id** is the SHA-256 of the
//! payload.
//!
//! **Transmission parameters (OTI).** RFC 6330's 12-byte OTI, built
//! explicitly: transfer length F = Kt·T, symbol size T, alignment 8,
//! exactly one sub-block (N = 1), and Z = ceil(Kt / 4096) source blocks
//! (at most 255) partitioned as RFC 6330 section 4.4.1.2 says. Each block is
//! encoded and decoded on its own, so memory is bounded by one block.
//!
//! **Repair symbols.** Block b with K source symbols gets
//! R = max(3, ceil(K · overhead)) repair symbols (ESI K..K+R); none when the
//! overhead is 0. The advertised loss budget of a block is R − 2: decoding
//! from exactly K symbols fails about once in 100, from K + 2 about once in
//! 10^6.
//!
//! **Sidecar `sidecar.fnpq`** (integers little-endian):
//!
//! ```text
//! "FNPQSIDE"  u32 version = 1  u64 body_len
//! body: object_id[32] source_hash[32] oti[12] u32 overhead_basis_points
//!       u32 Z, Z × (u32 K, u32 R)
//!       u64 Kt, Kt × source_symbol_hash[32]
//!       u64 manifest_len, manifest.json bytes
//! header_hash[32] = SHA-256(preamble + body)
//! then for each block, for each repair symbol:
//!       payload_id[4] (RFC 6330: SBN u8, ESI u24 big-endian)
//!       symbol[T]
//!       SHA-256("fnprep01" + object_id + payload_id + symbol)
//! then the header again, byte for byte (the mirror)
//! then the trailer: u64 header length, "FNPQTAIL"
//! ```
//!
//! `source_symbol_hash = SHA-256("fnpsrc01" + payload_id + symbol)` and
//! `source_hash = SHA-256(all source symbol hashes)`. Each manifest entry
//! holds the file's plain `sha256`, its first symbol, symbol count and
//! `symbols_sha256` = SHA-256 of its source symbol hashes, so scrub hashes
//! every byte once and still names which file and which symbol is damaged.
//! Records have a fixed size, so a damaged or truncated record costs that
//! symbol only; a record whose hash fails is dropped, never decoded.
//!
//! When the first header copy fails its hash (or its magic), the mirror
//! found through the trailer is used and `repair` rewrites the sidecar; a
//! different version number is refused, not "repaired". Only with both
//! copies damaged is the bundle unverifiable (a clear error). A damaged
//! `manifest.json` is rewritten from the copy in the header.

mod bench;
pub mod cli;
mod format;
mod prng;
mod source;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use raptorq::SourceBlockEncoder;
use raptorq::{EncodingPacket, ObjectTransmissionInformation, PayloadId, SourceBlockDecoder};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use bench::{bench, BenchMeta, BenchOptions, BenchReport, BenchRow, Ratio, Throughput};
pub use format::{FileEntry, Manifest, MANIFEST_SCHEMA, VERSION};
pub use prng::SplitMix64;

use format::{BlockSpec, Hash, Header};
use source::SourceCursor;

/// Directory inside a bundle holding the protected files.
pub const FILES_DIR: &str = "files";
/// The manifest inside a bundle.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The sidecar inside a bundle.
pub const SIDECAR_FILE: &str = "sidecar.fnpq";
/// Symbol size T in bytes.
pub const SYMBOL_SIZE: u16 = 1024;
/// Target source symbols per block: small enough that raptorq's
/// superlinear solve stays fast, large enough that 255 blocks cover 1 GiB.
pub const BLOCK_SYMBOLS: u64 = 4096;
/// Inputs larger than this get a progress bar (on a terminal).
const PROGRESS_BYTES: u64 = 32 << 20;
const ALIGNMENT: u8 = 8;

/// Repair overhead as a fraction of the source symbols, in basis points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overhead(u32);

impl Overhead {
    /// `percent` rounded to 0.01 %; `None` outside 0..=1000 %.
    pub fn percent(percent: f64) -> Option<Self> {
        if !(0.0..=1000.0).contains(&percent) {
            return None;
        }
        Some(Self((percent * 100.0).round() as u32))
    }
    pub fn basis_points(self) -> u32 {
        self.0
    }
}

impl Default for Overhead {
    fn default() -> Self {
        Self(2500)
    }
}

impl FromStr for Overhead {
    type Err = anyhow::Error;
    /// `25%`, `25` (both percent) or `12.5%`.
    fn from_str(s: &str) -> Result<Self> {
        let number = s.trim().trim_end_matches('%');
        let value: f64 = number
            .parse()
            .with_context(|| format!("repair overhead {s:?} is not a percentage like 25%"))?;
        Overhead::percent(value)
            .with_context(|| format!("repair overhead {s:?} is outside 0%..=1000%"))
    }
}

/// What `create` made.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub blocks: u32,
    pub bundle: String,
    pub files: u64,
    /// Smallest per-block loss budget (R − 2).
    pub min_budget: u32,
    pub object_id: String,
    pub overhead_basis_points: u32,
    pub payload_bytes: u64,
    pub repair_symbols: u64,
    pub sidecar_bytes: u64,
    pub source_bytes: u64,
    pub source_symbols: u64,
    pub symbol_size: u32,
}

struct Input {
    path: String,
    source: PathBuf,
    size: u64,
}

fn utf8_name(path: &Path) -> Result<String> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    name.to_str()
        .map(str::to_string)
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<Input>) -> Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = utf8_name(&path)?;
        let stored = format!("{prefix}/{name}");
        let meta = fs::symlink_metadata(&path)
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if meta.is_dir() {
            walk(&path, &stored, out)?;
        } else if meta.is_file() {
            out.push(Input {
                path: stored,
                source: path,
                size: meta.len(),
            });
        } else {
            bail!(
                "{} is not a regular file or directory (symlinks are not bundled)",
                path.display()
            );
        }
    }
    Ok(())
}

fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<Input>> {
    ensure!(
        !inputs.is_empty(),
        "nothing to bundle: give files or directories"
    );
    let mut out = Vec::new();
    for input in inputs {
        let meta =
            fs::metadata(input).with_context(|| format!("cannot read {}", input.display()))?;
        if meta.is_dir() {
            let canonical = fs::canonicalize(input)?;
            let name = utf8_name(&canonical)?;
            walk(input, &name, &mut out)?;
        } else if meta.is_file() {
            out.push(Input {
                path: utf8_name(input)?,
                source: input.clone(),
                size: meta.len(),
            });
        } else {
            bail!("{} is not a regular file or directory", input.display());
        }
    }
    out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    for pair in out.windows(2) {
        ensure!(
            pair[0].path != pair[1].path,
            "two inputs would both be stored as {:?}",
            pair[0].path
        );
    }
    for i in &out {
        format::check_path(&i.path)?;
    }
    Ok(out)
}

fn progress(total: u64, verb: &str) -> ProgressBar {
    if total < PROGRESS_BYTES {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar.set_message(verb.to_string());
    bar
}

/// Streams the inputs as padded payload symbols and copies them into the
/// bundle on the way, hashing each file as it goes.
struct CreateCursor<'a> {
    inputs: &'a [Input],
    dest: PathBuf,
    t: usize,
    file: usize,
    open: Option<(File, BufWriter<File>, Sha256, u64)>,
    file_hashes: Vec<Hash>,
}

impl CreateCursor<'_> {
    fn open_current(&mut self) -> Result<()> {
        if self.open.is_none() {
            let Some(input) = self.inputs.get(self.file) else {
                bail!("internal: payload layout ran past the inputs");
            };
            let reader = File::open(&input.source)
                .with_context(|| format!("cannot read {}", input.source.display()))?;
            let target = self.dest.join(&input.path);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            let writer = File::create(&target)
                .with_context(|| format!("cannot write {}", target.display()))?;
            self.open = Some((
                reader,
                BufWriter::with_capacity(1 << 20, writer),
                Sha256::new(),
                0,
            ));
        }
        Ok(())
    }

    /// Finishes the current file when all its bytes were read.
    fn close_if_done(&mut self) -> Result<bool> {
        let Some(input) = self.inputs.get(self.file) else {
            return Ok(false);
        };
        let Some((reader, writer, hasher, done)) = self.open.as_mut() else {
            return Ok(false);
        };
        if *done < input.size {
            return Ok(false);
        }
        let mut probe = [0u8; 1];
        ensure!(
            source::read_up_to(reader, &mut probe) == 0,
            "{} grew while it was being bundled",
            input.source.display()
        );
        writer.flush()?;
        // Evidence must survive a crash once `create` returns.
        writer.get_ref().sync_all()?;
        let digest = std::mem::take(hasher).finalize().into();
        self.file_hashes.push(digest);
        self.open = None;
        self.file += 1;
        Ok(true)
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        let t = self.t;
        let mut pos = 0usize;
        while pos < buf.len() {
            self.open_current()?;
            if self.close_if_done()? {
                continue;
            }
            let Some(input) = self.inputs.get(self.file) else {
                bail!("internal: payload layout ran past the inputs");
            };
            let Some((reader, writer, hasher, done)) = self.open.as_mut() else {
                bail!("internal: no open input");
            };
            let left_in_file = input.size - *done;
            let want = left_in_file.min((buf.len() - pos) as u64) as usize;
            let region = &mut buf[pos..pos + want];
            let got = source::read_up_to(reader, region);
            ensure!(
                got == want,
                "{} shrank while it was being bundled",
                input.source.display()
            );
            writer.write_all(region)?;
            hasher.update(&*region);
            *done += want as u64;
            pos += want;
            // Pad the file's last symbol with zeros.
            let padded = pos.div_ceil(t) * t;
            if *done == input.size && padded > pos {
                buf[pos..padded].fill(0);
                pos = padded;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        while self.file < self.inputs.len() {
            self.open_current()?;
            ensure!(
                self.close_if_done()?,
                "internal: input left unread at the end of the payload"
            );
        }
        Ok(())
    }
}

/// Settings of `create_with`.
#[derive(Debug, Clone, Copy)]
pub struct CreateOptions {
    pub overhead: Overhead,
    /// Target source symbols per block (clamped to 1..=56403; more blocks
    /// when 255 would not hold the payload).
    pub block_symbols: u64,
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self {
            overhead: Overhead::default(),
            block_symbols: BLOCK_SYMBOLS,
        }
    }
}

/// Bundles `inputs` (files, or directories stored under their own name)
/// into the new directory `out`. Same inputs give a byte-identical bundle.
pub fn create(inputs: &[PathBuf], out: &Path, overhead: Overhead) -> Result<Summary> {
    create_with(
        inputs,
        out,
        CreateOptions {
            overhead,
            ..CreateOptions::default()
        },
    )
}

/// `create` with every setting explicit.
pub fn create_with(inputs: &[PathBuf], out: &Path, options: CreateOptions) -> Result<Summary> {
    let overhead = options.overhead;
    let block_symbols = options
        .block_symbols
        .clamp(1, u64::from(format::MAX_SOURCE_SYMBOLS_PER_BLOCK));
    let inputs = collect_inputs(inputs)?;
    let t = SYMBOL_SIZE as usize;
    let t64 = u64::from(SYMBOL_SIZE);
    let mut total_symbols = 0u64;
    let mut source_bytes = 0u64;
    for i in &inputs {
        total_symbols = total_symbols
            .checked_add(i.size.div_ceil(t64))
            .context("payload too large")?;
        source_bytes = source_bytes.saturating_add(i.size);
    }
    let transfer_length = total_symbols
        .checked_mul(t64)
        .filter(|&f| f <= format::MAX_TRANSFER_LENGTH)
        .context("payload exceeds RFC 6330's transfer length limit")?;
    // The header holds a hash per symbol; one past what scrub reads back
    // would make a bundle nobody can open. (Checked exactly once encoded.)
    ensure!(
        total_symbols.saturating_mul(format::HASH_LEN as u64) < format::MAX_HEADER_LEN,
        "payload of {source_bytes} bytes is too large for one bundle: its symbol table alone \
         would pass the {} MiB header limit (split the inputs into several bundles)",
        format::MAX_HEADER_LEN >> 20
    );
    let mut block_count = total_symbols.div_ceil(block_symbols);
    if block_count > 255 {
        block_count = 255;
        ensure!(
            total_symbols.div_ceil(255) <= u64::from(format::MAX_SOURCE_SYMBOLS_PER_BLOCK),
            "payload of {transfer_length} bytes needs more than 255 source blocks of {} symbols",
            format::MAX_SOURCE_SYMBOLS_PER_BLOCK
        );
    }
    let blocks = format::plan_blocks(total_symbols, block_count, overhead.basis_points())?;
    let z = u8::try_from(block_count).context("block count")?;
    // Every parameter raptorq asserts on was checked above.
    let oti = ObjectTransmissionInformation::new(transfer_length, SYMBOL_SIZE, z, 1, ALIGNMENT);

    let out_name = utf8_name(out)?;
    if let Ok(meta) = fs::symlink_metadata(out) {
        let empty_dir = meta.is_dir() && fs::read_dir(out)?.next().is_none();
        ensure!(empty_dir, "{} already exists", out.display());
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
    // A fresh, randomly named directory (never one planted at a fixed name).
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{out_name}."))
        .suffix(".fnp-partial")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a temp directory in {}", parent.display()))?
        .keep();
    let result = write_bundle(&inputs, &tmp, &blocks, oti, overhead, t, source_bytes)
        .with_context(|| format!("cannot write the bundle in {}", tmp.display()));
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if out.exists() {
        fs::remove_dir(out).with_context(|| format!("cannot replace {}", out.display()))?;
    }
    fs::rename(&tmp, out).with_context(|| {
        let _ = fs::remove_dir_all(&tmp);
        format!("cannot move bundle to {}", out.display())
    })?;
    sync_dir(&parent)?;
    Ok(Summary {
        bundle: out.display().to_string(),
        ..summary
    })
}

fn write_bundle(
    inputs: &[Input],
    tmp: &Path,
    blocks: &[BlockSpec],
    oti: ObjectTransmissionInformation,
    overhead: Overhead,
    t: usize,
    source_bytes: u64,
) -> Result<Summary> {
    let files_dir = tmp.join(FILES_DIR);
    fs::create_dir_all(&files_dir)?;
    let mut cursor = CreateCursor {
        inputs,
        dest: files_dir,
        t,
        file: 0,
        open: None,
        file_hashes: Vec::with_capacity(inputs.len()),
    };
    let records_path = tmp.join(".records");
    let mut records = BufWriter::with_capacity(1 << 20, File::create(&records_path)?);
    let mut payload_hash = Sha256::new();
    let mut source_hashes: Vec<Hash> = Vec::new();
    let bar = progress(source_bytes, "create");
    let mut buf = Vec::new();
    for block in blocks {
        let k = block.source_symbols as usize;
        buf.resize(k * t, 0);
        cursor.fill(&mut buf)?;
        payload_hash.update(&buf);
        for (esi, symbol) in buf.chunks_exact(t).enumerate() {
            source_hashes.push(format::source_symbol_hash(block.sbn, esi as u32, symbol));
        }
        if block.repair_symbols > 0 {
            let encoder = SourceBlockEncoder::new(block.sbn, &oti, &buf);
            for packet in encoder.repair_packets(0, block.repair_symbols) {
                records.write_all(&packet.payload_id().serialize())?;
                records.write_all(packet.data())?;
            }
        }
        bar.inc(buf.len() as u64);
    }
    cursor.finish()?;
    bar.finish_and_clear();
    records.flush()?;
    drop(records);

    let object_id: Hash = payload_hash.finalize().into();
    let source_hash = format::digest_of_hashes(&source_hashes);
    let mut files = Vec::with_capacity(inputs.len());
    let mut first_symbol = 0u64;
    for (input, sha) in inputs.iter().zip(&cursor.file_hashes) {
        let symbols = input.size.div_ceil(t as u64);
        let range = first_symbol as usize..(first_symbol + symbols) as usize;
        files.push(FileEntry {
            first_symbol,
            path: input.path.clone(),
            sha256: format::hex(sha),
            size: input.size,
            symbols,
            symbols_sha256: format::hex(&format::digest_of_hashes(
                source_hashes.get(range).context("internal: symbol table")?,
            )),
        });
        first_symbol += symbols;
    }
    let manifest = Manifest {
        files,
        object_id: format::hex(&object_id),
        schema: MANIFEST_SCHEMA.to_string(),
        symbol_size: u32::from(SYMBOL_SIZE),
    };
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    manifest_bytes.push(b'\n');
    let header = format::encode_header(
        &object_id,
        &source_hash,
        &oti.serialize(),
        overhead.basis_points(),
        blocks,
        &source_hashes,
        &manifest_bytes,
    )?;
    ensure!(
        header.len() as u64 <= format::MAX_HEADER_LEN,
        "the bundle's header would be {} bytes, past the {} MiB limit (split the inputs)",
        header.len(),
        format::MAX_HEADER_LEN >> 20
    );

    // Records get their hashes now that the object id is known.
    let mut sidecar = BufWriter::with_capacity(1 << 20, File::create(tmp.join(SIDECAR_FILE))?);
    sidecar.write_all(&header)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, File::open(&records_path)?);
    let mut record = vec![0u8; format::PAYLOAD_ID_LEN + t];
    let repair_total: u64 = blocks.iter().map(|b| u64::from(b.repair_symbols)).sum();
    for _ in 0..repair_total {
        reader.read_exact(&mut record)?;
        let (pid, data) = record.split_at(format::PAYLOAD_ID_LEN);
        let pid: [u8; 4] = pid.try_into()?;
        sidecar.write_all(&record)?;
        sidecar.write_all(&format::repair_symbol_hash(&object_id, &pid, data))?;
    }
    sidecar.write_all(&header)?;
    sidecar.write_all(&format::trailer(header.len() as u64))?;
    sidecar.flush()?;
    sidecar.get_ref().sync_all()?;
    drop(sidecar);
    fs::remove_file(&records_path)?;
    let mut manifest_file = File::create(tmp.join(MANIFEST_FILE))?;
    manifest_file.write_all(&manifest_bytes)?;
    manifest_file.sync_all()?;
    sync_dirs(tmp)?;

    Ok(Summary {
        blocks: blocks.len() as u32,
        bundle: String::new(),
        files: inputs.len() as u64,
        min_budget: blocks.iter().map(BlockSpec::budget).min().unwrap_or(0),
        object_id: format::hex(&object_id),
        overhead_basis_points: overhead.basis_points(),
        payload_bytes: source_hashes.len() as u64 * t as u64,
        repair_symbols: repair_total,
        sidecar_bytes: 2 * header.len() as u64
            + repair_total * format::record_len(t) as u64
            + format::TRAILER_LEN as u64,
        source_bytes,
        source_symbols: source_hashes.len() as u64,
        symbol_size: u32::from(SYMBOL_SIZE),
    })
}

/// An opened bundle: validated header plus the sidecar for record reads.
struct Opened {
    root: PathBuf,
    header: Header,
    /// Whether both header copies are present and identical.
    header_status: PartStatus,
    sidecar: File,
    sidecar_len: u64,
    /// Reused record buffer.
    scratch: Vec<u8>,
}

fn open_bundle(bundle: &Path) -> Result<Opened> {
    let meta =
        fs::metadata(bundle).with_context(|| format!("cannot open bundle {}", bundle.display()))?;
    ensure!(
        meta.is_dir(),
        "{} is not a bundle directory (expected {SIDECAR_FILE}, {MANIFEST_FILE} and {FILES_DIR}/ inside)",
        bundle.display()
    );
    let path = bundle.join(SIDECAR_FILE);
    let kind = fs::symlink_metadata(&path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .file_type();
    ensure!(
        !kind.is_symlink(),
        "{} is a symbolic link; a bundle holds only regular files (replace the link with \
         the file it names)",
        path.display()
    );
    ensure!(kind.is_file(), "{} is not a regular file", path.display());
    let mut sidecar = open_no_follow(&path)?;
    let sidecar_len = sidecar.metadata()?.len();
    let mut preamble = Vec::with_capacity(format::PREAMBLE_LEN);
    (&mut sidecar)
        .take(format::PREAMBLE_LEN as u64)
        .read_to_end(&mut preamble)?;
    // A newer format is not damage: refuse it rather than read the mirror.
    if preamble.len() >= 12 && preamble[..8] == format::MAGIC {
        let version = u32::from_le_bytes([preamble[8], preamble[9], preamble[10], preamble[11]]);
        ensure!(
            version == VERSION,
            "{} is not usable: unsupported sidecar version {version} (this fnp reads version {VERSION})",
            path.display()
        );
    }
    let primary = format::header_len(&preamble, sidecar_len)
        .and_then(|len| read_at(&mut sidecar, 0, len, "sidecar header"))
        .and_then(format::parse_header);
    let (header, header_status) = match primary {
        Ok(header) => {
            let mirror = read_mirror(&mut sidecar, sidecar_len, Some(&header));
            let status = match mirror {
                Ok(m) if m.raw == header.raw => PartStatus::Ok,
                _ => PartStatus::Damaged,
            };
            (header, status)
        }
        Err(first) => match read_mirror(&mut sidecar, sidecar_len, None) {
            Ok(mirror) => (mirror, PartStatus::Damaged),
            Err(_) => {
                return Err(first.context(format!(
                    "{} is not usable (and its mirror header is unreadable too)",
                    path.display()
                )))
            }
        },
    };
    Ok(Opened {
        root: bundle.to_path_buf(),
        header,
        header_status,
        sidecar,
        sidecar_len,
        scratch: Vec::new(),
    })
}

/// Reads `len` bytes at `start`, growing the buffer only as bytes arrive
/// (`len` comes from disk: it is bounded by the caller, and a file shorter
/// than it claims costs what it holds, not what it claims).
fn read_at(file: &mut File, start: u64, len: u64, what: &str) -> Result<Vec<u8>> {
    const FIRST_CHUNK: u64 = 1 << 20;
    file.seek(SeekFrom::Start(start))?;
    let mut raw = Vec::with_capacity(usize::try_from(len.min(FIRST_CHUNK))?);
    file.take(len).read_to_end(&mut raw)?;
    ensure!(
        raw.len() as u64 == len,
        "truncated sidecar: {what} needs {len} bytes, {} were there",
        raw.len()
    );
    Ok(raw)
}

/// Opens an existing file for reading without following a symlink at its
/// last component (one planted between a check and the open is refused).
fn open_no_follow(path: &Path) -> Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

/// The header copy after the records, located by the trailer (or, when
/// the first copy verified, by its length).
fn read_mirror(sidecar: &mut File, sidecar_len: u64, primary: Option<&Header>) -> Result<Header> {
    let trailer_at = sidecar_len
        .checked_sub(format::TRAILER_LEN as u64)
        .context("sidecar too short for a trailer")?;
    let len = match primary {
        Some(h) => h.raw.len() as u64,
        None => {
            let mut trailer = [0u8; format::TRAILER_LEN];
            sidecar.seek(SeekFrom::Start(trailer_at))?;
            sidecar.read_exact(&mut trailer)?;
            let len = format::parse_trailer(&trailer).context("sidecar trailer is damaged")?;
            format::check_header_len(len)?;
            len
        }
    };
    let start = trailer_at
        .checked_sub(len)
        .context("mirror header out of range")?;
    if let Some(h) = primary {
        ensure!(
            start == h.mirror_offset(),
            "sidecar length does not match its header"
        );
    }
    let raw = read_at(sidecar, start, len, "mirror header")?;
    let header = format::parse_header(raw)?;
    ensure!(
        start == header.mirror_offset(),
        "mirror header is not where its records end"
    );
    Ok(header)
}

/// How much to trust stored repair records when reading them.
#[derive(Clone, Copy)]
enum Records<'a> {
    /// Hash every record; return the packets that verify.
    Verify,
    /// Hash every record; build no packets (scrub).
    CheckOnly,
    /// Records already verified in this run: skip those listed as damaged
    /// and hash nothing. Whatever decodes from them is verified afterwards.
    Trust(&'a [u32]),
}

/// Block `b`'s repair records: usable packets, damaged ESIs, and missing
/// ESIs (cut off by a truncated sidecar).
type BlockRecords = (Vec<EncodingPacket>, Vec<u32>, Vec<u32>);

/// Reads into `scratch` (reused across blocks: a fresh megabyte per block
/// costs more in page faults than the read).
fn read_records(
    sidecar: &mut File,
    sidecar_len: u64,
    header: &Header,
    b: &BlockSpec,
    mode: Records,
    scratch: &mut Vec<u8>,
) -> Result<BlockRecords> {
    let rec_len = header.record_len();
    let start = header.records_offset() + b.first_record * rec_len as u64;
    // Never read (or allocate) past the end of the file: a forged header may
    // claim up to 2^24 records per block, and records the file does not
    // hold are simply missing.
    let want =
        (u64::from(b.repair_symbols) * rec_len as u64).min(sidecar_len.saturating_sub(start));
    scratch.resize(usize::try_from(want)?, 0);
    let got = if start < sidecar_len {
        sidecar.seek(SeekFrom::Start(start))?;
        source::read_up_to(sidecar, scratch)
    } else {
        0
    };
    let bytes = &scratch[..got];
    let mut good = Vec::new();
    let mut damaged = Vec::new();
    let mut missing = Vec::new();
    let t = header.symbol_size;
    for (j, rec) in bytes.chunks(rec_len).enumerate() {
        let esi = b.source_symbols + j as u32;
        // A partial record at the cut of a truncated sidecar is missing.
        if rec.len() < rec_len {
            missing.push(esi);
            continue;
        }
        let ok = match mode {
            Records::Trust(bad) => !bad.contains(&esi),
            _ => format::check_record(rec, &header.object_id, t, b.sbn, esi),
        };
        if !ok {
            damaged.push(esi);
            continue;
        }
        if !matches!(mode, Records::CheckOnly) {
            match format::record_packet(rec, t, b.sbn, esi) {
                Some(p) => good.push(p),
                None => damaged.push(esi),
            }
        }
    }
    let whole = (bytes.len() / rec_len) as u32 + u32::from(bytes.len() % rec_len != 0);
    missing.extend((whole..b.repair_symbols).map(|j| b.source_symbols + j));
    Ok((good, damaged, missing))
}

impl Opened {
    fn repair_packets(&mut self, b: &BlockSpec, mode: Records) -> Result<BlockRecords> {
        read_records(
            &mut self.sidecar,
            self.sidecar_len,
            &self.header,
            b,
            mode,
            &mut self.scratch,
        )
    }

    fn files_root(&self) -> PathBuf {
        self.root.join(FILES_DIR)
    }

    fn raptorq_oti(&self) -> ObjectTransmissionInformation {
        self.header.raptorq_oti()
    }

    fn expected_sidecar_len(&self) -> u64 {
        self.header.mirror_offset() + self.header.raw.len() as u64 + format::TRAILER_LEN as u64
    }
}

/// Health of `manifest.json` and of the files against the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    Ok,
    Damaged,
    Missing,
    /// A symlink (or reached through one): never read, never written
    /// through; repair refuses until it is removed.
    Symlink,
}

/// One file in a scrub report.
#[derive(Debug, Clone, Serialize)]
pub struct FileHealth {
    /// File-local symbol indices that are lost, as inclusive ranges.
    pub lost_symbols: Vec<[u64; 2]>,
    pub path: String,
    pub size: u64,
    pub size_found: Option<u64>,
    pub status: PartStatus,
}

/// One source block in a scrub report.
#[derive(Debug, Clone, Serialize)]
pub struct BlockHealth {
    pub block: u8,
    /// Advertised loss budget, R − 2.
    pub budget: u32,
    /// Further losses this block absorbs within its budget (usable repair
    /// symbols − lost source symbols − 2); negative when past the budget.
    pub can_still_absorb: i64,
    /// ESIs of repair symbols whose hash failed, as inclusive ranges.
    pub damaged_repair: Vec<[u32; 2]>,
    pub lost_source: u32,
    pub missing_repair: u32,
    /// Enough symbols survive to attempt decoding (≥ K).
    pub recoverable: bool,
    pub repair_symbols: u32,
    pub source_symbols: u32,
}

/// `fnp.bundle.scrub.v1`.
#[derive(Debug, Clone, Serialize)]
pub struct ScrubReport {
    pub blocks: Vec<BlockHealth>,
    pub damaged_files: u64,
    pub files: Vec<FileHealth>,
    /// Both copies of the sidecar header present and identical (the
    /// report is built from whichever copy verified).
    pub header: PartStatus,
    pub lost_source_symbols: u64,
    pub manifest: PartStatus,
    /// Smallest `can_still_absorb` over the blocks (0 without blocks).
    pub min_can_still_absorb: i64,
    pub object_id: String,
    pub overhead_basis_points: u32,
    pub recoverable: bool,
    pub repair_symbols_damaged: u64,
    pub repair_symbols_missing: u64,
    pub repair_symbols_total: u64,
    pub schema: &'static str,
    /// Bytes past the last record (or missing, when negative).
    pub sidecar_length_delta: i64,
    /// SHA-256 of the source symbol hash table.
    pub source_hash: String,
    pub status: &'static str,
    /// Every symlink inside the bundle, relative to it. A bundle holds
    /// only regular files: any link makes it damaged and stops repair.
    pub symlinks: Vec<String>,
    /// Entries inside the bundle that are not part of it (not the sidecar,
    /// the manifest or a listed file); reported, never read or removed.
    pub unlisted: Vec<String>,
}

impl ScrubReport {
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

fn ranges<T: Copy + PartialEq + std::ops::Add<Output = T> + From<u8>>(
    values: impl IntoIterator<Item = T>,
) -> Vec<[T; 2]> {
    let mut out: Vec<[T; 2]> = Vec::new();
    for v in values {
        match out.last_mut() {
            Some(last) if last[1] + T::from(1) == v => last[1] = v,
            _ => out.push([v, v]),
        }
    }
    out
}

/// What one pass over the bundle found.
struct Scan {
    lost: Vec<bool>,
    size_found: Vec<Option<u64>>,
    /// Per listed file: the file or a directory on its way is a symlink.
    symlinked: Vec<bool>,
    strays: Strays,
    blocks: Vec<(Vec<u32>, Vec<u32>)>,
    manifest: PartStatus,
}

/// Symlinks and unlisted entries found by walking the bundle.
#[derive(Default)]
struct Strays {
    symlinks: Vec<String>,
    unlisted: Vec<String>,
}

/// Walks the bundle without following links: every symlink, and every
/// entry that is neither the sidecar, the manifest, a listed file nor a
/// directory on the way to one. Unlisted directories are not descended.
fn strays(root: &Path, files: &[FileEntry]) -> Result<Strays> {
    let mut listed: std::collections::HashSet<String> = std::collections::HashSet::new();
    listed.insert(SIDECAR_FILE.to_string());
    listed.insert(MANIFEST_FILE.to_string());
    listed.insert(FILES_DIR.to_string());
    for f in files {
        let full = format!("{FILES_DIR}/{}", f.path);
        let mut end = 0;
        while let Some(i) = full[end..].find('/') {
            end += i;
            listed.insert(full[..end].to_string());
            end += 1;
        }
        listed.insert(full);
    }
    let mut out = Strays::default();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries =
            fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry
                .file_type()
                .with_context(|| format!("cannot stat {}", entry.path().display()))?;
            if kind.is_symlink() {
                out.symlinks.push(path);
            } else if !listed.contains(&path) {
                out.unlisted.push(path);
            } else if kind.is_dir() {
                stack.push((entry.path(), path));
            }
        }
    }
    out.symlinks.sort();
    out.unlisted.sort();
    Ok(out)
}

fn manifest_status(opened: &Opened) -> Result<PartStatus> {
    let path = opened.root.join(MANIFEST_FILE);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PartStatus::Missing),
        Ok(m) if m.file_type().is_symlink() => return Ok(PartStatus::Symlink),
        Ok(m) if m.is_file() => {}
        // A directory, FIFO or unreadable entry (reading a FIFO would block).
        _ => return Ok(PartStatus::Damaged),
    }
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PartStatus::Missing),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => bail!(
            "cannot read {}: permission denied (not damage: fix its permissions and run again)",
            path.display()
        ),
        Err(_) => return Ok(PartStatus::Damaged),
    };
    if bytes == opened.header.manifest_bytes {
        return Ok(PartStatus::Ok);
    }
    // A readable manifest of a different object means the sidecar and the
    // files were mixed up between bundles: refuse rather than "repair".
    if let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) {
        let ours = format::hex(&opened.header.object_id);
        ensure!(
            m.object_id == ours,
            "object id mismatch: {} names object {} but {SIDECAR_FILE} is for {ours}; \
             the sidecar belongs to a different bundle",
            path.display(),
            m.object_id
        );
    }
    Ok(PartStatus::Damaged)
}

fn verify_block(
    buf: &[u8],
    present: &[bool],
    b: &BlockSpec,
    table: &[Hash],
    t: usize,
) -> Vec<bool> {
    buf.chunks_exact(t)
        .zip(present)
        .enumerate()
        .map(|(esi, (symbol, &here))| {
            let expected = table.get(b.first_symbol as usize + esi);
            !here || expected != Some(&format::source_symbol_hash(b.sbn, esi as u32, symbol))
        })
        .collect()
}

fn scan(opened: &Opened, verb: &str) -> Result<Scan> {
    let manifest = manifest_status(opened)?;
    let t = opened.header.symbol_size;
    let files_root = opened.files_root();
    let header_files = opened.header.manifest.files.clone();
    let symlinked: Vec<bool> = header_files
        .iter()
        .map(|f| source::symlink_on_path(&files_root, &f.path))
        .collect();
    let size_found: Vec<Option<u64>> = header_files
        .iter()
        .zip(&symlinked)
        .map(|(f, &link)| {
            fs::symlink_metadata(files_root.join(&f.path))
                .ok()
                .filter(|m| !link && m.is_file())
                .map(|m| m.len())
        })
        .collect();
    let strays = strays(&opened.root, &header_files)?;
    // A file that is there but may not be read is a permissions problem,
    // not damage: say so instead of reporting its symbols lost.
    for (f, found) in header_files.iter().zip(&size_found) {
        if found.is_some() {
            let path = files_root.join(&f.path);
            if let Err(e) = File::open(&path) {
                ensure!(
                    e.kind() != ErrorKind::PermissionDenied,
                    "cannot read {}: permission denied (not damage: fix its permissions and \
                     run again)",
                    path.display()
                );
            }
        }
    }
    let header = &opened.header;
    let total = header.source_hashes.len() as u64 * t as u64;
    let bar = progress(total, verb);
    // Files and repair records are independent reads: check the records on
    // a second thread (its own handle, so no shared file offset).
    let mut sidecar = open_no_follow(&opened.root.join(SIDECAR_FILE))?;
    let sidecar_len = opened.sidecar_len;
    let (lost, blocks) = std::thread::scope(|scope| {
        let records = scope.spawn(move || -> Result<Vec<(Vec<u32>, Vec<u32>)>> {
            let mut out = Vec::with_capacity(header.blocks.len());
            let mut scratch = Vec::new();
            for b in &header.blocks {
                let (_, damaged, missing) = read_records(
                    &mut sidecar,
                    sidecar_len,
                    header,
                    b,
                    Records::CheckOnly,
                    &mut scratch,
                )?;
                out.push((damaged, missing));
            }
            Ok(out)
        });
        let mut cursor = SourceCursor::new(&files_root, &header_files, t);
        let mut lost = Vec::with_capacity(header.source_hashes.len());
        let mut buf = Vec::new();
        let mut present = Vec::new();
        for b in &header.blocks {
            let k = b.source_symbols as usize;
            buf.resize(k * t, 0);
            present.resize(k, false);
            if !cursor.fill(&mut buf, &mut present) {
                bail!("internal: layout");
            }
            lost.extend(verify_block(&buf, &present, b, &header.source_hashes, t));
            bar.inc(buf.len() as u64);
        }
        let blocks = records
            .join()
            .map_err(|_| anyhow::anyhow!("record scan thread panicked"))??;
        Ok((lost, blocks))
    })?;
    bar.finish_and_clear();
    Ok(Scan {
        lost,
        size_found,
        symlinked,
        strays,
        blocks,
        manifest,
    })
}

fn report(opened: &Opened, scan: &Scan) -> ScrubReport {
    let h = &opened.header;
    let mut files = Vec::new();
    for ((f, found), &link) in h
        .manifest
        .files
        .iter()
        .zip(&scan.size_found)
        .zip(&scan.symlinked)
    {
        let range = f.first_symbol as usize..(f.first_symbol + f.symbols) as usize;
        let lost = ranges(
            scan.lost
                .get(range)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .filter(|(_, &l)| l)
                .map(|(i, _)| i as u64),
        );
        let status = match found {
            _ if link => PartStatus::Symlink,
            None => PartStatus::Missing,
            Some(s) if *s != f.size || !lost.is_empty() => PartStatus::Damaged,
            Some(_) => PartStatus::Ok,
        };
        files.push(FileHealth {
            lost_symbols: lost,
            path: f.path.clone(),
            size: f.size,
            size_found: *found,
            status,
        });
    }
    let mut blocks = Vec::new();
    for (b, (damaged, missing)) in h.blocks.iter().zip(&scan.blocks) {
        let from = b.first_symbol as usize;
        let lost_source = scan
            .lost
            .get(from..from + b.source_symbols as usize)
            .unwrap_or(&[])
            .iter()
            .filter(|&&l| l)
            .count() as u32;
        let usable = b.repair_symbols - damaged.len() as u32 - missing.len() as u32;
        blocks.push(BlockHealth {
            block: b.sbn,
            budget: b.budget(),
            can_still_absorb: i64::from(usable) - i64::from(lost_source) - 2,
            damaged_repair: ranges(damaged.iter().copied()),
            lost_source,
            missing_repair: missing.len() as u32,
            recoverable: usable >= lost_source,
            repair_symbols: b.repair_symbols,
            source_symbols: b.source_symbols,
        });
    }
    let damaged_files = files.iter().filter(|f| f.status != PartStatus::Ok).count() as u64;
    let repair_damaged: u64 = scan.blocks.iter().map(|(d, _)| d.len() as u64).sum();
    let repair_missing: u64 = scan.blocks.iter().map(|(_, m)| m.len() as u64).sum();
    let delta = i128::from(opened.sidecar_len) - i128::from(opened.expected_sidecar_len());
    let delta = i64::try_from(delta).unwrap_or(i64::MAX);
    let ok = damaged_files == 0
        && repair_damaged == 0
        && repair_missing == 0
        && delta == 0
        && scan.manifest == PartStatus::Ok
        && opened.header_status == PartStatus::Ok
        && scan.strays.symlinks.is_empty();
    ScrubReport {
        min_can_still_absorb: blocks.iter().map(|b| b.can_still_absorb).min().unwrap_or(0),
        recoverable: blocks.iter().all(|b| b.recoverable),
        blocks,
        damaged_files,
        files,
        header: opened.header_status,
        lost_source_symbols: scan.lost.iter().filter(|&&l| l).count() as u64,
        manifest: scan.manifest,
        object_id: format::hex(&h.object_id),
        overhead_basis_points: h.overhead_bp,
        repair_symbols_damaged: repair_damaged,
        repair_symbols_missing: repair_missing,
        repair_symbols_total: h.record_count(),
        schema: "fnp.bundle.scrub.v1",
        symlinks: scan.strays.symlinks.clone(),
        unlisted: scan.strays.unlisted.clone(),
        sidecar_length_delta: delta,
        source_hash: format::hex(&h.source_hash),
        status: if ok { "ok" } else { "damaged" },
    }
}

/// Verifies every file symbol and every repair symbol; decodes nothing.
pub fn scrub(bundle: &Path) -> Result<ScrubReport> {
    let opened = open_bundle(bundle)?;
    let scan = scan(&opened, "scrub")?;
    Ok(report(&opened, &scan))
}

/// `fnp.bundle.repair.v1`.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    pub manifest_restored: bool,
    pub object_id: String,
    pub rebuilt_files: Vec<String>,
    pub recovered_source_symbols: u64,
    pub regenerated_repair_symbols: u64,
    pub schema: &'static str,
    pub sidecar_rewritten: bool,
    pub status: &'static str,
}

struct Rebuild {
    entry: FileEntry,
    /// The temp file being written, once the first byte is.
    tmp: Option<PathBuf>,
    target: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: Sha256,
    written: u64,
}

/// Creates a new temp file beside `target` to be renamed over it: a random
/// name, created with O_EXCL, so a file or symlink planted beside the
/// bundle's files is never opened, let alone written through.
fn create_temp_beside(target: &Path) -> Result<(PathBuf, File)> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .context("target has no file name")?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{name}.");
    let (file, path) = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".fnp-tmp")
        .tempfile_in(dir)
        .and_then(|t| t.keep().map_err(|e| e.error))
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))?;
    Ok((path, file))
}

/// Rebuilds damaged or missing files (and damaged repair symbols and
/// manifest) from the surviving data; writes only verified bytes, each file
/// through a temp file and a rename.
pub fn repair(bundle: &Path) -> Result<RepairReport> {
    let mut opened = open_bundle(bundle)?;
    let first = scan(&opened, "scrub")?;
    let health = report(&opened, &first);
    let object_id = format::hex(&opened.header.object_id);
    if health.is_ok() {
        return Ok(RepairReport {
            manifest_restored: false,
            object_id,
            rebuilt_files: Vec::new(),
            recovered_source_symbols: 0,
            regenerated_repair_symbols: 0,
            schema: "fnp.bundle.repair.v1",
            sidecar_rewritten: false,
            status: "ok",
        });
    }
    ensure!(
        health.symlinks.is_empty(),
        "refusing to repair {}: it holds symlinks ({}), and a bundle holds only regular \
         files; remove them and run repair again (it rebuilds what they stood for); \
         nothing was written",
        bundle.display(),
        health.symlinks.join(", ")
    );
    let hopeless: Vec<String> = health
        .blocks
        .iter()
        .filter(|b| !b.recoverable)
        .map(|b| {
            format!(
                "block {} lost {} source symbols with {} usable repair symbols",
                b.block,
                b.lost_source,
                b.repair_symbols
                    - b.missing_repair
                    - b.damaged_repair
                        .iter()
                        .map(|r| r[1] - r[0] + 1)
                        .sum::<u32>()
            )
        })
        .collect();
    ensure!(
        hopeless.is_empty(),
        "cannot repair: too much is lost ({}); nothing was written",
        hopeless.join("; ")
    );

    let h = opened.header.clone();
    let files_root = opened.files_root();
    for f in health.files.iter().filter(|f| f.status != PartStatus::Ok) {
        refuse_symlinks(&opened.root, &f.path)?;
    }
    let mut rebuilds: BTreeMap<usize, Rebuild> = BTreeMap::new();
    for (i, f) in health.files.iter().enumerate() {
        if f.status != PartStatus::Ok {
            let entry = h
                .manifest
                .files
                .get(i)
                .context("internal: file index")?
                .clone();
            let target = files_root.join(&entry.path);
            rebuilds.insert(
                i,
                Rebuild {
                    tmp: None,
                    target,
                    entry,
                    out: None,
                    hasher: Sha256::new(),
                    written: 0,
                },
            );
        }
    }
    let sidecar_bad = health.repair_symbols_damaged > 0
        || health.repair_symbols_missing > 0
        || health.sidecar_length_delta != 0
        || health.header != PartStatus::Ok;
    let sidecar_path = opened.root.join(SIDECAR_FILE);
    let sidecar_tmp = if sidecar_bad {
        Some(create_temp_beside(&sidecar_path)?)
    } else {
        None
    };
    let (sidecar_tmp_path, sidecar_tmp_file) = sidecar_tmp.unzip();
    let result = rebuild(&mut opened, &first, &mut rebuilds, sidecar_tmp_file);
    let (recovered, regenerated) = match result {
        Ok(v) => v,
        Err(e) => {
            for tmp in rebuilds.values().filter_map(|r| r.tmp.as_ref()) {
                let _ = fs::remove_file(tmp);
            }
            if let Some(tmp) = &sidecar_tmp_path {
                let _ = fs::remove_file(tmp);
            }
            return Err(e.context("repair aborted; nothing was written"));
        }
    };
    // Every byte was verified; now publish. A rename replaces whatever is
    // at the target (a planted symlink included) without following it.
    let mut rebuilt_files = Vec::new();
    for r in rebuilds.values() {
        let tmp = r
            .tmp
            .as_ref()
            .context("internal: rebuilt file has no temp file")?;
        replace_with(tmp, &r.target)?;
        rebuilt_files.push(r.entry.path.clone());
    }
    if let Some(tmp) = &sidecar_tmp_path {
        replace_with(tmp, &sidecar_path)?;
    }
    let manifest_restored = health.manifest != PartStatus::Ok;
    if manifest_restored {
        let path = opened.root.join(MANIFEST_FILE);
        clear_dir_at(&path)?;
        crate::outdir::write_atomic(&path, &h.manifest_bytes)?;
    }
    // The renames themselves must be durable too.
    let mut dirs: Vec<PathBuf> = rebuilds
        .values()
        .filter_map(|r| r.target.parent().map(Path::to_path_buf))
        .collect();
    dirs.push(opened.root.clone());
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        sync_dir(&dir)?;
    }
    Ok(RepairReport {
        manifest_restored,
        object_id,
        rebuilt_files,
        recovered_source_symbols: recovered,
        regenerated_repair_symbols: regenerated,
        schema: "fnp.bundle.repair.v1",
        sidecar_rewritten: sidecar_bad,
        status: "repaired",
    })
}

/// Repair writes below `files/`; a symlinked directory on the way could
/// send the rebuilt bytes outside the bundle, so it is refused.
fn refuse_symlinks(root: &Path, rel: &str) -> Result<()> {
    let mut at = root.join(FILES_DIR);
    let parts: Vec<&str> = rel.split('/').collect();
    let dirs = parts.len().saturating_sub(1);
    for part in std::iter::once(None).chain(parts[..dirs].iter().map(Some)) {
        if let Some(p) = part {
            at.push(p);
        }
        if fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!(
                "refusing to repair through the symlink {}; nothing was written",
                at.display()
            );
        }
    }
    Ok(())
}

/// Makes a directory's entries durable (the renames and creations in it).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `sync_dir` for a directory and every directory below it.
fn sync_dirs(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_dirs(&entry.path())?;
        }
    }
    sync_dir(dir)
}

/// Removes a directory standing where a bundle file belongs (damage): a
/// rename cannot replace it.
fn clear_dir_at(target: &Path) -> Result<()> {
    if fs::symlink_metadata(target).is_ok_and(|m| m.is_dir()) {
        fs::remove_dir_all(target)
            .with_context(|| format!("cannot remove the directory {}", target.display()))?;
    }
    Ok(())
}

/// Renames `tmp` over `target` (see [`clear_dir_at`]).
fn replace_with(tmp: &Path, target: &Path) -> Result<()> {
    clear_dir_at(target)?;
    fs::rename(tmp, target).with_context(|| {
        let _ = fs::remove_file(tmp);
        format!("cannot replace {}", target.display())
    })
}

/// Second pass of repair: decodes blocks with lost symbols, streams the
/// rebuilt files into temp files and, when asked, a new sidecar. Returns
/// (recovered source symbols, regenerated repair symbols).
///
/// Pass 1 (`first`) hashed everything; this pass trusts its verdicts to
/// avoid hashing twice and instead verifies what it produces: every
/// recovered symbol against its hash, every rebuilt file against its
/// manifest SHA-256, and every block it re-encodes in full. Data that
/// changed between the passes therefore aborts the repair, never lands.
fn rebuild(
    opened: &mut Opened,
    first_pass: &Scan,
    rebuilds: &mut BTreeMap<usize, Rebuild>,
    sidecar_tmp: Option<File>,
) -> Result<(u64, u64)> {
    let h = opened.header.clone();
    let t = h.symbol_size;
    let oti = opened.raptorq_oti();
    let files_root = opened.files_root();
    let mut cursor = SourceCursor::new(&files_root, &h.manifest.files, t);
    let mut sidecar = match sidecar_tmp {
        Some(f) => {
            let mut w = BufWriter::with_capacity(1 << 20, f);
            w.write_all(&h.raw)?;
            Some(w)
        }
        None => None,
    };
    let rewrite_sidecar = sidecar.is_some();
    let mut out = Output {
        header: &h,
        pool: Vec::new(),
        oti,
        rebuilds,
        sidecar: sidecar.as_mut(),
        recovered: 0,
        regenerated: 0,
    };
    let bar = progress(h.source_hashes.len() as u64 * t as u64, "repair");
    // Decoding block i on a second thread overlaps reading block i + 1 and
    // writing block i - 1; blocks are still published strictly in order.
    std::thread::scope(|scope| -> Result<()> {
        let mut pending: Option<Pending> = None;
        for b in &h.blocks {
            let k = b.source_symbols as usize;
            let first = b.first_symbol;
            let last = first + u64::from(b.source_symbols);
            let touches: Vec<usize> = out
                .rebuilds
                .iter()
                .filter(|(_, r)| {
                    r.entry.first_symbol < last && r.entry.first_symbol + r.entry.symbols > first
                })
                .map(|(i, _)| *i)
                .collect();
            let (known_bad, _) = first_pass
                .blocks
                .get(usize::from(b.sbn))
                .context("internal: block index")?;
            // Records copied into a new sidecar are hashed again: they are
            // written, so they must be verified now.
            let mode = if rewrite_sidecar {
                Records::Verify
            } else {
                Records::Trust(known_bad)
            };
            let (packets, damaged, missing) = opened.repair_packets(b, mode)?;
            let records_bad = !damaged.is_empty() || !missing.is_empty();
            let mut next = Pending {
                block: *b,
                touches,
                buf: Vec::new(),
                packets,
                records_lost: (damaged.len() + missing.len()) as u64,
                lost: Vec::new(),
                decode: None,
            };
            let need_source = !next.touches.is_empty() || (rewrite_sidecar && records_bad);
            if need_source {
                // Reused buffers: a fresh 4 MiB vector per block costs more in
                // page faults than the copy it holds.
                let mut buf = out.pool.pop().unwrap_or_default();
                buf.resize(k * t, 0);
                let mut present = vec![false; k];
                ensure!(cursor.fill(&mut buf, &mut present), "internal: layout");
                let from = usize::try_from(first)?;
                let known_lost = first_pass
                    .lost
                    .get(from..from + k)
                    .context("internal: symbol index")?;
                next.lost = present
                    .iter()
                    .zip(known_lost)
                    .map(|(&here, &gone)| gone || !here)
                    .collect();
                let lost_count = next.lost.iter().filter(|&&l| l).count();
                if lost_count > 0 {
                    ensure!(
                        next.packets.len() >= lost_count,
                        "block {}: {lost_count} source symbols lost, only {} repair symbols usable",
                        b.sbn,
                        next.packets.len()
                    );
                    let packets = next.packets.clone();
                    let lost = next.lost.clone();
                    let block = *b;
                    let hashes = &h.source_hashes;
                    next.decode =
                        Some(scope.spawn(move || {
                            decode_block(block, &oti, t, buf, &lost, packets, hashes)
                        }));
                } else {
                    next.buf = buf;
                }
            } else {
                cursor.skip(u64::from(b.source_symbols));
            }
            if let Some(done) = pending.take() {
                out.publish(done)?;
                bar.inc((k * t) as u64);
            }
            pending = Some(next);
        }
        if let Some(done) = pending.take() {
            out.publish(done)?;
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    let (recovered, regenerated) = (out.recovered, out.regenerated);
    for r in rebuilds.values_mut() {
        let out = match r.out.take() {
            Some(o) => o,
            None => open_rebuild(&r.target, &mut r.tmp)?,
        };
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        let digest = format::hex(&std::mem::take(&mut r.hasher).finalize());
        ensure!(
            r.written == r.entry.size && digest == r.entry.sha256,
            "rebuilt {} does not match its manifest sha256",
            r.entry.path
        );
    }
    if let Some(mut w) = sidecar {
        w.write_all(&h.raw)?;
        w.write_all(&format::trailer(h.raw.len() as u64))?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
    }
    Ok((recovered, regenerated))
}

/// A decoded block and the input buffer it no longer needs.
type Decoded = (Vec<u8>, Vec<u8>);

/// A block read by repair's second pass, waiting to be written out.
struct Pending<'scope> {
    block: BlockSpec,
    touches: Vec<usize>,
    /// Source data (empty when the block was skipped or is being decoded).
    buf: Vec<u8>,
    packets: Vec<EncodingPacket>,
    records_lost: u64,
    lost: Vec<bool>,
    decode: Option<std::thread::ScopedJoinHandle<'scope, Result<Decoded>>>,
}

/// Decodes one block from its surviving source symbols and verified repair
/// packets, and checks every recovered symbol against its hash.
fn decode_block(
    b: BlockSpec,
    oti: &ObjectTransmissionInformation,
    t: usize,
    buf: Vec<u8>,
    lost: &[bool],
    packets: Vec<EncodingPacket>,
    hashes: &[Hash],
) -> Result<Decoded> {
    let k = b.source_symbols as usize;
    let lost_count = lost.iter().filter(|&&l| l).count();
    let usable = k - lost_count + packets.len();
    let mut input: Vec<EncodingPacket> = Vec::with_capacity(usable);
    for (esi, (symbol, &gone)) in buf.chunks_exact(t).zip(lost).enumerate() {
        if !gone {
            input.push(EncodingPacket::new(
                PayloadId::new(b.sbn, esi as u32),
                symbol.to_vec(),
            ));
        }
    }
    input.extend(packets);
    let mut decoder = SourceBlockDecoder::new(b.sbn, oti, (k * t) as u64);
    let Some(decoded) = decoder.decode(input) else {
        bail!(
            "block {}: decoding failed with {usable} symbols for {k} source symbols \
             (RaptorQ fails about 1 time in 100 at exactly K)",
            b.sbn
        );
    };
    ensure!(
        decoded.len() == k * t,
        "block {}: decoder returned {} bytes",
        b.sbn,
        decoded.len()
    );
    let from = b.first_symbol as usize;
    for (esi, symbol) in decoded.chunks_exact(t).enumerate() {
        if lost.get(esi) == Some(&true) {
            ensure!(
                hashes.get(from + esi)
                    == Some(&format::source_symbol_hash(b.sbn, esi as u32, symbol)),
                "block {}: recovered symbol {esi} does not match its hash",
                b.sbn
            );
        }
    }
    Ok((decoded, buf))
}

/// Where repair's second pass writes, in block order.
struct Output<'a, W: Write> {
    header: &'a Header,
    /// Block buffers to reuse.
    pool: Vec<Vec<u8>>,
    oti: ObjectTransmissionInformation,
    rebuilds: &'a mut BTreeMap<usize, Rebuild>,
    sidecar: Option<&'a mut W>,
    recovered: u64,
    regenerated: u64,
}

impl<W: Write> Output<'_, W> {
    fn recycle(&mut self, buf: Vec<u8>) {
        if self.pool.len() < 3 && buf.capacity() > 0 {
            self.pool.push(buf);
        }
    }

    /// Writes one block out, then hands its buffer back to the pool.
    fn publish(&mut self, mut p: Pending<'_>) -> Result<()> {
        let result = self.write_block(&mut p);
        self.recycle(std::mem::take(&mut p.buf));
        result
    }

    fn write_block(&mut self, p: &mut Pending<'_>) -> Result<()> {
        let h = self.header;
        let t = h.symbol_size;
        let b = p.block;
        let k = b.source_symbols as usize;
        if let Some(handle) = p.decode.take() {
            let (decoded, spent) = handle
                .join()
                .map_err(|_| anyhow::anyhow!("decoder thread panicked"))??;
            p.buf = decoded;
            self.recycle(spent);
            self.recovered += p.lost.iter().filter(|&&l| l).count() as u64;
        }
        let first = b.first_symbol;
        let last = first + u64::from(b.source_symbols);
        for i in &p.touches {
            let Some(r) = self.rebuilds.get_mut(i) else {
                continue;
            };
            let lo = r.entry.first_symbol.max(first);
            let hi = (r.entry.first_symbol + r.entry.symbols).min(last);
            let byte_lo = (lo - r.entry.first_symbol) * t as u64;
            let byte_hi = ((hi - r.entry.first_symbol) * t as u64).min(r.entry.size);
            let from = ((lo - first) as usize) * t;
            let bytes = p
                .buf
                .get(from..from + (byte_hi - byte_lo) as usize)
                .context("internal: block range")?;
            let out = match r.out.as_mut() {
                Some(o) => o,
                None => r.out.insert(open_rebuild(&r.target, &mut r.tmp)?),
            };
            out.write_all(bytes)?;
            r.hasher.update(bytes);
            r.written += bytes.len() as u64;
        }
        let Some(w) = self.sidecar.as_mut() else {
            return Ok(());
        };
        if p.records_lost == 0 {
            for packet in &p.packets {
                write_record(&mut **w, &h.object_id, packet)?;
            }
            return Ok(());
        }
        let check = verify_block(&p.buf, &vec![true; k], &b, &h.source_hashes, t);
        ensure!(
            p.buf.len() == k * t && !check.iter().any(|&bad| bad),
            "block {}: source changed during repair",
            b.sbn
        );
        let encoder = SourceBlockEncoder::new(b.sbn, &self.oti, &p.buf);
        let fresh = encoder.repair_packets(0, b.repair_symbols);
        // Determinism check: surviving records must be reproduced exactly.
        for packet in &p.packets {
            let esi = packet.payload_id().encoding_symbol_id();
            let again = fresh.get((esi - b.source_symbols) as usize);
            ensure!(
                again == Some(packet),
                "block {}: re-encoding did not reproduce repair symbol {esi}",
                b.sbn
            );
        }
        for packet in &fresh {
            write_record(&mut **w, &h.object_id, packet)?;
        }
        self.regenerated += p.records_lost;
        Ok(())
    }
}

/// Starts the temp file for `target` (its directories are checked for
/// symlinks before the repair starts) and records its path in `tmp`.
fn open_rebuild(target: &Path, tmp: &mut Option<PathBuf>) -> Result<BufWriter<File>> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let (path, file) = create_temp_beside(target)?;
    *tmp = Some(path);
    Ok(BufWriter::with_capacity(1 << 20, file))
}

fn write_record(w: &mut impl Write, object_id: &Hash, p: &EncodingPacket) -> Result<()> {
    let pid = p.payload_id().serialize();
    w.write_all(&pid)?;
    w.write_all(p.data())?;
    w.write_all(&format::repair_symbol_hash(object_id, &pid, p.data()))?;
    Ok(())
}

/// One block of a decode proof.
#[derive(Debug, Clone, Serialize)]
pub struct ProofBlock {
    pub block: u8,
    pub budget: u32,
    pub decoded: bool,
    /// Dropped repair ESIs (only when the budget exceeds K).
    pub dropped_repair: Vec<u32>,
    /// Dropped source ESIs, sorted.
    pub dropped_source: Vec<u32>,
    pub received: u32,
    pub repair_symbols: u32,
    pub source_symbols: u32,
    pub verified: bool,
}

/// `fnp.bundle.proof.v1`: a seeded recovery drill.
#[derive(Debug, Clone, Serialize)]
pub struct ProofReport {
    pub blocks: Vec<ProofBlock>,
    pub object_id: String,
    pub prng: &'static str,
    pub recomputed_object_id: String,
    pub result: &'static str,
    pub schema: &'static str,
    pub seed: u64,
    pub symbol_size: u32,
}

impl ProofReport {
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

/// Drops, per block, a SplitMix64(seed)-chosen set of as many source
/// symbols as the advertised budget (R − 2), decodes from the K + 2 left,
/// and checks every recovered symbol and the object id.
pub fn proof(bundle: &Path, seed: u64) -> Result<ProofReport> {
    let mut opened = open_bundle(bundle)?;
    let h = opened.header.clone();
    let t = h.symbol_size;
    let oti = opened.raptorq_oti();
    let files_root = opened.files_root();
    let mut cursor = SourceCursor::new(&files_root, &h.manifest.files, t);
    let mut rng = SplitMix64::new(seed);
    let mut payload = Sha256::new();
    let mut blocks = Vec::new();
    let mut buf = Vec::new();
    let mut present = Vec::new();
    let bar = progress(h.source_hashes.len() as u64 * t as u64, "proof");
    for b in &h.blocks {
        let k = b.source_symbols as usize;
        buf.resize(k * t, 0);
        present.resize(k, false);
        ensure!(cursor.fill(&mut buf, &mut present), "internal: layout");
        let lost = verify_block(&buf, &present, b, &h.source_hashes, t);
        let (packets, damaged, missing) = opened.repair_packets(b, Records::Verify)?;
        ensure!(
            !lost.iter().any(|&l| l) && damaged.is_empty() && missing.is_empty(),
            "bundle is damaged (block {}); run `fnp bundle scrub` and `fnp bundle repair` before a proof",
            b.sbn
        );
        let budget = b.budget();
        let mut dropped_source = rng.sample(b.source_symbols, budget);
        let extra = budget.saturating_sub(b.source_symbols);
        let mut dropped_repair: Vec<u32> = rng
            .sample(b.repair_symbols, extra)
            .into_iter()
            .map(|j| b.source_symbols + j)
            .collect();
        dropped_source.sort_unstable();
        dropped_repair.sort_unstable();
        let mut keep = vec![true; k];
        for &esi in &dropped_source {
            if let Some(slot) = keep.get_mut(esi as usize) {
                *slot = false;
            }
        }
        let mut input = Vec::new();
        for (esi, symbol) in buf.chunks_exact(t).enumerate() {
            if keep.get(esi) == Some(&true) {
                input.push(EncodingPacket::new(
                    PayloadId::new(b.sbn, esi as u32),
                    symbol.to_vec(),
                ));
            }
        }
        for p in packets {
            if dropped_repair
                .binary_search(&p.payload_id().encoding_symbol_id())
                .is_err()
            {
                input.push(p);
            }
        }
        let received = input.len() as u32;
        let mut decoder = SourceBlockDecoder::new(b.sbn, &oti, (k * t) as u64);
        let decoded = decoder.decode(input);
        let verified = match &decoded {
            Some(d) => {
                let bad = verify_block(d, &vec![true; k], b, &h.source_hashes, t);
                d.len() == buf.len() && !bad.iter().any(|&x| x)
            }
            None => false,
        };
        payload.update(decoded.as_deref().unwrap_or(&buf));
        blocks.push(ProofBlock {
            block: b.sbn,
            budget,
            decoded: decoded.is_some(),
            dropped_repair,
            dropped_source,
            received,
            repair_symbols: b.repair_symbols,
            source_symbols: b.source_symbols,
            verified,
        });
        bar.inc((k * t) as u64);
    }
    bar.finish_and_clear();
    let recomputed = format::hex(&payload.finalize());
    let object_id = format::hex(&h.object_id);
    let pass = blocks.iter().all(|b| b.decoded && b.verified) && recomputed == object_id;
    Ok(ProofReport {
        blocks,
        object_id,
        prng: "splitmix64",
        recomputed_object_id: recomputed,
        result: if pass { "pass" } else { "fail" },
        schema: "fnp.bundle.proof.v1",
        seed,
        symbol_size: t as u32,
    })
}

/// Writes `value` as pretty JSON with a trailing newline (deterministic:
/// every report struct declares its keys in sorted order).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value)?;
    bytes.push(b'\n');
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // Through a temp file and a rename: an interrupted write never leaves
    // a torn report behind.
    crate::outdir::write_atomic(path, &bytes)
}
