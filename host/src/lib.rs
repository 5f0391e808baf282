//! Host side of fnp: the library behind the `fnp` binary.
//!
//! Each subcommand lives in its own module; `cli` only parses arguments and
//! dispatches, so integration tests can call the modules directly.

pub mod bench;
pub mod bundle;
pub mod cli;
