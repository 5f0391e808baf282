//! `fnp bundle`: round trips, damage found and repaired, refusals, bad input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fnp_host::bundle::{
    self, create, create_with, proof, repair, scrub, CreateOptions, Overhead, PartStatus,
    SplitMix64,
};
use proptest::prelude::*;
use tempfile::TempDir;

const T: u64 = 1024;
const RECORD: u64 = 4 + T + 32;

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix64::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// `data/` with a few files of different sizes, one nested and one empty.
fn inputs(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    fs::create_dir_all(data.join("nested/deeper")).unwrap();
    fs::write(data.join("big.bin"), bytes(1, 150_000)).unwrap();
    fs::write(data.join("nested/report.json"), b"{\"pass\": 3}\n").unwrap();
    fs::write(data.join("nested/deeper/odd.bin"), bytes(2, 5_000)).unwrap();
    fs::write(data.join("empty"), b"").unwrap();
    data
}

/// Small blocks so tests cover several source blocks quickly.
fn small_blocks() -> CreateOptions {
    CreateOptions {
        overhead: Overhead::default(),
        block_symbols: 64,
    }
}

fn make(dir: &Path) -> PathBuf {
    let data = inputs(dir);
    let out = dir.join("b");
    create_with(&[data], &out, small_blocks()).unwrap();
    out
}

fn file(bundle: &Path, rel: &str) -> PathBuf {
    bundle.join("files/data").join(rel)
}

fn flip(path: &Path, offset: u64) {
    let mut b = fs::read(path).unwrap();
    b[offset as usize] ^= 0x40;
    fs::write(path, b).unwrap();
}

const TRAILER: u64 = 16;

/// Sidecar = header, records, header again, trailer.
fn records_offset(bundle: &Path) -> u64 {
    let total = scrub(bundle).unwrap().repair_symbols_total;
    let len = fs::metadata(bundle.join("sidecar.fnpq")).unwrap().len();
    (len - TRAILER - total * RECORD) / 2
}

fn records_end(bundle: &Path) -> u64 {
    records_offset(bundle) + scrub(bundle).unwrap().repair_symbols_total * RECORD
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn round_trip_is_exact_and_deterministic() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let report = scrub(&b).unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.files.len(), 4);
    assert!(report.blocks.len() > 1, "expected several blocks");
    for rel in [
        "big.bin",
        "nested/report.json",
        "nested/deeper/odd.bin",
        "empty",
    ] {
        assert_eq!(
            fs::read(file(&b, rel)).unwrap(),
            fs::read(dir.path().join("data").join(rel)).unwrap()
        );
    }
    // Same inputs → byte-identical bundle.
    let again = dir.path().join("b2");
    create_with(&[dir.path().join("data")], &again, small_blocks()).unwrap();
    assert_eq!(tree(&b), tree(&again));
    // The manifest carries plain sha256 values people can check.
    let manifest: bundle::Manifest =
        serde_json::from_slice(&fs::read(b.join("manifest.json")).unwrap()).unwrap();
    let empty = manifest
        .files
        .iter()
        .find(|f| f.path == "data/empty")
        .unwrap();
    assert_eq!(
        empty.sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert!(proof(&b, 1).unwrap().passed());
    // Repair of an intact bundle writes nothing.
    assert_eq!(repair(&b).unwrap().status, "ok");
}

#[test]
fn default_options_and_argument_order_do_not_matter() {
    let dir = TempDir::new().unwrap();
    let data = inputs(dir.path());
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    create(
        &[data.join("big.bin"), data.join("empty")],
        &a,
        Overhead::default(),
    )
    .unwrap();
    create(
        &[data.join("empty"), data.join("big.bin")],
        &b,
        Overhead::default(),
    )
    .unwrap();
    assert_eq!(tree(&a), tree(&b));
    assert!(scrub(&a).unwrap().is_ok());
}

#[test]
fn flipped_byte_is_found_and_repaired() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let original = fs::read(file(&b, "big.bin")).unwrap();
    flip(&file(&b, "big.bin"), 70_000);
    let report = scrub(&b).unwrap();
    assert_eq!(report.status, "damaged");
    let big = report
        .files
        .iter()
        .find(|f| f.path == "data/big.bin")
        .unwrap();
    assert_eq!(big.status, PartStatus::Damaged);
    assert_eq!(big.lost_symbols, vec![[68, 68]]);
    assert_eq!(report.lost_source_symbols, 1);
    let fixed = repair(&b).unwrap();
    assert_eq!(fixed.rebuilt_files, vec!["data/big.bin".to_string()]);
    assert_eq!(fixed.recovered_source_symbols, 1);
    assert_eq!(fs::read(file(&b, "big.bin")).unwrap(), original);
    assert!(scrub(&b).unwrap().is_ok());
}

