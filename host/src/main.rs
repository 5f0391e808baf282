//! `fnp`: the conformance shell. See `fnp --help`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    fnp_host::cli::main(fnp_host::cli::Cli::parse())
}
