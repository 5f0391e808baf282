//! The device side: answers frames from static buffers.

use super::msg::{
    AxisKind, Case, CaseResult, ErrorReply, Hello, Limits, Message, Mode, Params, Stats, WireArray,
    WireScalar,
};
use super::{decode, encode, error_code, Reason, WireError, MAX_INPUTS, PROTOCOL_VERSION};
use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::exec::{plan, Halt};
use crate::shape::{Layout, Shape};
use crate::{Axes, Op, OutArray, ReduceParams, Scalar, MAX_NDIM};

/// Every dtype code, advertised in Hello.
pub const DTYPE_CODES: [u8; 11] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/// Most ops one build can advertise (binary 0..64, reductions 64..).
const MAX_OPS: usize = 128;

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
        second: Option<DType>,
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
        let mut ops: heapless::Vec<u8, MAX_OPS> = heapless::Vec::new();
        // A binary op's methods share its code: protocol 2 serves them for
        // every binary op advertised.
        for op in Op::all().filter(|op| op.method().is_none()) {
            let _no_room_means_not_advertised = ops.push(op.code());
        }
        let hello = Hello {
            version: PROTOCOL_VERSION,
            target: self.config.target,
            profile: self.config.profile,
            limits: self.limits(),
            dtypes: &DTYPE_CODES,
            ops: &ops,
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
        let mode = Mode::try_from(case.mode)?;
        let op = Op::from_codes(case.op, case.method).map_err(|_| {
            WireError::with_detail(
                Reason::UnknownOp,
                u64::from(case.op) | u64::from(case.method) << 8,
            )
        })?;
        let inputs = case.inputs.as_slice();
        if case.inputs.overflowed() || inputs.len() != op.arity() {
            return Err(WireError::with_detail(
                Reason::Arity,
                case.inputs.sent() as u64,
            ));
        }
        let mut params = reduce_params(&case.params)?;
        if case.out.overflowed() {
            return Err(WireError::with_detail(
                Reason::Arity,
                case.out.sent() as u64,
            ));
        }
        for (slot, out) in params.out.iter_mut().zip(case.out.as_slice()) {
            *slot = out.as_ref().map(out_array).transpose()?;
        }

        // Inputs, then the mask, each at an 8-aligned offset of the arena;
        // what is left of the arena is the op's scratch.
        let mut staged: heapless::Vec<Staged, { MAX_INPUTS + 1 }> = heapless::Vec::new();
        let mut next = 0usize;
        let arena: &mut [u8] = bytemuck::cast_slice_mut(&mut *self.arena);
        for array in inputs.iter().chain(case.where_mask.as_ref()) {
            let s = stage(array, arena, &mut next)?;
            staged.push(s).map_err(|_| WireError::new(Reason::Arity))?;
        }
        // The scratch words start at the first whole word after the inputs.
        let split = next.div_ceil(8).min(self.arena.len());
        let (held, scratch) = self.arena.split_at_mut(split);
        let held: &[u8] = bytemuck::cast_slice(held);
        let mut views: heapless::Vec<ArrayRef<'_>, { MAX_INPUTS + 1 }> = heapless::Vec::new();
        for s in &staged {
            views
                .push(view(s, held)?)
                .map_err(|_| WireError::new(Reason::Arity))?;
        }
        let (operands, mask) = match case.where_mask {
            Some(_) => views.split_at(views.len().saturating_sub(1)),
            None => views.split_at(views.len()),
        };
        params.where_mask = mask.first().copied();
        let answer = run(
            op,
            (operands, case.out.as_slice()),
            &params,
            mode,
            self.out,
            scratch,
            &mut self.platform,
        )?;
        drop(views);
        self.stats.cases = self.stats.cases.saturating_add(1);
        self.reply(case.id, answer, sink)
    }
}

