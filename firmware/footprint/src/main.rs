//! The footprint probe behind `cargo xtask footprint`: a firmware that
//! makes one typed fnp-core call, chosen at build time
//! (`FNP_FOOTPRINT_OP=mean`), on 16 elements, and prints how much stack the
//! call used. The stack below the call is painted with a pattern first and
//! scanned afterwards (the deepest word the call overwrote); the cost of the
//! harness's own call is measured with an empty call and subtracted. Built
//! without `FNP_FOOTPRINT_OP` it makes no fnp-core call but prints its
//! report line all the same: the baseline for the flash cost (`llvm-size`
//! of each build minus the baseline's).
//!
//! Every row of fnp-core's op table is a call here (`fnp_core::for_each_op!`), in
//! the dtype a firmware most likely uses for its family.

#![no_std]
#![no_main]

use core::hint::black_box;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprintln};
use fnp_core::Bool;

/// Elements per operand.
const N: usize = 16;

/// The call this build makes (`""`: none, the flash baseline).
const OP: &str = match option_env!("FNP_FOOTPRINT_OP") {
    Some(op) => op,
    None => "",
};

/// Painted stack below the harness: 24 KiB of lm3s6965evb's 64 KiB (with
/// flip-link the stack grows down from just below the statics).
const PAINT_WORDS: usize = 6 * 1024;
const PATTERN: u32 = 0xA5A5_A5A5;

/// Compile-time string equality, so that each build links one call only.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Bytes of stack `f` touched below this function's frame.
#[inline(never)]
fn stack_used(f: &mut dyn FnMut()) -> usize {
    let top = cortex_m::register::msp::read() as usize & !3;
    let bottom = top - 4 * PAINT_WORDS;
    for k in 0..PAINT_WORDS {
        // SAFETY: [bottom, top) is free stack below the current frame (no
        // interrupt is enabled, so nothing else runs on it), 4-aligned and
        // inside RAM (the stack region is over 60 KiB here).
        unsafe { core::ptr::write_volatile((bottom + 4 * k) as *mut u32, PATTERN) };
    }
    f();
    let untouched = (0..PAINT_WORDS)
        // SAFETY: the same words, read back.
        .take_while(
            |&k| unsafe { core::ptr::read_volatile((bottom + 4 * k) as *const u32) } == PATTERN,
        )
        .count();
    4 * (PAINT_WORDS - untouched)
}

/// Runs one call under [`stack_used`] and prints its line for xtask:
/// `footprint <op> <dtype> stack <bytes> <ok|error>`.
fn report(op: &str, dtype: &str, base: usize, call: &mut dyn FnMut() -> bool) {
    let mut ok = false;
    let used = stack_used(&mut || ok = call());
    let bytes = used.saturating_sub(base);
    let status = if ok { "ok" } else { "error" };
    hprintln!("footprint {} {} stack {} {}", op, dtype, bytes, status);
}

// Inputs: sensor-like values in flash, behind `black_box` so that the
// compiler cannot see through them; being statics, they take no stack, so
// the measured depth is fnp-core's (plus the caller's output buffer).
static F32S: [f32; N] = [
    21.4, 21.5, 21.3, 21.6, 21.7, 21.5, 21.4, 21.8, 0.9, 0.1, 0.7, 0.6, 0.4, 0.9, 0.2, 0.8,
];
static F64S: [f64; N] = [
    21.4, 21.5, 21.3, 21.6, 21.7, 21.5, 21.4, 21.8, 0.9, 0.1, 0.7, 0.6, 0.4, 0.9, 0.2, 0.8,
];
static I32S: [i32; N] = [3, -7, 12, 5, 0, 9, -2, 4, 1, 8, 6, -5, 2, 7, 11, 10];
static SHIFTS: [i32; N] = [3, 1, 4, 1, 5, 0, 2, 6, 5, 3, 5, 0, 7, 1, 2, 7];
static BOOLS: [Bool; N] = [
    Bool::TRUE,
    Bool::FALSE,
    Bool::TRUE,
    Bool::TRUE,
    Bool::FALSE,
    Bool::TRUE,
    Bool::FALSE,
    Bool::TRUE,
    Bool::TRUE,
    Bool::TRUE,
    Bool::TRUE,
    Bool::FALSE,
    Bool::FALSE,
    Bool::TRUE,
    Bool::TRUE,
    Bool::TRUE,
];

fn f32s() -> &'static [f32; N] {
    black_box(&F32S)
}
fn f64s() -> &'static [f64; N] {
    black_box(&F64S)
}
fn i32s() -> &'static [i32; N] {
    black_box(&I32S)
}
fn shifts() -> &'static [i32; N] {
    black_box(&SHIFTS)
}
fn bools() -> &'static [Bool; N] {
    black_box(&BOOLS)
}

/// `out = op(a, b)` on two operands of one type.
macro_rules! call2 {
    ($name:ident, $base:expr, $dtype:literal, $a:expr, $b:expr, $o:ty) => {
        report(stringify!($name), $dtype, $base, &mut || {
            let mut out: [$o; N] = [<$o>::default(); N];
            let ok = fnp_core::$name($a, $b, &mut out).is_ok();
            black_box(out);
            ok
        })
    };
}

