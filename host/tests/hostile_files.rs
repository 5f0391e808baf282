//! Hostile input files: FIFOs and devices are refused instead of read
//! forever, and duplicate JSON keys (which serde_json would resolve to the
//! last one) are errors naming file, case and key.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Runs `fnp args`, failing the test if it takes over 20 s.
fn fnp_bounded(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fnp"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fnp {args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn validate_refuses_fifos_and_devices_instead_of_hanging() {
    let dir = Scratch::new("hostile-fifo");
    let fifo = dir.path("corpus.json");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let o = fnp_bounded(&["validate", path]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{t}");
        assert!(t.contains(path) && t.contains("not a regular file"), "{t}");
    }
    // The same for a run's corpus.
    let o = fnp_bounded(&[
        "run",
        "--frames",
        "none",
        "--cases",
        fifo.to_str().unwrap(),
        "--out",
        dir.path("r").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

const DUP_CORPUS: &str = r#"{"schema": "fnp.cases.v1", "suite": "dup", "cases": [
 {"id": "fine", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2]},
   {"dtype": "int8", "shape": [2], "data": [3, 4]}]},
 {"id": "twice", "op": "add", "inputs": [
   {"dtype": "int8", "shape": [2], "data": [1, 2], "data": [5, 6]},
   {"dtype": "int8", "shape": [2], "data": [3, 4]}]}
]}
"#;

#[test]
fn duplicate_keys_in_corpora_and_oracles_are_refused() {
    let dir = Scratch::new("hostile-dup");
    let results = r#"[{"id": "fine", "status": "ok", "dtype": "int8", "shape": [2], "data": [4, 6], "fp_flags": []},
        {"id": "twice", "status": "ok", "dtype": "int8", "shape": [2], "data": [8, 10], "fp_flags": []}]"#;
    let (cases, oracles) = corpus_with_oracle(&dir, "dup", DUP_CORPUS, results);
    let corpus = cases.join("dup.json");
    let named = |t: &str, file: &str, case: &str, key: &str| {
        t.contains(file)
            && t.contains(&format!("case {case}"))
            && t.contains(&format!("duplicate key \"{key}\""))
    };
    let o = fnp(&["validate", corpus.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        named(&text(&o), "dup.json", "twice", "data"),
        "{}",
        text(&o)
    );
    let run = |cases: &std::path::Path| fnp_run(cases, &oracles, &dir.path("r"), &[]);
    let o = run(&cases);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        named(&text(&o), "dup.json", "twice", "data"),
        "{}",
        text(&o)
    );

    // A clean corpus with an oracle that says "status" twice in a result.
    let clean = DUP_CORPUS.replace(r#""data": [1, 2], "data": [5, 6]"#, r#""data": [1, 2]"#);
    let dup_results = results.replace(
        r#""id": "twice", "status": "ok""#,
        r#""id": "twice", "status": "error", "status": "ok""#,
    );
    let dir2 = Scratch::new("hostile-dup-oracle");
    let (cases2, oracles2) = corpus_with_oracle(&dir2, "dup", &clean, &dup_results);
    let oracle = oracles2.join("dup.json");
    let o = fnp(&["validate", oracle.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        named(&text(&o), "dup.json", "twice", "status"),
        "{}",
        text(&o)
    );
    let o = fnp_run(&cases2, &oracles2, &dir2.path("r"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        named(&text(&o), "dup.json", "twice", "status"),
        "{}",
        text(&o)
    );
}
