//! Runs a decoded case through fnp-core in this process.
//!
//! This is the one place that knows fnp-core's entry points: when the
//! unified `fnp_core::call` lands, only [`execute`] changes.

use fnp_core::{ArrayRef, BinaryOp, DType, Error, Layout, Shape};

use crate::target::{Case, CaseOutcome, Input};

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

/// Executes `case` with fnp-core.
pub fn execute(case: &Case) -> CaseOutcome {
    if let Some(op) = BinaryOp::from_name(&case.op) {
        return binary(op, case);
    }
    CaseOutcome::Unsupported {
        reason: NOT_IMPLEMENTED.into(),
    }
}

fn binary(op: BinaryOp, case: &Case) -> CaseOutcome {
    let [a, b] = case.inputs.as_slice() else {
        return CaseOutcome::Error {
            exception: "TypeError".into(),
            message: format!(
                "{} takes 2 inputs, the case has {}",
                op.name(),
                case.inputs.len()
            ),
        };
    };
    let (sa, sb) = (Aligned::new(&a.buffer), Aligned::new(&b.buffer));
    let (va, vb) = match (view(a, &sa), view(b, &sb)) {
        (Ok(va), Ok(vb)) => (va, vb),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let (dtype, shape) = match op.output(&va, &vb) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let Some(len) = shape.size().checked_mul(dtype.itemsize()) else {
        return fail(Error::ShapeOverflow);
    };
    let mut out = Aligned::zeroed(len);
    match fnp_core::binary(op, &va, &vb, out.bytes_mut()) {
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

/// The dtype names of a case's inputs, as reports group them.
pub fn input_dtype(case: &Case) -> String {
    case.inputs
        .iter()
        .find(|i| !i.scalar)
        .or(case.inputs.first())
        .map(|i| i.dtype.name().to_string())
        .unwrap_or_else(|| DType::Float64.name().to_string())
}
