//! Corpus cases to wire cases, device replies to outcomes.

use fnp_core::wire::{
    self, AxisKind, Bounded, Params, Reason, WireArray, WireAxes, WireScalar, WireSignature,
};
use fnp_core::{DType, Op};

use super::{DeviceInfo, Reply};
use crate::case::{AxisParam, Case, CaseOutcome, Input};
use crate::value::Scalar;

/// The `where=` mask as bool bytes (one per element), kept alive by the
/// caller while the wire case borrows it.
pub fn mask_bytes(case: &Case) -> Option<Vec<u8>> {
    case.params
        .where_mask
        .as_ref()
        .map(|m| m.data.iter().map(|&b| u8::from(b)).collect())
}

/// The `out=` arrays' contents before the call, C order (the wire sends
/// them C-contiguous), kept alive by the caller while the wire case
/// borrows them.
pub fn out_bytes(case: &Case) -> Vec<Option<Vec<u8>>> {
    case.params
        .out
        .iter()
        .map(|o| o.as_ref().map(|o| crate::corpus::logical_bytes(&o.array)))
        .collect()
}

fn dims<T: Copy, const N: usize>(v: &[T], what: &str) -> Result<Bounded<T, N>, String> {
    Bounded::from_slice(v)
        .ok_or_else(|| format!("too_large: {} {what}, wire carries at most {N}", v.len()))
}

fn array<'a>(input: &'a Input) -> Result<WireArray<'a>, String> {
    if input.generated.is_some() {
        return Err("internal: a generate input was not built (Case::materialized)".into());
    }
    let shape: Vec<u64> = input.shape.iter().map(|&d| d as u64).collect();
    let strides = if input.is_c_contiguous() {
        None
    } else {
        let s: Vec<i64> = input.strides.iter().map(|&s| s as i64).collect();
        Some(dims(&s, "strides")?)
    };
    Ok(WireArray {
        dtype: input.dtype as u8,
        weak: input.scalar,
        shape: dims(&shape, "dimensions")?,
        strides,
        offset: if strides_is_some(input) {
            input.offset as u64
        } else {
            0
        },
        data: &input.buffer,
    })
}

fn strides_is_some(input: &Input) -> bool {
    !input.is_c_contiguous()
}

/// Why a case's keywords have no wire form: the error NumPy raises for
/// them (what the host target reports) and why no device can be sent the
/// case (reported as `unsupported` there).
#[derive(Clone, Debug, PartialEq)]
pub struct NoWireForm {
    /// fnp-core's error for the same keywords.
    pub error: fnp_core::Error,
    /// Why the case cannot be sent.
    pub reason: String,
}

fn scalar(s: &Scalar) -> Result<WireScalar, NoWireForm> {
    Ok(match *s {
        Scalar::Bool(b) => WireScalar {
            kind: 0,
            bits: u64::from(b),
        },
        Scalar::Int(i) => match (i64::try_from(i), u64::try_from(i)) {
            (Ok(v), _) => WireScalar {
                kind: 1,
                bits: v as u64,
            },
            (_, Ok(v)) => WireScalar { kind: 2, bits: v },
            _ => {
                return Err(NoWireForm {
                    error: fnp_core::Error::PythonIntOverflow,
                    reason: format!("initial={i} fits neither int64 nor uint64"),
                })
            }
        },
        Scalar::Float(f) => WireScalar {
            kind: 3,
            bits: f.to_bits(),
        },
    })
}

/// The wire form of a case's keywords (all but the `where=` mask, an array
/// of its own): what devices are sent, and what the host target turns
/// into fnp-core's params with the same [`fnp_core::wire::reduce_params`]
/// as the device's server. An absent `axis` is the op's default: `None`
/// for the reductions, `0` for the ufunc methods that take one
/// (`add.reduce`, not `add.outer`).
pub fn params(p: &crate::case::Params, op: Option<Op>) -> Result<Params, NoWireForm> {
    let axes = |list: &[i64]| {
        dims(list, "axes").map_err(|reason| NoWireForm {
            error: fnp_core::Error::TooManyDims,
            reason,
        })
    };
    let axis = match &p.axis {
        None if op
            .and_then(Op::method)
            .is_some_and(fnp_core::Method::takes_axis) =>
        {
            WireAxes {
                kind: AxisKind::Int as u8,
                axes: axes(&[0])?,
            }
        }
        None | Some(AxisParam::All) => WireAxes::all(),
        Some(AxisParam::One(a)) => WireAxes {
            kind: AxisKind::Int as u8,
            axes: axes(&[*a])?,
        },
        Some(AxisParam::Tuple(t)) => WireAxes {
            kind: AxisKind::Tuple as u8,
            axes: axes(t)?,
        },
    };
    Ok(Params {
        axis,
        keepdims: p.keepdims,
        initial: p.initial.as_ref().map(scalar).transpose()?,
        dtype: p.dtype.map(|d| d as u8),
        ddof: p.ddof.unwrap_or(0.0),
        casting: p.casting.unwrap_or_default() as u8,
        signature: p.signature.as_ref().map(signature).transpose()?,
    })
}

