//! An in-memory transport: the same frame exchange as a UART or an RTT
//! channel, with fnp-core's wire server on a thread as the device. Tests of
//! the client, the conversion and the outcome mapping run over it, so they
//! hold for every transport.

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use fnp_core::wire::{Feed, FrameAccumulator, Server, ServerConfig};

use super::Transport;

/// The host end of an in-memory pipe.
pub struct MemoryTransport {
    tx: Sender<Vec<u8>>,
    rx: Receiver<Vec<u8>>,
    buffered: VecDeque<u8>,
    /// Most bytes one `recv` returns, to exercise reassembly.
    chunk: usize,
}

/// The device end of an in-memory pipe.
pub struct DeviceEnd {
    /// Bytes from the host.
    pub rx: Receiver<Vec<u8>>,
    /// Bytes to the host.
    pub tx: Sender<Vec<u8>>,
}

/// A connected pair; the host end hands out at most `chunk` bytes per recv.
pub fn pair(chunk: usize) -> (MemoryTransport, DeviceEnd) {
    let (to_dev, dev_rx) = channel();
    let (dev_tx, from_dev) = channel();
    (
        MemoryTransport {
            tx: to_dev,
            rx: from_dev,
            buffered: VecDeque::new(),
            chunk: chunk.max(1),
        },
        DeviceEnd {
            rx: dev_rx,
            tx: dev_tx,
        },
    )
}

impl Transport for MemoryTransport {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tx
            .send(bytes.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "device end gone"))
    }

    fn recv(&mut self, buf: &mut [u8], deadline: Instant) -> io::Result<usize> {
        while self.buffered.is_empty() {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(wait) {
                Ok(bytes) => self.buffered.extend(bytes),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
                }
                Err(RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk).min(self.buffered.len());
        for (slot, b) in buf.iter_mut().zip(self.buffered.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

/// Buffer sizes of an in-memory device.
#[derive(Clone, Copy, Debug)]
pub struct DeviceSizes {
    /// Receive buffer bytes.
    pub frame_bytes: usize,
    /// Input arena, in u64 words.
    pub arena_words: usize,
    /// Output buffer, in u64 words.
    pub out_words: usize,
    /// Bytes per chunk the device writes (1 = byte at a time, like a UART).
    pub chunk: usize,
}

impl Default for DeviceSizes {
    fn default() -> Self {
        DeviceSizes {
            frame_bytes: 12 * 1024,
            arena_words: 12 * 1024 / 8,
            out_words: 8 * 1024 / 8,
            chunk: 7,
        }
    }
}

/// Starts fnp-core's wire server on a thread behind an in-memory pipe,
/// exactly as firmware runs it (Hello first, then frame by frame). The
/// thread ends when the host end is dropped.
pub fn spawn_server(sizes: DeviceSizes) -> (MemoryTransport, JoinHandle<()>) {
    let (host, dev) = pair(sizes.chunk.max(1) * 3);
    let handle = std::thread::spawn(move || {
        let mut arena = vec![0u64; sizes.arena_words];
        let mut out = vec![0u64; sizes.out_words];
        let config = ServerConfig {
            target: "memory",
            profile: "test",
            max_frame_bytes: sizes.frame_bytes,
            stack_bytes: 0,
        };
        let mut server = Server::new(config, &mut arena, &mut out, ());
        let mut acc = FrameAccumulator::new(vec![0u8; sizes.frame_bytes]);
        let chunk = sizes.chunk.max(1);
        let send = |bytes: &[u8]| {
            for piece in bytes.chunks(chunk) {
                let _ = dev.tx.send(piece.to_vec());
            }
        };
        server.hello(send);
        while let Ok(bytes) = dev.rx.recv() {
            let mut input = bytes.as_slice();
            while let Feed::Frame { frame, rest } = acc.feed(input) {
                server.handle(frame, send);
                input = rest;
            }
        }
    });
    (host, handle)
}
