//! Replays every input in `fuzz/regressions/<target>/` through the same
//! harness the cargo-fuzz targets run (`fuzz/src/lib.rs`, included here so
//! stable CI needs no libFuzzer): a crash or hang found once stays fixed.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

/// Runs each input under a time limit: a hang is a failure too.
fn replay(target: &str, run: impl Fn(&[u8]) + Send + Sync + Copy + 'static) {
    for (path, bytes) in inputs(target) {
        let (tx, rx) = std::sync::mpsc::channel();
        let name = path.display().to_string();
        std::thread::spawn(move || {
            run(&bytes);
            let _ = tx.send(());
        });
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name}: still running after 20 s")
            }
            Err(_) => panic!("{name}: the harness panicked"),
        }
    }
}

#[test]
fn op_entry_regressions() {
    replay("op_entry", harness::op_entry);
}

#[test]
fn wire_server_regressions() {
    replay("wire_server", harness::wire_server);
}

#[test]
fn json_readers_regressions() {
    replay("json_readers", |b| {
        let dir = tempfile::TempDir::new().unwrap();
        harness::json_readers(b, dir.path());
    });
}

#[test]
fn bundle_reader_regressions() {
    replay("bundle_reader", |b| {
        let dir = tempfile::TempDir::new().unwrap();
        let template = harness::bundle_template(dir.path());
        harness::bundle_reader(b, &template, dir.path());
    });
}
