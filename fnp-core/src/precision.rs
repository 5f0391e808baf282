//! How closely each op matches NumPy: the one accuracy table.
//!
//! For every op and output dtype, a [`Policy`]: the allowed distance in
//! ULP (0 = bit-exact), whether the sign of a zero or of a NaN is compared,
//! and which IEEE flags are not compared because NumPy's own answer depends
//! on the CPU. The host's comparator reads it through [`policy`]; a test
//! checks that every [`BinaryOp`] has an entry for each loop dtype NumPy
//! has. Each entry says why, next to the numbers.
//!
//! [`BinaryOp`]: crate::ufunc::BinaryOp

use crate::dtype::DType;
use crate::flags::FpFlags;

/// Whether the sign bit of a NaN result is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NanSign {
    /// The op passes a NaN operand through unchanged: its sign is defined.
    Compare,
    /// The NaN is created by the operation or its choice varies: x86 sets
    /// the sign bit of a created NaN, ARM does not.
    Ignore,
}

/// How results of one op in one dtype are compared with NumPy's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// Allowed distance in units in the last place for float results
    /// (0 = bit-exact; always 0 for integers and bool).
    pub ulp: u32,
    /// +0.0 and -0.0 compare equal (NumPy's choice varies with length and CPU).
    pub zero_sign_any: bool,
    /// Whether a NaN's sign bit is compared.
    pub nan_sign: NanSign,
    /// Flags not compared (NumPy raises them or not depending on the CPU).
    pub lenient_flags: FpFlags,
    /// Why the entry is what it is.
    pub why: &'static str,
}

impl Policy {
    /// Bit-exact, every flag compared; NaN signs ignored (a created NaN's
    /// sign is CPU-dependent; for non-float dtypes there are no NaNs).
    pub const EXACT: Policy = Policy {
        ulp: 0,
        zero_sign_any: false,
        nan_sign: NanSign::Ignore,
        lenient_flags: FpFlags::NONE,
        why: "correctly rounded IEEE operation or exact integer arithmetic",
    };

    /// Whether `actual` is an acceptable float64 answer where NumPy gave
    /// `expected`.
    pub fn accepts_f64(&self, expected: f64, actual: f64) -> bool {
        if expected.is_nan() || actual.is_nan() {
            return expected.is_nan()
                && actual.is_nan()
                && (self.nan_sign == NanSign::Ignore
                    || expected.is_sign_negative() == actual.is_sign_negative());
        }
        if expected == 0.0 && actual == 0.0 && self.zero_sign_any {
            return true;
        }
        ulp_diff_f64(expected, actual) <= u64::from(self.ulp)
    }

    /// Whether `actual` is an acceptable float32 answer where NumPy gave
    /// `expected`.
    pub fn accepts_f32(&self, expected: f32, actual: f32) -> bool {
        if expected.is_nan() || actual.is_nan() {
            return expected.is_nan()
                && actual.is_nan()
                && (self.nan_sign == NanSign::Ignore
                    || expected.is_sign_negative() == actual.is_sign_negative());
        }
        if expected == 0.0 && actual == 0.0 && self.zero_sign_any {
            return true;
        }
        ulp_diff_f32(expected, actual) <= self.ulp
    }

    /// Whether one element's little-endian bytes `actual` are an acceptable
    /// answer where NumPy gave `expected`, both of `dtype`: floats by
    /// [`Policy::accepts_f32`]/[`Policy::accepts_f64`], everything else
    /// byte for byte. Wrong lengths are never accepted.
    pub fn accepts_element(&self, dtype: DType, expected: &[u8], actual: &[u8]) -> bool {
        if expected.len() != dtype.itemsize() || actual.len() != dtype.itemsize() {
            return false;
        }
        match dtype {
            DType::Float32 => match (<[u8; 4]>::try_from(expected), <[u8; 4]>::try_from(actual)) {
                (Ok(e), Ok(a)) => self.accepts_f32(f32::from_le_bytes(e), f32::from_le_bytes(a)),
                _ => false,
            },
            DType::Float64 => match (<[u8; 8]>::try_from(expected), <[u8; 8]>::try_from(actual)) {
                (Ok(e), Ok(a)) => self.accepts_f64(f64::from_le_bytes(e), f64::from_le_bytes(a)),
                _ => false,
            },
            _ => expected == actual,
        }
    }

