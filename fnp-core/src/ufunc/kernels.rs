//! Element kernels: one per op and loop dtype, over equal-length slices.
//!
//! Integer loops wrap like NumPy's C loops (two's complement), with NumPy's
//! defined results where C is undefined (`x // 0`, `MIN // -1`). Float
//! loops are plain IEEE arithmetic; their status flags are derived in
//! software ([`crate::num::float`]) in a second, rarely taken pass over the
//! elements whose operands or results are special values.

use crate::element::Bool;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::float::{self, Float};

/// `out[i] = op(a[i], b[i])` over equal-length contiguous runs, returning
/// the IEEE flags NumPy would raise for these elements.
pub(crate) trait BinaryKernel<T> {
    /// Applies the op; `a`, `b` and `out` have the same length.
    fn apply(a: &[T], b: &[T], out: &mut [T]) -> Result<FpFlags>;
}

/// The op table row of a kernel marker.
pub(crate) trait ArithOp {
    const OP: BinaryOp;
}

macro_rules! unit_structs {
    ($($name:ident),*) => { $(
        /// Kernel marker for the op of the same name.
        pub(crate) struct $name;

        impl ArithOp for $name {
            const OP: BinaryOp = BinaryOp::$name;
        }
    )* };
}

// One marker per arithmetic-family row of the op table.
crate::table::for_each_op!(arith_ops, unit_structs);
use crate::table::{arith_ops, BinaryOp};

/// Elements per block of the float loops: results are computed for a block,
/// then a cheap test over the block decides whether the flag pass runs.
/// On hosts small enough that the re-read of the block hits L1; devices
/// have no data cache, so a longer block only spreads the per-block setup
/// (a call at opt-level z) over more elements.
const BLOCK: usize = if cfg!(target_os = "none") { 1024 } else { 256 };

/// Runs `op` over a float run, then derives the flags of the elements for
/// which `suspect` holds (a superset of those that can raise any flag).
#[inline(always)]
fn float_loop<F: Float>(
    a: &[F],
    b: &[F],
    out: &mut [F],
    op: impl Fn(F, F) -> F,
    suspect: impl Fn(F, F, F) -> bool,
    flags: impl Fn(F, F, F) -> FpFlags,
) -> FpFlags {
    let mut raised = FpFlags::NONE;
    for ((oc, ac), bc) in out
        .chunks_mut(BLOCK)
        .zip(a.chunks(BLOCK))
        .zip(b.chunks(BLOCK))
    {
        // Equal lengths up front let the compiler drop bounds checks and
        // vectorize both the op and the `any` reduction.
        let n = oc.len().min(ac.len()).min(bc.len());
        let (oc, ac, bc) = (&mut oc[..n], &ac[..n], &bc[..n]);
        let mut any = 0u8;
        for i in 0..n {
            let r = op(ac[i], bc[i]);
            oc[i] = r;
            any |= u8::from(suspect(ac[i], bc[i], r));
        }
        if any != 0 {
            for i in 0..n {
                if suspect(ac[i], bc[i], oc[i]) {
                    raised |= flags(ac[i], bc[i], oc[i]);
                }
            }
        }
    }
    raised
}

/// Elements per step of [`arith_loop`]'s unrolled body.
const LANES: usize = 8;

/// Independent pre-check accumulators of [`arith_loop`]: on hosts one per
/// lane, so that they vectorize without reordering any sum (four SSE
/// vectors of f64) and the adds do not wait on each other; in-order
/// devices have no vectors and a single accumulator saves FPU registers.
const ACCUMULATORS: usize = if cfg!(target_os = "none") { 1 } else { LANES };

