//! IEEE arithmetic on f32/f64 with the status flags NumPy's `errstate`
//! would see, derived in software from operands and results.
//!
//! Kernels compute a run of results with plain arithmetic (which the
//! compiler vectorizes) and only call the `*_flags` functions here for the
//! few elements whose operands or result are zero, subnormal, infinite or
//! NaN: every flag needs one of those, so the common path pays one cheap
//! exponent test per element.

use super::Num;
use crate::flags::FpFlags;
use core::ops::{Add, Div, Mul, Neg, Sub};

/// The float loop types, f32 and f64: what the kernels need beyond
/// [`Num`] (whose `ZERO`, `ONE`, `is_nan` and `is_finite` they share).
pub(crate) trait Float:
    Num
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    const HALF: Self;
    /// Smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// `MIN_POSITIVE == 2^(MIN_EXP - 1)`, Rust's convention.
    const MIN_EXP: i32;
    /// 2^(MAX_EXP/2): the smallest power of two whose square overflows.
    const SQRT_OVERFLOW: Self;
    const INFINITY: Self;
    /// Whether this target does the type's arithmetic in hardware: then
    /// one extra add per element is the cheapest flag pre-check; in
    /// software an exponent test on the bits is cheaper.
    const HARDWARE: bool;

    fn is_infinite(self) -> bool;
    /// Exponent field all zeros (zero, subnormal) or all ones (inf, NaN):
    /// the only values that can take part in a flag.
    fn is_special(self) -> bool;
    fn abs(self) -> Self;
    fn copysign(self, sign: Self) -> Self;
    fn floor(self) -> Self;
    fn fmod(self, b: Self) -> Self;
    fn pow(self, b: Self) -> Self;
    fn fma(self, b: Self, c: Self) -> Self;
    fn frexp(self) -> (Self, i32);
    fn scalbn(self, n: i32) -> Self;
    /// Whether `r`, the rounded `a * b` (or `a / b` with `divide`),
    /// underflowed: see [`tiny_inexact`].
    fn tiny_inexact(a: Self, b: Self, r: Self, divide: bool) -> bool;
}

macro_rules! float_impl {
    ($t:ty, $bits:ty, $expmask:expr, $fmod:path, $floor:path, $pow:path, $fma:path,
     $frexp:path, $scalbn:path, $copysign:path, $tiny:path, $hardware:expr) => {
        impl Float for $t {
            const HALF: $t = 0.5;
            const MIN_POSITIVE: $t = <$t>::MIN_POSITIVE;
            const MIN_EXP: i32 = <$t>::MIN_EXP;
            const SQRT_OVERFLOW: $t = <$t>::from_bits(
                ((<$t>::MAX_EXP / 2 + <$t>::MAX_EXP - 1) as $bits) << (<$t>::MANTISSA_DIGITS - 1),
            );
            const INFINITY: $t = <$t>::INFINITY;
            const HARDWARE: bool = $hardware;

            #[inline(always)]
            fn is_infinite(self) -> bool {
                self.is_infinite()
            }
            #[inline(always)]
            fn is_special(self) -> bool {
                let e = self.to_bits() & $expmask;
                e == 0 || e == $expmask
            }
            #[inline(always)]
            fn abs(self) -> $t {
                <$t>::from_bits(self.to_bits() & !(1 << (<$bits>::BITS - 1)))
            }
            #[inline(always)]
            fn copysign(self, sign: $t) -> $t {
                $copysign(self, sign)
            }
            #[inline(always)]
            fn floor(self) -> $t {
                $floor(self)
            }
            #[inline(always)]
            fn fmod(self, b: $t) -> $t {
                $fmod(self, b)
            }
            #[inline(always)]
            fn pow(self, b: $t) -> $t {
                $pow(self, b)
            }
            #[inline(always)]
            fn fma(self, b: $t, c: $t) -> $t {
                $fma(self, b, c)
            }
            #[inline(always)]
            fn frexp(self) -> ($t, i32) {
                $frexp(self)
            }
            #[inline(always)]
            fn scalbn(self, n: i32) -> $t {
                $scalbn(self, n)
            }
            #[inline(always)]
            fn tiny_inexact(a: $t, b: $t, r: $t, divide: bool) -> bool {
                $tiny(a, b, r, divide)
            }
        }
    };
}

