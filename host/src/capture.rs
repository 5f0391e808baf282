//! `fnp capture`: run NumPy (or the pure-Python fallback) over a corpus and
//! write its oracle (`fnp.oracle.v2`).
//!
//! fnp builds every input's memory buffer itself and hands NumPy the very
//! bytes, strides and offset (a job file plus a binary blob), so the layout
//! NumPy reduces over is exactly the one every target gets. The script is
//! `oracle/capture.py`, compiled into the binary and written to a temporary
//! directory for each run; the job carries fnp-core's op table (as `fnp
//! info --json` prints it), so the script keeps no op list of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::Context;
use clap::Args;
use fnp_core::{DType, FpFlags};
use serde_json::{json, Map, Value};

use crate::case::{AxisParam, Case};
use crate::corpus::{self, Corpus};
use crate::value::Scalar;

/// The capture script (lives in the repository at `oracle/capture.py`).
pub const SCRIPT: &str = include_str!("../../oracle/capture.py");

/// Schema id of oracle files.
pub const SCHEMA: &str = "fnp.oracle.v2";

/// Arguments of `fnp capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Corpus file or directory of corpus files (repeatable).
    #[arg(long, required = true)]
    pub cases: Vec<PathBuf>,
    /// Oracle file to write (one corpus) or directory (oracles are named
    /// after their corpus file).
    #[arg(long, default_value = "fixtures/oracles")]
    pub out: PathBuf,
    /// Use the pure-Python oracle even if NumPy is importable.
    #[arg(long)]
    pub pure_python: bool,
    /// Fail instead of falling back when NumPy cannot be imported.
    #[arg(long, conflicts_with = "pure_python")]
    pub require_numpy: bool,
}

/// Which oracle implementation to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// NumPy if importable, else the pure-Python fallback.
    Auto,
    /// The pure-Python fallback only.
    PurePython,
}

/// The Python interpreter: `FNP_ORACLE_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("FNP_ORACLE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Expands `--cases` arguments: files as given, directories to their
/// `*.json` files in name order.
pub fn expand_case_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading directory {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            if files.is_empty() {
                anyhow::bail!("{}: no *.json corpus files", p.display());
            }
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such corpus file or directory", p.display());
        }
    }
    Ok(out)
}

/// `fnp capture`.
pub fn main(args: &CaptureArgs) -> anyhow::Result<ExitCode> {
    let files = expand_case_paths(&args.cases)?;
    let to_dir = files.len() > 1 || args.out.is_dir() || args.cases.iter().any(|c| c.is_dir());
    let mode = if args.pure_python {
        Mode::PurePython
    } else {
        Mode::Auto
    };
    println!(
        "{:<14} {:>7} {:>6} {:>6} {:>11}  source",
        "corpus", "cases", "ok", "error", "unsupported"
    );
    for file in &files {
        let out = if to_dir {
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("creating {}", args.out.display()))?;
            args.out.join(file.file_name().unwrap_or_default())
        } else {
            args.out.clone()
        };
        let summary = capture_file(file, &out, mode)?;
        if args.require_numpy && summary.source != "numpy" {
            anyhow::bail!(
                "{}: NumPy could not be imported by {} (--require-numpy)",
                file.display(),
                python()
            );
        }
        println!(
            "{:<14} {:>7} {:>6} {:>6} {:>11}  {} {}",
            file.file_name().unwrap_or_default().to_string_lossy(),
            summary.cases,
            summary.ok,
            summary.error,
            summary.unsupported,
            summary.source,
            summary.numpy_version.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What one capture produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Cases answered.
    pub cases: usize,
    /// Results with a value.
    pub ok: usize,
    /// Results that are exceptions.
    pub error: usize,
    /// Results marked unsupported.
    pub unsupported: usize,
    /// "numpy" or "pure-python".
    pub source: String,
    /// NumPy's version when NumPy answered.
    pub numpy_version: Option<String>,
}

/// Captures the oracle of one corpus file into `out`.
pub fn capture_file(cases: &Path, out: &Path, mode: Mode) -> anyhow::Result<Summary> {
    let corpus = corpus::load(cases)?;
    let work = TempDir::new()?;
    let (job, blob) = job(&corpus)?;
    let job_path = work.path.join("job.json");
    let blob_path = work.path.join("job.bin");
    let script_path = work.path.join("capture.py");
    let answer_path = work.path.join("answer.json");
    std::fs::write(&job_path, serde_json::to_vec(&job)?)?;
    std::fs::write(&blob_path, &blob)?;
    std::fs::write(&script_path, SCRIPT)?;
    run_python(
        &script_path,
        &[&job_path, &blob_path, &answer_path],
        mode,
        corpus.cases.len(),
    )?;
    let answer: Value =
        serde_json::from_slice(&std::fs::read(&answer_path).context("capture.py wrote no answer")?)
            .context("capture.py wrote invalid JSON")?;
    let (oracle, summary) = oracle_from_answer(&corpus, &answer)?;
    crate::schema::validate(crate::schema::Kind::Oracle, out, &oracle)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let Value::Object(top) = oracle else {
        anyhow::bail!("internal: oracle is not an object");
    };
    crate::outdir::write_atomic(out, corpus::write_lines(&top, "results").as_bytes())?;
    Ok(summary)
}

struct TempDir {
    path: PathBuf,
}

impl TempDir {
    fn new() -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("fnp-capture-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn run_python(script: &Path, args: &[&Path], mode: Mode, total: usize) -> anyhow::Result<()> {
    let python = python();
    let mut cmd = Command::new(&python);
    cmd.arg(script).args(args);
    cmd.arg(match mode {
        Mode::Auto => "auto",
        Mode::PurePython => "pure-python",
    });
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run the oracle interpreter {python:?}: {e} \
                 (set FNP_ORACLE_PYTHON to a Python 3 with NumPy)"
            )
        })?;
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("capture {bar:40} {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut messages = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if let Some(rest) = line.strip_prefix("@@progress ") {
                if let Some(done) = rest.split(' ').next().and_then(|d| d.parse().ok()) {
                    bar.set_position(done);
                }
            } else {
                messages.push(line);
            }
        }
    }
    bar.finish_and_clear();
    let status = child.wait().context("waiting for the oracle interpreter")?;
    if !status.success() {
        let tail: Vec<&str> = messages
            .iter()
            .rev()
            .take(20)
            .rev()
            .map(String::as_str)
            .collect();
        anyhow::bail!(
            "{python} capture.py failed ({status}):\n{}",
            tail.join("\n")
        );
    }
    Ok(())
}

