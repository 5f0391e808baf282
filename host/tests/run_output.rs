//! `fnp run`'s output directory: one run at a time, checked before the
//! first case, reports replaced whole, and a SIGINT leaves a valid partial
//! report marked `interrupted`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SLOW_CASES: usize = 12;

/// A corpus whose cases each take a noticeable moment on the host: two
/// generated 2^21-element float64 inputs each.
fn slow_corpus(dir: &Scratch) -> (PathBuf, PathBuf) {
    generated_corpus(dir, "slow", "multiply", SLOW_CASES, 1 << 21)
}

fn spawn(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_fnp"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `child` runs a case (a thread named `fnp-case` exists).
fn wait_for_a_case(child: &mut Child) {
    let t0 = Instant::now();
    let tasks = PathBuf::from(format!("/proc/{}/task", child.id()));
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before a case was seen running"
        );
        assert!(t0.elapsed() < Duration::from_secs(120), "no case started");
        let running = std::fs::read_dir(&tasks)
            .map(|d| {
                d.filter_map(Result::ok).any(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim() == "fnp-case")
                })
            })
            .unwrap_or(false);
        if running {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Files in `dir` other than the finished artifacts.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !["host.json", "host.md", "host.log.jsonl"].contains(&n.as_str()))
        .collect()
}

#[test]
fn a_second_run_into_the_same_out_fails_fast_naming_the_first() {
    let dir = Scratch::new("out-lock");
    let (cases, oracles) = slow_corpus(&dir);
    let out = dir.path("reports");
    let args = run_args(&cases, &oracles, &out);
    let mut first = spawn(&args);
    wait_for_a_case(&mut first);
    let t0 = Instant::now();
    let second = Command::new(env!("CARGO_BIN_EXE_fnp"))
        .args(&args)
        .output()
        .unwrap();
    let took = t0.elapsed();
    let t = text(&second);
    assert_eq!(second.status.code(), Some(2), "{t}");
    assert!(
        t.contains(&out.display().to_string())
            && t.contains("in use by another fnp run")
            && t.contains(&format!("pid {}", first.id())),
        "{t}"
    );
    assert!(took < Duration::from_secs(5), "not fast: {took:?}");
    // The first run finishes normally, with its own report and log.
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(1), "{}", text(&first));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("host.json")).unwrap()).unwrap();
    assert_eq!(report["totals"]["total"], SLOW_CASES);
    assert_eq!(report["meta"]["interrupted"], false);
    fnp_host::schema::validate_file(&out.join("host.log.jsonl")).unwrap();
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

#[test]
fn sigint_writes_a_partial_report_marked_interrupted_and_exits_130() {
    let dir = Scratch::new("out-sigint");
    let (cases, oracles) = slow_corpus(&dir);
    let out = dir.path("reports");
    let answers = dir.path("answers.json");
    let mut args = run_args(&cases, &oracles, &out);
    args.extend(["--answers".into(), answers.to_str().unwrap().into()]);
    let mut child = spawn(&args);
    wait_for_a_case(&mut child);
    // SAFETY: a signal to our own child.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let o = child.wait_with_output().unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(130), "{t}");
    assert!(t.contains("interrupted"), "{t}");
    let path = out.join("host.json");
    fnp_host::schema::validate_file(&path).unwrap();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(report["meta"]["interrupted"], true, "{t}");
    let total = report["totals"]["total"].as_u64().unwrap();
    assert!(
        (1..SLOW_CASES as u64).contains(&total),
        "the running case finishes, later ones do not start: {total}"
    );
    fnp_host::schema::validate_file(&out.join("host.log.jsonl")).unwrap();
    assert_eq!(
        leftovers(&out),
        Vec::<String>::new(),
        "temporary files left"
    );
    // Partial answers would pass for a target's whole oracle: none.
    assert!(!answers.exists(), "answers written for a partial run");
    assert!(t.contains("--answers not written"), "{t}");
    // A partial report is not merged as if it were the target's run.
    let m = fnp(
        &[
            "report",
            "merge",
            out.to_str().unwrap(),
            "--out",
            dir.path("m").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(m.status.code(), Some(2), "{}", text(&m));
    assert!(text(&m).contains("interrupted"), "{}", text(&m));
}

#[test]
fn an_unwritable_out_fails_before_any_case_runs() {
    // Tests run as root, which ignores permission bits: a path under a
    // regular file cannot be a directory for anyone.
    let dir = Scratch::new("out-unwritable");
    let (cases, oracles) = corpus_with_oracle(&dir, "one", ONE_CASE, ONE_CASE_RESULTS);
    let file = dir.path("file");
    write(&file, "not a directory");
    let out = file.join("reports");
    let o = fnp(
        &run_args(&cases, &oracles, &out)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("output directory") && t.contains(&out.display().to_string()),
        "{t}"
    );
    assert!(!t.contains("cases (strict mode)"), "cases ran: {t}");
    // Checked before the corpus is even read: a missing corpus is not
    // what it reports.
    let missing = dir.path("no-such-corpus");
    let o = fnp(
        &run_args(&missing, &oracles, &out)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        &[],
    );
    assert!(text(&o).contains("output directory"), "{}", text(&o));
    // Same for --answers: nothing runs, no report is written.
    let good = dir.path("reports");
    let mut args = run_args(&cases, &oracles, &good);
    args.extend([
        "--answers".into(),
        file.join("a.json").to_str().unwrap().into(),
    ]);
    let o = fnp(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--answers"), "{}", text(&o));
    assert!(!good.join("host.json").exists(), "the run went ahead");
}

#[test]
fn slices_of_one_target_may_run_at_once_into_one_out() {
    // `cargo xtask conform --shards N` runs the N slices as concurrent
    // processes into one directory: each writes its own files.
    let dir = Scratch::new("out-slices");
    let (cases, oracles) = slow_corpus(&dir);
    let out = dir.path("slices");
    let children: Vec<Child> = ["1/2", "2/2"]
        .iter()
        .map(|k| {
            let mut args = run_args(&cases, &oracles, &out);
            args.extend(["--shard".into(), k.to_string()]);
            spawn(&args)
        })
        .collect();
    let mut total = 0;
    for (k, child) in children.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let raw =
            std::fs::read_to_string(out.join(format!("host.shard-{}-of-2.json", k + 1))).unwrap();
        let report: Value = serde_json::from_str(&raw).unwrap();
        total += report["totals"]["total"].as_u64().unwrap();
    }
    assert_eq!(total, SLOW_CASES as u64);
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "lock or temporary files left");
}
