//! Vectorisable float32 `exp`, `log`, `sin` and `cos`: branch-free
//! element functions (range reduction and a minimax polynomial, special
//! inputs patched with selects afterwards) in plain loops that LLVM turns
//! into SIMD code without intrinsics.
//!
//! All four are within 1 ULP of the correctly rounded result for every
//! float32 input (the ignored test `exhaustive_f32` checks all 2^32 of
//! them against float64 libm rounded to float32), tighter than NumPy's own
//! SIMD loops (2.5 ULP exp, 3.8 ULP log, 1.5 ULP sin/cos). Special values
//! are those of libm's `expf`/`logf`/`sinf`/`cosf`: a NaN passes through
//! unchanged, `exp(+inf) == inf`, `exp(-inf) == 0`, `log(±0) == -inf`,
//! `log(x < 0)` is the default NaN, `log(+inf) == inf`, `sin(±0) == ±0`,
//! `sin(±inf)` and `cos(±inf)` are NaN. The IEEE flags are derived from
//! input and result by the caller, as for every other function.
//!
//! A block first runs the kernel without special-value handling, which is
//! exact for the inputs where no flag can arise (`|x| <= 87` for exp,
//! positive normal `x` for log, zero or normal `|x| <= 2^20` for sin and
//! `|x| <= 2^20` for cos), while it folds the inputs into one maximum; a
//! block with any other input is redone by the full kernel. sin and cos
//! reduce in float64 (`x - k pi` with a two-part pi), which is exact
//! enough up to 2^20; the full kernel hands larger `|x|`, inf and NaN to
//! libm's `sinf`/`cosf`.
//! Firmware (the `small` feature) runs the full kernel only, to keep one
//! copy in flash.
//!
//! With the `std` feature the block loops are compiled again for AVX2+FMA
//! and AVX-512 and the widest the CPU has is picked at run time (as NumPy
//! picks its loops); the portable loop is the fallback and the device
//! path. The polynomials use no fused multiply-add, so every clone gives
//! the same bits.
//!
//! float64 keeps libm's scalar functions ([`Vector`] for `f64`).

use crate::num::math::Math;

/// The block kernels of a loop type: `out = f(x)` elementwise, returning
/// `false` only when no result raises an IEEE flag, so the caller derives
/// flags only for the other blocks.
pub(crate) trait Vector: Math {
    /// `np.exp` over a block.
    fn exp_block(x: &[Self], out: &mut [Self]) -> bool;
    /// `np.log` over a block.
    fn ln_block(x: &[Self], out: &mut [Self]) -> bool;
    /// `np.sin` over a block.
    fn sin_block(x: &[Self], out: &mut [Self]) -> bool;
    /// `np.cos` over a block.
    fn cos_block(x: &[Self], out: &mut [Self]) -> bool;
}

/// The scalar block loop, for loop types without a vector kernel.
#[inline(always)]
fn scalar_block<F: Math>(x: &[F], out: &mut [F], f: impl Fn(F) -> F) -> bool {
    let mut any = false;
    for (o, &v) in out.iter_mut().zip(x) {
        let r = f(v);
        any |= r.is_special() || r.abs() <= F::MIN_POSITIVE;
        *o = r;
    }
    any
}

impl Vector for f64 {
    fn exp_block(x: &[f64], out: &mut [f64]) -> bool {
        scalar_block(x, out, Math::exp)
    }

    fn ln_block(x: &[f64], out: &mut [f64]) -> bool {
        scalar_block(x, out, Math::ln)
    }

    fn sin_block(x: &[f64], out: &mut [f64]) -> bool {
        scalar_block(x, out, Math::sin)
    }

    fn cos_block(x: &[f64], out: &mut [f64]) -> bool {
        scalar_block(x, out, Math::cos)
    }
}

impl Vector for f32 {
    fn exp_block(x: &[f32], out: &mut [f32]) -> bool {
        exp_f32_block(x, out)
    }

    fn ln_block(x: &[f32], out: &mut [f32]) -> bool {
        ln_f32_block(x, out)
    }

