//! The typed API: views of Rust slices and one function per NumPy op.
//!
//! A [`View`] is a borrowed slice of one [`Element`] type plus a shape (and
//! optionally strides and an offset, as NumPy's strided arrays). Every ufunc
//! and reduction of the op table ([`crate::table`]) has a function of NumPy's name at the crate
//! root ([`add`](crate::add), [`sqrt`](crate::sqrt), [`mean`](crate::mean),
//! …), generated from the same table row as its [`BinaryOp`], [`UnaryOp`]
//! or [`ReduceOp`] variant, so the two cannot drift apart.
//!
//! - Inputs are anything that turns into a [`View`]: `&[T]`, `&[T; N]` (1-d)
//!   or a [`View`] with a shape (it is `Copy`; pass it by value).
//! - Outputs are caller-provided `&mut [O]` slices, written C-contiguous.
//!   `O` follows from the input types by the op's output rule
//!   ([`crate::promote`], NumPy's result dtype): `add` of two `f32` views
//!   writes `f32`, `true_divide` of `i32` writes `f64`, `less` writes
//!   [`Bool`](crate::Bool), `argmax` returns `i64` — no turbofish, and a
//!   wrong `O` does not compile. The entries that take the op as a value
//!   ([`binary_into`], [`unary_into`], [`reduce_into`]) check `O` at run
//!   time instead ([`Error::InvalidType`], NumPy's TypeError for an `out=`
//!   it cannot cast to). [`binary_output`], [`unary_output`],
//!   [`reduce_output`] and [`reduce_scratch_len`] say first which dtype,
//!   shape and buffer length a call needs.
//! - Nothing allocates and nothing panics: a short buffer is
//!   [`Error::BufferTooSmall`], naming the buffer (output or scratch) and
//!   the bytes it needs, as the byte API does; a shape mismatch is
//!   NumPy's error ([`Error::BroadcastMismatch`]).
//! - The arithmetic ufuncs (add, subtract, multiply, true_divide,
//!   floor_divide, remainder, power, maximum, minimum, fmax, fmin) and the
//!   reductions are monomorphic here: a firmware that calls [`add`](crate::add)
//!   on `f32` and [`mean`](crate::mean) of `f32` links those two loops, not
//!   the dispatcher over every op and dtype that [`crate::call`] needs. The
//!   other ufuncs go through the type-erased [`crate::binary`] /
//!   [`crate::unary`] entries and link their op family's loops.
//!
//! ```
//! use fnp_core::{add, mean, View};
//!
//! let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let b = [10.0f32, 20.0, 30.0];
//! let a = View::new(&a, &[2, 3])?; // a 2×3 matrix
//! let mut out = [0f32; 6];
//! let result = add(a, &b, &mut out)?; // b broadcasts over the rows
//! assert_eq!(result.shape.dims(), &[2, 3]);
//! assert_eq!(out, [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
//! assert!(result.flags.is_empty());
//!
//! let m: f32 = mean(&out)?;
//! assert_eq!(m, 23.5);
//! # Ok::<(), fnp_core::Error>(())
//! ```

use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::promote::{rule, BinaryLoop, BinaryOut, ReduceLoop, ReduceOut, UnaryLoop, UnaryOut};
use crate::reduce::ReduceParams;
use crate::shape::Shape;
use crate::table::{BinaryOp, Method, MultiOp, ReduceOp, UnaryOp};
pub use crate::view::View;

/// `out` as a slice of `T`, which is `O` itself (same dtype).
pub(crate) fn same<O: Element, T: Element>(out: &mut [O]) -> Result<&mut [T]> {
    if O::DTYPE != T::DTYPE {
        return Err(Error::InvalidType);
    }
    bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)
}

/// `out` as bytes for the type-erased entries.
fn bytes_of<O: Element>(out: &mut [O]) -> Result<&mut [u8]> {
    bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)
}

/// The first `shape.size()` elements of `out` as bytes, once `O` is the
/// result dtype ([`Error::InvalidType`] otherwise, NumPy's TypeError for an
/// `out=` of another dtype; [`Error::BufferTooSmall`] when short).
fn sized_out<O: Element>((dtype, shape): (DType, Shape), out: &mut [O]) -> Result<&mut [u8]> {
    if dtype != O::DTYPE {
        return Err(Error::InvalidType);
    }
    let n = shape.size();
    let out = out
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<O>(n))?;
    bytes_of(out)
}

/// Logs a failed typed call through the crate's logging shim.
pub(crate) fn logged<T>(name: &'static str, r: Result<T>) -> Result<T> {
    if let Err(_e) = &r {
        crate::logging::debug!("fnp-core: {} failed: {}", name, _e);
    }
    r
}

/// A binary ufunc over typed views: `out = op(a, b)` with broadcasting.
///
/// The op-named functions ([`add`](crate::add), [`less`](crate::less), …)
/// call this; use it when the op is chosen at run time. Errors: NumPy's
/// (shape mismatch, no loop for the dtypes, negative integer power),
/// [`Error::InvalidType`] when `O` is not the result dtype, and
/// [`Error::BufferTooSmall`].
///
/// ```
/// use fnp_core::{binary_into, BinaryOp, Bool};
///
/// let mut out = [Bool::FALSE; 3];
/// binary_into(BinaryOp::Less, &[1i32, 5, 3], &[2i32, 2, 3], &mut out)?;
/// assert_eq!(out, [Bool::TRUE, Bool::FALSE, Bool::FALSE]);
/// // The result of `less` is bool, not int32:
/// let mut wrong = [0i32; 3];
/// assert_eq!(
///     binary_into(BinaryOp::Less, &[1i32, 5, 3], &[2i32, 2, 3], &mut wrong),
///     Err(fnp_core::Error::InvalidType)
/// );
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn binary_into<'a, 'b, A: Element, B: Element, O: Element>(
    op: BinaryOp,
    a: impl Into<View<'a, A>>,
    b: impl Into<View<'b, B>>,
    out: &mut [O],
) -> Result<Output> {
    let (a, b): (View<'_, A>, View<'_, B>) = (a.into(), b.into());
    logged(
        op.name(),
        binary_erased(op, &a.as_array(), &b.as_array(), out),
    )
}

