//! The device side: answers frames from static buffers.

use super::msg::{
    Case, CaseResult, ErrorReply, Hello, Limits, Message, Mode, Params, Stats, WireArray,
};
use super::{decode, encode, error_code, Reason, WireError, MAX_INPUTS, PROTOCOL_VERSION};
use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::shape::{Layout, Shape};
use crate::ufunc::{binary, BinaryOp};
use crate::MAX_NDIM;

/// Every dtype code, advertised in Hello.
pub const DTYPE_CODES: [u8; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// The op codes this build serves.
const OP_CODES: [u8; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// What the firmware measures for the server.
pub trait Platform {
    /// Instructions retired so far, where the target counts them exactly
    /// (RISC-V `minstret` under `-icount`); `None` elsewhere.
    fn instructions(&mut self) -> Option<u64> {
        None
    }

    /// Deepest stack use so far, in bytes (by painting).
    fn peak_stack_bytes(&mut self) -> u64 {
        0
    }
}

/// No counters: a host-side server or a board without them.
impl Platform for () {}

/// Fixed facts about the device, sent in Hello.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// Board name (`lm3s6965evb`, …).
    pub target: &'static str,
    /// Cargo profile of the build.
    pub profile: &'static str,
    /// Size of the receive buffer (payload bytes).
    pub max_frame_bytes: usize,
    /// Stack size.
    pub stack_bytes: usize,
}

/// Serves cases out of caller-provided (static) buffers.
///
/// `arena` receives the input arrays (each copied to an 8-aligned offset,
/// since frame bytes have no alignment); `out` receives the result, which is
/// then streamed out of it without another copy.
pub struct Server<'m, P> {
    config: ServerConfig,
    arena: &'m mut [u64],
    out: &'m mut [u64],
    platform: P,
    stats: Stats,
}

/// An input's place in the arena, between copying and viewing.
#[derive(Clone, Copy)]
struct Staged {
    dtype: DType,
    layout: Layout,
    weak: bool,
    start: usize,
    len: usize,
}

/// What a served case produced, before it is encoded.
// Lives on the stack for one case; no allocator to box the shape into.
#[allow(clippy::large_enum_variant)]
enum Answer {
    Array {
        dtype: DType,
        shape: Shape,
        flags: u8,
        bytes: usize,
    },
    Raised(crate::Error),
}

impl<'m, P: Platform> Server<'m, P> {
    /// A server over `arena` (inputs) and `out` (result).
    pub fn new(
        config: ServerConfig,
        arena: &'m mut [u64],
        out: &'m mut [u64],
        platform: P,
    ) -> Self {
        Server {
            config,
            arena,
            out,
            platform,
            stats: Stats {
                stack_bytes: config.stack_bytes as u64,
                ..Stats::default()
            },
        }
    }

    /// The limits this server advertises.
    pub fn limits(&self) -> Limits {
        let arena_bytes = core::mem::size_of_val(&*self.arena) as u64;
        let out_bytes = core::mem::size_of_val(&*self.out) as u64;
        Limits {
            max_frame_bytes: self.config.max_frame_bytes as u64,
            max_elements: self.out.len().min(self.arena.len()) as u64,
            max_ndim: MAX_NDIM as u64,
            max_inputs: MAX_INPUTS as u64,
            arena_bytes,
            out_bytes,
            scratch_bytes: 0,
            stack_bytes: self.config.stack_bytes as u64,
        }
    }

    /// Sends Hello: the first frame after reset, which the host waits for.
    pub fn hello<F: FnMut(&[u8])>(&mut self, sink: F) {
        let hello = Hello {
            version: PROTOCOL_VERSION,
            target: self.config.target,
            profile: self.config.profile,
            limits: self.limits(),
            dtypes: &DTYPE_CODES,
            ops: &OP_CODES,
        };
        let _ = encode(&Message::Hello(hello), sink);
    }

    /// Counters so far.
    pub fn stats(&mut self) -> Stats {
        Stats {
            peak_stack_bytes: self.platform.peak_stack_bytes(),
            ..self.stats
        }
    }

    /// Answers one frame from the accumulator: a Case gets a Result, GetStats
    /// gets Stats, anything wrong gets an Error reply naming the reason.
    pub fn handle<F: FnMut(&[u8])>(&mut self, frame: Result<&[u8], WireError>, mut sink: F) {
        let mut id = None;
        let outcome = match frame.and_then(decode) {
            Ok(Message::Case(case)) => {
                id = Some(case.id);
                self.serve(&case, &mut sink)
            }
            Ok(Message::GetStats) => {
                let stats = self.stats();
                encode(&Message::Stats(stats), &mut sink).map(|_| ())
            }
            Ok(other) => Err(WireError::with_detail(
                Reason::UnexpectedMessage,
                other.tag() as u64,
            )),
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            self.stats.errors = self.stats.errors.saturating_add(1);
            let reply = ErrorReply {
                id,
                reason: e.reason as u8,
                detail: e.detail,
            };
            let _ = encode(&Message::Error(reply), &mut sink);
        }
    }

