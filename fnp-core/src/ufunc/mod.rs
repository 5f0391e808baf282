//! Binary ufuncs: loop selection, broadcasting driver and the type-erased entry.
//!
//! As in NumPy, a type resolver picks one loop dtype for the op and both
//! inputs are cast to it, so every op has one kernel per loop dtype (not one
//! per input pair). The driver walks the broadcast, coalesced iteration space
//! in C order; runs that are already contiguous in the loop dtype go to the
//! kernel as slices, everything else is gathered (and cast) into small stack
//! buffers first.

mod float;
mod kernels;

use crate::array::ArrayRef;
use crate::dtype::{effective_dtype, DType, Kind, OperandType};
use crate::element::{Bool, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::shape::{broadcast_shapes, coalesce, Layout, OuterIndex, Shape};

pub(crate) use kernels::BinaryKernel;

/// Elements gathered per inner-loop chunk when an input needs a cast or is
/// strided; bounds the stack use of the strided path.
pub(crate) const CHUNK: usize = if cfg!(target_os = "none") { 32 } else { 1024 };

macro_rules! binary_ops {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        /// A binary ufunc. The discriminant is the stable wire code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum BinaryOp {
            $($(#[$doc])* $variant = $code,)*
        }

        impl BinaryOp {
            /// Every binary op, in wire-code order.
            pub const ALL: &'static [BinaryOp] = &[$(BinaryOp::$variant),*];

            /// NumPy's ufunc name.
            pub const fn name(self) -> &'static str {
                match self { $(BinaryOp::$variant => $name,)* }
            }
        }
    };
}

binary_ops! {
    /// `np.add`: `a + b`; integers wrap; on bool, logical or. Floats:
    /// `overflow` for an infinity from finite operands, `invalid` for
    /// `inf + -inf`, never `underflow`.
    Add = 0, "add";
    /// `np.subtract`: `a - b`; TypeError on two bools; flags as add.
    Subtract = 1, "subtract";
    /// `np.multiply`: `a * b`; integers wrap; on bool, logical and. Floats:
    /// `invalid` for `inf * 0`, `overflow`, `underflow` when the product is
    /// tiny (after rounding) and inexact.
    Multiply = 2, "multiply";
    /// `np.true_divide` (`np.divide`): integers and bools divide in
    /// float64. `divide` for a finite non-zero `x / 0`, `invalid` for `0 / 0`
    /// and `inf / inf`, `overflow`, `underflow`.
    TrueDivide = 3, "true_divide";
    /// `np.floor_divide`: Python's `//`. Integers: `x // 0 == 0` with
    /// `divide`, `MIN // -1 == MIN` with `overflow`; bools use int8. Floats
    /// follow `npy_divmod` (`floor_divide(1.0, 0.1) == 9.0`, signed zeros,
    /// `x // 0` is the IEEE quotient).
    FloorDivide = 4, "floor_divide";
    /// `np.remainder` (`np.mod`): Python's `%`, the result takes the
    /// divisor's sign. Integers: `x % 0 == 0` with `divide`, `MIN % -1 == 0`
    /// without a flag. Floats: `remainder(-1, inf) == inf`, `x % 0` is NaN
    /// with `invalid`.
    Remainder = 5, "remainder";
    /// `np.power`: integer powers are exact with wraparound and `0 ** 0 ==
    /// 1`; any negative integer exponent is a ValueError. Float powers come
    /// from libm within [`crate::precision`]'s bound; `power(0, -1)` is inf
    /// with `divide`.
    Power = 6, "power";
    /// `np.maximum`: propagates NaN (the first operand's when both are);
    /// of two equal operands (±0) the first is returned.
    Maximum = 7, "maximum";
    /// `np.minimum`: as maximum.
    Minimum = 8, "minimum";
    /// `np.fmax`: ignores a NaN operand; NaN only when both are.
    Fmax = 9, "fmax";
    /// `np.fmin`: as fmax.
    Fmin = 10, "fmin";
}

impl BinaryOp {
    /// Parses NumPy's name (also the aliases `divide` and `mod`).
    pub fn from_name(name: &str) -> Option<BinaryOp> {
        match name {
            "divide" => Some(BinaryOp::TrueDivide),
            "mod" => Some(BinaryOp::Remainder),
            _ => BinaryOp::ALL.iter().copied().find(|op| op.name() == name),
        }
    }

