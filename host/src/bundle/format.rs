//! The on-disk format: manifest JSON and the binary sidecar (version 1).
//! Everything read here is validated before any value reaches raptorq,
//! whose constructors assert (panic) on out-of-range parameters.

use std::collections::HashSet;
use std::fmt::Write as _;

use anyhow::{bail, ensure, Context, Result};
use raptorq::{EncodingPacket, ObjectTransmissionInformation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// First bytes of every sidecar.
pub const MAGIC: [u8; 8] = *b"FNPQSIDE";
/// The sidecar format version this build writes and reads.
pub const VERSION: u32 = 1;
/// `schema` of `manifest.json`.
pub const MANIFEST_SCHEMA: &str = "fnp.bundle.manifest.v1";
/// Length of every hash in the format (SHA-256).
pub const HASH_LEN: usize = 32;
/// Bytes of payload id in front of each repair symbol (RFC 6330 FEC payload id).
pub const PAYLOAD_ID_LEN: usize = 4;
/// RFC 6330's K'max: raptorq asserts on more source symbols per block.
pub const MAX_SOURCE_SYMBOLS_PER_BLOCK: u32 = 56_403;
/// Encoding symbol ids are 24-bit; raptorq asserts on larger ones.
pub const MAX_ESI: u32 = 1 << 24;
/// The largest repair overhead `create` accepts (1000%), in basis points.
pub const MAX_OVERHEAD_BP: u32 = 100_000;
/// RFC 6330 errata 5548 limit on the transfer length F; raptorq asserts on more.
pub const MAX_TRANSFER_LENGTH: u64 = 942_574_504_275;
/// The largest sidecar header this build reads or writes (128 MiB: the
/// symbol hash table of a 4 GiB payload at 1 KiB symbols, plus its
/// manifest). Every length read from disk is checked against a bound like
/// this before anything is allocated for it: a forged sidecar claiming a
/// 64 GiB header must be an error, not an allocation.
pub const MAX_HEADER_LEN: u64 = 128 << 20;
/// The largest symbol size this build reads. `create` writes 1 KiB symbols;
/// the bound keeps a forged header from sizing a source block's buffer
/// (K × T, K ≤ 56 403) past 58 MiB.
pub const MAX_SYMBOL_SIZE: u16 = 1024;
/// magic + version + header length.
pub const PREAMBLE_LEN: usize = 8 + 4 + 8;
/// Last bytes of every sidecar: header length (u64 LE) then this magic, so
/// the mirror copy of the header can be found when the first is damaged.
pub const TAIL_MAGIC: [u8; 8] = *b"FNPQTAIL";
pub const TRAILER_LEN: usize = 16;
/// Domain tags keep source and repair symbol hashes from ever colliding by
/// construction; both fit with the payload id (and object id) in SHA-256's
/// spare first-block room, so they cost no extra compression per symbol.
const SOURCE_TAG: &[u8; 8] = b"fnpsrc01";
const REPAIR_TAG: &[u8; 8] = b"fnprep01";

pub type Hash = [u8; HASH_LEN];

/// `manifest.json`: what the bundle protects. Keys are in sorted order so
/// serde writes them sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Files in byte order of `path`.
    pub files: Vec<FileEntry>,
    /// Hex SHA-256 of the payload (see the module docs).
    pub object_id: String,
    pub schema: String,
    pub symbol_size: u32,
}

/// One protected file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Index of the file's first source symbol in the payload.
    pub first_symbol: u64,
    /// `/`-separated path below `files/`.
    pub path: String,
    /// Hex SHA-256 of the file's bytes (what `sha256sum` prints).
    pub sha256: String,
    pub size: u64,
    /// `ceil(size / symbol_size)`.
    pub symbols: u64,
    /// Hex SHA-256 over the file's source-symbol hashes, concatenated.
    pub symbols_sha256: String,
}

/// One source block: K source symbols, R repair symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpec {
    pub sbn: u8,
    pub first_symbol: u64,
    pub source_symbols: u32,
    pub repair_symbols: u32,
    /// Index of the block's first repair record in the sidecar.
    pub first_record: u64,
}

impl BlockSpec {
    /// Losses the block is advertised to absorb: R − 2 (decoding from K + 2
    /// symbols fails about once in 10^6, from exactly K about once in 100).
    pub fn budget(&self) -> u32 {
        self.repair_symbols.saturating_sub(2)
    }
}

