//! `fnp info`: what this build of fnp-core has, read from its op table
//! ([`fnp_core::table`]).
//!
//! `fnp info --json` prints the table for the tools that need op facts
//! (the corpus generator reads the same rows in process; capture.py gets
//! them in its job file), so no tool keeps a list of its own. The human
//! form prints the same rows as a table.

use std::io::Write;
use std::process::ExitCode;

use fnp_core::precision::{NanSign, Policy};
use fnp_core::table::{Identity, Keyword, Keywords};
use fnp_core::{DType, Method, Op};
use serde_json::{json, Value};

/// The `schema` field of `fnp info --json`.
pub const SCHEMA: &str = "fnp.info.v2";

/// `fnp info [--json]`.
pub fn main(as_json: bool) -> anyhow::Result<ExitCode> {
    let text = match as_json {
        true => serde_json::to_string_pretty(&info_json())? + "\n",
        false => human(),
    };
    // A reader that stops early (`fnp info | head`) is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The whole document: version, dtypes and one row per op.
pub fn info_json() -> Value {
    let dtypes: Vec<Value> = DType::ALL
        .iter()
        .map(|d| json!({"name": d.name(), "itemsize": d.itemsize()}))
        .collect();
    json!({
        "schema": SCHEMA,
        "fnp_version": env!("CARGO_PKG_VERSION"),
        "wire_protocol": fnp_core::wire::PROTOCOL_VERSION,
        "dtypes": dtypes,
        "ops": ops_json(),
    })
}

/// Every op's row, in wire-code order (what capture.py's job carries).
pub fn ops_json() -> Vec<Value> {
    Op::all().map(op_json).collect()
}

/// `binary`, `unary`, `reduction` or `method` (`add.reduce`).
pub fn kind(op: Op) -> &'static str {
    match op {
        // divmod is a binary ufunc with two outputs, modf and frexp unary.
        Op::Binary(_) | Op::Multi(fnp_core::MultiOp::Divmod) => "binary",
        Op::Unary(_) | Op::Multi(_) => "unary",
        Op::Reduce(_) => "reduction",
        Op::Method(..) | Op::UnaryAt(_) => "method",
    }
}

/// The loop family of a ufunc, or whether a reduction folds or scans, in
/// snake case (`arith`, `float_only`, `fold`, `scan`).
pub fn family(op: Op) -> String {
    let camel = match op {
        Op::Binary(b) => format!("{:?}", b.family()),
        Op::Unary(u) => format!("{:?}", u.family()),
        Op::Reduce(r) => format!("{:?}", r.kind()),
        Op::Method(_, m) => m.name().to_string(),
        Op::UnaryAt(_) => Method::At.name().to_string(),
        Op::Multi(_) => "TwoOutputs".to_string(),
    };
    snake_case(&camel)
}

fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The keywords `op` takes as NumPy spells them (`axis` for every
/// reduction; ufuncs are called with their operands alone), and whether
/// its `axis` may be a tuple.
pub fn keywords(op: Op) -> (Vec<&'static str>, bool) {
    let r = match op {
        Op::Reduce(r) => r,
        Op::Method(_, Method::Accumulate | Method::Reduceat) => {
            return (vec!["axis", "dtype"], false)
        }
        Op::Method(_, Method::Outer | Method::At) | Op::UnaryAt(_) => return (Vec::new(), false),
        Op::Method(b, Method::Reduce) => {
            let names = vec!["axis", "keepdims", "where", "initial", "dtype"];
            return (names, fnp_core::reorderable(b));
        }
        Op::Binary(_) | Op::Unary(_) | Op::Multi(_) => return (Vec::new(), false),
    };
    let set: Keywords = r.keywords();
    let mut names = vec!["axis"];
    names.extend(
        Keywords::ALL
            .into_iter()
            .filter(|&k| k != Keyword::AxisTuple && set.contains(k))
            .map(Keyword::name),
    );
    (names, set.contains(Keyword::AxisTuple))
}

/// NumPy's `ufunc.identity` as a JSON value (`null` for none; `-inf` as
/// the string the value encoding uses).
fn identity(op: Op) -> Value {
    let Op::Binary(b) = op else {
        return Value::Null;
    };
    match b.identity() {
        Identity::None => Value::Null,
        Identity::Zero => json!(0),
        Identity::One => json!(1),
        Identity::MinusOne => json!(-1),
        Identity::False => json!(false),
        Identity::True => json!(true),
        Identity::NegInfinity => json!("-inf"),
    }
}

/// A precision policy as reports write it.
pub fn policy_json(p: &Policy) -> Value {
    json!({
        "ulp": p.ulp,
        "zero_sign": if p.zero_sign_any { "any" } else { "exact" },
        "nan_sign": match p.nan_sign { NanSign::Compare => "compared", NanSign::Ignore => "ignored" },
        "lenient_flags": p.lenient_flags.names().collect::<Vec<_>>(),
        "why": p.why,
    })
}

fn op_json(op: Op) -> Value {
    let accuracy = op.accuracy();
    let (keywords, axis_tuple) = keywords(op);
    json!({
        "code": op.code(),
        "name": op.name(),
        "aliases": op.aliases(),
        "kind": kind(op),
        "family": family(op),
        "arity": op.arity(),
        "identity": identity(op),
        "keywords": keywords,
        "axis_tuple": axis_tuple,
        "accuracy": {
            "float32": policy_json(&accuracy.f32),
            "float64": policy_json(&accuracy.f64),
        },
    })
}

/// Bound of float32/float64 ULP for the human table: `0` or `f32/f64`.
fn ulp_column(op: Op) -> String {
    let a = op.accuracy();
    if a.f32.ulp == a.f64.ulp {
        a.f32.ulp.to_string()
    } else {
        format!("{}/{}", a.f32.ulp, a.f64.ulp)
    }
}

/// The human form: dtypes, then one line per op.
pub fn human() -> String {
    use std::fmt::Write;
    let mut s = format!("fnp {}\n", env!("CARGO_PKG_VERSION"));
    for dtype in DType::ALL {
        let _ = writeln!(
            s,
            "  dtype {:<8} itemsize {}",
            dtype.name(),
            dtype.itemsize()
        );
    }
    let _ = writeln!(
        s,
        "  {:<5} {:<14} {:>4}  {:<9} {:<12} {:>5}  keywords, aliases",
        "", "name", "code", "kind", "family", "ulp"
    );
    for op in Op::all() {
        let (mut extra, axis_tuple) = keywords(op);
        if axis_tuple {
            if let Some(axis) = extra.first_mut() {
                *axis = "axis(tuple)";
            }
        }
        let aliases: Vec<String> = op.aliases().iter().map(|a| format!("={a}")).collect();
        let tail: Vec<String> = extra
            .into_iter()
            .map(str::to_string)
            .chain(aliases)
            .collect();
        let line = format!(
            "  op    {:<14} {:>4}  {:<9} {:<12} {:>5}  {}",
            op.name(),
            op.code(),
            kind(op),
            family(op),
            ulp_column(op),
            tail.join(" ")
        );
        // No trailing blanks on a row without keywords or aliases.
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_has_a_row_with_every_field() {
        let doc = info_json();
        assert_eq!(doc["schema"], SCHEMA);
        let ops = doc["ops"].as_array().unwrap();
        assert_eq!(ops.len(), Op::all().count());
        for (row, op) in ops.iter().zip(Op::all()) {
            assert_eq!(row["code"], op.code());
            assert_eq!(row["name"], op.name());
            assert_eq!(Op::from_name(row["name"].as_str().unwrap()), Some(op));
            for alias in row["aliases"].as_array().unwrap() {
                assert_eq!(Op::from_name(alias.as_str().unwrap()), Some(op));
            }
            assert_eq!(row["arity"], op.arity());
            for field in ["kind", "family"] {
                let v = row[field].as_str().unwrap();
                assert!(
                    !v.is_empty()
                        && v.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{field} {v:?}"
                );
            }
            for dt in ["float32", "float64"] {
                assert!(row["accuracy"][dt]["ulp"].is_u64(), "{}", op.name());
            }
        }
        assert_eq!(doc["dtypes"].as_array().unwrap().len(), DType::ALL.len());
    }

    #[test]
    fn the_document_follows_its_schema() {
        use crate::schema::{validate, Kind};
        let path = std::path::Path::new("info.json");
        let doc = info_json();
        assert_eq!(Kind::from_id(SCHEMA), Some(Kind::Info));
        validate(Kind::Info, path, &doc).unwrap();
        // A row without a field, or with a kind the schema does not name,
        // is refused with the field.
        let mut bad = doc.clone();
        bad["ops"][3].as_object_mut().unwrap().remove("accuracy");
        let err = validate(Kind::Info, path, &bad).unwrap_err().to_string();
        assert!(err.contains("accuracy"), "{err}");
        let mut bad = doc;
        bad["ops"][0]["kind"] = json!("ternary");
        let err = validate(Kind::Info, path, &bad).unwrap_err().to_string();
        assert!(err.contains("ops.0.kind") || err.contains("#0"), "{err}");
    }

    #[test]
    fn rows_say_what_numpy_says() {
        let doc = info_json();
        let row = |name: &str| {
            doc["ops"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == name)
                .cloned()
                .unwrap()
        };
        let add = row("add");
        assert_eq!(add["kind"], "binary");
        assert_eq!(add["family"], "arith");
        assert_eq!(add["identity"], 0);
        assert_eq!(add["keywords"], json!([]));
        assert_eq!(row("true_divide")["aliases"], json!(["divide"]));
        assert_eq!(row("subtract")["identity"], Value::Null);
        assert_eq!(row("logical_and")["identity"], true);
        assert_eq!(row("logaddexp")["identity"], "-inf");
        let var = row("var");
        assert_eq!(var["kind"], "reduction");
        assert_eq!(var["family"], "fold");
        assert_eq!(
            var["keywords"],
            json!(["axis", "keepdims", "where", "dtype", "ddof"])
        );
        assert_eq!(var["axis_tuple"], true);
        let argmax = row("argmax");
        assert_eq!(argmax["keywords"], json!(["axis", "keepdims"]));
        assert_eq!(argmax["axis_tuple"], false);
        assert_eq!(row("cumsum")["family"], "scan");
        assert_eq!(row("arcsin")["kind"], "unary");
        assert!(
            row("arcsin")["accuracy"]["float64"]["ulp"]
                .as_u64()
                .unwrap()
                > 0
        );
        assert_eq!(snake_case("Float64Only"), "float64_only");
    }

    #[test]
    fn the_human_table_has_a_line_per_op() {
        let text = human();
        assert!(text.starts_with("fnp "));
        let ops: Vec<&str> = text.lines().filter(|l| l.starts_with("  op ")).collect();
        assert_eq!(ops.len(), Op::all().count());
        assert!(ops
            .iter()
            .any(|l| l.contains("true_divide") && l.contains("=divide")));
        assert!(ops
            .iter()
            .any(|l| l.split_whitespace().nth(1) == Some("sum") && l.contains("axis(tuple)")));
        assert!(text.lines().all(|l| l == l.trim_end()));
    }
}
