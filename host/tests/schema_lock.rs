//! The schema lock and `fnp validate`.
//!
//! Every file in `schemas/` is named after its `$id` and hashed in
//! `schemas/lock.json`; a schema whose text changes without a new version
//! fails here, and so does a deleted version (artifacts still name it).

use std::path::{Path, PathBuf};

use fnp_host::schema::{validate_file, Kind};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_schema_matches_its_lock_entry() {
    let dir = schemas_dir();
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lock.json")).unwrap()).unwrap();
    let locked = lock["schemas"].as_object().unwrap();
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "lock.json" || !name.ends_with(".json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        let id = doc["$id"].as_str().unwrap_or_default().to_string();
        if format!("{id}.json") != name {
            problems.push(format!("{name}: $id {id:?} does not match the file name"));
        }
        let hash = sha256_hex(&bytes);
        match locked.get(&id).and_then(Value::as_str) {
            None => problems.push(format!(
                "{name}: new schema: add \"{id}\": \"{hash}\" to schemas/lock.json"
            )),
            Some(h) if h != hash => problems.push(format!(
                "{name} changed but its $id is still {id}: released schemas never change; \
                 add the next version as a new file (and lock line) instead"
            )),
            Some(_) => {}
        }
        seen.push(id);
    }
    for id in locked.keys() {
        if !seen.contains(id) {
            problems.push(format!(
                "{id} is locked but schemas/{id}.json is gone: old versions stay"
            ));
        }
    }
    for kind in Kind::ALL {
        if !seen.iter().any(|s| s == kind.id()) {
            problems.push(format!("fnp reads {} but it has no file", kind.id()));
        }
        // The copy compiled into fnp is the file.
        let file = std::fs::read_to_string(dir.join(format!("{}.json", kind.id()))).unwrap();
        assert_eq!(file, kind.text(), "{}", kind.id());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn validate_accepts_the_committed_artifacts() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    for dir in ["fixtures/cases", "fixtures/oracles", "fixtures/frames"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                let id = validate_file(&path).unwrap_or_else(|e| panic!("{e:#}"));
                assert!(id.starts_with("fnp."), "{id}");
            }
        }
    }
}

#[test]
fn validate_names_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // Not JSON, no schema field, an unknown schema, a schema violation.
    let e = validate_file(&write(d, "a.json", "{")).unwrap_err();
    assert!(format!("{e:#}").contains("not JSON"), "{e:#}");
    let e = validate_file(&write(d, "b.json", "{}")).unwrap_err();
    assert!(
        format!("{e:#}").contains("no string field `schema`"),
        "{e:#}"
    );
    let e = validate_file(&write(d, "c.json", r#"{"schema": "fnp.cases.v9"}"#)).unwrap_err();
    assert!(format!("{e:#}").contains("fnp.cases.v9"), "{e:#}");
    let bad = json!({"schema": "fnp.cases.v1", "suite": "s", "cases": [
        {"id": "x", "op": "add", "inputs": [{"dtype": "int7", "shape": [], "data": [1]}]}]});
    let e = validate_file(&write(d, "d.json", &bad.to_string())).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("case x") && msg.contains("inputs.0.dtype"),
        "{msg}"
    );
    // A log line that breaks the schema is named by its line number.
    let e = validate_file(&write(d, "e.jsonl", "{\"schema\": \"fnp.log.v1\"}\n")).unwrap_err();
    assert!(format!("{e:#}").contains("e.jsonl:1"), "{e:#}");
    let e = validate_file(&write(d, "f.jsonl", "\n")).unwrap_err();
    assert!(format!("{e:#}").contains("no lines"), "{e:#}");
    // A directory is a bundle only with a manifest.
    let e = validate_file(d).unwrap_err();
    assert!(format!("{e:#}").contains("manifest.json"), "{e:#}");
    assert!(validate_file(&d.join("missing.json")).is_err());
}

#[test]
fn validate_checks_bundles_and_run_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write(tmp.path(), "evidence.txt", "parity evidence\n");
    let bundle = tmp.path().join("b");
    fnp_host::bundle::create(&[data], &bundle, Default::default()).unwrap();
    assert_eq!(validate_file(&bundle).unwrap(), "fnp.bundle.manifest.v1");
    // A manifest edited by hand is caught.
    let manifest = bundle.join("manifest.json");
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    doc["symbol_size"] = json!(0);
    std::fs::write(&manifest, doc.to_string()).unwrap();
    let e = validate_file(&bundle).unwrap_err();
    assert!(format!("{e:#}").contains("symbol_size"), "{e:#}");

    // fnp run's log: every line follows fnp.log.v1.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tmp.path().join("reports");
    let args = fnp_host::run::RunArgs {
        target: "host".into(),
        cases: vec![root.join("fixtures/cases/unary.json")],
        oracle: vec![],
        oracles: root.join("fixtures/oracles"),
        out: out.clone(),
        ops: vec!["sqrt".into(), "sin".into()],
        timeout: 30.0,
        jobs: 1,
        shard: None,
        answers: None,
        frames: vec![root.join("fixtures/frames")],
        mode: fnp_core::Mode::Strict,
        allow: None,
    };
    fnp_host::run::main(&args).unwrap();
    let log = out.join("host.log.jsonl");
    assert_eq!(validate_file(&log).unwrap(), "fnp.log.v1");
    let lines: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 50);
    assert!(lines
        .iter()
        .all(|l| l["target"] == "host" && l["mode"] == "strict"));
    let refused = lines
        .iter()
        .find(|l| l["outcome"] == "unsupported")
        .expect("sqrt of int8 is a float16 result: unsupported");
    assert!(refused["reason"].is_string() && refused["detail"].is_string());
    assert_eq!(
        validate_file(&out.join("host.json")).unwrap(),
        "fnp.report.v1"
    );
}
