//! `fnp run`: execute corpora on a target, compare with the oracles and
//! write the parity report (`fnp.report.v1`) plus a Markdown table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Map, Value};

use crate::compare::{self, Policy, Status};
use crate::corpus::{self, Corpus};
use crate::oracle::{self, Oracle};
use crate::target::{self, Target};

/// Arguments of `fnp run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target name: `host` (device targets: `qemu:<board>`).
    #[arg(long, default_value = "host")]
    pub target: String,
    /// Corpus file or directory (repeatable).
    #[arg(long, default_values_os_t = vec![PathBuf::from("fixtures/cases")])]
    pub cases: Vec<PathBuf>,
    /// Oracle file per `--cases` file, in the same order (repeatable);
    /// without it oracles are found by file name in `--oracles`.
    #[arg(long)]
    pub oracle: Vec<PathBuf>,
    /// Directory of oracles named after their corpus files.
    #[arg(long, default_value = "fixtures/oracles")]
    pub oracles: PathBuf,
    /// Directory for `<target>.json` and `<target>.md`.
    #[arg(long, default_value = "artifacts/reports")]
    pub out: PathBuf,
    /// Only run cases of these ops (repeatable).
    #[arg(long = "op")]
    pub ops: Vec<String>,
    /// Seconds one case may take before it is `timed_out` (over 0, at
    /// most a day).
    #[arg(long, default_value_t = 30.0, value_parser = crate::cli::parse_timeout)]
    pub timeout: f64,
    /// Emulator instances to spread the cases over (`qemu:` targets;
    /// 1 to 256).
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=crate::cli::MAX_JOBS))]
    pub jobs: usize,
    /// Run only the k-th of n deterministic slices (`k/n`), e.g. one per CI
    /// job; `fnp report merge` joins the slices' reports.
    #[arg(long, value_parser = crate::cli::parse_shard_arg)]
    pub shard: Option<String>,
    /// Also write the target's own answers as an oracle (fnp.oracle.v2,
    /// source `fnp:<target>`): FILE.json for one corpus, else a directory
    /// of one file per corpus. Pass it to another run's `--oracle` to diff
    /// two targets directly.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Raw frame fixtures (fnp.frames.v1; file or directory, repeatable)
    /// sent to the target's wire server after the cases: each must be
    /// refused with its reason and the target must keep serving. Skipped
    /// with `--op` (unless `--op frame`) and on shards other than the
    /// first; `--frames none` skips them.
    #[arg(long, default_values_os_t = vec![PathBuf::from("fixtures/frames")])]
    pub frames: Vec<PathBuf>,
    /// `strict`: NumPy's behaviour exactly. `hardened`: also refuse what
    /// is legal in NumPy but dangerous on a device (over 6 dimensions, over
    /// 2^20 elements, NaN cast to an integer by `dtype=`), reported as
    /// `unsupported` with reason `hardened: ...`.
    #[arg(long, default_value = "strict", value_parser = parse_mode)]
    pub mode: fnp_core::Mode,
    /// Allowlist for `--mode hardened`: a file of lines `<case id> <why>`
    /// (`#` starts a comment); those cases run strict, and the log and
    /// terminal say so with the reason.
    #[arg(long, value_name = "FILE")]
    pub allow: Option<PathBuf>,
}

fn parse_mode(s: &str) -> Result<fnp_core::Mode, String> {
    match s {
        "strict" => Ok(fnp_core::Mode::Strict),
        "hardened" => Ok(fnp_core::Mode::Hardened),
        _ => Err(format!("{s:?} is not a mode: strict or hardened")),
    }
}

/// Reads an `--allow` file: `<case id> <why>` per line; a line without a
/// reason is an error (an override must say why).
pub fn load_allowlist(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = crate::jsonread::read_text(path)?;
    let mut allow = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let (id, why) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if why.trim().is_empty() {
            anyhow::bail!(
                "{}:{}: allowlist entry {id:?} has no reason: write `<case id> <why>`",
                path.display(),
                n + 1
            );
        }
        if allow
            .insert(id.to_string(), why.trim().to_string())
            .is_some()
        {
            anyhow::bail!("{}:{}: {id:?} is listed twice", path.display(), n + 1);
        }
    }
    Ok(allow)
}

