//! `fnp report merge`: one table over several targets' reports.
//!
//! Reads `fnp.report.v1` files (checked against the schema), and writes a
//! deterministic `summary.json` and `summary.md`: totals per target and
//! pass/total per op for each target, so a host-vs-device difference is one
//! glance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::{json, Value};

/// Arguments of `fnp report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files or directories of them (default: artifacts/reports).
    #[arg(default_values_os_t = vec![PathBuf::from("artifacts/reports")])]
    pub reports: Vec<PathBuf>,
    /// Directory for summary.json and summary.md.
    #[arg(long, default_value = "artifacts/reports")]
    pub out: PathBuf,
}

/// Per-target digest of one report.
#[derive(Clone, Debug, Default)]
pub struct TargetDigest {
    /// Totals by status.
    pub totals: BTreeMap<String, u64>,
    /// (pass, total) per op.
    pub ops: BTreeMap<String, (u64, u64)>,
    /// Largest ULP distances measured, per op and float dtype.
    pub precision: crate::precision::Measured,
}

fn report_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .filter(|f| f.file_name().is_some_and(|n| n != "summary.json"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        anyhow::bail!("no reports to merge");
    }
    Ok(out)
}

/// Reads and digests one report.
pub fn digest(path: &Path) -> anyhow::Result<(String, TargetDigest)> {
    digest_with_shard(path).map(|(t, _, d)| (t, d))
}

/// A report's `shard` field: (k, n).
pub type Shard = (u64, u64);

/// Reads and digests one report, with its `shard` (k, n) if it is a slice.
pub fn digest_with_shard(path: &Path) -> anyhow::Result<(String, Option<Shard>, TargetDigest)> {
    let bytes = crate::jsonread::read_file(path)?;
    let json = crate::jsonread::parse(path, &bytes)?;
    crate::schema::validate(crate::schema::Kind::Report, path, &json)?;
    if json.pointer("/meta/interrupted") == Some(&Value::Bool(true)) {
        anyhow::bail!(
            "{}: the report of an interrupted run (meta.interrupted): it lacks the cases \
             that did not run; run the target again",
            path.display()
        );
    }
    let target = json
        .get("target")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let shard = json
        .get("shard")
        .and_then(|s| Some((s.get("k")?.as_u64()?, s.get("n")?.as_u64()?)));
    let mut d = TargetDigest::default();
    if let Some(table) = json.get("precision") {
        d.precision = crate::precision::Measured::from_table(table);
    }
    if let Some(t) = json.get("totals").and_then(Value::as_object) {
        for (k, v) in t {
            d.totals.insert(k.clone(), v.as_u64().unwrap_or(0));
        }
    }
    for row in json
        .get("cases")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let op = row
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let entry = d.ops.entry(op).or_default();
        entry.1 += 1;
        if row.get("status").and_then(Value::as_str) == Some("pass") {
            entry.0 += 1;
        }
    }
    Ok((target, shard, d))
}

impl TargetDigest {
    /// Adds another slice's counts to this one.
    fn absorb(&mut self, other: TargetDigest) {
        for (k, v) in other.totals {
            *self.totals.entry(k).or_insert(0) += v;
        }
        for (op, (p, n)) in other.ops {
            let e = self.ops.entry(op).or_default();
            e.0 += p;
            e.1 += n;
        }
        self.precision.merge(&other.precision);
    }
}

/// The summary document and its Markdown.
pub fn summarize(digests: &BTreeMap<String, TargetDigest>) -> (Value, String) {
    let targets: Vec<&String> = digests.keys().collect();
    let mut ops: Vec<String> = digests
        .values()
        .flat_map(|d| d.ops.keys().cloned())
        .collect();
    ops.sort();
    ops.dedup();
    let per_target: serde_json::Map<String, Value> = digests
        .iter()
        .map(|(t, d)| {
            let ops: serde_json::Map<String, Value> = d
                .ops
                .iter()
                .map(|(op, (p, n))| (op.clone(), json!({"pass": p, "total": n})))
                .collect();
            (
                t.clone(),
                json!({"totals": d.totals, "ops": ops,
                       "precision": crate::precision::table_json(&d.precision)}),
            )
        })
        .collect();
    let doc = json!({"schema": "fnp.summary.v1", "targets": per_target});
    let mut md = String::from("# fnp parity summary\n\n| target | pass | fail | error_mismatch | crashed | timed_out | unsupported | total |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (t, d) in digests {
        let g = |k: &str| d.totals.get(k).copied().unwrap_or(0);
        md.push_str(&format!(
            "| {t} | {} | {} | {} | {} | {} | {} | {} |\n",
            g("pass"),
            g("fail"),
            g("error_mismatch"),
            g("crashed"),
            g("timed_out"),
            g("unsupported"),
            g("total")
        ));
    }
    md.push_str("\n## pass/total per op\n\n| op |");
    for t in &targets {
        md.push_str(&format!(" {t} |"));
    }
    md.push_str(&format!("\n|---|{}\n", "---:|".repeat(targets.len())));
    for op in &ops {
        md.push_str(&format!("| {op} |"));
        for t in &targets {
            match digests.get(*t).and_then(|d| d.ops.get(op)) {
                Some((p, n)) => md.push_str(&format!(" {p}/{n} |")),
                None => md.push_str(" · |"),
            }
        }
        md.push('\n');
    }
    let mut all = crate::precision::Measured::default();
    for d in digests.values() {
        all.merge(&d.precision);
    }
    md.push_str("\n## ULP distance to NumPy (largest over the targets / allowed)\n\n```text\n");
    md.push_str(&crate::precision::render(
        &all,
        crate::precision::Rows::Measured,
    ));
    md.push_str("```\n");
    (doc, md)
}

/// `fnp report merge`.
pub fn main(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let mut digests: BTreeMap<String, TargetDigest> = BTreeMap::new();
    // Slices seen per target: all of one target's reports must be distinct
    // slices k/n of the same n, and together cover 1..=n.
    let mut slices: BTreeMap<String, Vec<Option<Shard>>> = BTreeMap::new();
    for path in report_files(&args.reports)? {
        let (target, shard, d) = digest_with_shard(&path)?;
        let seen = slices.entry(target.clone()).or_default();
        let clash = seen.iter().any(|s| match (s, shard) {
            (Some((k1, n1)), Some((k2, n2))) => k1 == &k2 || n1 != &n2,
            _ => true,
        });
        if clash {
            anyhow::bail!(
                "two reports for target {target} that are not distinct slices of one run (the second is {})",
                path.display()
            );
        }
        seen.push(shard);
        digests.entry(target).or_default().absorb(d);
    }
    for (target, seen) in &slices {
        if let Some(Some((_, n))) = seen.first() {
            if seen.len() as u64 != *n {
                anyhow::bail!(
                    "target {target}: {} of {n} shard reports; run the missing slices first",
                    seen.len()
                );
            }
        }
    }
    let (doc, md) = summarize(&digests);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let json_path = args.out.join("summary.json");
    crate::outdir::write_atomic(
        &json_path,
        (serde_json::to_string_pretty(&doc)? + "\n").as_bytes(),
    )
    .with_context(|| format!("writing {}", json_path.display()))?;
    crate::outdir::write_atomic(&args.out.join("summary.md"), md.as_bytes())?;
    print!("{md}");
    Ok(ExitCode::SUCCESS)
}
