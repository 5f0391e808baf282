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
use fnp_host::case::CaseOutcome;
use fnp_host::device::qemu::{board, build_firmware, run_jobs, QemuTarget};
use fnp_host::device::{in_shard, Reply};
use fnp_host::target::{HostTarget, Target};

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
    for case in cases().into_iter().chain(reduction_cases()) {
        let device = target.run_case(&case);
        let host = HostTarget::default().run_case(&case);
        if host_runs(&host) {
            assert_eq!(describe(&case, &device), describe(&case, &host), "{name}");
        }
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
        method: 0,
        mode: 0,
        params: wire::Params::default(),
        inputs: Bounded::from_slice(&[huge, small]).unwrap(),
        where_mask: None,
        out: Bounded::default(),
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
    let expected = describe(c, &HostTarget::default().run_case(c));

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
    let all: Vec<_> = (0..6).flat_map(|_| cases()).collect();
    // This machine's shard 2 of 3, on two emulators.
    let mine: Vec<_> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| in_shard(*i, 2, 3))
        .map(|(_, c)| c.clone())
        .collect();
    let t0 = Instant::now();
    let outcomes = run_jobs("lm3s6965evb", &mine, 2, Duration::from_secs(10)).unwrap();
    assert_eq!(outcomes.len(), all.len() / 3);
    let all = mine;
    let secs = t0.elapsed().as_secs_f64();
    for (case, outcome) in all.iter().zip(&outcomes) {
        assert_eq!(
            describe(case, outcome),
            describe(case, &HostTarget::default().run_case(case))
        );
    }
    eprintln!(
        "lm3s6965evb --shard 2/3 --jobs 2: {} cases in {secs:.2} s (incl. 2 boots)",
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

/// A tool from the toolchain's llvm-tools component.
fn llvm_tool(name: &str) -> PathBuf {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = String::from_utf8(sysroot.stdout).unwrap();
    std::fs::read_dir(PathBuf::from(sysroot.trim()).join("lib/rustlib"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin").join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} (rustup component add llvm-tools)"))
}

/// Symbol addresses of a firmware ELF, from the toolchain's llvm-nm.
fn symbols(elf: &std::path::Path) -> std::collections::HashMap<String, u64> {
    let out = std::process::Command::new(llvm_tool("llvm-nm"))
        .arg(elf)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let addr = u64::from_str_radix(it.next()?, 16).ok()?;
            let _kind = it.next()?;
            Some((it.next()?.to_string(), addr))
        })
        .collect()
}

#[test]
fn stacks_sit_below_the_statics_so_an_overflow_faults() {
    // flip-link: the stack grows down from the start of .data/.bss toward
    // the start of RAM; one word further is not RAM, a fault, not .bss.
    for (name, ram) in [("lm3s6965evb", 0x2000_0000u64), ("mps2-an386", 0x2000_0000)] {
        let s = symbols(&build_firmware(board(name).unwrap()).unwrap());
        assert_eq!(s["_stack_start"], s["__sdata"], "{name}");
        assert!(
            s["__sbss"] >= s["_stack_start"] && s["_stack_start"] > ram,
            "{name}"
        );
    }
    // RISC-V: the stack region sits on a PMP-locked guard page, below .data.
    let s = symbols(&build_firmware(board("riscv-virt").unwrap()).unwrap());
    assert_eq!(s["_fnp_stack_bottom"], s["_fnp_guard"] + 4096);
    assert!(s["_stack_start"] <= s["__sdata"]);
}

