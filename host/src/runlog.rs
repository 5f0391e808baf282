//! `fnp run`'s structured log: one JSON object per case (JSON Lines,
//! schema `fnp.log.v1`), written beside the report as
//! `<target>.log.jsonl`.
//!
//! The field names are stable: a new field may be added within v1, none is
//! renamed or removed (the schema lock test holds `schemas/` to that).
//!
//! | field | meaning |
//! |---|---|
//! | `schema` | `"fnp.log.v1"` |
//! | `case`, `op`, `dtype` | case id, op name, the input dtype reports group by |
//! | `corpus`, `seed` | corpus file name and its generator seed (`null` if it has none) |
//! | `target`, `mode` | target name (`host`, `qemu:<board>`), `strict` or `hardened` |
//! | `override` | in a hardened run, the `--allow` reason a case ran strict (else `null`) |
//! | `env` | fingerprint: the first 16 hex digits of the SHA-256 of the report's `environment` object |
//! | `artifacts` | `corpus`/`oracle`/`report` paths and `corpus_sha256` |
//! | `outcome` | `pass`, `fail`, `error_mismatch`, `crashed`, `timed_out`, `unsupported` |
//! | `reason` | a short code: what differed, the NumPy exception both raised, or why it was refused (`null` for a plain pass) |
//! | `detail` | the same for people (`null` when there is nothing to say) |
//! | `duration_us` | wall time of the case on the target, microseconds |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::case::CaseOutcome;
use crate::compare::Status;
use crate::corpus::Corpus;
use crate::oracle::Oracle;
use crate::run::Row;

/// The schema id of every line.
pub const SCHEMA: &str = "fnp.log.v1";

/// What every line of one run shares.
pub struct Context<'a> {
    /// Target name.
    pub target: &'a str,
    /// The report's `environment` object.
    pub environment: &'a Value,
    /// Where the report went.
    pub report: &'a Path,
}

/// The environment fingerprint: 16 hex digits of the SHA-256 of the
/// serialized `environment` object.
pub fn fingerprint(environment: &Value) -> String {
    let text = serde_json::to_string(environment).unwrap_or_default();
    crate::corpus::sha256_hex(text.as_bytes())
        .chars()
        .take(16)
        .collect()
}

/// A short, stable code for why a case ended as it did.
fn reason(row: &Row) -> Option<String> {
    let code = |text: &str| {
        text.split([':', ' '])
            .next()
            .filter(|c| !c.is_empty())
            .unwrap_or("unknown")
            .to_string()
    };
    match &row.status {
        Status::Pass => match &row.answer {
            CaseOutcome::Error { exception, .. } => Some(exception.clone()),
            _ => None,
        },
        Status::Fail { what, .. } => Some(code(what)),
        Status::ErrorMismatch { .. } => Some("error_mismatch".into()),
        Status::Crashed(r) | Status::Unsupported(r) => Some(code(r)),
        Status::TimedOut => Some("timeout".into()),
    }
}

/// One line for `row`.
pub fn line(row: &Row, corpus: Option<&(Corpus, Oracle)>, cx: &Context<'_>, env: &str) -> Value {
    let detail = crate::run::detail(&row.status);
    json!({
        "schema": SCHEMA,
        "case": row.id,
        "op": row.op,
        "dtype": row.dtype,
        "corpus": row.corpus,
        "seed": corpus.and_then(|(c, _)| c.seed),
        "target": cx.target,
        "mode": row.mode.name(),
        "override": row.allowed,
        "env": env,
        "artifacts": {
            "corpus": corpus.map(|(c, _)| c.path.display().to_string()),
            "corpus_sha256": corpus.map(|(c, _)| c.sha256.clone()),
            "oracle": corpus.map(|(_, o)| o.path.display().to_string()),
            "report": cx.report.display().to_string(),
        },
        "outcome": row.status.name(),
        "reason": reason(row),
        "detail": (!detail.is_empty()).then_some(detail),
        "duration_us": u64::try_from(row.duration.as_micros()).unwrap_or(u64::MAX),
    })
}

/// Writes the log for `rows` to `path`, checking every line against the
/// schema first.
pub fn write(
    path: &Path,
    rows: &[Row],
    pairs: &[(Corpus, Oracle)],
    cx: &Context<'_>,
) -> anyhow::Result<PathBuf> {
    let by_name: BTreeMap<String, &(Corpus, Oracle)> = pairs
        .iter()
        .map(|p| {
            let name =
                p.0.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
            (name, p)
        })
        .collect();
    let env = fingerprint(cx.environment);
    let mut text = Vec::new();
    for row in rows {
        let value = line(row, by_name.get(&row.corpus).copied(), cx, &env);
        crate::schema::validate(crate::schema::Kind::Log, path, &value)?;
        serde_json::to_writer(&mut text, &value)?;
        text.push(b'\n');
    }
    crate::outdir::write_atomic(path, &text)?;
    Ok(path.to_path_buf())
}