    /// Whether the flags `actual` match NumPy's `expected` outside the
    /// lenient set.
    pub fn accepts_flags(&self, expected: FpFlags, actual: FpFlags) -> bool {
        let keep = !self.lenient_flags.bits();
        expected.bits() & keep == actual.bits() & keep
    }
}

/// Distance in representable float64 values between two non-NaN floats
/// (`-0.0` and `+0.0` are one apart, inf is one past MAX); `u64::MAX` if
/// either is NaN.
pub fn ulp_diff_f64(a: f64, b: f64) -> u64 {
    if a.is_nan() || b.is_nan() {
        return u64::MAX;
    }
    // Map the sign-magnitude bits onto a monotone integer line.
    let key = |x: f64| -> i128 {
        let bits = x.to_bits();
        let mag = i128::from(bits & !(1 << 63));
        if bits >> 63 == 1 {
            -mag - 1
        } else {
            mag
        }
    };
    u64::try_from((key(a) - key(b)).unsigned_abs()).unwrap_or(u64::MAX)
}

/// [`ulp_diff_f64`] for float32.
pub fn ulp_diff_f32(a: f32, b: f32) -> u32 {
    if a.is_nan() || b.is_nan() {
        return u32::MAX;
    }
    let key = |x: f32| -> i64 {
        let bits = x.to_bits();
        let mag = i64::from(bits & !(1 << 31));
        if bits >> 31 == 1 {
            -mag - 1
        } else {
            mag
        }
    };
    u32::try_from((key(a) - key(b)).unsigned_abs()).unwrap_or(u32::MAX)
}

/// Which dtypes an entry covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Dtypes {
    /// bool only.
    Bool,
    /// Every signed and unsigned integer dtype.
    Integers,
    /// float32 only.
    Float32,
    /// float64 only.
    Float64,
}

impl Dtypes {
    /// Whether `d` is covered.
    pub const fn contains(self, d: DType) -> bool {
        match self {
            Dtypes::Bool => matches!(d, DType::Bool),
            Dtypes::Integers => d.is_integer(),
            Dtypes::Float32 => matches!(d, DType::Float32),
            Dtypes::Float64 => matches!(d, DType::Float64),
        }
    }
}

/// One row of the table: an op (NumPy's name), the output dtypes it covers
/// and their policy. An op × dtype absent from the table has no NumPy loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Entry {
    /// NumPy's ufunc name.
    pub op: &'static str,
    /// Output dtypes covered.
    pub dtypes: Dtypes,
    /// How they are compared.
    pub policy: Policy,
}

const fn exact(op: &'static str, dtypes: Dtypes) -> Entry {
    Entry {
        op,
        dtypes,
        policy: Policy::EXACT,
    }
}

const fn with(op: &'static str, dtypes: Dtypes, policy: Policy) -> Entry {
    Entry { op, dtypes, policy }
}

/// maximum/minimum: pick an operand, so bit-exact except the sign of a
/// zero; a NaN operand is returned unchanged (the first when both are NaN,
/// NumPy 2.4 on every length tried), so its sign is compared.
const MAX_FAMILY: Policy = Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Compare,
    lenient_flags: FpFlags::NONE,
    why: "picks an operand; NumPy's choice between +0.0 and -0.0 varies with \
          array length and SIMD path, NaN operands pass through unchanged",
};

/// fmax/fmin: like maximum, but when both operands are NaN NumPy returns the
/// second for arrays shorter than 8 and the first for longer ones (AVX-512
/// loop), so the NaN's sign is not defined.
const FMAX_FAMILY: Policy = Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::NONE,
    why: "picks an operand; zero sign varies as for maximum, and which of two \
          NaNs is returned varies with array length",
};

