//! What a call produced: the output's dtype, shape and IEEE flags.

use crate::dtype::DType;
use crate::flags::FpFlags;
use crate::shape::Shape;

/// What a ufunc call produced: the output's dtype, shape and the IEEE flags
/// NumPy would have raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Output {
    /// Output dtype.
    pub dtype: DType,
    /// Output shape (C-contiguous in the caller's buffer).
    pub shape: Shape,
    /// Floating-point status flags raised.
    pub flags: FpFlags,
    /// The second output's dtype, for a ufunc with two outputs
    /// ([`MultiOp`](crate::MultiOp)): the same shape, and in the byte
    /// entries its bytes follow the first output's.
    pub second: Option<DType>,
}

impl Output {
    /// The output of a one-output call.
    pub const fn new(dtype: DType, shape: Shape, flags: FpFlags) -> Output {
        Output {
            dtype,
            shape,
            flags,
            second: None,
        }
    }

    /// Bytes the output occupies (both outputs of a two-output ufunc).
    pub fn byte_len(&self) -> usize {
        let second = self.second.map_or(0, DType::itemsize);
        self.shape.size() * (self.dtype.itemsize() + second)
    }
}
