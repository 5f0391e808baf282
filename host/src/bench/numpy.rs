//! The persistent NumPy subprocess of `fnp bench`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use super::Workload;

const SCRIPT: &str = include_str!("../../scripts/numpy_bench.py");

/// The interpreter for NumPy: `FNP_ORACLE_PYTHON`, else the repo's `.venv`
/// (made by `cargo xtask setup`/`oracles`), else `python3`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("FNP_ORACLE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(".venv/bin/python");
    if venv.exists() {
        return venv.to_path_buf();
    }
    PathBuf::from("python3")
}

/// A running `numpy_bench.py`; killed on drop.
pub struct NumpyProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    numpy: String,
    python: String,
}

impl NumpyProcess {
    pub fn start(tmp: &Path) -> Result<NumpyProcess> {
        let script = tmp.join("numpy_bench.py");
        std::fs::write(&script, SCRIPT).context("writing the NumPy bench script")?;
        let interpreter = python();
        let mut child = Command::new(&interpreter)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (set FNP_ORACLE_PYTHON to a Python with NumPy, or run `cargo xtask bench`, which makes one)",
                    interpreter.display()
                )
            })?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
        let mut p = NumpyProcess {
            child,
            stdin,
            stdout,
            numpy: String::new(),
            python: String::new(),
        };
        let hello = p.request(json!({"cmd": "hello"})).with_context(|| {
            format!(
                "{} could not run the NumPy bench script (is NumPy installed there?)",
                interpreter.display()
            )
        })?;
        p.numpy = hello["numpy"].as_str().unwrap_or("unknown").to_string();
        p.python = hello["python"].as_str().unwrap_or("unknown").to_string();
        Ok(p)
    }

    pub fn versions(&self) -> (String, String) {
        (self.numpy.clone(), self.python.clone())
    }

    fn request(&mut self, req: Value) -> Result<Value> {
        writeln!(self.stdin, "{req}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the NumPy bench process exited");
        }
        let reply: Value =
            serde_json::from_str(&line).context("bad reply from NumPy bench process")?;
        if let Some(err) = reply.get("error") {
            bail!("NumPy bench process: {err}");
        }
        Ok(reply)
    }

    /// Writes the workload's inputs to files and has NumPy load them.
    pub fn load(&mut self, name: &str, w: &Workload, tmp: &Path) -> Result<()> {
        let mut inputs = Vec::new();
        for (k, input) in w.inputs.iter().enumerate() {
            let path = tmp.join(format!("{name}-{k}.bin"));
            std::fs::write(&path, input.bytes()).context("writing bench input")?;
            inputs.push(json!({
                "path": path.to_string_lossy(),
                "dtype": input.dtype.name(),
                "shape": input.shape,
            }));
        }
        let out = w
            .numpy_out
            .as_ref()
            .map(|(dtype, shape)| json!({"dtype": dtype.name(), "shape": shape}));
        self.request(json!({
            "cmd": "load", "name": name, "inputs": inputs, "expr": w.numpy_expr, "out": out,
        }))?;
        Ok(())
    }

    /// Times `iters` calls; nanoseconds per call.
    pub fn time(&mut self, name: &str, iters: usize) -> Result<Vec<f64>> {
        let reply = self.request(json!({"cmd": "time", "name": name, "iters": iters}))?;
        reply["ns"]
            .as_array()
            .ok_or_else(|| anyhow!("no timings in reply"))?
            .iter()
            .map(|v| v.as_f64().ok_or_else(|| anyhow!("bad timing")))
            .collect()
    }

    /// NumPy's result bytes (C order).
    pub fn result(&mut self, name: &str, path: &Path) -> Result<Vec<u8>> {
        self.request(json!({"cmd": "result", "name": name, "path": path.to_string_lossy()}))?;
        std::fs::read(path).context("reading NumPy's result")
    }
}

impl Drop for NumpyProcess {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"cmd": "quit"}));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
