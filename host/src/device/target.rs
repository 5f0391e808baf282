//! The one [`Target`] over a device, whatever carries its frames.
//!
//! A [`DeviceTarget`] turns a case into a wire case ([`super::convert`]),
//! refuses what the device said in Hello it cannot hold, sends the rest
//! through the device's [`Client`] and turns the reply into an outcome.
//! What differs between devices — how one is started or reattached, how
//! long a case may take, what a crash report adds — is a [`Device`]:
//! [`super::qemu::Qemu`] (an emulator on a Unix-socket UART, restarted
//! behind a circuit breaker) and, with feature `probe`,
//! `super::probe::Probe` (a board over RTT).

use std::time::{Duration, Instant};

use fnp_core::wire::{payload_len, Message};

use super::convert::{mask_bytes, out_bytes, outcome_of, refuse, to_wire};
use super::{Client, DeviceInfo, LinkError, Reply, Transport};
use crate::case::{Case, CaseOutcome};
use crate::frames::{exchange, Frame, FrameOutcome};
use crate::target::{Limits, Target};

/// One kind of device behind a link: how to reach it and what to say
/// about it.
pub trait Device {
    /// The byte pipe its frames travel on.
    type Transport: Transport;

    /// The name reports use (`qemu:lm3s6965evb`, `probe:nrf52840`).
    fn name(&self) -> String;

    /// The connected client: the current one, or a new connection when the
    /// last case lost it. An error is why the case is `crashed`.
    fn client(&mut self) -> anyhow::Result<&mut Client<Self::Transport>>;

    /// Longest a case may take when `wire_bytes` cross the link both ways.
    fn timeout(&self, wire_bytes: usize) -> Duration;

    /// What to report about a case that failed with `error` (the device's
    /// exit status and log, where it has them), asked before
    /// [`Device::disconnect`].
    fn crash_detail(&mut self, error: &LinkError) -> String {
        error.to_string()
    }

    /// Forgets the connection after a failed case: the next case gets a
    /// fresh device.
    fn disconnect(&mut self);

    /// Facts for the report's environment block, given what the device
    /// said in Hello.
    fn fingerprint(&self, info: &DeviceInfo) -> Vec<(String, String)>;

    /// See [`Target::stop_notice`].
    fn stop_notice(&self) -> Option<String> {
        None
    }
}

/// A [`Target`] that runs cases on a [`Device`].
pub struct DeviceTarget<D> {
    device: D,
    info: DeviceInfo,
    next_id: u32,
    last_instructions: Option<u64>,
    crashed: usize,
    timed_out: usize,
}

impl<D: Device> DeviceTarget<D> {
    /// A target over `device`, which said `info` in its first Hello.
    pub fn new(device: D, info: DeviceInfo) -> Self {
        DeviceTarget {
            device,
            info,
            next_id: 0,
            last_instructions: None,
            crashed: 0,
            timed_out: 0,
        }
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device, to change its settings.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }

    /// What the firmware said in Hello.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Instructions the last case took, where the board counts them.
    pub fn last_instructions(&self) -> Option<u64> {
        self.last_instructions
    }

    /// Cases (and frames) that ended in a crash, and cases that timed out.
    pub fn failures(&self) -> (usize, usize) {
        (self.crashed, self.timed_out)
    }
}

impl<D: Device> Target for DeviceTarget<D> {
    fn name(&self) -> String {
        self.device.name()
    }

    fn limits(&self) -> Limits {
        let l = &self.info.limits;
        Limits {
            max_elements: usize::try_from(l.arena_bytes).ok(),
            max_input_bytes: usize::try_from(l.arena_bytes).ok(),
            max_ndim: usize::try_from(l.max_ndim).unwrap_or(0),
            dtypes: self.info.dtypes.clone(),
            // Hello lists each code once; the methods of every binary op
            // listed come with the protocol.
            ops: Some(
                fnp_core::Op::all()
                    .filter(|op| self.info.ops.contains(&op.code()))
                    .collect(),
            ),
        }
    }

    fn run_case(&mut self, case: &Case) -> CaseOutcome {
        let case = match case.materialized() {
            Ok(c) => c,
            Err(detail) => return CaseOutcome::Crashed { detail },
        };
        let case = case.as_ref();
        self.last_instructions = None;
        if let Some(e) = crate::exec::arity_error(case) {
            return e;
        }
        let mask = mask_bytes(case);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let outs = out_bytes(case);
        let wire_case = match to_wire(id, case, mask.as_deref(), &outs) {
            Ok(c) => c,
            Err(reason) => return CaseOutcome::Unsupported { reason },
        };
        let frame = match payload_len(&Message::Case(wire_case.clone())) {
            Ok(n) => n,
            Err(e) => {
                return CaseOutcome::Unsupported {
                    reason: e.to_string(),
                }
            }
        };
        if let Some(reason) = refuse(&self.info, case, frame) {
            return CaseOutcome::Unsupported { reason };
        }
        // The reply is guessed as large as the request, within the
        // device's output buffer.
        let out_guess =
            frame.min(usize::try_from(self.info.limits.out_bytes).unwrap_or(usize::MAX));
        let timeout = self.device.timeout(frame.saturating_add(out_guess));
        let client = match self.device.client() {
            Ok(c) => c,
            Err(e) => {
                self.crashed += 1;
                return CaseOutcome::Crashed {
                    detail: format!("{e:#}"),
                };
            }
        };
        match client.run(&wire_case, Instant::now() + timeout) {
            Ok(reply) => {
                if let Reply::Array { instructions, .. } = &reply {
                    self.last_instructions = *instructions;
                }
                outcome_of(reply)
            }
            Err(LinkError::TimedOut) => {
                self.timed_out += 1;
                self.device.disconnect();
                CaseOutcome::TimedOut
            }
            Err(e) => {
                self.crashed += 1;
                let detail = self.device.crash_detail(&e);
                self.device.disconnect();
                CaseOutcome::Crashed { detail }
            }
        }
    }

    fn run_frames(&mut self, frames: &[Frame]) -> Vec<FrameOutcome> {
        frames
            .iter()
            .map(|f| {
                let timeout = self.device.timeout(f.wire.len());
                // A device that reset answers with Hello: `exchange` makes
                // that a crash.
                let outcome = match self.device.client() {
                    Ok(client) => crate::frames::outcome_of(exchange(
                        client,
                        &f.wire,
                        Instant::now() + timeout,
                    )),
                    Err(e) => FrameOutcome::Crashed {
                        detail: format!("{e:#}"),
                    },
                };
                if matches!(
                    outcome,
                    FrameOutcome::Crashed { .. } | FrameOutcome::TimedOut
                ) {
                    self.crashed += 1;
                    // The next frame gets a fresh device.
                    self.device.disconnect();
                }
                outcome
            })
            .collect()
    }

    fn fingerprint(&self) -> Vec<(String, String)> {
        self.device.fingerprint(&self.info)
    }

    fn stop_notice(&self) -> Option<String> {
        self.device.stop_notice()
    }
}
