//! NumPy's ufunc and reduction semantics without std or an allocator.
//!
//! Start with the typed API ([`typed`]): one function per NumPy op, named as
//! in NumPy, over [`View`]s of your slices, writing into your buffers.
//!
//! ```
//! // Sensor samples in, NumPy's numbers out, bit for bit.
//! let samples = [21.4f32, 21.5, 21.3, 21.6, 22.4, 23.9];
//! let mean: f32 = fnp_core::mean(&samples)?;
//! let std: f32 = fnp_core::std(&samples)?;
//! let mut z = [0f32; 6];
//! fnp_core::subtract(&samples, mean, &mut z)?;
//! let z_in = z; // (x - mean) / std: plain scalars are 0-d operands
//! fnp_core::divide(&z_in, std, &mut z)?;
//! assert_eq!(fnp_core::argmax(&z)?, 5);
//! # Ok::<(), fnp_core::Error>(())
//! ```
//!
//! - Ufuncs: [`add`], [`subtract`], [`multiply`], [`divide`], …,
//!   [`sqrt`], [`exp`], [`isnan`], … — each documents NumPy's loops, what it
//!   does with NaN, ±0, ±Inf, overflow and division by zero, its accuracy
//!   against NumPy and the flags it reports ([`FpFlags`] in the [`Output`]).
//! - Reductions: [`sum`], [`mean`], [`var`], [`std()`], [`max`], [`argmax`], …
//!   over every axis; [`reduce_into`] with [`ReduceParams`] for `axis`,
//!   `keepdims`, `where`, `initial`, `dtype`, `ddof`.
//! - Ufunc methods: [`method_into`] (`np.maximum.accumulate(x)`,
//!   `np.bitwise_or.reduce(flags)`), [`reduceat_into`] (block sums),
//!   [`outer_into`], and `at` on your own array in place:
//!   [`binary_at_in_place`] (`np.add.at(hist, idx, 1)`, a histogram) and
//!   [`unary_at_in_place`].
//! - Output types follow from the input types as NumPy's result dtypes do
//!   ([`promote`]): `argmax(&z)` is an `i64`, `mean` of `i16` an `f64`,
//!   `add` of `i16` and `f32` writes `f32`, and a wrong output buffer is a
//!   compile error.
//! - Buffer sizes first: [`binary_output`], [`unary_output`],
//!   [`reduce_output`], [`reduce_scratch_len`]. Scratch is `&mut [u64]`
//!   words in both APIs ([`scratch_len`] sizes it for the dynamic one).
//! - Dynamic dtypes (a dtype known at run time, as the wire server has):
//!   [`ArrayRef`] over bytes with [`plan`] and [`execute`] (any op, the
//!   hardened check included: what the wire server and the host run) or
//!   [`call`] / [`binary`] / [`unary`] / [`reduce()`] / [`method()`] (the
//!   ufunc methods `reduce`, `accumulate`, `reduceat`, `outer` of every
//!   binary ufunc, [`Op::Method`]), [`binary_at`] / [`unary_at`] (`at`,
//!   [`Op::UnaryAt`] for the unary ufuncs); [`View::as_array`] bridges the
//!   two.
//! - [`DType`] and [`result_type`]: NumPy 2 dtypes and promotion (NEP 50).
//! - [`Shape`], [`Layout`]: shapes and strides in fixed arrays.
//! - [`precision`]: the per-op accuracy table (ULP bounds) the comparator
//!   reads.
//!
//! No function panics on any input: bad shapes, buffers and dtypes are
//! [`Error`]s that name the NumPy exception the same input raises.
//!
//! # Features
//!
//! All additive, none needed for the core: `defmt` (errors and key types
//! derive `defmt::Format`; the crate logs through defmt), `log` (logs
//! through the `log` facade; with neither, no logging code at all),
//! `serde` (dtypes, ops, shapes, flags, errors, outputs), `alloc`
//! (`owned::Array`, `Vec`-backed arrays for hosts), `std` (implies
//! `alloc`), `wire` (the device protocol and server), `small` (size-first
//! code paths for firmware, the same bits).

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
pub mod exec;
pub mod flags;
pub mod harden;
mod in_place;
pub(crate) mod num;
pub mod op;
pub mod output;
#[cfg(feature = "alloc")]
pub mod owned;
pub mod precision;
pub mod promote;
pub mod reduce;
pub mod shape;
pub mod signature;
pub mod table;
pub mod typed;
pub mod ufunc;
pub mod view;
#[cfg(feature = "wire")]
pub mod wire;

/// Whether the `small` feature drops the speed-only duplicate paths
/// (unrolled lanes, fast passes later redone exactly, contiguous special
/// cases) in favour of the one exact path each of them mirrors.
pub(crate) const SMALL: bool = cfg!(feature = "small");

pub use array::ArrayRef;
pub use dtype::{result_type, result_type_weak, Casting, DType, Kind, OperandType};
pub use element::{Bool, Element};
pub use error::{Buffer, Error, Result};
pub use exec::{execute, plan, Halt, Plan};
pub use flags::FpFlags;
pub use harden::{Hardening, Mode, Refusal};
pub use in_place::{binary_in_place, unary_in_place};
pub use op::{call, out_bytes, output_of, scratch_len};
pub use output::Output;
pub use reduce::{reduce, Axes, OutArray, ReduceParams, Scalar};
pub use shape::{broadcast_shapes, Layout, Shape, MAX_NDIM};
pub use signature::Signature;
pub use table::{
    BinaryFamily, BinaryOp, Identity, Keyword, Keywords, Method, MultiOp, Op, OutRule, ReduceKind,
    ReduceOp, UnaryFamily, UnaryOp,
};
pub use typed::{
    binary_into, binary_output, divmod, frexp, method_into, modf, outer_into, reduce_into,
    reduce_output, reduce_scratch_len, reduceat_into, std_ddof, unary_into, unary_output, var_ddof,
};
pub use ufunc::{
    binary, binary_at, binary_at_in_place, binary_at_output, method, method_dtype, method_output,
    multi, multi_bytes, multi_output, reorderable, unary, unary_at, unary_at_in_place,
    unary_at_output,
};
pub use view::View;

// One typed function per row of the op table: `add`, `sqrt`, `mean`, ...
pub use typed::fns::*;

// NumPy's other names for the same functions (the table's aliases that are
// Rust identifiers; `np.mod` is `remainder`): `np.divide` is NumPy 2's
// primary spelling of `true_divide`.
pub use typed::fns::{
    absolute as abs, arccos as acos, arccosh as acosh, arcsin as asin, arcsinh as asinh,
    arctan as atan, arctan2 as atan2, arctanh as atanh, conjugate as conj,
    invert as bitwise_invert, invert as bitwise_not, left_shift as bitwise_left_shift, max as amax,
    min as amin, power as pow, right_shift as bitwise_right_shift, true_divide as divide,
};

/// What each typed call costs a firmware in stack and flash on a
/// Cortex-M3, measured by `cargo xtask footprint` (the table below is its
/// output, `FOOTPRINT.md` in the crate).
#[doc = include_str!("../FOOTPRINT.md")]
pub mod footprint {}

/// The README's Rust example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// fnp-core's own README (the crate page) is a doctest too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
