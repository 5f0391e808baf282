//! JSON Schema checks for every file `fnp` reads.
//!
//! The schemas live in `schemas/` at the repository root and are compiled
//! into the binary, so a released `fnp` checks files against the same
//! schemas that are documented. Errors name the file, the case id (looked up
//! from the failing element of `cases`/`results`) and the field.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

/// Which schema a file follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `fnp.cases.v1`
    Cases,
    /// `fnp.oracle.v1`
    Oracle,
    /// `fnp.report.v1`
    Report,
}

impl Kind {
    /// The schema id.
    pub const fn id(self) -> &'static str {
        match self {
            Kind::Cases => "fnp.cases.v1",
            Kind::Oracle => "fnp.oracle.v1",
            Kind::Report => "fnp.report.v1",
        }
    }

    /// The schema document.
    pub const fn text(self) -> &'static str {
        match self {
            Kind::Cases => include_str!("../../schemas/fnp.cases.v1.json"),
            Kind::Oracle => include_str!("../../schemas/fnp.oracle.v1.json"),
            Kind::Report => include_str!("../../schemas/fnp.report.v1.json"),
        }
    }

    /// The array whose elements carry case ids.
    const fn list_key(self) -> &'static str {
        match self {
            Kind::Cases | Kind::Report => "cases",
            Kind::Oracle => "results",
        }
    }
}

type Compiled = Result<jsonschema::Validator, String>;

fn validator(kind: Kind) -> &'static Compiled {
    static CASES: OnceLock<Compiled> = OnceLock::new();
    static ORACLE: OnceLock<Compiled> = OnceLock::new();
    static REPORT: OnceLock<Compiled> = OnceLock::new();
    let cell = match kind {
        Kind::Cases => &CASES,
        Kind::Oracle => &ORACLE,
        Kind::Report => &REPORT,
    };
    cell.get_or_init(|| {
        let schema: Value = serde_json::from_str(kind.text())
            .map_err(|e| format!("schema {} is not JSON: {e}", kind.id()))?;
        jsonschema::validator_for(&schema).map_err(|e| format!("schema {}: {e}", kind.id()))
    })
}

/// Checks `json` (read from `path`) against the schema of `kind`. On failure
/// the error lists up to five violations, each as
/// `file: case <id>: field <path>: <message>`.
pub fn validate(kind: Kind, path: &Path, json: &Value) -> anyhow::Result<()> {
    let validator = validator(kind)
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut problems = Vec::new();
    let mut count = 0usize;
    for error in validator.iter_errors(json) {
        count += 1;
        if problems.len() < 5 {
            let pointer = error.instance_path().as_str().to_string();
            problems.push(format!(
                "{}: {}: {}",
                path.display(),
                locate(kind, json, &pointer),
                error
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let more = if count > problems.len() {
        format!("\n(and {} more)", count - problems.len())
    } else {
        String::new()
    };
    anyhow::bail!(
        "{} does not follow {}:\n{}{more}",
        path.display(),
        kind.id(),
        problems.join("\n")
    )
}

/// Turns a JSON pointer into "case <id>: field <rest>".
fn locate(kind: Kind, json: &Value, pointer: &str) -> String {
    let list = format!("/{}/", kind.list_key());
    if let Some(rest) = pointer.strip_prefix(&list) {
        let (index, field) = rest.split_once('/').unwrap_or((rest, ""));
        let id = index
            .parse::<usize>()
            .ok()
            .and_then(|i| json.get(kind.list_key())?.get(i)?.get("id")?.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{index}"));
        let field = if field.is_empty() {
            "(the case)".to_string()
        } else {
            field.replace('/', ".")
        };
        return format!("case {id}: field {field}");
    }
    let field = pointer.trim_start_matches('/').replace('/', ".");
    format!(
        "field {}",
        if field.is_empty() {
            "(top level)"
        } else {
            &field
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_compile() {
        for kind in [Kind::Cases, Kind::Oracle, Kind::Report] {
            assert!(
                validator(kind).is_ok(),
                "{:?}",
                validator(kind).as_ref().err()
            );
        }
    }

    #[test]
    fn errors_name_file_case_and_field() {
        let doc = json!({"schema": "fnp.cases.v1", "suite": "t", "cases": [
            {"id": "good", "op": "add", "inputs": [{"dtype": "int8", "shape": [], "data": [1]}]},
            {"id": "bad-one", "op": "add", "inputs": [{"dtype": "int9", "shape": [], "data": [1]}]}
        ]});
        let err = validate(Kind::Cases, Path::new("x.json"), &doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json"), "{err}");
        assert!(err.contains("case bad-one"), "{err}");
        assert!(err.contains("field inputs.0.dtype"), "{err}");
    }

    #[test]
    fn top_level_errors_are_named() {
        let doc = json!({"schema": "fnp.cases.v2", "suite": "t", "cases": []});
        let err = validate(Kind::Cases, Path::new("y.json"), &doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("field schema"), "{err}");
    }

    #[test]
    fn oracle_results_are_checked() {
        let doc = json!({"schema": "fnp.oracle.v1", "corpus": "c.json",
        "corpus_sha256": "0".repeat(64), "source": "numpy", "numpy_version": "2.4.6",
        "python_version": "3.12", "results": [
            {"id": "a", "status": "ok", "dtype": "int8", "shape": [], "data": [1], "fp_flags": ["sideways"]}
        ]});
        let err = validate(Kind::Oracle, Path::new("o.json"), &doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("case a"), "{err}");
    }
}
