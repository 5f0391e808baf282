//! Command-line parsing and dispatch for `fnp`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// NumPy semantics on a device, proven against NumPy.
#[derive(Debug, Parser)]
#[command(name = "fnp", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand of `fnp`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ops and dtypes this build of fnp-core supports.
    Info,
    /// Time fnp-core against NumPy on the sentinel workloads.
    Bench(crate::bench::Args),
    /// RaptorQ-protected evidence bundles: create, scrub, repair, proof, bench.
    Bundle(crate::bundle::cli::BundleArgs),
}

/// Runs a parsed command line; errors are printed for people, not as Debug.
pub fn main(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Info => info(),
        Command::Bench(args) => crate::bench::run(&args),
        Command::Bundle(args) => crate::bundle::cli::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn info() -> anyhow::Result<ExitCode> {
    println!("fnp {}", env!("CARGO_PKG_VERSION"));
    for dtype in fnp_core::DType::ALL {
        println!("  dtype {:<8} itemsize {}", dtype.name(), dtype.itemsize());
    }
    Ok(ExitCode::SUCCESS)
}
