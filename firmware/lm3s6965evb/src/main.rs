//! lm3s6965evb (Cortex-M3, soft float): UART0 (PL011 at 0x4000_C000) carries
//! the wire protocol; semihosting carries logs and the exit status.

#![no_std]
#![no_main]
// The device-cost build runs the counted workloads instead of the server.
#![cfg_attr(feature = "insn-bench", allow(dead_code, unused_imports))]

use core::ptr::{addr_of_mut, read_volatile, write_volatile};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use fnp_core::wire::{Platform, ServerConfig};
use fnp_fw_common::{paint_stack, peak_stack, serve, Buffers, Uart};

const TARGET: &str = "lm3s6965evb";
/// Start of SRAM: with flip-link the stack runs from `_stack_start` down to
/// here, and one word further is a fault, not .bss.
const RAM_START: usize = 0x2000_0000;

// Sized so statics + stack stay under 48 KiB of the 64 KiB.
const RX_BYTES: usize = 12 * 1024;
const ARENA_WORDS: usize = 12 * 1024 / 8;
const OUT_WORDS: usize = 8 * 1024 / 8;

static mut RX: [u8; RX_BYTES] = [0; RX_BYTES];
static mut ARENA: [u64; ARENA_WORDS] = [0; ARENA_WORDS];
static mut OUT: [u64; OUT_WORDS] = [0; OUT_WORDS];

extern "C" {
    static _stack_start: u32;
}

fn stack_top() -> usize {
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(_stack_start) as usize
}

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

impl Uart for Pl011 {
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

struct Board;

impl Platform for Board {
    fn peak_stack_bytes(&mut self) -> u64 {
        // SAFETY: RAM_START.._stack_start is the stack painted in main.
        unsafe { peak_stack(RAM_START, stack_top()) as u64 }
    }
}

/// Device-cost build: runs the workloads the host's QEMU plugin counts
/// (see fnp_fw_common::insn_bench), then exits.
#[cfg(feature = "insn-bench")]
#[entry]
fn main() -> ! {
    use fnp_fw_common::insn_bench::{self, BenchBuffers, MAX_ELEMENTS};
    static mut A: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    static mut B: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    static mut OUT_BENCH: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    // SAFETY: main runs once and these statics are referenced nowhere else.
    let mut bufs = unsafe {
        BenchBuffers {
            a: &mut *addr_of_mut!(A),
            b: &mut *addr_of_mut!(B),
            out: &mut *addr_of_mut!(OUT_BENCH),
        }
    };
    insn_bench::run(&mut bufs, |line| {
        cortex_m_semihosting::hprintln!("{}", line)
    });
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

#[cfg(not(feature = "insn-bench"))]
#[entry]
fn main() -> ! {
    // SAFETY: everything below the current SP down to RAM_START is unused
    // stack (flip-link placed the statics above it).
    unsafe { paint_stack(RAM_START, cortex_m::register::msp::read() as usize) };
    // SAFETY: main runs once and no interrupt touches these buffers, so
    // these are the only references to them.
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
    let mut n = [0u8; 20];
    let stack = fnp_fw_common::decimal(config.stack_bytes as u64, &mut n);
    log(&["fnp: ", TARGET, " serving, stack ", stack, " bytes\n"]);
    let mut uart = Pl011::enable();
    serve(&mut uart, bufs, config, Board)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    // A stack overflow lands here (flip-link): report and stop the
    // emulator with a failure status so the host marks the case crashed.
    let mut h = [0u8; 18];
    log(&[
        "fnp: HardFault at pc=",
        fnp_fw_common::hex(u64::from(frame.pc()), &mut h),
        "\n",
    ]);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

/// Writes a line to the semihosting console without `core::fmt` (its
/// machinery would cost about 2 KiB of flash).
fn log(parts: &[&str]) {
    if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
        for p in parts {
            let _ = out.write_all(p.as_bytes());
        }
    }
}

/// Reports where a panic happened (without formatting its message) and
/// stops the emulator with a failure status, as panic-semihosting's
/// `exit` feature did.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut n = [0u8; 20];
    match info.location() {
        Some(l) => log(&[
            "fnp: panicked at ",
            l.file(),
            ":",
            fnp_fw_common::decimal(u64::from(l.line()), &mut n),
            "\n",
        ]),
        None => log(&["fnp: panicked\n"]),
    }
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
