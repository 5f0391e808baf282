//! The boards fnp's firmware runs on, each described once: the host's QEMU
//! and probe targets, `cargo xtask` (builds, size and panic checks) and the
//! device bench all read [`BOARDS`], [`PROBE_BOARDS`] and [`EXAMPLE`], and
//! [`build`] is the one way any of them builds firmware.
//!
//! Adding a QEMU board: a firmware crate in `firmware/` (its `memory.x`,
//! and `build = "../common/build.rs"`), a row here, and its target triple
//! in `firmware/.cargo/config.toml`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A firmware image: the cargo package in the `firmware/` workspace (its
/// binary has the same name) and the target it is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Firmware {
    /// Cargo package, and binary, name.
    pub package: &'static str,
    /// Rust target triple.
    pub triple: &'static str,
}

/// Memory a board's firmware links into (`memory.x` holds the layout;
/// these are the sizes reports and size checks compare against).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Bytes of code memory (flash, or the code RAM QEMU loads into).
    pub flash: u32,
    /// Bytes of RAM for data and stack.
    pub ram: u32,
}

/// A QEMU board fnp has firmware for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// Name in `qemu:<name>`.
    pub name: &'static str,
    /// QEMU binary.
    pub qemu: &'static str,
    /// Machine arguments.
    pub machine: &'static [&'static str],
    /// Rust target triple of the firmware.
    pub triple: &'static str,
    /// Cargo package of the firmware (its binary has the same name).
    pub package: &'static str,
    /// Rough UART throughput in bytes/s (sets the per-case timeout).
    pub bytes_per_sec: u64,
    /// What the firmware links into.
    pub memory: Memory,
}

impl Board {
    /// The board's wire-server firmware.
    pub const fn firmware(&self) -> Firmware {
        Firmware {
            package: self.package,
            triple: self.triple,
        }
    }
}

/// Every QEMU board with firmware in `firmware/`.
pub const BOARDS: &[Board] = &[
    Board {
        name: "lm3s6965evb",
        qemu: "qemu-system-arm",
        machine: &["-cpu", "cortex-m3", "-machine", "lm3s6965evb"],
        triple: "thumbv7m-none-eabi",
        package: "fnp-fw-lm3s6965evb",
        bytes_per_sec: 200_000,
        memory: Memory {
            flash: 256 << 10,
            ram: 64 << 10,
        },
    },
    Board {
        name: "mps2-an386",
        qemu: "qemu-system-arm",
        machine: &["-machine", "mps2-an386"],
        triple: "thumbv7em-none-eabihf",
        package: "fnp-fw-mps2-an386",
        bytes_per_sec: 25_000,
        memory: Memory {
            flash: 4 << 20,
            ram: 4 << 20,
        },
    },
    Board {
        name: "riscv-virt",
        qemu: "qemu-system-riscv32",
        // -icount shift=0: one instruction per virtual ns, so minstret is
        // an exact, repeatable instruction count.
        machine: &["-machine", "virt", "-bios", "none", "-icount", "shift=0"],
        triple: "riscv32imac-unknown-none-elf",
        package: "fnp-fw-riscv-virt",
        bytes_per_sec: 100_000,
        memory: Memory {
            flash: 1 << 20,
            ram: 15 << 20,
        },
    },
];

/// A real board reached over a debug probe (`probe:<chip>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeBoard {
    /// The chip as probe-rs names it.
    pub chip: &'static str,
    /// Its wire-server firmware.
    pub firmware: Firmware,
    /// What the firmware links into.
    pub memory: Memory,
}

/// Every probe board with firmware in `firmware/`.
pub const PROBE_BOARDS: &[ProbeBoard] = &[ProbeBoard {
    chip: "nRF52840_xxAA",
    firmware: Firmware {
        package: "fnp-fw-nrf52840dk",
        triple: "thumbv7em-none-eabihf",
    },
    memory: Memory {
        flash: 1 << 20,
        ram: 256 << 10,
    },
}];

/// The example firmware a user would copy: fnp-core's typed API over
/// sensor samples, logged with defmt, run on the board named here.
pub const EXAMPLE: (Firmware, &str) = (
    Firmware {
        package: "fnp-example-sensor-stats",
        triple: "thumbv7m-none-eabi",
    },
    "lm3s6965evb",
);

/// The QEMU board called `name`.
pub fn board(name: &str) -> Result<&'static Board, String> {
    BOARDS.iter().find(|b| b.name == name).ok_or_else(|| {
        let names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
        format!("unknown QEMU board {name:?}; boards: {}", names.join(", "))
    })
}

/// The probe board for `chip` (exact, case-insensitive, or a prefix).
pub fn probe_board(chip: &str) -> Option<&'static ProbeBoard> {
    let want = chip.to_lowercase();
    PROBE_BOARDS
        .iter()
        .find(|b| b.chip.to_lowercase() == want)
        .or_else(|| {
            PROBE_BOARDS
                .iter()
                .find(|b| b.chip.to_lowercase().starts_with(&want))
        })
}

/// The `firmware/` workspace: `FNP_FIRMWARE_DIR`, else beside this crate.
pub fn firmware_dir() -> PathBuf {
    std::env::var_os("FNP_FIRMWARE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware"))
}