/// The frame fixtures a run sends: every `*.json` of the given files and
/// directories (`none`, or the default directory missing, is no frames).
fn load_frames(args: &RunArgs) -> anyhow::Result<Vec<(String, crate::frames::Frame)>> {
    let wanted = args.ops.is_empty() || args.ops.iter().any(|o| o == "frame");
    let first_shard = args
        .shard
        .as_deref()
        .is_none_or(|s| crate::device::parse_shard(s).is_ok_and(|(k, _)| k == 1));
    if !wanted || !first_shard {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for p in &args.frames {
        if p.as_os_str() == "none" || (p == Path::new("fixtures/frames") && !p.exists()) {
            continue;
        }
        if p.is_dir() {
            let mut in_dir: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("listing {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            in_dir.sort();
            files.extend(in_dir);
        } else {
            files.push(p.clone());
        }
    }
    let mut frames = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for frame in crate::frames::load(&f)? {
            frames.push((name.clone(), frame));
        }
    }
    Ok(frames)
}

/// Sends the frames to `target`, one row each.
fn run_frames(target: &mut dyn Target, frames: &[(String, crate::frames::Frame)]) -> Vec<Row> {
    use crate::frames::{passed, reason_name, FrameOutcome};
    if frames.is_empty() {
        return Vec::new();
    }
    let t0 = Instant::now();
    let list: Vec<crate::frames::Frame> = frames.iter().map(|(_, f)| f.clone()).collect();
    let outcomes = target.run_frames(&list);
    let each = t0.elapsed() / u32::try_from(frames.len()).unwrap_or(u32::MAX).max(1);
    frames
        .iter()
        .zip(outcomes)
        .map(|((corpus, f), outcome)| {
            let expected = f.reason.name().to_string();
            let status = match &outcome {
                o if passed(f, o) => Status::Pass,
                FrameOutcome::Refused { reason, detail } => Status::ErrorMismatch {
                    expected,
                    actual: format!("{} (detail {detail})", reason_name(*reason)),
                },
                FrameOutcome::Answered(what) => Status::ErrorMismatch {
                    expected,
                    actual: format!("answered with {what}"),
                },
                FrameOutcome::Crashed { detail } => Status::Crashed(detail.clone()),
                FrameOutcome::TimedOut => Status::TimedOut,
                FrameOutcome::Unsupported { reason } => Status::Unsupported(reason.clone()),
            };
            let answer = match &outcome {
                FrameOutcome::Refused { reason, detail } => crate::case::CaseOutcome::Error {
                    exception: reason_name(*reason),
                    message: format!("refused, detail {detail}"),
                },
                other => crate::case::CaseOutcome::Unsupported {
                    reason: format!("{other:?}"),
                },
            };
            Row {
                id: f.id.clone(),
                corpus: corpus.clone(),
                op: "frame".into(),
                dtype: "-".into(),
                status,
                ulp: None,
                answer,
                duration: each,
                mode: fnp_core::Mode::Strict,
                allowed: None,
            }
        })
        .collect()
}

/// Which cases a run takes: ops and a deterministic slice.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Only these ops (all if empty).
    pub ops: Vec<String>,
    /// `(k, n)`: every n-th selected case starting at the (k-1)-th.
    pub shard: Option<(usize, usize)>,
    /// Emulator instances for `qemu:` targets.
    pub jobs: usize,
    /// The mode cases run in.
    pub mode: fnp_core::Mode,
    /// Case ids that run strict in a hardened run, with the reason given
    /// for each (`--allow`).
    pub allow: BTreeMap<String, String>,
    /// Keep each answer's result bytes in its [`Row`] (for `--answers`);
    /// otherwise they are dropped once compared, so a run holds one
    /// case's data at a time.
    pub keep_answers: bool,
}

