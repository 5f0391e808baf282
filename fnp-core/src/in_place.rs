//! Ufunc calls whose output is an input (`np.add(a, b, out=a)`,
//! `np.negative(x, out=x)`), for the typed API: the buffer a firmware
//! already has is updated, no second buffer needed.
//!
//! Rust does not let one slice be read as an input and written as the
//! output at once, so the call goes a short stretch of the last axis at a
//! time: the stretch is copied to the stack, and the op reads the copy
//! and writes the stretch. An elementwise op reads each element before it
//! writes it, so this is NumPy's answer for the array shared in both
//! places. Stack: two [`STRETCH`]-element buffers and a scratch of three
//! words per element (a cast or a `where=` mask).

use crate::array::ArrayRef;
use crate::element::{Bool, Element};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::op::{call, Op};
use crate::output::Output;
use crate::reduce::{OutArray, ReduceParams};
use crate::shape::{Layout, OuterIndex, Shape};
use crate::table::{BinaryOp, UnaryOp};
use crate::view::View;

/// Elements per stretch of the last axis.
const STRETCH: usize = if cfg!(target_os = "none") { 16 } else { 64 };

/// `np.<op>(a, b, out=a, where=mask)`: `a` (of `shape`, C order) takes
/// the result, cast to `T` under NumPy's default `casting="same_kind"`;
/// `b` and the mask broadcast to `shape` (`a` itself is never broadcast);
/// where the mask is false `a` keeps its value and the op does not run.
///
/// Errors: NumPy's ([`Error::NoLoop`], [`Error::Casting`] when the result
/// does not cast to `T`, [`Error::BroadcastMismatch`] when `b` or the mask
/// would enlarge `a`), [`Error::BufferTooSmall`] when `a` is shorter than
/// `shape`; these leave `a` untouched. An error only some values raise
/// (an integer `power` with a negative exponent) stops the call at the
/// stretch that holds it, with the stretches before it done, as NumPy's
/// own loop leaves its output.
///
/// ```
/// use fnp_core::{binary_in_place, BinaryOp, Bool, View};
///
/// // A running calibration, in the samples' own buffer:
/// // np.multiply(samples, gains, out=samples) over 2 channels.
/// let mut samples = [1.0f32, 10.0, 2.0, 20.0];
/// let gains = [2.0f32, 0.5];
/// binary_in_place(BinaryOp::Multiply, &mut samples, &[2, 2], &gains, None)?;
/// assert_eq!(samples, [2.0, 5.0, 4.0, 10.0]);
/// // np.add(counts, 1, out=counts, where=hit)
/// let mut counts = [0u16, 5, 7];
/// let hit = [Bool::TRUE, Bool::FALSE, Bool::TRUE];
/// binary_in_place(BinaryOp::Add, &mut counts, &[3], &[1u16], Some(View::from(&hit)))?;
/// assert_eq!(counts, [1, 5, 8]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn binary_in_place<'b, T: Element, B: Element>(
    op: BinaryOp,
    a: &mut [T],
    shape: &[usize],
    b: impl Into<View<'b, B>>,
    mask: Option<View<'_, Bool>>,
) -> Result<Output> {
    let b: View<'_, B> = b.into();
    let b = b.as_array();
    crate::typed::logged(
        op.name(),
        in_place(Op::Binary(op), a, shape, Some(&b), mask.as_ref()),
    )
}

/// `np.<op>(x, out=x, where=mask)`: `x` (of `shape`) takes the result,
/// cast to `T` under `casting="same_kind"`; where the mask is false it
/// keeps its value. Errors as [`binary_in_place`]; `sqrt` of an integer
/// array is [`Error::Casting`] (its float result does not cast back).
///
/// ```
/// use fnp_core::{unary_in_place, UnaryOp};
/// // np.negative(x, out=x); np.sqrt(y, out=y)
/// let mut x = [1i16, -2, 3];
/// unary_in_place(UnaryOp::Negative, &mut x, &[3], None)?;
/// assert_eq!(x, [-1, 2, -3]);
/// let mut y = [4.0f64, 9.0];
/// unary_in_place(UnaryOp::Sqrt, &mut y, &[2], None)?;
/// assert_eq!(y, [2.0, 3.0]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn unary_in_place<T: Element>(
    op: UnaryOp,
    x: &mut [T],
    shape: &[usize],
    mask: Option<View<'_, Bool>>,
) -> Result<Output> {
    crate::typed::logged(
        op.name(),
        in_place(Op::Unary(op), x, shape, None, mask.as_ref()),
    )
}