#[test]
fn a_stack_overflow_faults_instead_of_corrupting_statics() {
    let dir = fnp_host::device::qemu::firmware_dir();
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .current_dir(&dir)
        .env_remove("CARGO_TARGET_DIR")
        .args(["build", "-q", "--release", "-p", "fnp-fw-lm3s6965evb"])
        .args(["--example", "overflow", "--target", "thumbv7m-none-eabi"])
        .status()
        .unwrap();
    assert!(status.success());
    let elf = dir.join("target/thumbv7m-none-eabi/release/examples/overflow");
    let out = std::process::Command::new("qemu-system-arm")
        .args(["-cpu", "cortex-m3", "-machine", "lm3s6965evb"])
        .args(["-display", "none", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(&elf)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    // The recursion never returns: the first push below RAM faults, and the
    // fault cannot even stack its frame there (lockup), so QEMU stops.
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("overflow: recursing"), "{text}");
    assert!(!text.contains("returned"), "{text}");
    assert!(
        text.contains("Lockup") || text.contains("HardFault"),
        "{text}"
    );
}

/// Child half of the next test: start an emulator, write its pid to
/// `FNP_ORPHAN_PIDFILE`, wait to be killed.
#[test]
#[ignore]
fn orphan_child() {
    let Some(pidfile) = std::env::var_os("FNP_ORPHAN_PIDFILE") else {
        return;
    };
    let mut target = start("lm3s6965evb");
    let pid = target.emulator_mut().unwrap().pid();
    std::fs::write(pidfile, pid.to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_host_takes_its_emulator_along() {
    build_firmware(board("lm3s6965evb").unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphan_child",
            "--ignored",
            "--test-threads",
            "1",
        ])
        .env("FNP_ORPHAN_PIDFILE", &pidfile)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    let pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(Instant::now() < until, "child never started its emulator");
        std::thread::sleep(Duration::from_millis(20));
    };
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    };
    assert!(alive(pid));
    // SIGKILL: no destructor and no signal handler runs in the host.
    child.kill().unwrap();
    child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "QEMU {pid} outlived the killed host");
}

/// Panic freedom checked, not hoped: in the linked firmware, no function of
/// the wire layer, the serve loop or the board code calls a panic entry
/// point (bounds, slice-index or formatting panics). The optimiser removes
/// every such call it can prove unreachable, so a call left over is a path
/// that might panic on some input.
#[test]
fn the_wire_layer_in_firmware_has_no_panic_paths() {
    for (name, crate_name) in [
        ("lm3s6965evb", "fnp_fw_lm3s6965evb"),
        ("mps2-an386", "fnp_fw_mps2_an386"),
        ("riscv-virt", "fnp_fw_riscv_virt"),
    ] {
        let elf = build_firmware(board(name).unwrap()).unwrap();
        let out = std::process::Command::new(llvm_tool("llvm-objdump"))
            .args(["-d", "--demangle", "--no-show-raw-insn"])
            .arg(&elf)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut function = String::new();
        let mut offenders = Vec::new();
        for line in text.lines() {
            if line.ends_with(">:") {
                function = line.to_string();
            } else if [
                "<core::panicking",
                "<core::slice::index::slice_index_fail",
                "len_mismatch_fail>",
            ]
            .iter()
            .any(|p| line.contains(p))
                && ["fnp_core::wire", "fnp_fw_common", crate_name]
                    .iter()
                    .any(|c| function.contains(c))
            {
                offenders.push(format!("{function} {}", line.trim()));
            }
        }
        assert!(offenders.is_empty(), "{name}: {offenders:#?}");
    }
}

#[test]
fn an_emulator_outlives_the_thread_that_started_it() {
    // PR_SET_PDEATHSIG follows the spawning thread; emulators are spawned
    // by a process-wide thread, so a target may move between threads.
    let mut target = std::thread::spawn(|| start("lm3s6965evb")).join().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let c = &cases()[0];
    assert_eq!(
        describe(c, &target.run_case(c)),
        describe(c, &HostTarget::default().run_case(c))
    );
    assert_eq!(target.counters().starts, 1);
}

