//! Puts memory.x on the linker path and links defmt's section script
//! (only this binary uses defmt; the servers' link args stay as they are).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
    println!("cargo:rustc-link-arg-examples=-Tdefmt.x");
    println!("cargo:rerun-if-changed=memory.x");
}
