//! Unary ufuncs: the registry, NumPy's loop selection and the driver.
//!
//! Every op is one row of [`unary_ops!`]: wire code, NumPy name, the loop
//! family that decides its dtypes, and the accuracy its float results are
//! compared with. Kernels live in [`super::extra`].

use super::extra::{self, Unary};
use super::{float_loop, Output, CHUNK};
use crate::array::ArrayRef;
use crate::dtype::{effective_dtype, DType, OperandType};
use crate::element::{Bool, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::precision::{self, Accuracy};
use crate::shape::{coalesce, Layout, OuterIndex, Shape};

macro_rules! unary_ops {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:ident, $family:ident,
       $accuracy:expr;)*) => {
        /// A unary ufunc. The discriminant is the stable wire code, offset
        /// by [`crate::op::UNARY_CODE_BASE`] in an [`crate::Op`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum UnaryOp {
            $($(#[$doc])* $variant = $code,)*
        }

        impl UnaryOp {
            /// Every unary op, in wire-code order.
            pub const ALL: &'static [UnaryOp] = &[$(UnaryOp::$variant),*];

            /// NumPy's ufunc name.
            pub const fn name(self) -> &'static str {
                match self { $(UnaryOp::$variant => stringify!($name),)* }
            }

            /// How NumPy picks this op's loop.
            pub const fn family(self) -> UnaryFamily {
                match self { $(UnaryOp::$variant => UnaryFamily::$family,)* }
            }

            /// How its float results compare with NumPy's (integer and bool
            /// results are always bit-exact).
            pub const fn accuracy(self) -> Accuracy {
                match self { $(UnaryOp::$variant => $accuracy,)* }
            }
        }

        /// The typed function of each unary op, re-exported at the crate
        /// root (see [`crate::typed`]).
        pub(crate) mod fns {
            use super::UnaryOp;
            use crate::element::Element;
            use crate::error::Result;
            use crate::typed::View;
            use crate::ufunc::Output;
            $(
                $(#[$doc])*
                ///
                #[doc = concat!(
                    "`out = np.", stringify!($name), "(x)` over a typed view, elementwise; ",
                    "returns the output's dtype, shape and the IEEE flags NumPy raises ([`Output`]).\n\n",
                    "- Loops: [`UnaryFamily::", stringify!($family), "`](crate::UnaryFamily::", stringify!($family), ") ",
                    "decides the dtypes; `O` must be the result dtype ([`unary_output`](crate::unary_output)).\n",
                    "- Accuracy of float results against NumPy: `", stringify!($accuracy), "` ",
                    "(ULP per dtype in [`UnaryOp::accuracy`](crate::UnaryOp::accuracy) and [`crate::precision`]); ",
                    "integer and bool results are bit-exact.\n",
                    "- Errors: [`Error::NoLoop`](crate::Error::NoLoop) (TypeError), ",
                    "[`Error::Float16`](crate::Error::Float16) where NumPy answers in float16, ",
                    "[`Error::InvalidType`](crate::Error::InvalidType) for the wrong `O`, ",
                    "[`Error::BufferTooSmall`](crate::Error::BufferTooSmall) (elements of `O`).\n",
                    "- Type-erased: [`UnaryOp::", stringify!($variant), "`](crate::UnaryOp::", stringify!($variant), ") ",
                    "with [`unary_into`](crate::unary_into) or [`crate::call`]."
                )]
                pub fn $name<'a, T: Element, O: Element>(
                    x: impl Into<View<'a, T>>,
                    out: &mut [O],
                ) -> Result<Output> {
                    crate::typed::unary_into(UnaryOp::$variant, x, out)
                }
            )*
        }
    };
}

