//! Comparing a target's answer with NumPy's.
//!
//! Shape and dtype must match exactly; integers and bools bit for bit;
//! floats bit for bit by default (NaN equals NaN, -0.0 ≠ +0.0), relaxed
//! only by fnp-core's precision table (`fnp_core::precision`): an ULP bound
//! for ops NumPy computes with CPU-dependent code, either zero sign for the
//! max/min family (NumPy's own choice varies), NaN sign compared only for
//! ops that define it, and lenient flags where NumPy's flags depend on the
//! CPU. An op the table does not list is compared bit-exactly.

use fnp_core::precision::{self, Policy as OpPolicy};
use fnp_core::{DType, FpFlags, Op};
use serde_json::{json, Value};

use crate::case::CaseOutcome;
use crate::value;

/// The comparator's tolerance: fnp-core's precision table, bit-exact for
/// anything it does not list.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Policy {}

impl Policy {
    /// The policy in use: `fnp_core::op::policy`.
    pub fn builtin() -> Policy {
        Policy {}
    }

    /// The policy for `op` producing `dtype`; bit-exact for an op fnp-core
    /// does not have (`None`) or a loop the op has not.
    pub fn for_op(&self, op: Option<Op>, dtype: DType) -> OpPolicy {
        op.and_then(|op| op.policy(dtype))
            .unwrap_or(OpPolicy::EXACT)
    }

    /// The table as written into reports.
    pub fn to_json(&self) -> Value {
        let entry = |op: &str, dtypes: &str, p: &OpPolicy, source: &str| {
            let mut v = crate::info::policy_json(p);
            if let Some(m) = v.as_object_mut() {
                m.insert("op".into(), json!(op));
                m.insert("dtypes".into(), json!(dtypes));
                m.insert("source".into(), json!(source));
            }
            v
        };
        let entries: Vec<Value> = fnp_core::op::entries()
            .map(|e| {
                entry(
                    e.op,
                    &format!("{:?}", e.dtypes),
                    &e.policy,
                    "fnp_core::precision",
                )
            })
            .collect();
        json!({
            "default": entry("*", "all", &OpPolicy::EXACT, "fnp-host default"),
            "entries": entries,
            "integers": "bit-exact",
            "nan": "NaN equals NaN; the sign only where nan_sign is compared",
            "shape_dtype": "exact",
        })
    }
}

/// NumPy's answer for one case (from the oracle).
#[derive(Clone, Debug, PartialEq)]
pub enum Expected {
    /// A value.
    Ok {
        /// Result dtype.
        dtype: DType,
        /// Result shape.
        shape: Vec<usize>,
        /// C-order little-endian bytes.
        bytes: Vec<u8>,
        /// Flags NumPy raised.
        flags: FpFlags,
        /// The outputs after the first, of the same shape (a two-output
        /// ufunc's second): dtype and bytes.
        more: Vec<(DType, Vec<u8>)>,
    },
    /// An exception class.
    Error(String),
    /// The oracle could not answer.
    Unsupported(String),
}

/// Outcome of one comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Matches.
    Pass,
    /// A different value, dtype, shape or flags.
    Fail {
        /// What differs: "value", "dtype", "shape" or "fp_flags".
        what: String,
        /// First differing element index (C order) for values.
        index: Option<usize>,
        /// NumPy's value there.
        expected: Value,
        /// The target's value there.
        actual: Value,
        /// ULP distance at `index` (floats).
        ulp: Option<u64>,
        /// Largest ULP distance over all differing elements (floats).
        max_ulp: Option<u64>,
    },
    /// An exception where a value was expected, or the other way round, or
    /// a different exception class.
    ErrorMismatch {
        /// NumPy's answer.
        expected: String,
        /// The target's.
        actual: String,
    },
    /// The target crashed.
    Crashed(String),
    /// The target timed out.
    TimedOut,
    /// Not comparable, with the reason.
    Unsupported(String),
}