float_impl!(
    f32,
    u32,
    0x7f80_0000u32,
    fmod_f32,
    libm::floorf,
    libm::powf,
    libm::fmaf,
    libm::frexpf,
    libm::scalbnf,
    libm::copysignf,
    tiny_inexact_f32,
    // Hosted targets, and Cortex-M4F/M7 (the eabihf ABI) for single precision.
    cfg!(any(not(target_os = "none"), target_abi = "eabihf"))
);
float_impl!(
    f64,
    u64,
    0x7ff0_0000_0000_0000u64,
    fmod_f64,
    libm::floor,
    libm::pow,
    libm::fma,
    libm::frexp,
    libm::scalbn,
    libm::copysign,
    tiny_inexact::<f64>,
    // The supported devices have no double-precision FPU.
    cfg!(not(target_os = "none"))
);

/// C's `fmod` for one float type, exact (the remainder of two floats is
/// always representable), in integer arithmetic with no panic path: the
/// dividend's significand is reduced modulo the divisor's a chunk of
/// exponent bits at a time in a wider integer. Ours rather than libm's so
/// the devices link no panic site for it and the bits are ours to prove.
macro_rules! exact_fmod {
    ($name:ident, $t:ty, $bits:ty, $wide:ty, $chunk:expr) => {
        pub(crate) fn $name(x: $t, y: $t) -> $t {
            const SIG_BITS: u32 = <$t>::MANTISSA_DIGITS - 1;
            const SIGN: $bits = 1 << (<$bits>::BITS - 1);
            const EXP_MASK: $bits = !SIGN & !((1 << SIG_BITS) - 1);
            const IMPLICIT: $bits = 1 << SIG_BITS;
            let sign = x.to_bits() & SIGN;
            let ax = x.to_bits() & !SIGN;
            let ay = y.to_bits() & !SIGN;
            // NaN for an infinite or NaN dividend, a zero or NaN divisor
            // (computed, so it raises invalid where hardware would).
            if ax >= EXP_MASK || ay == 0 || ay > EXP_MASK {
                return (x * y) / (x * y);
            }
            // |x| < |y| (an infinite y included): x itself.
            if ax < ay {
                return x;
            }
            // A finite float is sig · 2^(e + e_min): sig with its implicit
            // bit, e >= 0 the biased exponent past 1 (subnormals: e = 0).
            let split = |a: $bits| -> ($bits, u32) {
                if a < IMPLICIT {
                    (a, 0)
                } else {
                    ((a & (IMPLICIT - 1)) | IMPLICIT, (a >> SIG_BITS) as u32 - 1)
                }
            };
            let (mut rem, ex) = split(ax);
            let (div, ey) = split(ay);
            // (rem · 2^(ex - ey)) mod div, `$chunk` exponent bits a step;
            // div > 0, so the checked remainder never fails.
            let mut left = ex - ey;
            rem = ((rem as $wide).checked_rem(div as $wide).unwrap_or(0)) as $bits;
            while left > 0 {
                let step = left.min($chunk);
                let wide = (rem as $wide) << step;
                rem = wide.checked_rem(div as $wide).unwrap_or(0) as $bits;
                left -= step;
            }
            if rem == 0 {
                return <$t>::from_bits(sign);
            }
            // rem · 2^(ey + e_min): move bits up into the significand while
            // the exponent allows, the rest goes to the exponent field.
            let room = SIG_BITS - (<$bits>::BITS - 1 - rem.leading_zeros());
            let shift = ey.min(room);
            let bits = (rem << shift) + (((ey - shift) as $bits) << SIG_BITS);
            <$t>::from_bits(sign | bits)
        }
    };
}

