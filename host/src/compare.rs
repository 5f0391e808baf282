//! Comparing a target's answer with NumPy's.
//!
//! Shape and dtype must match exactly; integers and bools bit for bit;
//! floats bit for bit by default (NaN equals NaN, -0.0 ≠ +0.0), relaxed
//! only by the per-op entries of [`Policy`]: an ULP bound for ops NumPy
//! computes with CPU-dependent code, either zero sign for the max/min family
//! (NumPy's own choice varies), NaN sign compared only for ops that define
//! it, and lenient flags where NumPy's flags depend on the CPU.

use std::collections::BTreeMap;

use fnp_core::{DType, FpFlags};
use serde_json::{json, Value};

use crate::target::CaseOutcome;
use crate::value;

/// How the IEEE flags of one op are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagPolicy {
    /// The same set of flags.
    Exact,
    /// Not compared (NumPy's flags depend on the CPU's SIMD path or libm).
    Lenient,
}

/// The tolerance for one op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpPolicy {
    /// Largest ULP distance accepted for float32 results.
    pub ulp_f32: u64,
    /// Largest ULP distance accepted for float64 results.
    pub ulp_f64: u64,
    /// Accept either sign when both results are zero.
    pub zero_sign_any: bool,
    /// Compare the sign bit of NaNs (only ops that define it).
    pub nan_sign: bool,
    /// How flags are compared.
    pub flags: FlagPolicy,
}

impl OpPolicy {
    /// Bit-exact with exact flags: the default for correctly rounded ops.
    pub const EXACT: OpPolicy = OpPolicy {
        ulp_f32: 0,
        ulp_f64: 0,
        zero_sign_any: false,
        nan_sign: false,
        flags: FlagPolicy::Exact,
    };

    fn to_json(self) -> Value {
        json!({
            "ulp_float32": self.ulp_f32,
            "ulp_float64": self.ulp_f64,
            "zero_sign": if self.zero_sign_any { "any" } else { "exact" },
            "nan_sign": if self.nan_sign { "compared" } else { "ignored" },
            "fp_flags": match self.flags { FlagPolicy::Exact => "exact", FlagPolicy::Lenient => "lenient" },
        })
    }
}

/// The comparator's tolerance table.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// For ops without an entry.
    pub default: OpPolicy,
    /// Per-op entries by NumPy name.
    pub ops: BTreeMap<String, OpPolicy>,
    /// Where the table came from (reported).
    pub source: String,
}

/// Ops whose zero sign NumPy itself does not fix (length/CPU dependent).
pub const ZERO_SIGN_ANY: &[&str] = &[
    "maximum", "minimum", "fmax", "fmin", "max", "min", "nanmax", "nanmin",
];

/// Ops that define the sign of a NaN result.
pub const NAN_SIGN_DEFINED: &[&str] = &["negative", "absolute", "copysign"];

impl Policy {
    /// The built-in table.
    ///
    /// This is the single place where fnp-core's precision table
    /// (`fnp_core::precision`, once it lands) is read: its ULP bounds and
    /// lenient-flag entries replace the local ones below, the structure of
    /// [`OpPolicy`] stays.
    pub fn builtin() -> Policy {
        let mut ops = BTreeMap::new();
        for &op in ZERO_SIGN_ANY {
            ops.insert(
                op.to_string(),
                OpPolicy {
                    zero_sign_any: true,
                    ..OpPolicy::EXACT
                },
            );
        }
        for &op in NAN_SIGN_DEFINED {
            ops.insert(
                op.to_string(),
                OpPolicy {
                    nan_sign: true,
                    ..OpPolicy::EXACT
                },
            );
        }
        // Float power goes through the C library's pow in NumPy and libm's
        // in fnp-core: both are faithful (< 1 ULP), not correctly rounded,
        // and their flags come from different code.
        ops.insert(
            "power".into(),
            OpPolicy {
                ulp_f32: 1,
                ulp_f64: 1,
                flags: FlagPolicy::Lenient,
                ..OpPolicy::EXACT
            },
        );
        Policy {
            default: OpPolicy::EXACT,
            ops,
            source: "fnp-host builtin (fnp_core::precision not yet available)".into(),
        }
    }

    /// The entry for `op`.
    pub fn for_op(&self, op: &str) -> OpPolicy {
        self.ops.get(op).copied().unwrap_or(self.default)
    }