/// The loop of add, subtract (`TINY == false`: only a non-finite result can
/// raise a flag), multiply and true_divide (`TINY`: also a result at or
/// below `MIN_POSITIVE`).
///
/// With hardware floats the pre-check is float arithmetic that vectorizes
/// without a compare per element: a running sum per lane is non-finite if
/// any result is (an infinity or NaN absorbs every later finite addend), and
/// a running minimum of `|r|` per lane is at or below `MIN_POSITIVE` if any
/// result is. The sum can also overflow on its own; that only sends the
/// block to the precise pass, which decides per element as before, so the
/// flags never depend on it. Software floats keep the exponent test of
/// [`float_loop`], cheaper there than a second soft-float add.
#[inline(always)]
fn arith_loop<F: Float, const TINY: bool>(
    a: &[F],
    b: &[F],
    out: &mut [F],
    op: impl Fn(F, F) -> F,
    flags: impl Fn(F, F, F) -> FpFlags,
) -> FpFlags {
    if !F::HARDWARE {
        return if TINY {
            float_loop(a, b, out, op, tiny_or_not_finite, flags)
        } else {
            float_loop(a, b, out, op, not_finite, flags)
        };
    }
    let suspect = |r: F| !r.is_finite() || (TINY && r.abs() <= F::MIN_POSITIVE);
    let mut raised = FpFlags::NONE;
    // Whole steps of LANES first, in blocks (a multiple of LANES): the
    // per-block work is only the accumulators' setup and test.
    let n = out.len().min(a.len()).min(b.len());
    let whole = n - n % LANES;
    let (Some((o_main, o_rest)), Some((a_main, a_rest)), Some((b_main, b_rest))) = (
        out.split_at_mut_checked(whole),
        a.split_at_checked(whole),
        b.split_at_checked(whole),
    ) else {
        return raised;
    };
    // Views as LANES-element arrays (never fails: same alignment, whole
    // steps), so that the unrolled body indexes without bounds checks.
    let (Ok(o_main), Ok(a_main), Ok(b_main)) = (
        bytemuck::try_cast_slice_mut::<F, [F; LANES]>(o_main),
        bytemuck::try_cast_slice::<F, [F; LANES]>(a_main),
        bytemuck::try_cast_slice::<F, [F; LANES]>(b_main),
    ) else {
        return raised;
    };
    for ((ob, ab), bb) in o_main
        .chunks_mut(BLOCK / LANES)
        .zip(a_main.chunks(BLOCK / LANES))
        .zip(b_main.chunks(BLOCK / LANES))
    {
        let mut sum = [F::ZERO; ACCUMULATORS];
        let mut low = [F::INFINITY; ACCUMULATORS];
        let mut lane = |j: usize, r: F| {
            // ACCUMULATORS is 1 on devices: every lane shares one.
            #[allow(clippy::modulo_one)]
            let j = j % ACCUMULATORS;
            if let (Some(s), Some(l)) = (sum.get_mut(j), low.get_mut(j)) {
                *s = *s + r;
                if TINY {
                    let m = r.abs();
                    // `m < l` picks `l` for a NaN `m` (caught by the sum),
                    // so `l` is never NaN: one minps/minpd on x86.
                    *l = if m < *l { m } else { *l };
                }
            }
        };
        for ((o, x), y) in ob.iter_mut().zip(ab).zip(bb) {
            // Spelled out rather than a `for j` loop: opt-level s/z do not
            // unroll, and a rolled loop keeps the accumulators in memory.
            macro_rules! lanes {
                ($($j:literal)*) => { $(
                    let r = op(x[$j], y[$j]);
                    o[$j] = r;
                    lane($j, r);
                )* };
            }
            lanes!(0 1 2 3 4 5 6 7);
        }
        let hit = sum
            .iter()
            .zip(&low)
            .any(|(s, &l)| !s.is_finite() || (TINY && l <= F::MIN_POSITIVE));
        if hit {
            let (ob, ab, bb) = (ob.as_flattened(), ab.as_flattened(), bb.as_flattened());
            for ((&r, &x), &y) in ob.iter().zip(ab).zip(bb) {
                if suspect(r) {
                    raised |= flags(x, y, r);
                }
            }
        }
    }
    // Fewer than LANES elements: tested one by one.
    for ((o, &x), &y) in o_rest.iter_mut().zip(a_rest).zip(b_rest) {
        let r = op(x, y);
        *o = r;
        if suspect(r) {
            raised |= flags(x, y, r);
        }
    }
    raised
}

/// Non-finite results are the only ones add/subtract flag.
#[inline(always)]
fn not_finite<F: Float>(_: F, _: F, r: F) -> bool {
    !r.is_finite()
}

/// Multiply/divide flag non-finite results and results at or below
/// `MIN_POSITIVE` (a result that rounded up to `MIN_POSITIVE` can still be
/// tiny).
#[inline(always)]
fn tiny_or_not_finite<F: Float>(_: F, _: F, r: F) -> bool {
    !r.is_finite() || r.abs() <= F::MIN_POSITIVE
}

/// Floor division goes through `divmod`, whose steps raise flags only for
/// special operands or a quotient `a / b` that overflows or is tiny (the
/// `copysign(0, a / b)` of a zero quotient); everything else raises nothing.
#[inline(always)]
fn divmod_suspect<F: Float>(a: F, b: F, _: F) -> bool {
    let q = a / b;
    a.is_special() || b.is_special() || !q.is_finite() || q.abs() <= F::MIN_POSITIVE
}

/// maximum/minimum/fmax/fmin as NumPy's scalar loops: one select per
/// element (vectorizable), returning the first operand when the two compare
/// equal, so `maximum(0.0, -0.0)` is 0.0 and `maximum(-0.0, 0.0)` is -0.0
/// (NumPy's SIMD loops may pick either zero; the precision table accepts
/// both).
#[inline(always)]
fn pick<F: Float>(first: bool, x: F, y: F) -> F {
    if first {
        x
    } else {
        y
    }
}