exact_fmod!(fmod_f32, f32, u32, u64, 32);
exact_fmod!(fmod_f64, f64, u64, u128, 64);

/// NaN out of non-NaN inputs is `invalid`; NaN inputs raise nothing.
#[inline]
fn invalid<F: Float>(a: F, b: F, r: F) -> FpFlags {
    FpFlags::when(r.is_nan() && !a.is_nan() && !b.is_nan(), FpFlags::INVALID)
}

/// Flags of `r = a + b` (also `a - b`, with `b` negated or not: only the
/// classes matter). A subnormal sum is exact, so addition never underflows.
#[inline]
pub(crate) fn add_flags<F: Float>(a: F, b: F, r: F) -> FpFlags {
    invalid(a, b, r)
        | FpFlags::when(
            r.is_infinite() && a.is_finite() && b.is_finite(),
            FpFlags::OVERFLOW,
        )
}

/// Flags of `r = a * b`.
#[inline]
pub(crate) fn mul_flags<F: Float>(a: F, b: F, r: F) -> FpFlags {
    let finite = a.is_finite() && b.is_finite();
    let mut f = invalid(a, b, r) | FpFlags::when(r.is_infinite() && finite, FpFlags::OVERFLOW);
    if finite && a != F::ZERO && b != F::ZERO && r.abs() <= F::MIN_POSITIVE {
        f |= FpFlags::when(F::tiny_inexact(a, b, r, false), FpFlags::UNDERFLOW);
    }
    f
}

/// Flags of `r = a / b`.
#[inline]
pub(crate) fn div_flags<F: Float>(a: F, b: F, r: F) -> FpFlags {
    let mut f = div_flags_not_tiny(a, b, r);
    let finite = a.is_finite() && b.is_finite();
    if finite && a != F::ZERO && b != F::ZERO && r.abs() <= F::MIN_POSITIVE {
        f |= FpFlags::when(F::tiny_inexact(a, b, r, true), FpFlags::UNDERFLOW);
    }
    f
}

/// [`div_flags`] without the underflow test, for a quotient the caller
/// knows cannot be tiny.
#[inline]
pub(crate) fn div_flags_not_tiny<F: Float>(a: F, b: F, r: F) -> FpFlags {
    let finite = a.is_finite() && b.is_finite();
    invalid(a, b, r)
        | FpFlags::when(
            a.is_finite() && a != F::ZERO && b == F::ZERO,
            FpFlags::DIVIDE,
        )
        | FpFlags::when(r.is_infinite() && finite && b != F::ZERO, FpFlags::OVERFLOW)
}

