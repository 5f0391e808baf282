//! Binary ufuncs: loop selection, broadcasting driver and the type-erased entry.
//!
//! As in NumPy, a type resolver picks one loop dtype for the op and both
//! inputs are cast to it, so every op has one kernel per loop dtype (not one
//! per input pair). The driver walks the broadcast, coalesced iteration space
//! in C order; runs that are already contiguous in the loop dtype go to the
//! kernel as slices, everything else is gathered (and cast) into small stack
//! buffers first.

mod at;
mod driver;
mod extra;
pub(crate) mod kernels;
pub(crate) mod keywords;
mod method;
mod multi;
pub(crate) mod unary;
mod vmath;

use crate::array::ArrayRef;
use crate::dtype::{effective_dtype, DType, Kind, OperandType};
use crate::element::{Bool, Element, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::shape::{broadcast_shapes, Layout, Shape};
use crate::table::{arith_ops, BinaryFamily, BinaryOp, OutRule};
use driver::{out_run, Erased, Input, Stored, Walk};
use kernels::ArithOp;

pub use at::{
    binary_at, binary_at_in_place, binary_at_output, unary_at, unary_at_in_place, unary_at_output,
};
pub(crate) use kernels::BinaryKernel;
pub use method::{method, method_dtype, method_output, reorderable};
pub(crate) use method::{method_scratch_len, method_with_scratch};
pub(crate) use multi::multi_parts;
pub use multi::{multi, multi_bytes, multi_output};
pub use unary::unary;

/// Elements gathered per inner-loop chunk when an input needs a cast or is
/// strided; bounds the stack use of the strided path.
pub(crate) const CHUNK: usize = if cfg!(target_os = "none") { 32 } else { 1024 };

impl BinaryOp {
    /// Whether NumPy has a `??->?` loop for this op.
    pub const fn has_bool_loop(self) -> bool {
        match self.family() {
            // The arithmetic ops whose output is the common type keep bool
            // (the others compute it in int8 or float64), except subtract:
            // NumPy refuses `-` on bools.
            BinaryFamily::Arith => {
                matches!(self.out_rule(), OutRule::Same) && !matches!(self, BinaryOp::Subtract)
            }
            BinaryFamily::Compare | BinaryFamily::Logical | BinaryFamily::Bitwise => true,
            _ => false,
        }
    }

    /// The dtype NumPy's type resolver computes in for these operands
    /// (both are cast to it).
    pub fn loop_dtype(self, a: OperandType, b: OperandType) -> Result<DType> {
        if self.family() == BinaryFamily::Ldexp {
            return ldexp_loop(a, b);
        }
        let all = [a, b];
        self.array_loop_dtype(effective_dtype(a, &all)?, effective_dtype(b, &all)?)
    }

    /// [`BinaryOp::loop_dtype`] for two arrays of these dtypes (or the
    /// dtypes weak scalars take), as a `const fn`: the typed API resolves
    /// its loops at compile time. Not for `ldexp`, whose exponent rule
    /// depends on the operand kinds.
    pub(crate) const fn array_loop_dtype(self, da: DType, db: DType) -> Result<DType> {
        let joined = crate::dtype::result_type(da, db);
        let bool_joined = matches!(joined, DType::Bool);
        Ok(match self.family() {
            BinaryFamily::Arith => return self.arith_loop_dtype(da, db),
            BinaryFamily::Compare => joined,
            // Operands only matter as truth values; casting to bool keeps
            // NaN true and lets any Python int through unchecked.
            BinaryFamily::Logical => DType::Bool,
            BinaryFamily::Bitwise | BinaryFamily::Shift if joined.is_float() => {
                return Err(Error::NoLoop)
            }
            BinaryFamily::Bitwise => joined,
            // Each operand goes to the smallest float it casts to safely,
            // then they meet: int8 with uint8 is float16, not int16's float32.
            BinaryFamily::FloatOnly => match (float_loop(da), float_loop(db)) {
                (Ok(x), Ok(y)) => crate::dtype::result_type(x, y),
                (Ok(x), Err(_)) | (Err(_), Ok(x)) => x,
                (Err(e), Err(_)) => return Err(e),
            },
            BinaryFamily::Float64Only => DType::Float64,
            BinaryFamily::IntOnly if joined.is_float() || bool_joined => return Err(Error::NoLoop),
            BinaryFamily::Ldexp => return Err(Error::Unsupported),
            // Without a bool loop the first loop bool casts to safely is int8.
            _ if bool_joined && !self.has_bool_loop() => DType::Int8,
            _ => joined,
        })
    }

    /// [`BinaryOp::loop_dtype`] of an arithmetic op for two arrays, as a
    /// `const fn` (the typed API's dtypes are known at compile time).
    pub(crate) const fn arith_loop_dtype(self, da: DType, db: DType) -> Result<DType> {
        let joined = crate::dtype::result_type(da, db);
        let bool_joined = matches!(joined, DType::Bool);
        if matches!(self.out_rule(), OutRule::Real) && !da.is_float() && !db.is_float() {
            // NumPy's true-division resolver sends integer and bool inputs
            // to the float64 loop.
            Ok(DType::Float64)
        } else if matches!(self, BinaryOp::Subtract) && bool_joined {
            Err(Error::NoLoop)
        } else if bool_joined && !self.has_bool_loop() {
            // Without a bool loop the first loop bool casts to safely is int8.
            Ok(DType::Int8)
        } else {
            Ok(joined)
        }
    }

    /// The output dtype NumPy gives for these operands.
    pub fn resolve(self, a: OperandType, b: OperandType) -> Result<DType> {
        let dtype = self.loop_dtype(a, b)?;
        Ok(match self.family() {
            BinaryFamily::Compare | BinaryFamily::Logical => DType::Bool,
            _ => dtype,
        })
    }

    /// The output dtype and shape for these inputs, without computing anything.
    pub fn output(self, a: &ArrayRef<'_>, b: &ArrayRef<'_>) -> Result<(DType, Shape)> {
        if self.family() == BinaryFamily::Ldexp {
            check_weak_exponent(a, b)?;
        }
        let dtype = self.resolve(a.operand_type(), b.operand_type());
        // NumPy finds its float16 loop and then fails to broadcast; a
        // missing loop (TypeError) comes first.
        if dtype == Err(Error::Float16) {
            broadcast_shapes(a.shape(), b.shape())?;
        }
        let dtype = dtype?;
        let shape = broadcast_shapes(a.shape(), b.shape())?;
        Ok((dtype, shape))
    }
}

/// The float loop `ldexp` runs for a mantissa `a` and an exponent `b`:
/// NumPy searches `ei, fi, el, fl, di, dl`, so any exponent that casts
/// safely to int64 will do and the mantissa picks the float.
///
/// A Python int mantissa is a "weak literal" that fits any loop (so
/// float16) when an integer array is present, and int64 (float64)
/// otherwise: NumPy's legacy resolver treats Python ints as weak only when
/// some array is at least of their kind, and bool is not.
fn ldexp_loop(a: OperandType, b: OperandType) -> Result<DType> {
    let exponent_ok = match b {
        OperandType::Array(d) => d == DType::Bool || (d.is_integer() && d != DType::UInt64),
        OperandType::PyBool | OperandType::PyInt => true,
        OperandType::PyFloat => false,
    };
    if !exponent_ok {
        return Err(Error::NoLoop);
    }
    match a {
        OperandType::Array(d) => float_loop(d),
        OperandType::PyFloat => Ok(DType::Float64),
        OperandType::PyInt if !weak_literals(b) => Ok(DType::Float64),
        OperandType::PyInt | OperandType::PyBool => Err(Error::Float16),
    }
}

/// Whether NumPy's legacy type resolver treats a Python int next to this
/// other operand as a weak literal: only next to a non-bool array.
fn weak_literals(other: OperandType) -> bool {
    matches!(other, OperandType::Array(d) if d != DType::Bool)
}

/// NumPy converts a Python int exponent of `ldexp` to the `i` loop's
/// int32 when it is a weak literal (next to a non-bool array mantissa),
/// to int64 otherwise; OverflowError when it does not fit. This comes
/// before the loop search fails or lands on float16.
fn check_weak_exponent(a: &ArrayRef<'_>, b: &ArrayRef<'_>) -> Result<()> {
    if !b.is_weak() {
        return Ok(());
    }
    let v: i128 = match b.dtype() {
        DType::Int64 => i128::from(b.first::<i64>()),
        DType::UInt64 => i128::from(b.first::<u64>()),
        _ => return Ok(()),
    };
    let range = if weak_literals(a.operand_type()) {
        DType::Int32
    } else {
        DType::Int64
    };
    match range.int_range() {
        Some((lo, hi)) if v < lo || v > hi => Err(Error::PythonIntOverflow),
        _ => Ok(()),
    }
}

/// The loop a float-only ufunc (`sqrt`, `arctan2`, ...) uses for inputs of
/// dtype `d`: the first of float16, float32, float64 that `d` casts to
/// safely. fnp has no float16, so bool, int8 and uint8 are
/// [`Error::Float16`].
pub(crate) const fn float_loop(d: DType) -> Result<DType> {
    match d {
        DType::Bool | DType::Int8 | DType::UInt8 => Err(Error::Float16),
        DType::Int16 | DType::UInt16 | DType::Float32 => Ok(DType::Float32),
        _ => Ok(DType::Float64),
    }
}

/// Applies `op` to `a` and `b` with broadcasting, writing the C-contiguous
/// result into `out` (bytes, aligned for the output dtype).
///
/// Use [`BinaryOp::output`] first to size `out`. Errors as NumPy raises them
/// (shape mismatch, no loop, negative integer power, Python int overflow),
/// plus [`Error::BufferTooSmall`] (in bytes) and [`Error::Misaligned`].
pub fn binary(op: BinaryOp, a: &ArrayRef<'_>, b: &ArrayRef<'_>, out: &mut [u8]) -> Result<Output> {
    let (dtype, shape) = op.output(a, b)?;
    let needed = shape
        .size()
        .checked_mul(dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or_else(|| Error::short_output::<u8>(needed))?;
    let loop_dtype = op.loop_dtype(a.operand_type(), b.operand_type())?;
    let done = |flags| Ok(Output::new(dtype, shape, flags));
    // The logical ufuncs convert a Python int to int64 first.
    if op.family() == BinaryFamily::Logical
        && [a, b]
            .iter()
            .any(|x| x.is_weak() && x.dtype() == DType::UInt64)
    {
        return Err(Error::PythonIntOverflow);
    }
    if op.family() == BinaryFamily::Compare {
        if let Some(answer) = compare_out_of_range(op, a, b, loop_dtype) {
            // Every element compares the same way with a Python int the
            // dtype cannot hold.
            out.fill(u8::from(answer));
            return done(FpFlags::NONE);
        }
        if let Some(flags) = compare_mixed_sign(op, a, b, &shape, out)? {
            return done(flags);
        }
    }
    let mut flags = FpFlags::NONE;
    if op.family() == BinaryFamily::Ldexp {
        // The exponent was checked against its integer loop by `output`.
        flags |= check_weak(a, loop_dtype)?;
    } else {
        flags |= check_weak(a, loop_dtype)?;
        flags |= check_weak(b, loop_dtype)?;
    }
    flags |= if op.family() == BinaryFamily::Arith {
        crate::element::with_dtype!(loop_dtype, T => run::<T>(op, a, b, &shape, out)?)
    } else {
        crate::element::with_dtype!(loop_dtype, T => run_extra::<T>(op, a, b, &shape, out)?)
    };
    done(flags)
}

/// An arithmetic ufunc whose loop dtype and kernel are fixed at compile
/// time, for the typed API: one driver for one (op, dtype), so a firmware
/// that adds float32 arrays links the float32 add kernel and nothing else
/// of the dispatcher. `out` is in elements; the operands are arrays (a
/// typed view is never a weak Python scalar, so no NEP 50 range checks).
/// `SA` and `SB` are the operands' element types.
pub(crate) fn arith_as<T, K, SA, SB>(
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    out: &mut [T],
) -> Result<Output>
where
    T: LoopElement,
    K: BinaryKernel<T> + ArithOp,
    SA: Element,
    SB: Element,
{
    // Compile-time constants: a typed call links no type resolution.
    let dtype = const { K::OP.arith_loop_dtype(SA::DTYPE, SB::DTYPE) }?;
    if dtype as u8 != T::DTYPE as u8 {
        return Err(Error::InvalidType);
    }
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    let flags = drive_stored::<SA, SB, T, T, T, _>(a, b, &shape, out, K::apply)?;
    Ok(Output::new(dtype, shape, flags))
}

/// A binary ufunc of the other families (comparisons, logical, bitwise,
/// shifts, the float functions, fmod, gcd/lcm) for the typed API, in loop
/// type `T` with output `O` and operand element types `SA`, `SB`, all
/// fixed at compile time. Inlined into the typed function, whose `op` is a
/// constant, so that [`extra::Loops::binary`] picks one kernel and the
/// firmware links that kernel only (the type-erased entry links every
/// kernel of every loop type).
#[inline(always)]
pub(crate) fn extra_as<T, O, SA, SB>(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    out: &mut [O],
) -> Result<Output>
where
    T: extra::Loops,
    O: Element,
    SA: Element,
    SB: Element,
{
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    // int64 against uint64 compares exactly, not in their float64 loop.
    let mixed_sign = const {
        matches!(
            (SA::DTYPE.kind(), SB::DTYPE.kind()),
            (Kind::SignedInt, Kind::UnsignedInt) | (Kind::UnsignedInt, Kind::SignedInt)
        ) && crate::dtype::result_type(SA::DTYPE, SB::DTYPE).is_float()
    };
    let flags = if mixed_sign && op.family() == BinaryFamily::Compare {
        let out: &mut [u8] = bytemuck::cast_slice_mut(crate::typed::same::<O, Bool>(out)?);
        compare_mixed_sign(op, a, b, &shape, out)?.ok_or(Error::Unsupported)?
    } else {
        match T::binary(op).ok_or(Error::NoLoop)? {
            extra::Binary::Same(kernel) => {
                let out = crate::typed::same::<O, T>(out)?;
                drive_stored::<SA, SB, T, T, T, _>(a, b, &shape, out, kernel)?
            }
            extra::Binary::ToBool(kernel) => {
                let out = crate::typed::same::<O, Bool>(out)?;
                drive_stored::<SA, SB, T, T, Bool, _>(a, b, &shape, out, kernel)?
            }
            // ldexp keeps the type-erased entry (its exponent is int64).
            extra::Binary::WithExponent(_) => return Err(Error::Unsupported),
        }
    };
    Ok(Output::new(O::DTYPE, shape, flags))
}

/// The weak Python int operand's value, if it lies outside the integer
/// loop dtype: NumPy's comparisons answer by value instead of raising.
fn compare_out_of_range(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    loop_dtype: DType,
) -> Option<bool> {
    let (lo, hi) = loop_dtype.int_range()?;
    let weak_value = |x: &ArrayRef<'_>| -> Option<i128> {
        match (x.is_weak(), x.dtype()) {
            (true, DType::Int64) => Some(i128::from(x.first::<i64>())),
            (true, DType::UInt64) => Some(i128::from(x.first::<u64>())),
            _ => None,
        }
    };
    // NumPy's comparison promoter handles a Python int against an integer
    // operand only; against bool it converts the int (and may overflow).
    let integer = |x: &ArrayRef<'_>| x.dtype().is_integer();
    // `above`: the Python int is above every value of the dtype. With the
    // Python int on the left the question is mirrored.
    let (above, int_on_left) = match (weak_value(a), weak_value(b)) {
        (_, Some(v)) if (v > hi || v < lo) && integer(a) => (v > hi, false),
        (Some(v), _) if (v > hi || v < lo) && integer(b) => (v > hi, true),
        _ => return None,
    };
    // Whether `array OP int` holds when int is above (or below) the array.
    let array_less = above != int_on_left;
    Some(match op {
        BinaryOp::Equal => false,
        BinaryOp::NotEqual => true,
        BinaryOp::Less | BinaryOp::LessEqual => array_less,
        _ => !array_less,
    })
}

/// Comparisons of a signed with an unsigned integer whose common type would
/// be float64 (int64 with uint64): NumPy compares them exactly.
fn compare_mixed_sign(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [u8],
) -> Result<Option<FpFlags>> {
    let all = [a.operand_type(), b.operand_type()];
    let (da, db) = (
        effective_dtype(all[0], &all)?,
        effective_dtype(all[1], &all)?,
    );
    let out: &mut [Bool] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    Ok(match (da.kind(), db.kind()) {
        (Kind::SignedInt, Kind::UnsignedInt) if crate::dtype::result_type(da, db).is_float() => {
            Some(drive(
                a,
                b,
                shape,
                out,
                extra::mixed_compare::<i64, u64>(op),
            )?)
        }
        (Kind::UnsignedInt, Kind::SignedInt) if crate::dtype::result_type(da, db).is_float() => {
            Some(drive(
                a,
                b,
                shape,
                out,
                extra::mixed_compare::<u64, i64>(op),
            )?)
        }
        _ => None,
    })
}

/// Runs a non-arithmetic binary op in loop type `T`: kernels chosen by
/// function pointer from [`extra::Loops`].
fn run_extra<T: extra::Loops>(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [u8],
) -> Result<FpFlags> {
    match T::binary(op).ok_or(Error::NoLoop)? {
        extra::Binary::Same(kernel) => drive(a, b, shape, typed_out::<T>(out)?, kernel),
        extra::Binary::ToBool(kernel) => drive(a, b, shape, typed_out::<Bool>(out)?, kernel),
        extra::Binary::WithExponent(kernel) => drive(a, b, shape, typed_out::<T>(out)?, kernel),
    }
}

/// The output bytes as elements of `T`.
fn typed_out<T: bytemuck::Pod>(out: &mut [u8]) -> Result<&mut [T]> {
    bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)
}

