//! The wire protocol between the host and a device (feature `wire`).
//!
//! One frame is `tag · postcard body · CRC-32 (LE)`, COBS-encoded and ended
//! by 0x00 (see `WIRE.md` at the repository root for the bytes). The device
//! sends [`Hello`] first; the host then sends [`Case`]s one at a time and
//! gets a [`CaseResult`] or an [`ErrorReply`] for each.
//!
//! Decoding is fail-closed and panic-free: the CRC is checked before
//! anything is deserialized, every raw code is converted with `TryFrom`, and
//! each way a frame can be wrong has its own [`Reason`]. Array bytes in a
//! frame have no alignment; the [`Server`] copies them into an aligned
//! arena before building [`crate::ArrayRef`]s.

mod frame;
mod msg;
mod server;
#[cfg(test)]
mod tests;

pub use frame::{check_payload, Feed, FrameAccumulator, FrameEncoder, CRC_BYTES, MIN_PAYLOAD};
pub use msg::{
    decode, encode, payload_len, AxisKind, Bounded, Case, CaseResult, Dims, ErrorReply, Hello,
    Limits, Message, Mode, Params, Stats, Tag, WireArray, WireAxes, WireScalar, WireSignature,
    MAX_INPUTS,
};
pub use server::{reduce_params, Platform, Server, ServerConfig, DTYPE_CODES};

use crate::Error;

/// The protocol version; bumped whenever the bytes of any message change
/// (the golden-bytes tests pin them). A peer with another version is
/// refused with [`Reason::VersionMismatch`].
pub const PROTOCOL_VERSION: u16 = 4;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        /// Why a frame or a case was refused. The discriminant is the wire
        /// code of [`ErrorReply::reason`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[repr(u8)]
        pub enum Reason {
            $($(#[$doc])* $variant = $code,)*
        }

        impl Reason {
            /// Every reason, in code order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),*];

            /// The name used in reports (`too_large`, `bad_crc`, …).
            pub const fn name(self) -> &'static str {
                match self { $(Reason::$variant => $name,)* }
            }
        }

        impl TryFrom<u8> for Reason {
            type Error = u8;

            /// The reason for a code; the code itself when unknown.
            fn try_from(code: u8) -> core::result::Result<Reason, u8> {
                match code {
                    $($code => Ok(Reason::$variant),)*
                    _ => Err(code),
                }
            }
        }
    };
}

reasons! {
    /// Fewer bytes than the message needs (frame under 5 bytes, or a body
    /// that ends early).
    Truncated = 1, "truncated";
    /// The frame is longer than the receiver's buffer.
    Oversize = 2, "oversize";
    /// A delimiter inside a COBS block: bytes were lost.
    BadCobs = 3, "bad_cobs";
    /// CRC-32 mismatch.
    BadCrc = 4, "bad_crc";
    /// The first payload byte is not a known [`Tag`].
    UnknownTag = 5, "unknown_tag";
    /// The body does not decode as its message (bad varint, bool, UTF-8,
    /// option) or has bytes left over.
    Malformed = 6, "malformed";
    /// Unknown [`Mode`] code.
    UnknownMode = 7, "unknown_mode";
    /// Unknown op code.
    UnknownOp = 8, "unknown_op";
    /// Unknown dtype code.
    UnknownDType = 9, "unknown_dtype";
    /// Shape, strides, offset and data length disagree.
    LayoutMismatch = 10, "layout_mismatch";
    /// More dimensions than the receiver's `max_ndim`.
    TooManyDims = 11, "too_many_dims";
    /// Wrong number of inputs for the op.
    Arity = 12, "arity";
    /// A parameter the op does not take, or a bad value (scalar kind,
    /// weak operand that is not a 0-d bool/int64/uint64/float64).
    BadParam = 13, "bad_param";
    /// The case does not fit the device's buffers (`detail`: bytes needed),
    /// or a size does not fit its `usize`.
    TooLarge = 14, "too_large";
    /// A known op or parameter this target was built without.
    Unsupported = 15, "unsupported";
    /// A message the receiver never expects (a Result sent to a device).
    UnexpectedMessage = 16, "unexpected_message";
    /// The peer speaks another protocol version (`detail`: its version).
    VersionMismatch = 17, "version_mismatch";
    /// A hardened-mode case over a [`crate::harden::Hardening`] limit
    /// (`detail`: the [`crate::harden::Refusal`] code).
    Hardened = 18, "hardened";
}