macro_rules! float_kernels {
    ($($t:ty),*) => { $(
        impl BinaryKernel<$t> for Add {
            /// IEEE sum; `overflow` for an infinity from finite operands,
            /// `invalid` for `inf + -inf`. Never `underflow` (a subnormal
            /// sum is exact).
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(arith_loop::<$t, false>(a, b, out, |x, y| x + y, float::add_flags))
            }
        }

        impl BinaryKernel<$t> for Subtract {
            /// IEEE difference; flags as for add.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(arith_loop::<$t, false>(a, b, out, |x, y| x - y, |x, y, r| float::add_flags(x, -y, r)))
            }
        }

        impl BinaryKernel<$t> for Multiply {
            /// IEEE product; `invalid` for `inf * 0`, `overflow`, and
            /// `underflow` for a tiny inexact product.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(arith_loop::<$t, true>(a, b, out, |x, y| x * y, float::mul_flags))
            }
        }

        impl BinaryKernel<$t> for TrueDivide {
            /// IEEE quotient; `divide` for finite non-zero `x / 0`,
            /// `invalid` for `0/0` and `inf/inf`, `overflow`, `underflow`.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(arith_loop::<$t, true>(a, b, out, |x, y| x / y, float::div_flags))
            }
        }

        impl BinaryKernel<$t> for FloorDivide {
            /// NumPy's `npy_floor_divide`: `x / 0` is the IEEE quotient
            /// (±inf or NaN), otherwise `npy_divmod`'s snapped quotient
            /// with its signed zeros; flags of every step it takes.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(float_loop(
                    a, b, out,
                    |x, y| float::floor_divide::<$t, false>(x, y).0,
                    divmod_suspect,
                    |x, y, _| float::floor_divide::<$t, true>(x, y).1,
                ))
            }
        }

        impl BinaryKernel<$t> for Remainder {
            /// NumPy's `npy_remainder`: the result has the divisor's sign
            /// (`remainder(-1, inf)` is inf), `x % 0` is NaN with `invalid`.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(float_loop(
                    a, b, out,
                    |x, y| float::remainder::<$t, false>(x, y).0,
                    |x, y, _| x.is_special() || y.is_special(),
                    |x, y, _| float::remainder::<$t, true>(x, y).1,
                ))
            }
        }

        impl BinaryKernel<$t> for Power {
            /// C99 `pow` from libm (within the ULP bound of
            /// [`crate::precision`]); `pow(0, -1)` is inf with `divide`.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok(float_loop(
                    a, b, out,
                    Float::pow,
                    |x, y, r| x.is_special() || y.is_special() || r.is_special() || r.abs() < <$t>::MIN_POSITIVE,
                    float::pow_flags,
                ))
            }
        }

        impl BinaryKernel<$t> for Maximum {
            /// Propagates NaN (the first operand's when both are NaN, as
            /// NumPy); never raises a flag.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = pick(x >= y || x.is_nan(), x, y);
                }
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Minimum {
            /// Propagates NaN like maximum.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = pick(x <= y || x.is_nan(), x, y);
                }
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Fmax {
            /// Ignores a NaN operand; NaN only when both are (the first).
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = pick(x >= y || y.is_nan(), x, y);
                }
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Fmin {
            /// Ignores a NaN operand like fmax.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = pick(x <= y || y.is_nan(), x, y);
                }
                Ok(FpFlags::NONE)
            }
        }
    )* };
}
float_kernels!(f32, f64);

/// Element-wise map over equal-length runs.
#[inline(always)]
fn map<T: Copy>(a: &[T], b: &[T], out: &mut [T], op: impl Fn(T, T) -> T) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = op(x, y);
    }
}

/// `map` for the one-instruction integer ops (add, subtract): on in-order
/// cores without vectors, a loop step of one element spends a third of its
/// instructions on the compare and branch; four elements per step (and
/// load/store-multiple where the core has them) amortize that. Hosts
/// vectorize either form.
#[inline(always)]
fn map_unrolled<T: bytemuck::Pod>(a: &[T], b: &[T], out: &mut [T], op: impl Fn(T, T) -> T) {
    let n = out.len().min(a.len()).min(b.len());
    let whole = n - n % 4;
    let (Some((o_main, o_rest)), Some((a_main, a_rest)), Some((b_main, b_rest))) = (
        out.split_at_mut_checked(whole),
        a.split_at_checked(whole),
        b.split_at_checked(whole),
    ) else {
        return;
    };
    // Never fails: same alignment, whole steps.
    let (Ok(o_main), Ok(a_main), Ok(b_main)) = (
        bytemuck::try_cast_slice_mut::<T, [T; 4]>(o_main),
        bytemuck::try_cast_slice::<T, [T; 4]>(a_main),
        bytemuck::try_cast_slice::<T, [T; 4]>(b_main),
    ) else {
        return;
    };
    for ((o, x), y) in o_main.iter_mut().zip(a_main).zip(b_main) {
        *o = [
            op(x[0], y[0]),
            op(x[1], y[1]),
            op(x[2], y[2]),
            op(x[3], y[3]),
        ];
    }
    map(a_rest, b_rest, o_rest, op);
}

/// Exact integer power by squaring; wrapping multiplication is a ring
/// homomorphism mod 2^n, so the result equals the exact power wrapped, as
/// NumPy's loop gives. `x ** 0` is 1 (also `0 ** 0`).
macro_rules! int_pow {
    ($name:ident, $t:ty) => {
        #[inline]
        fn $name(mut base: $t, mut exp: $t) -> $t {
            let mut r: $t = 1;
            while exp > 0 {
                if exp & 1 == 1 {
                    r = r.wrapping_mul(base);
                }
                exp >>= 1;
                base = base.wrapping_mul(base);
            }
            r
        }
    };
}

macro_rules! int_wrapping {
    ($($t:ty),*) => { $(
        impl BinaryKernel<$t> for Add {
            /// Wrapping sum; no flag (NumPy does not report integer overflow).
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                map_unrolled(a, b, out, <$t>::wrapping_add);
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Subtract {
            /// Wrapping difference.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                map_unrolled(a, b, out, <$t>::wrapping_sub);
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Multiply {
            /// Wrapping product.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                map(a, b, out, <$t>::wrapping_mul);
                Ok(FpFlags::NONE)
            }
        }
    )* };
}
int_wrapping!(u8, u16, u32, u64);

/// Signed add, subtract and multiply are bit-for-bit the unsigned ones of
/// the same width in two's complement (wrapping), so they run the unsigned
/// kernels: one copy of each loop in the firmware instead of two.
macro_rules! int_wrapping_signed {
    ($($t:ty => $u:ty),*) => { $(
        impl BinaryKernel<$t> for Add {
            /// Wrapping sum, as the unsigned sum of the same bits.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                as_unsigned::<$t, $u, Add>(a, b, out)
            }
        }

        impl BinaryKernel<$t> for Subtract {
            /// Wrapping difference, as the unsigned difference.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                as_unsigned::<$t, $u, Subtract>(a, b, out)
            }
        }

        impl BinaryKernel<$t> for Multiply {
            /// Wrapping product, as the unsigned product (the low half of
            /// a product does not depend on signedness).
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                as_unsigned::<$t, $u, Multiply>(a, b, out)
            }
        }
    )* };
}
int_wrapping_signed!(i8 => u8, i16 => u16, i32 => u32, i64 => u64);

