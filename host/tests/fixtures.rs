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
    assert_eq!(pairs.len(), 3);
    for (corpus, oracle) in &pairs {
        assert_eq!(oracle.source, "numpy", "{}", oracle.path.display());
        assert_eq!(oracle.results.len(), corpus.cases.len());
    }
}
