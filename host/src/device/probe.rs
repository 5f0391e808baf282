//! `probe:<chip>` targets (feature `probe`): a real board over a debug probe
//! with probe-rs. The firmware (firmware/nrf52840dk) uses rtt-target:
//! channel 0 carries logs, channel 1 up/down carries the same frames as a
//! QEMU UART, so the same [`Client`] runs over it.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use fnp_core::wire::{payload_len, Message};
use probe_rs::flashing::{download_file, ElfLoader, ElfOptions};
use probe_rs::rtt::Rtt;
use probe_rs::{Permissions, Session, SessionConfig};

use super::convert::{mask_bytes, outcome_of, refuse, to_wire};
use super::{Client, DeviceInfo, LinkError, Transport};
use crate::case::{Case, CaseOutcome};
use crate::target::{Limits, Target};

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

/// `probe:<chip>`.
pub struct ProbeTarget {
    chip: String,
    elf: PathBuf,
    client: Option<Client<RttTransport>>,
    info: DeviceInfo,
    next_id: u32,
    timeout: Duration,
}

impl ProbeTarget {
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
        Ok(ProbeTarget {
            chip: chip.to_string(),
            elf,
            client: Some(client),
            info,
            next_id: 0,
            timeout: Duration::from_secs(10),
        })
    }
}

impl Target for ProbeTarget {
    fn name(&self) -> String {
        format!("probe:{}", self.chip)
    }

    fn limits(&self) -> Limits {
        let l = &self.info.limits;
        Limits {
            max_elements: usize::try_from(l.arena_bytes).ok(),
            max_input_bytes: usize::try_from(l.arena_bytes).ok(),
            max_ndim: usize::try_from(l.max_ndim).unwrap_or(0),
            dtypes: self.info.dtypes.clone(),
            ops: Some(
                self.info
                    .ops
                    .iter()
                    .filter_map(|&c| fnp_core::Op::try_from(c).ok())
                    .collect(),
            ),
        }
    }

    fn run_case(&mut self, case: &Case) -> CaseOutcome {
        let case = match case.materialized() {
            Ok(c) => c,
            Err(detail) => return CaseOutcome::Crashed { detail },
        };
        let case = case.as_ref();
        let mask = mask_bytes(case);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let wire_case = match to_wire(id, case, mask.as_deref()) {
            Ok(c) => c,
            Err(reason) => return CaseOutcome::Unsupported { reason },
        };
        let frame = match payload_len(&Message::Case(wire_case.clone())) {
            Ok(n) => n,
            Err(e) => {
                return CaseOutcome::Unsupported {
                    reason: e.to_string(),
                }
            }
        };
        if let Some(reason) = refuse(&self.info, case, frame) {
            return CaseOutcome::Unsupported { reason };
        }
        if self.client.is_none() {
            match connect(&self.chip, &self.elf) {
                Ok(c) => self.client = Some(c),
                Err(e) => {
                    return CaseOutcome::Crashed {
                        detail: format!("reconnect failed: {e:#}"),
                    }
                }
            }
        }
        let Some(client) = self.client.as_mut() else {
            return CaseOutcome::Crashed {
                detail: "no probe session".into(),
            };
        };
        match client.run(&wire_case, Instant::now() + self.timeout) {
            Ok(reply) => outcome_of(reply),
            Err(LinkError::TimedOut) => {
                self.client = None;
                CaseOutcome::TimedOut
            }
            Err(e) => {
                self.client = None;
                CaseOutcome::Crashed {
                    detail: e.to_string(),
                }
            }
        }
    }

    fn fingerprint(&self) -> Vec<(String, String)> {
        vec![
            ("chip".into(), self.chip.clone()),
            ("firmware".into(), self.elf.display().to_string()),
            ("firmware_profile".into(), self.info.profile.clone()),
        ]
    }
}