impl Status {
    /// The report's status name.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail { .. } => "fail",
            Status::ErrorMismatch { .. } => "error_mismatch",
            Status::Crashed(_) => "crashed",
            Status::TimedOut => "timed_out",
            Status::Unsupported(_) => "unsupported",
        }
    }

    /// Whether this status makes the run fail.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Status::Pass | Status::Unsupported(_))
    }
}

fn flag_names(f: FpFlags) -> Value {
    Value::Array(f.names().map(|n| json!(n)).collect())
}

/// ULP distance of element `i` of two float buffers (for the report).
fn ulp_at(dtype: DType, e: &[u8], a: &[u8], i: usize) -> Option<u64> {
    match dtype {
        DType::Float32 => {
            let x = f32::from_le_bytes(e.get(i * 4..i * 4 + 4)?.try_into().ok()?);
            let y = f32::from_le_bytes(a.get(i * 4..i * 4 + 4)?.try_into().ok()?);
            (!x.is_nan() && !y.is_nan()).then(|| u64::from(precision::ulp_diff_f32(x, y)))
        }
        DType::Float64 => {
            let x = f64::from_le_bytes(e.get(i * 8..i * 8 + 8)?.try_into().ok()?);
            let y = f64::from_le_bytes(a.get(i * 8..i * 8 + 8)?.try_into().ok()?);
            (!x.is_nan() && !y.is_nan()).then(|| precision::ulp_diff_f64(x, y))
        }
        _ => None,
    }
}

/// Compares a target's outcome with NumPy's expected answer for `op` (the
/// case's parsed op, `None` when fnp-core has no such op).
pub fn compare(
    op: Option<Op>,
    expected: &Expected,
    outcome: &CaseOutcome,
    policy: &Policy,
) -> Status {
    match (expected, outcome) {
        (Expected::Unsupported(r), _) => Status::Unsupported(format!("oracle: {r}")),
        (_, CaseOutcome::Unsupported { reason }) => Status::Unsupported(reason.clone()),
        (_, CaseOutcome::Crashed { detail }) => Status::Crashed(detail.clone()),
        (_, CaseOutcome::TimedOut) => Status::TimedOut,
        (Expected::Error(e), CaseOutcome::Error { exception, message }) => {
            if e == exception {
                Status::Pass
            } else {
                Status::ErrorMismatch {
                    expected: e.clone(),
                    actual: format!("{exception}: {message}"),
                }
            }
        }
        (Expected::Error(e), CaseOutcome::Ok { dtype, shape, .. }) => Status::ErrorMismatch {
            expected: e.clone(),
            actual: format!("ok ({dtype}, shape {shape:?})"),
        },
        (Expected::Ok { dtype, shape, .. }, CaseOutcome::Error { exception, message }) => {
            Status::ErrorMismatch {
                expected: format!("ok ({dtype}, shape {shape:?})"),
                actual: format!("{exception}: {message}"),
            }
        }
        (
            Expected::Ok {
                dtype: ed,
                shape: es,
                bytes: eb,
                flags: ef,
                more: em,
            },
            CaseOutcome::Ok {
                dtype: ad,
                shape: as_,
                bytes: ab,
                flags: af,
                more: am,
            },
        ) => {
            if em.len() != am.len() {
                return Status::Fail {
                    what: "outputs".into(),
                    index: None,
                    expected: json!(1 + em.len()),
                    actual: json!(1 + am.len()),
                    ulp: None,
                    max_ulp: None,
                };
            }
            // Each output on its own (same shape); the flags are the
            // call's, compared once after the values.
            let first = compare_values(
                op,
                (*ed, es, eb, FpFlags::NONE),
                (*ad, as_, ab, FpFlags::NONE),
                policy,
            );
            let rest = em
                .iter()
                .zip(am)
                .enumerate()
                .map(|(k, ((ed, eb), (ad, ab)))| {
                    match compare_values(
                        op,
                        (*ed, es, eb, FpFlags::NONE),
                        (*ad, as_, ab, FpFlags::NONE),
                        policy,
                    ) {
                        // Name the output: "outputs[1].value".
                        Status::Fail {
                            what,
                            index,
                            expected,
                            actual,
                            ulp,
                            max_ulp,
                        } => Status::Fail {
                            what: format!("outputs[{}].{what}", k + 1),
                            index,
                            expected,
                            actual,
                            ulp,
                            max_ulp,
                        },
                        other => other,
                    }
                });
            std::iter::once(first)
                .chain(rest)
                .find(|s| *s != Status::Pass)
                .unwrap_or_else(|| compare_flags(op, *ed, *ef, *af, policy))
        }
    }
}

