//! JSON Schema checks for every file `fnp` reads.
//!
//! The schemas live in `schemas/` at the repository root and are compiled
//! into the binary, so a released `fnp` checks files against the same
//! schemas that are documented. Errors name the file, the case id (looked up
//! from the failing element of `cases`/`results`) and the field.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// Which schema a file follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `fnp.cases.v3`: `signature=` on ufunc calls.
    Cases,
    /// `fnp.cases.v2`: `out=` and `casting=` on ufunc calls; still read.
    CasesV2,
    /// `fnp.cases.v1`: still read.
    CasesV1,
    /// `fnp.oracle.v2`: results may list several outputs.
    Oracle,
    /// `fnp.oracle.v1`: still read.
    OracleV1,
    /// `fnp.report.v1`
    Report,
    /// `fnp.log.v1`: one line of `fnp run`'s JSON Lines log.
    Log,
    /// `fnp.bundle.manifest.v1`: a bundle's `manifest.json`.
    Manifest,
    /// `fnp.frames.v1`: raw wire frames with the reason each must get.
    Frames,
    /// `fnp.info.v2`: `fnp info --json`, the op table.
    Info,
}

impl Kind {
    /// Every schema, in `schemas/` file order.
    pub const ALL: [Kind; 10] = [
        Kind::Cases,
        Kind::CasesV2,
        Kind::CasesV1,
        Kind::Oracle,
        Kind::OracleV1,
        Kind::Report,
        Kind::Log,
        Kind::Manifest,
        Kind::Frames,
        Kind::Info,
    ];

    /// The schema id (also its file name in `schemas/`, with `.json`).
    pub const fn id(self) -> &'static str {
        match self {
            Kind::Cases => "fnp.cases.v3",
            Kind::CasesV2 => "fnp.cases.v2",
            Kind::CasesV1 => "fnp.cases.v1",
            Kind::Oracle => "fnp.oracle.v2",
            Kind::OracleV1 => "fnp.oracle.v1",
            Kind::Report => "fnp.report.v1",
            Kind::Log => "fnp.log.v1",
            Kind::Manifest => "fnp.bundle.manifest.v1",
            Kind::Frames => "fnp.frames.v1",
            Kind::Info => "fnp.info.v2",
        }
    }

    /// The kind whose id is `id`.
    pub fn from_id(id: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The schema document.
    pub const fn text(self) -> &'static str {
        match self {
            Kind::Cases => include_str!("../../schemas/fnp.cases.v3.json"),
            Kind::CasesV2 => include_str!("../../schemas/fnp.cases.v2.json"),
            Kind::CasesV1 => include_str!("../../schemas/fnp.cases.v1.json"),
            Kind::Oracle => include_str!("../../schemas/fnp.oracle.v2.json"),
            Kind::OracleV1 => include_str!("../../schemas/fnp.oracle.v1.json"),
            Kind::Report => include_str!("../../schemas/fnp.report.v1.json"),
            Kind::Log => include_str!("../../schemas/fnp.log.v1.json"),
            Kind::Manifest => include_str!("../../schemas/fnp.bundle.manifest.v1.json"),
            Kind::Frames => include_str!("../../schemas/fnp.frames.v1.json"),
            Kind::Info => include_str!("../../schemas/fnp.info.v2.json"),
        }
    }

    /// The array whose elements carry case ids.
    const fn list_key(self) -> &'static str {
        match self {
            Kind::Cases | Kind::CasesV2 | Kind::CasesV1 | Kind::Report => "cases",
            Kind::Oracle | Kind::OracleV1 => "results",
            Kind::Manifest => "files",
            Kind::Frames => "frames",
            Kind::Info => "ops",
            Kind::Log => "",
        }
    }
}

type Compiled = Result<jsonschema::Validator, String>;

fn validator(kind: Kind) -> &'static Compiled {
    static COMPILED: [OnceLock<Compiled>; Kind::ALL.len()] =
        [const { OnceLock::new() }; Kind::ALL.len()];
    let index = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    COMPILED[index].get_or_init(|| {
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
    if let Some(rest) = pointer
        .strip_prefix(&list)
        .filter(|_| !kind.list_key().is_empty())
    {
        let (index, field) = rest.split_once('/').unwrap_or((rest, ""));
        let id = index
            .parse::<usize>()
            .ok()
            .and_then(|i| {
                let item = json.get(kind.list_key())?.get(i)?;
                item.get("id").or_else(|| item.get("path"))?.as_str()
            })
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

/// `fnp validate`: checks artifact files against their schemas.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Files to check: corpora, oracles, reports, frame fixtures, op tables
    /// (`fnp info --json`), bundle manifests (or a bundle directory), run
    /// logs (`.jsonl`, every line).
    /// The schema is the one the file's `schema` field names.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Reads `path` and checks it against the schema it names; returns the
/// schema id(s) it follows.
pub fn validate_file(path: &Path) -> anyhow::Result<String> {
    let path = if path.is_dir() {
        let manifest = path.join("manifest.json");
        if !manifest.is_file() {
            anyhow::bail!(
                "{} is a directory without manifest.json (not a bundle)",
                path.display()
            );
        }
        manifest
    } else {
        path.to_path_buf()
    };
    let text = crate::jsonread::read_text(&path)?;
    if path.extension().is_some_and(|x| x == "jsonl") {
        let mut ids = std::collections::BTreeSet::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let at = PathBuf::from(format!("{}:{}", path.display(), i + 1));
            let json = crate::jsonread::parse(&at, line.as_bytes())?;
            let kind = kind_of(&at, &json)?;
            validate(kind, &at, &json)?;
            ids.insert(kind.id());
        }
        if ids.is_empty() {
            anyhow::bail!("{}: no lines", path.display());
        }
        return Ok(ids.into_iter().collect::<Vec<_>>().join(", "));
    }
    let json = crate::jsonread::parse(&path, text.as_bytes())?;
    let kind = kind_of(&path, &json)?;
    validate(kind, &path, &json)?;
    Ok(kind.id().to_string())
}

/// The schema a document names in its `schema` field.
fn kind_of(path: &Path, json: &Value) -> anyhow::Result<Kind> {
    let known = || Kind::ALL.map(Kind::id).join(", ");
    match json.get("schema").and_then(Value::as_str) {
        Some(id) => Kind::from_id(id).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: field schema is {id:?}, not a schema fnp knows ({})",
                path.display(),
                known()
            )
        }),
        None => anyhow::bail!(
            "{}: no string field `schema` naming one of: {}",
            path.display(),
            known()
        ),
    }
}

/// `fnp validate FILE...`: one line per file; fails if any file does.
pub fn validate_main(args: &ValidateArgs) -> anyhow::Result<std::process::ExitCode> {
    let mut bad = 0usize;
    for file in &args.files {
        match validate_file(file) {
            Ok(id) => println!("ok    {}  ({id})", file.display()),
            Err(e) => {
                bad += 1;
                println!("FAIL  {e:#}");
            }
        }
    }
    if bad > 0 {
        println!(
            "{bad} of {} files do not follow their schema",
            args.files.len()
        );
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_compile() {
        for kind in Kind::ALL {
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
        let err = validate(Kind::CasesV1, Path::new("x.json"), &doc)
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.json"), "{err}");
        assert!(err.contains("case bad-one"), "{err}");
        assert!(err.contains("field inputs.0.dtype"), "{err}");
    }

    #[test]
    fn top_level_errors_are_named() {
        let doc = json!({"schema": "fnp.cases.v9", "suite": "t", "cases": []});
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
