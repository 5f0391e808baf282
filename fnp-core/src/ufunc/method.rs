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
use super::{arith_kernel, Kernel, CHUNK};
use crate::array::ArrayRef;
use crate::dtype::{DType, OperandType};
use crate::element::{Bool, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::output::Output;
use crate::reduce::{self, initial_value, Axes, ReduceParams};
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
        p.expect_defaults()?;
        let (a, b) = outer_operands(inputs)?;
        return op.output(&a, &b);
    }
    if let Some(r) = same_as_reduction(op, method, p) {
        let (a, _) = operands(method, inputs)?;
        return r.output(a, p);
    }
    let r = resolve(op, method, inputs, p)?;
    Ok((r.dtype, r.shape))
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
/// [`ReduceParams::default`]'s `None`; `outer` takes no keywords.
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
    if method == Method::Outer {
        p.expect_defaults()?;
        let (a, b) = outer_operands(inputs)?;
        return super::binary(op, &a, &b, out);
    }
    let (a, _) = operands(method, inputs)?;
    if let Some(r) = same_as_reduction(op, method, p) {
        return reduce::reduce(r, a, p, out, &mut []);
    }
    let r = resolve(op, method, inputs, p)?;
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
    let flags = crate::element::with_dtype!(r.dtype, T => {
        let step = match arith_kernel::<T>(op) {
            Some(kernel) => Step::Same(kernel),
            None => Step::of(op)?,
        };
        let out: &mut [T] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
        run::<T>(&step, method, op, a, mask.as_ref(), &r, out)?
    });
    Ok(Output {
        dtype: r.dtype,
        shape: r.shape,
        flags,
    })
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
}

/// The operands' element strides over the input's axes: the input, the
/// `where=` mask broadcast to it, and the output (0 along reduced axes).
const IN: usize = 0;
const MASK: usize = 1;
const OUT: usize = 2;

struct Geometry {
    dims: [usize; MAX_NDIM],
    strides: [[isize; MAX_NDIM]; 3],
    base: [isize; 3],
}