/// The wire form of `signature=`.
fn signature(s: &crate::case::SignatureParam) -> Result<WireSignature, NoWireForm> {
    let sig = s.resolve().map_err(|error| NoWireForm {
        error,
        reason: format!("signature={} is refused: {error}", s.to_json()),
    })?;
    let codes: Vec<u8> = sig
        .types()
        .iter()
        .map(|t| t.map_or(WireSignature::NONE, |d| d as u8))
        .collect();
    Ok(WireSignature {
        types: Bounded::from_slice(&codes).unwrap_or_default(),
        arrow: sig.arrow(),
    })
}

/// The wire form of `case`, numbered `id`; `Err` is why it cannot be sent
/// (reported as `unsupported`). `mask` is [`mask_bytes`] of the same case.
pub fn to_wire<'a>(
    id: u32,
    case: &'a Case,
    mask: Option<&'a [u8]>,
    outs: &'a [Option<Vec<u8>>],
) -> Result<wire::Case<'a>, String> {
    let op = case.op.op().map(Op::code).ok_or_else(|| {
        format!(
            "op {} is not in wire protocol {}",
            case.op,
            wire::PROTOCOL_VERSION
        )
    })?;
    let inputs: Vec<WireArray<'a>> = case.inputs.iter().map(array).collect::<Result<_, _>>()?;
    let p = &case.params;
    let params = params(p, case.op.op()).map_err(|e| e.reason)?;
    let where_mask = match (&p.where_mask, mask) {
        (Some(m), Some(bytes)) => {
            let shape: Vec<u64> = m.shape.iter().map(|&d| d as u64).collect();
            Some(WireArray {
                dtype: DType::Bool as u8,
                weak: false,
                shape: dims(&shape, "dimensions")?,
                strides: None,
                offset: 0,
                data: bytes,
            })
        }
        (Some(_), None) => return Err("where mask bytes missing".into()),
        (None, _) => None,
    };
    let mut out = Vec::with_capacity(outs.len());
    for (o, bytes) in case.params.out.iter().zip(outs) {
        out.push(match (o, bytes) {
            (Some(o), Some(bytes)) => {
                let shape: Vec<u64> = o.array.shape.iter().map(|&d| d as u64).collect();
                Some(WireArray {
                    dtype: o.array.dtype as u8,
                    weak: false,
                    shape: dims(&shape, "dimensions")?,
                    strides: None,
                    offset: 0,
                    data: bytes,
                })
            }
            (None, _) => None,
            (Some(_), None) => return Err("out bytes missing".into()),
        });
    }
    Ok(wire::Case {
        id,
        op,
        method: case.op.op().and_then(Op::method).map_or(0, |m| m as u8),
        mode: case.params.mode as u8,
        params,
        inputs: Bounded::from_slice(&inputs).ok_or_else(|| {
            format!(
                "{} inputs, wire carries at most {}",
                inputs.len(),
                wire::MAX_INPUTS
            )
        })?,
        where_mask,
        out: Bounded::from_slice(&out)
            .ok_or_else(|| format!("{} out arrays, wire carries at most 2", out.len()))?,
    })
}

