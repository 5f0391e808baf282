//! Folds (`sum`, `prod`, `min`/`max`, `mean`, `any`/`all`, `count_nonzero`
//! and the NaN-aware ones): the engine's passes, in NumPy's order, and the
//! steps NumPy's `_methods.py` takes around them.

use super::engine::{self, Fold, Load, Pre, Source};
use super::params::{ReduceParams, Scalar};
use super::plan::{self, Cursor, Plan, PlanInput, IN, MASK, NOP, OUT};
use super::resolve::Resolved;
use super::scan::accumulate;
use super::var::var;
use crate::array::ArrayRef;
use crate::dtype::{DType, Kind};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::{self, float, Num};
use crate::shape::{first, MAX_NDIM};
use crate::table::ReduceOp;

/// `initial=` converted to the loop dtype as NumPy does (NEP 50: a Python
/// int must fit an integer loop; a float is cast).
pub(crate) fn initial_value<T: Num>(s: Scalar) -> Result<(T, FpFlags)> {
    let as_int = |v: i128| -> Result<(T, FpFlags)> {
        match T::DTYPE.int_range() {
            Some((lo, hi)) if v < lo || v > hi => Err(Error::PythonIntOverflow),
            Some(_) => Ok((T::from_f64(0.0).add(cast_i128::<T>(v)), FpFlags::NONE)),
            None => Ok((T::from_f64(v as f64), FpFlags::NONE)),
        }
    };
    match s {
        Scalar::Bool(b) => Ok((if b { T::ONE } else { T::ZERO }, FpFlags::NONE)),
        Scalar::Int(v) => as_int(i128::from(v)),
        Scalar::UInt(v) => as_int(i128::from(v)),
        Scalar::Float(f) => {
            let flags = if T::DTYPE == DType::Float32 {
                num::f64_to_f32_flags(f)
            } else {
                FpFlags::NONE
            };
            Ok((T::from_f64(f), flags))
        }
    }
}

/// An in-range integer in the loop dtype, exactly.
fn cast_i128<T: Num>(v: i128) -> T {
    use crate::element::CastFrom;
    if v < 0 {
        <T as CastFrom<i64>>::cast_from(v as i64)
    } else {
        <T as CastFrom<u64>>::cast_from(v as u64)
    }
}

/// Strides (element units) of the C-ordered output per input axis.
fn out_strides(dims: &[usize], reduced: &[bool; MAX_NDIM], st: &mut [[isize; NOP]; MAX_NDIM]) {
    let mut step: isize = 1;
    for k in (0..dims.len()).rev() {
        if reduced[k] {
            st[k][OUT] = 0;
        } else {
            st[k][OUT] = step;
            step = step.wrapping_mul(dims[k] as isize);
        }
    }
}

/// One pass of a reduction: `out[j] = fold(out[j], pre(x))` over the
/// elements of output `j` in NumPy's order. `plan_strides` are the input
/// strides NumPy's iterator sees (the caller's, or those of the temporary
/// NumPy reduces instead); `cast` says whether NumPy buffers the input.
///
/// Under `small`, an unsigned integer dtype is reduced as its signed twin
/// of the same width: wrapping add and multiply give the same bits, and
/// max/min keep their order on values with the top bit flipped. Only the
/// casts from float inputs and var's deviations depend on the signedness,
/// and [`Source`] does those in the real dtype.
#[allow(clippy::too_many_arguments)]
pub(super) fn pass<T: Num, L: Load<T>>(
    fold: Fold,
    a: &ArrayRef<'_>,
    pre: L,
    plan_strides: &[isize],
    cast: bool,
    r: &Resolved,
    mask: Option<&ArrayRef<'_>>,
    out: &mut [T],
) -> FpFlags {
    if !(crate::SMALL && T::DTYPE != <T::Twin as Element>::DTYPE) {
        return pass_as(
            fold,
            a,
            pre,
            plan_strides,
            cast,
            r,
            mask,
            out,
            T::DTYPE,
            false,
        );
    }
    // A type and its twin have one size and alignment, so this cannot fail.
    let Ok(twin) = bytemuck::try_cast_slice_mut::<T, T::Twin>(out) else {
        return FpFlags::NONE;
    };
    // Bool's or/and are int8's max/min on 0 and 1.
    let is_bool = T::DTYPE == DType::Bool;
    let fold = match fold {
        Fold::Add | Fold::Maximum | Fold::Fmax if is_bool => Fold::Maximum,
        Fold::Mul | Fold::Minimum | Fold::Fmin if is_bool => Fold::Minimum,
        f => f,
    };
    let flip = !is_bool
        && matches!(
            fold,
            Fold::Maximum | Fold::Minimum | Fold::Fmax | Fold::Fmin
        );
    if flip {
        twin.iter_mut().for_each(|o| *o = o.flip_sign());
    }
    let flags = pass_as(
        fold,
        a,
        pre.erased(),
        plan_strides,
        cast,
        r,
        mask,
        twin,
        T::DTYPE,
        flip,
    );
    if flip {
        twin.iter_mut().for_each(|o| *o = o.flip_sign());
    }
    flags
}

