//! `fnp bundle bench`: create/scrub/repair throughput next to par2 on the
//! same files in the same run. A ratio within one run is what we judge;
//! absolute MB/s move with the machine's load.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, ensure, Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{
    create_with, repair, scrub, CreateOptions, Overhead, SplitMix64, FILES_DIR, SIDECAR_FILE,
};

/// Bench settings.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Payload sizes in MiB.
    pub sizes_mib: Vec<u64>,
    pub overhead: Overhead,
    /// Scratch directory (created, then removed).
    pub work: PathBuf,
    /// par2 binary; skipped with a message when absent.
    pub par2: PathBuf,
    /// Timed repetitions per fnp measurement (the best is kept).
    pub repeat: u32,
    /// Bytes flipped, spread evenly, before each repair.
    pub damage_spots: u64,
    /// Target source symbols per block.
    pub block_symbols: u64,
    /// Run par2 (skipped anyway when the binary is absent).
    pub with_par2: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            sizes_mib: vec![1, 16, 64],
            overhead: Overhead::default(),
            work: std::env::temp_dir().join(format!("fnp-bundle-bench-{}", std::process::id())),
            par2: PathBuf::from("/usr/bin/par2"),
            repeat: 5,
            damage_spots: 100,
            block_symbols: super::BLOCK_SYMBOLS,
            with_par2: true,
        }
    }
}

/// Throughput of one operation, best over the rounds. Wall time is what a
/// user waits; CPU time (all threads, or the par2 child) is what the work
/// costs and is far less disturbed by other processes on a shared machine.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Throughput {
    pub cpu_mb_per_s: Option<f64>,
    pub wall_mb_per_s: f64,
}

/// Ratios the goals are stated in, each by wall and by CPU time.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ratio {
    pub cpu: Option<f64>,
    pub wall: f64,
}

/// One payload size.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub create: Throughput,
    /// fnp create ÷ par2 create at the same overhead (goal ≥ 20).
    pub create_speedup_vs_par2: Option<Ratio>,
    pub damage_spots: u64,
    pub files: u64,
    pub par2_create: Option<Throughput>,
    pub par2_repair: Option<Throughput>,
    pub payload_bytes: u64,
    pub repair: Throughput,
    /// Create time ÷ repair time (goal: repair within 2× of create, ≥ 0.5).
    pub repair_vs_create: Ratio,
    pub scrub: Throughput,
    /// One SHA-256 pass's time over the bytes scrub reads (files + sidecar)
    /// ÷ scrub time (goal ≥ 0.8).
    pub scrub_vs_sha256_of_bundle: Ratio,
    /// The same against a SHA-256 pass over the payload alone.
    pub scrub_vs_sha256_of_payload: Ratio,
    pub sha256_bundle: Throughput,
    pub sha256_payload: Throughput,
    pub sidecar_bytes: u64,
    pub size_mib: u64,
}

/// `fnp.bundle.bench.v1`; `meta` holds what varies between runs.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub meta: BenchMeta,
    pub overhead_percent: f64,
    pub par2_note: String,
    pub rows: Vec<BenchRow>,
    pub schema: &'static str,
    pub units: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchMeta {
    pub commit: Option<String>,
    pub cpu: Option<String>,
    pub fnp_version: &'static str,
    pub logical_cpus: usize,
    pub par2_version: Option<String>,
    pub repeat: u32,
}

fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    let v = bytes as f64 / 1e6 / seconds.max(1e-9);
    (v * 10.0).round() / 10.0
}

fn ratio(a: f64, b: f64) -> f64 {
    (a / b.max(1e-12) * 100.0).round() / 100.0
}

/// Wall and CPU seconds of one run; keeps the minimum of each.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: Option<f64>,
}

impl Timing {
    const NONE: Timing = Timing {
        wall: f64::MAX,
        cpu: None,
    };