/// Runs kernel `K` of the unsigned type `U` on signed data of the same
/// width, reinterpreting the bits.
#[inline(always)]
fn as_unsigned<S, U, K>(a: &[S], b: &[S], out: &mut [S]) -> Result<FpFlags>
where
    S: bytemuck::Pod,
    U: bytemuck::Pod,
    K: BinaryKernel<U>,
{
    // Same size and alignment, so these casts cannot fail; the error arm
    // exists only to avoid a panic path.
    match (
        bytemuck::try_cast_slice::<S, U>(a),
        bytemuck::try_cast_slice::<S, U>(b),
        bytemuck::try_cast_slice_mut::<S, U>(out),
    ) {
        (Ok(a), Ok(b), Ok(out)) => K::apply(a, b, out),
        _ => Err(Error::Misaligned),
    }
}

macro_rules! int_common {
    ($($t:ty => $pow:ident),*) => { $(
        int_pow!($pow, $t);

        impl BinaryKernel<$t> for TrueDivide {
            /// NumPy has no integer true_divide loop: the resolver sends
            /// integers to float64, so this is never selected.
            fn apply(_: &[$t], _: &[$t], _: &mut [$t]) -> Result<FpFlags> {
                Err(Error::NoLoop)
            }
        }

        impl BinaryKernel<$t> for Power {
            /// Exact power with wraparound; any negative exponent in the run
            /// is a ValueError, as NumPy raises it.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                #[allow(unused_comparisons)]
                if b.iter().any(|&y| y < 0) {
                    return Err(Error::NegativeIntegerPower);
                }
                map(a, b, out, $pow);
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Maximum {
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                map(a, b, out, |x, y| if x >= y { x } else { y });
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Minimum {
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                map(a, b, out, |x, y| if x <= y { x } else { y });
                Ok(FpFlags::NONE)
            }
        }

        impl BinaryKernel<$t> for Fmax {
            /// Same as maximum for integers.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                <Maximum as BinaryKernel<$t>>::apply(a, b, out)
            }
        }

        impl BinaryKernel<$t> for Fmin {
            /// Same as minimum for integers.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                <Minimum as BinaryKernel<$t>>::apply(a, b, out)
            }
        }
    )* };
}
int_common!(i8 => pow_i8, i16 => pow_i16, i32 => pow_i32, i64 => pow_i64,
            u8 => pow_u8, u16 => pow_u16, u32 => pow_u32, u64 => pow_u64);

/// Exact integer floor division and remainder with NumPy's defined results:
/// Python signs, `x // 0 == x % 0 == 0` with `divide`, `MIN // -1 == MIN`
/// with `overflow`, `MIN % -1 == 0` without a flag. Every type has these;
/// the narrow types use them on targets without fast float division.
// On hosted targets the narrow types use `via_f64`; the exact versions
// stay compiled there so the tests can check the two against each other.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub(crate) mod exact {
    use crate::flags::FpFlags;

    macro_rules! signed {
        ($($t:ty => $fd:ident, $rem:ident),*) => { $(
            #[inline]
            pub(crate) fn $fd(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let (mut zero, mut ovf) = (false, false);
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = if y == 0 {
                        zero = true;
                        0
                    } else if y == -1 {
                        ovf |= x == <$t>::MIN;
                        x.wrapping_neg()
                    } else {
                        // y is neither 0 nor -1; the checked forms carry no
                        // divide-by-zero panic where opt z does not inline.
                        let (q, r) = (x.checked_div(y).unwrap_or(0), x.checked_rem(y).unwrap_or(0));
                        if r != 0 && ((r < 0) != (y < 0)) { q - 1 } else { q }
                    };
                }
                FpFlags::when(zero, FpFlags::DIVIDE) | FpFlags::when(ovf, FpFlags::OVERFLOW)
            }

            #[inline]
            pub(crate) fn $rem(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = if y == 0 {
                        zero = true;
                        0
                    } else if y == -1 {
                        0
                    } else {
                        let r = x.checked_rem(y).unwrap_or(0);
                        if r != 0 && ((r < 0) != (y < 0)) { r + y } else { r }
                    };
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }
        )* };
    }
    signed!(i8 => fd_i8, rem_i8, i16 => fd_i16, rem_i16, i32 => fd_i32, rem_i32, i64 => fd_i64, rem_i64);

    macro_rules! unsigned {
        ($($t:ty => $fd:ident, $rem:ident),*) => { $(
            #[inline]
            pub(crate) fn $fd(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    zero |= y == 0;
                    *o = x.checked_div(y).unwrap_or(0);
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }

            #[inline]
            pub(crate) fn $rem(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    zero |= y == 0;
                    *o = x.checked_rem(y).unwrap_or(0);
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }
        )* };
    }
    unsigned!(u8 => fd_u8, rem_u8, u16 => fd_u16, rem_u16, u32 => fd_u32, rem_u32, u64 => fd_u64, rem_u64);
}

