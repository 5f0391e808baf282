//! Kernels of every op outside the arithmetic core: comparisons, logical,
//! bitwise and shift ops, the float-only binary functions, `fmod` and all
//! unary ops.
//!
//! Each loop type answers "which kernel does `op` use in me" with a
//! function pointer ([`Loops`]), so the drivers are instantiated once per
//! loop and output type rather than once per op. A kernel is a plain loop
//! over a contiguous run; float kernels derive NumPy's IEEE flags in
//! software, only for results that are special (zero, subnormal, inf, NaN)
//! or tiny, the only ones that can carry a flag.

use super::vmath::Vector;
use crate::element::{Bool, LoopElement};
use crate::error::Result;
use crate::flags::FpFlags;
use crate::num::float::{self, Float};
use crate::num::int::Int;
use crate::num::math::Math;
use crate::table::{BinaryOp, UnaryOp};

/// A binary kernel over runs of `A` and `B` into `O`.
pub(crate) type BinaryFn<A, B, O> = fn(&[A], &[B], &mut [O]) -> Result<FpFlags>;

/// A unary kernel over a run of `A` into `O`.
pub(crate) type UnaryFn<A, O> = fn(&[A], &mut [O]) -> Result<FpFlags>;

/// A binary kernel: output in the loop type, or bool; or `ldexp`'s, whose
/// second operand is an integer exponent (NumPy's `i` and `l` loops, read
/// as int64 here).
pub(crate) enum Binary<T> {
    Same(BinaryFn<T, T, T>),
    ToBool(BinaryFn<T, T, Bool>),
    WithExponent(BinaryFn<T, i64, T>),
}

/// A unary kernel: output in the loop type, bool, or uint8
/// (`bitwise_count`).
pub(crate) enum Unary<T> {
    Same(UnaryFn<T, T>),
    ToBool(UnaryFn<T, Bool>),
    ToU8(UnaryFn<T, u8>),
}

/// The kernels a loop type has; `None` where NumPy has no such loop (the
/// resolvers never ask for one).
pub(crate) trait Loops: LoopElement {
    fn binary(op: BinaryOp) -> Option<Binary<Self>>;
    fn unary(op: UnaryOp) -> Option<Unary<Self>>;
}

#[inline(always)]
fn map2<A: Copy, B: Copy, O>(
    a: &[A],
    b: &[B],
    out: &mut [O],
    f: impl Fn(A, B) -> O,
) -> Result<FpFlags> {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
    Ok(FpFlags::NONE)
}

#[inline(always)]
fn map1<A: Copy, O>(a: &[A], out: &mut [O], f: impl Fn(A) -> O) -> Result<FpFlags> {
    for (o, &x) in out.iter_mut().zip(a) {
        *o = f(x);
    }
    Ok(FpFlags::NONE)
}

/// Whether a float result can carry a flag: special or at most the
/// smallest normal (tiny results underflow).
#[inline(always)]
fn suspect<F: Float>(r: F) -> bool {
    r.is_special() || r.abs() <= F::MIN_POSITIVE
}

/// `out = f(x)` with `flags(x, r)` for the suspect results.
#[inline(always)]
fn map1_flags<F: Float>(
    x: &[F],
    out: &mut [F],
    f: impl Fn(F) -> F,
    flags: impl Fn(F, F) -> FpFlags,
) -> Result<FpFlags> {
    let mut raised = FpFlags::NONE;
    for (o, &v) in out.iter_mut().zip(x) {
        let r = f(v);
        if suspect(r) {
            raised |= flags(v, r);
        }
        *o = r;
    }
    Ok(raised)
}

