//! The messages and their postcard bodies.
//!
//! Every field whose value set can grow (tag, op, dtype, mode, scalar kind)
//! is a raw `u8` on the wire, converted with `TryFrom` after decoding so
//! each unknown value gets its own [`Reason`]. Shapes, lengths and offsets
//! are `u64` so a 32-bit device can refuse what does not fit instead of
//! truncating it.

use core::marker::PhantomData;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Reason, WireError};
use crate::MAX_NDIM;

/// Most array inputs a case carries (`at`'s array, indices and values; the
/// `where` mask travels separately).
pub const MAX_INPUTS: usize = 3;

/// A sequence of at most `N` items that remembers how many were sent.
///
/// Items past `N` are decoded (so the rest of the frame still parses) and
/// dropped; [`Bounded::overflowed`] then tells the validator to refuse the
/// message with its own reason (too many dims, too many inputs) rather than
/// a generic decode error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bounded<T, const N: usize> {
    items: heapless::Vec<T, N>,
    sent: usize,
}

impl<T, const N: usize> Default for Bounded<T, N> {
    fn default() -> Self {
        Bounded {
            items: heapless::Vec::new(),
            sent: 0,
        }
    }
}

impl<T: Clone, const N: usize> Bounded<T, N> {
    /// Copies `items`; `None` when there are more than `N`.
    pub fn from_slice(items: &[T]) -> Option<Self> {
        Some(Bounded {
            items: heapless::Vec::from_slice(items).ok()?,
            sent: items.len(),
        })
    }
}

impl<T, const N: usize> Bounded<T, N> {
    /// The kept items (all of them unless [`Bounded::overflowed`]).
    pub fn as_slice(&self) -> &[T] {
        &self.items
    }

    /// How many items the sender sent.
    pub fn sent(&self) -> usize {
        self.sent
    }

    /// Whether the sender sent more than `N`.
    pub fn overflowed(&self) -> bool {
        self.sent > N
    }
}

impl<T: Serialize, const N: usize> Serialize for Bounded<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.items.iter())
    }
}

struct BoundedVisitor<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for BoundedVisitor<T, N> {
    type Value = Bounded<T, N>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Bounded::default();
        // Each element consumes at least one byte, so this loop is bounded
        // by the frame length whatever count the sender claimed.
        while let Some(item) = seq.next_element::<T>()? {
            out.sent = out.sent.saturating_add(1);
            let _dropped_past_capacity = out.items.push(item);
        }
        Ok(out)
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(BoundedVisitor(PhantomData))
    }
}

/// Dimensions (or strides) of one array.
pub type Dims<T> = Bounded<T, MAX_NDIM>;

/// The message kinds; the discriminant is the first payload byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Tag {
    /// Device → host, first frame after reset.
    Hello = 1,
    /// Host → device: one test case.
    Case = 2,
    /// Device → host: a case's outcome.
    Result = 3,
    /// Device → host: a refused frame or case.
    Error = 4,
    /// Host → device: ask for [`Stats`].
    GetStats = 5,
    /// Device → host: counters and peak stack.
    Stats = 6,
}

impl TryFrom<u8> for Tag {
    type Error = WireError;

    fn try_from(b: u8) -> Result<Tag, WireError> {
        Ok(match b {
            1 => Tag::Hello,
            2 => Tag::Case,
            3 => Tag::Result,
            4 => Tag::Error,
            5 => Tag::GetStats,
            6 => Tag::Stats,
            _ => return Err(WireError::with_detail(Reason::UnknownTag, b.into())),
        })
    }
}

pub use crate::harden::Mode;

impl TryFrom<u8> for Mode {
    type Error = WireError;

    /// The Case frame's mode byte: 0 strict, 1 hardened; anything else is
    /// refused (fail closed).
    fn try_from(b: u8) -> Result<Mode, WireError> {
        match b {
            0 => Ok(Mode::Strict),
            1 => Ok(Mode::Hardened),
            _ => Err(WireError::with_detail(Reason::UnknownMode, b.into())),
        }
    }
}