impl Firmware {
    /// Where the release build lands.
    pub fn path(&self) -> PathBuf {
        firmware_dir()
            .join("target")
            .join(self.triple)
            .join("release")
            .join(self.package)
    }
}

/// Why a firmware build failed.
#[derive(Debug)]
pub enum BuildError {
    /// Cargo could not be started.
    Spawn {
        /// The firmware workspace it was started in.
        dir: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// Cargo ran and failed (its messages went to stderr).
    Failed {
        /// The package that did not build.
        package: &'static str,
        /// Cargo's exit status.
        status: std::process::ExitStatus,
    },
    /// Cargo succeeded but the ELF is not where it should be.
    Missing(PathBuf),
}

impl BuildError {
    /// Whether cargo itself could not be run (a caller may fall back to
    /// an existing build).
    pub fn is_spawn(&self) -> bool {
        matches!(self, BuildError::Spawn { .. })
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Spawn { dir, error } => {
                write!(f, "cannot run cargo in {}: {error}", dir.display())
            }
            BuildError::Failed { package, status } => {
                write!(f, "firmware build of {package} failed ({status})")
            }
            BuildError::Missing(elf) => {
                write!(f, "firmware build produced no {}", elf.display())
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds `firmware` (release profile) and returns its ELF. Cargo reads the
/// firmware workspace's `.cargo/config.toml` (linker, runner, flags) only
/// from its own directory, hence the working directory; variables a
/// calling cargo exports for the host workspace are removed.
pub fn build(firmware: Firmware, quiet: bool) -> Result<PathBuf, BuildError> {
    let dir = firmware_dir();
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .arg("build");
    if quiet {
        cmd.arg("-q");
    }
    let status = cmd
        .args([
            "--release",
            "-p",
            firmware.package,
            "--target",
            firmware.triple,
        ])
        .status()
        .map_err(|error| BuildError::Spawn {
            dir: dir.clone(),
            error,
        })?;
    if !status.success() {
        return Err(BuildError::Failed {
            package: firmware.package,
            status,
        });
    }
    let elf = firmware.path();
    if !elf.is_file() {
        return Err(BuildError::Missing(elf));
    }
    Ok(elf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_packages_are_unique_and_found() {
        for (i, b) in BOARDS.iter().enumerate() {
            assert_eq!(board(b.name).unwrap(), b);
            assert!(BOARDS[..i]
                .iter()
                .all(|o| o.name != b.name && o.package != b.package));
            assert!(b.package.starts_with("fnp-fw-") && b.memory.flash > 0 && b.memory.ram > 0);
        }
        assert!(board("pdp11").unwrap_err().contains("lm3s6965evb"));
        assert_eq!(probe_board("nrf52840").unwrap().chip, "nRF52840_xxAA");
        assert_eq!(probe_board("NRF52840_XXAA").unwrap().chip, "nRF52840_xxAA");
        assert!(probe_board("stm32").is_none());
    }

    /// `LENGTH = 256K` of region `name` in a linker script, in bytes.
    fn region_len(script: &str, name: &str) -> Option<u32> {
        let line = script
            .lines()
            .find(|l| l.trim_start().starts_with(name) && l.contains("LENGTH"))?;
        let len = line
            .split("LENGTH")
            .nth(1)?
            .trim_start_matches([' ', '='])
            .trim();
        let (digits, unit) = len.split_at(len.find(|c: char| !c.is_ascii_digit())?);
        let shift = match unit.trim() {
            "K" => 10,
            "M" => 20,
            _ => return None,
        };
        digits.parse::<u32>().ok().map(|n| n << shift)
    }

    #[test]
    fn memory_matches_each_boards_linker_script() {
        let dirs = BOARDS
            .iter()
            .map(|b| (b.package, b.memory))
            .chain(PROBE_BOARDS.iter().map(|b| (b.firmware.package, b.memory)));
        for (package, memory) in dirs {
            let dir = package.trim_start_matches("fnp-fw-");
            let script =
                std::fs::read_to_string(firmware_dir().join(dir).join("memory.x")).unwrap();
            let code = region_len(&script, "FLASH").or_else(|| region_len(&script, "TEXT"));
            assert_eq!(code, Some(memory.flash), "{dir}: code memory");
            assert_eq!(region_len(&script, "RAM"), Some(memory.ram), "{dir}: RAM");
        }
    }

    #[test]
    fn every_firmware_package_is_a_member_of_the_firmware_workspace() {
        let manifest = std::fs::read_to_string(firmware_dir().join("Cargo.toml")).unwrap();
        let packages = BOARDS
            .iter()
            .map(Board::firmware)
            .chain(PROBE_BOARDS.iter().map(|b| b.firmware))
            .chain([EXAMPLE.0]);
        for fw in packages {
            let dir = fw
                .package
                .trim_start_matches("fnp-fw-")
                .trim_start_matches("fnp-example-");
            assert!(manifest.contains(&format!("\"{dir}\"")), "{dir}");
            let own = std::fs::read_to_string(firmware_dir().join(dir).join("Cargo.toml")).unwrap();
            assert!(own.contains(&format!("name = \"{}\"", fw.package)), "{dir}");
        }
    }
}