fn hex_f64(f: f64) -> String {
    // Python's float.fromhex reads this exactly.
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let bits = f.to_bits();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mant = bits & ((1u64 << 52) - 1);
    if exp == 0 {
        format!("{sign}0x0.{mant:013x}p-1022")
    } else {
        format!("{sign}0x1.{mant:013x}p{}", exp - 1023)
    }
}

fn scalar_job(s: Scalar) -> Value {
    match s {
        Scalar::Bool(b) => json!({"kind": "bool", "value": b}),
        Scalar::Int(i) => json!({"kind": "int", "value": i.to_string()}),
        Scalar::Float(f) => json!({"kind": "float", "value": hex_f64(f)}),
    }
}

fn case_job(case: &Case, blob: &mut Vec<u8>) -> anyhow::Result<Value> {
    // NumPy gets every buffer in one blob, `generate` inputs built.
    let built = case.materialized().map_err(|e| anyhow::anyhow!("{e}"))?;
    let case = built.as_ref();
    let mut array = |i: &crate::case::Input| {
        // Keep every buffer 8-byte aligned inside the blob.
        while blob.len() % 8 != 0 {
            blob.push(0);
        }
        let start = blob.len();
        blob.extend_from_slice(&i.buffer);
        json!({"dtype": i.dtype.name(), "shape": i.shape, "strides": i.strides,
               "offset": i.offset, "scalar": i.scalar, "start": start, "nbytes": i.buffer.len()})
    };
    let inputs: Vec<Value> = case.inputs.iter().map(&mut array).collect();
    // out=: an array of its own, or {"input": k} (NumPy gets input k's
    // array object itself, in place).
    let outs: Vec<Value> = case
        .params
        .out
        .iter()
        .map(|o| match o {
            None => Value::Null,
            Some(o) => match o.operand {
                Some(k) => json!({"input": k}),
                None => array(&o.array),
            },
        })
        .collect();
    let p = &case.params;
    let mut params = Map::new();
    if let Some(axis) = &p.axis {
        params.insert(
            "axis".into(),
            match axis {
                AxisParam::All => Value::Null,
                AxisParam::One(a) => json!(a),
                AxisParam::Tuple(t) => json!(t),
            },
        );
    }
    if p.keepdims {
        params.insert("keepdims".into(), json!(true));
    }
    if let Some(s) = p.initial {
        params.insert("initial".into(), scalar_job(s));
    }
    if let Some(w) = &p.where_mask {
        params.insert("where".into(), json!({"shape": w.shape, "data": w.data}));
    }
    if let Some(d) = p.dtype {
        params.insert("dtype".into(), json!(d.name()));
    }
    if let Some(d) = p.ddof {
        params.insert("ddof".into(), json!(hex_f64(d)));
    }
    if !outs.is_empty() {
        params.insert("out".into(), Value::Array(outs));
    }
    if let Some(c) = p.casting {
        params.insert("casting".into(), json!(c.name()));
    }
    if let Some(sig) = &p.signature {
        params.insert("signature".into(), sig.to_json());
    }
    Ok(json!({"id": case.id, "op": case.op.name(), "inputs": inputs, "params": params}))
}

/// The job file and blob handed to capture.py: the cases, and the op
/// table rows `fnp info --json` prints (capture.py learns from them which
/// ops are reductions and so take keywords).
pub fn job(corpus: &Corpus) -> anyhow::Result<(Value, Vec<u8>)> {
    let mut blob = Vec::new();
    let cases: Vec<Value> = corpus
        .cases
        .iter()
        .map(|c| case_job(c, &mut blob))
        .collect::<anyhow::Result<_>>()?;
    Ok((
        json!({"cases": cases, "ops": crate::info::ops_json()}),
        blob,
    ))
}