/// `out = f(x)` by a block kernel ([`Vector`]) that reports whether a
/// block has a result that can carry a flag; `flags(x, r)` runs over the
/// suspect results of those blocks only, so the common block is one
/// branch-free loop.
#[inline(always)]
fn map1_blocks<F: Float>(
    x: &[F],
    out: &mut [F],
    block: fn(&[F], &mut [F]) -> bool,
    flags: impl Fn(F, F) -> FpFlags,
) -> Result<FpFlags> {
    // Small enough to stay in cache for the flag pass or a redone block,
    // long enough that the call, the dispatch and the per-block check
    // cost nothing per element (512 measured 2-3% slower at 64K).
    const BLOCK: usize = 4096;
    let mut raised = FpFlags::NONE;
    // Checked slicing rather than `chunks().zip(chunks_mut())`, whose
    // length arithmetic leaves panic sites in the firmware.
    let mut start = 0usize;
    while let (Some(xb), Some(ob)) = (
        x.get(start..x.len().min(start.saturating_add(BLOCK))),
        out.get_mut(start..x.len().min(start.saturating_add(BLOCK))),
    ) {
        if xb.is_empty() {
            break;
        }
        if block(xb, ob) {
            for (&v, &r) in xb.iter().zip(ob.iter()) {
                if suspect(r) {
                    raised |= flags(v, r);
                }
            }
        }
        start = start.saturating_add(xb.len());
    }
    Ok(raised)
}

/// `np.sqrt`: its only flag is `invalid`, for `x < 0` (`-0.0` and NaN
/// raise nothing, and no root of a finite number under- or overflows), so
/// the loop has no branch and vectorizes where the square root does.
fn sqrt_loop<F: Math>(x: &[F], out: &mut [F]) -> Result<FpFlags> {
    let mut negative = false;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.sqrt();
        negative |= v < F::ZERO;
    }
    Ok(FpFlags::when(negative, FpFlags::INVALID))
}

/// `out = f(a, b)` with `flags(a, b, r)` for the suspect results.
#[inline(always)]
fn map2_flags<F: Float>(
    a: &[F],
    b: &[F],
    out: &mut [F],
    f: impl Fn(F, F) -> F,
    flags: impl Fn(F, F, F) -> FpFlags,
) -> Result<FpFlags> {
    let mut raised = FpFlags::NONE;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let r = f(x, y);
        if suspect(r) {
            raised |= flags(x, y, r);
        }
        *o = r;
    }
    Ok(raised)
}

/// IEEE flags of a function result `r = f(x)` from its classes: NaN from a
/// non-NaN is `invalid`; inf from a finite `x` is `divide` at a pole
/// (`log(0)`, `arctanh(1)`) and `overflow` otherwise; a subnormal result is
/// `underflow`, and so is a zero from a non-zero finite `x` where the
/// function only reaches zero by underflowing (`exp(-1000)`).
#[inline]
fn math_flags<F: Float, const POLE: bool, const ZERO_UNDERFLOWS: bool>(x: F, r: F) -> FpFlags {
    if r.is_nan() {
        FpFlags::when(!x.is_nan(), FpFlags::INVALID)
    } else if r.is_infinite() {
        let flag = if POLE {
            FpFlags::DIVIDE
        } else {
            FpFlags::OVERFLOW
        };
        FpFlags::when(x.is_finite(), flag)
    } else if r == F::ZERO {
        FpFlags::when(
            ZERO_UNDERFLOWS && x != F::ZERO && x.is_finite(),
            FpFlags::UNDERFLOW,
        )
    } else {
        FpFlags::when(r.abs() < F::MIN_POSITIVE, FpFlags::UNDERFLOW)
    }
}

/// [`math_flags`] for two operands (no poles): `invalid` for a NaN from
/// non-NaNs, `overflow` for inf from finite operands, `underflow` for a
/// subnormal result when `UNDERFLOW`.
#[inline]
fn math2_flags<F: Float, const UNDERFLOW: bool>(a: F, b: F, r: F) -> FpFlags {
    if r.is_nan() {
        FpFlags::when(!a.is_nan() && !b.is_nan(), FpFlags::INVALID)
    } else if r.is_infinite() {
        FpFlags::when(a.is_finite() && b.is_finite(), FpFlags::OVERFLOW)
    } else {
        FpFlags::when(
            UNDERFLOW && r != F::ZERO && r.abs() < F::MIN_POSITIVE,
            FpFlags::UNDERFLOW,
        )
    }
}

