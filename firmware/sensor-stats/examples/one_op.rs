//! The size probe of firmware/README.md: one float32 ufunc (`add`) and one
//! reduction (`mean`) through the typed API, with the same runtime as the
//! sensor-stats example (defmt over semihosting). `llvm-size` of this ELF
//! is what using fnp-core for one op costs in flash.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use defmt_semihosting as _;

#[entry]
fn main() -> ! {
    // black_box: the inputs come from a sensor, not from constants the
    // compiler could fold.
    let a = core::hint::black_box([1.5f32, 2.5, 3.5, 4.5]);
    let b = core::hint::black_box([0.25f32; 4]);
    let mut sum = [0f32; 4];
    let code = match fnp_core::add(&a, &b, &mut sum).and_then(|_| fnp_core::mean(&sum)) {
        Ok(m) => {
            defmt::println!("mean(a + b) = {=f32}", m);
            debug::EXIT_SUCCESS
        }
        Err(e) => {
            defmt::error!("fnp-core: {}", e);
            debug::EXIT_FAILURE
        }
    };
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
