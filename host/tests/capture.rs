//! `fnp capture`: the NumPy path, the pure-Python fallback, a missing
//! interpreter and a corpus/oracle hash mismatch.

mod common;

use common::*;
use serde_json::Value;

fn result<'a>(oracle: &'a Value, id: &str) -> &'a Value {
    oracle["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result {id}"))
}

fn read(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Answers both oracles must give.
fn check_elementwise(oracle: &Value) {
    let add = result(oracle, "add-wrap");
    assert_eq!(add["status"], "ok");
    assert_eq!(add["dtype"], "int8");
    assert_eq!(add["data"], serde_json::json!([-128, 3]));
    let div = result(oracle, "div-zero");
    assert_eq!(div["data"][0], "inf");
    assert_eq!(div["data"][1], "-inf");
    let nan = div["data"][2].as_str().unwrap();
    assert!(nan == "nan" || nan == "-nan", "{nan}");
    assert_eq!(div["fp_flags"], serde_json::json!(["divide", "invalid"]));
    assert_eq!(result(oracle, "sub-bool")["error"], "TypeError");
    // NEP 50: a Python int out of range for uint8 is an OverflowError.
    assert_eq!(result(oracle, "py-scalar")["error"], "OverflowError");
}

#[test]
fn capture_with_the_configured_python() {
    let dir = Scratch::new("capture-auto");
    let cases = dir.path("small.json");
    write(&cases, SMALL_CORPUS);
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    let oracle = read(&out);
    check_elementwise(&oracle);
    let sha = fnp_host::corpus::sha256_hex(&std::fs::read(&cases).unwrap());
    assert_eq!(oracle["corpus_sha256"], sha.as_str());
    if has_numpy(&python()) {
        assert_eq!(oracle["source"], "numpy");
        assert!(oracle["numpy_version"].as_str().is_some());
        assert_eq!(result(&oracle, "sum-axis")["error"], "AxisError");
        let sum = result(&oracle, "sum-f");
        assert_eq!(sum["dtype"], "float32");
        assert_eq!(sum["shape"], serde_json::json!([3]));
        assert_eq!(sum["data"][0], serde_json::json!(0.5));
    } else {
        assert_eq!(oracle["source"], "pure-python");
        assert_eq!(oracle["numpy_version"], Value::Null);
        assert_eq!(result(&oracle, "sum-f")["status"], "unsupported");
    }
}

#[test]
fn pure_python_fallback() {
    let dir = Scratch::new("capture-pure");
    let cases = dir.path("small.json");
    write(&cases, SMALL_CORPUS);
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--pure-python",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    let oracle = read(&out);
    assert_eq!(oracle["source"], "pure-python");
    check_elementwise(&oracle);
    // No float reductions without NumPy: never guessed.
    for id in ["sum-axis", "sum-f"] {
        let r = result(&oracle, id);
        assert_eq!(r["status"], "unsupported", "{id}");
        assert!(r["reason"].as_str().unwrap().contains("reductions"));
    }
    // The fallback's answers run through the comparator like NumPy's.
    let report_dir = dir.path("reports");
    let run = fnp(
        &[
            "run",
            "--cases",
            cases.to_str().unwrap(),
            "--oracle",
            out.to_str().unwrap(),
            "--out",
            report_dir.to_str().unwrap(),
            "--op",
            "subtract",
            "--op",
            "true_divide",
        ],
        &[],
    );
    let report = read(&report_dir.join("host.json"));
    assert_eq!(report["totals"]["total"], 2, "{}", text(&run));
}

#[test]
fn require_numpy_refuses_the_fallback() {
    let dir = Scratch::new("capture-require");
    let cases = dir.path("small.json");
    write(&cases, SMALL_CORPUS);
    let out = dir.path("oracle.json");
    let python = python();
    let run = fnp(
        &[
            "capture",
            "--require-numpy",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    if has_numpy(&python) {
        assert!(run.status.success(), "{}", text(&run));
    } else {
        assert_eq!(run.status.code(), Some(2), "{}", text(&run));
        assert!(text(&run).contains("--require-numpy"));
    }
}

#[test]
fn missing_interpreter_is_a_clear_error() {
    let dir = Scratch::new("capture-missing");
    let cases = dir.path("small.json");
    write(&cases, SMALL_CORPUS);
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[("FNP_ORACLE_PYTHON", "/nonexistent/python-for-fnp")],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    let t = text(&run);
    assert!(
        t.contains("/nonexistent/python-for-fnp") && t.contains("FNP_ORACLE_PYTHON"),
        "{t}"
    );
    assert!(!out.exists());
}

#[test]
fn oracle_of_another_corpus_is_refused() {
    let dir = Scratch::new("capture-hash");
    let cases = dir.path("small.json");
    write(&cases, SMALL_CORPUS);
    let oracles = dir.path("oracles");
    std::fs::create_dir_all(&oracles).unwrap();
    let out = oracles.join("small.json");
    let run = fnp(
        &[
            "capture",
            "--pure-python",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    // Same ids, one changed value: the oracle no longer answers this corpus.
    write(&cases, &SMALL_CORPUS.replace("[127, 1]", "[126, 1]"));
    let run = fnp(
        &[
            "run",
            "--cases",
            cases.to_str().unwrap(),
            "--oracles",
            oracles.to_str().unwrap(),
            "--out",
            dir.path("reports").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(
        text(&run).contains("answers a different corpus"),
        "{}",
        text(&run)
    );
}

#[test]
fn corpus_errors_name_file_case_and_field() {
    let dir = Scratch::new("capture-schema");
    let cases = dir.path("bad.json");
    write(
        &cases,
        &SMALL_CORPUS.replace(r#""dtype": "bool""#, r#""dtype": "boolean""#),
    );
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            dir.path("o.json").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    let t = text(&run);
    assert!(
        t.contains("bad.json") && t.contains("case sub-bool") && t.contains("field inputs.0.dtype"),
        "{t}"
    );
    // Decoding errors beyond the schema (data length) are named the same way.
    write(&cases, &SMALL_CORPUS.replace("[127, 1]", "[127, 1, 5]"));
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            dir.path("o.json").to_str().unwrap(),
        ],
        &[],
    );
    let t = text(&run);
    assert!(
        t.contains("case add-wrap") && t.contains("field inputs[0].data"),
        "{t}"
    );
}

#[test]
fn answers_in_a_dtype_fnp_lacks_are_unsupported() {
    if !has_numpy(&python()) {
        // Only NumPy itself can answer in float16; the fallback computes no
        // ufunc outside fnp's binary ops.
        return;
    }
    let dir = Scratch::new("capture-float16");
    let cases = dir.path("f16.json");
    write(
        &cases,
        r#"{"schema": "fnp.cases.v1", "suite": "f16", "cases": [
 {"id": "sqrt-int8", "op": "sqrt", "inputs": [{"dtype": "int8", "shape": [2], "data": [4, 9]}]},
 {"id": "sqrt-f64", "op": "sqrt", "inputs": [{"dtype": "float64", "shape": [2], "data": [4.0, -1.0]}]},
 {"id": "unknown", "op": "no_such_function", "inputs": [{"dtype": "int8", "shape": [], "data": [1]}]}
]}"#,
    );
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    let oracle = read(&out);
    let r = result(&oracle, "sqrt-int8");
    assert_eq!(r["status"], "unsupported");
    assert!(r["reason"].as_str().unwrap().contains("float16"), "{r}");
    let r = result(&oracle, "sqrt-f64");
    assert_eq!(r["data"][0], serde_json::json!(2.0));
    assert_eq!(r["fp_flags"], serde_json::json!(["invalid"]));
    assert_eq!(result(&oracle, "unknown")["status"], "unsupported");
}

#[test]
fn capture_py_learns_the_ops_from_the_table_in_its_job() {
    // A stand-in NumPy that has none of fnp's ops: what capture.py makes
    // of a name then depends only on the op table fnp hands it.
    let dir = Scratch::new("capture-table");
    let fake = dir.path("fake");
    std::fs::create_dir_all(fake.join("numpy")).unwrap();
    write(
        &fake.join("numpy/__init__.py"),
        "__version__ = '0.0-fake'\n\nclass ufunc:\n    pass\n",
    );
    let cases = dir.path("ops.json");
    write(
        &cases,
        r#"{"schema": "fnp.cases.v1", "suite": "ops", "cases": [
 {"id": "binary", "op": "add", "inputs": [{"dtype": "int8", "shape": [], "data": [1]}, {"dtype": "int8", "shape": [], "data": [1]}]},
 {"id": "alias", "op": "amax", "inputs": [{"dtype": "int8", "shape": [1], "data": [1]}], "params": {"keepdims": true}},
 {"id": "unknown", "op": "no_such_function", "inputs": [{"dtype": "int8", "shape": [], "data": [1]}]}
]}"#,
    );
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[
            ("FNP_ORACLE_PYTHON", "python3"),
            ("PYTHONPATH", fake.to_str().unwrap()),
        ],
    );
    assert!(run.status.success(), "{}", text(&run));
    let oracle = read(&out);
    assert_eq!(oracle["numpy_version"], "0.0-fake");
    let reason = |id: &str| {
        let r = result(&oracle, id);
        assert_eq!(r["status"], "unsupported", "{r}");
        r["reason"].as_str().unwrap().to_string()
    };
    assert_eq!(reason("binary"), "NumPy 0.0-fake has no binary add");
    assert_eq!(reason("alias"), "NumPy 0.0-fake has no reduction amax");
    assert_eq!(
        reason("unknown"),
        "capture.py does not know op no_such_function"
    );
}

#[test]
fn reductions_get_their_keywords_by_any_name_numpy_has() {
    if !has_numpy(&python()) {
        return;
    }
    let dir = Scratch::new("capture-alias");
    let cases = dir.path("alias.json");
    write(
        &cases,
        r#"{"schema": "fnp.cases.v1", "suite": "alias", "cases": [
 {"id": "amax", "op": "amax", "inputs": [{"dtype": "int8", "shape": [2, 2], "data": [1, 4, 3, 2]}], "params": {"axis": 1, "keepdims": true}}
]}"#,
    );
    let out = dir.path("oracle.json");
    let run = fnp(
        &[
            "capture",
            "--cases",
            cases.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run));
    let oracle = read(&out);
    let r = result(&oracle, "amax");
    assert_eq!(r["shape"], serde_json::json!([2, 1]), "{r}");
    assert_eq!(r["data"], serde_json::json!([4, 3]), "{r}");
}