/// What a target can run, sent in [`Hello`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Limits {
    /// Largest payload (tag + body + CRC, before COBS) the device receives.
    pub max_frame_bytes: u64,
    /// Largest element count of one array, whatever its dtype.
    pub max_elements: u64,
    /// Most dimensions of one array.
    pub max_ndim: u64,
    /// Most operands of one case (the `where` mask not counted).
    pub max_inputs: u64,
    /// Bytes for all inputs together, each rounded up to 8.
    pub arena_bytes: u64,
    /// Bytes for the output.
    pub out_bytes: u64,
    /// Bytes of dedicated scratch; 0 means reductions take their scratch
    /// from what the inputs leave of the arena.
    pub scratch_bytes: u64,
    /// Stack size (painted at reset; peak reported by [`Stats`]).
    pub stack_bytes: u64,
}

/// Device → host, first frame after reset: the handshake.
///
/// `version` is the first field so any future Hello still yields it
/// ([`super::peek_version`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello<'a> {
    /// [`super::PROTOCOL_VERSION`] of the sender.
    pub version: u16,
    /// Board name, as in `qemu:<board>`.
    pub target: &'a str,
    /// Cargo profile the firmware was built with.
    pub profile: &'a str,
    /// Buffer sizes.
    pub limits: Limits,
    /// Dtype codes served.
    pub dtypes: &'a [u8],
    /// Op codes served.
    pub ops: &'a [u8],
}

/// A scalar parameter (`initial=`): `kind` 0 bool, 1 int, 2 uint, 3 float;
/// `bits` the value's 64-bit pattern (i64 two's complement, f64 bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireScalar {
    /// Raw kind code.
    pub kind: u8,
    /// The value's bits.
    pub bits: u64,
}

/// The `axis=` parameter: `None`, an int, or a tuple (`()` reduces
/// nothing). NumPy treats an int and a one-element tuple differently, so
/// the wire keeps them apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAxes {
    /// Raw [`AxisKind`] code.
    pub kind: u8,
    /// The axes (one for [`AxisKind::Int`], none for [`AxisKind::All`]);
    /// may be negative.
    pub axes: Dims<i64>,
}

impl WireAxes {
    /// `axis=None`.
    pub fn all() -> WireAxes {
        WireAxes {
            kind: AxisKind::All as u8,
            axes: Bounded::default(),
        }
    }
}

/// What [`WireAxes::axes`] holds. Codes 0 and 1 are the bytes of the
/// `false`/`true` flag an earlier protocol-1 build sent in this place, so
/// those frames still decode (their one-element lists as tuples).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum AxisKind {
    /// `axis=(…)`.
    Tuple = 0,
    /// `axis=None`.
    All = 1,
    /// `axis=k`: exactly one entry.
    Int = 2,
}

impl TryFrom<u8> for AxisKind {
    type Error = WireError;

    fn try_from(b: u8) -> Result<AxisKind, WireError> {
        match b {
            0 => Ok(AxisKind::Tuple),
            1 => Ok(AxisKind::All),
            2 => Ok(AxisKind::Int),
            _ => Err(WireError::with_detail(Reason::BadParam, b.into())),
        }
    }
}

/// Keyword parameters of a ufunc or reduction call. Binary ufuncs take the
/// defaults ([`Params::default`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// `axis=`.
    pub axis: WireAxes,
    /// `keepdims=`.
    pub keepdims: bool,
    /// `initial=`.
    pub initial: Option<WireScalar>,
    /// `dtype=` as a raw dtype code.
    pub dtype: Option<u8>,
    /// `ddof=` (var/std).
    pub ddof: f64,
    /// `casting=` of a ufunc call as a raw [`Casting`](crate::Casting)
    /// code (protocol 3; 3 is NumPy's default `same_kind`).
    pub casting: u8,
    /// `signature=` of a ufunc call (protocol 4).
    pub signature: Option<WireSignature>,
}