#[test]
fn deleted_and_resized_files_are_rebuilt() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    fs::remove_file(file(&b, "nested/deeper/odd.bin")).unwrap();
    fs::remove_dir(file(&b, "nested/deeper")).unwrap();
    fs::remove_file(file(&b, "empty")).unwrap();
    // Appended bytes: every symbol still verifies but the size is wrong.
    let mut report = fs::read(file(&b, "nested/report.json")).unwrap();
    report.extend_from_slice(b"junk");
    fs::write(file(&b, "nested/report.json"), report).unwrap();
    let s = scrub(&b).unwrap();
    assert_eq!(s.damaged_files, 3);
    let odd = s
        .files
        .iter()
        .find(|f| f.path.ends_with("odd.bin"))
        .unwrap();
    assert_eq!(odd.status, PartStatus::Missing);
    assert_eq!(odd.lost_symbols, vec![[0, 4]]);
    let fixed = repair(&b).unwrap();
    assert_eq!(fixed.rebuilt_files.len(), 3);
    assert_eq!(tree(&b), before);
}

#[test]
fn corrupted_repair_symbol_is_detected_ignored_and_regenerated() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    let sidecar = b.join("sidecar.fnpq");
    let first = records_offset(&b);
    // Corrupt the data of record 0 and the payload id of record 1.
    flip(&sidecar, first + 4 + 100);
    flip(&sidecar, first + RECORD + 2);
    let s = scrub(&b).unwrap();
    assert_eq!(s.status, "damaged");
    assert_eq!(s.repair_symbols_damaged, 2);
    assert_eq!(s.blocks[0].damaged_repair.len(), 1);
    assert_eq!(s.damaged_files, 0);
    // Lose as many source symbols in block 0 as its budget still allows:
    // the corrupt records must be dropped, not fed to the decoder.
    let allowed = s.blocks[0].can_still_absorb as u64;
    assert!(allowed > 0);
    for i in 0..allowed {
        flip(&file(&b, "big.bin"), i * T + 3);
    }
    let fixed = repair(&b).unwrap();
    assert_eq!(fixed.recovered_source_symbols, allowed);
    assert_eq!(fixed.regenerated_repair_symbols, 2);
    assert!(fixed.sidecar_rewritten);
    assert_eq!(tree(&b), before);
}

#[test]
fn loss_beyond_the_budget_is_refused_and_nothing_is_written() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    // big.bin's first 51 symbols are block 0, which has 13 repair symbols.
    let big = file(&b, "big.bin");
    for i in 0..20 {
        flip(&big, i * T);
    }
    let damaged = tree(&b);
    let s = scrub(&b).unwrap();
    assert!(!s.recoverable);
    assert!(s.min_can_still_absorb < 0);
    let err = repair(&b).unwrap_err().to_string();
    assert!(err.contains("too much is lost"), "{err}");
    assert!(err.contains("block 0"), "{err}");
    assert_eq!(tree(&b), damaged, "a refused repair must not write");
}

#[test]
fn proof_is_deterministic_and_drops_the_budget() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let one = proof(&b, 42).unwrap();
    let two = proof(&b, 42).unwrap();
    let other = proof(&b, 43).unwrap();
    assert!(one.passed() && other.passed());
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    assert_ne!(one.blocks[0].dropped_source, other.blocks[0].dropped_source);
    assert_eq!(one.recomputed_object_id, one.object_id);
    for block in &one.blocks {
        let dropped = (block.dropped_source.len() + block.dropped_repair.len()) as u32;
        assert_eq!(dropped, block.budget);
        assert_eq!(block.received, block.source_symbols + 2);
    }
    // A damaged bundle is repaired first, not drilled.
    flip(&file(&b, "big.bin"), 10);
    assert!(proof(&b, 42).unwrap_err().to_string().contains("damaged"));
}

#[test]
fn manifest_json_damage_is_repaired_from_the_sidecar_copy() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    fs::write(b.join("manifest.json"), b"{not json").unwrap();
    let s = scrub(&b).unwrap();
    assert_eq!(s.manifest, PartStatus::Damaged);
    assert!(repair(&b).unwrap().manifest_restored);
    fs::remove_file(b.join("manifest.json")).unwrap();
    assert_eq!(scrub(&b).unwrap().manifest, PartStatus::Missing);
    repair(&b).unwrap();
    assert_eq!(tree(&b), before);
}

#[test]
fn empty_payloads_bundle_and_prove() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("nothing"), b"").unwrap();
    let b = dir.path().join("b");
    let s = create(&[dir.path().join("nothing")], &b, Overhead::default()).unwrap();
    assert_eq!((s.source_symbols, s.blocks, s.repair_symbols), (0, 0, 0));
    assert!(scrub(&b).unwrap().is_ok());
    assert!(proof(&b, 0).unwrap().passed());
    fs::remove_file(b.join("files/nothing")).unwrap();
    assert_eq!(
        repair(&b).unwrap().rebuilt_files,
        vec!["nothing".to_string()]
    );
    assert!(scrub(&b).unwrap().is_ok());
}