    fn sin_block(x: &[f32], out: &mut [f32]) -> bool {
        sin_f32_block(x, out)
    }

    fn cos_block(x: &[f32], out: &mut [f32]) -> bool {
        cos_f32_block(x, out)
    }
}

/// Whether a float32 result can carry a flag: `|r| <= MIN_POSITIVE` or
/// inf or NaN, as one unsigned compare on the magnitude's bits (those at
/// most `MIN_POSITIVE` wrap around to the top).
#[inline(always)]
fn suspect_f32(r: f32) -> bool {
    (r.to_bits() & 0x7fff_ffff).wrapping_sub(0x0080_0001) >= 0x7eff_ffff
}

/// The float32 block loop with a fast path: `normal` (the kernel without
/// special-value handling) runs over the block while `key` folds the
/// inputs into one unsigned maximum; if that stays at most `fast_max`,
/// every input was one `normal` is exact for (same bits as `full`) and
/// none can raise a flag. Otherwise the block is redone by `full`. Both
/// loops have no branch in the body, so they vectorise. Firmware
/// ([`crate::SMALL`]) runs `full` only.
#[inline(always)]
fn block_f32(
    x: &[f32],
    out: &mut [f32],
    normal: impl Fn(f32) -> f32,
    key: impl Fn(f32) -> u32,
    fast_max: u32,
    full: impl Fn(f32) -> f32,
) -> bool {
    if !crate::SMALL {
        let mut top = 0u32;
        for (o, &v) in out.iter_mut().zip(x) {
            top = top.max(key(v));
            *o = normal(v);
        }
        if top <= fast_max {
            return false;
        }
    }
    let mut any = 0u32;
    for (o, &v) in out.iter_mut().zip(x) {
        let r = full(v);
        any |= u32::from(suspect_f32(r));
        *o = r;
    }
    any != 0
}

/// `|x|`'s bits for `|x| <= 87`: there `exp(x)` is normal and finite
/// (`exp(-87.34)` is the smallest normal), and NaN is above.
const EXP_NORMAL_MAX: u32 = 0x42ae_0000;
/// `x`'s bits minus `MIN_POSITIVE`'s: at most this exactly for the normal
/// positive finite `x` (zero, subnormals and negatives wrap to the top).
const LN_NORMAL_MAX: u32 = 0x7f7f_ffff - 0x0080_0000;
/// `|x|`'s bits for `|x| <= 2^20`, where the float64 reduction of sin and
/// cos is exact enough (NaN and inf are above).
const TRIG_REDUCED_MAX: u32 = 0x4980_0000;

// The clones: AVX-512 first, then AVX2 with FMA (which LLVM uses only for
// the integer and select work: the arithmetic stays unfused).
#[cfg_attr(
    feature = "std",
    multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))
)]
fn exp_f32_block(x: &[f32], out: &mut [f32]) -> bool {
    block_f32(
        x,
        out,
        exp_f32_normal,
        |v| v.to_bits() & 0x7fff_ffff,
        EXP_NORMAL_MAX,
        exp_f32,
    )
}

#[cfg_attr(
    feature = "std",
    multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))
)]
fn sin_f32_block(x: &[f32], out: &mut [f32]) -> bool {
    block_f32(
        x,
        out,
        sin_cos_reduced::<false>,
        sin_key,
        TRIG_REDUCED_MAX,
        sin_f32,
    )
}

#[cfg_attr(
    feature = "std",
    multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))
)]
fn cos_f32_block(x: &[f32], out: &mut [f32]) -> bool {
    block_f32(
        x,
        out,
        sin_cos_reduced::<true>,
        |v| v.to_bits() & 0x7fff_ffff,
        TRIG_REDUCED_MAX,
        cos_f32,
    )
}

