//! Records the target triple and the compiler for report fingerprints: the
//! rustc that built `fnp` (and fnp-core inside it), not whichever rustc is
//! on PATH when it runs.
fn main() {
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo:rustc-env=FNP_BUILD_TARGET={target}");
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=FNP_BUILD_RUSTC={version}");
}