/// The six comparisons, for any loop type with IEEE ordering.
#[inline(always)]
fn compare<T: PartialOrd + Copy>(op: BinaryOp) -> Option<Binary<T>> {
    let k: BinaryFn<T, T, Bool> = match op {
        BinaryOp::Equal => |a, b, o| map2(a, b, o, |x, y| Bool::from(x == y)),
        BinaryOp::NotEqual => |a, b, o| map2(a, b, o, |x, y| Bool::from(x != y)),
        BinaryOp::Less => |a, b, o| map2(a, b, o, |x, y| Bool::from(x < y)),
        BinaryOp::LessEqual => |a, b, o| map2(a, b, o, |x, y| Bool::from(x <= y)),
        BinaryOp::Greater => |a, b, o| map2(a, b, o, |x, y| Bool::from(x > y)),
        BinaryOp::GreaterEqual => |a, b, o| map2(a, b, o, |x, y| Bool::from(x >= y)),
        _ => return None,
    };
    Some(Binary::ToBool(k))
}

/// Exact comparisons between a signed and an unsigned 64-bit run (NumPy's
/// `qQ` and `Qq` loops), widened to i128.
pub(crate) fn mixed_compare<A, B>(op: BinaryOp) -> BinaryFn<A, B, Bool>
where
    A: Copy + Into<i128>,
    B: Copy + Into<i128>,
{
    match op {
        BinaryOp::Equal => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() == y.into())),
        BinaryOp::NotEqual => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() != y.into())),
        BinaryOp::Less => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() < y.into())),
        BinaryOp::LessEqual => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() <= y.into())),
        BinaryOp::Greater => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() > y.into())),
        _ => |a, b, o| map2(a, b, o, |x, y| Bool::from(x.into() >= y.into())),
    }
}

impl Loops for Bool {
    #[inline(always)]
    fn binary(op: BinaryOp) -> Option<Binary<Bool>> {
        // The drivers normalize gathered bools to 0/1, so bitwise on the
        // byte is logical.
        let k: BinaryFn<Bool, Bool, Bool> = match op {
            BinaryOp::LogicalAnd | BinaryOp::BitwiseAnd => {
                |a, b, o| map2(a, b, o, |x, y| Bool(x.0 & y.0))
            }
            BinaryOp::LogicalOr | BinaryOp::BitwiseOr => {
                |a, b, o| map2(a, b, o, |x, y| Bool(x.0 | y.0))
            }
            BinaryOp::LogicalXor | BinaryOp::BitwiseXor => {
                |a, b, o| map2(a, b, o, |x, y| Bool(x.0 ^ y.0))
            }
            _ => return compare(op),
        };
        Some(Binary::Same(k))
    }

    #[inline(always)]
    fn unary(op: UnaryOp) -> Option<Unary<Bool>> {
        Some(match op {
            UnaryOp::Absolute | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Trunc => {
                Unary::Same(|x, o| map1(x, o, |v| v))
            }
            UnaryOp::LogicalNot | UnaryOp::Invert => {
                Unary::Same(|x, o| map1(x, o, |v| Bool(v.0 ^ 1)))
            }
            UnaryOp::Isnan | UnaryOp::Isinf => Unary::ToBool(|x, o| map1(x, o, |_| Bool::FALSE)),
            UnaryOp::Isfinite => Unary::ToBool(|x, o| map1(x, o, |_| Bool::TRUE)),
            _ => return None,
        })
    }
}

