//! Property fuzzing of the host's readers: corpus and oracle files mutated
//! in their JSON structure and in their bytes, the value decoders on any
//! JSON, the buffer builder on any layout, and bundles damaged anywhere.
//! Every input is read or refused with a message naming what is wrong —
//! never a panic.
//!
//! Short budget for CI; `FNP_FUZZ_CASES=N` raises it (bundle cases are a
//! quarter of it: each one rebuilds and checks a bundle on disk).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fnp_core::DType;
use fnp_host::bundle::{self, create_with, CreateOptions, Overhead};
use fnp_host::{corpus, oracle, value};
use proptest::prelude::*;
use serde_json::{json, Value};
use tempfile::TempDir;

fn cases() -> u32 {
    std::env::var("FNP_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config(divisor: u32) -> ProptestConfig {
    ProptestConfig {
        cases: (cases() / divisor).max(4),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A small corpus and its oracle: the first cases of each committed suite.
fn seeds() -> &'static (Value, Value) {
    static SEEDS: OnceLock<(Value, Value)> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut cases = Vec::new();
        let mut results = Vec::new();
        for suite in ["reduce", "unary"] {
            let read = |dir: &str| -> Value {
                let text = fs::read(repo().join(format!("fixtures/{dir}/{suite}.json"))).unwrap();
                serde_json::from_slice(&text).unwrap()
            };
            let c = read("cases");
            let o = read("oracles");
            let take: Vec<Value> = c["cases"].as_array().unwrap()[..6].to_vec();
            for case in &take {
                let id = &case["id"];
                let r = o["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| &r["id"] == id)
                    .unwrap();
                results.push(r.clone());
            }
            cases.extend(take);
        }
        let corpus = json!({"schema": "fnp.cases.v1", "suite": "fuzz", "seed": 1, "cases": cases});
        let oracle = json!({
            "schema": "fnp.oracle.v1", "corpus": "fuzz.json", "corpus_sha256": "0".repeat(64),
            "numpy_version": "2.4.6", "python_version": "3.11.7", "source": "numpy",
            "results": results,
        });
        (corpus, oracle)
    })
}

/// JSON values of every kind, including the edge numbers the readers must
/// refuse or read exactly.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        prop::num::f64::NORMAL.prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "nan",
            "-nan",
            "inf",
            "-inf",
            "int8",
            "float64",
            "bool",
            "uint64",
            "F",
            "C",
            "ok",
            "error",
            "unsupported",
            "",
            "sum",
            "add",
            "1e999",
        ])
        .prop_map(|s| json!(s)),
        "[a-z_]{0,8}".prop_map(Value::String),
        Just(serde_json::from_str::<Value>("123456789012345678901234567890").unwrap()),
        Just(serde_json::from_str::<Value>("-1e400").unwrap()),
        Just(json!(-1)),
        Just(json!(1u64 << 40)),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,7}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A structural edit at a path chosen by `picks`: replace a node, delete a
/// key or element, or add a key.
#[derive(Clone, Debug)]
struct Edit {
    picks: Vec<usize>,
    kind: u8,
    key: String,
    with: Value,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        prop::collection::vec(any::<usize>(), 1..7),
        0u8..3,
        prop::sample::select(vec![
            "data", "shape", "dtype", "layout", "strides", "offset", "scalar", "params", "axis",
            "where", "initial", "keepdims", "ddof", "generate", "seed", "low", "high", "status",
            "fp_flags", "id", "op", "inputs", "error", "reason",
        ]),
        any_json(),
    )
        .prop_map(|(picks, kind, key, with)| Edit {
            picks,
            kind,
            key: key.to_string(),
            with,
        })
}

fn apply(root: &mut Value, e: &Edit) {
    let mut node = root;
    for (depth, &p) in e.picks.iter().enumerate() {
        let last = depth + 1 == e.picks.len();
        let len = match node {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        };
        if last || len == 0 {
            match (e.kind, &mut *node) {
                (1, Value::Array(a)) if !a.is_empty() => {
                    a.remove(p % a.len());
                }
                (1, Value::Object(o)) if !o.is_empty() => {
                    let k = o.keys().nth(p % o.len()).unwrap().clone();
                    o.remove(&k);
                }
                (2, Value::Object(o)) => {
                    o.insert(e.key.clone(), e.with.clone());
                }
                _ => *node = e.with.clone(),
            }
            return;
        }
        node = match node {
            Value::Array(a) => &mut a[p % len],
            Value::Object(o) => {
                let k = o.keys().nth(p % len).unwrap().clone();
                o.get_mut(&k).unwrap()
            }
            _ => unreachable!("len > 0 only for containers"),
        };
    }
}

/// A byte-level edit of the serialised text (makes invalid JSON too).
fn byte_edit(text: &mut Vec<u8>, at: usize, b: u8, kind: u8) {
    if text.is_empty() {
        return;
    }
    let i = at % text.len();
    match kind {
        0 => text[i] = b,
        1 => text.truncate(i),
        _ => text.insert(i, b),
    }
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    fs::write(&p, bytes).unwrap();
    p
}

