//! `cargo xtask`: the single entry point for set-up, tests, conformance and
//! benchmarks. Every command runs all of its steps, collects the failures
//! and prints a summary; the exit code is non-zero if any step failed.

mod firmware;
mod footprint;
mod panics;
mod setup;
mod steps;

use std::process::ExitCode;

use steps::Steps;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup     install what is missing (rust targets, llvm-tools, QEMU, par2)
  test      fmt, clippy (host, each no_std target, firmware), tests incl. QEMU
            round trips, no_std cross-builds, firmware builds, panic sites
  panics    build the Arm firmware and list every panic site left in it
            (calls into core::panicking that optimisation kept), by crate
  conform   conformance suite on host and every QEMU board: reports, one
            op x target table, a sealed and proven bundle; with --shards N
            also runs each target as N `fnp run --shard` processes and
            checks their merged summary is byte-identical
  bench     fnp vs NumPy on the host, instruction counts per board, bundle
            throughput vs par2; sealed into artifacts/bundles/bench
  oracles   regenerate the committed NumPy oracles in a pinned venv
  example   run the sensor-stats example firmware on QEMU and compare its
            defmt log with NumPy's golden (firmware/sensor-stats/expected.py)
  footprint stack (painted on QEMU) and flash of every typed fnp-core call
            on thumbv7m, one firmware build per call: fnp-core/FOOTPRINT.md
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
        "bench" => bench(&mut steps, rest),
        "oracles" => oracles(&mut steps),
        "example" => match firmware::check_example() {
            Ok(()) => steps.pass("sensor-stats example on QEMU = NumPy's golden"),
            Err(err) => steps.fail(
                "sensor-stats example on QEMU = NumPy's golden",
                &format!("{err:#}"),
            ),
        },
        "panics" => panic_sites(&mut steps),
        "footprint" => {
            setup::run(&mut steps, setup::Needs::test());
            footprint::run(&mut steps);
        }
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
    workflow_lint(steps);
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
    // fnp-core's optional features, each lint- and doc-clean on its own
    // (defmt on a device target, where it is used).
    for features in ["alloc", "log", "alloc,serde,log"] {
        steps.cargo(
            &format!("clippy fnp-core --features {features}"),
            &[
                "clippy",
                "-p",
                "fnp-core",
                "--all-targets",
                "--features",
                features,
                "--",
                "-D",
                "warnings",
            ],
        );
    }
    steps.cargo(
        "clippy fnp-core --lib --features defmt (thumbv7em-none-eabihf)",
        &[
            "clippy",
            "-p",
            "fnp-core",
            "--lib",
            "--target",
            "thumbv7em-none-eabihf",
            "--features",
            "defmt",
            "--",
            "-D",
            "warnings",
        ],
    );
    steps.cargo_env(
        "docs fnp-core --all-features",
        &["doc", "-p", "fnp-core", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    );
    msrv_checks(steps);
    for target in NO_STD_TARGETS {
        steps.cargo(
            &format!("no_std build fnp-core ({target})"),
            &["build", "-p", "fnp-core", "--release", "--target", target],
        );
    }
    firmware_checks(steps);
    steps.cargo_env(
        "docs",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    );
    // What a user checks before depending on the crate: it packages and
    // the packaged copy builds on its own.
    steps.cargo(
        "cargo package fnp-core",
        &["package", "-p", "fnp-core", "--allow-dirty"],
    );
    steps.cargo("tests (host workspace)", &["test", "--workspace"]);
    steps.cargo(
        "tests fnp-core (alloc, serde, log)",
        &["test", "-p", "fnp-core", "--features", "alloc,serde,log"],
    );
    // The firmware's size-first code paths must give the same bits.
    steps.cargo(
        "tests fnp-core (small: the firmware's code paths)",
        &["test", "-p", "fnp-core", "--features", "wire,small"],
    );
}

/// actionlint over every workflow in `.github/workflows` (the CI matrix
/// must at least parse and type-check before anyone pushes it).
fn workflow_lint(steps: &mut Steps) {
    let dir = steps.root().join(".github/workflows");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    if files.is_empty() {
        steps.fail("actionlint", &format!("no workflows in {}", dir.display()));
        return;
    }
    let Some(actionlint) = setup::actionlint(steps) else {
        return;
    };
    let mut args = vec!["-no-color"];
    args.extend(files.iter().map(String::as_str));
    steps.run(
        "actionlint .github/workflows",
        &actionlint.to_string_lossy(),
        &args,
    );
}

