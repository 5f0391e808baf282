//! Every op × loop dtype on NumPy's edge values, element by element, against
//! fixtures/numpy/binary_edges.json (recorded by record_binary_edges.py):
//! results within the precision table's policy, the same IEEE flags per
//! element, and ValueError where NumPy raises it.

use fnp_core::{binary, ArrayRef, BinaryFamily, BinaryOp, DType, Error, FpFlags, Layout, Shape};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/../fixtures/numpy/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Element bytes of `v` (hex bits for floats, integers, bools) in `dtype`.
fn encode(dtype: DType, v: &Value, out: &mut Vec<u8>) {
    match dtype {
        DType::Float32 => {
            let bits = u32::from_str_radix(&v.as_str().unwrap()[2..], 16).unwrap();
            out.extend_from_slice(&bits.to_le_bytes());
        }
        DType::Float64 => {
            let bits = u64::from_str_radix(&v.as_str().unwrap()[2..], 16).unwrap();
            out.extend_from_slice(&bits.to_le_bytes());
        }
        DType::Bool => out.push(u8::from(v.as_bool().unwrap())),
        _ => {
            let x: i128 = v
                .as_i64()
                .map(i128::from)
                .or(v.as_u64().map(i128::from))
                .unwrap();
            out.extend_from_slice(&x.to_le_bytes()[..dtype.itemsize()]);
        }
    }
}

/// Aligned storage for element bytes.
fn aligned(bytes: &[u8]) -> Vec<u64> {
    let mut v = vec![0u64; bytes.len().div_ceil(8)];
    bytemuck::cast_slice_mut::<u64, u8>(&mut v)[..bytes.len()].copy_from_slice(bytes);
    v
}

#[test]
fn edge_values_match_numpy() {
    let fx = fixture("binary_edges.json");
    let groups = fx["groups"].as_array().unwrap();
    let mut failures = Vec::new();
    let mut pairs = 0usize;
    let mut seen = std::collections::BTreeSet::new();
    for g in groups {
        let op = BinaryOp::from_name(g["op"].as_str().unwrap()).unwrap();
        let dtype = DType::from_name(g["dtype"].as_str().unwrap()).unwrap();
        seen.insert((op as u8, dtype as u8));
        let policy = fnp_core::op::policy(op.name(), dtype).expect("table entry");
        let n = g["a"].as_array().unwrap().len();
        let size = dtype.itemsize();
        for i in 0..n {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            encode(dtype, &g["a"][i], &mut a);
            encode(dtype, &g["b"][i], &mut b);
            let (a, b) = (aligned(&a), aligned(&b));
            let a_bytes = &bytemuck::cast_slice::<u64, u8>(&a)[..size];
            let b_bytes = &bytemuck::cast_slice::<u64, u8>(&b)[..size];
            let one = Shape::new(&[1]).unwrap();
            let av = ArrayRef::contiguous(dtype, a_bytes, one).unwrap();
            let bv = ArrayRef::contiguous(dtype, b_bytes, one).unwrap();
            let mut out = [0u64; 1];
            let got = binary(
                op,
                &av,
                &bv,
                &mut bytemuck::cast_slice_mut::<u64, u8>(&mut out)[..size],
            );
            pairs += 1;
            let what = format!("{}({}, {}) {dtype}", op.name(), g["a"][i], g["b"][i]);
            if !g["error"][i].is_null() {
                if got != Err(Error::NegativeIntegerPower) {
                    failures.push(format!("{what}: expected ValueError, got {got:?}"));
                }
                continue;
            }
            let got = match got {
                Ok(o) => o,
                Err(e) => {
                    failures.push(format!("{what}: unexpected {e:?}"));
                    continue;
                }
            };
            let mut expected = Vec::new();
            encode(dtype, &g["out"][i], &mut expected);
            let actual = &bytemuck::cast_slice::<u64, u8>(&out)[..size];
            if !policy.accepts_element(dtype, &expected, actual) {
                failures.push(format!(
                    "{what}: expected {}, got {actual:02x?}",
                    g["out"][i]
                ));
            }
            let want = FpFlags::from_bits_truncate(g["flags"][i].as_u64().unwrap() as u8);
            if !policy.accepts_flags(want, got.flags) {
                failures.push(format!(
                    "{what}: flags expected {want:?}, got {:?}",
                    got.flags
                ));
            }
        }
        // The same group as one array: the flags of a run are the union.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let mut union = 0u8;
        let mut any_error = false;
        for i in 0..n {
            encode(dtype, &g["a"][i], &mut a);
            encode(dtype, &g["b"][i], &mut b);
            union |= g["flags"][i].as_u64().unwrap() as u8;
            any_error |= !g["error"][i].is_null();
        }
        let (a, b) = (aligned(&a), aligned(&b));
        let shape = Shape::new(&[n]).unwrap();
        let av = ArrayRef::contiguous(
            dtype,
            &bytemuck::cast_slice::<u64, u8>(&a)[..n * size],
            shape,
        )
        .unwrap();
        let bv = ArrayRef::contiguous(
            dtype,
            &bytemuck::cast_slice::<u64, u8>(&b)[..n * size],
            shape,
        )
        .unwrap();
        let mut out = vec![0u64; n];
        let got = binary(op, &av, &bv, bytemuck::cast_slice_mut(&mut out));
        if any_error {
            assert_eq!(
                got,
                Err(Error::NegativeIntegerPower),
                "{} {dtype}",
                op.name()
            );
        } else {
            let want = FpFlags::from_bits_truncate(union);
            let got = got.unwrap().flags;
            if !policy.accepts_flags(want, got) {
                failures.push(format!(
                    "{} {dtype} whole group: flags {want:?} vs {got:?}",
                    op.name()
                ));
            }
        }
    }
    // Every arithmetic op has at least one recorded loop dtype per family
    // it supports (the other families are covered by the conformance
    // corpus, fixtures/cases).
    for &op in BinaryOp::ALL
        .iter()
        .filter(|op| op.family() == BinaryFamily::Arith)
    {
        for d in DType::ALL {
            if fnp_core::op::policy(op.name(), d).is_some() {
                assert!(
                    seen.contains(&(op as u8, d as u8)),
                    "no fixture for {} {d}",
                    op.name()
                );
            }
        }
    }
    assert!(pairs > 20_000);
    if !failures.is_empty() {
        for f in failures.iter().take(400) {
            eprintln!("{f}");
        }
        panic!("{} of {pairs} pairs differ from NumPy", failures.len());
    }
}

