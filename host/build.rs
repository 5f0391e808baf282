//! Records the target triple for report fingerprints.
fn main() {
    if let Ok(target) = std::env::var("TARGET") {
        println!("cargo:rustc-env=FNP_BUILD_TARGET={target}");
    }
}