/// `|x|`'s bits, but the top for a subnormal `x`, whose sine is itself and
/// raises `underflow`: those blocks take the full kernel. Zero stays on
/// the fast path (`sin(±0) == ±0` raises nothing).
#[inline(always)]
fn sin_key(v: f32) -> u32 {
    let a = v.to_bits() & 0x7fff_ffff;
    if a.wrapping_sub(1) < 0x007f_ffff {
        u32::MAX
    } else {
        a
    }
}

#[cfg_attr(
    feature = "std",
    multiversion::multiversion(targets("x86_64+avx512f", "x86_64+avx2+fma"))
)]
fn ln_f32_block(x: &[f32], out: &mut [f32]) -> bool {
    block_f32(
        x,
        out,
        ln_f32_normal,
        |v| v.to_bits().wrapping_sub(f32::MIN_POSITIVE.to_bits()),
        LN_NORMAL_MAX,
        ln_f32,
    )
}

/// 1.5 * 2^23: adding it to a float below 2^22 in magnitude rounds that to
/// an integer (ties to even), held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;
/// ln 2 in two parts: `LN2_HI` has 15 significant bits, so `k * LN2_HI`
/// is exact for every `|k| < 256` the reductions produce.
const LN2_HI: f32 = f32::from_bits(0x3f31_7200);
/// `ln 2 - LN2_HI`, rounded.
const LN2_LO: f32 = f32::from_bits(0x35bf_be8e);

/// `exp(r) ~ 1 + r + r^2 (E2 + E3 r + ... + E6 r^4)` on |r| <= ln2/2 (a
/// little more for the rounding of `k`): minimax for relative error, with
/// coefficients rounded to float32 one by one and the rest refitted
/// (`tools/vmath-fit/fit.py exp 5`); approximation error 2^-28.2.
const E2: f32 = f32::from_bits(0x3eff_fffe);
const E3: f32 = f32::from_bits(0x3e2a_aa49);
const E4: f32 = f32::from_bits(0x3d2a_ac57);
const E5: f32 = f32::from_bits(0x3c09_1cbf);
const E6: f32 = f32::from_bits(0x3ab5_2749);

/// `exp(x)` for float32, branch-free.
///
/// `x = k ln2 + r` with `k = round(x / ln2)` (Cody–Waite: `x - k LN2_HI`
/// is exact), `exp(x) = 2^k exp(r)`. `2^k` is applied as two factors
/// `2^(k/2)`, so `k` from -150 (results below half the smallest
/// subnormal) to 128 (overflow) needs no branch and a subnormal result
/// is rounded once. `x` is clamped to [-104, 89] first, past both ends.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    // A NaN passes both compares and the arithmetic; the last select
    // returns it unchanged.
    let xc = if x > 89.0 { 89.0 } else { x };
    let xc = if xc < -104.0 { -104.0 } else { xc };
    let (p, ki) = exp_reduced(xc);
    let k1 = ki >> 1;
    let k2 = ki.wrapping_sub(k1);
    let s1 = f32::from_bits((k1.wrapping_add(127) as u32) << 23);
    let s2 = f32::from_bits((k2.wrapping_add(127) as u32) << 23);
    let y = (p * s1) * s2;
    if x.is_nan() {
        x
    } else {
        y
    }
}

/// [`exp_f32`] for `|x| <= 87`, where `2^k` is one normal factor and the
/// product is exact: the same bits with no clamp, split or select.
#[inline(always)]
fn exp_f32_normal(x: f32) -> f32 {
    let (p, ki) = exp_reduced(x);
    p * f32::from_bits((ki.wrapping_add(127) as u32) << 23)
}

/// `exp(x) = 2^k p`: `p` in [sqrt(1/2), sqrt(2)] (a little more for the
/// rounding of `k`) and `k`, for `x` in [-104, 89].
#[inline(always)]
fn exp_reduced(x: f32) -> (f32, i32) {
    let t = x * core::f32::consts::LOG2_E + ROUND;
    let k = t - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let r2 = r * r;
    let q = (E2 + E3 * r) + r2 * ((E4 + E5 * r) + r2 * E6);
    let p = 1.0 + (r + r2 * q);
    // k as an integer: the low bits of t's mantissa (|k| <= 150).
    let ki = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    (p, ki)
}