#[test]
fn zero_overhead_detects_but_cannot_repair() {
    let dir = TempDir::new().unwrap();
    let data = inputs(dir.path());
    let b = dir.path().join("b");
    let s = create(&[data], &b, "0%".parse().unwrap()).unwrap();
    assert_eq!(s.repair_symbols, 0);
    flip(&file(&b, "big.bin"), 5);
    assert_eq!(scrub(&b).unwrap().status, "damaged");
    assert!(repair(&b).is_err());
}

#[test]
fn overhead_parsing() {
    assert_eq!("25%".parse::<Overhead>().unwrap().basis_points(), 2500);
    assert_eq!("12.5".parse::<Overhead>().unwrap().basis_points(), 1250);
    for bad in ["", "x%", "-1%", "2000%", "nan"] {
        assert!(bad.parse::<Overhead>().is_err(), "{bad:?}");
    }
}

// ---- bad input: each a clear error, never a panic ----

fn err_of(bundle: &Path) -> String {
    format!("{:#}", scrub(bundle).unwrap_err())
}

#[test]
fn truncated_sidecar_header_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let sidecar = b.join("sidecar.fnpq");
    let full = fs::read(&sidecar).unwrap();
    for len in [0usize, 7, 19, 200] {
        fs::write(&sidecar, &full[..len]).unwrap();
        let e = err_of(&b);
        assert!(e.contains("truncated sidecar"), "{len}: {e}");
        assert!(repair(&b).is_err() && proof(&b, 1).is_err());
    }
}

#[test]
fn truncated_records_count_as_missing_symbols_including_stubs_under_4_bytes() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    let sidecar = b.join("sidecar.fnpq");
    let full = fs::read(&sidecar).unwrap();
    let total = scrub(&b).unwrap().repair_symbols_total;
    let end = records_end(&b);
    // Cut so that the last record keeps 1, 2, 3 bytes — shorter than the
    // 4-byte payload id raptorq's deserialize would index unchecked.
    for stub in [1u64, 2, 3, RECORD - 1] {
        let keep = end - RECORD + stub;
        fs::write(&sidecar, &full[..keep as usize]).unwrap();
        let s = scrub(&b).unwrap();
        assert_eq!(s.repair_symbols_missing, 1, "stub {stub}");
        assert_eq!(s.repair_symbols_damaged, 0);
        assert!(s.sidecar_length_delta < 0);
        assert_eq!(s.header, PartStatus::Damaged, "the mirror was cut off");
        assert_eq!(s.status, "damaged");
    }
    // Lose the whole last block's records, then regenerate them.
    let last = scrub(&b).unwrap().blocks.last().unwrap().repair_symbols as u64;
    fs::write(&sidecar, &full[..(end - last * RECORD) as usize]).unwrap();
    assert_eq!(scrub(&b).unwrap().repair_symbols_missing, last);
    assert_eq!(repair(&b).unwrap().regenerated_repair_symbols, last);
    assert_eq!(tree(&b), before);
    assert!(total > last);
}

#[test]
fn trailing_garbage_in_the_sidecar_is_reported_and_removed() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    let sidecar = b.join("sidecar.fnpq");
    let mut bytes = fs::read(&sidecar).unwrap();
    bytes.extend_from_slice(b"extra");
    fs::write(&sidecar, bytes).unwrap();
    let s = scrub(&b).unwrap();
    assert_eq!((s.status, s.sidecar_length_delta), ("damaged", 5));
    repair(&b).unwrap();
    assert_eq!(tree(&b), before);
}

#[test]
fn wrong_version_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let sidecar = b.join("sidecar.fnpq");
    let mut v2 = fs::read(&sidecar).unwrap();
    v2[8] = 2;
    fs::write(&sidecar, &v2).unwrap();
    let e = err_of(&b);
    assert!(e.contains("unsupported sidecar version 2"), "{e}");
    assert!(repair(&b).is_err());
}

#[test]
fn a_damaged_header_is_read_from_its_mirror_and_rewritten() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let before = tree(&b);
    let sidecar = b.join("sidecar.fnpq");
    let full = fs::read(&sidecar).unwrap();
    let mirror = records_end(&b) as usize;
    // First copy: bad magic, then a flipped bit inside; the mirror: a flip.
    for (at, what) in [(0usize, "first"), (40, "first"), (mirror + 40, "mirror")] {
        let mut bytes = full.clone();
        bytes[at] ^= 1;
        fs::write(&sidecar, &bytes).unwrap();
        let s = scrub(&b).unwrap();
        assert_eq!(s.header, PartStatus::Damaged, "{what}");
        assert_eq!((s.status, s.damaged_files), ("damaged", 0));
        repair(&b).unwrap();
        assert_eq!(tree(&b), before, "{what}");
    }
    // Both copies damaged: nothing is trusted.
    let mut bytes = full.clone();
    bytes[40] ^= 1;
    bytes[mirror + 40] ^= 1;
    fs::write(&sidecar, &bytes).unwrap();
    let e = err_of(&b);
    assert!(e.contains("header is damaged"), "{e}");
    assert!(e.contains("mirror"), "{e}");
    assert!(repair(&b).is_err());
}