    fn best(self, other: Timing) -> Timing {
        Timing {
            wall: self.wall.min(other.wall),
            cpu: match (self.cpu, other.cpu) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }

    fn throughput(self, bytes: u64) -> Throughput {
        Throughput {
            cpu_mb_per_s: self.cpu.map(|c| mb_per_s(bytes, c)),
            wall_mb_per_s: mb_per_s(bytes, self.wall),
        }
    }

    /// `self`'s time ÷ `other`'s time.
    fn over(self, other: Timing) -> Ratio {
        Ratio {
            cpu: self.cpu.zip(other.cpu).map(|(a, b)| ratio(a, b)),
            wall: ratio(self.wall, other.wall),
        }
    }
}

#[derive(Clone, Copy)]
enum Who {
    Me,
    Children,
}

/// CPU seconds (user + system) used so far by this process's threads, or
/// by its waited-for children.
#[cfg(unix)]
fn cpu_seconds(who: Who) -> Option<f64> {
    let target = match who {
        Who::Me => libc::RUSAGE_SELF,
        Who::Children => libc::RUSAGE_CHILDREN,
    };
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one rusage into the pointer it is given,
    // which points at a properly sized and aligned, zero-initialised value;
    // it is only read after getrusage reports success.
    let usage = unsafe {
        if libc::getrusage(target, usage.as_mut_ptr()) != 0 {
            return None;
        }
        usage.assume_init()
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(usage.ru_utime) + secs(usage.ru_stime))
}

#[cfg(not(unix))]
fn cpu_seconds(_: Who) -> Option<f64> {
    None
}

fn timed_as<T>(who: Who, run: impl FnOnce() -> Result<T>) -> Result<(Timing, T)> {
    let cpu0 = cpu_seconds(who);
    let start = Instant::now();
    let value = run()?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds(who).zip(cpu0).map(|(b, a)| b - a);
    Ok((Timing { wall, cpu }, value))
}

fn timed<T>(run: impl FnOnce() -> Result<T>) -> Result<(Timing, T)> {
    timed_as(Who::Me, run)
}

/// Writes deterministic incompressible files totalling `mib` MiB, split in
/// files of at most 4 MiB (bundles hold many files, par2 sets too).
fn make_inputs(dir: &Path, mib: u64) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut rng = SplitMix64::new(mib);
    let total = mib << 20;
    let per_file = 4u64 << 20;
    let mut paths = Vec::new();
    let mut done = 0;
    let mut i = 0;
    while done < total {
        let size = per_file.min(total - done);
        let mut bytes = Vec::with_capacity(size as usize);
        while (bytes.len() as u64) < size {
            bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        bytes.truncate(size as usize);
        let path = dir.join(format!("part{i:03}.bin"));
        fs::write(&path, &bytes)?;
        paths.push(path);
        done += size;
        i += 1;
    }
    Ok(paths)
}

/// Flips one byte at `spots` evenly spaced payload offsets across `files`.
fn damage(files: &[PathBuf], spots: u64) -> Result<()> {
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| fs::metadata(f).map(|m| m.len()))
        .collect::<std::io::Result<_>>()?;
    let total: u64 = sizes.iter().sum();
    if total == 0 {
        return Ok(());
    }
    for s in 0..spots {
        let mut offset = total / spots.max(1) * s + 517;
        for (f, &size) in files.iter().zip(&sizes) {
            if offset < size {
                let mut h = fs::OpenOptions::new().read(true).write(true).open(f)?;
                h.seek(SeekFrom::Start(offset))?;
                let mut b = [0u8; 1];
                h.read_exact(&mut b)?;
                h.seek(SeekFrom::Start(offset))?;
                h.write_all(&[b[0] ^ 0x5a])?;
                break;
            }
            offset -= size;
        }
    }
    Ok(())
}

fn sha256_files(paths: &[PathBuf]) -> Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    for p in paths {
        let mut f = File::open(p)?;
        let mut h = Sha256::new();
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            total += n as u64;
        }
        std::hint::black_box(h.finalize());
    }
    Ok(total)
}

fn run_par2(par2: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new(par2)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("cannot run {}", par2.display()))?;
    ensure!(status.success(), "par2 {args:?} failed: {status}");
    Ok(())
}