pub(crate) fn binary_erased<O: Element>(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    out: &mut [O],
) -> Result<Output> {
    let out = sized_out(op.output(a, b)?, out)?;
    crate::ufunc::binary(op, a, b, out)
}

/// An op-table row's accuracy ([`crate::precision`]) in words, for the
/// typed functions' docs: what a firmware author can rely on.
macro_rules! accuracy_words {
    (EXACT) => {
        "are bit-identical to NumPy's"
    };
    (SIGN_OPS) => {
        "are bit-identical to NumPy's, the sign of a NaN included"
    };
    (MAX_FAMILY) => {
        "are bit-identical to NumPy's, except which of +0.0 and -0.0 comes back when they \
         compare equal, which varies in NumPy itself (by array length and SIMD path)"
    };
    (FMAX_FAMILY) => {
        "are bit-identical to NumPy's, except the sign of equal zeros and which of two NaNs \
         comes back, which vary in NumPy itself (by array length and SIMD path)"
    };
    (POWER) => {
        "are within 2 ULP of NumPy's, not bit-identical (NumPy's pow and libm's are each \
         within 1 ULP of the exact value)"
    };
    (ARCTAN2) => {
        $crate::typed::accuracy_words!(transcendental(3, 1, U))
    };
    (HYPOT) => {
        $crate::typed::accuracy_words!(transcendental(1, 1, U))
    };
    (LOGADDEXP) => {
        $crate::typed::accuracy_words!(transcendental(2, 2, U))
    };
    // NumPy's tolerance plus libm's 1 ULP, spelled out for the rows in use.
    (transcendental(1, 1, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within "2", "2")
    };
    (transcendental(2, 1, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within "3", "2")
    };
    (transcendental(3, 1, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within "4", "2")
    };
    (transcendental(4, 1, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within "5", "2")
    };
    (transcendental(2, 2, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within "3", "3")
    };
    (transcendental($f32:literal, $f64:literal, $lenient:ident)) => {
        $crate::typed::accuracy_words!(@within concat!($f32, " + 1"), concat!($f64, " + 1"))
    };
    (@within $f32:expr, $f64:expr) => {
        concat!(
            "are not bit-identical: float32 within ", $f32, " ULP and float64 within ", $f64,
            " ULP of NumPy's (NumPy's own documented tolerance for the function plus 1 ULP ",
            "for libm, whose functions are within 1 ULP of the exact value)"
        )
    };
}

pub(crate) use accuracy_words;

/// The body of a generated binary-ufunc function (`add` & co.): the
/// arithmetic family takes the monomorphic path (one kernel, one driver,
/// for the output dtype `O`); the others the type-erased entry.
macro_rules! typed_binary {
    (Arith, $variant:ident, $o:ty, $sa:ty, $sb:ty, $a:expr, $b:expr, $out:expr) => {{
        let (a, b) = ($a.as_array(), $b.as_array());
        let r = $crate::element::with_dtype!(<$o as $crate::element::Element>::DTYPE, T => match $crate::typed::same::<$o, T>($out) {
            Ok(out) => $crate::ufunc::arith_as::<T, $crate::ufunc::kernels::$variant, $sa, $sb>(
                &a,
                &b,
                out,
            ),
            Err(e) => Err(e),
        });
        $crate::typed::logged(BinaryOp::$variant.name(), r)
    }};
    // ldexp's exponent rule depends on the operand kinds: the erased entry.
    (Ldexp, $variant:ident, $o:ty, $sa:ty, $sb:ty, $a:expr, $b:expr, $out:expr) => {{
        $crate::typed::binary_into(BinaryOp::$variant, $a, $b, $out)
    }};
    // The other families: the loop type a compile-time constant, one kernel.
    ($family:ident, $variant:ident, $o:ty, $sa:ty, $sb:ty, $a:expr, $b:expr, $out:expr) => {{
        let (a, b) = ($a.as_array(), $b.as_array());
        let loop_dtype = const {
            BinaryOp::$variant.array_loop_dtype(
                <$sa as $crate::element::Element>::DTYPE,
                <$sb as $crate::element::Element>::DTYPE,
            )
        };
        let r = match loop_dtype {
            Ok(d) => $crate::element::with_dtype!(d, T => $crate::ufunc::extra_as::<T, $o, $sa, $sb>(
                BinaryOp::$variant,
                &a,
                &b,
                $out,
            )),
            Err(e) => Err(e),
        };
        $crate::typed::logged(BinaryOp::$variant.name(), r)
    }};
}

pub(crate) use typed_binary;

/// A unary ufunc over a typed view: `out = op(x)`, elementwise.
///
/// The op-named functions ([`sqrt`](crate::sqrt), [`isnan`](crate::isnan),
/// …) call this. Errors: NumPy's (no loop: TypeError),
/// [`Error::Float16`] where NumPy answers in float16 (float functions of
/// bool, int8, uint8), [`Error::InvalidType`] when `O` is not the result
/// dtype, [`Error::BufferTooSmall`].
///
/// ```
/// use fnp_core::{unary_into, UnaryOp};
///
/// let mut out = [0f64; 3];
/// unary_into(UnaryOp::Sqrt, &[4i32, 9, 2], &mut out)?; // int32 computes in float64
/// assert_eq!(out, [2.0, 3.0, core::f64::consts::SQRT_2]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn unary_into<'a, T: Element, O: Element>(
    op: UnaryOp,
    x: impl Into<View<'a, T>>,
    out: &mut [O],
) -> Result<Output> {
    let x: View<'_, T> = x.into();
    logged(op.name(), unary_erased(op, &x.as_array(), out))
}

