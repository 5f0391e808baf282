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
//! (one or two words per output element); [`ReduceOp::scratch_bytes`] says
//! how much.

mod engine;
mod num;
pub(crate) mod plan;

use crate::array::ArrayRef;
use crate::dtype::{result_type, DType, Kind};
use crate::element::{Bool, Element};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::shape::{first, first_mut, Layout, Shape, MAX_NDIM};
use crate::table::{Keyword, ReduceOp};
use engine::{DevType, Fold, Pre, Source};
use num::Num;
use plan::{Cursor, Plan, PlanInput, IN, MASK, NOP, OUT};

impl ReduceOp {
    /// Whether `axis=0`/`axis=-1` of a 0-d array of `dtype` means the
    /// whole array. Without `where=`, NumPy's mean, var and std count the
    /// reduced items with `normalize_axis_tuple`, which has no axis for a
    /// 0-d array (an AxisError), and nanmean of a non-float array is mean.
    /// With `where=` they count with `add.reduce` over the mask, a ufunc
    /// reduction, which accepts it like the rest (ufunc reductions and
    /// argmin-like ops).
    fn takes_0d_int_axis(self, dtype: DType, has_where: bool) -> bool {
        match self {
            ReduceOp::Mean | ReduceOp::Var | ReduceOp::Std => has_where,
            ReduceOp::Nanmean => has_where || dtype.is_float(),
            _ => true,
        }
    }

    /// argmin/argmax/cumsum/cumprod take `None` or one int axis.
    const fn single_axis(self) -> bool {
        !self.keywords().contains(Keyword::AxisTuple)
    }

    /// The result dtype and shape, without computing anything. Checks every
    /// parameter the way NumPy does (see [`reduce`] for the errors).
    pub fn output(self, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<(DType, Shape)> {
        let r = resolve(self, a, p)?;
        Ok((r.dtype, r.shape))
    }

    /// Bytes of scratch [`reduce`] needs for these operands.
    pub fn scratch_bytes(self, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<usize> {
        let r = resolve(self, a, p)?;
        Ok(scratch_words(self, a, p, &r)
            .saturating_mul(8)
            .saturating_add(8))
    }
}

/// NumPy's `axis=`: `None`, an int, or a tuple of (possibly negative)
/// axes.
///
/// An int and a one-element tuple differ in NumPy: argmin, argmax, cumsum
/// and cumprod take only an int (a tuple is a TypeError), and the
/// ufunc-based reductions of a 0-d array take the int 0 or -1 but no
/// tuple other than `()`.
// The list variant is as large as the fixed-size array it holds; boxing is
// not an option without an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axes {
    /// `axis=None`: every axis.
    All,
    /// `axis=k`.
    One(isize),
    /// `axis=(k, …)`.
    List {
        /// The axes, the first `len` are used.
        axes: [isize; MAX_NDIM],
        /// How many axes.
        len: usize,
    },
}

impl Axes {
    /// `axis=k`.
    pub fn single(axis: isize) -> Axes {
        Axes::One(axis)
    }

    /// `axis=(…)`; more than [`MAX_NDIM`] entries is
    /// [`Error::TooManyDims`].
    pub fn list(list: &[isize]) -> Result<Axes> {
        let mut axes = [0isize; MAX_NDIM];
        axes.get_mut(..list.len())
            .ok_or(Error::TooManyDims)?
            .copy_from_slice(list);
        Ok(Axes::List {
            axes,
            len: list.len(),
        })
    }

    /// The listed axes (`None` for [`Axes::All`]).
    pub fn as_slice(&self) -> Option<&[isize]> {
        match self {
            Axes::All => None,
            Axes::One(axis) => Some(core::slice::from_ref(axis)),
            Axes::List { axes, len } => Some(axes.get(..*len).unwrap_or(&axes[..])),
        }
    }
}

/// A Python scalar, as passed to `initial=`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scalar {
    /// `True`/`False`.
    Bool(bool),
    /// A Python int that fits int64.
    Int(i64),
    /// A Python int ≥ 2**63.
    UInt(u64),
    /// A Python float.
    Float(f64),
}