fn par2_version(par2: &Path) -> Option<String> {
    let out = Command::new(par2).arg("-V").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// par2 create and repair on copies of `inputs`; best of default threads
/// and `-t1` (which is often faster on 2 cores), one run each.
fn par2_row(
    par2: &Path,
    inputs: &[PathBuf],
    work: &Path,
    overhead: Overhead,
    spots: u64,
) -> Result<(Timing, Timing)> {
    let dir = work.join("par2");
    let redundancy = format!("-r{}", overhead.basis_points().div_ceil(100));
    let names: Vec<String> = inputs
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    let mut best_create = Timing::NONE;
    let mut best_repair = Timing::NONE;
    for threads in [None, Some("-t1")] {
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        for p in inputs {
            fs::copy(p, dir.join(p.file_name().context("name")?))?;
        }
        let mut args = vec!["create", "-q", "-q", redundancy.as_str()];
        args.extend(threads);
        args.push("set.par2");
        args.extend(names.iter().map(String::as_str));
        let (t, ()) = timed_as(Who::Children, || run_par2(par2, &dir, &args))?;
        best_create = best_create.best(t);

        let copies: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).collect();
        damage(&copies, spots)?;
        let mut args = vec!["repair", "-q", "-q"];
        args.extend(threads);
        args.push("set.par2");
        let (t, ()) = timed_as(Who::Children, || run_par2(par2, &dir, &args))?;
        best_repair = best_repair.best(t);
    }
    fs::remove_dir_all(&dir)?;
    Ok((best_create, best_repair))
}

/// Runs the benchmark; prints a table and returns the report.
pub fn bench(options: &BenchOptions) -> Result<BenchReport> {
    let work = &options.work;
    ensure!(
        !options.sizes_mib.is_empty() && options.sizes_mib.iter().all(|&m| (1..=4096).contains(&m)),
        "bench sizes must be 1..=4096 MiB"
    );
    if work.exists() {
        bail!("bench work directory {} already exists", work.display());
    }
    fs::create_dir_all(work)?;
    let result = bench_in(options);
    let _ = fs::remove_dir_all(work);
    result
}

