//! `cargo xtask`: the single entry point for set-up, tests, conformance and benchmarks.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("xtask: not wired yet")
}