/// Float power: NumPy uses SVML's pow on AVX-512 CPUs and the C library's
/// elsewhere, each within 1 ULP of the true value; fnp uses libm's pow,
/// also within 1 ULP, so the two may be 2 ULP apart. On the 2 368 float
/// pairs of fixtures/numpy/binary_edges.json (NumPy 2.4.6 on AVX-512, libm
/// 0.2.16) 58 results are not bit-identical, none more than 1 ULP apart
/// (tests/numpy_edges.rs with this bound set to 0 lists them).
///
/// Overflow is lenient: SVML raises it for `pow(|x| >= 2^(MAX_EXP/2), inf)`
/// (fnp follows the AVX-512 oracle there) while glibc does not. A finite
/// power that overflows still shows as an inf result, which is compared.
/// Underflow is compared: glibc and SVML both flag every result below
/// MIN_POSITIVE, exact ones such as `pow(0.5, 1074)` included.
const PICKS_ELEMENT: Policy = Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::NONE,
    why: "returns one of the elements; NumPy's SIMD min/max reductions pick \
          +0.0 or -0.0, and which NaN, depending on length and CPU",
};

const POWER_FLOAT: Policy = Policy {
    ulp: 2,
    zero_sign_any: false,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::OVERFLOW,
    why: "NumPy's pow (SVML or C library, <= 1 ULP) + libm's pow (<= 1 ULP); \
          overflow for pow(huge, inf) is raised by SVML only",
};

/// The table: every binary op, for every output dtype NumPy has a loop for.
pub const TABLE: &[Entry] = &[
    // Integer arithmetic wraps exactly; float + - * / are correctly
    // rounded, and floor_divide/remainder are built from exact fmod and
    // correctly rounded steps exactly as npy_divmod does.
    exact("add", Dtypes::Bool),
    exact("add", Dtypes::Integers),
    exact("add", Dtypes::Float32),
    exact("add", Dtypes::Float64),
    exact("subtract", Dtypes::Integers),
    exact("subtract", Dtypes::Float32),
    exact("subtract", Dtypes::Float64),
    exact("multiply", Dtypes::Bool),
    exact("multiply", Dtypes::Integers),
    exact("multiply", Dtypes::Float32),
    exact("multiply", Dtypes::Float64),
    exact("true_divide", Dtypes::Float32),
    exact("true_divide", Dtypes::Float64),
    exact("floor_divide", Dtypes::Integers),
    exact("floor_divide", Dtypes::Float32),
    exact("floor_divide", Dtypes::Float64),
    exact("remainder", Dtypes::Integers),
    exact("remainder", Dtypes::Float32),
    exact("remainder", Dtypes::Float64),
    exact("power", Dtypes::Integers),
    with("power", Dtypes::Float32, POWER_FLOAT),
    with("power", Dtypes::Float64, POWER_FLOAT),
    exact("maximum", Dtypes::Bool),
    exact("maximum", Dtypes::Integers),
    with("maximum", Dtypes::Float32, MAX_FAMILY),
    with("maximum", Dtypes::Float64, MAX_FAMILY),
    exact("minimum", Dtypes::Bool),
    exact("minimum", Dtypes::Integers),
    with("minimum", Dtypes::Float32, MAX_FAMILY),
    with("minimum", Dtypes::Float64, MAX_FAMILY),
    exact("fmax", Dtypes::Bool),
    exact("fmax", Dtypes::Integers),
    with("fmax", Dtypes::Float32, FMAX_FAMILY),
    with("fmax", Dtypes::Float64, FMAX_FAMILY),
    exact("fmin", Dtypes::Bool),
    exact("fmin", Dtypes::Integers),
    with("fmin", Dtypes::Float32, FMAX_FAMILY),
    with("fmin", Dtypes::Float64, FMAX_FAMILY),
    // Reductions. Sums follow NumPy's order of evaluation (pairwise blocks,
    // chunking, where= runs), so their floats are bit-exact too.
    exact("sum", Dtypes::Integers),
    exact("sum", Dtypes::Float32),
    exact("sum", Dtypes::Float64),
    exact("prod", Dtypes::Integers),
    exact("prod", Dtypes::Float32),
    exact("prod", Dtypes::Float64),
    exact("mean", Dtypes::Integers),
    exact("mean", Dtypes::Float32),
    exact("mean", Dtypes::Float64),
    exact("var", Dtypes::Integers),
    exact("var", Dtypes::Float32),
    exact("var", Dtypes::Float64),
    exact("std", Dtypes::Integers),
    exact("std", Dtypes::Float32),
    exact("std", Dtypes::Float64),
    exact("cumsum", Dtypes::Integers),
    exact("cumsum", Dtypes::Float32),
    exact("cumsum", Dtypes::Float64),
    exact("cumprod", Dtypes::Integers),
    exact("cumprod", Dtypes::Float32),
    exact("cumprod", Dtypes::Float64),
    exact("nansum", Dtypes::Integers),
    exact("nansum", Dtypes::Float32),
    exact("nansum", Dtypes::Float64),
    exact("nanprod", Dtypes::Integers),
    exact("nanprod", Dtypes::Float32),
    exact("nanprod", Dtypes::Float64),
    exact("nanmean", Dtypes::Integers),
    exact("nanmean", Dtypes::Float32),
    exact("nanmean", Dtypes::Float64),
    exact("min", Dtypes::Bool),
    exact("min", Dtypes::Integers),
    with("min", Dtypes::Float32, PICKS_ELEMENT),
    with("min", Dtypes::Float64, PICKS_ELEMENT),
    exact("max", Dtypes::Bool),
    exact("max", Dtypes::Integers),
    with("max", Dtypes::Float32, PICKS_ELEMENT),
    with("max", Dtypes::Float64, PICKS_ELEMENT),
    exact("nanmin", Dtypes::Bool),
    exact("nanmin", Dtypes::Integers),
    with("nanmin", Dtypes::Float32, PICKS_ELEMENT),
    with("nanmin", Dtypes::Float64, PICKS_ELEMENT),
    exact("nanmax", Dtypes::Bool),
    exact("nanmax", Dtypes::Integers),
    with("nanmax", Dtypes::Float32, PICKS_ELEMENT),
    with("nanmax", Dtypes::Float64, PICKS_ELEMENT),
    exact("argmin", Dtypes::Integers),
    exact("argmax", Dtypes::Integers),
    exact("count_nonzero", Dtypes::Integers),
    exact("any", Dtypes::Bool),
    exact("all", Dtypes::Bool),
];