/// `log(1 + f) ~ f + f^2 (L2 + L3 f + ... + L9 f^7)` on
/// [sqrt(1/2) - 1, sqrt(2) - 1]: minimax for the error in units of the
/// result (weight `max(|f|, f^2 / 0.34)`), coefficients rounded to float32
/// one by one and the rest refitted (`tools/vmath-fit/fit.py log 8`, by
/// Lawson iteration in float64); approximation error 2^-24.9 of the
/// result.
const L2: f32 = f32::from_bits(0xbeff_fffb);
const L3: f32 = f32::from_bits(0x3eaa_ab77);
const L4: f32 = f32::from_bits(0xbe80_032b);
const L5: f32 = f32::from_bits(0x3e4c_6b6a);
const L6: f32 = f32::from_bits(0xbe29_8775);
const L7: f32 = f32::from_bits(0x3e18_87a1);
const L8: f32 = f32::from_bits(0xbe13_7ab8);
const L9: f32 = f32::from_bits(0x3db6_7ef5);
/// The bits of sqrt(1/2) rounded: mantissas are reduced to
/// [sqrt(1/2), sqrt(2)).
const SQRT_HALF_BITS: u32 = 0x3f35_04f3;

/// `log(x)` for float32, branch-free.
///
/// `x = 2^e m` with m in [sqrt(1/2), sqrt(2)) (subnormals scaled by 2^23
/// first), `f = m - 1` (exact), `log(x) = e ln2 + log(1 + f)`. The
/// leading sum `e LN2_HI + f` is kept as an exact two-part sum; the
/// small terms are added to its low part.
#[inline(always)]
pub(crate) fn ln_f32(x: f32) -> f32 {
    let tiny = x < f32::MIN_POSITIVE;
    let xs = if tiny { x * 8_388_608.0 } else { x };
    let y = ln_reduced(xs, if tiny { -23.0 } else { 0.0 });
    if x.is_nan() || x == f32::INFINITY {
        // +inf and NaN pass through.
        x
    } else if x < 0.0 {
        // As libm's `(x - x) / 0`, the target's default NaN: `x * 0` is
        // -0 or (for -inf) NaN, and `0 * inf` is invalid.
        (x * 0.0) * f32::INFINITY
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else {
        y
    }
}

/// [`ln_f32`] for positive normal finite `x`: the same bits with no
/// scaling or select.
#[inline(always)]
fn ln_f32_normal(x: f32) -> f32 {
    ln_reduced(x, 0.0)
}

/// `log(2^scaled x)` for positive normal `x`.
#[inline(always)]
fn ln_reduced(x: f32, scaled: f32) -> f32 {
    let ix = x.to_bits().wrapping_sub(SQRT_HALF_BITS);
    let e = (ix as i32) >> 23;
    let m = f32::from_bits((ix & 0x007f_ffff).wrapping_add(SQRT_HALF_BITS));
    let f = m - 1.0;
    let ef = e as f32 + scaled;
    let f2 = f * f;
    let f4 = f2 * f2;
    let lo = (L2 + L3 * f) + f2 * (L4 + L5 * f);
    let hi = (L6 + L7 * f) + f2 * (L8 + L9 * f);
    let poly = lo + f4 * hi;
    let tail = f2 * poly;
    (ef * LN2_HI) + (f + (ef * LN2_LO + tail))
}

/// 1.5 * 2^52: adding it to a float64 below 2^51 in magnitude rounds that
/// to an integer (ties to even), held in the low mantissa bits.
const ROUND_F64: f64 = 6_755_399_441_055_744.0;
/// pi in two parts (`tools/vmath-fit/fit.py pi 33`): `PI_1` has 33
/// significant bits, so `k * PI_1` is exact for every `k` (an integer, or
/// one plus a half, below 2^19 in magnitude) that `|x| <= 2^20` gives,
/// and where `x - k * PI_1` cancels it is exact as well (Sterbenz). `PI_2`
/// is the rest rounded; what is left (2^-87) times `k` is far below what
/// the float32 result can notice, however close `x` is to a multiple of
/// pi.
const PI_1: f64 = f64::from_bits(0x4009_21fb_5440_0000);
const PI_2: f64 = f64::from_bits(0x3de0_b461_1a62_6331);

/// `sin(r) ~ r (1 + z (S3 + S5 z + S7 z^2 + S9 z^3))`, `z = r^2`, on
/// `|r| <= pi/2` (a little more for the rounding of `k`): minimax for
/// relative error in float64 (`tools/vmath-fit/fit.py sin 4 1.5708`);
/// approximation error 2^-27.3, 0.1 ULP of a float32 at most.
const S3: f64 = f64::from_bits(0xbfc5_5554_bc82_9c50);
const S5: f64 = f64::from_bits(0x3f81_10ed_37e2_1541);
const S7: f64 = f64::from_bits(0xbf29_f6ff_e7e5_c727);
const S9: f64 = f64::from_bits(0x3ec5_dbde_a996_4a4a);

/// `sin(x)` (`COS` false) or `cos(x)` (`COS` true) for float32 `|x| <=
/// 2^20` (zeros and subnormals included), branch-free, computed in
/// float64 and rounded once.
///
/// One odd polynomial serves both: `x = k pi + r` with `|r| <= pi/2`,
/// `k = n` an integer for sin and `k = n + 1/2` for cos (`n = round(x/pi
/// - 1/2)`), and the result is `±sin(r)`: for sin negated when `n` is
/// odd, for cos (`cos(x) = -sin(mpi/2) sin(r)`, `m = 2n + 1`) when `n` is
/// even. `sin(±0)` is `r (1 + ...)` with `r == ±0`: the sign is kept.
#[inline(always)]
fn sin_cos_reduced<const COS: bool>(x: f32) -> f32 {
    let xd = f64::from(x);
    let u = xd * core::f64::consts::FRAC_1_PI;
    let t = if COS { u - 0.5 } else { u } + ROUND_F64;
    let n = t - ROUND_F64;
    let k = if COS { n + 0.5 } else { n };
    let r = (xd - k * PI_1) - k * PI_2;
    let z = r * r;
    let p = r * (1.0 + z * (S3 + z * (S5 + z * (S7 + z * S9))));
    // n's parity is the lowest mantissa bit of t (2^51 is even).
    let flip = (t.to_bits() ^ u64::from(COS)) << 63;
    f64::from_bits(p.to_bits() ^ flip) as f32
}

/// `sin(x)` for float32: [`sin_cos_reduced`] up to 2^20, libm's `sinf`
/// above (inf and NaN included).
#[inline(always)]
pub(crate) fn sin_f32(x: f32) -> f32 {
    if x.to_bits() & 0x7fff_ffff <= TRIG_REDUCED_MAX {
        sin_cos_reduced::<false>(x)
    } else {
        Math::sin(x)
    }
}

/// `cos(x)` for float32: [`sin_cos_reduced`] up to 2^20, libm's `cosf`
/// above (inf and NaN included).
#[inline(always)]
pub(crate) fn cos_f32(x: f32) -> f32 {
    if x.to_bits() & 0x7fff_ffff <= TRIG_REDUCED_MAX {
        sin_cos_reduced::<true>(x)
    } else {
        Math::cos(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::precision::ulp_diff_f32;

    /// The reference: float64 libm rounded to float32 (double rounding is
    /// off by one only where exp/log of a float32 lies within 2^-53 of a
    /// float32 midpoint).
    fn reference(f: fn(f64) -> f64, x: f32) -> f32 {
        f(f64::from(x)) as f32
    }

    /// ULP distance with NaN == NaN.
    fn distance(want: f32, got: f32) -> u32 {
        if want.is_nan() && got.is_nan() {
            0
        } else {
            ulp_diff_f32(want, got)
        }
    }

    /// A result's class as the flags see it: NaN, inf, zero, subnormal or
    /// normal, with the sign.
    fn class(r: f32) -> (u8, bool) {
        let c = if r.is_nan() {
            0
        } else if r.is_infinite() {
            1
        } else if r == 0.0 {
            2
        } else if r.abs() < f32::MIN_POSITIVE {
            3
        } else {
            4
        };
        (c, r.is_sign_negative() && !r.is_nan())
    }

    /// Whether `r = f(x)` raises a flag in the loop: a NaN from a non-NaN,
    /// an infinity from a finite `x`, a subnormal, or a zero from a
    /// non-zero finite `x` other than `log(1)`.
    fn raises(x: f32, r: f32) -> bool {
        (r.is_nan() && !x.is_nan())
            || (r.is_infinite() && x.is_finite())
            || (r != 0.0 && r.abs() < f32::MIN_POSITIVE)
            || (r == 0.0 && x != 0.0 && x != 1.0 && x.is_finite())
    }

    /// A block kernel.
    type Block = fn(&[f32], &mut [f32]) -> bool;

    /// One scan's findings.
    #[derive(Clone, Copy, Default)]
    struct Scan {
        /// Largest ULP distance to the reference, and where.
        max: u32,
        worst: u32,
        /// Inputs exactly 1 ULP from the reference (not correctly
        /// rounded), and more than 1 ULP from it.
        one: u64,
        over: u64,
        /// Inputs whose result class differs from the float32 libm
        /// function's (today's loop), or whose block did not report a
        /// result that can carry a flag: those would change the flags.
        class_differs: u64,
    }

    /// [`Scan`] of the block kernel `f` (the loop's own path, clone
    /// included) over the bit patterns `start, start + step, ...`.
    fn scan(
        f: Block,
        reference_fn: fn(f64) -> f64,
        libm_f32: fn(f32) -> f32,
        start: u64,
        end: u64,
        step: u64,
    ) -> Scan {
        let mut s = Scan::default();
        let (mut x, mut out) = ([0.0f32; 512], [0.0f32; 512]);
        let mut bits = start;
        while bits < end {
            let mut n = 0;
            while n < x.len() && bits < end {
                x[n] = f32::from_bits(bits as u32);
                n += 1;
                bits += step;
            }
            let flagged = f(&x[..n], &mut out[..n]);
            for (&v, &got) in x[..n].iter().zip(&out[..n]) {
                let d = distance(reference(reference_fn, v), got);
                match d {
                    0 => {}
                    1 => s.one += 1,
                    _ => s.over += 1,
                }
                if d > s.max {
                    s.max = d;
                    s.worst = v.to_bits();
                }
                if class(got) != class(libm_f32(v)) {
                    s.class_differs += 1;
                }
                // A block with a result that raises a flag must say so.
                if raises(v, got) && !flagged {
                    s.class_differs += 1;
                }
            }
        }
        s
    }

    #[test]
    fn specials_as_libm() {
        for x in [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::MIN_POSITIVE,
            f32::from_bits(1),
            f32::MAX,
            f32::MIN,
            88.722_83,
            88.722_84,
            -103.972_08,
            -87.336_55,
            -104.0,
            -150.0,
            core::f32::consts::FRAC_PI_2,
            core::f32::consts::PI,
            -core::f32::consts::PI,
            1_048_576.0,
            1_048_576.1,
            -1_048_577.0,
            1.0e30,
        ] {
            let (e, l) = (exp_f32(x), ln_f32(x));
            let (le, ll) = (libm::expf(x), libm::logf(x));
            for (name, got, want) in [
                ("sin", sin_f32(x), libm::sinf(x)),
                ("cos", cos_f32(x), libm::cosf(x)),
            ] {
                assert!(
                    distance(want, got) <= 1,
                    "{name}({x:e}) = {got:e}, libm {want:e}"
                );
                assert_eq!(got.is_nan(), want.is_nan(), "{name}({x:e})");
                assert_eq!(got == 0.0, want == 0.0, "{name}({x:e})");
                if got == 0.0 || got.is_nan() || x.abs() < f32::MIN_POSITIVE {
                    // Zeros keep their sign, NaNs and tiny sines their bits.
                    assert_eq!(got.to_bits(), want.to_bits(), "{name}({x:e})");
                }
            }
            assert!(distance(le, e) <= 1, "exp({x:e}) = {e:e}, libm {le:e}");
            assert!(distance(ll, l) <= 1, "log({x:e}) = {l:e}, libm {ll:e}");
            // Classes are exactly libm's: the flags follow from them.
            assert_eq!(e.is_nan(), le.is_nan());
            assert_eq!(e.is_infinite(), le.is_infinite());
            assert_eq!(e == 0.0, le == 0.0, "exp({x:e})");
            assert_eq!(l.is_nan(), ll.is_nan());
            // log of these is special or exact: the same bits, NaNs included.
            assert_eq!(l.to_bits(), ll.to_bits(), "log({x:e})");
        }
        // A NaN comes back with its own bits.
        let nan = f32::from_bits(0x7fc0_1234);
        assert_eq!(exp_f32(nan).to_bits(), nan.to_bits());
        assert_eq!(ln_f32(nan).to_bits(), nan.to_bits());
        assert_eq!(exp_f32(0.0).to_bits(), 1.0f32.to_bits());
        assert_eq!(ln_f32(1.0).to_bits(), 0.0f32.to_bits());
        // The block paths keep the sign of a zero sine, and the fast path
        // is taken by zeros (no flag) but not by subnormals (underflow).
        let x = [-0.0f32, 0.0, 1.0, -2.5];
        let mut out = [1.0f32; 4];
        assert!(!f32::sin_block(&x, &mut out) || crate::SMALL);
        assert_eq!(out[0].to_bits(), (-0.0f32).to_bits());
        assert_eq!(out[1].to_bits(), 0.0f32.to_bits());
        assert!(!f32::cos_block(&x, &mut out) || crate::SMALL);
        assert_eq!(out[0], 1.0);
        let tiny = [f32::from_bits(0x8000_0001)];
        let mut one = [0.0f32];
        assert!(f32::sin_block(&tiny, &mut one));
        assert_eq!(one[0].to_bits(), tiny[0].to_bits());
        assert!(!f32::cos_block(&tiny, &mut one) || crate::SMALL);
        for x in [f32::INFINITY, f32::NEG_INFINITY, nan] {
            assert!(f32::sin_block(&[x], &mut one));
            assert_eq!(one[0].to_bits(), libm::sinf(x).to_bits());
            assert!(f32::cos_block(&[x], &mut one));
            assert_eq!(one[0].to_bits(), libm::cosf(x).to_bits());
        }
    }

    #[test]
    fn within_one_ulp_sampled() {
        // Every 4099th bit pattern (both signs, every exponent).
        type Case = (&'static str, Block, fn(f64) -> f64, fn(f32) -> f32);
        let cases: [Case; 4] = [
            ("exp", f32::exp_block, libm::exp, libm::expf),
            ("log", f32::ln_block, libm::log, libm::logf),
            ("sin", f32::sin_block, libm::sin, libm::sinf),
            ("cos", f32::cos_block, libm::cos, libm::cosf),
        ];
        for (name, f, reference_fn, libm_f32) in cases {
            let s = scan(f, reference_fn, libm_f32, 0, 1 << 32, 4099);
            let worst = f32::from_bits(s.worst);
            assert!(s.max <= 1, "{name}: {} ULP at {worst:e}", s.max);
            assert_eq!(s.over, 0, "{name}");
            assert_eq!(s.class_differs, 0, "{name}");
        }
    }

    #[test]
    fn blocks_flag_suspects() {
        let x = [0.0f32, 1.0, -1.0, 100.0, -100.0, f32::NAN];
        let mut out = [0.0f32; 6];
        assert!(!f32::exp_block(&x[..3], &mut out[..3]));
        assert!(f32::exp_block(&x[3..4], &mut out[3..4]));
        assert!(f32::exp_block(&x[4..5], &mut out[4..5]));
        assert!(f32::exp_block(&x[5..], &mut out[5..]));
        assert!(f32::ln_block(&x[..1], &mut out[..1]));
        // log(1) == 0 raises nothing: the fast path answers it. Firmware
        // (`small`) has only the full kernel, which holds a zero result
        // suspect and lets the flag check find nothing.
        assert_eq!(f32::ln_block(&x[1..2], &mut out[1..2]), crate::SMALL);
        assert!(f32::ln_block(&x[2..3], &mut out[2..3]));
        assert!(!f32::ln_block(&x[3..4], &mut out[3..4]));
        assert!(f32::ln_block(&x[5..], &mut out[5..]));
        // Subnormal inputs take the full kernel (and raise nothing).
        let tiny = [f32::from_bits(1), f32::MIN_POSITIVE];
        let mut two = [0.0f32; 2];
        f32::ln_block(&tiny, &mut two);
        assert_eq!(two[0].to_bits(), ln_f32(tiny[0]).to_bits());
        assert!(!f32::ln_block(&tiny[1..], &mut two[1..]));
        for bits in [
            0u32,
            1,
            0x007f_ffff,
            0x0080_0000,
            0x0080_0001,
            0x7f7f_ffff,
            0x7f80_0000,
        ] {
            for sign in [0, 0x8000_0000] {
                let r = f32::from_bits(bits | sign);
                assert_eq!(
                    suspect_f32(r),
                    r.is_nan() || r.is_infinite() || r.abs() <= f32::MIN_POSITIVE,
                    "{r:e}"
                );
            }
        }
    }

    /// Every float32 input against float64 libm rounded to float32 (two
    /// threads, minutes in release):
    /// `cargo test --release -p fnp-core exhaustive_f32 -- --ignored --nocapture`;
    /// `FNP_EXHAUSTIVE=sin,cos` checks only the functions named.
    #[test]
    #[ignore = "all 2^32 inputs: run by hand in release"]
    fn exhaustive_f32() {
        type Case = (&'static str, Block, fn(f64) -> f64, fn(f32) -> f32);
        let cases: [Case; 4] = [
            ("exp", f32::exp_block, libm::exp, libm::expf),
            ("log", f32::ln_block, libm::log, libm::logf),
            ("sin", f32::sin_block, libm::sin, libm::sinf),
            ("cos", f32::cos_block, libm::cos, libm::cosf),
        ];
        let only = std::env::var("FNP_EXHAUSTIVE").ok();
        for (name, f, reference_fn, libm_f32) in cases {
            if only
                .as_ref()
                .is_some_and(|o| !o.split(',').any(|n| n == name))
            {
                continue;
            }
            let threads = 2u64;
            let per = (1u64 << 32) / threads;
            let parts: std::vec::Vec<Scan> = (0..threads)
                .map(|i| {
                    std::thread::spawn(move || {
                        scan(f, reference_fn, libm_f32, i * per, (i + 1) * per, 1)
                    })
                })
                .collect::<std::vec::Vec<_>>()
                .into_iter()
                .map(|h| h.join().expect("scan thread"))
                .collect();
            let worst = parts
                .iter()
                .copied()
                .max_by_key(|s| s.max)
                .unwrap_or_default();
            let one: u64 = parts.iter().map(|s| s.one).sum();
            let over: u64 = parts.iter().map(|s| s.over).sum();
            let class_differs: u64 = parts.iter().map(|s| s.class_differs).sum();
            std::println!(
                "{name} f32: max {} ULP (at {:e}), {over} of 2^32 inputs over 1 ULP \
                 ({one} at 1 ULP), \
                 {class_differs} with a result class (flags) other than libm's {name}f",
                worst.max,
                f32::from_bits(worst.worst)
            );
            assert!(worst.max <= 1 && over == 0 && class_differs == 0);
        }
    }
}