/// Floor division and remainder of integers of at most 32 bits through
/// float64, which is exact: both operands and every quotient are exact
/// float64 integers, and a non-integral quotient `x / y` is at least `1/|y|`
/// from the next integer while float64's rounding error is below
/// `2^-21 / |y|`, so truncating the rounded quotient gives the true one.
/// The selects for `y == 0` and `MIN // -1` give NumPy's results. Vector
/// float division is much faster than a scalar integer division per element.
#[cfg(not(target_os = "none"))]
pub(crate) mod via_f64 {
    use crate::flags::FpFlags;

    /// 1.5 * 2^52: adding it to a float64 of magnitude below 2^51 rounds
    /// it to an integer held in the low mantissa bits.
    const MAGIC: f64 = 6_755_399_441_055_744.0;

    /// The floor of `x / y` as the low 32 bits of the integer (two's
    /// complement), for x, y of at most 32 bits and y != 0; y == 0 lanes
    /// give garbage that callers mask. Everything stays in float64 lanes
    /// (add, compare, select, bit cast), which vectorizes on x86-64's
    /// baseline where a saturating float-to-int conversion does not.
    /// `MIN // -1` (2^31) comes out as MIN, NumPy's wrapped result.
    #[inline(always)]
    fn floor_quotient(x: f64, y: f64) -> u32 {
        let d = x / y;
        let nearest = (d + MAGIC) - MAGIC;
        let floor = if nearest > d { nearest - 1.0 } else { nearest };
        (floor + MAGIC).to_bits() as u32
    }

    macro_rules! signed {
        ($($t:ty => $fd:ident, $rem:ident),*) => { $(
            #[inline]
            pub(crate) fn $fd(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let (mut zero, mut ovf) = (false, false);
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    let q = floor_quotient(f64::from(x), f64::from(y)) as $t;
                    zero |= y == 0;
                    ovf |= x == <$t>::MIN && y == -1;
                    // Masks rather than branches keep the loop vectorized.
                    *o = q & (0 as $t).wrapping_sub(<$t>::from(y != 0));
                }
                FpFlags::when(zero, FpFlags::DIVIDE) | FpFlags::when(ovf, FpFlags::OVERFLOW)
            }

            #[inline]
            pub(crate) fn $rem(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    let q = floor_quotient(f64::from(x), f64::from(y)) as $t;
                    zero |= y == 0;
                    // x - q*y in wrapping arithmetic is exact because the
                    // true remainder fits (MIN % -1: MIN - MIN*-1 == 0).
                    let keep = <$t>::from(y != 0);
                    *o = x.wrapping_sub(q.wrapping_mul(y)) & (0 as $t).wrapping_sub(keep);
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }
        )* };
    }
    signed!(i8 => fd_i8, rem_i8, i16 => fd_i16, rem_i16, i32 => fd_i32, rem_i32);

    macro_rules! unsigned {
        ($($t:ty => $fd:ident, $rem:ident),*) => { $(
            #[inline]
            pub(crate) fn $fd(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    let q = floor_quotient(f64::from(x), f64::from(y)) as $t;
                    zero |= y == 0;
                    *o = q & (0 as $t).wrapping_sub(<$t>::from(y != 0));
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }

            #[inline]
            pub(crate) fn $rem(a: &[$t], b: &[$t], out: &mut [$t]) -> FpFlags {
                let mut zero = false;
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    let q = floor_quotient(f64::from(x), f64::from(y)) as $t;
                    zero |= y == 0;
                    let keep = (0 as $t).wrapping_sub(<$t>::from(y != 0));
                    *o = x.wrapping_sub(q.wrapping_mul(y)) & keep;
                }
                FpFlags::when(zero, FpFlags::DIVIDE)
            }
        )* };
    }
    unsigned!(u8 => fd_u8, rem_u8, u16 => fd_u16, rem_u16, u32 => fd_u32, rem_u32);
}

macro_rules! int_divmod {
    ($($t:ty => $module:ident :: $fd:ident, $rem:ident);* $(;)?) => { $(
        impl BinaryKernel<$t> for FloorDivide {
            /// Python's `//`; `x // 0 == 0` with `divide`, `MIN // -1 ==
            /// MIN` with `overflow`.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok($module::$fd(a, b, out))
            }
        }

        impl BinaryKernel<$t> for Remainder {
            /// Python's `%` (the divisor's sign); `x % 0 == 0` with
            /// `divide`, `MIN % -1 == 0` without a flag.
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                Ok($module::$rem(a, b, out))
            }
        }
    )* };
}

#[cfg(not(target_os = "none"))]
int_divmod! {
    i8 => via_f64::fd_i8, rem_i8; i16 => via_f64::fd_i16, rem_i16; i32 => via_f64::fd_i32, rem_i32;
    u8 => via_f64::fd_u8, rem_u8; u16 => via_f64::fd_u16, rem_u16; u32 => via_f64::fd_u32, rem_u32;
}
// Without an FPU, software float64 division is slower than integer division.
#[cfg(target_os = "none")]
int_divmod! {
    i8 => exact::fd_i8, rem_i8; i16 => exact::fd_i16, rem_i16; i32 => exact::fd_i32, rem_i32;
    u8 => exact::fd_u8, rem_u8; u16 => exact::fd_u16, rem_u16; u32 => exact::fd_u32, rem_u32;
}
int_divmod! {
    i64 => exact::fd_i64, rem_i64; u64 => exact::fd_u64, rem_u64;
}

