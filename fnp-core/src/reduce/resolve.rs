//! Checking a reduction's keywords as NumPy does and resolving its result
//! dtype, shape, reduced axes and scratch.

use super::params::{Axes, ReduceParams};
use crate::array::ArrayRef;
use crate::dtype::{result_type, DType, Kind};
use crate::error::{Error, Result};
use crate::shape::{first, first_mut, Layout, Shape, MAX_NDIM};
use crate::table::{Keyword, ReduceOp};

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
    /// parameter the way NumPy does (see [`reduce`](crate::reduce()) for the errors).
    pub fn output(self, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<(DType, Shape)> {
        let r = resolve(self, a, p)?;
        Ok((r.dtype, r.shape))
    }

    /// The scratch words (`u64`s) [`reduce`](crate::reduce()) needs for
    /// these operands: one or two per output element for `mean`/`nanmean`
    /// with `where=`, `nanmean` of floats and `var`/`std`, 0 otherwise.
    pub fn scratch_len(self, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<usize> {
        let r = resolve(self, a, p)?;
        Ok(scratch_words(self, a, p, &r))
    }
}

/// Everything decided before computing.
pub(super) struct Resolved {
    pub(super) dtype: DType,
    pub(super) shape: Shape,
    pub(super) reduced: [bool; MAX_NDIM],
    /// The one axis of argmin/argmax/cumsum/cumprod (`None` = flattened).
    pub(super) axis: Option<usize>,
    /// The `where=` mask's layout broadcast to the input.
    pub(super) mask: Option<Layout>,
}

/// NumPy's accumulator for add/multiply: ints narrower than 64 bits and
/// bool go to the platform int (int64/uint64).
pub(crate) fn default_accumulator(d: DType) -> DType {
    match d {
        DType::Bool | DType::Int8 | DType::Int16 | DType::Int32 => DType::Int64,
        DType::UInt8 | DType::UInt16 | DType::UInt32 => DType::UInt64,
        _ => d,
    }
}

pub(super) fn resolve(op: ReduceOp, a: &ArrayRef<'_>, p: &ReduceParams<'_>) -> Result<Resolved> {
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
            reduced = axis_flags(list, ndim)?;
            if op.single_axis() {
                axis = reduced.iter().position(|&r| r);
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

/// NumPy's `normalize_axis_tuple`: each axis in `-ndim..ndim` (AxisError
/// for the first that is not), then no axis twice (ValueError); the axes
/// as flags.
pub(crate) fn axis_flags(list: &[isize], ndim: usize) -> Result<[bool; MAX_NDIM]> {
    let nd = ndim as isize;
    let mut normalized = [0usize; MAX_NDIM];
    if list.len() > MAX_NDIM {
        return Err(Error::TooManyDims);
    }
    for (n, &ax) in normalized.iter_mut().zip(list) {
        if ax < -nd || ax >= nd {
            return Err(Error::AxisOutOfBounds);
        }
        *n = if ax < 0 {
            (ax + nd) as usize
        } else {
            ax as usize
        };
    }
    let mut flags = [false; MAX_NDIM];
    for &n in first(&normalized, list.len()) {
        let flag = flags.get_mut(n).ok_or(Error::AxisOutOfBounds)?;
        if *flag {
            return Err(Error::DuplicateAxis);
        }
        *flag = true;
    }
    Ok(flags)
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
pub(super) fn scratch_words(
    op: ReduceOp,
    a: &ArrayRef<'_>,
    p: &ReduceParams<'_>,
    r: &Resolved,
) -> usize {
    let n = r.shape.size();
    let counts = p.where_mask.is_some() || (op == ReduceOp::Nanmean && a.dtype().is_float());
    match op {
        ReduceOp::Mean | ReduceOp::Nanmean if counts => n,
        ReduceOp::Var | ReduceOp::Std => n.saturating_mul(1 + usize::from(counts)),
        _ => 0,
    }
}
