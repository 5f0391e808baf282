//! `fnp bench`: fnp-core against NumPy on the same data, in the same run.
//!
//! NumPy runs in a persistent Python subprocess (`scripts/numpy_bench.py`)
//! with preallocated `out=` arrays, fnp-core runs in this process with
//! preallocated buffers, and the two are interleaved round by round so both
//! see the same machine state. The first round of each side is warm-up.
//! Each workload's result is also compared bit for bit with NumPy's.

pub mod device;
mod hugebuf;
mod numpy;
mod workloads;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

pub use workloads::{workloads, Workload};

/// `fnp bench` arguments.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the baseline JSON.
    #[arg(long, default_value = "artifacts/baselines/host.json")]
    pub out: PathBuf,
    /// Fail if a speedup got worse than in this earlier baseline by more than
    /// `--threshold`.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Allowed relative drop of a workload's speedup before `--compare` fails.
    #[arg(long, default_value_t = 0.25, value_parser = crate::cli::parse_threshold)]
    pub threshold: f64,
    /// Divide every size by 1000 and time few rounds (checks the harness).
    #[arg(long)]
    pub quick: bool,
    /// Only workloads whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Timed rounds per side (after one warm-up round).
    #[arg(long, default_value_t = 12, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub rounds: usize,
    /// Count device instructions per element on QEMU boards instead
    /// (writes `artifacts/baselines/<board>.json`).
    #[arg(long)]
    pub device: bool,
    /// Boards for `--device` (default: every QEMU board).
    #[arg(long = "board")]
    pub boards: Vec<String>,
    /// opt-level of the counted firmware build (`--device`); the default is
    /// what the firmware ships with.
    #[arg(long, default_value = "z")]
    pub opt_level: String,
}

/// Timing percentiles in nanoseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Percentiles {
    fn of(samples: &mut [f64]) -> Percentiles {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if samples.is_empty() {
                return f64::NAN;
            }
            let i = ((samples.len() - 1) as f64 * q).round() as usize;
            samples[i.min(samples.len() - 1)]
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
        }
    }
}

/// One workload's measurement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub name: String,
    pub elements: usize,
    pub numpy_ns: Percentiles,
    pub fnp_ns: Percentiles,
    /// NumPy's p50 / fnp's p50: above 1.0 fnp is faster.
    pub speedup: f64,
    /// fnp's output bytes equal NumPy's.
    pub bit_identical: bool,
    /// Largest ULP distance to NumPy's output (floats; 0 when identical).
    #[serde(default)]
    pub max_ulp: u64,
    /// Every element within the precision table's bound for the op.
    #[serde(default = "yes")]
    pub within_bound: bool,
    /// p50 of a plain copy of the output's bytes (the bandwidth limit).
    pub copy_ns: f64,
    /// For streaming ops: bytes moved per second as a fraction of that copy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy_fraction: Option<f64>,
}

/// The baseline file (`fnp.bench.v1`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub schema: String,
    pub quick: bool,
    pub rows: Vec<Row>,
    pub meta: Meta,
}

/// Where and with what the numbers were measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Meta {
    pub commit: String,
    pub rustc: String,
    pub numpy_version: String,
    pub python_version: String,
    pub cpu_model: String,
    pub unix_time: u64,
}