/// The policy for `op_name` (NumPy's name; `divide` and `mod` are accepted
/// as aliases) producing `dtype`, or `None` when NumPy has no such loop.
pub fn policy(op_name: &str, dtype: DType) -> Option<Policy> {
    let op = match op_name {
        "divide" => "true_divide",
        "mod" => "remainder",
        "amin" => "min",
        "amax" => "max",
        other => other,
    };
    TABLE
        .iter()
        .find(|e| e.op == op && e.dtypes.contains(dtype))
        .map(|e| e.policy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ufunc::BinaryOp;

    /// Every binary op has an entry for exactly the output dtypes its
    /// NumPy loops produce.
    #[test]
    fn every_binary_op_has_an_entry() {
        for &op in BinaryOp::ALL {
            for d in DType::ALL {
                let has_loop = match (op, d) {
                    (BinaryOp::TrueDivide, d) => d.is_float(),
                    (_, DType::Bool) => op.has_bool_loop(),
                    _ => true,
                };
                assert_eq!(
                    policy(op.name(), d).is_some(),
                    has_loop,
                    "{} {d}",
                    op.name()
                );
            }
        }
        // No entry names an op that does not exist, none is duplicated.
        for (i, e) in TABLE.iter().enumerate() {
            assert!(crate::op::Op::from_name(e.op).is_some(), "{}", e.op);
            assert!(!TABLE[..i]
                .iter()
                .any(|f| f.op == e.op && f.dtypes == e.dtypes));
            assert!(!e.policy.why.is_empty());
        }
        assert_eq!(
            policy("divide", DType::Float32),
            policy("true_divide", DType::Float32)
        );
        assert_eq!(policy("mod", DType::Int8), policy("remainder", DType::Int8));
        assert_eq!(policy("sqrt", DType::Float64), None);
    }

    /// Every reduction has an entry for each output dtype it produces from
    /// each input dtype (default parameters).
    #[test]
    fn every_reduction_has_an_entry() {
        use crate::reduce::{ReduceOp, ReduceParams};
        use crate::{ArrayRef, Layout, Shape};
        let params = ReduceParams::default();
        let bytes = [0u64; 2];
        for &op in ReduceOp::ALL {
            for d in DType::ALL {
                let data = &bytemuck::cast_slice::<u64, u8>(&bytes)[..d.itemsize() * 2];
                let a = ArrayRef::new(d, data, Layout::c_contiguous(Shape::vector(2))).unwrap();
                if let Ok((out, _)) = op.output(&a, &params) {
                    assert!(
                        policy(op.name(), out).is_some(),
                        "{} {d} -> {out}",
                        op.name()
                    );
                }
            }
        }
        assert_eq!(
            policy("amax", DType::Float32),
            policy("max", DType::Float32)
        );
    }

    #[test]
    fn ulp_distances() {
        assert_eq!(ulp_diff_f64(1.0, 1.0), 0);
        assert_eq!(ulp_diff_f64(0.0, -0.0), 1);
        assert_eq!(ulp_diff_f64(f64::MAX, f64::INFINITY), 1);
        assert_eq!(ulp_diff_f64(1.0, 1.0 + f64::EPSILON), 1);
        assert_eq!(
            ulp_diff_f64(-f64::MIN_POSITIVE, f64::MIN_POSITIVE),
            2 * (1 << 52) + 1
        );
        assert_eq!(ulp_diff_f64(f64::NAN, 1.0), u64::MAX);
        assert_eq!(
            ulp_diff_f64(f64::NEG_INFINITY, f64::INFINITY),
            2 * 0x7ff0_0000_0000_0000 + 1
        );
        assert_eq!(ulp_diff_f32(1.0, 1.0 + f32::EPSILON), 1);
        assert_eq!(ulp_diff_f32(0.0, -0.0), 1);
        assert_eq!(ulp_diff_f32(f32::NAN, 0.0), u32::MAX);
    }

    #[test]
    fn policies_accept_what_they_say() {
        let max = policy("maximum", DType::Float64).unwrap();
        assert!(max.accepts_f64(0.0, -0.0));
        assert!(!max.accepts_f64(f64::NAN, -f64::NAN));
        assert!(max.accepts_f64(-f64::NAN, -f64::NAN));
        let add = policy("add", DType::Float32).unwrap();
        assert!(!add.accepts_f32(0.0, -0.0));
        assert!(add.accepts_f32(f32::NAN, -f32::NAN));
        assert!(!add.accepts_f32(1.0, 1.0 + f32::EPSILON));
        let pow = policy("power", DType::Float64).unwrap();
        assert!(pow.accepts_f64(1.0, 1.0 + 2.0 * f64::EPSILON));
        assert!(!pow.accepts_f64(1.0, 1.0 + 3.0 * f64::EPSILON));
        assert!(!pow.accepts_f64(1.0, f64::NAN));
        assert!(pow.accepts_flags(FpFlags::OVERFLOW, FpFlags::NONE));
        assert!(!pow.accepts_flags(FpFlags::UNDERFLOW, FpFlags::NONE));
        assert!(!add.accepts_flags(FpFlags::UNDERFLOW, FpFlags::NONE));
        let one = 1f64.to_le_bytes();
        let next = (1f64 + f64::EPSILON).to_le_bytes();
        assert!(pow.accepts_element(DType::Float64, &one, &next));
        assert!(!policy("add", DType::Float64).unwrap().accepts_element(
            DType::Float64,
            &one,
            &next
        ));
        assert!(!pow.accepts_element(DType::Float64, &one, &next[..4]));
        let z = 0f32.to_le_bytes();
        let nz = (-0f32).to_le_bytes();
        assert!(max.accepts_element(DType::Float32, &z, &nz));
        assert!(!add.accepts_element(DType::Float32, &z, &nz));
        let int = policy("add", DType::Int16).unwrap();
        assert!(int.accepts_element(DType::Int16, &[1, 2], &[1, 2]));
        assert!(!int.accepts_element(DType::Int16, &[1, 2], &[1, 3]));
    }
}
