//! The op table: every op fnp has, one row each.
//!
//! A row holds everything fnp knows about an op apart from its kernel: the
//! stable wire code, NumPy's name and aliases, the loop family that picks
//! its dtypes (ufuncs) or its kind (reductions), the accuracy of its float
//! results against NumPy, the identity (binary ufuncs) and the keywords it
//! takes (reductions). `for_each_op!` hands the rows to a callback macro,
//! the way libm keeps one list of functions: this module expands them into
//! the op enums and their accessors, [`crate::typed`] into one typed
//! function per op, the ufunc driver into its kernel dispatch. Nothing else
//! lists ops.
//!
//! Adding a ufunc is a row here plus its kernel (and corpus cases with
//! NumPy oracles); `fnp info --json` prints the table for the tools.
//!
//! This module depends on nothing but [`crate::dtype`], [`crate::error`],
//! [`crate::flags`] and the accuracy vocabulary of [`crate::precision`].

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::precision::{
    transcendental, Accuracy, ARCTAN2, EXACT, FMAX_FAMILY, HYPOT, LOGADDEXP, MAX_FAMILY,
    PICKS_ELEMENT, POWER, SIGN_OPS,
};

/// Wire codes of reductions start here; binary ops use `0..64`.
pub const REDUCE_CODE_BASE: u8 = 64;

/// Wire codes of unary ops start here (reductions use `64..128`).
pub const UNARY_CODE_BASE: u8 = 128;

/// Wire codes of the two-output ufuncs start here (unary ops use
/// `128..224`).
pub const MULTI_CODE_BASE: u8 = 224;

/// Flags NumPy's SIMD and scalar paths raise differently for tiny results.
const U: FpFlags = FpFlags::UNDERFLOW;
/// As [`U`], plus overflow (`exp2`).
const UO: FpFlags = FpFlags::UNDERFLOW.union(FpFlags::OVERFLOW);