/// `x / c` for a float32 `x` and an element count `c`, as NumPy's mean
/// computes it: the quotient in float64 rounded to float32, with the flags
/// of both steps. For `c <= 2^53` (every count a 32-bit target can form)
/// the float64 quotient is exact enough for the double rounding to be
/// innocuous (53 >= 2 * 24 + 2), so this is the correctly rounded float32
/// quotient, found here by integer long division: a device then links
/// neither a float64 division nor its conversions for `mean` of float32.
pub(crate) fn f32_div_count(x: f32, c: usize) -> (f32, FpFlags) {
    // Only a 64-bit target can count past 2^53 (a broadcast view).
    if c as u64 > 1 << 53 {
        let q = f64::from(x) / c as f64;
        return (q as f32, super::f64_to_f32_flags(q));
    }
    let bits = x.to_bits();
    let sign = bits & 0x8000_0000;
    if c == 0 {
        return if x.is_nan() {
            (x, FpFlags::NONE)
        } else if x == 0.0 {
            (f32::NAN, FpFlags::INVALID)
        } else {
            let flag = FpFlags::when(x.is_finite(), FpFlags::DIVIDE);
            (f32::from_bits(sign | f32::INFINITY.to_bits()), flag)
        };
    }
    if x == 0.0 || !x.is_finite() {
        // 0, inf and NaN divided by a positive count are themselves (a NaN
        // quieted as the float64 round trip quiets it).
        let quiet = if x.is_nan() { 0x0040_0000 } else { 0 };
        return (f32::from_bits(bits | quiet), FpFlags::NONE);
    }
    // |x| = m * 2^(e - 150) with m < 2^24 (subnormals have e = 1).
    let field = (bits >> 23) & 0xff;
    let (m, e) = if field == 0 {
        (bits & 0x7f_ffff, 1i32)
    } else {
        (bits & 0x7f_ffff | 0x80_0000, field as i32)
    };
    // q = floor(m * 2^k / c), k = bits(c) + 2, has 26 or 27 significant
    // bits when m is normal; `sticky` says whether a remainder was left.
    // Word-sized arithmetic (no 64-bit routines on a 32-bit device): the
    // remainder stays below c, and a bit shifted out of it means that the
    // doubled remainder exceeds c.
    let k = usize::BITS + 2 - c.leading_zeros();
    let (mut q, mut r) = (0u32, 0usize);
    for i in (0..24 + k).rev() {
        let bit = i.checked_sub(k).map_or(0, |s| (m >> s) & 1);
        let carry = r >> (usize::BITS - 1) != 0;
        r = (r << 1) | bit as usize;
        q <<= 1;
        if carry || r >= c {
            r = r.wrapping_sub(c);
            q |= 1;
        }
    }
    let sticky = r != 0;
    // |x / c| = (q + sticky) * 2^(e - 150 - k); its leading bit is at
    // 2^(lead - 127) as a float32 exponent field `lead`.
    let width = 32 - q.leading_zeros() as i32;
    let lead = e - k as i32 + width - 24;
    // Keep 24 bits of a normal result, fewer of a subnormal one.
    let (shift, base) = if lead >= 1 {
        (width - 24, ((lead - 1) as u32) << 23)
    } else {
        (width - 24 + 1 - lead, 0)
    };
    // q < 2^27, so a shift of 31 already leaves 0 with q below the half.
    let shift = shift.clamp(0, 31) as u32;
    let kept = q >> shift;
    let dropped = q & ((1u32 << shift) - 1);
    let half = (1u32 << shift) >> 1;
    let inexact = dropped != 0 || sticky;
    let up = dropped > half || (dropped == half && half != 0 && (sticky || kept & 1 == 1));
    // A carry out of the mantissa moves into the exponent field.
    let magnitude = base + kept + u32::from(up);
    let tiny = magnitude < 0x0080_0000;
    (
        f32::from_bits(sign | magnitude),
        FpFlags::when(tiny && inexact, FpFlags::UNDERFLOW),
    )
}

/// Whether `r`, the rounded `a * b` (or `a / b`), underflowed as x86 and
/// ARM define it: the result rounded to full precision with an unbounded
/// exponent is below `MIN_POSITIVE` ("tiny after rounding") and the
/// delivered `r` differs from the exact value. The mantissas are multiplied
/// (divided) in range, where an fma gives the exact residual.
fn tiny_inexact<F: Float>(a: F, b: F, r: F, divide: bool) -> bool {
    let (ma, ea) = a.frexp();
    let (mb, eb) = b.frexp();
    let (m, residual, e) = if divide {
        let q = ma / mb;
        (q, (-q).fma(mb, ma), ea - eb)
    } else {
        let p = ma * mb;
        (p, ma.fma(mb, -p), ea + eb)
    };
    let (_, em) = m.frexp();
    let tiny = em + e < F::MIN_EXP;
    // r is within a factor of two of m * 2^e (or zero), so scaling it back
    // by 2^-e is exact.
    let inexact = residual != F::ZERO || r == F::ZERO || r.scalbn(-e) != m;
    tiny && inexact
}

