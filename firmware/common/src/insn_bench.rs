//! Device cost workloads: each runs between two marker functions whose
//! addresses the host's QEMU plugin (tools/insn-count) watches, so the
//! instructions executed in between are counted exactly.
//!
//! Every workload runs at [`SIZES`] elements; the host takes the difference
//! of the two counts per element, which cancels the fixed cost of the call
//! (dispatch, layout checks) and leaves what one more element costs.

use core::sync::atomic::{compiler_fence, AtomicU32, Ordering};

use fnp_core::{
    binary, reduce, unary, ArrayRef, BinaryOp, Element, Layout, ReduceOp, ReduceParams, Shape,
    UnaryOp,
};

/// Element counts each workload runs at (the host diffs them).
pub const SIZES: [usize; 2] = [512, 1024];

/// Largest element count: the buffers must hold this many u64 words.
pub const MAX_ELEMENTS: usize = 1024;

static MARK: AtomicU32 = AtomicU32::new(0);

/// Start of a counted region. Never inlined, and unlike `fnp_bench_end`
/// (so the linker cannot fold the two into one address).
#[no_mangle]
#[inline(never)]
pub extern "C" fn fnp_bench_start() {
    MARK.fetch_add(1, Ordering::Relaxed);
    compiler_fence(Ordering::SeqCst);
}

/// End of a counted region.
#[no_mangle]
#[inline(never)]
pub extern "C" fn fnp_bench_end() {
    compiler_fence(Ordering::SeqCst);
    MARK.fetch_add(2, Ordering::Relaxed);
}

/// The three arrays a workload uses.
pub struct BenchBuffers {
    /// First input.
    pub a: &'static mut [u64; MAX_ELEMENTS],
    /// Second input.
    pub b: &'static mut [u64; MAX_ELEMENTS],
    /// Output.
    pub out: &'static mut [u64; MAX_ELEMENTS],
}

fn fill<T: Element>(words: &mut [u64; MAX_ELEMENTS], n: usize, value: impl Fn(usize) -> T) -> &[T] {
    let typed: &mut [T] = bytemuck::cast_slice_mut(&mut words[..]);
    for (i, x) in typed.iter_mut().take(n).enumerate() {
        *x = value(i);
    }
    &typed[..n]
}

fn view<T: Element>(data: &[T]) -> Option<ArrayRef<'_>> {
    ArrayRef::from_slice(data, Layout::c_contiguous(Shape::vector(data.len()))).ok()
}

/// Runs every workload at every size, logging `bench <name> <n>` before each
/// counted region (the host pairs these lines with the plugin's counts).
/// A workload that fails logs `bench-error <name>` instead of being counted.
pub fn run(bufs: &mut BenchBuffers, mut log: impl FnMut(core::fmt::Arguments<'_>)) {
    for n in SIZES {
        binary_case::<f32>(bufs, n, "add_f32", BinaryOp::Add, &mut log);
        binary_case::<f32>(bufs, n, "multiply_f32", BinaryOp::Multiply, &mut log);
        binary_case::<f64>(bufs, n, "add_f64", BinaryOp::Add, &mut log);
        binary_case::<f64>(bufs, n, "multiply_f64", BinaryOp::Multiply, &mut log);
        binary_case::<i32>(bufs, n, "add_i32", BinaryOp::Add, &mut log);
        sum_case::<f32>(bufs, n, "sum_f32", &mut log);
        sum_case::<f64>(bufs, n, "sum_f64", &mut log);
        unary_case::<f32>(bufs, n, "exp_f32", UnaryOp::Exp, &mut log);
        unary_case::<f32>(bufs, n, "log_f32", UnaryOp::Log, &mut log);
        unary_case::<f32>(bufs, n, "sin_f32", UnaryOp::Sin, &mut log);
    }
}

/// Values that raise no flag, so the common (flag-free) path is measured.
trait Sample: Element {
    fn sample(i: usize) -> Self;
}

impl Sample for f32 {
    fn sample(i: usize) -> f32 {
        1.0 + (i % 97) as f32 * 0.25
    }
}

impl Sample for f64 {
    fn sample(i: usize) -> f64 {
        1.0 + (i % 97) as f64 * 0.25
    }
}

impl Sample for i32 {
    fn sample(i: usize) -> i32 {
        (i as i32).wrapping_mul(7919) - 1000
    }
}

fn binary_case<T: Sample>(
    bufs: &mut BenchBuffers,
    n: usize,
    name: &str,
    op: BinaryOp,
    log: &mut impl FnMut(core::fmt::Arguments<'_>),
) {
    let a = fill::<T>(bufs.a, n, T::sample);
    let b = fill::<T>(bufs.b, n, |i| T::sample(i + 1));
    let out: &mut [u8] = bytemuck::cast_slice_mut(&mut bufs.out[..]);
    let (Some(a), Some(b)) = (view(a), view(b)) else {
        log(format_args!("bench-error {name}"));
        return;
    };
    log(format_args!("bench {name} {n}"));
    fnp_bench_start();
    let result = binary(op, &a, &b, out);
    fnp_bench_end();
    if result.is_err() {
        log(format_args!("bench-error {name}"));
    }
}

fn unary_case<T: Sample>(
    bufs: &mut BenchBuffers,
    n: usize,
    name: &str,
    op: UnaryOp,
    log: &mut impl FnMut(core::fmt::Arguments<'_>),
) {
    let a = fill::<T>(bufs.a, n, T::sample);
    let out: &mut [u8] = bytemuck::cast_slice_mut(&mut bufs.out[..]);
    let Some(a) = view(a) else {
        log(format_args!("bench-error {name}"));
        return;
    };
    log(format_args!("bench {name} {n}"));
    fnp_bench_start();
    let result = unary(op, &a, out);
    fnp_bench_end();
    if result.is_err() {
        log(format_args!("bench-error {name}"));
    }
}

fn sum_case<T: Sample>(
    bufs: &mut BenchBuffers,
    n: usize,
    name: &str,
    log: &mut impl FnMut(core::fmt::Arguments<'_>),
) {
    let a = fill::<T>(bufs.a, n, T::sample);
    let out: &mut [u8] = bytemuck::cast_slice_mut(&mut bufs.out[..]);
    let scratch = &mut bufs.b[..];
    let Some(a) = view(a) else {
        log(format_args!("bench-error {name}"));
        return;
    };
    let params = ReduceParams::default();
    log(format_args!("bench {name} {n}"));
    fnp_bench_start();
    let result = reduce(ReduceOp::Sum, &a, &params, out, scratch);
    fnp_bench_end();
    if result.is_err() {
        log(format_args!("bench-error {name}"));
    }
}
