//! The hot loops, run a fixed number of times, for instruction counts:
//! `valgrind --tool=callgrind --toggle-collect='hot_loops::run*'
//! target/release/examples/hot_loops` before and after a change to the
//! kernels (a count is exact and repeatable where a timing on a shared
//! machine is not).

use fnp_core::{binary, reduce, unary, ArrayRef, Axes, BinaryOp, Layout, ReduceOp, ReduceParams};
use fnp_core::{Shape, UnaryOp};

const N: usize = 1 << 16;
const REPEAT: usize = 20;

fn vector<T: fnp_core::Element>(data: &[T]) -> ArrayRef<'_> {
    ArrayRef::from_slice(data, Layout::c_contiguous(Shape::vector(data.len()))).unwrap()
}

#[inline(never)]
fn run_binary(op: BinaryOp, a: &ArrayRef<'_>, b: &ArrayRef<'_>, out: &mut [u8]) {
    for _ in 0..REPEAT {
        std::hint::black_box(binary(op, a, b, out).unwrap());
    }
}

#[inline(never)]
fn run_unary(op: UnaryOp, a: &ArrayRef<'_>, out: &mut [u8]) {
    for _ in 0..REPEAT {
        std::hint::black_box(unary(op, a, out).unwrap());
    }
}

#[inline(never)]
fn run_reduce(op: ReduceOp, a: &ArrayRef<'_>, p: &ReduceParams<'_>, out: &mut [u8], s: &mut [u64]) {
    for _ in 0..REPEAT {
        std::hint::black_box(reduce(op, a, p, out, s).unwrap());
    }
}

fn main() {
    let f64s: Vec<f64> = (0..N).map(|i| 1.0 + (i % 97) as f64 * 0.25).collect();
    let f32s: Vec<f32> = f64s.iter().map(|&x| x as f32).collect();
    let i32s: Vec<i32> = (0..N as i32).map(|i| i.wrapping_mul(7919) - 1000).collect();
    let d32: Vec<i32> = (0..N as i32).map(|i| i % 13 - 6).collect();
    let mut out = vec![0u64; N];
    let mut scratch = vec![0u64; 1 << 13];
    let out: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
    let (a64, a32, ai, di) = (vector(&f64s), vector(&f32s), vector(&i32s), vector(&d32));
    for op in [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::TrueDivide,
    ] {
        run_binary(op, &a64, &a64, out);
        run_binary(op, &a32, &a32, out);
    }
    for op in [BinaryOp::Add, BinaryOp::FloorDivide, BinaryOp::Remainder] {
        run_binary(op, &ai, &di, out);
    }
    run_unary(UnaryOp::Negative, &a64, out);
    run_unary(UnaryOp::Sqrt, &a32, out);
    let square = ArrayRef::from_slice(
        &f64s,
        Layout::c_contiguous(Shape::new(&[256, 256]).unwrap()),
    )
    .unwrap();
    let all = ReduceParams::default();
    let rows = ReduceParams {
        axis: Axes::single(1),
        ..ReduceParams::default()
    };
    let cols = ReduceParams {
        axis: Axes::single(0),
        ..ReduceParams::default()
    };
    run_reduce(ReduceOp::Sum, &a64, &all, out, &mut scratch);
    run_reduce(ReduceOp::Sum, &a32, &all, out, &mut scratch);
    run_reduce(ReduceOp::Sum, &square, &rows, out, &mut scratch);
    run_reduce(ReduceOp::Sum, &square, &cols, out, &mut scratch);
    run_reduce(ReduceOp::Max, &a64, &all, out, &mut scratch);
    run_reduce(ReduceOp::Argmax, &a64, &all, out, &mut scratch);
    run_reduce(ReduceOp::Mean, &a32, &all, out, &mut scratch);
}