    /// Whether NumPy has a `??->?` loop for this op.
    pub const fn has_bool_loop(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Multiply
                | BinaryOp::Maximum
                | BinaryOp::Minimum
                | BinaryOp::Fmax
                | BinaryOp::Fmin
        )
    }

    /// The loop dtype NumPy's type resolver picks for these operands; the
    /// output has this dtype too.
    pub fn resolve(self, a: OperandType, b: OperandType) -> Result<DType> {
        let all = [a, b];
        let (da, db) = (effective_dtype(a, &all)?, effective_dtype(b, &all)?);
        let joined = crate::dtype::result_type(da, db);
        let non_float =
            |d: DType| matches!(d.kind(), Kind::Bool | Kind::SignedInt | Kind::UnsignedInt);
        Ok(match self {
            // NumPy's true-division resolver sends integer and bool inputs to
            // the float64 loop.
            BinaryOp::TrueDivide if non_float(da) && non_float(db) => DType::Float64,
            BinaryOp::Subtract if joined == DType::Bool => return Err(Error::NoLoop),
            // Without a bool loop the first loop bool casts to safely is int8.
            _ if joined == DType::Bool && !self.has_bool_loop() => DType::Int8,
            _ => joined,
        })
    }

    /// The output dtype and shape for these inputs, without computing anything.
    pub fn output(self, a: &ArrayRef<'_>, b: &ArrayRef<'_>) -> Result<(DType, Shape)> {
        let dtype = self.resolve(a.operand_type(), b.operand_type())?;
        let shape = broadcast_shapes(a.shape(), b.shape())?;
        Ok((dtype, shape))
    }
}

impl TryFrom<u8> for BinaryOp {
    type Error = Error;

    fn try_from(code: u8) -> Result<BinaryOp> {
        BinaryOp::ALL
            .get(usize::from(code))
            .copied()
            .ok_or(Error::UnknownOp)
    }
}

/// What a ufunc call produced: the output's dtype, shape and the IEEE flags
/// NumPy would have raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Output {
    /// Output dtype.
    pub dtype: DType,
    /// Output shape (C-contiguous in the caller's buffer).
    pub shape: Shape,
    /// Floating-point status flags raised.
    pub flags: FpFlags,
}