/// A case's keywords as fnp-core's [`ReduceParams`], without the `where=`
/// mask (an array the caller stages and sets). The one conversion of
/// keywords: the host's own target runs its cases through it too.
pub fn reduce_params<'a>(p: &Params) -> Result<ReduceParams<'a>, WireError> {
    let axes = p.axis.axes.as_slice();
    let axis = match AxisKind::try_from(p.axis.kind)? {
        AxisKind::All => Axes::All,
        AxisKind::Int => match axes {
            &[a] => Axes::One(isize::try_from(a).map_err(|_| WireError::new(Reason::BadParam))?),
            _ => return Err(WireError::with_detail(Reason::BadParam, axes.len() as u64)),
        },
        AxisKind::Tuple => {
            if p.axis.axes.overflowed() {
                return Err(WireError::with_detail(
                    Reason::TooManyDims,
                    p.axis.axes.sent() as u64,
                ));
            }
            let mut list = [0isize; MAX_NDIM];
            for (slot, &a) in list.iter_mut().zip(axes) {
                *slot = isize::try_from(a).map_err(|_| WireError::new(Reason::BadParam))?;
            }
            Axes::list(list.get(..axes.len()).unwrap_or(&[]))
                .map_err(|_| WireError::with_detail(Reason::TooManyDims, axes.len() as u64))?
        }
    };
    let initial = p.initial.map(scalar_of).transpose()?;
    let dtype = p
        .dtype
        .map(|d| {
            DType::try_from(d).map_err(|_| WireError::with_detail(Reason::UnknownDType, d.into()))
        })
        .transpose()?;
    let casting = crate::Casting::from_code(p.casting)
        .ok_or(WireError::with_detail(Reason::BadParam, p.casting.into()))?;
    let signature = p.signature.as_ref().map(signature_of).transpose()?;
    Ok(ReduceParams {
        axis,
        keepdims: p.keepdims,
        initial,
        where_mask: None,
        dtype,
        ddof: p.ddof,
        out: [None, None],
        casting,
        signature,
    })
}

/// `signature=` from its dtype codes.
fn signature_of(s: &super::msg::WireSignature) -> Result<crate::Signature, WireError> {
    if s.types.overflowed() {
        return Err(WireError::with_detail(
            Reason::BadParam,
            s.types.sent() as u64,
        ));
    }
    let mut types = [None; 4];
    for (slot, &code) in types.iter_mut().zip(s.types.as_slice()) {
        if code != super::msg::WireSignature::NONE {
            let d = DType::try_from(code)
                .map_err(|_| WireError::with_detail(Reason::UnknownDType, code.into()))?;
            *slot = Some(d);
        }
    }
    let len = s.types.as_slice().len();
    crate::Signature::from_parts(types.get(..len).unwrap_or(&[]), s.arrow)
        .map_err(|_| WireError::with_detail(Reason::BadParam, len as u64))
}

/// `initial=` from its kind code and bits.
fn scalar_of(s: WireScalar) -> Result<Scalar, WireError> {
    Ok(match (s.kind, s.bits) {
        (0, 0) => Scalar::Bool(false),
        (0, 1) => Scalar::Bool(true),
        (1, bits) => Scalar::Int(bits as i64),
        (2, bits) => Scalar::UInt(bits),
        (3, bits) => Scalar::Float(f64::from_bits(bits)),
        (kind, _) => return Err(WireError::with_detail(Reason::BadParam, kind.into())),
    })
}

/// A staged input as an array view over the arena.
fn view<'a>(s: &Staged, held: &'a [u8]) -> Result<ArrayRef<'a>, WireError> {
    let bytes = held
        .get(s.start..s.start.saturating_add(s.len))
        .ok_or(WireError::new(Reason::TooLarge))?;
    if s.weak {
        if s.layout.ndim() != 0 {
            return Err(WireError::new(Reason::BadParam));
        }
        ArrayRef::python_scalar(s.dtype, bytes).map_err(|_| WireError::new(Reason::BadParam))
    } else {
        ArrayRef::new(s.dtype, bytes, s.layout).map_err(|_| WireError::new(Reason::LayoutMismatch))
    }
}

