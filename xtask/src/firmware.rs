//! Firmware builds: one release ELF per board, built from the `firmware/`
//! workspace with that directory as the working directory (cargo reads
//! `.cargo/config.toml` from there, not from `--manifest-path`) and an
//! explicit `--target`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

/// Every board: (name, Rust target triple, cargo package = binary name).
pub const BOARDS: [(&str, &str, &str); 3] = [
    ("lm3s6965evb", "thumbv7m-none-eabi", "fnp-fw-lm3s6965evb"),
    ("mps2-an386", "thumbv7em-none-eabihf", "fnp-fw-mps2-an386"),
    (
        "riscv-virt",
        "riscv32imac-unknown-none-elf",
        "fnp-fw-riscv-virt",
    ),
];

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// Builds `board`'s firmware (release profile) and returns the ELF path.
pub fn build(board: &str) -> anyhow::Result<PathBuf> {
    let Some(&(_, triple, package)) = BOARDS.iter().find(|(name, _, _)| *name == board) else {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.0).collect();
        bail!("unknown board {board:?}; boards: {}", names.join(", "));
    };
    let dir = firmware_dir();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        // The host workspace's cargo may export these; the firmware
        // workspace has its own target dir and per-target flags.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .args(["build", "--release", "-p", package, "--target", triple])
        .status()
        .with_context(|| format!("running cargo in {}", dir.display()))?;
    if !status.success() {
        bail!("firmware build for {board} failed ({status})");
    }
    let elf = dir
        .join("target")
        .join(triple)
        .join("release")
        .join(package);
    if !elf.exists() {
        bail!("firmware build for {board} produced no {}", elf.display());
    }
    Ok(elf)
}