impl Output {
    /// Bytes the output occupies.
    pub fn byte_len(&self) -> usize {
        self.shape.size() * self.dtype.itemsize()
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
        .ok_or(Error::BufferTooSmall { needed })?;
    let mut flags = FpFlags::NONE;
    flags |= check_weak(a, dtype)?;
    flags |= check_weak(b, dtype)?;
    flags |= match dtype {
        DType::Bool => run::<Bool>(op, a, b, &shape, out)?,
        DType::Int8 => run::<i8>(op, a, b, &shape, out)?,
        DType::Int16 => run::<i16>(op, a, b, &shape, out)?,
        DType::Int32 => run::<i32>(op, a, b, &shape, out)?,
        DType::Int64 => run::<i64>(op, a, b, &shape, out)?,
        DType::UInt8 => run::<u8>(op, a, b, &shape, out)?,
        DType::UInt16 => run::<u16>(op, a, b, &shape, out)?,
        DType::UInt32 => run::<u32>(op, a, b, &shape, out)?,
        DType::UInt64 => run::<u64>(op, a, b, &shape, out)?,
        DType::Float32 => run::<f32>(op, a, b, &shape, out)?,
        DType::Float64 => run::<f64>(op, a, b, &shape, out)?,
    };
    Ok(Output {
        dtype,
        shape,
        flags,
    })
}

/// NEP 50: a Python int must fit the integer dtype it is converted to
/// (OverflowError otherwise); a Python float converted to float32 overflows
/// to inf with the overflow flag.
fn check_weak(x: &ArrayRef<'_>, loop_dtype: DType) -> Result<FpFlags> {
    if !x.is_weak() {
        return Ok(FpFlags::NONE);
    }
    match (x.dtype(), loop_dtype.kind()) {
        (DType::Int64 | DType::UInt64, Kind::SignedInt | Kind::UnsignedInt) => {
            let v: i128 = match x.dtype() {
                DType::Int64 => i128::from(x.first::<i64>()),
                _ => i128::from(x.first::<u64>()),
            };
            if int_range(loop_dtype).is_some_and(|(lo, hi)| v < lo || v > hi) {
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

/// Inclusive value range of an integer dtype.
fn int_range(d: DType) -> Option<(i128, i128)> {
    Some(match d {
        DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DType::UInt8 => (0, u8::MAX.into()),
        DType::UInt16 => (0, u16::MAX.into()),
        DType::UInt32 => (0, u32::MAX.into()),
        DType::UInt64 => (0, u64::MAX.into()),
        _ => return None,
    })
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
    macro_rules! dispatch {
        ($($variant:ident),*) => {
            if crate::SMALL {
                let kernel: Kernel<T> = match op {
                    $(BinaryOp::$variant => kernels::$variant::apply,)*
                };
                drive(a, b, shape, out, kernel)
            } else {
                match op {
                    $(BinaryOp::$variant => drive(
                        a,
                        b,
                        shape,
                        out,
                        <kernels::$variant as BinaryKernel<T>>::apply,
                    ),)*
                }
            }
        };
    }
    dispatch!(
        Add,
        Subtract,
        Multiply,
        TrueDivide,
        FloorDivide,
        Remainder,
        Power,
        Maximum,
        Minimum,
        Fmax,
        Fmin
    )
}

/// A kernel's contiguous inner loop over one run of the loop dtype.
type Kernel<T> = fn(&[T], &[T], &mut [T]) -> Result<FpFlags>;

/// One input's inner run: borrowed when it is already the loop type and
/// unit-stride, otherwise gathered into `buf`.
fn inner_run<'r, 'd: 'r, T: LoopElement>(
    x: &ArrayRef<'_>,
    direct: Option<&'d [T]>,
    start: usize,
    stride: isize,
    len: usize,
    buf: &'r mut [T; CHUNK],
) -> &'r [T] {
    if let Some(run) = direct.and_then(|d| d.get(start..start + len)) {
        return run;
    }
    let chunk = &mut buf[..len];
    // Devices gather only CHUNK = 32 elements at a time, where the fill
    // would save little and cost flash.
    if stride == 0 && !cfg!(target_os = "none") {
        // A broadcast operand: convert its one element once and repeat it
        // (a fill vectorizes; the general gather bounds-checks each read).
        if let Some((first, rest)) = chunk.split_first_mut() {
            x.load(start, 0, core::slice::from_mut(first));
            rest.fill(*first);
        }
    } else {
        x.load(start, stride, chunk);
    }
    chunk
}

/// The broadcasting driver: C-order walk over the coalesced output.
fn drive<T: LoopElement, K: Fn(&[T], &[T], &mut [T]) -> Result<FpFlags>>(
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    shape: &Shape,
    out: &mut [T],
    kernel: K,
) -> Result<FpFlags> {
    let n = shape.size();
    let out = out
        .get_mut(..n)
        .ok_or(Error::BufferTooSmall { needed: n })?;
    if n == 0 {
        return Ok(FpFlags::NONE);
    }
    let mut ls = [
        a.layout().broadcast_to(shape)?,
        b.layout().broadcast_to(shape)?,
        Layout::c_contiguous(*shape),
    ];
    coalesce(&mut ls);
    let nd = ls[2].ndim();
    let inner = if nd == 0 {
        1
    } else {
        ls[2].shape().dims()[nd - 1]
    };
    let inner_stride = |l: &Layout| if nd == 0 { 0 } else { l.strides()[nd - 1] };
    let (sa, sb) = (inner_stride(&ls[0]), inner_stride(&ls[1]));
    // Bool inputs are always gathered so that any non-zero byte reads as True.
    let direct = |x: &ArrayRef<'_>, stride: isize| -> bool {
        stride == 1 && x.dtype() == T::DTYPE && T::DTYPE != DType::Bool
    };
    let direct_a = if direct(a, sa) {
        a.typed::<T>().ok()
    } else {
        None
    };
    let direct_b = if direct(b, sb) {
        b.typed::<T>().ok()
    } else {
        None
    };
    let step = if direct_a.is_some() && direct_b.is_some() {
        inner
    } else {
        CHUNK
    };

    let mut flags = FpFlags::NONE;
    let mut buf_a = [T::default(); CHUNK];
    let mut buf_b = [T::default(); CHUNK];
    let mut outer = OuterIndex::new(ls[2].shape());
    let mut pos = 0usize;
    while let Some(index) = outer.next_index() {
        let outer_index = &index[..nd.saturating_sub(1)];
        let (ia, ib) = (
            ls[0].element_index(outer_index),
            ls[1].element_index(outer_index),
        );
        let mut done = 0usize;
        while done < inner {
            let len = step.min(inner - done);
            let at = |base: usize, stride: isize| (base as isize + done as isize * stride) as usize;
            let ra = inner_run(a, direct_a, at(ia, sa), sa, len, &mut buf_a);
            let rb = inner_run(b, direct_b, at(ib, sb), sb, len, &mut buf_b);
            let ro = out
                .get_mut(pos..pos + len)
                .ok_or(Error::BufferTooSmall { needed: n })?;
            flags |= kernel(ra, rb, ro)?;
            done += len;
            pos += len;
        }
    }
    Ok(flags)
}
