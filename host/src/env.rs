//! Facts about the build and machine for report fingerprints.

use std::process::Command;

/// The target triple this `fnp` was built for.
pub fn host_triple() -> String {
    option_env!("FNP_BUILD_TARGET")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS))
}

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().map(|l| l.trim().to_string())
}

/// `rustc --version`, or "unknown".
pub fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    first_line(&rustc, &["--version"]).unwrap_or_else(|| "unknown".into())
}

/// The git commit of the working tree (with `-dirty` when it has changes),
/// or "unknown" outside a checkout.
pub fn fnp_commit() -> String {
    let Some(head) = first_line("git", &["rev-parse", "HEAD"]) else {
        return "unknown".into();
    };
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("{head}-dirty")
    } else {
        head
    }
}
