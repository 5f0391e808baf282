//! nRF52840-DK over a debug probe: RTT channel 0 carries logs, channel 1
//! (up and down) carries the wire protocol, so the host runs the same
//! client as for a QEMU UART. No peripheral is touched.

#![no_std]
#![no_main]

use core::ptr::{addr_of, addr_of_mut};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use fnp_core::wire::{Platform, ServerConfig};
use fnp_fw_common::{paint_stack, peak_stack, serve, Buffers, Transport};
use rtt_target::{rprintln, rtt_init, ChannelMode, DownChannel, UpChannel};

const TARGET: &str = "nrf52840dk";
const RAM_START: usize = 0x2000_0000;

const RX_BYTES: usize = 32 * 1024;
const ARENA_WORDS: usize = 32 * 1024 / 8;
const OUT_WORDS: usize = 32 * 1024 / 8;

static mut RX: [u8; RX_BYTES] = [0; RX_BYTES];
static mut ARENA: [u64; ARENA_WORDS] = [0; ARENA_WORDS];
static mut OUT: [u64; OUT_WORDS] = [0; OUT_WORDS];

extern "C" {
    static _stack_start: u32;
}

fn stack_top() -> usize {
    addr_of!(_stack_start) as usize
}

/// RTT channel 1 as a byte pipe.
struct Rtt {
    up: UpChannel,
    down: DownChannel,
    buf: [u8; 64],
    len: usize,
    at: usize,
}

impl Transport for Rtt {
    fn try_read(&mut self) -> Option<u8> {
        if self.at == self.len {
            self.len = self.down.read(&mut self.buf);
            self.at = 0;
        }
        let b = self
            .buf
            .get(self.at)
            .copied()
            .filter(|_| self.at < self.len)?;
        self.at += 1;
        Some(b)
    }

    fn write(&mut self, bytes: &[u8]) {
        // BlockIfFull: waits for the host to drain the buffer, never drops.
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.up.write(rest);
            rest = rest.get(n..).unwrap_or(&[]);
        }
    }
}

struct Board;

impl Platform for Board {
    fn peak_stack_bytes(&mut self) -> u64 {
        // SAFETY: RAM_START.._stack_start is the stack painted in main.
        unsafe { peak_stack(RAM_START, stack_top()) as u64 }
    }
}

#[entry]
fn main() -> ! {
    // SAFETY: below the current SP down to RAM_START is unused stack.
    unsafe { paint_stack(RAM_START, cortex_m::register::msp::read() as usize) };
    let channels = rtt_init! {
        up: {
            0: { size: 1024, mode: ChannelMode::NoBlockSkip, name: "Terminal" }
            1: { size: 4096, mode: ChannelMode::BlockIfFull, name: "fnp" }
        }
        down: {
            0: { size: 16, name: "Terminal" }
            1: { size: 4096, name: "fnp" }
        }
    };
    rtt_target::set_print_channel(channels.up.0);
    let mut rtt = Rtt {
        up: channels.up.1,
        down: channels.down.1,
        buf: [0; 64],
        len: 0,
        at: 0,
    };
    // SAFETY: main runs once and nothing else touches these buffers.
    let bufs = unsafe {
        Buffers {
            rx: &mut *addr_of_mut!(RX),
            arena: &mut *addr_of_mut!(ARENA),
            out: &mut *addr_of_mut!(OUT),
        }
    };
    let config = ServerConfig {
        target: TARGET,
        profile: env!("FNP_PROFILE"),
        max_frame_bytes: RX_BYTES,
        stack_bytes: stack_top() - RAM_START,
    };
    rprintln!(
        "fnp: {} serving, stack {} bytes",
        TARGET,
        config.stack_bytes
    );
    serve(&mut rtt, bufs, config, Board)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    rprintln!("fnp: {}", info);
    loop {
        cortex_m::asm::bkpt();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    rprintln!("fnp: HardFault at pc={:#x}", frame.pc());
    loop {
        cortex_m::asm::bkpt();
    }
}
