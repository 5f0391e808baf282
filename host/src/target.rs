//! Targets: where a conformance case is executed.
//!
//! A [`Target`] takes one decoded [`Case`] and returns a [`CaseOutcome`]
//! (both in [`crate::case`]).
//! `host` links fnp-core into this process; device targets (`qemu:<board>`,
//! `probe:<chip>`) implement the same trait by sending the case over the
//! wire protocol. Every name a user can pass to `fnp run --target` goes
//! through [`resolve`], so a new target is one match arm there.

use std::sync::mpsc;
use std::time::Duration;

use fnp_core::DType;

use crate::case::{Case, CaseOutcome};

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
    /// Ops the target has; `None` means "ask the target per case".
    pub ops: Option<Vec<fnp_core::Op>>,
}

impl Limits {
    /// Why `case` is outside these limits, or `None` if it fits.
    pub fn refuse(&self, case: &Case) -> Option<String> {
        if let Some(ops) = &self.ops {
            if !case.op.op().is_some_and(|op| ops.contains(&op)) {
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
    use crate::case::{Input, Params};

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
        limits.ops = fnp_core::Op::from_name("sum").map(|op| vec![op]);
        assert!(limits.refuse(&case).unwrap().contains("op add"));
        limits.ops = None;
        limits.max_ndim = 0;
        assert!(limits.refuse(&case).unwrap().contains("dimensions"));
    }
}
