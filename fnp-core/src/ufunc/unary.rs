//! Unary ufuncs: NumPy's loop selection and the driver.
//!
//! The ops are rows of [`crate::table`]; kernels live in [`super::extra`].

use super::driver::{out_run, Erased, Input, Stored, Walk};
use super::extra::{self, Unary};
use super::float_loop;
use crate::array::ArrayRef;
use crate::dtype::{effective_dtype, DType, OperandType};
use crate::element::{Bool, Element, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::shape::{Layout, Shape};
use crate::table::{UnaryFamily, UnaryOp};
use crate::typed::same;

impl UnaryOp {
    /// The dtype NumPy computes in for an operand of this type.
    pub fn loop_dtype(self, x: OperandType) -> Result<DType> {
        self.loop_for(effective_dtype(x, &[x])?)
    }

    /// [`UnaryOp::loop_dtype`] for an array of dtype `d`, as a `const fn`
    /// (the typed API resolves its loops at compile time).
    pub(crate) const fn loop_for(self, d: DType) -> Result<DType> {
        let is_bool = matches!(d, DType::Bool);
        Ok(match self.family() {
            UnaryFamily::Math => match float_loop(d) {
                Ok(f) => f,
                Err(e) => return Err(e),
            },
            UnaryFamily::Signed if is_bool => return Err(Error::NoLoop),
            UnaryFamily::NoBool if is_bool => DType::Int8,
            UnaryFamily::Invert | UnaryFamily::BitCount if d.is_float() => {
                return Err(Error::NoLoop)
            }
            UnaryFamily::BitCount if is_bool => DType::Int8,
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
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    let loop_dtype = op.loop_of(x)?;
    let flags = crate::element::with_dtype!(loop_dtype, T => run::<T>(op, x, out)?);
    Ok(Output::new(dtype, shape, flags))
}

fn run<T: extra::Loops>(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [u8]) -> Result<FpFlags> {
    match T::unary(op).ok_or(Error::NoLoop)? {
        Unary::Same(kernel) => drive::<Erased, _, _, _>(x, super::typed_out::<T>(out)?, kernel),
        Unary::ToBool(kernel) => {
            drive::<Erased, _, _, _>(x, super::typed_out::<Bool>(out)?, kernel)
        }
        Unary::ToU8(kernel) => drive::<Erased, _, _, _>(x, super::typed_out::<u8>(out)?, kernel),
    }
}

/// A unary ufunc for the typed API: loop type `T`, output `O` and input
/// element type `S` fixed at compile time. Inlined into the typed
/// function, whose `op` is a constant, so that [`extra::Loops::unary`]
/// picks one kernel: `sqrt` of float32 links the float32 square root and
/// its driver, not every unary kernel of every loop type.
#[inline(always)]
pub(crate) fn unary_as<T, O, S>(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [O]) -> Result<Output>
where
    T: extra::Loops,
    O: Element,
    S: Element,
{
    let flags = match T::unary(op).ok_or(Error::NoLoop)? {
        Unary::Same(kernel) => drive::<S, _, _, _>(x, same::<O, T>(out)?, kernel)?,
        Unary::ToBool(kernel) => drive::<S, _, _, _>(x, same::<O, Bool>(out)?, kernel)?,
        Unary::ToU8(kernel) => drive::<S, _, _, _>(x, same::<O, u8>(out)?, kernel)?,
    };
    Ok(Output::new(O::DTYPE, *x.shape(), flags))
}

/// The unary driver with a kernel of the caller's, for the outputs of the
/// two-output ufuncs (one pass per output).
pub(crate) fn map<A, O, K>(x: &ArrayRef<'_>, out: &mut [O], kernel: K) -> Result<FpFlags>
where
    A: LoopElement,
    K: Fn(&[A], &mut [O]) -> Result<FpFlags>,
{
    drive::<Erased, A, O, K>(x, out, kernel)
}

/// The unary driver: the input (stored as `S`) walked with the
/// C-contiguous output by the one elementwise [`Walk`].
fn drive<S, A, O, K>(x: &ArrayRef<'_>, out: &mut [O], kernel: K) -> Result<FpFlags>
where
    S: Stored,
    A: LoopElement,
    K: Fn(&[A], &mut [O]) -> Result<FpFlags>,
{
    // Constant true for a type-erased operand.
    if !S::holds(x.dtype()) {
        return Err(Error::InvalidType);
    }
    let shape = *x.shape();
    let n = shape.size();
    let out = out
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<O>(n))?;
    if n == 0 {
        return Ok(FpFlags::NONE);
    }
    let walk = Walk::new([*x.layout(), Layout::c_contiguous(shape)]);
    let mut ix = Input::<A, S>::new(x, &walk, 0);
    let step = walk.step(ix.is_direct());
    walk.runs(step, |&[sx, _], len, pos| {
        kernel(ix.run(sx, len)?, out_run(out, pos, len)?)
    })
}