/// NEP 50: a Python int must fit the integer dtype it is converted to
/// (OverflowError otherwise); a Python float converted to float32 overflows
/// to inf with the overflow flag.
pub(crate) fn check_weak(x: &ArrayRef<'_>, loop_dtype: DType) -> Result<FpFlags> {
    if !x.is_weak() {
        return Ok(FpFlags::NONE);
    }
    match (x.dtype(), loop_dtype.kind()) {
        (DType::Int64 | DType::UInt64, Kind::SignedInt | Kind::UnsignedInt) => {
            let v: i128 = match x.dtype() {
                DType::Int64 => i128::from(x.first::<i64>()),
                _ => i128::from(x.first::<u64>()),
            };
            if loop_dtype
                .int_range()
                .is_some_and(|(lo, hi)| v < lo || v > hi)
            {
                return Err(Error::PythonIntOverflow);
            }
            Ok(FpFlags::NONE)
        }
        (DType::Float64, _) if loop_dtype == DType::Float32 => {
            let v = x.first::<f64>();
            Ok(FpFlags::when(
                v.is_finite() && (v as f32).is_infinite(),
                FpFlags::OVERFLOW,
            ))
        }
        _ => Ok(FpFlags::NONE),
    }
}

/// Picks the kernel for `op` in loop type `T` and drives it.
fn run<T>(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [u8],
) -> Result<FpFlags>
where
    T: LoopElement,
    kernels::Add: BinaryKernel<T>,
    kernels::Subtract: BinaryKernel<T>,
    kernels::Multiply: BinaryKernel<T>,
    kernels::TrueDivide: BinaryKernel<T>,
    kernels::FloorDivide: BinaryKernel<T>,
    kernels::Remainder: BinaryKernel<T>,
    kernels::Power: BinaryKernel<T>,
    kernels::Maximum: BinaryKernel<T>,
    kernels::Minimum: BinaryKernel<T>,
    kernels::Fmax: BinaryKernel<T>,
    kernels::Fmin: BinaryKernel<T>,
{
    let out: &mut [T] = bytemuck::try_cast_slice_mut(out).map_err(|_| Error::Misaligned)?;
    // Under `small` the op is chosen as a kernel function pointer: one
    // driver per loop dtype instead of one per (op, dtype) pair. Elsewhere
    // each kernel is its own zero-sized function type, so the driver is
    // monomorphized around it as before (no indirect call on the host).
    if crate::SMALL {
        let kernel = arith_kernel::<T>(op).ok_or(Error::NoLoop)?;
        return drive(a, b, shape, out, kernel);
    }
    macro_rules! dispatch {
        ($($variant:ident),*) => {
            match op {
                $(BinaryOp::$variant => drive(
                    a,
                    b,
                    shape,
                    out,
                    <kernels::$variant as BinaryKernel<T>>::apply,
                ),)*
                // Other families are driven by `run_extra`.
                _ => Err(Error::NoLoop),
            }
        };
    }
    crate::table::for_each_op!(arith_ops, dispatch)
}

