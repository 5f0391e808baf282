//! Reductions with NumPy 2's semantics: `sum`, `prod`, `min`/`max`, `mean`,
//! `var`/`std`, `argmin`/`argmax`, `any`/`all`, `count_nonzero`,
//! `cumsum`/`cumprod` and the NaN-aware `nansum`, `nanprod`, `nanmin`,
//! `nanmax`, `nanmean`.
//!
//! Accumulator dtypes, empty-reduction rules, NaN rules and IEEE flags are
//! NumPy's. Float sums are bit-identical to NumPy's: the order of
//! evaluation (pairwise along the axis NumPy iterates innermost, sequential
//! across the others, chunked where NumPy buffers) is reproduced from the
//! caller's memory layout (module `plan`). `mean`, `var` and `std` follow
//! `numpy/_core/_methods.py` step by step (float64 division by an int64
//! count, var's mean-subtracted second pass over NumPy's temporary's
//! layout).
//!
//! Outputs are C-contiguous in the caller's buffer. Scratch is only needed
//! by `mean`/`nanmean` with `where=`, `nanmean` of floats and `var`/`std`
//! (one or two words per output element); [`ReduceOp::scratch_len`] says
//! how many.
//!
//! One file per concern: `params` (the keywords), `resolve` (NumPy's
//! checks, result dtype and shape), this module (the entries), `fold`
//! (sum, prod, min/max, mean, any/all and the NaN-aware folds), `var`,
//! `scan` (cumsum, cumprod) and `arg` (argmin, argmax). `plan` and
//! `engine` stay apart from them: they carry NumPy's iteration order,
//! which the bit-exact float sums rely on.

mod arg;
mod engine;
mod fold;
mod params;
pub(crate) mod plan;
mod resolve;
mod scan;
mod var;

use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::num::Num;
use crate::output::Output;
use crate::table::ReduceOp;
use arg::arg;
pub(crate) use engine::{lanes_sum, pairwise_slice, BLOCK};
use engine::{Plain, Pre};
pub(crate) use fold::initial_value;
use fold::typed;
pub use params::{Axes, OutArray, ReduceParams, Scalar};
pub(crate) use resolve::{axis_flags, default_accumulator};
use resolve::{resolve, scratch_words};

