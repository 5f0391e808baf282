//! The data model of a conformance case: what a corpus case decodes to
//! ([`Case`]: its op, operands and keywords) and what a target makes of it
//! ([`CaseOutcome`]). Read by the corpus reader, every target, the
//! comparator and the reports.

use fnp_core::{DType, FpFlags};

use crate::value::Scalar;

/// A case's op: NumPy's name as the corpus spells it, and fnp-core's op
/// when fnp-core has one, parsed once when the case is read. A name fnp
/// does not know is kept (the case is then `unsupported`), since corpora
/// from elsewhere name every NumPy function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseOp {
    name: String,
    op: Option<fnp_core::Op>,
}

impl CaseOp {
    /// The op called `name` (aliases such as `abs` included).
    pub fn new(name: &str) -> CaseOp {
        CaseOp {
            name: name.to_string(),
            op: fnp_core::Op::from_name(name),
        }
    }

    /// The name as the corpus spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// fnp-core's op, if it has one.
    pub fn op(&self) -> Option<fnp_core::Op> {
        self.op
    }
}

impl From<&str> for CaseOp {
    fn from(name: &str) -> CaseOp {
        CaseOp::new(name)
    }
}

impl std::fmt::Display for CaseOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// One input operand, exactly as it lies in memory.
///
/// `buffer` holds `buffer_len()` little-endian elements; element
/// `offset + Σ index[k]·strides[k]` is the logical element at `index`
/// (strides in elements, possibly negative or zero). Slots no logical
/// element reaches hold the fill byte [`crate::corpus::FILL_BYTE`].
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// Element dtype.
    pub dtype: DType,
    /// Logical shape (`[]` for 0-d arrays and Python scalars).
    pub shape: Vec<usize>,
    /// A Python scalar operand (NEP 50 weak): shape `[]`, dtype bool, int64,
    /// uint64 or float64.
    pub scalar: bool,
    /// Element strides, one per dimension.
    pub strides: Vec<isize>,
    /// Element index of the first logical element.
    pub offset: usize,
    /// The memory buffer, little-endian. Empty while [`Input::generated`]
    /// is set: see [`Case::materialized`].
    pub buffer: Vec<u8>,
    /// A corpus `generate` input whose buffer is not built yet: corpora
    /// keep only the descriptor, and a target builds the buffer when the
    /// case runs ([`Case::materialized`]), so memory follows the largest
    /// case, not the whole corpus.
    pub generated: Option<Generated>,
}

/// A `generate` input that is built on demand.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// The input object as the corpus has it (`dtype`, `shape`,
    /// `generate`, `layout`…): a few hundred bytes.
    pub raw: serde_json::Value,
    /// Elements of the buffer it builds.
    pub buffer_elements: usize,
}

impl Input {
    /// Number of logical elements.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of elements in the memory buffer.
    pub fn buffer_len(&self) -> usize {
        match &self.generated {
            Some(g) => g.buffer_elements,
            None => self.buffer.len() / self.dtype.itemsize(),
        }
    }

    /// Bytes of the memory buffer (built or not).
    pub fn buffer_bytes(&self) -> usize {
        self.buffer_len().saturating_mul(self.dtype.itemsize())
    }

    /// Whether the layout is plain C order over the whole buffer.
    pub fn is_c_contiguous(&self) -> bool {
        self.offset == 0
            && self.buffer_len() == self.size()
            && self.strides == crate::corpus::c_strides(&self.shape)
    }
}

/// A boolean `where=` mask (broadcast against the reduced array).
#[derive(Clone, Debug, PartialEq)]
pub struct Mask {
    /// Shape of the mask.
    pub shape: Vec<usize>,
    /// C-order values.
    pub data: Vec<bool>,
}

/// One `out=` array of a ufunc call.
#[derive(Clone, Debug, PartialEq)]
pub struct Out {
    /// The out array with its contents before the call. In place
    /// (`{"input": k}`) a copy of input k: an elementwise call reads each
    /// element before it writes it, so a copy gives the answer the shared
    /// array does, and fnp-core's inputs stay immutable.
    pub array: Input,
    /// `Some(k)` when the out array is input k itself (NumPy is called
    /// with the one array in both places).
    pub operand: Option<usize>,
}

/// `signature=` as a corpus spells it: checked when the case runs, where
/// a malformed one is NumPy's error for it.
#[derive(Clone, Debug, PartialEq)]
pub enum SignatureParam {
    /// NumPy's typecode string (`"dd->d"`).
    Text(String),
    /// A dtype name or `None` per operand, inputs then outputs.
    Types(Vec<Option<String>>),
}

impl SignatureParam {
    /// fnp-core's signature: NumPy's ValueError/TypeError for a malformed
    /// one, [`fnp_core::Error::Unsupported`] for a dtype fnp lacks
    /// (`float16`, `complex128`, ...).
    pub fn resolve(&self) -> Result<fnp_core::Signature, fnp_core::Error> {
        match self {
            SignatureParam::Text(text) => fnp_core::Signature::parse(text),
            SignatureParam::Types(names) => {
                if names.len() == 1 {
                    // NumPy: "Use `dtype` or fill the tuple with more than
                    // one 'None'" (a TypeError), for any ufunc with more
                    // than one operand.
                    return Err(fnp_core::Error::InvalidType);
                }
                let types = names
                    .iter()
                    .map(|n| match n {
                        None => Ok(None),
                        Some(name) => DType::from_name(name)
                            .map(Some)
                            .ok_or(fnp_core::Error::Unsupported),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                fnp_core::Signature::new(&types)
            }
        }
    }

    /// The corpus spelling.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SignatureParam::Text(t) => serde_json::json!(t),
            SignatureParam::Types(names) => serde_json::json!(names),
        }
    }
}