/// [`pass`] in `T`, carrying the values of the dtype `real`.
#[allow(clippy::too_many_arguments)]
fn pass_as<T: Num, L: Load<T>>(
    fold: Fold,
    a: &ArrayRef<'_>,
    pre: L,
    plan_strides: &[isize],
    cast: bool,
    r: &Resolved,
    mask: Option<&ArrayRef<'_>>,
    out: &mut [T],
    real: DType,
    flip: bool,
) -> FpFlags {
    let dims = a.shape().dims();
    if a.shape().size() == 0 {
        return FpFlags::NONE;
    }
    let mask_layout = r.mask.filter(|_| mask.is_some());
    let plan = Plan::new(&PlanInput {
        dims,
        reduced: first(&r.reduced, dims.len()),
        in_strides: plan_strides,
        mask_strides: mask_layout.as_ref().map(|m| m.strides()),
        cast,
    });
    let mut st = [[0isize; NOP]; MAX_NDIM];
    out_strides(dims, &r.reduced, &mut st);
    for (k, s) in a.layout().strides().iter().enumerate() {
        st[k][IN] = *s;
        st[k][MASK] = mask_layout.as_ref().map_or(0, |m| m.strides()[k]);
    }
    let base = [
        0,
        a.layout().offset() as isize,
        mask_layout.as_ref().map_or(0, |m| m.offset() as isize),
    ];
    let cursor = Cursor::new(
        dims,
        first(&plan.order, plan.norder),
        first(&st, dims.len()),
        base,
    );
    let mut src = Source::new(*a, pre, mask.map(|m| m.bytes()));
    src.real = real;
    src.flip = flip;
    if crate::SMALL || !(T::FLOAT && fold == Fold::Add) {
        return engine::run(fold, &src, &plan, cursor, out, true);
    }
    // Fast pass first; only a non-finite output can hide add flags.
    let mut start = [T::ZERO; 1];
    let uniform = match out.first() {
        Some(&f) if out.iter().all(|&o| o.to_bits_eq(f)) => {
            start[0] = f;
            true
        }
        _ => false,
    };
    if !uniform {
        return engine::run(fold, &src, &plan, cursor, out, true);
    }
    let fast = engine::run(fold, &src, &plan, cursor.clone(), out, false);
    if out.iter().all(|o| o.is_finite()) {
        return fast;
    }
    out.iter_mut().for_each(|o| *o = start[0]);
    engine::run(fold, &src, &plan, cursor, out, true)
}

/// The strides of the caller's layout, as a slice.
pub(super) fn own_strides<'l>(a: &'l ArrayRef<'_>) -> &'l [isize] {
    a.layout().strides()
}

/// Strides of the temporary `arr - arrmean` that `_var` sums: allocated
/// by the ufunc iterator in its axis order.
pub(super) fn temp_strides(a: &ArrayRef<'_>) -> [isize; MAX_NDIM] {
    let mut s = [0isize; MAX_NDIM];
    plan::keep_order_strides(a.layout(), &mut s);
    s
}

/// Strides of the copy `_replace_nan` makes (`np.array(a, copy=True)`).
pub(super) fn copy_strides(a: &ArrayRef<'_>) -> [isize; MAX_NDIM] {
    let mut s = [0isize; MAX_NDIM];
    plan::copy_strides(a.layout(), &mut s);
    s
}

