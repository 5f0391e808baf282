//! Statistics over a buffer of sensor samples with fnp-core's typed API,
//! logged with defmt over semihosting: what a firmware author writes after
//! `cargo add fnp-core --features defmt`. The numbers are NumPy's, bit for
//! bit (`expected.out`, computed by `expected.py` with NumPy).
//!
//! Run on QEMU (from firmware/): `cargo run --release -p
//! fnp-example-sensor-stats --target thumbv7m-none-eabi | defmt-print -e
//! target/thumbv7m-none-eabi/release/fnp-example-sensor-stats`.

#![no_std]
#![no_main]

mod samples;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug;
use defmt_semihosting as _;
use samples::SAMPLES;

const N: usize = SAMPLES.len();

/// The statistics NumPy computes with `x.mean()`, `x.var()`, `x.std()`,
/// `x.max()`, `x.argmax()` and `(x - x.mean()) / x.std()` on float32.
fn stats(x: &[f32; N], z: &mut [f32; N]) -> Result<(), fnp_core::Error> {
    let mean: f32 = fnp_core::mean(x)?;
    let var: f32 = fnp_core::var(x)?;
    let std: f32 = fnp_core::std(x)?;
    let max: f32 = fnp_core::max(x)?;
    let argmax: i64 = fnp_core::argmax(x)?;
    defmt::println!("n = {=usize}", N);
    defmt::println!("mean = {=f32} ({=u32:#010x})", mean, mean.to_bits());
    defmt::println!("var = {=f32} ({=u32:#010x})", var, var.to_bits());
    defmt::println!("std = {=f32} ({=u32:#010x})", std, std.to_bits());
    defmt::println!("max = {=f32} at {=i64}", max, argmax);

    // Broadcast normalisation: the 0-d mean and std stretch over x.
    let mut centered = [0f32; N];
    fnp_core::subtract(x, mean, &mut centered)?;
    let out = fnp_core::divide(&centered, std, z)?;
    defmt::println!("z: shape {}, flags {}", out.shape, out.flags);
    for (i, v) in z.iter().enumerate() {
        defmt::println!("z[{=usize}] = {=f32} ({=u32:#010x})", i, *v, v.to_bits());
    }

    // What a caller sees on a mistake: an Error, never a panic.
    let mut short = [0f32; 4];
    let err = fnp_core::subtract(x, mean, &mut short);
    defmt::println!("short buffer: {}", err);
    Ok(())
}

#[entry]
fn main() -> ! {
    let mut z = [0f32; N];
    let code = match stats(&SAMPLES, &mut z) {
        Ok(()) => debug::EXIT_SUCCESS,
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

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    defmt::error!("HardFault");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // fnp-core's API does not panic; this is for the rest of the program.
    defmt::error!("panic");
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
