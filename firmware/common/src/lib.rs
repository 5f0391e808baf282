//! What every board's firmware shares: the serve loop over a byte
//! [`Transport`] and stack painting; with the `cortex-m` feature, the whole
//! Cortex-M firmware ([`cortex_m::serve_board`]) but the transport and the
//! buffers. Boards supply the transport, the buffers (statics sized for
//! their RAM) and the counters.

#![no_std]

#[cfg(feature = "cortex-m")]
pub mod cortex_m;
pub mod insn_bench;

use fnp_core::wire::{Feed, FrameAccumulator, Platform, Server, ServerConfig};

/// The byte link that carries the wire protocol's frames: a UART, an RTT
/// channel, a USB CDC endpoint. Bytes need no framing of their own (the
/// frames are COBS-delimited); the link must deliver them in order.
pub trait Transport {
    /// The next received byte, if one is waiting.
    fn try_read(&mut self) -> Option<u8>;
    /// Sends bytes, blocking while the transmitter is full.
    fn write(&mut self, bytes: &[u8]);
    /// Waits until a byte may have arrived. Spinning is correct; sleeping
    /// (WFI on the receive interrupt) is much faster under QEMU, whose I/O
    /// thread otherwise competes with a vCPU that polls the UART.
    fn wait(&mut self) {
        core::hint::spin_loop();
    }
}

/// The device's static buffers.
pub struct Buffers {
    /// Receive buffer: the largest frame payload accepted.
    pub rx: &'static mut [u8],
    /// Input arena (8-aligned copies of the case's arrays).
    pub arena: &'static mut [u64],
    /// Output buffer.
    pub out: &'static mut [u64],
}

/// Sends Hello, then answers frames forever.
pub fn serve<U: Transport, P: Platform>(
    uart: &mut U,
    bufs: Buffers,
    config: ServerConfig,
    platform: P,
) -> ! {
    let config = ServerConfig {
        max_frame_bytes: bufs.rx.len(),
        ..config
    };
    let mut server = Server::new(config, bufs.arena, bufs.out, platform);
    let mut acc = FrameAccumulator::new(bufs.rx);
    server.hello(|b| uart.write(b));
    let mut chunk = [0u8; 64];
    loop {
        // Drain what the UART FIFO holds so the accumulator sees runs, not
        // single bytes; block (spin) only when nothing is waiting.
        let mut n = 0;
        for slot in chunk.iter_mut() {
            let b = loop {
                match uart.try_read() {
                    Some(b) => break Some(b),
                    None if n > 0 => break None,
                    None => uart.wait(),
                }
            };
            let Some(b) = b else { break };
            *slot = b;
            n += 1;
        }
        let mut input = chunk.get(..n).unwrap_or(&[]);
        while let Feed::Frame { frame, rest } = acc.feed(input) {
            server.handle(frame, |b| uart.write(b));
            input = rest;
        }
    }
}

/// The word written over unused stack at boot.
const PAINT: u32 = 0xCAFE_F00D;

/// Paints the stack between `bottom` and the current stack pointer (less a
/// margin for this function's own frame), so [`peak_stack`] can later find
/// how deep it was used.
///
/// # Safety
/// `bottom..sp` must be the unused part of the current stack, word-aligned,
/// and nothing else may live there.
pub unsafe fn paint_stack(bottom: usize, sp: usize) {
    let end = sp.saturating_sub(256) & !3;
    let mut p = (bottom + 3) & !3;
    while p < end {
        // SAFETY: per the contract, p is in unused, writable stack memory.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Bytes of stack ever used: `top` minus the lowest word no longer holding
/// the paint.
///
/// # Safety
/// `bottom..top` must be the stack painted by [`paint_stack`].
pub unsafe fn peak_stack(bottom: usize, top: usize) -> usize {
    let mut p = (bottom + 3) & !3;
    while p < top {
        // SAFETY: p is inside the stack region, readable and aligned.
        if unsafe { core::ptr::read_volatile(p as *const u32) } != PAINT {
            break;
        }
        p += 4;
    }
    top.saturating_sub(p)
}

/// `v` in decimal, written at the end of `buf`; for log lines without
/// `core::fmt`, whose machinery costs about 2 KiB of flash. (Iterators and
/// `get`, no indexing: this crate must have no panic paths.)
pub fn decimal(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut used = 0;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
        used += 1;
        if v == 0 {
            break;
        }
    }
    let start = buf.len().saturating_sub(used);
    core::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or("?")
}

/// `v` as `0x`-prefixed lower-case hex (as `{:#x}` prints it), written at
/// the end of `buf`.
pub fn hex(mut v: u64, buf: &mut [u8; 18]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut used = 0;
    for slot in buf.iter_mut().rev().take(16) {
        *slot = DIGITS.get((v & 0xf) as usize).copied().unwrap_or(b'?');
        v >>= 4;
        used += 1;
        if v == 0 {
            break;
        }
    }
    let start = buf.len().saturating_sub(used + 2);
    if let Some([zero, x]) = buf.get_mut(start..start + 2) {
        *zero = b'0';
        *x = b'x';
    }
    core::str::from_utf8(buf.get(start..).unwrap_or_default()).unwrap_or("?")
}