#[test]
fn the_device_answers_bad_frames_with_distinct_errors_and_keeps_serving() {
    use fnp_core::wire::{decode, encode, FrameEncoder, Message};
    use fnp_host::device::Transport;
    let mut target = start("lm3s6965evb");
    let max = target.info().limits.max_frame_bytes as usize;
    let em = target.emulator_mut().unwrap();
    let client = em.client();
    let soon = || Instant::now() + Duration::from_secs(10);
    let mut reason_of = |bytes: Vec<u8>| {
        let link = client.link_mut();
        link.transport_mut().send(&bytes).unwrap();
        let payload = link.recv_payload(soon()).unwrap();
        let msg = decode(&payload).unwrap();
        match msg {
            Message::Error(e) => (Reason::try_from(e.reason).unwrap(), e.detail),
            other => panic!("{other:?}"),
        }
    };
    let frame_of = |tag: u8, body: &[u8]| {
        let mut out = Vec::new();
        let mut enc = FrameEncoder::new(|b: &[u8]| out.extend_from_slice(b));
        enc.write(&[tag]);
        enc.write(body);
        enc.finish();
        out
    };
    let mut stats = Vec::new();
    encode(&Message::GetStats, |b| stats.extend_from_slice(b)).unwrap();
    let mut bad_crc = stats.clone();
    bad_crc[1] ^= 0x20;
    assert_eq!(reason_of(bad_crc).0, Reason::BadCrc);
    assert_eq!(reason_of(frame_of(0x77, &[])), (Reason::UnknownTag, 0x77));
    assert_eq!(reason_of(frame_of(2, &[7])).0, Reason::Truncated);
    assert_eq!(reason_of(vec![0x05, 1, 2, 0]).0, Reason::BadCobs);
    let mut stats_reply = Vec::new();
    encode(&Message::Stats(Default::default()), |b| {
        stats_reply.extend_from_slice(b)
    })
    .unwrap();
    assert_eq!(reason_of(stats_reply), (Reason::UnexpectedMessage, 6));
    assert_eq!(
        // id, op, method, mode, axis None, no axes, keepdims = 2.
        reason_of(frame_of(2, &[7, 0, 0, 0, 1, 0, 2])).0,
        Reason::Malformed
    );
    // Longer than the board's receive buffer: dropped up to its delimiter.
    assert_eq!(
        reason_of(frame_of(2, &vec![1u8; max + 10])).0,
        Reason::Oversize
    );
    // And the next case is served normally.
    let c = &cases()[0];
    assert_eq!(
        describe(c, &target.run_case(c)),
        describe(c, &HostTarget::default().run_case(c))
    );
}

#[test]
fn adversarial_frames_are_refused_without_a_reset() {
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/frames/adversarial.json");
    let frames = fnp_host::frames::load(&fixture).unwrap();
    for name in ["lm3s6965evb", "riscv-virt"] {
        let mut target = start(name);
        let outcomes = target.run_frames(&frames);
        for (f, o) in frames.iter().zip(&outcomes) {
            assert!(fnp_host::frames::passed(f, o), "{name} {}: {o:?}", f.id);
        }
        // One emulator start for all of them, and it still computes.
        assert_eq!(target.counters().starts, 1, "{name}");
        let c = case("after", "add", vec![i32s(&[1], &[2]), i32s(&[1], &[3])]);
        assert!(
            matches!(target.run_case(&c), CaseOutcome::Ok { .. }),
            "{name}"
        );
    }
}

/// Whether `bin` is missing from PATH; says so, so a machine without QEMU
/// skips the breaker tests with a reason instead of failing them.
fn qemu_missing(bin: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()));
    if !found {
        eprintln!("skipped: {bin} is not on PATH (cargo xtask setup installs it)");
    }
    !found
}

