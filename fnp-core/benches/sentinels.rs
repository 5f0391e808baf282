//! criterion benches of the sentinel workloads, throughput in elements.
//!
//! `fnp bench` runs the same workloads side by side with NumPy; these are for
//! profiling fnp-core alone (`cargo bench -p fnp-core`).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fnp_core::{binary, ArrayRef, BinaryOp, Element, Layout, Shape};

const N: usize = 1_000_000;

fn ramp<T: Element>(n: usize, f: impl Fn(usize) -> T) -> Vec<T> {
    (0..n).map(f).collect()
}

fn view<'a, T: Element>(data: &'a [T], dims: &[usize]) -> ArrayRef<'a> {
    ArrayRef::from_slice(data, Layout::c_contiguous(Shape::new(dims).unwrap())).unwrap()
}

fn binary_f<T: Element>(c: &mut Criterion, tag: &str, a: &[T], b: &[T]) {
    let mut group = c.benchmark_group(format!("binary_{tag}"));
    group.throughput(Throughput::Elements(N as u64));
    let mut out = vec![T::default(); N];
    for op in [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::TrueDivide,
    ] {
        group.bench_function(BenchmarkId::from_parameter(op.name()), |bench| {
            let (a, b) = (view(a, &[N]), view(b, &[N]));
            bench.iter(|| {
                binary(op, &a, &b, bytemuck::cast_slice_mut(&mut out)).unwrap();
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn sentinels(c: &mut Criterion) {
    let a64 = ramp(N, |i| (i as f64 * 0.37).sin() * 100.0);
    let b64 = ramp(N, |i| (i as f64 * 0.11).cos() * 100.0 + 0.5);
    binary_f(c, "f64", &a64, &b64);
    let a32: Vec<f32> = a64.iter().map(|&x| x as f32).collect();
    let b32: Vec<f32> = b64.iter().map(|&x| x as f32).collect();
    binary_f(c, "f32", &a32, &b32);

    let mut group = c.benchmark_group("sentinel");
    group.throughput(Throughput::Elements(N as u64));
    let mut out64 = vec![0f64; N];
    group.bench_function("add_broadcast_col_row_f64", |bench| {
        let (col, row) = (view(&a64[..1000], &[1000, 1]), view(&b64[..1000], &[1000]));
        bench.iter(|| {
            binary(
                BinaryOp::Add,
                &col,
                &row,
                bytemuck::cast_slice_mut(&mut out64),
            )
            .unwrap();
            black_box(&out64);
        })
    });
    let nan = ramp(N, |i| if i % 17 == 0 { f64::NAN } else { a64[i] });
    group.bench_function("maximum_nan_f64", |bench| {
        let (a, b) = (view(&nan, &[N]), view(&b64, &[N]));
        bench.iter(|| {
            binary(
                BinaryOp::Maximum,
                &a,
                &b,
                bytemuck::cast_slice_mut(&mut out64),
            )
            .unwrap();
            black_box(&out64);
        })
    });
    let ai = ramp(N, |i| (i as i32).wrapping_mul(2_654_435_761u32 as i32));
    let bi = ramp(N, |i| (i % 2001) as i32 - 1000);
    let mut outi = vec![0i32; N];
    for op in [BinaryOp::FloorDivide, BinaryOp::Remainder] {
        group.bench_function(format!("{}_i32", op.name()), |bench| {
            let (a, b) = (view(&ai, &[N]), view(&bi, &[N]));
            bench.iter(|| {
                binary(op, &a, &b, bytemuck::cast_slice_mut(&mut outi)).unwrap();
                black_box(&outi);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sentinels);
criterion_main!(benches);