/// [`tiny_inexact`] for float32 in float64 arithmetic, without libm's
/// `fmaf`/`frexpf` (software on every Cortex-M). A float32 product is
/// exact in float64; a float32 quotient rounded to float64 rounds to the
/// same float32 as the exact one (53 >= 2 * 24 + 2 bits). Rounded to 24
/// bits with an unbounded exponent, a value is below `f32::MIN_POSITIVE`
/// exactly when it is below the midpoint `MIN_POSITIVE * (1 - 2^-25)`
/// (the tie goes to the even `MIN_POSITIVE`).
fn tiny_inexact_f32(a: f32, b: f32, r: f32, divide: bool) -> bool {
    let (a, b, r) = (f64::from(a), f64::from(b), f64::from(r));
    let midpoint = f64::from(f32::MIN_POSITIVE) * (1.0 - 1.0 / (1u64 << 25) as f64);
    let (value, inexact) = if divide {
        // r * b is exact in float64, so it equals a only when r is a / b.
        (a / b, r * b != a)
    } else {
        let p = a * b;
        (p, r != p)
    };
    value.abs() < midpoint && inexact
}

/// Flags of `r = pow(a, b)` as the C library and NumPy's SIMD pow raise
/// them: an infinity from a zero base is `divide`, from finite operands
/// `overflow`; every result below `MIN_POSITIVE` from a finite non-zero base
/// is `underflow`, even an exact one such as `pow(0.5, 1074)` (checked
/// against NumPy 2.4).
#[inline]
pub(crate) fn pow_flags<F: Float>(a: F, b: F, r: F) -> FpFlags {
    let finite = a.is_finite() && b.is_finite();
    let mut f = invalid(a, b, r);
    if r.is_infinite() && a == F::ZERO {
        f |= FpFlags::DIVIDE;
    } else if r.is_infinite() && a.is_finite() && (b.is_finite() || a.abs() >= F::SQRT_OVERFLOW) {
        // NumPy's SVML pow (AVX-512) also flags overflow for
        // pow(|a| >= 2^(MAX_EXP/2), +inf), where it squares the base; the
        // C library would not. fnp follows the recorded NumPy.
        f |= FpFlags::OVERFLOW;
    }
    if finite && a != F::ZERO && r.abs() < F::MIN_POSITIVE {
        f |= FpFlags::UNDERFLOW;
    }
    f
}

/// [`pow_flags`] as the C library raises them, which NumPy's
/// `float_power` loop calls: `pow(±0, -inf)` is an exact infinity without
/// `divide` (C99 leaves that flag to the library; glibc and NumPy 2.4
/// raise none), and only finite operands overflow.
#[inline]
pub(crate) fn c_pow_flags<F: Float>(a: F, b: F, r: F) -> FpFlags {
    let finite = a.is_finite() && b.is_finite();
    let mut f = invalid(a, b, r);
    if r.is_infinite() && a == F::ZERO && b.is_finite() {
        f |= FpFlags::DIVIDE;
    } else if r.is_infinite() && finite {
        f |= FpFlags::OVERFLOW;
    }
    if finite && a != F::ZERO && r.abs() < F::MIN_POSITIVE {
        f |= FpFlags::UNDERFLOW;
    }
    f
}

/// Python's `divmod` for floats, as NumPy's `npy_divmod`: the quotient is
/// computed from the exact `fmod` remainder, moved to the divisor's sign,
/// and snapped to the nearest integer, so that `floor_divide(1.0, 0.1)` is
/// 9.0 and `a == q * b + r` as closely as the floats allow. The flags are
/// those each step raises. `b == 0` is not handled here.
#[inline]
pub(crate) fn divmod<F: Float, const FLAGS: bool>(a: F, b: F) -> (F, F, FpFlags) {
    let mut flags = FpFlags::NONE;
    let mut m = a.fmod(b);
    if FLAGS {
        // fmod is exact; it is invalid for an infinite dividend.
        flags |= invalid(a, b, m);
    }
    let diff = a - m;
    let mut div = diff / b;
    if FLAGS {
        flags |= div_flags(diff, b, div);
    }
    if m != F::ZERO {
        if (b < F::ZERO) != (m < F::ZERO) {
            let m0 = m;
            m = m + b;
            div = div - F::ONE;
            if FLAGS {
                flags |= add_flags(m0, b, m);
            }
        }
    } else {
        m = F::ZERO.copysign(b);
    }
    let q = if div != F::ZERO {
        let mut fl = div.floor();
        let frac = div - fl;
        if FLAGS {
            flags |= add_flags(div, fl, frac);
        }
        if frac > F::HALF {
            fl = fl + F::ONE;
        }
        fl
    } else {
        let sign = a / b;
        if FLAGS {
            flags |= div_flags(a, b, sign);
        }
        F::ZERO.copysign(sign)
    };
    (q, m, flags)
}

