//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory under the target dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the `fnp` binary.
pub fn fnp(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fnp"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `fnp run --frames none --cases CASES --oracles ORACLES --out OUT`.
pub fn run_args(cases: &Path, oracles: &Path, out: &Path) -> Vec<String> {
    [
        "run",
        "--frames",
        "none",
        "--cases",
        cases.to_str().unwrap(),
        "--oracles",
        oracles.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

/// Runs `fnp` with [`run_args`] and then `extra`.
pub fn fnp_run(cases: &Path, oracles: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = run_args(cases, oracles, out);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fnp(&args, &[])
}

pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// A small corpus: int8 add with wraparound, float division by zero,
/// bool subtract (TypeError), a sum with a bad axis (AxisError) and a sum
/// NumPy alone can answer.
pub const SMALL_CORPUS: &str = r#"{"schema": "fnp.cases.v1", "suite": "small", "cases": [
 {"id": "add-wrap", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [127, 1]},
   {"dtype": "int8", "shape": [2], "data": [1, 2]}]},
 {"id": "div-zero", "op": "true_divide", "inputs": [
   {"dtype": "float64", "shape": [3], "data": [1.0, -1.0, 0.0]},
   {"dtype": "float64", "shape": [], "data": [0.0]}]},
 {"id": "sub-bool", "op": "subtract", "inputs": [
   {"dtype": "bool", "shape": [1], "data": [true]},
   {"dtype": "bool", "shape": [1], "data": [false]}]},
 {"id": "py-scalar", "op": "add", "inputs": [
   {"dtype": "uint8", "shape": [2], "data": [1, 2], "layout": {"strides": [-1], "offset": 1}},
   {"dtype": "int64", "shape": [], "data": [300], "scalar": true}]},
 {"id": "sum-axis", "op": "sum", "inputs": [
   {"dtype": "float32", "shape": [2, 2], "data": [1.0, 2.0, 3.0, 4.0]}],
   "params": {"axis": 2}},
 {"id": "sum-f", "op": "sum", "inputs": [
   {"dtype": "float32", "shape": [2, 3], "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "layout": "F"}],
   "params": {"axis": 0}}
]}
"#;

/// Whether `python` can import NumPy.
pub fn has_numpy(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The interpreter the tests capture with, as `fnp capture` picks it.
pub fn python() -> String {
    std::env::var("FNP_ORACLE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Writes `corpus` as `<dir>/cases/<name>.json` and an oracle for it in
/// `<dir>/oracles/<name>.json` whose `results` are `results` (JSON array
/// text); returns (cases dir, oracles dir).
pub fn corpus_with_oracle(
    dir: &Scratch,
    name: &str,
    corpus: &str,
    results: &str,
) -> (PathBuf, PathBuf) {
    let cases = dir.path("cases");
    let oracles = dir.path("oracles");
    std::fs::create_dir_all(&cases).unwrap();
    std::fs::create_dir_all(&oracles).unwrap();
    write(&cases.join(format!("{name}.json")), corpus);
    let sha = fnp_host::corpus::sha256_hex(corpus.as_bytes());
    let oracle = format!(
        r#"{{"schema": "fnp.oracle.v1", "corpus": "{name}.json", "corpus_sha256": "{sha}",
        "source": "numpy", "numpy_version": "test", "python_version": "test",
        "results": {results}}}"#
    );
    write(&oracles.join(format!("{name}.json")), &oracle);
    (cases, oracles)
}

/// One int8 add case and NumPy's answer.
pub const ONE_CASE: &str = r#"{"schema": "fnp.cases.v1", "suite": "one", "cases": [
 {"id": "add", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2]},
   {"dtype": "int8", "shape": [2], "data": [3, 4]}]}
]}
"#;

/// The oracle results of [`ONE_CASE`].
pub const ONE_CASE_RESULTS: &str = r#"[{"id": "add", "status": "ok", "dtype": "int8", "shape": [2], "data": [4, 6], "fp_flags": []}]"#;

/// A corpus `suite` of `count` cases of `op` on two generated float64
/// inputs of `elements` each (built only when a case runs), and an oracle
/// whose every answer is a ValueError: the cases run for their cost and
/// end in an error mismatch. Returns (cases dir, oracles dir).
pub fn generated_corpus(
    dir: &Scratch,
    suite: &str,
    op: &str,
    count: usize,
    elements: usize,
) -> (PathBuf, PathBuf) {
    let input = |seed: usize| {
        format!(
            r#"{{"dtype": "float64", "shape": [{elements}], "generate": {{"seed": {seed}, "low": -1.0, "high": 1.0}}}}"#
        )
    };
    let cases: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"id": "{suite}-{i}", "op": "{op}", "inputs": [{}, {}]}}"#,
                input(2 * i),
                input(2 * i + 1)
            )
        })
        .collect();
    let corpus = format!(
        r#"{{"schema": "fnp.cases.v1", "suite": "{suite}", "cases": [{}]}}"#,
        cases.join(",\n")
    );
    let results: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"id": "{suite}-{i}", "status": "error", "error": "ValueError"}}"#))
        .collect();
    corpus_with_oracle(dir, suite, &corpus, &format!("[{}]", results.join(",")))
}
