//! The logging shim: fnp-core logs through `defmt` (feature `defmt`),
//! `log` (feature `log`) or not at all, and call sites stay free of `cfg`.
//! With both features on, `defmt` wins (a firmware that turned it on wants
//! its logs on the probe). With neither, the arguments are still borrowed
//! so that a variable used only in a log line is not "unused".
//!
//! Format strings must be valid for both crates: plain `{}` placeholders.

#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($arg:tt)*) => { defmt::debug!($($arg)*) };
}

#[cfg(all(feature = "log", not(feature = "defmt")))]
macro_rules! debug {
    ($($arg:tt)*) => { log::debug!($($arg)*) };
}

#[cfg(not(any(feature = "log", feature = "defmt")))]
macro_rules! debug {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        $(let _ = &$arg;)*
    }};
}

pub(crate) use debug;
