//! Numeric options are checked when parsed: a bad value is clap's usage
//! error (exit 2) naming the option, never a panic (exit 101) later on.

mod common;

use common::*;

/// `fnp <args> <opt>=<value>` exits 2 with an error naming `opt`.
fn refused(args: &[&str], opt: &str, value: &str) {
    let arg = format!("{opt}={value}");
    let mut all = args.to_vec();
    all.push(&arg);
    let out = fnp(&all, &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all:?}\n{t}");
    assert!(!t.contains("panicked"), "{all:?}\n{t}");
    assert!(t.contains(opt), "{all:?} should name {opt}\n{t}");
}

#[test]
fn huge_timeout_is_a_usage_error_not_a_panic() {
    // Issue 27: `--timeout 1e19` panicked adding the duration to an Instant.
    let dir = Scratch::new("cli-timeout");
    let (cases, oracles) = corpus_with_oracle(&dir, "one", ONE_CASE, ONE_CASE_RESULTS);
    let out = dir.path("r");
    let args = [
        "run",
        "--frames",
        "none",
        "--cases",
        cases.to_str().unwrap(),
        "--oracles",
        oracles.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    // The same run with a sane timeout works.
    let ok = fnp(&[&args[..], &["--timeout", "5"]].concat(), &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    std::fs::remove_dir_all(&out).unwrap();
    for bad in [
        "1e19", "1e300", "inf", "NaN", "0", "-1", "1e-12", "86401", "x", "",
    ] {
        refused(&args, "--timeout", bad);
    }
    assert!(!out.exists(), "nothing ran, nothing was written");
}

#[test]
fn other_numeric_options_are_range_checked() {
    let run = ["run", "--cases", "/nonexistent"];
    for bad in ["0", "-1", "257", "99999999999999999999999"] {
        refused(&run, "--jobs", bad);
    }
    for bad in [
        "0/3",
        "4/3",
        "1/0",
        "x",
        "1/",
        "/1",
        "18446744073709551616/1",
    ] {
        refused(&run, "--shard", bad);
    }
    for bad in ["-1", "18446744073709551616", "1.5"] {
        refused(&["corpus", "generate"], "--seed", bad);
    }
    for bad in ["NaN", "inf", "-0.5", "2"] {
        refused(&["bench"], "--threshold", bad);
    }
    for bad in ["0", "10001"] {
        refused(&["bench"], "--rounds", bad);
    }
    let create = [
        "bundle",
        "create",
        "/nonexistent",
        "--out",
        "/nonexistent-b",
    ];
    for bad in ["NaN", "inf", "-5%", "1e9%", "x"] {
        refused(&create, "--repair-overhead", bad);
    }
    for bad in ["0", "1001"] {
        refused(&["bundle", "bench", "--no-par2"], "--repeat", bad);
    }
}

#[test]
fn info_prints_the_op_table_for_people_and_as_json() {
    let out = fnp(&["info", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "fnp.info.v2");
    let ops = doc["ops"].as_array().unwrap();
    assert_eq!(ops.len(), fnp_core::Op::all().count());
    let sum = ops.iter().find(|o| o["name"] == "sum").unwrap();
    assert_eq!(sum["kind"], "reduction");
    assert_eq!(sum["code"], 64);
    let human = fnp(&["info"], &[]);
    assert_eq!(human.status.code(), Some(0));
    let t = String::from_utf8(human.stdout).unwrap();
    assert!(
        t.lines()
            .any(|l| l.contains(" sum ") && l.contains("reduction")),
        "{t}"
    );
}
