//! The precision table as a run measured it: for every ufunc and float
//! output dtype, the ULP distance fnp-core's policy allows
//! (`fnp_core::precision`) next to the largest distance seen between the
//! target's answer and NumPy's.
//!
//! A run puts the table into its report (`precision`); `fnp precision`
//! prints it, for one or more reports (the maximum over targets).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use fnp_core::precision::{self, Dtypes, Entry};
use fnp_core::{DType, FpFlags};
use serde_json::{json, Value};

use crate::case::CaseOutcome;
use crate::compare::Expected;

/// The largest ULP distance over the elements of one answer, for float
/// results NumPy and the target agree on the dtype and shape of. NaNs are
/// skipped (the comparator judges them) and equal numbers are 0 apart, so
/// `-0.0` against `+0.0` counts as exact here: where the sign of zero is
/// compared, the comparator fails the case anyway.
pub fn max_ulp(expected: &Expected, outcome: &CaseOutcome) -> Option<(DType, u64)> {
    let (
        Expected::Ok {
            dtype: ed,
            shape: es,
            bytes: eb,
            ..
        },
        CaseOutcome::Ok {
            dtype: ad,
            shape: as_,
            bytes: ab,
            ..
        },
    ) = (expected, outcome)
    else {
        return None;
    };
    if ed != ad || es != as_ || eb.len() != ab.len() || !ed.is_float() {
        return None;
    }
    let w = ed.itemsize();
    let mut max = 0u64;
    for (x, y) in eb.chunks_exact(w).zip(ab.chunks_exact(w)) {
        let d = match *ed {
            DType::Float32 => {
                let (x, y) = (f32_of(x), f32_of(y));
                if x.is_nan() || y.is_nan() || x == y {
                    continue;
                }
                u64::from(precision::ulp_diff_f32(x, y))
            }
            _ => {
                let (x, y) = (f64_of(x), f64_of(y));
                if x.is_nan() || y.is_nan() || x == y {
                    continue;
                }
                precision::ulp_diff_f64(x, y)
            }
        };
        max = max.max(d);
    }
    Some((*ed, max))
}

fn f32_of(b: &[u8]) -> f32 {
    b.try_into().map(f32::from_le_bytes).unwrap_or(f32::NAN)
}

fn f64_of(b: &[u8]) -> f64 {
    b.try_into().map(f64::from_le_bytes).unwrap_or(f64::NAN)
}

/// Largest ULP distance and number of compared cases per (op, dtype).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    seen: BTreeMap<(String, DType), (u64, usize)>,
}

impl Measured {
    /// Records one case's maximum.
    pub fn add(&mut self, op: &str, dtype: DType, ulp: u64) {
        let op = fnp_core::Op::from_name(op).map_or(op, |o| o.name());
        let e = self.seen.entry((op.to_string(), dtype)).or_insert((0, 0));
        e.0 = e.0.max(ulp);
        e.1 += 1;
    }

    /// The maximum and case count for `op` in `dtype`.
    pub fn get(&self, op: &str, dtype: DType) -> Option<(u64, usize)> {
        self.seen.get(&(op.to_string(), dtype)).copied()
    }

    /// Joins another run's measurements (maximum over both).
    pub fn merge(&mut self, other: &Measured) {
        for ((op, d), &(ulp, n)) in &other.seen {
            let e = self.seen.entry((op.clone(), *d)).or_insert((0, 0));
            e.0 = e.0.max(ulp);
            e.1 += n;
        }
    }

    /// Reads the `precision` table of a report back.
    pub fn from_table(table: &Value) -> Measured {
        let mut m = Measured::default();
        for row in table.as_array().into_iter().flatten() {
            let op = row.get("op").and_then(Value::as_str);
            let dtype = row
                .get("dtype")
                .and_then(Value::as_str)
                .and_then(DType::from_name);
            let ulp = row.get("measured_ulp").and_then(Value::as_u64);
            let cases = row.get("cases").and_then(Value::as_u64).unwrap_or(0);
            if let (Some(op), Some(dtype), Some(ulp)) = (op, dtype, ulp) {
                m.seen
                    .insert((op.to_string(), dtype), (ulp, cases as usize));
            }
        }
        m
    }
}