/// The validated sidecar header.
#[derive(Debug, Clone)]
pub struct Header {
    pub object_id: Hash,
    pub source_hash: Hash,
    pub oti: [u8; 12],
    pub overhead_bp: u32,
    pub symbol_size: usize,
    pub blocks: Vec<BlockSpec>,
    pub source_hashes: Vec<Hash>,
    pub manifest_bytes: Vec<u8>,
    pub manifest: Manifest,
    /// Header bytes exactly as stored (preamble, body, header hash).
    pub raw: Vec<u8>,
}

impl Header {
    /// Byte offset of the first repair record.
    pub fn records_offset(&self) -> u64 {
        self.raw.len() as u64
    }

    /// Byte offset of the mirror copy of the header (after the records).
    pub fn mirror_offset(&self) -> u64 {
        self.records_offset() + self.record_count() * self.record_len() as u64
    }

    /// Bytes per repair record: payload id, symbol, hash.
    pub fn record_len(&self) -> usize {
        record_len(self.symbol_size)
    }

    /// Total repair records the sidecar should hold.
    pub fn record_count(&self) -> u64 {
        self.blocks
            .iter()
            .map(|b| u64::from(b.repair_symbols))
            .sum()
    }

    /// The transmission parameters as raptorq's type; only built after
    /// `parse` validated every field raptorq would assert on.
    pub fn raptorq_oti(&self) -> ObjectTransmissionInformation {
        ObjectTransmissionInformation::deserialize(&self.oti)
    }
}

/// The trailer that ends a sidecar whose header is `header_len` bytes.
pub fn trailer(header_len: u64) -> [u8; TRAILER_LEN] {
    let mut t = [0u8; TRAILER_LEN];
    t[..8].copy_from_slice(&header_len.to_le_bytes());
    t[8..].copy_from_slice(&TAIL_MAGIC);
    t
}

/// Header length named by a trailer, if it is one.
pub fn parse_trailer(bytes: &[u8]) -> Option<u64> {
    if bytes.len() != TRAILER_LEN || bytes[8..] != TAIL_MAGIC {
        return None;
    }
    Some(u64::from_le_bytes(bytes[..8].try_into().ok()?))
}