/// `np.floor_divide` for one float pair, with flags when `FLAGS`.
#[inline]
pub(crate) fn floor_divide<F: Float, const FLAGS: bool>(a: F, b: F) -> (F, FpFlags) {
    if b == F::ZERO {
        // a / ±0 is ±inf or NaN: NumPy skips divmod so that only the
        // division's flag is raised.
        let r = a / b;
        return (
            r,
            if FLAGS {
                div_flags(a, b, r)
            } else {
                FpFlags::NONE
            },
        );
    }
    let (q, _, f) = divmod::<F, FLAGS>(a, b);
    (q, f)
}

/// `np.remainder` for one float pair, with flags when `FLAGS`.
///
/// The remainder half of `npy_divmod`: the C compiler drops the unused
/// quotient steps, so NumPy raises only what `fmod` raises (`invalid` for
/// an infinite dividend or a zero divisor), never the quotient's overflow
/// or underflow (checked against NumPy 2.4: `remainder(1.0, 1e-45)` in
/// float32 raises nothing).
#[inline]
pub(crate) fn remainder<F: Float, const FLAGS: bool>(a: F, b: F) -> (F, FpFlags) {
    let mut m = a.fmod(b);
    let flags = if FLAGS {
        invalid(a, b, m)
    } else {
        FpFlags::NONE
    };
    if b == F::ZERO {
        // fmod(a, 0) is NaN, which NumPy returns as is.
        return (m, flags);
    }
    if m != F::ZERO {
        // The sum cannot overflow: m and b have opposite signs here.
        if (b < F::ZERO) != (m < F::ZERO) {
            m = m + b;
        }
    } else {
        m = F::ZERO.copysign(b);
    }
    (m, flags)
}

#[cfg(test)]
mod tests {
    use super::{
        c_pow_flags, f32_div_count, fmod_f32, fmod_f64, pow_flags, tiny_inexact, tiny_inexact_f32,
    };
    use crate::flags::FpFlags;

    /// NumPy 2.4: `np.power(0.0, -np.inf)` flags divide (SVML),
    /// `np.float_power(0.0, -np.inf)` nothing (the C library); both flag
    /// divide for a finite negative exponent and overflow for finite
    /// operands.
    #[test]
    fn c_library_pow_flags() {
        let inf = f64::INFINITY;
        for zero in [0.0, -0.0] {
            assert_eq!(pow_flags(zero, -inf, inf), FpFlags::DIVIDE);
            assert_eq!(c_pow_flags(zero, -inf, inf), FpFlags::NONE);
            assert_eq!(c_pow_flags(zero, -1.0, inf), FpFlags::DIVIDE);
        }
        assert_eq!(c_pow_flags(10.0, 400.0, inf), FpFlags::OVERFLOW);
        assert_eq!(c_pow_flags(2.0, inf, inf), FpFlags::NONE);
        assert_eq!(c_pow_flags(-1.0, 0.5, f64::NAN), FpFlags::INVALID);
        assert_eq!(c_pow_flags(0.5, 1074.0, 5e-324), FpFlags::UNDERFLOW);
    }