/// `signature=` on the wire: a dtype code per operand, inputs then outputs,
/// [`WireSignature::NONE`] where the signature leaves it open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireSignature {
    /// Raw dtype codes (at most four: divmod's two inputs and two outputs).
    pub types: Bounded<u8, 4>,
    /// Typecodes before `->` of the string form; `None` for a tuple.
    pub arrow: Option<u8>,
}

impl WireSignature {
    /// The code of an operand the signature leaves open (`None`).
    pub const NONE: u8 = 0xff;
}

impl Default for Params {
    fn default() -> Self {
        Params {
            axis: WireAxes::all(),
            keepdims: false,
            initial: None,
            dtype: None,
            ddof: 0.0,
            casting: crate::Casting::SameKind as u8,
            signature: None,
        }
    }
}

/// One array operand: dtype, shape, optional element strides and offset,
/// and the little-endian bytes of the buffer the layout indexes.
///
/// `data` borrows the receive buffer and has no alignment: it is copied into
/// an aligned arena before use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireArray<'a> {
    /// Raw dtype code.
    pub dtype: u8,
    /// A Python scalar (NEP 50 weak) operand.
    pub weak: bool,
    /// Dimensions.
    pub shape: Dims<u64>,
    /// Element strides; `None` is C-contiguous.
    pub strides: Option<Dims<i64>>,
    /// Element index of the first logical element.
    pub offset: u64,
    /// The buffer, little-endian.
    pub data: &'a [u8],
}

/// Host → device: one test case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case<'a> {
    /// Host's case number, echoed in the reply.
    pub id: u32,
    /// Raw op code: a binary ufunc 0..=63, a reduction 64 + its code.
    pub op: u8,
    /// Raw [`Method`](crate::Method) code of a binary ufunc: 0 calls it,
    /// 1 is `reduce`, 2 `accumulate` (protocol 2).
    pub method: u8,
    /// Raw [`Mode`] code.
    pub mode: u8,
    /// Keyword parameters.
    pub params: Params,
    /// Operands.
    #[serde(borrow)]
    pub inputs: Bounded<WireArray<'a>, MAX_INPUTS>,
    /// The `where=` mask (a bool array broadcast to the input).
    #[serde(borrow)]
    pub where_mask: Option<WireArray<'a>>,
    /// `out=` of a ufunc call (protocol 3), one entry per output given:
    /// the out array's dtype, shape and C-contiguous contents before the
    /// call (no strides, offset 0), or `None` for NumPy's `out=None`.
    #[serde(borrow)]
    pub out: Bounded<Option<WireArray<'a>>, 2>,
}

/// Device → host: the outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult<'a> {
    /// The case's id.
    pub id: u32,
    /// 0 when the op returned an array; otherwise the fnp-core error code
    /// ([`super::error_code`]) of what NumPy would raise.
    pub error: u8,
    /// Output dtype code (0 when `error` is set); the first output's for a
    /// two-output ufunc.
    pub dtype: u8,
    /// The second output's dtype code, for a two-output ufunc (protocol
    /// 3): its bytes follow the first output's in `data`.
    pub second: Option<u8>,
    /// Output shape.
    pub shape: Dims<u64>,
    /// `FpFlags` bits.
    pub flags: u8,
    /// Instructions retired while computing, where the target counts them.
    pub instructions: Option<u64>,
    /// C-contiguous output bytes, little-endian (every output, one after
    /// the other).
    pub data: &'a [u8],
}

/// Device → host: a frame or case the device refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// The case id, when the frame got far enough to have one.
    pub id: Option<u32>,
    /// Raw [`Reason`] code.
    pub reason: u8,
    /// Extra number (bytes needed for `too_large`, the bad code for
    /// `unknown_*`), 0 otherwise.
    pub detail: u64,
}

/// Device → host: counters since reset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Cases answered with a Result.
    pub cases: u64,
    /// Frames answered with an Error.
    pub errors: u64,
    /// Deepest stack use seen by painting, in bytes.
    pub peak_stack_bytes: u64,
    /// Stack size, in bytes.
    pub stack_bytes: u64,
}

