//! The methods of a binary ufunc object: `reduce`, `accumulate`,
//! `reduceat` and `outer`.
//!
//! NumPy runs a method through the ufunc's own loop: `reduce` sets the
//! result to the ufunc's identity (or `initial=`, or, for an op without
//! one, the first element along the reduced axes) and then applies
//! `out = op(out, x)` for every further element, in the order its iterator
//! visits them; `accumulate` applies `out[j] = op(out[j - 1], x[j])` along
//! one axis; `reduceat` copies each slice's first element and folds the
//! rest into it (float `add` as NumPy's pairwise sum of the rest); `outer`
//! is the plain ufunc call on `a[..., None, …]` and `b`. This module does
//! the same with the elementwise kernels of
//! [`super`], a chunk of outputs at a time, so every method of every ufunc
//! gets the ufunc's exact element results and IEEE flags.
//!
//! `add.reduce`, `multiply.reduce` and (without `dtype=`) the
//! maximum/minimum/fmax/fmin reductions are NumPy's `sum`, `prod`, `max`,
//! `min`, `nanmax` and `nanmin`, which the reduction engine already
//! computes in NumPy's order (pairwise for float sums); they are handed to
//! it unchanged.

use super::extra::{self, Loops};
use super::{arith_kernel, keywords, Kernel, CHUNK};
use crate::array::ArrayRef;
use crate::dtype::{DType, OperandType};
use crate::element::{Bool, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::op::Op;
use crate::output::Output;
use crate::reduce::{self, initial_value, Axes, ReduceParams, BLOCK};
use crate::shape::{Layout, Shape, MAX_NDIM};
use crate::table::{BinaryFamily, BinaryOp, Identity, Method, ReduceOp};

/// The reduction that is the same computation as `op.reduce` (NumPy's
/// `sum` is `add.reduce`, …), if there is one for these keywords.
fn same_as_reduction(op: BinaryOp, method: Method, p: &ReduceParams<'_>) -> Option<ReduceOp> {
    if method != Method::Reduce {
        return None;
    }
    match op {
        BinaryOp::Add => Some(ReduceOp::Sum),
        BinaryOp::Multiply => Some(ReduceOp::Prod),
        // np.max and friends take no `dtype=`.
        _ if p.dtype.is_some() => None,
        BinaryOp::Maximum => Some(ReduceOp::Max),
        BinaryOp::Minimum => Some(ReduceOp::Min),
        BinaryOp::Fmax => Some(ReduceOp::Nanmax),
        BinaryOp::Fmin => Some(ReduceOp::Nanmin),
        _ => None,
    }
}

/// Whether NumPy lets `op.reduce` run over several axes at once: ops with
/// an identity and the min/max family (`PyUFunc_ReorderableNone`).
pub const fn reorderable(op: BinaryOp) -> bool {
    !matches!(op.identity(), Identity::None)
        || matches!(
            op,
            BinaryOp::Maximum | BinaryOp::Minimum | BinaryOp::Fmax | BinaryOp::Fmin
        )
}

/// The dtype `op`'s methods compute and return in for an input of `input`
/// (NumPy's `reducelike_promote_and_resolve`): `dtype=` if given, else the
/// input's, widened to int64/uint64 for add and multiply of bool and small
/// integers and made bool for the logical ufuncs. The op's loop for two
/// operands of that dtype must return it (a comparison has no
/// `int64, int64 -> int64` loop: TypeError). ldexp folds its array in as
/// exponents: the accumulator is the float an `input` mantissa goes to
/// (int16 gives float32).
///
/// ```
/// use fnp_core::{method_dtype, BinaryOp, DType, Error, Method};
/// // np.add.reduce(uint8) sums in uint64; np.equal.reduce(int8) has no loop.
/// assert_eq!(method_dtype(BinaryOp::Add, Method::Reduce, DType::UInt8, None), Ok(DType::UInt64));
/// assert_eq!(method_dtype(BinaryOp::Equal, Method::Reduce, DType::Int8, None), Err(Error::NoLoop));
/// assert_eq!(method_dtype(BinaryOp::Ldexp, Method::Reduce, DType::Int16, None), Ok(DType::Float32));
/// ```
pub fn method_dtype(
    op: BinaryOp,
    method: Method,
    input: DType,
    dtype: Option<DType>,
) -> Result<DType> {
    if method == Method::At {
        // `at` leaves the array in its own dtype; it takes no `dtype=`.
        return match dtype {
            Some(_) => Err(Error::InvalidType),
            None => Ok(input),
        };
    }
    if op.family() == BinaryFamily::Ldexp && method != Method::Reduce {
        // ldexp's (float, int) loop is never the uniform one accumulate and
        // reduceat need; a missing loop is the same TypeError.
        return Err(Error::NoLoop);
    }
    let d = match dtype {
        Some(d) => d,
        None if op.family() == BinaryFamily::Logical => DType::Bool,
        None if matches!(op, BinaryOp::Add | BinaryOp::Multiply) => {
            reduce::default_accumulator(input)
        }
        None => input,
    };
    // The array is the second operand of every step: for ldexp its
    // exponent, next to a float accumulator.
    let (first, second) = (OperandType::Array(d), OperandType::Array(input));
    let second = if op.family() == BinaryFamily::Ldexp {
        second
    } else {
        first
    };
    let looped = match op.loop_dtype(first, second) {
        // A float16 loop cannot return the `dtype=` asked for.
        Err(Error::Float16) if dtype.is_some() => return Err(Error::NoLoop),
        other => other?,
    };
    let out = op.resolve(first, second)?;
    if out != looped || (dtype.is_some() && out != d) {
        return Err(Error::NoLoop);
    }
    Ok(out)
}

/// Everything decided before computing.
struct Resolved<'a> {
    /// `reduceat`'s indices (checked: 1-d, each in the axis).
    indices: Option<ArrayRef<'a>>,
    dtype: DType,
    shape: Shape,
    /// Reduced axes (`reduce`), or the one axis (`accumulate`).
    reduced: [bool; MAX_NDIM],
    /// The value every output starts from, when not the first element.
    start: Start,
    /// `reduce` into an `out=` of this other dtype: NumPy starts each
    /// output there, so the start is cast into it and back.
    through: Option<DType>,
}

/// What `reduce` starts each output from.
#[derive(Clone, Copy, PartialEq)]
enum Start {
    /// `initial=`.
    Initial(reduce::Scalar),
    /// The ufunc's identity.
    Identity,
    /// The first element along the reduced axes (no identity).
    First,
}

/// The array and `reduceat`'s indices among `inputs`.
fn operands<'i, 'a>(
    method: Method,
    inputs: &'i [ArrayRef<'a>],
) -> Result<(&'i ArrayRef<'a>, Option<&'i ArrayRef<'a>>)> {
    match (method, inputs) {
        (Method::Reduceat, [a, indices]) => Ok((a, Some(indices))),
        (Method::Reduce | Method::Accumulate, [a]) => Ok((a, None)),
        _ => Err(Error::InvalidArgument),
    }
}