/// One output of capture.py's answer: `dtype`, `shape` and `hex` bytes.
fn python_array(id: &str, r: &Value) -> anyhow::Result<(DType, Vec<usize>, Vec<u8>)> {
    let name = r.get("dtype").and_then(Value::as_str).unwrap_or("");
    let dtype = DType::from_name(name)
        .with_context(|| format!("case {id}: NumPy dtype {name:?} is not fnp's"))?;
    let shape: Vec<usize> = r
        .get("shape")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_u64().map(|d| d as usize))
                .collect()
        })
        .unwrap_or_default();
    let bytes = r
        .get("hex")
        .and_then(Value::as_str)
        .and_then(hex_bytes)
        .with_context(|| format!("case {id}: bad result bytes"))?;
    if bytes.len() != shape.iter().product::<usize>() * dtype.itemsize() {
        anyhow::bail!(
            "case {id}: {} result bytes for shape {shape:?}",
            bytes.len()
        );
    }
    Ok((dtype, shape, bytes))
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// Builds the canonical oracle document from capture.py's answer.
pub fn oracle_from_answer(corpus: &Corpus, answer: &Value) -> anyhow::Result<(Value, Summary)> {
    let results = answer
        .get("results")
        .and_then(Value::as_array)
        .context("capture.py answer has no results")?;
    if results.len() != corpus.cases.len() {
        anyhow::bail!(
            "capture.py answered {} of {} cases",
            results.len(),
            corpus.cases.len()
        );
    }
    let source = answer
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string();
    let numpy_version = answer
        .get("numpy_version")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut summary = Summary {
        cases: results.len(),
        ok: 0,
        error: 0,
        unsupported: 0,
        source: source.clone(),
        numpy_version: numpy_version.clone(),
    };
    let mut out = Vec::with_capacity(results.len());
    for (case, r) in corpus.cases.iter().zip(results) {
        let id = r.get("id").and_then(Value::as_str).unwrap_or("");
        if id != case.id {
            anyhow::bail!(
                "capture.py answered {id:?} where case {} was expected",
                case.id
            );
        }
        let status = r.get("status").and_then(Value::as_str).unwrap_or("");
        let entry = match status {
            "ok" => {
                let mut flags = FpFlags::NONE;
                for f in r
                    .get("fp_flags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    flags |= f
                        .as_str()
                        .and_then(FpFlags::from_name)
                        .with_context(|| format!("case {id}: unknown flag {f}"))?;
                }
                // Several outputs (divmod, modf, frexp) come as a list.
                let arrays = match r.get("outputs").and_then(Value::as_array) {
                    Some(list) => list
                        .iter()
                        .map(|o| python_array(id, o))
                        .collect::<anyhow::Result<Vec<_>>>()?,
                    None => vec![python_array(id, r)?],
                };
                let Some(((dtype, shape, bytes), rest)) = arrays.split_first() else {
                    anyhow::bail!("case {id}: no outputs");
                };
                if let Some((_, other, _)) = rest.iter().find(|(_, s, _)| s != shape) {
                    anyhow::bail!("case {id}: outputs of shapes {shape:?} and {other:?}");
                }
                let more: Vec<(DType, Vec<u8>)> =
                    rest.iter().map(|(d, _, b)| (*d, b.clone())).collect();
                summary.ok += 1;
                crate::oracle::ok_json(id, shape, (*dtype, bytes), &more, flags)
            }
            "error" => {
                summary.error += 1;
                json!({"id": id, "status": "error", "error": r.get("error").cloned().unwrap_or(Value::Null)})
            }
            "unsupported" => {
                summary.unsupported += 1;
                json!({"id": id, "status": "unsupported", "reason": r.get("reason").cloned().unwrap_or(Value::Null)})
            }
            other => anyhow::bail!("case {id}: unknown status {other:?} from capture.py"),
        };
        out.push(entry);
    }
    let file_name = corpus
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let doc = json!({
        "schema": SCHEMA,
        "corpus": file_name,
        "corpus_sha256": corpus.sha256,
        "source": source,
        "numpy_version": numpy_version,
        "python_version": answer.get("python_version").cloned().unwrap_or(json!("unknown")),
        "results": out,
    });
    Ok((doc, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_floats_are_exact() {
        assert_eq!(hex_f64(1.0), "0x1.0000000000000p0");
        assert_eq!(hex_f64(-0.0), "-0x0.0000000000000p-1022");
        assert_eq!(hex_f64(5e-324), "0x0.0000000000001p-1022");
        assert_eq!(hex_f64(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn hex_bytes_rejects_garbage() {
        assert_eq!(hex_bytes("00ff"), Some(vec![0, 255]));
        assert_eq!(hex_bytes("0"), None);
        assert_eq!(hex_bytes("zz"), None);
    }
}