/// A decoded message, borrowing the receive buffer.
// No allocator to box the big variant into; a Case is decoded once per
// frame and its size scales with MAX_NDIM (small on devices).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Message<'a> {
    /// See [`Hello`].
    Hello(Hello<'a>),
    /// See [`Case`].
    Case(Case<'a>),
    /// See [`CaseResult`].
    Result(CaseResult<'a>),
    /// See [`ErrorReply`].
    Error(ErrorReply),
    /// Ask for [`Stats`].
    GetStats,
    /// See [`Stats`].
    Stats(Stats),
}

impl Message<'_> {
    /// This message's tag.
    pub fn tag(&self) -> Tag {
        match self {
            Message::Hello(_) => Tag::Hello,
            Message::Case(_) => Tag::Case,
            Message::Result(_) => Tag::Result,
            Message::Error(_) => Tag::Error,
            Message::GetStats => Tag::GetStats,
            Message::Stats(_) => Tag::Stats,
        }
    }
}

/// Decodes a checked payload (tag + body, as [`super::FrameAccumulator`]
/// yields it). The whole body must be consumed.
pub fn decode(payload: &[u8]) -> Result<Message<'_>, WireError> {
    let (&tag, body) = payload
        .split_first()
        .ok_or(WireError::new(Reason::Truncated))?;
    let tag = Tag::try_from(tag)?;
    Ok(match tag {
        Tag::Hello => {
            let version = super::peek_version(body)?;
            if version != super::PROTOCOL_VERSION {
                return Err(WireError::with_detail(
                    Reason::VersionMismatch,
                    version.into(),
                ));
            }
            Message::Hello(body_of(body)?)
        }
        Tag::Case => Message::Case(body_of(body)?),
        Tag::Result => Message::Result(body_of(body)?),
        Tag::Error => Message::Error(body_of(body)?),
        Tag::GetStats => {
            if !body.is_empty() {
                return Err(WireError::new(Reason::Malformed));
            }
            Message::GetStats
        }
        Tag::Stats => Message::Stats(body_of(body)?),
    })
}

fn body_of<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, WireError> {
    match postcard::take_from_bytes::<T>(body) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(WireError::with_detail(Reason::Malformed, rest.len() as u64)),
        Err(postcard::Error::DeserializeUnexpectedEnd) => Err(WireError::new(Reason::Truncated)),
        Err(_) => Err(WireError::new(Reason::Malformed)),
    }
}

/// Streams `msg` as one frame into `sink`; returns the payload length
/// (tag + body + CRC), which the receiver's frame buffer must hold.
///
/// Errors only if a body fails to serialize, which none of the message types
/// can (their sequences have known lengths); the frame is then left without
/// its CRC and delimiter, so a receiver drops it as corrupt.
pub fn encode<F: FnMut(&[u8])>(msg: &Message<'_>, sink: F) -> Result<usize, WireError> {
    let mut enc = super::FrameEncoder::new(sink);
    enc.write(&[msg.tag() as u8]);
    let written = match msg {
        Message::Hello(m) => body_into(m, &mut enc),
        Message::Case(m) => body_into(m, &mut enc),
        Message::Result(m) => body_into(m, &mut enc),
        Message::Error(m) => body_into(m, &mut enc),
        Message::GetStats => Ok(()),
        Message::Stats(m) => body_into(m, &mut enc),
    };
    written.map_err(|_| WireError::new(Reason::Malformed))?;
    Ok(enc.finish())
}

fn body_into<T: Serialize, F: FnMut(&[u8])>(
    value: &T,
    enc: &mut super::FrameEncoder<F>,
) -> postcard::Result<()> {
    postcard::serialize_with_flavor(value, super::frame::ByRef(enc))
}

/// Payload length of `msg` without producing the bytes (for host-side
/// filtering against [`Limits::max_frame_bytes`]).
pub fn payload_len(msg: &Message<'_>) -> Result<usize, WireError> {
    encode(msg, |_| {})
}
