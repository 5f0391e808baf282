//! NumPy's ufunc and reduction semantics without std or an allocator.
//!
//! - [`DType`] and [`result_type`]: NumPy 2 dtypes and promotion (NEP 50).
//! - [`Shape`], [`Layout`], [`ArrayRef`]: borrowed strided views.
//! - [`precision`]: the per-op accuracy table the comparator reads.
//! - [`ufunc::binary`]: broadcasting binary ufuncs with NumPy's loops, IEEE
//!   flags and integer rules, writing into caller-provided buffers.
//! - [`reduce::reduce`]: reductions with NumPy's accumulator dtypes,
//!   parameters and bit-identical float summation order.
//! - [`op::call`]: one type-erased entry over every op ([`Op`]).
//!
//! No function panics on any input: bad shapes, buffers and dtypes are
//! [`Error`]s that name the NumPy exception the same input raises.

#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(any(test, feature = "std"))]
extern crate std;

#[cfg(feature = "alloc")]
extern crate alloc;

mod logging;

pub mod array;
pub mod dtype;
pub mod element;
pub mod error;
pub mod flags;
pub mod op;
pub mod precision;
pub mod reduce;
pub mod shape;
pub mod typed;
pub mod ufunc;
#[cfg(feature = "wire")]
pub mod wire;

/// Whether the `small` feature drops the speed-only duplicate paths
/// (unrolled lanes, fast passes later redone exactly, contiguous special
/// cases) in favour of the one exact path each of them mirrors.
pub(crate) const SMALL: bool = cfg!(feature = "small");

pub use array::ArrayRef;
pub use dtype::{result_type, result_type_weak, DType, Kind, OperandType};
pub use element::{Bool, Element};
pub use error::{Error, Result};
pub use flags::FpFlags;
pub use op::{call, output_of, scratch_bytes, Op};
pub use reduce::{reduce, Axes, ReduceOp, ReduceParams, Scalar};
pub use shape::{broadcast_shapes, Layout, Shape, MAX_NDIM};
pub use typed::{
    binary_into, binary_output, reduce_into, reduce_output, reduce_scratch_len, unary_into,
    unary_output, View,
};
pub use ufunc::{binary, unary, BinaryFamily, BinaryOp, Output, UnaryFamily, UnaryOp};

// One typed function per registry row: `add`, `sqrt`, `mean`, ...
pub use reduce::fns::*;
pub use ufunc::fns::*;
pub use ufunc::unary_fns::*;

/// The README's Rust example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