    /// Validates, stages and runs one case, then streams its Result.
    fn serve<F: FnMut(&[u8])>(&mut self, case: &Case<'_>, sink: &mut F) -> Result<(), WireError> {
        Mode::try_from(case.mode)?;
        let op = decode_op(case.op)?;
        let inputs = case.inputs.as_slice();
        if case.inputs.overflowed() || inputs.len() != 2 {
            return Err(WireError::with_detail(
                Reason::Arity,
                case.inputs.sent() as u64,
            ));
        }
        if case.where_mask.is_some() {
            return Err(WireError::new(Reason::Unsupported));
        }
        if case.params != Params::default() {
            return Err(WireError::new(Reason::BadParam));
        }
        let mut staged: heapless::Vec<Staged, MAX_INPUTS> = heapless::Vec::new();
        let mut next = 0usize;
        let arena: &mut [u8] = bytemuck::cast_slice_mut(&mut *self.arena);
        for array in inputs {
            let s = stage(array, arena, &mut next)?;
            staged.push(s).map_err(|_| WireError::new(Reason::Arity))?;
        }
        let arena: &[u8] = bytemuck::cast_slice(&*self.arena);
        let mut views: heapless::Vec<ArrayRef<'_>, MAX_INPUTS> = heapless::Vec::new();
        for s in &staged {
            let bytes = arena
                .get(s.start..s.start + s.len)
                .ok_or(WireError::new(Reason::TooLarge))?;
            let view = if s.weak {
                if s.layout.ndim() != 0 {
                    return Err(WireError::new(Reason::BadParam));
                }
                ArrayRef::python_scalar(s.dtype, bytes)
                    .map_err(|_| WireError::new(Reason::BadParam))?
            } else {
                ArrayRef::new(s.dtype, bytes, s.layout)
                    .map_err(|_| WireError::new(Reason::LayoutMismatch))?
            };
            views
                .push(view)
                .map_err(|_| WireError::new(Reason::Arity))?;
        }
        let (Some(a), Some(b)) = (views.first(), views.get(1)) else {
            return Err(WireError::new(Reason::Arity));
        };
        let answer = run_binary(op, a, b, self.out, &mut self.platform)?;
        drop(views);
        self.stats.cases = self.stats.cases.saturating_add(1);
        self.reply(case.id, answer, sink)
    }
}

/// Runs a binary ufunc into `out`, counting instructions where possible.
fn run_binary<P: Platform>(
    op: BinaryOp,
    a: &ArrayRef<'_>,
    b: &ArrayRef<'_>,
    out: &mut [u64],
    platform: &mut P,
) -> Result<(Answer, Option<u64>), WireError> {
    let (dtype, shape) = match op.output(a, b) {
        Ok(o) => o,
        Err(e) => return Ok((Answer::Raised(e), None)),
    };
    let needed = shape
        .size()
        .checked_mul(dtype.itemsize())
        .ok_or(WireError::with_detail(Reason::TooLarge, u64::MAX))?;
    let out: &mut [u8] = bytemuck::cast_slice_mut(out);
    let out = out
        .get_mut(..needed)
        .ok_or(WireError::with_detail(Reason::TooLarge, needed as u64))?;
    let start = platform.instructions();
    let result = binary(op, a, b, out);
    let end = platform.instructions();
    let cost = match (start, end) {
        (Some(s), Some(e)) => Some(e.wrapping_sub(s)),
        _ => None,
    };
    Ok(match result {
        Ok(o) => (
            Answer::Array {
                dtype: o.dtype,
                shape: o.shape,
                flags: o.flags.bits(),
                bytes: needed,
            },
            cost,
        ),
        Err(e) => (Answer::Raised(e), cost),
    })
}

