//! The float functions of the unary and float-only binary ufuncs, from
//! libm: float32 through libm's single-precision functions (as NumPy calls
//! `sinf`, `expf`, ... for its float32 loops), float64 through the double
//! ones.

use super::float::Float;

/// Square root: std's where std links (LLVM's `sqrt` intrinsic, which
/// the loops vectorize), libm's otherwise (on x86 an inline `sqrtss` that
/// they cannot). Both are correctly rounded, so the results are the same.
#[cfg(feature = "std")]
#[inline(always)]
fn sqrtf(x: f32) -> f32 {
    x.sqrt()
}

/// The float64 twin of [`sqrtf`].
#[cfg(feature = "std")]
#[inline(always)]
fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

#[cfg(not(feature = "std"))]
use libm::{sqrt, sqrtf};

macro_rules! math_trait {
    ($($(#[$doc:meta])* fn $name:ident($($arg:ident),*) = $f32:path, $f64:path;)*) => {
        /// libm's functions for the loop types.
        pub(crate) trait Math: Float {
            /// `pi / 180` in this precision (NumPy's `NPY_PI / 180`).
            const DEG2RAD: Self;
            /// `180 / pi` in this precision.
            const RAD2DEG: Self;
            /// `ln 2`.
            const LN_2: Self;
            /// `log2(e)`.
            const LOG2_E: Self;
            /// The positive quiet NaN (NumPy's `NPY_NAN`).
            const NAN: Self;
            $($(#[$doc])* fn $name(self $(, $arg: Self)*) -> Self;)*
        }

        impl Math for f32 {
            const DEG2RAD: f32 = core::f32::consts::PI / 180.0;
            const RAD2DEG: f32 = 180.0 / core::f32::consts::PI;
            const LN_2: f32 = core::f32::consts::LN_2;
            const LOG2_E: f32 = core::f32::consts::LOG2_E;
            const NAN: f32 = f32::NAN;
            $(#[inline(always)] fn $name(self $(, $arg: f32)*) -> f32 { $f32(self $(, $arg)*) })*
        }

        impl Math for f64 {
            const DEG2RAD: f64 = core::f64::consts::PI / 180.0;
            const RAD2DEG: f64 = 180.0 / core::f64::consts::PI;
            const LN_2: f64 = core::f64::consts::LN_2;
            const LOG2_E: f64 = core::f64::consts::LOG2_E;
            const NAN: f64 = f64::NAN;
            $(#[inline(always)] fn $name(self $(, $arg: f64)*) -> f64 { $f64(self $(, $arg)*) })*
        }
    };
}

math_trait! {
    /// Correctly rounded square root.
    fn sqrt() = sqrtf, sqrt;
    fn cbrt() = libm::cbrtf, libm::cbrt;
    fn exp() = libm::expf, libm::exp;
    fn exp2() = libm::exp2f, libm::exp2;
    fn exp_m1() = libm::expm1f, libm::expm1;
    fn ln() = libm::logf, libm::log;
    fn log2() = libm::log2f, libm::log2;
    fn log10() = libm::log10f, libm::log10;
    fn ln_1p() = libm::log1pf, libm::log1p;
    fn sin() = libm::sinf, libm::sin;
    fn cos() = libm::cosf, libm::cos;
    fn tan() = libm::tanf, libm::tan;
    fn asin() = libm::asinf, libm::asin;
    fn acos() = libm::acosf, libm::acos;
    fn atan() = libm::atanf, libm::atan;
    fn sinh() = libm::sinhf, libm::sinh;
    fn cosh() = libm::coshf, libm::cosh;
    fn tanh() = libm::tanhf, libm::tanh;
    fn asinh() = libm::asinhf, libm::asinh;
    fn acosh() = libm::acoshf, libm::acosh;
    fn atanh() = libm::atanhf, libm::atanh;
    fn ceil() = libm::ceilf, libm::ceil;
    fn trunc() = libm::truncf, libm::trunc;
    /// Round half to even (the default rounding mode).
    fn rint() = libm::rintf, libm::rint;
    fn atan2(x) = libm::atan2f, libm::atan2;
    fn hypot(y) = libm::hypotf, libm::hypot;
    fn next_after(y) = libm::nextafterf, libm::nextafter;
}
