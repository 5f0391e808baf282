//! Host side of fnp: the library behind the `fnp` binary.
//!
//! Each subcommand lives in its own module; `cli` only parses arguments and
//! dispatches, so integration tests can call the modules directly.
//!
//! - [`corpus`], [`value`], [`schema`]: the `fnp.cases.v1` corpus, exact
//!   value encoding, JSON Schema checks.
//! - [`target`]: the [`target::Target`] trait and the `host` target;
//!   [`exec`] runs a case through fnp-core.

pub mod bench;
pub mod bundle;
pub mod capture;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod device;
pub mod env;
pub mod exec;
pub mod frames;
pub mod generate;
pub mod jsonread;
pub mod merge;
pub mod oracle;
pub mod outdir;
pub mod precision;
pub mod run;
pub mod runlog;
pub mod schema;
pub mod target;
pub mod value;