/// The integer loop types' kernels.
macro_rules! int_loops {
    ($($t:ty),*) => { $(
        impl Loops for $t {
            #[inline(always)]
            fn binary(op: BinaryOp) -> Option<Binary<$t>> {
                Some(Binary::Same(match op {
                    BinaryOp::BitwiseAnd => |a, b, o| map2(a, b, o, Int::bit_and),
                    BinaryOp::BitwiseOr => |a, b, o| map2(a, b, o, Int::bit_or),
                    BinaryOp::BitwiseXor => |a, b, o| map2(a, b, o, Int::bit_xor),
                    BinaryOp::LeftShift => |a, b, o| map2(a, b, o, Int::shl),
                    BinaryOp::RightShift => |a, b, o| map2(a, b, o, Int::shr),
                    BinaryOp::Fmod => int_fmod::<$t>,
                    BinaryOp::Gcd => |a, b, o| map2(a, b, o, Int::gcd),
                    BinaryOp::Lcm => |a, b, o| map2(a, b, o, Int::lcm),
                    _ => return compare(op),
                }))
            }

            #[inline(always)]
            fn unary(op: UnaryOp) -> Option<Unary<$t>> {
                Some(match op {
                    UnaryOp::Negative => Unary::Same(|x, o| map1(x, o, Int::neg)),
                    UnaryOp::Positive
                    | UnaryOp::Floor
                    | UnaryOp::Ceil
                    | UnaryOp::Trunc
                    | UnaryOp::Conjugate => Unary::Same(|x, o| map1(x, o, |v| v)),
                    UnaryOp::Absolute => Unary::Same(|x, o| map1(x, o, Int::abs)),
                    UnaryOp::BitwiseCount => Unary::ToU8(|x, o| map1(x, o, Int::popcount)),
                    UnaryOp::Sign => Unary::Same(|x, o| map1(x, o, Int::sign)),
                    UnaryOp::Square => Unary::Same(|x, o| map1(x, o, Int::square)),
                    UnaryOp::Reciprocal => Unary::Same(int_reciprocal::<$t>),
                    UnaryOp::Invert => Unary::Same(|x, o| map1(x, o, |v: $t| !v)),
                    UnaryOp::Isnan | UnaryOp::Isinf => {
                        Unary::ToBool(|x, o| map1(x, o, |_| Bool::FALSE))
                    }
                    UnaryOp::Isfinite => Unary::ToBool(|x, o| map1(x, o, |_| Bool::TRUE)),
                    _ => return None,
                })
            }
        }
    )* };
}

int_loops!(i8, i16, i32, i64, u8, u16, u32, u64);

fn int_fmod<T: Int>(a: &[T], b: &[T], out: &mut [T]) -> Result<FpFlags> {
    let mut flags = FpFlags::NONE;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let (r, f) = x.fmod(y);
        *o = r;
        flags |= f;
    }
    Ok(flags)
}

fn int_reciprocal<T: Int>(x: &[T], out: &mut [T]) -> Result<FpFlags> {
    let mut flags = FpFlags::NONE;
    for (o, &v) in out.iter_mut().zip(x) {
        let (r, f) = v.reciprocal();
        *o = r;
        flags |= f;
    }
    Ok(flags)
}

/// C's `nextafter` flags: `overflow` stepping from a finite `x` to inf,
/// `underflow` for a subnormal or zero result of a step (`x != y`).
#[inline]
fn nextafter_flags<F: Float>(x: F, y: F, r: F) -> FpFlags {
    let stepped = x != y && !x.is_nan() && !y.is_nan();
    FpFlags::when(r.is_infinite() && x.is_finite(), FpFlags::OVERFLOW)
        | FpFlags::when(stepped && r.abs() < F::MIN_POSITIVE, FpFlags::UNDERFLOW)
}

/// Flags of NumPy's logaddexp formulas: a NaN operand raises `invalid`
/// (the formula orders `x - y` against 0 with C's signalling `>`); finite
/// operands `overflow` when `x - y` does (`MAX - -MAX`, though the result
/// is finite) or the result is infinite; tiny results `underflow`.
#[inline]
fn logaddexp_flags<F: Float>(x: F, y: F, r: F) -> FpFlags {
    let finite = x.is_finite() && y.is_finite();
    FpFlags::when(x.is_nan() || y.is_nan(), FpFlags::INVALID)
        | FpFlags::when(finite && (x - y).is_infinite(), FpFlags::OVERFLOW)
        | math2_flags::<F, true>(x, y, r)
}

