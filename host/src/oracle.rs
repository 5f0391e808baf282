//! Reading oracle files (`fnp.oracle.v2`, and the `fnp.oracle.v1` files
//! written before results could have several outputs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use fnp_core::{DType, FpFlags};
use serde_json::Value;

use crate::compare::Expected;
use crate::corpus::Corpus;
use crate::value;

/// A decoded oracle.
#[derive(Clone, Debug)]
pub struct Oracle {
    /// Where it was read from.
    pub path: PathBuf,
    /// sha256 of the corpus it answers.
    pub corpus_sha256: String,
    /// "numpy" or "pure-python".
    pub source: String,
    /// NumPy's version, when NumPy answered.
    pub numpy_version: Option<String>,
    /// Python's version.
    pub python_version: String,
    /// Answers by case id.
    pub results: BTreeMap<String, Expected>,
}

/// The oracle file for `corpus` in `dir`: same file name.
pub fn path_for(corpus: &Path, dir: &Path) -> PathBuf {
    dir.join(corpus.file_name().unwrap_or_default())
}

/// Reads and schema-checks an oracle file.
pub fn load(path: &Path) -> anyhow::Result<Oracle> {
    let bytes = crate::jsonread::read_file(path).context("reading the oracle")?;
    let json = crate::jsonread::parse(path, &bytes)?;
    let kind = match json.get("schema").and_then(Value::as_str) {
        Some("fnp.oracle.v1") => crate::schema::Kind::OracleV1,
        _ => crate::schema::Kind::Oracle,
    };
    crate::schema::validate(kind, path, &json)?;
    let text = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_string);
    let mut results = BTreeMap::new();
    for r in json
        .get("results")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let expected = decode_result(r).map_err(|(field, msg)| {
            anyhow::anyhow!("{}: case {id}: field {field}: {msg}", path.display())
        })?;
        if results.insert(id.clone(), expected).is_some() {
            anyhow::bail!("{}: case {id}: field id: duplicate id", path.display());
        }
    }
    Ok(Oracle {
        path: path.to_path_buf(),
        corpus_sha256: text("corpus_sha256").unwrap_or_default(),
        source: text("source").unwrap_or_default(),
        numpy_version: text("numpy_version"),
        python_version: text("python_version").unwrap_or_default(),
        results,
    })
}

/// An `ok` result as oracle v2 writes it: `dtype`, `shape`, `data` for
/// one output, `outputs: [...]` for several.
pub fn ok_json(
    id: &str,
    shape: &[usize],
    first: (DType, &[u8]),
    more: &[(DType, Vec<u8>)],
    flags: FpFlags,
) -> Value {
    let array = |(d, b): (DType, &[u8])| serde_json::json!({"dtype": d.name(), "shape": shape, "data": value::decode_values(d, b)});
    let flags: Vec<&str> = flags.names().collect();
    if more.is_empty() {
        let (d, b) = first;
        return serde_json::json!({"id": id, "status": "ok", "dtype": d.name(), "shape": shape,
            "data": value::decode_values(d, b), "fp_flags": flags});
    }
    let outputs: Vec<Value> = std::iter::once(first)
        .chain(more.iter().map(|(d, b)| (*d, b.as_slice())))
        .map(array)
        .collect();
    serde_json::json!({"id": id, "status": "ok", "outputs": outputs, "fp_flags": flags})
}

/// An output array (dtype, shape, little-endian bytes), or the field that
/// is wrong and why.
type Decoded = Result<(DType, Vec<usize>, Vec<u8>), (String, String)>;

/// One output array: `dtype`, `shape` and `data` of `v`.
fn decode_array(v: &Value) -> Decoded {
    let field = |f: &str, m: String| (f.to_string(), m);
    let name = v.get("dtype").and_then(Value::as_str).unwrap_or_default();
    let dtype =
        DType::from_name(name).ok_or_else(|| field("dtype", format!("unknown dtype {name:?}")))?;
    let shape: Vec<usize> = v
        .get("shape")
        .and_then(Value::as_array)
        .ok_or_else(|| field("shape", "missing".into()))?
        .iter()
        .map(|d| {
            d.as_u64()
                .map(|d| d as usize)
                .ok_or_else(|| field("shape", format!("{d}")))
        })
        .collect::<Result<_, _>>()?;
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| field("data", "missing".into()))?;
    if data.len() != shape.iter().product::<usize>() {
        return Err(field(
            "data",
            format!("{} values for shape {shape:?}", data.len()),
        ));
    }
    let bytes = value::encode_values(dtype, data).map_err(|m| field("data", m))?;
    Ok((dtype, shape, bytes))
}

fn decode_result(r: &Value) -> Result<Expected, (String, String)> {
    let field = |f: &str, m: String| (f.to_string(), m);
    match r.get("status").and_then(Value::as_str) {
        Some("ok") => {
            let mut flags = FpFlags::NONE;
            for f in r
                .get("fp_flags")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let name = f.as_str().unwrap_or_default();
                flags |= FpFlags::from_name(name)
                    .ok_or_else(|| field("fp_flags", format!("unknown flag {name:?}")))?;
            }
            // v2: several outputs as a list (the schema allows either form).
            let (first, rest) = match r.get("outputs").and_then(Value::as_array) {
                Some(outputs) => {
                    let mut arrays = outputs.iter().enumerate().map(|(k, o)| {
                        decode_array(o).map_err(|(f, m)| (format!("outputs[{k}].{f}"), m))
                    });
                    let first = arrays
                        .next()
                        .ok_or_else(|| field("outputs", "empty".into()))??;
                    (first, arrays.collect::<Result<Vec<_>, _>>()?)
                }
                None => (decode_array(r)?, Vec::new()),
            };
            let (dtype, shape, bytes) = first;
            let mut more = Vec::with_capacity(rest.len());
            for (k, (d, s, b)) in rest.into_iter().enumerate() {
                if s != shape {
                    return Err(field(
                        &format!("outputs[{}].shape", k + 1),
                        format!("{s:?}, not the first output's {shape:?}"),
                    ));
                }
                more.push((d, b));
            }
            Ok(Expected::Ok {
                dtype,
                shape,
                bytes,
                flags,
                more,
            })
        }
        Some("error") => Ok(Expected::Error(
            r.get("error")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )),
        Some("unsupported") => Ok(Expected::Unsupported(
            r.get("reason")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        )),
        other => Err(field("status", format!("{other:?}"))),
    }
}

/// Loads the oracle of `corpus` and checks it answers exactly this corpus.
pub fn load_for(corpus: &Corpus, path: &Path) -> anyhow::Result<Oracle> {
    if !path.exists() {
        anyhow::bail!(
            "no oracle for {}: expected {} — capture it with `fnp capture --cases {} --out {}` \
             (needs Python with NumPy, see FNP_ORACLE_PYTHON)",
            corpus.path.display(),
            path.display(),
            corpus.path.display(),
            path.display()
        );
    }
    let oracle = load(path)?;
    if oracle.corpus_sha256 != corpus.sha256 {
        anyhow::bail!(
            "{} answers a different corpus: it was captured from sha256 {} but {} has sha256 {} \
             — re-capture it with `fnp capture`",
            path.display(),
            oracle.corpus_sha256,
            corpus.path.display(),
            corpus.sha256
        );
    }
    for case in &corpus.cases {
        if !oracle.results.contains_key(&case.id) {
            anyhow::bail!(
                "{}: case {}: no answer in the oracle",
                path.display(),
                case.id
            );
        }
    }
    Ok(oracle)
}
