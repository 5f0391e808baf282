//! Binary ufuncs through the public entry point: each op on each dtype
//! family (bool, signed, unsigned, float32, float64) with the values that
//! decide NumPy parity, the IEEE flags, every error path, and a property
//! test that strided/broadcast inputs give the same bits as contiguous ones.

use fnp_core::{
    binary, ArrayRef, BinaryOp, Bool, Buffer, DType, Element, Error, FpFlags, Layout, Output, Shape,
};
use proptest::prelude::*;

fn vec1<T: Element>(v: &[T]) -> ArrayRef<'_> {
    ArrayRef::from_slice(v, Layout::c_contiguous(Shape::vector(v.len()))).unwrap()
}

/// Runs `op` on two equal-length typed vectors, returning typed output.
fn run<A: Element, B: Element, O: Element>(op: BinaryOp, a: &[A], b: &[B]) -> (Vec<O>, Output) {
    let mut out = vec![O::default(); a.len().max(b.len())];
    let o = binary(op, &vec1(a), &vec1(b), bytemuck::cast_slice_mut(&mut out)).unwrap();
    assert_eq!(o.dtype, O::DTYPE, "{}", op.name());
    (out, o)
}

fn bits64(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn bool_loops_are_logical() {
    let a = [Bool(0), Bool(0), Bool(1), Bool(7)];
    let b = [Bool(0), Bool(1), Bool(0), Bool(2)];
    let or = [0u8, 1, 1, 1];
    let and = [0u8, 0, 0, 1];
    for (op, want) in [
        (BinaryOp::Add, or),
        (BinaryOp::Multiply, and),
        (BinaryOp::Maximum, or),
        (BinaryOp::Minimum, and),
        (BinaryOp::Fmax, or),
        (BinaryOp::Fmin, and),
    ] {
        let (out, o) = run::<Bool, Bool, Bool>(op, &a, &b);
        // Non-zero bytes read as True and the output is normalized to 0/1.
        assert_eq!(
            out.iter().map(|x| x.0).collect::<Vec<_>>(),
            want,
            "{}",
            op.name()
        );
        assert!(o.flags.is_empty());
    }
    // Ops without a bool loop: int8 (floor_divide, remainder, power),
    // float64 (true_divide), TypeError (subtract).
    let (q, o) = run::<Bool, Bool, i8>(BinaryOp::FloorDivide, &a, &b);
    assert_eq!(q, [0, 0, 0, 1]);
    assert_eq!(o.flags, FpFlags::DIVIDE);
    let (r, _) = run::<Bool, Bool, i8>(BinaryOp::Remainder, &a, &b);
    assert_eq!(r, [0, 0, 0, 0]);
    let (p, _) = run::<Bool, Bool, i8>(BinaryOp::Power, &a, &b);
    assert_eq!(p, [1, 0, 1, 1]);
    let (d, o) = run::<Bool, Bool, f64>(BinaryOp::TrueDivide, &a, &b);
    assert!(d[0].is_nan() && d[1] == 0.0 && d[2] == f64::INFINITY && d[3] == 1.0);
    assert_eq!(o.flags, FpFlags::DIVIDE | FpFlags::INVALID);
    let mut out = [0u8; 4];
    assert_eq!(
        binary(BinaryOp::Subtract, &vec1(&a), &vec1(&b), &mut out),
        Err(Error::NoLoop)
    );
}

#[test]
fn signed_integers_wrap_and_divide_like_python() {
    let a: [i8; 8] = [127, -128, -7, 7, -7, -128, 5, -128];
    let b: [i8; 8] = [1, -1, 2, -2, -2, -1, 0, 1];
    let (s, _) = run::<i8, i8, i8>(BinaryOp::Add, &a, &b);
    assert_eq!(s, [-128, 127, -5, 5, -9, 127, 5, -127]);
    let (d, _) = run::<i8, i8, i8>(BinaryOp::Subtract, &a, &b);
    assert_eq!(d, [126, -127, -9, 9, -5, -127, 5, 127]);
    let (m, _) = run::<i8, i8, i8>(BinaryOp::Multiply, &a, &b);
    assert_eq!(m, [127, -128, -14, -14, 14, -128, 0, -128]);
    let (q, o) = run::<i8, i8, i8>(BinaryOp::FloorDivide, &a, &b);
    assert_eq!(q, [127, -128, -4, -4, 3, -128, 0, -128]);
    assert_eq!(o.flags, FpFlags::DIVIDE | FpFlags::OVERFLOW);
    let (r, o) = run::<i8, i8, i8>(BinaryOp::Remainder, &a, &b);
    assert_eq!(r, [0, 0, 1, -1, -1, 0, 0, 0]);
    assert_eq!(o.flags, FpFlags::DIVIDE);
    // MIN // -1 alone: overflow only; MIN % -1: no flag.
    let (_, o) = run::<i64, i64, i64>(BinaryOp::FloorDivide, &[i64::MIN], &[-1]);
    assert_eq!(o.flags, FpFlags::OVERFLOW);
    let (r, o) = run::<i64, i64, i64>(BinaryOp::Remainder, &[i64::MIN, 5], &[-1, -3]);
    assert_eq!((r, o.flags), (vec![0, -1], FpFlags::NONE));
    let (p, o) = run::<i32, i32, i32>(BinaryOp::Power, &[0, 3, -2, 2, 7], &[0, 4, 3, 31, 0]);
    assert_eq!(p, [1, 81, -8, i32::MIN, 1]);
    assert!(o.flags.is_empty());
    let (p, _) = run::<i64, i64, i64>(BinaryOp::Power, &[3], &[100]);
    assert_eq!(p, [3i64.wrapping_pow(100)]);
    for (op, want) in [
        (BinaryOp::Maximum, [127i16, -1, 3]),
        (BinaryOp::Fmax, [127, -1, 3]),
        (BinaryOp::Minimum, [-128, -2, 3]),
        (BinaryOp::Fmin, [-128, -2, 3]),
    ] {
        let (m, _) = run::<i16, i16, i16>(op, &[127, -1, 3], &[-128, -2, 3]);
        assert_eq!(m, want);
    }
    let (t, o) = run::<i32, i32, f64>(BinaryOp::TrueDivide, &[7, -7, 0, 1], &[2, 2, 0, 0]);
    assert_eq!(t[..2], [3.5, -3.5]);
    assert!(t[2].is_nan() && t[3] == f64::INFINITY);
    assert_eq!(o.flags, FpFlags::DIVIDE | FpFlags::INVALID);
}

#[test]
fn unsigned_integers() {
    let a: [u64; 4] = [u64::MAX, 7, 0, 5];
    let b: [u64; 4] = [2, 0, 3, 3];
    let (s, _) = run::<u64, u64, u64>(BinaryOp::Add, &a, &b);
    assert_eq!(s, [1, 7, 3, 8]);
    let (d, _) = run::<u64, u64, u64>(BinaryOp::Subtract, &a, &b);
    assert_eq!(d, [u64::MAX - 2, 7, u64::MAX - 2, 2]);
    let (q, o) = run::<u64, u64, u64>(BinaryOp::FloorDivide, &a, &b);
    assert_eq!((q, o.flags), (vec![u64::MAX / 2, 0, 0, 1], FpFlags::DIVIDE));
    let (r, _) = run::<u32, u32, u32>(BinaryOp::Remainder, &[u32::MAX, 7, 9], &[10, 0, 3]);
    assert_eq!(r, [5, 0, 0]);
    let (p, _) = run::<u8, u8, u8>(BinaryOp::Power, &[2, 3, 0], &[8, 5, 0]);
    assert_eq!(p, [0, 243, 1]);
    // uint8 with int8 meets in int16.
    let (m, _) = run::<u8, i8, i16>(BinaryOp::Maximum, &[200], &[-1]);
    assert_eq!(m, [200]);
}

#[test]
fn float64_values_and_flags() {
    let (q, o) = run::<f64, f64, f64>(
        BinaryOp::FloorDivide,
        &[0.7, 1.0, -0.0, 0.0, 1.0, -1.0, 5.0],
        &[0.1, 0.1, 1.0, -1.0, f64::INFINITY, f64::INFINITY, -0.0],
    );
    assert_eq!(
        bits64(&q),
        bits64(&[6.0, 9.0, -0.0, -0.0, 0.0, -1.0, f64::NEG_INFINITY])
    );
    assert_eq!(o.flags, FpFlags::DIVIDE);
    let (r, o) = run::<f64, f64, f64>(
        BinaryOp::Remainder,
        &[-1.0, 1.0, -0.0, 0.0, 5.5, -5.5],
        &[f64::INFINITY, f64::NEG_INFINITY, 3.0, -3.0, -2.0, 2.0],
    );
    assert_eq!(
        bits64(&r),
        bits64(&[f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, -0.5, 0.5])
    );
    assert!(o.flags.is_empty());
    let (_, o) = run::<f64, f64, f64>(BinaryOp::Remainder, &[1.0], &[0.0]);
    assert_eq!(o.flags, FpFlags::INVALID);
    let (_, o) = run::<f64, f64, f64>(BinaryOp::FloorDivide, &[1e308], &[1e-308]);
    assert_eq!(o.flags, FpFlags::OVERFLOW | FpFlags::INVALID);
    // add/sub: overflow and invalid, never underflow; NaN inputs raise nothing.
    let (_, o) = run::<f64, f64, f64>(BinaryOp::Add, &[f64::MAX, 2e-308], &[f64::MAX, -1.9e-308]);
    assert_eq!(o.flags, FpFlags::OVERFLOW);
    let (_, o) = run::<f64, f64, f64>(
        BinaryOp::Subtract,
        &[f64::INFINITY, f64::NAN],
        &[f64::INFINITY, 1.0],
    );
    assert_eq!(o.flags, FpFlags::INVALID);
    // multiply: underflow only when tiny and inexact.
    let (_, o) = run::<f64, f64, f64>(BinaryOp::Multiply, &[f64::MIN_POSITIVE], &[0.5]);
    assert!(o.flags.is_empty());
    let (_, o) = run::<f64, f64, f64>(BinaryOp::Multiply, &[3.0 * 5e-324], &[0.5]);
    assert_eq!(o.flags, FpFlags::UNDERFLOW);
    // Rounds up to MIN_POSITIVE but is tiny before the final rounding.
    let below_one = 1.0 - f64::EPSILON / 2.0;
    let (m, o) = run::<f64, f64, f64>(BinaryOp::Multiply, &[below_one], &[f64::MIN_POSITIVE]);
    assert_eq!((m[0], o.flags), (f64::MIN_POSITIVE, FpFlags::UNDERFLOW));
    // Inexact but not tiny: with an unbounded exponent the product rounds
    // to MIN_POSITIVE itself (NumPy raises nothing).
    let above_min = f64::MIN_POSITIVE * (1.0 + f64::EPSILON);
    let (m, o) = run::<f64, f64, f64>(BinaryOp::Multiply, &[below_one], &[above_min]);
    assert_eq!((m[0], o.flags), (f64::MIN_POSITIVE, FpFlags::NONE));
    // Quotients just below MIN_POSITIVE underflow (NumPy 2.4 records both).
    let (_, o) = run::<f64, f64, f64>(
        BinaryOp::TrueDivide,
        &[f64::MIN_POSITIVE, above_min],
        &[1.0 + f64::EPSILON, 1.0 + 2.0 * f64::EPSILON],
    );
    assert_eq!(o.flags, FpFlags::UNDERFLOW);
    let (_, o) = run::<f64, f64, f64>(
        BinaryOp::TrueDivide,
        &[above_min],
        &[1.0 + 2.0 * f64::EPSILON],
    );
    assert_eq!(o.flags, FpFlags::UNDERFLOW);
    let (_, o) = run::<f64, f64, f64>(BinaryOp::Multiply, &[f64::INFINITY, f64::NAN], &[0.0, 0.0]);
    assert_eq!(o.flags, FpFlags::INVALID);
    let (_, o) = run::<f64, f64, f64>(
        BinaryOp::TrueDivide,
        &[1e-300, f64::INFINITY],
        &[1e100, 0.0],
    );
    assert_eq!(o.flags, FpFlags::UNDERFLOW);
    let (p, o) = run::<f64, f64, f64>(
        BinaryOp::Power,
        &[0.0, -1.0, 2.0, f64::NAN],
        &[-1.0, 0.5, 0.5, 0.0],
    );
    assert_eq!(
        (p[0], p[2], p[3]),
        (f64::INFINITY, core::f64::consts::SQRT_2, 1.0)
    );
    assert!(p[1].is_nan());
    assert_eq!(o.flags, FpFlags::DIVIDE | FpFlags::INVALID);
}

#[test]
fn max_family_nan_rules() {
    let nan = f32::NAN;
    let neg_nan = -f32::NAN;
    let a = [nan, 1.0, neg_nan, 0.0, -0.0, 2.0];
    let b = [1.0, nan, nan, -0.0, 0.0, -3.0];
    let (mx, o) = run::<f32, f32, f32>(BinaryOp::Maximum, &a, &b);
    assert!(mx[0].is_nan() && mx[1].is_nan());
    // Both NaN: the first, sign and all.
    assert_eq!(mx[2].to_bits(), neg_nan.to_bits());
    // Equal operands (±0): the first, as NumPy's scalar loop.
    let nz = (-0f32).to_bits();
    assert_eq!((mx[3].to_bits(), mx[4].to_bits(), mx[5]), (0, nz, 2.0));
    assert!(o.flags.is_empty());
    let (mn, _) = run::<f32, f32, f32>(BinaryOp::Minimum, &a, &b);
    assert!(mn[0].is_nan() && mn[1].is_nan());
    assert_eq!((mn[3].to_bits(), mn[4].to_bits(), mn[5]), (0, nz, -3.0));
    let (fx, o) = run::<f32, f32, f32>(BinaryOp::Fmax, &a, &b);
    assert_eq!(fx[..2], [1.0, 1.0]);
    assert!(fx[2].is_nan());
    assert!(o.flags.is_empty());
    let (fm, _) = run::<f32, f32, f32>(BinaryOp::Fmin, &a, &b);
    assert_eq!((fm[0], fm[1], fm[5]), (1.0, 1.0, -3.0));
}

#[test]
fn weak_python_scalars() {
    let arr = [1i8, -2, 100];
    let a = vec1(&arr);
    let i300 = 300i64.to_le_bytes();
    let big = ArrayRef::python_scalar(DType::Int64, &i300).unwrap();
    let mut out = [0u8; 3];
    assert_eq!(
        binary(BinaryOp::Add, &a, &big, &mut out),
        Err(Error::PythonIntOverflow)
    );
    assert_eq!(Error::PythonIntOverflow.numpy_exception(), "OverflowError");
    // The same value is fine where the loop is float64.
    let mut outf = [0f64; 3];
    let o = binary(
        BinaryOp::TrueDivide,
        &a,
        &big,
        bytemuck::cast_slice_mut(&mut outf),
    )
    .unwrap();
    assert_eq!((o.dtype, outf[2]), (DType::Float64, 100.0 / 300.0));
    // A Python int exponent that is negative: ValueError from int power.
    let m1 = (-1i64).to_le_bytes();
    let neg = ArrayRef::python_scalar(DType::Int64, &m1).unwrap();
    assert_eq!(
        binary(BinaryOp::Power, &a, &neg, &mut out),
        Err(Error::NegativeIntegerPower)
    );
    // float32 with a Python float too large for it: inf and overflow.
    let f = [1f32, 2.0];
    let e40 = 1e40f64.to_le_bytes();
    let s = ArrayRef::python_scalar(DType::Float64, &e40).unwrap();
    let mut out32 = [0f32; 2];
    let o = binary(
        BinaryOp::Add,
        &vec1(&f),
        &s,
        bytemuck::cast_slice_mut(&mut out32),
    )
    .unwrap();
    assert_eq!(
        (o.dtype, out32[0], o.flags),
        (DType::Float32, f32::INFINITY, FpFlags::OVERFLOW)
    );
    assert_eq!(
        ArrayRef::python_scalar(DType::Int8, &[1]).err(),
        Some(Error::InvalidType)
    );
}

#[test]
fn error_paths() {
    let a = [1i32, 2, 3];
    let b = [1i32, 2, 3, 4];
    let mut out = [0u64; 8];
    let out_bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
    // Shapes (3,) and (4,) do not broadcast: ValueError.
    assert_eq!(
        binary(BinaryOp::Add, &vec1(&a), &vec1(&b), out_bytes),
        Err(Error::BroadcastMismatch)
    );
    // Output too small, in bytes.
    assert_eq!(
        binary(
            BinaryOp::Multiply,
            &vec1(&a),
            &vec1(&a),
            &mut out_bytes[..11]
        ),
        Err(Error::BufferTooSmall {
            buffer: Buffer::Output,
            needed: 12
        })
    );
    // Output misaligned for int32.
    assert_eq!(
        binary(
            BinaryOp::Multiply,
            &vec1(&a),
            &vec1(&a),
            &mut out_bytes[1..13]
        ),
        Err(Error::Misaligned)
    );
    // Input misaligned.
    let raw = [0u64; 2];
    let bytes: &[u8] = bytemuck::cast_slice(&raw);
    assert_eq!(
        ArrayRef::contiguous(DType::Int32, &bytes[1..5], Shape::vector(1)).err(),
        Some(Error::Misaligned)
    );
    // Negative exponent anywhere (even broadcast, even next to positive ones).
    let e = [2i32, -1, 3];
    assert_eq!(
        binary(BinaryOp::Power, &vec1(&a), &vec1(&e), out_bytes),
        Err(Error::NegativeIntegerPower)
    );
    assert_eq!(Error::NegativeIntegerPower.numpy_exception(), "ValueError");
    // No loop: subtract of two bools is a TypeError.
    let t = [Bool::TRUE];
    assert_eq!(
        binary(BinaryOp::Subtract, &vec1(&t), &vec1(&t), out_bytes),
        Err(Error::NoLoop)
    );
    assert_eq!(Error::NoLoop.numpy_exception(), "TypeError");
    // Empty arrays: nothing computed, so no error even for negative powers.
    let empty: [i32; 0] = [];
    let o = binary(BinaryOp::Power, &vec1(&empty), &vec1(&empty), out_bytes).unwrap();
    assert_eq!((o.shape.size(), o.flags), (0, FpFlags::NONE));
    // Op codes.
    assert_eq!(
        BinaryOp::try_from(BinaryOp::ALL.len() as u8),
        Err(Error::UnknownOp)
    );
    for &op in BinaryOp::ALL {
        assert_eq!(BinaryOp::try_from(op as u8), Ok(op));
        assert_eq!(BinaryOp::from_name(op.name()), Some(op));
    }
    assert_eq!(BinaryOp::from_name("divide"), Some(BinaryOp::TrueDivide));
    assert_eq!(BinaryOp::from_name("mod"), Some(BinaryOp::Remainder));
    assert_eq!(BinaryOp::from_name("no_such_ufunc"), None);
}

#[test]
fn broadcasting_legality() {
    let col = [1f64, 2.0];
    let row = [10f64, 20.0, 30.0];
    let c = ArrayRef::from_slice(&col, Layout::c_contiguous(Shape::new(&[2, 1]).unwrap())).unwrap();
    let r = ArrayRef::from_slice(&row, Layout::c_contiguous(Shape::new(&[1, 3]).unwrap())).unwrap();
    let mut out = [0f64; 6];
    let o = binary(
        BinaryOp::Subtract,
        &c,
        &r,
        bytemuck::cast_slice_mut(&mut out),
    )
    .unwrap();
    assert_eq!(o.shape.dims(), &[2, 3]);
    assert_eq!(out, [-9.0, -19.0, -29.0, -8.0, -18.0, -28.0]);
    // A 0-d operand broadcasts against anything; (2,1) with (4,) gives (2,4).
    let s = [2f64];
    let zero_d = ArrayRef::from_slice(&s, Layout::c_contiguous(Shape::SCALAR)).unwrap();
    let v = [1f64, 2.0, 3.0, 4.0];
    let mut out = [0f64; 8];
    let o = binary(
        BinaryOp::Power,
        &vec1(&v),
        &zero_d,
        bytemuck::cast_slice_mut(&mut out),
    )
    .unwrap();
    assert_eq!(
        (o.shape.dims(), &out[..4]),
        (&[4usize][..], &[1.0, 4.0, 9.0, 16.0][..])
    );
    let o = binary(
        BinaryOp::Add,
        &c,
        &vec1(&v),
        bytemuck::cast_slice_mut(&mut out),
    )
    .unwrap();
    assert_eq!(o.shape.dims(), &[2, 4]);
    // (2,1) with (3,2) does not broadcast.
    let six = [0f64; 6];
    let m = ArrayRef::from_slice(&six, Layout::c_contiguous(Shape::new(&[3, 2]).unwrap())).unwrap();
    assert_eq!(
        binary(BinaryOp::Add, &c, &m, bytemuck::cast_slice_mut(&mut out)),
        Err(Error::BroadcastMismatch)
    );
}

/// A random strided view over a random buffer: per axis a memory position
/// (permutation), a step of 1 or 2 and a direction.
#[derive(Debug, Clone)]
struct View {
    dims: Vec<usize>,
    perm: Vec<usize>,
    steps: Vec<usize>,
    reversed: Vec<bool>,
    seed: u64,
}

fn view_strategy(dims: Vec<usize>) -> impl Strategy<Value = View> {
    let n = dims.len();
    (
        Just(dims),
        Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
        prop::collection::vec(1usize..3, n),
        prop::collection::vec(any::<bool>(), n),
        any::<u64>(),
    )
        .prop_map(|(dims, perm, steps, reversed, seed)| View {
            dims,
            perm,
            steps,
            reversed,
            seed,
        })
}

impl View {
    /// (buffer length, element strides, offset) of the view.
    fn layout(&self) -> (usize, Vec<isize>, usize) {
        let n = self.dims.len();
        let big: Vec<usize> = (0..n).map(|i| self.dims[i] * self.steps[i]).collect();
        let len: usize = big.iter().product();
        // Memory order: axis perm[0] outermost.
        let mut mem_stride = vec![0usize; n];
        let mut s = 1usize;
        for &ax in self.perm.iter().rev() {
            mem_stride[ax] = s;
            s *= big[ax].max(1);
        }
        let mut offset = 0usize;
        let strides = (0..n)
            .map(|i| {
                let st = (mem_stride[i] * self.steps[i]) as isize;
                if self.reversed[i] && len > 0 {
                    offset += (self.dims[i] - 1) * st as usize;
                    -st
                } else {
                    st
                }
            })
            .collect();
        (len, strides, offset)
    }
}

/// Deterministic pseudo-random values with many ties, zeros, negatives and
/// (for floats) specials, so every kernel branch is taken.
fn fill<T: Element>(len: usize, seed: u64, make: impl Fn(u64) -> T) -> Vec<T> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            make(x)
        })
        .collect()
}