/// fnp-core builds with its declared MSRV, on the host with every feature
/// a firmware or host user takes, and for a device. `wire` is left out:
/// the shared lock file has postcard 1.2, which needs Rust 1.88 (postcard
/// 1.1, which Cargo.toml allows, builds on 1.85).
fn msrv_checks(steps: &mut Steps) {
    let msrv = setup::MSRV;
    // A separate target dir: another toolchain's artifacts would evict the
    // stable ones.
    let env = [
        ("RUSTUP_TOOLCHAIN", msrv),
        ("CARGO_TARGET_DIR", "target/msrv"),
        ("RUSTC", ""),
        ("CARGO", ""),
    ];
    for (what, extra) in [
        ("host", vec!["--features", "alloc,serde,log,defmt"]),
        (
            "thumbv7m-none-eabi",
            vec!["--target", "thumbv7m-none-eabi", "--features", "defmt"],
        ),
    ] {
        let mut args = vec!["check", "-p", "fnp-core"];
        args.extend(extra);
        steps.run_env(
            &format!("msrv {msrv}: check fnp-core ({what})"),
            "cargo",
            &args,
            &env,
        );
    }
}

/// fmt, clippy and a release build of every board's firmware, from the
/// firmware workspace (cargo reads its .cargo/config.toml from the cwd).
fn firmware_checks(steps: &mut Steps) {
    let dir = steps.root().join("firmware");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let no_host_env = [("CARGO_TARGET_DIR", ""), ("RUSTFLAGS", "")];
    steps.run_in(
        "firmware fmt check",
        &dir,
        &cargo,
        &["fmt", "--all", "--check"],
        &[],
    );
    for b in firmware::BOARDS {
        let (board, triple, package) = (b.name, b.triple, b.package);
        steps.run_in(
            &format!("firmware clippy ({board})"),
            &dir,
            &cargo,
            &[
                "clippy",
                "--release",
                "-p",
                package,
                "--target",
                triple,
                "--",
                "-D",
                "warnings",
            ],
            &no_host_env,
        );
        match firmware::build(b) {
            Ok(elf) => {
                steps.pass(&format!("firmware build ({board})"));
                // The Arm boards: the wire server and every kernel as the
                // device runs them (release, LTO).
                if triple.starts_with("thumb") {
                    let name = format!("panic sites ({board})");
                    match panics::check(&elf) {
                        Ok(summary) => {
                            println!("{name}: {summary}");
                            steps.pass(&name);
                        }
                        Err(err) => steps.fail(&name, &format!("{err:#}")),
                    }
                }
            }
            Err(err) => steps.fail(&format!("firmware build ({board})"), &format!("{err:#}")),
        }
    }
    let (example, _) = firmware::EXAMPLE;
    let (example, triple) = (example.package, example.triple);
    steps.run_in(
        "firmware clippy (sensor-stats example)",
        &dir,
        &cargo,
        &[
            "clippy",
            "--release",
            "-p",
            example,
            "--target",
            triple,
            "--bins",
            "--examples",
            "--",
            "-D",
            "warnings",
        ],
        &no_host_env,
    );
    match firmware::check_example() {
        Ok(()) => steps.pass("sensor-stats example on QEMU = NumPy's golden"),
        Err(err) => steps.fail(
            "sensor-stats example on QEMU = NumPy's golden",
            &format!("{err:#}"),
        ),
    }
    steps.run_in(
        "firmware clippy (footprint probe)",
        &dir,
        &cargo,
        &[
            "clippy",
            "--release",
            "-p",
            "fnp-footprint",
            "--target",
            "thumbv7m-none-eabi",
            "--",
            "-D",
            "warnings",
        ],
        &no_host_env,
    );
    footprint::smoke(steps);
}

