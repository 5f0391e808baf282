//! Rough timings of the hot reductions (run with `--ignored --nocapture`
//! in release); the NumPy side is timed by the same sizes in
//! fixtures/numpy/time_reductions.py.

use fnp_core::{reduce, ArrayRef, Axes, Layout, ReduceOp, ReduceParams, Shape};
use std::time::Instant;

fn best_of<F: FnMut()>(mut f: F) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..300 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    best * 1e3
}

#[test]
#[ignore = "timing, not a check"]
fn timings() {
    let n = 1_000_000usize;
    let data: Vec<f64> = (0..n)
        .map(|i| ((i * 7919) % 1000) as f64 * 0.001 - 0.3)
        .collect();
    let data32: Vec<f32> = data.iter().map(|&x| x as f32).collect();
    let a = ArrayRef::from_slice(&data, Layout::c_contiguous(Shape::vector(n))).unwrap();
    let a32 = ArrayRef::from_slice(&data32, Layout::c_contiguous(Shape::vector(n))).unwrap();
    let m = ArrayRef::from_slice(
        &data,
        Layout::c_contiguous(Shape::new(&[1000, 1000]).unwrap()),
    )
    .unwrap();
    let mut out = vec![0f64; n];
    let mut scratch = vec![0u64; 2 * 1000];
    let p = ReduceParams::default();
    let row = ReduceParams {
        axis: Axes::single(1),
        ..ReduceParams::default()
    };
    let col = ReduceParams {
        axis: Axes::single(0),
        ..ReduceParams::default()
    };
    let cases: [(&str, ReduceOp, &ArrayRef, &ReduceParams); 9] = [
        ("sum f64 1e6", ReduceOp::Sum, &a, &p),
        ("sum f32 1e6", ReduceOp::Sum, &a32, &p),
        ("sum f64 1000x1000 axis=1", ReduceOp::Sum, &m, &row),
        ("sum f64 1000x1000 axis=0", ReduceOp::Sum, &m, &col),
        ("mean f64 1e6", ReduceOp::Mean, &a, &p),
        ("var f64 1e6", ReduceOp::Var, &a, &p),
        ("cumsum f64 1e6", ReduceOp::Cumsum, &a, &p),
        ("max f64 1e6", ReduceOp::Max, &a, &p),
        ("argmax f64 1e6", ReduceOp::Argmax, &a, &p),
    ];
    let only = std::env::var("FNP_ONLY").ok();
    for (name, op, x, params) in cases {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let ms = best_of(|| {
            reduce(
                op,
                x,
                params,
                bytemuck::cast_slice_mut(&mut out),
                &mut scratch,
            )
            .unwrap();
        });
        eprintln!("{name:28} {ms:8.3} ms");
    }
}
