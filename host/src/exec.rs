//! Runs a decoded case through fnp-core in this process.
//!
//! The same path a device's wire server takes: the keywords go through
//! their wire form ([`crate::device::convert::params`]) into
//! [`fnp_core::wire::reduce_params`], and every op through
//! [`fnp_core::plan`] and [`fnp_core::Plan::execute`] (the hardened check
//! included). Only the buffers differ: here they are sized by the plan.

use fnp_core::{ArrayRef, DType, Error, Halt, Layout, Shape};

use crate::case::{Case, CaseOutcome, Input};
use crate::device::convert;

/// Why a case is `unsupported` when fnp-core has no such op.
pub const NOT_IMPLEMENTED: &str = "op not implemented in fnp-core";

/// Bytes copied into 8-byte-aligned storage, as the wire server does with
/// frame payloads, so `ArrayRef` never sees a misaligned buffer.
struct Aligned {
    words: Vec<u64>,
    len: usize,
}

impl Aligned {
    fn new(bytes: &[u8]) -> Aligned {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        let dst: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        if let Some(d) = dst.get_mut(..bytes.len()) {
            d.copy_from_slice(bytes);
        }
        Aligned {
            words,
            len: bytes.len(),
        }
    }

    fn zeroed(len: usize) -> Aligned {
        Aligned {
            words: vec![0u64; len.div_ceil(8)],
            len,
        }
    }

    fn bytes(&self) -> &[u8] {
        let all: &[u8] = bytemuck::cast_slice(&self.words);
        all.get(..self.len).unwrap_or(all)
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let all: &mut [u8] = bytemuck::cast_slice_mut(&mut self.words);
        let len = self.len.min(all.len());
        &mut all[..len]
    }
}

/// The outcome of an fnp-core error: NumPy's exception, or `unsupported`
/// for what fnp-core does not implement ([`Error::Unsupported`], and
/// [`Error::Float16`]: a loop NumPy runs in float16, such as `sqrt.at` of
/// int8, whose answer is int8).
pub(crate) fn fail(e: Error) -> CaseOutcome {
    if matches!(e, Error::Unsupported | Error::Float16) {
        return CaseOutcome::Unsupported {
            reason: e.to_string(),
        };
    }
    CaseOutcome::Error {
        exception: e.numpy_exception().to_string(),
        message: e.to_string(),
    }
}

fn view<'a>(input: &Input, storage: &'a Aligned) -> Result<ArrayRef<'a>, Error> {
    if input.scalar {
        return ArrayRef::python_scalar(input.dtype, storage.bytes());
    }
    let shape = Shape::new(&input.shape)?;
    let layout = Layout::strided(shape, &input.strides, input.offset)?;
    ArrayRef::new(input.dtype, storage.bytes(), layout)
}

/// A hardened-mode refusal, as every target reports it.
pub fn hardened(r: fnp_core::Refusal) -> CaseOutcome {
    CaseOutcome::Unsupported {
        reason: format!("hardened: {} (a limit of hardened mode)", r.name()),
    }
}

/// NumPy's TypeError for a call with the wrong number of operands: raised
/// by Python's call itself, before any op runs, so every target answers it
/// here and a device never sees the case.
pub fn arity_error(case: &Case) -> Option<CaseOutcome> {
    let op = case.op.op()?;
    (case.inputs.len() != op.arity()).then(|| CaseOutcome::Error {
        exception: "TypeError".into(),
        message: format!(
            "{} takes {} input(s), the case has {}",
            op.name(),
            op.arity(),
            case.inputs.len()
        ),
    })
}

