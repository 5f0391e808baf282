//! The `host` target: fnp-core linked into this process ([`crate::exec`]),
//! each case on a guarded worker thread.

use std::sync::mpsc;
use std::time::Duration;

use fnp_core::DType;

use super::{Limits, Options, Target};
use crate::case::{Case, CaseOutcome};

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
}
