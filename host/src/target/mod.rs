//! Targets: where a conformance case is executed.
//!
//! A [`Target`] takes one decoded [`Case`] and returns a [`CaseOutcome`]
//! (both in [`crate::case`]); [`Limits`] say which cases it can take.
//! `host` ([`HostTarget`]) links fnp-core into this process; the device
//! targets (`qemu:<board>`, `probe:<chip>`) are one
//! [`crate::device::target::DeviceTarget`] over each kind of link. Every
//! name a user can pass to `fnp run --target` goes through [`resolve`]
//! (the registry), so a new target is one match arm there.

mod host;
mod registry;

use fnp_core::DType;

use crate::case::{Case, CaseOutcome};

pub use host::{run_guarded, HostTarget};
pub use registry::{resolve, resolve_with, Options, TARGET_NAMES};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Input, Params};

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
