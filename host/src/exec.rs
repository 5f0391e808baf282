//! Runs a decoded case through fnp-core in this process.
//!
//! This is the one place that knows fnp-core's entry points: every op goes
//! through the type-erased `fnp_core::call` (binary ufuncs and reductions).

use fnp_core::{ArrayRef, Axes, DType, Error, Layout, ReduceParams, Shape};

use crate::case::{AxisParam, Case, CaseOutcome, Input, Params};
use crate::value::Scalar;

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

fn fail(e: Error) -> CaseOutcome {
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
    if case.inputs.len() != op.arity() {
        return CaseOutcome::Error {
            exception: "TypeError".into(),
            message: format!(
                "{} takes {} input(s), the case has {}",
                op.name(),
                op.arity(),
                case.inputs.len()
            ),
        };
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
    let mask_storage = case.params.where_mask.as_ref().map(|m| {
        let bytes: Vec<u8> = m.data.iter().map(|&b| u8::from(b)).collect();
        (bytes, m.shape.clone())
    });
    let params = match reduce_params(&case.params, mask_storage.as_ref()) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if case.params.mode == fnp_core::Mode::Hardened {
        if let Err(r) = fnp_core::harden::check(op, &views, &params, &fnp_core::Hardening::DEFAULT)
        {
            return hardened(r);
        }
    }
    let (dtype, shape) = match fnp_core::output_of(op, &views, &params) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let Some(len) = shape.size().checked_mul(dtype.itemsize()) else {
        return fail(Error::ShapeOverflow);
    };
    let scratch_len = match fnp_core::scratch_bytes(op, &views, &params) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    let mut out = Aligned::zeroed(len);
    let mut scratch = vec![0u8; scratch_len];
    match fnp_core::call(op, &views, &params, out.bytes_mut(), &mut scratch) {
        Ok(result) => CaseOutcome::Ok {
            dtype: result.dtype,
            shape: result.shape.dims().to_vec(),
            bytes: out
                .bytes()
                .get(..result.byte_len())
                .unwrap_or_default()
                .to_vec(),
            flags: result.flags,
        },
        Err(e) => fail(e),
    }
}

/// The corpus's keyword arguments as fnp-core's.
fn reduce_params<'m>(
    p: &Params,
    mask: Option<&'m (Vec<u8>, Vec<usize>)>,
) -> Result<ReduceParams<'m>, Error> {
    let axis = match &p.axis {
        None | Some(AxisParam::All) => Axes::All,
        Some(AxisParam::One(a)) => {
            Axes::single(isize::try_from(*a).map_err(|_| Error::AxisOutOfBounds)?)
        }
        Some(AxisParam::Tuple(t)) => {
            let axes: Vec<isize> = t
                .iter()
                .map(|&a| isize::try_from(a).map_err(|_| Error::AxisOutOfBounds))
                .collect::<Result<_, _>>()?;
            Axes::list(&axes)?
        }
    };
    let initial = match p.initial {
        None => None,
        Some(Scalar::Bool(b)) => Some(fnp_core::Scalar::Bool(b)),
        Some(Scalar::Float(f)) => Some(fnp_core::Scalar::Float(f)),
        Some(Scalar::Int(i)) => Some(match i64::try_from(i) {
            Ok(v) => fnp_core::Scalar::Int(v),
            Err(_) => {
                fnp_core::Scalar::UInt(u64::try_from(i).map_err(|_| Error::PythonIntOverflow)?)
            }
        }),
    };
    let where_mask = match mask {
        None => None,
        Some((bytes, shape)) => Some(ArrayRef::contiguous(
            DType::Bool,
            bytes,
            Shape::new(shape)?,
        )?),
    };
    Ok(ReduceParams {
        axis,
        keepdims: p.keepdims,
        initial,
        where_mask,
        dtype: p.dtype,
        ddof: p.ddof.unwrap_or(0.0),
    })
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