fn resolve<'a>(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'a>],
    p: &ReduceParams<'_>,
) -> Result<Resolved<'a>> {
    let (a, indices) = operands(method, inputs)?;
    // accumulate and reduceat: one axis, the input's rank.
    let along = method != Method::Reduce;
    // Keywords the method does not take are a TypeError.
    if p.ddof != 0.0 || (along && (p.keepdims || p.initial.is_some() || p.where_mask.is_some())) {
        return Err(Error::InvalidType);
    }
    if let Some(ind) = indices {
        // NumPy casts them to intp under the 'safe' rule, and wants 1-d.
        let d = ind.dtype();
        if !(d == DType::Bool || (d.is_integer() && d != DType::UInt64)) {
            return Err(Error::InvalidType);
        }
        if ind.shape().ndim() != 1 {
            return Err(Error::InvalidArgument);
        }
    }
    let shape = a.shape();
    let ndim = shape.ndim();
    if along && ndim == 0 {
        // "cannot accumulate on a scalar" (and reduceat).
        return Err(Error::InvalidType);
    }
    let reduced = match (p.axis, p.axis.as_slice()) {
        // A 0-d array's reduction along 0 or -1 is the array itself
        // (NumPy's legacy special case).
        (Axes::One(0 | -1), _) if ndim == 0 => [false; MAX_NDIM],
        (_, None) => {
            let mut all = [false; MAX_NDIM];
            all.iter_mut().take(ndim).for_each(|r| *r = true);
            all
        }
        (_, Some(list)) => reduce::axis_flags(list, ndim)?,
    };
    let count = reduced.iter().filter(|&&r| r).count();
    // NumPy has the float16 loop fnp lacks: its other errors come first.
    // reduceat checks its axis and indices first.
    let dtype = match method_dtype(op, method, a.dtype(), p.dtype) {
        Err(e) if e != Error::Float16 && method != Method::Reduceat => return Err(e),
        d => d,
    };
    if along && count != 1 {
        // "accumulate does not allow multiple axes".
        return Err(Error::InvalidArgument);
    }
    if count > 1 && !reorderable(op) {
        // "reduction operation 'subtract' is not reorderable".
        return Err(Error::InvalidArgument);
    }
    let start = if let Some(v) = p.initial {
        Start::Initial(v)
    } else if op.identity() != Identity::None {
        Start::Identity
    } else {
        Start::First
    };
    if let Some(m) = p.where_mask {
        if m.dtype() != DType::Bool {
            return Err(Error::InvalidType);
        }
        m.layout().broadcast_to(shape)?;
        if start == Start::First {
            // "… does not have an identity, so to use a where mask one has
            // to specify 'initial'".
            return Err(Error::InvalidArgument);
        }
    }
    let out_shape = if let Some(ind) = indices {
        // The axis is as long as the index list; every index must be in it.
        let axis = reduced.iter().position(|&r| r).unwrap_or(0);
        let n = shape.dims().get(axis).copied().unwrap_or(0);
        let m = ind.shape().size();
        for k in 0..m {
            let i = index_at(ind, k);
            if i < 0 || i >= n as i64 {
                return Err(Error::IndexOutOfBounds);
            }
        }
        let mut out = Shape::SCALAR;
        for (k, &d) in shape.dims().iter().enumerate() {
            out.push(if k == axis { m } else { d })?;
        }
        out
    } else if along {
        *shape
    } else {
        let mut out = Shape::SCALAR;
        for (&d, &r) in shape.dims().iter().zip(&reduced) {
            if !r {
                out.push(d)?;
            } else if p.keepdims {
                out.push(1)?;
            }
        }
        out
    };
    let empty = shape
        .dims()
        .iter()
        .zip(&reduced)
        .any(|(&d, &r)| r && d == 0);
    if !along && empty && start == Start::First {
        return Err(Error::EmptyReduction);
    }
    Ok(Resolved {
        indices: indices.copied(),
        dtype: dtype?,
        shape: out_shape,
        reduced,
        start,
        through: None,
    })
}

/// The result dtype and shape of `op.method(a, **p)`, without computing
/// anything; checks every keyword as NumPy does.
pub fn method_output(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'_>,
) -> Result<(DType, Shape)> {
    if method == Method::Outer {
        let (a, b) = outer_operands(inputs)?;
        if keywords::keyed(p) {
            return keywords::output(Op::Binary(op), &[a, b], p);
        }
        p.expect_defaults()?;
        return op.output(&a, &b);
    }
    if method == Method::At {
        p.expect_defaults()?;
        return super::binary_at_output(op, inputs);
    }
    if let Some(plan) = out_plan(op, method, inputs, p)? {
        return Ok((plan.out.dtype, plan.out.shape));
    }
    if let Some(r) = same_as_reduction(op, method, p) {
        let (a, _) = operands(method, inputs)?;
        return r.output(a, p);
    }
    let r = resolve(op, method, inputs, p)?;
    Ok((r.dtype, r.shape))
}

/// Scratch words `op.method(*inputs, **p)` needs: the result in its loop
/// dtype when it is cast into `out=`, or an `outer` call's with keywords.
pub(crate) fn method_scratch_len(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'_>,
) -> Result<usize> {
    if method == Method::Outer && keywords::keyed(p) {
        let (a, b) = outer_operands(inputs)?;
        return keywords::scratch_len(Op::Binary(op), &[a, b], p);
    }
    match out_plan(op, method, inputs, p)? {
        Some(plan) if plan.cast => Ok(plan.result_bytes.div_ceil(8)),
        _ => method_output(op, method, inputs, p).map(|_| 0),
    }
}

/// `out=` of `reduce`, `accumulate` or `reduceat`, checked.
struct OutPlan<'a> {
    /// The keywords with `dtype=` the loop's and no `out=`.
    params: ReduceParams<'a>,
    out: crate::reduce::OutArray,
    /// The loop's dtype differs from the out's: the result is computed
    /// into scratch and cast.
    cast: bool,
    /// Bytes of the result in the loop's dtype.
    result_bytes: usize,
}

/// NumPy's buffer, in elements: a reduction into an `out=` of another
/// dtype casts its partial results through `out` at every refill.
const NUMPY_BUFFER: usize = 8192;

/// `out=` of `reduce`, `accumulate` and `reduceat` (NumPy 2.4, measured):
/// the loop is the ufunc's for the out's dtype and the array's (`dtype=`
/// if given; no add/multiply widening), the result is cast into `out`
/// (unsafe), whose shape must be the result's (ValueError). `accumulate`
/// and `reduceat` compute in a copy of that dtype; `reduce` starts each
/// output in `out` itself (the identity or `initial=` cast into it, or
/// the first element), which fnp reproduces by casting each start into
/// the out's dtype and back; a reduction larger than NumPy's buffer, or
/// add/multiply with `initial=` (the reduction engine's own start), into
/// an out of another dtype is reported unsupported.
fn out_plan<'a>(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'a>,
) -> Result<Option<OutPlan<'a>>> {
    if p.casting != crate::dtype::Casting::SameKind || p.signature.is_some() {
        // "reduce() got an unexpected keyword argument 'casting'".
        return Err(Error::InvalidType);
    }
    let [first, second] = p.out;
    if second.is_some() {
        // "The 'out' tuple must have exactly one entry per ufunc output".
        return Err(Error::InvalidArgument);
    }
    let Some(out) = first else {
        return Ok(None);
    };
    let (a, _) = operands(method, inputs)?;
    let looped = match p.dtype {
        Some(d) => d,
        None => op.loop_dtype(OperandType::Array(out.dtype), OperandType::Array(a.dtype()))?,
    };
    let params = ReduceParams {
        dtype: Some(looped),
        out: [None, None],
        ..*p
    };
    let (dtype, shape) = method_output(op, method, inputs, &params)?;
    if shape != out.shape {
        return Err(Error::BroadcastMismatch);
    }
    let cast = dtype != out.dtype;
    // The general fold casts each output's start through `out` as NumPy
    // does; add and multiply go to the reduction engine, whose identity
    // (0, 1) survives the trip but whose `initial=` might not. A reduction
    // beyond one NumPy buffer casts partial results through `out` too.
    let engine = same_as_reduction(op, method, &params).is_some();
    if cast
        && method == Method::Reduce
        && ((engine && p.initial.is_some()) || a.shape().size() > NUMPY_BUFFER)
    {
        return Err(Error::Unsupported);
    }
    let result_bytes = shape
        .size()
        .checked_mul(dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    Ok(Some(OutPlan {
        params,
        out,
        cast,
        result_bytes,
    }))
}

/// `outer`'s operands as NumPy makes them: arrays (a Python scalar is a
/// 0-d array of its dtype, no longer weak), `a` with `b.ndim` trailing
/// length-1 axes so that the ufunc's broadcasting does the rest.
fn outer_operands<'a>(inputs: &[ArrayRef<'a>]) -> Result<(ArrayRef<'a>, ArrayRef<'a>)> {
    let [a, b] = inputs else {
        return Err(Error::InvalidArgument);
    };
    let (na, nb) = (a.shape().ndim(), b.shape().ndim());
    let n = na
        .checked_add(nb)
        .filter(|&n| n <= MAX_NDIM)
        .ok_or(Error::TooManyDims)?;
    let mut dims = [1usize; MAX_NDIM];
    let mut strides = [0isize; MAX_NDIM];
    for ((d, s), (&ad, &st)) in dims
        .iter_mut()
        .zip(strides.iter_mut())
        .zip(a.shape().dims().iter().zip(a.layout().strides()))
    {
        *d = ad;
        *s = st;
    }
    let shape = Shape::new(dims.get(..n).unwrap_or(&[]))?;
    let layout = Layout::strided(shape, strides.get(..n).unwrap_or(&[]), a.layout().offset())?;
    Ok((
        ArrayRef::new(a.dtype(), a.bytes(), layout)?,
        ArrayRef::new(b.dtype(), b.bytes(), *b.layout())?,
    ))
}

/// Element `k` of a 1-d index array, as an int64.
fn index_at(indices: &ArrayRef<'_>, k: usize) -> i64 {
    let stride = indices.layout().strides().first().copied().unwrap_or(0);
    let at = (indices.layout().offset() as isize).wrapping_add((k as isize).wrapping_mul(stride));
    let mut one = [0i64];
    indices.load(at as usize, 0, &mut one);
    one[0]
}