/// Calls `$callback! { $extra… binary { rows } unary { rows } reduce { rows } }`
/// with every row of the table.
///
/// Row forms:
/// - binary: `Variant = code, name, [aliases], BinaryFamily -> OutRule, accuracy, Identity;`
/// - unary: `Variant = code, name, [aliases], UnaryFamily -> OutRule, accuracy;`
/// - reduce: `Variant = code, name, [aliases], ReduceKind -> OutRule, accuracy, [Keyword, …];`
///
/// The family says which loops NumPy has; the [`OutRule`] which output
/// type a loop has, at run time and (through [`crate::promote`]) in the
/// typed functions' signatures.
///
/// Each row's doc comment is the op's documentation (NumPy's rules for
/// NaN, ±0, ±inf, overflow, errors and flags).
// Exported (hidden) for the repository's own tools outside this crate: the
// footprint probe in `firmware/footprint` makes one call per row. Not part
// of the API; the row grammar changes with the table.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_op {
    ($callback:ident $(, $extra:tt)*) => {
        $callback! {
            $($extra)*
            binary {
        /// `np.add`: `a + b`; integers wrap; on bool, logical or. Floats:
        /// `overflow` for an infinity from finite operands, `invalid` for
        /// `inf + -inf`, never `underflow`.
        Add = 0, add, [], Arith -> Same, EXACT, Zero;
        /// `np.subtract`: `a - b`; TypeError on two bools; flags as add.
        Subtract = 1, subtract, [], Arith -> Same, EXACT, None;
        /// `np.multiply`: `a * b`; integers wrap; on bool, logical and. Floats:
        /// `invalid` for `inf * 0`, `overflow`, `underflow` when the product is
        /// tiny (after rounding) and inexact.
        Multiply = 2, multiply, [], Arith -> Same, EXACT, One;
        /// `np.true_divide` (`np.divide`): integers and bools divide in
        /// float64. `divide` for a finite non-zero `x / 0`, `invalid` for `0 / 0`
        /// and `inf / inf`, `overflow`, `underflow`.
        TrueDivide = 3, true_divide, ["divide"], Arith -> Real, EXACT, None;
        /// `np.floor_divide`: Python's `//`. Integers: `x // 0 == 0` with
        /// `divide`, `MIN // -1 == MIN` with `overflow`; bools use int8. Floats
        /// follow `npy_divmod` (`floor_divide(1.0, 0.1) == 9.0`, signed zeros,
        /// `x // 0` is the IEEE quotient).
        FloorDivide = 4, floor_divide, [], Arith -> NoBool, EXACT, None;
        /// `np.remainder` (`np.mod`): Python's `%`, the result takes the
        /// divisor's sign. Integers: `x % 0 == 0` with `divide`, `MIN % -1 == 0`
        /// without a flag. Floats: `remainder(-1, inf) == inf`, `x % 0` is NaN
        /// with `invalid`.
        Remainder = 5, remainder, ["mod"], Arith -> NoBool, EXACT, None;
        /// `np.power`: integer powers are exact with wraparound and `0 ** 0 ==
        /// 1`; any negative integer exponent is a ValueError. Float powers come
        /// from libm within [`crate::precision`]'s bound; `power(0, -1)` is inf
        /// with `divide`.
        Power = 6, power, ["pow"], Arith -> NoBool, POWER, None;
        /// `np.maximum`: propagates NaN (the first operand's when both are);
        /// of two equal operands (±0) the first is returned.
        Maximum = 7, maximum, [], Arith -> Same, MAX_FAMILY, None;
        /// `np.minimum`: as maximum.
        Minimum = 8, minimum, [], Arith -> Same, MAX_FAMILY, None;
        /// `np.fmax`: ignores a NaN operand; NaN only when both are.
        Fmax = 9, fmax, [], Arith -> Same, FMAX_FAMILY, None;
        /// `np.fmin`: as fmax.
        Fmin = 10, fmin, [], Arith -> Same, FMAX_FAMILY, None;
        /// `np.equal`: `a == b` as bool; NaN equals nothing. Integers of
        /// different signedness compare exactly (`-1 != 2**64 - 1`); a Python
        /// int outside the array's dtype compares by value, no OverflowError.
        Equal = 11, equal, [], Compare -> Bool, EXACT, None;
        /// `np.not_equal`: `a != b`; true for NaN.
        NotEqual = 12, not_equal, [], Compare -> Bool, EXACT, None;
        /// `np.less`: `a < b`; false for NaN. No flags (quiet comparison).
        Less = 13, less, [], Compare -> Bool, EXACT, None;
        /// `np.less_equal`: `a <= b`.
        LessEqual = 14, less_equal, [], Compare -> Bool, EXACT, None;
        /// `np.greater`: `a > b`.
        Greater = 15, greater, [], Compare -> Bool, EXACT, None;
        /// `np.greater_equal`: `a >= b`.
        GreaterEqual = 16, greater_equal, [], Compare -> Bool, EXACT, None;
        /// `np.logical_and`: both non-zero (NaN is true), as bool.
        LogicalAnd = 17, logical_and, [], Logical -> Bool, EXACT, True;
        /// `np.logical_or`: either non-zero.
        LogicalOr = 18, logical_or, [], Logical -> Bool, EXACT, False;
        /// `np.logical_xor`: exactly one non-zero.
        LogicalXor = 19, logical_xor, [], Logical -> Bool, EXACT, False;
        /// `np.bitwise_and`: `a & b` on integers, logical and on bool;
        /// TypeError for floats.
        BitwiseAnd = 20, bitwise_and, [], Bitwise -> Same, EXACT, MinusOne;
        /// `np.bitwise_or`: `a | b`.
        BitwiseOr = 21, bitwise_or, [], Bitwise -> Same, EXACT, Zero;
        /// `np.bitwise_xor`: `a ^ b`.
        BitwiseXor = 22, bitwise_xor, [], Bitwise -> Same, EXACT, Zero;
        /// `np.left_shift`: `a << b` with wraparound; a shift by the bit width
        /// or more, or by a negative amount, gives 0.
        LeftShift = 23, left_shift, ["bitwise_left_shift"], Shift -> NoBool, EXACT, None;
        /// `np.right_shift`: arithmetic `a >> b`; a shift by the bit width or
        /// more, or by a negative amount, gives 0 (-1 for negative `a`).
        RightShift = 24, right_shift, ["bitwise_right_shift"], Shift -> NoBool, EXACT, None;
        /// `np.arctan2`: the angle of `(b, a)` in `[-pi, pi]`, signed zeros and
        /// infinities as C's `atan2`; libm's, within the precision table.
        Arctan2 = 25, arctan2, ["atan2"], FloatOnly -> Float, ARCTAN2, None;
        /// `np.hypot`: `sqrt(a*a + b*b)` without undue overflow; inf if either
        /// is inf (even with a NaN); `overflow` when finite operands give inf.
        Hypot = 26, hypot, [], FloatOnly -> Float, HYPOT, Zero;
        /// `np.copysign`: `|a|` with the sign of `b`, NaNs included; exact.
        Copysign = 27, copysign, [], FloatOnly -> Float, SIGN_OPS, None;
        /// `np.nextafter`: the next float after `a` towards `b`; `overflow`
        /// stepping past MAX to inf; exact.
        Nextafter = 28, nextafter, [], FloatOnly -> Float, EXACT, None;
        /// `np.logaddexp`: `log(exp(a) + exp(b))` by NumPy's formula
        /// (`a + log1p(exp(b - a))` for the larger `a`; `a + ln 2` when equal).
        Logaddexp = 29, logaddexp, [], FloatOnly -> Float, LOGADDEXP, NegInfinity;
        /// `np.logaddexp2`: `log2(2**a + 2**b)`, the same formula in base 2.
        Logaddexp2 = 30, logaddexp2, [], FloatOnly -> Float, LOGADDEXP, NegInfinity;
        /// `np.heaviside`: 0 for `a < 0`, `b` for `a == 0`, 1 for `a > 0`,
        /// NaN for a NaN `a`; exact.
        Heaviside = 31, heaviside, [], FloatOnly -> Float, EXACT, None;
        /// `np.float_power`: `a ** b` always in float64 (libm's pow).
        FloatPower = 32, float_power, [], Float64Only -> Float64, POWER, None;
        /// `np.fmod`: C's remainder, the sign of the dividend. Integers:
        /// `x % 0 == 0` with `divide`, `MIN % -1 == 0`; floats: exact, NaN
        /// with `invalid` for `x % 0` and `inf % y`.
        Fmod = 33, fmod, [], Fmod -> NoBool, EXACT, None;
        /// `np.ldexp`: `a * 2**b` for a float `a` and an integer `b`, exact
        /// while the result is normal (C's `ldexp`); the output is `a`'s float
        /// dtype. An int64 exponent outside C's `int` is clamped to it, as
        /// NumPy's `l` loop does. `overflow` for inf from a finite `a`,
        /// `underflow` for a tiny inexact result (an exact subnormal raises
        /// nothing). A Python int exponent must fit int32 (OverflowError).
        Ldexp = 34, ldexp, [], Ldexp -> Mantissa, EXACT, None;
        /// `np.gcd`: the greatest common divisor of `|a|` and `|b|`, always
        /// >= 0 except `gcd(MIN, 0) == gcd(MIN, MIN) == MIN` (the magnitude
        /// `2**(bits-1)` wraps, as in NumPy's C); `gcd(0, 0) == 0`.
        Gcd = 35, gcd, [], IntOnly -> Same, EXACT, Zero;
        /// `np.lcm`: `|a| / gcd(a, b) * |b|`, wrapping on overflow as NumPy's
        /// C does (`lcm(int8(-128), 3) == -128`); 0 if either is 0.
        Lcm = 36, lcm, [], IntOnly -> Same, EXACT, None;
            }
            unary {
        /// `np.negative`: `-x`; integers wrap (`-MIN == MIN`, unsigned wrap
        /// around); floats flip the sign bit, NaNs included. TypeError on bool.
        Negative = 0, negative, [], Signed -> Same, SIGN_OPS;
        /// `np.positive`: a copy of `x`. TypeError on bool.
        Positive = 1, positive, [], Signed -> Same, SIGN_OPS;
        /// `np.absolute` (`np.abs`): `|x|`; `abs(MIN) == MIN` for signed
        /// integers; floats clear the sign bit, NaNs included.
        Absolute = 2, absolute, ["abs"], AnyDtype -> Same, SIGN_OPS;
        /// `np.sign`: -1, 0 or 1 in the input dtype; `sign(±0.0) == +0.0`,
        /// a NaN passes through. TypeError on bool.
        Sign = 3, sign, [], Signed -> Same, SIGN_OPS;
        /// `np.square`: `x * x`; integers wrap, floats flag as multiply.
        Square = 4, square, [], NoBool -> NoBool, EXACT;
        /// `np.reciprocal`: `1 / x`. Integers compute `1.0 / x` and convert
        /// back as NumPy's C loop does: `±1` for `±1`, otherwise 0; for 0 the
        /// converted infinity (0, or MIN for int32/int64) with `divide` and
        /// `invalid`. Floats: `1/0 == inf` with `divide`.
        Reciprocal = 5, reciprocal, [], NoBool -> NoBool, EXACT;
        /// `np.sqrt`: correctly rounded; NaN with `invalid` below zero,
        /// `sqrt(-0.0) == -0.0`.
        Sqrt = 6, sqrt, [], Math -> Float, EXACT;
        /// `np.cbrt`: the real cube root, odd in `x`.
        Cbrt = 7, cbrt, [], Math -> Float, transcendental(2, 2, U);
        /// `np.exp`: `overflow` to inf, `underflow` to 0 or a subnormal.
        Exp = 8, exp, [], Math -> Float, transcendental(3, 1, U);
        /// `np.exp2`: `2**x`, flags as exp.
        Exp2 = 9, exp2, [], Math -> Float, transcendental(2, 1, UO);
        /// `np.expm1`: `exp(x) - 1` accurate near 0.
        Expm1 = 10, expm1, [], Math -> Float, transcendental(3, 1, U);
        /// `np.log`: `log(0) == -inf` with `divide`, NaN with `invalid` below 0.
        Log = 11, log, [], Math -> Float, transcendental(4, 1, U);
        /// `np.log2`: as log.
        Log2 = 12, log2, [], Math -> Float, transcendental(3, 1, U);
        /// `np.log10`: as log.
        Log10 = 13, log10, [], Math -> Float, transcendental(4, 1, U);
        /// `np.log1p`: `log(1 + x)` accurate near 0; `log1p(-1) == -inf` with
        /// `divide`, NaN with `invalid` below -1.
        Log1p = 14, log1p, [], Math -> Float, transcendental(2, 1, U);
        /// `np.sin`: NaN with `invalid` for ±inf.
        Sin = 15, sin, [], Math -> Float, transcendental(2, 1, U);
        /// `np.cos`: NaN with `invalid` for ±inf.
        Cos = 16, cos, [], Math -> Float, transcendental(2, 1, U);
        /// `np.tan`: NaN with `invalid` for ±inf.
        Tan = 17, tan, [], Math -> Float, transcendental(4, 1, U);
        /// `np.arcsin`: NaN with `invalid` outside [-1, 1].
        Arcsin = 18, arcsin, ["asin"], Math -> Float, transcendental(4, 1, U);
        /// `np.arccos`: NaN with `invalid` outside [-1, 1].
        Arccos = 19, arccos, ["acos"], Math -> Float, transcendental(3, 1, U);
        /// `np.arctan`: `arctan(±inf) == ±pi/2`.
        Arctan = 20, arctan, ["atan"], Math -> Float, transcendental(3, 1, U);
        /// `np.sinh`: `overflow` to ±inf.
        Sinh = 21, sinh, [], Math -> Float, transcendental(2, 1, U);
        /// `np.cosh`: `overflow` to inf.
        Cosh = 22, cosh, [], Math -> Float, transcendental(3, 1, U);
        /// `np.tanh`: ±1 for large `|x|`.
        Tanh = 23, tanh, [], Math -> Float, transcendental(2, 2, U);
        /// `np.arcsinh`.
        Arcsinh = 24, arcsinh, ["asinh"], Math -> Float, transcendental(2, 1, U);
        /// `np.arccosh`: NaN with `invalid` below 1.
        Arccosh = 25, arccosh, ["acosh"], Math -> Float, transcendental(2, 1, U);
        /// `np.arctanh`: ±inf with `divide` at ±1, NaN with `invalid` beyond.
        Arctanh = 26, arctanh, ["atanh"], Math -> Float, transcendental(2, 1, U);
        /// `np.deg2rad`: `x * (pi / 180)`, one correctly rounded multiply;
        /// flags as multiply.
        Deg2rad = 27, deg2rad, [], Math -> Float, EXACT;
        /// `np.rad2deg`: `x * (180 / pi)`, one correctly rounded multiply.
        Rad2deg = 28, rad2deg, [], Math -> Float, EXACT;
        /// `np.floor`: integers and bool are returned unchanged.
        Floor = 29, floor, [], AnyDtype -> Same, EXACT;
        /// `np.ceil`: as floor.
        Ceil = 30, ceil, [], AnyDtype -> Same, EXACT;
        /// `np.trunc`: as floor.
        Trunc = 31, trunc, [], AnyDtype -> Same, EXACT;
        /// `np.rint`: round half to even; float loops only.
        Rint = 32, rint, [], Math -> Float, EXACT;
        /// `np.isnan`: false for every integer.
        Isnan = 33, isnan, [], Predicate -> Bool, EXACT;
        /// `np.isinf`: false for every integer.
        Isinf = 34, isinf, [], Predicate -> Bool, EXACT;
        /// `np.isfinite`: true for every integer.
        Isfinite = 35, isfinite, [], Predicate -> Bool, EXACT;
        /// `np.signbit`: the sign bit, of NaNs and zeros too; integers `x < 0`.
        Signbit = 36, signbit, [], Signbit -> Bool, EXACT;
        /// `np.logical_not`: `x == 0` as bool (NaN is true, so false out).
        LogicalNot = 37, logical_not, [], Logical -> Bool, EXACT;
        /// `np.invert` (`np.bitwise_not`): `!x` on integers, logical not on
        /// bool; TypeError for floats.
        Invert = 38, invert, ["bitwise_not", "bitwise_invert"], Invert -> Same, EXACT;
        /// `np.fabs`: `|x|` from C's `fabs`, float loops only: integers
        /// promote to float (int16 to float32, wider to float64; bool, int8
        /// and uint8 to float16). Clears the sign bit of zeros and NaNs; no
        /// flags.
        Fabs = 39, fabs, [], Math -> Float, SIGN_OPS;
        /// `np.spacing`: the distance from `x` to the next float away from
        /// zero, with the sign of `x` (`spacing(±0.0) == +2**-1074`); float
        /// loops only. NaN passes through, ±inf gives NaN without a flag;
        /// `±MAX` gives ±inf with `overflow`; a subnormal `x` raises
        /// `underflow`. Exact.
        Spacing = 40, spacing, [], Math -> Float, EXACT;
        /// `np.bitwise_count`: the number of 1 bits in `|x|` as uint8 (NumPy
        /// counts the magnitude of a negative integer; `MIN` has one bit).
        /// Bool counts in int8; TypeError for floats.
        BitwiseCount = 41, bitwise_count, [], BitCount -> Uint8, EXACT;
        /// `np.conjugate` (`np.conj`): on real dtypes a copy of `x`, NaN
        /// signs included. Bool computes in int8.
        Conjugate = 42, conjugate, ["conj"], NoBool -> NoBool, SIGN_OPS;
        /// `np.degrees`: NumPy's own ufunc with rad2deg's loops,
        /// `x * (180 / pi)`; flags as multiply.
        Degrees = 43, degrees, [], Math -> Float, EXACT;
        /// `np.radians`: NumPy's own ufunc with deg2rad's loops,
        /// `x * (pi / 180)`; flags as multiply.
        Radians = 44, radians, [], Math -> Float, EXACT;
            }
            reduce {
        /// `np.sum`: `add.reduce`; small ints accumulate in int64/uint64, bool
        /// in int64, integers wrap. Floats: NumPy's pairwise order, bit for bit;
        /// NaN propagates, `inf + -inf` is NaN with `invalid`, a finite sum that
        /// overflows is ±inf with `overflow`; empty gives 0 (+0.0).
        Sum = 0, sum, [], Fold -> Wide, EXACT, [AxisTuple, Keepdims, Where, Initial, Dtype];
        /// `np.prod`: `multiply.reduce`, sequential; integers wrap. Floats:
        /// `inf * 0` is NaN with `invalid`, `overflow`/`underflow` as multiply;
        /// empty gives 1.
        Prod = 1, prod, [], Fold -> Wide, EXACT, [AxisTuple, Keepdims, Where, Initial, Dtype];
        /// `np.min`/`np.amin`: `minimum.reduce`; NaN propagates (no flag); the
        /// sign of a zero result may differ from NumPy's, which varies by CPU
        /// (`precision::MAX_FAMILY`). Empty without `initial=` is a ValueError.
        Min = 2, min, ["amin"], Fold -> Same, PICKS_ELEMENT, [AxisTuple, Keepdims, Where, Initial];
        /// `np.max`/`np.amax`: `maximum.reduce`; NaN propagates (no flag); zero
        /// signs as min. Empty without `initial=` is a ValueError.
        Max = 3, max, ["amax"], Fold -> Same, PICKS_ELEMENT, [AxisTuple, Keepdims, Where, Initial];
        /// `np.mean`: the sum (int and bool in float64, floats in their dtype)
        /// divided in float64 by the count, as `_methods._mean`; bit-identical
        /// to NumPy. NaN and ±inf propagate (`inf - inf` sums give NaN with
        /// `invalid`); an empty input is NaN with `invalid` (0/0).
        Mean = 4, mean, [], Fold -> Real, EXACT, [AxisTuple, Keepdims, Where, Dtype];
        /// `np.var`: two passes, `sum((x - mean)**2) / max(n - ddof, 0)` as
        /// `_methods._var`; bit-identical to NumPy. A NaN or inf input gives NaN
        /// (with `invalid` for inf); `n - ddof <= 0` divides by 0 (inf or NaN
        /// with `divide`/`invalid`, as NumPy without its warning).
        Var = 5, var, [], Fold -> Real, EXACT, [AxisTuple, Keepdims, Where, Dtype, Ddof];
        /// `np.std`: `sqrt(var)` in the result dtype (correctly rounded sqrt);
        /// NaN and empty-input rules as var.
        Std = 6, std, [], Fold -> Real, EXACT, [AxisTuple, Keepdims, Where, Dtype, Ddof];
        /// `np.argmin`: first index of the minimum (of the first NaN).
        Argmin = 7, argmin, [], Fold -> Index, EXACT, [Keepdims];
        /// `np.argmax`: first index of the maximum (of the first NaN).
        Argmax = 8, argmax, [], Fold -> Index, EXACT, [Keepdims];
        /// `np.any`: `logical_or.reduce` to bool.
        Any = 9, any, [], Fold -> Bool, EXACT, [AxisTuple, Keepdims, Where];
        /// `np.all`: `logical_and.reduce` to bool.
        All = 10, all, [], Fold -> Bool, EXACT, [AxisTuple, Keepdims, Where];
        /// `np.count_nonzero`: int64 count (NaN counts as non-zero).
        CountNonzero = 11, count_nonzero, [], Fold -> Index, EXACT, [AxisTuple, Keepdims];
        /// `np.cumsum`: `add.accumulate`, sequential.
        Cumsum = 12, cumsum, [], Scan -> Wide, EXACT, [Dtype];
        /// `np.cumprod`: `multiply.accumulate`, sequential.
        Cumprod = 13, cumprod, [], Scan -> Wide, EXACT, [Dtype];
        /// `np.nansum`: sum with NaN as 0.
        Nansum = 14, nansum, [], Fold -> Wide, EXACT, [AxisTuple, Keepdims, Where, Initial, Dtype];
        /// `np.nanprod`: prod with NaN as 1.
        Nanprod = 15, nanprod, [], Fold -> Wide, EXACT, [AxisTuple, Keepdims, Where, Initial, Dtype];
        /// `np.nanmin`: `fmin.reduce`; all-NaN gives NaN (NumPy warns, no flag).
        Nanmin = 16, nanmin, [], Fold -> Same, PICKS_ELEMENT, [AxisTuple, Keepdims, Where, Initial];
        /// `np.nanmax`: `fmax.reduce`.
        Nanmax = 17, nanmax, [], Fold -> Same, PICKS_ELEMENT, [AxisTuple, Keepdims, Where, Initial];
        /// `np.nanmean`: mean over the non-NaN elements; all-NaN gives NaN
        /// without flags.
        Nanmean = 18, nanmean, [], Fold -> Real, EXACT, [AxisTuple, Keepdims, Where, Dtype];
            }
        }
    };
}
pub(crate) use crate::for_each_op;

