//! `ufunc.at(a, indices[, b])`: NumPy's unbuffered in-place method.
//!
//! `np.add.at(a, [0, 0, 2], 1)` applies `a[i] = add(a[i], b[k])` once per
//! index, in order, so a repeated index accumulates (where `a[[0, 0, 2]]
//! += 1` would add once). The indices select along `a`'s first axis; `b`
//! broadcasts to the indexed shape, `indices.shape + a.shape[1:]`. Each
//! element is computed by the ufunc's own loop for `a`'s and `b`'s dtypes
//! and cast back to `a`'s dtype unsafely (NumPy's `at` casts with
//! `casting="unsafe"`: `np.add.at(int8, [0], 100)` twice wraps to -56).
//!
//! fnp's output is `a` as it is after the call, C-contiguous (`at` itself
//! returns `None` in NumPy).

use super::{arith_kernel, Kernel, CHUNK};
use crate::array::ArrayRef;
use crate::dtype::{DType, OperandType};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::shape::{first_mut, Layout, Shape, MAX_NDIM};
use crate::table::{BinaryFamily, BinaryOp, UnaryOp};
use crate::view::View;

/// The ufunc `at` applies.
#[derive(Clone, Copy)]
enum Ufunc {
    Unary(UnaryOp),
    Binary(BinaryOp),
}

/// A checked `at` call.
struct Plan<'a> {
    /// `a`'s dtype and shape (the call works on a C-contiguous copy, or on
    /// the caller's array itself).
    dtype: DType,
    shape: Shape,
    indices: ArrayRef<'a>,
    /// `b` laid out over the indexed shape (binary ufuncs).
    b: Option<ArrayRef<'a>>,
    /// The indexed shape: `indices.shape + a.shape[1:]`.
    indexed: Shape,
    /// `a.shape[1:]` as a C-contiguous layout of one row.
    row: Layout,
}