/// The float rows of the precision table: every ufunc entry for float32 or
/// float64 results.
fn float_entries() -> impl Iterator<Item = (Entry, DType)> {
    fnp_core::op::entries().filter_map(|e| match e.dtypes {
        Dtypes::Float32 => Some((e, DType::Float32)),
        Dtypes::Float64 => Some((e, DType::Float64)),
        _ => None,
    })
}

/// The table as JSON rows: op, dtype, allowed and measured ULP, compared
/// cases, lenient flags.
pub fn table_json(measured: &Measured) -> Value {
    let rows: Vec<Value> = float_entries()
        .map(|(e, d)| {
            let m = measured.get(e.op, d);
            json!({
                "op": e.op,
                "dtype": d.name(),
                "allowed_ulp": e.policy.ulp,
                "measured_ulp": m.map(|(u, _)| u),
                "cases": m.map_or(0, |(_, n)| n),
                "lenient_flags": e.policy.lenient_flags.names().collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(rows)
}

/// Entries whose measured maximum exceeds the allowed bound (a comparator
/// bug if any: such cases fail).
pub fn over_bound(measured: &Measured) -> Vec<String> {
    float_entries()
        .filter_map(|(e, d)| {
            let (u, _) = measured.get(e.op, d)?;
            (u > u64::from(e.policy.ulp)).then(|| format!("{} {d}: {u} > {}", e.op, e.policy.ulp))
        })
        .collect()
}

/// One cell of the rendered table: allowed ULP, measured maximum (if any
/// case ran), flags the comparator does not insist on.
type Cell = (u32, Option<u64>, FpFlags);

/// Which ops [`render`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Every op with a float result.
    All,
    /// Ops with a nonzero bound or a nonzero measured distance.
    Bounded,
    /// Of those, the ones a run measured (a run of a corpus without float
    /// ufunc cases lists none).
    Measured,
}

/// The table for people: one line per op with float32 and float64
/// columns, the ops chosen by `rows`.
pub fn render(measured: &Measured, rows: Rows) -> String {
    let mut by_op: BTreeMap<usize, (&'static str, [Option<Cell>; 2])> = BTreeMap::new();
    for (i, (e, d)) in float_entries().enumerate() {
        let k = by_op
            .iter()
            .find(|(_, (op, _))| *op == e.op)
            .map_or(i, |(k, _)| *k);
        let row = by_op.entry(k).or_insert((e.op, [None, None]));
        let col = usize::from(d == DType::Float64);
        let m = measured.get(e.op, d).map(|(u, _)| u);
        row.1[col] = Some((e.policy.ulp, m, e.policy.lenient_flags));
    }
    let cell = |c: &Option<Cell>| match c {
        None => "-".to_string(),
        Some((allowed, m, _)) => format!(
            "{} / {allowed}",
            m.map_or("n/a".to_string(), |u| u.to_string())
        ),
    };
    let mut out = format!(
        "{:<14} {:>14} {:>14}  lenient flags\n",
        "op", "float32", "float64"
    );
    out.push_str(&format!(
        "{:<14} {:>14} {:>14}\n",
        "", "measured/max", "measured/max"
    ));
    for (op, cols) in by_op.values() {
        let mut cells = cols.iter().flatten();
        let shown = match rows {
            Rows::All => true,
            Rows::Bounded => cells.any(|(a, m, _)| *a > 0 || m.is_some_and(|u| u > 0)),
            Rows::Measured => cells.any(|(a, m, _)| m.is_some_and(|u| *a > 0 || u > 0)),
        };
        if !shown {
            continue;
        }
        let lenient: Vec<&str> =
            cols.iter()
                .flatten()
                .flat_map(|(_, _, f)| f.names())
                .fold(Vec::new(), |mut v, n| {
                    if !v.contains(&n) {
                        v.push(n);
                    }
                    v
                });
        out.push_str(&format!(
            "{op:<14} {:>14} {:>14}  {}\n",
            cell(&cols[0]),
            cell(&cols[1]),
            lenient.join(",")
        ));
    }
    out
}

/// `fnp precision`: the allowed bounds, and what reports measured.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reports (fnp.report.v1) to take measured maxima from; the maximum
    /// over all of them is shown. Default: every report in
    /// artifacts/reports.
    #[arg(long = "report")]
    pub reports: Vec<PathBuf>,
    /// List bit-exact ops too.
    #[arg(long)]
    pub all: bool,
    /// Write the table as JSON here as well.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// Runs `fnp precision`.
pub fn main(args: &Args) -> anyhow::Result<ExitCode> {
    let reports = if args.reports.is_empty() {
        default_reports()
    } else {
        args.reports.clone()
    };
    let mut measured = Measured::default();
    let mut used = Vec::new();
    for path in &reports {
        let text = crate::jsonread::read_file(path)?;
        let doc = crate::jsonread::parse(path, &text)?;
        if doc.get("schema").and_then(Value::as_str) != Some("fnp.report.v1") {
            anyhow::bail!("{} is not an fnp.report.v1 report", path.display());
        }
        if let Some(table) = doc.get("precision") {
            measured.merge(&Measured::from_table(table));
            used.push(
                doc.get("target")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
            );
        }
    }
    println!("ULP distance to NumPy: measured maximum / allowed (fnp_core::precision)");
    if used.is_empty() {
        println!("(no reports with measurements: run `fnp run` first; n/a = not measured)");
    } else {
        println!("measured on: {}", used.join(", "));
    }
    let rows = if args.all { Rows::All } else { Rows::Bounded };
    print!("{}", render(&measured, rows));
    if let Some(path) = &args.json {
        crate::outdir::write_atomic(
            path,
            (serde_json::to_string_pretty(&table_json(&measured))? + "\n").as_bytes(),
        )?;
    }
    let over = over_bound(&measured);
    if over.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("over the bound: {}", over.join("; "));
        Ok(ExitCode::FAILURE)
    }
}

/// Every per-target report in artifacts/reports (not the merged summary,
/// not shards).
fn default_reports() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("artifacts/reports")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            p.extension().is_some_and(|x| x == "json")
                && name.is_some_and(|n| !n.starts_with("summary") && !n.contains(".shard-"))
        })
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(dtype: DType, bytes: Vec<u8>) -> (Expected, CaseOutcome) {
        (
            Expected::Ok {
                dtype,
                shape: vec![bytes.len() / dtype.itemsize()],
                bytes: bytes.clone(),
                flags: FpFlags::NONE,
                more: Vec::new(),
            },
            CaseOutcome::Ok {
                dtype,
                shape: vec![bytes.len() / dtype.itemsize()],
                bytes,
                flags: FpFlags::NONE,
                more: Vec::new(),
            },
        )
    }

    #[test]
    fn measures_the_largest_distance_and_skips_nans() {
        let (e, mut a) = ok(
            DType::Float64,
            [1.0f64, f64::NAN, 2.0]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
        );
        if let CaseOutcome::Ok { bytes, .. } = &mut a {
            bytes[16..].copy_from_slice(&f64::from_bits(2f64.to_bits() + 3).to_le_bytes());
        }
        assert_eq!(max_ulp(&e, &a), Some((DType::Float64, 3)));
        let (e, a) = ok(DType::Int32, vec![0; 8]);
        assert_eq!(max_ulp(&e, &a), None);
    }

    #[test]
    fn table_lists_every_float_ufunc_and_round_trips() {
        let mut m = Measured::default();
        m.add("exp", DType::Float32, 2);
        m.add("exp", DType::Float32, 1);
        m.add("divide", DType::Float64, 0);
        let t = table_json(&m);
        let rows = t.as_array().unwrap();
        assert!(rows
            .iter()
            .any(|r| r["op"] == "sqrt" && r["dtype"] == "float64"));
        let exp = rows
            .iter()
            .find(|r| r["op"] == "exp" && r["dtype"] == "float32")
            .unwrap();
        assert_eq!(
            (exp["measured_ulp"].as_u64(), exp["cases"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(Measured::from_table(&t), m);
        assert!(over_bound(&m).is_empty());
        m.add("sqrt", DType::Float64, 1);
        assert_eq!(over_bound(&m), vec!["sqrt float64: 1 > 0".to_string()]);
        let text = render(&m, Rows::Bounded);
        assert!(text.contains("exp") && text.contains("2 / 4"), "{text}");
        assert!(text.contains("log1p"), "{text}");
        let text = render(&m, Rows::Measured);
        assert!(text.contains("exp") && !text.contains("log1p"), "{text}");
        assert!(render(&m, Rows::All).contains("true_divide"));
    }
}
