//! The typed API: same answers as the type-erased entry, and every error
//! path returns an `Error` (no panic).

use fnp_core::{
    binary, binary_into, call, reduce_into, reduce_output, reduce_scratch_len, unary, ArrayRef,
    BinaryOp, Bool, Buffer, DType, Error, FpFlags, Layout, Op, ReduceOp, ReduceParams, Shape,
    UnaryOp, View,
};

fn erased<'a, T: fnp_core::Element>(data: &'a [T], dims: &[usize]) -> ArrayRef<'a> {
    ArrayRef::from_slice(data, Layout::c_contiguous(Shape::new(dims).unwrap())).unwrap()
}

#[test]
fn arithmetic_matches_the_type_erased_entry() {
    let a = [1.5f32, -0.0, f32::INFINITY, f32::NAN, 3.0, f32::MAX];
    let b = [0.0f32, 2.0, -3.0];
    let av = View::new(&a, &[2, 3]).unwrap();
    for &op in BinaryOp::ALL {
        if op.family() != fnp_core::BinaryFamily::Arith {
            continue;
        }
        let mut typed = [0f32; 6];
        let mut bytes = [0f32; 6];
        let t = binary_into(op, av, &b, &mut typed).unwrap();
        let e = binary(
            op,
            &erased(&a, &[2, 3]),
            &erased(&b, &[3]),
            bytemuck::cast_slice_mut(&mut bytes),
        )
        .unwrap();
        assert_eq!(t, e, "{op:?}");
        let (tb, eb): (Vec<u32>, Vec<u32>) = (
            typed.iter().map(|x| x.to_bits()).collect(),
            bytes.iter().map(|x| x.to_bits()).collect(),
        );
        assert_eq!(tb, eb, "{op:?}");
    }
}

#[test]
fn the_named_functions_are_the_registry_ops() {
    let mut out = [0f64; 3];
    let r = fnp_core::true_divide(&[1i32, 2, 3], &[0i32, 4, 3], &mut out).unwrap();
    assert_eq!(r.dtype, DType::Float64);
    assert_eq!(out, [f64::INFINITY, 0.5, 1.0]);
    assert!(r.flags.contains(FpFlags::DIVIDE));

    let mut out = [0i8; 2];
    let r = fnp_core::floor_divide(&[i8::MIN, 7], &[-1i8, 0], &mut out).unwrap();
    assert_eq!(out, [i8::MIN, 0]);
    assert!(r.flags.contains(FpFlags::OVERFLOW) && r.flags.contains(FpFlags::DIVIDE));

    let mut out = [Bool::FALSE; 2];
    fnp_core::isnan(&[f32::NAN, 1.0], &mut out).unwrap();
    assert_eq!(out, [Bool::TRUE, Bool::FALSE]);

    let mut out = [0f32; 2];
    let r = fnp_core::sqrt(&[-1.0f32, 4.0], &mut out).unwrap();
    assert!(out[0].is_nan() && out[1] == 2.0);
    assert_eq!(r.flags, FpFlags::INVALID);

    let x = [3.0f32, 1.0, 4.0, 1.0, 5.0];
    assert_eq!(fnp_core::max(&x), Ok(5.0));
    assert_eq!(fnp_core::argmax(&x), Ok(4));
    assert_eq!(fnp_core::sum(&[100i8, 100, 100]), Ok(300));
    assert_eq!(fnp_core::mean(&[1i16, 2]), Ok(1.5));
    assert_eq!(fnp_core::var(&[1.0f32, 3.0]), Ok(1.0));
    assert_eq!(fnp_core::std(&[1.0f64, 3.0]), Ok(1.0));
    assert_eq!(fnp_core::count_nonzero(&[0.0f32, f32::NAN]), Ok(1));
    let mut c = [0i64; 3];
    fnp_core::cumsum(&[1i32, 2, 3], &mut c).unwrap();
    assert_eq!(c, [1, 3, 6]);
}

#[test]
fn reductions_match_call_bit_for_bit() {
    // 1000 float32 values: long enough for NumPy's pairwise blocks.
    let x: Vec<f32> = (0..1000)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.001 + 0.1)
        .collect();
    let v = View::new(&x, &[10, 100]).unwrap();
    for op in [
        ReduceOp::Sum,
        ReduceOp::Mean,
        ReduceOp::Var,
        ReduceOp::Max,
        ReduceOp::Nanmean,
    ] {
        for params in [
            ReduceParams::default(),
            ReduceParams::along(1),
            ReduceParams::along(0),
        ] {
            let (dtype, shape) = reduce_output(op, v, &params).unwrap();
            assert_eq!(dtype, DType::Float32);
            let mut out = vec![0f32; shape.size()];
            let mut scratch = vec![0u64; reduce_scratch_len(op, v, &params).unwrap()];
            let t = reduce_into(op, v, &params, &mut out, &mut scratch).unwrap();
            let mut want = vec![0f32; shape.size()];
            let mut erased_scratch = vec![0u64; scratch.len()];
            let e = call(
                Op::Reduce(op),
                &[v.as_array()],
                &params,
                bytemuck::cast_slice_mut(&mut want),
                &mut erased_scratch,
            )
            .unwrap();
            assert_eq!(t, e);
            assert_eq!(
                out.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|f| f.to_bits()).collect::<Vec<_>>(),
                "{op:?} {params:?}"
            );
        }
    }
}

