//! Device cost: instructions executed per element on each QEMU board,
//! counted exactly by our TCG plugin (tools/insn-count), plus firmware size.
//!
//! The board's firmware is built with the `insn-bench` feature, which runs
//! fnp_fw_common::insn_bench's workloads between two marker functions at
//! 512 and 1024 elements. The plugin prints one count per region to QEMU's
//! log; the firmware prints `bench <name> <n>` on semihosting before each,
//! and the two streams are paired in order. The per-element cost is
//! (count(1024) − count(512)) / 512, which cancels the fixed cost of a call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind};
use serde::{Deserialize, Serialize};

use crate::device::qemu::{self, Board};

/// Instruction-count goals from the benchmark issue: (board, workload, max
/// instructions per element). The f32 goals are for the one board with an
/// FPU; f32 on the M3 and on riscv32imac is soft float.
pub const GOALS: &[(&str, &str, f64)] = &[
    ("mps2-an386", "add_f32", 6.0),
    ("mps2-an386", "multiply_f32", 6.0),
    ("lm3s6965evb", "add_i32", 5.0),
    ("mps2-an386", "sum_f32", 7.0),
    ("mps2-an386", "exp_f32", 35.0),
    ("mps2-an386", "log_f32", 45.0),
    ("mps2-an386", "sin_f32", 45.0),
];

/// One workload's counts on one board.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceRow {
    pub name: String,
    /// Instructions in the counted region, by element count.
    pub insns: BTreeMap<usize, u64>,
    /// Marginal instructions per element.
    pub per_element: f64,
    /// The goal for this board and workload, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<f64>,
}

/// Section sizes in bytes, as Berkeley `size` groups them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FirmwareSize {
    pub text: u64,
    pub data: u64,
    pub bss: u64,
}

/// `artifacts/baselines/<board>.json` (`fnp.device-bench.v1`).
#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceBaseline {
    pub schema: String,
    pub board: String,
    pub triple: String,
    /// opt-level of the counted build.
    pub opt_level: String,
    pub rows: Vec<DeviceRow>,
    /// Size of the wire-server firmware (what `conform` runs).
    pub firmware: FirmwareSize,
    pub meta: super::Meta,
}

/// Builds the plugin with the system C compiler into `out_dir`.
pub fn build_plugin(repo: &Path, out_dir: &Path) -> Result<PathBuf> {
    let src = repo.join("tools/insn-count/insn_count.c");
    let so = out_dir.join("libinsn_count.so");
    std::fs::create_dir_all(out_dir)?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
        ])
        .arg(&so)
        .arg(&src)
        .status()
        .with_context(|| format!("running {cc} (a C compiler is needed for the QEMU plugin)"))?;
    ensure!(status.success(), "building {} failed", src.display());
    Ok(so)
}

/// Builds `board`'s firmware with the `insn-bench` feature at `opt_level`.
pub fn build_bench_firmware(board: &Board, opt_level: &str) -> Result<PathBuf> {
    let dir = qemu::firmware_dir();
    let target_dir = format!("target/insn-bench-o{opt_level}");
    let profile = format!("profile.release.opt-level={}", opt_level_value(opt_level)?);
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .args([
            "build",
            "--release",
            "--features",
            "insn-bench",
            "-p",
            board.package,
        ])
        .args(["--target", board.triple, "--target-dir", &target_dir])
        .args(["--config", &profile])
        .status()
        .with_context(|| format!("running cargo in {}", dir.display()))?;
    ensure!(
        status.success(),
        "insn-bench firmware build for {} failed",
        board.name
    );
    Ok(dir
        .join(target_dir)
        .join(board.triple)
        .join("release")
        .join(board.package))
}

/// A cargo `opt-level` value (numbers unquoted, letters quoted).
fn opt_level_value(level: &str) -> Result<String> {
    match level {
        "0" | "1" | "2" | "3" => Ok(level.to_string()),
        "s" | "z" => Ok(format!("\"{level}\"")),
        other => bail!("opt-level must be 0-3, s or z, not {other:?}"),
    }
}

/// Address of a function symbol (Thumb bit cleared).
fn symbol(elf: &object::File<'_>, name: &str) -> Result<u64> {
    elf.symbols()
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address() & !1)
        .with_context(|| format!("symbol {name} not in the firmware"))
}

/// Berkeley-style sizes of an ELF's allocated sections.
pub fn firmware_size(path: &Path) -> Result<FirmwareSize> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let elf = object::File::parse(&*bytes)
        .with_context(|| format!("{} is not an ELF", path.display()))?;
    let mut size = FirmwareSize::default();
    for section in elf.sections() {
        let SectionFlags::Elf { sh_flags } = section.flags() else {
            continue;
        };
        const SHF_WRITE: u64 = 1;
        const SHF_ALLOC: u64 = 2;
        if sh_flags & SHF_ALLOC == 0 {
            continue;
        }
        if section.kind() == SectionKind::UninitializedData {
            size.bss += section.size();
        } else if sh_flags & SHF_WRITE != 0 {
            size.data += section.size();
        } else {
            size.text += section.size();
        }
    }
    Ok(size)
}