impl<P: Platform> Server<'_, P> {
    fn reply<F: FnMut(&[u8])>(
        &mut self,
        id: u32,
        answer: (Answer, Option<u64>),
        sink: &mut F,
    ) -> Result<(), WireError> {
        let (answer, instructions) = answer;
        let out: &[u8] = bytemuck::cast_slice(&*self.out);
        let result = match answer {
            Answer::Array {
                dtype,
                shape,
                flags,
                bytes,
            } => {
                let mut dims = [0u64; MAX_NDIM];
                for (d, &s) in dims.iter_mut().zip(shape.dims()) {
                    *d = s as u64;
                }
                CaseResult {
                    id,
                    error: 0,
                    dtype: dtype as u8,
                    shape: super::Bounded::from_slice(dims.get(..shape.ndim()).unwrap_or(&[]))
                        .unwrap_or_default(),
                    flags,
                    instructions,
                    data: out.get(..bytes).unwrap_or(&[]),
                }
            }
            Answer::Raised(e) => CaseResult {
                id,
                error: error_code(e),
                dtype: 0,
                shape: super::Bounded::default(),
                flags: 0,
                instructions,
                data: &[],
            },
        };
        encode(&Message::Result(result), sink).map(|_| ())
    }
}

/// The op for a raw code: binary ufuncs are 0..=63; reductions (64 + their
/// code) are not served by this build yet.
fn decode_op(code: u8) -> Result<BinaryOp, WireError> {
    BinaryOp::try_from(code).map_err(|_| WireError::with_detail(Reason::UnknownOp, code.into()))
}

/// `u64` from the wire to `usize`: a value this target cannot even address
/// is too large for it, never truncated.
fn to_usize(v: u64) -> Result<usize, WireError> {
    usize::try_from(v).map_err(|_| WireError::with_detail(Reason::TooLarge, v))
}

/// [`to_usize`] as a target with `bits`-bit `usize` sees it, so the 32-bit
/// refusal is tested on a 64-bit host too.
#[cfg(test)]
pub(crate) fn to_usize_for_width(v: u64, bits: u32) -> Result<usize, WireError> {
    if bits < 64 && v >> bits != 0 {
        return Err(WireError::with_detail(Reason::TooLarge, v));
    }
    to_usize(v)
}

/// Checks one array's description and copies its bytes to the next
/// 8-aligned spot of the arena.
fn stage(array: &WireArray<'_>, arena: &mut [u8], next: &mut usize) -> Result<Staged, WireError> {
    let dtype = DType::try_from(array.dtype)
        .map_err(|_| WireError::with_detail(Reason::UnknownDType, array.dtype.into()))?;
    if array.shape.overflowed() {
        return Err(WireError::with_detail(
            Reason::TooManyDims,
            array.shape.sent() as u64,
        ));
    }
    let mut dims = [0usize; MAX_NDIM];
    let mut elements: u64 = 1;
    for (d, &wire) in dims.iter_mut().zip(array.shape.as_slice()) {
        elements = elements
            .checked_mul(wire)
            .ok_or(WireError::with_detail(Reason::TooLarge, u64::MAX))?;
        *d = to_usize(wire)?;
    }
    to_usize(elements)?;
    let ndim = array.shape.as_slice().len();
    let shape = Shape::new(dims.get(..ndim).unwrap_or(&[]))
        .map_err(|_| WireError::with_detail(Reason::TooLarge, elements))?;
    let layout = match &array.strides {
        None => Layout::c_contiguous(shape),
        Some(strides) => {
            if strides.overflowed() {
                return Err(WireError::with_detail(
                    Reason::TooManyDims,
                    strides.sent() as u64,
                ));
            }
            let mut s = [0isize; MAX_NDIM];
            for (d, &wire) in s.iter_mut().zip(strides.as_slice()) {
                *d = isize::try_from(wire).map_err(|_| WireError::new(Reason::LayoutMismatch))?;
            }
            let offset = usize::try_from(array.offset)
                .map_err(|_| WireError::new(Reason::LayoutMismatch))?;
            Layout::strided(
                shape,
                s.get(..strides.as_slice().len()).unwrap_or(&[]),
                offset,
            )
            .map_err(|_| WireError::new(Reason::LayoutMismatch))?
        }
    };
    if array.strides.is_none() && array.offset != 0 {
        return Err(WireError::new(Reason::LayoutMismatch));
    }
    let data = array.data;
    if data.len() % dtype.itemsize() != 0 {
        return Err(WireError::new(Reason::LayoutMismatch));
    }
    layout
        .check_len(data.len() / dtype.itemsize())
        .map_err(|_| WireError::new(Reason::LayoutMismatch))?;
    let start = *next;
    let end = start
        .checked_add(data.len())
        .ok_or(WireError::new(Reason::TooLarge))?;
    let slot = arena
        .get_mut(start..end)
        .ok_or(WireError::with_detail(Reason::TooLarge, end as u64))?;
    slot.copy_from_slice(data);
    // Round up to 8 so the next input is aligned for any dtype.
    *next = end.checked_add(7).ok_or(WireError::new(Reason::TooLarge))? & !7;
    Ok(Staged {
        dtype,
        layout,
        weak: array.weak,
        start,
        len: data.len(),
    })
}
