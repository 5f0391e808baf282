//! The ufuncs of issue 20 (ldexp, gcd, lcm, fabs, spacing, bitwise_count,
//! conjugate, degrees, radians): the NumPy 2.4 answers their docs state,
//! through the typed API. The corpus checks them against NumPy's oracles
//! on every target; these pin the special cases in one place.

use fnp_core::{BinaryOp, DType, Error, FpFlags, Op, UnaryOp, View};

#[test]
fn names_and_codes() {
    assert_eq!(BinaryOp::from_name("ldexp"), Some(BinaryOp::Ldexp));
    assert_eq!(BinaryOp::Ldexp as u8, 34);
    assert_eq!(BinaryOp::Lcm as u8, 36);
    assert_eq!(UnaryOp::from_name("conj"), Some(UnaryOp::Conjugate));
    // NumPy's degrees/radians are ufuncs of their own, not aliases.
    assert_eq!(UnaryOp::from_name("degrees"), Some(UnaryOp::Degrees));
    assert_eq!(UnaryOp::from_name("radians"), Some(UnaryOp::Radians));
    assert_eq!(UnaryOp::from_name("rad2deg"), Some(UnaryOp::Rad2deg));
    assert_eq!(UnaryOp::Fabs as u8, 39);
    assert_eq!(UnaryOp::Radians as u8, 44);
    assert_eq!(
        Op::from_name("bitwise_count"),
        Some(Op::Unary(UnaryOp::BitwiseCount))
    );
}

#[test]
fn gcd_and_lcm_wrap_like_numpy() {
    let a = [-128i8, -128, 0, -6, 127, -128, 100];
    let b = [0i8, -128, 0, 4, -128, 3, -120];
    let mut out = [0i8; 7];
    fnp_core::gcd(&a, &b, &mut out).unwrap();
    assert_eq!(out, [-128, -128, 0, 2, 1, 1, 20]);
    fnp_core::lcm(&a, &b, &mut out).unwrap();
    assert_eq!(out, [0, -128, 0, 12, -128, -128, 88]);
    let mut out = [0u8; 4];
    fnp_core::lcm(&[255u8, 255, 200, 0], &[254u8, 0, 3, 0], &mut out).unwrap();
    assert_eq!(out, [2, 0, 88, 0]);
    let mut out = [0i32; 1];
    fnp_core::lcm(&[65536i32], &[65537i32], &mut out).unwrap();
    assert_eq!(out, [65536]);
    // No bool loop, no float loop.
    let mut out = [0f64; 1];
    assert_eq!(
        fnp_core::gcd(&[1.0f64], &[2.0f64], &mut out),
        Err(Error::NoLoop)
    );
    let mut out = [fnp_core::Bool::FALSE; 1];
    assert_eq!(
        fnp_core::gcd(&[fnp_core::Bool::TRUE], &[fnp_core::Bool::TRUE], &mut out),
        Err(Error::NoLoop)
    );
}

#[test]
fn bitwise_count_counts_magnitudes_into_uint8() {
    let mut out = [0u8; 4];
    let r = fnp_core::bitwise_count(&[i64::MIN, i64::MAX, -1, 5], &mut out).unwrap();
    assert_eq!(r.dtype, DType::UInt8);
    assert_eq!(out, [1, 63, 1, 2]);
    fnp_core::bitwise_count(&[u64::MAX, 0, 3, 8], &mut out).unwrap();
    assert_eq!(out, [64, 0, 2, 1]);
    assert_eq!(
        fnp_core::bitwise_count(&[1.0f32], &mut out[..1]),
        Err(Error::NoLoop)
    );
}

#[test]
fn spacing_values_and_flags() {
    let x = [
        0.0f64,
        -0.0,
        1.0,
        -1.0,
        f64::INFINITY,
        f64::MAX,
        5e-324,
        f64::MIN_POSITIVE,
    ];
    let mut out = [0f64; 8];
    let r = fnp_core::spacing(&x, &mut out).unwrap();
    assert_eq!(out[0].to_bits(), 1);
    assert_eq!(out[1].to_bits(), 1);
    assert_eq!(out[2], f64::EPSILON);
    assert_eq!(out[3], -f64::EPSILON);
    assert!(out[4].is_nan() && out[4].is_sign_positive());
    assert_eq!(out[5], f64::INFINITY);
    assert_eq!(out[6], 5e-324);
    assert_eq!(out[7], 5e-324);
    assert_eq!(r.flags, FpFlags::OVERFLOW | FpFlags::UNDERFLOW);
    // Zeros, infinities, NaNs and normal numbers raise nothing.
    let mut out = [0f32; 4];
    let r = fnp_core::spacing(
        &[0.0f32, f32::NEG_INFINITY, f32::NAN, f32::MIN_POSITIVE],
        &mut out,
    )
    .unwrap();
    assert_eq!(r.flags, FpFlags::NONE);
}

