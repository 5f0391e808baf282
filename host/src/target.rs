//! Targets: where a conformance case is executed.
//!
//! A [`Target`] takes one decoded [`Case`] and returns a [`CaseOutcome`].
//! `host` links fnp-core into this process; device targets (`qemu:<board>`,
//! `probe:<chip>`) implement the same trait by sending the case over the
//! wire protocol. Every name a user can pass to `fnp run --target` goes
//! through [`resolve`], so a new target is one match arm there.

use fnp_core::{DType, FpFlags};

use crate::value::Scalar;

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
    /// The memory buffer, little-endian.
    pub buffer: Vec<u8>,
}

impl Input {
    /// Number of logical elements.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of elements in the memory buffer.
    pub fn buffer_len(&self) -> usize {
        self.buffer.len() / self.dtype.itemsize()
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
}

/// One decoded corpus case, ready to execute.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// Stable, unique id.
    pub id: String,
    /// NumPy's name of the op (`add`, `sum`, …).
    pub op: String,
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
        self.inputs.iter().map(|i| i.buffer.len()).sum()
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

/// What a target can run; cases outside these are `unsupported` there.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Most elements over all inputs of one case (`None`: no limit).
    pub max_elements: Option<usize>,
    /// Most bytes over all inputs of one case (`None`: no limit).
    pub max_input_bytes: Option<usize>,
    /// Most dimensions of any operand.
    pub max_ndim: usize,
    /// Dtypes the target has.
    pub dtypes: Vec<DType>,
    /// Op names the target has; `None` means "ask the target per case".
    pub ops: Option<Vec<String>>,
}

impl Limits {
    /// Why `case` is outside these limits, or `None` if it fits.
    pub fn refuse(&self, case: &Case) -> Option<String> {
        if let Some(ops) = &self.ops {
            if !ops.contains(&case.op) {
                return Some(format!("op {} not available on this target", case.op));
            }
        }
        for input in &case.inputs {
            if !self.dtypes.contains(&input.dtype) {
                return Some(format!(
                    "dtype {} not available on this target",
                    input.dtype
                ));
            }
            if input.shape.len() > self.max_ndim {
                return Some(format!(
                    "too_large: {} dimensions, target has {}",
                    input.shape.len(),
                    self.max_ndim
                ));
            }
        }
        if let Some(max) = self.max_elements {
            let n = case.total_elements();
            if n > max {
                return Some(format!("too_large: {n} input elements, target holds {max}"));
            }
        }
        if let Some(max) = self.max_input_bytes {
            let n = case.input_bytes();
            if n > max {
                return Some(format!("too_large: {n} input bytes, target holds {max}"));
            }
        }
        None
    }
}

/// Something that runs conformance cases.
pub trait Target {
    /// The name reports use (`host`, `qemu:lm3s6965evb`, …).
    fn name(&self) -> String;
    /// What the target can run. The runner marks cases outside these limits
    /// `unsupported` without calling [`Target::run_case`].
    fn limits(&self) -> Limits;
    /// Runs one case. Must not panic; a dead target is `Crashed` or
    /// `TimedOut`, and the target restarts itself for the next case.
    fn run_case(&mut self, case: &Case) -> CaseOutcome;
    /// Extra facts for the report's environment block (board, firmware
    /// size, emulator version…), as sorted key/value pairs.
    fn fingerprint(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// fnp-core linked into this process.
#[derive(Debug, Default)]
pub struct HostTarget;

impl Target for HostTarget {
    fn name(&self) -> String {
        "host".into()
    }

    fn limits(&self) -> Limits {
        Limits {
            max_elements: None,
            max_input_bytes: None,
            max_ndim: fnp_core::MAX_NDIM,
            dtypes: DType::ALL.to_vec(),
            ops: None,
        }
    }

    fn run_case(&mut self, case: &Case) -> CaseOutcome {
        // A panic in fnp-core is a bug the report must show as `crashed`,
        // not a reason to lose the rest of the run.
        match std::panic::catch_unwind(|| crate::exec::execute(case)) {
            Ok(outcome) => outcome,
            Err(payload) => {
                let detail = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                CaseOutcome::Crashed {
                    detail: format!("panic: {detail}"),
                }
            }
        }
    }

    fn fingerprint(&self) -> Vec<(String, String)> {
        vec![("host_triple".into(), crate::env::host_triple())]
    }
}

/// Every target name `fnp run --target` accepts, for help and errors.
pub const TARGET_NAMES: &[&str] = &["host"];

/// Resolves a `--target` name to a target instance.
pub fn resolve(name: &str) -> anyhow::Result<Box<dyn Target>> {
    match name {
        "host" => Ok(Box::new(HostTarget)),
        _ => anyhow::bail!(
            "unknown target {name:?}; known targets: {}",
            TARGET_NAMES.join(", ")
        ),
    }
}
