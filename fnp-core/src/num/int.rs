//! The integer loop types: what the integer kernels need beyond
//! [`Num`] and the operators, with NumPy's rules for shifts, division by
//! zero, `MIN / -1`, gcd/lcm and popcount.

use super::Num;
use crate::flags::FpFlags;

/// What the integer kernels need beyond the operators.
pub(crate) trait Int: Num + Ord + core::ops::Not<Output = Self> {
    fn shl(self, by: Self) -> Self;
    fn shr(self, by: Self) -> Self;
    fn fmod(self, b: Self) -> (Self, FpFlags);
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn sign(self) -> Self;
    fn square(self) -> Self;
    fn reciprocal(self) -> (Self, FpFlags);
    fn bit_and(self, b: Self) -> Self;
    fn bit_or(self, b: Self) -> Self;
    fn bit_xor(self, b: Self) -> Self;
    fn gcd(self, b: Self) -> Self;
    fn lcm(self, b: Self) -> Self;
    fn popcount(self) -> u8;
}

macro_rules! int_impl {
    ($($t:ty, $u:ty, $signed:literal, $recip_zero:expr;)*) => { $(
        impl Int for $t {
            /// `npy_lshift`: a shift by the width or more (a negative shift
            /// read as unsigned is more) gives 0.
            #[inline(always)]
            fn shl(self, by: $t) -> $t {
                if (by as u64) < u64::from(<$t>::BITS) { self << by } else { 0 }
            }
            /// `npy_rshift`: arithmetic for signed types; past the width,
            /// the sign fill (-1 or 0).
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn shr(self, by: $t) -> $t {
                if (by as u64) < u64::from(<$t>::BITS) {
                    self >> by
                } else if self < 0 {
                    !0
                } else {
                    0
                }
            }
            /// C's `%` with NumPy's answers where C is undefined: `x % 0`
            /// is 0 with `divide`, `MIN % -1` is 0.
            #[inline(always)]
            fn fmod(self, b: $t) -> ($t, FpFlags) {
                if b == 0 {
                    (0, FpFlags::DIVIDE)
                } else {
                    // `MIN % -1` is None here and 0 in NumPy (and C's
                    // wrapping answer); no zero-divisor panic path.
                    (self.checked_rem(b).unwrap_or(0), FpFlags::NONE)
                }
            }
            #[inline(always)]
            fn neg(self) -> $t {
                self.wrapping_neg()
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn abs(self) -> $t {
                if self < 0 { self.wrapping_neg() } else { self }
            }
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn sign(self) -> $t {
                (self > 0) as $t - (self < 0) as $t
            }
            #[inline(always)]
            fn square(self) -> $t {
                self.wrapping_mul(self)
            }
            /// NumPy computes `1.0 / x` and converts the double back: only
            /// ±1 survive; 1/0 is inf, whose conversion raises `invalid` and
            /// gives what x86's conversion gives.
            #[inline(always)]
            #[allow(unused_comparisons)]
            fn reciprocal(self) -> ($t, FpFlags) {
                match self {
                    0 => ($recip_zero, FpFlags::DIVIDE.union(FpFlags::INVALID)),
                    1 => (1, FpFlags::NONE),
                    _ if $signed && self == (0 as $t).wrapping_sub(1) => (self, FpFlags::NONE),
                    _ => (0, FpFlags::NONE),
                }
            }
            #[inline(always)]
            fn bit_and(self, b: $t) -> $t {
                self & b
            }
            #[inline(always)]
            fn bit_or(self, b: $t) -> $t {
                self | b
            }
            #[inline(always)]
            fn bit_xor(self, b: $t) -> $t {
                self ^ b
            }
            /// `npy_gcd`: Euclid on the magnitudes as unsigned numbers
            /// (`|MIN|` is `2**(bits-1)`, which reads back as MIN);
            /// `gcd(0, 0) == 0`.
            #[inline]
            fn gcd(self, b: $t) -> $t {
                gcd_unsigned(Int::abs(self) as $u, Int::abs(b) as $u) as $t
            }
            /// `npy_lcm`: `|a| / gcd * |b|` in unsigned arithmetic that
            /// wraps as NumPy's C does; 0 when either is 0.
            #[inline]
            fn lcm(self, b: $t) -> $t {
                let (x, y) = (Int::abs(self) as $u, Int::abs(b) as $u);
                match x.checked_div(gcd_unsigned(x, y)) {
                    Some(q) => q.wrapping_mul(y) as $t,
                    None => 0,
                }
            }
            /// `npy_popcount`: the 1 bits of `|x|`.
            #[inline(always)]
            fn popcount(self) -> u8 {
                Int::abs(self).count_ones() as u8
            }
        }
    )* };
}

int_impl! {
    i8, u8, true, 0;
    i16, u16, true, 0;
    i32, u32, true, i32::MIN;
    i64, u64, true, i64::MIN;
    u8, u8, false, 0;
    u16, u16, false, 0;
    u32, u32, false, 0;
    u64, u64, false, 0;
}

/// The unsigned integers Euclid's algorithm runs in.
trait Unsigned: Copy {
    fn checked_rem(self, b: Self) -> Option<Self>;
}

macro_rules! unsigned_impl {
    ($($u:ty),*) => { $(
        impl Unsigned for $u {
            #[inline(always)]
            fn checked_rem(self, b: $u) -> Option<$u> {
                <$u>::checked_rem(self, b)
            }
        }
    )* };
}

unsigned_impl!(u8, u16, u32, u64);

/// `npy_gcdu`: Euclid's algorithm, `gcd(x, 0) == x`.
#[inline]
fn gcd_unsigned<U: Unsigned>(mut x: U, mut y: U) -> U {
    // (x, y) -> (y % x, x) until x is 0; y is then the gcd.
    while let Some(r) = y.checked_rem(x) {
        y = x;
        x = r;
    }
    y
}
