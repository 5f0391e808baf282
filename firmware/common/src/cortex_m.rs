//! A whole Cortex-M conformance server except the transport and the
//! buffers: stack painting and the peak-stack counter, the `Hello` log
//! line, semihosting logs without `core::fmt`, the HardFault and panic
//! reports that stop QEMU with a failure status, and the device-cost
//! workloads. A board (ours or a user's) is then its byte link plus:
//!
//! ```ignore
//! static mut RX: [u8; 8192] = [0; 8192];
//! static mut ARENA: [u64; 1024] = [0; 1024];
//! static mut OUT: [u64; 1024] = [0; 1024];
//! const BOARD: Board = Board { target: "my-board", profile: "release", ram_start: 0x2000_0000 };
//!
//! #[cortex_m_rt::entry]
//! fn main() -> ! {
//!     // SAFETY: main runs once; nothing else references the buffers.
//!     let bufs = unsafe { Buffers {
//!         rx: &mut *addr_of_mut!(RX),
//!         arena: &mut *addr_of_mut!(ARENA),
//!         out: &mut *addr_of_mut!(OUT),
//!     } };
//!     // SAFETY: called first in main, with flip-link's stack layout.
//!     unsafe { fnp_fw_common::cortex_m::serve_board(&BOARD, bufs, MyUart::enable) }
//! }
//!
//! #[cortex_m_rt::exception]
//! unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
//!     fnp_fw_common::cortex_m::hard_fault(frame.pc())
//! }
//!
//! #[panic_handler]
//! fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
//!     fnp_fw_common::cortex_m::panic(info)
//! }
//! ```

use cortex_m_semihosting::debug;
use fnp_core::wire::{Platform, ServerConfig};

use crate::{decimal, hex, paint_stack, peak_stack, serve, Buffers, Transport};

/// What the server needs to know about the board.
#[derive(Clone, Copy)]
pub struct Board {
    /// The name in `Hello` (`fnp run --target qemu:<name>`).
    pub target: &'static str,
    /// The cargo profile the firmware was built with (in `Hello`).
    pub profile: &'static str,
    /// Start of SRAM: with flip-link the stack runs from `_stack_start`
    /// down to here, and one word further is a fault, not `.bss`.
    pub ram_start: usize,
}

extern "C" {
    static _stack_start: u32;
}

/// The initial stack pointer (cortex-m-rt's `_stack_start`).
pub fn stack_top() -> usize {
    // Only the address of the linker symbol is taken, never its value.
    core::ptr::addr_of!(_stack_start) as usize
}

struct Counters {
    ram_start: usize,
}

impl Platform for Counters {
    fn peak_stack_bytes(&mut self) -> u64 {
        // SAFETY: ram_start.._stack_start is the stack painted in
        // serve_board.
        unsafe { peak_stack(self.ram_start, stack_top()) as u64 }
    }
}

/// Paints the stack, logs that the board is serving, enables the
/// transport and serves frames forever.
///
/// # Safety
/// Call it first in `main`: everything below the current stack pointer
/// down to `board.ram_start` must be unused stack (flip-link's layout).
pub unsafe fn serve_board<T: Transport>(
    board: &Board,
    bufs: Buffers,
    enable: impl FnOnce() -> T,
) -> ! {
    // SAFETY: per this function's contract.
    unsafe { paint_stack(board.ram_start, cortex_m::register::msp::read() as usize) };
    let config = ServerConfig {
        target: board.target,
        profile: board.profile,
        max_frame_bytes: bufs.rx.len(),
        stack_bytes: stack_top() - board.ram_start,
    };
    let mut n = [0u8; 20];
    let stack = decimal(config.stack_bytes as u64, &mut n);
    log(&["fnp: ", board.target, " serving, stack ", stack, " bytes\n"]);
    let mut transport = enable();
    serve(
        &mut transport,
        bufs,
        config,
        Counters {
            ram_start: board.ram_start,
        },
    )
}

/// Device-cost build: runs the workloads the host's QEMU plugin counts
/// (see [`crate::insn_bench`]), then exits.
pub fn insn_bench() -> ! {
    use crate::insn_bench::{self, BenchBuffers, MAX_ELEMENTS};
    static mut A: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    static mut B: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    static mut OUT_BENCH: [u64; MAX_ELEMENTS] = [0; MAX_ELEMENTS];
    // SAFETY: called once from main; these statics are referenced nowhere
    // else.
    let mut bufs = unsafe {
        BenchBuffers {
            a: &mut *core::ptr::addr_of_mut!(A),
            b: &mut *core::ptr::addr_of_mut!(B),
            out: &mut *core::ptr::addr_of_mut!(OUT_BENCH),
        }
    };
    insn_bench::run(&mut bufs, |line| {
        cortex_m_semihosting::hprintln!("{}", line)
    });
    exit(debug::EXIT_SUCCESS)
}

/// The HardFault report: a stack overflow lands here (flip-link); stops
/// the emulator with a failure status so the host marks the case crashed.
pub fn hard_fault(pc: u32) -> ! {
    let mut h = [0u8; 18];
    log(&["fnp: HardFault at pc=", hex(u64::from(pc), &mut h), "\n"]);
    exit(debug::EXIT_FAILURE)
}

/// The panic report: where a panic happened (without formatting its
/// message), then a failure exit, as panic-semihosting's `exit` feature.
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut n = [0u8; 20];
    match info.location() {
        Some(l) => log(&[
            "fnp: panicked at ",
            l.file(),
            ":",
            decimal(u64::from(l.line()), &mut n),
            "\n",
        ]),
        None => log(&["fnp: panicked\n"]),
    }
    exit(debug::EXIT_FAILURE)
}

/// Writes a line to the semihosting console without `core::fmt` (its
/// machinery would cost about 2 KiB of flash).
pub fn log(parts: &[&str]) {
    if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
        for p in parts {
            let _ = out.write_all(p.as_bytes());
        }
    }
}

fn exit(code: debug::ExitStatus) -> ! {
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}
