//! lm3s6965evb (Cortex-M3, soft float): UART0 (PL011 at 0x4000_C000) carries
//! the wire protocol; semihosting carries logs and the exit status.

#![no_std]
#![no_main]
// The device-cost build runs the counted workloads instead of the server.
#![cfg_attr(feature = "insn-bench", allow(dead_code, unused_imports))]

use core::ptr::{addr_of_mut, read_volatile, write_volatile};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use fnp_fw_common::cortex_m::{self as server, Board};
use fnp_fw_common::{Buffers, Transport};

const BOARD: Board = Board {
    target: "lm3s6965evb",
    profile: env!("FNP_PROFILE"),
    // Start of SRAM: with flip-link the stack runs from `_stack_start`
    // down to here.
    ram_start: 0x2000_0000,
};

// Sized so statics + stack stay under 48 KiB of the 64 KiB.
const RX_BYTES: usize = 12 * 1024;
const ARENA_WORDS: usize = 12 * 1024 / 8;
const OUT_WORDS: usize = 8 * 1024 / 8;

static mut RX: [u8; RX_BYTES] = [0; RX_BYTES];
static mut ARENA: [u64; ARENA_WORDS] = [0; ARENA_WORDS];
static mut OUT: [u64; OUT_WORDS] = [0; OUT_WORDS];

/// PL011 UART0.
struct Pl011;

const UART0: usize = 0x4000_C000;
const DR: usize = UART0;
const FR: usize = UART0 + 0x18;
const LCRH: usize = UART0 + 0x2C;
const CR: usize = UART0 + 0x30;
const IMSC: usize = UART0 + 0x38;
const FR_RXFE: u32 = 1 << 4;
/// UART0's interrupt number on the LM3S6965.
const UART0_IRQ: u32 = 5;
const NVIC_ISER0: usize = 0xE000_E100;
const NVIC_ICPR0: usize = 0xE000_E280;
const FR_TXFF: u32 = 1 << 5;

impl Pl011 {
    fn enable() -> Pl011 {
        // SAFETY: UART0's line and control registers on this board; only
        // this code touches the UART. 8-bit words with the FIFOs on (FEN):
        // without them the receiver holds one byte and QEMU feeds the socket
        // through it a byte per main-loop turn.
        unsafe {
            write_volatile(LCRH as *mut u32, (0b11 << 5) | (1 << 4));
            write_volatile(CR as *mut u32, (1 << 9) | (1 << 8) | 1);
        }
        // Receive interrupts only wake WFI: PRIMASK stays set, so no
        // handler ever runs and nothing else needs to be interrupt-safe.
        cortex_m::interrupt::disable();
        // SAFETY: the UART's interrupt mask (RX and RX-timeout) and the
        // NVIC enable bit for its line.
        unsafe {
            write_volatile(IMSC as *mut u32, (1 << 4) | (1 << 6));
            write_volatile(NVIC_ISER0 as *mut u32, 1 << UART0_IRQ);
        }
        Pl011
    }
}

impl Transport for Pl011 {
    fn wait(&mut self) {
        // SAFETY: clearing the line's NVIC pending bit and reading FR have
        // no effect beyond that; the FIFO is checked after the clear, so a
        // byte arriving in between re-pends the line and WFI returns.
        unsafe {
            write_volatile(NVIC_ICPR0 as *mut u32, 1 << UART0_IRQ);
            if read_volatile(FR as *const u32) & FR_RXFE != 0 {
                cortex_m::asm::wfi();
            }
        }
    }

    fn try_read(&mut self) -> Option<u8> {
        // SAFETY: PL011 flag and data registers, read-only side effects
        // (popping the RX FIFO) are what we want.
        unsafe {
            if read_volatile(FR as *const u32) & FR_RXFE != 0 {
                None
            } else {
                Some(read_volatile(DR as *const u32) as u8)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: as above; writing DR queues one byte.
            unsafe {
                while read_volatile(FR as *const u32) & FR_TXFF != 0 {}
                write_volatile(DR as *mut u32, u32::from(b));
            }
        }
    }
}

#[cfg(feature = "insn-bench")]
#[entry]
fn main() -> ! {
    server::insn_bench()
}

#[cfg(not(feature = "insn-bench"))]
#[entry]
fn main() -> ! {
    // SAFETY: main runs once and no interrupt touches these buffers, so
    // these are the only references to them.
    let bufs = unsafe {
        Buffers {
            rx: &mut *addr_of_mut!(RX),
            arena: &mut *addr_of_mut!(ARENA),
            out: &mut *addr_of_mut!(OUT),
        }
    };
    // SAFETY: first thing in main; flip-link placed the statics above the
    // stack, so everything below the stack pointer is unused stack.
    unsafe { server::serve_board(&BOARD, bufs, Pl011::enable) }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    server::hard_fault(frame.pc())
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    server::panic(info)
}
