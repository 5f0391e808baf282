//! `var`/`std`: NumPy's two passes (`_methods._var`), mean first, then the
//! squared deviations over the layout of NumPy's temporary.

use super::engine::{DevType, Fold, Pre};
use super::fold::{
    count_at, counts, divide_by, divide_by_count, own_strides, pass, reduced_count, scratch_need,
    temp_strides,
};
use super::params::ReduceParams;
use super::resolve::Resolved;
use crate::array::ArrayRef;
use crate::dtype::{result_type, DType, Kind};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::shape::first;

/// `_var` of numpy/_core/_methods.py: mean (sum, divide by the count),
/// then the sum of squared deviations (computed in `result_type(input,
/// dtype)` over the layout of NumPy's temporary `arr - arrmean`), divided
/// by `max(count - ddof, 0)`.
pub(super) fn var<T: Num>(
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
                .ok_or_else(|| Error::short_scratch(scratch_need(n, 2)))?,
        );
        counts(a, r, mask, false, c)?;
        Some(c)
    } else {
        None
    };
    let count = |j: usize| -> usize {
        match &per_out {
            Some(c) => count_at(c, j),
            None => whole,
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
        let d = count(j) as f64 - ddof;
        if d > 0.0 {
            d
        } else {
            0.0
        }
    };
    flags |= divide_by(out, &dof);
    Ok(flags)
}
