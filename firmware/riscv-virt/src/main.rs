//! QEMU virt (riscv32imac): the 16550 UART at 0x1000_0000 carries the wire
//! protocol; semihosting carries logs; the SiFive test device at 0x10_0000
//! carries the exit status. Under `-icount shift=0` `minstret` counts
//! retired instructions exactly, so each Result reports its cost.

#![no_std]
#![no_main]
// The device-cost build runs the counted workloads instead of the server.
#![cfg_attr(feature = "insn-bench", allow(dead_code, unused_imports))]

use core::arch::{asm, global_asm};
use core::ptr::{addr_of, addr_of_mut, read_volatile, write_volatile};

use fnp_core::wire::{Platform, ServerConfig};
use fnp_fw_common::{paint_stack, peak_stack, serve, Buffers, Transport};
use riscv_rt::entry;

const TARGET: &str = "riscv-virt";

const RX_BYTES: usize = 64 * 1024;
const ARENA_WORDS: usize = 64 * 1024 / 8;
const OUT_WORDS: usize = 64 * 1024 / 8;

static mut RX: [u8; RX_BYTES] = [0; RX_BYTES];
static mut ARENA: [u64; ARENA_WORDS] = [0; ARENA_WORDS];
static mut OUT: [u64; OUT_WORDS] = [0; OUT_WORDS];

extern "C" {
    static _stack_start: u32;
    static _fnp_stack_bottom: u32;
    static _fnp_guard: u32;
}

fn stack_top() -> usize {
    addr_of!(_stack_start) as usize
}

fn stack_bottom() -> usize {
    addr_of!(_fnp_stack_bottom) as usize
}

/// The SiFive test finisher: 0x5555 passes, `code << 16 | 0x3333` fails.
const FINISHER: usize = 0x10_0000;

fn exit_failure(code: u32) -> ! {
    // SAFETY: the finisher's only register; writing it stops QEMU.
    unsafe { write_volatile(FINISHER as *mut u32, (code << 16) | 0x3333) };
    loop {
        core::hint::spin_loop();
    }
}

// We use no interrupts, so any trap is a crash (most likely the stack
// hitting the PMP guard). Handle it without touching the stack: tell QEMU
// to exit with failure code 2.
global_asm!(
    ".section .trap, \"ax\"",
    ".global _start_trap",
    ".align 4",
    "_start_trap:",
    "li t0, 0x100000",
    "li t1, 0x23333",
    "sw t1, 0(t0)",
    "1: j 1b",
);

