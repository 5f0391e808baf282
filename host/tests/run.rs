//! `fnp run`: the comparator catches a wrong answer, a missing oracle is
//! an error, and reports are byte-identical for the same inputs.

mod common;

use common::*;
use serde_json::{json, Value};

const CORPUS: &str = r#"{"schema": "fnp.cases.v1", "suite": "tiny", "cases": [
 {"id": "right", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2]},
   {"dtype": "int8", "shape": [2], "data": [3, 4]}]},
 {"id": "wrong", "op": "add", "inputs": [
   {"dtype": "float64", "shape": [3], "data": [0.5, 1.0, 2.0]},
   {"dtype": "float64", "shape": [], "data": [1.0]}]},
 {"id": "error", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2]},
   {"dtype": "int8", "shape": [3], "data": [1, 2, 3]}]},
 {"id": "not-in-core", "op": "no_such_ufunc", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2]}]}
]}
"#;

/// An oracle for CORPUS whose "wrong" answer is off by `ulp` at index 1.
fn oracle_off_by(sha: &str, ulp: u64) -> String {
    let off = f64::from_bits(2.0f64.to_bits() + ulp);
    json!({
        "schema": "fnp.oracle.v1", "corpus": "tiny.json", "corpus_sha256": sha,
        "source": "numpy", "numpy_version": "test", "python_version": "test",
        "results": [
            {"id": "right", "status": "ok", "dtype": "int8", "shape": [2], "data": [4, 6], "fp_flags": []},
            {"id": "wrong", "status": "ok", "dtype": "float64", "shape": [3], "data": [1.5, off, 3.0], "fp_flags": []},
            {"id": "error", "status": "error", "error": "ValueError"},
            {"id": "not-in-core", "status": "ok", "dtype": "int64", "shape": [2], "data": [1, 3], "fp_flags": []}
        ]
    })
    .to_string()
}

/// The oracle with a deliberately wrong answer (2 ULP off).
fn oracle(sha: &str) -> String {
    oracle_off_by(sha, 2)
}

fn setup(name: &str) -> (Scratch, std::path::PathBuf, std::path::PathBuf) {
    let dir = Scratch::new(name);
    let cases = dir.path("cases");
    let oracles = dir.path("oracles");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::create_dir_all(&oracles).unwrap();
    write(&cases.join("tiny.json"), CORPUS);
    let sha = fnp_host::corpus::sha256_hex(CORPUS.as_bytes());
    write(&oracles.join("tiny.json"), &oracle(&sha));
    (dir, cases, oracles)
}