/// The loop-selection rule a unary op follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum UnaryFamily {
    /// float32/float64 only; integers promote (int16 to float32, wider to
    /// float64; bool, int8 and uint8 to float16, which fnp lacks).
    Math,
    /// Every integer and float dtype, not bool; output in the input dtype.
    Signed,
    /// Every dtype, bool included; output in the input dtype.
    AnyDtype,
    /// Integers and floats; bool computes in int8.
    NoBool,
    /// Every dtype, output bool.
    Predicate,
    /// The sign bit of the value as bool (integers: `x < 0`).
    Signbit,
    /// Truth value in, bool out.
    Logical,
    /// Integers and bool (bitwise not; logical not on bool).
    Invert,
    /// Integers only, output uint8 (`bitwise_count`); bool computes in
    /// int8, floats are a TypeError.
    BitCount,
}

use precision::{transcendental as libm_within, EXACT, SIGN_OPS};
const U: FpFlags = FpFlags::UNDERFLOW;
const UO: FpFlags = FpFlags::UNDERFLOW.union(FpFlags::OVERFLOW);

unary_ops! {
    /// `np.negative`: `-x`; integers wrap (`-MIN == MIN`, unsigned wrap
    /// around); floats flip the sign bit, NaNs included. TypeError on bool.
    Negative = 0, negative, Signed, SIGN_OPS;
    /// `np.positive`: a copy of `x`. TypeError on bool.
    Positive = 1, positive, Signed, SIGN_OPS;
    /// `np.absolute` (`np.abs`): `|x|`; `abs(MIN) == MIN` for signed
    /// integers; floats clear the sign bit, NaNs included.
    Absolute = 2, absolute, AnyDtype, SIGN_OPS;
    /// `np.sign`: -1, 0 or 1 in the input dtype; `sign(±0.0) == +0.0`,
    /// a NaN passes through. TypeError on bool.
    Sign = 3, sign, Signed, SIGN_OPS;
    /// `np.square`: `x * x`; integers wrap, floats flag as multiply.
    Square = 4, square, NoBool, EXACT;
    /// `np.reciprocal`: `1 / x`. Integers compute `1.0 / x` and convert
    /// back as NumPy's C loop does: `±1` for `±1`, otherwise 0; for 0 the
    /// converted infinity (0, or MIN for int32/int64) with `divide` and
    /// `invalid`. Floats: `1/0 == inf` with `divide`.
    Reciprocal = 5, reciprocal, NoBool, EXACT;
    /// `np.sqrt`: correctly rounded; NaN with `invalid` below zero,
    /// `sqrt(-0.0) == -0.0`.
    Sqrt = 6, sqrt, Math, EXACT;
    /// `np.cbrt`: the real cube root, odd in `x`.
    Cbrt = 7, cbrt, Math, libm_within(2, 2, U);
    /// `np.exp`: `overflow` to inf, `underflow` to 0 or a subnormal.
    Exp = 8, exp, Math, libm_within(3, 1, U);
    /// `np.exp2`: `2**x`, flags as exp.
    Exp2 = 9, exp2, Math, libm_within(2, 1, UO);
    /// `np.expm1`: `exp(x) - 1` accurate near 0.
    Expm1 = 10, expm1, Math, libm_within(3, 1, U);
    /// `np.log`: `log(0) == -inf` with `divide`, NaN with `invalid` below 0.
    Log = 11, log, Math, libm_within(4, 1, U);
    /// `np.log2`: as log.
    Log2 = 12, log2, Math, libm_within(3, 1, U);
    /// `np.log10`: as log.
    Log10 = 13, log10, Math, libm_within(4, 1, U);
    /// `np.log1p`: `log(1 + x)` accurate near 0; `log1p(-1) == -inf` with
    /// `divide`, NaN with `invalid` below -1.
    Log1p = 14, log1p, Math, libm_within(2, 1, U);
    /// `np.sin`: NaN with `invalid` for ±inf.
    Sin = 15, sin, Math, libm_within(2, 1, U);
    /// `np.cos`: NaN with `invalid` for ±inf.
    Cos = 16, cos, Math, libm_within(2, 1, U);
    /// `np.tan`: NaN with `invalid` for ±inf.
    Tan = 17, tan, Math, libm_within(4, 1, U);
    /// `np.arcsin`: NaN with `invalid` outside [-1, 1].
    Arcsin = 18, arcsin, Math, libm_within(4, 1, U);
    /// `np.arccos`: NaN with `invalid` outside [-1, 1].
    Arccos = 19, arccos, Math, libm_within(3, 1, U);
    /// `np.arctan`: `arctan(±inf) == ±pi/2`.
    Arctan = 20, arctan, Math, libm_within(3, 1, U);
    /// `np.sinh`: `overflow` to ±inf.
    Sinh = 21, sinh, Math, libm_within(2, 1, U);
    /// `np.cosh`: `overflow` to inf.
    Cosh = 22, cosh, Math, libm_within(3, 1, U);
    /// `np.tanh`: ±1 for large `|x|`.
    Tanh = 23, tanh, Math, libm_within(2, 2, U);
    /// `np.arcsinh`.
    Arcsinh = 24, arcsinh, Math, libm_within(2, 1, U);
    /// `np.arccosh`: NaN with `invalid` below 1.
    Arccosh = 25, arccosh, Math, libm_within(2, 1, U);
    /// `np.arctanh`: ±inf with `divide` at ±1, NaN with `invalid` beyond.
    Arctanh = 26, arctanh, Math, libm_within(2, 1, U);
    /// `np.deg2rad`: `x * (pi / 180)`, one correctly rounded multiply;
    /// flags as multiply.
    Deg2rad = 27, deg2rad, Math, EXACT;
    /// `np.rad2deg`: `x * (180 / pi)`, one correctly rounded multiply.
    Rad2deg = 28, rad2deg, Math, EXACT;
    /// `np.floor`: integers and bool are returned unchanged.
    Floor = 29, floor, AnyDtype, EXACT;
    /// `np.ceil`: as floor.
    Ceil = 30, ceil, AnyDtype, EXACT;
    /// `np.trunc`: as floor.
    Trunc = 31, trunc, AnyDtype, EXACT;
    /// `np.rint`: round half to even; float loops only.
    Rint = 32, rint, Math, EXACT;
    /// `np.isnan`: false for every integer.
    Isnan = 33, isnan, Predicate, EXACT;
    /// `np.isinf`: false for every integer.
    Isinf = 34, isinf, Predicate, EXACT;
    /// `np.isfinite`: true for every integer.
    Isfinite = 35, isfinite, Predicate, EXACT;
    /// `np.signbit`: the sign bit, of NaNs and zeros too; integers `x < 0`.
    Signbit = 36, signbit, Signbit, EXACT;
    /// `np.logical_not`: `x == 0` as bool (NaN is true, so false out).
    LogicalNot = 37, logical_not, Logical, EXACT;
    /// `np.invert` (`np.bitwise_not`): `!x` on integers, logical not on
    /// bool; TypeError for floats.
    Invert = 38, invert, Invert, EXACT;
    /// `np.fabs`: `|x|` from C's `fabs`, float loops only: integers
    /// promote to float (int16 to float32, wider to float64; bool, int8
    /// and uint8 to float16). Clears the sign bit of zeros and NaNs; no
    /// flags.
    Fabs = 39, fabs, Math, SIGN_OPS;
    /// `np.spacing`: the distance from `x` to the next float away from
    /// zero, with the sign of `x` (`spacing(±0.0) == +2**-1074`); float
    /// loops only. NaN passes through, ±inf gives NaN without a flag;
    /// `±MAX` gives ±inf with `overflow`; a subnormal `x` raises
    /// `underflow`. Exact.
    Spacing = 40, spacing, Math, EXACT;
    /// `np.bitwise_count`: the number of 1 bits in `|x|` as uint8 (NumPy
    /// counts the magnitude of a negative integer; `MIN` has one bit).
    /// Bool counts in int8; TypeError for floats.
    BitwiseCount = 41, bitwise_count, BitCount, EXACT;
    /// `np.conjugate` (`np.conj`): on real dtypes a copy of `x`, NaN
    /// signs included. Bool computes in int8.
    Conjugate = 42, conjugate, NoBool, SIGN_OPS;
    /// `np.degrees`: NumPy's own ufunc with rad2deg's loops,
    /// `x * (180 / pi)`; flags as multiply.
    Degrees = 43, degrees, Math, EXACT;
    /// `np.radians`: NumPy's own ufunc with deg2rad's loops,
    /// `x * (pi / 180)`; flags as multiply.
    Radians = 44, radians, Math, EXACT;
}

