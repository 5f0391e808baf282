#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (dir, template) = DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let template = fnp_fuzz::bundle_template(dir.path());
        (dir, template)
    });
    fnp_fuzz::bundle_reader(data, template, dir.path());
});