fn run(
    dir: &Scratch,
    cases: &std::path::Path,
    oracles: &std::path::Path,
) -> (std::process::Output, Value, String) {
    let out = dir.path("reports");
    let o = fnp(
        &[
            "run",
            "--target",
            "host",
            "--cases",
            cases.to_str().unwrap(),
            "--oracles",
            oracles.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let raw = std::fs::read_to_string(out.join("host.json")).unwrap_or_default();
    let report = serde_json::from_str(&raw).unwrap_or(Value::Null);
    (o, report, raw)
}

fn row<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

#[test]
fn comparator_catches_a_wrong_result() {
    let (dir, cases, oracles) = setup("run-wrong");
    let (out, report, _) = run(&dir, &cases, &oracles);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(row(&report, "right")["status"], "pass");
    let wrong = row(&report, "wrong");
    assert_eq!(wrong["status"], "fail");
    assert_eq!(wrong["reason"], "value");
    assert_eq!(wrong["index"], 1);
    assert_eq!(wrong["actual"], json!(2.0));
    assert_eq!(wrong["ulp"], 2);
    assert_eq!(
        row(&report, "error")["status"],
        "pass",
        "ValueError matches ValueError"
    );
    let unsupported = row(&report, "not-in-core");
    assert_eq!(unsupported["status"], "unsupported");
    assert_eq!(unsupported["reason"], fnp_host::exec::NOT_IMPLEMENTED);
    assert_eq!(report["totals"]["fail"], 1);
    assert_eq!(report["totals"]["total"], 4);
    // The terminal summary and the Markdown table are there too.
    assert!(String::from_utf8_lossy(&out.stdout).contains("4 cases (strict mode): pass 2, fail 1"));
    let md = std::fs::read_to_string(dir.path("reports/host.md")).unwrap();
    assert!(md.contains("| add |") && md.contains("`wrong`"), "{md}");
}

#[test]
fn a_correct_oracle_passes_with_exit_zero() {
    let (dir, cases, oracles) = setup("run-right");
    let sha = fnp_host::corpus::sha256_hex(CORPUS.as_bytes());
    write(&oracles.join("tiny.json"), &oracle_off_by(&sha, 0));
    let (out, report, _) = run(&dir, &cases, &oracles);
    assert_eq!(report["totals"]["fail"], 0, "{}", text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn missing_oracle_is_an_error_naming_the_file() {
    let (dir, cases, oracles) = setup("run-missing");
    std::fs::remove_file(oracles.join("tiny.json")).unwrap();
    let (out, _, _) = run(&dir, &cases, &oracles);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("no oracle for") && t.contains("tiny.json") && t.contains("fnp capture"),
        "{t}"
    );
}

#[test]
fn reports_are_byte_identical_except_meta() {
    let (dir, cases, oracles) = setup("run-determinism");
    let (_, first, _) = run(&dir, &cases, &oracles);
    let (_, second, raw) = run(&dir, &cases, &oracles);
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("meta");
        serde_json::to_string(&v).unwrap()
    };
    assert_eq!(strip(first), strip(second));
    // Keys are sorted and the meta block is the only run-dependent part.
    assert!(raw.find("\"cases\"").unwrap() < raw.find("\"environment\"").unwrap());
    assert!(raw.contains("\"meta\""));
}

#[test]
fn oracle_schema_errors_name_the_case() {
    let (dir, cases, oracles) = setup("run-schema");
    let sha = fnp_host::corpus::sha256_hex(CORPUS.as_bytes());
    write(
        &oracles.join("tiny.json"),
        &oracle(&sha).replace("\"ValueError\"", "7"),
    );
    let (out, _, _) = run(&dir, &cases, &oracles);
    assert_eq!(out.status.code(), Some(2));
    let t = text(&out);
    assert!(t.contains("case error") && t.contains("tiny.json"), "{t}");
}

#[test]
fn unknown_target_is_named() {
    let (dir, cases, oracles) = setup("run-target");
    let o = fnp(
        &[
            "run",
            "--target",
            "qemu:nope",
            "--cases",
            cases.to_str().unwrap(),
            "--oracles",
            oracles.to_str().unwrap(),
            "--out",
            dir.path("r").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("unknown QEMU board \"nope\""),
        "{}",
        text(&o)
    );
    let o = fnp(
        &[
            "run",
            "--target",
            "nope",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            dir.path("r").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown target \"nope\""), "{}", text(&o));
}

#[test]
fn report_merge_tables_targets_and_refuses_duplicates() {
    let (dir, cases, oracles) = setup("run-merge");
    let _ = run(&dir, &cases, &oracles);
    let reports = dir.path("reports");
    let merged = dir.path("merged");
    let o = fnp(
        &[
            "report",
            "merge",
            reports.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["targets"]["host"]["totals"]["fail"], 1);
    assert_eq!(
        summary["targets"]["host"]["ops"]["add"],
        json!({"pass": 2, "total": 3})
    );
    assert!(std::fs::read_to_string(merged.join("summary.md"))
        .unwrap()
        .contains("| add | 2/3 |"));
    // The same target twice is an error, and a non-report is named.
    let host = reports.join("host.json");
    let o = fnp(
        &[
            "report",
            "merge",
            host.to_str().unwrap(),
            host.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("two reports for target host"));
    let bogus = dir.path("bogus.json");
    write(&bogus, "{\"schema\": \"fnp.report.v1\"}");
    let o = fnp(
        &[
            "report",
            "merge",
            bogus.to_str().unwrap(),
            "--out",
            merged.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("bogus.json"), "{}", text(&o));
}

#[test]
fn shards_partition_the_run_and_merge_into_one_target() {
    let (dir, cases, oracles) = setup("run-shards");
    let out = dir.path("shards");
    let shard = |k: &str| {
        fnp(
            &[
                "run",
                "--cases",
                cases.to_str().unwrap(),
                "--oracles",
                oracles.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--shard",
                k,
            ],
            &[],
        )
    };
    let merge = || {
        fnp(
            &[
                "report",
                "merge",
                out.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        )
    };
    let mut ids = Vec::new();
    for k in ["1/3", "2/3"] {
        shard(k);
    }
    // Two of three slices: merging refuses rather than under-count.
    let partial = merge();
    assert_eq!(partial.status.code(), Some(2), "{}", text(&partial));
    assert!(text(&partial).contains("1 of 3") || text(&partial).contains("2 of 3"));
    shard("3/3");
    for k in 1..=3 {
        let raw = std::fs::read_to_string(out.join(format!("host.shard-{k}-of-3.json"))).unwrap();
        let report: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(report["shard"], json!({"k": k, "n": 3}));
        for r in report["cases"].as_array().unwrap() {
            ids.push(r["id"].as_str().unwrap().to_string());
        }
    }
    // Every case in exactly one slice.
    ids.sort();
    assert_eq!(ids, ["error", "not-in-core", "right", "wrong"]);
    let merged = merge();
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["targets"]["host"]["totals"]["total"], 4);
    assert_eq!(summary["targets"]["host"]["totals"]["fail"], 1);
    // A bad shard spec is an error, not a silent full run.
    for bad in ["0/3", "4/3", "1/0", "x"] {
        assert_eq!(shard(bad).status.code(), Some(2), "--shard {bad}");
    }
}

#[test]
fn answers_keep_the_result_data() {
    // Result bytes are dropped after comparing unless --answers wants them.
    let (dir, cases, oracles) = setup("run-answers");
    let answers = dir.path("answers.json");
    let o = fnp_run(
        &cases,
        &oracles,
        &dir.path("reports"),
        &["--answers", answers.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&answers).unwrap()).unwrap();
    let right = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "right")
        .unwrap();
    assert_eq!(right["data"], json!([4, 6]), "{doc}");
}