/// The kernel of an arithmetic `op` in loop type `T`, as a function
/// pointer (`None` for the other families).
pub(crate) fn arith_kernel<T>(op: BinaryOp) -> Option<Kernel<T>>
where
    kernels::Add: BinaryKernel<T>,
    kernels::Subtract: BinaryKernel<T>,
    kernels::Multiply: BinaryKernel<T>,
    kernels::TrueDivide: BinaryKernel<T>,
    kernels::FloorDivide: BinaryKernel<T>,
    kernels::Remainder: BinaryKernel<T>,
    kernels::Power: BinaryKernel<T>,
    kernels::Maximum: BinaryKernel<T>,
    kernels::Minimum: BinaryKernel<T>,
    kernels::Fmax: BinaryKernel<T>,
    kernels::Fmin: BinaryKernel<T>,
{
    macro_rules! pick {
        ($($variant:ident),*) => {
            match op {
                $(BinaryOp::$variant => Some(kernels::$variant::apply as Kernel<T>),)*
                _ => None,
            }
        };
    }
    crate::table::for_each_op!(arith_ops, pick)
}

/// A kernel's contiguous inner loop over one run of the loop dtype.
pub(crate) type Kernel<T> = fn(&[T], &[T], &mut [T]) -> Result<FpFlags>;