/// Why `case` cannot run on the device described by `info`, before sending
/// it: op or dtype not served, too many dims, or a frame / arena that would
/// not fit. The device still checks everything and answers `too_large`.
pub fn refuse(info: &DeviceInfo, case: &Case, frame_bytes: usize) -> Option<String> {
    let code = case.op.op()?.code();
    if !info.ops.contains(&code) {
        return Some(format!("op {} not built into {}", case.op, info.target));
    }
    let limits = &info.limits;
    if case.inputs.len() as u64 > limits.max_inputs {
        return Some(format!(
            "too_many_inputs: {} inputs, {} takes {}",
            case.inputs.len(),
            info.target,
            limits.max_inputs
        ));
    }
    let arena: u64 = case
        .inputs
        .iter()
        .map(|i| (i.buffer_bytes() as u64).div_ceil(8) * 8)
        .sum();
    for input in &case.inputs {
        if !info.dtypes.contains(&input.dtype) {
            return Some(format!(
                "dtype {} not built into {}",
                input.dtype.name(),
                info.target
            ));
        }
        if input.shape.len() as u64 > limits.max_ndim {
            return Some(format!(
                "too_many_dims: {} dimensions, {} holds {}",
                input.shape.len(),
                info.target,
                limits.max_ndim
            ));
        }
    }
    if frame_bytes as u64 > limits.max_frame_bytes {
        return Some(format!(
            "too_large: frame of {frame_bytes} bytes, {} receives {}",
            info.target, limits.max_frame_bytes
        ));
    }
    if arena > limits.arena_bytes {
        return Some(format!(
            "too_large: inputs need {arena} bytes, {} has {}",
            info.target, limits.arena_bytes
        ));
    }
    let output = match (case.op.op(), case.inputs.as_slice()) {
        (Some(Op::Binary(op)), [a, b]) => op
            .resolve(operand(a), operand(b))
            .ok()
            .zip(broadcast_len(&a.shape, &b.shape)),
        (Some(Op::Unary(op)), [a]) => op
            .resolve(operand(a))
            .ok()
            .zip(a.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))),
        _ => None,
    };
    // With out= the output buffer holds the out arrays.
    let given: u64 = case
        .params
        .out
        .iter()
        .flatten()
        .map(|o| (o.array.size() as u64).saturating_mul(o.array.dtype.itemsize() as u64))
        .sum();
    let output = output.filter(|_| given == 0);
    if given > limits.out_bytes {
        return Some(format!(
            "too_large: out= arrays need {given} bytes, {} has {}",
            info.target, limits.out_bytes
        ));
    }
    if let Some((dtype, n)) = output {
        let bytes = (n as u64).saturating_mul(dtype.itemsize() as u64);
        if bytes > limits.out_bytes {
            return Some(format!(
                "too_large: output needs {bytes} bytes, {} has {}",
                info.target, limits.out_bytes
            ));
        }
    }
    None
}

fn operand(i: &Input) -> fnp_core::OperandType {
    match (i.scalar, i.dtype) {
        (false, d) => fnp_core::OperandType::Array(d),
        (true, DType::Bool) => fnp_core::OperandType::PyBool,
        (true, DType::Float64) => fnp_core::OperandType::PyFloat,
        (true, _) => fnp_core::OperandType::PyInt,
    }
}

/// Element count of the broadcast of two shapes, if they broadcast.
fn broadcast_len(a: &[usize], b: &[usize]) -> Option<usize> {
    let nd = a.len().max(b.len());
    let mut n = 1usize;
    for k in 0..nd {
        let da = if k < nd - a.len() {
            1
        } else {
            a[k - (nd - a.len())]
        };
        let db = if k < nd - b.len() {
            1
        } else {
            b[k - (nd - b.len())]
        };
        let d = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return None;
        };
        n = n.checked_mul(d)?;
    }
    Some(n)
}

/// The outcome a report records for a device reply.
pub fn outcome_of(reply: Reply) -> CaseOutcome {
    match reply {
        Reply::Array {
            dtype,
            second,
            shape,
            bytes,
            flags,
            ..
        } => {
            let len = bytes.len();
            CaseOutcome::array(dtype, second, shape, bytes, flags).unwrap_or_else(|| {
                CaseOutcome::Crashed {
                    detail: format!("the device sent {len} result bytes, not its outputs' size"),
                }
            })
        }
        Reply::Raised(e) => crate::exec::fail(e),
        Reply::Refused(e) => match e.reason {
            Reason::Hardened => match fnp_core::Refusal::from_code(e.detail) {
                Some(r) => crate::exec::hardened(r),
                None => CaseOutcome::Unsupported {
                    reason: format!("hardened: unknown refusal {}", e.detail),
                },
            },
            Reason::TooLarge
            | Reason::TooManyDims
            | Reason::Unsupported
            | Reason::UnknownOp
            | Reason::UnknownDType => CaseOutcome::Unsupported {
                reason: format!("{}: device refused ({})", e.reason.name(), e.detail),
            },
            _ => CaseOutcome::Error {
                exception: "FnpError".into(),
                message: format!("device refused the case: {e}"),
            },
        },
    }
}