pub fn record_len(symbol_size: usize) -> usize {
    PAYLOAD_ID_LEN + symbol_size + HASH_LEN
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn source_symbol_hash(sbn: u8, esi: u32, data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(SOURCE_TAG);
    h.update(payload_id(sbn, esi));
    h.update(data);
    h.finalize().into()
}

/// Binds the object id so a record from another bundle never verifies here.
pub fn repair_symbol_hash(object_id: &Hash, pid: &[u8; 4], data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(REPAIR_TAG);
    h.update(object_id);
    h.update(pid);
    h.update(data);
    h.finalize().into()
}

pub fn payload_id(sbn: u8, esi: u32) -> [u8; 4] {
    let e = esi.to_be_bytes();
    [sbn, e[1], e[2], e[3]]
}

/// Whether a stored repair record is whole, carries the payload id its
/// position says, and passes its hash. A record that fails is dropped,
/// never handed to the decoder.
pub fn check_record(
    record: &[u8],
    object_id: &Hash,
    symbol_size: usize,
    sbn: u8,
    esi: u32,
) -> bool {
    if record.len() != record_len(symbol_size) || esi >= MAX_ESI {
        return false;
    }
    let (packet, hash) = record.split_at(PAYLOAD_ID_LEN + symbol_size);
    let (pid, data) = packet.split_at(PAYLOAD_ID_LEN);
    pid == payload_id(sbn, esi)
        && repair_symbol_hash(object_id, &payload_id(sbn, esi), data) == hash
}

/// The packet in a record whose length and payload id are right (its hash
/// is the caller's business: `check_record`). `None` otherwise.
pub fn record_packet(
    record: &[u8],
    symbol_size: usize,
    sbn: u8,
    esi: u32,
) -> Option<EncodingPacket> {
    // EncodingPacket::deserialize indexes [0..4] unchecked and the decoder
    // asserts the payload is exactly T bytes: check both here.
    if record.len() != record_len(symbol_size) || record.len() < PAYLOAD_ID_LEN || esi >= MAX_ESI {
        return None;
    }
    let packet = record.get(..PAYLOAD_ID_LEN + symbol_size)?;
    if packet.get(..PAYLOAD_ID_LEN)? != payload_id(sbn, esi) {
        return None;
    }
    let packet = EncodingPacket::deserialize(packet);
    (packet.data().len() == symbol_size).then_some(packet)
}

/// `check_record` then `record_packet`.
#[cfg(test)]
pub fn parse_record(
    record: &[u8],
    object_id: &Hash,
    symbol_size: usize,
    sbn: u8,
    esi: u32,
) -> Option<EncodingPacket> {
    if !check_record(record, object_id, symbol_size, sbn, esi) {
        return None;
    }
    record_packet(record, symbol_size, sbn, esi)
}

/// RFC 6330 Partition[I, J] (section 4.4.1.2); `None` when `j == 0`.
pub fn partition(i: u64, j: u64) -> Option<(u64, u64, u64, u64)> {
    if j == 0 {
        return None;
    }
    let il = i.div_ceil(j);
    let is = i / j;
    let jl = i - is * j;
    Some((il, is, jl, j - jl))
}

/// Splits `total_symbols` into Z blocks as RFC 6330 does, repair counts
/// from the overhead in basis points (at least 3 when overhead > 0, so the
/// advertised budget R − 2 is never zero).
pub fn plan_blocks(
    total_symbols: u64,
    block_count: u64,
    overhead_bp: u32,
) -> Result<Vec<BlockSpec>> {
    let mut blocks = Vec::new();
    if total_symbols == 0 {
        ensure!(block_count == 0, "an empty payload has no source blocks");
        return Ok(blocks);
    }
    ensure!(
        (1..=255).contains(&block_count),
        "source block count {block_count} is outside 1..=255"
    );
    let Some((kl, ks, zl, _)) = partition(total_symbols, block_count) else {
        bail!("no source blocks");
    };
    let mut first_symbol = 0u64;
    let mut first_record = 0u64;
    for i in 0..block_count {
        let k = if i < zl { kl } else { ks };
        ensure!(
            (1..=u64::from(MAX_SOURCE_SYMBOLS_PER_BLOCK)).contains(&k),
            "source block of {k} symbols is outside 1..={MAX_SOURCE_SYMBOLS_PER_BLOCK}"
        );
        let r = repair_count(k, overhead_bp);
        ensure!(
            k + r <= u64::from(MAX_ESI),
            "{r} repair symbols for {k} source symbols exceed 24-bit symbol ids"
        );
        blocks.push(BlockSpec {
            sbn: u8::try_from(i).context("block number")?,
            first_symbol,
            source_symbols: u32::try_from(k).context("block size")?,
            repair_symbols: u32::try_from(r).context("repair count")?,
            first_record,
        });
        first_symbol += k;
        first_record += r;
    }
    Ok(blocks)
}

pub fn repair_count(k: u64, overhead_bp: u32) -> u64 {
    if overhead_bp == 0 {
        return 0;
    }
    (k * u64::from(overhead_bp)).div_ceil(10_000).max(3)
}

/// Serializes a header: preamble, body, SHA-256 of both.
pub fn encode_header(
    object_id: &Hash,
    source_hash: &Hash,
    oti: &[u8; 12],
    overhead_bp: u32,
    blocks: &[BlockSpec],
    source_hashes: &[Hash],
    manifest_bytes: &[u8],
) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    body.extend_from_slice(object_id);
    body.extend_from_slice(source_hash);
    body.extend_from_slice(oti);
    body.extend_from_slice(&overhead_bp.to_le_bytes());
    body.extend_from_slice(&u32::try_from(blocks.len())?.to_le_bytes());
    for b in blocks {
        body.extend_from_slice(&b.source_symbols.to_le_bytes());
        body.extend_from_slice(&b.repair_symbols.to_le_bytes());
    }
    body.extend_from_slice(&u64::try_from(source_hashes.len())?.to_le_bytes());
    for h in source_hashes {
        body.extend_from_slice(h);
    }
    body.extend_from_slice(&u64::try_from(manifest_bytes.len())?.to_le_bytes());
    body.extend_from_slice(manifest_bytes);

    let mut out = Vec::with_capacity(PREAMBLE_LEN + body.len() + HASH_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&u64::try_from(body.len())?.to_le_bytes());
    out.extend_from_slice(&body);
    let digest: Hash = Sha256::digest(&out).into();
    out.extend_from_slice(&digest);
    Ok(out)
}