/// Plans `op` (the hardened check included), sizes the output and scratch
/// within the device's buffers, then runs it, counting the instructions of
/// the run alone where the platform can.
fn run<P: Platform>(
    op: Op,
    (inputs, outs): (&[ArrayRef<'_>], &[Option<WireArray<'_>>]),
    params: &ReduceParams<'_>,
    mode: Mode,
    out: &mut [u64],
    scratch: &mut [u64],
    platform: &mut P,
) -> Result<(Answer, Option<u64>), WireError> {
    let plan = match plan(op, inputs, params, mode) {
        Ok(p) => p,
        Err(halt) => return halted(halt).map(|a| (a, None)),
    };
    let out: &mut [u8] = bytemuck::cast_slice_mut(out);
    let out = out.get_mut(..plan.out_bytes).ok_or(WireError::with_detail(
        Reason::TooLarge,
        plan.out_bytes as u64,
    ))?;
    // `out=`'s contents before the call, each output after the previous
    // one (the rest is zero, not a previous case's bytes).
    out.fill(0);
    let mut at = 0usize;
    for (k, given) in outs.iter().enumerate() {
        if let Some(o) = given {
            let dst = out
                .get_mut(at..at.saturating_add(o.data.len()))
                .ok_or(WireError::new(Reason::LayoutMismatch))?;
            crate::array::copy_into(dst, o.data);
        }
        if k == 0 {
            at = plan.shape.size().saturating_mul(plan.dtype.itemsize());
        }
    }
    let scratch = scratch
        .get_mut(..plan.scratch_len)
        .ok_or(WireError::with_detail(
            Reason::TooLarge,
            (plan.scratch_len as u64).saturating_mul(8),
        ))?;
    let start = platform.instructions();
    let result = plan.execute(out, scratch);
    let end = platform.instructions();
    let cost = match (start, end) {
        (Some(s), Some(e)) => Some(e.wrapping_sub(s)),
        _ => None,
    };
    match result {
        Ok(o) => Ok((
            Answer::Array {
                dtype: o.dtype,
                second: o.second,
                shape: o.shape,
                flags: o.flags.bits(),
                bytes: o.byte_len().min(plan.out_bytes),
            },
            cost,
        )),
        Err(halt) => halted(halt).map(|a| (a, cost)),
    }
}

/// A case that produced no array: the op's error is answered in a Result;
/// a hardened refusal or a buffer too small is an Error reply.
fn halted(halt: Halt) -> Result<Answer, WireError> {
    match halt {
        Halt::Raised(e) => Ok(Answer::Raised(e)),
        Halt::Refused(r) => Err(WireError::with_detail(Reason::Hardened, r as u64)),
        Halt::TooLarge { needed } => Err(WireError::with_detail(Reason::TooLarge, needed)),
    }
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
                second,
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
                    second: second.map(|d| d as u8),
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
                second: None,
                shape: super::Bounded::default(),
                flags: 0,
                instructions,
                data: &[],
            },
        };
        encode(&Message::Result(result), sink).map(|_| ())
    }
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
/// An array's dtype and shape as this target holds them.
fn header(array: &WireArray<'_>) -> Result<(DType, Shape), WireError> {
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
    Ok((dtype, shape))
}

/// An `out=` array: C-contiguous contents of its whole shape.
fn out_array(array: &WireArray<'_>) -> Result<OutArray, WireError> {
    let (dtype, shape) = header(array)?;
    let bytes = (shape.size() as u64).saturating_mul(dtype.itemsize() as u64);
    if array.strides.is_some()
        || array.offset != 0
        || array.weak
        || array.data.len() as u64 != bytes
    {
        return Err(WireError::new(Reason::LayoutMismatch));
    }
    Ok(OutArray { dtype, shape })
}

fn stage(array: &WireArray<'_>, arena: &mut [u8], next: &mut usize) -> Result<Staged, WireError> {
    let (dtype, shape) = header(array)?;
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
