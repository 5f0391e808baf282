//! The names `fnp run --target` takes and the target each one builds.

use std::time::Duration;

use super::{HostTarget, Target};

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