/// Semihosting SYS_WRITE0 of a NUL-terminated string.
fn log(msg: &[u8]) {
    if msg.last() != Some(&0) {
        return;
    }
    // SAFETY: the RISC-V semihosting sequence (uncompressed, in this exact
    // order); a0 = SYS_WRITE0, a1 = pointer to a NUL-terminated string that
    // QEMU only reads. QEMU always runs this firmware with semihosting on.
    unsafe {
        asm!(
            ".option push",
            ".option norvc",
            ".balign 16",
            "slli x0, x0, 0x1f",
            "ebreak",
            "srai x0, x0, 7",
            ".option pop",
            inout("a0") 4usize => _,
            in("a1") msg.as_ptr(),
            options(nostack),
        );
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    log(b"fnp: panic\n\0");
    exit_failure(1)
}

/// 16550 UART0.
struct Ns16550;

const UART0: usize = 0x1000_0000;
const RBR_THR: usize = UART0;
const IER: usize = UART0 + 1;
const FCR: usize = UART0 + 2;
const LCR: usize = UART0 + 3;
const LSR: usize = UART0 + 5;
const LSR_DR: u8 = 1 << 0;
/// The UART's PLIC source on virt, and the PLIC registers of hart 0's
/// M-mode context.
const UART0_IRQ: usize = 10;
const PLIC: usize = 0x0C00_0000;
const PLIC_PRIORITY: usize = PLIC + 4 * UART0_IRQ;
const PLIC_ENABLE: usize = PLIC + 0x2000;
const PLIC_THRESHOLD: usize = PLIC + 0x20_0000;
const PLIC_CLAIM: usize = PLIC + 0x20_0004;
const LSR_THRE: u8 = 1 << 5;

impl Ns16550 {
    fn enable() -> Ns16550 {
        // SAFETY: UART0's registers; only this code touches the UART. FIFOs
        // on with trigger level 14 (≈ 6× the throughput of level 1).
        unsafe {
            write_volatile(LCR as *mut u8, 0x03);
            write_volatile(FCR as *mut u8, 0xC7);
            // Receive-data interrupt, routed through the PLIC to MEIP. It
            // only wakes WFI: mstatus.MIE stays clear, no handler runs.
            write_volatile(IER as *mut u8, 1);
            write_volatile(PLIC_PRIORITY as *mut u32, 1);
            write_volatile(PLIC_ENABLE as *mut u32, 1 << UART0_IRQ);
            write_volatile(PLIC_THRESHOLD as *mut u32, 0);
            riscv::register::mie::set_mext();
        }
        Ns16550
    }
}

impl Transport for Ns16550 {
    fn wait(&mut self) {
        // SAFETY: claim/complete of the PLIC context (drops a stale pending
        // interrupt), then the line status; a byte arriving after the check
        // re-pends the source and WFI returns at once.
        unsafe {
            let id = read_volatile(PLIC_CLAIM as *const u32);
            if id != 0 {
                write_volatile(PLIC_CLAIM as *mut u32, id);
            }
            if read_volatile(LSR as *const u8) & LSR_DR == 0 {
                riscv::asm::wfi();
            }
        }
    }

    fn try_read(&mut self) -> Option<u8> {
        // SAFETY: line status and receive registers.
        unsafe {
            if read_volatile(LSR as *const u8) & LSR_DR == 0 {
                None
            } else {
                Some(read_volatile(RBR_THR as *const u8))
            }
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: as above; THR takes one byte when THRE is set.
            unsafe {
                while read_volatile(LSR as *const u8) & LSR_THRE == 0 {}
                write_volatile(RBR_THR as *mut u8, b);
            }
        }
    }
}

struct Board;

impl Platform for Board {
    fn instructions(&mut self) -> Option<u64> {
        Some(riscv::register::minstret::read64())
    }

    fn peak_stack_bytes(&mut self) -> u64 {
        // SAFETY: the STACK region painted in main.
        unsafe { peak_stack(stack_bottom(), stack_top()) as u64 }
    }
}

/// Locks a no-access PMP entry over the guard page (NAPOT, 4 KiB).
fn guard_stack() {
    let base = addr_of!(_fnp_guard) as usize;
    let pmpaddr = (base >> 2) | ((4096 / 8) - 1);
    // SAFETY: PMP entry 0 is unused; L|NAPOT with no R/W/X denies every
    // access to the guard, M-mode included, and leaves all else allowed.
    unsafe {
        asm!("csrw pmpaddr0, {0}", in(reg) pmpaddr);
        asm!("csrw pmpcfg0, {0}", in(reg) 0x98usize);
    }
}

/// Semihosting log of formatted text (one line, at most 95 bytes).
#[cfg(feature = "insn-bench")]
fn log_line(args: core::fmt::Arguments<'_>) {
    struct Line {
        buf: [u8; 96],
        len: usize,
    }
    impl core::fmt::Write for Line {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            // Keep two bytes for "\n\0"; longer text is cut, not an error.
            for &b in s.as_bytes() {
                if self.len + 2 < self.buf.len() {
                    self.buf[self.len] = b;
                    self.len += 1;
                }
            }
            Ok(())
        }
    }
    let mut line = Line {
        buf: [0; 96],
        len: 0,
    };
    let _ = core::fmt::write(&mut line, args);
    let end = line.len;
    line.buf[end] = b'\n';
    line.buf[end + 1] = 0;
    log(&line.buf[..end + 2]);
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
    insn_bench::run(&mut bufs, log_line);
    // SAFETY: the finisher's only register; 0x5555 stops QEMU with success.
    unsafe { write_volatile(FINISHER as *mut u32, 0x5555) };
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(feature = "insn-bench"))]
#[entry]
fn main() -> ! {
    let sp: usize;
    // SAFETY: reads the stack pointer.
    unsafe { asm!("mv {0}, sp", out(reg) sp) };
    // SAFETY: the STACK region below the current SP is unused.
    unsafe { paint_stack(stack_bottom(), sp) };
    guard_stack();
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
        stack_bytes: stack_top() - stack_bottom(),
    };
    log(b"fnp: riscv-virt serving\n\0");
    let mut uart = Ns16550::enable();
    serve(&mut uart, bufs, config, Board)
}