#[doc(hidden)]
pub(crate) fn unary_erased<O: Element>(
    op: UnaryOp,
    x: &ArrayRef<'_>,
    out: &mut [O],
) -> Result<Output> {
    let out = sized_out(op.output(x)?, out)?;
    crate::ufunc::unary(op, x, out)
}

/// A reduction over a typed view with NumPy's keywords (`axis`,
/// `keepdims`, `where`, `initial`, `dtype`, `ddof`, see [`ReduceParams`]),
/// writing the C-contiguous result into `out` and using `scratch` (words;
/// [`reduce_scratch_len`] says how many, 0 for most ops).
///
/// Only the loops of the result dtype `O` (for argmin/argmax: of the input
/// dtype `T`) are linked. Errors: NumPy's (AxisError, empty reduction
/// without identity, bad keywords), [`Error::InvalidType`] when `O` is not
/// the result dtype, [`Error::BufferTooSmall`] (which buffer, in bytes).
///
/// ```
/// use fnp_core::{reduce_into, ReduceOp, ReduceParams, View, Bool};
///
/// // Per-channel means of 3 samples × 2 channels, skipping one bad sample.
/// let samples = [1.0f32, 10.0, 2.0, 20.0, 99.0, 30.0];
/// let x = View::new(&samples, &[3, 2])?;
/// let ok = [Bool::TRUE, Bool::TRUE, Bool::TRUE, Bool::TRUE, Bool::FALSE, Bool::TRUE];
/// let ok = View::new(&ok, &[3, 2])?;
/// let params = ReduceParams::along(0).with_keepdims(true).with_where(ok);
/// let mut out = [0f32; 2];
/// let mut scratch = [0u64; 2];
/// let r = reduce_into(ReduceOp::Mean, x, &params, &mut out, &mut scratch)?;
/// assert_eq!(r.shape.dims(), &[1, 2]);
/// assert_eq!(out, [1.5, 20.0]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn reduce_into<'a, T: Element, O: Element>(
    op: ReduceOp,
    x: impl Into<View<'a, T>>,
    params: &ReduceParams<'_>,
    out: &mut [O],
    scratch: &mut [u64],
) -> Result<Output> {
    let x: View<'_, T> = x.into();
    let x = x.as_array();
    let r = if matches!(op, ReduceOp::Argmin | ReduceOp::Argmax) {
        crate::element::with_dtype!(T::DTYPE, I => match same::<O, i64>(out) {
            Ok(out) => crate::reduce::reduce_arg::<I>(op, &x, params, out),
            Err(e) => Err(e),
        })
    } else {
        crate::element::with_dtype!(O::DTYPE, R => match same::<O, R>(out) {
            Ok(out) => crate::reduce::reduce_as::<R, T>(op, &x, params, out, scratch),
            Err(e) => Err(e),
        })
    };
    logged(op.name(), r)
}

/// A ufunc method of one array over a typed view: NumPy's
/// `np.<op>.reduce(x, **params)` or `np.<op>.accumulate(x, **params)`.
/// `params.axis` is the method's `axis=` as given (NumPy's default is
/// `axis=0`: [`ReduceParams::along`]`(0)`). Errors as
/// [`crate::method`] raises them, and [`Error::InvalidType`] when `O` is not
/// the result dtype.
///
/// ```
/// use fnp_core::{method_into, BinaryOp, Method, ReduceParams};
/// // A peak hold: np.maximum.accumulate([3, 1, 4, 1, 5]) = [3, 3, 4, 4, 5].
/// let mut peak = [0i32; 5];
/// method_into(BinaryOp::Maximum, Method::Accumulate, &[3i32, 1, 4, 1, 5], &ReduceParams::along(0), &mut peak)?;
/// assert_eq!(peak, [3, 3, 4, 4, 5]);
/// // A flag word: np.bitwise_or.reduce(uint8 [1, 4, 16]) = 21.
/// let mut word = [0u8];
/// method_into(BinaryOp::BitwiseOr, Method::Reduce, &[1u8, 4, 16], &ReduceParams::along(0), &mut word)?;
/// assert_eq!(word, [21]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn method_into<'a, T: Element, O: Element>(
    op: BinaryOp,
    method: Method,
    x: impl Into<View<'a, T>>,
    params: &ReduceParams<'_>,
    out: &mut [O],
) -> Result<Output> {
    let x: View<'_, T> = x.into();
    logged(
        op.method_name(method),
        method_erased(op, method, &[x.as_array()], params, out),
    )
}

/// `np.<op>.reduceat(x, indices, **params)` over typed views: the fold of
/// each slice `indices[i]:indices[i + 1]` along `params.axis` (NumPy's
/// default `axis=0`).
///
/// ```
/// use fnp_core::{reduceat_into, BinaryOp, ReduceParams};
/// // NumPy's docs: np.add.reduceat(np.arange(8), [0,4, 1,5, 2,6, 3,7])
/// // = [6, 4, 10, 5, 14, 6, 18, 7].
/// let x = [0i64, 1, 2, 3, 4, 5, 6, 7];
/// let mut out = [0i64; 8];
/// reduceat_into(BinaryOp::Add, &x, &[0i64, 4, 1, 5, 2, 6, 3, 7], &ReduceParams::along(0), &mut out)?;
/// assert_eq!(out, [6, 4, 10, 5, 14, 6, 18, 7]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn reduceat_into<'a, 'i, T: Element, I: Element, O: Element>(
    op: BinaryOp,
    x: impl Into<View<'a, T>>,
    indices: impl Into<View<'i, I>>,
    params: &ReduceParams<'_>,
    out: &mut [O],
) -> Result<Output> {
    let (x, indices): (View<'_, T>, View<'_, I>) = (x.into(), indices.into());
    let inputs = [x.as_array(), indices.as_array()];
    logged(
        op.method_name(Method::Reduceat),
        method_erased(op, Method::Reduceat, &inputs, params, out),
    )
}