#[test]
fn strided_and_scalar_views() {
    let data = [0i32, 1, 2, 3, 4, 5];
    // The transpose of a 2×3 matrix and a reversed row.
    let t = View::strided(&data, &[3, 2], &[1, 3], 0).unwrap();
    let mut out = [0i32; 6];
    fnp_core::add(t, View::scalar(&10), &mut out).unwrap();
    assert_eq!(out, [10, 13, 11, 14, 12, 15]);
    let rev = View::strided(&data, &[3], &[-1], 2).unwrap();
    let mut out = [0i32; 3];
    fnp_core::multiply(rev, &[1i32, 10, 100], &mut out).unwrap();
    assert_eq!(out, [2, 10, 0]);
}

/// Plain Rust scalars are NumPy 0-d arrays of their dtype: by value or by
/// reference, on either side, in every op family and as a reduction input
/// or a `where=` mask; they promote as 0-d arrays do (strongly).
#[test]
fn plain_scalars_are_zero_d_operands() {
    let volts = [1.0f32, 2.5, -3.25];
    let mut out = [0f32; 3];
    fnp_core::multiply(&volts, 2.0f32, &mut out).unwrap();
    assert_eq!(out, [2.0, 5.0, -6.5]);
    fnp_core::subtract(10.0f32, &volts, &mut out).unwrap();
    assert_eq!(out, [9.0, 7.5, 13.25]);
    let mean: f32 = fnp_core::mean(&volts).unwrap();
    let by_ref: &f32 = &mean;
    fnp_core::subtract(&volts, by_ref, &mut out).unwrap();
    let want: Vec<f32> = volts.iter().map(|v| v - mean).collect();
    assert_eq!(out.to_vec(), want);
    // np.float32 array * np.float64 scalar is float64 (a 0-d array, not a
    // weak Python float): the output type says so at compile time.
    let mut wide = [0f64; 3];
    fnp_core::multiply(&volts, 0.1f64, &mut wide).unwrap();
    assert_eq!(wide[1], 2.5f32 as f64 * 0.1);
    // int8 + 0-d int8 wraps; comparisons and unary ops take scalars too.
    let mut small = [0i8; 2];
    fnp_core::add(&[120i8, -5], 10i8, &mut small).unwrap();
    assert_eq!(small, [-126, 5]);
    let mut mask = [Bool::FALSE; 3];
    fnp_core::greater(&volts, 2.0f32, &mut mask).unwrap();
    assert_eq!(mask, [Bool::FALSE, Bool::TRUE, Bool::FALSE]);
    let mut root = [0f64; 1];
    fnp_core::sqrt(2.0f64, &mut root).unwrap();
    assert_eq!(root[0], core::f64::consts::SQRT_2);
    // A scalar alone is a 0-d array: its sum is itself.
    assert_eq!(fnp_core::sum(7i16).unwrap(), 7i64);
    // A plain Bool is a 0-d where= mask (broadcast over the input).
    let none = ReduceParams::default().with_where(Bool::FALSE);
    let all = ReduceParams::default().with_where(Bool::TRUE);
    let (mut s, mut scratch) = ([0f32; 1], [0u64; 1]);
    reduce_into(ReduceOp::Sum, &volts, &all, &mut s, &mut scratch).unwrap();
    assert_eq!(s[0], 0.25);
    reduce_into(ReduceOp::Sum, &volts, &none, &mut s, &mut scratch).unwrap();
    assert_eq!(s[0], 0.0);
    let r = reduce_into(ReduceOp::Mean, &volts, &none, &mut s, &mut scratch).unwrap();
    assert!(s[0].is_nan() && r.flags.contains(FpFlags::INVALID));
    // A view of a scalar keeps its value; `borrowed` says it owns it.
    let v = View::from(4u8);
    assert_eq!(
        (v.data(), v.borrowed(), v.shape().ndim()),
        (&[4u8][..], None, 0)
    );
    assert_eq!(View::from(&volts).borrowed(), Some(&volts[..]));
}