/// The keyword arguments of a reduction.
#[derive(Clone, Copy, Debug)]
pub struct ReduceParams<'a> {
    /// `axis=`.
    pub axis: Axes,
    /// `keepdims=`.
    pub keepdims: bool,
    /// `initial=`.
    pub initial: Option<Scalar>,
    /// `where=`: a bool array broadcast to the input.
    pub where_mask: Option<ArrayRef<'a>>,
    /// `dtype=`.
    pub dtype: Option<DType>,
    /// `ddof=` (var, std).
    pub ddof: f64,
}

impl Default for ReduceParams<'_> {
    fn default() -> Self {
        ReduceParams {
            axis: Axes::All,
            keepdims: false,
            initial: None,
            where_mask: None,
            dtype: None,
            ddof: 0.0,
        }
    }
}

impl<'a> ReduceParams<'a> {
    /// `axis=axis`, every other keyword at NumPy's default.
    pub fn along(axis: isize) -> ReduceParams<'a> {
        ReduceParams {
            axis: Axes::single(axis),
            ..ReduceParams::default()
        }
    }

    /// The same keywords with `axis=axes`.
    pub fn with_axes(self, axes: Axes) -> ReduceParams<'a> {
        ReduceParams { axis: axes, ..self }
    }

    /// The same keywords with `keepdims=keepdims`.
    pub fn with_keepdims(self, keepdims: bool) -> ReduceParams<'a> {
        ReduceParams { keepdims, ..self }
    }

    /// The same keywords with `where=mask` (broadcast to the input).
    pub fn with_where(self, mask: crate::view::View<'a, Bool>) -> ReduceParams<'a> {
        ReduceParams {
            where_mask: Some(mask.as_array()),
            ..self
        }
    }

    /// The same keywords with `initial=value`.
    pub fn with_initial(self, value: Scalar) -> ReduceParams<'a> {
        ReduceParams {
            initial: Some(value),
            ..self
        }
    }

    /// The same keywords with `dtype=dtype`.
    pub fn with_dtype(self, dtype: DType) -> ReduceParams<'a> {
        ReduceParams {
            dtype: Some(dtype),
            ..self
        }
    }

    /// The same keywords with `ddof=ddof` (var, std).
    pub fn with_ddof(self, ddof: f64) -> ReduceParams<'a> {
        ReduceParams { ddof, ..self }
    }
}

/// Everything decided before computing.
struct Resolved {
    dtype: DType,
    shape: Shape,
    reduced: [bool; MAX_NDIM],
    /// The one axis of argmin/argmax/cumsum/cumprod (`None` = flattened).
    axis: Option<usize>,
    /// The `where=` mask's layout broadcast to the input.
    mask: Option<Layout>,
}

/// NumPy's accumulator for add/multiply: ints narrower than 64 bits and
/// bool go to the platform int (int64/uint64).
fn default_accumulator(d: DType) -> DType {
    match d {
        DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 => DType::Int64,
        DType::UInt8 | DType::UInt16 | DType::UInt32 => DType::UInt64,
        _ => d,
    }
}

