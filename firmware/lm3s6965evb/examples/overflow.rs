//! Recurses until the stack runs out, to show the flip-link layout at work:
//! the overflow must end in HardFault (semihosting exit with failure), not
//! in silently overwritten statics. Run by host/tests/device_qemu.rs.

#![no_std]
#![no_main]

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use panic_semihosting as _;

/// A static the overflow would reach first without flip-link.
static mut CANARY: u32 = 0xC0FFEE;

#[inline(never)]
#[allow(unconditional_recursion)] // the point: run until the stack is gone
fn deeper(n: u32) -> u32 {
    let frame = core::hint::black_box([n; 16]);
    frame[(n as usize) % 16].wrapping_add(deeper(n.wrapping_add(1)))
}

#[entry]
fn main() -> ! {
    hprintln!("overflow: recursing");
    let r = deeper(0);
    hprintln!("overflow: returned {}", r);
    debug::exit(debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    // SAFETY: single-threaded; reading the canary after the fault.
    let canary = unsafe { core::ptr::addr_of!(CANARY).read_volatile() };
    hprintln!("overflow: HardFault, canary {:#x}", canary);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