/// Length of the header stored at the start of `prefix` (which may be the
/// first bytes of the sidecar only), after checking magic and version.
pub fn header_len(prefix: &[u8], file_len: u64) -> Result<u64> {
    ensure!(
        prefix.len() >= PREAMBLE_LEN,
        "truncated sidecar: {} bytes, shorter than its {PREAMBLE_LEN}-byte preamble",
        prefix.len()
    );
    ensure!(
        prefix[..8] == MAGIC,
        "not an fnp bundle sidecar (bad magic {:?})",
        String::from_utf8_lossy(&prefix[..8])
    );
    let version = u32::from_le_bytes(prefix[8..12].try_into()?);
    ensure!(
        version == VERSION,
        "unsupported sidecar version {version} (this fnp reads version {VERSION})"
    );
    let body_len = u64::from_le_bytes(prefix[12..20].try_into()?);
    let total = body_len
        .checked_add((PREAMBLE_LEN + HASH_LEN) as u64)
        .context("sidecar header length overflows")?;
    check_header_len(total)?;
    ensure!(
        total <= file_len,
        "truncated sidecar: header says {total} bytes, the file has {file_len}"
    );
    Ok(total)
}

/// Refuses a header length (from a preamble or a trailer) past
/// [`MAX_HEADER_LEN`] before anything is allocated for it.
pub fn check_header_len(len: u64) -> Result<()> {
    ensure!(
        len <= MAX_HEADER_LEN,
        "sidecar header claims {len} bytes, more than the {MAX_HEADER_LEN} this fnp reads \
         (forged or damaged)"
    );
    Ok(())
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        ensure!(
            n <= self.bytes.len(),
            "sidecar header ends inside {what} (needs {n} bytes, {} left)",
            self.bytes.len()
        );
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into()?))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into()?))
    }
    fn hash(&mut self, what: &str) -> Result<Hash> {
        Ok(self.take(HASH_LEN, what)?.try_into()?)
    }
}

