//! The one error type of fnp-core.

/// Everything that can go wrong in fnp-core.
///
/// Each variant maps to the NumPy exception class the same input raises
/// ([`Error::numpy_exception`]); variants NumPy has no equivalent for
/// (buffers, wire) map to `"FnpError"`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// Shapes cannot be broadcast together (ValueError).
    BroadcastMismatch,
    /// The element count of a shape overflows `usize` (ValueError).
    ShapeOverflow,
    /// More dimensions than [`crate::MAX_NDIM`] (ValueError).
    TooManyDims,
    /// Strides/offset point outside the data, or the data length does not
    /// match the shape (ValueError).
    LayoutMismatch,
    /// A byte buffer is not aligned for its dtype.
    Misaligned,
    /// A caller's buffer is too small.
    BufferTooSmall {
        /// Which one: the output or the scratch buffer.
        buffer: Buffer,
        /// How many bytes it needs, from its start, in every API (typed
        /// or bytes).
        needed: usize,
    },
    /// The ufunc has no loop for these input dtypes (TypeError).
    NoLoop,
    /// Integers to negative integer powers (ValueError).
    NegativeIntegerPower,
    /// A Python int does not fit the dtype it meets (OverflowError).
    PythonIntOverflow,
    /// Axis out of range for the array's ndim (AxisError).
    AxisOutOfBounds,
    /// An axis appears twice in an axis tuple (ValueError).
    DuplicateAxis,
    /// A reduction with no identity over an empty axis (ValueError).
    EmptyReduction,
    /// An argument NumPy rejects with ValueError (bad ddof, `where` shape…).
    InvalidArgument,
    /// An argument NumPy rejects with TypeError (bad dtype= override…).
    InvalidType,
    /// A dtype code that is not one of fnp's dtypes.
    UnknownDType,
    /// An op code that is not one of fnp's ops.
    UnknownOp,
    /// Something NumPy does that fnp-core does not implement.
    Unsupported,
    /// NumPy computes this in float16 (a float ufunc on bool, int8 or
    /// uint8), a dtype fnp-core does not have.
    Float16,
    /// An index outside its axis (`reduceat`'s indices; IndexError).
    IndexOutOfBounds,
    /// A ufunc's result cannot be cast into `out=` under the call's
    /// `casting=` rule (NumPy's UFuncTypeError, a TypeError).
    Casting,
}

/// `core::result::Result` with fnp's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The first public NumPy/Python exception class raised for the same input.
    pub const fn numpy_exception(self) -> &'static str {
        match self {
            Error::BroadcastMismatch
            | Error::ShapeOverflow
            | Error::TooManyDims
            | Error::LayoutMismatch
            | Error::NegativeIntegerPower
            | Error::DuplicateAxis
            | Error::EmptyReduction
            | Error::InvalidArgument => "ValueError",
            Error::NoLoop | Error::InvalidType | Error::Casting => "TypeError",
            Error::PythonIntOverflow => "OverflowError",
            Error::AxisOutOfBounds => "AxisError",
            Error::IndexOutOfBounds => "IndexError",
            Error::Misaligned
            | Error::BufferTooSmall { .. }
            | Error::UnknownDType
            | Error::UnknownOp
            | Error::Unsupported
            | Error::Float16 => "FnpError",
        }
    }
}

/// A caller-provided buffer of an fnp-core call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Buffer {
    /// The output (`out`).
    Output,
    /// The scratch space of a reduction (`scratch`).
    Scratch,
}

impl core::fmt::Display for Buffer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Buffer::Output => "output",
            Buffer::Scratch => "scratch",
        })
    }
}

impl Error {
    /// The output buffer needs `elements` values of `T`.
    pub(crate) fn short_output<T>(elements: usize) -> Error {
        Error::BufferTooSmall {
            buffer: Buffer::Output,
            needed: elements.saturating_mul(core::mem::size_of::<T>()),
        }
    }

    /// The scratch buffer needs `bytes` bytes.
    pub(crate) fn short_scratch(bytes: usize) -> Error {
        Error::BufferTooSmall {
            buffer: Buffer::Scratch,
            needed: bytes,
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::BroadcastMismatch => f.write_str("operands could not be broadcast together"),
            Error::ShapeOverflow => f.write_str("array is too big: element count overflows"),
            Error::TooManyDims => write!(f, "more than {} dimensions", crate::MAX_NDIM),
            Error::LayoutMismatch => f.write_str("data length, shape and strides disagree"),
            Error::Misaligned => f.write_str("buffer is not aligned for its dtype"),
            Error::BufferTooSmall { buffer, needed } => {
                write!(f, "{buffer} buffer too small: {needed} bytes needed")
            }
            Error::NoLoop => f.write_str("ufunc has no loop for these input dtypes"),
            Error::NegativeIntegerPower => {
                f.write_str("integers to negative integer powers are not allowed")
            }
            Error::PythonIntOverflow => f.write_str("Python integer out of bounds for dtype"),
            Error::AxisOutOfBounds => f.write_str("axis is out of bounds for array"),
            Error::DuplicateAxis => f.write_str("duplicate value in 'axis'"),
            Error::EmptyReduction => {
                f.write_str("zero-size array to reduction operation which has no identity")
            }
            Error::InvalidArgument => f.write_str("invalid argument"),
            Error::InvalidType => f.write_str("invalid argument type"),
            Error::UnknownDType => f.write_str("unknown dtype code"),
            Error::UnknownOp => f.write_str("unknown op code"),
            Error::Unsupported => f.write_str("not supported by fnp-core"),
            Error::Float16 => f.write_str("NumPy answers in float16, which fnp-core does not have"),
            Error::IndexOutOfBounds => f.write_str("index out of bounds for its axis"),
            Error::Casting => {
                f.write_str("the result cannot be cast to out='s dtype under casting=")
            }
        }
    }
}

impl core::error::Error for Error {}
