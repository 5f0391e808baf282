//! A ufunc call with NumPy's keywords: `out=` (the output array's dtype
//! and shape; its contents are the call's output buffer), `where=` (where
//! False the output keeps its contents), `casting=` (how the result may be
//! cast into `out=`, and the inputs into a `dtype=` loop), `dtype=` and
//! `signature=` (see [`crate::signature`] for NumPy's rules).
//!
//! `dtype=X` (NumPy 2.4, measured): a ufunc whose loops all have one dtype
//! in and out (arithmetic, bitwise, shifts, the float functions, the
//! unary ufuncs but the predicates) runs its `X` loop, every operand cast
//! to `X` under `casting=` (`np.add(int8, int8, dtype=float64)` adds in
//! float64; `np.add(float64, float64, dtype=int32)` is a UFuncTypeError
//! unless `casting="unsafe"`; a Python int must fit `X`); no `X` loop is
//! a TypeError (`np.true_divide(int8, int8, dtype=int8)`). The others
//! (comparisons, logical, predicates, `bitwise_count`, `ldexp`) take
//! `dtype=` naming the dtype they already give (bool, uint8, the
//! mantissa's float) and refuse any other with TypeError; NumPy's loop
//! search there can also pick a wider `ldexp` float, which fnp reports
//! unsupported.
//!
//! NumPy's order, measured on 2.4: the loop is resolved first (TypeError),
//! then each output's cast is checked against `casting=` (UFuncTypeError,
//! even when the shapes do not broadcast either), then the inputs, the
//! outputs and the mask broadcast to one iteration shape that every output
//! must already have (ValueError). The op runs only where the mask is
//! true, so only those elements raise flags; casting the result into a
//! narrower `out=` raises the cast's flags (float64 into float32 overflows
//! and underflows, a float that no integer holds is `invalid`).
//!
//! Three paths: no mask and outputs of the result's dtypes run the op
//! straight into `out` (inputs broadcast to the iteration shape); a cast
//! without a mask computes the result into scratch and casts it over; a
//! mask gathers the selected elements of each input into scratch, runs
//! the op on those and scatters the results (cast) into `out`.

use crate::array::{copy_into, ArrayRef};
use crate::dtype::{Casting, DType, OperandType};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::op::Op;
use crate::output::Output;
use crate::reduce::ReduceParams;
use crate::shape::{broadcast_shapes, OuterIndex, Shape};
use crate::signature::Signature;
use crate::table::{BinaryOp, MultiOp};

/// Whether `op` takes the output keywords (the ufunc calls).
pub(crate) const fn takes_keywords(op: Op) -> bool {
    matches!(op, Op::Binary(_) | Op::Unary(_) | Op::Multi(_))
}

/// Whether the call uses `out=`, `where=`, `dtype=` or a `casting=`
/// other than NumPy's default (otherwise it is a plain call).
pub(crate) fn keyed(params: &ReduceParams<'_>) -> bool {
    params.out.iter().any(Option::is_some)
        || params.where_mask.is_some()
        || params.dtype.is_some()
        || params.casting != Casting::SameKind
        || params.signature.is_some()
}

/// Outputs of `op` (two for divmod, modf, frexp).
const fn nout(op: Op) -> usize {
    match op {
        Op::Multi(_) => 2,
        _ => 1,
    }
}

/// A checked keyword call.
struct Keyed {
    /// `dtype=`'s loop: every input is cast to it first.
    forced: Option<DType>,
    /// Scratch bytes of the cast inputs (at the start of the scratch).
    cast_bytes: usize,
    /// The result dtypes (the loop's outputs).
    results: [DType; 2],
    /// The output dtypes (`out=`'s, or the results').
    outs: [DType; 2],
    nout: usize,
    /// Array inputs.
    nin: usize,
    /// The iteration shape, every output's.
    shape: Shape,
    /// Run the op straight into `out`.
    direct: bool,
    /// Scratch bytes the other paths need.
    scratch_bytes: usize,
}

