//! Device targets: the host end of the wire protocol.
//!
//! [`Link`] turns any byte [`Transport`] (a QEMU UART socket, an RTT
//! channel, an in-memory pipe) into frames; [`Client`] does the handshake
//! (waits for Hello, refuses another protocol version) and runs cases;
//! [`convert`] maps the corpus's [`crate::case::Case`] to a wire
//! [`fnp_core::wire::Case`] and a reply back to a
//! [`crate::case::CaseOutcome`]; [`target::DeviceTarget`] is the one
//! [`crate::target::Target`] over any device, and a [`target::Device`]
//! says how to reach one: [`qemu`] starts and supervises emulators, `probe`
//! (feature `probe`) attaches to boards over RTT. [`memory`] is the
//! in-memory transport every transport's tests share.

pub mod convert;
pub mod memory;
#[cfg(feature = "probe")]
pub mod probe;
pub mod qemu;
pub mod target;

use std::io;
use std::time::Instant;

use fnp_core::wire::{
    self, decode, encode, Feed, FrameAccumulator, Limits, Message, Reason, Stats, WireError,
    PROTOCOL_VERSION,
};
use fnp_core::{DType, Error, FpFlags};

/// A byte pipe to a device.
pub trait Transport: Send {
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Receives at least one byte, waiting no later than `deadline`.
    /// `Ok(0)` means the device end closed; a passed deadline is an error
    /// of kind `TimedOut` or `WouldBlock`.
    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize>;
}

/// Why a frame exchange failed.
#[derive(Debug)]
pub enum LinkError {
    /// No complete frame before the deadline.
    TimedOut,
    /// The device end closed (emulator exited, probe detached).
    Closed,
    /// An I/O error on the transport.
    Io(io::Error),
    /// A frame arrived but was refused by the accumulator or decoder.
    Frame(WireError),
    /// The device sent a Hello of another protocol version.
    Version {
        /// The device's version.
        device: u64,
    },
    /// A message that makes no sense at this point.
    Unexpected(&'static str),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::TimedOut => f.write_str("timed out waiting for the device"),
            LinkError::Closed => f.write_str("device closed the link"),
            LinkError::Io(e) => write!(f, "link I/O error: {e}"),
            LinkError::Frame(e) => write!(f, "bad frame from device: {e}"),
            LinkError::Version { device } => write!(
                f,
                "device speaks wire protocol version {device}, this host speaks {PROTOCOL_VERSION}; \
                 rebuild the firmware from this source tree"
            ),
            LinkError::Unexpected(what) => write!(f, "unexpected message from device: {what}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Largest frame the host accepts from a device.
pub const HOST_MAX_FRAME: usize = 4 << 20;

/// Frames over a [`Transport`].
pub struct Link<T> {
    transport: T,
    acc: FrameAccumulator<Vec<u8>>,
    /// Bytes received after the last frame's delimiter.
    pending: Vec<u8>,
    /// A completed payload waiting to be taken.
    frame: Option<Result<Vec<u8>, WireError>>,
    /// Receive buffer, kept between calls.
    chunk: Vec<u8>,
}

impl<T: Transport> Link<T> {
    /// A link over `transport`.
    pub fn new(transport: T) -> Self {
        Link {
            transport,
            acc: FrameAccumulator::new(vec![0u8; HOST_MAX_FRAME]),
            pending: Vec::new(),
            frame: None,
            chunk: vec![0u8; 64 * 1024],
        }
    }

    /// The transport.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Encodes and sends one message.
    pub fn send(&mut self, msg: &Message<'_>) -> Result<usize, LinkError> {
        let mut bytes = Vec::new();
        encode(msg, |b| bytes.extend_from_slice(b)).map_err(LinkError::Frame)?;
        self.transport.send(&bytes).map_err(LinkError::Io)?;
        Ok(bytes.len())
    }

    /// Feeds `input` to the accumulator; keeps what follows a frame.
    fn feed(&mut self, input: &[u8]) {
        match self.acc.feed(input) {
            Feed::Consumed => {}
            Feed::Frame { frame, rest } => {
                self.frame = Some(frame.map(<[u8]>::to_vec));
                self.pending.extend_from_slice(rest);
            }
        }
    }

    /// The next frame's checked payload (tag + body).
    pub fn recv_payload(&mut self, deadline: Instant) -> Result<Vec<u8>, LinkError> {
        let mut buf = std::mem::take(&mut self.chunk);
        let result = self.recv_with(&mut buf, deadline);
        self.chunk = buf;
        result
    }

    fn recv_with(&mut self, buf: &mut [u8], deadline: Instant) -> Result<Vec<u8>, LinkError> {
        loop {
            if let Some(frame) = self.frame.take() {
                return frame.map_err(LinkError::Frame);
            }
            if !self.pending.is_empty() {
                let pending = std::mem::take(&mut self.pending);
                self.feed(&pending);
                continue;
            }
            match self.transport.recv(buf, deadline) {
                Ok(0) => return Err(LinkError::Closed),
                Ok(n) => self.feed(buf.get(..n).unwrap_or(&[])),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Err(LinkError::TimedOut)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LinkError::Io(e)),
            }
        }
    }
}

/// What the device said about itself in Hello.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Protocol version (equal to [`PROTOCOL_VERSION`] once connected).
    pub version: u16,
    /// Board name.
    pub target: String,
    /// Firmware build profile.
    pub profile: String,
    /// Buffer sizes.
    pub limits: Limits,
    /// Dtypes served.
    pub dtypes: Vec<DType>,
    /// Op codes served.
    pub ops: Vec<u8>,
}

/// A device's answer to one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The op returned an array.
    Array {
        /// Output dtype (the first output's).
        dtype: DType,
        /// The second output's dtype, for a two-output ufunc: its bytes
        /// follow the first's in `bytes`.
        second: Option<DType>,
        /// Output shape.
        shape: Vec<usize>,
        /// C-order little-endian bytes.
        bytes: Vec<u8>,
        /// IEEE flags.
        flags: FpFlags,
        /// Instructions retired computing it, where counted.
        instructions: Option<u64>,
    },
    /// The op raised (the error NumPy raises for the same input).
    Raised(Error),
    /// The device refused the case (`too_large`, `unsupported`, …).
    Refused(WireError),
}

