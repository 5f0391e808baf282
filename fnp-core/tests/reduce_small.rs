//! The `small` feature must not change a single result bit. The NumPy
//! fixtures cover most of it; this sweep adds what they lack (float inputs
//! reduced in unsigned dtypes, whose saturating casts `small` reimplements,
//! and unsigned max/min/var/cumsum with masks and initial values) and checks
//! a digest of every outcome. Run it with and without `--features small`:
//! the digest was recorded from the build without it.

use fnp_core::{reduce, ArrayRef, Axes, DType, Layout, ReduceOp, ReduceParams, Scalar, Shape};

/// Input values: signs, fractions, out-of-range magnitudes, NaN and inf.
const VALUES: [f64; 15] = [
    3.0,
    -5.0,
    300.5,
    7.9,
    -0.0,
    f64::NAN,
    70000.0,
    1e20,
    -1e20,
    f64::INFINITY,
    2.5,
    255.0,
    -129.0,
    4294967296.0,
    1.0,
];

fn bytes_of(d: DType) -> Vec<u8> {
    let mut v = Vec::new();
    for &x in &VALUES {
        match d {
            DType::Float64 => v.extend_from_slice(&x.to_ne_bytes()),
            DType::Float32 => v.extend_from_slice(&(x as f32).to_ne_bytes()),
            DType::Bool => v.push(u8::from(x != 0.0 && !x.is_nan())),
            _ => {
                let i = if x.is_finite() { x as i64 } else { -7 };
                v.extend_from_slice(&i.to_ne_bytes()[..d.itemsize()]);
            }
        }
    }
    v
}

/// FNV-1a over everything a reduction reports.
fn mix(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

#[test]
fn float_to_unsigned_sums_saturate_per_element() {
    // 300.5 -> 255, -5.0 -> 0, 7.9 -> 7: 262 wraps to 6.
    let data = [300.5f64, -5.0, 7.9];
    let a = ArrayRef::from_slice(&data, Layout::c_contiguous(Shape::vector(3))).unwrap();
    let p = ReduceParams {
        dtype: Some(DType::UInt8),
        ..ReduceParams::default()
    };
    let mut out = [0u8; 8];
    let o = reduce(ReduceOp::Sum, &a, &p, &mut out, &mut []).unwrap();
    assert_eq!(o.dtype, DType::UInt8);
    assert_eq!(out[0], 6);
}

#[test]
fn unsigned_results_digest() {
    let inputs = [
        DType::Float32,
        DType::Float64,
        DType::Bool,
        DType::Int8,
        DType::UInt8,
        DType::Int16,
        DType::UInt16,
        DType::UInt32,
        DType::Int64,
        DType::UInt64,
    ];
    let dtypes = [
        None,
        Some(DType::UInt8),
        Some(DType::UInt16),
        Some(DType::UInt32),
        Some(DType::UInt64),
        Some(DType::Int8),
        Some(DType::Bool),
    ];
    let mask_data = [1u8, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1];
    let shape = Shape::new(&[3, 5]).unwrap();
    let mask = ArrayRef::contiguous(DType::Bool, &mask_data, shape).unwrap();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut ran = 0;
    for &d in &inputs {
        let raw = bytes_of(d);
        // Aligned copy of the element bytes.
        let mut words = vec![0u64; raw.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..raw.len()].copy_from_slice(&raw);
        let data = &bytemuck::cast_slice::<u64, u8>(&words)[..raw.len()];
        let c = ArrayRef::contiguous(d, data, shape).unwrap();
        // The transpose: a strided view.
        let t = Layout::strided(Shape::new(&[5, 3]).unwrap(), &[1, 5], 0).unwrap();
        let t = c.with_layout(t).unwrap();
        for a in [c, t] {
            for &op in ReduceOp::ALL {
                for &dtype in &dtypes {
                    for axis in [Axes::All, Axes::single(0), Axes::single(1)] {
                        for (masked, initial) in [
                            (false, None),
                            (true, Some(Scalar::Int(3))),
                            (false, Some(Scalar::Int(200))),
                            (false, Some(Scalar::Float(-2.5))),
                            (false, Some(Scalar::Float(1e10))),
                            (false, Some(Scalar::Bool(true))),
                            (false, Some(Scalar::UInt(1 << 63))),
                        ] {
                            let p = ReduceParams {
                                axis,
                                dtype,
                                initial,
                                where_mask: if masked && a.shape() == mask.shape() {
                                    Some(mask)
                                } else {
                                    None
                                },
                                ddof: if matches!(op, ReduceOp::Var | ReduceOp::Std) {
                                    1.0
                                } else {
                                    0.0
                                },
                                ..ReduceParams::default()
                            };
                            let mut out = vec![0u64; 16];
                            let mut scratch = vec![0u64; 64];
                            let outcome = reduce(
                                op,
                                &a,
                                &p,
                                bytemuck::cast_slice_mut(&mut out),
                                &mut scratch,
                            );
                            match outcome {
                                Ok(o) => {
                                    mix(&mut h, &[o.dtype as u8, o.flags.bits()]);
                                    let all: &mut [u8] = bytemuck::cast_slice_mut(&mut out);
                                    let bytes = &mut all[..o.byte_len()];
                                    canonical_nans(o.dtype, bytes);
                                    mix(&mut h, bytes);
                                    ran += 1;
                                }
                                Err(e) => mix(&mut h, format!("{e:?}").as_bytes()),
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(ran > 5000, "only {ran} reductions ran");
    assert_eq!(h, 0x718d_4275_34f4_0af2, "digest {h:#018x}");
}

/// Clears the sign of every NaN: the sign of a NaN an operation creates is
/// not part of the result (x86 sets it at run time, constant folding does
/// not, so debug and release builds differ), and the comparator ignores it.
fn canonical_nans(dtype: DType, bytes: &mut [u8]) {
    match dtype {
        DType::Float32 => {
            for c in bytes.chunks_exact_mut(4) {
                let x = f32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
                if x.is_nan() {
                    c.copy_from_slice(&x.abs().to_ne_bytes());
                }
            }
        }
        DType::Float64 => {
            for c in bytes.chunks_exact_mut(8) {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                let x = f64::from_ne_bytes(b);
                if x.is_nan() {
                    c.copy_from_slice(&x.abs().to_ne_bytes());
                }
            }
        }
        _ => {}
    }
}
