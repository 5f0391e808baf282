//! Firmware builds: one release ELF per board, built from the `firmware/`
//! workspace with that directory as the working directory (cargo reads
//! `.cargo/config.toml` from there, not from `--manifest-path`) and an
//! explicit `--target`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

pub use fnp_boards::{Board, BOARDS, EXAMPLE};

fn firmware_dir() -> PathBuf {
    fnp_boards::firmware_dir()
}

/// Builds `board`'s firmware (release profile) and returns the ELF path.
pub fn build(board: &Board) -> anyhow::Result<PathBuf> {
    Ok(fnp_boards::build(board.firmware(), false)?)
}

/// Runs the sensor-stats example on QEMU lm3s6965evb, decodes its defmt
/// log with defmt-print and compares it byte for byte with
/// `firmware/sensor-stats/expected.out`. The golden holds NumPy's numbers
/// (written by `expected.py`), never the firmware's own output, so there is
/// no overwrite switch: regenerate it with NumPy.
/// Runs `elf` on `board`'s QEMU machine with semihosting (its stdout is
/// the program's output, its exit status the program's), at most 60 s.
pub fn run_semihosted(
    board: &fnp_boards::Board,
    elf: &std::path::Path,
) -> anyhow::Result<std::process::Output> {
    Command::new("timeout")
        .arg("60")
        .arg(board.qemu)
        .args(board.machine)
        .args(["-display", "none", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", board.qemu))
}

pub fn check_example() -> anyhow::Result<()> {
    let (example, board) = EXAMPLE;
    let board = fnp_boards::board(board).map_err(anyhow::Error::msg)?;
    let elf = fnp_boards::build(example, false)?;
    let run = run_semihosted(board, &elf)?;
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