/// `np.<op>.outer(a, b)` over typed views: `op` of every pair, shape
/// `a.shape + b.shape`.
///
/// ```
/// use fnp_core::{outer_into, BinaryOp};
/// // np.multiply.outer([1, 2, 3], [4, 5, 6]).
/// let mut out = [0i32; 9];
/// outer_into(BinaryOp::Multiply, &[1i32, 2, 3], &[4i32, 5, 6], &mut out)?;
/// assert_eq!(out, [4, 5, 6, 8, 10, 12, 12, 15, 18]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn outer_into<'a, 'b, A: Element, B: Element, O: Element>(
    op: BinaryOp,
    a: impl Into<View<'a, A>>,
    b: impl Into<View<'b, B>>,
    out: &mut [O],
) -> Result<Output> {
    let (a, b): (View<'_, A>, View<'_, B>) = (a.into(), b.into());
    let inputs = [a.as_array(), b.as_array()];
    logged(
        op.method_name(Method::Outer),
        method_erased(op, Method::Outer, &inputs, &ReduceParams::default(), out),
    )
}

fn method_erased<O: Element>(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    out: &mut [O],
) -> Result<Output> {
    let out = sized_out(
        crate::ufunc::method_output(op, method, inputs, params)?,
        out,
    )?;
    crate::ufunc::method(op, method, inputs, params, out)
}

/// The two-output ufuncs over typed views, each output in a caller
/// slice: the first `shape.size()` elements of each are written.
fn multi_erased<O: Element, P: Element>(
    op: MultiOp,
    inputs: &[ArrayRef<'_>],
    first: &mut [O],
    second: &mut [P],
) -> Result<Output> {
    let (dtype, shape) = crate::ufunc::multi_output(op, inputs)?;
    if P::DTYPE != op.second_dtype(dtype) {
        return Err(Error::InvalidType);
    }
    let n = shape.size();
    let second = second
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<P>(n))?;
    let first = sized_out((dtype, shape), first)?;
    crate::ufunc::multi_parts(op, inputs, first, bytes_of(second)?)
}

/// `(q, r) = np.divmod(a, b)` over typed views: `q = a // b` and `r = a %
/// b` (floor_divide's and remainder's loops, results and errors), with
/// broadcasting; the flags are the union of theirs. The output type
/// follows from `A` and `B` as for [`floor_divide`](crate::floor_divide).
///
/// ```
/// use fnp_core::divmod;
/// // np.divmod(np.arange(5), 3) = ([0, 0, 0, 1, 1], [0, 1, 2, 0, 1]).
/// let (mut q, mut r) = ([0i64; 5], [0i64; 5]);
/// divmod(&[0i64, 1, 2, 3, 4], &[3i64], &mut q, &mut r)?;
/// assert_eq!((q, r), ([0, 0, 0, 1, 1], [0, 1, 2, 0, 1]));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn divmod<'a, 'b, A, B>(
    a: impl Into<View<'a, A>>,
    b: impl Into<View<'b, B>>,
    quotient: &mut [BinaryOut<rule::NoBool, A, B>],
    remainder: &mut [BinaryOut<rule::NoBool, A, B>],
) -> Result<Output>
where
    A: BinaryLoop<rule::NoBool, B>,
    B: Element,
    BinaryOut<rule::NoBool, A, B>: Element,
{
    let (a, b): (View<'_, A>, View<'_, B>) = (a.into(), b.into());
    let inputs = [a.as_array(), b.as_array()];
    logged(
        "divmod",
        multi_erased(MultiOp::Divmod, &inputs, quotient, remainder),
    )
}

/// `(fraction, integral) = np.modf(x)` over a typed view: both parts with
/// the sign of `x`, exact (C's `modf`); `modf(±inf) == (±0.0, ±inf)`.
/// Integers compute in float as for [`sqrt`](crate::sqrt).
///
/// ```
/// use fnp_core::modf;
/// // np.modf([0, 3.5]) = ([0., 0.5], [0., 3.])
/// let (mut frac, mut int) = ([0f64; 2], [0f64; 2]);
/// modf(&[0.0f64, 3.5], &mut frac, &mut int)?;
/// assert_eq!((frac, int), ([0.0, 0.5], [0.0, 3.0]));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn modf<'a, T>(
    x: impl Into<View<'a, T>>,
    fraction: &mut [UnaryOut<rule::Float, T>],
    integral: &mut [UnaryOut<rule::Float, T>],
) -> Result<Output>
where
    T: UnaryLoop<rule::Float>,
    UnaryOut<rule::Float, T>: Element,
{
    let x: View<'_, T> = x.into();
    logged(
        "modf",
        multi_erased(MultiOp::Modf, &[x.as_array()], fraction, integral),
    )
}