fn float_of(x: u64) -> f64 {
    match x % 16 {
        0 => 0.0,
        1 => -0.0,
        2 => f64::INFINITY,
        3 => f64::NAN,
        4 => 5e-324,
        5 => 1e300,
        _ => ((x >> 8) % 2001) as f64 / 8.0 - 125.0,
    }
}

/// Logical C-order values of a view.
fn logical<T: Copy>(data: &[T], dims: &[usize], strides: &[isize], offset: usize) -> Vec<T> {
    let size: usize = dims.iter().product();
    let mut out = Vec::with_capacity(size);
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..size {
        let mut at = offset as isize;
        for (i, &k) in idx.iter().enumerate() {
            at += k as isize * strides[i];
        }
        out.push(data[at as usize]);
        for ax in (0..dims.len()).rev() {
            idx[ax] += 1;
            if idx[ax] < dims[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
    out
}

/// Two broadcast-compatible shapes: a full shape and, for the second
/// operand, some dims set to 1 or dropped from the front.
fn shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    // Empty dims are rare so that most cases compute something.
    let dim = prop_oneof![1 => Just(0usize), 8 => 1usize..6];
    prop::collection::vec(dim, 0..5).prop_flat_map(|full| {
        let n = full.len();
        (
            Just(full.clone()),
            prop::collection::vec(any::<bool>(), n),
            0..=n,
        )
            .prop_map(|(full, ones, drop)| {
                let b: Vec<usize> = full
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .skip(drop)
                    .collect();
                (full, b)
            })
    })
}

fn check_strided_equals_contiguous<A: Element, B: Element>(
    op: BinaryOp,
    va: &View,
    vb: &View,
    swap: bool,
    make_a: impl Fn(u64) -> A,
    make_b: impl Fn(u64) -> B,
) -> Result<(), TestCaseError> {
    let (la, sa, oa) = va.layout();
    let (lb, sb, ob) = vb.layout();
    let da = fill(la, va.seed, make_a);
    let db = fill(lb, vb.seed, make_b);
    let sha = Shape::new(&va.dims).unwrap();
    let shb = Shape::new(&vb.dims).unwrap();
    let xa = ArrayRef::from_slice(&da, Layout::strided(sha, &sa, oa).unwrap()).unwrap();
    let xb = ArrayRef::from_slice(&db, Layout::strided(shb, &sb, ob).unwrap()).unwrap();
    let ca = logical(&da, &va.dims, &sa, oa);
    let cb = logical(&db, &vb.dims, &sb, ob);
    let ya = ArrayRef::from_slice(&ca, Layout::c_contiguous(sha)).unwrap();
    let yb = ArrayRef::from_slice(&cb, Layout::c_contiguous(shb)).unwrap();
    let (xa, xb, ya, yb) = if swap {
        (xb, xa, yb, ya)
    } else {
        (xa, xb, ya, yb)
    };
    let mut out1 = vec![0u64; 8192];
    let mut out2 = vec![0u64; 8192];
    let r1 = binary(op, &xa, &xb, bytemuck::cast_slice_mut(&mut out1));
    let r2 = binary(op, &ya, &yb, bytemuck::cast_slice_mut(&mut out2));
    prop_assert_eq!(r1, r2);
    if let Ok(o) = r1 {
        let n = o.byte_len();
        let b1: &[u8] = bytemuck::cast_slice(&out1);
        let b2: &[u8] = bytemuck::cast_slice(&out2);
        prop_assert_eq!(&b1[..n], &b2[..n]);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Strided, reversed, transposed and broadcast inputs give exactly the
    /// bits and flags of C-contiguous copies of the same logical values.
    #[test]
    fn strided_path_equals_contiguous_path(
        (va, vb) in shapes().prop_flat_map(|(a, b)| (view_strategy(a), view_strategy(b))),
        op_index in 0usize..11,
        swap in any::<bool>(),
        kind in 0usize..4,
    ) {
        let op = BinaryOp::ALL[op_index];
        match kind {
            0 => check_strided_equals_contiguous(op, &va, &vb, swap, float_of, float_of)?,
            1 => check_strided_equals_contiguous(op, &va, &vb, swap,
                |x| (x % 41) as i32 - 20, |x| (x % 9) as i32 - 2)?,
            // int8 with float32: a cast on the way in.
            2 => check_strided_equals_contiguous(op, &va, &vb, swap,
                |x| (x % 256) as u8 as i8, |x| float_of(x) as f32)?,
            _ => check_strided_equals_contiguous(op, &va, &vb, swap,
                |x| Bool((x % 3) as u8), |x| (x % 300) as u16)?,
        }
    }
}

/// Inputs longer than one gather chunk, strided, against the contiguous
/// path: the chunk boundaries do not change results or flags.
#[test]
fn long_strided_runs_cross_chunk_boundaries() {
    let n = 5000;
    let data: Vec<f64> = fill(2 * n, 7, float_of);
    let ints: Vec<i32> = fill(n, 9, |x| (x % 7) as i32 - 3);
    let strided =
        ArrayRef::from_slice(&data, Layout::strided(Shape::vector(n), &[2], 0).unwrap()).unwrap();
    let every_other: Vec<f64> = data.iter().step_by(2).copied().collect();
    let contiguous = vec1(&every_other);
    for &op in BinaryOp::ALL {
        let mut o1 = vec![0f64; n];
        let mut o2 = vec![0f64; n];
        let r1 = binary(
            op,
            &strided,
            &vec1(&ints),
            bytemuck::cast_slice_mut(&mut o1),
        );
        let r2 = binary(
            op,
            &contiguous,
            &vec1(&ints),
            bytemuck::cast_slice_mut(&mut o2),
        );
        // Bitwise ops and shifts have no float loop: the same TypeError.
        assert_eq!(r1, r2, "{}", op.name());
        assert_eq!(bits64(&o1), bits64(&o2), "{}", op.name());
    }
}
