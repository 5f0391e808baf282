//! The one way to run a case: [`plan`] checks and sizes it (the hardened
//! check included), [`Plan::execute`] runs it in the caller's buffers.
//!
//! The wire server and the host's `host` target both go through here, so a
//! case is refused, raises or answers the same way on every target; they
//! differ only in where the buffers come from.
//!
//! A module of its own rather than part of [`crate::op`]: [`crate::harden`]
//! reads the op table, and the table does not depend back on hardening.

use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::error::Error;
use crate::harden::{self, Hardening, Mode, Refusal};
use crate::op::{call, out_bytes, output_of, scratch_len, Op};
use crate::output::Output;
use crate::reduce::ReduceParams;
use crate::shape::Shape;

/// Why a case produced no array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Halt {
    /// [`Mode::Hardened`] refused the operands before any work (NumPy
    /// itself would have accepted them).
    Refused(Refusal),
    /// The op raised: NumPy raises [`Error::numpy_exception`] for the same
    /// input.
    Raised(Error),
    /// The output or the scratch needs `needed` bytes, more than the buffer
    /// given to [`Plan::execute`] holds, or more than a `usize` counts
    /// (`needed == u64::MAX`).
    TooLarge {
        /// Bytes needed.
        needed: u64,
    },
}

impl From<Error> for Halt {
    fn from(e: Error) -> Halt {
        Halt::Raised(e)
    }
}

/// A checked case and the buffers it needs, from [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct Plan<'p, 'a> {
    op: Op,
    inputs: &'p [ArrayRef<'a>],
    params: &'p ReduceParams<'a>,
    /// The result's dtype (the first output's, for a two-output ufunc).
    pub dtype: DType,
    /// The result's shape.
    pub shape: Shape,
    /// Bytes of the C-contiguous result (both outputs, one after the
    /// other, for a two-output ufunc).
    pub out_bytes: usize,
    /// Scratch words (`u64`s) the op needs.
    pub scratch_len: usize,
}

/// Checks `op` on `inputs` and `params` and sizes its buffers, running
/// nothing: in [`Mode::Hardened`] first [`harden::check`] with
/// [`Hardening::DEFAULT`], then the result's dtype and shape (errors NumPy
/// raises are [`Halt::Raised`]), then the output and scratch bytes.
pub fn plan<'p, 'a>(
    op: Op,
    inputs: &'p [ArrayRef<'a>],
    params: &'p ReduceParams<'a>,
    mode: Mode,
) -> Result<Plan<'p, 'a>, Halt> {
    if mode == Mode::Hardened {
        harden::check(op, inputs, params, &Hardening::DEFAULT).map_err(Halt::Refused)?;
    }
    let (dtype, shape) = output_of(op, inputs, params)?;
    let out_bytes = match out_bytes(op, inputs, params) {
        Err(Error::ShapeOverflow) => return Err(Halt::TooLarge { needed: u64::MAX }),
        other => other?,
    };
    let scratch_len = scratch_len(op, inputs, params)?;
    Ok(Plan {
        op,
        inputs,
        params,
        dtype,
        shape,
        out_bytes,
        scratch_len,
    })
}

impl Plan<'_, '_> {
    /// Runs the planned op, writing the result into the first
    /// [`Plan::out_bytes`] of `out` and using the first
    /// [`Plan::scratch_len`] words of `scratch`. A buffer shorter than that
    /// is [`Halt::TooLarge`] (in bytes); an error of the op is
    /// [`Halt::Raised`].
    pub fn execute(&self, out: &mut [u8], scratch: &mut [u64]) -> Result<Output, Halt> {
        let out = fit(out, self.out_bytes)?;
        let scratch = fit(scratch, self.scratch_len)?;
        Ok(call(self.op, self.inputs, self.params, out, scratch)?)
    }
}

/// The first `n` elements of `buf`, or how many bytes are needed.
fn fit<T>(buf: &mut [T], n: usize) -> Result<&mut [T], Halt> {
    let bytes = n.saturating_mul(core::mem::size_of::<T>());
    buf.get_mut(..n).ok_or(Halt::TooLarge {
        needed: bytes as u64,
    })
}

/// [`plan`] and [`Plan::execute`] in one call, for callers with buffers
/// already large enough.
pub fn execute(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    mode: Mode,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<Output, Halt> {
    plan(op, inputs, params, mode)?.execute(out, scratch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BinaryOp, ReduceOp};

    #[test]
    fn plans_then_runs() {
        let a = [1.0f64, 2.0, 3.0];
        let x = ArrayRef::contiguous(DType::Float64, bytemuck::cast_slice(&a), Shape::vector(3))
            .unwrap();
        let inputs = [x, x];
        let params = ReduceParams::default();
        let op = Op::Binary(BinaryOp::Add);
        let p = plan(op, &inputs, &params, Mode::Strict).unwrap();
        assert_eq!(
            (p.dtype, p.out_bytes, p.scratch_len),
            (DType::Float64, 24, 0)
        );
        let mut words = [0f64; 4];
        let out: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        assert_eq!(
            p.execute(&mut out[..8], &mut []),
            Err(Halt::TooLarge { needed: 24 })
        );
        let o = p.execute(out, &mut []).unwrap();
        assert_eq!(o.byte_len(), 24);
        assert_eq!(words[..3], [2.0, 4.0, 6.0]);
        let out: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        // The op's own errors are raised, not refused.
        assert_eq!(
            execute(op, &inputs[..1], &params, Mode::Strict, out, &mut []).err(),
            Some(Halt::Raised(Error::InvalidArgument))
        );
    }

    #[test]
    fn hardened_refusal_is_not_an_error() {
        let a = [f64::NAN];
        let x = ArrayRef::contiguous(DType::Float64, bytemuck::cast_slice(&a), Shape::vector(1))
            .unwrap();
        let params = ReduceParams::default().with_dtype(DType::Int64);
        let op = Op::Reduce(ReduceOp::Sum);
        assert!(plan(op, &[x], &params, Mode::Strict).is_ok());
        assert_eq!(
            plan(op, &[x], &params, Mode::Hardened).err(),
            Some(Halt::Refused(Refusal::NanCast))
        );
    }
}