#[test]
fn mismatched_object_id_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let other_in = dir.path().join("other");
    fs::create_dir_all(&other_in).unwrap();
    fs::write(other_in.join("x"), b"another object").unwrap();
    let other = dir.path().join("o");
    create(&[other_in], &other, Overhead::default()).unwrap();
    // A sidecar from another bundle next to this bundle's manifest.
    fs::copy(other.join("sidecar.fnpq"), b.join("sidecar.fnpq")).unwrap();
    let e = err_of(&b);
    assert!(e.contains("object id mismatch"), "{e}");
    assert!(repair(&b).is_err());
    assert!(proof(&b, 1).is_err());
}

#[test]
fn random_bytes_as_a_bundle_are_clear_errors() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let sidecar = b.join("sidecar.fnpq");
    for seed in 0..50u64 {
        let len = (seed * 37 % 400) as usize;
        fs::write(&sidecar, bytes(seed, len)).unwrap();
        let e = err_of(&b);
        assert!(e.contains("sidecar"), "{e}");
    }
    // Random bytes behind a valid magic and version.
    let mut fake = b"FNPQSIDE".to_vec();
    fake.extend_from_slice(&1u32.to_le_bytes());
    fake.extend_from_slice(&(1u64 << 40).to_le_bytes());
    fake.extend_from_slice(&bytes(9, 100));
    fs::write(&sidecar, &fake).unwrap();
    assert!(err_of(&b).contains("header claims"), "{}", err_of(&b));
    fake[12..20].copy_from_slice(&(1u64 << 20).to_le_bytes());
    fs::write(&sidecar, &fake).unwrap();
    assert!(err_of(&b).contains("truncated sidecar"));
    // A plain file, a missing path and an empty directory are not bundles.
    let junk = dir.path().join("junk");
    fs::write(&junk, bytes(3, 1000)).unwrap();
    assert!(err_of(&junk).contains("not a bundle directory"));
    assert!(err_of(&dir.path().join("nope")).contains("cannot open bundle"));
    let empty = dir.path().join("emptydir");
    fs::create_dir(&empty).unwrap();
    assert!(err_of(&empty).contains("sidecar.fnpq"));
}

#[test]
fn create_refuses_bad_inputs() {
    let dir = TempDir::new().unwrap();
    let data = inputs(dir.path());
    let out = dir.path().join("b");
    assert!(create(&[], &out, Overhead::default()).is_err());
    assert!(create(&[dir.path().join("missing")], &out, Overhead::default()).is_err());
    // Two inputs stored under the same name.
    let twin = dir.path().join("twin");
    fs::create_dir_all(&twin).unwrap();
    fs::write(twin.join("big.bin"), b"x").unwrap();
    let e = create(
        &[data.join("big.bin"), twin.join("big.bin")],
        &out,
        Overhead::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("both be stored"), "{e}");
    // Never overwrites.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("keep"), b"mine").unwrap();
    assert!(create(&[data], &out, Overhead::default())
        .unwrap_err()
        .to_string()
        .contains("already exists"));
    assert_eq!(fs::read(out.join("keep")).unwrap(), b"mine");
}

