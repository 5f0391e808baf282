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
}

impl Output {
    /// Bytes the output occupies.
    pub fn byte_len(&self) -> usize {
        self.shape.size() * self.dtype.itemsize()
    }
}