/// NumPy's `op.method(*inputs, **p)` (`np.maximum.accumulate(a,
/// axis=0)`, `np.add.reduceat(a, indices)`, `np.add.outer(a, b)`),
/// writing the C-contiguous result into `out` (bytes, aligned for the
/// result dtype; size it with [`method_output`]).
///
/// `p.axis` is the method's `axis=` as given: NumPy's default for
/// `reduce`, `accumulate` and `reduceat` is `axis=0`, not
/// [`ReduceParams::default`]'s `None`. `out=` (`p.out`) of the result's
/// own dtype is written here directly; one of another dtype, and `outer`
/// with the call keywords (`out=`, `where=`, `casting=`, `dtype=`,
/// `signature=`), need scratch: run those through [`crate::call`] with
/// [`crate::scratch_len`] words.
///
/// Errors as NumPy raises them: [`Error::AxisOutOfBounds`],
/// [`Error::DuplicateAxis`], [`Error::NoLoop`] (no `T, T -> T` loop, such
/// as `equal` of integers), [`Error::InvalidArgument`] (several axes for an
/// op that is not reorderable or for `accumulate`; `where=` without
/// `initial=` for an op without identity), [`Error::InvalidType`] (a
/// keyword the method does not take, `accumulate` of a 0-d array,
/// `reduceat` indices that are not integers), [`Error::IndexOutOfBounds`],
/// [`Error::EmptyReduction`], [`Error::PythonIntOverflow`] (`initial=`),
/// [`Error::Float16`], [`Error::TooManyDims`] (`outer` beyond
/// [`MAX_NDIM`]), and
/// [`Error::BufferTooSmall`] and [`Error::Misaligned`].
pub fn method(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'_>,
    out: &mut [u8],
) -> Result<Output> {
    method_with_scratch(op, method, inputs, p, out, &mut [])
}

/// [`method`] with a scratch buffer ([`crate::scratch_len`] words): an
/// `out=` of another dtype than the loop's, or `outer` with the call
/// keywords, needs one.
pub(crate) fn method_with_scratch(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'_>,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<Output> {
    if method == Method::Outer {
        let (a, b) = outer_operands(inputs)?;
        if keywords::keyed(p) {
            return keywords::call(Op::Binary(op), &[a, b], p, out, scratch);
        }
        p.expect_defaults()?;
        return super::binary(op, &a, &b, out);
    }
    if let Some(plan) = out_plan(op, method, inputs, p)? {
        if !plan.cast {
            return compute(op, method, inputs, &plan.params, out, None);
        }
        let scratch: &mut [u8] = bytemuck::cast_slice_mut(scratch);
        let result = scratch
            .get_mut(..plan.result_bytes)
            .ok_or_else(|| Error::short_scratch(plan.result_bytes))?;
        let r = compute(
            op,
            method,
            inputs,
            &plan.params,
            result,
            Some(plan.out.dtype),
        )?;
        let result: &[u8] = result;
        let src = ArrayRef::contiguous(r.dtype, result, Shape::vector(r.shape.size()))?;
        let size = plan.out.dtype.itemsize();
        // accumulate and reduceat compute into a copy that NumPy casts
        // back into `out` afterwards, clearing the flags the loop raised:
        // only the cast's are reported (reduce's loop casts as it goes).
        let mut flags = match method {
            Method::Reduce => r.flags,
            _ => FpFlags::NONE,
        };
        for (i, dst) in out.chunks_exact_mut(size).take(r.shape.size()).enumerate() {
            flags |= keywords::cast_element(&src, i, plan.out.dtype, dst);
        }
        return Ok(Output::new(plan.out.dtype, plan.out.shape, flags));
    }
    compute(op, method, inputs, p, out, None)
}

/// `reduce`, `accumulate` or `reduceat` into `out` in the loop's dtype;
/// `through` is an `out=` of another dtype that `reduce` starts in.
fn compute(
    op: BinaryOp,
    method: Method,
    inputs: &[ArrayRef<'_>],
    p: &ReduceParams<'_>,
    out: &mut [u8],
    through: Option<DType>,
) -> Result<Output> {
    if method == Method::At {
        p.expect_defaults()?;
        return super::binary_at(op, inputs, out);
    }
    let (a, _) = operands(method, inputs)?;
    if let Some(r) = same_as_reduction(op, method, p) {
        return reduce::reduce(r, a, p, out, &mut []);
    }
    let r = Resolved {
        through: through.filter(|_| method == Method::Reduce),
        ..resolve(op, method, inputs, p)?
    };
    let needed = r
        .shape
        .size()
        .checked_mul(r.dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    let mask = match p.where_mask {
        Some(m) => Some(m.with_layout(m.layout().broadcast_to(a.shape())?)?),
        None => None,
    };
    let g = geometry(method, a, mask.as_ref(), &r);
    let mut kept = [0usize; MAX_NDIM];
    let mut nkept = 0usize;
    for (k, _) in r
        .reduced
        .iter()
        .enumerate()
        .take(g.ndim)
        .filter(|(_, &red)| !red)
    {
        if let Some(slot) = kept.get_mut(nkept) {
            *slot = k;
            nkept += 1;
        }
    }
    let walk = Walk {
        g,
        kept: kept.get(..nkept).unwrap_or(&[]),
        a,
        mask: mask.as_ref(),
    };
    let flags = crate::element::with_dtype!(r.dtype, T => {
        let step = match arith_kernel::<T>(op) {
            Some(kernel) => Step::Same(kernel),
            None => Step::of(op)?,
        };
        let mut pass = Pass::<T> {
            step: &step,
            scalar: scalar_step::<T>(op),
            out: bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?,
            x: [T::default(); CHUNK],
            prev: [T::default(); CHUNK],
            res: [T::default(); CHUNK],
            sel: [Bool::FALSE; CHUNK],
            exp: [0; CHUNK],
        };
        fold(method, op, &r, &walk, &mut pass)?
    });
    Ok(Output::new(r.dtype, r.shape, flags))
}

/// The op's loop with the accumulator's type `T` as first operand and
/// output.
enum Step<T> {
    Same(Kernel<T>),
    /// A comparison in its bool loop (`T` is [`Bool`]).
    ToBool(extra::BinaryFn<T, T, Bool>),
    /// ldexp: the array elements are the exponents.
    WithExponent(extra::BinaryFn<T, i64, T>),
}

impl<T: Loops> Step<T> {
    /// The kernel of a non-arithmetic op.
    fn of(op: BinaryOp) -> Result<Step<T>> {
        match T::binary(op) {
            Some(extra::Binary::Same(kernel)) => Ok(Step::Same(kernel)),
            Some(extra::Binary::ToBool(kernel)) if T::DTYPE == DType::Bool => {
                Ok(Step::ToBool(kernel))
            }
            Some(extra::Binary::WithExponent(kernel)) => Ok(Step::WithExponent(kernel)),
            _ => Err(Error::NoLoop),
        }
    }

    /// `out = op(acc, x)`; `x` holds the elements read in the loop type,
    /// `exp` the same elements as exponents (ldexp only).
    fn apply(&self, acc: &[T], x: &[T], exp: &[i64], out: &mut [T]) -> Result<FpFlags> {
        match self {
            Step::Same(kernel) => kernel(acc, x, out),
            Step::ToBool(kernel) => kernel(
                acc,
                x,
                bytemuck::try_cast_slice_mut(out).map_err(|_| Error::NoLoop)?,
            ),
            Step::WithExponent(kernel) => kernel(acc, exp, out),
        }
    }

    fn takes_exponents(&self) -> bool {
        matches!(self, Step::WithExponent(_))
    }

    /// Reads `n` elements of `a` from `at`, `stride` apart, as the step
    /// takes them: into `x` in the loop type (adding the cast's flags), or
    /// for ldexp into `exp` as exponents. Returns the two operand slices
    /// of [`Step::apply`].
    #[inline(always)]
    fn load<'b>(
        &self,
        a: &ArrayRef<'_>,
        (at, stride): (isize, isize),
        n: usize,
        (x, exp): (&'b mut [T], &'b mut [i64]),
        flags: &mut FpFlags,
    ) -> Result<(&'b mut [T], &'b mut [i64])> {
        let exponents = self.takes_exponents();
        let x = x.get_mut(..n).ok_or(Error::LayoutMismatch)?;
        let exp = exp
            .get_mut(..if exponents { n } else { 0 })
            .ok_or(Error::LayoutMismatch)?;
        if exponents {
            a.load(at as usize, stride, exp);
        } else {
            a.load(at as usize, stride, x);
            *flags |= cast_flags::<T>(a, at as usize, stride, n);
        }
        Ok((x, exp))
    }

    /// `op(acc, x[i])` (ldexp: the exponent `exp[i]`) and its flags.
    #[inline(always)]
    fn apply_at(&self, acc: T, x: &[T], exp: &[i64], i: usize) -> Result<(T, FpFlags)> {
        let one = i..i + 1;
        let mut r = [T::default()];
        let flags = self.apply(
            &[acc],
            x.get(one.clone()).unwrap_or(&[]),
            exp.get(one).unwrap_or(&[]),
            &mut r,
        )?;
        Ok((r[0], flags))
    }
}

/// The operands' element strides over the input's axes: the input, the
/// `where=` mask broadcast to it, and the output (0 along reduced axes).
const IN: usize = 0;
const MASK: usize = 1;
const OUT: usize = 2;

struct Geometry {
    /// The input's ndim: entries past it are unused.
    ndim: usize,
    dims: [usize; MAX_NDIM],
    strides: [[isize; MAX_NDIM]; 3],
    base: [isize; 3],
}

impl Geometry {
    /// The element index of each operand at multi-index `idx`.
    fn at(&self, idx: &[usize; MAX_NDIM]) -> [isize; 3] {
        let mut at = self.base;
        let idx = idx.get(..self.ndim).unwrap_or(idx);
        for (a, st) in at.iter_mut().zip(&self.strides) {
            for (&i, &s) in idx.iter().zip(st) {
                *a = a.wrapping_add((i as isize).wrapping_mul(s));
            }
        }
        at
    }

    /// Calls `body(starts, strides, len)` for runs of at most [`CHUNK`]
    /// elements covering every index of `axes` (C order, the last one
    /// innermost), the other entries of `idx` fixed.
    fn runs(
        &self,
        axes: &[usize],
        idx: &mut [usize; MAX_NDIM],
        body: &mut dyn FnMut([isize; 3], [isize; 3], usize) -> Result<()>,
    ) -> Result<()> {
        let dim = |ax: usize| self.dims.get(ax).copied().unwrap_or(0);
        let Some((&last, outer)) = axes.split_last() else {
            return body(self.at(idx), [0; 3], 1);
        };
        if axes.iter().any(|&ax| dim(ax) == 0) {
            return Ok(());
        }
        for &ax in axes {
            if let Some(i) = idx.get_mut(ax) {
                *i = 0;
            }
        }
        let stride = self.strides.map(|st| st.get(last).copied().unwrap_or(0));
        let len = dim(last);
        loop {
            let start = self.at(idx);
            let mut done = 0usize;
            while done < len {
                let n = CHUNK.min(len - done);
                let mut s = start;
                for (s, &st) in s.iter_mut().zip(&stride) {
                    *s = s.wrapping_add((done as isize).wrapping_mul(st));
                }
                body(s, stride, n)?;
                done += n;
            }
            // The next outer index (an odometer, last axis fastest).
            let mut carry = true;
            for &ax in outer.iter().rev() {
                let Some(i) = idx.get_mut(ax) else { break };
                *i += 1;
                if *i < dim(ax) {
                    carry = false;
                    break;
                }
                *i = 0;
            }
            if carry {
                return Ok(());
            }
        }
    }
}

/// `n` elements of `out` from `at`, `stride` apart, into `buf`.
fn gather_out<T: Copy>(out: &[T], at: isize, stride: isize, buf: &mut [T]) {
    let mut i = at;
    for b in buf.iter_mut() {
        if let Some(&v) = usize::try_from(i).ok().and_then(|i| out.get(i)) {
            *b = v;
        }
        i = i.wrapping_add(stride);
    }
}

/// `buf` into `out` from `at`, `stride` apart.
fn scatter_out<T: Copy>(out: &mut [T], at: isize, stride: isize, buf: &[T]) {
    let mut i = at;
    for &b in buf {
        if let Some(o) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            *o = b;
        }
        i = i.wrapping_add(stride);
    }
}