/// A `for_each_op!` callback that passes the variants of the arithmetic
/// family (the ops with a [`BinaryKernel`](crate::ufunc::kernels) of their
/// own) to `$callback!(Add, Subtract, …)`.
macro_rules! arith_ops {
    ($callback:ident binary { $($rows:tt)* } $($rest:tt)*) => {
        $crate::table::arith_ops! { @rows $callback [] $($rows)* }
    };
    (@rows $callback:ident [$($acc:ident)*]) => {
        $callback! { $($acc),* }
    };
    (@rows $callback:ident [$($acc:ident)*] $(#[$doc:meta])* $variant:ident = $code:literal,
     $name:ident, [$($alias:literal),*], Arith -> $out:ident, $accuracy:expr, $identity:ident; $($rest:tt)*) => {
        $crate::table::arith_ops! { @rows $callback [$($acc)* $variant] $($rest)* }
    };
    (@rows $callback:ident [$($acc:ident)*] $(#[$doc:meta])* $variant:ident = $code:literal,
     $name:ident, [$($alias:literal),*], $family:ident -> $out:ident, $accuracy:expr, $identity:ident; $($rest:tt)*) => {
        $crate::table::arith_ops! { @rows $callback [$($acc)*] $($rest)* }
    };
}
pub(crate) use arith_ops;

/// The `for_each_op!` callback that defines the op enums.
macro_rules! define_ops {
    (
        binary { $($(#[$bdoc:meta])* $bv:ident = $bcode:literal, $bname:ident,
                   [$($balias:literal),*], $bfamily:ident -> $bout:ident, $baccuracy:expr, $bidentity:ident;)* }
        unary { $($(#[$udoc:meta])* $uv:ident = $ucode:literal, $uname:ident,
                  [$($ualias:literal),*], $ufamily:ident -> $uout:ident, $uaccuracy:expr;)* }
        reduce { $($(#[$rdoc:meta])* $rv:ident = $rcode:literal, $rname:ident,
                   [$($ralias:literal),*], $rkind:ident -> $rout:ident, $raccuracy:expr, [$($rkw:ident),*];)* }
    ) => {
        /// A binary ufunc. The discriminant is the stable wire code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum BinaryOp {
            $($(#[$bdoc])* $bv = $bcode,)*
        }

        impl BinaryOp {
            /// Every binary op, in wire-code order.
            pub const ALL: &'static [BinaryOp] = &[$(BinaryOp::$bv),*];

            /// NumPy's ufunc name.
            pub const fn name(self) -> &'static str {
                match self { $(BinaryOp::$bv => stringify!($bname),)* }
            }

            /// NumPy's other names for it (`divide` for `true_divide`, …).
            pub const fn aliases(self) -> &'static [&'static str] {
                match self { $(BinaryOp::$bv => &[$($balias),*],)* }
            }

            /// How NumPy picks this op's loop.
            pub const fn family(self) -> BinaryFamily {
                match self { $(BinaryOp::$bv => BinaryFamily::$bfamily,)* }
            }

            /// Which output type its loops have.
            pub const fn out_rule(self) -> OutRule {
                match self { $(BinaryOp::$bv => OutRule::$bout,)* }
            }

            /// How its float results compare with NumPy's (integer and bool
            /// results are always bit-exact).
            pub const fn accuracy(self) -> Accuracy {
                match self { $(BinaryOp::$bv => $baccuracy,)* }
            }

            /// NumPy's `ufunc.identity`: the value an empty reduction with
            /// this op starts from.
            pub const fn identity(self) -> Identity {
                match self { $(BinaryOp::$bv => Identity::$bidentity,)* }
            }

            /// NumPy's name of one of this ufunc's methods (`add.reduce`).
            pub const fn method_name(self, method: Method) -> &'static str {
                match method {
                    Method::Reduce => match self {
                        $(BinaryOp::$bv => concat!(stringify!($bname), ".reduce"),)*
                    },
                    Method::Accumulate => match self {
                        $(BinaryOp::$bv => concat!(stringify!($bname), ".accumulate"),)*
                    },
                    Method::Reduceat => match self {
                        $(BinaryOp::$bv => concat!(stringify!($bname), ".reduceat"),)*
                    },
                    Method::Outer => match self {
                        $(BinaryOp::$bv => concat!(stringify!($bname), ".outer"),)*
                    },
                    Method::At => match self {
                        $(BinaryOp::$bv => concat!(stringify!($bname), ".at"),)*
                    },
                }
            }

            /// The method's name under the ufunc's aliases
            /// (`divide.reduce`).
            pub const fn method_aliases(self, method: Method) -> &'static [&'static str] {
                match method {
                    Method::Reduce => match self {
                        $(BinaryOp::$bv => &[$(concat!($balias, ".reduce")),*],)*
                    },
                    Method::Accumulate => match self {
                        $(BinaryOp::$bv => &[$(concat!($balias, ".accumulate")),*],)*
                    },
                    Method::Reduceat => match self {
                        $(BinaryOp::$bv => &[$(concat!($balias, ".reduceat")),*],)*
                    },
                    Method::Outer => match self {
                        $(BinaryOp::$bv => &[$(concat!($balias, ".outer")),*],)*
                    },
                    Method::At => match self {
                        $(BinaryOp::$bv => &[$(concat!($balias, ".at")),*],)*
                    },
                }
            }
        }

        /// A unary ufunc. The discriminant is the stable wire code, offset
        /// by [`UNARY_CODE_BASE`] in an [`Op`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum UnaryOp {
            $($(#[$udoc])* $uv = $ucode,)*
        }

        impl UnaryOp {
            /// Every unary op, in wire-code order.
            pub const ALL: &'static [UnaryOp] = &[$(UnaryOp::$uv),*];

            /// NumPy's ufunc name.
            pub const fn name(self) -> &'static str {
                match self { $(UnaryOp::$uv => stringify!($uname),)* }
            }

            /// NumPy's other names for it (`abs`, `conj`, the array-API
            /// `asin`, …).
            pub const fn aliases(self) -> &'static [&'static str] {
                match self { $(UnaryOp::$uv => &[$($ualias),*],)* }
            }

            /// The name of its `at` method (`negative.at`).
            pub const fn at_name(self) -> &'static str {
                match self { $(UnaryOp::$uv => concat!(stringify!($uname), ".at"),)* }
            }

            /// Its `at` method under the ufunc's aliases (`abs.at`).
            pub const fn at_aliases(self) -> &'static [&'static str] {
                match self { $(UnaryOp::$uv => &[$(concat!($ualias, ".at")),*],)* }
            }

            /// How NumPy picks this op's loop.
            pub const fn family(self) -> UnaryFamily {
                match self { $(UnaryOp::$uv => UnaryFamily::$ufamily,)* }
            }

            /// Which output type its loops have.
            pub const fn out_rule(self) -> OutRule {
                match self { $(UnaryOp::$uv => OutRule::$uout,)* }
            }

            /// How its float results compare with NumPy's (integer and bool
            /// results are always bit-exact).
            pub const fn accuracy(self) -> Accuracy {
                match self { $(UnaryOp::$uv => $uaccuracy,)* }
            }
        }

        /// A reduction. The discriminant is the stable wire code, offset by
        /// [`REDUCE_CODE_BASE`] in an [`Op`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum ReduceOp {
            $($(#[$rdoc])* $rv = $rcode,)*
        }

        impl ReduceOp {
            /// Every reduction, in wire-code order.
            pub const ALL: &'static [ReduceOp] = &[$(ReduceOp::$rv),*];

            /// NumPy's function name.
            pub const fn name(self) -> &'static str {
                match self { $(ReduceOp::$rv => stringify!($rname),)* }
            }

            /// NumPy's other names for it (`amin`, `amax`).
            pub const fn aliases(self) -> &'static [&'static str] {
                match self { $(ReduceOp::$rv => &[$($ralias),*],)* }
            }

            /// Whether it folds axes away or scans along one.
            pub const fn kind(self) -> ReduceKind {
                match self { $(ReduceOp::$rv => ReduceKind::$rkind,)* }
            }

            /// Which result type it has without `dtype=`.
            pub const fn out_rule(self) -> OutRule {
                match self { $(ReduceOp::$rv => OutRule::$rout,)* }
            }

            /// How its float results compare with NumPy's (integer and bool
            /// results are always bit-exact).
            pub const fn accuracy(self) -> Accuracy {
                match self { $(ReduceOp::$rv => $raccuracy,)* }
            }

            /// The keywords NumPy's function takes besides `axis=` (an
            /// int); any other is a TypeError.
            pub const fn keywords(self) -> Keywords {
                match self {
                    $(ReduceOp::$rv => {
                        const K: Keywords = Keywords::of(&[$(Keyword::$rkw),*]);
                        K
                    })*
                }
            }
        }
    };
}

