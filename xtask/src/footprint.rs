//! `cargo xtask footprint`: what each typed fnp-core call costs a firmware
//! on thumbv7m (lm3s6965evb under QEMU): the stack the call uses, painted
//! and scanned by `firmware/footprint`, and the flash it adds, `llvm-size`
//! of a build making that call minus a build making none. One build per
//! call (the call is chosen at compile time), so the flash column is what
//! a firmware linking only that op pays.
//!
//! Writes `fnp-core/FOOTPRINT.md` (the table fnp-core's docs include as
//! `fnp_core::footprint`) and `artifacts/footprint.json`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::steps::Steps;

/// The board the probe runs on (its triple, QEMU machine and arguments
/// come from the board description).
const BOARD: &str = "lm3s6965evb";
const PACKAGE: &str = "fnp-footprint";
/// The stack each typed call should stay within (the firmware-author issue).
const STACK_GOAL: usize = 1024;

/// One measured call.
struct Row {
    op: String,
    dtype: String,
    stack: usize,
    flash: i64,
}

pub fn run(steps: &mut Steps) {
    match measure(steps.root()) {
        Ok(0) => steps.pass("footprint: every typed call within 1 KiB of stack"),
        Ok(over) => steps.fail(
            "footprint",
            &format!(
                "{over} typed calls use more than {STACK_GOAL} B of stack (fnp-core/FOOTPRINT.md)"
            ),
        ),
        Err(err) => steps.fail("footprint", &format!("{err:#}")),
    }
}

/// The probe on one call (`mean`), for `cargo xtask test`: it builds, runs
/// on QEMU and reports a stack depth (the full table is `cargo xtask
/// footprint`, one build per op).
pub fn smoke(steps: &mut Steps) {
    let name = "footprint probe on QEMU (mean)";
    match build_and_run(steps.root(), "mean") {
        Ok((_, (op, _, stack, true))) if op == "mean" && stack > 0 => steps.pass(name),
        Ok((_, line)) => steps.fail(name, &format!("unexpected report {line:?}")),
        Err(err) => steps.fail(name, &format!("{err:#}")),
    }
}

/// Measures every call, writes the table and the JSON; returns how many
/// calls are over the stack goal.
fn measure(root: &Path) -> anyhow::Result<usize> {
    let ops: Vec<String> = fnp_core::Op::all()
        .map(|op| op.name().to_string())
        .chain(["std_ddof".to_string()])
        .collect();
    // The baseline makes no call but reports through the same harness: its
    // text and its (harness-only) stack are subtracted from every row.
    let (base_text, base) = build_and_run(root, "")?;
    if base.1 != "-" {
        bail!("the baseline build made a call: {base:?}");
    }
    let base_stack = base.2;
    let mut rows = Vec::new();
    for (k, op) in ops.iter().enumerate() {
        let (text, (name, dtype, stack, ok)) = build_and_run(root, op)?;
        if name != *op || !ok {
            bail!("footprint of {op}: the call returned an error ({name} {dtype})");
        }
        let flash = text as i64 - base_text as i64;
        let stack = stack.saturating_sub(base_stack);
        eprintln!(
            "[{:>3}/{}] {op:<16} {dtype:<8} stack {stack:>5} B  flash {flash:>6} B",
            k + 1,
            ops.len()
        );
        rows.push(Row {
            op: op.clone(),
            dtype,
            stack,
            flash,
        });
    }
    let over = rows.iter().filter(|r| r.stack > STACK_GOAL).count();
    std::fs::write(root.join("fnp-core/FOOTPRINT.md"), table(&rows, base_text))?;
    let dir = root.join("artifacts");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("footprint.json"),
        json(
            &rows,
            base_text,
            fnp_boards::board(BOARD).map_err(anyhow::Error::msg)?.triple,
        ),
    )?;
    eprintln!("footprint: wrote fnp-core/FOOTPRINT.md and artifacts/footprint.json");
    Ok(over)
}

/// Builds the probe for `op` and runs it on QEMU: its text size and its
/// report line `(op, dtype, stack bytes, ok)`.
fn build_and_run(root: &Path, op: &str) -> anyhow::Result<(u64, (String, String, usize, bool))> {
    let board = fnp_boards::board(BOARD).map_err(anyhow::Error::msg)?;
    let dir = root.join("firmware");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env("FNP_FOOTPRINT_OP", op)
        .args([
            "build",
            "-q",
            "--release",
            "-p",
            PACKAGE,
            "--target",
            board.triple,
        ])
        .status()
        .context("running cargo for the footprint probe")?;
    if !status.success() {
        bail!("building the footprint probe for `{op}` failed");
    }
    let elf = dir
        .join("target")
        .join(board.triple)
        .join("release")
        .join(PACKAGE);
    let text = text_size(&elf)?;
    let out = crate::firmware::run_semihosted(board, &elf)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the footprint probe for `{op}` failed on QEMU ({}): {stdout}",
            out.status
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("footprint "))
        .with_context(|| format!("no report line from the probe for `{op}`: {stdout}"))?;
    let f: Vec<&str> = line.split_whitespace().collect();
    match f.as_slice() {
        [name, dtype, "stack", bytes, status] => Ok((
            text,
            (
                name.to_string(),
                dtype.to_string(),
                bytes.parse().context("stack bytes")?,
                *status == "ok",
            ),
        )),
        _ => bail!("unexpected report line `{line}`"),
    }
}

/// `.text` + `.rodata` + `.vector_table` of an ELF: llvm-size's text column.
fn text_size(elf: &Path) -> anyhow::Result<u64> {
    let out = Command::new(crate::panics::llvm_tool("llvm-size")?)
        .arg(elf)
        .output()
        .context("running llvm-size")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .with_context(|| format!("llvm-size output: {stdout}"))
}

fn table(rows: &[Row], base_text: u64) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# What each typed call costs a firmware\n\n\
         Measured by `cargo xtask footprint` on thumbv7m (Cortex-M3, soft float;\n\
         QEMU lm3s6965evb), fnp-core with the `small` feature, opt-level \"z\",\n\
         fat LTO, 16-element operands.\n\n\
         - **Stack**: the deepest stack the call used, painted below the caller\n  \
         and scanned afterwards (the probe's own overhead, measured without a\n  \
         call, subtracted).\n\
         - **Flash**: text bytes of a firmware making only that call, minus one\n  \
         making none ({base_text} B: runtime, semihosting and the report line).\n  \
         Calls share code, so two ops cost less than the sum of their rows.\n\n\
         The goal is at most {STACK_GOAL} B of stack per call (⚠: over it).\n\n\
         | call | dtype | stack (B) | flash (B) |\n|---|---|---:|---:|"
    );
    for r in rows {
        let mark = if r.stack > STACK_GOAL { " ⚠" } else { "" };
        let _ = writeln!(
            s,
            "| `{}` | {} | {}{} | {} |",
            r.op, r.dtype, r.stack, mark, r.flash
        );
    }
    s
}

fn json(rows: &[Row], base_text: u64, triple: &str) -> String {
    let mut s = format!(
        "{{\n  \"target\": \"{triple}\",\n  \"baseline_text\": {base_text},\n  \"stack_goal\": {STACK_GOAL},\n  \"rows\": ["
    );
    for (k, r) in rows.iter().enumerate() {
        let sep = if k + 1 == rows.len() { "" } else { "," };
        let _ = write!(
            s,
            "\n    {{\"op\": \"{}\", \"dtype\": \"{}\", \"stack\": {}, \"flash\": {}}}{sep}",
            r.op, r.dtype, r.stack, r.flash
        );
    }
    s.push_str("\n  ]\n}\n");
    s
}