fn in_place<T: Element>(
    op: Op,
    a: &mut [T],
    dims: &[usize],
    b: Option<&ArrayRef<'_>>,
    mask: Option<&View<'_, Bool>>,
) -> Result<Output> {
    let shape = Shape::new(dims)?;
    let n = shape.size();
    let a = a.get_mut(..n).ok_or_else(|| Error::short_output::<T>(n))?;
    let b = b.map(|b| broadcast(b, &shape)).transpose()?;
    let mask = mask.map(View::as_array);
    let mask = mask.as_ref().map(|m| broadcast(m, &shape)).transpose()?;
    let last = dims.last().copied().unwrap_or(1);
    let axis = shape.ndim().saturating_sub(1);
    let mut flags = FpFlags::NONE;
    let mut copy = [T::default(); STRETCH];
    let mut scratch = [0u64; 3 * STRETCH];
    let mut rows = OuterIndex::new(&shape);
    let mut row_start = 0usize;
    while let Some(mut idx) = rows.next_index() {
        let mut j = 0usize;
        while j < last {
            let len = (last - j).min(STRETCH);
            if let Some(slot) = idx.get_mut(axis) {
                *slot = j;
            }
            let at = row_start + j;
            let here = a.get_mut(at..at + len).ok_or(Error::LayoutMismatch)?;
            let held = copy.get_mut(..len).ok_or(Error::LayoutMismatch)?;
            crate::array::copy_into(held, here);
            let stretch = Shape::vector(len);
            // The other operand and the mask along the same stretch.
            let index = idx.get(..shape.ndim()).unwrap_or(&[]);
            let part = |x| part_of(x, index, axis, len);
            let x = ArrayRef::from_slice(&*held, Layout::c_contiguous(stretch))?;
            let params = ReduceParams {
                where_mask: mask.as_ref().map(part).transpose()?,
                out: [
                    Some(OutArray {
                        dtype: T::DTYPE,
                        shape: stretch,
                    }),
                    None,
                ],
                ..ReduceParams::default()
            };
            let out: &mut [u8] =
                bytemuck::try_cast_slice_mut(here).map_err(|_| Error::Misaligned)?;
            let r = match &b {
                Some(b) => call(op, &[x, part(b)?], &params, out, &mut scratch)?,
                None => call(op, &[x], &params, out, &mut scratch)?,
            };
            flags |= r.flags;
            j += len;
        }
        row_start += last;
    }
    Ok(Output::new(T::DTYPE, shape, flags))
}

/// `x` broadcast to `shape`.
fn broadcast<'x>(x: &ArrayRef<'x>, shape: &Shape) -> Result<ArrayRef<'x>> {
    x.with_layout(x.layout().broadcast_to(shape)?)
}

/// The `len` elements of `x` from multi-index `index` along `axis`.
fn part_of<'x>(x: &ArrayRef<'x>, index: &[usize], axis: usize, len: usize) -> Result<ArrayRef<'x>> {
    let start = x.layout().element_index(index);
    let step = x.layout().strides().get(axis).copied().unwrap_or(0);
    x.with_layout(Layout::strided(Shape::vector(len), &[step], start)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn in_place_matches_out_of_place() {
        // np.subtract(a, b, out=a) for a 3x70 int32 matrix and a row b:
        // stretches across the 64-element boundary, rows broadcast.
        let mut a: std::vec::Vec<i32> = (0..210).collect();
        let b: std::vec::Vec<i32> = (0..70).map(|v| v * 3).collect();
        let mut expected = [0i32; 210];
        crate::subtract(View::new(&a, &[3, 70]).unwrap(), &b[..], &mut expected).unwrap();
        let o = binary_in_place(BinaryOp::Subtract, &mut a, &[3, 70], &b[..], None).unwrap();
        assert_eq!(a, expected);
        assert_eq!((o.dtype, o.shape.dims()), (DType::Int32, &[3, 70][..]));
        // float64 into float32 in place casts (same_kind), with its flags.
        let mut f = [1.0f32, f32::MAX];
        let o = binary_in_place(BinaryOp::Multiply, &mut f, &[2], &[2.0f64], None).unwrap();
        assert_eq!(f, [2.0, f32::INFINITY]);
        assert_eq!(o.flags, FpFlags::OVERFLOW);
        // int8 += float: not same_kind, and `a` is left as it was.
        let mut i = [1i8, 2];
        assert_eq!(
            binary_in_place(BinaryOp::Add, &mut i, &[2], &[0.5f64], None),
            Err(Error::Casting)
        );
        assert_eq!(i, [1, 2]);
        // b may not enlarge a; a short a is an error naming the output.
        let mut row = [1.0f64, 2.0];
        assert_eq!(
            binary_in_place(
                BinaryOp::Add,
                &mut row,
                &[2],
                View::new(&[1.0f64; 4], &[2, 2]).unwrap(),
                None
            ),
            Err(Error::BroadcastMismatch)
        );
        assert!(matches!(
            binary_in_place(BinaryOp::Add, &mut row, &[3], &[1.0f64], None),
            Err(Error::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn where_keeps_and_does_not_flag() {
        // np.divide(x, d, out=x, where=d != 0): the zero divisor neither
        // changes x nor raises divide.
        let mut x = [1.0f64, 2.0, 3.0];
        let d = [2.0f64, 0.0, 4.0];
        let nonzero = [Bool::TRUE, Bool::FALSE, Bool::TRUE];
        let o = binary_in_place(
            BinaryOp::TrueDivide,
            &mut x,
            &[3],
            &d,
            Some(View::from(&nonzero)),
        )
        .unwrap();
        assert_eq!(x, [0.5, 2.0, 0.75]);
        assert_eq!(o.flags, FpFlags::NONE);
        let mut y = [-1.0f32, 4.0];
        unary_in_place(
            UnaryOp::Sqrt,
            &mut y,
            &[2],
            Some(View::from(&[Bool::FALSE, Bool::TRUE])),
        )
        .unwrap();
        assert_eq!(y, [-1.0, 2.0]);
        let mut z = [4i32];
        assert_eq!(
            unary_in_place(UnaryOp::Sqrt, &mut z, &[1], None),
            Err(Error::Casting)
        );
        // A 0-d array.
        let mut s = [3u8];
        unary_in_place(UnaryOp::Square, &mut s, &[], None).unwrap();
        assert_eq!(s, [9]);
    }
}