/// The reduced axes in the order NumPy's iterator nests them, outermost
/// first (its axes sorted by the input's and the mask's strides). Only
/// ops that may reduce several axes at once (reorderable) see more than
/// one; their float results depend on this order.
fn reduced_order(
    g: &Geometry,
    ndim: usize,
    reduced: &[bool; MAX_NDIM],
) -> ([usize; MAX_NDIM], usize) {
    use crate::reduce::plan::{best_axis_order, NOP};
    let mut st = [[0isize; NOP]; MAX_NDIM];
    for (k, s) in st.iter_mut().enumerate().take(ndim) {
        if g.dims.get(k).is_some_and(|&d| d != 1) {
            s[crate::reduce::plan::IN] = g.strides[IN].get(k).copied().unwrap_or(0);
            s[crate::reduce::plan::MASK] = g.strides[MASK].get(k).copied().unwrap_or(0);
        }
    }
    let mut order = [0usize; MAX_NDIM];
    best_axis_order(
        st.get(..ndim).unwrap_or(&[]),
        order.get_mut(..ndim).unwrap_or(&mut []),
    );
    let mut out = [0usize; MAX_NDIM];
    let mut n = 0usize;
    for &ax in order.iter().take(ndim).rev() {
        if reduced.get(ax).copied().unwrap_or(false) {
            if let Some(o) = out.get_mut(n) {
                *o = ax;
                n += 1;
            }
        }
    }
    (out, n)
}

/// What a method call walks: the geometry and the operands read.
struct Walk<'p, 'a> {
    g: Geometry,
    kept: &'p [usize],
    a: &'p ArrayRef<'a>,
    mask: Option<&'p ArrayRef<'a>>,
}

/// The geometry of `a` (and the `where=` mask) and the output strides:
/// C-contiguous over the kept axes (reduce) or over all axes of the
/// output's own shape (accumulate, reduceat).
fn geometry(
    method: Method,
    a: &ArrayRef<'_>,
    mask: Option<&ArrayRef<'_>>,
    r: &Resolved<'_>,
) -> Geometry {
    let dims = a.shape().dims();
    let ndim = dims.len();
    let mut g = Geometry {
        ndim,
        dims: [0; MAX_NDIM],
        strides: [[0; MAX_NDIM]; 3],
        base: [a.layout().offset() as isize, 0, 0],
    };
    for (d, &s) in g.dims.iter_mut().zip(dims) {
        *d = s;
    }
    for (d, &s) in g.strides[IN].iter_mut().zip(a.layout().strides()) {
        *d = s;
    }
    if let Some(m) = mask {
        g.base[MASK] = m.layout().offset() as isize;
        for (d, &s) in g.strides[MASK].iter_mut().zip(m.layout().strides()) {
            *d = s;
        }
    }
    let out_dims = if method == Method::Reduce {
        dims
    } else {
        r.shape.dims()
    };
    let mut step_len: isize = 1;
    for k in (0..ndim).rev() {
        let reduced_here = method == Method::Reduce && r.reduced.get(k).copied().unwrap_or(false);
        if let (Some(s), Some(&d)) = (g.strides[OUT].get_mut(k), out_dims.get(k)) {
            *s = if reduced_here { 0 } else { step_len };
            if !reduced_here {
                step_len = step_len.wrapping_mul(d as isize);
            }
        }
    }
    g
}

/// The typed half of a method call (the output, the kernel and the
/// buffers in the loop type), behind a trait object so that the driver,
/// [`fold`], is compiled once rather than once per dtype.
trait Fold {
    /// Sets the outputs to `initial=` or the op's identity.
    fn fill(&mut self, start: Start, identity: Identity) -> Result<FpFlags>;
    /// One pass over the kept axes at `idx`: reads the accumulator `read`
    /// elements from the output position of `idx` and writes
    /// `op(acc, x)` `write` elements from it.
    fn run(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        read: isize,
        write: isize,
    ) -> Result<FpFlags>;
    /// At every position of the kept axes (`idx[axis]` is 0), the elements
    /// `from..to` along `axis` folded in order into the accumulator `shift`
    /// elements from the position's output: `acc = op(acc, x)`, selected
    /// elements only under `where=`. With `each` every result is stored in
    /// its own output row (accumulate), otherwise the last over `acc`.
    fn chain(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        axis: usize,
        range: (usize, usize),
        shift: isize,
        each: bool,
    ) -> Result<FpFlags>;
    /// The outputs at `idx` (`shift` elements on) are the input there, cast.
    fn copy_first(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        shift: isize,
    ) -> Result<FpFlags>;
    /// `reduceat` of float `add`: each output (already the slice's first
    /// element, `shift` elements from the position of `idx`) plus NumPy's
    /// pairwise sum of the `len` elements after it along `axis`.
    fn add_pairwise(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        axis: usize,
        len: usize,
        shift: isize,
    ) -> Result<FpFlags>;
    /// Every output cast into `through` and back (`reduce`'s start when
    /// NumPy keeps it in an `out=` of that dtype); the first cast's flags.
    fn round_trip(&mut self, through: DType) -> Result<FpFlags>;
}