macro_rules! bool_kernels {
    ($($op:ident => $f:expr),*) => { $(
        impl BinaryKernel<Bool> for $op {
            fn apply(a: &[Bool], b: &[Bool], out: &mut [Bool]) -> Result<FpFlags> {
                let f: fn(bool, bool) -> bool = $f;
                // The driver normalizes bool inputs to 0/1 when gathering.
                map(a, b, out, |x, y| Bool::from(f(x.get(), y.get())));
                Ok(FpFlags::NONE)
            }
        }
    )* };
}
// NumPy's `??->?` loops: add is logical or, multiply logical and, and the
// max family are or/and on False < True.
bool_kernels!(Add => |x, y| x | y, Multiply => |x, y| x & y, Maximum => |x, y| x | y,
              Minimum => |x, y| x & y, Fmax => |x, y| x | y, Fmin => |x, y| x & y);

macro_rules! no_bool_loop {
    ($($op:ident),*) => { $(
        impl BinaryKernel<Bool> for $op {
            /// NumPy has no bool loop for this op: the resolver picks int8
            /// (or float64, or a TypeError) instead, so this is never selected.
            fn apply(_: &[Bool], _: &[Bool], _: &mut [Bool]) -> Result<FpFlags> {
                Err(Error::NoLoop)
            }
        }
    )* };
}
no_bool_loop!(Subtract, TrueDivide, FloorDivide, Remainder, Power);

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift: deterministic operands without a dev-dependency.
    fn next(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    macro_rules! same_as_exact {
        ($name:ident, $t:ty, $fd:ident, $rem:ident) => {
            /// The float64 route and the exact integer route agree on
            /// results and flags: every pair for 8-bit types, edge values
            /// and random pairs for wider ones.
            #[cfg(not(target_os = "none"))]
            #[test]
            fn $name() {
                let mut edges: std::vec::Vec<$t> = std::vec![<$t>::MIN, <$t>::MAX, 0, 1, 2, 3, 7, 100];
                #[allow(unused_comparisons)]
                if <$t>::MIN < 0 {
                    edges.extend([(0 as $t).wrapping_sub(1), <$t>::MIN.wrapping_add(1), (0 as $t).wrapping_sub(7)]);
                }
                let (mut a, mut b) = (std::vec::Vec::new(), std::vec::Vec::new());
                if <$t>::BITS == 8 {
                    for x in <$t>::MIN..=<$t>::MAX {
                        for y in <$t>::MIN..=<$t>::MAX {
                            a.push(x);
                            b.push(y);
                        }
                    }
                } else {
                    for &x in &edges {
                        for &y in &edges {
                            a.push(x);
                            b.push(y);
                        }
                    }
                    let mut s = 0x9e37_79b9_7f4a_7c15u64;
                    for _ in 0..200_000 {
                        let x = next(&mut s) as $t;
                        // Small divisors are where floor/trunc differ most.
                        let y = if next(&mut s) % 2 == 0 { next(&mut s) as $t } else { (next(&mut s) % 17) as $t };
                        a.push(x);
                        b.push(y);
                    }
                }
                let mut o1 = std::vec![0 as $t; a.len()];
                let mut o2 = std::vec![0 as $t; a.len()];
                assert_eq!(via_f64::$fd(&a, &b, &mut o1), exact::$fd(&a, &b, &mut o2));
                assert_eq!(o1, o2);
                assert_eq!(via_f64::$rem(&a, &b, &mut o1), exact::$rem(&a, &b, &mut o2));
                assert_eq!(o1, o2);
                // Python's identity a == (a // b) * b + a % b (wrapping) for b != 0.
                let mut q = std::vec![0 as $t; a.len()];
                exact::$fd(&a, &b, &mut q);
                for i in 0..a.len() {
                    if b[i] != 0 {
                        assert_eq!(q[i].wrapping_mul(b[i]).wrapping_add(o2[i]), a[i]);
                        #[allow(unused_comparisons)]
                        let sign_ok = o2[i] == 0 || ((o2[i] < 0) == (b[i] < 0));
                        assert!(sign_ok, "{} % {} = {}", a[i], b[i], o2[i]);
                    }
                }
            }
        };
    }
    same_as_exact!(divmod_i8, i8, fd_i8, rem_i8);
    same_as_exact!(divmod_i16, i16, fd_i16, rem_i16);
    same_as_exact!(divmod_i32, i32, fd_i32, rem_i32);
    same_as_exact!(divmod_u8, u8, fd_u8, rem_u8);
    same_as_exact!(divmod_u16, u16, fd_u16, rem_u16);
    same_as_exact!(divmod_u32, u32, fd_u32, rem_u32);

    #[test]
    fn int_power_matches_wrapped_exact_power() {
        let mut s = 12345u64;
        for _ in 0..20_000 {
            let base = next(&mut s) as i64 % 1000 - 500;
            let exp = (next(&mut s) % 70) as i64;
            // i128 wrapping pow reduced mod 2^64 equals the i64 wrapping pow.
            let want = (base as i128).wrapping_pow(exp as u32) as i64;
            assert_eq!(pow_i64(base, exp), want, "{base} ** {exp}");
            let b8 = base as i8;
            assert_eq!(pow_i8(b8, exp as i8), b8.wrapping_pow(exp as u32));
            let bu = base as u16;
            assert_eq!(pow_u16(bu, exp as u16), bu.wrapping_pow(exp as u32));
        }
        // Exponents beyond u32: 3^(2^63) is 3 squared 63 times.
        let mut sq = 3u64;
        for _ in 0..63 {
            sq = sq.wrapping_mul(sq);
        }
        assert_eq!(pow_u64(3, 1 << 63), sq);
        assert_eq!(pow_i64(-1, i64::MAX), -1);
        assert_eq!(pow_i32(0, 0), 1);
        assert_eq!(pow_i32(-1, i32::MAX), -1);
    }

    /// Python's float divmod for every integer-valued pair in
    /// -127..=127 × ±1..=127 (NumPy's test_float_remainder_exact), with
    /// the divisor's sign on zero remainders and floor_divide's sign of zero.
    #[test]
    fn float_divmod_has_python_signs() {
        for a in -127i32..=127 {
            for b in (-127i32..=127).filter(|&b| b != 0) {
                let (q, _) = float::floor_divide::<f64, true>(f64::from(a), f64::from(b));
                let (r, f) = float::remainder::<f64, true>(f64::from(a), f64::from(b));
                assert_eq!(
                    q,
                    f64::from(a.div_euclid(b) - i32::from(a.rem_euclid(b) != 0 && b < 0))
                );
                let py_r = a - b * (q as i32);
                assert_eq!(r, f64::from(py_r), "{a} % {b}");
                if py_r == 0 {
                    assert_eq!(r.is_sign_negative(), b < 0);
                }
                if q == 0.0 {
                    // copysign(0, a / b): +0 / -1 is -0.
                    assert_eq!(q.is_sign_negative(), (a < 0) != (b < 0));
                }
                assert!(f.is_empty());
                let (q32, _) = float::floor_divide::<f32, false>(a as f32, b as f32);
                assert_eq!(f64::from(q32), q);
            }
        }
    }

    /// Operands that reach every flag: random bit patterns (all exponents),
    /// specials, and magnitudes near the overflow and underflow thresholds
    /// of products and quotients.
    fn interesting_f64(s: &mut u64) -> f64 {
        let r = next(s);
        let special = [
            0.0,
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            1.0,
            -1.0,
        ];
        match r % 4 {
            0 => special[(r >> 8) as usize % special.len()],
            1 => f64::from_bits(next(s)),
            // Exponents around ±512 and ±1022: products and quotients of
            // two of these straddle both thresholds.
            _ => {
                let e = [
                    -1074i32, -1060, -1022, -600, -520, -511, 0, 511, 520, 600, 1000, 1023,
                ][(r >> 8) as usize % 12];
                let m = 1.0 + (next(s) >> 12) as f64 / (1u64 << 52) as f64;
                let v = libm::scalbn(m, e + (r >> 40) as i32 % 5 - 2);
                if r & (1 << 63) != 0 {
                    -v
                } else {
                    v
                }
            }
        }
    }

    /// Signed add/subtract/multiply (run as the unsigned kernels) wrap
    /// exactly as the signed operations, at every length around the
    /// unrolled step of four, including MIN/MAX edges.
    #[test]
    fn signed_wrapping_through_unsigned_kernels() {
        let mut s = 0x0bad_cafe_dead_beefu64;
        for len in 0..=13usize {
            let mut a: std::vec::Vec<i32> = (0..len).map(|_| next(&mut s) as i32).collect();
            let b: std::vec::Vec<i32> = (0..len).map(|_| next(&mut s) as i32).collect();
            if let Some(x) = a.last_mut() {
                *x = i32::MIN;
            }
            let mut out = std::vec![0i32; len];
            type Op = (Kernel, fn(i32, i32) -> i32);
            type Kernel = fn(&[i32], &[i32], &mut [i32]) -> Result<FpFlags>;
            let ops: [Op; 3] = [
                (<Add as BinaryKernel<i32>>::apply, i32::wrapping_add),
                (<Subtract as BinaryKernel<i32>>::apply, i32::wrapping_sub),
                (<Multiply as BinaryKernel<i32>>::apply, i32::wrapping_mul),
            ];
            for (kernel, want) in ops {
                assert_eq!(kernel(&a, &b, &mut out), Ok(FpFlags::NONE));
                for i in 0..len {
                    assert_eq!(out[i], want(a[i], b[i]), "len {len} at {i}");
                }
            }
            let a8: std::vec::Vec<i8> = a.iter().map(|&x| x as i8).collect();
            let b8: std::vec::Vec<i8> = b.iter().map(|&x| x as i8).collect();
            let mut o8 = std::vec![0i8; len];
            assert_eq!(
                <Subtract as BinaryKernel<i8>>::apply(&a8, &b8, &mut o8),
                Ok(FpFlags::NONE)
            );
            for i in 0..len {
                assert_eq!(o8[i], a8[i].wrapping_sub(b8[i]));
            }
        }
    }

    /// The lane accumulators of `arith_loop` see every element: one special
    /// pair placed at each position of runs around the lane and block
    /// boundaries (first, last, in the remainder, last of a block, first of
    /// the next) still raises exactly its flags, in f32 and f64; an
    /// overflowing running sum of finite results (a false alarm) raises
    /// nothing.
    #[test]
    fn arith_loop_sees_every_position() {
        macro_rules! check {
            ($t:ty) => {{
                type Kernel = fn(&[$t], &[$t], &mut [$t]) -> Result<FpFlags>;
                type Precise = fn($t, $t) -> ($t, FpFlags);
                let ops: [(&str, Kernel, Precise); 4] = [
                    ("add", <Add as BinaryKernel<$t>>::apply, |x, y| {
                        (x + y, float::add_flags(x, y, x + y))
                    }),
                    ("subtract", <Subtract as BinaryKernel<$t>>::apply, |x, y| {
                        (x - y, float::add_flags(x, -y, x - y))
                    }),
                    ("multiply", <Multiply as BinaryKernel<$t>>::apply, |x, y| {
                        (x * y, float::mul_flags(x, y, x * y))
                    }),
                    ("true_divide", <TrueDivide as BinaryKernel<$t>>::apply, |x, y| {
                        (x / y, float::div_flags(x, y, x / y))
                    }),
                ];
                let m = <$t>::MAX;
                let tiny = <$t>::MIN_POSITIVE;
                // (a, b) pairs that raise something in at least one op.
                let specials: [($t, $t); 8] = [
                    (m, m),
                    (m, -m),
                    (<$t>::INFINITY, <$t>::NEG_INFINITY),
                    (1.0, 0.0),
                    (<$t>::NAN, 1.0),
                    (tiny, 0.75),
                    (tiny * 3.0, tiny),
                    (0.0, 0.0),
                ];
                let mut flagged = 0;
                for len in [1usize, 3, 7, 8, 9, 255, 256, 257, 300, 512, 513] {
                    let mut positions = std::vec![0, len - 1, len / 2, len - len % 8];
                    positions.extend([255, 256, 511, 512].iter().filter(|&&p| p < len));
                    for pos in positions.into_iter().filter(|&p| p < len) {
                        for &(sa, sb) in &specials {
                            let mut a: std::vec::Vec<$t> =
                                (0..len).map(|i| 1.5 + (i % 13) as $t).collect();
                            let mut b: std::vec::Vec<$t> =
                                (0..len).map(|i| 0.25 + (i % 7) as $t).collect();
                            a[pos] = sa;
                            b[pos] = sb;
                            for (name, kernel, precise) in ops {
                                let mut out = std::vec![0 as $t; len];
                                let got = kernel(&a, &b, &mut out).unwrap();
                                let mut want = FpFlags::NONE;
                                for i in 0..len {
                                    let (r, f) = precise(a[i], b[i]);
                                    want |= f;
                                    assert!(out[i].to_bits() == r.to_bits() || (r.is_nan() && out[i].is_nan()));
                                }
                                assert_eq!(got, want, "{name} len {len} pos {pos} ({sa:e}, {sb:e})");
                                flagged += usize::from(!want.is_empty());
                            }
                        }
                    }
                }
                assert!(flagged > 300, "only {flagged} flagged cases");
                // Large finite results whose running sums overflow: the
                // precise pass runs and finds nothing.
                let a = std::vec![m / 2.0; 300];
                let b = std::vec![m / 4.0; 300];
                let mut out = std::vec![0 as $t; 300];
                assert_eq!(<Add as BinaryKernel<$t>>::apply(&a, &b, &mut out), Ok(FpFlags::NONE));
                assert!(out.iter().all(|&r| r == m / 2.0 + m / 4.0));
                assert_eq!(<TrueDivide as BinaryKernel<$t>>::apply(&a, &b, &mut out), Ok(FpFlags::NONE));
            }};
        }
        check!(f64);
        check!(f32);
    }

    /// The cheap pre-check never hides a flag: for every element, the
    /// kernel's flags equal the precise per-element flags computed without
    /// any gating.
    #[test]
    fn fast_path_never_misses_a_flag() {
        type Precise = fn(f64, f64) -> (f64, FpFlags);
        type Kernel = fn(&[f64], &[f64], &mut [f64]) -> Result<FpFlags>;
        let ops: [(&str, Kernel, Precise); 7] = [
            ("add", <Add as BinaryKernel<f64>>::apply, |x, y| {
                (x + y, float::add_flags(x, y, x + y))
            }),
            (
                "subtract",
                <Subtract as BinaryKernel<f64>>::apply,
                |x, y| (x - y, float::add_flags(x, -y, x - y)),
            ),
            (
                "multiply",
                <Multiply as BinaryKernel<f64>>::apply,
                |x, y| (x * y, float::mul_flags(x, y, x * y)),
            ),
            (
                "true_divide",
                <TrueDivide as BinaryKernel<f64>>::apply,
                |x, y| (x / y, float::div_flags(x, y, x / y)),
            ),
            (
                "floor_divide",
                <FloorDivide as BinaryKernel<f64>>::apply,
                |x, y| float::floor_divide::<f64, true>(x, y),
            ),
            (
                "remainder",
                <Remainder as BinaryKernel<f64>>::apply,
                |x, y| float::remainder::<f64, true>(x, y),
            ),
            ("power", <Power as BinaryKernel<f64>>::apply, |x, y| {
                let r = Float::pow(x, y);
                (r, float::pow_flags(x, y, r))
            }),
        ];
        let mut s = 0x1234_5678_9abc_def1u64;
        let mut raised = [0u32; 16];
        for _ in 0..60_000 {
            let (x, y) = (interesting_f64(&mut s), interesting_f64(&mut s));
            for (name, kernel, precise) in ops {
                let mut out = [0f64];
                let got = kernel(&[x], &[y], &mut out).unwrap();
                let (r, want) = precise(x, y);
                assert_eq!(got, want, "{name}({x:e}, {y:e})");
                assert!(out[0].to_bits() == r.to_bits() || (r.is_nan() && out[0].is_nan()));
                raised[usize::from(want.bits())] += 1;
            }
        }
        // Every flag was exercised, so the equality above was not vacuous.
        for f in [
            FpFlags::DIVIDE,
            FpFlags::OVERFLOW,
            FpFlags::UNDERFLOW,
            FpFlags::INVALID,
        ] {
            let hits: u32 = (0..16u8)
                .filter(|b| FpFlags::from_bits_truncate(*b).contains(f))
                .map(|b| raised[usize::from(b)])
                .sum();
            assert!(hits > 100, "{f:?} raised only {hits} times");
        }
    }
}