impl Geometry {
    /// The element index of each operand at multi-index `idx`.
    fn at(&self, idx: &[usize; MAX_NDIM]) -> [isize; 3] {
        let mut at = self.base;
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
        mut body: impl FnMut([isize; 3], [isize; 3], usize) -> Result<()>,
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

#[allow(clippy::too_many_arguments)]
fn run<T: Num + Loops>(
    step: &Step<T>,
    method: Method,
    op: BinaryOp,
    a: &ArrayRef<'_>,
    mask: Option<&ArrayRef<'_>>,
    r: &Resolved<'_>,
    out: &mut [T],
) -> Result<FpFlags> {
    let dims = a.shape().dims();
    let ndim = dims.len();
    let mut g = Geometry {
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
    // The output is C-contiguous over the kept axes (reduce) or all axes
    // of its own shape (accumulate, reduceat).
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
    let mut flags = FpFlags::NONE;
    let mut kept = [0usize; MAX_NDIM];
    let mut nkept = 0usize;
    for k in 0..ndim {
        if !r.reduced.get(k).copied().unwrap_or(false) {
            if let Some(slot) = kept.get_mut(nkept) {
                *slot = k;
                nkept += 1;
            }
        }
    }
    let kept = kept.get(..nkept).unwrap_or(&[]);
    let mut idx = [0usize; MAX_NDIM];
    let pass = |idx: &mut [usize; MAX_NDIM], read: isize, write: isize, out: &mut [T]| {
        let pass = Pass {
            g: &g,
            kept,
            step,
            a,
            mask,
        };
        pass.run(idx, read, write, out)
    };
    // accumulate's and reduceat's one axis.
    let axis = r.reduced.iter().position(|&r| r).unwrap_or(0);
    let n = dims.get(axis).copied().unwrap_or(0);
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
            flags |= copy_first(&g, a, kept, &mut idx, 0, out)?;
            for j in 1..n {
                set(&mut idx, j);
                flags |= pass(&mut idx, -row, 0, out)?;
            }
        }
        Method::Reduceat => {
            let Some(indices) = r.indices.as_ref() else {
                return Err(Error::InvalidArgument);
            };
            let m = indices.shape().size();
            let pairwise = op == BinaryOp::Add && T::DTYPE.is_float();
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
                flags |= copy_first(&g, a, kept, &mut idx, to_row(start), out)?;
                if end <= start + 1 {
                    continue;
                }
                if pairwise {
                    let stride = g.strides[IN].get(axis).copied().unwrap_or(0);
                    flags |= add_pairwise(
                        &g,
                        a,
                        kept,
                        &mut idx,
                        (stride, end - start - 1),
                        to_row(start),
                        out,
                    )?;
                    continue;
                }
                for k in start + 1..end {
                    set(&mut idx, k);
                    flags |= pass(&mut idx, to_row(k), to_row(k), out)?;
                }
            }
        }
        Method::Outer => return Err(Error::InvalidArgument),
        Method::Reduce => {
            let skip_first = match r.start {
                Start::First => {
                    flags |= copy_first(&g, a, kept, &mut idx, 0, out)?;
                    true
                }
                Start::Initial(v) => {
                    let (v, f) = initial_value::<T>(v)?;
                    flags |= f;
                    out.fill(v);
                    false
                }
                Start::Identity => {
                    out.fill(identity::<T>(op.identity()));
                    false
                }
            };
            let (order, nred) = reduced_order(&g, ndim, &r.reduced);
            let order = order.get(..nred).unwrap_or(&[]);
            if order.iter().any(|&ax| dims.get(ax) == Some(&0)) {
                return Ok(flags);
            }
            // Every reduced position in NumPy's order (an odometer over the
            // reduced axes, the innermost fastest).
            let mut first = true;
            loop {
                if !(first && skip_first) {
                    flags |= pass(&mut idx, 0, 0, out)?;
                }
                first = false;
                let mut carry = true;
                for &ax in order.iter().rev() {
                    let Some(i) = idx.get_mut(ax) else { break };
                    *i += 1;
                    if *i < dims.get(ax).copied().unwrap_or(0) {
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

/// One pass over the kept axes with the reduced (or accumulated) axes
/// fixed: `out = op(acc, x)`.
struct Pass<'p, 'a, T> {
    g: &'p Geometry,
    kept: &'p [usize],
    step: &'p Step<T>,
    a: &'p ArrayRef<'a>,
    mask: Option<&'p ArrayRef<'a>>,
}

impl<T: Num + Loops> Pass<'_, '_, T> {
    /// Reads the accumulator `read` elements from the output position of
    /// `idx` and writes the result `write` elements from it.
    fn run(
        &self,
        idx: &mut [usize; MAX_NDIM],
        read: isize,
        write: isize,
        out: &mut [T],
    ) -> Result<FpFlags> {
        let mut flags = FpFlags::NONE;
        let mut x = [T::default(); CHUNK];
        let mut prev = [T::default(); CHUNK];
        let mut res = [T::default(); CHUNK];
        let mut sel = [Bool::FALSE; CHUNK];
        let mut exp = [0i64; CHUNK];
        let exponents = self.step.takes_exponents();
        self.g.runs(self.kept, idx, |s, st, n| {
            let (x, prev) = (
                x.get_mut(..n).ok_or(Error::LayoutMismatch)?,
                prev.get_mut(..n).ok_or(Error::LayoutMismatch)?,
            );
            let exp = exp
                .get_mut(..if exponents { n } else { 0 })
                .ok_or(Error::LayoutMismatch)?;
            if exponents {
                self.a.load(s[IN] as usize, st[IN], exp);
            } else {
                self.a.load(s[IN] as usize, st[IN], x);
                flags |= cast_flags::<T>(self.a, s[IN] as usize, st[IN], n);
            }
            gather_out(out, s[OUT].wrapping_add(read), st[OUT], prev);
            let at_out = s[OUT].wrapping_add(write);
            match self.mask {
                None => {
                    let res = res.get_mut(..n).ok_or(Error::LayoutMismatch)?;
                    flags |= self.step.apply(prev, x, exp, res)?;
                    scatter_out(out, at_out, st[OUT], res);
                }
                Some(m) => {
                    // Only the selected elements are computed (and flag).
                    let sel = sel.get_mut(..n).ok_or(Error::LayoutMismatch)?;
                    m.load(s[MASK] as usize, st[MASK], sel);
                    let mut at = at_out;
                    for (i, &keep) in sel.iter().enumerate() {
                        if keep != Bool::FALSE {
                            let one = i..i + 1;
                            let mut r = [T::default()];
                            flags |= self.step.apply(
                                prev.get(one.clone()).unwrap_or(&[]),
                                x.get(one.clone()).unwrap_or(&[]),
                                exp.get(one).unwrap_or(&[]),
                                &mut r,
                            )?;
                            scatter_out(out, at, 0, &r);
                        }
                        at = at.wrapping_add(st[OUT]);
                    }
                }
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

/// The outputs at `idx` (`shift` elements on) are the input there, cast.
fn copy_first<T: LoopElement>(
    g: &Geometry,
    a: &ArrayRef<'_>,
    kept: &[usize],
    idx: &mut [usize; MAX_NDIM],
    shift: isize,
    out: &mut [T],
) -> Result<FpFlags> {
    let mut buf = [T::default(); CHUNK];
    let mut flags = FpFlags::NONE;
    g.runs(kept, idx, |s, st, n| {
        let buf = buf.get_mut(..n).ok_or(Error::LayoutMismatch)?;
        a.load(s[IN] as usize, st[IN], buf);
        flags |= cast_flags::<T>(a, s[IN] as usize, st[IN], n);
        scatter_out(out, s[OUT].wrapping_add(shift), st[OUT], buf);
        Ok(())
    })?;
    Ok(flags)
}

/// `reduceat` of float `add`: each output (already the slice's first
/// element, `shift` elements from the position of `idx`) plus NumPy's
/// pairwise sum of the `len` elements after it, `stride` apart.
fn add_pairwise<T: Num>(
    g: &Geometry,
    a: &ArrayRef<'_>,
    kept: &[usize],
    idx: &mut [usize; MAX_NDIM],
    (stride, len): (isize, usize),
    shift: isize,
    out: &mut [T],
) -> Result<FpFlags> {
    let mut flags = FpFlags::NONE;
    g.runs(kept, idx, |s, st, n| {
        for j in 0..n as isize {
            let first = s[IN].wrapping_add(j.wrapping_mul(st[IN]));
            let get = |k: usize| {
                let mut one = [T::ZERO];
                let at = first.wrapping_add((k as isize + 1).wrapping_mul(stride));
                a.load(at as usize, 0, &mut one);
                one[0]
            };
            let mut f = cast_flags_at::<T>(a, first.wrapping_add(stride), stride, len);
            let rest = pairwise_sum(len, &get, &mut f);
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

/// NumPy's `pairwise_sum` of `n` elements read by `get`: fewer than 8
/// added in order (from -0.0), up to 128 in eight interleaved partial
/// sums, more split in two at a multiple of 8. The IEEE flags of every
/// addition go to `flags`.
fn pairwise_sum<T: Num>(n: usize, get: &dyn Fn(usize) -> T, flags: &mut FpFlags) -> T {
    if n < 8 {
        let mut res = T::from_f64(-0.0);
        for i in 0..n {
            res = add_flagged(res, get(i), flags);
        }
        res
    } else if n <= 128 {
        let mut r = [T::ZERO; 8];
        for (k, rk) in r.iter_mut().enumerate() {
            *rk = get(k);
        }
        let full = n - n % 8;
        for base in (8..full).step_by(8) {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk = add_flagged(*rk, get(base + k), flags);
            }
        }
        let [r0, r1, r2, r3, r4, r5, r6, r7] = r;
        let (s01, s23) = (add_flagged(r0, r1, flags), add_flagged(r2, r3, flags));
        let (s45, s67) = (add_flagged(r4, r5, flags), add_flagged(r6, r7, flags));
        let (left, right) = (add_flagged(s01, s23, flags), add_flagged(s45, s67, flags));
        let mut res = add_flagged(left, right, flags);
        for i in full..n {
            res = add_flagged(res, get(i), flags);
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        let left = pairwise_sum(half, get, flags);
        let right = pairwise_sum(n - half, &|i| get(half + i), flags);
        add_flagged(left, right, flags)
    }
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
}