/// Keeps `Layout` in use for a strided view of the same data: the edge
/// values read backwards give the reversed results.
#[test]
fn reversed_view_matches_forward() {
    let a: Vec<f64> = vec![0.0, -0.0, 1.5, f64::INFINITY, f64::NAN, -7.0, 1e-310];
    let b: Vec<f64> = vec![3.0, -2.0, 0.0, 1.0, 2.0, 0.1, 1e10];
    let n = a.len();
    let shape = Shape::new(&[n]).unwrap();
    let fwd_a = ArrayRef::from_slice(&a, Layout::c_contiguous(shape)).unwrap();
    let fwd_b = ArrayRef::from_slice(&b, Layout::c_contiguous(shape)).unwrap();
    let rev_a = ArrayRef::from_slice(&a, Layout::strided(shape, &[-1], n - 1).unwrap()).unwrap();
    let rev_b = ArrayRef::from_slice(&b, Layout::strided(shape, &[-1], n - 1).unwrap()).unwrap();
    let f64s = fnp_core::OperandType::Array(DType::Float64);
    for &op in BinaryOp::ALL
        .iter()
        .filter(|op| op.resolve(f64s, f64s) == Ok(DType::Float64))
    {
        let mut f = vec![0f64; n];
        let mut r = vec![0f64; n];
        let fo = binary(op, &fwd_a, &fwd_b, bytemuck::cast_slice_mut(&mut f)).unwrap();
        let ro = binary(op, &rev_a, &rev_b, bytemuck::cast_slice_mut(&mut r)).unwrap();
        assert_eq!(fo.flags, ro.flags);
        for i in 0..n {
            assert_eq!(f[i].to_bits(), r[n - 1 - i].to_bits(), "{} {i}", op.name());
        }
    }
}
