//! Host side of fnp: the library behind the `fnp` binary.
//!
//! Each subcommand lives in its own module; `cli` only parses arguments and
//! dispatches, so integration tests can call the modules directly.
//!
//! - [`corpus`], [`value`], [`schema`]: the `fnp.cases.v2` corpus (v1 still read), exact
//!   value encoding, JSON Schema checks.
//! - [`case`]: the data model, a decoded [`case::Case`] (its op parsed
//!   once into a [`case::CaseOp`]) and a target's [`case::CaseOutcome`].
//! - [`target`]: the [`target::Target`] trait, its [`target::Limits`], the
//!   `host` target and the names `fnp run --target` takes; [`exec`] runs a
//!   case through fnp-core as a device's wire server does; [`device`]
//!   holds the wire client and the one device target over QEMU and probe
//!   links.
//! - [`info`]: `fnp info [--json]`, fnp-core's op table for people and for
//!   the tools ([`generate`] reads the same table in process, capture.py
//!   gets its rows in the job [`capture`] writes).

pub mod bench;
pub mod bundle;
pub mod capture;
pub mod case;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod device;
pub mod env;
pub mod exec;
pub mod frames;
pub mod generate;
pub mod info;
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