/// Sets every output element to the input element at index 0 of the
/// reduced axes (NumPy's start value for reductions without identity).
fn first_elements<T: Num>(a: &ArrayRef<'_>, r: &Resolved, out: &mut [T]) {
    let dims = a.shape().dims();
    let mut st = [[0isize; NOP]; MAX_NDIM];
    out_strides(dims, &r.reduced, &mut st);
    let mut order = [0usize; MAX_NDIM];
    let mut n = 0;
    for k in (0..dims.len()).rev() {
        if !r.reduced[k] {
            st[k][IN] = a.layout().strides()[k];
            order[n] = k;
            n += 1;
        }
    }
    let mut cur = Cursor::new(
        dims,
        first(&order, n),
        first(&st, dims.len()),
        [0, a.layout().offset() as isize, 0],
    );
    for o in out.iter_mut() {
        let mut one = [T::ZERO];
        a.load(usize::try_from(cur.pos[IN]).unwrap_or(0), 0, &mut one);
        *o = one[0];
        cur.advance(1);
    }
}

/// Per-output element counts for mean/var: of mask-True elements, or of
/// non-NaN ones (nanmean), into `counts`.
pub(super) fn counts(
    a: &ArrayRef<'_>,
    r: &Resolved,
    mask: Option<&ArrayRef<'_>>,
    not_nan: bool,
    counts: &mut [i64],
) -> Result<()> {
    counts.iter_mut().for_each(|c| *c = 0);
    if not_nan {
        pass::<i64, _>(
            Fold::Add,
            a,
            Pre::NotNan,
            own_strides(a),
            true,
            r,
            mask,
            counts,
        );
        return Ok(());
    }
    let (Some(m), Some(layout)) = (mask, r.mask) else {
        return Ok(());
    };
    let view = m.with_layout(layout)?;
    pass::<i64, _>(
        Fold::Add,
        &view,
        Pre::NonZero,
        layout.strides(),
        true,
        r,
        None,
        counts,
    );
    Ok(())
}

/// Scratch bytes for `words` words per output element (of the aligned
/// words: the callers have checked the whole scratch already).
pub(super) fn scratch_need(n: usize, words: usize) -> usize {
    n.saturating_mul(words).saturating_mul(8)
}

/// The number of elements reduced into each output element.
pub(super) fn reduced_count(a: &ArrayRef<'_>, r: &Resolved) -> usize {
    a.shape()
        .dims()
        .iter()
        .zip(&r.reduced)
        .filter(|(_, &red)| red)
        .fold(1usize, |acc, (&d, _)| acc.saturating_mul(d))
}

/// Entry `j` of the per-output counts [`counts`] wrote.
pub(super) fn count_at(counts: &[i64], j: usize) -> usize {
    counts
        .get(j)
        .map_or(0, |&c| usize::try_from(c).unwrap_or(usize::MAX))
}

/// `out[j] = out[j] / count[j]` for element counts, as
/// [`divide_by`] (float32 results without float64 arithmetic).
// Inlined: a wrapper per result dtype would cost more than the branch.
#[inline(always)]
pub(super) fn divide_by_count<T: Num>(out: &mut [T], count: &dyn Fn(usize) -> usize) -> FpFlags {
    match bytemuck::try_cast_slice_mut::<T, f32>(out) {
        Ok(out) if T::DTYPE == DType::Float32 => divide_f32_by_count(out, count),
        _ => divide_by(out, &|j| count(j) as f64),
    }
}

fn divide_f32_by_count(out: &mut [f32], count: &dyn Fn(usize) -> usize) -> FpFlags {
    let mut flags = FpFlags::NONE;
    for (j, o) in out.iter_mut().enumerate() {
        let (q, f) = float::f32_div_count(*o, count(j));
        *o = q;
        flags |= f;
    }
    flags
}

