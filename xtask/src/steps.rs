//! Running steps, collecting failures, printing the summary.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The steps of one xtask command and how each went.
pub struct Steps {
    command: String,
    root: PathBuf,
    results: Vec<(String, Result<(), String>, f64)>,
}

impl Steps {
    pub fn new(command: &str) -> Steps {
        // xtask lives one level below the workspace root.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Steps {
            command: command.to_string(),
            root,
            results: Vec::new(),
        }
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Runs `cargo <args>` in the workspace root.
    pub fn cargo(&mut self, name: &str, args: &[&str]) -> bool {
        self.cargo_env(name, args, &[])
    }

    pub fn cargo_env(&mut self, name: &str, args: &[&str], env: &[(&str, &str)]) -> bool {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        self.run_env(name, &cargo, args, env)
    }

    /// Runs a program in the workspace root.
    pub fn run(&mut self, name: &str, program: &str, args: &[&str]) -> bool {
        self.run_env(name, program, args, &[])
    }

    pub fn run_env(
        &mut self,
        name: &str,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> bool {
        let root = self.root.clone();
        self.run_in(name, &root, program, args, env)
    }

    /// Runs a program in `dir`, recording success or failure.
    pub fn run_in(
        &mut self,
        name: &str,
        dir: &Path,
        program: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> bool {
        println!("\n==> {name}\n    $ {program} {}", args.join(" "));
        let start = Instant::now();
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(dir);
        // An empty value removes the variable (e.g. a host CARGO_TARGET_DIR
        // that must not leak into the firmware workspace).
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let outcome = match cmd.status() {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("exited with {status}")),
            Err(err) => Err(format!("could not start `{program}`: {err}")),
        };
        let ok = outcome.is_ok();
        self.results
            .push((name.to_string(), outcome, start.elapsed().as_secs_f64()));
        ok
    }

    /// Records a step that succeeded without running a command.
    pub fn pass(&mut self, name: &str) {
        self.results.push((name.to_string(), Ok(()), 0.0));
    }

    /// Records a failed step.
    pub fn fail(&mut self, name: &str, why: &str) {
        eprintln!("\n==> {name}: FAILED: {why}");
        self.results
            .push((name.to_string(), Err(why.to_string()), 0.0));
    }

    /// Prints the summary and turns it into an exit code.
    pub fn finish(self) -> ExitCode {
        println!("\n── cargo xtask {} ── summary", self.command);
        let width = self
            .results
            .iter()
            .map(|(n, _, _)| n.len())
            .max()
            .unwrap_or(0);
        let mut failures = 0;
        for (name, outcome, secs) in &self.results {
            match outcome {
                Ok(()) => println!("  ok    {name:<width$}  {secs:>7.1}s"),
                Err(why) => {
                    failures += 1;
                    println!("  FAIL  {name:<width$}  {secs:>7.1}s  {why}");
                }
            }
        }
        println!(
            "xtask: {} passed, {} failed",
            self.results.len() - failures,
            failures
        );
        if failures == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