/// The first output's dtype when the shapes do not broadcast: NumPy
/// checks the casts before it broadcasts.
fn resolve_only(op: Op, inputs: &[ArrayRef<'_>]) -> Result<DType> {
    let b = match op {
        Op::Binary(b) => b,
        Op::Multi(MultiOp::Divmod) => BinaryOp::FloorDivide,
        _ => return Err(Error::BroadcastMismatch),
    };
    match inputs {
        [x, y] => b.resolve(x.operand_type(), y.operand_type()),
        _ => Err(Error::InvalidArgument),
    }
}

fn round8(n: usize) -> Result<usize> {
    n.checked_next_multiple_of(8).ok_or(Error::ShapeOverflow)
}

/// The loop `dtype=x` makes `op` run (inputs cast to it), `None` when it
/// is the loop the operands pick anyway.
fn forced_loop(
    op: Op,
    inputs: &[ArrayRef<'_>],
    x: DType,
    casting: Casting,
    natural: Result<DType>,
) -> Result<Option<DType>> {
    use crate::table::{BinaryFamily as B, UnaryFamily as U, UnaryOp};
    let homogeneous = match op {
        Op::Binary(b) => b.family() != B::Compare && b.family() != B::Logical,
        Op::Unary(u) => !matches!(
            u.family(),
            U::Predicate | U::Signbit | U::Logical | U::BitCount
        ),
        Op::Multi(MultiOp::Divmod | MultiOp::Modf) => true,
        // NumPy finds no frexp loop for any dtype= (its outputs differ).
        Op::Multi(MultiOp::Frexp) => return Err(Error::NoLoop),
        _ => false,
    };
    if !homogeneous || op == Op::Binary(BinaryOp::Ldexp) {
        return match natural {
            Ok(d) if d == x => Ok(None),
            Ok(d) if op == Op::Binary(BinaryOp::Ldexp) && x.is_float() && d.can_cast_safe(x) => {
                Err(Error::Unsupported)
            }
            Ok(_) => Err(Error::NoLoop),
            Err(e) => Err(e),
        };
    }
    let has_loop = match op {
        Op::Binary(b) => b.array_loop_dtype(x, x) == Ok(x),
        Op::Multi(MultiOp::Divmod) => BinaryOp::FloorDivide.array_loop_dtype(x, x) == Ok(x),
        Op::Unary(u) => u.loop_for(x) == Ok(x),
        Op::Multi(_) => UnaryOp::Sqrt.loop_for(x) == Ok(x),
        _ => false,
    };
    if !has_loop {
        return Err(Error::NoLoop);
    }
    for input in inputs {
        let from = match input.operand_type() {
            crate::dtype::OperandType::Array(d) => d,
            // A Python float is a float64 here; a Python int or bool fits
            // any loop whose range holds it (checked when cast).
            crate::dtype::OperandType::PyFloat => DType::Float64,
            _ => continue,
        };
        if !casting.allows(from, x) {
            return Err(Error::Casting);
        }
    }
    Ok(Some(x))
}

/// The input loop dtype NumPy picks for operands of these types (the
/// logical ufuncs have a loop for every dtype).
fn loop_input(op: Op, types: &[OperandType]) -> Result<DType> {
    use crate::table::{BinaryFamily, UnaryFamily, UnaryOp};
    match (op, types) {
        (Op::Binary(b), [x, y]) if b.family() == BinaryFamily::Logical => {
            crate::dtype::result_type_weak(&[*x, *y])
        }
        (Op::Binary(b), [x, y]) => b.loop_dtype(*x, *y),
        (Op::Multi(MultiOp::Divmod), [x, y]) => BinaryOp::FloorDivide.loop_dtype(*x, *y),
        (Op::Unary(u), [x]) if u.family() == UnaryFamily::Logical => {
            crate::dtype::result_type_weak(&[*x])
        }
        (Op::Unary(u), [x]) => u.loop_dtype(*x),
        (Op::Multi(_), [x]) => UnaryOp::Sqrt.loop_dtype(*x),
        _ => Err(Error::InvalidArgument),
    }
}

/// The first output of `op`'s loop for inputs of dtype `x`.
fn loop_result(op: Op, x: DType) -> Result<DType> {
    let t = OperandType::Array(x);
    match op {
        Op::Binary(b) => b.resolve(t, t),
        Op::Multi(MultiOp::Divmod) => BinaryOp::FloorDivide.resolve(t, t),
        Op::Unary(u) => u.resolve(t),
        _ => Ok(x),
    }
}

/// The loop `signature=` makes `op` run: the dtype every input is cast to,
/// `None` when it is the loop the operands pick anyway.
fn signature_loop(
    op: Op,
    inputs: &[ArrayRef<'_>],
    sig: &Signature,
    casting: Casting,
    natural: Result<DType>,
) -> Result<Option<DType>> {
    let nin = inputs.len();
    sig.check(nin, nout(op))?;
    let (given_in, given_out) = sig
        .types()
        .split_at_checked(nin)
        .ok_or(Error::InvalidArgument)?;
    if given_in.iter().all(Option::is_none) {
        // Only outputs: `dtype=` for them.
        if op == Op::Multi(MultiOp::Frexp) {
            return frexp_outputs(inputs, given_out, casting, natural);
        }
        let mut outs = given_out.iter().flatten();
        return match outs.next() {
            None => Ok(None),
            Some(&x) if outs.all(|&y| y == x) => forced_loop(op, inputs, x, casting, natural),
            Some(_) => Err(Error::NoLoop),
        };
    }
    if op == Op::Binary(BinaryOp::Ldexp) {
        return ldexp_signature(inputs, sig.types(), natural);
    }
    if let Op::Binary(b) = op {
        if b.family() == crate::table::BinaryFamily::Logical {
            check_outputs(given_out, [DType::Bool; 2])?;
            match given_in {
                // `??->?` takes any operands as truth values, under any
                // casting= (NumPy 2.4, measured).
                [Some(DType::Bool), Some(DType::Bool)] => return Ok(None),
                [Some(_), Some(_)] => {}
                // One input given: NumPy's logical promoter, which fnp
                // does not model.
                _ => return Err(Error::Unsupported),
            }
        }
    }
    let mut types = [OperandType::Array(DType::Bool); 2];
    for ((t, x), given) in types.iter_mut().zip(inputs).zip(given_in) {
        *t = match given {
            Some(d) => OperandType::Array(*d),
            None => x.operand_type(),
        };
    }
    let types = types.get(..nin).ok_or(Error::InvalidArgument)?;
    // NumPy's pick would be its float16 loop, which the given dtype is not.
    let x = match loop_input(op, types) {
        Err(Error::Float16) => return Err(Error::NoLoop),
        other => other?,
    };
    let first = loop_result(op, x)?;
    let results = [first, op.second_output(first).unwrap_or(first)];
    if given_in.iter().any(|g| g.is_some_and(|d| d != x)) {
        return Err(Error::NoLoop);
    }
    check_outputs(given_out, results)?;
    for (input, given) in inputs.iter().zip(given_in) {
        let from = match input.operand_type() {
            OperandType::Array(d) => d,
            // A Python float the signature does not name is a float64.
            OperandType::PyFloat if given.is_none() => DType::Float64,
            _ => continue,
        };
        if !casting.allows(from, x) {
            return Err(Error::Casting);
        }
    }
    let mut actual = [OperandType::Array(DType::Bool); 2];
    for (t, input) in actual.iter_mut().zip(inputs) {
        *t = input.operand_type();
    }
    let natural_loop = loop_input(op, actual.get(..nin).unwrap_or(&[]));
    // A Python scalar the signature names is converted to it, so a
    // weak operand there always goes through the cast.
    let converts = inputs
        .iter()
        .zip(given_in)
        .any(|(i, g)| i.is_weak() && g.is_some_and(|d| Ok(d) != natural_loop));
    Ok((natural_loop != Ok(x) || converts).then_some(x))
}

/// [`Error::NoLoop`] unless every output dtype given is the loop's.
fn check_outputs(given_out: &[Option<DType>], results: [DType; 2]) -> Result<()> {
    if given_out
        .iter()
        .zip(results)
        .all(|(g, r)| g.is_none_or(|d| d == r))
    {
        Ok(())
    } else {
        Err(Error::NoLoop)
    }
}

/// `frexp` with only its outputs' dtypes given: the mantissa names the
/// float loop, the exponent can only be int32.
fn frexp_outputs(
    inputs: &[ArrayRef<'_>],
    given_out: &[Option<DType>],
    casting: Casting,
    natural: Result<DType>,
) -> Result<Option<DType>> {
    use crate::table::UnaryOp;
    if let [_, Some(e)] = given_out {
        if *e != DType::Int32 {
            return Err(Error::NoLoop);
        }
    }
    let Some(Some(x)) = given_out.first() else {
        return natural.map(|_| None);
    };
    if UnaryOp::Sqrt.loop_for(*x) != Ok(*x) {
        return Err(Error::NoLoop);
    }
    forced_loop(Op::Unary(UnaryOp::Sqrt), inputs, *x, casting, natural)
}

/// `ldexp` with input dtypes given: fnp runs only its natural loop
/// (mantissa float `f`, exponent int32 or int64); a signature asking for
/// another float or a narrower exponent is unsupported, one no ldexp loop
/// has is NumPy's TypeError.
fn ldexp_signature(
    inputs: &[ArrayRef<'_>],
    given: &[Option<DType>],
    natural: Result<DType>,
) -> Result<Option<DType>> {
    let [m, e, r] = given else {
        return Err(Error::InvalidArgument);
    };
    let float = |d: &Option<DType>| d.is_none_or(|d| d.is_float());
    let exponent = e.is_none_or(|d| matches!(d, DType::Int32 | DType::Int64));
    let same = match (m, r) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    if !(float(m) && float(r) && exponent && same) {
        return Err(Error::NoLoop);
    }
    let f = natural?;
    let holds = match (inputs.get(1).map(ArrayRef::operand_type), e) {
        (Some(OperandType::Array(from)), Some(to)) => from.can_cast_safe(*to),
        _ => true,
    };
    if m.is_some_and(|d| d != f) || r.is_some_and(|d| d != f) || !holds {
        return Err(Error::Unsupported);
    }
    Ok(None)
}

fn plan(op: Op, inputs: &[ArrayRef<'_>], params: &ReduceParams<'_>) -> Result<Keyed> {
    params.expect_call_keywords()?;
    let plain = crate::op::output_of(op, inputs, &ReduceParams::default());
    let natural = match plain {
        Ok((d, _)) => Ok(d),
        Err(Error::BroadcastMismatch) => resolve_only(op, inputs),
        Err(e) => Err(e),
    };
    let forced = match (params.dtype, params.signature) {
        // NumPy: "cannot specify both 'signature' and 'dtype'".
        (Some(_), Some(_)) => return Err(Error::InvalidType),
        (Some(x), None) => forced_loop(op, inputs, x, params.casting, natural)?,
        (None, Some(sig)) => signature_loop(op, inputs, &sig, params.casting, natural)?,
        (None, None) => None,
    };
    let first = match forced {
        Some(x) => loop_result(op, x)?,
        None => natural?,
    };
    // The operands' own shapes broadcast (their dtypes may have no loop
    // without the cast).
    let plain = match (forced, inputs) {
        (Some(x), [a, b]) => broadcast_shapes(a.shape(), b.shape()).map(|s| (x, s)),
        (Some(x), [a]) => Ok((x, *a.shape())),
        _ => plain,
    };
    let mut cast_bytes = 0usize;
    if let Some(x) = forced {
        for input in inputs {
            let bytes = input
                .shape()
                .checked_size()?
                .checked_mul(x.itemsize())
                .ok_or(Error::ShapeOverflow)?;
            cast_bytes = cast_bytes
                .checked_add(round8(bytes)?)
                .ok_or(Error::ShapeOverflow)?;
        }
    }
    let results = [first, op.second_output(first).unwrap_or(first)];
    let nout = nout(op);
    // NumPy: "The 'out' tuple must have exactly one entry per ufunc output".
    if params.out.iter().skip(nout).any(Option::is_some) {
        return Err(Error::InvalidArgument);
    }
    let mut outs = results;
    for ((out, result), given) in outs.iter_mut().zip(results).zip(params.out) {
        if let Some(o) = given {
            if !params.casting.allows(result, o.dtype) {
                return Err(Error::Casting);
            }
            *out = o.dtype;
        }
    }
    let mut shape = plain?.1;
    for o in params.out.iter().flatten() {
        shape = broadcast_shapes(&shape, &o.shape)?;
    }
    if let Some(mask) = &params.where_mask {
        if mask.dtype() != DType::Bool {
            // NumPy casts `where=` to bool with casting="safe".
            return Err(Error::InvalidType);
        }
        shape = broadcast_shapes(&shape, mask.shape())?;
    }
    // An output is never broadcast: it must have the iteration shape.
    if params.out.iter().flatten().any(|o| o.shape != shape) {
        return Err(Error::BroadcastMismatch);
    }
    let n = shape.checked_size()?;
    let direct = params.where_mask.is_none() && outs == results;
    let mut scratch_bytes = cast_bytes;
    if !direct {
        for r in results.iter().take(nout) {
            let bytes = n.checked_mul(r.itemsize()).ok_or(Error::ShapeOverflow)?;
            scratch_bytes = scratch_bytes
                .checked_add(round8(bytes)?)
                .ok_or(Error::ShapeOverflow)?;
        }
        if params.where_mask.is_some() {
            // The gathered operands are in the loop's dtype when dtype=
            // cast them (a weak one then is an array too).
            for x in inputs.iter().filter(|x| forced.is_some() || !x.is_weak()) {
                let item = forced.unwrap_or(x.dtype()).itemsize();
                let bytes = n.checked_mul(item).ok_or(Error::ShapeOverflow)?;
                scratch_bytes = scratch_bytes
                    .checked_add(round8(bytes)?)
                    .ok_or(Error::ShapeOverflow)?;
            }
        }
    }
    Ok(Keyed {
        forced,
        cast_bytes,
        results,
        outs,
        nout,
        nin: inputs.len(),
        shape,
        direct,
        scratch_bytes,
    })
}

/// Whether NumPy's `x` loop of `op` clears the FP status when it ends
/// (its SIMD comparisons raise spurious `invalid`), so that the flags of
/// casting the inputs into the loop are lost when NumPy casts them chunk
/// by chunk inside the loop, as it does for more than one dimension
/// (NumPy 2.4 on x86-64, measured for every float32 and int loop: float64
/// 1e300 into float32 `minimum` overflows for shape (3,), not (2, 3);
/// into float32 `add` for both).
fn loop_clears_flags(op: Op, x: DType) -> bool {
    use crate::table::UnaryOp as U;
    use BinaryOp as B;
    let float32 = matches!(
        op,
        Op::Binary(
            B::Maximum
                | B::Minimum
                | B::Fmax
                | B::Fmin
                | B::Equal
                | B::NotEqual
                | B::Less
                | B::LessEqual
                | B::Greater
                | B::GreaterEqual
                | B::LogicalAnd
                | B::LogicalOr
        ) | Op::Unary(
            U::Absolute
                | U::Negative
                | U::Sign
                | U::Isnan
                | U::Isinf
                | U::Isfinite
                | U::Signbit
                | U::Tanh
        )
    );
    let int = op == Op::Binary(B::LeftShift);
    (float32 && x == DType::Float32) || (int && matches!(x, DType::Int32 | DType::Int64))
}

/// The output dtype and shape of a keyword call (the first output's dtype
/// for a two-output ufunc).
pub(crate) fn output(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
) -> Result<(DType, Shape)> {
    let k = plan(op, inputs, params)?;
    Ok((k.outs[0], k.shape))
}

/// Scratch words a keyword call needs (0 when it runs into `out`).
pub(crate) fn scratch_len(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
) -> Result<usize> {
    Ok(plan(op, inputs, params)?.scratch_bytes / 8)
}

/// Bytes of every output, one after the other.
pub(crate) fn out_bytes(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
) -> Result<usize> {
    let k = plan(op, inputs, params)?;
    let item: usize = k.outs.iter().take(k.nout).map(|d| d.itemsize()).sum();
    k.shape.size().checked_mul(item).ok_or(Error::ShapeOverflow)
}

/// Runs a keyword call: `out` holds every output's contents before the
/// call (C order, the first output then the second) and after it.
pub(crate) fn call(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    out: &mut [u8],
    scratch: &mut [u64],
) -> Result<Output> {
    let k = plan(op, inputs, params)?;
    let scratch: &mut [u8] = bytemuck::cast_slice_mut(scratch);
    let scratch = scratch
        .get_mut(..k.scratch_bytes)
        .ok_or(Error::BufferTooSmall {
            buffer: crate::error::Buffer::Scratch,
            needed: k.scratch_bytes,
        })?;
    let (cast_area, scratch) = scratch
        .split_at_mut_checked(k.cast_bytes)
        .ok_or(Error::LayoutMismatch)?;
    let mut cast_flags = FpFlags::NONE;
    let mut cast: [Option<ArrayRef<'_>>; 2] = [None, None];
    match k.forced {
        Some(x) => {
            // Each operand in dtype=`s loop dtype, in its own shape.
            let mut rest = &mut *cast_area;
            let mut parts: [&mut [u8]; 2] = [&mut [], &mut []];
            for (part, input) in parts.iter_mut().zip(inputs) {
                let len = round8(input.shape().size() * x.itemsize())?.min(rest.len());
                let (here, tail) = core::mem::take(&mut rest)
                    .split_at_mut_checked(len)
                    .ok_or(Error::LayoutMismatch)?;
                *part = here;
                rest = tail;
            }
            for ((part, input), slot) in parts.into_iter().zip(inputs).zip(cast.iter_mut()) {
                cast_flags |= super::check_weak(input, x)?;
                let size = x.itemsize();
                let mut next = 0usize;
                let mut failed = None;
                for_each_index(input.shape(), |idx| {
                    let at = input.layout().element_index(idx);
                    match part.get_mut(next * size..(next + 1) * size) {
                        Some(dst) => cast_flags |= cast_element(input, at, x, dst),
                        None => failed = Some(Error::LayoutMismatch),
                    }
                    next += 1;
                });
                if let Some(e) = failed {
                    return Err(e);
                }
                let part: &[u8] = part;
                *slot = Some(ArrayRef::contiguous(
                    x,
                    part.get(..next * size).unwrap_or(&[]),
                    *input.shape(),
                )?);
            }
        }
        None => {
            for (slot, input) in cast.iter_mut().zip(inputs) {
                *slot = Some(*input);
            }
        }
    }
    if k.shape.ndim() > 1 && k.forced.is_some_and(|x| loop_clears_flags(op, x)) {
        cast_flags = FpFlags::NONE;
    }
    let inputs = match cast {
        [Some(x), Some(y)] if inputs.len() == 2 => [x, y],
        [Some(x), _] if inputs.len() == 1 => [x, x],
        _ => return Err(Error::InvalidArgument),
    };
    let inputs = inputs.get(..k.nin).ok_or(Error::InvalidArgument)?;
    let n = k.shape.size();
    let mut views: [Option<ArrayRef<'_>>; 2] = [None, None];
    for (slot, x) in views.iter_mut().zip(inputs) {
        *slot = Some(if x.is_weak() {
            *x
        } else {
            x.with_layout(x.layout().broadcast_to(&k.shape)?)?
        });
    }
    let views = match views {
        [Some(x), Some(y)] if inputs.len() == 2 => [x, y],
        [Some(x), _] if inputs.len() == 1 => [x, x],
        _ => return Err(Error::InvalidArgument),
    };
    let views = views.get(..inputs.len()).ok_or(Error::InvalidArgument)?;
    let plain = ReduceParams::default();
    let output = |flags| Output {
        second: (k.nout == 2).then_some(k.outs[1]),
        ..Output::new(k.outs[0], k.shape, flags)
    };
    let total: usize = k.outs.iter().take(k.nout).map(|d| n * d.itemsize()).sum();
    let out = out
        .get_mut(..total)
        .ok_or_else(|| Error::short_output::<u8>(total))?;
    if k.direct {
        let r = crate::op::call(op, views, &plain, out, &mut [])?;
        return Ok(output(r.flags | cast_flags));
    }
    // Result regions first (8-aligned), then the gathered inputs.
    let result_len: usize = k
        .results
        .iter()
        .take(k.nout)
        .map(|d| n * d.itemsize())
        .sum();
    let (results, gathered) = scratch
        .split_at_mut_checked(round8(result_len)?.min(scratch.len()))
        .ok_or(Error::LayoutMismatch)?;
    let Some(mask) = &params.where_mask else {
        let r = crate::op::call(op, views, &plain, results, &mut [])?;
        let flags = cast_outputs(&k, results, out, n, None)?;
        return Ok(output(r.flags | flags | cast_flags));
    };
    let mask = mask.with_layout(mask.layout().broadcast_to(&k.shape)?)?;
    // The selected elements of each array input, in C order.
    let mut selected = 0usize;
    for_each_index(&k.shape, |idx| {
        if element_is_true(&mask, idx) {
            selected += 1;
        }
    });
    let mut compact: [Option<ArrayRef<'_>>; 2] = [None, None];
    let mut rest = &mut *gathered;
    let mut parts: [&mut [u8]; 2] = [&mut [], &mut []];
    for (part, x) in parts.iter_mut().zip(views) {
        if x.is_weak() {
            continue;
        }
        let len = round8(n * x.dtype().itemsize())?.min(rest.len());
        let (here, tail) = core::mem::take(&mut rest)
            .split_at_mut_checked(len)
            .ok_or(Error::LayoutMismatch)?;
        *part = here;
        rest = tail;
    }
    for ((part, x), slot) in parts.iter_mut().zip(views).zip(compact.iter_mut()) {
        if x.is_weak() {
            *slot = Some(*x);
            continue;
        }
        let size = x.dtype().itemsize();
        let mut next = 0usize;
        let data = x.bytes();
        let layout = *x.layout();
        for_each_index(&k.shape, |idx| {
            if element_is_true(&mask, idx) {
                let at = layout.element_index(idx) * size;
                if let (Some(dst), Some(src)) = (
                    part.get_mut(next * size..(next + 1) * size),
                    data.get(at..at + size),
                ) {
                    copy_into(dst, src);
                }
                next += 1;
            }
        });
        let part: &[u8] = part;
        *slot = Some(ArrayRef::contiguous(
            x.dtype(),
            part.get(..selected * size).unwrap_or(&[]),
            Shape::vector(selected),
        )?);
    }
    let compact = match compact {
        [Some(x), Some(y)] if views.len() == 2 => [x, y],
        [Some(x), _] => [x, x],
        _ => return Err(Error::InvalidArgument),
    };
    let compact = compact.get(..views.len()).ok_or(Error::InvalidArgument)?;
    let r = crate::op::call(op, compact, &plain, results, &mut [])?;
    let read = read_flags(&k, out)?;
    let flags = cast_outputs(&k, results, out, selected, Some(&mask))?;
    Ok(output(r.flags | flags | cast_flags | read))
}

/// The flags of casting every output's prior contents into its result
/// dtype: with `where=`, NumPy reads an `out=` of another dtype into its
/// loop buffer whole, masked or not, before it writes the selected
/// elements back (`multiply(x, x, signature="ff->f", out=f64, where=m)`
/// with 1e-300 anywhere in `out` raises underflow).
fn read_flags(k: &Keyed, out: &[u8]) -> Result<FpFlags> {
    let n = k.shape.size();
    let mut flags = FpFlags::NONE;
    let mut at = 0usize;
    for (&to, &from) in k.results.iter().zip(&k.outs).take(k.nout) {
        let len = n * from.itemsize();
        if from != to {
            let bytes = out.get(at..at + len).ok_or(Error::LayoutMismatch)?;
            let prior = ArrayRef::contiguous(from, bytes, Shape::vector(n))?;
            let mut sink = [0u8; 8];
            for i in 0..n {
                flags |= cast_element(&prior, i, to, &mut sink);
            }
        }
        at += len;
    }
    Ok(flags)
}

/// Casts the results (`len` elements per output, contiguous in
/// `results`) into the outputs in `out`: element `i` to position `i`, or
/// with a mask the `i`-th selected position.
fn cast_outputs(
    k: &Keyed,
    results: &[u8],
    out: &mut [u8],
    len: usize,
    mask: Option<&ArrayRef<'_>>,
) -> Result<FpFlags> {
    let n = k.shape.size();
    let mut flags = FpFlags::NONE;
    let (mut src_at, mut dst_at) = (0usize, 0usize);
    for (&from, &to) in k.results.iter().zip(&k.outs).take(k.nout) {
        let src_bytes = results
            .get(src_at..src_at + len * from.itemsize())
            .ok_or(Error::LayoutMismatch)?;
        let dst = out
            .get_mut(dst_at..dst_at + n * to.itemsize())
            .ok_or(Error::LayoutMismatch)?;
        let src = ArrayRef::contiguous(from, src_bytes, Shape::vector(len))?;
        let (size, mut next) = (to.itemsize(), 0usize);
        let mut failed = None;
        let mut put = |pos: usize| {
            let Some(d) = dst.get_mut(pos * size..(pos + 1) * size) else {
                failed = Some(Error::LayoutMismatch);
                return;
            };
            flags |= cast_element(&src, next, to, d);
            next += 1;
        };
        match mask {
            None => (0..len).for_each(&mut put),
            Some(m) => {
                let mut pos = 0usize;
                for_each_index(&k.shape, |idx| {
                    if element_is_true(m, idx) {
                        put(pos);
                    }
                    pos += 1;
                });
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        src_at += len * from.itemsize();
        dst_at += n * to.itemsize();
    }
    Ok(flags)
}

/// Element `i` of `src` cast to `to` into `dst` (its bytes), as NumPy's C
/// cast on x86-64; returns the cast's flags.
pub(crate) fn cast_element(src: &ArrayRef<'_>, i: usize, to: DType, dst: &mut [u8]) -> FpFlags {
    let from = src.dtype();
    if from.is_float() && to.is_integer() {
        let mut v = [0f64];
        src.load(i, 1, &mut v);
        let (bits, invalid) = crate::num::c_cast_to_int_bits(v[0], to);
        let bytes = bits.to_le_bytes();
        copy_into(dst, &bytes);
        return if invalid {
            FpFlags::INVALID
        } else {
            FpFlags::NONE
        };
    }
    let mut flags = FpFlags::NONE;
    if from == DType::Float64 && to == DType::Float32 {
        let mut v = [0f64];
        src.load(i, 1, &mut v);
        flags = crate::num::f64_to_f32_flags(v[0]);
    }
    crate::element::with_dtype!(to, T => {
        let mut v = [T::default()];
        src.load(i, 1, &mut v);
        copy_into(dst, bytemuck::bytes_of(&v));
    });
    flags
}

/// Whether the mask (broadcast to the iteration shape) is true at `idx`.
fn element_is_true(mask: &ArrayRef<'_>, idx: &[usize]) -> bool {
    let at = mask.layout().element_index(idx);
    mask.bytes().get(at).is_some_and(|&b| b != 0)
}

/// Calls `f` with every multi-index of `shape` in C order.
pub(crate) fn for_each_index(shape: &Shape, mut f: impl FnMut(&[usize])) {
    let ndim = shape.ndim();
    let last = shape.dims().last().copied().unwrap_or(1);
    let mut outer = OuterIndex::new(shape);
    while let Some(mut idx) = outer.next_index() {
        for j in 0..last {
            if let Some(slot) = ndim.checked_sub(1).and_then(|l| idx.get_mut(l)) {
                *slot = j;
            }
            f(idx.get(..ndim).unwrap_or(&[]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::UnaryOp;

    use crate::array::vector as f64s;

    fn bools(v: &[bool]) -> std::vec::Vec<crate::element::Bool> {
        v.iter().map(|&b| crate::element::Bool::from(b)).collect()
    }

    #[test]
    fn out_of_another_dtype_casts_and_flags() {
        // np.add([1e300, 1e-300, 2.5], 0.0, out=float32 array): overflow
        // and underflow from the cast.
        let v = [1e300, 1e-300, 2.5];
        let zero = [0.0f64];
        let x = f64s(&v);
        let y = f64s(&zero);
        let op = Op::Binary(BinaryOp::Add);
        let params = ReduceParams::default().with_out(0, DType::Float32, Shape::vector(3));
        assert_eq!(crate::op::scratch_len(op, &[x, y], &params), Ok(3));
        let mut out = [0f32; 3];
        let mut scratch = [0u64; 3];
        let o = crate::op::call(
            op,
            &[x, y],
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )
        .unwrap();
        assert_eq!((o.dtype, o.shape.dims()), (DType::Float32, &[3][..]));
        assert_eq!(o.flags, FpFlags::OVERFLOW | FpFlags::UNDERFLOW);
        assert_eq!(out, [f32::INFINITY, 0.0, 2.5]);
        // Into int32: not under same_kind; under unsafe NumPy's x86 cast.
        let to_int = params.with_out(0, DType::Int32, Shape::vector(3));
        let mut ints = [0i32; 3];
        assert_eq!(
            crate::op::call(
                op,
                &[x, y],
                &to_int,
                bytemuck::cast_slice_mut(&mut ints),
                &mut scratch
            ),
            Err(Error::Casting)
        );
        let unsafe_ = to_int.with_casting(Casting::Unsafe);
        let o = crate::op::call(
            op,
            &[x, y],
            &unsafe_,
            bytemuck::cast_slice_mut(&mut ints),
            &mut scratch,
        )
        .unwrap();
        assert_eq!(ints, [i32::MIN, 0, 2]);
        assert_eq!(o.flags, FpFlags::INVALID);
    }

    #[test]
    fn where_keeps_the_out_contents_and_its_flags() {
        // np.divide([1, 1, 4], [0, 0, 2], out=[7, 7, 7], where=[F, F, T]):
        // [7, 7, 2], no divide flag (the op never ran where False).
        let (a, b) = ([1.0, 1.0, 4.0], [0.0, 0.0, 2.0]);
        let mask = bools(&[false, false, true]);
        let mask =
            ArrayRef::from_slice(&mask, crate::shape::Layout::c_contiguous(Shape::vector(3)))
                .unwrap();
        let params = ReduceParams {
            where_mask: Some(mask),
            ..ReduceParams::default().with_out(0, DType::Float64, Shape::vector(3))
        };
        let op = Op::Binary(BinaryOp::TrueDivide);
        let inputs = [f64s(&a), f64s(&b)];
        let mut out = [7.0f64; 3];
        let mut scratch = [0u64; 16];
        let need = crate::op::scratch_len(op, &inputs, &params).unwrap();
        let o = crate::op::call(
            op,
            &inputs,
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch[..need],
        )
        .unwrap();
        assert_eq!(out, [7.0, 7.0, 2.0]);
        assert_eq!(o.flags, FpFlags::NONE);
        // The mask broadcasts, the inputs broadcast to out's shape.
        let row = [1.0, 2.0];
        let mask = bools(&[true, false]);
        let mask =
            ArrayRef::from_slice(&mask, crate::shape::Layout::c_contiguous(Shape::vector(2)))
                .unwrap();
        let shape = Shape::new(&[2, 2]).unwrap();
        let params = ReduceParams {
            where_mask: Some(mask),
            ..ReduceParams::default().with_out(0, DType::Float64, shape)
        };
        let neg = Op::Unary(UnaryOp::Negative);
        let mut out = [9.0f64; 4];
        crate::op::call(
            neg,
            &[f64s(&row)],
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )
        .unwrap();
        assert_eq!(out, [-1.0, 9.0, -1.0, 9.0]);
    }

    #[test]
    fn numpy_error_order() {
        let (a, b) = ([1.0, 2.0, 3.0], [1.0, 2.0]);
        let op = Op::Binary(BinaryOp::Add);
        let mut out = [0u8; 64];
        // The cast is checked before the shapes.
        let bad = ReduceParams::default().with_out(0, DType::Int32, Shape::vector(2));
        assert_eq!(
            crate::op::call(op, &[f64s(&a), f64s(&b)], &bad, &mut out, &mut []),
            Err(Error::Casting)
        );
        // An out that the result would have to broadcast into.
        let small = ReduceParams::default().with_out(0, DType::Float64, Shape::vector(1));
        assert_eq!(
            crate::op::call(op, &[f64s(&a), f64s(&a)], &small, &mut out, &mut []),
            Err(Error::BroadcastMismatch)
        );
        // A second out for a one-output ufunc; keywords a call does not take.
        let two = ReduceParams::default().with_out(1, DType::Float64, Shape::vector(3));
        assert_eq!(
            crate::op::call(op, &[f64s(&a), f64s(&a)], &two, &mut out, &mut []),
            Err(Error::InvalidArgument)
        );
        let axis = ReduceParams::along(0).with_out(0, DType::Float64, Shape::vector(3));
        assert_eq!(
            crate::op::call(op, &[f64s(&a), f64s(&a)], &axis, &mut out, &mut []),
            Err(Error::InvalidType)
        );
        // A short scratch is an error naming it.
        let cast = ReduceParams::default().with_out(0, DType::Float32, Shape::vector(3));
        assert!(matches!(
            crate::op::call(op, &[f64s(&a), f64s(&a)], &cast, &mut out, &mut []),
            Err(Error::BufferTooSmall {
                buffer: crate::error::Buffer::Scratch,
                ..
            })
        ));
    }

    #[test]
    fn divmod_into_two_outs() {
        // np.divmod([7., -7.], 2., out=(float32 q, None)).
        let a = [7.0, -7.0];
        let two = [2.0];
        let params = ReduceParams::default().with_out(0, DType::Float32, Shape::vector(2));
        let op = Op::Multi(MultiOp::Divmod);
        let inputs = [f64s(&a), f64s(&two)];
        assert_eq!(crate::op::out_bytes(op, &inputs, &params), Ok(8 + 16));
        let mut out = [0u64; 3];
        let mut scratch = [0u64; 4];
        let o = crate::op::call(
            op,
            &inputs,
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )
        .unwrap();
        assert_eq!((o.dtype, o.second), (DType::Float32, Some(DType::Float64)));
        let q: &[f32] = bytemuck::cast_slice(&out[..1]);
        let r: &[f64] = bytemuck::cast_slice(&out[1..]);
        assert_eq!((q, r), (&[3.0f32, -4.0][..], &[1.0, 1.0][..]));
    }
}

#[cfg(test)]
mod dtype_tests {
    use super::*;
    use crate::table::UnaryOp;

    fn arr<T: crate::element::Element>(v: &[T]) -> ArrayRef<'_> {
        ArrayRef::from_slice(
            v,
            crate::shape::Layout::c_contiguous(Shape::vector(v.len())),
        )
        .unwrap()
    }

    fn run(
        op: Op,
        inputs: &[ArrayRef<'_>],
        params: &ReduceParams<'_>,
    ) -> Result<(Output, std::vec::Vec<u8>)> {
        let bytes = crate::op::out_bytes(op, inputs, params)?;
        let mut out = std::vec![0u64; bytes.div_ceil(8)];
        let mut scratch = std::vec![0u64; crate::op::scratch_len(op, inputs, params)?];
        let o = crate::op::call(
            op,
            inputs,
            params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )?;
        let all: &[u8] = bytemuck::cast_slice(&out);
        Ok((o, all[..bytes].to_vec()))
    }

    #[test]
    fn dtype_picks_the_loop_numpy_picks() {
        let add = Op::Binary(BinaryOp::Add);
        let i8s = [100i8, -100, 3];
        let x = arr(&i8s);
        // np.add(int8, int8, dtype=float64) adds in float64.
        let p = ReduceParams::default().with_dtype(DType::Float64);
        let (o, bytes) = run(add, &[x, x], &p).unwrap();
        assert_eq!(o.dtype, DType::Float64);
        let v: &[f64] = bytemuck::cast_slice(&bytes);
        assert_eq!(v, [200.0, -200.0, 6.0]);
        // float64 into an int32 loop: same_kind refuses, unsafe truncates.
        let f = [1.5f64, -2.5, 3.0];
        let p = ReduceParams::default().with_dtype(DType::Int32);
        assert_eq!(
            run(add, &[arr(&f), arr(&f)], &p).err(),
            Some(Error::Casting)
        );
        let (o, bytes) = run(add, &[arr(&f), arr(&f)], &p.with_casting(Casting::Unsafe)).unwrap();
        assert_eq!(o.dtype, DType::Int32);
        assert_eq!(bytemuck::cast_slice::<u8, i32>(&bytes), [2, -4, 6]);
        // No int8 loop in true_divide; a comparison gives bool only.
        let p = ReduceParams::default().with_dtype(DType::Int8);
        assert_eq!(
            run(Op::Binary(BinaryOp::TrueDivide), &[x, x], &p).err(),
            Some(Error::NoLoop)
        );
        let less = Op::Binary(BinaryOp::Less);
        assert_eq!(run(less, &[x, x], &p).err(), Some(Error::NoLoop));
        let (o, _) = run(
            less,
            &[x, x],
            &ReduceParams::default().with_dtype(DType::Bool),
        )
        .unwrap();
        assert_eq!(o.dtype, DType::Bool);
        // float64 computed in float32 raises the input cast's overflow.
        let big = [1e300f64];
        let p = ReduceParams::default().with_dtype(DType::Float32);
        let (o, bytes) = run(add, &[arr(&big), arr(&[1.0f64])], &p).unwrap();
        assert_eq!(o.flags, FpFlags::OVERFLOW);
        assert_eq!(bytemuck::cast_slice::<u8, f32>(&bytes), [f32::INFINITY]);
        // A Python int must fit the loop (OverflowError), a Python float
        // does not cast into an int loop under same_kind.
        let py300 = 300i64.to_le_bytes();
        let w = ArrayRef::python_scalar(DType::Int64, &py300).unwrap();
        let p = ReduceParams::default().with_dtype(DType::Int8);
        assert_eq!(run(add, &[x, w], &p).err(), Some(Error::PythonIntOverflow));
        let (o, bytes) = run(
            add,
            &[x, w],
            &ReduceParams::default().with_dtype(DType::Int16),
        )
        .unwrap();
        assert_eq!(o.dtype, DType::Int16);
        assert_eq!(bytemuck::cast_slice::<u8, i16>(&bytes), [400, 200, 303]);
        let half = 3.5f64.to_le_bytes();
        let pf = ArrayRef::python_scalar(DType::Float64, &half).unwrap();
        assert_eq!(run(add, &[x, pf], &p).err(), Some(Error::Casting));
        // Unary: np.negative(int8, dtype=int16); np.sqrt(int16, dtype=float64).
        let (o, bytes) = run(
            Op::Unary(UnaryOp::Negative),
            &[x],
            &ReduceParams::default().with_dtype(DType::Int16),
        )
        .unwrap();
        assert_eq!(o.dtype, DType::Int16);
        assert_eq!(bytemuck::cast_slice::<u8, i16>(&bytes), [-100, 100, -3]);
        let four = [4i16];
        let (o, _) = run(
            Op::Unary(UnaryOp::Sqrt),
            &[arr(&four)],
            &ReduceParams::default().with_dtype(DType::Float64),
        )
        .unwrap();
        assert_eq!(o.dtype, DType::Float64);
    }

    #[test]
    fn dtype_with_out_and_where() {
        let a = [100i8, -100, 3];
        let x =
            ArrayRef::from_slice(&a, crate::shape::Layout::c_contiguous(Shape::vector(3))).unwrap();
        let m = [
            crate::element::Bool::TRUE,
            crate::element::Bool::FALSE,
            crate::element::Bool::TRUE,
        ];
        let mask =
            ArrayRef::from_slice(&m, crate::shape::Layout::c_contiguous(Shape::vector(3))).unwrap();
        let params = ReduceParams {
            where_mask: Some(mask),
            ..ReduceParams::default().with_dtype(DType::Float64).with_out(
                0,
                DType::Float32,
                Shape::vector(3),
            )
        };
        let op = Op::Binary(BinaryOp::Add);
        let mut out = [7.0f32; 3];
        let mut scratch = std::vec![0u64; crate::op::scratch_len(op, &[x, x], &params).unwrap()];
        crate::op::call(
            op,
            &[x, x],
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )
        .unwrap();
        assert_eq!(out, [200.0, 7.0, 6.0]);
    }

    #[test]
    fn signature_picks_the_loop_numpy_picks() {
        use crate::signature::Signature;
        use crate::table::UnaryOp;
        let sig = |s: &str| ReduceParams::default().with_signature(Signature::parse(s).unwrap());
        let tup = |t: &[Option<DType>]| {
            ReduceParams::default().with_signature(Signature::new(t).unwrap())
        };
        let (d, b) = (Some(DType::Float64), Some(DType::Int8));
        let i8s = [3i8, -2];
        let f8s = [1.5f64, 2.5];
        let (x, f) = (arr(&i8s), arr(&f8s));
        let add = Op::Binary(BinaryOp::Add);
        let dtype_of = |op, inputs: &[ArrayRef<'_>], p: &ReduceParams<'_>| {
            run(op, inputs, p).map(|(o, _)| o.dtype)
        };
        // NumPy 2.4.6, measured: a given input replaces the operand's dtype
        // when the loop is picked.
        for p in [
            sig("dd->d"),
            tup(&[d, None, None]),
            tup(&[None, d, None]),
            tup(&[None, None, d]),
        ] {
            let (o, bytes) = run(add, &[x, x], &p).unwrap();
            assert_eq!(o.dtype, DType::Float64);
            assert_eq!(bytemuck::cast_slice::<u8, f64>(&bytes), [6.0, -4.0]);
        }
        assert_eq!(dtype_of(add, &[f, f], &sig("bb->b")), Err(Error::Casting));
        assert_eq!(
            dtype_of(add, &[f, f], &tup(&[b, None, None])),
            Err(Error::NoLoop)
        );
        assert_eq!(
            dtype_of(add, &[f, f], &tup(&[None, None, b])),
            Err(Error::Casting)
        );
        let unsafe_ = sig("bb->b").with_casting(Casting::Unsafe);
        assert_eq!(dtype_of(add, &[f, f], &unsafe_), Ok(DType::Int8));
        assert_eq!(dtype_of(add, &[x, x], &sig("ff->d")), Err(Error::NoLoop));
        assert_eq!(dtype_of(add, &[x, x], &sig("dd->f")), Err(Error::NoLoop));
        assert_eq!(dtype_of(add, &[x, x], &tup(&[d])), Err(Error::InvalidType));
        assert_eq!(
            dtype_of(add, &[x, x], &tup(&[d, d])),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            dtype_of(add, &[x, x], &sig("dd->dd")),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            dtype_of(add, &[x, x], &tup(&[None, None, None])),
            Ok(DType::Int8)
        );
        let both = sig("dd->d").with_dtype(DType::Float64);
        assert_eq!(dtype_of(add, &[x, x], &both), Err(Error::InvalidType));
        // A Python float the signature names is converted (3.5 -> 3); one
        // it does not name is a float64 that same_kind keeps out of int8.
        let py = ArrayRef::python_scalar(DType::Float64, bytemuck::bytes_of(&3.5f64)).unwrap();
        let (o, bytes) = run(add, &[x, py], &sig("bb->b")).unwrap();
        assert_eq!(
            (o.dtype, bytemuck::cast_slice::<u8, i8>(&bytes)),
            (DType::Int8, &[6i8, 1][..])
        );
        assert_eq!(
            dtype_of(add, &[x, py], &tup(&[None, None, b])),
            Err(Error::Casting)
        );
        // Comparisons: the inputs' loop; the output is bool only.
        let greater = Op::Binary(BinaryOp::Greater);
        assert_eq!(dtype_of(greater, &[x, x], &sig("dd->?")), Ok(DType::Bool));
        assert_eq!(
            dtype_of(greater, &[f, f], &sig("bb->?")),
            Err(Error::Casting)
        );
        assert_eq!(
            dtype_of(greater, &[x, x], &tup(&[d, d, d])),
            Err(Error::NoLoop)
        );
        let and = Op::Binary(BinaryOp::LogicalAnd);
        assert_eq!(dtype_of(and, &[x, x], &sig("dd->?")), Ok(DType::Bool));
        // true_divide has no int8 loop; sqrt of int8 runs in float32 when
        // asked (NumPy's own pick is float16).
        let div = Op::Binary(BinaryOp::TrueDivide);
        assert_eq!(dtype_of(div, &[x, x], &sig("bb->b")), Err(Error::NoLoop));
        assert_eq!(dtype_of(div, &[x, x], &sig("ff->f")), Ok(DType::Float32));
        let sqrt = Op::Unary(UnaryOp::Sqrt);
        for p in [sig("f->f"), tup(&[None, Some(DType::Float32)])] {
            assert_eq!(dtype_of(sqrt, &[x], &p), Ok(DType::Float32));
        }
        let signbit = Op::Unary(UnaryOp::Signbit);
        assert_eq!(dtype_of(signbit, &[x], &sig("d->?")), Ok(DType::Bool));
        // Two outputs: frexp's exponent is int32 only.
        let frexp = Op::Multi(MultiOp::Frexp);
        let f4s = [1.5f32, 2.5];
        let f4 = arr(&f4s);
        assert_eq!(dtype_of(frexp, &[f4], &sig("d->di")), Ok(DType::Float64));
        assert_eq!(
            dtype_of(frexp, &[f4], &tup(&[None, d, None])),
            Ok(DType::Float64)
        );
        assert_eq!(dtype_of(frexp, &[f4], &sig("d->dd")), Err(Error::NoLoop));
        let divmod = Op::Multi(MultiOp::Divmod);
        assert_eq!(
            dtype_of(divmod, &[x, x], &tup(&[None, None, d, None])),
            Ok(DType::Float64)
        );
        // ldexp: its own loop, or unsupported.
        let ldexp = Op::Binary(BinaryOp::Ldexp);
        assert_eq!(dtype_of(ldexp, &[f4, x], &sig("fi->f")), Ok(DType::Float32));
        assert_eq!(dtype_of(ldexp, &[f4, x], &sig("fl->f")), Ok(DType::Float32));
        assert_eq!(
            dtype_of(ldexp, &[f4, x], &sig("dl->d")),
            Err(Error::Unsupported)
        );
        assert_eq!(dtype_of(ldexp, &[f4, x], &sig("fb->f")), Err(Error::NoLoop));
    }
}
