//! `cargo xtask`: the single entry point for set-up, tests, conformance and
//! benchmarks. Every command runs all of its steps, collects the failures
//! and prints a summary; the exit code is non-zero if any step failed.

mod setup;
mod steps;

use std::process::ExitCode;

use steps::Steps;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup     install what is missing (rust targets, llvm-tools, QEMU, par2)
  test      fmt, clippy (host + each no_std target), tests, cross-builds
  conform   conformance suite on host, with reports and a sealed bundle
  oracles   regenerate the committed NumPy oracles in a pinned venv
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let mut steps = Steps::new(command);
    match command.as_str() {
        "setup" => setup::run(&mut steps, setup::Needs::all()),
        "test" => test(&mut steps),
        "conform" => conform(&mut steps, rest),
        "oracles" => oracles(&mut steps),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown xtask command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    steps.finish()
}

/// The no_std targets fnp-core must build for.
pub const NO_STD_TARGETS: [&str; 4] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "riscv32imac-unknown-none-elf",
];

fn test(steps: &mut Steps) {
    setup::run(steps, setup::Needs::test());
    steps.cargo("fmt check", &["fmt", "--all", "--check"]);
    steps.cargo(
        "clippy (host workspace)",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    for target in NO_STD_TARGETS {
        steps.cargo(
            &format!("clippy fnp-core --lib ({target})"),
            &[
                "clippy", "-p", "fnp-core", "--lib", "--target", target, "--", "-D", "warnings",
            ],
        );
    }
    for target in NO_STD_TARGETS {
        steps.cargo(
            &format!("no_std build fnp-core ({target})"),
            &["build", "-p", "fnp-core", "--release", "--target", target],
        );
    }
    steps.cargo_env(
        "docs",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    );
    steps.cargo("tests (host workspace)", &["test", "--workspace"]);
}

fn conform(steps: &mut Steps, extra: &[String]) {
    setup::run(steps, setup::Needs::conform());
    steps.cargo(
        "build fnp (release)",
        &["build", "--release", "-p", "fnp-host"],
    );
    let fnp = steps.root().join("target/release/fnp");
    let fnp = fnp.to_string_lossy().into_owned();
    let mut args = vec!["run", "--target", "host"];
    args.extend(extra.iter().map(String::as_str));
    steps.run("conformance on host", &fnp, &args);
}

fn oracles(steps: &mut Steps) {
    let Some(python) = setup::numpy_venv(steps) else {
        return;
    };
    let fnp = steps.root().join("target/release/fnp");
    steps.cargo(
        "build fnp (release)",
        &["build", "--release", "-p", "fnp-host"],
    );
    let cases = steps.root().join("fixtures/cases");
    let Ok(entries) = std::fs::read_dir(&cases) else {
        steps.fail("list fixtures/cases", "directory missing");
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for case_file in files {
        let name = case_file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let out = steps.root().join("fixtures/oracles").join(&name);
        steps.run_env(
            &format!("capture {name}"),
            &fnp.to_string_lossy(),
            &[
                "capture",
                "--cases",
                &case_file.to_string_lossy(),
                "--out",
                &out.to_string_lossy(),
            ],
            &[("FNP_ORACLE_PYTHON", python.to_string_lossy().as_ref())],
        );
    }
}
