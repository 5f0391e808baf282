//! Targets: where a conformance case is executed.
//!
//! A [`Target`] takes one decoded [`Case`] and returns a [`CaseOutcome`].
//! `host` links fnp-core into this process; device targets (`qemu:<board>`,
//! `probe:<chip>`) implement the same trait by sending the case over the
//! wire protocol. Every name a user can pass to `fnp run --target` goes
//! through [`resolve`], so a new target is one match arm there.

use std::sync::mpsc;
use std::time::Duration;

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
    /// How the target runs the case (not a NumPy keyword: `fnp run
    /// --mode` sets it for every case).
    pub mode: fnp_core::Mode,
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
    /// `generate` inputs may not be built yet: build them with
    /// [`Case::materialized`] for the time of the case.
    fn run_case(&mut self, case: &Case) -> CaseOutcome;
    /// Extra facts for the report's environment block (board, firmware
    /// size, emulator version…), as sorted key/value pairs.
    fn fingerprint(&self) -> Vec<(String, String)> {
        Vec::new()
    }
    /// Sends each raw frame to the target's wire server and says what came
    /// back. The default runs fnp-core's server of this build in memory, as
    /// firmware runs it; device targets send the bytes to the device.
    fn run_frames(&mut self, frames: &[crate::frames::Frame]) -> Vec<crate::frames::FrameOutcome> {
        crate::frames::in_memory(frames)
    }

    /// Why the target gave up for good (a QEMU target's circuit breaker
    /// after repeated failed restarts), returned once, on the first call
    /// after it did: for a message on the terminal. Every later case is
    /// `crashed` with this reason.
    fn stop_notice(&self) -> Option<String> {
        None
    }
}

/// fnp-core linked into this process.
///
/// Each case runs on a worker thread so that a panic is `crashed` and a
/// case that does not finish within `timeout` is `timed_out` (its thread is
/// abandoned; the run goes on with the next case).
#[derive(Debug)]
pub struct HostTarget {
    /// Longest a case may take.
    pub timeout: Duration,
}

impl Default for HostTarget {
    fn default() -> Self {
        HostTarget {
            timeout: Options::default().timeout,
        }
    }
}

/// Runs `f` on its own thread: its value, `Crashed` if it panicked,
/// `TimedOut` if it did not finish within `timeout`.
pub fn run_guarded<F>(f: F, timeout: Duration) -> CaseOutcome
where
    F: FnOnce() -> CaseOutcome + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("fnp-case".into())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(outcome);
        });
    if let Err(e) = spawned {
        return CaseOutcome::Crashed {
            detail: format!("cannot start a worker thread: {e}"),
        };
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(payload)) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            CaseOutcome::Crashed {
                detail: format!("panic: {detail}"),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => CaseOutcome::TimedOut,
        Err(mpsc::RecvTimeoutError::Disconnected) => CaseOutcome::Crashed {
            detail: "worker thread ended without an answer".into(),
        },
    }
}

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
        let case = case.clone();
        run_guarded(move || crate::exec::execute(&case), self.timeout)
    }

    fn fingerprint(&self) -> Vec<(String, String)> {
        vec![("host_triple".into(), crate::env::host_triple())]
    }
}

/// Settings `fnp run` passes to every target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Longest one case may take before it is `timed_out`.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(30),
        }
    }
}

/// Every target name `fnp run --target` accepts, for help and errors.
pub const TARGET_NAMES: &[&str] = &["host"];

/// Resolves a `--target` name to a target instance with default options.
pub fn resolve(name: &str) -> anyhow::Result<Box<dyn Target>> {
    resolve_with(name, &Options::default())
}

/// Resolves a `--target` name to a target instance.
pub fn resolve_with(name: &str, options: &Options) -> anyhow::Result<Box<dyn Target>> {
    match name {
        "host" => Ok(Box::new(HostTarget {
            timeout: options.timeout,
        })),
        other => match crate::device::resolve(other, options) {
            Some(target) => target,
            None => anyhow::bail!(
                "unknown target {name:?}; known targets: {}, {}, probe:<chip> (with --features probe)",
                TARGET_NAMES.join(", "),
                crate::device::device_target_names().join(", ")
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_runs_report_panics_and_timeouts() {
        let ok = run_guarded(|| CaseOutcome::TimedOut, Duration::from_secs(5));
        assert_eq!(
            ok,
            CaseOutcome::TimedOut,
            "the closure's own value passes through"
        );
        let crashed = run_guarded(|| panic!("boom"), Duration::from_secs(5));
        assert!(matches!(crashed, CaseOutcome::Crashed { ref detail } if detail.contains("boom")));
        let slow = run_guarded(
            || {
                std::thread::sleep(Duration::from_secs(2));
                CaseOutcome::Unsupported {
                    reason: String::new(),
                }
            },
            Duration::from_millis(50),
        );
        assert_eq!(slow, CaseOutcome::TimedOut);
    }

    #[test]
    fn limits_refuse_with_reasons() {
        let case = Case {
            id: "x".into(),
            op: "add".into(),
            inputs: vec![Input {
                dtype: DType::Float64,
                shape: vec![4],
                scalar: false,
                strides: vec![1],
                offset: 0,
                buffer: vec![0; 32],
                generated: None,
            }],
            params: Params::default(),
        };
        let mut limits = HostTarget::default().limits();
        assert_eq!(limits.refuse(&case), None);
        limits.max_elements = Some(3);
        assert!(limits.refuse(&case).unwrap().starts_with("too_large"));
        limits.max_elements = None;
        limits.max_input_bytes = Some(16);
        assert!(limits.refuse(&case).unwrap().starts_with("too_large"));
        limits.max_input_bytes = None;
        limits.dtypes = vec![DType::Float32];
        assert!(limits.refuse(&case).unwrap().contains("float64"));
        limits.dtypes = DType::ALL.to_vec();
        limits.ops = Some(vec!["sum".into()]);
        assert!(limits.refuse(&case).unwrap().contains("op add"));
        limits.ops = None;
        limits.max_ndim = 0;
        assert!(limits.refuse(&case).unwrap().contains("dimensions"));
    }
}