/// Runs `method` of `op` over the walk, the typed work done by `f`.
fn fold(
    method: Method,
    op: BinaryOp,
    r: &Resolved<'_>,
    w: &Walk<'_, '_>,
    f: &mut dyn Fold,
) -> Result<FpFlags> {
    let g = &w.g;
    let dims = g.dims.get(..g.ndim).unwrap_or(&[]);
    let mut flags = FpFlags::NONE;
    let mut idx = [0usize; MAX_NDIM];
    // Few kept positions: fold along the axis one position at a time
    // rather than a row of kept positions at a time.
    let kept_size = w.kept.iter().map(|&k| n_of(dims, k)).product::<usize>();
    let along = kept_size < CHAIN_BELOW;
    // accumulate's and reduceat's one axis.
    let axis = r.reduced.iter().position(|&r| r).unwrap_or(0);
    let n = n_of(dims, axis);
    let row = g.strides[OUT].get(axis).copied().unwrap_or(0);
    let set = |idx: &mut [usize; MAX_NDIM], j: usize| {
        if let Some(i) = idx.get_mut(axis) {
            *i = j;
        }
    };
    match method {
        Method::Accumulate => {
            // The first row is the input cast; then each row is op(the row
            // before, x).
            flags |= f.copy_first(w, &mut idx, 0)?;
            if along {
                flags |= f.chain(w, &mut idx, axis, (1, n), 0, true)?;
            } else {
                for j in 1..n {
                    set(&mut idx, j);
                    flags |= f.run(w, &mut idx, -row, 0)?;
                }
            }
        }
        Method::Reduceat => {
            let Some(indices) = r.indices.as_ref() else {
                return Err(Error::InvalidArgument);
            };
            let m = indices.shape().size();
            let pairwise = op == BinaryOp::Add && r.dtype.is_float();
            for i in 0..m {
                // Slice i is [start, end); a non-increasing pair gives the
                // element at start alone (NumPy's count <= 1).
                let start = index_at(indices, i) as usize;
                let end = if i + 1 < m {
                    index_at(indices, i + 1) as usize
                } else {
                    n
                };
                // Output row i while the input is read at row k.
                let to_row = |k: usize| (i as isize - k as isize).wrapping_mul(row);
                set(&mut idx, start);
                flags |= f.copy_first(w, &mut idx, to_row(start))?;
                if end <= start + 1 {
                    continue;
                }
                if pairwise {
                    flags |= f.add_pairwise(w, &mut idx, axis, end - start - 1, to_row(start))?;
                } else if along {
                    set(&mut idx, 0);
                    flags |= f.chain(w, &mut idx, axis, (start + 1, end), to_row(0), false)?;
                } else {
                    for k in start + 1..end {
                        set(&mut idx, k);
                        flags |= f.run(w, &mut idx, to_row(k), to_row(k))?;
                    }
                }
            }
        }
        Method::Outer | Method::At => return Err(Error::InvalidArgument),
        Method::Reduce => {
            let skip_first = r.start == Start::First;
            flags |= if skip_first {
                f.copy_first(w, &mut idx, 0)?
            } else {
                f.fill(r.start, op.identity())?
            };
            if let Some(through) = r.through {
                flags |= f.round_trip(through)?;
            }
            let (order, nred) = reduced_order(g, g.ndim, &r.reduced);
            let order = order.get(..nred).unwrap_or(&[]);
            if order.iter().any(|&ax| dims.get(ax) == Some(&0)) {
                return Ok(flags);
            }
            if let (true, &[axis]) = (along, order) {
                let from = usize::from(skip_first);
                flags |= f.chain(w, &mut idx, axis, (from, n_of(dims, axis)), 0, false)?;
                return Ok(flags);
            }
            // Every reduced position in NumPy's order (an odometer over the
            // reduced axes, the innermost fastest).
            let mut first = true;
            loop {
                if !(first && skip_first) {
                    flags |= f.run(w, &mut idx, 0, 0)?;
                }
                first = false;
                let mut carry = true;
                for &ax in order.iter().rev() {
                    let Some(i) = idx.get_mut(ax) else { break };
                    *i += 1;
                    if *i < n_of(dims, ax) {
                        carry = false;
                        break;
                    }
                    *i = 0;
                }
                if carry {
                    break;
                }
            }
        }
    }
    Ok(flags)
}

/// One step `op(acc, x)` with its flags, without a kernel call.
type ScalarStep<T> = fn(T, T, &mut FpFlags) -> T;

/// The chain's step for ops whose element result is a plain `Num`
/// operation with the kernel's exact result and flags: add (IEEE or
/// wrapping), maximum and minimum (NaN-propagating, no flags). A chain of
/// one-element kernel calls costs ~5 ns a step; this ~1 ns. Not in
/// `small` (one more function per dtype) nor for bool.
fn scalar_step<T: Num>(op: BinaryOp) -> Option<ScalarStep<T>> {
    if crate::SMALL || T::DTYPE == DType::Bool {
        return None;
    }
    match op {
        BinaryOp::Add => Some(|a: T, b: T, f: &mut FpFlags| {
            let r = a.add(b);
            *f |= T::add_flags(a, b, r);
            r
        }),
        BinaryOp::Maximum => Some(|a: T, b: T, _: &mut FpFlags| a.maximum(b)),
        BinaryOp::Minimum => Some(|a: T, b: T, _: &mut FpFlags| a.minimum(b)),
        _ => None,
    }
}

/// Every `dtype` element of `values` cast into `through` and back, in
/// place (one copy for every loop type); the first cast's flags.
fn round_trip(values: &mut [u8], dtype: DType, through: DType) -> Result<FpFlags> {
    let mut flags = FpFlags::NONE;
    let mut word = [0u64];
    let there: &mut [u8] = bytemuck::cast_slice_mut(&mut word);
    let there = there
        .get_mut(..through.itemsize())
        .ok_or(Error::LayoutMismatch)?;
    for v in values.chunks_exact_mut(dtype.itemsize()) {
        let src = ArrayRef::contiguous(dtype, v, Shape::vector(1))?;
        flags |= keywords::cast_element(&src, 0, through, there);
        let back = ArrayRef::contiguous(through, there, Shape::vector(1))?;
        keywords::cast_element(&back, 0, dtype, v);
    }
    Ok(flags)
}

/// Below this many kept positions a method folds along its axis one
/// position at a time ([`Fold::chain`]): a 1-d `maximum.accumulate` is a
/// chain of scalar steps, not a million passes over one element.
const CHAIN_BELOW: usize = 16;

fn n_of(dims: &[usize], axis: usize) -> usize {
    dims.get(axis).copied().unwrap_or(0)
}

/// The typed state of one method call: the kernel, the output and the
/// loop-type buffers (made once).
struct Pass<'p, T> {
    step: &'p Step<T>,
    /// The step without a kernel call, where there is one ([`scalar_step`]).
    scalar: Option<ScalarStep<T>>,
    out: &'p mut [T],
    x: [T; CHUNK],
    prev: [T; CHUNK],
    res: [T; CHUNK],
    sel: [Bool; CHUNK],
    exp: [i64; CHUNK],
}

