//! The scalar traits of the loop types, one hierarchy for the ufunc
//! kernels and the reductions:
//!
//! - [`LoopElement`]: every dtype casts into
//!   it (NumPy's C casts);
//! - [`Num`] (here): every loop type — identities, NumPy's `add`,
//!   `multiply`, `maximum`/`minimum`/`fmax`/`fmin` loops with their IEEE
//!   flags, NaN tests, float64 round trips;
//! - [`float::Float`]: f32 and f64 — IEEE classes, the flag rules of
//!   `+ - * /` and `pow`, exact `fmod`; [`math::Math`]: libm's functions;
//!   the ufuncs' `Vector` block kernels on top;
//! - [`int::Int`]: the integers — shifts, division and gcd/lcm by NumPy's
//!   rules.

pub(crate) mod float;
pub(crate) mod int;
pub(crate) mod math;

use crate::element::{Bool, LoopElement};
use crate::flags::FpFlags;

/// A loop type of the ufuncs and reductions (every dtype's element type).
pub(crate) trait Num: LoopElement + Copy + PartialOrd {
    /// Whether this is float32/float64 (pairwise sums, flags, NaN rules).
    const FLOAT: bool;
    /// The type the `small` feature reduces this one in: the signed
    /// integer of the same width for an unsigned integer, int8 (0 or 1) for
    /// bool, itself otherwise.
    type Twin: Num;
    /// `0` (False for bool).
    const ZERO: Self;
    /// `1` (True for bool).
    const ONE: Self;
    /// NumPy's `add` loop: wrapping for ints, logical or for bool.
    fn add(self, b: Self) -> Self;
    /// Bitwise equality (tells -0.0 from 0.0).
    fn to_bits_eq(self, b: Self) -> bool {
        bytemuck::bytes_of(&self) == bytemuck::bytes_of(&b)
    }
    /// `self - self`: 0 unless `self` is inf or NaN (then NaN); 0 for ints
    /// and bool. Summed in lanes it tests a block for non-finite values.
    fn nonfinite_probe(self) -> Self;
    /// NumPy's `multiply` loop: wrapping for ints, logical and for bool.
    fn mul(self, b: Self) -> Self;
    /// `np.maximum`: NaN in either propagates (the first one kept).
    fn maximum(self, b: Self) -> Self;
    /// `np.minimum`.
    fn minimum(self, b: Self) -> Self;
    /// `np.fmax`: NaN ignored unless both are NaN.
    fn fmax(self, b: Self) -> Self;
    /// `np.fmin`.
    fn fmin(self, b: Self) -> Self;
    /// Whether the value is NaN (never for ints).
    fn is_nan(self) -> bool;
    /// Whether finite (always for ints).
    fn is_finite(self) -> bool;
    /// Whether `d * d` is a normal finite number for this deviation `d`
    /// (conservative: false near the edges and for NaN) or `d` is zero.
    fn square_is_tame(self) -> bool;
    /// The value as an i64 bit pattern (`as`; uint64 wraps).
    fn to_i64_bits(self) -> i64;
    /// The value in float64 (`as`).
    fn to_f64(self) -> f64;
    /// The float64 converted back as NumPy's unsafe cast does.
    fn from_f64(v: f64) -> Self;
    /// Flags of `a + b = r`.
    fn add_flags(a: Self, b: Self, r: Self) -> FpFlags;
    /// Flags of `a * b = r`.
    fn mul_flags(a: Self, b: Self, r: Self) -> FpFlags;
    /// The value whose bits are the low bits of `bits` (bool: non-zero).
    fn from_low_bits(bits: u64) -> Self;
    /// The value with its top bit inverted: read as the signed integer of
    /// the same width, an unsigned value keeps its order.
    #[inline(always)]
    fn flip_sign(self) -> Self {
        self
    }
}