/// `out = op(x)`.
macro_rules! call1 {
    ($name:ident, $base:expr, $dtype:literal, $x:expr, $o:ty) => {
        report(stringify!($name), $dtype, $base, &mut || {
            let mut out: [$o; N] = [<$o>::default(); N];
            let ok = fnp_core::$name($x, &mut out).is_ok();
            black_box(out);
            ok
        })
    };
}

/// The typed call of one binary row, in its family's common dtype.
macro_rules! binary {
    (Compare, $n:ident, $b:expr) => {
        call2!($n, $b, "float32", f32s(), f32s(), Bool)
    };
    (Logical, $n:ident, $b:expr) => {
        call2!($n, $b, "bool", bools(), bools(), Bool)
    };
    (Bitwise, $n:ident, $b:expr) => {
        call2!($n, $b, "int32", i32s(), i32s(), i32)
    };
    (Shift, $n:ident, $b:expr) => {
        call2!($n, $b, "int32", i32s(), shifts(), i32)
    };
    (IntOnly, $n:ident, $b:expr) => {
        call2!($n, $b, "int32", i32s(), i32s(), i32)
    };
    (Float64Only, $n:ident, $b:expr) => {
        call2!($n, $b, "float64", f64s(), f64s(), f64)
    };
    (Ldexp, $n:ident, $b:expr) => {
        call2!($n, $b, "float32", f32s(), i32s(), f32)
    };
    // Arith, FloatOnly, Fmod.
    ($family:ident, $n:ident, $b:expr) => {
        call2!($n, $b, "float32", f32s(), f32s(), f32)
    };
}

/// The typed call of one unary row.
macro_rules! unary {
    (Predicate, $n:ident, $b:expr) => {
        call1!($n, $b, "float32", f32s(), Bool)
    };
    (Signbit, $n:ident, $b:expr) => {
        call1!($n, $b, "float32", f32s(), Bool)
    };
    (Logical, $n:ident, $b:expr) => {
        call1!($n, $b, "bool", bools(), Bool)
    };
    (Invert, $n:ident, $b:expr) => {
        call1!($n, $b, "int32", i32s(), i32)
    };
    (BitCount, $n:ident, $b:expr) => {
        call1!($n, $b, "int32", i32s(), u8)
    };
    // Math, Signed, AnyDtype, NoBool.
    ($family:ident, $n:ident, $b:expr) => {
        call1!($n, $b, "float32", f32s(), f32)
    };
}

/// The typed call of one reduction row, over float32.
macro_rules! reduce {
    (Scan, $n:ident, $b:expr) => {
        call1!($n, $b, "float32", f32s(), f32)
    };
    ($kind:ident, $n:ident, $b:expr) => {
        report(stringify!($n), "float32", $b, &mut || {
            black_box(fnp_core::$n(f32s())).is_ok()
        })
    };
}

/// One branch per op-table row; only the one named by [`OP`] survives.
macro_rules! rows {
    (
        binary { $($(#[$bdoc:meta])* $bv:ident = $bcode:literal, $bname:ident,
                   [$($balias:literal),*], $bfamily:ident -> $bout:ident, $baccuracy:expr, $bidentity:ident;)* }
        unary { $($(#[$udoc:meta])* $uv:ident = $ucode:literal, $uname:ident,
                  [$($ualias:literal),*], $ufamily:ident -> $uout:ident, $uaccuracy:expr;)* }
        reduce { $($(#[$rdoc:meta])* $rv:ident = $rcode:literal, $rname:ident,
                   [$($ralias:literal),*], $rkind:ident -> $rout:ident, $raccuracy:expr, [$($rkw:ident),*];)* }
    ) => {
        /// Makes the call [`OP`] names; false when it names none.
        fn run(base: usize) -> bool {
            // The baseline: the harness and its report line, no fnp-core call.
            if const { same(OP, "") } {
                report("baseline", "-", base, &mut || true);
                return true;
            }
            $(if const { same(OP, stringify!($bname)) } {
                binary!($bfamily, $bname, base);
                return true;
            })*
            $(if const { same(OP, stringify!($uname)) } {
                unary!($ufamily, $uname, base);
                return true;
            })*
            $(if const { same(OP, stringify!($rname)) } {
                reduce!($rkind, $rname, base);
                return true;
            })*
            // The reductions with a keyword a firmware author asks for.
            if const { same(OP, "std_ddof") } {
                report("std_ddof", "float32", base, &mut || {
                    let r = fnp_core::std_ddof(f32s(), 1);
                    black_box(r).is_ok()
                });
                return true;
            }
            false
        }
    };
}

fnp_core::for_each_op!(rows);

#[entry]
fn main() -> ! {
    let base = stack_used(&mut || {
        black_box(());
    });
    let code = if run(base) {
        debug::EXIT_SUCCESS
    } else {
        hprintln!("footprint: no op named {}", OP);
        debug::EXIT_FAILURE
    };
    debug::exit(code);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(_: &ExceptionFrame) -> ! {
    debug::exit(debug::EXIT_FAILURE);
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