/// The dtype and shape `np.<op>.at(a, indices, b)` leaves `a` in (`a`'s),
/// after checking the call as NumPy does: a missing or extra operand
/// ([`Error::InvalidArgument`], NumPy's ValueError), no loop for `a` and
/// `b` ([`Error::NoLoop`]), indices that are not integers or lie outside
/// `a`'s first axis ([`Error::IndexOutOfBounds`]; boolean masks are
/// [`Error::Unsupported`]), `b` that does not broadcast to the indexed
/// shape ([`Error::BroadcastMismatch`]), then [`Error::Float16`] where
/// NumPy computes in float16.
pub fn binary_at_output(op: BinaryOp, inputs: &[ArrayRef<'_>]) -> Result<(DType, Shape)> {
    let plan = plan(Ufunc::Binary(op), inputs)?;
    Ok((plan.dtype, plan.shape))
}

/// [`binary_at_output`] for `np.<op>.at(a, indices)` of a unary ufunc.
pub fn unary_at_output(op: UnaryOp, inputs: &[ArrayRef<'_>]) -> Result<(DType, Shape)> {
    let plan = plan(Ufunc::Unary(op), inputs)?;
    Ok((plan.dtype, plan.shape))
}

/// `np.<op>.at(a, indices, b)`, `inputs` being `[a, indices, b]`: writes
/// `a` as it is after the call into `out` (C order, bytes aligned for
/// `a`'s dtype; size it with [`binary_at_output`]). The flags are those of
/// every element computed and of the casts back to `a`'s dtype.
///
/// A float result stored into an integer `a` is truncated (Rust's `as`):
/// NaN, infinities and values outside the integer's range are undefined
/// behaviour in NumPy's C cast and differ between platforms; fnp gives the
/// saturated value and no `invalid` flag.
///
/// ```
/// use fnp_core::{binary_at, ArrayRef, BinaryOp, Layout, Shape};
/// // np.add.at(hist, [0, 0, 2], 1): a repeated index adds twice.
/// let hist = [0i64; 3];
/// let idx = [0i64, 0, 2];
/// let one = [1i64];
/// fn v(s: &[i64]) -> ArrayRef<'_> {
///     ArrayRef::from_slice(s, Layout::c_contiguous(Shape::vector(s.len()))).unwrap()
/// }
/// let mut out = [0i64; 3];
/// binary_at(BinaryOp::Add, &[v(&hist), v(&idx), v(&one)], bytemuck::cast_slice_mut(&mut out)).unwrap();
/// assert_eq!(out, [2, 0, 1]);
/// ```
pub fn binary_at(op: BinaryOp, inputs: &[ArrayRef<'_>], out: &mut [u8]) -> Result<Output> {
    run(Ufunc::Binary(op), inputs, out)
}

/// `np.<op>.at(a, indices)` of a unary ufunc, `inputs` being
/// `[a, indices]`; as [`binary_at`].
pub fn unary_at(op: UnaryOp, inputs: &[ArrayRef<'_>], out: &mut [u8]) -> Result<Output> {
    run(Ufunc::Unary(op), inputs, out)
}

/// `np.<op>.at(a, indices, b)` on the caller's 1-d array `a` itself: the
/// typed, in-place form of [`binary_at`] (same rules and errors; no
/// output buffer). Returns the IEEE flags raised.
///
/// ```
/// use fnp_core::{binary_at_in_place, BinaryOp};
/// // NumPy's docs: a = [1, 2, 3, 4]; np.add.at(a, [0, 1, 2, 2], 1)
/// // leaves [2, 3, 5, 4]: index 2 is incremented twice.
/// let mut a = [1i64, 2, 3, 4];
/// binary_at_in_place(BinaryOp::Add, &mut a, &[0i64, 1, 2, 2], 1i64)?;
/// assert_eq!(a, [2, 3, 5, 4]);
/// // A weighted histogram: 1.5 into bin 1, 0.5 and 2.0 into bin 3.
/// let mut hist = [0.0f32; 4];
/// binary_at_in_place(BinaryOp::Add, &mut hist, &[1i32, 3, 3], &[1.5f32, 0.5, 2.0])?;
/// assert_eq!(hist, [0.0, 1.5, 0.0, 2.5]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn binary_at_in_place<'i, 'b, T: Element, I: Element, B: Element>(
    op: BinaryOp,
    a: &mut [T],
    indices: impl Into<View<'i, I>>,
    b: impl Into<View<'b, B>>,
) -> Result<FpFlags> {
    let (indices, b): (View<'_, I>, View<'_, B>) = (indices.into(), b.into());
    in_place(Ufunc::Binary(op), a, indices.as_array(), Some(b.as_array()))
}

/// `np.<op>.at(a, indices)` of a unary ufunc on the caller's 1-d array
/// `a` itself (the typed form of [`unary_at`]).
///
/// ```
/// use fnp_core::{unary_at_in_place, UnaryOp};
/// // np.negative.at(a, [0, 0, 1]): index 0 negated twice.
/// let mut a = [1.0f64, 2.0, 3.0];
/// unary_at_in_place(UnaryOp::Negative, &mut a, &[0i64, 0, 1])?;
/// assert_eq!(a, [1.0, -2.0, 3.0]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn unary_at_in_place<'i, T: Element, I: Element>(
    op: UnaryOp,
    a: &mut [T],
    indices: impl Into<View<'i, I>>,
) -> Result<FpFlags> {
    let indices: View<'_, I> = indices.into();
    in_place(Ufunc::Unary(op), a, indices.as_array(), None)
}

fn in_place<T: Element>(
    u: Ufunc,
    a: &mut [T],
    indices: ArrayRef<'_>,
    b: Option<ArrayRef<'_>>,
) -> Result<FpFlags> {
    let plan = plan_parts(u, (T::DTYPE, Shape::vector(a.len())), indices, b)?;
    let out = bytemuck::try_cast_slice_mut(a).map_err(|_| Error::Misaligned)?;
    crate::typed::logged(u.at_name(), apply(u, &plan, out))
}

impl Ufunc {
    const fn at_name(self) -> &'static str {
        match self {
            Ufunc::Unary(u) => u.at_name(),
            Ufunc::Binary(b) => b.method_name(crate::Method::At),
        }
    }
}

fn run(u: Ufunc, inputs: &[ArrayRef<'_>], out: &mut [u8]) -> Result<Output> {
    let plan = plan(u, inputs)?;
    let size = plan.dtype.itemsize();
    let needed = plan
        .shape
        .size()
        .checked_mul(size)
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    // Start from a copy of `a`, C-contiguous.
    if let Some(a) = inputs.first() {
        copy_c_order(a, out);
    }
    let flags = apply(u, &plan, out)?;
    Ok(Output::new(plan.dtype, plan.shape, flags))
}

/// Runs a checked call on `out`, `a`'s elements in C order.
fn apply(u: Ufunc, plan: &Plan<'_>, out: &mut [u8]) -> Result<FpFlags> {
    match (u, &plan.b) {
        // The typed path costs flash for every dtype: not in `small`.
        (Ufunc::Binary(op), Some(b)) if !crate::SMALL && same_dtype_loop(op, plan.dtype, b) => {
            crate::element::with_dtype!(plan.dtype, T => match arith_kernel::<T>(op) {
                Some(kernel) => fast::<T>(op, kernel, plan, b, out),
                None => general(u, plan, out),
            })
        }
        _ => general(u, plan, out),
    }
}

fn plan<'a>(u: Ufunc, inputs: &[ArrayRef<'a>]) -> Result<Plan<'a>> {
    // "second operand needed for ufunc" / "second operand provided when
    // ufunc is unary" (ValueError).
    let (a, indices, b) = match (u, inputs) {
        (Ufunc::Binary(_), [a, i, b]) => (a, i, Some(*b)),
        (Ufunc::Unary(_), [a, i]) => (a, i, None),
        _ => return Err(Error::InvalidArgument),
    };
    plan_parts(u, (a.dtype(), *a.shape()), *indices, b)
}