fn compare_flags(op: Option<Op>, dtype: DType, e: FpFlags, a: FpFlags, policy: &Policy) -> Status {
    // A float op's result cast into an integer or bool `out=` carries the
    // flags of its float64 loop, with that loop's leniency.
    let loop_lenient = !dtype.is_float() && policy.for_op(op, DType::Float64).accepts_flags(e, a);
    if loop_lenient || policy.for_op(op, dtype).accepts_flags(e, a) {
        Status::Pass
    } else {
        Status::Fail {
            what: "fp_flags".into(),
            index: None,
            expected: flag_names(e),
            actual: flag_names(a),
            ulp: None,
            max_ulp: None,
        }
    }
}

type Answer<'a> = (DType, &'a Vec<usize>, &'a Vec<u8>, FpFlags);

fn compare_values(op: Option<Op>, e: Answer<'_>, a: Answer<'_>, policy: &Policy) -> Status {
    let fail = |what: &str, expected: Value, actual: Value| Status::Fail {
        what: what.into(),
        index: None,
        expected,
        actual,
        ulp: None,
        max_ulp: None,
    };
    if e.0 != a.0 {
        return fail("dtype", json!(e.0.name()), json!(a.0.name()));
    }
    if e.1 != a.1 {
        return fail("shape", json!(e.1), json!(a.1));
    }
    let dtype = e.0;
    let p = policy.for_op(op, dtype);
    let w = dtype.itemsize();
    let n = e.1.iter().product::<usize>();
    if a.2.len() != n * w || e.2.len() != n * w {
        return fail("shape", json!(e.2.len()), json!(a.2.len()));
    }
    let mut first: Option<usize> = None;
    let mut max_ulp: Option<u64> = None;
    for (i, (x, y)) in e.2.chunks_exact(w).zip(a.2.chunks_exact(w)).enumerate() {
        if !p.accepts_element(dtype, x, y) {
            if let Some(u) = ulp_at(dtype, e.2, a.2, i) {
                max_ulp = Some(max_ulp.map_or(u, |m| m.max(u)));
            }
            first.get_or_insert(i);
        }
    }
    if let Some(index) = first {
        return Status::Fail {
            what: "value".into(),
            index: Some(index),
            expected: value::decode_value(dtype, e.2, index).unwrap_or(Value::Null),
            actual: value::decode_value(dtype, a.2, index).unwrap_or(Value::Null),
            ulp: ulp_at(dtype, e.2, a.2, index),
            max_ulp,
        };
    }
    compare_flags(op, dtype, e.3, a.3, policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str) -> Option<Op> {
        Op::from_name(name)
    }

    fn ok(dtype: DType, bytes: Vec<u8>, flags: FpFlags) -> (Expected, CaseOutcome) {
        let n = bytes.len() / dtype.itemsize();
        (
            Expected::Ok {
                dtype,
                shape: vec![n],
                bytes: bytes.clone(),
                flags,
                more: Vec::new(),
            },
            CaseOutcome::Ok {
                dtype,
                shape: vec![n],
                bytes,
                flags,
                more: Vec::new(),
            },
        )
    }

    fn f64s(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn every_output_is_compared_and_named() {
        let (mut e, a) = ok(DType::Float64, f64s(&[0.5, -0.75]), FpFlags::NONE);
        let exps: Vec<u8> = [1i32, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
        let with = |o: CaseOutcome, more: Vec<(DType, Vec<u8>)>| match o {
            CaseOutcome::Ok {
                dtype,
                shape,
                bytes,
                flags,
                ..
            } => CaseOutcome::Ok {
                dtype,
                shape,
                bytes,
                flags,
                more,
            },
            other => other,
        };
        if let Expected::Ok { more, .. } = &mut e {
            more.push((DType::Int32, exps.clone()));
        }
        let frexp = op("frexp");
        let p = Policy::builtin();
        let same = with(a.clone(), vec![(DType::Int32, exps)]);
        assert_eq!(compare(frexp, &e, &same, &p), Status::Pass);
        let wrong: Vec<u8> = [1i32, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
        let off = with(a.clone(), vec![(DType::Int32, wrong)]);
        assert!(matches!(compare(frexp, &e, &off, &p),
            Status::Fail { ref what, index: Some(1), .. } if what == "outputs[1].value"));
        // A missing second output is a failure, not a pass.
        assert!(matches!(compare(frexp, &e, &a, &p),
            Status::Fail { ref what, .. } if what == "outputs"));
    }

    #[test]
    fn identical_answers_pass() {
        let (e, a) = ok(
            DType::Float64,
            f64s(&[1.0, f64::NAN, -0.0]),
            FpFlags::INVALID,
        );
        assert_eq!(compare(op("add"), &e, &a, &Policy::builtin()), Status::Pass);
    }

    #[test]
    fn a_wrong_value_fails_with_index_values_and_ulp() {
        let (e, _) = ok(DType::Float64, f64s(&[1.0, 2.0, 3.0]), FpFlags::NONE);
        let a = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![3],
            bytes: f64s(&[1.0, f64::from_bits(2.0f64.to_bits() + 3), 3.5]),
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        match compare(op("add"), &e, &a, &Policy::builtin()) {
            Status::Fail {
                what,
                index,
                expected,
                ulp,
                max_ulp,
                ..
            } => {
                assert_eq!(what, "value");
                assert_eq!(index, Some(1));
                assert_eq!(expected, json!(2.0));
                assert_eq!(ulp, Some(3));
                assert!(max_ulp.unwrap() > 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn zero_sign_is_exact_except_for_the_max_min_family() {
        let (e, _) = ok(DType::Float64, f64s(&[0.0]), FpFlags::NONE);
        let a = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![1],
            bytes: f64s(&[-0.0]),
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert_eq!(
            compare(op("add"), &e, &a, &Policy::builtin()).name(),
            "fail"
        );
        assert_eq!(
            compare(op("maximum"), &e, &a, &Policy::builtin()),
            Status::Pass
        );
        assert_eq!(
            compare(op("nanmin"), &e, &a, &Policy::builtin()),
            Status::Pass
        );
    }

    #[test]
    fn nan_sign_only_where_defined() {
        let (e, _) = ok(DType::Float64, f64s(&[f64::NAN]), FpFlags::NONE);
        let a = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![1],
            bytes: f64s(&[-f64::NAN]),
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert_eq!(compare(op("add"), &e, &a, &Policy::builtin()), Status::Pass);
        // maximum passes NaN operands through: their sign is compared.
        assert_eq!(
            compare(op("maximum"), &e, &a, &Policy::builtin()).name(),
            "fail"
        );
        // NaN is never equal to a number.
        let b = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![1],
            bytes: f64s(&[1.0]),
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert_eq!(
            compare(op("add"), &e, &b, &Policy::builtin()).name(),
            "fail"
        );
    }

    #[test]
    fn ulp_bound_and_infinity() {
        let (e, _) = ok(DType::Float32, 1.5f32.to_le_bytes().to_vec(), FpFlags::NONE);
        let near = f32::from_bits(1.5f32.to_bits() + 1).to_le_bytes().to_vec();
        let a = CaseOutcome::Ok {
            dtype: DType::Float32,
            shape: vec![1],
            bytes: near,
            flags: FpFlags::OVERFLOW,
            more: Vec::new(),
        };
        assert_eq!(
            compare(op("power"), &e, &a, &Policy::builtin()),
            Status::Pass,
            "within power's ULP bound, overflow lenient"
        );
        assert_eq!(
            compare(op("add"), &e, &a, &Policy::builtin()).name(),
            "fail"
        );
        let (e, _) = ok(
            DType::Float32,
            f32::MAX.to_le_bytes().to_vec(),
            FpFlags::NONE,
        );
        let inf = CaseOutcome::Ok {
            dtype: DType::Float32,
            shape: vec![1],
            bytes: f32::INFINITY.to_le_bytes().to_vec(),
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert_eq!(
            compare(op("add"), &e, &inf, &Policy::builtin()).name(),
            "fail"
        );
    }

    #[test]
    fn dtype_shape_flags_and_errors() {
        let (e, _) = ok(DType::Int8, vec![1, 2], FpFlags::NONE);
        let wrong_dtype = CaseOutcome::Ok {
            dtype: DType::UInt8,
            shape: vec![2],
            bytes: vec![1, 2],
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert!(
            matches!(compare(op("add"), &e, &wrong_dtype, &Policy::builtin()), Status::Fail { ref what, .. } if what == "dtype")
        );
        let wrong_shape = CaseOutcome::Ok {
            dtype: DType::Int8,
            shape: vec![2, 1],
            bytes: vec![1, 2],
            flags: FpFlags::NONE,
            more: Vec::new(),
        };
        assert!(
            matches!(compare(op("add"), &e, &wrong_shape, &Policy::builtin()), Status::Fail { ref what, .. } if what == "shape")
        );
        let flags = CaseOutcome::Ok {
            dtype: DType::Int8,
            shape: vec![2],
            bytes: vec![1, 2],
            flags: FpFlags::DIVIDE,
            more: Vec::new(),
        };
        assert!(
            matches!(compare(op("add"), &e, &flags, &Policy::builtin()), Status::Fail { ref what, .. } if what == "fp_flags")
        );
        let err = CaseOutcome::Error {
            exception: "TypeError".into(),
            message: "x".into(),
        };
        assert_eq!(
            compare(op("add"), &e, &err, &Policy::builtin()).name(),
            "error_mismatch"
        );
        let ee = Expected::Error("TypeError".into());
        assert_eq!(
            compare(op("add"), &ee, &err, &Policy::builtin()),
            Status::Pass
        );
        let other = CaseOutcome::Error {
            exception: "ValueError".into(),
            message: "x".into(),
        };
        assert_eq!(
            compare(op("add"), &ee, &other, &Policy::builtin()).name(),
            "error_mismatch"
        );
        assert_eq!(
            compare(op("add"), &ee, &wrong_dtype, &Policy::builtin()).name(),
            "error_mismatch"
        );
        let un = Expected::Unsupported("float16".into());
        assert_eq!(
            compare(op("add"), &un, &err, &Policy::builtin()).name(),
            "unsupported"
        );
        assert_eq!(
            compare(op("add"), &ee, &CaseOutcome::TimedOut, &Policy::builtin()).name(),
            "timed_out"
        );
        assert!(Status::TimedOut.is_failure());
        assert!(!Status::Unsupported(String::new()).is_failure());
    }

    #[test]
    fn policy_json_lists_the_table() {
        let v = Policy::builtin().to_json();
        let entries = v["entries"].as_array().unwrap();
        assert!(entries
            .iter()
            .any(|e| e["op"] == "power" && e["source"] == "fnp_core::precision"));
        let nanmax = entries
            .iter()
            .find(|e| e["op"] == "nanmax" && e["dtypes"] == "Float64")
            .unwrap();
        assert_eq!(nanmax["zero_sign"], "any");
        assert_eq!(v["default"]["source"], "fnp-host default");
        assert_eq!(
            Policy::builtin().for_op(op("sum"), DType::Float64),
            OpPolicy::EXACT
        );
        // An op fnp-core does not know, or a loop its op has not, is
        // compared bit for bit.
        assert_eq!(
            Policy::builtin().for_op(None, DType::Float64),
            OpPolicy::EXACT
        );
        assert_ne!(
            Policy::builtin().for_op(op("power"), DType::Float64),
            OpPolicy::EXACT
        );
        assert_eq!(
            Policy::builtin().for_op(op("logical_and"), DType::Float64),
            OpPolicy::EXACT
        );
    }
}
