//! The build script of every wire-server firmware crate (each names it
//! with `build = "../server-build.rs"`; cargo runs it in the crate's own
//! directory): puts the crate's memory.x on the linker path and records
//! the cargo profile.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    let profile = env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=FNP_PROFILE={profile}");
}