    /// SplitMix64, for reproducible operands.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn same32(a: f32, b: f32) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    fn same64(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// The float64 route `f32_div_count` replaces: NumPy's quotient and the
    /// flags of the division and of the cast.
    fn div_count_via_f64(x: f32, c: usize) -> (f32, FpFlags) {
        let (x, c) = (f64::from(x), c as f64);
        let q = x / c;
        let flags = super::div_flags_not_tiny(x, c, q) | crate::num::f64_to_f32_flags(q);
        (q as f32, flags)
    }

    /// Long division gives the float64 route's bits and flags: special
    /// values, every exponent (subnormals included) against small, large,
    /// power-of-two and odd counts, and random operands.
    #[test]
    fn float32_mean_division_matches_the_float64_route() {
        let mut state = 11u64;
        let check = |x: f32, c: usize| {
            let (got, want) = (f32_div_count(x, c), div_count_via_f64(x, c));
            assert!(
                same32(got.0, want.0) && got.1 == want.1,
                "{x:e} / {c}: {got:?}, float64 route {want:?}"
            );
        };
        let specials = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1.0,
            -3.5,
        ];
        for &x in &specials {
            for c in [0usize, 1, 2, 3, 7, 1 << 24, (1 << 24) + 1, usize::MAX >> 11] {
                check(x, c);
            }
        }
        let counts = [
            1usize,
            2,
            3,
            5,
            7,
            10,
            255,
            4096,
            1_000_003,
            (1 << 24) + 1,
            1 << 31,
            (1 << 40) + 7,
        ];
        for e in 0..=0xfeu32 {
            for &c in &counts {
                let r = next(&mut state) as u32;
                check(f32::from_bits((e << 23) | (r & 0x807f_ffff)), c);
            }
        }
        for _ in 0..300_000 {
            let r = next(&mut state);
            let x = f32::from_bits(r as u32);
            // Counts of every magnitude up to 2^53.
            let c = ((next(&mut state) >> 11) >> (r >> 58)) as usize;
            if x.is_finite() {
                check(x, c);
                check(f32::from_bits(r as u32 & 0x807f_ffff), c.max(1));
            }
        }
    }

    /// fmod is exact, so any correct implementation gives the same bits:
    /// checked against libm's on special values, every exponent pairing
    /// and random bit patterns (NaN's sign and payload aside).
    #[test]
    fn exact_fmod_matches_libm_bit_for_bit() {
        let special32 = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            f32::from_bits(0x007f_ffff),
            f32::MAX,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.1,
            3.0,
            -7.5,
            1e30,
            1e-30,
        ];
        for &x in &special32 {
            for &y in &special32 {
                let (got, want) = (fmod_f32(x, y), libm::fmodf(x, y));
                assert!(
                    same32(got, want),
                    "fmod({x:e}, {y:e}) = {got:e}, libm {want:e}"
                );
            }
        }
        let special64 = special32.map(f64::from);
        let extra64 = [
            f64::MAX,
            f64::from_bits(1),
            f64::MIN_POSITIVE,
            f64::from_bits(0x000f_ffff_ffff_ffff),
            1e300,
            1e-300,
        ];
        for x in special64.iter().chain(&extra64).copied() {
            for y in special64.iter().chain(&extra64).copied() {
                let (got, want) = (fmod_f64(x, y), libm::fmod(x, y));
                assert!(
                    same64(got, want),
                    "fmod({x:e}, {y:e}) = {got:e}, libm {want:e}"
                );
            }
        }
        // Every pair of exponents (and random significands and signs).
        let mut state = 7u64;
        for ex in 0..=0xffu32 {
            for ey in 0..=0xffu32 {
                let r = next(&mut state);
                let x = f32::from_bits((ex << 23) | (r as u32 & 0x807f_ffff));
                let y = f32::from_bits((ey << 23) | ((r >> 32) as u32 & 0x807f_ffff));
                let (got, want) = (fmod_f32(x, y), libm::fmodf(x, y));
                assert!(
                    same32(got, want),
                    "fmod({x:e}, {y:e}) = {got:e}, libm {want:e}"
                );
            }
        }
        for _ in 0..200_000 {
            let r = next(&mut state);
            let (x, y) = (f32::from_bits(r as u32), f32::from_bits((r >> 32) as u32));
            assert!(same32(fmod_f32(x, y), libm::fmodf(x, y)), "{x:e} {y:e}");
            let (x, y) = (f64::from_bits(r), f64::from_bits(next(&mut state)));
            assert!(same64(fmod_f64(x, y), libm::fmod(x, y)), "{x:e} {y:e}");
            // Close exponents, where most of the work is.
            let y2 =
                f64::from_bits((x.to_bits() & 0xfff0_0000_0000_0000) ^ (r & 0x003f_ffff_ffff_ffff));
            assert!(same64(fmod_f64(x, y2), libm::fmod(x, y2)), "{x:e} {y2:e}");
        }
    }

    /// The float64 underflow test of float32 products and quotients agrees
    /// with the generic fma/frexp one on operands whose exact result lies
    /// around `f32::MIN_POSITIVE` (both roundings at the boundary, exact and
    /// inexact subnormals, results flushed to zero).
    #[test]
    fn float32_underflow_test_matches_the_generic_one() {
        let mut state = 7u64;
        let mut tiny = 0;
        for i in 0..400_000u32 {
            let bits = next(&mut state);
            // a in [1, 2) * 2^ea, b chosen so the result's exponent lands
            // within a few binades of the subnormal boundary.
            let ea = (bits % 120) as i32 - 60;
            let shift = ((bits >> 8) % 30) as i32 - 25;
            let a = f32::from_bits(0x3f80_0000 | (bits >> 40) as u32 & 0x007f_ffff) * 2f32.powi(ea);
            let m = f32::from_bits(0x3f80_0000 | (bits >> 16) as u32 & 0x007f_ffff);
            let divide = i % 2 == 1;
            let eb = if divide {
                ea + 126 - shift
            } else {
                -126 + shift - ea
            };
            let b = m * 2f32.powi(eb.clamp(-149, 127));
            if !(a.is_finite() && b.is_finite()) || a == 0.0 || b == 0.0 {
                continue;
            }
            let r = if divide { a / b } else { a * b };
            let want = tiny_inexact::<f32>(a, b, r, divide);
            assert_eq!(
                tiny_inexact_f32(a, b, r, divide),
                want,
                "{a:e} {b:e} {divide}"
            );
            tiny += usize::from(want);
        }
        // The draw reaches the boundary often enough to mean something.
        assert!(tiny > 50_000, "{tiny}");
        // Exact results next to MIN_POSITIVE, which random draws miss:
        // (2 - 2^-23) * 2^-127 = MIN_POSITIVE - 2^-150 (tiny, delivered as
        // MIN_POSITIVE: underflow), (1 + 2^-23) * (1 - 2^-23) * 2^-126 =
        // MIN_POSITIVE * (1 - 2^-46) (rounds up to MIN_POSITIVE even with
        // an unbounded exponent: no underflow), and their quotient twins.
        let ulp = f32::EPSILON;
        let cases = [
            (2.0 - ulp, 2f32.powi(-127), false, true),
            (
                (1.0 + ulp) * 2f32.powi(-126),
                1.0 / (1.0 - ulp),
                true,
                false,
            ),
            (1.0 + ulp, (1.0 - ulp) * 2f32.powi(-126), false, false),
            ((2.0 - ulp) * 2f32.powi(-127), 1.0, true, false),
        ];
        for (a, b, divide, underflows) in cases {
            let r = if divide { a / b } else { a * b };
            assert_eq!(
                tiny_inexact::<f32>(a, b, r, divide),
                underflows,
                "{a:e} {b:e}"
            );
            assert_eq!(tiny_inexact_f32(a, b, r, divide), underflows, "{a:e} {b:e}");
        }
    }
}