/// `var_ddof`/`std_ddof` are `reduce_into` with `ddof=`: integer, float
/// and fractional ddof, and `n - ddof <= 0` (NumPy's inf/NaN), bit for bit.
#[test]
fn ddof_shorthands_match_reduce_into() {
    fn check<T: fnp_core::Element + fnp_core::promote::ReduceLoop<fnp_core::promote::rule::Real>>(
        x: &[T],
    ) where
        fnp_core::promote::ReduceOut<fnp_core::promote::rule::Real, T>:
            fnp_core::Element + PartialEq + core::fmt::Debug,
    {
        for ddof in [0.0, 1.0, 0.5, 2.0, x.len() as f64, x.len() as f64 + 1.0] {
            let params = ReduceParams::default().with_ddof(ddof);
            for (op, short) in [
                (ReduceOp::Var, fnp_core::var_ddof(x, ddof)),
                (ReduceOp::Std, fnp_core::std_ddof(x, ddof)),
            ] {
                let mut out = [Default::default()];
                let long = reduce_into(op, x, &params, &mut out, &mut [0u64; 2]).map(|_| out[0]);
                let bits =
                    |r: &fnp_core::Result<_>| r.as_ref().map(|v| format!("{v:?}")).map_err(|e| *e);
                assert_eq!(bits(&short), bits(&long), "{op} ddof={ddof}");
            }
        }
    }
    check(&[2.0f32, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
    check(&[1e300f64, -1e300, 3.0]);
    check(&[3i16, -7, 1000, 12]);
    check(&[Bool::TRUE, Bool::FALSE]);
    assert_eq!(
        fnp_core::std_ddof(&[1u8, 3], 1).unwrap(),
        core::f64::consts::SQRT_2
    );
}

/// NumPy's other names are functions too, each the same function: every
/// alias in the op table that is a Rust identifier is re-exported.
#[test]
fn numpy_aliases_are_the_same_functions() {
    let mut q = [0f64; 2];
    fnp_core::divide(&[1i32, 3], 2i32, &mut q).unwrap();
    assert_eq!(q, [0.5, 1.5]);
    assert_eq!(fnp_core::amax(&[1u8, 9, 3]).unwrap(), 9);
    let mut a = [0i16; 2];
    fnp_core::abs(&[-3i16, 4], &mut a).unwrap();
    assert_eq!(a, [3, 4]);
    // The names lib.rs re-exports; `mod` is a Rust keyword.
    let exported = [
        "abs",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atan2",
        "atanh",
        "conj",
        "bitwise_invert",
        "bitwise_not",
        "bitwise_left_shift",
        "amax",
        "amin",
        "pow",
        "bitwise_right_shift",
        "divide",
    ];
    let mut aliases: Vec<&str> = Op::all()
        .filter(|op| op.method().is_none())
        .flat_map(|op| op.aliases().iter().copied())
        .collect();
    aliases.retain(|a| *a != "mod");
    aliases.sort_unstable();
    let mut exported = exported.to_vec();
    exported.sort_unstable();
    assert_eq!(aliases, exported, "re-export each new alias in lib.rs");
}

#[test]
fn error_paths_return_errors() {
    let a = [1.0f32; 6];
    let a = View::new(&a, &[2, 3]).unwrap();
    let mut out = [0f32; 6];
    // Shape mismatch: (2, 3) with (2,).
    assert_eq!(
        fnp_core::add(a, &[1.0f32, 2.0], &mut out),
        Err(Error::BroadcastMismatch)
    );
    assert_eq!(
        fnp_core::hypot(a, &[1.0f32, 2.0], &mut out),
        Err(Error::BroadcastMismatch)
    );
    // Too-small output: which buffer, in bytes (as the byte API counts).
    let mut short = [0f32; 5];
    let output = |needed| {
        Err(Error::BufferTooSmall {
            buffer: Buffer::Output,
            needed,
        })
    };
    assert_eq!(fnp_core::add(a, a, &mut short), output(24));
    assert_eq!(fnp_core::exp(a, &mut short), output(24));
    assert_eq!(fnp_core::less(a, a, &mut [Bool::FALSE; 2]), output(6));
    // Wrong output dtype: a compile error for the named functions (their
    // output type follows from the inputs), InvalidType for the entries
    // that take the op at run time: add of float32 is float32, less is
    // bool.
    let (add, less) = (fnp_core::BinaryOp::Add, fnp_core::BinaryOp::Less);
    assert_eq!(
        fnp_core::binary_into(add, a, a, &mut [0f64; 6]),
        Err(Error::InvalidType)
    );
    assert_eq!(
        fnp_core::binary_into(less, a, a, &mut out),
        Err(Error::InvalidType)
    );
    assert_eq!(
        fnp_core::unary_into(fnp_core::UnaryOp::Sqrt, a, &mut [0f64; 6]),
        Err(Error::InvalidType)
    );
    let all = fnp_core::ReduceParams::default();
    for op in [fnp_core::ReduceOp::Mean, fnp_core::ReduceOp::Argmin] {
        assert_eq!(
            fnp_core::reduce_into(op, a, &all, &mut [0i32; 1], &mut []),
            Err(Error::InvalidType)
        );
    }
    // No loop / float16 / NumPy's ValueErrors.
    assert_eq!(fnp_core::bitwise_and(a, a, &mut out), Err(Error::NoLoop));
    assert_eq!(
        fnp_core::subtract(&[Bool::TRUE], &[Bool::TRUE], &mut [Bool::FALSE]),
        Err(Error::NoLoop)
    );
    assert_eq!(
        fnp_core::unary_into(fnp_core::UnaryOp::Sin, &[1u8], &mut [0f32]),
        Err(Error::Float16)
    );
    assert_eq!(
        fnp_core::power(&[2i32], &[-1i32], &mut [0i32]),
        Err(Error::NegativeIntegerPower)
    );
    assert_eq!(fnp_core::max(&[0f32; 0]), Err(Error::EmptyReduction));
    assert_eq!(fnp_core::argmax(&[0u8; 0]), Err(Error::EmptyReduction));
    // Reductions: axis, scratch, mask.
    let mut two = [0f32; 3];
    assert_eq!(
        reduce_into(ReduceOp::Sum, a, &ReduceParams::along(2), &mut two, &mut []),
        Err(Error::AxisOutOfBounds)
    );
    assert_eq!(
        reduce_into(
            ReduceOp::Var,
            a,
            &ReduceParams::along(0),
            &mut two,
            &mut [0u64; 2]
        ),
        Err(Error::BufferTooSmall {
            buffer: Buffer::Scratch,
            needed: 24
        })
    );
    assert_eq!(
        reduce_into(
            ReduceOp::Sum,
            a,
            &ReduceParams::along(0),
            &mut two[..2],
            &mut []
        ),
        Err(Error::BufferTooSmall {
            buffer: Buffer::Output,
            needed: 12
        })
    );
    let mask = [Bool::TRUE; 2];
    assert_eq!(
        reduce_into(
            ReduceOp::Sum,
            a,
            &ReduceParams::along(0).with_where(View::from(&mask)),
            &mut two,
            &mut []
        ),
        Err(Error::BroadcastMismatch)
    );
    // Views: shape against data.
    assert_eq!(
        View::new(&[1u8; 5], &[2, 3]).err(),
        Some(Error::LayoutMismatch)
    );
    assert_eq!(
        View::strided(&[1u8; 5], &[3], &[3], 0).err(),
        Some(Error::LayoutMismatch)
    );
    assert_eq!(
        View::strided(&[1u8; 5], &[3], &[-1], 1).err(),
        Some(Error::LayoutMismatch)
    );
    assert_eq!(
        View::new(&[1u8; 0], &[1; 65]).err(),
        Some(Error::TooManyDims)
    );
    assert_eq!(
        View::new(&[1u8; 0], &[usize::MAX, 2]).err(),
        Some(Error::ShapeOverflow)
    );
}

#[test]
fn unary_matches_the_type_erased_entry() {
    let x = [0.5f64, -0.0, 1e300, -2.0, f64::NAN];
    for &op in UnaryOp::ALL {
        let dtype = match fnp_core::unary_output(op, &x) {
            Ok((dtype, _)) => dtype,
            Err(e) => {
                assert_eq!(fnp_core::unary_into(op, &x, &mut [0f64; 5]), Err(e));
                continue;
            }
        };
        let mut want = [0u64; 5];
        let mut got = [0u64; 5];
        let e = unary(op, &erased(&x, &[5]), bytemuck::cast_slice_mut(&mut want));
        let t = match dtype {
            DType::Float64 => {
                let mut out = [0f64; 5];
                let t = fnp_core::unary_into(op, &x, &mut out);
                got.iter_mut().zip(out).for_each(|(g, o)| *g = o.to_bits());
                t
            }
            DType::Bool => {
                let mut out = [Bool::FALSE; 5];
                let t = fnp_core::unary_into(op, &x, &mut out);
                bytemuck::cast_slice_mut::<u64, u8>(&mut got)[..5]
                    .copy_from_slice(bytemuck::cast_slice(&out));
                t
            }
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(t, e, "{op:?}");
        if t.is_ok() && dtype == DType::Float64 {
            assert_eq!(got, want, "{op:?}");
        }
    }
}

#[test]
fn reduction_docs_special_values() {
    use fnp_core::reduce_into as r;
    let one = |op, x: &[f32], p: &ReduceParams<'_>| {
        let mut out = [0f32];
        let mut scratch = [0u64; 2];
        r(op, x, p, &mut out, &mut scratch).map(|o| (out[0], o.flags))
    };
    let d = ReduceParams::default();
    // Empty mean: 0/0.
    let (m, f) = one(ReduceOp::Mean, &[], &d).unwrap();
    assert!(m.is_nan() && f.contains(FpFlags::INVALID));
    // Sum: inf + -inf, overflow, empty.
    let (s, f) = one(ReduceOp::Sum, &[f32::INFINITY, f32::NEG_INFINITY], &d).unwrap();
    assert!(s.is_nan() && f.contains(FpFlags::INVALID));
    let (s, f) = one(ReduceOp::Sum, &[f32::MAX, f32::MAX], &d).unwrap();
    assert!(s == f32::INFINITY && f.contains(FpFlags::OVERFLOW));
    assert_eq!(one(ReduceOp::Sum, &[], &d).unwrap().0.to_bits(), 0);
    // var with n - ddof == 0 divides by zero; an inf input gives NaN.
    let (v, f) = one(ReduceOp::Var, &[1.0, 2.0], &d.with_ddof(2.0)).unwrap();
    assert!(v == f32::INFINITY && f.contains(FpFlags::DIVIDE));
    let (v, f) = one(ReduceOp::Var, &[1.0, f32::INFINITY], &d).unwrap();
    assert!(v.is_nan() && f.contains(FpFlags::INVALID));
    // max propagates NaN without a flag.
    let (v, f) = one(ReduceOp::Max, &[1.0, f32::NAN, 3.0], &d).unwrap();
    assert!(v.is_nan() && f.is_empty());
}

/// Values of every dtype for the typed-vs-erased checks: small and large
/// magnitudes, zeros of both signs, NaN and infinities for floats, a
/// non-canonical True byte for bool.
fn sample<T: fnp_core::Element>(n: usize) -> Vec<T> {
    let floats = [
        1.5,
        -2.25,
        0.0,
        -0.0,
        3e38,
        -7.0,
        f64::NAN,
        0.1,
        f64::INFINITY,
        42.0,
        -1e-40,
        9.75,
    ];
    (0..n)
        .map(|i| {
            let f = floats[i % floats.len()];
            let k = (i as i64 * 37 - 101) * if i % 5 == 0 { 1 << 20 } else { 1 };
            let value: T = match T::DTYPE {
                DType::Bool => cast(&[[0u8, 1, 2][i % 3]]),
                DType::Int8 => cast(&[k as i8]),
                DType::Int16 => cast(&[k as i16]),
                DType::Int32 => cast(&[k as i32]),
                DType::Int64 => cast(&[k.wrapping_mul(1 << 30)]),
                DType::UInt8 => cast(&[k as u8]),
                DType::UInt16 => cast(&[k as u16]),
                DType::UInt32 => cast(&[k as u32]),
                DType::UInt64 => cast(&[(k as u64).wrapping_mul(1 << 30)]),
                DType::Float32 => cast(&[f as f32]),
                DType::Float64 => cast(&[f * 1e200]),
            };
            value
        })
        .collect()
}

fn cast<S: bytemuck::Pod, T: bytemuck::Pod>(s: &[S]) -> T {
    bytemuck::pod_read_unaligned(bytemuck::cast_slice(s))
}

/// `reduce_into` over a view of `I`s with the output type the call
/// resolves to, as the output's bytes.
fn typed_reduce<I: fnp_core::Element>(
    op: ReduceOp,
    v: View<'_, I>,
    params: &ReduceParams<'_>,
    dtype: DType,
    n: usize,
    scratch: &mut [u64],
) -> Result<(fnp_core::Output, Vec<u8>), Error> {
    fn run<I: fnp_core::Element, O: fnp_core::Element>(
        op: ReduceOp,
        v: View<'_, I>,
        params: &ReduceParams<'_>,
        n: usize,
        scratch: &mut [u64],
    ) -> Result<(fnp_core::Output, Vec<u8>), Error> {
        let mut out = vec![O::default(); n];
        let r = reduce_into(op, v, params, &mut out, scratch)?;
        Ok((r, bytemuck::cast_slice(&out).to_vec()))
    }
    match dtype {
        DType::Bool => run::<I, Bool>(op, v, params, n, scratch),
        DType::Int8 => run::<I, i8>(op, v, params, n, scratch),
        DType::Int16 => run::<I, i16>(op, v, params, n, scratch),
        DType::Int32 => run::<I, i32>(op, v, params, n, scratch),
        DType::Int64 => run::<I, i64>(op, v, params, n, scratch),
        DType::UInt8 => run::<I, u8>(op, v, params, n, scratch),
        DType::UInt16 => run::<I, u16>(op, v, params, n, scratch),
        DType::UInt32 => run::<I, u32>(op, v, params, n, scratch),
        DType::UInt64 => run::<I, u64>(op, v, params, n, scratch),
        DType::Float32 => run::<I, f32>(op, v, params, n, scratch),
        DType::Float64 => run::<I, f64>(op, v, params, n, scratch),
    }
}

/// Every reduction of `I`s through the typed API against the type-erased
/// entry: same output, flags and bytes (or the same error), over
/// contiguous, transposed, reversed and broadcast layouts and the keywords
/// that change the loop dtype or the elements read.
fn typed_matches_erased<I: fnp_core::Element>() {
    let data = sample::<I>(300);
    let mask: Vec<Bool> = (0..12).map(|i| Bool::from(i % 4 != 1)).collect();
    let mask = View::new(&mask, &[3, 4]).unwrap();
    let layouts: [(&[usize], &[isize], usize); 5] = [
        (&[3, 4], &[4, 1], 0),
        (&[3, 4], &[1, 3], 0),
        (&[3, 4], &[-4, -1], 11),
        (&[3, 4], &[0, 2], 1),
        (&[10, 30], &[30, 1], 0),
    ];
    for (dims, strides, offset) in layouts {
        let v = View::strided(&data, dims, strides, offset).unwrap();
        let square = dims == [3, 4];
        for &op in ReduceOp::ALL {
            let mut all = vec![
                ReduceParams::default(),
                ReduceParams::along(0),
                ReduceParams::along(-1).with_keepdims(true),
                ReduceParams::default().with_dtype(DType::Float64),
                ReduceParams::along(1).with_dtype(DType::Int16),
                ReduceParams::default().with_dtype(DType::UInt8),
                ReduceParams::along(0).with_ddof(1.0),
            ];
            if square {
                all.push(ReduceParams::along(1).with_where(mask));
                all.push(
                    ReduceParams::default()
                        .with_where(mask)
                        .with_initial(fnp_core::Scalar::Int(3)),
                );
            }
            for params in &all {
                let Ok((dtype, shape)) = reduce_output(op, v, params) else {
                    continue;
                };
                let n = shape.size();
                let words = reduce_scratch_len(op, v, params).unwrap();
                let mut scratch = vec![0u64; words];
                let mut want = vec![0u64; n.max(1)];
                let mut erased_scratch = vec![0u64; words];
                let erased = call(
                    Op::Reduce(op),
                    &[v.as_array()],
                    params,
                    &mut bytemuck::cast_slice_mut::<u64, u8>(&mut want)[..n * dtype.itemsize()],
                    &mut erased_scratch,
                )
                .map(|r| {
                    let bytes: &[u8] = bytemuck::cast_slice(&want);
                    (r, bytes[..n * dtype.itemsize()].to_vec())
                });
                let typed = typed_reduce(op, v, params, dtype, n, &mut scratch);
                assert_eq!(
                    typed,
                    erased,
                    "{:?} of {:?} {dims:?}/{strides:?} {params:?}",
                    op,
                    I::DTYPE
                );
            }
        }
    }
}

#[test]
fn reductions_of_every_dtype_match_the_erased_entry() {
    typed_matches_erased::<Bool>();
    typed_matches_erased::<i8>();
    typed_matches_erased::<i16>();
    typed_matches_erased::<i32>();
    typed_matches_erased::<i64>();
    typed_matches_erased::<u8>();
    typed_matches_erased::<u16>();
    typed_matches_erased::<u32>();
    typed_matches_erased::<u64>();
    typed_matches_erased::<f32>();
    typed_matches_erased::<f64>();
}

/// `f(a, b, out)` against the type-erased entry on strided operands of
/// types `A` and `B` broadcast to 3×4: the same result or the same error.
fn typed_binary_matches_erased<A: fnp_core::Element, B: fnp_core::Element, O: fnp_core::Element>(
    op: BinaryOp,
    f: impl Fn(View<'_, A>, View<'_, B>, &mut [O]) -> Result<fnp_core::Output, Error>,
) {
    let a = sample::<A>(12);
    let b = sample::<B>(8);
    let av = View::strided(&a, &[3, 4], &[1, 3], 0).unwrap();
    let bv = View::strided(&b, &[4], &[-2], 7).unwrap();
    let mut typed = vec![O::default(); 12];
    let mut want = vec![O::default(); 12];
    let t = f(av, bv, &mut typed);
    let e = binary(
        op,
        &av.as_array(),
        &bv.as_array(),
        bytemuck::cast_slice_mut(&mut want),
    );
    assert_eq!(t, e, "{op:?} {:?} {:?}", A::DTYPE, B::DTYPE);
    assert_eq!(
        bytemuck::cast_slice::<O, u8>(&typed),
        bytemuck::cast_slice::<O, u8>(&want),
        "{op:?} {:?} {:?}",
        A::DTYPE,
        B::DTYPE
    );
}

/// `f(x, out)` against the type-erased entry on a strided operand of type
/// `T` (3×4, transposed): the same result or the same error.
fn typed_unary_matches_erased<T: fnp_core::Element, O: fnp_core::Element>(
    op: UnaryOp,
    f: impl Fn(View<'_, T>, &mut [O]) -> Result<fnp_core::Output, Error>,
) {
    let x = sample::<T>(12);
    let xv = View::strided(&x, &[3, 4], &[1, 3], 0).unwrap();
    let mut typed = vec![O::default(); 12];
    let mut want = vec![O::default(); 12];
    let t = f(xv, &mut typed);
    let e = unary(op, &xv.as_array(), bytemuck::cast_slice_mut(&mut want));
    assert_eq!(t, e, "{op:?} {:?}", T::DTYPE);
    assert_eq!(
        bytemuck::cast_slice::<O, u8>(&typed),
        bytemuck::cast_slice::<O, u8>(&want),
        "{op:?} {:?}",
        T::DTYPE
    );
}

/// Every named unary function (its loop type and kernel fixed at compile
/// time) against the type-erased entry, over the dtypes its family takes.
#[test]
fn named_unary_functions_match_the_erased_entry() {
    macro_rules! cases {
        ($($variant:ident $name:ident: $($t:ty),+;)*) => {$($(
            typed_unary_matches_erased::<$t, _>(UnaryOp::$variant, |x, o| fnp_core::$name(x, o));
        )+)*};
    }
    cases! {
        Negative negative: f32, f64, i8, u16, i64;
        Positive positive: f32, u8, i32;
        Absolute absolute: f32, f64, i8, u64, Bool;
        Sign sign: f32, f64, i16, u32;
        Square square: f32, i8, u8, Bool;
        Reciprocal reciprocal: f32, f64, i32, Bool;
        Sqrt sqrt: f32, f64, i16, u32, i64;
        Cbrt cbrt: f32, f64, u16;
        Exp exp: f32, f64, i32;
        Exp2 exp2: f32, f64;
        Expm1 expm1: f32, f64;
        Log log: f32, f64, u16;
        Log2 log2: f32, f64;
        Log10 log10: f32, f64;
        Log1p log1p: f32, f64;
        Sin sin: f32, f64, i16;
        Cos cos: f32, f64;
        Tan tan: f32, f64;
        Arcsin arcsin: f32, f64;
        Arccos arccos: f32, f64;
        Arctan arctan: f32, f64;
        Sinh sinh: f32, f64;
        Cosh cosh: f32, f64;
        Tanh tanh: f32, f64;
        Arcsinh arcsinh: f32, f64;
        Arccosh arccosh: f32, f64;
        Arctanh arctanh: f32, f64;
        Deg2rad deg2rad: f32, f64;
        Rad2deg rad2deg: f32, f64;
        Degrees degrees: f32, i32;
        Radians radians: f64, u16;
        Floor floor: f32, f64, i32, Bool;
        Ceil ceil: f32, u8;
        Trunc trunc: f64, i64;
        Rint rint: f32, f64, i16;
        Isnan isnan: f32, f64, i32, Bool;
        Isinf isinf: f32, u8;
        Isfinite isfinite: f64, i64;
        Signbit signbit: f32, f64, i8, u64, Bool;
        LogicalNot logical_not: Bool, f32, i32;
        Invert invert: i32, u8, Bool, i64;
        Fabs fabs: f32, f64, i16;
        Spacing spacing: f32, f64, i32;
        BitwiseCount bitwise_count: i32, u8, i64, Bool;
        Conjugate conjugate: f32, i8, Bool;
    }
}

/// The named binary functions outside the arithmetic family (whose loop
/// type and kernel the typed path fixes at compile time) against the
/// type-erased entry, for mixed input types of every kind: int64 with
/// uint64 compares exactly, floats NaN-aware, bools as truth values.
#[test]
fn named_binary_functions_of_every_family_match_the_erased_entry() {
    macro_rules! cases {
        ($($variant:ident $name:ident: $(($a:ty, $b:ty)),+;)*) => {$($(
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::$variant, |a, b, o| {
                fnp_core::$name(a, b, o)
            });
        )+)*};
    }
    cases! {
        Equal equal: (f32, f32), (i8, f32), (u64, i64), (Bool, Bool);
        NotEqual not_equal: (f64, f32), (i64, u64), (u8, i16);
        Less less: (f32, f32), (i64, u64), (u64, i8), (Bool, u8), (u16, f64);
        LessEqual less_equal: (i32, i32), (u64, i64), (f32, i16);
        Greater greater: (f32, f32), (i8, u8), (u32, i64), (f64, u64);
        GreaterEqual greater_equal: (Bool, Bool), (i16, i16), (i64, u64);
        LogicalAnd logical_and: (Bool, Bool), (f32, i32), (u8, f64);
        LogicalOr logical_or: (Bool, Bool), (i64, u64);
        LogicalXor logical_xor: (f32, f32), (Bool, i8);
        BitwiseAnd bitwise_and: (i32, i32), (u8, i8), (Bool, Bool), (u64, u32);
        BitwiseOr bitwise_or: (i16, u16), (Bool, u8);
        BitwiseXor bitwise_xor: (u64, u64), (i8, i64);
        LeftShift left_shift: (i16, u8), (u8, u8), (i64, i64), (Bool, Bool);
        RightShift right_shift: (i32, i32), (u16, i8), (u64, u32);
        Arctan2 arctan2: (f32, f32), (i16, f32), (f64, i32), (u16, u16);
        Hypot hypot: (f32, f32), (f64, u32);
        Copysign copysign: (f32, f64), (i16, i16);
        Nextafter nextafter: (f32, f32), (f64, f64);
        Logaddexp logaddexp: (f32, f32), (f64, i64);
        Logaddexp2 logaddexp2: (f64, f64), (u16, f32);
        Heaviside heaviside: (f32, f32), (i32, f64);
        FloatPower float_power: (f32, i8), (i32, i32), (Bool, Bool);
        Fmod fmod: (f32, f32), (i32, i32), (u8, i8), (f64, u64);
        Gcd gcd: (i32, i32), (u8, i16), (i64, u32), (Bool, i8);
        Lcm lcm: (i16, i16), (u64, u64);
    }
    // int64 against uint64 compares the exact values, which their float64
    // loop would round together (2^63 - 2 and 2^63 - 1 are both 2^63).
    let mut o = [Bool::FALSE; 2];
    fnp_core::less(&[i64::MAX - 1, -1], &[i64::MAX as u64, u64::MAX], &mut o).unwrap();
    assert_eq!(o, [Bool::TRUE, Bool::TRUE]);
    fnp_core::equal(&[u64::MAX, 0], &[-1i64, 0], &mut o).unwrap();
    assert_eq!(o, [Bool::FALSE, Bool::TRUE]);
}

/// The named arithmetic functions (one kernel and one driver per output
/// type, inputs read as their own element types) against the type-erased
/// entry, for inputs of mixed types, broadcast and strided.
#[test]
fn named_arithmetic_of_mixed_types_matches_the_erased_entry() {
    macro_rules! each_op {
        ($a:ty, $b:ty) => {
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::Add, |a, b, o| {
                fnp_core::add(a, b, o)
            });
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::Subtract, |a, b, o| {
                fnp_core::subtract(a, b, o)
            });
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::Multiply, |a, b, o| {
                fnp_core::multiply(a, b, o)
            });
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::TrueDivide, |a, b, o| {
                fnp_core::true_divide(a, b, o)
            });
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::Maximum, |a, b, o| {
                fnp_core::maximum(a, b, o)
            });
            typed_binary_matches_erased::<$a, $b, _>(BinaryOp::Fmin, |a, b, o| {
                fnp_core::fmin(a, b, o)
            });
        };
    }
    each_op!(f32, f32);
    each_op!(i8, f32);
    each_op!(f32, u16);
    each_op!(i16, f64);
    each_op!(u32, i8);
    each_op!(u64, i64);
    each_op!(i64, u8);
    each_op!(f64, f32);
    each_op!(Bool, i8);
    typed_binary_matches_erased::<Bool, Bool, _>(BinaryOp::Add, |a, b, o| fnp_core::add(a, b, o));
    typed_binary_matches_erased::<Bool, Bool, _>(BinaryOp::Multiply, |a, b, o| {
        fnp_core::multiply(a, b, o)
    });
    typed_binary_matches_erased::<u8, i16, _>(BinaryOp::FloorDivide, |a, b, o| {
        fnp_core::floor_divide(a, b, o)
    });
    typed_binary_matches_erased::<i32, u16, _>(BinaryOp::Remainder, |a, b, o| {
        fnp_core::remainder(a, b, o)
    });
    typed_binary_matches_erased::<u8, u8, _>(BinaryOp::Power, |a, b, o| fnp_core::power(a, b, o));
    typed_binary_matches_erased::<f32, i8, _>(BinaryOp::Power, |a, b, o| fnp_core::power(a, b, o));
}