    /// The table as written into reports.
    pub fn to_json(&self) -> Value {
        let ops: serde_json::Map<String, Value> = self
            .ops
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect();
        json!({
            "default": self.default.to_json(),
            "ops": ops,
            "source": self.source,
            "integers": "bit-exact",
            "nan": "NaN equals NaN; sign compared only where nan_sign is compared",
            "infinity": "exact (never within an ULP bound)",
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

/// Ordinal of a float on the integer line (±0 both map to 0), so the
/// distance of two floats is the number of representable values between.
fn ordinal(bits: u64, width: u32) -> i128 {
    let sign = bits >> (width - 1) & 1 == 1;
    let magnitude = i128::from(bits & ((1u64 << (width - 1)) - 1));
    if sign {
        -magnitude
    } else {
        magnitude
    }
}

/// ULP distance between two finite floats given by their bits.
pub fn ulp_distance(a: u64, b: u64, width: u32) -> u64 {
    let d = (ordinal(a, width) - ordinal(b, width)).unsigned_abs();
    u64::try_from(d).unwrap_or(u64::MAX)
}

fn float_bits(bytes: &[u8], i: usize, dtype: DType) -> Option<(u64, f64)> {
    match dtype {
        DType::Float32 => {
            let b: [u8; 4] = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
            let f = f32::from_le_bytes(b);
            Some((u64::from(f.to_bits()), f64::from(f)))
        }
        DType::Float64 => {
            let b: [u8; 8] = bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?;
            let f = f64::from_le_bytes(b);
            Some((f.to_bits(), f))
        }
        _ => None,
    }
}

/// Compares one float element: `Ok(())` or `Err(ulp distance if finite)`.
fn float_matches(
    e: (u64, f64),
    a: (u64, f64),
    width: u32,
    bound: u64,
    p: OpPolicy,
) -> Result<(), Option<u64>> {
    let (eb, ef) = e;
    let (ab, af) = a;
    if eb == ab {
        return Ok(());
    }
    match (ef.is_nan(), af.is_nan()) {
        (true, true) => {
            if p.nan_sign && ef.is_sign_negative() != af.is_sign_negative() {
                return Err(None);
            }
            return Ok(());
        }
        (true, false) | (false, true) => return Err(None),
        _ => {}
    }
    if ef == 0.0 && af == 0.0 {
        // Same magnitude, different sign.
        return if p.zero_sign_any {
            Ok(())
        } else {
            Err(Some(0))
        };
    }
    if ef.is_infinite() || af.is_infinite() {
        return Err(None);
    }
    let d = ulp_distance(eb, ab, width);
    if d <= bound {
        Ok(())
    } else {
        Err(Some(d))
    }
}

/// Compares a target's outcome with NumPy's expected answer for `op`.
pub fn compare(op: &str, expected: &Expected, outcome: &CaseOutcome, policy: &Policy) -> Status {
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
            },
            CaseOutcome::Ok {
                dtype: ad,
                shape: as_,
                bytes: ab,
                flags: af,
            },
        ) => compare_values(op, (*ed, es, eb, *ef), (*ad, as_, ab, *af), policy),
    }
}

type Answer<'a> = (DType, &'a Vec<usize>, &'a Vec<u8>, FpFlags);

fn compare_values(op: &str, e: Answer<'_>, a: Answer<'_>, policy: &Policy) -> Status {
    let p = policy.for_op(op);
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
    let n = e.1.iter().product::<usize>();
    if a.2.len() != n * dtype.itemsize() || e.2.len() != n * dtype.itemsize() {
        return fail("shape", json!(e.2.len()), json!(a.2.len()));
    }
    let mut first: Option<(usize, Option<u64>)> = None;
    let mut max_ulp: Option<u64> = None;
    for i in 0..n {
        let mismatch = if dtype.is_float() {
            let width = if dtype == DType::Float32 { 32 } else { 64 };
            let bound = if dtype == DType::Float32 {
                p.ulp_f32
            } else {
                p.ulp_f64
            };
            match (float_bits(e.2, i, dtype), float_bits(a.2, i, dtype)) {
                (Some(x), Some(y)) => float_matches(x, y, width, bound, p).err(),
                _ => Some(None),
            }
        } else {
            let w = dtype.itemsize();
            (e.2.get(i * w..(i + 1) * w) != a.2.get(i * w..(i + 1) * w)).then_some(None)
        };
        if let Some(ulp) = mismatch {
            if let Some(u) = ulp {
                max_ulp = Some(max_ulp.map_or(u, |m: u64| m.max(u)));
            }
            if first.is_none() {
                first = Some((i, ulp));
            }
        }
    }
    if let Some((index, ulp)) = first {
        return Status::Fail {
            what: "value".into(),
            index: Some(index),
            expected: value::decode_value(dtype, e.2, index).unwrap_or(Value::Null),
            actual: value::decode_value(dtype, a.2, index).unwrap_or(Value::Null),
            ulp,
            max_ulp,
        };
    }
    if p.flags == FlagPolicy::Exact && e.3 != a.3 {
        return fail("fp_flags", flag_names(e.3), flag_names(a.3));
    }
    Status::Pass
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(dtype: DType, bytes: Vec<u8>, flags: FpFlags) -> (Expected, CaseOutcome) {
        let n = bytes.len() / dtype.itemsize();
        (
            Expected::Ok {
                dtype,
                shape: vec![n],
                bytes: bytes.clone(),
                flags,
            },
            CaseOutcome::Ok {
                dtype,
                shape: vec![n],
                bytes,
                flags,
            },
        )
    }

    fn f64s(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn identical_answers_pass() {
        let (e, a) = ok(
            DType::Float64,
            f64s(&[1.0, f64::NAN, -0.0]),
            FpFlags::INVALID,
        );
        assert_eq!(compare("add", &e, &a, &Policy::builtin()), Status::Pass);
    }

    #[test]
    fn a_wrong_value_fails_with_index_values_and_ulp() {
        let (e, _) = ok(DType::Float64, f64s(&[1.0, 2.0, 3.0]), FpFlags::NONE);
        let a = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![3],
            bytes: f64s(&[1.0, f64::from_bits(2.0f64.to_bits() + 3), 3.5]),
            flags: FpFlags::NONE,
        };
        match compare("add", &e, &a, &Policy::builtin()) {
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
        };
        assert_eq!(compare("add", &e, &a, &Policy::builtin()).name(), "fail");
        assert_eq!(compare("maximum", &e, &a, &Policy::builtin()), Status::Pass);
        assert_eq!(compare("nanmin", &e, &a, &Policy::builtin()), Status::Pass);
    }

    #[test]
    fn nan_sign_only_where_defined() {
        let (e, _) = ok(DType::Float64, f64s(&[f64::NAN]), FpFlags::NONE);
        let a = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![1],
            bytes: f64s(&[-f64::NAN]),
            flags: FpFlags::NONE,
        };
        assert_eq!(compare("add", &e, &a, &Policy::builtin()), Status::Pass);
        assert_eq!(
            compare("negative", &e, &a, &Policy::builtin()).name(),
            "fail"
        );
        // NaN is never equal to a number.
        let b = CaseOutcome::Ok {
            dtype: DType::Float64,
            shape: vec![1],
            bytes: f64s(&[1.0]),
            flags: FpFlags::NONE,
        };
        assert_eq!(compare("add", &e, &b, &Policy::builtin()).name(), "fail");
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
        };
        assert_eq!(
            compare("power", &e, &a, &Policy::builtin()),
            Status::Pass,
            "1 ULP and lenient flags"
        );
        assert_eq!(compare("add", &e, &a, &Policy::builtin()).name(), "fail");
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
        };
        assert_eq!(
            compare("power", &e, &inf, &Policy::builtin()).name(),
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
        };
        assert!(
            matches!(compare("add", &e, &wrong_dtype, &Policy::builtin()), Status::Fail { ref what, .. } if what == "dtype")
        );
        let wrong_shape = CaseOutcome::Ok {
            dtype: DType::Int8,
            shape: vec![2, 1],
            bytes: vec![1, 2],
            flags: FpFlags::NONE,
        };
        assert!(
            matches!(compare("add", &e, &wrong_shape, &Policy::builtin()), Status::Fail { ref what, .. } if what == "shape")
        );
        let flags = CaseOutcome::Ok {
            dtype: DType::Int8,
            shape: vec![2],
            bytes: vec![1, 2],
            flags: FpFlags::DIVIDE,
        };
        assert!(
            matches!(compare("add", &e, &flags, &Policy::builtin()), Status::Fail { ref what, .. } if what == "fp_flags")
        );
        let err = CaseOutcome::Error {
            exception: "TypeError".into(),
            message: "x".into(),
        };
        assert_eq!(
            compare("add", &e, &err, &Policy::builtin()).name(),
            "error_mismatch"
        );
        let ee = Expected::Error("TypeError".into());
        assert_eq!(compare("add", &ee, &err, &Policy::builtin()), Status::Pass);
        let other = CaseOutcome::Error {
            exception: "ValueError".into(),
            message: "x".into(),
        };
        assert_eq!(
            compare("add", &ee, &other, &Policy::builtin()).name(),
            "error_mismatch"
        );
        assert_eq!(
            compare("add", &ee, &wrong_dtype, &Policy::builtin()).name(),
            "error_mismatch"
        );
        let un = Expected::Unsupported("float16".into());
        assert_eq!(
            compare("add", &un, &err, &Policy::builtin()).name(),
            "unsupported"
        );
        assert_eq!(
            compare("add", &ee, &CaseOutcome::TimedOut, &Policy::builtin()).name(),
            "timed_out"
        );
        assert!(Status::TimedOut.is_failure());
        assert!(!Status::Unsupported(String::new()).is_failure());
    }

    #[test]
    fn ulp_distance_crosses_zero() {
        let a = f64::from_bits(1).to_bits();
        let b = (-f64::from_bits(1)).to_bits();
        assert_eq!(ulp_distance(a, b, 64), 2);
        assert_eq!(ulp_distance(0.0f64.to_bits(), (-0.0f64).to_bits(), 64), 0);
    }
}
