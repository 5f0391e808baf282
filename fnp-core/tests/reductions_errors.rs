//! Error paths and edge cases of the reductions that the NumPy fixtures do
//! not reach (buffers, alignment, keywords, 0-d inputs), plus a property
//! test that arbitrary layouts, axes and masks never panic and give the
//! exact integer sums a naive loop gives.

use fnp_core::{
    call, output_of, reduce, scratch_len, ArrayRef, Axes, BinaryOp, Buffer, DType, Error, Layout,
    Op, ReduceOp, ReduceParams, Scalar, Shape, MAX_NDIM,
};
use proptest::prelude::*;

fn vec_f64(v: &[f64]) -> ArrayRef<'_> {
    ArrayRef::from_slice(v, Layout::c_contiguous(Shape::vector(v.len()))).unwrap()
}

#[test]
fn buffers_are_checked() {
    let data = [1.0f64, 2.0, 3.0, 4.0];
    let a =
        ArrayRef::from_slice(&data, Layout::c_contiguous(Shape::new(&[2, 2]).unwrap())).unwrap();
    let p = ReduceParams {
        axis: Axes::single(1),
        ..ReduceParams::default()
    };
    let mut out = [0f64; 2];
    let mut small = [0f64; 1];
    assert_eq!(
        reduce(
            ReduceOp::Sum,
            &a,
            &p,
            bytemuck::cast_slice_mut(&mut small),
            &mut []
        ),
        Err(Error::BufferTooSmall {
            buffer: Buffer::Output,
            needed: 16
        })
    );
    // An output slice that is not 8-byte aligned.
    let mut words = [0u64; 3];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    assert_eq!(
        reduce(ReduceOp::Sum, &a, &p, &mut bytes[1..17], &mut []),
        Err(Error::Misaligned)
    );
    // var needs one word of scratch per output element.
    let need = ReduceOp::Var.scratch_len(&a, &p).unwrap();
    assert_eq!(need, 2);
    let mut scratch = vec![0u64; 1];
    assert!(matches!(
        reduce(
            ReduceOp::Var,
            &a,
            &p,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch
        ),
        Err(Error::BufferTooSmall {
            buffer: Buffer::Scratch,
            needed: 16,
        })
    ));
    let mut scratch = vec![0u64; need];
    let o = reduce(
        ReduceOp::Var,
        &a,
        &p,
        bytemuck::cast_slice_mut(&mut out),
        &mut scratch,
    )
    .unwrap();
    assert_eq!(o.dtype, DType::Float64);
    assert_eq!(out, [0.25, 0.25]);
    assert_eq!(ReduceOp::Sum.scratch_len(&a, &p), Ok(0));
}