/// The lm3s6965evb firmware copied to a temporary path the test may break.
fn firmware_copy() -> (tempfile::TempDir, PathBuf) {
    let built = build_firmware(board("lm3s6965evb").unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("fnp-fw-lm3s6965evb.elf");
    std::fs::copy(&built, &elf).unwrap();
    (dir, elf)
}

/// Starts lm3s6965evb from a copy of its firmware, runs a few cases, then
/// breaks the ELF with `broken` and kills the emulator, so every later
/// case needs a restart that cannot succeed. Returns the target, the ELF
/// path and the outcomes of `n` further cases with how long they took.
fn run_after_firmware_breaks(
    broken: &[u8],
    boot: Option<Duration>,
    n: usize,
) -> (
    QemuTarget,
    PathBuf,
    Vec<CaseOutcome>,
    Duration,
    tempfile::TempDir,
) {
    let (dir, elf) = firmware_copy();
    let mut target = QemuTarget::start(board("lm3s6965evb").unwrap(), elf.clone()).unwrap();
    if let Some(boot) = boot {
        target.set_boot_timeout(boot);
    }
    for c in cases().iter().take(3) {
        assert_eq!(
            describe(c, &target.run_case(c)),
            describe(c, &HostTarget::default().run_case(c))
        );
    }
    std::fs::write(&elf, broken).unwrap();
    let pid = target.emulator_mut().unwrap().pid() as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let c = &cases()[0];
    let t0 = Instant::now();
    let outcomes: Vec<CaseOutcome> = (0..n).map(|_| target.run_case(c)).collect();
    (target, elf, outcomes, t0.elapsed(), dir)
}

/// The first case sees the dead emulator, the next RESTART_LIMIT each try
/// one restart; from the RESTART_LIMIT-th failure on every case is
/// `crashed` with the breaker's reason, naming the ELF.
fn assert_breaker_tripped(target: &QemuTarget, elf: &std::path::Path, outcomes: &[CaseOutcome]) {
    use fnp_host::device::qemu::RESTART_LIMIT;
    let counters = target.counters();
    assert_eq!(
        (counters.starts, counters.failed_starts),
        (1 + RESTART_LIMIT, RESTART_LIMIT),
        "bounded restarts: {counters:?}"
    );
    let reason = target.breaker().tripped().expect("the breaker tripped");
    assert!(reason.contains("circuit breaker"), "{reason}");
    assert!(reason.contains(&elf.display().to_string()), "{reason}");
    // Under load QEMU may not even connect its UART within a short boot
    // timeout; either way the start failed and says why.
    assert!(
        reason.contains("no Hello from firmware") || reason.contains("did not connect its UART"),
        "{reason}"
    );
    for (i, o) in outcomes.iter().enumerate() {
        let CaseOutcome::Crashed { detail } = o else {
            panic!("case {i}: {o:?}")
        };
        assert_eq!(detail == reason, i >= RESTART_LIMIT, "case {i}: {detail}");
    }
    assert_eq!(target.stop_notice().as_deref(), Some(reason));
    assert_eq!(target.stop_notice(), None, "announced once");
}

#[test]
fn a_firmware_that_stops_booting_trips_the_breaker_instead_of_retrying_per_case() {
    if qemu_missing("qemu-system-arm") {
        return;
    }
    // An empty ELF: QEMU starts, finds no vector table, locks up and exits.
    let n = 200;
    let (target, elf, outcomes, took, _dir) = run_after_firmware_breaks(&[], None, n);
    eprintln!(
        "{n} cases after the firmware broke: {:.2} s, {:?}",
        took.as_secs_f64(),
        target.counters()
    );
    assert_breaker_tripped(&target, &elf, &outcomes);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn a_firmware_that_hangs_at_boot_trips_the_breaker_within_its_boot_timeouts() {
    use fnp_host::device::qemu::RESTART_LIMIT;
    if qemu_missing("qemu-system-arm") {
        return;
    }
    // Garbage: QEMU loads it as a raw image and runs it without ever
    // sending Hello, so each restart costs a whole boot timeout.
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    // Short, but not so short that a loaded CI machine cannot start QEMU.
    let boot = Duration::from_secs(5);
    let n = 100;
    let (target, elf, outcomes, took, _dir) = run_after_firmware_breaks(&garbage, Some(boot), n);
    eprintln!(
        "{n} cases after the firmware broke (boot timeout {boot:?}): {:.2} s, {:?}",
        took.as_secs_f64(),
        target.counters()
    );
    assert_breaker_tripped(&target, &elf, &outcomes);
    assert!(
        took < boot * RESTART_LIMIT as u32 + Duration::from_secs(10),
        "{took:?}"
    );
}

/// QEMUs that are children of this process and run `elf`.
fn emulators_running(elf: &std::path::Path) -> Vec<i32> {
    let me = std::process::id().to_string();
    let needle = elf.display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let ppid = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().nth(1));
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            ppid == Some(me.as_str()) && String::from_utf8_lossy(&cmdline).contains(&needle)
        })
        .collect()
}