/// Parses and validates a complete header (`raw` is exactly
/// `header_len` bytes).
pub fn parse_header(raw: Vec<u8>) -> Result<Header> {
    let total = header_len(&raw, raw.len() as u64)?;
    ensure!(total == raw.len() as u64, "sidecar header length mismatch");
    let split = raw.len() - HASH_LEN;
    let digest: Hash = Sha256::digest(&raw[..split]).into();
    ensure!(
        digest[..] == raw[split..],
        "sidecar header is damaged (its SHA-256 does not match); the bundle cannot be verified"
    );
    let mut c = Cursor {
        bytes: &raw[PREAMBLE_LEN..split],
    };
    let object_id = c.hash("object id")?;
    let source_hash = c.hash("source hash")?;
    let oti: [u8; 12] = c.take(12, "transmission parameters")?.try_into()?;
    let overhead_bp = c.u32("repair overhead")?;
    ensure!(
        overhead_bp <= MAX_OVERHEAD_BP,
        "repair overhead {overhead_bp} basis points is above the 1000% create allows"
    );
    let block_count = c.u32("block count")?;
    ensure!(
        block_count <= 255,
        "{block_count} source blocks (at most 255)"
    );
    let mut stored = Vec::new();
    for _ in 0..block_count {
        stored.push((c.u32("block size")?, c.u32("repair count")?));
    }
    let symbol_count = c.u64("symbol count")?;
    let table_len = usize::try_from(symbol_count)
        .ok()
        .and_then(|n| n.checked_mul(HASH_LEN))
        .context("symbol count overflows")?;
    let table = c.take(table_len, "source symbol hashes")?;
    let source_hashes: Vec<Hash> = table
        .chunks_exact(HASH_LEN)
        .map(|h| h.try_into().unwrap_or([0; HASH_LEN]))
        .collect();
    let manifest_len = usize::try_from(c.u64("manifest length")?)?;
    let manifest_bytes = c.take(manifest_len, "manifest")?.to_vec();
    ensure!(
        c.bytes.is_empty(),
        "sidecar header has {} unexpected trailing bytes",
        c.bytes.len()
    );

    // Transmission parameters, field by field, before raptorq sees them.
    let transfer_length = u64::from_be_bytes([0, 0, 0, oti[0], oti[1], oti[2], oti[3], oti[4]]);
    let symbol_size = u16::from_be_bytes([oti[6], oti[7]]);
    let z = oti[8];
    let sub_blocks = u16::from_be_bytes([oti[9], oti[10]]);
    let alignment = oti[11];
    ensure!(
        oti[5] == 0,
        "transmission parameters: reserved byte is not zero"
    );
    ensure!(
        symbol_size >= 4 && alignment >= 1 && symbol_size % u16::from(alignment) == 0,
        "transmission parameters: symbol size {symbol_size} / alignment {alignment} invalid"
    );
    ensure!(
        symbol_size <= MAX_SYMBOL_SIZE,
        "transmission parameters: symbol size {symbol_size} is above the {MAX_SYMBOL_SIZE} this fnp reads"
    );
    ensure!(
        sub_blocks == 1,
        "transmission parameters: {sub_blocks} sub-blocks (bundles use exactly 1)"
    );
    ensure!(
        transfer_length <= MAX_TRANSFER_LENGTH,
        "transmission parameters: transfer length {transfer_length} exceeds RFC 6330's limit"
    );
    let t = u64::from(symbol_size);
    ensure!(
        symbol_count.checked_mul(t) == Some(transfer_length),
        "transmission parameters: transfer length {transfer_length} != {symbol_count} symbols × {t} bytes"
    );
    ensure!(
        u32::from(z) == block_count,
        "transmission parameters say {z} source blocks, the header lists {block_count}"
    );
    let blocks = plan_blocks(symbol_count, u64::from(z), 0)?;
    let mut with_repair = Vec::with_capacity(blocks.len());
    let mut first_record = 0u64;
    for (b, (k, r)) in blocks.iter().zip(&stored) {
        ensure!(
            b.source_symbols == *k,
            "block {} has {k} source symbols, RFC 6330 partitioning gives {}",
            b.sbn,
            b.source_symbols
        );
        ensure!(
            u64::from(*k) + u64::from(*r) <= u64::from(MAX_ESI),
            "block {}: {r} repair symbols exceed 24-bit symbol ids",
            b.sbn
        );
        // The repair count follows from the block size and the overhead, so
        // a forged count (which would size repair's work) is refused.
        ensure!(
            u64::from(*r) == repair_count(u64::from(*k), overhead_bp),
            "block {}: {r} repair symbols, but {} follow from {k} source symbols at the stated overhead",
            b.sbn,
            repair_count(u64::from(*k), overhead_bp)
        );
        with_repair.push(BlockSpec {
            repair_symbols: *r,
            first_record,
            ..*b
        });
        first_record += u64::from(*r);
    }

    let source_digest: Hash = Sha256::digest(table).into();
    ensure!(
        source_digest == source_hash,
        "sidecar source hash does not match its symbol table"
    );
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).context("sidecar holds an unreadable manifest")?;
    validate_manifest(&manifest, &object_id, symbol_size, &source_hashes)?;

    Ok(Header {
        object_id,
        source_hash,
        oti,
        overhead_bp,
        symbol_size: usize::from(symbol_size),
        blocks: with_repair,
        source_hashes,
        manifest_bytes,
        manifest,
        raw,
    })
}