/// `(mantissa, exponent) = np.frexp(x)` over a typed view: `x == mantissa
/// * 2**exponent` with `0.5 <= |mantissa| < 1` and an `i32` exponent;
/// `frexp(0.0) == (0.0, 0)`, ±inf and NaN give themselves with exponent 0.
/// Exact. Integers compute in float as for [`sqrt`](crate::sqrt).
///
/// ```
/// use fnp_core::frexp;
/// // np.frexp([1.0, 8.0, -3.0]) = ([0.5, 0.5, -0.75], [1, 4, 2])
/// let (mut m, mut e) = ([0f32; 3], [0i32; 3]);
/// frexp(&[1.0f32, 8.0, -3.0], &mut m, &mut e)?;
/// assert_eq!((m, e), ([0.5, 0.5, -0.75], [1, 4, 2]));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn frexp<'a, T>(
    x: impl Into<View<'a, T>>,
    mantissa: &mut [UnaryOut<rule::Float, T>],
    exponent: &mut [i32],
) -> Result<Output>
where
    T: UnaryLoop<rule::Float>,
    UnaryOut<rule::Float, T>: Element,
{
    let x: View<'_, T> = x.into();
    logged(
        "frexp",
        multi_erased(MultiOp::Frexp, &[x.as_array()], mantissa, exponent),
    )
}

/// A reduction over every axis to one value (`np.mean(x)` & co.): the body
/// of the generated [`sum`](crate::sum), [`mean`](crate::mean), ….
#[doc(hidden)]
pub fn reduce_scalar<'a, T: Element, O: Element>(
    op: ReduceOp,
    x: impl Into<View<'a, T>>,
) -> Result<O> {
    reduce_scalar_with(op, x, &ReduceParams::default())
}

/// [`reduce_scalar`] with keywords that keep the result one value.
fn reduce_scalar_with<'a, T: Element, O: Element>(
    op: ReduceOp,
    x: impl Into<View<'a, T>>,
    params: &ReduceParams<'_>,
) -> Result<O> {
    let mut out = [O::default()];
    // A scalar result needs at most two scratch words (var of a masked
    // input: mean and count).
    let mut scratch = [0u64; 2];
    reduce_into(op, x, params, &mut out, &mut scratch)?;
    Ok(out[0])
}

/// The result dtype and shape of a binary ufunc on these views, to size
/// `out` before the call (`shape.size()` elements of `dtype`).
///
/// ```
/// use fnp_core::{binary_output, BinaryOp, DType, View};
///
/// let a = View::new(&[0u8; 6], &[3, 1, 2])?;
/// let (dtype, shape) = binary_output(BinaryOp::TrueDivide, a, &[1i16, 2])?;
/// assert_eq!((dtype, shape.dims()), (DType::Float64, &[3, 1, 2][..]));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn binary_output<'a, 'b, A: Element, B: Element>(
    op: BinaryOp,
    a: impl Into<View<'a, A>>,
    b: impl Into<View<'b, B>>,
) -> Result<(DType, Shape)> {
    op.output(&a.into().as_array(), &b.into().as_array())
}

/// The result dtype and shape of a unary ufunc on this view.
///
/// ```
/// use fnp_core::{unary_output, DType, UnaryOp};
/// assert_eq!(unary_output(UnaryOp::Isnan, &[1.0f32])?.0, DType::Bool);
/// assert_eq!(unary_output(UnaryOp::Exp, &[1i8]), Err(fnp_core::Error::Float16));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn unary_output<'a, T: Element>(
    op: UnaryOp,
    x: impl Into<View<'a, T>>,
) -> Result<(DType, Shape)> {
    op.output(&x.into().as_array())
}

/// The result dtype and shape of a reduction with these keywords.
///
/// ```
/// use fnp_core::{reduce_output, DType, ReduceOp, ReduceParams, View};
///
/// let x = View::new(&[0i16; 12], &[3, 4])?;
/// let (dtype, shape) = reduce_output(ReduceOp::Sum, x, &ReduceParams::along(-1))?;
/// assert_eq!((dtype, shape.dims()), (DType::Int64, &[3][..]));
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn reduce_output<'a, T: Element>(
    op: ReduceOp,
    x: impl Into<View<'a, T>>,
    params: &ReduceParams<'_>,
) -> Result<(DType, Shape)> {
    op.output(&x.into().as_array(), params)
}

/// The scratch words [`reduce_into`] needs (one or two per output element
/// for `mean`/`nanmean` with `where=`, `nanmean` of floats and `var`/`std`;
/// 0 otherwise).
///
/// ```
/// use fnp_core::{reduce_scratch_len, ReduceOp, ReduceParams, View};
///
/// let x = View::new(&[0f32; 12], &[3, 4])?;
/// assert_eq!(reduce_scratch_len(ReduceOp::Var, x, &ReduceParams::along(0))?, 4);
/// assert_eq!(reduce_scratch_len(ReduceOp::Max, x, &ReduceParams::along(0))?, 0);
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn reduce_scratch_len<'a, T: Element>(
    op: ReduceOp,
    x: impl Into<View<'a, T>>,
    params: &ReduceParams<'_>,
) -> Result<usize> {
    op.scratch_len(&x.into().as_array(), params)
}