/// The loop-selection rule a binary op follows: which dtypes NumPy has
/// loops for and what the output dtype is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BinaryFamily {
    /// Arithmetic: loops for every integer and float dtype (bool only for
    /// some); output in the loop dtype.
    Arith,
    /// Comparisons: every dtype, output bool; int64 against uint64 exactly.
    Compare,
    /// Logical and/or/xor: operands are truth values, output bool.
    Logical,
    /// Bitwise and/or/xor: integers and bool.
    Bitwise,
    /// Shifts: integers only (bool shifts in int8).
    Shift,
    /// Float-only functions (float32, float64): integers promote to the
    /// smallest float that holds them, as NumPy's loop search does.
    FloatOnly,
    /// Only a float64 loop (`float_power`).
    Float64Only,
    /// `fmod`: integers and floats (bool in int8).
    Fmod,
    /// Integers only, output in the common integer dtype (`gcd`, `lcm`):
    /// no bool loop and no float loop, so two bools, a float, or int64
    /// with uint64 (whose common type is float64) are a TypeError.
    IntOnly,
    /// `ldexp`: a float mantissa and an integer exponent (NumPy's `fi`,
    /// `fl`, `di`, `dl` loops, `i` int32 and `l` int64). The mantissa picks
    /// the float as float-only functions do (bool, int8, uint8: float16);
    /// the exponent must cast safely to int64 (uint64 and floats: TypeError).
    Ldexp,
}

