//! Unary ufuncs: NumPy's loop selection and the driver.
//!
//! The ops are rows of [`crate::table`]; kernels live in [`super::extra`].

use super::extra::{self, Unary};
use super::{float_loop, CHUNK};
use crate::array::ArrayRef;
use crate::dtype::{effective_dtype, DType, OperandType};
use crate::element::{Bool, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::shape::{coalesce, Layout, OuterIndex, Shape};
use crate::table::{UnaryFamily, UnaryOp};

impl UnaryOp {
    /// The dtype NumPy computes in for an operand of this type.
    pub fn loop_dtype(self, x: OperandType) -> Result<DType> {
        self.loop_for(effective_dtype(x, &[x])?)
    }

    fn loop_for(self, d: DType) -> Result<DType> {
        Ok(match self.family() {
            UnaryFamily::Math => float_loop(d)?,
            UnaryFamily::Signed if d == DType::Bool => return Err(Error::NoLoop),
            UnaryFamily::NoBool if d == DType::Bool => DType::Int8,
            UnaryFamily::Invert | UnaryFamily::BitCount if d.is_float() => {
                return Err(Error::NoLoop)
            }
            UnaryFamily::BitCount if d == DType::Bool => DType::Int8,
            // An integer's sign bit is its sign: compute in float64, which
            // keeps the sign of every integer.
            UnaryFamily::Signbit if !d.is_float() => DType::Float64,
            UnaryFamily::Logical => DType::Bool,
            _ => d,
        })
    }

    /// The output dtype NumPy gives for an operand of this type.
    pub fn resolve(self, x: OperandType) -> Result<DType> {
        self.output_for(self.loop_dtype(x)?)
    }

    fn output_for(self, loop_dtype: DType) -> Result<DType> {
        Ok(match self.family() {
            UnaryFamily::Predicate | UnaryFamily::Signbit | UnaryFamily::Logical => DType::Bool,
            UnaryFamily::BitCount => DType::UInt8,
            _ => loop_dtype,
        })
    }

    /// The loop dtype for this very operand: a lone Python int too big for
    /// int64 (held as uint64) is a uint64, as NumPy converts it.
    fn loop_of(self, x: &ArrayRef<'_>) -> Result<DType> {
        if x.is_weak() && x.dtype() == DType::UInt64 {
            self.loop_for(DType::UInt64)
        } else {
            self.loop_dtype(x.operand_type())
        }
    }

    /// The output dtype and shape for this input, without computing anything.
    pub fn output(self, x: &ArrayRef<'_>) -> Result<(DType, Shape)> {
        Ok((self.output_for(self.loop_of(x)?)?, *x.shape()))
    }
}

/// Applies `op` to every element of `x`, writing the C-contiguous result
/// into `out` (bytes, aligned for the output dtype).
///
/// Use [`UnaryOp::output`] first to size `out`. Errors: [`Error::NoLoop`]
/// where NumPy raises TypeError, [`Error::Float16`] where NumPy answers in
/// float16, [`Error::BufferTooSmall`] (in bytes) and [`Error::Misaligned`].
pub fn unary(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [u8]) -> Result<Output> {
    let (dtype, shape) = op.output(x)?;
    let needed = shape
        .size()
        .checked_mul(dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or(Error::short_output::<u8>(needed))?;
    let loop_dtype = op.loop_of(x)?;
    let flags = crate::element::with_dtype!(loop_dtype, T => run::<T>(op, x, out)?);
    Ok(Output {
        dtype,
        shape,
        flags,
    })
}

fn run<T: extra::Loops>(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [u8]) -> Result<FpFlags> {
    match T::unary(op).ok_or(Error::NoLoop)? {
        Unary::Same(kernel) => drive(x, super::typed_out::<T>(out)?, kernel),
        Unary::ToBool(kernel) => drive(x, super::typed_out::<Bool>(out)?, kernel),
        Unary::ToU8(kernel) => drive(x, super::typed_out::<u8>(out)?, kernel),
    }
}

/// The unary driver: a C-order walk over the coalesced array, contiguous
/// runs in the loop dtype straight to the kernel, everything else gathered
/// (and cast) in chunks.
fn drive<A, O, K>(x: &ArrayRef<'_>, out: &mut [O], kernel: K) -> Result<FpFlags>
where
    A: LoopElement,
    K: Fn(&[A], &mut [O]) -> Result<FpFlags>,
{
    let shape = *x.shape();
    let n = shape.size();
    let out = out.get_mut(..n).ok_or(Error::short_output::<O>(n))?;
    if n == 0 {
        return Ok(FpFlags::NONE);
    }
    let mut ls = [*x.layout(), Layout::c_contiguous(shape)];
    coalesce(&mut ls);
    let nd = ls[1].ndim();
    // The innermost dim and its stride; a 0-d array is one element.
    let (inner, stride) = match (ls[1].shape().dims().last(), ls[0].strides().last()) {
        (Some(&inner), Some(&stride)) => (inner, stride),
        _ => (1, 0),
    };
    // Bool inputs are always gathered so that any non-zero byte reads as True.
    let direct = if stride == 1 && x.dtype() == A::DTYPE && A::DTYPE != DType::Bool {
        x.typed::<A>().ok()
    } else {
        None
    };
    let step = if direct.is_some() { inner } else { CHUNK };
    let mut flags = FpFlags::NONE;
    let mut buf = [A::default(); CHUNK];
    let mut outer = OuterIndex::new(ls[1].shape());
    let mut pos = 0usize;
    while let Some(index) = outer.next_index() {
        let base = ls[0].element_index(index.get(..nd.saturating_sub(1)).unwrap_or(&[]));
        let mut done = 0usize;
        while done < inner {
            let len = step.min(inner - done);
            let start = (base as isize + done as isize * stride) as usize;
            let run = match direct.and_then(|d| d.get(start..start + len)) {
                Some(run) => run,
                None => {
                    // len <= CHUNK here unless a direct run was cut short,
                    // which a validated layout rules out.
                    let chunk = buf.get_mut(..len).ok_or(Error::LayoutMismatch)?;
                    x.load(start, stride, chunk);
                    &*chunk
                }
            };
            let ro = out
                .get_mut(pos..pos + len)
                .ok_or(Error::short_output::<O>(n))?;
            flags |= kernel(run, ro)?;
            done += len;
            pos += len;
        }
    }
    Ok(flags)
}