/// Executes `case` with fnp-core (building its `generate` inputs for the
/// time of the call).
pub fn execute(case: &Case) -> CaseOutcome {
    let case = match case.materialized() {
        Ok(c) => c,
        Err(detail) => return CaseOutcome::Crashed { detail },
    };
    let case = case.as_ref();
    let Some(op) = case.op.op() else {
        return CaseOutcome::Unsupported {
            reason: NOT_IMPLEMENTED.into(),
        };
    };
    if let Some(e) = arity_error(case) {
        return e;
    }
    let storage: Vec<Aligned> = case
        .inputs
        .iter()
        .map(|i| Aligned::new(&i.buffer))
        .collect();
    let mut views = Vec::with_capacity(storage.len());
    for (input, st) in case.inputs.iter().zip(&storage) {
        match view(input, st) {
            Ok(v) => views.push(v),
            Err(e) => return fail(e),
        }
    }
    let wire_params = match convert::params(&case.params, case.op.op()) {
        Ok(p) => p,
        Err(e) => return fail(e.error),
    };
    let mask_bytes = convert::mask_bytes(case);
    let mask = match (&case.params.where_mask, &mask_bytes) {
        (Some(m), Some(bytes)) => {
            match Shape::new(&m.shape).and_then(|s| ArrayRef::contiguous(DType::Bool, bytes, s)) {
                Ok(v) => Some(v),
                Err(e) => return fail(e),
            }
        }
        _ => None,
    };
    let mut params = match fnp_core::wire::reduce_params(&wire_params) {
        Ok(p) => p,
        Err(e) => return convert::outcome_of(crate::device::Reply::Refused(e)),
    };
    params.where_mask = mask;
    // out=: each out array's dtype and shape; its contents go into the
    // output buffer below.
    let outs: Vec<Option<(DType, Vec<u8>)>> = case
        .params
        .out
        .iter()
        .map(|o| {
            o.as_ref()
                .map(|o| (o.array.dtype, crate::corpus::logical_bytes(&o.array)))
        })
        .collect();
    for (k, o) in case.params.out.iter().enumerate() {
        let Some(o) = o.as_ref().map(|o| &o.array) else {
            continue;
        };
        let shape = match Shape::new(&o.shape) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        match params.out.get_mut(k) {
            Some(slot) => {
                *slot = Some(fnp_core::OutArray {
                    dtype: o.dtype,
                    shape,
                })
            }
            // More out arrays than the op has outputs: NumPy's ValueError.
            None => return fail(Error::InvalidArgument),
        }
    }
    let plan = match fnp_core::plan(op, &views, &params, case.params.mode) {
        Ok(p) => p,
        Err(h) => return halted(h),
    };
    let mut out = Aligned::zeroed(plan.out_bytes);
    let starts = [0, plan.shape.size() * plan.dtype.itemsize()];
    for (o, at) in outs.iter().zip(starts) {
        let Some((_, bytes)) = o else { continue };
        if let Some(dst) = out.bytes_mut().get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    let mut scratch = vec![0u64; plan.scratch_len];
    match plan.execute(out.bytes_mut(), &mut scratch) {
        Ok(result) => {
            let bytes = out.bytes().get(..result.byte_len()).unwrap_or_default();
            CaseOutcome::array(
                result.dtype,
                result.second,
                result.shape.dims().to_vec(),
                bytes.to_vec(),
                result.flags,
            )
            .unwrap_or_else(|| CaseOutcome::Crashed {
                detail: format!("{op} wrote {} bytes, not its outputs' size", bytes.len()),
            })
        }
        Err(h) => halted(h),
    }
}

/// The outcome of a case that produced no array. The buffers here are
/// sized by the plan, so `TooLarge` is only a byte count beyond `usize`:
/// NumPy's "array is too big" ValueError.
fn halted(h: Halt) -> CaseOutcome {
    match h {
        Halt::Refused(r) => hardened(r),
        Halt::Raised(e) => fail(e),
        Halt::TooLarge { .. } => fail(Error::ShapeOverflow),
    }
}

/// The dtype names of a case's inputs, as reports group them.
pub fn input_dtype(case: &Case) -> String {
    case.inputs
        .iter()
        .find(|i| !i.scalar)
        .or(case.inputs.first())
        .map(|i| i.dtype.name().to_string())
        .unwrap_or_else(|| DType::Float64.name().to_string())
}
