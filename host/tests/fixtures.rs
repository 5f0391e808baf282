//! The committed corpus is what the generator makes, and every committed
//! oracle answers exactly its corpus file.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn committed_corpus_is_reproducible_from_its_seed() {
    let dir = root().join("fixtures/cases");
    for file in fnp_host::generate::generate(fnp_host::cli::DEFAULT_SEED) {
        let committed = std::fs::read_to_string(dir.join(&file.name)).unwrap();
        assert!(
            committed == file.text,
            "fixtures/cases/{} differs from `fnp corpus generate` output: regenerate and recapture",
            file.name
        );
    }
}

#[test]
fn every_committed_oracle_answers_its_corpus() {
    let pairs = fnp_host::run::load_pairs(
        &[root().join("fixtures/cases")],
        &[],
        &root().join("fixtures/oracles"),
    )
    .unwrap();
    assert_eq!(pairs.len(), 7);
    for (corpus, oracle) in &pairs {
        assert_eq!(oracle.source, "numpy", "{}", oracle.path.display());
        assert_eq!(oracle.results.len(), corpus.cases.len());
    }
}

/// The whole committed corpus on the host target: every case passes, and
/// the ULP distances measured stay within the precision table, for every
/// float ufunc (each measured at least once in each float dtype it has).
#[test]
fn the_committed_corpus_passes_on_the_host_within_the_precision_table() {
    let pairs = fnp_host::run::load_pairs(
        &[root().join("fixtures/cases")],
        &[],
        &root().join("fixtures/oracles"),
    )
    .unwrap();
    let timeout = std::time::Duration::from_secs(30);
    let mut target =
        fnp_host::target::resolve_with("host", &fnp_host::target::Options { timeout }).unwrap();
    let rows = fnp_host::run::run_pairs(
        target.as_mut(),
        &pairs,
        &fnp_host::run::Selection::default(),
        &fnp_host::compare::Policy::builtin(),
        timeout,
    )
    .unwrap();
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| r.status.is_failure())
        .take(20)
        .map(|r| format!("{} {:?}", r.id, r.status))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    let measured = fnp_host::run::measured(&rows);
    assert_eq!(
        fnp_host::precision::over_bound(&measured),
        Vec::<String>::new()
    );
    let table = fnp_host::precision::table_json(&measured);
    let unmeasured: Vec<String> = table
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["measured_ulp"].is_null())
        .map(|r| format!("{} {}", r["op"], r["dtype"]))
        .collect();
    assert!(unmeasured.is_empty(), "never compared: {unmeasured:?}");
}