/// `out[j] = out[j] / divisor[j]` in float64, rounded to the result dtype
/// (NumPy's `true_divide(ret, rcount, out=ret, casting='unsafe')`).
// `divisor` is a trait object: one copy per result dtype, not one per caller.
pub(super) fn divide_by<T: Num>(out: &mut [T], divisor: &dyn Fn(usize) -> f64) -> FpFlags {
    let mut flags = FpFlags::NONE;
    for (j, o) in out.iter_mut().enumerate() {
        let (x, c) = (o.to_f64(), divisor(j));
        let q = x / c;
        // A divisor is a whole number below 2^63 less a `ddof`, so only a
        // float64 sum can be small enough for the quotient to underflow
        // (any other sum is 0 or at least 2^-149 in magnitude).
        flags |= if T::DTYPE == DType::Float64 {
            float::div_flags(x, c, q)
        } else {
            float::div_flags_not_tiny(x, c, q)
        };
        *o = from_f64_result(q, &mut flags);
    }
    flags
}

/// [`from_f64_result`] as the bits of a `d` value, out of line (one copy
/// instead of one per result dtype, for `small`).
#[inline(never)]
fn f64_result_bits(q: f64, d: DType, flags: &mut FpFlags) -> u64 {
    match d {
        DType::Float32 => {
            *flags |= num::f64_to_f32_flags(q);
            u64::from((q as f32).to_bits())
        }
        DType::Float64 => q.to_bits(),
        DType::Bool => u64::from(q != 0.0),
        _ => {
            let (bits, invalid) = num::c_cast_to_int_bits(q, d);
            *flags |= FpFlags::when(invalid, FpFlags::INVALID);
            bits
        }
    }
}

/// A float64 result stored in the result dtype as NumPy's unsafe cast does
/// (float32 rounding with its flags, C integer conversion).
fn from_f64_result<T: Num>(q: f64, flags: &mut FpFlags) -> T {
    use crate::element::CastFrom;
    if crate::SMALL {
        return T::from_low_bits(f64_result_bits(q, T::DTYPE, flags));
    }
    if T::DTYPE == DType::Float32 {
        *flags |= num::f64_to_f32_flags(q);
    }
    if T::DTYPE.is_integer() {
        let (bits, invalid) = num::c_cast_to_int_bits(q, T::DTYPE);
        *flags |= FpFlags::when(invalid, FpFlags::INVALID);
        return <T as CastFrom<u64>>::cast_from(bits);
    }
    T::from_f64(q)
}

