//! `probe:<chip>` targets (feature `probe`): a real board over a debug probe
//! with probe-rs. The firmware (firmware/nrf52840dk) uses rtt-target:
//! channel 0 carries logs, channel 1 up/down carries the same frames as a
//! QEMU UART, so the same [`Client`] and [`DeviceTarget`] run over it.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use probe_rs::flashing::{download_file, ElfLoader, ElfOptions};
use probe_rs::rtt::Rtt;
use probe_rs::{Permissions, Session, SessionConfig};

use super::target::{Device, DeviceTarget};
use super::{Client, DeviceInfo, Transport};

/// The RTT channel that carries frames (0 is logs).
const FRAME_CHANNEL: usize = 1;

/// RTT channel 1 of an attached core.
pub struct RttTransport {
    session: Session,
    rtt: Rtt,
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Transport for RttTransport {
    fn send(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !bytes.is_empty() {
            let mut core = self.session.core(0).map_err(io_err)?;
            let down = self
                .rtt
                .down_channel(FRAME_CHANNEL)
                .ok_or_else(|| io_err("firmware has no RTT down channel 1"))?;
            let n = down.write(&mut core, bytes).map_err(io_err)?;
            bytes = bytes.get(n..).unwrap_or(&[]);
            if n == 0 {
                if Instant::now() > deadline {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        loop {
            let mut core = self.session.core(0).map_err(io_err)?;
            let up = self
                .rtt
                .up_channel(FRAME_CHANNEL)
                .ok_or_else(|| io_err("firmware has no RTT up channel 1"))?;
            let n = up.read(&mut core, buf).map_err(io_err)?;
            if n > 0 {
                return Ok(n);
            }
            if Instant::now() > deadline {
                return Err(io::ErrorKind::TimedOut.into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Flashes `elf`, resets the chip, finds the RTT control block and waits
/// for Hello.
fn connect(chip: &str, elf: &PathBuf) -> anyhow::Result<Client<RttTransport>> {
    let config = SessionConfig {
        permissions: Permissions::default(),
        ..SessionConfig::default()
    };
    let mut session = Session::auto_attach(chip, config)
        .with_context(|| format!("attaching to {chip} (is a probe connected?)"))?;
    download_file(&mut session, elf, ElfLoader(ElfOptions::default()))
        .with_context(|| format!("flashing {}", elf.display()))?;
    let rtt = {
        let mut core = session.core(0)?;
        core.reset()?;
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            match Rtt::attach(&mut core) {
                Ok(rtt) => break rtt,
                Err(_) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(e).context("no RTT control block in the firmware"),
            }
        }
    };
    Ok(Client::connect(
        RttTransport { session, rtt },
        Instant::now() + Duration::from_secs(10),
    )?)
}

/// A board on a debug probe as a [`Device`]: flashed once, reattached
/// (flashed and reset again) after a case that lost it.
pub struct Probe {
    chip: String,
    elf: PathBuf,
    client: Option<Client<RttTransport>>,
    timeout: Duration,
}

/// `probe:<chip>`.
pub type ProbeTarget = DeviceTarget<Probe>;

impl DeviceTarget<Probe> {
    /// Attaches to `chip` and flashes its firmware (`FNP_FIRMWARE_PROBE`,
    /// else a fresh release build of the board's firmware package from
    /// [`fnp_boards::PROBE_BOARDS`]).
    pub fn from_chip(chip: &str) -> anyhow::Result<ProbeTarget> {
        let elf = match std::env::var_os("FNP_FIRMWARE_PROBE") {
            Some(p) => PathBuf::from(p),
            None => {
                let board = fnp_boards::probe_board(chip).ok_or_else(|| {
                    let chips: Vec<&str> =
                        fnp_boards::PROBE_BOARDS.iter().map(|b| b.chip).collect();
                    anyhow::anyhow!(
                        "no probe firmware for chip {chip:?} (chips: {})",
                        chips.join(", ")
                    )
                })?;
                fnp_boards::build(board.firmware, true)?
            }
        };
        let client = connect(chip, &elf)?;
        let info = client.info().clone();
        let probe = Probe {
            chip: chip.to_string(),
            elf,
            client: Some(client),
            timeout: Duration::from_secs(10),
        };
        Ok(DeviceTarget::new(probe, info))
    }
}

impl Device for Probe {
    type Transport = RttTransport;

    fn name(&self) -> String {
        format!("probe:{}", self.chip)
    }

    fn client(&mut self) -> anyhow::Result<&mut Client<RttTransport>> {
        let client = match self.client.take() {
            Some(c) => c,
            None => connect(&self.chip, &self.elf).context("reconnect failed")?,
        };
        Ok(self.client.insert(client))
    }

    /// A fixed time: RTT is fast enough that the transfer does not count.
    fn timeout(&self, _wire_bytes: usize) -> Duration {
        self.timeout
    }

    fn disconnect(&mut self) {
        self.client = None;
    }

    fn fingerprint(&self, info: &DeviceInfo) -> Vec<(String, String)> {
        vec![
            ("chip".into(), self.chip.clone()),
            ("firmware".into(), self.elf.display().to_string()),
            ("firmware_profile".into(), info.profile.clone()),
        ]
    }
}