#[test]
fn all_jobs_workers_stop_when_the_breaker_trips() {
    use fnp_host::device::qemu::{run_parallel_with, Breaker, RESTART_LIMIT};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    if qemu_missing("qemu-system-arm") {
        return;
    }
    let (_dir, elf) = firmware_copy();
    let jobs = 2;
    let n = 400;
    let all: Vec<_> = (0..n).map(|_| cases()[0].clone()).collect();
    let breaker = Arc::new(Breaker::default());
    let finished = AtomicUsize::new(0);
    let broke = AtomicBool::new(false);
    let announced = AtomicUsize::new(0);
    let t0 = Instant::now();
    let outcomes = run_parallel_with(
        board("lm3s6965evb").unwrap(),
        &elf,
        &all,
        jobs,
        Duration::from_secs(10),
        &breaker,
        &|_, stop| {
            if stop.is_some() {
                announced.fetch_add(1, Ordering::SeqCst);
            }
            // After 10 good cases: the ELF is gone bad and both emulators die.
            if finished.fetch_add(1, Ordering::SeqCst) + 1 == 10
                && !broke.swap(true, Ordering::SeqCst)
            {
                std::fs::write(&elf, b"").unwrap();
                for pid in emulators_running(&elf) {
                    // SAFETY: signalling our own child processes.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            }
        },
    )
    .unwrap();
    let took = t0.elapsed();
    let reason = breaker.tripped().expect("the breaker tripped").to_string();
    let tripped = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, CaseOutcome::Crashed { detail } if *detail == reason))
        .count();
    let ok = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, CaseOutcome::Ok { .. }))
        .count();
    eprintln!(
        "--jobs {jobs}: {n} cases in {:.2} s: {ok} ok, {tripped} stopped by the breaker",
        took.as_secs_f64()
    );
    assert!(reason.contains("circuit breaker") && reason.contains(&elf.display().to_string()));
    assert_eq!(announced.load(Ordering::SeqCst), 1, "announced once");
    // Every case is ok, lost with its emulator or a failed restart (at most
    // one per worker, and RESTART_LIMIT restarts in all before the trip
    // plus one in flight per other worker), or stopped by the breaker.
    let others = n - ok - tripped;
    assert!(
        others <= jobs + RESTART_LIMIT + jobs,
        "{others} other outcomes"
    );
    // The cases in flight when the ELF broke may still pass; the bulk after
    // it was never sent.
    assert!((10..100).contains(&ok), "{ok} ok, {tripped} tripped");
    // No emulator was left behind, and no case waited out a timeout.
    assert!(emulators_running(&elf).is_empty());
    assert!(took < Duration::from_secs(60), "{took:?}");
}

/// The process group of `pid`, from /proc (field 5 of `stat`, after the
/// parenthesised command name).
fn pgrp(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    after.split(' ').nth(2).unwrap().parse().unwrap()
}

/// A Ctrl-C in the terminal goes to the foreground process group: the
/// emulator must not be in fnp's, or it dies with the case it is running
/// instead of letting fnp finish that case and write a partial report.
#[test]
fn the_emulator_does_not_share_fnps_process_group() {
    let mut target = start("lm3s6965evb");
    let pid = target.emulator_mut().unwrap().pid();
    assert_eq!(pgrp(pid), pid, "QEMU leads a process group of its own");
    assert_ne!(pgrp(pid), pgrp(std::process::id()));
}
