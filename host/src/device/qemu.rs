//! `qemu:<board>` targets: the host starts QEMU, owns the emulated UART as
//! a Unix socket, waits for the firmware's Hello, streams cases, and
//! restarts the emulator after a hang or a crash.
//!
//! A target whose emulator cannot come back (the firmware ELF replaced or
//! deleted mid-run, QEMU gone) does not try forever: after
//! [`RESTART_LIMIT`] failed restarts in a row its [`Breaker`] trips, no
//! further emulator is started, and every case left is `crashed` with the
//! breaker's reason (which ELF, what QEMU said). The `--jobs` workers share
//! one breaker, so they all stop together.
//!
//! The emulator never outlives the host: it is killed on drop, and it is
//! started with `PR_SET_PDEATHSIG = SIGKILL`, so a host killed by a signal
//! (even SIGKILL) takes it along instead of leaving it spinning at 100 %
//! CPU. The death signal follows the *thread* that spawned the child, so
//! every emulator is spawned by one spawner thread that lives as long as the
//! process: targets may move between threads, and threads may come and go.

use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use fnp_core::wire::{Stats, PROTOCOL_VERSION};

use super::target::{Device, DeviceTarget};
use super::{Client, DeviceInfo, LinkError, Transport};
use crate::case::{Case, CaseOutcome};
use crate::target::Target;

pub use fnp_boards::{Board, BOARDS};

/// The board called `name`.
pub fn board(name: &str) -> anyhow::Result<&'static Board> {
    fnp_boards::board(name).map_err(anyhow::Error::msg)
}

/// The `firmware/` workspace: `FNP_FIRMWARE_DIR`, else next to this crate.
pub fn firmware_dir() -> PathBuf {
    fnp_boards::firmware_dir()
}

/// Where the release build of `board`'s firmware lands.
pub fn firmware_path(board: &Board) -> PathBuf {
    board.firmware().path()
}

/// Builds `board`'s firmware (release) and returns the ELF
/// ([`fnp_boards::build`], the one firmware build).
pub fn build_firmware(board: &Board) -> anyhow::Result<PathBuf> {
    Ok(fnp_boards::build(board.firmware(), true)?)
}

/// The firmware ELF for `board`: `FNP_FIRMWARE_<BOARD>` if set, else a
/// fresh release build. Cargo is asked every time (a no-op build takes
/// well under a second) so a run never tests firmware older than the
/// fnp-core beside it; only when cargo cannot be started at all is an
/// existing build used.
pub fn firmware(board: &Board) -> anyhow::Result<PathBuf> {
    let var = format!(
        "FNP_FIRMWARE_{}",
        board.name.to_uppercase().replace('-', "_")
    );
    if let Some(path) = std::env::var_os(&var) {
        return Ok(PathBuf::from(path));
    }
    match build_firmware(board) {
        Ok(path) => Ok(path),
        Err(e)
            if firmware_path(board).exists()
                && e.downcast_ref::<fnp_boards::BuildError>()
                    .is_some_and(fnp_boards::BuildError::is_spawn) =>
        {
            eprintln!(
                "warning: cannot run cargo ({e:#}); using the existing {}",
                firmware_path(board).display()
            );
            Ok(firmware_path(board))
        }
        Err(e) => Err(e),
    }
}

/// The emulated UART: a connected Unix socket.
pub struct UnixTransport {
    stream: UnixStream,
}

