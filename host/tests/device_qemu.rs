//! Round trips through real firmware on QEMU: per board, every shared case
//! must give the host target's answer, and the outcomes must match the
//! golden file byte for byte (`FNP_OVERWRITE_GOLDEN=1` rewrites them on
//! purpose). Also: crash and hang recovery, `--jobs` sharding, peak stack.
//!
//! Needs qemu-system-arm / qemu-system-riscv32 and the firmware targets
//! (`cargo xtask setup`); builds the firmware itself.

mod device_common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use device_common::*;
use fnp_core::wire::{self, Bounded, Reason, WireArray};
use fnp_core::DType;
use fnp_host::device::qemu::{board, build_firmware, run_parallel, QemuTarget};
use fnp_host::device::Reply;
use fnp_host::target::{CaseOutcome, HostTarget, Target};

fn start(name: &str) -> QemuTarget {
    let b = board(name).unwrap();
    let elf = build_firmware(b).unwrap();
    QemuTarget::start(b, elf).unwrap()
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/device_{name}.out"))
}

fn round_trip(name: &str) {
    let mut target = start(name);
    let info = target.info().clone();
    let mut out = format!(
        "target {} protocol {} max_ndim {} dtypes {} ops {}\n",
        info.target,
        info.version,
        info.limits.max_ndim,
        info.dtypes.len(),
        info.ops.len()
    );
    for case in cases() {
        let device = target.run_case(&case);
        let host = HostTarget.run_case(&case);
        assert_eq!(describe(&case, &device), describe(&case, &host), "{name}");
        out.push_str(&describe(&case, &device));
        out.push('\n');
    }
    // Too big for the board's frame buffer: unsupported with the reason,
    // never sent.
    let n = info.limits.max_frame_bytes as usize / 4 + 1;
    let big = case(
        "too_big_frame",
        "add",
        vec![i32s(&[n], &vec![1; n]), i32s(&[1], &[1])],
    );
    match target.run_case(&big) {
        CaseOutcome::Unsupported { reason } => {
            assert!(reason.starts_with("too_large"), "{reason}");
            out.push_str("too_big_frame unsupported too_large\n");
        }
        other => panic!("{other:?}"),
    }
    let path = golden_path(name);
    if std::env::var_os("FNP_OVERWRITE_GOLDEN").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        out,
        golden,
        "{} differs (FNP_OVERWRITE_GOLDEN=1 to accept)",
        path.display()
    );

    let stats = target.stats().unwrap();
    assert!(stats.peak_stack_bytes > 0 && stats.peak_stack_bytes < stats.stack_bytes);
    eprintln!(
        "{name}: peak stack {} of {} bytes after {} cases",
        stats.peak_stack_bytes, stats.stack_bytes, stats.cases
    );
}

#[test]
fn lm3s6965evb_round_trip() {
    round_trip("lm3s6965evb");
}

#[test]
fn mps2_an386_round_trip() {
    round_trip("mps2-an386");
}

#[test]
fn riscv_virt_round_trip_counts_instructions() {
    round_trip("riscv-virt");
    let mut target = start("riscv-virt");
    let c = case(
        "count",
        "add",
        vec![i32s(&[64], &[1; 64]), i32s(&[64], &[2; 64])],
    );
    assert!(matches!(target.run_case(&c), CaseOutcome::Ok { .. }));
    let first = target.last_instructions().unwrap();
    assert!(matches!(target.run_case(&c), CaseOutcome::Ok { .. }));
    assert_eq!(
        target.last_instructions(),
        Some(first),
        "minstret under -icount is exact"
    );
    eprintln!("riscv-virt: add int32[64] took {first} instructions");
}