impl<T: Num + Loops> Fold for Pass<'_, T> {
    fn round_trip(&mut self, through: DType) -> Result<FpFlags> {
        round_trip(bytemuck::cast_slice_mut(self.out), T::DTYPE, through)
    }

    fn fill(&mut self, start: Start, id: Identity) -> Result<FpFlags> {
        let (v, flags) = match start {
            Start::Initial(v) => initial_value::<T>(v)?,
            _ => (identity::<T>(id), FpFlags::NONE),
        };
        self.out.fill(v);
        Ok(flags)
    }

    fn run(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        read: isize,
        write: isize,
    ) -> Result<FpFlags> {
        let Pass {
            step,
            out,
            x,
            prev,
            res,
            sel,
            exp,
            ..
        } = self;
        let (a, mask) = (w.a, w.mask);
        let mut flags = FpFlags::NONE;
        w.g.runs(w.kept, idx, &mut |s, st, n| {
            let (x, exp) = step.load(a, (s[IN], st[IN]), n, (x, exp), &mut flags)?;
            let prev = prev.get_mut(..n).ok_or(Error::LayoutMismatch)?;
            gather_out(out, s[OUT].wrapping_add(read), st[OUT], prev);
            let at_out = s[OUT].wrapping_add(write);
            match mask {
                None => {
                    let res = res.get_mut(..n).ok_or(Error::LayoutMismatch)?;
                    flags |= step.apply(prev, x, exp, res)?;
                    scatter_out(out, at_out, st[OUT], res);
                }
                Some(m) => {
                    // Only the selected elements are computed (and flag).
                    let sel = sel.get_mut(..n).ok_or(Error::LayoutMismatch)?;
                    m.load(s[MASK] as usize, st[MASK], sel);
                    let mut at = at_out;
                    for ((i, &keep), &acc) in sel.iter().enumerate().zip(prev.iter()) {
                        if keep != Bool::FALSE {
                            let (r, f) = step.apply_at(acc, x, exp, i)?;
                            flags |= f;
                            scatter_out(out, at, 0, &[r]);
                        }
                        at = at.wrapping_add(st[OUT]);
                    }
                }
            }
            Ok(())
        })?;
        Ok(flags)
    }

    fn chain(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        axis: usize,
        (from, to): (usize, usize),
        shift: isize,
        each: bool,
    ) -> Result<FpFlags> {
        let Pass {
            step,
            scalar,
            out,
            x,
            sel,
            exp,
            ..
        } = self;
        let (a, mask) = (w.a, w.mask);
        let along = |op: usize| w.g.strides[op].get(axis).copied().unwrap_or(0);
        let (ist, mst, ost) = (along(IN), along(MASK), along(OUT));
        // `small` never has one: keep the branch out of its code.
        let scalar = if crate::SMALL { None } else { *scalar };
        let mut flags = FpFlags::NONE;
        w.g.runs(w.kept, idx, &mut |s, st, n| {
            for j in 0..n as isize {
                let [s_in, s_mask, s_out] = s;
                let [st_in, st_mask, st_out] = st;
                let pos = [
                    s_in.wrapping_add(j.wrapping_mul(st_in)),
                    s_mask.wrapping_add(j.wrapping_mul(st_mask)),
                    s_out.wrapping_add(j.wrapping_mul(st_out)),
                ];
                let acc_at = pos[OUT].wrapping_add(shift);
                let mut one = [T::default()];
                gather_out(out, acc_at, 0, &mut one);
                let [mut acc] = one;
                let mut k = from;
                while k < to {
                    let len = CHUNK.min(to - k);
                    let at = |p: isize, st: isize| p.wrapping_add((k as isize).wrapping_mul(st));
                    let (x, exp) =
                        step.load(a, (at(pos[IN], ist), ist), len, (x, exp), &mut flags)?;
                    let sel = sel
                        .get_mut(..if mask.is_some() { len } else { 0 })
                        .ok_or(Error::LayoutMismatch)?;
                    if let Some(m) = mask {
                        m.load(at(pos[MASK], mst) as usize, mst, sel);
                    }
                    let mut o = at(pos[OUT], ost);
                    for i in 0..len {
                        if sel.get(i).is_none_or(|&keep| keep != Bool::FALSE) {
                            acc = match (scalar, x.get(i)) {
                                (Some(f), Some(&xi)) => f(acc, xi, &mut flags),
                                _ => {
                                    let (r, f) = step.apply_at(acc, x, exp, i)?;
                                    flags |= f;
                                    r
                                }
                            };
                            if each {
                                scatter_out(out, o, 0, &[acc]);
                            }
                        }
                        o = o.wrapping_add(ost);
                    }
                    k += len;
                }
                if !each {
                    scatter_out(out, acc_at, 0, &[acc]);
                }
            }
            Ok(())
        })?;
        Ok(flags)
    }

    fn copy_first(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        shift: isize,
    ) -> Result<FpFlags> {
        let Pass { out, x, .. } = self;
        let a = w.a;
        let mut flags = FpFlags::NONE;
        w.g.runs(w.kept, idx, &mut |s, st, n| {
            let buf = x.get_mut(..n).ok_or(Error::LayoutMismatch)?;
            a.load(s[IN] as usize, st[IN], buf);
            flags |= cast_flags::<T>(a, s[IN] as usize, st[IN], n);
            scatter_out(out, s[OUT].wrapping_add(shift), st[OUT], buf);
            Ok(())
        })?;
        Ok(flags)
    }

    fn add_pairwise(
        &mut self,
        w: &Walk<'_, '_>,
        idx: &mut [usize; MAX_NDIM],
        axis: usize,
        len: usize,
        shift: isize,
    ) -> Result<FpFlags> {
        if !T::FLOAT {
            return Err(Error::NoLoop);
        }
        let out = &mut *self.out;
        let a = w.a;
        let stride = w.g.strides[IN].get(axis).copied().unwrap_or(0);
        let mut flags = FpFlags::NONE;
        w.g.runs(w.kept, idx, &mut |s, st, n| {
            for j in 0..n as isize {
                let first = s[IN]
                    .wrapping_add(j.wrapping_mul(st[IN]))
                    .wrapping_add(stride);
                let mut f = cast_flags_at::<T>(a, first, stride, len);
                // Without flags first: a finite sum met none.
                let run = a
                    .typed::<T>()
                    .ok()
                    .filter(|_| stride == 1)
                    .and_then(|data| {
                        let from = usize::try_from(first).ok()?;
                        data.get(from..from.checked_add(len)?)
                    });
                let mut rest = match run {
                    Some(run) => crate::reduce::pairwise_slice(run),
                    None => pairwise_sum::<T, false>(a, (first, stride), len, &mut f),
                };
                if !rest.is_finite() {
                    rest = pairwise_sum::<T, true>(a, (first, stride), len, &mut f);
                }
                let at = s[OUT]
                    .wrapping_add(shift)
                    .wrapping_add(j.wrapping_mul(st[OUT]));
                if let Some(o) = usize::try_from(at).ok().and_then(|i| out.get_mut(i)) {
                    *o = add_flagged(*o, rest, &mut f);
                }
                flags |= f;
            }
            Ok(())
        })?;
        Ok(flags)
    }
}

/// NumPy's flags for casting `n` input elements from `start` to the loop
/// type: a float64 input in a float32 loop overflows or underflows.
fn cast_flags<T: LoopElement>(a: &ArrayRef<'_>, start: usize, stride: isize, n: usize) -> FpFlags {
    if a.dtype() != DType::Float64 || T::DTYPE != DType::Float32 {
        return FpFlags::NONE;
    }
    let mut wide = [0f64; CHUNK];
    let Some(wide) = wide.get_mut(..n) else {
        return FpFlags::NONE;
    };
    a.load(start, stride, wide);
    wide.iter()
        .fold(FpFlags::NONE, |f, &v| f | crate::num::f64_to_f32_flags(v))
}

/// [`cast_flags`] of `n` elements from `start`, in chunks.
fn cast_flags_at<T: LoopElement>(
    a: &ArrayRef<'_>,
    start: isize,
    stride: isize,
    n: usize,
) -> FpFlags {
    let mut flags = FpFlags::NONE;
    let mut done = 0usize;
    while done < n {
        let len = CHUNK.min(n - done);
        let at = start.wrapping_add((done as isize).wrapping_mul(stride));
        flags |= cast_flags::<T>(a, at as usize, stride, len);
        done += len;
    }
    flags
}

/// NumPy's `pairwise_sum` of the `n` elements of `a` from `first`,
/// `stride` apart, in the loop type: fewer than 8 added in order (from
/// -0.0), up to 128 in eight interleaved partial sums, more split in two at
/// a multiple of 8. With `TRACK` the IEEE flags of every addition go to
/// `flags`.
fn pairwise_sum<T: Num, const TRACK: bool>(
    a: &ArrayRef<'_>,
    (first, stride): (isize, isize),
    n: usize,
    flags: &mut FpFlags,
) -> T {
    let add = |x: T, y: T, flags: &mut FpFlags| {
        if TRACK {
            add_flagged(x, y, flags)
        } else {
            x.add(y)
        }
    };
    if n > BLOCK {
        let mut half = n / 2;
        half -= half % 8;
        let left = pairwise_sum::<T, TRACK>(a, (first, stride), half, flags);
        let second = first.wrapping_add((half as isize).wrapping_mul(stride));
        let right = pairwise_sum::<T, TRACK>(a, (second, stride), n - half, flags);
        return add(left, right, flags);
    }
    let mut buf = [T::ZERO; BLOCK];
    let b = buf.get_mut(..n).unwrap_or(&mut []);
    a.load(first as usize, stride, b);
    if n < 8 {
        return b
            .iter()
            .fold(T::from_f64(-0.0), |res, &x| add(res, x, flags));
    }
    if !TRACK {
        return crate::reduce::lanes_sum(b);
    }
    let full = n - n % 8;
    let mut r = [T::ZERO; 8];
    for (rk, &x) in r.iter_mut().zip(b.iter()) {
        *rk = x;
    }
    for c in b.get(8..full).unwrap_or(&[]).chunks_exact(8) {
        for (rk, &x) in r.iter_mut().zip(c) {
            *rk = add(*rk, x, flags);
        }
    }
    let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
    let (s01, s23) = (add(r0, r1, flags), add(r2, r3, flags));
    let (s45, s67) = (add(r4, r5, flags), add(r6, r7, flags));
    let (left, right) = (add(s01, s23, flags), add(s45, s67, flags));
    let res = add(left, right, flags);
    b.get(full..)
        .unwrap_or(&[])
        .iter()
        .fold(res, |res, &x| add(res, x, flags))
}

/// `x + y` with its IEEE flags.
fn add_flagged<T: Num>(x: T, y: T, flags: &mut FpFlags) -> T {
    let r = x.add(y);
    *flags |= T::add_flags(x, y, r);
    r
}