/// The host end of the protocol over one transport.
pub struct Client<T> {
    link: Link<T>,
    info: DeviceInfo,
}

impl<T: Transport> Client<T> {
    /// Waits for the device's Hello (bytes sent before it would be lost,
    /// so nothing is sent first) and checks its protocol version.
    pub fn connect(transport: T, deadline: Instant) -> Result<Self, LinkError> {
        let mut link = Link::new(transport);
        // Anything before a good Hello (line noise, a frame cut by the reset,
        // a leftover reply in a probe's RTT buffer) is skipped; if no Hello
        // comes, the timeout says what was seen instead.
        let mut skipped: Option<LinkError> = None;
        loop {
            let payload = match link.recv_payload(deadline) {
                Ok(p) => p,
                Err(LinkError::Frame(e)) => {
                    skipped = Some(LinkError::Frame(e));
                    continue;
                }
                Err(LinkError::TimedOut) => return Err(skipped.unwrap_or(LinkError::TimedOut)),
                Err(e) => return Err(e),
            };
            let info = match decode(&payload) {
                Ok(Message::Hello(h)) => DeviceInfo {
                    version: h.version,
                    target: h.target.to_string(),
                    profile: h.profile.to_string(),
                    limits: h.limits,
                    dtypes: h
                        .dtypes
                        .iter()
                        .filter_map(|&c| DType::try_from(c).ok())
                        .collect(),
                    ops: h.ops.to_vec(),
                },
                Ok(_) => {
                    skipped = Some(LinkError::Unexpected("a message before Hello"));
                    continue;
                }
                Err(e) if e.reason == Reason::VersionMismatch => {
                    return Err(LinkError::Version { device: e.detail })
                }
                Err(e) => {
                    skipped = Some(LinkError::Frame(e));
                    continue;
                }
            };
            return Ok(Client { link, info });
        }
    }

    /// What the device reported in Hello.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// The link (for tests that need raw frames).
    pub fn link_mut(&mut self) -> &mut Link<T> {
        &mut self.link
    }

    /// Sends one case and waits for its reply.
    pub fn run(&mut self, case: &wire::Case<'_>, deadline: Instant) -> Result<Reply, LinkError> {
        self.link.send(&Message::Case(case.clone()))?;
        let payload = self.link.recv_payload(deadline)?;
        let msg = decode(&payload).map_err(LinkError::Frame)?;
        match msg {
            Message::Result(r) if r.id == case.id => reply_of(&r),
            Message::Error(e) if e.id.is_none_or(|id| id == case.id) => {
                let reason = Reason::try_from(e.reason)
                    .map_err(|_| LinkError::Unexpected("unknown reason code"))?;
                Ok(Reply::Refused(WireError::with_detail(reason, e.detail)))
            }
            Message::Result(_) | Message::Error(_) => {
                Err(LinkError::Unexpected("reply for another case"))
            }
            _ => Err(LinkError::Unexpected("expected Result or Error")),
        }
    }