/// [`plan`] with `a` as its dtype and shape.
fn plan_parts<'a>(
    u: Ufunc,
    (dtype, shape): (DType, Shape),
    indices: ArrayRef<'a>,
    b: Option<ArrayRef<'a>>,
) -> Result<Plan<'a>> {
    let a_type = OperandType::Array(dtype);
    // Type resolution first (TypeError); a float16 loop waits for every
    // other error.
    let result = match (u, &b) {
        (Ufunc::Binary(op), Some(b)) => {
            let strong = strong(b)?;
            op.resolve(a_type, strong.operand_type())
        }
        (Ufunc::Unary(op), _) => op.resolve(a_type),
        _ => Err(Error::InvalidArgument),
    };
    if let Err(e) = result {
        if e != Error::Float16 {
            return Err(e);
        }
    }
    // Then the indices (IndexError).
    let rows = *shape.dims().first().ok_or(Error::IndexOutOfBounds)?;
    match indices.dtype() {
        DType::Bool => return Err(Error::Unsupported),
        d if d.is_float() => return Err(Error::IndexOutOfBounds),
        _ => {}
    }
    let mut bad = false;
    for_each_index(&indices, &mut |i| bad |= resolve_index(i, rows).is_none());
    if bad {
        return Err(Error::IndexOutOfBounds);
    }
    // Then `b` against the indexed shape (ValueError).
    let mut indexed = *indices.shape();
    for &d in shape.dims().get(1..).unwrap_or(&[]) {
        indexed.push(d)?;
    }
    let b = match b {
        Some(b) => {
            let strong = strong(&b)?;
            Some(strong.with_layout(strong.layout().broadcast_to(&indexed)?)?)
        }
        None => None,
    };
    let row = Layout::c_contiguous(Shape::new(shape.dims().get(1..).unwrap_or(&[]))?);
    result?;
    Ok(Plan {
        dtype,
        shape,
        indices,
        b,
        indexed,
        row,
    })
}

/// NumPy turns `at`'s `b` into an array: a Python scalar is not weak there
/// (`np.add.at(uint8, [0], 1000)` wraps to 232).
fn strong<'a>(b: &ArrayRef<'a>) -> Result<ArrayRef<'a>> {
    if b.is_weak() {
        ArrayRef::new(b.dtype(), b.bytes(), *b.layout())
    } else {
        Ok(*b)
    }
}

/// Whether `a`, `b`, the loop and the result share one dtype and the op's
/// loop is an elementwise kernel of it: the typed path.
fn same_dtype_loop(op: BinaryOp, d: DType, b: &ArrayRef<'_>) -> bool {
    let a = OperandType::Array(d);
    b.dtype() == d
        && matches!(op.family(), BinaryFamily::Arith)
        && op.loop_dtype(a, b.operand_type()) == Ok(d)
        && op.resolve(a, b.operand_type()) == Ok(d)
}

/// Index `i` on an axis of `rows` elements, negative from the end.
fn resolve_index(i: i128, rows: usize) -> Option<usize> {
    let rows = rows as i128;
    let i = if i < 0 { i + rows } else { i };
    (0..rows).contains(&i).then_some(i as usize)
}