/// The binary driver: both inputs broadcast to `shape` and walked with the
/// C-contiguous output by the one elementwise [`Walk`].
fn drive<A, B, O, K>(
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [O],
    kernel: K,
) -> Result<FpFlags>
where
    A: LoopElement,
    B: LoopElement,
    K: Fn(&[A], &[B], &mut [O]) -> Result<FpFlags>,
{
    drive_stored::<Erased, Erased, A, B, O, K>(a, b, shape, out, kernel)
}

/// [`drive`] with the operands' element types `SA`, `SB` known (see
/// [`Stored`]).
fn drive_stored<SA, SB, A, B, O, K>(
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [O],
    kernel: K,
) -> Result<FpFlags>
where
    SA: Stored,
    SB: Stored,
    A: LoopElement,
    B: LoopElement,
    K: Fn(&[A], &[B], &mut [O]) -> Result<FpFlags>,
{
    // Constant true for the type-erased operands.
    if !SA::holds(a.dtype()) || !SB::holds(b.dtype()) {
        return Err(Error::InvalidType);
    }
    let n = shape.size();
    let out = out
        .get_mut(..n)
        .ok_or_else(|| Error::short_output::<O>(n))?;
    if n == 0 {
        return Ok(FpFlags::NONE);
    }
    let walk = Walk::new([
        a.layout().broadcast_to(shape)?,
        b.layout().broadcast_to(shape)?,
        Layout::c_contiguous(*shape),
    ]);
    let (mut ia, mut ib) = (
        Input::<A, SA>::new(a, &walk, 0),
        Input::<B, SB>::new(b, &walk, 1),
    );
    let step = walk.step(ia.is_direct() && ib.is_direct());
    walk.runs(step, |&[sa, sb, _], len, pos| {
        kernel(ia.run(sa, len)?, ib.run(sb, len)?, out_run(out, pos, len)?)
    })
}