/// [`map2_flags`] for ops whose flags can come from intermediate steps,
/// so every element is checked.
#[inline(always)]
fn map2_every_flag<F: Float>(
    a: &[F],
    b: &[F],
    out: &mut [F],
    f: impl Fn(F, F) -> F,
    flags: impl Fn(F, F, F) -> FpFlags,
) -> Result<FpFlags> {
    let mut raised = FpFlags::NONE;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        let r = f(x, y);
        raised |= flags(x, y, r);
        *o = r;
    }
    Ok(raised)
}

/// `acosh`, NaN below 1: libm's answers for negative arguments are not
/// NaN.
#[inline(always)]
fn acosh<F: Math>(x: F) -> F {
    if x < F::ONE {
        F::NAN
    } else {
        x.acosh()
    }
}

/// `npy_logaddexp`: `log(exp(x) + exp(y))` as NumPy evaluates it.
#[inline(always)]
fn logaddexp<F: Math>(x: F, y: F) -> F {
    if x == y {
        // Also infinities of one sign, without an inf - inf.
        return x + F::LN_2;
    }
    let d = x - y;
    if d > F::ZERO {
        x + (-d).exp().ln_1p()
    } else if d <= F::ZERO {
        y + d.exp().ln_1p()
    } else {
        d
    }
}

/// `npy_logaddexp2`: `log2(2**x + 2**y)` as NumPy evaluates it.
#[inline(always)]
fn logaddexp2<F: Math>(x: F, y: F) -> F {
    if x == y {
        return x + F::ONE;
    }
    let d = x - y;
    if d > F::ZERO {
        x + F::LOG2_E * (-d).exp2().ln_1p()
    } else if d <= F::ZERO {
        y + F::LOG2_E * d.exp2().ln_1p()
    } else {
        d
    }
}

/// `npy_heaviside`.
#[inline(always)]
fn heaviside<F: Math>(x: F, h: F) -> F {
    if x.is_nan() {
        F::NAN
    } else if x == F::ZERO {
        h
    } else if x > F::ZERO {
        F::ONE
    } else {
        F::ZERO
    }
}

/// `npy_spacing`: the gap to the next float away from zero, signed as
/// `x`; `+2**-1074` for either zero, NaN for ±inf, a NaN unchanged.
#[inline(always)]
fn spacing<F: Math>(x: F) -> F {
    if x.is_nan() {
        x
    } else if x.is_infinite() {
        F::NAN
    } else if x == F::ZERO {
        F::ZERO.next_after(F::ONE)
    } else {
        // Adjacent floats: the difference is exact (inf past MAX).
        x.next_after(F::INFINITY.copysign(x)) - x
    }
}

/// NumPy's spacing flags: `overflow` stepping past MAX; `underflow` for a
/// subnormal `x` (its neighbour's bits are built with a tiny product);
/// nothing for zeros, infinities or NaNs.
#[inline]
fn spacing_flags<F: Float>(x: F, r: F) -> FpFlags {
    FpFlags::when(r.is_infinite() && x.is_finite(), FpFlags::OVERFLOW)
        | FpFlags::when(
            x != F::ZERO && x.abs() < F::MIN_POSITIVE,
            FpFlags::UNDERFLOW,
        )
}

