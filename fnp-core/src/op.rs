//! One type-erased entry for every op, used by the host and the wire server.

use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::reduce::{reduce, ReduceOp, ReduceParams};
use crate::shape::Shape;
use crate::ufunc::{binary, unary, BinaryOp, Output, UnaryOp};

/// Wire codes of reductions start here; binary ops use `0..64`.
pub const REDUCE_CODE_BASE: u8 = 64;

/// Wire codes of unary ops start here (reductions use `64..128`).
pub const UNARY_CODE_BASE: u8 = 128;

/// Any fnp op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// A binary ufunc (two inputs, broadcast).
    Binary(BinaryOp),
    /// A reduction (one input, [`ReduceParams`]).
    Reduce(ReduceOp),
    /// A unary ufunc (one input, elementwise).
    Unary(UnaryOp),
}

impl Op {
    /// Every op: binary ops, reductions, unary ops, in wire-code order.
    pub fn all() -> impl Iterator<Item = Op> {
        BinaryOp::ALL
            .iter()
            .map(|&b| Op::Binary(b))
            .chain(ReduceOp::ALL.iter().map(|&r| Op::Reduce(r)))
            .chain(UnaryOp::ALL.iter().map(|&u| Op::Unary(u)))
    }

    /// NumPy's name.
    pub const fn name(self) -> &'static str {
        match self {
            Op::Binary(b) => b.name(),
            Op::Reduce(r) => r.name(),
            Op::Unary(u) => u.name(),
        }
    }

    /// Parses a NumPy name, aliases included (`divide`, `mod`, `abs`,
    /// `amin`, `amax`, ...).
    pub fn from_name(name: &str) -> Option<Op> {
        BinaryOp::from_name(name)
            .map(Op::Binary)
            .or_else(|| UnaryOp::from_name(name).map(Op::Unary))
            .or_else(|| ReduceOp::from_name(name).map(Op::Reduce))
    }

    /// The stable wire code: a binary op's own code, 64 + a reduction's,
    /// 128 + a unary op's.
    pub const fn code(self) -> u8 {
        match self {
            Op::Binary(b) => b as u8,
            Op::Reduce(r) => REDUCE_CODE_BASE + r as u8,
            Op::Unary(u) => UNARY_CODE_BASE + u as u8,
        }
    }

    /// How many array inputs the op takes.
    pub const fn arity(self) -> usize {
        match self {
            Op::Binary(_) => 2,
            Op::Reduce(_) | Op::Unary(_) => 1,
        }
    }
}

impl TryFrom<u8> for Op {
    type Error = Error;

    fn try_from(code: u8) -> Result<Op> {
        if code >= UNARY_CODE_BASE {
            UnaryOp::try_from(code - UNARY_CODE_BASE).map(Op::Unary)
        } else if code >= REDUCE_CODE_BASE {
            ReduceOp::try_from(code - REDUCE_CODE_BASE).map(Op::Reduce)
        } else {
            BinaryOp::try_from(code).map(Op::Binary)
        }
    }
}

impl core::fmt::Display for Op {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The inputs of `op`, checked for count. Binary ops ignore `params` except
/// that a non-default one is rejected (NumPy's ufunc call takes none of them).
fn inputs_of<'i, 'a, const N: usize>(inputs: &'i [ArrayRef<'a>]) -> Result<&'i [ArrayRef<'a>; N]> {
    inputs.try_into().map_err(|_| Error::InvalidArgument)
}

fn check_binary_params(p: &ReduceParams<'_>) -> Result<()> {
    let default = ReduceParams::default();
    if p.where_mask.is_some()
        || p.initial.is_some()
        || p.dtype.is_some()
        || p.keepdims
        || p.ddof != 0.0
        || p.axis != default.axis
    {
        return Err(Error::InvalidType);
    }
    Ok(())
}

/// Result dtype and shape of `op` on `inputs`.
pub fn output_of(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
) -> Result<(DType, Shape)> {
    match op {
        Op::Binary(b) => {
            check_binary_params(params)?;
            let [x, y] = inputs_of::<2>(inputs)?;
            b.output(x, y)
        }
        Op::Unary(u) => {
            check_binary_params(params)?;
            let [x] = inputs_of::<1>(inputs)?;
            u.output(x)
        }
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            r.output(x, params)
        }
    }
}

/// Scratch bytes `call` needs.
pub fn scratch_bytes(op: Op, inputs: &[ArrayRef<'_>], params: &ReduceParams<'_>) -> Result<usize> {
    match op {
        Op::Binary(_) | Op::Unary(_) => output_of(op, inputs, params).map(|_| 0),
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            r.scratch_bytes(x, params)
        }
    }
}

/// Runs `op` on `inputs`, writing the C-contiguous result into `out`.
///
/// Errors: [`Error::InvalidArgument`] for the wrong number of inputs,
/// [`Error::InvalidType`] for reduction keywords given to a binary op, and
/// whatever the op itself returns.
pub fn call(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    out: &mut [u8],
    scratch: &mut [u8],
) -> Result<Output> {
    match op {
        Op::Binary(b) => {
            check_binary_params(params)?;
            let [x, y] = inputs_of::<2>(inputs)?;
            binary(b, x, y, out)
        }
        Op::Unary(u) => {
            check_binary_params(params)?;
            let [x] = inputs_of::<1>(inputs)?;
            unary(u, x, out)
        }
        Op::Reduce(r) => {
            let [x] = inputs_of::<1>(inputs)?;
            reduce(r, x, params, out, scratch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        let mut n = 0;
        for op in Op::all() {
            assert_eq!(Op::try_from(op.code()), Ok(op));
            assert_eq!(Op::from_name(op.name()), Some(op));
            n += 1;
        }
        assert_eq!(
            n,
            BinaryOp::ALL.len() + ReduceOp::ALL.len() + UnaryOp::ALL.len()
        );
        assert!(BinaryOp::ALL.len() <= usize::from(REDUCE_CODE_BASE));
        assert!(ReduceOp::ALL.len() <= usize::from(UNARY_CODE_BASE - REDUCE_CODE_BASE));
        assert_eq!(Op::Unary(UnaryOp::Negative).code(), 128);
        assert_eq!(Op::from_name("abs"), Some(Op::Unary(UnaryOp::Absolute)));
        assert_eq!(Op::Reduce(ReduceOp::Sum).code(), 64);
        assert_eq!(Op::try_from(63), Err(Error::UnknownOp));
        assert_eq!(Op::try_from(255), Err(Error::UnknownOp));
        assert_eq!(Op::try_from(127), Err(Error::UnknownOp));
        assert_eq!(Op::from_name("amax"), Some(Op::Reduce(ReduceOp::Max)));
    }
}