impl Meta {
    fn now(numpy_version: String, python_version: String) -> Meta {
        Meta {
            commit: command_line("git", &["rev-parse", "--short", "HEAD"]),
            rustc: command_line("rustc", &["--version"]),
            numpy_version,
            python_version,
            cpu_model: cpu_model(),
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }
}

/// `fnp bench --device`: instruction counts and firmware sizes per board.
fn run_device(args: &Args) -> Result<ExitCode> {
    let boards: Vec<&crate::device::qemu::Board> = if args.boards.is_empty() {
        crate::device::qemu::BOARDS.iter().collect()
    } else {
        args.boards
            .iter()
            .map(|b| crate::device::qemu::board(b))
            .collect::<Result<_>>()?
    };
    let repo = crate::device::qemu::firmware_dir().join("..");
    let work = repo.join("target/insn-count");
    let plugin = device::build_plugin(&repo, &work)?;
    let out_dir = args
        .out
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out_dir)?;
    let mut all_met = true;
    for board in boards {
        let elf = device::build_bench_firmware(board, &args.opt_level)?;
        let rows = device::count(
            board,
            &elf,
            &plugin,
            &work.join(format!("{}.log", board.name)),
        )?;
        let server = crate::device::qemu::build_firmware(board)?;
        let baseline = device::DeviceBaseline {
            schema: "fnp.device-bench.v1".into(),
            board: board.name.into(),
            triple: board.triple.into(),
            opt_level: args.opt_level.clone(),
            rows,
            firmware: device::firmware_size(&server)?,
            meta: Meta::now(String::new(), String::new()),
        };
        device::print(&baseline);
        all_met &= baseline
            .rows
            .iter()
            .all(|r| r.goal.is_none_or(|g| r.per_element <= g));
        let path = out_dir.join(format!("{}.json", board.name));
        crate::outdir::write_atomic(
            &path,
            (serde_json::to_string_pretty(&baseline)? + "\n").as_bytes(),
        )?;
        println!("  wrote {}", path.display());
    }
    if !all_met {
        println!("\nsome instruction-count goals are not met (goals are targets, not failures)");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: &Args) -> Result<ExitCode> {
    if args.device {
        return run_device(args);
    }
    let scale = if args.quick { 1000 } else { 1 };
    let rounds = if args.quick { 2 } else { args.rounds.max(2) };
    let iters = if args.quick { 3 } else { 10 };
    let mut list = workloads(scale)?;
    if let Some(f) = &args.filter {
        list.retain(|w| w.name.contains(f.as_str()));
    }
    if list.is_empty() {
        bail!("no workload matches the filter");
    }
    let tmp = tempdir()?;
    let mut py = numpy::NumpyProcess::start(&tmp)?;

    let bar = indicatif::ProgressBar::new(list.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut rows = Vec::new();
    for (i, w) in list.iter_mut().enumerate() {
        bar.set_message(w.name.clone());
        py.load(&format!("w{i}"), w, &tmp)?;
        let (mut np_ns, mut fnp_ns, mut copy_ns) = (Vec::new(), Vec::new(), Vec::new());
        let copy_src = hugebuf::HugeBuf::from_bytes(w.output_bytes());
        let mut copy_dst = hugebuf::HugeBuf::zeroed(copy_src.bytes().len());
        for round in 0..=rounds {
            let n = py.time(&format!("w{i}"), iters)?;
            let mut f = Vec::with_capacity(iters);
            for _ in 0..iters {
                let t0 = Instant::now();
                w.run()?;
                f.push(t0.elapsed().as_nanos() as f64);
            }
            let c = copy_samples(copy_src.bytes(), copy_dst.bytes_mut(), iters);
            if round > 0 {
                np_ns.extend(n);
                fnp_ns.extend(f);
                copy_ns.extend(c);
            }
        }
        let numpy_ns = Percentiles::of(&mut np_ns);
        let fnp_ns = Percentiles::of(&mut fnp_ns);
        let expected = py.result(&format!("w{i}"), &tmp.join("result.bin"))?;
        let bit_identical = w.output_bytes() == expected.as_slice();
        let (max_ulp, within_bound) = accuracy(w, &expected);
        let copy_ns = Percentiles::of(&mut copy_ns).p50;
        // Bytes moved per nanosecond, op over copy (a copy reads and writes
        // each byte once).
        let copy_fraction = w.streaming_bytes().map(|bytes| {
            (bytes as f64 / fnp_ns.p50) / ((2 * copy_src.bytes().len()) as f64 / copy_ns)
        });
        rows.push(Row {
            name: w.name.clone(),
            elements: w.elements,
            numpy_ns,
            fnp_ns,
            speedup: numpy_ns.p50 / fnp_ns.p50,
            bit_identical,
            max_ulp,
            within_bound,
            copy_ns,
            copy_fraction,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (numpy_version, python_version) = py.versions();
    let baseline = Baseline {
        schema: "fnp.bench.v1".into(),
        quick: args.quick,
        rows,
        meta: Meta::now(numpy_version, python_version),
    };
    drop(py);
    let _ = std::fs::remove_dir_all(&tmp);
    print_table(&baseline);
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&baseline)?;
    crate::outdir::write_atomic(&args.out, (json + "\n").as_bytes())?;
    println!("wrote {}", args.out.display());

    let mut ok = baseline.rows.iter().all(|r| r.within_bound);
    if !ok {
        println!("FAIL: some results are further from NumPy's than the precision table allows (see `bits` column)");
    }
    if let Some(old) = &args.compare {
        ok &= compare(&baseline, old, args.threshold)?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_table(b: &Baseline) {
    println!(
        "{:<28} {:>10} {:>12} {:>12} {:>8} {:>6} {:>7}",
        "workload", "elements", "numpy p50", "fnp p50", "speedup", "bits", "copy%"
    );
    for r in &b.rows {
        println!(
            "{:<28} {:>10} {:>10.1}µs {:>10.1}µs {:>7.2}× {:>6} {:>7}",
            r.name,
            r.elements,
            r.numpy_ns.p50 / 1e3,
            r.fnp_ns.p50 / 1e3,
            r.speedup,
            match (r.bit_identical, r.within_bound) {
                (true, _) => "same".to_string(),
                (false, true) => format!("{}ulp", r.max_ulp),
                (false, false) => "DIFF".to_string(),
            },
            r.copy_fraction
                .map(|f| format!("{:.0}%", f * 100.0))
                .unwrap_or_default()
        );
    }
    println!(
        "copy% = fnp's bytes moved per second as a share of a plain copy of the output's bytes; NumPy {} on {}",
        b.meta.numpy_version, b.meta.cpu_model
    );
}

fn yes() -> bool {
    true
}

/// The largest ULP distance between fnp's and NumPy's outputs, and whether
/// every element is within the precision table's bound for the op.
fn accuracy(w: &workloads::Workload, expected: &[u8]) -> (u64, bool) {
    let actual = w.output_bytes();
    let Some((dtype, _)) = &w.numpy_out else {
        return (0, actual == expected);
    };
    if actual.len() != expected.len() {
        return (u64::MAX, false);
    }
    let policy =
        fnp_core::op::policy(w.op_name(), *dtype).unwrap_or(fnp_core::precision::Policy::EXACT);
    let size = dtype.itemsize();
    let mut max = 0u64;
    let mut within = true;
    for (x, y) in expected.chunks_exact(size).zip(actual.chunks_exact(size)) {
        within &= policy.accepts_element(*dtype, x, y);
        let ulp = match *dtype {
            fnp_core::DType::Float32 => {
                let f = |b: &[u8]| b.try_into().map(f32::from_le_bytes).unwrap_or(f32::NAN);
                let (a, b) = (f(x), f(y));
                if a == b || (a.is_nan() && b.is_nan()) {
                    0
                } else {
                    u64::from(fnp_core::precision::ulp_diff_f32(a, b))
                }
            }
            fnp_core::DType::Float64 => {
                let f = |b: &[u8]| b.try_into().map(f64::from_le_bytes).unwrap_or(f64::NAN);
                let (a, b) = (f(x), f(y));
                if a == b || (a.is_nan() && b.is_nan()) {
                    0
                } else {
                    fnp_core::precision::ulp_diff_f64(a, b)
                }
            }
            _ => u64::from(x != y),
        };
        max = max.max(ulp);
    }
    (max, within)
}

/// Compares speedups with an older baseline; true when none regressed.
pub fn compare(new: &Baseline, old_path: &Path, threshold: f64) -> Result<bool> {
    let text = std::fs::read_to_string(old_path)
        .with_context(|| format!("reading baseline {}", old_path.display()))?;
    let old: Baseline = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an fnp.bench.v1 baseline", old_path.display()))?;
    if old.schema != "fnp.bench.v1" {
        bail!(
            "{}: schema is {:?}, expected fnp.bench.v1",
            old_path.display(),
            old.schema
        );
    }
    let mut ok = true;
    println!(
        "\ncompared with {} (threshold {:.0}%)",
        old_path.display(),
        threshold * 100.0
    );
    for r in &new.rows {
        let Some(o) = old.rows.iter().find(|o| o.name == r.name) else {
            println!("  {:<28} new workload", r.name);
            continue;
        };
        let floor = o.speedup * (1.0 - threshold);
        let verdict = if r.speedup < floor {
            ok = false;
            "REGRESSED"
        } else {
            "ok"
        };
        println!(
            "  {:<28} {:>6.2}× → {:>6.2}×  {verdict}",
            r.name, o.speedup, r.speedup
        );
    }
    Ok(ok)
}

/// `iters` timings of copying `src` into `dst`.
fn copy_samples(src: &[u8], dst: &mut [u8], iters: usize) -> Vec<f64> {
    (0..iters)
        .map(|_| {
            let t0 = Instant::now();
            dst.copy_from_slice(std::hint::black_box(src));
            std::hint::black_box(&mut *dst);
            t0.elapsed().as_nanos() as f64
        })
        .collect()
}

fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("fnp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline(speedups: &[(&str, f64)]) -> Baseline {
        let p = Percentiles {
            p50: 1.0,
            p95: 1.0,
            p99: 1.0,
        };
        Baseline {
            schema: "fnp.bench.v1".into(),
            quick: true,
            rows: speedups
                .iter()
                .map(|&(name, speedup)| Row {
                    name: name.into(),
                    elements: 1,
                    numpy_ns: p,
                    fnp_ns: p,
                    speedup,
                    bit_identical: true,
                    max_ulp: 0,
                    within_bound: true,
                    copy_ns: 1.0,
                    copy_fraction: None,
                })
                .collect(),
            meta: Meta {
                commit: String::new(),
                rustc: String::new(),
                numpy_version: String::new(),
                python_version: String::new(),
                cpu_model: String::new(),
                unix_time: 0,
            },
        }
    }

    #[test]
    fn percentiles_pick_ranks() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = Percentiles::of(&mut v);
        assert_eq!((p.p50, p.p95, p.p99), (51.0, 95.0, 99.0));
        assert!(Percentiles::of(&mut []).p50.is_nan());
    }

    #[test]
    fn compare_flags_regressions_beyond_threshold() {
        let dir = std::env::temp_dir().join(format!("fnp-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = dir.join("old.json");
        let text = serde_json::to_string(&baseline(&[("a", 2.0), ("b", 1.0)])).unwrap();
        std::fs::write(&old, text).unwrap();
        // 2.0 -> 1.6 is a 20% drop: within 25%.
        assert!(compare(&baseline(&[("a", 1.6), ("b", 1.0)]), &old, 0.25).unwrap());
        // 2.0 -> 1.4 is 30%: a regression.
        assert!(!compare(&baseline(&[("a", 1.4), ("b", 1.0)]), &old, 0.25).unwrap());
        // A new workload is not a regression.
        assert!(compare(&baseline(&[("c", 0.1)]), &old, 0.25).unwrap());
        std::fs::write(&old, "{}").unwrap();
        assert!(compare(&baseline(&[]), &old, 0.25).is_err());
        assert!(compare(&baseline(&[]), &dir.join("missing.json"), 0.25).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every workload runs on fnp at tiny sizes and writes its whole output.
    #[test]
    fn every_workload_runs_on_fnp() {
        for mut w in workloads(1000).unwrap() {
            w.run().unwrap_or_else(|e| panic!("{}: {e:#}", w.name));
            let (dtype, shape) = w.numpy_out.clone().unwrap();
            let n: usize = shape.iter().product();
            assert_eq!(w.output_bytes().len(), n * dtype.itemsize(), "{}", w.name);
        }
    }

    #[test]
    fn workloads_are_deterministic_and_sized() {
        let a = workloads(1000).unwrap();
        let b = workloads(1000).unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.name, y.name);
            for (i, j) in x.inputs.iter().zip(&y.inputs) {
                assert_eq!(i.bytes(), j.bytes());
            }
            assert!(x.elements > 0);
        }
    }
}