/// Calls `f` with every index of `indices` in C order, widened so that
/// uint64 and int64 both fit.
fn for_each_index(indices: &ArrayRef<'_>, f: &mut dyn FnMut(i128)) {
    let unsigned = indices.dtype() == DType::UInt64;
    if let ([n], [stride]) = (indices.shape().dims(), indices.layout().strides()) {
        // 1-d: a chunk of indices per load.
        let (n, stride) = (*n, *stride);
        let mut buf = [0i64; CHUNK];
        let mut k = 0usize;
        while k < n {
            let len = CHUNK.min(n - k);
            let chunk = first_mut(&mut buf, len);
            let at = (indices.layout().offset() as isize)
                .wrapping_add((k as isize).wrapping_mul(stride));
            if unsigned {
                let mut wide = [0u64; CHUNK];
                let wide = first_mut(&mut wide, len);
                indices.load(at as usize, stride, wide);
                wide.iter().for_each(|&i| f(i128::from(i)));
            } else {
                indices.load(at as usize, stride, chunk);
                chunk.iter().for_each(|&i| f(i128::from(i)));
            }
            k += len;
        }
        return;
    }
    for_each_position(indices.layout(), &mut |at| {
        let i = if unsigned {
            let mut one = [0u64];
            indices.load(at, 0, &mut one);
            i128::from(one[0])
        } else {
            let mut one = [0i64];
            indices.load(at, 0, &mut one);
            i128::from(one[0])
        };
        f(i);
    });
}

/// Calls `f` with the element index of every position of `layout`, in C
/// order.
fn for_each_position(layout: &Layout, f: &mut dyn FnMut(usize)) {
    let dims = layout.shape().dims();
    if dims.contains(&0) {
        return;
    }
    let mut idx = [0usize; MAX_NDIM];
    let idx = idx.get_mut(..dims.len()).unwrap_or(&mut []);
    loop {
        f(layout.element_index(idx));
        let mut carry = true;
        for (i, &d) in idx.iter_mut().zip(dims).rev() {
            *i += 1;
            if *i < d {
                carry = false;
                break;
            }
            *i = 0;
        }
        if carry {
            return;
        }
    }
}

/// `src` into the start of `dst` (as many bytes as both have).
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// `a`'s element bytes in C order into `out`.
fn copy_c_order(a: &ArrayRef<'_>, out: &mut [u8]) {
    let size = a.dtype().itemsize();
    let src = a.bytes();
    let mut chunks = out.chunks_exact_mut(size);
    for_each_position(a.layout(), &mut |at| {
        let from = at.saturating_mul(size);
        if let (Some(dst), Some(s)) = (chunks.next(), src.get(from..from.saturating_add(size))) {
            copy(dst, s);
        }
    });
}

/// Every (row of `a`, element of `b`) pair in NumPy's order: for each
/// index in C order, the row's elements in C order. `f` gets the element
/// index into the C-contiguous `a` and the one into `b`'s data.
fn for_each_target(plan: &Plan<'_>, f: &mut dyn FnMut(usize, usize) -> Result<()>) -> Result<()> {
    let row_len = plan.row.size();
    let rows = plan.shape.dims().first().copied().unwrap_or(0);
    let k = plan.indices.shape().ndim();
    let b_layout = plan.b.as_ref().map(|b| *b.layout());
    let mut result = Ok(());
    let mut pos = [0usize; MAX_NDIM];
    let mut count = 0usize;
    let odometer = |dims: &[usize], pos: &mut [usize]| {
        for (i, &d) in pos.iter_mut().zip(dims).rev() {
            *i += 1;
            if *i < d {
                return;
            }
            *i = 0;
        }
    };
    for_each_index(&plan.indices, &mut |i| {
        if result.is_err() {
            return;
        }
        let Some(r) = resolve_index(i, rows) else {
            result = Err(Error::IndexOutOfBounds);
            return;
        };
        // The head of `b`'s multi-index is this index's position; its
        // tail walks the row.
        let head = count;
        count += 1;
        let dims = plan.indexed.dims();
        let mut rem = head;
        for (slot, &d) in pos.iter_mut().zip(dims).take(k).rev() {
            *slot = rem % d.max(1);
            rem /= d.max(1);
        }
        for slot in pos.iter_mut().skip(k) {
            *slot = 0;
        }
        for j in 0..row_len {
            let b_at = b_layout
                .as_ref()
                .map_or(0, |l| l.element_index(pos.get(..dims.len()).unwrap_or(&[])));
            if let Err(e) = f(r.wrapping_mul(row_len).wrapping_add(j), b_at) {
                result = Err(e);
                return;
            }
            odometer(
                dims.get(k..).unwrap_or(&[]),
                pos.get_mut(k..dims.len()).unwrap_or(&mut []),
            );
        }
    });
    result
}