/// `cargo xtask panics`: every site per function, for the Arm boards.
fn panic_sites(steps: &mut Steps) {
    for b in firmware::BOARDS {
        let board = b.name;
        if !b.triple.starts_with("thumb") {
            continue;
        }
        let elf = match firmware::build(b) {
            Ok(elf) => elf,
            Err(err) => {
                steps.fail(&format!("firmware build ({board})"), &format!("{err:#}"));
                continue;
            }
        };
        match panics::scan(&elf) {
            Ok(report) => {
                println!("{board}: {}", elf.display());
                for (krate, fns) in &report.by_crate {
                    println!("  {krate}: {} site(s)", report.total(krate));
                    for (f, n) in fns {
                        println!("    {n:>3}  {f}");
                    }
                }
                println!("  core helpers called:");
                for (h, n) in &report.helpers {
                    println!("    {n:>3}  {h}");
                }
                steps.pass(&format!("panic sites ({board})"));
            }
            Err(err) => steps.fail(&format!("panic sites ({board})"), &format!("{err:#}")),
        }
    }
}

/// `target/release/fnp`, built first.
fn fnp(steps: &mut Steps) -> Option<String> {
    if !steps.cargo(
        "build fnp (release)",
        &["build", "--release", "-p", "fnp-host"],
    ) {
        return None;
    }
    Some(
        steps
            .root()
            .join("target/release/fnp")
            .to_string_lossy()
            .into_owned(),
    )
}

/// Seals `inputs` into a fresh bundle at `out`, then scrubs it and runs the
/// recovery drill, so every sealed bundle is known to verify and decode.
fn seal(steps: &mut Steps, fnp: &str, out: &str, inputs: &[&str]) {
    let path = steps.root().join(out);
    if path.exists() {
        if let Err(err) = std::fs::remove_dir_all(&path) {
            steps.fail(&format!("remove old {out}"), &err.to_string());
            return;
        }
    }
    let mut args = vec!["bundle", "create", "--out", out];
    args.extend(inputs);
    if steps.run(&format!("seal {out}"), fnp, &args) {
        steps.run(&format!("scrub {out}"), fnp, &["bundle", "scrub", out]);
        let proof = format!("{out}.proof.json");
        steps.run(
            &format!("recovery drill {out}"),
            fnp,
            &["bundle", "proof", out, "--seed", "1", "--out", &proof],
        );
    }
}

/// Takes `--shards N` out of conform's arguments (the rest go to `fnp run`).
fn take_shards(extra: &[String]) -> Result<(Option<usize>, Vec<String>), String> {
    let mut shards = None;
    let mut rest = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--shards") {
            Some("") => args.next().map(String::as_str),
            Some(v) if v.starts_with('=') => Some(&v[1..]),
            _ => {
                rest.push(arg.clone());
                continue;
            }
        };
        let n = value
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| {
                format!(
                    "--shards takes a count from 1 to 64, got {}",
                    value.map_or("nothing".into(), |v| format!("`{v}`"))
                )
            })?;
        shards = Some(n);
    }
    Ok((shards, rest))
}

fn conform(steps: &mut Steps, extra: &[String]) {
    let (shards, extra) = match take_shards(extra) {
        Ok(v) => v,
        Err(why) => {
            steps.fail("conform arguments", &why);
            return;
        }
    };
    let extra = extra.as_slice();
    setup::run(steps, setup::Needs::conform());
    let Some(fnp) = fnp(steps) else {
        return;
    };
    let mut targets = vec!["host".to_string()];
    for b in firmware::BOARDS {
        let board = b.name;
        match firmware::build(b) {
            Ok(_) => {
                steps.pass(&format!("firmware build ({board})"));
                targets.push(format!("qemu:{board}"));
            }
            Err(err) => steps.fail(&format!("firmware build ({board})"), &format!("{err:#}")),
        }
    }
    for target in &targets {
        let mut args = vec!["run", "--target", target.as_str()];
        if target.starts_with("qemu:") {
            // Emulated UARTs mostly wait: two emulators keep two cores busy.
            args.extend(["--jobs", "2"]);
        }
        args.extend(extra.iter().map(String::as_str));
        steps.run(&format!("conformance on {target}"), &fnp, &args);
    }
    steps.run("op x target table", &fnp, &["report", "merge"]);
    if let Some(n) = shards {
        sharded(steps, &fnp, &targets, n, extra);
    }
    seal(
        steps,
        &fnp,
        "artifacts/bundles/conformance",
        &["artifacts/reports", "fixtures/cases", "fixtures/oracles"],
    );
}