/// `np.ldexp`: `x * 2**n` by C's `ldexp` (exact unless the result leaves
/// the normal range). NumPy's int64 loop clamps `n` to C's `int` first.
/// Flags: `overflow` for inf from a finite `x`, `underflow` for a result
/// below MIN_POSITIVE that is not exact.
fn ldexp_loop<F: Float>(x: &[F], n: &[i64], out: &mut [F]) -> Result<FpFlags> {
    let mut raised = FpFlags::NONE;
    for ((o, &v), &e) in out.iter_mut().zip(x).zip(n) {
        let e = e.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        let r = v.scalbn(e);
        if suspect(r) && v.is_finite() {
            if r.is_infinite() {
                raised |= FpFlags::OVERFLOW;
            } else if v != F::ZERO && r.scalbn(e.saturating_neg()) != v {
                // Tiny (or zero) and inexact: scaling back would be exact.
                raised |= FpFlags::UNDERFLOW;
            }
        }
        *o = r;
    }
    Ok(raised)
}

/// `np.sign` on floats: ±1, +0.0 for either zero, NaN unchanged.
#[inline(always)]
fn sign<F: Float>(x: F) -> F {
    if x > F::ZERO {
        F::ONE
    } else if x < F::ZERO {
        -F::ONE
    } else if x == F::ZERO {
        F::ZERO
    } else {
        x
    }
}