impl Transport for UnixTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// One running QEMU with its firmware, past the Hello handshake.
pub struct Emulator {
    child: Child,
    client: Client<UnixTransport>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

type SpawnRequest = (Command, std::sync::mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` on the process-wide spawner thread (see the module docs:
/// `PR_SET_PDEATHSIG` fires when the spawning *thread* exits).
fn spawn(cmd: Command) -> io::Result<Child> {
    static SPAWNER: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<SpawnRequest>>> =
        std::sync::OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("fnp-qemu-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // Never reached while the process lives: the sender is in
                // a static. Parking keeps the thread (and the children's
                // death signal) alive in any case.
                loop {
                    std::thread::park();
                }
            })
            .map(|_| ())
            .unwrap_or(());
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = std::sync::mpsc::channel();
    spawner
        .lock()
        .map_err(|_| io::Error::other("spawner lock poisoned"))?
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("spawner thread gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread gone"))?
}

/// How long a board may take from process start to Hello.
const BOOT_TIMEOUT: Duration = Duration::from_secs(20);

impl Emulator {
    /// Starts `board` running `elf` and waits for its Hello.
    pub fn start(board: &Board, elf: &Path) -> anyhow::Result<Emulator> {
        Emulator::start_within(board, elf, BOOT_TIMEOUT)
    }

    /// [`Emulator::start`] with `boot` as the longest wait for Hello.
    pub fn start_within(board: &Board, elf: &Path, boot: Duration) -> anyhow::Result<Emulator> {
        let dir = tempfile::Builder::new().prefix("fnp-qemu-").tempdir()?;
        let sock = dir.path().join("uart.sock");
        let log = dir.path().join("semihosting.log");
        // Bind before QEMU starts: it connects as a client, so there is no
        // port race and no polling for a server to come up.
        let listener = UnixListener::bind(&sock)?;
        listener.set_nonblocking(true)?;
        let out = std::fs::File::create(&log)?;
        let mut cmd = Command::new(board.qemu);
        cmd.args(board.machine)
            .args(["-display", "none", "-monitor", "none"])
            .arg("-chardev")
            .arg(format!("socket,id=u0,path={}", sock.display()))
            .args(["-serial", "chardev:u0"])
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            // Its own process group: a Ctrl-C in the terminal reaches fnp,
            // which finishes the running case and writes a partial report,
            // not the emulator (which would crash that case). The death
            // signal below still ends it with fnp.
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches only this child.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = spawn(cmd).with_context(|| {
            format!(
                "starting {} (is QEMU installed? cargo xtask setup)",
                board.qemu
            )
        })?;
        let deadline = Instant::now() + boot;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Some(status) = child.try_wait()? {
                        anyhow::bail!(
                            "{} exited before connecting ({status}): {}",
                            board.qemu,
                            tail(&log)
                        );
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        let _ = child.wait();
                        anyhow::bail!(
                            "{} did not connect its UART in time: {}",
                            board.qemu,
                            tail(&log)
                        );
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(e.into()),
            }
        };
        stream.set_nonblocking(false)?;
        let transport = UnixTransport { stream };
        match Client::connect(transport, deadline) {
            Ok(client) => Ok(Emulator {
                child,
                client,
                log,
                _dir: dir,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let why = match e {
                    LinkError::TimedOut => format!("none within {:.1} s", boot.as_secs_f64()),
                    e => e.to_string(),
                };
                Err(anyhow::anyhow!(
                    "{}: no Hello from firmware {}: {why}; QEMU log: {}",
                    board.name,
                    elf.display(),
                    tail(&log)
                ))
            }
        }
    }

    /// What the firmware said in Hello.
    pub fn info(&self) -> &DeviceInfo {
        self.client.info()
    }

    /// The client (to run cases).
    pub fn client(&mut self) -> &mut Client<UnixTransport> {
        &mut self.client
    }

    /// The end of the semihosting log.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    /// The exit status, if QEMU has exited (waits briefly: after a
    /// semihosting exit the socket closes just before the process ends).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        let until = Instant::now() + Duration::from_millis(500);
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) => return Some(s),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(5)),
                _ => return None,
            }
        }
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a QEMU log, led by QEMU's own last message if a
/// register dump pushed it out of them (`qemu: fatal: Lockup ...`).
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let (before, last) = lines.split_at(lines.len().saturating_sub(5));
    let said = before
        .iter()
        .rev()
        .find(|l| l.starts_with("qemu"))
        .filter(|_| !last.iter().any(|l| l.starts_with("qemu")));
    said.into_iter()
        .chain(last)
        .copied()
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Failed emulator restarts in a row after which a target gives up.
pub const RESTART_LIMIT: usize = 3;

/// The circuit breaker of a QEMU target (shared by all `--jobs` workers):
/// counts failed emulator starts in a row, and after `limit` of them trips
/// for good with a reason that names the firmware and what QEMU said.
/// A tripped breaker starts no emulator: the target's remaining cases are
/// `crashed` with [`Breaker::tripped`] as the detail.
#[derive(Debug)]
pub struct Breaker {
    limit: usize,
    failures: AtomicUsize,
    reason: OnceLock<String>,
    announced: AtomicBool,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::new(RESTART_LIMIT)
    }
}

impl Breaker {
    /// A breaker that trips after `limit` failed starts in a row (at least 1).
    pub fn new(limit: usize) -> Breaker {
        Breaker {
            limit: limit.max(1),
            failures: AtomicUsize::new(0),
            reason: OnceLock::new(),
            announced: AtomicBool::new(false),
        }
    }

    /// Why the breaker tripped, once it has.
    pub fn tripped(&self) -> Option<&str> {
        self.reason.get().map(String::as_str)
    }

    /// The reason, to the first caller after the trip only (for a message
    /// on the terminal that must appear once).
    pub fn announce(&self) -> Option<&str> {
        let reason = self.tripped()?;
        (!self.announced.swap(true, Ordering::SeqCst)).then_some(reason)
    }

    /// A start reached Hello: the count of failures in a row starts over.
    pub fn succeeded(&self) {
        self.failures.store(0, Ordering::SeqCst);
    }

    /// A start failed with `error`; trips the breaker on the `limit`-th
    /// failure in a row. Returns the breaker's reason once tripped.
    pub fn failed(&self, what: &str, error: &anyhow::Error) -> Option<&str> {
        let n = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
        if n >= self.limit {
            let _ = self.reason.set(format!(
                "circuit breaker: {n} emulator starts in a row failed, so {what} stops here and \
                 its remaining cases are not run; last failure: {error:#}"
            ));
        }
        self.tripped()
    }
}

/// How a breaker names the target it stops.
fn subject(board: &Board, elf: &Path) -> String {
    format!("qemu:{} (firmware {})", board.name, elf.display())
}

/// Counters a QEMU target keeps across restarts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetCounters {
    /// Emulator starts, the first included (attempts: failed ones too).
    pub starts: usize,
    /// Starts that did not reach a Hello from the right board.
    pub failed_starts: usize,
    /// Cases that ended in a crash.
    pub crashed: usize,
    /// Cases that ended in a timeout.
    pub timed_out: usize,
}

/// An emulated board as a [`Device`]: QEMU running the firmware, started
/// again after a hang or a crash unless the [`Breaker`] has tripped.
pub struct Qemu {
    board: &'static Board,
    elf: PathBuf,
    emulator: Option<Emulator>,
    /// What the first emulator's Hello called the board; a restarted one
    /// must say the same.
    said: String,
    base_timeout: Duration,
    boot_timeout: Duration,
    breaker: Arc<Breaker>,
    starts: usize,
    failed_starts: usize,
}

/// `qemu:<board>`: a [`Target`] that runs cases on an emulated board.
pub type QemuTarget = DeviceTarget<Qemu>;

impl Qemu {
    fn running(&mut self) -> anyhow::Result<&mut Emulator> {
        if let Some(reason) = self.breaker.tripped() {
            // Another worker's breaker trip stops this one too.
            self.emulator = None;
            anyhow::bail!("{reason}");
        }
        if self.emulator.is_none() {
            self.starts += 1;
            match self.restart() {
                Ok(emulator) => {
                    self.breaker.succeeded();
                    self.emulator = Some(emulator);
                }
                Err(e) => {
                    self.failed_starts += 1;
                    let what = subject(self.board, &self.elf);
                    return Err(match self.breaker.failed(&what, &e) {
                        Some(reason) => anyhow::anyhow!("{reason}"),
                        None => e.context("emulator did not start"),
                    });
                }
            }
        }
        self.emulator
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("emulator not running"))
    }

    /// A fresh emulator that must be the same board as the first one (a
    /// replaced ELF may boot as something else).
    fn restart(&self) -> anyhow::Result<Emulator> {
        let emulator = Emulator::start_within(self.board, &self.elf, self.boot_timeout)?;
        let said = &emulator.info().target;
        anyhow::ensure!(
            *said == self.said,
            "firmware {} now says it is for {said:?}, not {}",
            self.elf.display(),
            self.said
        );
        Ok(emulator)
    }
}

impl Device for Qemu {
    type Transport = UnixTransport;

    fn name(&self) -> String {
        format!("qemu:{}", self.board.name)
    }

    fn client(&mut self) -> anyhow::Result<&mut Client<UnixTransport>> {
        self.running().map(Emulator::client)
    }

    /// The fixed part plus twice the transfer time at the board's UART
    /// speed.
    fn timeout(&self, wire_bytes: usize) -> Duration {
        let transfer =
            Duration::from_secs_f64(2.0 * wire_bytes as f64 / self.board.bytes_per_sec as f64);
        self.base_timeout + transfer
    }

    fn crash_detail(&mut self, error: &LinkError) -> String {
        match self.emulator.as_mut() {
            Some(em) => {
                let status = em
                    .exit_status()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "still running".into());
                format!("{error}; emulator {status}; log: {}", em.log_tail())
            }
            None => error.to_string(),
        }
    }

    fn disconnect(&mut self) {
        self.emulator = None;
    }

    fn fingerprint(&self, info: &DeviceInfo) -> Vec<(String, String)> {
        let size = std::fs::metadata(&self.elf).map(|m| m.len()).unwrap_or(0);
        vec![
            ("board".into(), self.board.name.into()),
            ("firmware".into(), self.elf.display().to_string()),
            ("firmware_elf_bytes".into(), size.to_string()),
            ("firmware_profile".into(), info.profile.clone()),
            (
                "max_frame_bytes".into(),
                info.limits.max_frame_bytes.to_string(),
            ),
            ("qemu".into(), self.board.qemu.into()),
            ("wire_protocol".into(), PROTOCOL_VERSION.to_string()),
        ]
        .into_iter()
        .chain(
            self.breaker
                .tripped()
                .map(|r| ("circuit_breaker".to_string(), r.to_string())),
        )
        .collect()
    }

    fn stop_notice(&self) -> Option<String> {
        self.breaker.announce().map(str::to_string)
    }
}

impl DeviceTarget<Qemu> {
    /// Starts `board` with `elf` (see [`firmware`]) and reads its limits.
    pub fn start(board: &'static Board, elf: PathBuf) -> anyhow::Result<QemuTarget> {
        let emulator = Emulator::start(board, &elf)?;
        let info = emulator.info().clone();
        anyhow::ensure!(
            info.target == board.name,
            "firmware {} says it is for {:?}, not {}",
            elf.display(),
            info.target,
            board.name
        );
        let qemu = Qemu {
            board,
            elf,
            emulator: Some(emulator),
            said: info.target.clone(),
            base_timeout: Duration::from_secs(10),
            boot_timeout: BOOT_TIMEOUT,
            breaker: Arc::new(Breaker::default()),
            starts: 1,
            failed_starts: 0,
        };
        Ok(DeviceTarget::new(qemu, info))
    }

    /// `qemu:<board>` from its board name, building the firmware if needed.
    pub fn from_name(board_name: &str) -> anyhow::Result<QemuTarget> {
        let board = board(board_name)?;
        let elf = firmware(board)?;
        QemuTarget::start(board, elf)
    }

    /// Sets the fixed part of the per-case timeout (transfer time at the
    /// board's UART speed is added per case).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.device_mut().base_timeout = timeout;
    }

    /// Sets the longest wait for Hello when the emulator restarts.
    pub fn set_boot_timeout(&mut self, boot: Duration) {
        self.device_mut().boot_timeout = boot;
    }

    /// Shares `breaker` with other targets (the `--jobs` workers): a trip
    /// seen by one stops them all.
    pub fn set_breaker(&mut self, breaker: Arc<Breaker>) {
        self.device_mut().breaker = breaker;
    }

    /// This target's circuit breaker.
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.device().breaker
    }

    /// Starts, crashes and timeouts so far.
    pub fn counters(&self) -> TargetCounters {
        let (crashed, timed_out) = self.failures();
        TargetCounters {
            starts: self.device().starts,
            failed_starts: self.device().failed_starts,
            crashed,
            timed_out,
        }
    }

    /// The running emulator (for tests that need to disturb it).
    pub fn emulator_mut(&mut self) -> Option<&mut Emulator> {
        self.device_mut().emulator.as_mut()
    }

    /// Device counters, including the painted peak stack.
    pub fn stats(&mut self) -> anyhow::Result<Stats> {
        let qemu = self.device_mut();
        let deadline = Instant::now() + qemu.base_timeout;
        Ok(qemu.running()?.client().stats(deadline)?)
    }
}

/// Runs `cases` on `jobs` emulators of `board` in parallel and returns the
/// outcomes in case order. Workers take the next case from a shared
/// counter, so a slow case does not hold up a whole shard; each case's
/// outcome does not depend on which worker ran it. Cases outside the
/// board's limits are `unsupported` without being sent. The workers share
/// one [`Breaker`]: once it trips, every worker stops starting emulators and
/// the cases left are `crashed` with its reason. A worker whose first
/// emulator does not start counts as a failed start and leaves the cases
/// to the others; only when no worker starts is the run an error.
pub fn run_parallel(
    board: &'static Board,
    elf: &Path,
    cases: &[Case],
    jobs: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<CaseOutcome>> {
    let timed = run_parallel_timed(board, elf, cases, jobs, timeout, &|_, _| {})?;
    Ok(timed.into_iter().map(|(o, _)| o).collect())
}

/// [`run_parallel`] with how long each case took (wall time of its round
/// trip, restarts included), calling `done(i, stop)` as case `i` finishes
/// (from the worker threads: for a progress bar); `stop` is the circuit
/// breaker's reason on the one call after it tripped, else `None`.
pub fn run_parallel_timed(
    board: &'static Board,
    elf: &Path,
    cases: &[Case],
    jobs: usize,
    timeout: Duration,
    done: &(dyn Fn(usize, Option<&str>) + Sync),
) -> anyhow::Result<Vec<(CaseOutcome, Duration)>> {
    let breaker = Arc::new(Breaker::default());
    run_parallel_with(board, elf, cases, jobs, timeout, &breaker, done)
}

/// [`run_parallel_timed`] with the caller's breaker (to choose its limit,
/// or to look at it afterwards).
pub fn run_parallel_with(
    board: &'static Board,
    elf: &Path,
    cases: &[Case],
    jobs: usize,
    timeout: Duration,
    breaker: &Arc<Breaker>,
    done: &(dyn Fn(usize, Option<&str>) + Sync),
) -> anyhow::Result<Vec<(CaseOutcome, Duration)>> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<(CaseOutcome, Duration)>>> = Mutex::new(vec![None; cases.len()]);
    let jobs = jobs.clamp(1, cases.len().max(1));
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    // Created on this thread: the emulator's death signal
                    // follows it.
                    let mut target = match QemuTarget::start(board, elf.to_path_buf()) {
                        Ok(t) => t,
                        Err(e) => {
                            // A first start counts like a restart: the
                            // others run the cases, unless none started.
                            breaker.failed(&subject(board, elf), &e);
                            return Err(e);
                        }
                    };
                    target.set_timeout(timeout);
                    target.set_breaker(Arc::clone(breaker));
                    let limits = target.limits();
                    loop {
                        if crate::outdir::interrupted().is_some() {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(i) else { break };
                        let t0 = std::time::Instant::now();
                        let outcome = match limits.refuse(case) {
                            Some(reason) => CaseOutcome::Unsupported { reason },
                            None => target.run_case(case),
                        };
                        let took = t0.elapsed();
                        if let Ok(mut all) = outcomes.lock() {
                            if let Some(slot) = all.get_mut(i) {
                                *slot = Some((outcome, took));
                            }
                        }
                        done(i, breaker.announce());
                    }
                    Ok(())
                })
            })
            .collect();
        let mut started = 0;
        let mut first_error = None;
        for w in workers {
            match w
                .join()
                .map_err(|_| anyhow::anyhow!("a worker thread panicked"))?
            {
                Ok(()) => started += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if started == 0 => Err(e),
            _ => Ok(()),
        }
    })?;
    let all = outcomes
        .into_inner()
        .map_err(|_| anyhow::anyhow!("outcome table poisoned"))?;
    Ok(all
        .into_iter()
        .map(|o| {
            o.unwrap_or((
                CaseOutcome::Crashed {
                    detail: "no worker ran this case".into(),
                },
                Duration::ZERO,
            ))
        })
        .collect())
}

/// `fnp run --target qemu:<board> --jobs N`: builds the firmware once, then
/// runs `cases` on `jobs` emulators ([`run_parallel`]). Combine with
/// [`super::in_shard`] to run only this machine's `--shard k/n`.
pub fn run_jobs(
    board_name: &str,
    cases: &[Case],
    jobs: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<CaseOutcome>> {
    let b = board(board_name)?;
    let elf = firmware(b)?;
    run_parallel(b, &elf, cases, jobs, timeout)
}

/// [`run_jobs`] with each case's duration, calling `done` per finished
/// case ([`run_parallel_timed`]).
pub fn run_jobs_timed(
    board_name: &str,
    cases: &[Case],
    jobs: usize,
    timeout: Duration,
    done: &(dyn Fn(usize, Option<&str>) + Sync),
) -> anyhow::Result<Vec<(CaseOutcome, Duration)>> {
    let b = board(board_name)?;
    let elf = firmware(b)?;
    run_parallel_timed(b, &elf, cases, jobs, timeout, done)
}