fn bench_in(options: &BenchOptions) -> Result<BenchReport> {
    let work = &options.work;
    let have_par2 = options.with_par2 && options.par2.is_file();
    let par2_note = if have_par2 {
        format!(
            "{} create -r{} and repair, best of default threads and -t1",
            options.par2.display(),
            options.overhead.basis_points().div_ceil(100)
        )
    } else {
        let note = if options.with_par2 {
            format!(
                "par2 not found at {}; par2 columns skipped",
                options.par2.display()
            )
        } else {
            "par2 not run (--no-par2)".to_string()
        };
        eprintln!("{note}");
        note
    };
    let mut rows = Vec::new();
    for &mib in &options.sizes_mib {
        let data = work.join(format!("data-{mib}"));
        let inputs = make_inputs(&data, mib)?;
        let out = work.join(format!("bundle-{mib}"));
        let payload = mib << 20;

        let bundle_files: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|p| {
                Some(
                    out.join(FILES_DIR)
                        .join(data.file_name()?)
                        .join(p.file_name()?),
                )
            })
            .collect();
        let mut with_sidecar = bundle_files.clone();
        with_sidecar.push(out.join(SIDECAR_FILE));
        let settings = CreateOptions {
            overhead: options.overhead,
            block_symbols: options.block_symbols,
        };
        // Rounds interleave every measurement so a busy neighbour slows
        // all of them alike; the best of each is kept. Small payloads get
        // more rounds because their runs are short and jittery.
        let rounds = options.repeat.max((64 / mib.max(1)).min(30) as u32).max(1);
        let (mut create_t, mut scrub_t, mut repair_t) = (Timing::NONE, Timing::NONE, Timing::NONE);
        let (mut hash_bundle_t, mut hash_payload_t) = (Timing::NONE, Timing::NONE);
        let mut sidecar_bytes = 0;
        let mut hashed = 0;
        for _ in 0..rounds {
            if out.exists() {
                fs::remove_dir_all(&out)?;
            }
            let (t, summary) = timed(|| create_with(std::slice::from_ref(&data), &out, settings))?;
            create_t = create_t.best(t);
            sidecar_bytes = summary.sidecar_bytes;
            let (t, report) = timed(|| scrub(&out))?;
            ensure!(report.is_ok(), "bench bundle does not scrub clean");
            scrub_t = scrub_t.best(t);
            let (t, n) = timed(|| sha256_files(&with_sidecar))?;
            hash_bundle_t = hash_bundle_t.best(t);
            hashed = n;
            let (t, _) = timed(|| sha256_files(&bundle_files))?;
            hash_payload_t = hash_payload_t.best(t);
            damage(&bundle_files, options.damage_spots)?;
            let (t, fixed) = timed(|| repair(&out))?;
            repair_t = repair_t.best(t);
            ensure!(
                fixed.recovered_source_symbols > 0 && scrub(&out)?.is_ok(),
                "bench repair did not restore the bundle"
            );
        }

        let par2 = if have_par2 {
            Some(par2_row(
                &options.par2,
                &inputs,
                work,
                options.overhead,
                options.damage_spots,
            )?)
        } else {
            None
        };
        rows.push(BenchRow {
            create: create_t.throughput(payload),
            create_speedup_vs_par2: par2.map(|(c, _)| c.over(create_t)),
            damage_spots: options.damage_spots,
            files: inputs.len() as u64,
            par2_create: par2.map(|(c, _)| c.throughput(payload)),
            par2_repair: par2.map(|(_, r)| r.throughput(payload)),
            payload_bytes: payload,
            repair: repair_t.throughput(payload),
            repair_vs_create: create_t.over(repair_t),
            scrub: scrub_t.throughput(payload),
            scrub_vs_sha256_of_bundle: hash_bundle_t.over(scrub_t),
            scrub_vs_sha256_of_payload: hash_payload_t.over(scrub_t),
            sha256_bundle: hash_bundle_t.throughput(hashed),
            sha256_payload: hash_payload_t.throughput(payload),
            sidecar_bytes,
            size_mib: mib,
        });
        fs::remove_dir_all(&data)?;
        fs::remove_dir_all(&out)?;
    }
    let report = BenchReport {
        meta: BenchMeta {
            commit: git_commit(),
            cpu: cpu_model(),
            fnp_version: env!("CARGO_PKG_VERSION"),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            par2_version: if have_par2 {
                par2_version(&options.par2)
            } else {
                None
            },
            repeat: options.repeat,
        },
        overhead_percent: f64::from(options.overhead.basis_points()) / 100.0,
        par2_note,
        rows,
        schema: "fnp.bundle.bench.v1",
        units: "MB/s = 10^6 bytes of payload per second",
    };
    print_table(&report);
    Ok(report)
}

fn cell(t: Option<Throughput>) -> String {
    t.map_or_else(
        || "-".to_string(),
        |t| {
            let cpu = t
                .cpu_mb_per_s
                .map_or("-".to_string(), |c| format!("{c:.0}"));
            format!("{:.0}/{cpu}", t.wall_mb_per_s)
        },
    )
}

fn rcell(r: Option<Ratio>) -> String {
    r.map_or_else(
        || "-".to_string(),
        |r| {
            format!(
                "{:.2}/{}",
                r.wall,
                r.cpu.map_or("-".to_string(), |c| format!("{c:.2}"))
            )
        },
    )
}

/// The human-readable table: each cell is wall/CPU.
pub fn print_table(report: &BenchReport) {
    println!(
        "bundle bench, {}% overhead, MB/s of payload, each cell wall/cpu ({})",
        report.overhead_percent, report.par2_note
    );
    println!(
        "{:>4} {:>10} {:>10} {:>12} {:>10} {:>10} {:>11} {:>11} {:>11}",
        "MiB",
        "create",
        "par2 c",
        "c speedup",
        "repair",
        "par2 r",
        "scrub",
        "rep/create",
        "scrub/sha"
    );
    for r in &report.rows {
        println!(
            "{:>4} {:>10} {:>10} {:>12} {:>10} {:>10} {:>11} {:>11} {:>11}",
            r.size_mib,
            cell(Some(r.create)),
            cell(r.par2_create),
            rcell(r.create_speedup_vs_par2),
            cell(Some(r.repair)),
            cell(r.par2_repair),
            cell(Some(r.scrub)),
            rcell(Some(r.repair_vs_create)),
            rcell(Some(r.scrub_vs_sha256_of_bundle)),
        );
    }
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cpu_model() -> Option<String> {
    let text = fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}