proptest! {
    #![proptest_config(config(1))]

    /// A corpus with structural and byte edits loads or fails naming the
    /// file; when it loads, every input's buffer holds its shape.
    #[test]
    fn mutated_corpora_load_or_name_the_problem(
        edits in prop::collection::vec(edit(), 1..4),
        bytes in prop::option::weighted(0.3, (any::<usize>(), any::<u8>(), 0u8..3)),
    ) {
        let mut doc = seeds().0.clone();
        for e in &edits {
            apply(&mut doc, e);
        }
        let mut text = serde_json::to_vec(&doc).unwrap();
        if let Some((at, b, kind)) = bytes {
            byte_edit(&mut text, at, b, kind);
        }
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "fuzz.json", &text);
        match corpus::load(&path) {
            Ok(c) => {
                for case in &c.cases {
                    // `generate` inputs are built when the case runs.
                    let built = case.materialized();
                    prop_assert!(built.is_ok(), "{:?}", built.err());
                    let Ok(case) = built else { continue };
                    for input in &case.inputs {
                        let size: usize = input.shape.iter().product();
                        prop_assert!(input.buffer.len() >= size * input.dtype.itemsize()
                            || input.shape.contains(&0));
                    }
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                prop_assert!(msg.contains("fuzz.json"), "error does not name the file: {msg}");
            }
        }
        // The decoder without the schema in front of it: hand-made values.
        if let Some(cases) = doc.get("cases").and_then(Value::as_array) {
            for raw in cases {
                let _ = corpus::decode_case(raw);
            }
        }
    }

    /// Any JSON at all where a case or an input is expected.
    #[test]
    fn any_json_case_or_input_is_decoded_or_refused(v in any_json(), e in edit()) {
        let _ = corpus::decode_case(&v);
        let _ = corpus::decode_input(&v);
        let mut case = seeds().0["cases"][0].clone();
        apply(&mut case, &e);
        if let Err((field, msg)) = corpus::decode_case(&case) {
            prop_assert!(!field.is_empty() && !msg.is_empty());
        }
    }

    /// An oracle with edits loads or fails naming the file.
    #[test]
    fn mutated_oracles_load_or_name_the_problem(
        edits in prop::collection::vec(edit(), 1..4),
        bytes in prop::option::weighted(0.3, (any::<usize>(), any::<u8>(), 0u8..3)),
    ) {
        let mut doc = seeds().1.clone();
        for e in &edits {
            apply(&mut doc, e);
        }
        let mut text = serde_json::to_vec(&doc).unwrap();
        if let Some((at, b, kind)) = bytes {
            byte_edit(&mut text, at, b, kind);
        }
        let dir = TempDir::new().unwrap();
        let path = write(&dir, "oracle.json", &text);
        if let Err(e) = oracle::load(&path) {
            let msg = format!("{e:#}");
            prop_assert!(msg.contains("oracle.json"), "error does not name the file: {msg}");
        }
    }

    /// The value codecs on any JSON and any dtype.
    #[test]
    fn value_codecs_take_any_json(v in any_json(), code in 0u8..11, bytes in prop::collection::vec(any::<u8>(), 0..24), index in 0usize..6) {
        let dtype = DType::try_from(code).unwrap();
        let _ = value::Scalar::from_json(&v);
        let _ = value::parse_f64(&v);
        let _ = value::parse_f32(&v);
        let mut out = Vec::new();
        if value::encode_value(dtype, &v, &mut out).is_ok() {
            prop_assert_eq!(out.len(), dtype.itemsize());
            let back = value::decode_value(dtype, &out, 0);
            prop_assert!(back.is_some());
        }
        if let Value::Array(items) = &v {
            let _ = value::encode_values(dtype, items);
        }
        let _ = value::decode_value(dtype, &bytes, index);
        let _ = value::decode_values(dtype, &bytes);
    }

    /// The buffer builder on any shape, strides and offset, including
    /// element counts and spans that overflow.
    #[test]
    fn build_buffer_refuses_or_lays_out(
        code in 0u8..11,
        shape in prop::collection::vec(prop_oneof![6 => 0usize..4, 1 => any::<usize>()], 0..5),
        strides in prop::collection::vec(prop_oneof![6 => -3isize..4, 1 => any::<isize>()], 0..5),
        offset in prop_oneof![6 => 0usize..16, 1 => any::<usize>()],
        logical_len in prop_oneof![4 => Just(None), 1 => (0usize..200).prop_map(Some)],
    ) {
        let dtype = DType::try_from(code).unwrap();
        let size = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let len = logical_len.unwrap_or_else(|| size.unwrap_or(0).min(4096) * dtype.itemsize());
        let logical = vec![7u8; len];
        if let Ok(buf) = corpus::build_buffer(dtype, &shape, &strides, offset, &logical) {
            prop_assert_eq!(buf.len() % dtype.itemsize(), 0);
            prop_assert_eq!(Some(len), size.and_then(|s| s.checked_mul(dtype.itemsize())));
        }
    }
}