/// One compared case.
#[derive(Clone, Debug)]
pub struct Row {
    /// Case id.
    pub id: String,
    /// Corpus file name.
    pub corpus: String,
    /// Op name.
    pub op: String,
    /// Input dtype the summary groups by.
    pub dtype: String,
    /// Result.
    pub status: Status,
    /// Largest ULP distance to NumPy over the elements, for float answers
    /// of NumPy's dtype and shape.
    pub ulp: Option<(fnp_core::DType, u64)>,
    /// What the target answered.
    pub answer: crate::case::CaseOutcome,
    /// Wall time of the case on the target (the round trip for devices).
    pub duration: std::time::Duration,
    /// The mode the case ran in.
    pub mode: fnp_core::Mode,
    /// Why an allowlist entry ran this case strict in a hardened run.
    pub allowed: Option<String>,
}

impl Row {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("corpus".into(), json!(self.corpus));
        m.insert("op".into(), json!(self.op));
        m.insert("dtype".into(), json!(self.dtype));
        m.insert("status".into(), json!(self.status.name()));
        match &self.status {
            Status::Pass | Status::TimedOut => {}
            Status::Fail {
                what,
                index,
                expected,
                actual,
                ulp,
                max_ulp,
            } => {
                m.insert("reason".into(), json!(what));
                if let Some(i) = index {
                    m.insert("index".into(), json!(i));
                }
                m.insert("expected".into(), expected.clone());
                m.insert("actual".into(), actual.clone());
                if ulp.is_some() || max_ulp.is_some() {
                    m.insert("ulp".into(), json!(ulp));
                    m.insert("max_ulp".into(), json!(max_ulp));
                }
            }
            Status::ErrorMismatch { expected, actual } => {
                m.insert("expected".into(), json!(expected));
                m.insert("actual".into(), json!(actual));
            }
            Status::Crashed(r) | Status::Unsupported(r) => {
                m.insert("reason".into(), json!(r));
            }
        }
        Value::Object(m)
    }
}

/// Pairs every corpus with its oracle (explicit `--oracle`s in order, or
/// by file name in `oracles_dir`) and checks each pair belongs together.
pub fn load_pairs(
    cases: &[PathBuf],
    oracles: &[PathBuf],
    oracles_dir: &Path,
) -> anyhow::Result<Vec<(Corpus, Oracle)>> {
    let files = crate::capture::expand_case_paths(cases)?;
    if !oracles.is_empty() && oracles.len() != files.len() {
        anyhow::bail!(
            "{} --oracle files for {} corpus files: give one per corpus, in order, or none",
            oracles.len(),
            files.len()
        );
    }
    let mut pairs = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let corpus = corpus::load(file)?;
        let path = oracles
            .get(i)
            .cloned()
            .unwrap_or_else(|| oracle::path_for(file, oracles_dir));
        let oracle = oracle::load_for(&corpus, &path)?;
        pairs.push((corpus, oracle));
    }
    Ok(pairs)
}