#[test]
fn cli_exit_codes_and_reports() {
    let dir = TempDir::new().unwrap();
    let data = inputs(dir.path());
    let fnp = env!("CARGO_BIN_EXE_fnp");
    let b = dir.path().join("cli");
    let run = |args: &[&str]| Command::new(fnp).args(args).output().unwrap();
    let out = run(&[
        "bundle",
        "create",
        data.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
        "--repair-overhead",
        "30%",
    ]);
    assert!(out.status.success(), "{out:?}");
    let bs = b.to_str().unwrap();
    assert_eq!(run(&["bundle", "scrub", bs]).status.code(), Some(0));
    assert!(dir.path().join("cli.scrub.json").is_file());
    flip(&file(&b, "big.bin"), 1);
    let out = run(&["bundle", "scrub", bs]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("cli.scrub.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "damaged");
    assert_eq!(report["schema"], "fnp.bundle.scrub.v1");
    assert_eq!(run(&["bundle", "repair", bs]).status.code(), Some(0));
    let proof_path = dir.path().join("p.json");
    let out = run(&[
        "bundle",
        "proof",
        bs,
        "--seed",
        "7",
        "--out",
        proof_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let proof: serde_json::Value = serde_json::from_slice(&fs::read(&proof_path).unwrap()).unwrap();
    assert_eq!(proof["result"], "pass");
    assert_eq!(proof["prng"], "splitmix64");
    // Errors are one clear line and exit 2, not a panic (101).
    fs::write(b.join("sidecar.fnpq"), b"junk").unwrap();
    let out = run(&["bundle", "scrub", bs]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    assert_eq!(
        run(&["bundle", "create", "--out", bs]).status.code(),
        Some(2)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// Any damage within every block's budget — flipped source bytes,
    /// corrupted repair records — is repaired back to the original bytes.
    #[test]
    fn random_damage_within_budget_is_repaired(
        seed in any::<u64>(),
        source_hits in prop::collection::vec((0u64..147, 0u64..T), 0..40),
        record_hits in prop::collection::vec((0u64..1000, 0u64..RECORD), 0..12),
    ) {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a"), bytes(seed, 100_000)).unwrap();
        fs::write(data.join("b"), bytes(seed ^ 1, 50_000)).unwrap();
        let b = dir.path().join("b");
        create_with(&[data], &b, small_blocks()).unwrap();
        let before = tree(&b);
        let clean = scrub(&b).unwrap();
        let total = clean.repair_symbols_total;
        let first = records_offset(&b);
        // Apply hits block by block while staying within each budget.
        let mut spent = vec![0u32; clean.blocks.len()];
        let mut bounds = Vec::new();
        let mut starts = Vec::new();
        let (mut acc, mut sym_acc) = (0u64, 0u64);
        for blk in &clean.blocks {
            bounds.push(acc);
            starts.push(sym_acc);
            acc += u64::from(blk.repair_symbols);
            sym_acc += u64::from(blk.source_symbols);
        }
        let block_of = |symbol: u64| starts.iter().rposition(|&s| s <= symbol).unwrap();
        let mut hit_records = std::collections::BTreeSet::new();
        for (r, off) in record_hits {
            let r = r % total;
            let blk = bounds.iter().rposition(|&s| s <= r).unwrap();
            if spent[blk] < clean.blocks[blk].budget && hit_records.insert(r) {
                spent[blk] += 1;
                flip(&b.join("sidecar.fnpq"), first + r * RECORD + off);
            }
        }
        let mut hit_symbols = std::collections::BTreeSet::new();
        for (sym, off) in source_hits {
            // a: symbols 0..98 (last is 672 bytes), b: 98..147 (last 848).
            let (name, local, len) = if sym < 98 { ("a", sym, 100_000) } else { ("b", sym - 98, 50_000) };
            let offset = (local * T + off).min(len - 1);
            let blk = block_of(sym);
            if spent[blk] < clean.blocks[blk].budget && hit_symbols.insert(sym) {
                spent[blk] += 1;
                flip(&file(&b, name), offset);
            }
        }
        let s = scrub(&b).unwrap();
        prop_assert_eq!(s.lost_source_symbols, hit_symbols.len() as u64);
        prop_assert_eq!(s.repair_symbols_damaged, hit_records.len() as u64);
        prop_assert!(s.recoverable);
        repair(&b).unwrap();
        prop_assert_eq!(tree(&b), before);
    }
}

#[test]
fn a_record_transplanted_from_another_bundle_is_dropped() {
    // Same sizes, different bytes: identical layout, different object ids,
    // so a record moved between them has a valid-looking payload id.
    let dir = TempDir::new().unwrap();
    let mut made = Vec::new();
    for seed in [5u64, 6] {
        let data = dir.path().join(format!("in{seed}/data"));
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("x"), bytes(seed, 20_000)).unwrap();
        let b = dir.path().join(format!("b{seed}"));
        create(&[data], &b, Overhead::default()).unwrap();
        made.push(b);
    }
    let first = records_offset(&made[0]);
    assert_eq!(first, records_offset(&made[1]));
    let donor = fs::read(made[1].join("sidecar.fnpq")).unwrap();
    let mut target = fs::read(made[0].join("sidecar.fnpq")).unwrap();
    let at = (first + RECORD) as usize..(first + 2 * RECORD) as usize;
    target[at.clone()].copy_from_slice(&donor[at]);
    fs::write(made[0].join("sidecar.fnpq"), target).unwrap();
    let s = scrub(&made[0]).unwrap();
    assert_eq!(s.repair_symbols_damaged, 1);
    assert_eq!(s.blocks[0].damaged_repair, vec![[21, 21]]);
}

#[test]
fn bench_refuses_bad_settings_before_doing_work() {
    let dir = TempDir::new().unwrap();
    let options = bundle::BenchOptions {
        work: dir.path().to_path_buf(),
        ..bundle::BenchOptions::default()
    };
    let e = bundle::bench(&options).unwrap_err().to_string();
    assert!(e.contains("already exists"), "{e}");
    for sizes in [vec![], vec![0], vec![1, 5000]] {
        let options = bundle::BenchOptions {
            sizes_mib: sizes,
            work: dir.path().join("w"),
            ..bundle::BenchOptions::default()
        };
        assert!(bundle::bench(&options).is_err());
        assert!(!dir.path().join("w").exists());
    }
}

/// Rewrites the first header copy's body bytes with `edit` and re-seals
/// its hash, so validation past the hash check is what gets exercised.
fn forge_header(bundle: &Path, edit: impl FnOnce(&mut [u8])) {
    use sha2::{Digest, Sha256};
    let sidecar = bundle.join("sidecar.fnpq");
    let mut bytes = fs::read(&sidecar).unwrap();
    let body_len = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    let end = 20 + body_len;
    edit(&mut bytes[20..end]);
    let digest = Sha256::digest(&bytes[..end]);
    bytes[end..end + 32].copy_from_slice(&digest);
    fs::write(&sidecar, bytes).unwrap();
}

fn never_panics(bundle: &Path) {
    let _ = scrub(bundle);
    let _ = repair(bundle);
    let _ = proof(bundle, 3);
}

#[test]
fn forged_transmission_parameters_are_refused_before_raptorq_sees_them() {
    // Body: object_id[32] source_hash[32] oti[12] ...
    const OTI: usize = 64;
    type Edit = Box<dyn Fn(&mut [u8])>;
    let cases: Vec<(&str, Edit)> = vec![
        ("alignment 0", Box::new(|b| b[OTI + 11] = 0)),
        (
            "symbol size 0",
            Box::new(|b| b[OTI + 6..OTI + 8].copy_from_slice(&[0, 0])),
        ),
        (
            "symbol size 2",
            Box::new(|b| b[OTI + 6..OTI + 8].copy_from_slice(&[0, 2])),
        ),
        ("two sub-blocks", Box::new(|b| b[OTI + 10] = 2)),
        ("more blocks", Box::new(|b| b[OTI + 8] += 1)),
        ("no blocks", Box::new(|b| b[OTI + 8] = 0)),
        ("huge transfer", Box::new(|b| b[OTI..OTI + 5].fill(0xff))),
        ("reserved byte", Box::new(|b| b[OTI + 5] = 1)),
        ("object id", Box::new(|b| b[0] ^= 1)),
        ("source hash", Box::new(|b| b[32] ^= 1)),
        // First block's K: u32 after overhead (4) and Z (4).
        ("block K", Box::new(|b| b[OTI + 20] ^= 1)),
        (
            "block R to 2^24",
            Box::new(|b| b[OTI + 24..OTI + 28].copy_from_slice(&(1u32 << 24).to_le_bytes())),
        ),
        // A repair count within the symbol-id range but not the one the
        // overhead gives: it would size repair's work (16M records of
        // 1 KiB ran a CI machine out of memory before this was checked).
        (
            "block R to 2^24 - K",
            Box::new(|b| {
                let k = u32::from_le_bytes(b[OTI + 20..OTI + 24].try_into().unwrap());
                b[OTI + 24..OTI + 28].copy_from_slice(&((1u32 << 24) - k).to_le_bytes())
            }),
        ),
        (
            "overhead above 1000%",
            Box::new(|b| b[OTI + 12..OTI + 16].fill(0xff)),
        ),
    ];
    for (what, edit) in cases {
        let dir = TempDir::new().unwrap();
        let b = make(dir.path());
        // Also damage the mirror so the forged copy is the one read.
        let mirror = records_end(&b) as usize;
        let mut bytes = fs::read(b.join("sidecar.fnpq")).unwrap();
        bytes[mirror + 40] ^= 1;
        fs::write(b.join("sidecar.fnpq"), bytes).unwrap();
        forge_header(&b, |body| edit(body));
        let e = format!("{:#}", scrub(&b).expect_err(what));
        assert!(e.contains("sidecar"), "{what}: {e}");
        never_panics(&b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Any byte of a re-sealed header set to any value: an error or a
    /// consistent bundle, never a panic.
    #[test]
    fn forged_headers_never_panic(at in 0usize..4096, value in any::<u8>()) {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a"), bytes(at as u64, 3_000)).unwrap();
        let b = dir.path().join("b");
        create_with(&[data], &b, small_blocks()).unwrap();
        forge_header(&b, |body| {
            let i = at % body.len();
            body[i] = value;
        });
        never_panics(&b);
    }
}

#[cfg(unix)]
#[test]
fn repair_refuses_to_write_through_a_symlinked_directory_and_fifos_do_not_hang() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let outside = dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    // files/data/nested -> outside (with the file missing there).
    let nested = b.join("files/data/nested");
    fs::rename(&nested, dir.path().join("moved")).unwrap();
    std::os::unix::fs::symlink(&outside, &nested).unwrap();
    let e = repair(&b).unwrap_err().to_string();
    assert!(e.contains("symlink"), "{e}");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    fs::remove_file(&nested).unwrap();
    fs::rename(dir.path().join("moved"), &nested).unwrap();
    assert!(scrub(&b).unwrap().is_ok());

    // FIFOs where a file, the manifest or the sidecar should be.
    let mkfifo = |p: &Path| {
        let status = Command::new("mkfifo").arg(p).status().unwrap();
        assert!(status.success());
    };
    fs::remove_file(file(&b, "big.bin")).unwrap();
    mkfifo(&file(&b, "big.bin"));
    fs::remove_file(b.join("manifest.json")).unwrap();
    mkfifo(&b.join("manifest.json"));
    let s = scrub(&b).unwrap();
    assert_eq!(s.manifest, PartStatus::Damaged);
    let big = s.files.iter().find(|f| f.path == "data/big.bin").unwrap();
    assert_eq!(big.status, PartStatus::Missing);
    fs::rename(b.join("sidecar.fnpq"), dir.path().join("sc")).unwrap();
    mkfifo(&b.join("sidecar.fnpq"));
    assert!(err_of(&b).contains("not a regular file"));
}

#[test]
fn decoding_from_exactly_k_symbols_is_attempted_and_either_verifies_or_writes_nothing() {
    for seed in 0..4u64 {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a"), bytes(seed + 100, 40 * 1024)).unwrap();
        let b = dir.path().join("b");
        create(&[data], &b, Overhead::default()).unwrap();
        let before = tree(&b);
        // K = 40, R = 10: lose all 10 → exactly K symbols left, past the
        // advertised budget (R − 2) but still worth a try.
        for i in 0..10 {
            flip(&file(&b, "a"), i * 4 * T + 9);
        }
        let s = scrub(&b).unwrap();
        assert_eq!(s.blocks[0].can_still_absorb, -2);
        assert!(s.recoverable);
        let damaged = tree(&b);
        match repair(&b) {
            Ok(r) => {
                assert_eq!(r.recovered_source_symbols, 10);
                assert_eq!(tree(&b), before);
            }
            Err(e) => {
                assert!(format!("{e:#}").contains("decoding failed"), "{e:#}");
                assert_eq!(tree(&b), damaged);
            }
        }
    }
}

// ---- hostile bundles (issue 27): links, forged lengths, stray entries ----

#[cfg(unix)]
fn outside_file(dir: &Path) -> (PathBuf, Vec<u8>) {
    let outside = dir.join("outside.txt");
    let text = b"not part of any bundle\n".to_vec();
    fs::write(&outside, &text).unwrap();
    (outside, text)
}

/// Regression: repair opened `.NAME.fnp-repair` beside each file with
/// `File::create`, so a symlink planted at that name sent the rebuilt bytes
/// to the link's target outside the bundle, and the file became the link.
#[cfg(unix)]
#[test]
fn repair_never_writes_through_a_planted_symlink() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let (outside, text) = outside_file(dir.path());
    flip(&file(&b, "big.bin"), 10);
    fs::remove_file(b.join("manifest.json")).unwrap();
    for planted in [
        file(&b, ".big.bin.fnp-repair"),
        b.join(".sidecar.fnpq.fnp-repair"),
        b.join(".manifest.json.fnp-repair"),
    ] {
        symlink(&outside, planted).unwrap();
    }
    let s = scrub(&b).unwrap();
    assert!(!s.is_ok());
    assert_eq!(
        s.symlinks,
        vec![
            ".manifest.json.fnp-repair",
            ".sidecar.fnpq.fnp-repair",
            "files/data/.big.bin.fnp-repair"
        ]
    );
    let e = format!("{:#}", repair(&b).unwrap_err());
    assert!(
        e.contains("symlinks") && e.contains("nothing was written"),
        "{e}"
    );
    assert_eq!(fs::read(&outside).unwrap(), text);
    // Once the links are gone, repair works and writes only inside.
    for link in &s.symlinks {
        fs::remove_file(b.join(link)).unwrap();
    }
    let r = repair(&b).unwrap();
    assert_eq!(r.rebuilt_files, vec!["data/big.bin"]);
    assert!(r.manifest_restored);
    assert_eq!(fs::read(&outside).unwrap(), text);
    let big = fs::symlink_metadata(file(&b, "big.bin")).unwrap();
    assert!(big.file_type().is_file());
    let after = scrub(&b).unwrap();
    assert!(after.is_ok() && after.unlisted.is_empty(), "{after:?}");
}

/// Regression: a bundle file replaced by a symlink to an identical copy
/// outside scrubbed "ok" (the link was followed).
#[cfg(unix)]
#[test]
fn a_bundle_entry_that_is_a_symlink_is_reported_and_refused() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let target = file(&b, "nested/report.json");
    let copy = dir.path().join("copy.json");
    fs::copy(&target, &copy).unwrap();
    fs::remove_file(&target).unwrap();
    symlink(&copy, &target).unwrap();
    let s = scrub(&b).unwrap();
    assert!(!s.is_ok());
    assert_eq!(s.symlinks, vec!["files/data/nested/report.json"]);
    let f = s.files.iter().find(|f| f.path == "data/nested/report.json");
    assert_eq!(f.unwrap().status, PartStatus::Symlink);
    assert!(repair(&b).is_err());
    assert!(fs::symlink_metadata(&target)
        .unwrap()
        .file_type()
        .is_symlink());

    // A symlinked manifest and sidecar too.
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let copy = dir.path().join("manifest.json");
    fs::rename(b.join("manifest.json"), &copy).unwrap();
    symlink(&copy, b.join("manifest.json")).unwrap();
    let s = scrub(&b).unwrap();
    assert_eq!(s.manifest, PartStatus::Symlink);
    assert!(!s.is_ok() && repair(&b).is_err());
    let copy = dir.path().join("sidecar.fnpq");
    fs::rename(b.join("sidecar.fnpq"), &copy).unwrap();
    symlink(&copy, b.join("sidecar.fnpq")).unwrap();
    assert!(err_of(&b).contains("symbolic link"), "{}", err_of(&b));
}

#[test]
fn unlisted_entries_are_reported_and_left_alone() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    fs::write(b.join("notes.txt"), b"hello").unwrap();
    fs::create_dir_all(b.join("files/data/extra/deep")).unwrap();
    fs::write(file(&b, "nested/stray.bin"), b"x").unwrap();
    let s = scrub(&b).unwrap();
    assert!(s.is_ok(), "strays are not damage: {s:?}");
    assert_eq!(
        s.unlisted,
        vec![
            "files/data/extra",
            "files/data/nested/stray.bin",
            "notes.txt"
        ]
    );
    assert_eq!(repair(&b).unwrap().status, "ok");
    assert!(b.join("notes.txt").is_file());
}

/// Regression: a directory standing in for manifest.json made repair fail
/// with "Is a directory (os error 21)" and no path.
#[test]
fn a_directory_in_place_of_the_manifest_is_repaired() {
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let manifest = fs::read(b.join("manifest.json")).unwrap();
    fs::remove_file(b.join("manifest.json")).unwrap();
    fs::create_dir_all(b.join("manifest.json/inner")).unwrap();
    assert_eq!(scrub(&b).unwrap().manifest, PartStatus::Damaged);
    let r = repair(&b).unwrap();
    assert!(r.manifest_restored);
    assert_eq!(fs::read(b.join("manifest.json")).unwrap(), manifest);
    assert!(scrub(&b).unwrap().is_ok());
}

/// Regression: the header length in the preamble (or trailer) was bounded
/// only by the file's length, so a sparse sidecar claiming 64 GiB aborted
/// scrub with a failed allocation.
#[test]
fn a_forged_header_length_is_refused_before_allocating() {
    for huge in [64u64 << 30, 3 << 30, (128 << 20) + 1] {
        let dir = TempDir::new().unwrap();
        let b = make(dir.path());
        let sidecar = b.join("sidecar.fnpq");
        let mut head = fs::read(&sidecar).unwrap();
        head[12..20].copy_from_slice(&huge.to_le_bytes());
        fs::write(&sidecar, &head[..20]).unwrap();
        // Sparse: as long as the claim, costing no disk.
        fs::OpenOptions::new()
            .write(true)
            .open(&sidecar)
            .unwrap()
            .set_len(huge + 100)
            .unwrap();
        let e = err_of(&b);
        assert!(e.contains("header claims"), "{huge}: {e}");
        assert!(repair(&b).is_err() && proof(&b, 1).is_err());

        // The same claim in the trailer, with the first copy damaged.
        let f = fs::OpenOptions::new().write(true).open(&sidecar).unwrap();
        f.set_len(0).unwrap();
        f.set_len(huge + 100).unwrap();
        drop(f);
        let mut tail = Vec::new();
        tail.extend_from_slice(&huge.to_le_bytes());
        tail.extend_from_slice(b"FNPQTAIL");
        use std::io::{Seek, SeekFrom, Write};
        let mut f = fs::OpenOptions::new().write(true).open(&sidecar).unwrap();
        f.seek(SeekFrom::Start(huge + 100 - 16)).unwrap();
        f.write_all(&tail).unwrap();
        drop(f);
        assert!(scrub(&b).is_err());
    }
}

#[test]
fn create_errors_name_the_path() {
    let dir = TempDir::new().unwrap();
    let data = inputs(dir.path());
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("bundle");
    let e = format!(
        "{:#}",
        create(&[data], &out, Overhead::default()).unwrap_err()
    );
    assert!(e.contains(blocker.to_str().unwrap()), "{e}");
}

/// Regression: an unreadable file was reported as lost symbols ("NOT
/// recoverable") rather than as a permissions problem. Root reads
/// anything, so as root the CLI runs as `nobody` through setpriv.
#[cfg(unix)]
#[test]
fn permission_errors_are_reported_as_permissions_not_damage() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().unwrap();
    let b = make(dir.path());
    let fnp = env!("CARGO_BIN_EXE_fnp");
    let root = is_root();
    if root && Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: running as root and setpriv is absent");
        return;
    }
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o777)).unwrap();
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }
    let scrub_as_user = |bundle: &Path| {
        let report = dir.path().join("scrub.json");
        let args = ["bundle", "scrub", bundle.to_str().unwrap(), "--report"];
        let mut cmd = if root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", fnp]);
            c
        } else {
            Command::new(fnp)
        };
        cmd.args(args).arg(&report).output().unwrap()
    };
    let ok = scrub_as_user(&b);
    assert!(ok.status.success(), "{ok:?}");
    for locked in [file(&b, "big.bin"), b.join("manifest.json")] {
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        let out = scrub_as_user(&b);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(
            err.contains("permission denied") && err.contains(locked.to_str().unwrap()),
            "{err}"
        );
        assert!(!err.contains("NOT recoverable"), "{err}");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    }
}

#[cfg(unix)]
fn is_root() -> bool {
    // The effective uid, from /proc (no unsafe libc call in tests).
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