macro_rules! float_loops {
    ($($t:ty),*) => { $(
        impl Loops for $t {
            #[inline(always)]
            fn binary(op: BinaryOp) -> Option<Binary<$t>> {
                let k: BinaryFn<$t, $t, $t> = match op {
                    BinaryOp::Arctan2 => {
                        |a, b, o| map2_flags(a, b, o, Math::atan2, math2_flags::<$t, true>)
                    }
                    BinaryOp::Hypot => {
                        |a, b, o| map2_flags(a, b, o, Math::hypot, math2_flags::<$t, true>)
                    }
                    BinaryOp::Copysign => |a, b, o| map2(a, b, o, Float::copysign),
                    BinaryOp::Nextafter => {
                        |a, b, o| map2_flags(a, b, o, Math::next_after, nextafter_flags)
                    }
                    BinaryOp::Logaddexp => {
                        |a, b, o| map2_every_flag(a, b, o, logaddexp, logaddexp_flags)
                    }
                    BinaryOp::Logaddexp2 => {
                        |a, b, o| map2_every_flag(a, b, o, logaddexp2, logaddexp_flags)
                    }
                    BinaryOp::Heaviside => |a, b, o| map2(a, b, o, heaviside),
                    BinaryOp::FloatPower => {
                        |a, b, o| map2_flags(a, b, o, Float::pow, float::c_pow_flags)
                    }
                    // C's fmod is exact: only a NaN from numbers flags.
                    BinaryOp::Fmod => {
                        |a, b, o| map2_flags(a, b, o, Float::fmod, math2_flags::<$t, false>)
                    }
                    BinaryOp::Ldexp => return Some(Binary::WithExponent(ldexp_loop::<$t>)),
                    _ => return compare(op),
                };
                Some(Binary::Same(k))
            }

            #[inline(always)]
            fn unary(op: UnaryOp) -> Option<Unary<$t>> {
                // Flags of a function without poles, and of one with them.
                const PLAIN: fn($t, $t) -> FpFlags = math_flags::<$t, false, false>;
                const POLE: fn($t, $t) -> FpFlags = math_flags::<$t, true, false>;
                const EXP: fn($t, $t) -> FpFlags = math_flags::<$t, false, true>;
                let k: UnaryFn<$t, $t> = match op {
                    UnaryOp::Negative => |x, o| map1(x, o, |v: $t| -v),
                    UnaryOp::Positive | UnaryOp::Conjugate => |x, o| map1(x, o, |v| v),
                    UnaryOp::Absolute | UnaryOp::Fabs => |x, o| map1(x, o, Float::abs),
                    UnaryOp::Spacing => |x, o| map1_flags(x, o, spacing, spacing_flags),
                    UnaryOp::Sign => |x, o| map1(x, o, sign),
                    UnaryOp::Square => |x, o| map1_flags(x, o, |v| v * v, |v, r| float::mul_flags(v, v, r)),
                    UnaryOp::Reciprocal => {
                        |x, o| map1_flags(x, o, |v| 1.0 / v, |v, r| float::div_flags(1.0, v, r))
                    }
                    UnaryOp::Sqrt => sqrt_loop,
                    UnaryOp::Cbrt => |x, o| map1_flags(x, o, Math::cbrt, PLAIN),
                    UnaryOp::Exp => |x, o| map1_blocks(x, o, Vector::exp_block, EXP),
                    UnaryOp::Exp2 => |x, o| map1_flags(x, o, Math::exp2, EXP),
                    UnaryOp::Expm1 => |x, o| map1_flags(x, o, Math::exp_m1, PLAIN),
                    UnaryOp::Log => |x, o| map1_blocks(x, o, Vector::ln_block, POLE),
                    UnaryOp::Log2 => |x, o| map1_flags(x, o, Math::log2, POLE),
                    UnaryOp::Log10 => |x, o| map1_flags(x, o, Math::log10, POLE),
                    UnaryOp::Log1p => |x, o| map1_flags(x, o, Math::ln_1p, POLE),
                    UnaryOp::Sin => |x, o| map1_blocks(x, o, Vector::sin_block, PLAIN),
                    UnaryOp::Cos => |x, o| map1_blocks(x, o, Vector::cos_block, PLAIN),
                    UnaryOp::Tan => |x, o| map1_flags(x, o, Math::tan, PLAIN),
                    UnaryOp::Arcsin => |x, o| map1_flags(x, o, Math::asin, PLAIN),
                    UnaryOp::Arccos => |x, o| map1_flags(x, o, Math::acos, PLAIN),
                    UnaryOp::Arctan => |x, o| map1_flags(x, o, Math::atan, PLAIN),
                    UnaryOp::Sinh => |x, o| map1_flags(x, o, Math::sinh, PLAIN),
                    UnaryOp::Cosh => |x, o| map1_flags(x, o, Math::cosh, PLAIN),
                    UnaryOp::Tanh => |x, o| map1_flags(x, o, Math::tanh, PLAIN),
                    UnaryOp::Arcsinh => |x, o| map1_flags(x, o, Math::asinh, PLAIN),
                    UnaryOp::Arccosh => |x, o| map1_flags(x, o, acosh, PLAIN),
                    UnaryOp::Arctanh => |x, o| map1_flags(x, o, Math::atanh, POLE),
                    UnaryOp::Deg2rad | UnaryOp::Radians => |x, o| {
                        let c = <$t as Math>::DEG2RAD;
                        map1_flags(x, o, |v| v * c, |v, r| float::mul_flags(v, c, r))
                    },
                    UnaryOp::Rad2deg | UnaryOp::Degrees => |x, o| {
                        let c = <$t as Math>::RAD2DEG;
                        map1_flags(x, o, |v| v * c, |v, r| float::mul_flags(v, c, r))
                    },
                    UnaryOp::Floor => |x, o| map1(x, o, Float::floor),
                    UnaryOp::Ceil => |x, o| map1(x, o, Math::ceil),
                    UnaryOp::Trunc => |x, o| map1(x, o, Math::trunc),
                    UnaryOp::Rint => |x, o| map1(x, o, Math::rint),
                    UnaryOp::Isnan => return Some(Unary::ToBool(|x, o| map1(x, o, |v: $t| Bool::from(v.is_nan())))),
                    UnaryOp::Isinf => return Some(Unary::ToBool(|x, o| map1(x, o, |v: $t| Bool::from(v.is_infinite())))),
                    UnaryOp::Isfinite => return Some(Unary::ToBool(|x, o| map1(x, o, |v: $t| Bool::from(v.is_finite())))),
                    UnaryOp::Signbit => return Some(Unary::ToBool(|x, o| map1(x, o, |v: $t| Bool::from(v.is_sign_negative())))),
                    _ => return None,
                };
                Some(Unary::Same(k))
            }
        }
    )* };
}

float_loops!(f32, f64);