/// The `for_each_op!` callback that writes one typed function per row:
/// binary ufuncs `f(a, b, out)`, unary ufuncs `f(x, out)`, folds `f(x)`
/// returning one value and scans `f(x, out)`.
macro_rules! typed_fns {
    (
        binary { $($(#[$bdoc:meta])* $bv:ident = $bcode:literal, $bname:ident,
                   [$($balias:literal),*], $bfamily:ident -> $bout:ident, $bacc:ident $(($($bargs:tt)*))?, $bidentity:ident;)* }
        unary { $($(#[$udoc:meta])* $uv:ident = $ucode:literal, $uname:ident,
                  [$($ualias:literal),*], $ufamily:ident -> $uout:ident, $uacc:ident $(($($uargs:tt)*))?;)* }
        reduce { $($(#[$rdoc:meta])* $rv:ident = $rcode:literal, $rname:ident,
                   [$($ralias:literal),*], $rkind:ident -> $rout:ident, $raccuracy:expr, [$($rkw:ident),*];)* }
    ) => {
        /// The typed function of every op of [`crate::table`], re-exported
        /// at the crate root.
        pub(crate) mod fns {
            use crate::element::Element;
            use crate::error::Result;
            use crate::output::Output;
            use crate::promote::{
                rule, BinaryLoop, BinaryOut, ReduceLoop, ReduceOut, UnaryLoop, UnaryOut,
            };
            use crate::table::{BinaryOp, ReduceOp, UnaryOp};
            use crate::view::View;
            $(
                $(#[$bdoc])*
                ///
                #[doc = concat!(
                    "`out = np.", stringify!($bname), "(a, b)` over typed views, with broadcasting; ",
                    "returns the output's dtype, shape and the IEEE flags NumPy raises ([`Output`]).\n\n",
                    "- Loops: [`BinaryFamily::", stringify!($bfamily), "`](crate::BinaryFamily::", stringify!($bfamily), ") ",
                    "decides the dtypes; the output type follows from `A` and `B` by ",
                    "[`rule::", stringify!($bout), "`](crate::promote::rule::", stringify!($bout), ").\n",
                    "- Accuracy against NumPy: float results ", crate::typed::accuracy_words!($bacc $(($($bargs)*))?),
                    "; integer and bool results are bit-identical ([`BinaryOp::accuracy`](crate::BinaryOp::accuracy) ",
                    "has the policy the conformance suite checks, see [`crate::precision`]).\n",
                    "- Errors: [`Error::BroadcastMismatch`](crate::Error::BroadcastMismatch), ",
                    "[`Error::NoLoop`](crate::Error::NoLoop) (TypeError), ",
                    "[`Error::BufferTooSmall`](crate::Error::BufferTooSmall) (in bytes, as everywhere).\n",
                    "- Type-erased: [`BinaryOp::", stringify!($bv), "`](crate::BinaryOp::", stringify!($bv), ") ",
                    "with [`binary_into`](crate::binary_into) or [`crate::call`]."
                )]
                pub fn $bname<'a, 'b, A, B>(
                    a: impl Into<View<'a, A>>,
                    b: impl Into<View<'b, B>>,
                    out: &mut [BinaryOut<rule::$bout, A, B>],
                ) -> Result<Output>
                where
                    A: BinaryLoop<rule::$bout, B>,
                    B: Element,
                    BinaryOut<rule::$bout, A, B>: Element,
                {
                    let (a, b): (View<'a, A>, View<'b, B>) = (a.into(), b.into());
                    crate::typed::typed_binary!($bfamily, $bv, BinaryOut<rule::$bout, A, B>, A, B, a, b, out)
                }
            )*
            $(
                $(#[$udoc])*
                ///
                #[doc = concat!(
                    "`out = np.", stringify!($uname), "(x)` over a typed view, elementwise; ",
                    "returns the output's dtype, shape and the IEEE flags NumPy raises ([`Output`]).\n\n",
                    "- Loops: [`UnaryFamily::", stringify!($ufamily), "`](crate::UnaryFamily::", stringify!($ufamily), ") ",
                    "decides the dtypes; the output type follows from `T` by ",
                    "[`rule::", stringify!($uout), "`](crate::promote::rule::", stringify!($uout), ").\n",
                    "- Accuracy against NumPy: float results ", crate::typed::accuracy_words!($uacc $(($($uargs)*))?),
                    "; integer and bool results are bit-identical ([`UnaryOp::accuracy`](crate::UnaryOp::accuracy) ",
                    "has the policy the conformance suite checks, see [`crate::precision`]).\n",
                    "- Errors: [`Error::NoLoop`](crate::Error::NoLoop) (TypeError), ",
                    "[`Error::BufferTooSmall`](crate::Error::BufferTooSmall) (in bytes, as everywhere). ",
                    "Where NumPy answers in float16 the call does not compile ([`Float16`](crate::promote::Float16)).\n",
                    "- Type-erased: [`UnaryOp::", stringify!($uv), "`](crate::UnaryOp::", stringify!($uv), ") ",
                    "with [`unary_into`](crate::unary_into) or [`crate::call`]."
                )]
                pub fn $uname<'a, T>(
                    x: impl Into<View<'a, T>>,
                    out: &mut [UnaryOut<rule::$uout, T>],
                ) -> Result<Output>
                where
                    T: UnaryLoop<rule::$uout>,
                    UnaryOut<rule::$uout, T>: Element,
                {
                    // The loop type is a compile-time constant: one kernel.
                    let x: View<'a, T> = x.into();
                    let array = x.as_array();
                    let r = match const { UnaryOp::$uv.loop_for(T::DTYPE) } {
                        Ok(d) => crate::element::with_dtype!(d, L => {
                            crate::ufunc::unary::unary_as::<L, UnaryOut<rule::$uout, T>, T>(
                                UnaryOp::$uv,
                                &array,
                                out,
                            )
                        }),
                        Err(e) => Err(e),
                    };
                    crate::typed::logged(UnaryOp::$uv.name(), r)
                }
            )*
            $(crate::typed::reduce_fn!($rkind, $rv, $rname, $rout, $(#[$rdoc])*);)*
        }
    };
}

/// One typed reduction function: `Fold` ops reduce every axis to one value,
/// `Scan` ops (cumsum, cumprod) write the flattened running result.
macro_rules! reduce_fn {
    (Fold, $variant:ident, $name:ident, $rule:ident, $(#[$doc:meta])*) => {
        $(#[$doc])*
        ///
        #[doc = concat!(
            "`np.", stringify!($name), "(x)` over every axis of a typed view, as one value of ",
            "NumPy's result type ([`rule::", stringify!($rule), "`](crate::promote::rule::", stringify!($rule), ")). ",
            "For `axis=`, `keepdims=`, `where=`, `initial=`, `dtype=`, `ddof=` and the IEEE flags NumPy ",
            "raises, use [`reduce_into`](crate::reduce_into) with ",
            "[`ReduceOp::", stringify!($variant), "`](crate::ReduceOp::", stringify!($variant), ").\n\n",
            "Float results are bit-identical to NumPy's (its pairwise summation order for the ",
            "view's layout; see [`crate::precision`]). Errors: ",
            "[`Error::EmptyReduction`](crate::Error::EmptyReduction) for an empty input where NumPy has no identity."
        )]
        pub fn $name<'a, T: ReduceLoop<rule::$rule>>(
            x: impl Into<View<'a, T>>,
        ) -> Result<ReduceOut<rule::$rule, T>> {
            crate::typed::reduce_scalar(ReduceOp::$variant, x)
        }
    };
    (Scan, $variant:ident, $name:ident, $rule:ident, $(#[$doc:meta])*) => {
        $(#[$doc])*
        ///
        #[doc = concat!(
            "`np.", stringify!($name), "(x)` of a typed view, flattened in C order into `out` ",
            "(of NumPy's result type, [`rule::", stringify!($rule), "`](crate::promote::rule::", stringify!($rule), ")); ",
            "for `axis=` and `dtype=` use ",
            "[`reduce_into`](crate::reduce_into) with [`ReduceOp::", stringify!($variant), "`](crate::ReduceOp::",
            stringify!($variant), "). Errors: [`Error::BufferTooSmall`](crate::Error::BufferTooSmall)."
        )]
        pub fn $name<'a, T: ReduceLoop<rule::$rule>>(
            x: impl Into<View<'a, T>>,
            out: &mut [ReduceOut<rule::$rule, T>],
        ) -> Result<Output> {
            crate::typed::reduce_into(
                ReduceOp::$variant,
                x,
                &crate::reduce::ReduceParams::default(),
                out,
                &mut [],
            )
        }
    };
}

pub(crate) use reduce_fn;

/// `np.var(x, ddof=ddof)` over every axis of a typed view: the variance
/// with `n - ddof` in the denominator (`ddof = 1` is the sample variance;
/// `n - ddof <= 0` gives inf or NaN with the flags NumPy raises, as NumPy
/// does). [`var`](crate::var) is `ddof = 0`; for `axis=` and the other
/// keywords use [`reduce_into`] with [`ReduceParams::with_ddof`].
///
/// ```
/// let x = [2.0f32, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
/// assert_eq!(fnp_core::var_ddof(&x, 1)?, 32.0 / 7.0); // np.var(x, ddof=1)
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn var_ddof<'a, T: ReduceLoop<rule::Real>>(
    x: impl Into<View<'a, T>>,
    ddof: impl Into<f64>,
) -> Result<ReduceOut<rule::Real, T>> {
    reduce_scalar_with(
        ReduceOp::Var,
        x,
        &ReduceParams::default().with_ddof(ddof.into()),
    )
}