fn resolve(op: ReduceOp, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<Resolved> {
    // Keywords NumPy's function does not take are a TypeError.
    let takes = |k| op.keywords().contains(k);
    if (p.where_mask.is_some() && !takes(Keyword::Where))
        || (p.initial.is_some() && !takes(Keyword::Initial))
        || (p.dtype.is_some() && !takes(Keyword::Dtype))
        || (p.keepdims && !takes(Keyword::Keepdims))
        || (p.ddof != 0.0 && !takes(Keyword::Ddof))
    {
        return Err(Error::InvalidType);
    }
    let shape = a.shape();
    let ndim = shape.ndim();
    let mut reduced = [false; MAX_NDIM];
    let mut axis = None;
    match (p.axis, p.axis.as_slice()) {
        (Axes::One(ax), _)
            if ndim == 0 && op.takes_0d_int_axis(a.dtype(), p.where_mask.is_some()) =>
        {
            // NumPy lets 0 and -1 name the one axis a 0-d array does not
            // have (argmin/argmax/cumsum/cumprod: PyArray_CheckAxis sees
            // it as 1-d; the ufunc reductions: a legacy special case), so
            // the whole array is reduced.
            if ax != 0 && ax != -1 {
                return Err(Error::AxisOutOfBounds);
            }
        }
        (_, None) => first_mut(&mut reduced, ndim)
            .iter_mut()
            .for_each(|r| *r = true),
        (Axes::List { .. }, Some(_)) if op.single_axis() => return Err(Error::InvalidType),
        (_, Some(list)) => {
            let mut seen = [false; MAX_NDIM];
            let mut normalized = [0usize; MAX_NDIM];
            for (n, &ax) in normalized.iter_mut().zip(list) {
                let nd = ndim as isize;
                if ax < -nd || ax >= nd {
                    return Err(Error::AxisOutOfBounds);
                }
                *n = if ax < 0 {
                    (ax + nd) as usize
                } else {
                    ax as usize
                };
            }
            for &n in first(&normalized, list.len()) {
                if seen[n] {
                    return Err(Error::DuplicateAxis);
                }
                seen[n] = true;
                reduced[n] = true;
            }
            if op.single_axis() {
                axis = Some(normalized[0]);
            }
        }
    }
    let mask = match p.where_mask {
        None => None,
        Some(m) => {
            if m.dtype() != DType::Bool {
                return Err(Error::InvalidType);
            }
            Some(m.layout().broadcast_to(shape)?)
        }
    };
    let dtype = match op {
        ReduceOp::Sum
        | ReduceOp::Prod
        | ReduceOp::Cumsum
        | ReduceOp::Cumprod
        | ReduceOp::Nansum
        | ReduceOp::Nanprod => p.dtype.unwrap_or_else(|| default_accumulator(a.dtype())),
        ReduceOp::Min | ReduceOp::Max | ReduceOp::Nanmin | ReduceOp::Nanmax => a.dtype(),
        ReduceOp::Mean | ReduceOp::Nanmean => {
            // _nanmean: "If a is inexact, then dtype must be inexact".
            if op == ReduceOp::Nanmean
                && a.dtype().is_float()
                && p.dtype.is_some_and(|d| !d.is_float())
            {
                return Err(Error::InvalidType);
            }
            p.dtype.unwrap_or(match a.dtype().kind() {
                Kind::Float => a.dtype(),
                _ => DType::Float64,
            })
        }
        ReduceOp::Var | ReduceOp::Std => {
            let m = p.dtype.unwrap_or(match a.dtype().kind() {
                Kind::Float => a.dtype(),
                _ => DType::Float64,
            });
            // `arr - arrmean` of two bools is NumPy's boolean-subtract
            // TypeError.
            if result_type(a.dtype(), m) == DType::Bool {
                return Err(Error::InvalidType);
            }
            m
        }
        ReduceOp::Argmin | ReduceOp::Argmax | ReduceOp::CountNonzero => DType::Int64,
        ReduceOp::Any | ReduceOp::All => DType::Bool,
    };
    let out_shape = if op.single_axis() {
        match (op, axis) {
            (ReduceOp::Cumsum | ReduceOp::Cumprod, None) => Shape::vector(shape.size()),
            (ReduceOp::Cumsum | ReduceOp::Cumprod, Some(_)) => *shape,
            _ => reduced_shape(shape, &reduced, p.keepdims)?,
        }
    } else {
        reduced_shape(shape, &reduced, p.keepdims)?
    };
    // std's `sqrt(ret, out=ret)` has no same-kind cast back to an integer
    // or bool result array (a 0-d result goes through a scalar instead).
    if op == ReduceOp::Std && !dtype.is_float() && out_shape.ndim() > 0 {
        return Err(Error::InvalidType);
    }
    Ok(Resolved {
        dtype,
        shape: out_shape,
        reduced,
        axis,
        mask,
    })
}

fn reduced_shape(shape: &Shape, reduced: &[bool; MAX_NDIM], keepdims: bool) -> Result<Shape> {
    let mut out = Shape::SCALAR;
    for (k, &d) in shape.dims().iter().enumerate() {
        if !reduced[k] {
            out.push(d)?;
        } else if keepdims {
            out.push(1)?;
        }
    }
    Ok(out)
}

/// Scratch words (8 bytes each) an op needs: per output element a mean
/// and/or a count.
fn scratch_words(op: ReduceOp, a: &ArrayRef<'_>, p: &ReduceParams<'_>, r: &Resolved) -> usize {
    let n = r.shape.size();
    let counts = p.where_mask.is_some() || (op == ReduceOp::Nanmean && a.dtype().is_float());
    match op {
        ReduceOp::Mean | ReduceOp::Nanmean if counts => n,
        ReduceOp::Var | ReduceOp::Std => n.saturating_mul(1 + usize::from(counts)),
        _ => 0,
    }
}

/// Computes `op` over `a` into `out` (C-contiguous, aligned for the result
/// dtype) using `scratch` (see [`ReduceOp::scratch_bytes`]).
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
    scratch: &mut [u8],
) -> Result<Output> {
    let r = resolve(op, a, p)?;
    let n = r.shape.size();
    let needed = n
        .checked_mul(r.dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or(Error::short_output::<u8>(needed))?;
    let words = scratch_words(op, a, p, &r);
    let (head, scratch, _) = bytemuck::pod_align_to_mut::<u8, u64>(scratch);
    // Bytes from the buffer's start: its unaligned head, then the words.
    let skip = head.len();
    let scratch = scratch.get_mut(..words).ok_or(Error::short_scratch(
        words.saturating_mul(8).saturating_add(skip),
    ))?;
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
        _ => crate::element::with_dtype!(r.dtype, T => typed::<T>(op, a, p, &r, out, scratch))?,
    };
    Ok(Output {
        dtype: r.dtype,
        shape: r.shape,
        flags,
    })
}