#[test]
fn ldexp_flags_and_exponents() {
    let mut out = [0f64; 5];
    let r = fnp_core::ldexp(
        &[1.0f64, 1.5, 1.0, 3.0, f64::INFINITY],
        &[-1074i32, -1074, -1080, 2, -5],
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [5e-324, 1e-323, 0.0, 12.0, f64::INFINITY]);
    assert_eq!(r.flags, FpFlags::UNDERFLOW);
    // An exact subnormal raises nothing; overflow from a finite mantissa.
    let mut one = [0f64; 1];
    let r = fnp_core::ldexp(&[1.0f64], &[-1074i64], &mut one).unwrap();
    assert_eq!(r.flags, FpFlags::NONE);
    let r = fnp_core::ldexp(&[1.0f64], &[i64::MAX], &mut one).unwrap();
    assert_eq!((one[0], r.flags), (f64::INFINITY, FpFlags::OVERFLOW));
    // int16 mantissas compute in float32; uint64 or float exponents have
    // no loop; an int8 mantissa is NumPy's float16 loop (the typed
    // function does not compile for it, the dynamic entry says so).
    let mut f = [0f32; 1];
    let r = fnp_core::ldexp(&[3i16], &[2u32], &mut f).unwrap();
    assert_eq!((r.dtype, f[0]), (DType::Float32, 12.0));
    assert_eq!(
        fnp_core::ldexp(&[1.0f64], &[1u64], &mut one),
        Err(Error::NoLoop)
    );
    assert_eq!(
        fnp_core::ldexp(&[1.0f64], &[1.0f64], &mut one),
        Err(Error::NoLoop)
    );
    assert_eq!(
        fnp_core::binary_into(fnp_core::BinaryOp::Ldexp, &[1i8], &[1i32], &mut f),
        Err(Error::Float16)
    );
    // Broadcasting: (2, 1) mantissas against (3,) exponents.
    let m = [1.0f32, -2.0];
    let mut out = [0f32; 6];
    fnp_core::ldexp(View::new(&m, &[2, 1]).unwrap(), &[0i32, 1, -1], &mut out).unwrap();
    assert_eq!(out, [1.0, 2.0, 0.5, -2.0, -4.0, -1.0]);
}

#[test]
fn fabs_conjugate_degrees_radians() {
    let mut out = [0f32; 3];
    fnp_core::fabs(&[-f32::NAN, -0.0, f32::NEG_INFINITY], &mut out).unwrap();
    assert!(out[0].is_nan() && out[0].is_sign_positive());
    assert_eq!(out[1].to_bits(), 0);
    assert_eq!(out[2], f32::INFINITY);
    let mut f = [0f64; 1];
    let r = fnp_core::fabs(&[-3i32], &mut f).unwrap();
    assert_eq!((r.dtype, f[0]), (DType::Float64, 3.0));
    let mut c = [0f64; 2];
    fnp_core::conjugate(&[-f64::NAN, -0.0], &mut c).unwrap();
    assert!(c[0].is_nan() && c[0].is_sign_negative());
    assert_eq!(c[1].to_bits(), (-0.0f64).to_bits());
    let mut i = [0i8; 1];
    let r = fnp_core::conjugate(&[fnp_core::Bool::TRUE], &mut i).unwrap();
    assert_eq!((r.dtype, i[0]), (DType::Int8, 1));
    let (mut d, mut r2d) = ([0f64; 1], [0f64; 1]);
    fnp_core::degrees(&[1.0f64], &mut d).unwrap();
    fnp_core::rad2deg(&[1.0f64], &mut r2d).unwrap();
    assert_eq!(d, r2d);
    fnp_core::radians(&[180.0f64], &mut d).unwrap();
    assert_eq!(d[0], core::f64::consts::PI);
}