/// The loop-selection rule a unary op follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UnaryFamily {
    /// float32/float64 only; integers promote (int16 to float32, wider to
    /// float64; bool, int8 and uint8 to float16, which fnp lacks).
    Math,
    /// Every integer and float dtype, not bool; output in the input dtype.
    Signed,
    /// Every dtype, bool included; output in the input dtype.
    AnyDtype,
    /// Integers and floats; bool computes in int8.
    NoBool,
    /// Every dtype, output bool.
    Predicate,
    /// The sign bit of the value as bool (integers: `x < 0`).
    Signbit,
    /// Truth value in, bool out.
    Logical,
    /// Integers and bool (bitwise not; logical not on bool).
    Invert,
    /// Integers only, output uint8 (`bitwise_count`); bool computes in
    /// int8, floats are a TypeError.
    BitCount,
}

/// How an op's output type follows from its input types, as NumPy's type
/// resolver decides it; each variant has a marker type of the same name in
/// [`crate::promote::rule`] that computes it at compile time for the typed
/// functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OutRule {
    /// The operands' common dtype (`np.result_type`; one operand: its own).
    Same,
    /// As [`OutRule::Same`], but bool, which has no loop, computes in int8.
    NoBool,
    /// The float of the common dtype: float64 for bool and integers
    /// (`true_divide`, `mean`).
    Real,
    /// The smallest float each operand casts to safely, then their common
    /// float (float16 for bool, int8 and uint8 alone, which fnp lacks).
    Float,
    /// Always float64 (`float_power`).
    Float64,
    /// Always bool.
    Bool,
    /// The float of the first operand (`ldexp`).
    Mantissa,
    /// Always uint8 (`bitwise_count`).
    Uint8,
    /// The `sum` accumulator: int64 for bool and signed integers, uint64
    /// for unsigned ones, the float itself.
    Wide,
    /// Always int64: an index or a count.
    Index,
}