/// Runs the insn-bench firmware under the plugin and pairs names with counts.
pub fn count(board: &Board, elf_path: &Path, plugin: &Path, log: &Path) -> Result<Vec<DeviceRow>> {
    let bytes =
        std::fs::read(elf_path).with_context(|| format!("reading {}", elf_path.display()))?;
    let elf = object::File::parse(&*bytes)?;
    let start = symbol(&elf, "fnp_bench_start")?;
    let end = symbol(&elf, "fnp_bench_end")?;
    let _ = std::fs::remove_file(log);
    let mut child = Command::new(board.qemu)
        .args(board.machine)
        .args(["-display", "none", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf_path)
        .arg("-plugin")
        .arg(format!(
            "{},start={start:#x},end={end:#x}",
            plugin.display()
        ))
        .args(["-d", "plugin", "-D"])
        .arg(log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", board.qemu))?;
    // The firmware exits by itself; a hang is bounded by this deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{}: insn-bench firmware did not finish in 120 s",
                board.name
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = child.wait_with_output()?;
    // Semihosting console text lands on QEMU's stdout for Arm boards and on
    // its stderr for RISC-V; the bench lines are unambiguous in either.
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    ensure!(
        status.success(),
        "{}: QEMU exited with {status}: {stdout}",
        board.name
    );
    let log_text =
        std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
    pair(&stdout, &log_text, board.name)
}

/// Pairs `bench <name> <n>` lines with `fnp-insns <count>` lines in order.
pub fn pair(stdout: &str, log: &str, board: &str) -> Result<Vec<DeviceRow>> {
    if let Some(line) = stdout.lines().find(|l| l.starts_with("bench-error")) {
        bail!("{board}: the firmware reported {line}");
    }
    let regions: Vec<(&str, usize)> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("bench "))
        .map(|rest| {
            let (name, n) = rest.rsplit_once(' ').context("bad bench line")?;
            Ok((
                name,
                n.trim().parse::<usize>().context("bad element count")?,
            ))
        })
        .collect::<Result<_>>()?;
    let counts: Vec<u64> = log
        .lines()
        .filter_map(|l| l.strip_prefix("fnp-insns "))
        .map(|c| c.trim().parse::<u64>().context("bad plugin count"))
        .collect::<Result<_>>()?;
    ensure!(
        regions.len() == counts.len() && !regions.is_empty(),
        "{board}: {} counted regions announced but {} counts logged",
        regions.len(),
        counts.len()
    );
    let mut rows: Vec<DeviceRow> = Vec::new();
    for ((name, n), count) in regions.into_iter().zip(counts) {
        match rows.iter_mut().find(|r| r.name == name) {
            Some(row) => {
                row.insns.insert(n, count);
            }
            None => rows.push(DeviceRow {
                name: name.to_string(),
                insns: BTreeMap::from([(n, count)]),
                per_element: f64::NAN,
                goal: GOALS
                    .iter()
                    .find(|(b, w, _)| *b == board && *w == name)
                    .map(|g| g.2),
            }),
        }
    }
    for row in &mut rows {
        let mut sizes = row.insns.iter();
        let (Some((&n0, &c0)), Some((&n1, &c1))) = (sizes.next(), sizes.next_back()) else {
            bail!("{board}: {} was counted at one size only", row.name);
        };
        ensure!(n1 > n0, "{board}: {} needs two different sizes", row.name);
        row.per_element = (c1 as f64 - c0 as f64) / (n1 - n0) as f64;
    }
    Ok(rows)
}

/// Prints one board's table.
pub fn print(b: &DeviceBaseline) {
    println!(
        "\n{} ({}, opt-level {}): firmware text {} B, data {} B, bss {} B",
        b.board, b.triple, b.opt_level, b.firmware.text, b.firmware.data, b.firmware.bss
    );
    println!(
        "  {:<16} {:>12} {:>10}  goal",
        "workload", "insns/elem", "@1024"
    );
    for r in &b.rows {
        let at = r.insns.values().next_back().copied().unwrap_or(0);
        let goal = match r.goal {
            Some(g) if r.per_element <= g => format!("≤ {g} met"),
            Some(g) => format!("≤ {g} NOT MET"),
            None => String::new(),
        };
        println!(
            "  {:<16} {:>12.2} {:>10}  {goal}",
            r.name, r.per_element, at
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_regions_with_counts_in_order() {
        let out = "fnp: hi\nbench add_f32 512\nbench sum_f32 512\nbench add_f32 1024\nbench sum_f32 1024\n";
        let log = "fnp-insns 1000\nfnp-insns 600\nfnp-insns 4072\nfnp-insns 1624\n";
        let rows = pair(out, log, "mps2-an386").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].per_element, 6.0);
        assert_eq!(rows[0].goal, Some(6.0));
        assert_eq!(rows[1].per_element, 2.0);
        assert!(pair(out, "fnp-insns 1\n", "x").is_err());
        assert!(pair("bench-error add_f32\n", "", "x").is_err());
        assert!(pair("bench a 512\n", "fnp-insns 3\n", "x").is_err());
        assert!(pair("bench a x\n", "fnp-insns 3\n", "x").is_err());
    }

    #[test]
    fn opt_levels_are_checked() {
        assert_eq!(opt_level_value("3").unwrap(), "3");
        assert_eq!(opt_level_value("z").unwrap(), "\"z\"");
        assert!(opt_level_value("fast").is_err());
    }
}