    /// Asks for the device's counters (peak stack, cases served).
    pub fn stats(&mut self, deadline: Instant) -> Result<Stats, LinkError> {
        self.link.send(&Message::GetStats)?;
        let payload = self.link.recv_payload(deadline)?;
        let msg = decode(&payload).map_err(LinkError::Frame)?;
        match msg {
            Message::Stats(s) => Ok(s),
            _ => Err(LinkError::Unexpected("expected Stats")),
        }
    }
}

/// The reply a Result frame carries. A two-output ufunc's data holds both
/// outputs, the second in the frame's `second` dtype.
fn reply_of(r: &wire::CaseResult<'_>) -> Result<Reply, LinkError> {
    if r.error != 0 {
        return Ok(Reply::Raised(
            wire::error_from_code(r.error).unwrap_or(Error::Unsupported),
        ));
    }
    let dtype = DType::try_from(r.dtype).map_err(|_| {
        LinkError::Frame(WireError::with_detail(Reason::UnknownDType, r.dtype.into()))
    })?;
    let shape = r
        .shape
        .as_slice()
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| LinkError::Frame(WireError::new(Reason::TooLarge)))?;
    let second = r
        .second
        .map(|d| {
            DType::try_from(d).map_err(|_| {
                LinkError::Frame(WireError::with_detail(Reason::UnknownDType, d.into()))
            })
        })
        .transpose()?;
    let item = dtype.itemsize() + second.map_or(0, DType::itemsize);
    let expected = shape.iter().try_fold(item, |acc, &d| acc.checked_mul(d));
    if r.shape.overflowed() || expected != Some(r.data.len()) {
        return Err(LinkError::Frame(WireError::new(Reason::LayoutMismatch)));
    }
    Ok(Reply::Array {
        dtype,
        second,
        shape,
        bytes: r.data.to_vec(),
        flags: FpFlags::from_bits_truncate(r.flags),
        instructions: r.instructions,
    })
}

/// Device target names `fnp run --target` accepts (`qemu:<board>` for
/// each board in [`fnp_boards::BOARDS`]).
pub fn device_target_names() -> Vec<String> {
    fnp_boards::BOARDS
        .iter()
        .map(|b| format!("qemu:{}", b.name))
        .collect()
}

/// Resolves a device target name: `qemu:<board>` (starting the emulator,
/// building the firmware if needed) or `probe:<chip>` (feature `probe`).
/// `None` when `name` is not a device target, so
/// [`crate::target::resolve_with`] can try its own names. `options.timeout`
/// is the fixed part of the per-case timeout (UART transfer time is added).
pub fn resolve(
    name: &str,
    options: &crate::target::Options,
) -> Option<anyhow::Result<Box<dyn crate::target::Target>>> {
    if let Some(board) = name.strip_prefix("qemu:") {
        return Some(qemu::QemuTarget::from_name(board).map(|mut t| {
            t.set_timeout(options.timeout);
            Box::new(t) as Box<dyn crate::target::Target>
        }));
    }
    #[cfg(feature = "probe")]
    if let Some(chip) = name.strip_prefix("probe:") {
        return Some(
            probe::ProbeTarget::from_chip(chip)
                .map(|t| Box::new(t) as Box<dyn crate::target::Target>),
        );
    }
    #[cfg(not(feature = "probe"))]
    if name.starts_with("probe:") {
        return Some(Err(anyhow::anyhow!(
            "{name}: this fnp was built without probe support; rebuild with `--features probe`"
        )));
    }
    None
}

/// Whether case number `index` belongs to shard `k` of `n` (1-based `k`):
/// round-robin by position in the corpus, so shards are deterministic and
/// balanced, and `1/n .. n/n` together cover every case exactly once.
pub fn in_shard(index: usize, k: usize, n: usize) -> bool {
    n > 0 && k >= 1 && k <= n && index % n == k - 1
}

/// Parses `--shard k/n`.
pub fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| anyhow::anyhow!("--shard wants k/n, got {s:?}"))?;
    let (k, n): (usize, usize) = (k.trim().parse()?, n.trim().parse()?);
    anyhow::ensure!(
        n >= 1 && (1..=n).contains(&k),
        "--shard {s}: need 1 <= k <= n"
    );
    Ok((k, n))
}
