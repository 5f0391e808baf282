//! Firmware builds: one release ELF per board, built from the `firmware/`
//! workspace with that directory as the working directory (cargo reads
//! `.cargo/config.toml` from there, not from `--manifest-path`) and an
//! explicit `--target`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// The example firmware a user would copy: fnp-core's typed API over
/// sensor samples, logged with defmt (lm3s6965evb).
pub const EXAMPLE: (&str, &str) = ("fnp-example-sensor-stats", "thumbv7m-none-eabi");

fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// Builds `board`'s firmware (release profile) and returns the ELF path.
pub fn build(board: &str) -> anyhow::Result<PathBuf> {
    let Some(&(_, triple, package)) = BOARDS.iter().find(|(name, _, _)| *name == board) else {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.0).collect();
        bail!("unknown board {board:?}; boards: {}", names.join(", "));
    };
    build_package(board, package, triple)
}

/// Runs the sensor-stats example on QEMU lm3s6965evb, decodes its defmt
/// log with defmt-print and compares it byte for byte with
/// `firmware/sensor-stats/expected.out`. The golden holds NumPy's numbers
/// (written by `expected.py`), never the firmware's own output, so there is
/// no overwrite switch: regenerate it with NumPy.
pub fn check_example() -> anyhow::Result<()> {
    let (package, triple) = EXAMPLE;
    let elf = build_package("sensor-stats example", package, triple)?;
    let run = Command::new("timeout")
        .args([
            "60",
            "qemu-system-arm",
            "-cpu",
            "cortex-m3",
            "-machine",
            "lm3s6965evb",
        ])
        .args(["-display", "none", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(&elf)
        .stdin(Stdio::null())
        .output()
        .context("running qemu-system-arm")?;
    if !run.status.success() {
        bail!(
            "the example exited with {} (semihosting exit failure or timeout)",
            run.status
        );
    }
    let mut decoder = Command::new("defmt-print")
        .arg("-e")
        .arg(&elf)
        .args(["--log-format", "{s}"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running defmt-print (cargo install defmt-print)")?;
    decoder
        .stdin
        .take()
        .context("defmt-print stdin")?
        .write_all(&run.stdout)?;
    let decoded = decoder.wait_with_output()?;
    let text = String::from_utf8(decoded.stdout).context("defmt-print output is not UTF-8")?;
    let golden = firmware_dir().join("sensor-stats/expected.out");
    let want = std::fs::read_to_string(&golden)
        .with_context(|| format!("reading {}", golden.display()))?;
    if text != want {
        bail!(
            "output differs from {} (NumPy's, from expected.py):\n--- got\n{text}--- want\n{want}",
            golden.display()
        );
    }
    Ok(())
}

/// Builds one firmware package (release) and returns its ELF.
fn build_package(what: &str, package: &str, triple: &str) -> anyhow::Result<PathBuf> {
    let board = what;
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