/// Checks the manifest against the header: same object, symbol layout that
/// tiles the payload exactly, per-file symbol digests, and paths that stay
/// inside the bundle (repair writes to them).
pub fn validate_manifest(
    m: &Manifest,
    object_id: &Hash,
    symbol_size: u16,
    source_hashes: &[Hash],
) -> Result<()> {
    ensure!(
        m.schema == MANIFEST_SCHEMA,
        "manifest schema {:?} (expected {MANIFEST_SCHEMA:?})",
        m.schema
    );
    ensure!(
        m.object_id == hex(object_id),
        "object id mismatch: manifest names {}, sidecar is for {}",
        m.object_id,
        hex(object_id)
    );
    ensure!(
        m.symbol_size == u32::from(symbol_size),
        "manifest symbol size {} != sidecar's {symbol_size}",
        m.symbol_size
    );
    let t = u64::from(symbol_size);
    let mut next = 0u64;
    let mut dirs = HashSet::new();
    let mut previous: Option<&str> = None;
    for f in &m.files {
        check_path(&f.path)?;
        if let Some(p) = previous {
            ensure!(
                p.as_bytes() < f.path.as_bytes(),
                "manifest paths are not sorted and unique at {:?}",
                f.path
            );
        }
        previous = Some(&f.path);
        let mut parent = f.path.as_str();
        while let Some((dir, _)) = parent.rsplit_once('/') {
            dirs.insert(dir.to_string());
            parent = dir;
        }
        ensure!(
            f.first_symbol == next && f.symbols == f.size.div_ceil(t),
            "manifest entry {:?} does not tile the payload (first symbol {}, {} symbols)",
            f.path,
            f.first_symbol,
            f.symbols
        );
        next = next
            .checked_add(f.symbols)
            .context("manifest symbol count overflows")?;
        ensure!(
            is_hex_hash(&f.sha256) && is_hex_hash(&f.symbols_sha256),
            "manifest entry {:?}: hashes must be 64 lowercase hex digits",
            f.path
        );
        let range = usize::try_from(f.first_symbol)?..usize::try_from(next)?;
        let hashes = source_hashes
            .get(range)
            .context("manifest names more symbols than the sidecar holds")?;
        ensure!(
            hex(&digest_of_hashes(hashes)) == f.symbols_sha256,
            "manifest entry {:?}: symbols_sha256 does not match the sidecar",
            f.path
        );
    }
    ensure!(
        next == source_hashes.len() as u64,
        "manifest covers {next} symbols, the sidecar {}",
        source_hashes.len()
    );
    for f in &m.files {
        ensure!(
            !dirs.contains(&f.path),
            "manifest path {:?} is both a file and a directory",
            f.path
        );
    }
    Ok(())
}

pub fn digest_of_hashes(hashes: &[Hash]) -> Hash {
    let mut h = Sha256::new();
    for s in hashes {
        h.update(s);
    }
    h.finalize().into()
}

fn is_hex_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A stored path must be relative, `/`-separated and free of `.`/`..`, so
/// joining it under `files/` can never leave the bundle.
pub fn check_path(path: &str) -> Result<()> {
    ensure!(!path.is_empty(), "empty path in manifest");
    for part in path.split('/') {
        ensure!(
            !part.is_empty() && part != "." && part != ".." && !part.contains(['\\', '\0', ':']),
            "unsafe path {path:?} in manifest"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_matches_rfc() {
        assert_eq!(partition(10, 3), Some((4, 3, 1, 2)));
        assert_eq!(partition(9, 3), Some((3, 3, 0, 3)));
        assert_eq!(partition(1, 0), None);
    }

    #[test]
    fn unsafe_paths_are_refused() {
        for p in ["", "/a", "a//b", "../x", "a/./b", "a\\b", "c:x", "a/"] {
            assert!(check_path(p).is_err(), "{p:?}");
        }
        assert!(check_path("a/b.json").is_ok());
    }

    #[test]
    fn short_records_are_dropped_not_decoded() {
        let id = [7u8; 32];
        for len in 0..8 {
            assert!(parse_record(&vec![0u8; len], &id, 4, 0, 1).is_none());
            assert!(record_packet(&vec![0u8; len], 4, 0, 1).is_none());
            assert!(!check_record(&vec![0u8; len], &id, 4, 0, 1));
        }
        // A whole record with the right payload id but a wrong hash.
        let mut rec = vec![0u8; record_len(4)];
        rec[..4].copy_from_slice(&payload_id(0, 1));
        assert!(record_packet(&rec, 4, 0, 1).is_some());
        assert!(parse_record(&rec, &id, 4, 0, 1).is_none());
        let hash = repair_symbol_hash(&id, &payload_id(0, 1), &rec[4..8]);
        rec[8..].copy_from_slice(&hash);
        assert!(parse_record(&rec, &id, 4, 0, 1).is_some());
        assert!(record_packet(&rec, 4, 0, 2).is_none());
    }

    #[test]
    fn repair_count_has_a_floor() {
        assert_eq!(repair_count(1, 2500), 3);
        assert_eq!(repair_count(1000, 2500), 250);
        assert_eq!(repair_count(1001, 2500), 251);
        assert_eq!(repair_count(1000, 0), 0);
    }
}