impl UnaryOp {
    /// Parses NumPy's name, aliases included (`abs`, `bitwise_not`,
    /// `bitwise_invert`, `conj` and the array-API spellings `asin`,
    /// `acos`, `atan`, `asinh`, `acosh`, `atanh`). `degrees` and `radians`
    /// are ufuncs of their own in NumPy, and here.
    pub fn from_name(name: &str) -> Option<UnaryOp> {
        let canonical = match name {
            "abs" => "absolute",
            "bitwise_not" | "bitwise_invert" => "invert",
            "conj" => "conjugate",
            "asin" => "arcsin",
            "acos" => "arccos",
            "atan" => "arctan",
            "asinh" => "arcsinh",
            "acosh" => "arccosh",
            "atanh" => "arctanh",
            other => other,
        };
        UnaryOp::ALL
            .iter()
            .copied()
            .find(|op| op.name() == canonical)
    }

    /// The dtype NumPy computes in for an operand of this type.
    pub fn loop_dtype(self, x: OperandType) -> Result<DType> {
        self.loop_for(effective_dtype(x, &[x])?)
    }

    fn loop_for(self, d: DType) -> Result<DType> {
        Ok(match self.family() {
            UnaryFamily::Math => float_loop(d)?,
            UnaryFamily::Signed if d == DType::Bool => return Err(Error::NoLoop),
            UnaryFamily::NoBool if d == DType::Bool => DType::Int8,
            UnaryFamily::Invert | UnaryFamily::BitCount if d.is_float() => {
                return Err(Error::NoLoop)
            }
            UnaryFamily::BitCount if d == DType::Bool => DType::Int8,
            // An integer's sign bit is its sign: compute in float64, which
            // keeps the sign of every integer.
            UnaryFamily::Signbit if !d.is_float() => DType::Float64,
            UnaryFamily::Logical => DType::Bool,
            _ => d,
        })
    }