/// Computes `op` over `a` into `out` (C-contiguous, aligned for the result
/// dtype) using `scratch` (words, as in the typed API; see
/// [`ReduceOp::scratch_len`]).
///
/// Errors as NumPy raises them: [`Error::AxisOutOfBounds`] (AxisError),
/// [`Error::DuplicateAxis`], [`Error::EmptyReduction`] (min/max family
/// without `initial=` over an empty axis, argmin/argmax of an empty axis),
/// [`Error::InvalidArgument`] (min/max with `where=` but no `initial=`),
/// [`Error::InvalidType`] (a keyword the function does not take, a non-bool
/// mask, a tuple axis for argmin/argmax/cumsum/cumprod, var of bool in
/// bool, std into an integer array, nanmean of floats into an integer),
/// [`Error::PythonIntOverflow`] (an `initial=` int the accumulator cannot
/// hold), [`Error::BroadcastMismatch`] (mask shape); and
/// [`Error::BufferTooSmall`] (bytes) and [`Error::Misaligned`].
///
/// Integer results of mean/var/std are converted from float64 as NumPy's
/// C cast does on x86-64 (NaN and out-of-range values give the CPU's
/// "integer indefinite"); float-to-integer casts of out-of-range input
/// data (`dtype=int8` on large floats) saturate instead, as that C
/// conversion is undefined and CPU-dependent in NumPy too.
pub fn reduce(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<Output> {
    let r = resolve(op, a, p)?;
    let n = r.shape.size();
    let needed = n
        .checked_mul(r.dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    let words = scratch_words(op, a, p, &r);
    let scratch = scratch
        .get_mut(..words)
        .ok_or_else(|| Error::short_scratch(words.saturating_mul(8)))?;
    let flags = match op {
        ReduceOp::Argmin | ReduceOp::Argmax => {
            let out: &mut [i64] =
                bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
            let is_max = op == ReduceOp::Argmax;
            let x = (is_max, a, r.axis, out);
            // Under `small`, bool and unsigned inputs are read as the signed
            // integer of their width (unsigned ones with the top bit flipped,
            // which keeps their order): the same indices from 6 copies of
            // the scan instead of 11.
            match a.dtype() {
                DType::Bool if crate::SMALL => arg::<i8>(x, false),
                DType::UInt8 if crate::SMALL => arg::<i8>(x, true),
                DType::UInt16 if crate::SMALL => arg::<i16>(x, true),
                DType::UInt32 if crate::SMALL => arg::<i32>(x, true),
                DType::UInt64 if crate::SMALL => arg::<i64>(x, true),
                d => crate::element::with_dtype!(d, T => arg::<T>(x, false)),
            }?
        }
        _ => {
            crate::element::with_dtype!(r.dtype, T => typed::<T, Pre>(op, a, p, &r, out, scratch))?
        }
    };
    Ok(Output::new(
        r.dtype,
        r.shape,
        flags | dtype_cast_flags(op, a, p.dtype),
    ))
}

/// The flags of casting every element of `a` into `dtype=` when that
/// cast can lose a value: float64 into float32 (overflow, underflow),
/// a float into an integer (invalid). NumPy casts the whole input, where=
/// or not (`np.sum(x, dtype=np.float32)` with 1e300 in x overflows); the
/// nan-reductions replace NaN first, which then casts without a flag.
#[inline(never)]
pub(crate) fn dtype_cast_flags(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    dtype: Option<DType>,
) -> crate::flags::FpFlags {
    use crate::flags::FpFlags;
    let Some(to) = dtype else {
        return FpFlags::NONE;
    };
    let from = a.dtype();
    let narrows =
        (from == DType::Float64 && to == DType::Float32) || (from.is_float() && to.is_integer());
    if !narrows {
        return FpFlags::NONE;
    }
    let skip_nan = matches!(op, ReduceOp::Nansum | ReduceOp::Nanprod | ReduceOp::Nanmean);
    let mut flags = FpFlags::NONE;
    let mut sink = [0u8; 8];
    crate::ufunc::keywords::for_each_index(a.shape(), |idx| {
        let at = a.layout().element_index(idx);
        if skip_nan {
            let mut v = [0f64];
            a.load(at, 1, &mut v);
            if v[0].is_nan() {
                return;
            }
        }
        flags |= crate::ufunc::keywords::cast_element(a, at, to, &mut sink);
    });
    flags
}

/// [`reduce`] with the result dtype (`T`) and the input's element type
/// (`I`) fixed at compile time, for the typed API: only `T`'s loops
/// reading `I`s are linked, not the dispatcher over every result dtype
/// nor the conversions from the other input dtypes. `out` holds `T`s and
/// `scratch` words; argmin/argmax go through [`reduce_arg`].
pub(crate) fn reduce_as<T: Num, I: Element>(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    out: &mut [T],
    scratch: &mut [u64],
) -> Result<Output> {
    let r = resolve(op, a, p)?;
    if r.dtype != T::DTYPE || matches!(op, ReduceOp::Argmin | ReduceOp::Argmax) {
        return Err(Error::InvalidType);
    }
    let n = r.shape.size();
    let out = out
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<T>(n))?;
    let words = scratch_words(op, a, p, &r);
    let scratch = scratch
        .get_mut(..words)
        .ok_or_else(|| Error::short_scratch(words.saturating_mul(8)))?;
    let out: &mut [u8] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    if a.dtype() != I::DTYPE {
        return Err(Error::InvalidType);
    }
    let flags = typed::<T, Plain<I>>(op, a, p, &r, out, scratch)?;
    Ok(Output::new(
        r.dtype,
        r.shape,
        flags | dtype_cast_flags(op, a, p.dtype),
    ))
}

/// argmin/argmax of an input whose element type is fixed at compile time
/// (`I`), for the typed API; `out` in elements.
pub(crate) fn reduce_arg<I: Num>(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    out: &mut [i64],
) -> Result<Output> {
    let r = resolve(op, a, p)?;
    if a.dtype() != I::DTYPE || !matches!(op, ReduceOp::Argmin | ReduceOp::Argmax) {
        return Err(Error::InvalidType);
    }
    let n = r.shape.size();
    let out = out
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<i64>(n))?;
    let flags = arg::<I>((op == ReduceOp::Argmax, a, r.axis, out), false)?;
    Ok(Output::new(r.dtype, r.shape, flags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &op in ReduceOp::ALL {
            assert_eq!(ReduceOp::from_name(op.name()), Some(op));
            assert_eq!(ReduceOp::try_from(op as u8), Ok(op));
        }
        assert_eq!(ReduceOp::from_name("amax"), Some(ReduceOp::Max));
        assert_eq!(ReduceOp::from_name("amin"), Some(ReduceOp::Min));
        assert_eq!(ReduceOp::from_name("nanvar"), None);
        assert_eq!(ReduceOp::try_from(19), Err(Error::UnknownOp));
    }
}