/// A bundle built once; each case damages a copy of it.
fn sealed() -> &'static (TempDir, PathBuf) {
    static SEALED: OnceLock<(TempDir, PathBuf)> = OnceLock::new();
    SEALED.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        let data = dir.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        let noise: Vec<u8> = (0..9_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        fs::write(data.join("a.bin"), &noise).unwrap();
        fs::write(data.join("sub/b.json"), b"{\"x\": 1}\n").unwrap();
        fs::write(data.join("empty"), b"").unwrap();
        let out = dir.path().join("sealed");
        let options = CreateOptions {
            overhead: Overhead::default(),
            block_symbols: 4,
        };
        create_with(&[data], &out, options).unwrap();
        (dir, out)
    })
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[derive(Clone, Debug)]
enum Damage {
    /// Overwrite bytes at a position of one of the bundle's files.
    Overwrite(usize, usize, Vec<u8>),
    Truncate(usize, usize),
    Append(usize, Vec<u8>),
    Delete(usize),
    /// Replace the file with random bytes.
    Replace(usize, Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let bytes = prop::collection::vec(any::<u8>(), 1..64);
    prop_oneof![
        4 => (any::<usize>(), any::<usize>(), bytes.clone()).prop_map(|(f, at, b)| Damage::Overwrite(f, at, b)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(f, at)| Damage::Truncate(f, at)),
        1 => (any::<usize>(), bytes.clone()).prop_map(|(f, b)| Damage::Append(f, b)),
        1 => any::<usize>().prop_map(Damage::Delete),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 0..600)).prop_map(|(f, b)| Damage::Replace(f, b)),
    ]
}

fn files_of(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_of(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn inflict(bundle: &Path, d: &Damage) {
    let mut files = Vec::new();
    files_of(bundle, &mut files);
    files.sort();
    let pick = |f: usize| files[f % files.len()].clone();
    match d {
        Damage::Overwrite(f, at, b) => {
            let p = pick(*f);
            let mut bytes = fs::read(&p).unwrap();
            if !bytes.is_empty() {
                let at = at % bytes.len();
                for (i, &x) in b.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = x;
                    }
                }
            }
            fs::write(&p, bytes).unwrap();
        }
        Damage::Truncate(f, at) => {
            let p = pick(*f);
            let bytes = fs::read(&p).unwrap();
            let keep = at % (bytes.len() + 1);
            fs::write(&p, &bytes[..keep]).unwrap();
        }
        Damage::Append(f, b) => {
            let p = pick(*f);
            let mut bytes = fs::read(&p).unwrap();
            bytes.extend_from_slice(b);
            fs::write(&p, bytes).unwrap();
        }
        Damage::Delete(f) => fs::remove_file(pick(*f)).unwrap(),
        Damage::Replace(f, b) => fs::write(pick(*f), b).unwrap(),
    }
}

proptest! {
    #![proptest_config(config(4))]

    /// Damage anywhere (files, manifest, sidecar header, records, mirror,
    /// trailer): scrub, repair and proof answer or refuse; a repair that
    /// reports success leaves a bundle that scrubs clean and proves.
    #[test]
    fn damaged_bundles_are_refused_or_repaired(damages in prop::collection::vec(damage(), 1..4)) {
        let (_keep, original) = sealed();
        let dir = TempDir::new().unwrap();
        let b = dir.path().join("b");
        copy_tree(original, &b);
        for d in &damages {
            inflict(&b, d);
        }
        let _ = bundle::scrub(&b);
        match bundle::repair(&b) {
            Ok(r) => {
                let after = bundle::scrub(&b);
                prop_assert!(
                    matches!(&after, Ok(s) if s.is_ok()),
                    "repair said {} but scrub says {:?}", r.status, after.map(|s| s.is_ok())
                );
                let p = bundle::proof(&b, 11);
                prop_assert!(matches!(&p, Ok(p) if p.passed()), "proof after repair: {:?}", p.map(|p| p.passed()));
            }
            Err(e) => {
                let msg = format!("{e:#}");
                prop_assert!(!msg.is_empty());
                let _ = bundle::proof(&b, 11);
            }
        }
    }
}

/// Found by `build_buffer_refuses_or_lays_out`: an element count that
/// overflows `usize` panicked (debug) or wrapped (release) before the
/// length check.
#[test]
fn build_buffer_overflowing_shape_is_refused() {
    let e = corpus::build_buffer(DType::Bool, &[2, 1 << 63], &[], 0, &[]).unwrap_err();
    assert!(e.contains("overflows"), "{e}");
    let e = corpus::build_buffer(DType::Int8, &[2], &[1, 1], 0, &[0, 0]).unwrap_err();
    assert!(e.contains("strides"), "{e}");
}