/// The `axis=` argument of a reduction.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisParam {
    /// `axis=None`: every axis (or the flattened array for cumulative ops).
    All,
    /// One axis, possibly negative.
    One(i64),
    /// A tuple of axes.
    Tuple(Vec<i64>),
}

/// Keyword arguments of an op; absent ones take NumPy's defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    /// `axis=`; `None` when not given.
    pub axis: Option<AxisParam>,
    /// `keepdims=`.
    pub keepdims: bool,
    /// `initial=`.
    pub initial: Option<Scalar>,
    /// `where=`.
    pub where_mask: Option<Mask>,
    /// `dtype=`.
    pub dtype: Option<DType>,
    /// `ddof=` (var, std).
    pub ddof: Option<f64>,
    /// `out=` of a ufunc call, one entry per output given, or `None`
    /// where NumPy allocates the output.
    pub out: Vec<Option<Out>>,
    /// `casting=` of a ufunc call.
    pub casting: Option<fnp_core::Casting>,
    /// `signature=` of a ufunc call, as the corpus spells it.
    pub signature: Option<SignatureParam>,
    /// How the target runs the case (not a NumPy keyword: `fnp run
    /// --mode` sets it for every case).
    pub mode: fnp_core::Mode,
}

/// One decoded corpus case, ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Stable, unique id.
    pub id: String,
    /// NumPy's name of the op (`add`, `sum`, …) and fnp-core's op.
    pub op: CaseOp,
    /// Operands in call order.
    pub inputs: Vec<Input>,
    /// Keyword arguments.
    pub params: Params,
}

impl Case {
    /// Elements over all inputs (what a device must hold at once).
    pub fn total_elements(&self) -> usize {
        self.inputs.iter().map(Input::buffer_len).sum()
    }

    /// Bytes of all input buffers.
    pub fn input_bytes(&self) -> usize {
        self.inputs.iter().map(Input::buffer_bytes).sum()
    }

    /// Whether every input buffer is built.
    pub fn is_materialized(&self) -> bool {
        self.inputs.iter().all(|i| i.generated.is_none())
    }

    /// This case with every input buffer built: itself when nothing is
    /// pending, else a copy whose `generate` inputs are expanded. Drop it
    /// after the run so the buffers go with it.
    pub fn materialized(&self) -> Result<std::borrow::Cow<'_, Case>, String> {
        if self.is_materialized() {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut case = Case {
            id: self.id.clone(),
            op: self.op.clone(),
            inputs: Vec::with_capacity(self.inputs.len()),
            params: self.params.clone(),
        };
        for (k, input) in self.inputs.iter().enumerate() {
            match &input.generated {
                None => case.inputs.push(input.clone()),
                Some(g) => {
                    let built = crate::corpus::decode_input(&g.raw).map_err(|(f, m)| {
                        format!("case {}: field inputs[{k}].{f}: {m}", self.id)
                    })?;
                    if built.buffer_len() != g.buffer_elements {
                        return Err(format!(
                            "case {}: input {k} built {} elements, the corpus said {}",
                            self.id,
                            built.buffer_len(),
                            g.buffer_elements
                        ));
                    }
                    case.inputs.push(built);
                }
            }
        }
        Ok(std::borrow::Cow::Owned(case))
    }
}

impl CaseOutcome {
    /// The outcome of a call that wrote `bytes`: the first output's
    /// bytes, then for a two-output ufunc the second's (dtype `second`),
    /// of the same shape. `None` when `bytes` is not that long.
    pub fn array(
        dtype: DType,
        second: Option<DType>,
        shape: Vec<usize>,
        mut bytes: Vec<u8>,
        flags: FpFlags,
    ) -> Option<CaseOutcome> {
        let n: usize = shape.iter().product();
        let first = n.checked_mul(dtype.itemsize())?;
        let mut more = Vec::new();
        if let Some(second) = second {
            let rest = bytes.split_off(first.min(bytes.len()));
            if rest.len() != n.checked_mul(second.itemsize())? {
                return None;
            }
            more.push((second, rest));
        }
        (bytes.len() == first).then_some(CaseOutcome::Ok {
            dtype,
            shape,
            bytes,
            flags,
            more,
        })
    }
}

/// What a target did with a case.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseOutcome {
    /// A result: C-contiguous little-endian bytes of `dtype` and `shape`.
    Ok {
        /// Result dtype.
        dtype: DType,
        /// Result shape.
        shape: Vec<usize>,
        /// Result bytes, C order.
        bytes: Vec<u8>,
        /// IEEE flags raised.
        flags: FpFlags,
        /// The outputs after the first, of the same shape: a two-output
        /// ufunc's second (divmod's remainder, modf's integral part,
        /// frexp's exponent). Empty for every other op.
        more: Vec<(DType, Vec<u8>)>,
    },
    /// The op refused the input; `exception` is the NumPy exception class
    /// it corresponds to.
    Error {
        /// NumPy exception class name (`"FnpError"` for fnp-only errors).
        exception: String,
        /// Human-readable reason.
        message: String,
    },
    /// The target died (panic, hard fault, emulator exit).
    Crashed {
        /// What was seen.
        detail: String,
    },
    /// The target did not answer in time.
    TimedOut,
    /// The target cannot run this case (op, dtype or size it lacks).
    Unsupported {
        /// Why.
        reason: String,
    },
}