#[test]
fn keywords_numpy_rejects() {
    let data = [1.0f64, 2.0, 3.0];
    let a = vec_f64(&data);
    let mut out = [0u64; 3];
    let mut run = |op: ReduceOp, p: ReduceParams<'_>| {
        reduce(
            op,
            &a,
            &p,
            bytemuck::cast_slice_mut(&mut out),
            &mut [0u64; 8],
        )
        .map(|o| o.shape)
    };
    let mask_bytes = [1u8, 0, 1];
    let mask = ArrayRef::contiguous(DType::Bool, &mask_bytes, Shape::vector(3)).unwrap();
    let int_mask_bytes = [1u8, 0, 1];
    let int_mask = ArrayRef::contiguous(DType::UInt8, &int_mask_bytes, Shape::vector(3)).unwrap();
    let short_mask = ArrayRef::contiguous(DType::Bool, &mask_bytes[..2], Shape::vector(2)).unwrap();
    let d = ReduceParams::default;
    assert_eq!(
        run(
            ReduceOp::Cumsum,
            ReduceParams {
                keepdims: true,
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(ReduceOp::Sum, ReduceParams { ddof: 1.0, ..d() }),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(
            ReduceOp::Max,
            ReduceParams {
                dtype: Some(DType::Float64),
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(
            ReduceOp::Argmax,
            ReduceParams {
                where_mask: Some(mask),
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(
            ReduceOp::Mean,
            ReduceParams {
                initial: Some(Scalar::Int(1)),
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(
            ReduceOp::Sum,
            ReduceParams {
                where_mask: Some(int_mask),
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(
        run(
            ReduceOp::Sum,
            ReduceParams {
                where_mask: Some(short_mask),
                ..d()
            }
        ),
        Err(Error::BroadcastMismatch)
    );
    assert_eq!(
        run(
            ReduceOp::Max,
            ReduceParams {
                where_mask: Some(mask),
                ..d()
            }
        ),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        run(
            ReduceOp::Var,
            ReduceParams {
                dtype: Some(DType::Int32),
                ..d()
            }
        ),
        Ok(Shape::SCALAR)
    );
    assert_eq!(
        run(
            ReduceOp::Var,
            ReduceParams {
                dtype: Some(DType::Float32),
                ..d()
            }
        ),
        Ok(Shape::SCALAR)
    );
    assert_eq!(
        run(
            ReduceOp::Std,
            ReduceParams {
                dtype: Some(DType::Float64),
                ..d()
            }
        ),
        Ok(Shape::SCALAR)
    );
    assert_eq!(
        run(
            ReduceOp::Argmax,
            ReduceParams {
                axis: Axes::list(&[0, 0]).unwrap(),
                ..d()
            }
        ),
        Err(Error::InvalidType)
    );
    assert_eq!(Axes::list(&[0; MAX_NDIM + 1]), Err(Error::TooManyDims));
    assert_eq!(
        Axes::list(&[1, -1]).unwrap().as_slice(),
        Some(&[1isize, -1][..])
    );
    assert_eq!(Axes::All.as_slice(), None);
}

#[test]
fn var_and_std_type_errors() {
    let bools = [1u8, 0, 1, 1];
    let b = ArrayRef::contiguous(DType::Bool, &bools, Shape::new(&[2, 2]).unwrap()).unwrap();
    let ints = [1i16, 5, -3, 7];
    let i =
        ArrayRef::from_slice(&ints, Layout::c_contiguous(Shape::new(&[2, 2]).unwrap())).unwrap();
    let with = |dtype, axis| ReduceParams {
        dtype: Some(dtype),
        axis,
        ..ReduceParams::default()
    };
    // bool - bool has no loop.
    assert_eq!(
        ReduceOp::Var.output(&b, &with(DType::Bool, Axes::All)),
        Err(Error::InvalidType)
    );
    assert_eq!(
        ReduceOp::Var.output(&b, &with(DType::Int8, Axes::All)),
        Ok((DType::Int8, Shape::SCALAR))
    );
    // sqrt(ret, out=ret) cannot cast back to an integer array...
    assert_eq!(
        ReduceOp::Std.output(&i, &with(DType::Int32, Axes::single(0))),
        Err(Error::InvalidType)
    );
    // ...but a 0-d result goes through a scalar: isqrt of the var.
    let mut out = [0i32; 1];
    let mut scratch = [0u64; 8];
    let p = with(DType::Int32, Axes::All);
    reduce(
        ReduceOp::Std,
        &i,
        &p,
        bytemuck::cast_slice_mut(&mut out),
        &mut scratch,
    )
    .unwrap();
    // mean 2 (10/4 truncated), deviations -1 3 -5 5: 60 / 4 = 15, sqrt 3.87.
    assert_eq!(out, [3]);
}

#[test]
fn python_int_initial_must_fit_the_accumulator() {
    let data = [1i64, 2];
    let a = ArrayRef::from_slice(&data, Layout::c_contiguous(Shape::vector(2))).unwrap();
    let mut out = [0i64; 1];
    let big = ReduceParams {
        initial: Some(Scalar::UInt(1 << 63)),
        ..ReduceParams::default()
    };
    assert_eq!(
        reduce(
            ReduceOp::Sum,
            &a,
            &big,
            bytemuck::cast_slice_mut(&mut out),
            &mut []
        ),
        Err(Error::PythonIntOverflow)
    );
    let u = [1u64, 2];
    let ua = ArrayRef::from_slice(&u, Layout::c_contiguous(Shape::vector(2))).unwrap();
    let mut uout = [0u64; 1];
    reduce(
        ReduceOp::Sum,
        &ua,
        &big,
        bytemuck::cast_slice_mut(&mut uout),
        &mut [],
    )
    .unwrap();
    assert_eq!(uout[0], (1 << 63) + 3);
    let neg = ReduceParams {
        initial: Some(Scalar::Int(-1)),
        ..ReduceParams::default()
    };
    assert_eq!(
        reduce(
            ReduceOp::Max,
            &ua,
            &neg,
            bytemuck::cast_slice_mut(&mut uout),
            &mut []
        ),
        Err(Error::PythonIntOverflow)
    );
}

#[test]
fn zero_d_inputs() {
    let data = [2.5f64];
    let a = ArrayRef::from_slice(&data, Layout::c_contiguous(Shape::SCALAR)).unwrap();
    let mut out = [0u64; 1];
    let go = |op: ReduceOp, axis: Axes, out: &mut [u64; 1]| {
        let p = ReduceParams {
            axis,
            ..ReduceParams::default()
        };
        reduce(op, &a, &p, bytemuck::cast_slice_mut(out), &mut [0u64; 8])
            .map(|o| (o.dtype, o.shape.dims().to_vec()))
    };
    assert_eq!(
        go(ReduceOp::Sum, Axes::All, &mut out),
        Ok((DType::Float64, vec![]))
    );
    assert_eq!(
        go(ReduceOp::Sum, Axes::list(&[]).unwrap(), &mut out),
        Ok((DType::Float64, vec![]))
    );
    // NumPy 2.4: np.sum(np.float64(2.5), axis=0) == 2.5 (also axis=-1, and
    // for the other ufunc reductions), but axis=(0,) and axis=1 are an
    // AxisError, and so is mean/var/std with any int axis.
    for op in [
        ReduceOp::Sum,
        ReduceOp::Max,
        ReduceOp::CountNonzero,
        ReduceOp::Nanmean,
    ] {
        for ax in [0, -1] {
            out = [0];
            assert!(go(op, Axes::single(ax), &mut out).is_ok(), "{op:?} {ax}");
            let want = if op == ReduceOp::CountNonzero {
                1
            } else {
                2.5f64.to_bits()
            };
            assert_eq!(out[0], want, "{op:?}");
        }
        for axes in [Axes::single(1), Axes::single(-2), Axes::list(&[0]).unwrap()] {
            assert_eq!(
                go(op, axes, &mut out),
                Err(Error::AxisOutOfBounds),
                "{op:?}"
            );
        }
    }
    for op in [ReduceOp::Mean, ReduceOp::Var, ReduceOp::Std] {
        assert_eq!(
            go(op, Axes::single(0), &mut out),
            Err(Error::AxisOutOfBounds)
        );
        assert!(go(op, Axes::list(&[]).unwrap(), &mut out).is_ok());
    }
    // argmin/argmax/cumsum/cumprod take an int axis only.
    assert_eq!(
        go(ReduceOp::Argmax, Axes::list(&[0]).unwrap(), &mut out),
        Err(Error::InvalidType)
    );
    assert_eq!(
        go(ReduceOp::Argmax, Axes::single(0), &mut out),
        Ok((DType::Int64, vec![]))
    );
    assert_eq!(
        go(ReduceOp::Argmax, Axes::single(1), &mut out),
        Err(Error::AxisOutOfBounds)
    );
    assert_eq!(
        go(ReduceOp::Cumsum, Axes::single(-1), &mut out),
        Ok((DType::Float64, vec![1]))
    );
    assert_eq!(
        go(ReduceOp::Cumsum, Axes::single(-2), &mut out),
        Err(Error::AxisOutOfBounds)
    );
    assert_eq!(f64::from_bits(out[0]), 2.5);
    assert_eq!(
        go(ReduceOp::Var, Axes::All, &mut out),
        Ok((DType::Float64, vec![]))
    );
    assert_eq!(f64::from_bits(out[0]), 0.0);
}

#[test]
fn op_entry_point() {
    let x = [1.0f64, 2.0];
    let y = [3.0f64, 4.0];
    let (a, b) = (vec_f64(&x), vec_f64(&y));
    let mut out = [0f64; 2];
    let p = ReduceParams::default();
    let add = Op::Binary(BinaryOp::Add);
    assert_eq!(
        output_of(add, &[a, b], &p),
        Ok((DType::Float64, Shape::vector(2)))
    );
    assert_eq!(scratch_len(add, &[a, b], &p), Ok(0));
    call(
        add,
        &[a, b],
        &p,
        bytemuck::cast_slice_mut(&mut out),
        &mut [],
    )
    .unwrap();
    assert_eq!(out, [4.0, 6.0]);
    assert_eq!(
        call(add, &[a], &p, bytemuck::cast_slice_mut(&mut out), &mut []),
        Err(Error::InvalidArgument)
    );
    let keep = ReduceParams {
        keepdims: true,
        ..ReduceParams::default()
    };
    assert_eq!(
        call(
            add,
            &[a, b],
            &keep,
            bytemuck::cast_slice_mut(&mut out),
            &mut []
        ),
        Err(Error::InvalidType)
    );
    let sum = Op::Reduce(ReduceOp::Sum);
    assert_eq!(
        call(
            sum,
            &[a, b],
            &p,
            bytemuck::cast_slice_mut(&mut out),
            &mut []
        ),
        Err(Error::InvalidArgument)
    );
    let o = call(sum, &[a], &p, bytemuck::cast_slice_mut(&mut out), &mut []).unwrap();
    assert_eq!((o.dtype, out[0]), (DType::Float64, 3.0));
    assert_eq!(Op::try_from(64 + 19), Err(Error::UnknownOp));
    assert_eq!(Op::from_name("nope"), None);
    assert_eq!(sum.arity(), 1);
    assert_eq!(add.to_string(), "add");
}

/// A random strided view: shape, per-axis strides from a shuffled
/// C layout with flips and steps, over a buffer big enough for it.
fn layout_strategy() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<bool>, Vec<usize>)> {
    (0usize..=4).prop_flat_map(|nd| {
        (
            proptest::collection::vec(0usize..=5, nd),
            Just((0..nd).collect::<Vec<_>>()).prop_shuffle(),
            proptest::collection::vec(any::<bool>(), nd),
            proptest::collection::vec(1usize..=2, nd),
        )
    })
}

fn build(dims: &[usize], perm: &[usize], flip: &[bool], steps: &[usize]) -> (Vec<usize>, Layout) {
    // Buffer of `base` dims (C), sliced by steps, flipped, permuted.
    let base: Vec<usize> = dims.iter().zip(steps).map(|(&d, &s)| d * s).collect();
    let nd = dims.len();
    let mut strides = vec![0isize; nd];
    let mut step = 1isize;
    for k in (0..nd).rev() {
        strides[k] = step;
        step *= base[k].max(1) as isize;
    }
    let mut offset = 0isize;
    for k in 0..nd {
        strides[k] *= steps[k] as isize;
        if flip[k] && dims[k] > 0 {
            offset += (dims[k] as isize - 1) * strides[k];
            strides[k] = -strides[k];
        }
    }
    let shape: Vec<usize> = perm.iter().map(|&k| dims[k]).collect();
    let st: Vec<isize> = perm.iter().map(|&k| strides[k]).collect();
    (
        base,
        Layout::strided(Shape::new(&shape).unwrap(), &st, offset as usize).unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn integer_sums_match_a_naive_loop(
        (dims, perm, flip, steps) in layout_strategy(),
        axes_bits in 0u8..16,
        keepdims in any::<bool>(),
        use_mask in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let (base, layout) = build(&dims, &perm, &flip, &steps);
        let n: usize = base.iter().product::<usize>().max(1);
        let data: Vec<i32> = (0..n).map(|i| ((i as i64).wrapping_mul(2654435761) ^ seed as i64) as i32 % 1000).collect();
        let a = ArrayRef::from_slice(&data, layout).unwrap();
        let shape = a.shape().dims().to_vec();
        let nd = shape.len();
        let axes: Vec<isize> = (0..nd).filter(|k| axes_bits >> k & 1 == 1).map(|k| k as isize - nd as isize).collect();
        let mask_bytes: Vec<u8> = (0..a.shape().size()).map(|i| ((i as u64 ^ seed) % 3 != 0) as u8).collect();
        let mask = ArrayRef::contiguous(DType::Bool, &mask_bytes, *a.shape()).unwrap();
        let p = ReduceParams {
            axis: Axes::list(&axes).unwrap(),
            keepdims,
            where_mask: use_mask.then_some(mask),
            ..ReduceParams::default()
        };
        let (dt, out_shape) = ReduceOp::Sum.output(&a, &p).unwrap();
        prop_assert_eq!(dt, DType::Int64);
        let mut out = vec![0i64; out_shape.size()];
        reduce(ReduceOp::Sum, &a, &p, bytemuck::cast_slice_mut(&mut out), &mut []).unwrap();
        // Naive: walk every logical index.
        let mut want = vec![0i64; out_shape.size()];
        for (flat, &m) in mask_bytes.iter().enumerate() {
            let mut rest = flat;
            let mut idx = vec![0usize; nd];
            for k in (0..nd).rev() {
                idx[k] = rest % shape[k];
                rest /= shape[k];
            }
            if use_mask && m == 0 {
                continue;
            }
            let at = a.layout().element_index(&idx);
            let mut o = 0usize;
            for k in 0..nd {
                if !axes.contains(&(k as isize - nd as isize)) {
                    o = o * shape[k] + idx[k];
                }
            }
            want[o] += i64::from(data[at]);
        }
        prop_assert_eq!(out, want);
        // Every other reduction runs on the same view without panicking.
        for &op in ReduceOp::ALL {
            let q = match op {
                ReduceOp::Argmin | ReduceOp::Argmax | ReduceOp::Cumsum | ReduceOp::Cumprod => ReduceParams {
                    axis: if nd > 0 { Axes::single(-1) } else { Axes::All },
                    ..ReduceParams::default()
                },
                ReduceOp::CountNonzero => ReduceParams { where_mask: None, ..p },
                _ => p,
            };
            if let Ok((d, s)) = op.output(&a, &q) {
                let mut o = vec![0u64; (s.size() * d.itemsize()).div_ceil(8)];
                let mut scratch = vec![0u64; op.scratch_len(&a, &q).unwrap()];
                let _ = reduce(op, &a, &q, bytemuck::cast_slice_mut(&mut o), &mut scratch);
            }
        }
    }
}

#[test]
fn max_min_with_inf_and_nan_in_long_blocks() {
    let mut v = vec![1.5f64; 300];
    v[50] = f64::INFINITY;
    v[120] = f64::NEG_INFINITY;
    let run = |op: ReduceOp, v: &[f64]| -> f64 {
        let a = vec_f64(v);
        let mut out = [0f64; 1];
        reduce(
            op,
            &a,
            &ReduceParams::default(),
            bytemuck::cast_slice_mut(&mut out),
            &mut [],
        )
        .unwrap();
        out[0]
    };
    assert_eq!(run(ReduceOp::Max, &v), f64::INFINITY);
    assert_eq!(run(ReduceOp::Min, &v), f64::NEG_INFINITY);
    assert_eq!(run(ReduceOp::Nanmax, &v), f64::INFINITY);
    v[200] = f64::NAN;
    assert!(run(ReduceOp::Max, &v).is_nan());
    assert!(run(ReduceOp::Min, &v).is_nan());
    assert_eq!(run(ReduceOp::Nanmin, &v), f64::NEG_INFINITY);
    v[0] = f64::NAN;
    assert!(run(ReduceOp::Max, &v).is_nan());
    let mut out = [0i64; 1];
    let a = vec_f64(&v);
    reduce(
        ReduceOp::Argmax,
        &a,
        &ReduceParams::default(),
        bytemuck::cast_slice_mut(&mut out),
        &mut [],
    )
    .unwrap();
    assert_eq!(out[0], 0);
    v[0] = 1.5;
    let a = vec_f64(&v);
    reduce(
        ReduceOp::Argmin,
        &a,
        &ReduceParams::default(),
        bytemuck::cast_slice_mut(&mut out),
        &mut [],
    )
    .unwrap();
    assert_eq!(out[0], 200, "the first NaN");
    v[200] = 0.0;
    let a = vec_f64(&v);
    reduce(
        ReduceOp::Argmax,
        &a,
        &ReduceParams::default(),
        bytemuck::cast_slice_mut(&mut out),
        &mut [],
    )
    .unwrap();
    assert_eq!(out[0], 50);
    reduce(
        ReduceOp::Argmin,
        &a,
        &ReduceParams::default(),
        bytemuck::cast_slice_mut(&mut out),
        &mut [],
    )
    .unwrap();
    assert_eq!(out[0], 120);
}
