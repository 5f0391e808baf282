//! mps2-an386 (Cortex-M4F, hard float; f64 is still soft): UART0 (CMSDK APB
//! UART at 0x4000_4000) carries the wire protocol; semihosting carries logs
//! and the exit status.

#![no_std]
#![no_main]
// The device-cost build runs the counted workloads instead of the server.
#![cfg_attr(feature = "insn-bench", allow(dead_code, unused_imports))]

use core::ptr::{addr_of_mut, read_volatile, write_volatile};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use fnp_fw_common::cortex_m::{self as server, Board};
use fnp_fw_common::{Buffers, Transport};

const BOARD: Board = Board {
    target: "mps2-an386",
    profile: env!("FNP_PROFILE"),
    // Start of SRAM: with flip-link the stack runs from `_stack_start`
    // down to here.
    ram_start: 0x2000_0000,
};

// 4 MiB of RAM, but the CMSDK UART moves ≈ 30 KB/s: bigger frames would
// only be slower, not more useful.
const RX_BYTES: usize = 64 * 1024;
const ARENA_WORDS: usize = 64 * 1024 / 8;
const OUT_WORDS: usize = 32 * 1024 / 8;

static mut RX: [u8; RX_BYTES] = [0; RX_BYTES];
static mut ARENA: [u64; ARENA_WORDS] = [0; ARENA_WORDS];
static mut OUT: [u64; OUT_WORDS] = [0; OUT_WORDS];

/// CMSDK APB UART0.
struct Cmsdk;

const UART0: usize = 0x4000_4000;
const DATA: usize = UART0;
const STATE: usize = UART0 + 0x04;
const CTRL: usize = UART0 + 0x08;
const INTSTATUS: usize = UART0 + 0x0C;
const BAUDDIV: usize = UART0 + 0x10;
/// UART0's receive interrupt on QEMU's MPS2 boards.
const UART0_RX_IRQ: u32 = 0;
const UART0_TX_IRQ: u32 = 1;
const NVIC_ISER0: usize = 0xE000_E100;
const NVIC_ICPR0: usize = 0xE000_E280;
const STATE_TXFULL: u32 = 1 << 0;
const STATE_RXFULL: u32 = 1 << 1;

impl Cmsdk {
    fn enable() -> Cmsdk {
        // SAFETY: UART0's registers on this board; only this code touches
        // the UART. QEMU ignores a UART whose divider is under 16.
        unsafe {
            write_volatile(BAUDDIV as *mut u32, 16);
            // TX, RX and both interrupts (they only wake WFI: PRIMASK stays
            // set, no handler runs).
            write_volatile(CTRL as *mut u32, 0b1111);
        }
        cortex_m::interrupt::disable();
        // SAFETY: NVIC enable bits of the UART's RX and TX lines.
        unsafe {
            write_volatile(
                NVIC_ISER0 as *mut u32,
                (1 << UART0_RX_IRQ) | (1 << UART0_TX_IRQ),
            )
        };
        Cmsdk
    }
}

impl Transport for Cmsdk {
    fn wait(&mut self) {
        // SAFETY: acknowledging the UART's RX interrupt and the NVIC pending
        // bit; the state is re-checked afterwards, so a byte arriving in
        // between re-pends the line and WFI returns at once.
        unsafe {
            write_volatile(INTSTATUS as *mut u32, 1 << 1);
            write_volatile(NVIC_ICPR0 as *mut u32, 1 << UART0_RX_IRQ);
            // The TX line may be pending from the last byte sent; it must
            // not wake this wait.
            write_volatile(INTSTATUS as *mut u32, 1 << 0);
            write_volatile(NVIC_ICPR0 as *mut u32, 1 << UART0_TX_IRQ);
            if read_volatile(STATE as *const u32) & STATE_RXFULL == 0 {
                cortex_m::asm::wfi();
            }
        }
    }

    fn try_read(&mut self) -> Option<u8> {
        // SAFETY: state and data registers; reading DATA pops the byte.
        unsafe {
            if read_volatile(STATE as *const u32) & STATE_RXFULL == 0 {
                None
            } else {
                Some(read_volatile(DATA as *const u32) as u8)
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: as above; writing DATA sends one byte.
            // QEMU holds TXFULL until its I/O thread has taken the byte;
            // sleep on the TX interrupt rather than spin against it.
            unsafe {
                while read_volatile(STATE as *const u32) & STATE_TXFULL != 0 {
                    write_volatile(INTSTATUS as *mut u32, 1 << 0);
                    write_volatile(NVIC_ICPR0 as *mut u32, 1 << UART0_TX_IRQ);
                    if read_volatile(STATE as *const u32) & STATE_TXFULL != 0 {
                        cortex_m::asm::wfi();
                    }
                }
                write_volatile(DATA as *mut u32, u32::from(b));
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
    unsafe { server::serve_board(&BOARD, bufs, Cmsdk::enable) }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    server::hard_fault(frame.pc())
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    server::panic(info)
}