/// Runs the selected cases of `pairs` on `target` (over `jobs` emulators
/// when the target is a QEMU board and `jobs` > 1).
pub fn run_pairs(
    target: &mut dyn Target,
    pairs: &[(Corpus, Oracle)],
    selection: &Selection,
    policy: &Policy,
    timeout: std::time::Duration,
) -> anyhow::Result<Vec<Row>> {
    let by_op = |op: &str| selection.ops.is_empty() || selection.ops.iter().any(|o| o == op);
    // (corpus name, case, oracle answer) in corpus order; the shard is a
    // slice of this list, so it is the same on every machine.
    let mut chosen = Vec::new();
    for (corpus, oracle) in pairs {
        let name = corpus
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for case in corpus.cases.iter().filter(|c| by_op(c.op.name())) {
            let mut case = case.clone();
            case.params.mode = match selection.allow.contains_key(&case.id) {
                true => fnp_core::Mode::Strict,
                false => selection.mode,
            };
            let expected = oracle.results.get(&case.id);
            chosen.push((name.clone(), case, expected));
        }
    }
    if let Some((k, n)) = selection.shard {
        chosen = chosen
            .into_iter()
            .enumerate()
            .filter(|(i, _)| crate::device::in_shard(*i, k, n))
            .map(|(_, c)| c)
            .collect();
    }
    let bar = indicatif::ProgressBar::new(chosen.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("run {bar:40} {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let board = target.name().strip_prefix("qemu:").map(str::to_string);
    let row = |(name, case, expected): &(String, crate::case::Case, Option<&compare::Expected>),
               outcome: crate::case::CaseOutcome,
               duration: std::time::Duration| {
        let mut answer = outcome;
        let status = match expected {
            None => Status::Unsupported("no oracle answer".into()),
            Some(expected) => compare::compare(case.op.op(), expected, &answer, policy),
        };
        let ulp = expected.and_then(|e| crate::precision::max_ulp(e, &answer));
        if !selection.keep_answers {
            if let crate::case::CaseOutcome::Ok { bytes, .. } = &mut answer {
                *bytes = Vec::new();
            }
        }
        Row {
            id: case.id.clone(),
            corpus: name.clone(),
            op: case.op.name().to_string(),
            dtype: crate::exec::input_dtype(case),
            status,
            ulp,
            answer,
            duration,
            mode: case.params.mode,
            allowed: selection.allow.get(&case.id).cloned(),
        }
    };
    let rows = match board {
        Some(board) if selection.jobs > 1 => {
            bar.set_message(format!("{} emulators", selection.jobs));
            let cases: Vec<crate::case::Case> = chosen.iter().map(|(_, c, _)| c.clone()).collect();
            // Which cases a worker finished: after an interrupt the
            // workers stop taking cases, and only these are reported.
            let finished: Vec<std::sync::atomic::AtomicBool> = (0..cases.len())
                .map(|_| std::sync::atomic::AtomicBool::new(false))
                .collect();
            let outcomes = crate::device::qemu::run_jobs_timed(
                &board,
                &cases,
                selection.jobs,
                timeout,
                &|i, stop| {
                    if let Some(f) = finished.get(i) {
                        f.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    bar.inc(1);
                    if let Some(why) = stop {
                        bar.suspend(|| eprintln!("error: qemu:{board}: {why}"));
                    }
                },
            )?;
            chosen
                .iter()
                .zip(outcomes)
                .zip(&finished)
                .filter(|(_, f)| f.load(std::sync::atomic::Ordering::SeqCst))
                .map(|((c, (outcome, duration)), _)| row(c, outcome, duration))
                .collect()
        }
        _ => {
            let limits = target.limits();
            // One case at a time: its `generate` inputs are built by the
            // target and dropped with its result bytes once compared.
            let mut rows = Vec::with_capacity(chosen.len());
            for c in &chosen {
                if crate::outdir::interrupted().is_some() {
                    break;
                }
                bar.set_message(c.0.clone());
                let t0 = std::time::Instant::now();
                let outcome = match limits.refuse(&c.1) {
                    Some(reason) => crate::case::CaseOutcome::Unsupported { reason },
                    None => target.run_case(&c.1),
                };
                let took = t0.elapsed();
                bar.inc(1);
                if let Some(why) = target.stop_notice() {
                    bar.suspend(|| eprintln!("error: {}: {why}", target.name()));
                }
                rows.push(row(c, outcome, took));
            }
            rows
        }
    };
    bar.finish_and_clear();
    Ok(rows)
}

/// The precision measurements of a run's rows.
pub fn measured(rows: &[Row]) -> crate::precision::Measured {
    let mut m = crate::precision::Measured::default();
    for r in rows {
        if let Some((dtype, ulp)) = r.ulp {
            m.add(&r.op, dtype, ulp);
        }
    }
    m
}

/// The target's own answers in fnp.oracle.v2 form, one document per
/// corpus (only the cases that ran), `source` naming the target.
pub fn answers_json(
    target: &str,
    pairs: &[(Corpus, Oracle)],
    rows: &[Row],
) -> Vec<(String, Value)> {
    pairs
        .iter()
        .map(|(corpus, _)| {
            let name = corpus
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let results: Vec<Value> = rows
                .iter()
                .filter(|r| r.corpus == name)
                .map(|r| match &r.answer {
                    crate::case::CaseOutcome::Ok {
                        dtype,
                        shape,
                        bytes,
                        flags,
                        more,
                    } => crate::oracle::ok_json(&r.id, shape, (*dtype, bytes), more, *flags),
                    crate::case::CaseOutcome::Error { exception, .. } => {
                        json!({"id": r.id, "status": "error", "error": exception})
                    }
                    crate::case::CaseOutcome::Crashed { detail } => {
                        json!({"id": r.id, "status": "unsupported", "reason": format!("crashed: {detail}")})
                    }
                    crate::case::CaseOutcome::TimedOut => {
                        json!({"id": r.id, "status": "unsupported", "reason": "timed out"})
                    }
                    crate::case::CaseOutcome::Unsupported { reason } => {
                        json!({"id": r.id, "status": "unsupported", "reason": reason})
                    }
                })
                .collect();
            let doc = json!({
                "schema": "fnp.oracle.v2",
                "corpus": name,
                "corpus_sha256": corpus.sha256,
                "source": format!("fnp:{target}"),
                "numpy_version": null,
                "python_version": "n/a",
                "results": results,
            });
            (name, doc)
        })
        .collect()
}

/// Writes `answers_json` to `path`: the file itself for one corpus, else
/// a directory with one file per corpus, named after it.
pub fn write_answers(path: &Path, docs: &[(String, Value)]) -> anyhow::Result<Vec<PathBuf>> {
    let single = docs.len() == 1 && path.extension().is_some_and(|x| x == "json");
    if !single {
        std::fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    } else if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut written = Vec::new();
    for (name, doc) in docs {
        let file = if single {
            path.to_path_buf()
        } else {
            path.join(name)
        };
        crate::schema::validate(crate::schema::Kind::Oracle, &file, doc)?;
        let Value::Object(top) = doc else {
            anyhow::bail!("internal: answers are not an object");
        };
        crate::outdir::write_atomic(&file, corpus::write_lines(top, "results").as_bytes())?;
        written.push(file);
    }
    Ok(written)
}

const STATUSES: [&str; 6] = [
    "pass",
    "fail",
    "error_mismatch",
    "crashed",
    "timed_out",
    "unsupported",
];

/// Counts per status (all six keys present) plus `total`.
pub fn totals(rows: &[Row]) -> BTreeMap<String, usize> {
    let mut t: BTreeMap<String, usize> = STATUSES.iter().map(|s| (s.to_string(), 0)).collect();
    for r in rows {
        *t.entry(r.status.name().to_string()).or_insert(0) += 1;
    }
    t.insert("total".into(), rows.len());
    t
}

/// The report document (without `meta`, which the caller adds).
pub fn report_json(
    target: &dyn Target,
    pairs: &[(Corpus, Oracle)],
    rows: &[Row],
    policy: &Policy,
) -> Value {
    let oracles: Vec<Value> = pairs
        .iter()
        .map(|(c, o)| {
            json!({
                "corpus": c.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                "corpus_sha256": c.sha256,
                "numpy_version": o.numpy_version,
                "python_version": o.python_version,
                "source": o.source,
            })
        })
        .collect();
    let mut environment = Map::new();
    environment.insert("fnp_commit".into(), json!(crate::env::fnp_commit()));
    environment.insert("rustc".into(), json!(crate::env::rustc_version()));
    environment.insert("target".into(), json!(target.name()));
    environment.insert("oracles".into(), Value::Array(oracles));
    for (k, v) in target.fingerprint() {
        environment.insert(k, json!(v));
    }
    json!({
        "schema": "fnp.report.v1",
        "target": target.name(),
        "totals": totals(rows),
        "policy": policy.to_json(),
        "precision": crate::precision::table_json(&measured(rows)),
        "environment": environment,
        "cases": rows.iter().map(Row::to_json).collect::<Vec<_>>(),
    })
}

/// Op order for tables: wire-code order (binary ops, reductions, unary
/// ops), then anything else.
fn op_order(rows: &[Row]) -> Vec<String> {
    let known: Vec<String> = fnp_core::Op::all().map(|o| o.name().to_string()).collect();
    let mut seen: Vec<String> = known
        .into_iter()
        .filter(|o| rows.iter().any(|r| r.op == *o))
        .collect();
    let mut rest: Vec<String> = rows
        .iter()
        .map(|r| r.op.clone())
        .filter(|o| !seen.contains(o))
        .collect();
    rest.sort();
    rest.dedup();
    seen.extend(rest);
    seen
}

/// pass/total per op × input dtype, as text rows (first row is the header).
pub fn summary_table(rows: &[Row]) -> Vec<Vec<String>> {
    let dtypes: Vec<&str> = fnp_core::DType::ALL.iter().map(|d| d.name()).collect();
    let mut cells: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for r in rows {
        let c = cells.entry((r.op.clone(), r.dtype.clone())).or_default();
        c.1 += 1;
        if matches!(r.status, Status::Pass) {
            c.0 += 1;
        }
    }
    let mut table = vec![std::iter::once("op".to_string())
        .chain(dtypes.iter().map(|d| d.to_string()))
        .chain([
            "pass".to_string(),
            "total".to_string(),
            "unsupported".to_string(),
        ])
        .collect::<Vec<_>>()];
    for op in op_order(rows) {
        let mut line = vec![op.clone()];
        for d in &dtypes {
            line.push(match cells.get(&(op.clone(), d.to_string())) {
                Some((p, t)) => format!("{p}/{t}"),
                None => "·".into(),
            });
        }
        let of_op: Vec<&Row> = rows.iter().filter(|r| r.op == op).collect();
        let pass = of_op
            .iter()
            .filter(|r| matches!(r.status, Status::Pass))
            .count();
        let unsupported = of_op
            .iter()
            .filter(|r| matches!(r.status, Status::Unsupported(_)))
            .count();
        line.extend([
            pass.to_string(),
            of_op.len().to_string(),
            unsupported.to_string(),
        ]);
        table.push(line);
    }
    table
}

fn render_text(table: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..table.first().map_or(0, Vec::len))
        .map(|c| {
            table
                .iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in table {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (s, w))| {
                if i == 0 {
                    format!("{s:<w$}")
                } else {
                    format!("{s:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The Markdown report.
pub fn report_markdown(report: &Value, rows: &[Row]) -> String {
    let target = report.get("target").and_then(Value::as_str).unwrap_or("?");
    let mut md = format!("# fnp parity report: {target}\n\n");
    md.push_str("| status | cases |\n|---|---:|\n");
    if let Some(t) = report.get("totals").and_then(Value::as_object) {
        for s in STATUSES.iter().chain(["total"].iter()) {
            md.push_str(&format!(
                "| {s} | {} |\n",
                t.get(*s).cloned().unwrap_or(json!(0))
            ));
        }
    }
    if let Some(env) = report.get("environment").and_then(Value::as_object) {
        md.push_str("\nEnvironment: ");
        let parts: Vec<String> = env
            .iter()
            .filter(|(k, _)| *k != "oracles")
            .map(|(k, v)| {
                format!(
                    "{k} `{}`",
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                )
            })
            .collect();
        md.push_str(&parts.join(", "));
        md.push('\n');
    }
    md.push_str("\n## Pass/total per op and input dtype\n\n");
    let table = summary_table(rows);
    for (i, row) in table.iter().enumerate() {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
        if i == 0 {
            md.push_str(&format!("|{}\n", "---|".repeat(row.len())));
        }
    }
    let bad: Vec<&Row> = rows.iter().filter(|r| r.status.is_failure()).collect();
    if !bad.is_empty() {
        const SHOWN: usize = 300;
        md.push_str(&format!(
            "\n## Failures ({}; first {} shown, all in the JSON report)\n\n",
            bad.len(),
            bad.len().min(SHOWN)
        ));
        md.push_str("| case | status | detail |\n|---|---|---|\n");
        for r in bad.iter().take(SHOWN) {
            md.push_str(&format!(
                "| `{}` | {} | {} |\n",
                r.id,
                r.status.name(),
                detail(&r.status).replace('|', "\\|")
            ));
        }
    }
    md.push_str("\n## ULP distance to NumPy (measured / allowed)\n\n```text\n");
    md.push_str(&crate::precision::render(
        &measured(rows),
        crate::precision::Rows::Measured,
    ));
    md.push_str("```\n");
    md
}

/// A status for people: what differed, or why.
pub fn detail(s: &Status) -> String {
    match s {
        Status::Fail {
            what,
            index,
            expected,
            actual,
            ulp,
            ..
        } => {
            let at = index.map(|i| format!(" at [{i}]")).unwrap_or_default();
            let u = ulp.map(|u| format!(" ({u} ULP)")).unwrap_or_default();
            format!("{what}{at}: expected {expected}, got {actual}{u}")
        }
        Status::ErrorMismatch { expected, actual } => format!("expected {expected}, got {actual}"),
        Status::Crashed(r) | Status::Unsupported(r) => r.clone(),
        Status::Pass | Status::TimedOut => String::new(),
    }
}

/// The file stem for a target's report (`qemu:lm3s6965evb` → `qemu-lm3s6965evb`).
pub fn report_stem(target: &str) -> String {
    target.replace([':', '/', '\\'], "-")
}

/// Writes `<out>/<target>.json` and `.md`; returns the JSON path.
pub fn write_report(
    out: &Path,
    report: &Value,
    rows: &[Row],
    meta: Value,
    shard: Option<(usize, usize)>,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let target = report
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let stem = match shard {
        // Each slice gets its own file; `fnp report merge` joins them.
        Some((k, n)) => format!("{}.shard-{k}-of-{n}", report_stem(target)),
        None => report_stem(target),
    };
    let Value::Object(mut top) = report.clone() else {
        anyhow::bail!("internal: report is not an object");
    };
    top.insert("meta".into(), meta);
    if let Some((k, n)) = shard {
        top.insert("shard".into(), json!({"k": k, "n": n}));
    }
    let json_path = out.join(format!("{stem}.json"));
    crate::schema::validate(
        crate::schema::Kind::Report,
        &json_path,
        &Value::Object(top.clone()),
    )?;
    crate::outdir::write_atomic(&json_path, corpus::write_lines(&top, "cases").as_bytes())?;
    let md_path = out.join(format!("{stem}.md"));
    crate::outdir::write_atomic(&md_path, report_markdown(report, rows).as_bytes())?;
    Ok(json_path)
}

/// `fnp run`.
pub fn main(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let timeout = std::time::Duration::try_from_secs_f64(args.timeout)
        .map_err(|e| anyhow::anyhow!("--timeout {}: {e}", args.timeout))?;
    // Before anything runs: the output directory is ours and writable
    // (else a finished run would lose its results at the end).
    let stem = match args.shard.as_deref().map(crate::device::parse_shard) {
        Some(Ok((k, n))) => format!("{}.shard-{k}-of-{n}", report_stem(&args.target)),
        _ => report_stem(&args.target),
    };
    let out = crate::outdir::OutDir::claim(&args.out, &stem)?;
    if let Some(answers) = &args.answers {
        let dir = match answers.extension().is_some_and(|x| x == "json") {
            true => answers
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
            false => answers.as_path(),
        };
        crate::outdir::check_writable(dir).context("--answers")?;
    }
    // SIGINT/SIGTERM: stop starting cases, report what finished.
    crate::outdir::on_interrupt()?;
    let mut target = target::resolve_with(&args.target, &target::Options { timeout })?;
    let pairs = load_pairs(&args.cases, &args.oracle, &args.oracles)?;
    let policy = Policy::builtin();
    let shard = args
        .shard
        .as_deref()
        .map(crate::device::parse_shard)
        .transpose()?;
    let allow = match &args.allow {
        Some(p) if args.mode == fnp_core::Mode::Hardened => load_allowlist(p)?,
        Some(p) => anyhow::bail!(
            "--allow {} only applies to --mode hardened (a strict run refuses nothing)",
            p.display()
        ),
        None => BTreeMap::new(),
    };
    let selection = Selection {
        ops: args.ops.clone(),
        shard,
        jobs: args.jobs,
        mode: args.mode,
        allow,
        keep_answers: args.answers.is_some(),
    };
    let frames = load_frames(args)?;
    let mut rows = run_pairs(target.as_mut(), &pairs, &selection, &policy, timeout)?;
    if crate::outdir::interrupted().is_none() {
        rows.extend(run_frames(target.as_mut(), &frames));
    }
    let interrupted = crate::outdir::interrupted();
    let mut report = report_json(target.as_ref(), &pairs, &rows, &policy);
    if let Some(env) = report.get_mut("environment").and_then(Value::as_object_mut) {
        env.insert("mode".into(), json!(args.mode.name()));
    }
    let meta = json!({
        "finished_unix": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
        "duration_ms": started.elapsed().as_millis() as u64,
        // A partial report: the run was stopped by a signal.
        "interrupted": interrupted.is_some(),
    });
    let path = write_report(out.path(), &report, &rows, meta, shard)?;
    let log = crate::runlog::write(
        &path.with_extension("log.jsonl"),
        &rows,
        &pairs,
        &crate::runlog::Context {
            target: &target.name(),
            environment: &report["environment"],
            report: &path,
        },
    )?;
    print!("{}", render_text(&summary_table(&rows)));
    let measured = measured(&rows);
    let table = crate::precision::render(&measured, crate::precision::Rows::Measured);
    if table.lines().count() > 2 {
        println!("\nULP distance to NumPy, measured / allowed (ops this run measured; `fnp precision` for the table):");
        print!("{table}");
    }
    let t = totals(&rows);
    let line: Vec<String> = STATUSES
        .iter()
        .map(|s| format!("{s} {}", t.get(*s).copied().unwrap_or(0)))
        .collect();
    let bad: Vec<&Row> = rows.iter().filter(|r| r.status.is_failure()).collect();
    if !bad.is_empty() {
        println!(
            "\nfirst failures ({} in all, every one in the report):",
            bad.len()
        );
        for r in bad.iter().take(10) {
            println!(
                "  {:<40} {:<15} {}",
                r.id,
                r.status.name(),
                detail(&r.status)
            );
        }
    }
    let overridden: Vec<&Row> = rows.iter().filter(|r| r.allowed.is_some()).collect();
    if !overridden.is_empty() {
        println!(
            "\n{} cases ran strict by the --allow list (also in the log):",
            overridden.len()
        );
        for r in overridden.iter().take(10) {
            println!(
                "  {:<40} {}",
                r.id,
                r.allowed.as_deref().unwrap_or_default()
            );
        }
    }
    for id in selection.allow.keys() {
        if !rows.iter().any(|r| &r.id == id) {
            eprintln!("warning: --allow entry {id:?} matched no case of this run");
        }
    }
    println!(
        "\n{} cases ({} mode): {}",
        rows.len(),
        args.mode.name(),
        line.join(", ")
    );
    println!("report: {} (+ .md)", path.display());
    println!("log:    {}", log.display());
    if let Some(signo) = interrupted {
        eprintln!(
            "interrupted: {} cases finished before the signal; the report is partial \
             (meta.interrupted){}",
            rows.len(),
            if args.answers.is_some() {
                "; --answers not written"
            } else {
                ""
            }
        );
        return Ok(ExitCode::from(u8::try_from(128 + signo).unwrap_or(130)));
    }
    if let Some(answers) = &args.answers {
        let docs = answers_json(&target.name(), &pairs, &rows);
        for file in write_answers(answers, &docs)? {
            println!("answers: {}", file.display());
        }
    }
    if let Some(signo) = crate::outdir::interrupted() {
        // Every case had finished: the report is whole, but the caller
        // still learns the run was signalled.
        eprintln!("interrupted after the last case: the report is complete");
        return Ok(ExitCode::from(u8::try_from(128 + signo).unwrap_or(130)));
    }
    let failed = rows.iter().any(|r| r.status.is_failure());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
