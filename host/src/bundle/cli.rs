//! Arguments and terminal output of `fnp bundle`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::{BenchOptions, Overhead, PartStatus};

/// `fnp bundle <command>`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    #[command(subcommand)]
    pub command: BundleCommand,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Pack files or directories into a new RaptorQ-protected bundle.
    Create {
        /// Files, or directories (stored under their own name).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The bundle directory to create (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
        /// Repair symbols per source symbol, e.g. 25%.
        #[arg(long, default_value = "25%")]
        repair_overhead: Overhead,
        /// Also write the summary as JSON here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Target source symbols per block (tuning; the format records it).
        #[arg(long, default_value_t = super::BLOCK_SYMBOLS, hide = true)]
        block_symbols: u64,
    },
    /// Verify every file and repair symbol; exit 1 when damaged.
    Scrub {
        bundle: PathBuf,
        /// Scrub report path [default: BUNDLE.scrub.json].
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Rebuild damaged or missing files from the sidecar.
    Repair {
        bundle: PathBuf,
        /// Repair report path [default: BUNDLE.repair.json].
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Seeded recovery drill at the advertised loss budget; exit 1 on failure.
    Proof {
        bundle: PathBuf,
        #[arg(long)]
        seed: u64,
        /// Decode-proof path [default: BUNDLE.proof.json].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Create/scrub/repair throughput next to par2 on the same files.
    Bench {
        /// Payload sizes in MiB.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        sizes: Vec<u64>,
        #[arg(long, default_value = "artifacts/baselines/bundle.json")]
        out: PathBuf,
        #[arg(long, default_value = "25%")]
        repair_overhead: Overhead,
        #[arg(long, default_value = "/usr/bin/par2")]
        par2: PathBuf,
        /// Timed runs per fnp measurement (best kept).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
        repeat: u32,
        /// Target source symbols per block (tuning).
        #[arg(long, default_value_t = super::BLOCK_SYMBOLS, hide = true)]
        block_symbols: u64,
        /// Skip the par2 side of the comparison.
        #[arg(long)]
        no_par2: bool,
    },
}

fn beside(bundle: &Path, suffix: &str) -> PathBuf {
    let mut name = bundle
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "bundle".into());
    name.push(suffix);
    bundle.with_file_name(name)
}

/// Runs `fnp bundle ...`.
pub fn run(args: BundleArgs) -> Result<ExitCode> {
    match args.command {
        BundleCommand::Create {
            inputs,
            out,
            repair_overhead,
            report,
            block_symbols,
        } => {
            let options = super::CreateOptions {
                overhead: repair_overhead,
                block_symbols,
            };
            let s = super::create_with(&inputs, &out, options)?;
            println!(
                "created {}: {} files, {} bytes, object {}",
                s.bundle, s.files, s.source_bytes, s.object_id
            );
            println!(
                "  {} source symbols of {} bytes in {} blocks, {} repair symbols ({:.2}%), \
                 each block absorbs {} lost symbols",
                s.source_symbols,
                s.symbol_size,
                s.blocks,
                s.repair_symbols,
                f64::from(s.overhead_basis_points) / 100.0,
                s.min_budget
            );
            if let Some(path) = report {
                super::write_json(&path, &s)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Scrub { bundle, report } => {
            let r = super::scrub(&bundle)?;
            let path = report.unwrap_or_else(|| beside(&bundle, ".scrub.json"));
            super::write_json(&path, &r)?;
            for f in r.files.iter().filter(|f| f.status != PartStatus::Ok) {
                let lost: u64 = f.lost_symbols.iter().map(|x| x[1] - x[0] + 1).sum();
                println!("  {:?} {}: {lost} symbols lost", f.status, f.path);
            }
            if r.manifest != PartStatus::Ok {
                println!("  manifest.json {:?}", r.manifest);
            }
            for link in &r.symlinks {
                println!("  symlink {link}: a bundle holds only regular files; remove it");
            }
            for stray in &r.unlisted {
                println!("  unlisted {stray}: not part of the bundle (left alone)");
            }
            if r.repair_symbols_damaged + r.repair_symbols_missing > 0 {
                println!(
                    "  repair symbols: {} damaged, {} missing of {}",
                    r.repair_symbols_damaged, r.repair_symbols_missing, r.repair_symbols_total
                );
            }
            println!(
                "{}: {} {} ({} files damaged, {} source symbols lost); \
                 can still absorb {} more lost symbols per block{}; report {}",
                bundle.display(),
                r.status,
                r.object_id,
                r.damaged_files,
                r.lost_source_symbols,
                r.min_can_still_absorb.max(0),
                if r.recoverable {
                    ""
                } else {
                    "; NOT recoverable"
                },
                path.display()
            );
            Ok(if r.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        BundleCommand::Repair { bundle, report } => {
            let r = super::repair(&bundle)?;
            let path = report.unwrap_or_else(|| beside(&bundle, ".repair.json"));
            super::write_json(&path, &r)?;
            for f in &r.rebuilt_files {
                println!("  rebuilt {f}");
            }
            println!(
                "{}: {} ({} source symbols recovered, {} repair symbols regenerated{}); report {}",
                bundle.display(),
                r.status,
                r.recovered_source_symbols,
                r.regenerated_repair_symbols,
                if r.manifest_restored {
                    ", manifest restored"
                } else {
                    ""
                },
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        BundleCommand::Proof { bundle, seed, out } => {
            let r = super::proof(&bundle, seed)?;
            let path = out.unwrap_or_else(|| beside(&bundle, ".proof.json"));
            super::write_json(&path, &r)?;
            let dropped: usize = r
                .blocks
                .iter()
                .map(|b| b.dropped_source.len() + b.dropped_repair.len())
                .sum();
            println!(
                "{}: proof {} (seed {seed}, {} blocks, {dropped} symbols dropped); written to {}",
                bundle.display(),
                r.result,
                r.blocks.len(),
                path.display()
            );
            Ok(if r.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        BundleCommand::Bench {
            sizes,
            out,
            repair_overhead,
            par2,
            repeat,
            block_symbols,
            no_par2,
        } => {
            let options = BenchOptions {
                sizes_mib: sizes,
                overhead: repair_overhead,
                par2,
                repeat,
                block_symbols,
                with_par2: !no_par2,
                ..BenchOptions::default()
            };
            let report = super::bench(&options)?;
            super::write_json(&out, &report)?;
            println!("written to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