/// Any ufunc, dtypes and casts: each element through the ufunc's own
/// entry point on 0-d operands, then cast back to `a`'s dtype.
fn general(u: Ufunc, plan: &Plan<'_>, out: &mut [u8]) -> Result<FpFlags> {
    let a_dtype = plan.dtype;
    let size = a_dtype.itemsize();
    let mut flags = FpFlags::NONE;
    for_each_target(plan, &mut |at, b_at| {
        let range = at.saturating_mul(size)..at.saturating_add(1).saturating_mul(size);
        let mut cur = [0u64];
        let cur_bytes = bytemuck::bytes_of_mut(&mut cur);
        copy(
            cur_bytes,
            out.get(range.clone()).ok_or(Error::LayoutMismatch)?,
        );
        let x = ArrayRef::contiguous(a_dtype, cur_bytes.get(..size).unwrap_or(&[]), Shape::SCALAR)?;
        let mut res = [0u64];
        let res_bytes = bytemuck::bytes_of_mut(&mut res);
        let (r, binary) = match (u, &plan.b) {
            (Ufunc::Binary(op), Some(b)) => {
                let y = b.with_layout(Layout::strided(Shape::SCALAR, &[], b_at)?)?;
                (super::binary(op, &x, &y, res_bytes)?, Some((op, y)))
            }
            (Ufunc::Unary(op), _) => (super::unary(op, &x, res_bytes)?, None),
            _ => return Err(Error::InvalidArgument),
        };
        flags |= r.flags;
        if let Some((op, y)) = binary {
            let nan = |v: &ArrayRef<'_>| v.first::<f64>().is_nan();
            let same = a_dtype == r.dtype && y.dtype() == r.dtype;
            if same
                && indexed_loop(plan)
                && compares_signalling(op, r.dtype)
                && (nan(&x) || nan(&y))
            {
                flags |= FpFlags::INVALID;
            }
        }
        let rv = ArrayRef::contiguous(
            r.dtype,
            res_bytes.get(..r.dtype.itemsize()).unwrap_or(&[]),
            Shape::SCALAR,
        )?;
        if r.dtype == DType::Float64 && a_dtype == DType::Float32 {
            flags |= crate::num::f64_to_f32_flags(rv.first::<f64>());
        }
        let dst = out.get_mut(range).ok_or(Error::LayoutMismatch)?;
        crate::element::with_dtype!(a_dtype, T => {
            let v: T = rv.first();
            copy(dst, bytemuck::bytes_of(&v));
        });
        Ok(())
    })?;
    Ok(flags)
}

/// NumPy's `at` runs maximum and minimum through their indexed loops,
/// whose scalar `>=`/`<=` raise `invalid` on a NaN (the ufunc call's SIMD
/// loops do not).
fn compares_signalling(op: BinaryOp, loop_dtype: DType) -> bool {
    matches!(op, BinaryOp::Maximum | BinaryOp::Minimum) && loop_dtype.is_float()
}

/// Whether NumPy takes its indexed-loop path (measured, NumPy 2.4): a 1-d
/// `a` and 1-d indices, with `a`, `b` and the loop of one dtype (checked
/// by the caller); otherwise it runs the ufunc's strided loop.
fn indexed_loop(plan: &Plan<'_>) -> bool {
    plan.shape.ndim() == 1 && plan.indices.shape().ndim() == 1
}