pub(super) fn typed<T: Num, L: Load<T>>(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    r: &Resolved,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<FpFlags> {
    let out: &mut [T] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    let mask = p.where_mask.as_ref();
    let cast = a.dtype() != T::DTYPE;
    let mut flags = FpFlags::NONE;
    let float_in = a.dtype().is_float();
    match op {
        ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Nansum | ReduceOp::Nanprod => {
            let is_add = matches!(op, ReduceOp::Sum | ReduceOp::Nansum);
            let start = match p.initial {
                Some(s) => {
                    let (v, f) = initial_value::<T>(s)?;
                    flags |= f;
                    v
                }
                None if is_add => T::ZERO,
                None => T::ONE,
            };
            out.iter_mut().for_each(|o| *o = start);
            let fold = if is_add { Fold::Add } else { Fold::Mul };
            let nan = matches!(op, ReduceOp::Nansum | ReduceOp::Nanprod) && float_in;
            if nan {
                let pre = if is_add {
                    Pre::NanToZero
                } else {
                    Pre::NanToOne
                };
                let cs = copy_strides(a);
                flags |= pass(
                    fold,
                    a,
                    pre,
                    first(&cs, a.shape().ndim()),
                    cast,
                    r,
                    mask,
                    out,
                );
            } else {
                flags |= pass(fold, a, L::PLAIN, own_strides(a), cast, r, mask, out);
            }
        }
        ReduceOp::Min | ReduceOp::Max | ReduceOp::Nanmin | ReduceOp::Nanmax => {
            let fold = match (op, float_in) {
                (ReduceOp::Min, _) | (ReduceOp::Nanmin, false) => Fold::Minimum,
                (ReduceOp::Max, _) | (ReduceOp::Nanmax, false) => Fold::Maximum,
                (ReduceOp::Nanmin, true) => Fold::Fmin,
                _ => Fold::Fmax,
            };
            match p.initial {
                Some(s) => {
                    let (v, f) = initial_value::<T>(s)?;
                    flags |= f;
                    out.iter_mut().for_each(|o| *o = v);
                }
                None => {
                    if mask.is_some() {
                        return Err(Error::InvalidArgument);
                    }
                    let empty_axis = a
                        .shape()
                        .dims()
                        .iter()
                        .zip(&r.reduced)
                        .any(|(&d, &red)| red && d == 0);
                    if empty_axis {
                        return Err(Error::EmptyReduction);
                    }
                    first_elements(a, r, out);
                }
            }
            flags |= pass(fold, a, L::PLAIN, own_strides(a), false, r, mask, out);
        }
        ReduceOp::Any | ReduceOp::All => {
            let is_any = op == ReduceOp::Any;
            out.iter_mut()
                .for_each(|o| *o = if is_any { T::ZERO } else { T::ONE });
            let fold = if is_any { Fold::Add } else { Fold::Mul };
            flags |= pass(fold, a, L::PLAIN, own_strides(a), cast, r, mask, out);
        }
        ReduceOp::CountNonzero => {
            out.iter_mut().for_each(|o| *o = T::ZERO);
            flags |= pass(
                Fold::Add,
                a,
                Pre::NonZero,
                own_strides(a),
                true,
                r,
                None,
                out,
            );
        }
        ReduceOp::Mean | ReduceOp::Nanmean => {
            out.iter_mut().for_each(|o| *o = T::ZERO);
            let nan = op == ReduceOp::Nanmean && float_in;
            if nan {
                let cs = copy_strides(a);
                flags |= pass(
                    Fold::Add,
                    a,
                    Pre::NanToZero,
                    first(&cs, a.shape().ndim()),
                    cast,
                    r,
                    mask,
                    out,
                );
            } else {
                flags |= pass(Fold::Add, a, L::PLAIN, own_strides(a), cast, r, mask, out);
            }
            if nan || mask.is_some() {
                let n = out.len();
                let c: &mut [i64] = bytemuck::cast_slice_mut(
                    scratch
                        .get_mut(..n)
                        .ok_or_else(|| Error::short_scratch(scratch_need(n, 1)))?,
                );
                counts(a, r, mask, nan, c)?;
                let f = divide_by_count(out, &|j| count_at(c, j));
                // nanmean divides under np.errstate(invalid/divide='ignore').
                if !nan {
                    flags |= f;
                }
            } else {
                let c = reduced_count(a, r);
                flags |= divide_by_count(out, &|_| c);
            }
        }
        ReduceOp::Var | ReduceOp::Std => {
            flags |= var::<T>(a, p, r, out, scratch)?;
            if op == ReduceOp::Std {
                for o in out.iter_mut() {
                    let v = o.to_f64();
                    *o = if T::DTYPE == DType::Float32 {
                        T::from_f64(f64::from(libm::sqrtf(v as f32)))
                    } else if T::FLOAT {
                        T::from_f64(libm::sqrt(v))
                    } else {
                        // 0-d only (resolve rejects arrays): the scalar's
                        // sqrt (invalid for a wrapped negative variance),
                        // converted back by `dtype.type(...)`.
                        let s = libm::sqrt(v);
                        flags |= FpFlags::when(v < 0.0, FpFlags::INVALID);
                        from_f64_result(s, &mut flags)
                    };
                }
            }
        }
        ReduceOp::Cumsum | ReduceOp::Cumprod => {
            let fold = if op == ReduceOp::Cumsum {
                Fold::Add
            } else {
                Fold::Mul
            };
            // As in `pass`: unsigned dtypes accumulate as their twins.
            flags |= if crate::SMALL && T::DTYPE.kind() == Kind::UnsignedInt {
                match bytemuck::try_cast_slice_mut::<T, T::Twin>(out) {
                    Ok(twin) => accumulate(fold, a, r.axis, twin, T::DTYPE),
                    // A type and its twin have one size and alignment.
                    Err(_) => FpFlags::NONE,
                }
            } else {
                accumulate(fold, a, r.axis, out, T::DTYPE)
            };
        }
        ReduceOp::Argmin | ReduceOp::Argmax => return Err(Error::Unsupported),
    }
    Ok(flags)
}