macro_rules! int_num {
    ($($t:ty => $twin:ty),*) => { $(
        impl Num for $t {
            const FLOAT: bool = false;
            type Twin = $twin;
            const ZERO: $t = 0;
            const ONE: $t = 1;
            #[inline(always)] fn add(self, b: $t) -> $t { self.wrapping_add(b) }
            #[inline(always)] fn mul(self, b: $t) -> $t { self.wrapping_mul(b) }
            #[inline(always)] fn nonfinite_probe(self) -> $t { 0 }
            #[inline(always)] fn maximum(self, b: $t) -> $t { if self >= b { self } else { b } }
            #[inline(always)] fn minimum(self, b: $t) -> $t { if self <= b { self } else { b } }
            #[inline(always)] fn fmax(self, b: $t) -> $t { self.maximum(b) }
            #[inline(always)] fn fmin(self, b: $t) -> $t { self.minimum(b) }
            #[inline(always)] fn is_nan(self) -> bool { false }
            #[inline(always)] fn is_finite(self) -> bool { true }
            #[inline(always)] fn square_is_tame(self) -> bool { true }
            #[inline(always)] fn to_f64(self) -> f64 { self as f64 }
            #[inline(always)] fn to_i64_bits(self) -> i64 { self as i64 }
            #[inline(always)] fn from_f64(v: f64) -> $t { v as $t }
            #[inline(always)] fn add_flags(_: $t, _: $t, _: $t) -> FpFlags { FpFlags::NONE }
            #[inline(always)] fn mul_flags(_: $t, _: $t, _: $t) -> FpFlags { FpFlags::NONE }
            #[inline(always)] fn flip_sign(self) -> $t { self ^ (1 as $t).rotate_right(1) }
            #[inline(always)] fn from_low_bits(bits: u64) -> $t { bits as $t }
        }
    )* };
}
int_num!(
    i8 => i8, i16 => i16, i32 => i32, i64 => i64,
    u8 => i8, u16 => i16, u32 => i32, u64 => i64
);

impl Num for Bool {
    type Twin = i8;
    #[inline(always)]
    fn from_low_bits(bits: u64) -> Bool {
        Bool::from(bits != 0)
    }
    const FLOAT: bool = false;
    const ZERO: Bool = Bool::FALSE;
    const ONE: Bool = Bool::TRUE;
    #[inline(always)]
    fn add(self, b: Bool) -> Bool {
        Bool::from(self.get() | b.get())
    }
    #[inline(always)]
    fn mul(self, b: Bool) -> Bool {
        Bool::from(self.get() & b.get())
    }
    #[inline(always)]
    fn nonfinite_probe(self) -> Bool {
        Bool::FALSE
    }
    #[inline(always)]
    fn maximum(self, b: Bool) -> Bool {
        self.add(b)
    }
    #[inline(always)]
    fn minimum(self, b: Bool) -> Bool {
        self.mul(b)
    }
    #[inline(always)]
    fn fmax(self, b: Bool) -> Bool {
        self.add(b)
    }
    #[inline(always)]
    fn fmin(self, b: Bool) -> Bool {
        self.mul(b)
    }
    #[inline(always)]
    fn is_nan(self) -> bool {
        false
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        true
    }
    #[inline(always)]
    fn square_is_tame(self) -> bool {
        true
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self.get()))
    }
    #[inline(always)]
    fn to_i64_bits(self) -> i64 {
        i64::from(self.get())
    }
    #[inline(always)]
    fn from_f64(v: f64) -> Bool {
        Bool::from(v != 0.0)
    }
    fn add_flags(_: Bool, _: Bool, _: Bool) -> FpFlags {
        FpFlags::NONE
    }
    fn mul_flags(_: Bool, _: Bool, _: Bool) -> FpFlags {
        FpFlags::NONE
    }
}