    /// The output dtype NumPy gives for an operand of this type.
    pub fn resolve(self, x: OperandType) -> Result<DType> {
        self.output_for(self.loop_dtype(x)?)
    }

    fn output_for(self, loop_dtype: DType) -> Result<DType> {
        Ok(match self.family() {
            UnaryFamily::Predicate | UnaryFamily::Signbit | UnaryFamily::Logical => DType::Bool,
            UnaryFamily::BitCount => DType::UInt8,
            _ => loop_dtype,
        })
    }

    /// The loop dtype for this very operand: a lone Python int too big for
    /// int64 (held as uint64) is a uint64, as NumPy converts it.
    fn loop_of(self, x: &ArrayRef<'_>) -> Result<DType> {
        if x.is_weak() && x.dtype() == DType::UInt64 {
            self.loop_for(DType::UInt64)
        } else {
            self.loop_dtype(x.operand_type())
        }
    }

    /// The output dtype and shape for this input, without computing anything.
    pub fn output(self, x: &ArrayRef<'_>) -> Result<(DType, Shape)> {
        Ok((self.output_for(self.loop_of(x)?)?, *x.shape()))
    }
}

impl TryFrom<u8> for UnaryOp {
    type Error = Error;

    fn try_from(code: u8) -> Result<UnaryOp> {
        UnaryOp::ALL
            .get(usize::from(code))
            .copied()
            .ok_or(Error::UnknownOp)
    }
}

