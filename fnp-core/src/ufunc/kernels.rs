//! Element kernels: one per op and loop dtype, over equal-length slices.

use crate::element::Bool;
use crate::error::{Error, Result};
use crate::flags::FpFlags;

/// `out[i] = op(a[i], b[i])` over equal-length contiguous runs, returning
/// the IEEE flags NumPy would raise for these elements.
pub(crate) trait BinaryKernel<T> {
    /// Applies the op; `a`, `b` and `out` have the same length.
    fn apply(a: &[T], b: &[T], out: &mut [T]) -> Result<FpFlags>;
}

macro_rules! unit_structs {
    ($($name:ident),*) => { $(
        /// Kernel marker for the op of the same name.
        pub(crate) struct $name;
    )* };
}

unit_structs!(
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
);

macro_rules! todo_kernel {
    ($($op:ident),*) => { $(
        impl<T> BinaryKernel<T> for $op {
            fn apply(_: &[T], _: &[T], _: &mut [T]) -> Result<FpFlags> {
                Err(Error::Unsupported)
            }
        }
    )* };
}

todo_kernel!(
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
);

macro_rules! int_add {
    ($($t:ty),*) => { $(
        impl BinaryKernel<$t> for Add {
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = x.wrapping_add(y);
                }
                Ok(FpFlags::NONE)
            }
        }
    )* };
}
int_add!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_add {
    ($($t:ty),*) => { $(
        impl BinaryKernel<$t> for Add {
            fn apply(a: &[$t], b: &[$t], out: &mut [$t]) -> Result<FpFlags> {
                for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                    *o = x + y;
                }
                Ok(FpFlags::NONE)
            }
        }
    )* };
}
float_add!(f32, f64);

impl BinaryKernel<Bool> for Add {
    fn apply(a: &[Bool], b: &[Bool], out: &mut [Bool]) -> Result<FpFlags> {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = Bool::from(x.get() | y.get());
        }
        Ok(FpFlags::NONE)
    }
}
