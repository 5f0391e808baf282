//! The ufuncs with two outputs: `divmod`, `modf`, `frexp`.
//!
//! Both outputs have the inputs' broadcast shape. The byte entry writes
//! them into one buffer, the first output's C-contiguous bytes followed by
//! the second's, so the type-erased [`crate::call`] and the wire keep one
//! output buffer; the typed functions take two slices.

use super::keywords::for_each_index;
use super::unary::map;
use super::{binary, typed_out};
use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::float::Float;
use crate::output::Output;
use crate::shape::Shape;
use crate::table::{BinaryOp, MultiOp, UnaryOp};

/// The first output's dtype and the shape of both, without computing
/// anything (the second's dtype is [`MultiOp::second_dtype`]).
///
/// Errors: [`Error::InvalidArgument`] for the wrong number of inputs, then
/// NumPy's: divmod's as floor_divide's (no loop, broadcast, a Python int
/// out of range), modf's and frexp's as sqrt's ([`Error::Float16`] for
/// bool, int8 and uint8, whose loop is float16).
pub fn multi_output(op: MultiOp, inputs: &[ArrayRef<'_>]) -> Result<(DType, Shape)> {
    match (op, inputs) {
        (MultiOp::Divmod, [a, b]) => BinaryOp::FloorDivide.output(a, b),
        // NumPy's `e->ee, f->ff, d->dd` loops are sqrt's.
        (MultiOp::Modf | MultiOp::Frexp, [x]) => UnaryOp::Sqrt.output(x),
        _ => Err(Error::InvalidArgument),
    }
}

/// Bytes of both outputs of `op` for these inputs.
pub fn multi_bytes(op: MultiOp, inputs: &[ArrayRef<'_>]) -> Result<usize> {
    let (dtype, shape) = multi_output(op, inputs)?;
    both_bytes(op, dtype, &shape)
}

/// Bytes of both outputs when the first is `dtype` of `shape`.
fn both_bytes(op: MultiOp, dtype: DType, shape: &Shape) -> Result<usize> {
    let item = dtype.itemsize() + op.second_dtype(dtype).itemsize();
    shape.size().checked_mul(item).ok_or(Error::ShapeOverflow)
}

/// Runs `op`, writing the first output followed by the second into `out`
/// (bytes, aligned for the first output's dtype; [`multi_bytes`] of them).
///
/// Errors: those of [`multi_output`], [`Error::BufferTooSmall`] (in bytes)
/// and [`Error::Misaligned`].
pub fn multi(op: MultiOp, inputs: &[ArrayRef<'_>], out: &mut [u8]) -> Result<Output> {
    let (dtype, shape) = multi_output(op, inputs)?;
    let needed = both_bytes(op, dtype, &shape)?;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    let (first, second) = out
        .split_at_mut_checked(shape.size() * dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let flags = run(op, inputs, dtype, first, second)?;
    Ok(Output {
        second: Some(op.second_dtype(dtype)),
        ..Output::new(dtype, shape, flags)
    })
}

fn run(
    op: MultiOp,
    inputs: &[ArrayRef<'_>],
    dtype: DType,
    first: &mut [u8],
    second: &mut [u8],
) -> Result<FpFlags> {
    match (op, inputs) {
        // One loop in NumPy, two passes here: each output is exactly
        // floor_divide's or remainder's, and NumPy's flags are the union
        // of theirs (checked against NumPy for 1/0, 0/0, inf/2, MIN/-1).
        (MultiOp::Divmod, [a, b]) => {
            let q = binary(BinaryOp::FloorDivide, a, b, first)?;
            let r = binary(BinaryOp::Remainder, a, b, second)?;
            Ok(q.flags | r.flags)
        }
        (MultiOp::Modf | MultiOp::Frexp, [x]) => match dtype {
            DType::Float32 => parts::<f32>(op, x, first, second),
            DType::Float64 => parts::<f64>(op, x, first, second),
            _ => Err(Error::NoLoop),
        },
        _ => Err(Error::InvalidArgument),
    }
}

/// `op` into two separate byte buffers, each already sized (the typed
/// entry's).
pub(crate) fn multi_parts(
    op: MultiOp,
    inputs: &[ArrayRef<'_>],
    first: &mut [u8],
    second: &mut [u8],
) -> Result<Output> {
    let (dtype, shape) = multi_output(op, inputs)?;
    let flags = run(op, inputs, dtype, first, second)?;
    Ok(Output {
        second: Some(op.second_dtype(dtype)),
        ..Output::new(dtype, shape, flags)
    })
}

/// modf and frexp in float type `F`: one pass per output.
fn parts<F: Parts>(
    op: MultiOp,
    x: &ArrayRef<'_>,
    first: &mut [u8],
    second: &mut [u8],
) -> Result<FpFlags> {
    let first = typed_out::<F>(first)?;
    if crate::SMALL {
        return parts_small(op, x, first, second);
    }
    match op {
        MultiOp::Modf => {
            map(x, first, |xs: &[F], o: &mut [F]| {
                o.iter_mut().zip(xs).for_each(|(o, &v)| *o = v.modf().0);
                Ok(FpFlags::NONE)
            })?;
            map(x, typed_out::<F>(second)?, |xs: &[F], o: &mut [F]| {
                o.iter_mut().zip(xs).for_each(|(o, &v)| *o = v.modf().1);
                Ok(FpFlags::NONE)
            })
        }
        MultiOp::Frexp | MultiOp::Divmod => {
            map(x, first, |xs: &[F], o: &mut [F]| {
                o.iter_mut().zip(xs).for_each(|(o, &v)| *o = v.frexp().0);
                Ok(FpFlags::NONE)
            })?;
            map(x, typed_out::<i32>(second)?, |xs: &[F], o: &mut [i32]| {
                o.iter_mut().zip(xs).for_each(|(o, &v)| *o = v.frexp().1);
                Ok(FpFlags::NONE)
            })
        }
    }
}

/// [`parts`] one element at a time, both outputs in one walk: the size
/// the firmware's `small` build wants (one loop per float type instead of
/// four strided drivers).
fn parts_small<F: Parts>(
    op: MultiOp,
    x: &ArrayRef<'_>,
    first: &mut [F],
    second: &mut [u8],
) -> Result<FpFlags> {
    let mut firsts = first.iter_mut();
    let mut one = [F::default()];
    let mut load = |idx: &[usize]| {
        x.load(x.layout().element_index(idx), 1, &mut one);
        one[0]
    };
    match op {
        MultiOp::Modf => {
            let mut seconds = typed_out::<F>(second)?.iter_mut();
            for_each_index(x.shape(), |idx| {
                let (f, i) = load(idx).modf();
                if let (Some(a), Some(b)) = (firsts.next(), seconds.next()) {
                    (*a, *b) = (f, i);
                }
            });
        }
        MultiOp::Frexp | MultiOp::Divmod => {
            let mut seconds = typed_out::<i32>(second)?.iter_mut();
            for_each_index(x.shape(), |idx| {
                let (m, e) = load(idx).frexp();
                if let (Some(a), Some(b)) = (firsts.next(), seconds.next()) {
                    (*a, *b) = (m, e);
                }
            });
        }
    }
    Ok(FpFlags::NONE)
}

/// C's `modf` for the float loop types (NumPy calls it): `(fraction,
/// integral part)`, both with the sign of `x`; `(±0, ±inf)` for ±inf and
/// `(nan, nan)` for NaN. `frexp` is [`Float::frexp`].
trait Parts: Float {
    fn modf(self) -> (Self, Self);
}

impl Parts for f32 {
    #[inline(always)]
    fn modf(self) -> (f32, f32) {
        libm::modff(self)
    }
}

impl Parts for f64 {
    #[inline(always)]
    fn modf(self) -> (f64, f64) {
        libm::modf(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::array::vector as f64s;

    #[test]
    fn modf_and_frexp_follow_c() {
        let v = [
            -0.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            -3.0,
            5e-324,
            1.0,
        ];
        let x = f64s(&v);
        let mut out = [0u64; 14];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        let o = multi(MultiOp::Modf, &[x], bytes).unwrap();
        assert_eq!(o.second, Some(DType::Float64));
        assert_eq!(o.byte_len(), 112);
        let r: &[f64] = bytemuck::cast_slice(&out);
        let bits = |s: &[f64]| s.iter().map(|v| v.to_bits()).collect::<std::vec::Vec<_>>();
        let frac = [-0.5, 0.0, -0.0, -0.0, -0.0, 5e-324, 0.0];
        let int = [-0.0, f64::INFINITY, f64::NEG_INFINITY, -0.0, -3.0, 0.0, 1.0];
        assert_eq!(bits(&r[..7]), bits(&frac));
        assert_eq!(bits(&r[7..]), bits(&int));

        let mut out = [0u64; 7 + 4];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
        assert_eq!(multi_bytes(MultiOp::Frexp, &[x]), Ok(7 * 12));
        let o = multi(MultiOp::Frexp, &[x], bytes).unwrap();
        assert_eq!(o.second, Some(DType::Int32));
        let m: &[f64] = bytemuck::cast_slice(&out[..7]);
        let e: &[i32] = bytemuck::cast_slice(&out[7..]);
        assert_eq!(
            bits(m),
            bits(&[
                -0.5,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -0.0,
                -0.75,
                0.5,
                0.5
            ])
        );
        assert_eq!(&e[..7], &[0, 0, 0, 0, 2, -1073, 1]);
    }

    #[test]
    fn divmod_is_floor_divide_and_remainder() {
        let a = [7i8, -128, -7, 5];
        let b = [0i8, -1, 2, 3];
        let x =
            ArrayRef::contiguous(DType::Int8, bytemuck::cast_slice(&a), Shape::vector(4)).unwrap();
        let y =
            ArrayRef::contiguous(DType::Int8, bytemuck::cast_slice(&b), Shape::vector(4)).unwrap();
        let mut out = [0u8; 8];
        let o = multi(MultiOp::Divmod, &[x, y], &mut out).unwrap();
        assert_eq!(o.dtype, DType::Int8);
        assert_eq!(o.flags, FpFlags::DIVIDE | FpFlags::OVERFLOW);
        assert_eq!(out.map(|v| v as i8), [0, -128, -4, 1, 0, 0, 1, 2]);
        // Short buffers and a wrong operand count are errors, not panics.
        assert!(matches!(
            multi(MultiOp::Divmod, &[x, y], &mut out[..7]),
            Err(Error::BufferTooSmall { .. })
        ));
        assert_eq!(
            multi(MultiOp::Divmod, &[x], &mut out),
            Err(Error::InvalidArgument)
        );
        // int8 has a float16 loop only.
        assert_eq!(multi(MultiOp::Modf, &[x], &mut out), Err(Error::Float16));
    }
}