impl core::fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Applies `op` to every element of `x`, writing the C-contiguous result
/// into `out` (bytes, aligned for the output dtype).
///
/// Use [`UnaryOp::output`] first to size `out`. Errors: [`Error::NoLoop`]
/// where NumPy raises TypeError, [`Error::Float16`] where NumPy answers in
/// float16, [`Error::BufferTooSmall`] (in bytes) and [`Error::Misaligned`].
pub fn unary(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [u8]) -> Result<Output> {
    let (dtype, shape) = op.output(x)?;
    let needed = shape
        .size()
        .checked_mul(dtype.itemsize())
        .ok_or(Error::ShapeOverflow)?;
    let out = out
        .get_mut(..needed)
        .ok_or(Error::BufferTooSmall { needed })?;
    let loop_dtype = op.loop_of(x)?;
    let flags = match loop_dtype {
        DType::Bool => run::<Bool>(op, x, out)?,
        DType::Int8 => run::<i8>(op, x, out)?,
        DType::Int16 => run::<i16>(op, x, out)?,
        DType::Int32 => run::<i32>(op, x, out)?,
        DType::Int64 => run::<i64>(op, x, out)?,
        DType::UInt8 => run::<u8>(op, x, out)?,
        DType::UInt16 => run::<u16>(op, x, out)?,
        DType::UInt32 => run::<u32>(op, x, out)?,
        DType::UInt64 => run::<u64>(op, x, out)?,
        DType::Float32 => run::<f32>(op, x, out)?,
        DType::Float64 => run::<f64>(op, x, out)?,
    };
    Ok(Output {
        dtype,
        shape,
        flags,
    })
}

fn run<T: extra::Loops>(op: UnaryOp, x: &ArrayRef<'_>, out: &mut [u8]) -> Result<FpFlags> {
    match T::unary(op).ok_or(Error::NoLoop)? {
        Unary::Same(kernel) => drive(x, super::typed_out::<T>(out)?, kernel),
        Unary::ToBool(kernel) => drive(x, super::typed_out::<Bool>(out)?, kernel),
        Unary::ToU8(kernel) => drive(x, super::typed_out::<u8>(out)?, kernel),
    }
}

/// The unary driver: a C-order walk over the coalesced array, contiguous
/// runs in the loop dtype straight to the kernel, everything else gathered
/// (and cast) in chunks.
fn drive<A, O, K>(x: &ArrayRef<'_>, out: &mut [O], kernel: K) -> Result<FpFlags>
where
    A: LoopElement,
    K: Fn(&[A], &mut [O]) -> Result<FpFlags>,
{
    let shape = *x.shape();
    let n = shape.size();
    let out = out
        .get_mut(..n)
        .ok_or(Error::BufferTooSmall { needed: n })?;
    if n == 0 {
        return Ok(FpFlags::NONE);
    }
    let mut ls = [*x.layout(), Layout::c_contiguous(shape)];
    coalesce(&mut ls);
    let nd = ls[1].ndim();
    // The innermost dim and its stride; a 0-d array is one element.
    let (inner, stride) = match (ls[1].shape().dims().last(), ls[0].strides().last()) {
        (Some(&inner), Some(&stride)) => (inner, stride),
        _ => (1, 0),
    };
    // Bool inputs are always gathered so that any non-zero byte reads as True.
    let direct = if stride == 1 && x.dtype() == A::DTYPE && A::DTYPE != DType::Bool {
        x.typed::<A>().ok()
    } else {
        None
    };
    let step = if direct.is_some() { inner } else { CHUNK };
    let mut flags = FpFlags::NONE;
    let mut buf = [A::default(); CHUNK];
    let mut outer = OuterIndex::new(ls[1].shape());
    let mut pos = 0usize;
    while let Some(index) = outer.next_index() {
        let base = ls[0].element_index(index.get(..nd.saturating_sub(1)).unwrap_or(&[]));
        let mut done = 0usize;
        while done < inner {
            let len = step.min(inner - done);
            let start = (base as isize + done as isize * stride) as usize;
            let run = match direct.and_then(|d| d.get(start..start + len)) {
                Some(run) => run,
                None => {
                    // len <= CHUNK here unless a direct run was cut short,
                    // which a validated layout rules out.
                    let chunk = buf.get_mut(..len).ok_or(Error::LayoutMismatch)?;
                    x.load(start, stride, chunk);
                    &*chunk
                }
            };
            let ro = out
                .get_mut(pos..pos + len)
                .ok_or(Error::BufferTooSmall { needed: n })?;
            flags |= kernel(run, ro)?;
            done += len;
            pos += len;
        }
    }
    Ok(flags)
}
