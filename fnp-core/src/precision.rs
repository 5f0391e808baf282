//! How closely each op matches NumPy: the one accuracy table.
//!
//! For every op and output dtype, a [`Policy`]: the allowed distance in
//! ULP (0 = bit-exact), whether the sign of a zero or of a NaN is compared,
//! and which IEEE flags are not compared because NumPy's own answer depends
//! on the CPU. Each op's row in [`crate::table`] names its [`Accuracy`];
//! the host's comparator reads it through [`crate::op::policy`], and a test
//! checks that every op has an entry for each output dtype NumPy's loops
//! produce. Each policy says why, next to the numbers.

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

/// How an op's float32 and float64 results compare with NumPy's; every
/// row of [`crate::table`] names one, so a new op brings its accuracy in
/// its own row. Integer and bool results are always [`Policy::EXACT`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Accuracy {
    /// float32 results.
    pub f32: Policy,
    /// float64 results.
    pub f64: Policy,
}

impl Accuracy {
    /// Bit-exact in both float widths.
    pub const EXACT: Accuracy = Accuracy::both(Policy::EXACT);

    /// The same policy for both widths.
    pub const fn both(p: Policy) -> Accuracy {
        Accuracy { f32: p, f64: p }
    }

    /// The policy for results of `dtype`.
    pub const fn of(self, dtype: DType) -> Policy {
        match dtype {
            DType::Float32 => self.f32,
            DType::Float64 => self.f64,
            _ => Policy::EXACT,
        }
    }
}

/// Bit-exact.
pub const EXACT: Accuracy = Accuracy::EXACT;

/// A libm transcendental: allowed distance is NumPy's own documented
/// tolerance for the function (the `ulperr` column of its
/// `umath-validation-set-*.csv`, which every NumPy build is tested
/// against; `numpy_f32`/`numpy_f64` here) plus 1 ULP for libm, whose
/// functions (ports of musl/FreeBSD msun) are documented as < 1 ULP, and
/// for fnp's own float32 exp, log, sin and cos (`ufunc::vmath`), within
/// 1 ULP of the correctly rounded result on all 2^32 inputs.
/// Neither number depends on the host: NumPy's SIMD results differ by CPU,
/// its tolerance does not.
///
/// `lenient` lists the flags NumPy itself raises or not depending on the
/// code path (its SIMD loops, glibc's scalar functions): typically
/// `underflow` for tiny results, which AVX-512 loops do not report.
pub const fn transcendental(numpy_f32: u32, numpy_f64: u32, lenient: FpFlags) -> Accuracy {
    const fn within(ulp: u32, lenient: FpFlags) -> Policy {
        Policy {
            ulp,
            zero_sign_any: false,
            nan_sign: NanSign::Ignore,
            lenient_flags: lenient,
            why: "NumPy's documented tolerance for this function \
                  (umath-validation-set ulperr) + 1 ULP for libm (< 1 ULP); \
                  flags NumPy's SIMD and scalar paths raise differently are lenient",
        }
    }
    Accuracy {
        f32: within(numpy_f32 + 1, lenient),
        f64: within(numpy_f64 + 1, lenient),
    }
}

/// negative, positive, absolute, sign, copysign: exact, and they define
/// the sign of a NaN result (they flip, clear or copy sign bits).
pub const SIGN_OPS: Accuracy = Accuracy::both(Policy {
    ulp: 0,
    zero_sign_any: false,
    nan_sign: NanSign::Compare,
    lenient_flags: FpFlags::NONE,
    why: "exact sign-bit operation: the sign of a NaN is defined",
});

/// maximum/minimum: pick an operand, so bit-exact except the sign of a
/// zero; a NaN operand is returned unchanged (the first when both are NaN,
/// NumPy 2.4 on every length tried), so its sign is compared.
pub const MAX_FAMILY: Accuracy = Accuracy::both(Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Compare,
    lenient_flags: FpFlags::NONE,
    why: "picks an operand; NumPy's choice between +0.0 and -0.0 varies with \
          array length and SIMD path, NaN operands pass through unchanged",
});

/// fmax/fmin: like maximum, but when both operands are NaN NumPy returns the
/// second for arrays shorter than 8 and the first for longer ones (AVX-512
/// loop), so the NaN's sign is not defined.
pub const FMAX_FAMILY: Accuracy = Accuracy::both(Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::NONE,
    why: "picks an operand; zero sign varies as for maximum, and which of two \
          NaNs is returned varies with array length",
});

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
pub const POWER: Accuracy = Accuracy::both(Policy {
    ulp: 2,
    zero_sign_any: false,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::OVERFLOW,
    why: "NumPy's pow (SVML or C library, <= 1 ULP) + libm's pow (<= 1 ULP); \
          overflow for pow(huge, inf) is raised by SVML only",
});

/// `power` and `float_power` folded by `reduce`/`accumulate`: each step's
/// result is the next step's base, and pow's relative error is multiplied
/// by `|y ln x|` on the way, so the 2 ULP of one call grow along the fold.
pub const POWER_FOLD: Accuracy = Accuracy::both(Policy {
    ulp: 16,
    zero_sign_any: false,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::OVERFLOW,
    why: "pow's <= 2 ULP per step (NumPy's pow vs libm's) fed back as the next base, \
          where the error is scaled by |y ln x|",
});

/// arctan2: NumPy's documented tolerance for arctan (3 / 1 ULP in
/// float32 / float64; atan2 has no row of its own) + libm's < 1 ULP.
pub const ARCTAN2: Accuracy = transcendental(3, 1, FpFlags::UNDERFLOW);

/// hypot: C's hypot is < 1 ULP on both sides (glibc's is correctly
/// rounded in float32); 1 + 1.
pub const HYPOT: Accuracy = transcendental(1, 1, FpFlags::UNDERFLOW);

/// logaddexp/logaddexp2: NumPy's formula over exp and log1p, each within
/// 1 ULP in NumPy's C library and in libm, and a final add: 2 ULP each way
/// (tested on the corpus, float32 computed in single precision as NumPy's
/// `npy_logaddexpf`).
pub const LOGADDEXP: Accuracy = transcendental(2, 2, FpFlags::UNDERFLOW);

/// min/max and their NaN-aware forms as reductions: they return one of the
/// elements, but which zero or NaN depends on NumPy's SIMD path.
pub const PICKS_ELEMENT: Accuracy = Accuracy::both(Policy {
    ulp: 0,
    zero_sign_any: true,
    nan_sign: NanSign::Ignore,
    lenient_flags: FpFlags::NONE,
    why: "returns one of the elements; NumPy's SIMD min/max reductions pick \
          +0.0 or -0.0, and which NaN, depending on length and CPU",
});

#[cfg(test)]
mod tests {
    use super::*;

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
}