/// `np.std(x, ddof=ddof)` over every axis of a typed view: the square
/// root of [`var_ddof`]; `std_ddof(&x, 1)` is the sample standard
/// deviation. [`std`](crate::std()) is `ddof = 0`.
///
/// ```
/// let x = [2.0f32, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
/// assert_eq!(fnp_core::std_ddof(&x, 0)?, 2.0); // np.std(x)
/// assert_eq!(fnp_core::std_ddof(&x, 1)?, (32.0f32 / 7.0).sqrt()); // np.std(x, ddof=1)
/// # Ok::<(), fnp_core::Error>(())
/// ```
pub fn std_ddof<'a, T: ReduceLoop<rule::Real>>(
    x: impl Into<View<'a, T>>,
    ddof: impl Into<f64>,
) -> Result<ReduceOut<rule::Real, T>> {
    reduce_scalar_with(
        ReduceOp::Std,
        x,
        &ReduceParams::default().with_ddof(ddof.into()),
    )
}

crate::table::for_each_op!(typed_fns);

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;

    use crate::element::{Bool, Element};
    use crate::error::Error;
    use crate::promote::{each_pair, each_type, rule, BinaryLoop, ReduceLoop, Slot, UnaryLoop};
    use crate::reduce::ReduceParams;
    use crate::table::{BinaryOp, ReduceOp, UnaryOp};

    /// The typed method entries check the output type and size first.
    #[test]
    fn method_entries_check_their_buffers() {
        use crate::table::Method;
        let params = ReduceParams::along(0);
        let x = [3i32, 1, 4];
        // maximum.accumulate of int32 is int32, three of them.
        let mut wrong = [0i64; 3];
        assert_eq!(
            super::method_into(
                BinaryOp::Maximum,
                Method::Accumulate,
                &x,
                &params,
                &mut wrong
            ),
            Err(Error::InvalidType)
        );
        let mut short = [0i32; 2];
        assert!(matches!(
            super::method_into(
                BinaryOp::Maximum,
                Method::Accumulate,
                &x,
                &params,
                &mut short
            ),
            Err(Error::BufferTooSmall { .. })
        ));
        // add.reduce of int32 sums in int64 (NumPy's small-int upcast).
        let mut sum = [0i64];
        super::method_into(BinaryOp::Add, Method::Reduce, &x, &params, &mut sum).unwrap();
        assert_eq!(sum, [8]);
        // reduceat's indices must lie on the axis; outer of 3 and 2 is 3x2.
        let mut out = [0i32; 2];
        assert_eq!(
            super::reduceat_into(BinaryOp::Add, &x, &[0i64, 3], &params, &mut out),
            Err(Error::IndexOutOfBounds)
        );
        let mut pairs = [0i32; 6];
        let r = super::outer_into(BinaryOp::Subtract, &x, &[1i32, 2], &mut pairs).unwrap();
        assert_eq!(r.shape.dims(), &[3, 2]);
        assert_eq!(pairs, [2, 1, 0, -1, 3, 2]);
    }

    /// The accuracy the docs state in words is the policy the conformance
    /// suite applies: the ULP bounds of every transcendental row in use.
    #[test]
    fn accuracy_words_state_the_table_bounds() {
        use crate::flags::FpFlags;
        use crate::precision::{transcendental, Accuracy};
        const U: FpFlags = FpFlags::UNDERFLOW;
        let rows: [(&str, Accuracy); 5] = [
            (
                accuracy_words!(transcendental(1, 1, U)),
                transcendental(1, 1, U),
            ),
            (
                accuracy_words!(transcendental(2, 1, U)),
                transcendental(2, 1, U),
            ),
            (
                accuracy_words!(transcendental(3, 1, U)),
                transcendental(3, 1, U),
            ),
            (
                accuracy_words!(transcendental(4, 1, U)),
                transcendental(4, 1, U),
            ),
            (
                accuracy_words!(transcendental(2, 2, U)),
                transcendental(2, 2, U),
            ),
        ];
        for (words, acc) in rows {
            let want = format!(
                "float32 within {} ULP and float64 within {} ULP",
                acc.f32.ulp, acc.f64.ulp
            );
            assert!(words.contains(&want), "{words}");
        }
        assert!(accuracy_words!(EXACT).contains("bit-identical"));
        assert_eq!(crate::precision::POWER.f32.ulp, 2);
        assert!(accuracy_words!(POWER).contains("within 2 ULP"));
    }
    use crate::view::View;

    /// The rule's type against the run-time resolver: the same dtype
    /// where NumPy has a loop, float16 where NumPy answers in float16.
    fn agree(op: &str, typed: Option<crate::DType>, resolved: crate::Result<crate::DType>) {
        match resolved {
            Ok(d) => assert_eq!(typed, Some(d), "{op}"),
            Err(Error::Float16) => assert_eq!(typed, None, "{op}"),
            // No loop at all: the rule's type is never produced.
            Err(_) => {}
        }
    }

    fn binary<R, A: BinaryLoop<R, B>, B: Element>(op: BinaryOp) {
        let (a, b) = ([A::default()], [B::default()]);
        let (a, b) = (View::from(&a), View::from(&b));
        let resolved = op.output(&a.as_array(), &b.as_array()).map(|(d, _)| d);
        let name = format!("{op}({:?}, {:?})", A::DTYPE, B::DTYPE);
        agree(&name, <A::Out as Slot>::ELEMENT_DTYPE, resolved);
    }

    fn unary<R, T: UnaryLoop<R>>(op: UnaryOp) {
        let x = [T::default()];
        let resolved = op.output(&View::from(&x).as_array()).map(|(d, _)| d);
        agree(
            &format!("{op}({:?})", T::DTYPE),
            <T::Out as Slot>::ELEMENT_DTYPE,
            resolved,
        );
    }

    fn reduce<R, T: ReduceLoop<R>>(op: ReduceOp) {
        let x = [T::default()];
        let x = View::from(&x);
        let resolved = op
            .output(&x.as_array(), &ReduceParams::default())
            .map(|(d, _)| d);
        let name = format!("{op}({:?})", T::DTYPE);
        agree(&name, Some(<T::Out as Element>::DTYPE), resolved);
    }

    macro_rules! binary_case {
        ([$op:ident $rule:ident], $a:ty, $b:ty) => {
            binary::<rule::$rule, $a, $b>(BinaryOp::$op)
        };
    }
    macro_rules! unary_case {
        ([$op:ident $rule:ident], $t:ty) => {
            unary::<rule::$rule, $t>(UnaryOp::$op)
        };
    }
    macro_rules! reduce_case {
        ([$op:ident $rule:ident], $t:ty) => {
            reduce::<rule::$rule, $t>(ReduceOp::$op)
        };
    }

    /// Every op of the table, every dtype (pair): the signature's output
    /// type is the dtype NumPy's resolver gives at run time.
    macro_rules! rules_agree {
        (
            binary { $($(#[$bdoc:meta])* $bv:ident = $bcode:literal, $bname:ident,
                       [$($balias:literal),*], $bfamily:ident -> $bout:ident, $baccuracy:expr, $bidentity:ident;)* }
            unary { $($(#[$udoc:meta])* $uv:ident = $ucode:literal, $uname:ident,
                      [$($ualias:literal),*], $ufamily:ident -> $uout:ident, $uaccuracy:expr;)* }
            reduce { $($(#[$rdoc:meta])* $rv:ident = $rcode:literal, $rname:ident,
                       [$($ralias:literal),*], $rkind:ident -> $rout:ident, $raccuracy:expr, [$($rkw:ident),*];)* }
        ) => {
            #[test]
            fn binary_signatures_match_the_resolver() {
                $(each_pair!(binary_case, $bv, $bout);)*
            }

            #[test]
            fn unary_signatures_match_the_resolver() {
                $(each_type!(unary_case, $uv, $uout);)*
            }

            #[test]
            fn reduction_signatures_match_the_resolver() {
                $(each_type!(reduce_case, $rv, $rout);)*
            }
        };
    }
    crate::table::for_each_op!(rules_agree);

    #[test]
    fn outputs_are_inferred() {
        let mut out = [Bool::FALSE; 2];
        crate::less(&[1i8, 3], &[2u64, 2], &mut out).unwrap();
        assert_eq!(out, [Bool::TRUE, Bool::FALSE]);
        let s = crate::sum(&[Bool::TRUE, Bool::TRUE]).unwrap();
        assert_eq!(s, 2i64);
        let i = crate::argmin(&[3.0f64, -1.0]).unwrap();
        assert_eq!(i, 1i64);
    }
}