/// A refused frame or case: the reason and a number that explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct WireError {
    /// Why.
    pub reason: Reason,
    /// Bytes needed, the unknown code, … (0 when there is nothing to add).
    pub detail: u64,
}

impl WireError {
    /// An error with no detail.
    pub const fn new(reason: Reason) -> WireError {
        WireError { reason, detail: 0 }
    }

    /// An error with a detail number.
    pub const fn with_detail(reason: Reason, detail: u64) -> WireError {
        WireError { reason, detail }
    }
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.reason.name(), self.detail)
    }
}

impl core::error::Error for WireError {}

/// Reads the protocol version from a Hello body without decoding the rest,
/// so a Hello of another version is refused with a clear reason even if its
/// other fields changed.
pub fn peek_version(hello_body: &[u8]) -> Result<u16, WireError> {
    match postcard::take_from_bytes::<u16>(hello_body) {
        Ok((v, _)) => Ok(v),
        Err(postcard::Error::DeserializeUnexpectedEnd) => Err(WireError::new(Reason::Truncated)),
        Err(_) => Err(WireError::new(Reason::Malformed)),
    }
}

/// The wire code of an fnp-core error in [`CaseResult::error`] (never 0).
/// `BufferTooSmall` loses which buffer and its `needed` count (it decodes
/// as the output buffer, 0 bytes).
pub const fn error_code(e: Error) -> u8 {
    #[allow(unreachable_patterns)]
    match e {
        Error::BroadcastMismatch => 1,
        Error::ShapeOverflow => 2,
        Error::TooManyDims => 3,
        Error::LayoutMismatch => 4,
        Error::Misaligned => 5,
        Error::BufferTooSmall { .. } => 6,
        Error::NoLoop => 7,
        Error::NegativeIntegerPower => 8,
        Error::PythonIntOverflow => 9,
        Error::AxisOutOfBounds => 10,
        Error::DuplicateAxis => 11,
        Error::EmptyReduction => 12,
        Error::InvalidArgument => 13,
        Error::InvalidType => 14,
        Error::UnknownDType => 15,
        Error::UnknownOp => 16,
        Error::Unsupported => 17,
        Error::Float16 => 18,
        Error::IndexOutOfBounds => 19,
        Error::Casting => 20,
        // A variant added later without a code yet: still an error, still
        // distinguishable from success.
        _ => 255,
    }
}

/// The fnp-core error for a [`CaseResult::error`] code; `None` for 0 and
/// unknown codes.
pub fn error_from_code(code: u8) -> Option<Error> {
    [
        Error::BroadcastMismatch,
        Error::ShapeOverflow,
        Error::TooManyDims,
        Error::LayoutMismatch,
        Error::Misaligned,
        Error::BufferTooSmall {
            buffer: crate::error::Buffer::Output,
            needed: 0,
        },
        Error::NoLoop,
        Error::NegativeIntegerPower,
        Error::PythonIntOverflow,
        Error::AxisOutOfBounds,
        Error::DuplicateAxis,
        Error::EmptyReduction,
        Error::InvalidArgument,
        Error::InvalidType,
        Error::UnknownDType,
        Error::UnknownOp,
        Error::Unsupported,
        Error::Float16,
        Error::IndexOutOfBounds,
        Error::Casting,
    ]
    .into_iter()
    .find(|&e| error_code(e) == code)
}