#[test]
fn a_32_bit_device_refuses_a_2_pow_40_shape() {
    let mut target = start("lm3s6965evb");
    let one = 1i32.to_le_bytes();
    let huge = WireArray {
        dtype: DType::Int32 as u8,
        weak: false,
        shape: Bounded::from_slice(&[1u64 << 40]).unwrap(),
        strides: Some(Bounded::from_slice(&[0]).unwrap()),
        offset: 0,
        data: &one,
    };
    let mut small = huge.clone();
    small.shape = Bounded::from_slice(&[1]).unwrap();
    small.strides = None;
    let w = wire::Case {
        id: 99,
        op: 0,
        mode: 0,
        params: wire::Params::default(),
        inputs: Bounded::from_slice(&[huge, small]).unwrap(),
        where_mask: None,
    };
    let em = target.emulator_mut().unwrap();
    match em
        .client()
        .run(&w, Instant::now() + Duration::from_secs(10))
        .unwrap()
    {
        Reply::Refused(e) => assert_eq!((e.reason, e.detail), (Reason::TooLarge, 1 << 40)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn crashes_and_hangs_restart_the_emulator_and_the_run_goes_on() {
    let mut target = start("lm3s6965evb");
    let c = &cases()[0];
    let expected = describe(c, &HostTarget.run_case(c));

    // Crash: the emulator dies under us.
    let pid = target.emulator_mut().unwrap().pid() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(50));
    assert!(matches!(target.run_case(c), CaseOutcome::Crashed { .. }));
    assert_eq!(describe(c, &target.run_case(c)), expected);

    // Hang: the emulator stops answering.
    target.set_timeout(Duration::from_millis(300));
    let pid = target.emulator_mut().unwrap().pid() as i32;
    // SAFETY: as above; the stopped child is killed by the restart.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    assert_eq!(target.run_case(c), CaseOutcome::TimedOut);
    target.set_timeout(Duration::from_secs(10));
    assert_eq!(describe(c, &target.run_case(c)), expected);

    let counters = target.counters();
    assert_eq!(
        (counters.starts, counters.crashed, counters.timed_out),
        (3, 1, 1)
    );
}

#[test]
fn jobs_shard_cases_over_emulators_with_the_same_outcomes() {
    let b = board("lm3s6965evb").unwrap();
    let elf = build_firmware(b).unwrap();
    let all: Vec<_> = (0..6).flat_map(|_| cases()).collect();
    let t0 = Instant::now();
    let outcomes = run_parallel(b, &elf, &all, 2).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    for (case, outcome) in all.iter().zip(&outcomes) {
        assert_eq!(
            describe(case, outcome),
            describe(case, &HostTarget.run_case(case))
        );
    }
    eprintln!(
        "lm3s6965evb --jobs 2: {} cases in {secs:.2} s (incl. 2 boots)",
        all.len()
    );
}

/// Cases per second over the wire for one small case, per board (printed;
/// run with --nocapture --ignored to see the numbers).
#[test]
#[ignore]
fn throughput() {
    for name in ["lm3s6965evb", "mps2-an386", "riscv-virt"] {
        let mut target = start(name);
        let c = case(
            "t",
            "add",
            vec![i32s(&[16], &[1; 16]), i32s(&[16], &[2; 16])],
        );
        let n = 200;
        let t0 = Instant::now();
        for _ in 0..n {
            assert!(matches!(target.run_case(&c), CaseOutcome::Ok { .. }));
        }
        let rate = n as f64 / t0.elapsed().as_secs_f64();
        let k = 1024;
        let big = case("k", "add", vec![i32s(&[k], &vec![1; k]), i32s(&[1], &[2])]);
        let m = 20;
        let t0 = Instant::now();
        for _ in 0..m {
            assert!(matches!(target.run_case(&big), CaseOutcome::Ok { .. }));
        }
        let big_rate = m as f64 / t0.elapsed().as_secs_f64();
        eprintln!("{name}: {rate:.0} cases/s (int32[16]+int32[16]), {big_rate:.1} cases/s (int32[1024]+int32[1], 4 KiB each way)");
    }
}