impl OutRule {
    /// A short snake_case name (`fnp info`).
    pub const fn name(self) -> &'static str {
        match self {
            OutRule::Same => "same",
            OutRule::NoBool => "no_bool",
            OutRule::Real => "real",
            OutRule::Float => "float",
            OutRule::Float64 => "float64",
            OutRule::Bool => "bool",
            OutRule::Mantissa => "mantissa",
            OutRule::Uint8 => "uint8",
            OutRule::Wide => "wide",
            OutRule::Index => "index",
        }
    }
}

/// The kind of a reduction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReduceKind {
    /// Reduces the chosen axes away (`sum`, `argmax`, …).
    Fold,
    /// A running result along one axis, the input's shape out (`cumsum`).
    Scan,
}

/// NumPy's `ufunc.identity` of a binary ufunc.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Identity {
    /// None: an empty reduction is a ValueError unless `initial=` is given.
    None,
    /// `0` (add, bitwise_or, bitwise_xor, hypot, gcd).
    Zero,
    /// `1` (multiply).
    One,
    /// `-1`, all bits set (bitwise_and).
    MinusOne,
    /// `False` (logical_or, logical_xor).
    False,
    /// `True` (logical_and).
    True,
    /// `-inf` (logaddexp, logaddexp2).
    NegInfinity,
}

/// A keyword argument of a reduction, beyond an int `axis=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Keyword {
    /// `axis=` as a tuple (argmin, argmax and the scans take one int or
    /// `None`; a tuple is a TypeError).
    AxisTuple = 1,
    /// `keepdims=`.
    Keepdims = 2,
    /// `where=`.
    Where = 4,
    /// `initial=`.
    Initial = 8,
    /// `dtype=`.
    Dtype = 16,
    /// `ddof=`.
    Ddof = 32,
}

/// A set of [`Keyword`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Keywords(u8);

impl Keywords {
    /// Every keyword, in [`Keyword`] order.
    pub const ALL: [Keyword; 6] = [
        Keyword::AxisTuple,
        Keyword::Keepdims,
        Keyword::Where,
        Keyword::Initial,
        Keyword::Dtype,
        Keyword::Ddof,
    ];

    /// The set of `list`.
    pub const fn of(list: &[Keyword]) -> Keywords {
        let mut bits = 0;
        let mut rest = list;
        while let [first, tail @ ..] = rest {
            bits |= *first as u8;
            rest = tail;
        }
        Keywords(bits)
    }

    /// Whether `k` is in the set.
    pub const fn contains(self, k: Keyword) -> bool {
        self.0 & k as u8 != 0
    }
}

impl Keyword {
    /// The keyword as NumPy spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Keyword::AxisTuple => "axis_tuple",
            Keyword::Keepdims => "keepdims",
            Keyword::Where => "where",
            Keyword::Initial => "initial",
            Keyword::Dtype => "dtype",
            Keyword::Ddof => "ddof",
        }
    }
}

for_each_op!(define_ops);

macro_rules! try_from_code {
    ($($ty:ident),*) => {$(
        impl TryFrom<u8> for $ty {
            type Error = Error;

            fn try_from(code: u8) -> Result<$ty> {
                $ty::ALL.get(usize::from(code)).copied().ok_or(Error::UnknownOp)
            }
        }

        impl core::fmt::Display for $ty {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl $ty {
            /// Parses NumPy's name or one of its aliases.
            pub fn from_name(name: &str) -> Option<$ty> {
                $ty::ALL
                    .iter()
                    .copied()
                    .find(|op| op.name() == name || op.aliases().contains(&name))
            }
        }
    )*};
}

/// A ufunc with two outputs (NumPy's `nout == 2`). The discriminant is
/// the stable wire code, offset by [`MULTI_CODE_BASE`] in an [`Op`].
///
/// Both outputs have the broadcast shape of the inputs; the first is in
/// the loop dtype, the second in [`MultiOp::second_dtype`]. NumPy has no
/// methods for them (`divmod.reduce` is a ValueError).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum MultiOp {
    /// `np.divmod(a, b)`: `(a // b, a % b)`, floor_divide's and
    /// remainder's loops, errors and results (bool computes in int8); the
    /// flags are the union of theirs (`divmod(1.0, 0.0)` is `(inf, nan)`
    /// with `divide` and `invalid`).
    Divmod = 0,
    /// `np.modf(x)`: the fractional and the integral part, both with the
    /// sign of `x` (`modf(-0.5) == (-0.5, -0.0)`, `modf(±inf) == (±0.0,
    /// ±inf)`, NaN gives `(nan, nan)`); float loops only, integers promote
    /// as for `sqrt`. Exact, no flags.
    Modf = 1,
    /// `np.frexp(x)`: `x == m * 2**e` with `0.5 <= |m| < 1` and an int32
    /// `e`; `frexp(±0.0) == (±0.0, 0)`, ±inf and NaN give themselves with
    /// `e == 0`; subnormals normalise (`frexp(5e-324) == (0.5, -1073)`).
    /// Float loops only, as `modf`. Exact, no flags.
    Frexp = 2,
}

impl MultiOp {
    /// Every two-output ufunc, in wire-code order.
    pub const ALL: &'static [MultiOp] = &[MultiOp::Divmod, MultiOp::Modf, MultiOp::Frexp];