/// [`reduce`] with the result dtype fixed at compile time (`T`), for the
/// typed API: only `T`'s reduction loops are linked, not the dispatcher
/// over every result dtype. Buffer sizes are in elements: `out` of `T`,
/// `scratch` in words. argmin/argmax go through [`reduce_arg`].
pub(crate) fn reduce_as<T: Num>(
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
    let out = out.get_mut(..n).ok_or(Error::short_output::<T>(n))?;
    let words = scratch_words(op, a, p, &r);
    let scratch = scratch
        .get_mut(..words)
        .ok_or(Error::short_scratch(words.saturating_mul(8)))?;
    let out: &mut [u8] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    let flags = typed::<T>(op, a, p, &r, out, scratch)?;
    Ok(Output {
        dtype: r.dtype,
        shape: r.shape,
        flags,
    })
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
    let out = out.get_mut(..n).ok_or(Error::short_output::<i64>(n))?;
    let flags = arg::<I>((op == ReduceOp::Argmax, a, r.axis, out), false)?;
    Ok(Output {
        dtype: r.dtype,
        shape: r.shape,
        flags,
    })
}

/// Scratch words (8 bytes, aligned) a reduction needs, for the typed API.
pub(crate) fn scratch_len(op: ReduceOp, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<usize> {
    let r = resolve(op, a, p)?;
    Ok(scratch_words(op, a, p, &r))
}

/// Inclusive value range of an integer dtype.
fn int_range(d: DType) -> Option<(i128, i128)> {
    Some(match d {
        DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DType::UInt8 => (0, u8::MAX.into()),
        DType::UInt16 => (0, u16::MAX.into()),
        DType::UInt32 => (0, u32::MAX.into()),
        DType::UInt64 => (0, u64::MAX.into()),
        _ => return None,
    })
}

/// `initial=` converted to the loop dtype as NumPy does (NEP 50: a Python
/// int must fit an integer loop; a float is cast).
fn initial_value<T: Num>(s: Scalar) -> Result<(T, FpFlags)> {
    let as_int = |v: i128| -> Result<(T, FpFlags)> {
        match int_range(T::DTYPE) {
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
fn pass<T: Num>(
    fold: Fold,
    a: &ArrayRef<'_>,
    pre: Pre<'_>,
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
        pre,
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
fn pass_as<T: Num>(
    fold: Fold,
    a: &ArrayRef<'_>,
    pre: Pre<'_>,
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
fn own_strides<'l>(a: &'l ArrayRef<'_>) -> &'l [isize] {
    a.layout().strides()
}

/// Strides of the temporary `arr - arrmean` that `_var` sums: allocated
/// by the ufunc iterator in its axis order.
fn temp_strides(a: &ArrayRef<'_>) -> [isize; MAX_NDIM] {
    let mut s = [0isize; MAX_NDIM];
    plan::keep_order_strides(a.layout(), &mut s);
    s
}

/// Strides of the copy `_replace_nan` makes (`np.array(a, copy=True)`).
fn copy_strides(a: &ArrayRef<'_>) -> [isize; MAX_NDIM] {
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
fn counts(
    a: &ArrayRef<'_>,
    r: &Resolved,
    mask: Option<&ArrayRef<'_>>,
    not_nan: bool,
    counts: &mut [i64],
) -> Result<()> {
    counts.iter_mut().for_each(|c| *c = 0);
    if not_nan {
        pass::<i64>(
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
    pass::<i64>(
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
fn scratch_need(n: usize, words: usize) -> usize {
    n.saturating_mul(words).saturating_mul(8)
}

/// The number of elements reduced into each output element.
fn reduced_count(a: &ArrayRef<'_>, r: &Resolved) -> i64 {
    a.shape()
        .dims()
        .iter()
        .zip(&r.reduced)
        .filter(|(_, &red)| red)
        .fold(1i64, |acc, (&d, _)| {
            acc.saturating_mul(i64::try_from(d).unwrap_or(i64::MAX))
        })
}

/// `out[j] = out[j] / count[j]` in float64, rounded to the result dtype
/// (NumPy's `true_divide(ret, rcount, out=ret, casting='unsafe')`).
// `count` is a trait object: one copy per result dtype, not one per caller.
fn divide_by_count<T: Num>(out: &mut [T], count: &dyn Fn(usize) -> f64) -> FpFlags {
    let mut flags = FpFlags::NONE;
    for (j, o) in out.iter_mut().enumerate() {
        let (x, c) = (o.to_f64(), count(j));
        let q = x / c;
        flags |= num::div_flags(x, c, q);
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

fn typed<T: Num>(
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
                flags |= pass(fold, a, Pre::None, own_strides(a), cast, r, mask, out);
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
            flags |= pass(fold, a, Pre::None, own_strides(a), false, r, mask, out);
        }
        ReduceOp::Any | ReduceOp::All => {
            let is_any = op == ReduceOp::Any;
            out.iter_mut()
                .for_each(|o| *o = if is_any { T::ZERO } else { T::ONE });
            let fold = if is_any { Fold::Add } else { Fold::Mul };
            flags |= pass(fold, a, Pre::None, own_strides(a), cast, r, mask, out);
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
                flags |= pass(Fold::Add, a, Pre::None, own_strides(a), cast, r, mask, out);
            }
            if nan || mask.is_some() {
                let n = out.len();
                let c: &mut [i64] = bytemuck::cast_slice_mut(
                    scratch
                        .get_mut(..n)
                        .ok_or(Error::short_scratch(scratch_need(n, 1)))?,
                );
                counts(a, r, mask, nan, c)?;
                let f = divide_by_count(out, &|j| c.get(j).copied().unwrap_or(0) as f64);
                // nanmean divides under np.errstate(invalid/divide='ignore').
                if !nan {
                    flags |= f;
                }
            } else {
                let c = reduced_count(a, r) as f64;
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

/// `_var` of numpy/_core/_methods.py: mean (sum, divide by the count),
/// then the sum of squared deviations (computed in `result_type(input,
/// dtype)` over the layout of NumPy's temporary `arr - arrmean`), divided
/// by `max(count - ddof, 0)`.
fn var<T: Num>(
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    r: &Resolved,
    out: &mut [T],
    scratch: &mut [u64],
) -> Result<FpFlags> {
    let mask = p.where_mask.as_ref();
    let n = out.len();
    let mut flags = FpFlags::NONE;
    let x = result_type(a.dtype(), T::DTYPE);
    let dev = match x {
        DType::Float64 => DevType::F64,
        DType::Float32 => DevType::F32,
        DType::Bool => return Err(Error::InvalidType),
        d => DevType::Int {
            bits: (d.itemsize() * 8) as u32,
            signed: d.kind() == Kind::SignedInt,
        },
    };
    let (means, rest) = scratch.split_at_mut(n.min(scratch.len()));
    if means.len() < n {
        return Err(Error::short_scratch(scratch_need(n, 1)));
    }
    // arrmean = umr_sum(arr, axis, dtype, keepdims=True, where=where)
    out.iter_mut().for_each(|o| *o = T::ZERO);
    flags |= pass(
        Fold::Add,
        a,
        Pre::None,
        own_strides(a),
        a.dtype() != T::DTYPE,
        r,
        mask,
        out,
    );
    let whole = reduced_count(a, r);
    let per_out: Option<&mut [i64]> = if mask.is_some() {
        let c: &mut [i64] = bytemuck::cast_slice_mut(
            rest.get_mut(..n)
                .ok_or(Error::short_scratch(scratch_need(n, 2)))?,
        );
        counts(a, r, mask, false, c)?;
        Some(c)
    } else {
        None
    };
    let count = |j: usize| -> f64 {
        match &per_out {
            Some(c) => c.get(j).copied().unwrap_or(0) as f64,
            None => whole as f64,
        }
    };
    // arrmean = true_divide(arrmean, rcount, out=arrmean, casting='unsafe')
    flags |= divide_by_count(out, &count);
    for (m, o) in means.iter_mut().zip(out.iter_mut()) {
        *m = match dev {
            DevType::F64 | DevType::F32 => o.to_f64().to_bits(),
            DevType::Int { .. } => o.to_i64_bits() as u64,
        };
        *o = T::ZERO;
    }
    // x = arr - arrmean; x = x * x; ret = umr_sum(x, axis, dtype, ...)
    let cs = temp_strides(a);
    flags |= pass(
        Fold::Add,
        a,
        Pre::SqDev(means, dev),
        first(&cs, a.shape().ndim()),
        x != T::DTYPE,
        r,
        mask,
        out,
    );
    let ddof = p.ddof;
    let dof = |j: usize| {
        let d = count(j) - ddof;
        if d > 0.0 {
            d
        } else {
            0.0
        }
    };
    flags |= divide_by_count(out, &dof);
    Ok(flags)
}

/// `add.accumulate`/`multiply.accumulate` along `axis` (flattened C order
/// for `None`): the first element is copied, the rest folded in order.
/// `T` carries the values of the dtype `real` (see [`engine::load_real`]).
fn accumulate<T: Num>(
    fold: Fold,
    a: &ArrayRef<'_>,
    axis: Option<usize>,
    out: &mut [T],
    real: DType,
) -> FpFlags {
    let dims = a.shape().dims();
    let nd = dims.len();
    let mut flags = FpFlags::NONE;
    if a.shape().size() == 0 {
        return flags;
    }
    let mut st = [[0isize; NOP]; MAX_NDIM];
    let mut step: isize = 1;
    for k in (0..nd).rev() {
        st[k][IN] = a.layout().strides()[k];
        st[k][OUT] = step;
        step = step.wrapping_mul(dims[k] as isize);
    }
    // Lines along the axis; for the flattened case one line over every
    // axis in C order.
    let (line_len, line_axes, outer_axes) = match axis {
        Some(ax) => (dims[ax], [ax; 1], true),
        None => (a.shape().size(), [0; 1], false),
    };
    let mut outer = [0usize; MAX_NDIM];
    let mut no = 0;
    let mut inner = [0usize; MAX_NDIM];
    let mut ni = 0;
    for k in (0..nd).rev() {
        if outer_axes && k == line_axes[0] {
            continue;
        }
        if outer_axes {
            outer[no] = k;
            no += 1;
        } else {
            inner[ni] = k;
            ni += 1;
        }
    }
    if outer_axes {
        inner[0] = line_axes[0];
        ni = 1;
    }
    let base = [0, a.layout().offset() as isize, 0];
    let mut lines = Cursor::new(dims, first(&outer, no), first(&st, nd), base);
    let nlines = a.shape().size().checked_div(line_len).unwrap_or(0);
    let mut buf = [T::ZERO; engine::BLOCK];
    for _ in 0..nlines {
        let mut cur = Cursor::new(dims, first(&inner, ni), first(&st, nd), lines.pos);
        let mut acc = T::ZERO;
        let mut done = 0;
        while done < line_len {
            let len = (line_len - done).min(cur.run_len()).min(engine::BLOCK);
            let vals = &mut buf[..len];
            engine::load_real(
                a,
                real,
                usize::try_from(cur.pos[IN]).unwrap_or(0),
                cur.run_stride(IN),
                vals,
            );
            let (o0, so) = (cur.pos[OUT], cur.run_stride(OUT));
            for (k, &x) in vals.iter().enumerate() {
                acc = if done + k == 0 {
                    x
                } else {
                    let r = if fold == Fold::Add {
                        acc.add(x)
                    } else {
                        acc.mul(x)
                    };
                    if T::FLOAT {
                        flags |= if fold == Fold::Add {
                            T::add_flags(acc, x, r)
                        } else {
                            T::mul_flags(acc, x, r)
                        };
                    }
                    r
                };
                let at = o0.wrapping_add((k as isize).wrapping_mul(so));
                if let Some(o) = usize::try_from(at).ok().and_then(|i| out.get_mut(i)) {
                    *o = acc;
                }
            }
            cur.advance(len);
            done += len;
        }
        lines.advance(1);
    }
    flags
}

/// argmin/argmax along `axis` (flattened C order for `None`): the first
/// extreme, or the first NaN.
/// `flip` applies [`Num::flip_sign`] to every element read.
fn arg<T: Num + PartialOrd>(
    (is_max, a, axis, out): (bool, &ArrayRef<'_>, Option<usize>, &mut [i64]),
    flip: bool,
) -> Result<FpFlags> {
    let dims = a.shape().dims();
    let nd = dims.len();
    let line_len = match axis {
        Some(ax) => dims.get(ax).copied().unwrap_or(0),
        None => a.shape().size(),
    };
    if line_len == 0 {
        return Err(Error::EmptyReduction);
    }
    let mut st = [[0isize; NOP]; MAX_NDIM];
    let mut outer = [0usize; MAX_NDIM];
    let mut no = 0;
    let mut inner = [0usize; MAX_NDIM];
    let mut ni = 0;
    for k in (0..nd).rev() {
        st[k][IN] = a.layout().strides()[k];
        match axis {
            Some(ax) if ax == k => {
                inner[0] = k;
                ni = 1;
            }
            Some(_) => {
                outer[no] = k;
                no += 1;
            }
            None => {
                inner[ni] = k;
                ni += 1;
            }
        }
    }
    let base = [0, a.layout().offset() as isize, 0];
    let mut lines = Cursor::new(dims, first(&outer, no), first(&st, nd), base);
    let mut buf = [T::ZERO; engine::BLOCK];
    for o in out.iter_mut() {
        let mut cur = Cursor::new(dims, first(&inner, ni), first(&st, nd), lines.pos);
        let mut best = T::ZERO;
        let mut best_at = 0usize;
        let mut done = 0;
        'line: while done < line_len {
            let len = (line_len - done).min(cur.run_len()).min(engine::BLOCK);
            let vals = &mut buf[..len];
            a.load(
                usize::try_from(cur.pos[IN]).unwrap_or(0),
                cur.run_stride(IN),
                vals,
            );
            if flip {
                vals.iter_mut().for_each(|v| *v = v.flip_sign());
            }
            if crate::SMALL {
                // NumPy's scan: a later element wins only when greater
                // (less), and the first NaN ends the line.
                for (k, &v) in vals.iter().enumerate() {
                    let better = if is_max { v > best } else { v < best };
                    if done + k == 0 || better || v.is_nan() {
                        best = v;
                        best_at = done + k;
                        if v.is_nan() {
                            break 'line;
                        }
                    }
                }
                cur.advance(len);
                done += len;
                continue;
            }
            if done == 0 {
                best = vals[0];
                best_at = 0;
                if best.is_nan() {
                    break 'line;
                }
            }
            // The block's extreme in lanes (NaN propagates), then the first
            // index holding it: the same answer as NumPy's first-wins scan.
            let fold = if is_max { Fold::Maximum } else { Fold::Minimum };
            let mut none = FpFlags::NONE;
            let extreme = engine::fold_block(fold, vals[0], vals, &mut none);
            if extreme.is_nan() {
                if let Some(k) = vals.iter().position(|x| x.is_nan()) {
                    best_at = done + k;
                }
                break 'line;
            }
            let better = if is_max {
                extreme > best
            } else {
                extreme < best
            };
            if better {
                if let Some(k) = vals.iter().position(|&x| x == extreme) {
                    best = extreme;
                    best_at = done + k;
                }
            }
            cur.advance(len);
            done += len;
        }
        *o = best_at as i64;
        lines.advance(1);
    }
    Ok(FpFlags::NONE)
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