macro_rules! float_num {
    ($t:ty, $tame_lo:expr, $tame_hi:expr) => {
        impl Num for $t {
            const FLOAT: bool = true;
            type Twin = $t;
            #[inline(always)]
            fn from_low_bits(bits: u64) -> $t {
                <$t>::from_bits(bits as _)
            }
            const ZERO: $t = 0.0;
            const ONE: $t = 1.0;
            #[inline(always)]
            fn add(self, b: $t) -> $t {
                self + b
            }
            #[inline(always)]
            fn mul(self, b: $t) -> $t {
                self * b
            }
            #[inline(always)]
            fn nonfinite_probe(self) -> $t {
                self - self
            }
            #[inline(always)]
            fn maximum(self, b: $t) -> $t {
                if self >= b || self.is_nan() {
                    self
                } else {
                    b
                }
            }
            #[inline(always)]
            fn minimum(self, b: $t) -> $t {
                if self <= b || self.is_nan() {
                    self
                } else {
                    b
                }
            }
            #[inline(always)]
            fn fmax(self, b: $t) -> $t {
                if self >= b || b.is_nan() {
                    self
                } else {
                    b
                }
            }
            #[inline(always)]
            fn fmin(self, b: $t) -> $t {
                if self <= b || b.is_nan() {
                    self
                } else {
                    b
                }
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                self.is_nan()
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                self.is_finite()
            }
            #[inline(always)]
            fn square_is_tame(self) -> bool {
                // Between 2**-EDGE and 2**EDGE (EDGE = MAX_EXP/2 - 2) a
                // square stays normal and finite.
                let t = self.abs();
                (t >= $tame_lo) & (t <= $tame_hi) | (t == 0.0)
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn to_i64_bits(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn from_f64(v: f64) -> $t {
                v as $t
            }
            #[inline(always)]
            fn add_flags(a: $t, b: $t, r: $t) -> FpFlags {
                // Only a non-finite sum carries a flag: one test first.
                if r.is_finite() {
                    return FpFlags::NONE;
                }
                float::add_flags(a, b, r)
            }
            #[inline(always)]
            fn mul_flags(a: $t, b: $t, r: $t) -> FpFlags {
                float::mul_flags(a, b, r)
            }
        }
    };
}
float_num!(
    f32,
    f32::from_bits((127 - 62) << 23),
    f32::from_bits((127 + 62) << 23)
);
float_num!(
    f64,
    f64::from_bits((1023 - 510) << 52),
    f64::from_bits((1023 + 510) << 52)
);

/// Flags of rounding the float64 `v` to float32 (NumPy's cast).
pub(crate) fn f64_to_f32_flags(v: f64) -> FpFlags {
    let r = v as f32;
    if r.is_infinite() && v.is_finite() {
        return FpFlags::OVERFLOW;
    }
    if r.abs() < f32::MIN_POSITIVE && f64::from(r) != v && v.is_finite() {
        return FpFlags::UNDERFLOW;
    }
    FpFlags::NONE
}

/// NumPy's C cast of a float64 result to an integer dtype as compiled for
/// x86-64 (the oracle's CPU): truncation toward zero, wrapping to the
/// dtype's width; NaN, infinities and values beyond the conversion
/// instruction's range give its "integer indefinite" (`MIN` of int32 or
/// int64, so 0 for the narrow types) and the invalid flag. Only reached
/// for integer results of mean/var/std (`casting='unsafe'`). ARM CPUs
/// saturate instead, so NumPy's own answer differs there.
pub(crate) fn c_cast_to_int_bits(v: f64, d: crate::DType) -> (u64, bool) {
    use crate::DType;
    let t32 = |v: f64| {
        if v > -2_147_483_649.0 && v < 2_147_483_648.0 {
            (v as i32 as i64 as u64, false)
        } else {
            (i32::MIN as i64 as u64, true)
        }
    };
    let t64 = |v: f64| {
        if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&v) {
            (v as i64 as u64, false)
        } else {
            (i64::MIN as u64, true)
        }
    };
    match d {
        DType::Int8 | DType::Int16 | DType::UInt8 | DType::UInt16 | DType::Int32 => t32(v),
        DType::UInt32 | DType::Int64 => t64(v),
        DType::UInt64 => {
            if v.is_nan() || v < 9_223_372_036_854_775_808.0 {
                t64(v)
            } else {
                let (b, invalid) = t64(v - 9_223_372_036_854_775_808.0);
                (b ^ (1 << 63), invalid)
            }
        }
        _ => (v as i64 as u64, false),
    }
}
