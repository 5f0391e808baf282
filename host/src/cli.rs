//! Command-line parsing and dispatch for `fnp`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    Info(InfoArgs),
    /// Work with case corpora (fnp.cases.v2; v1 still read).
    #[command(subcommand)]
    Corpus(CorpusCommand),
    /// Run NumPy over a corpus and write its oracle (fnp.oracle.v2).
    Capture(crate::capture::CaptureArgs),
    /// Run corpora on a target, compare with the oracles, write a report.
    Run(crate::run::RunArgs),
    /// Work with parity reports (fnp.report.v1).
    #[command(subcommand)]
    Report(ReportCommand),
    /// The precision table: allowed ULP per op and dtype, and the maxima
    /// reports measured.
    Precision(crate::precision::Args),
    /// Check artifacts (corpus, oracle, report, frames, bundle manifest,
    /// run log) against the schema each names.
    Validate(crate::schema::ValidateArgs),
    /// Time fnp-core against NumPy on the sentinel workloads.
    Bench(crate::bench::Args),
    /// RaptorQ-protected evidence bundles: create, scrub, repair, proof, bench.
    Bundle(crate::bundle::cli::BundleArgs),
}

/// Arguments of `fnp info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print the op table as JSON (fnp.info.v2): every op's code, name,
    /// aliases, kind, family, arity, identity, keywords and accuracy.
    #[arg(long)]
    pub json: bool,
}

/// `fnp report …`
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Merge several targets' reports into summary.json and summary.md.
    Merge(crate::merge::MergeArgs),
}

/// The seed of the committed corpus.
pub const DEFAULT_SEED: u64 = 20_260_501;

/// `fnp corpus …`
#[derive(Debug, Subcommand)]
pub enum CorpusCommand {
    /// Generate the seeded corpus (binary.json, reduce.json, large.json).
    Generate(GenerateArgs),
}

/// Arguments of `fnp corpus generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Generator seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Directory to write the corpus files into.
    #[arg(long, default_value = "fixtures/cases")]
    pub out: PathBuf,
}

/// The longest `--timeout` accepted, in seconds (a day): an `Instant`
/// plus anything larger is not a useful deadline, and far larger ones
/// overflow.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// Most `--jobs` (emulator instances) one run may start.
pub const MAX_JOBS: u64 = 256;

/// `--timeout SECONDS`: finite, over 0, at most [`MAX_TIMEOUT_SECS`].
pub fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(v.is_finite() && v > 0.0 && v <= MAX_TIMEOUT_SECS) {
        return Err(format!(
            "{s} seconds is not a timeout: it must be over 0 and at most {MAX_TIMEOUT_SECS} (a day)"
        ));
    }
    // Exactly what `fnp run` turns it into, so that can never fail later.
    let d = std::time::Duration::try_from_secs_f64(v).map_err(|e| format!("{s}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{s} seconds rounds to no time at all"));
    }
    Ok(v)
}

/// `--shard k/n`: checked when parsed (1 <= k <= n), kept as given.
pub fn parse_shard_arg(s: &str) -> Result<String, String> {
    crate::device::parse_shard(s).map_err(|e| format!("{e:#}"))?;
    Ok(s.trim().to_string())
}

/// `fnp bench --threshold`: a fraction in 0..=1.
pub fn parse_threshold(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{s} is not a fraction from 0 to 1 (0.25 is 25%)"));
    }
    Ok(v)
}

/// Runs a parsed command line; errors are printed for people, not as Debug.
pub fn main(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Info(args) => crate::info::main(args.json),
        Command::Corpus(CorpusCommand::Generate(args)) => corpus_generate(&args),
        Command::Capture(args) => crate::capture::main(&args),
        Command::Run(args) => crate::run::main(&args),
        Command::Report(ReportCommand::Merge(args)) => crate::merge::main(&args),
        Command::Precision(args) => crate::precision::main(&args),
        Command::Validate(args) => crate::schema::validate_main(&args),
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

fn corpus_generate(args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    let files = crate::generate::generate(args.seed);
    crate::generate::write(&args.out, &files)?;
    println!(
        "{:<14} {:>7} {:>10} {:>10} {:>10}",
        "file", "cases", "median B", "max B", "host-only"
    );
    for f in &files {
        // Read back through the same checks every reader applies, so a
        // generator bug cannot write a corpus the tools then reject.
        let path = args.out.join(&f.name);
        let corpus = crate::corpus::load(&path)?;
        let mut sizes: Vec<usize> = corpus.cases.iter().map(|c| c.input_bytes()).collect();
        sizes.sort_unstable();
        let median = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
        let max = sizes.last().copied().unwrap_or(0);
        let large = corpus
            .cases
            .iter()
            .filter(|c| c.total_elements() >= crate::generate::LARGE_ELEMENTS)
            .count();
        println!(
            "{:<14} {:>7} {:>10} {:>10} {:>10}",
            f.name, f.cases, median, max, large
        );
    }
    Ok(ExitCode::SUCCESS)
}