    /// NumPy's ufunc name.
    pub const fn name(self) -> &'static str {
        match self {
            MultiOp::Divmod => "divmod",
            MultiOp::Modf => "modf",
            MultiOp::Frexp => "frexp",
        }
    }

    /// NumPy's other names for it (none).
    pub const fn aliases(self) -> &'static [&'static str] {
        &[]
    }

    /// Array inputs: two for divmod, one for modf and frexp.
    pub const fn arity(self) -> usize {
        match self {
            MultiOp::Divmod => 2,
            MultiOp::Modf | MultiOp::Frexp => 1,
        }
    }

    /// The second output's dtype when the first is `first`: int32 for
    /// frexp's exponent, `first` otherwise.
    pub const fn second_dtype(self, first: DType) -> DType {
        match self {
            MultiOp::Frexp => DType::Int32,
            MultiOp::Divmod | MultiOp::Modf => first,
        }
    }

    /// How its float results compare with NumPy's: all three are exact.
    pub const fn accuracy(self) -> Accuracy {
        EXACT
    }
}

try_from_code!(BinaryOp, UnaryOp, ReduceOp, MultiOp);

/// A method of a binary ufunc object (`np.add.reduce`, …). The
/// discriminant is the wire's method code (0 is a plain call).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Method {
    /// `ufunc.reduce(array, axis=0, dtype=None, keepdims=False, initial=…,
    /// where=True)`: the op folded over the axes, in NumPy's order.
    Reduce = 1,
    /// `ufunc.accumulate(array, axis=0, dtype=None)`: the running fold
    /// along one axis, the input's shape out.
    Accumulate = 2,
    /// `ufunc.reduceat(array, indices, axis=0, dtype=None)`: the fold of
    /// each slice `indices[i]:indices[i + 1]` along one axis (the element
    /// itself where the indices do not increase).
    Reduceat = 3,
    /// `ufunc.outer(a, b)`: the op of every pair, shape `a.shape +
    /// b.shape`.
    Outer = 4,
    /// `ufunc.at(a, indices, b)` (unary ufuncs: `ufunc.at(a, indices)`):
    /// `a[i] = op(a[i], b[k])` for each index in turn, unbuffered, so
    /// repeated indices accumulate; the result is `a` after the call.
    At = 5,
}

impl Method {
    /// Every method, in code order.
    pub const ALL: [Method; 5] = [
        Method::Reduce,
        Method::Accumulate,
        Method::Reduceat,
        Method::Outer,
        Method::At,
    ];

    /// NumPy's attribute name (`reduce`).
    pub const fn name(self) -> &'static str {
        match self {
            Method::Reduce => "reduce",
            Method::Accumulate => "accumulate",
            Method::Reduceat => "reduceat",
            Method::Outer => "outer",
            Method::At => "at",
        }
    }

    /// The method with wire code `code` (`None` for 0, a plain call).
    pub fn from_code(code: u8) -> Result<Option<Method>> {
        match code {
            0 => Ok(None),
            _ => Method::ALL
                .into_iter()
                .find(|&m| m as u8 == code)
                .map(Some)
                .ok_or(Error::UnknownOp),
        }
    }

    /// Array operands of a binary ufunc's method: the array (and
    /// `reduceat`'s indices, `outer`'s second operand, `at`'s indices and
    /// values).
    pub const fn arity(self) -> usize {
        match self {
            Method::Reduce | Method::Accumulate => 1,
            Method::Reduceat | Method::Outer => 2,
            Method::At => 3,
        }
    }

    /// Whether it takes `axis=` (default 0): all but `outer` and `at`.
    pub const fn takes_axis(self) -> bool {
        !matches!(self, Method::Outer | Method::At)
    }
}

/// Any fnp op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// A binary ufunc (two inputs, broadcast).
    Binary(BinaryOp),
    /// A reduction (one input, [`ReduceParams`](crate::ReduceParams)).
    Reduce(ReduceOp),
    /// A unary ufunc (one input, elementwise).
    Unary(UnaryOp),
    /// A method of a binary ufunc (its operands, [`ReduceParams`](crate::ReduceParams)).
    Method(BinaryOp, Method),
    /// `at`, the one method of a unary ufunc (`np.negative.at(a, indices)`).
    UnaryAt(UnaryOp),
    /// A ufunc with two outputs (`np.divmod`, `np.modf`, `np.frexp`).
    Multi(MultiOp),
}

impl Op {
    /// Every op: binary ops, reductions, unary ops, in wire-code order.
    pub fn all() -> impl Iterator<Item = Op> {
        BinaryOp::ALL
            .iter()
            .map(|&b| Op::Binary(b))
            .chain(ReduceOp::ALL.iter().map(|&r| Op::Reduce(r)))
            .chain(UnaryOp::ALL.iter().map(|&u| Op::Unary(u)))
            .chain(
                Method::ALL
                    .into_iter()
                    .flat_map(|m| BinaryOp::ALL.iter().map(move |&b| Op::Method(b, m))),
            )
            .chain(UnaryOp::ALL.iter().map(|&u| Op::UnaryAt(u)))
            .chain(MultiOp::ALL.iter().map(|&m| Op::Multi(m)))
    }

    /// NumPy's name.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Binary(b) => b.name(),
            Op::Reduce(r) => r.name(),
            Op::Unary(u) => u.name(),
            Op::Method(b, m) => b.method_name(m),
            Op::UnaryAt(u) => u.at_name(),
            Op::Multi(m) => m.name(),
        }
    }

    /// NumPy's other names for the op.
    pub const fn aliases(self) -> &'static [&'static str] {
        match self {
            Op::Binary(b) => b.aliases(),
            Op::Reduce(r) => r.aliases(),
            Op::Unary(u) => u.aliases(),
            Op::Method(b, m) => b.method_aliases(m),
            Op::UnaryAt(u) => u.at_aliases(),
            Op::Multi(m) => m.aliases(),
        }
    }

    /// Parses a NumPy name, aliases included (`divide`, `mod`, `abs`,
    /// `amin`, `amax`, ...).
    pub fn from_name(name: &str) -> Option<Op> {
        if let Some((ufunc, method)) = name.split_once('.') {
            let method = Method::ALL.into_iter().find(|m| m.name() == method)?;
            return match (BinaryOp::from_name(ufunc), UnaryOp::from_name(ufunc)) {
                (Some(b), _) => Some(Op::Method(b, method)),
                (None, Some(u)) if method == Method::At => Some(Op::UnaryAt(u)),
                _ => None,
            };
        }
        BinaryOp::from_name(name)
            .map(Op::Binary)
            .or_else(|| UnaryOp::from_name(name).map(Op::Unary))
            .or_else(|| ReduceOp::from_name(name).map(Op::Reduce))
            .or_else(|| MultiOp::from_name(name).map(Op::Multi))
    }

    /// The stable wire code: a binary op's own code (also for its
    /// methods, see [`Op::method`]), 64 + a reduction's, 128 + a unary
    /// op's, 224 + a two-output ufunc's.
    pub const fn code(self) -> u8 {
        match self {
            Op::Binary(b) | Op::Method(b, _) => b as u8,
            Op::Reduce(r) => REDUCE_CODE_BASE + r as u8,
            Op::Unary(u) | Op::UnaryAt(u) => UNARY_CODE_BASE + u as u8,
            Op::Multi(m) => MULTI_CODE_BASE + m as u8,
        }
    }

    /// The ufunc method, if the op is one.
    pub const fn method(self) -> Option<Method> {
        match self {
            Op::Method(_, m) => Some(m),
            Op::UnaryAt(_) => Some(Method::At),
            _ => None,
        }
    }

    /// The op of wire code `code` and method code `method` (0 for a plain
    /// call; only binary ufuncs have methods).
    pub fn from_codes(code: u8, method: u8) -> Result<Op> {
        match (Op::try_from(code)?, Method::from_code(method)?) {
            (op, None) => Ok(op),
            (Op::Binary(b), Some(m)) => Ok(Op::Method(b, m)),
            (Op::Unary(u), Some(Method::At)) => Ok(Op::UnaryAt(u)),
            _ => Err(Error::UnknownOp),
        }
    }

    /// How many array inputs the op takes.
    pub const fn arity(self) -> usize {
        match self {
            Op::Binary(_) => 2,
            Op::Reduce(_) | Op::Unary(_) => 1,
            Op::Method(_, m) => m.arity(),
            Op::UnaryAt(_) => 2,
            Op::Multi(m) => m.arity(),
        }
    }

    /// How its float results compare with NumPy's.
    pub const fn accuracy(self) -> Accuracy {
        match self {
            Op::Method(
                BinaryOp::Power | BinaryOp::FloatPower,
                Method::Reduce | Method::Accumulate | Method::Reduceat,
            ) => crate::precision::POWER_FOLD,
            // np.max and friends: which NaN a vectorised reduction returns.
            Op::Method(
                BinaryOp::Maximum | BinaryOp::Minimum | BinaryOp::Fmax | BinaryOp::Fmin,
                Method::Reduce | Method::Reduceat,
            ) => crate::precision::PICKS_ELEMENT,
            Op::Binary(b) | Op::Method(b, _) => b.accuracy(),
            Op::Reduce(r) => r.accuracy(),
            Op::Unary(u) | Op::UnaryAt(u) => u.accuracy(),
            Op::Multi(m) => m.accuracy(),
        }
    }
}