/// The ufunc's identity in the loop type.
fn identity<T: Num>(id: Identity) -> T {
    match id {
        Identity::None | Identity::Zero | Identity::False => T::ZERO,
        Identity::One | Identity::True => T::ONE,
        Identity::MinusOne => T::from_low_bits(u64::MAX),
        Identity::NegInfinity => T::from_f64(f64::NEG_INFINITY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Layout;

    fn f64s<'a>(v: &'a [f64], dims: &[usize]) -> ArrayRef<'a> {
        ArrayRef::from_slice(v, Layout::c_contiguous(Shape::new(dims).unwrap())).unwrap()
    }

    fn run_f64(
        op: BinaryOp,
        m: Method,
        a: &ArrayRef<'_>,
        p: &ReduceParams<'_>,
    ) -> Result<std::vec::Vec<f64>> {
        let (d, s) = method_output(op, m, core::slice::from_ref(a), p)?;
        assert_eq!(d, DType::Float64);
        let mut out = std::vec![0f64; s.size()];
        method(
            op,
            m,
            core::slice::from_ref(a),
            p,
            bytemuck::cast_slice_mut(&mut out),
        )?;
        Ok(out)
    }

    fn axis0() -> ReduceParams<'static> {
        ReduceParams {
            axis: Axes::One(0),
            ..ReduceParams::default()
        }
    }

    #[test]
    fn subtract_folds_left_to_right() {
        let x = [10.0, 1.0, 2.0, 3.0];
        let a = f64s(&x, &[4]);
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &axis0()),
            Ok(std::vec![4.0])
        );
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Accumulate, &a, &axis0()),
            Ok(std::vec![10.0, 9.0, 7.0, 4.0])
        );
        // Down the columns of a 2x2.
        let a = f64s(&x, &[2, 2]);
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &axis0()),
            Ok(std::vec![8.0, -2.0])
        );
        let p = ReduceParams {
            axis: Axes::One(1),
            ..ReduceParams::default()
        };
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Accumulate, &a, &p),
            Ok(std::vec![10.0, 9.0, 2.0, -1.0])
        );
        let all = ReduceParams::default();
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &all),
            Err(Error::InvalidArgument)
        );
        // NumPy normalizes every axis before it looks for repeats.
        for (axes, e) in [
            (&[0, 0, 5][..], Error::AxisOutOfBounds),
            (&[0, 0], Error::DuplicateAxis),
        ] {
            let p = ReduceParams::default().with_axes(Axes::list(axes).unwrap());
            assert_eq!(run_f64(BinaryOp::Add, Method::Accumulate, &a, &p), Err(e));
        }
    }

    /// A wide array takes the row-at-a-time path, one column alone the
    /// along-the-axis chain: every method must give the same column.
    #[test]
    fn rows_and_chains_agree() {
        let (rows, cols) = (9usize, CHAIN_BELOW + 3);
        let x: std::vec::Vec<f64> = (0..rows * cols)
            .map(|k| ((k * 7919) % 23) as f64 * 0.37 - 3.1)
            .collect();
        let wide = f64s(&x, &[rows, cols]);
        let sel: std::vec::Vec<Bool> = (0..rows * cols).map(|k| Bool::from(k % 3 != 1)).collect();
        let ind = [0i64, 3, 3, 8, 2];
        let indices = ArrayRef::from_slice(&ind, Layout::c_contiguous(Shape::vector(5))).unwrap();
        for op in [
            BinaryOp::Subtract,
            BinaryOp::Maximum,
            BinaryOp::Logaddexp,
            BinaryOp::Add,
        ] {
            for m in [Method::Reduce, Method::Accumulate, Method::Reduceat] {
                for masked in [false, true] {
                    // add.reduce is `sum`, pairwise along a 1-d axis.
                    if (masked && m != Method::Reduce) || (op, m) == (BinaryOp::Add, Method::Reduce)
                    {
                        continue;
                    }
                    let call = |a: ArrayRef<'_>, mask: Option<ArrayRef<'_>>| {
                        let p = ReduceParams {
                            where_mask: mask,
                            initial: masked.then_some(reduce::Scalar::Float(0.5)),
                            dtype: (op == BinaryOp::Add).then_some(DType::Float64),
                            ..axis0()
                        };
                        let inputs = [a, indices];
                        let inputs = if m == Method::Reduceat {
                            &inputs[..]
                        } else {
                            &inputs[..1]
                        };
                        let (_, s) = method_output(op, m, inputs, &p).unwrap();
                        let mut out = std::vec![0f64; s.size()];
                        method(op, m, inputs, &p, bytemuck::cast_slice_mut(&mut out)).unwrap();
                        out
                    };
                    let mask = masked.then(|| {
                        ArrayRef::from_slice(
                            &sel,
                            Layout::c_contiguous(Shape::new(&[rows, cols]).unwrap()),
                        )
                        .unwrap()
                    });
                    let all = call(wide, mask);
                    let out_rows = all.len() / cols;
                    for j in 0..cols {
                        let column = |v: &[f64]| {
                            (0..rows)
                                .map(|i| v[i * cols + j])
                                .collect::<std::vec::Vec<_>>()
                        };
                        let xj = column(&x);
                        let sj: std::vec::Vec<Bool> =
                            (0..rows).map(|i| sel[i * cols + j]).collect();
                        let mj = masked.then(|| {
                            ArrayRef::from_slice(&sj, Layout::c_contiguous(Shape::vector(rows)))
                                .unwrap()
                        });
                        let one = call(f64s(&xj, &[rows]), mj);
                        let got: std::vec::Vec<f64> =
                            (0..out_rows).map(|i| all[i * cols + j]).collect();
                        assert_eq!(
                            got.iter()
                                .map(|v| v.to_bits())
                                .collect::<std::vec::Vec<_>>(),
                            one.iter()
                                .map(|v| v.to_bits())
                                .collect::<std::vec::Vec<_>>(),
                            "{op:?} {m:?} where={masked} column {j}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn identities_initial_and_where() {
        let a = f64s(&[], &[0]);
        assert_eq!(
            run_f64(BinaryOp::Logaddexp, Method::Reduce, &a, &axis0()),
            Ok(std::vec![f64::NEG_INFINITY])
        );
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &axis0()),
            Err(Error::EmptyReduction)
        );
        let x = [1.0, 2.0];
        let a = f64s(&x, &[2]);
        let m = [Bool::TRUE, Bool::FALSE];
        let mask = ArrayRef::from_slice(&m, Layout::c_contiguous(Shape::vector(2))).unwrap();
        let p = ReduceParams {
            where_mask: Some(mask),
            ..axis0()
        };
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &p),
            Err(Error::InvalidArgument)
        );
        let p = ReduceParams {
            initial: Some(reduce::Scalar::Int(5)),
            ..p
        };
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Reduce, &a, &p),
            Ok(std::vec![4.0])
        );
        assert_eq!(
            run_f64(BinaryOp::Subtract, Method::Accumulate, &a, &p),
            Err(Error::InvalidType)
        );
    }

    #[test]
    fn reduceat_slices_and_outer_pairs() {
        // NumPy's docs: np.add.reduceat(np.arange(8), [0,4, 1,5, 2,6, 3,7])
        // == [6, 4, 10, 5, 14, 6, 18, 7].
        let x: std::vec::Vec<f64> = (0..8).map(f64::from).collect();
        let a = f64s(&x, &[8]);
        let ind = [0i64, 4, 1, 5, 2, 6, 3, 7];
        let i = ArrayRef::from_slice(&ind, Layout::c_contiguous(Shape::vector(8))).unwrap();
        let inputs = [a, i];
        let (d, shape) = method_output(BinaryOp::Add, Method::Reduceat, &inputs, &axis0()).unwrap();
        assert_eq!((d, shape.dims()), (DType::Float64, &[8usize][..]));
        let mut out = [0f64; 8];
        method(
            BinaryOp::Add,
            Method::Reduceat,
            &inputs,
            &axis0(),
            bytemuck::cast_slice_mut(&mut out),
        )
        .unwrap();
        assert_eq!(out, [6.0, 4.0, 10.0, 5.0, 14.0, 6.0, 18.0, 7.0]);
        // An index past the axis is NumPy's IndexError.
        let bad = [0i64, 8];
        let i = ArrayRef::from_slice(&bad, Layout::c_contiguous(Shape::vector(2))).unwrap();
        assert_eq!(
            method_output(BinaryOp::Add, Method::Reduceat, &[a, i], &axis0()),
            Err(Error::IndexOutOfBounds)
        );
        // Float add folds the rest of a slice pairwise (NumPy's reduce
        // loop): 1 + (the pairwise sum of nine 2^-24) is not the sequential
        // 1 + 2^-24 + ... (each lost to rounding).
        let mut y = [2f32.powi(-24); 10];
        y[0] = 1.0;
        let a = ArrayRef::from_slice(&y, Layout::c_contiguous(Shape::vector(10))).unwrap();
        let zero = [0i64];
        let i = ArrayRef::from_slice(&zero, Layout::c_contiguous(Shape::vector(1))).unwrap();
        let mut out = [0f32; 1];
        method(
            BinaryOp::Add,
            Method::Reduceat,
            &[a, i],
            &axis0(),
            bytemuck::cast_slice_mut(&mut out),
        )
        .unwrap();
        assert_eq!(out[0], 1.0 + 9.0 * 2f32.powi(-24));
        // outer: shape a.shape + b.shape.
        let p = [1.0, 2.0];
        let q = [10.0, 20.0, 30.0];
        let inputs = [f64s(&p, &[2]), f64s(&q, &[3])];
        let none = ReduceParams::default();
        let (_, shape) = method_output(BinaryOp::Subtract, Method::Outer, &inputs, &none).unwrap();
        assert_eq!(shape.dims(), &[2, 3]);
        let mut out = [0f64; 6];
        method(
            BinaryOp::Subtract,
            Method::Outer,
            &inputs,
            &none,
            bytemuck::cast_slice_mut(&mut out),
        )
        .unwrap();
        assert_eq!(out, [-9.0, -19.0, -29.0, -8.0, -18.0, -28.0]);
        assert_eq!(
            method_output(BinaryOp::Add, Method::Outer, &inputs, &axis0()),
            Err(Error::InvalidType)
        );
    }

    #[test]
    fn dtypes() {
        assert_eq!(
            method_dtype(BinaryOp::Equal, Method::Reduce, DType::Int8, None),
            Err(Error::NoLoop)
        );
        assert_eq!(
            method_dtype(BinaryOp::Equal, Method::Reduce, DType::Bool, None),
            Ok(DType::Bool)
        );
        assert_eq!(
            method_dtype(
                BinaryOp::Equal,
                Method::Reduce,
                DType::Int8,
                Some(DType::Bool)
            ),
            Ok(DType::Bool)
        );
        assert_eq!(
            method_dtype(BinaryOp::LogicalAnd, Method::Reduce, DType::Float32, None),
            Ok(DType::Bool)
        );
        assert_eq!(
            method_dtype(
                BinaryOp::LogicalAnd,
                Method::Reduce,
                DType::Float32,
                Some(DType::Float64)
            ),
            Err(Error::NoLoop)
        );
        assert_eq!(
            method_dtype(BinaryOp::Add, Method::Reduce, DType::UInt8, None),
            Ok(DType::UInt64)
        );
        assert_eq!(
            method_dtype(BinaryOp::FloorDivide, Method::Reduce, DType::Bool, None),
            Ok(DType::Int8)
        );
        assert_eq!(
            method_dtype(BinaryOp::Arctan2, Method::Reduce, DType::Int32, None),
            Ok(DType::Float64)
        );
        assert_eq!(
            method_dtype(BinaryOp::Arctan2, Method::Reduce, DType::Int8, None),
            Err(Error::Float16)
        );
        assert_eq!(
            method_dtype(BinaryOp::Subtract, Method::Reduce, DType::Bool, None),
            Err(Error::NoLoop)
        );
        assert!(reorderable(BinaryOp::Hypot) && reorderable(BinaryOp::Fmin));
        assert!(!reorderable(BinaryOp::Lcm) && !reorderable(BinaryOp::Copysign));
    }

    /// `op.method(a, axis=0, out=<dtype of shape>)` through the byte entry:
    /// the out array's values and the flags.
    fn into_out<T: crate::element::Element>(
        op: BinaryOp,
        m: Method,
        inputs: &[ArrayRef<'_>],
        dims: &[usize],
        prior: T,
    ) -> Result<(std::vec::Vec<T>, FpFlags)> {
        let shape = Shape::new(dims).unwrap();
        let p = axis0().with_out(0, T::DTYPE, shape);
        let call = crate::op::Op::Method(op, m);
        let mut out = std::vec![prior; shape.size()];
        let mut scratch = std::vec![0u64; crate::op::scratch_len(call, inputs, &p)?];
        let r = crate::op::call(
            call,
            inputs,
            &p,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )?;
        assert_eq!((r.dtype, r.shape), (T::DTYPE, shape));
        Ok((out, r.flags))
    }

    #[test]
    fn out_of_another_dtype_is_numpys() {
        // NumPy 2.4.6, measured: the loop is float64 (the out's int32 and
        // the array's float64), the result cast into int32 (1e300 is x86's
        // INT_MIN, an invalid cast); maximum and subtract start in the out
        // array (the first element cast to int32 and back).
        let x = [1.5, 2.5, 1e300, 1.5, 2.5, 5.0, 6.0, 1e300];
        let a = [f64s(&x, &[2, 4])];
        let min = i32::MIN;
        let cases = [
            (BinaryOp::Add, [4, 7, min, min]),
            (BinaryOp::Maximum, [2, 5, 6, min]),
            (BinaryOp::Subtract, [-1, -3, min, min]),
            (BinaryOp::Minimum, [1, 2, min, 1]),
        ];
        for (op, want) in cases {
            let (got, flags) = into_out(op, Method::Reduce, &a, &[4], 7i32).unwrap();
            assert_eq!((op, got.as_slice()), (op, &want[..]));
            assert!(flags.contains(FpFlags::INVALID));
        }
        // accumulate computes in a float64 copy: its invalid (inf - inf)
        // is cleared by the copy back, which itself raises nothing here.
        let y = [f64::INFINITY, f64::NEG_INFINITY];
        let (got, flags) = into_out(
            BinaryOp::Add,
            Method::Accumulate,
            &[f64s(&y, &[2])],
            &[2],
            0f32,
        )
        .unwrap();
        assert_eq!(got[0], f32::INFINITY);
        assert!(got[1].is_nan());
        assert_eq!(flags, FpFlags::NONE);
        // int8 into an int16 out adds in int16 (no int64 widening).
        let b = [100i8, 100, 100, 100];
        let i8s = [
            ArrayRef::from_slice(&b, Layout::c_contiguous(Shape::new(&[2, 2]).unwrap())).unwrap(),
        ];
        let (got, _) = into_out(BinaryOp::Add, Method::Reduce, &i8s, &[2], 0i16).unwrap();
        assert_eq!(got, [200, 200]);
    }

    #[test]
    fn out_errors_are_numpys() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let a = [f64s(&x, &[2, 3])];
        // The out must have the result's shape (ValueError).
        assert_eq!(
            into_out(BinaryOp::Add, Method::Reduce, &a, &[2], 0f64).err(),
            Some(Error::BroadcastMismatch)
        );
        assert_eq!(
            into_out(BinaryOp::Add, Method::Reduce, &a, &[1, 3], 0f64).err(),
            Some(Error::BroadcastMismatch)
        );
        // A comparison has no int8 loop to fill an int8 out (TypeError).
        assert_eq!(
            into_out(BinaryOp::Greater, Method::Reduce, &a, &[3], 0i8).err(),
            Some(Error::NoLoop)
        );
        let call = crate::op::Op::Method(BinaryOp::Add, Method::Reduce);
        let three = Shape::vector(3);
        // Two outs (ValueError); casting= is not a reduce keyword (TypeError).
        let two = axis0()
            .with_out(0, DType::Float64, three)
            .with_out(1, DType::Float64, three);
        assert_eq!(
            crate::op::output_of(call, &a, &two).err(),
            Some(Error::InvalidArgument)
        );
        let cast = axis0()
            .with_out(0, DType::Float64, three)
            .with_casting(crate::dtype::Casting::Unsafe);
        assert_eq!(
            crate::op::output_of(call, &a, &cast).err(),
            Some(Error::InvalidType)
        );
    }

    #[test]
    fn outer_takes_the_call_keywords() {
        // np.add.outer([1, 2], [10, 20, 30], out=int16, where=[T, F, T]).
        let (x, y) = ([1.0, 2.0], [10.0, 20.0, 30.0]);
        let inputs = [f64s(&x, &[2]), f64s(&y, &[3])];
        let m = [Bool::TRUE, Bool::FALSE, Bool::TRUE];
        let mask = ArrayRef::from_slice(&m, Layout::c_contiguous(Shape::vector(3))).unwrap();
        let p = ReduceParams {
            where_mask: Some(mask),
            ..ReduceParams::default()
                .with_out(0, DType::Int16, Shape::new(&[2, 3]).unwrap())
                .with_casting(crate::dtype::Casting::Unsafe)
        };
        let call = crate::op::Op::Method(BinaryOp::Add, Method::Outer);
        let mut out = [-1i16; 6];
        let mut scratch = std::vec![0u64; crate::op::scratch_len(call, &inputs, &p).unwrap()];
        crate::op::call(
            call,
            &inputs,
            &p,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )
        .unwrap();
        assert_eq!(out, [11, -1, 31, 12, -1, 32]);
    }
}
