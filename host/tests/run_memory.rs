//! `fnp run` memory follows the largest case, not the corpus: `generate`
//! inputs are built when their case runs and dropped after it.
//!
//! Alone in its test binary: it reads the peak RSS of this process's
//! children (`getrusage(RUSAGE_CHILDREN)`), which other tests' children
//! would blur.

mod common;

use common::*;

const CASES: usize = 12;
/// float64 elements per input: 16 MiB.
const ELEMENTS: usize = 1 << 21;

fn children_peak_rss_bytes() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    // Linux reports kilobytes.
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

#[test]
fn generate_inputs_are_built_per_case_not_per_corpus() {
    let dir = Scratch::new("run-memory");
    // NumPy's answers do not matter here: every case is an error mismatch.
    let (cases_dir, oracles) = generated_corpus(&dir, "big", "add", CASES, ELEMENTS);
    let out = dir.path("reports");
    let o = fnp_run(&cases_dir, &oracles, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("12 cases"), "{}", text(&o));
    let peak = children_peak_rss_bytes();
    let all_inputs = (CASES * 2 * ELEMENTS * 8) as u64;
    let one_case = (2 * ELEMENTS * 8) as u64;
    eprintln!(
        "peak RSS {} MiB; inputs of all cases {} MiB, of one case {} MiB",
        peak >> 20,
        all_inputs >> 20,
        one_case >> 20
    );
    // One case's inputs, their aligned copies and the output, plus the
    // binary: a few cases' worth, well under the whole corpus.
    assert!(
        peak < all_inputs / 2,
        "peak RSS {} MiB is not bounded by the largest case ({} MiB of inputs over all cases)",
        peak >> 20,
        all_inputs >> 20
    );
}