impl TryFrom<u8> for Op {
    type Error = Error;

    fn try_from(code: u8) -> Result<Op> {
        if code >= MULTI_CODE_BASE {
            MultiOp::try_from(code - MULTI_CODE_BASE).map(Op::Multi)
        } else if code >= UNARY_CODE_BASE {
            UnaryOp::try_from(code - UNARY_CODE_BASE).map(Op::Unary)
        } else if code >= REDUCE_CODE_BASE {
            ReduceOp::try_from(code - REDUCE_CODE_BASE).map(Op::Reduce)
        } else {
            BinaryOp::try_from(code).map(Op::Binary)
        }
    }
}

impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let mut n = 0;
        for op in Op::all() {
            let method = op.method().map_or(0, |m| m as u8);
            assert_eq!(Op::from_codes(op.code(), method), Ok(op));
            if method == 0 {
                assert_eq!(Op::try_from(op.code()), Ok(op));
            }
            assert_eq!(Op::from_name(op.name()), Some(op));
            for alias in op.aliases() {
                assert_eq!(Op::from_name(alias), Some(op), "{alias}");
            }
            n += 1;
        }
        assert_eq!(
            n,
            BinaryOp::ALL.len() * (1 + Method::ALL.len())
                + ReduceOp::ALL.len()
                + UnaryOp::ALL.len() * 2
                + MultiOp::ALL.len()
        );
        assert_eq!(Op::from_name("frexp"), Some(Op::Multi(MultiOp::Frexp)));
        assert_eq!(Op::Multi(MultiOp::Divmod).code(), 224);
        assert_eq!(Op::from_codes(224, 1), Err(Error::UnknownOp));
        assert_eq!(Op::from_name("divmod.reduce"), None);
        assert!(UnaryOp::ALL.len() <= usize::from(MULTI_CODE_BASE - UNARY_CODE_BASE));
        assert_eq!(
            Op::from_name("maximum.accumulate"),
            Some(Op::Method(BinaryOp::Maximum, Method::Accumulate))
        );
        assert_eq!(
            Op::from_name("divide.reduce"),
            Some(Op::Method(BinaryOp::TrueDivide, Method::Reduce))
        );
        assert_eq!(Op::from_name("add.outer_product"), None);
        assert_eq!(Op::from_name("sum.reduce"), None);
        assert_eq!(Op::from_codes(0, 6), Err(Error::UnknownOp));
        assert_eq!(Op::from_codes(64, 1), Err(Error::UnknownOp));
        // A unary ufunc has `at` alone.
        assert_eq!(Op::from_codes(128, 5), Ok(Op::UnaryAt(UnaryOp::Negative)));
        assert_eq!(Op::from_codes(128, 1), Err(Error::UnknownOp));
        assert_eq!(Op::from_name("negative.reduce"), None);
        assert_eq!(
            Op::from_name("abs.at"),
            Some(Op::UnaryAt(UnaryOp::Absolute))
        );
        assert!(BinaryOp::ALL.len() <= usize::from(REDUCE_CODE_BASE));
        assert!(ReduceOp::ALL.len() <= usize::from(UNARY_CODE_BASE - REDUCE_CODE_BASE));
        // Discriminants are the positions in ALL, so codes are dense.
        for (i, op) in BinaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
        for (i, op) in UnaryOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
        for (i, op) in ReduceOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
        for (i, op) in MultiOp::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
        assert_eq!(Op::Unary(UnaryOp::Negative).code(), 128);
        assert_eq!(Op::from_name("abs"), Some(Op::Unary(UnaryOp::Absolute)));
        assert_eq!(Op::Reduce(ReduceOp::Sum).code(), 64);
        assert_eq!(Op::try_from(63), Err(Error::UnknownOp));
        assert_eq!(Op::try_from(255), Err(Error::UnknownOp));
        assert_eq!(Op::try_from(127), Err(Error::UnknownOp));
        assert_eq!(Op::from_name("amax"), Some(Op::Reduce(ReduceOp::Max)));
        assert_eq!(
            Op::from_name("divide"),
            Some(Op::Binary(BinaryOp::TrueDivide))
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names: std::vec::Vec<&str> = Op::all()
            .flat_map(|op| core::iter::once(op.name()).chain(op.aliases().iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn keywords() {
        let k = ReduceOp::Var.keywords();
        assert!(k.contains(Keyword::Ddof) && k.contains(Keyword::Where));
        assert!(!k.contains(Keyword::Initial));
        let k = ReduceOp::Cumsum.keywords();
        assert!(k.contains(Keyword::Dtype) && !k.contains(Keyword::Keepdims));
        assert!(!ReduceOp::Argmax.keywords().contains(Keyword::AxisTuple));
    }

    #[test]
    fn arith_family_is_what_the_kernels_dispatch() {
        macro_rules! collect {
            ($($v:ident),*) => { [$(BinaryOp::$v),*] };
        }
        let arith = for_each_op!(arith_ops, collect);
        let expected: std::vec::Vec<BinaryOp> = BinaryOp::ALL
            .iter()
            .copied()
            .filter(|op| op.family() == BinaryFamily::Arith)
            .collect();
        assert_eq!(arith.to_vec(), expected);
    }
}