/// `a`, `b`, loop and result all `T` (`np.add.at(hist, idx, ones)`): the
/// op's kernel one element at a time on the output itself.
fn fast<T: crate::num::Num>(
    op: BinaryOp,
    kernel: Kernel<T>,
    plan: &Plan<'_>,
    b: &ArrayRef<'_>,
    out: &mut [u8],
) -> Result<FpFlags> {
    let out: &mut [T] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    let mut flags = FpFlags::NONE;
    let signalling = compares_signalling(op, T::DTYPE) && indexed_loop(plan);
    if indexed_loop(plan) {
        // 1-d `a` and indices (a histogram): indices and values a chunk at
        // a time, each step straight on the output.
        let (indices, rows) = (&plan.indices, out.len() as i64);
        let along = |l: &Layout| {
            (
                l.offset() as isize,
                l.strides().first().copied().unwrap_or(0),
            )
        };
        let ((i0, is), (b0, bs)) = (along(indices.layout()), along(b.layout()));
        let mut idx = [0i64; CHUNK];
        let mut xs = [T::default(); CHUNK];
        let count = indices.shape().size();
        let plain_add = op == BinaryOp::Add && T::DTYPE != DType::Bool;
        let mut k = 0usize;
        while k < count {
            let n = CHUNK.min(count - k);
            let (idx, xs) = (first_mut(&mut idx, n), first_mut(&mut xs, n));
            let at = |base: isize, stride: isize| {
                base.wrapping_add((k as isize).wrapping_mul(stride)) as usize
            };
            // The plan checked every index (uint64 ones fit int64).
            indices.load(at(i0, is), is, idx);
            b.load(at(b0, bs), bs, xs);
            for (&i, &x) in idx.iter().zip(xs.iter()) {
                let r = if i < 0 { i.wrapping_add(rows) } else { i };
                let o = out.get_mut(r as usize).ok_or(Error::IndexOutOfBounds)?;
                if plain_add {
                    // add's kernel, one element: IEEE or wrapping add.
                    let sum = o.add(x);
                    flags |= T::add_flags(*o, x, sum);
                    *o = sum;
                    continue;
                }
                let mut res = [T::default()];
                flags |= kernel(&[*o], &[x], &mut res)?;
                if signalling && (o.is_nan() || x.is_nan()) {
                    flags |= FpFlags::INVALID;
                }
                *o = res[0];
            }
            k += n;
        }
        return Ok(flags);
    }
    for_each_target(plan, &mut |at, b_at| {
        let acc = [*out.get(at).ok_or(Error::LayoutMismatch)?];
        let mut x = [T::default()];
        b.load(b_at, 0, &mut x);
        let mut r = [T::default()];
        flags |= kernel(&acc, &x, &mut r)?;
        if signalling && (acc[0].is_nan() || x[0].is_nan()) {
            flags |= FpFlags::INVALID;
        }
        if let Some(o) = out.get_mut(at) {
            *o = r[0];
        }
        Ok(())
    })?;
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::element::Element;

    fn arr<'a, T: Element>(v: &'a [T], dims: &[usize]) -> ArrayRef<'a> {
        ArrayRef::from_slice(v, Layout::c_contiguous(Shape::new(dims).unwrap())).unwrap()
    }

    fn bin<T: Element + Default + Copy>(
        op: BinaryOp,
        inputs: &[ArrayRef<'_>],
    ) -> Result<(std::vec::Vec<T>, FpFlags)> {
        let (d, s) = binary_at_output(op, inputs)?;
        assert_eq!(d, T::DTYPE);
        let mut out = std::vec![T::default(); s.size()];
        let r = binary_at(op, inputs, bytemuck::cast_slice_mut(&mut out))?;
        Ok((out, r.flags))
    }

    fn un<T: Element + Default + Copy>(
        op: UnaryOp,
        inputs: &[ArrayRef<'_>],
    ) -> Result<std::vec::Vec<T>> {
        let (_, s) = unary_at_output(op, inputs)?;
        let mut out = std::vec![T::default(); s.size()];
        unary_at(op, inputs, bytemuck::cast_slice_mut(&mut out))?;
        Ok(out)
    }

    // Expected values are NumPy 2.4.6's.
    #[test]
    fn repeated_indices_accumulate_and_cast_back_unsafely() {
        let a = [0i8; 3];
        let (i, b) = ([0i64, 0], [100i64, 100]);
        let got = bin::<i8>(
            BinaryOp::Add,
            &[arr(&a, &[3]), arr(&i, &[2]), arr(&b, &[2])],
        );
        assert_eq!(got.unwrap().0, [-56, 0, 0]);
        // int8 + float64 computes in float64 and truncates back.
        let f = [1.7f64];
        let got = bin::<i8>(
            BinaryOp::Add,
            &[arr(&a, &[3]), arr(&i[..1], &[1]), arr(&f, &[1])],
        );
        assert_eq!(got.unwrap().0, [1, 0, 0]);
        // uint8 + int64 1000 wraps; a Python int is not weak here.
        let u = [0u8; 3];
        let k = ArrayRef::python_scalar(DType::Int64, bytemuck::bytes_of(&1000i64)).unwrap();
        let got = bin::<u8>(BinaryOp::Add, &[arr(&u, &[3]), arr(&i[..1], &[1]), k]);
        assert_eq!(got.unwrap().0, [232, 0, 0]);
        // float64 into float32 overflows.
        let z = [0f32; 3];
        let big = [1e300f64];
        let (v, flags) = bin::<f32>(
            BinaryOp::Add,
            &[arr(&z, &[3]), arr(&i[..1], &[1]), arr(&big, &[1])],
        )
        .unwrap();
        assert_eq!((v[0], flags), (f32::INFINITY, FpFlags::OVERFLOW));
    }

    #[test]
    fn indices_wrap_and_rows_broadcast() {
        let a = [0.0, 1.0, 2.0];
        let (i, one) = ([0i64, -1, -3], [1.0f64]);
        let got = bin::<f64>(
            BinaryOp::Add,
            &[arr(&a, &[3]), arr(&i, &[3]), arr(&one, &[])],
        );
        assert_eq!(got.unwrap().0, [2.0, 1.0, 3.0]);
        let m: std::vec::Vec<f64> = (0..6).map(f64::from).collect();
        let row = [1.0, 2.0, 3.0];
        let twice = [1i64, 1];
        let got = bin::<f64>(
            BinaryOp::Add,
            &[arr(&m, &[2, 3]), arr(&twice, &[2]), arr(&row, &[3])],
        );
        assert_eq!(got.unwrap().0, [0.0, 1.0, 2.0, 5.0, 8.0, 11.0]);
        // 2-d indices: b broadcasts to (2, 1, 3).
        let cols = [1i64, 0];
        let got = bin::<f64>(
            BinaryOp::Add,
            &[arr(&m, &[2, 3]), arr(&cols, &[2, 1]), arr(&row, &[3])],
        );
        assert_eq!(got.unwrap().0, [1.0, 3.0, 5.0, 4.0, 6.0, 8.0]);
        // ldexp: b is the exponent.
        let ones = [1.0f64; 3];
        let two = [2i64];
        let got = bin::<f64>(
            BinaryOp::Ldexp,
            &[arr(&ones, &[3]), arr(&twice[..1], &[1]), arr(&two, &[1])],
        );
        assert_eq!(got.unwrap().0, [1.0, 4.0, 1.0]);
        // 0/0 flags invalid.
        let zeros = [0.0f64; 3];
        let zero = [0.0f64];
        let (v, flags) = bin::<f64>(
            BinaryOp::TrueDivide,
            &[arr(&zeros, &[3]), arr(&twice, &[2]), arr(&zero, &[1])],
        )
        .unwrap();
        assert!(v[1].is_nan() && v[0] == 0.0);
        assert_eq!(flags, FpFlags::INVALID);
    }

    /// NumPy's indexed loop for maximum/minimum raises `invalid` on a NaN;
    /// its strided loop (2-d `a`, or `b` of another dtype) does not.
    #[test]
    fn maximum_flags_follow_numpys_loop() {
        let one = [1i64];
        let nan = [f64::NAN, 1.0];
        let b = [1.0f64];
        let flags = |a: ArrayRef<'_>, b: ArrayRef<'_>| {
            let (_, s) = binary_at_output(BinaryOp::Maximum, &[a, arr(&one[..], &[1]), b]).unwrap();
            let mut out = std::vec![0u64; s.size()];
            binary_at(
                BinaryOp::Maximum,
                &[a, arr(&one[..], &[1]), b],
                bytemuck::cast_slice_mut(&mut out),
            )
            .unwrap()
            .flags
        };
        let idx0 = [0i64];
        let at0 = |a: ArrayRef<'_>, b: ArrayRef<'_>| {
            let mut out = std::vec![0u64; 2];
            binary_at(
                BinaryOp::Maximum,
                &[a, arr(&idx0[..], &[1]), b],
                bytemuck::cast_slice_mut(&mut out),
            )
            .unwrap()
            .flags
        };
        assert_eq!(at0(arr(&nan, &[2]), arr(&b, &[1])), FpFlags::INVALID);
        assert_eq!(at0(arr(&nan, &[1, 2]), arr(&b, &[1])), FpFlags::NONE);
        let b32 = [1.0f32];
        assert_eq!(at0(arr(&nan, &[2]), arr(&b32, &[1])), FpFlags::NONE);
        // No NaN, no flag.
        assert_eq!(flags(arr(&nan, &[2]), arr(&b, &[1])), FpFlags::NONE);
    }

    /// In place: an error leaves the caller's array untouched.
    #[test]
    fn in_place_errors_lose_nothing() {
        let mut a = [1.0f64, 2.0, 3.0];
        assert_eq!(
            binary_at_in_place(BinaryOp::Add, &mut a, &[0i64, 3], 1.0f64),
            Err(Error::IndexOutOfBounds)
        );
        assert_eq!(
            binary_at_in_place(BinaryOp::Add, &mut a, &[0i64, 1], &[1.0f64, 2.0, 3.0]),
            Err(Error::BroadcastMismatch)
        );
        assert_eq!(
            binary_at_in_place(BinaryOp::BitwiseAnd, &mut a, &[0i64], 1.0f64),
            Err(Error::NoLoop)
        );
        assert_eq!(a, [1.0, 2.0, 3.0]);
        let mut small = [0i8; 2];
        assert_eq!(
            unary_at_in_place(UnaryOp::Sqrt, &mut small, &[0i64]),
            Err(Error::Float16)
        );
        // uint64 indices beyond int64 are out of bounds, not wrapped.
        assert_eq!(
            unary_at_in_place(UnaryOp::Negative, &mut a, &[u64::MAX]),
            Err(Error::IndexOutOfBounds)
        );
        assert_eq!(
            binary_at_in_place(BinaryOp::Maximum, &mut a, &[2u64, 2], &[f64::NAN, 0.0]),
            Ok(FpFlags::INVALID)
        );
        assert!(a[2].is_nan());
    }

    #[test]
    fn unary_ufuncs() {
        let a = [0.0, 1.0, 2.0];
        let i = [0i64, 0, 1];
        // negative twice is the identity.
        assert_eq!(
            un::<f64>(UnaryOp::Negative, &[arr(&a, &[3]), arr(&i, &[3])]).unwrap(),
            [0.0, -1.0, 2.0]
        );
        // sqrt of int32 computes in float64 and truncates back.
        let n = [0i32, 1, 2];
        let j = [1i64, 2];
        assert_eq!(
            un::<i32>(UnaryOp::Sqrt, &[arr(&n, &[3]), arr(&j, &[2])]).unwrap(),
            [0, 1, 1]
        );
        let b = [false; 3].map(crate::element::Bool::from);
        assert_eq!(
            un::<crate::element::Bool>(UnaryOp::LogicalNot, &[arr(&b, &[3]), arr(&i, &[3])])
                .unwrap(),
            [false, true, false].map(crate::element::Bool::from)
        );
    }

    #[test]
    fn errors_in_numpy_order() {
        let a = [0.0f64; 3];
        let (ok, oob) = ([0i64], [7i64]);
        let five = [1.0f64; 5];
        // Missing or extra operand: ValueError.
        assert_eq!(
            binary_at_output(BinaryOp::Add, &[arr(&a, &[3]), arr(&ok, &[1])]),
            Err(Error::InvalidArgument)
        );
        let one = [1.0f64];
        assert_eq!(
            unary_at_output(
                UnaryOp::Negative,
                &[arr(&a, &[3]), arr(&ok, &[1]), arr(&one, &[1])]
            ),
            Err(Error::InvalidArgument)
        );
        // TypeError before IndexError before ValueError.
        assert_eq!(
            binary_at_output(
                BinaryOp::BitwiseAnd,
                &[arr(&a, &[3]), arr(&oob, &[1]), arr(&five, &[5])]
            ),
            Err(Error::NoLoop)
        );
        assert_eq!(
            binary_at_output(
                BinaryOp::Add,
                &[arr(&a, &[3]), arr(&oob, &[1]), arr(&five, &[5])]
            ),
            Err(Error::IndexOutOfBounds)
        );
        let fidx = [0.0f64];
        assert_eq!(
            binary_at_output(
                BinaryOp::Add,
                &[arr(&a, &[3]), arr(&fidx, &[1]), arr(&five, &[5])]
            ),
            Err(Error::IndexOutOfBounds)
        );
        assert_eq!(
            binary_at_output(
                BinaryOp::Add,
                &[arr(&a, &[3]), arr(&ok, &[1]), arr(&five, &[5])]
            ),
            Err(Error::BroadcastMismatch)
        );
        // A 0-d array has no axis to index.
        let s = [5.0f64];
        assert_eq!(
            binary_at_output(
                BinaryOp::Add,
                &[arr(&s, &[]), arr(&ok, &[1]), arr(&one, &[1])]
            ),
            Err(Error::IndexOutOfBounds)
        );
        // float16 (sqrt of int8) yields to the IndexError.
        let i8s = [0i8; 3];
        assert_eq!(
            unary_at_output(UnaryOp::Sqrt, &[arr(&i8s, &[3]), arr(&oob, &[1])]),
            Err(Error::IndexOutOfBounds)
        );
        assert_eq!(
            unary_at_output(UnaryOp::Sqrt, &[arr(&i8s, &[3]), arr(&ok, &[1])]),
            Err(Error::Float16)
        );
        // An empty index list leaves `a` as it was.
        let none: [i64; 0] = [];
        assert_eq!(
            bin::<f64>(
                BinaryOp::Add,
                &[arr(&a, &[3]), arr(&none, &[0]), arr(&one, &[1])]
            )
            .unwrap()
            .0,
            a
        );
    }
}