/// What a CI matrix does, on one machine: every target's N slices run as
/// separate `fnp run --shard k/N` processes (one target's slices at once),
/// `fnp report merge` joins them, and the merged summary must be
/// byte-identical to the unsharded run's in `artifacts/reports`.
fn sharded(steps: &mut Steps, fnp: &str, targets: &[String], n: usize, extra: &[String]) {
    let out = steps.root().join("artifacts/shards");
    if out.exists() {
        if let Err(err) = std::fs::remove_dir_all(&out) {
            steps.fail("remove old artifacts/shards", &err.to_string());
            return;
        }
    }
    if let Err(err) = std::fs::create_dir_all(&out) {
        steps.fail("create artifacts/shards", &err.to_string());
        return;
    }
    for target in targets {
        let name = format!("{n} slices of {target} as separate processes");
        println!("\n==> {name}");
        let started = std::time::Instant::now();
        let mut children = Vec::new();
        for k in 1..=n {
            let slice = format!("{k}/{n}");
            let log = out.join(format!("{}.{k}-of-{n}.out", target.replace(':', "-")));
            let mut args = vec![
                "run",
                "--target",
                target,
                "--shard",
                &slice,
                "--out",
                "artifacts/shards",
            ];
            args.extend(extra.iter().map(String::as_str));
            println!("    $ {fnp} {}  > {}", args.join(" "), log.display());
            let child = std::fs::File::create(&log).and_then(|file| {
                let err = file.try_clone()?;
                std::process::Command::new(fnp)
                    .args(&args)
                    .current_dir(steps.root())
                    .stdout(file)
                    .stderr(err)
                    .spawn()
            });
            children.push((slice, log, child));
        }
        let mut failed = Vec::new();
        for (slice, log, child) in children {
            match child.and_then(|mut c| c.wait()) {
                Ok(status) if status.success() => {}
                Ok(status) => failed.push(format!("{slice} {status} (see {})", log.display())),
                Err(err) => failed.push(format!("{slice}: cannot run fnp: {err}")),
            }
        }
        println!("    {:.1} s", started.elapsed().as_secs_f64());
        if failed.is_empty() {
            steps.pass(&name);
        } else {
            steps.fail(&name, &failed.join("; "));
        }
    }
    if !steps.run(
        "merge the slices",
        fnp,
        &[
            "report",
            "merge",
            "artifacts/shards",
            "--out",
            "artifacts/shards",
        ],
    ) {
        return;
    }
    let name = format!("merged summary of {n} slices = unsharded summary (byte for byte)");
    let read = |rel: &str| std::fs::read(steps.root().join(rel));
    let mut differ = Vec::new();
    for file in ["summary.json", "summary.md"] {
        match (
            read(&format!("artifacts/reports/{file}")),
            read(&format!("artifacts/shards/{file}")),
        ) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(_), Ok(_)) => differ.push(format!(
                "{file} differs: diff artifacts/reports/{file} artifacts/shards/{file}"
            )),
            (a, b) => differ.push(format!(
                "{file} missing: {:?} / {:?}",
                a.err().map(|e| e.to_string()),
                b.err().map(|e| e.to_string())
            )),
        }
    }
    if differ.is_empty() {
        steps.pass(&name);
    } else {
        steps.fail(&name, &differ.join("; "));
    }
}

fn bench(steps: &mut Steps, extra: &[String]) {
    setup::run(steps, setup::Needs::all());
    let Some(python) = setup::numpy_venv(steps) else {
        return;
    };
    let Some(fnp) = fnp(steps) else {
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let env = [("FNP_ORACLE_PYTHON", python.as_str())];
    let mut args = vec!["bench", "--out", "artifacts/baselines/host.json"];
    args.extend(extra.iter().map(String::as_str));
    steps.run_env("fnp vs NumPy (host)", &fnp, &args, &env);
    steps.run(
        "instructions per element (QEMU boards)",
        &fnp,
        &[
            "bench",
            "--device",
            "--out",
            "artifacts/baselines/host.json",
        ],
    );
    steps.run(
        "bundle throughput vs par2",
        &fnp,
        &[
            "bundle",
            "bench",
            "--out",
            "artifacts/baselines/bundle.json",
        ],
    );
    seal(
        steps,
        &fnp,
        "artifacts/bundles/bench",
        &["artifacts/baselines"],
    );
}

fn oracles(steps: &mut Steps) {
    let Some(python) = setup::numpy_venv(steps) else {
        return;
    };
    let Some(fnp) = fnp(steps) else {
        return;
    };
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
            &fnp,
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
