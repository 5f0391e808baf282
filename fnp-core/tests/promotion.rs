//! Promotion and loop resolution against NumPy 2.4 (fixtures/numpy/
//! promotion.json, recorded by record_promotion.py): `result_type`,
//! `result_type_weak`, `BinaryOp::resolve` and the full `binary` call for
//! every op with every dtype pair and with Python scalars, including the
//! OverflowError, TypeError and ValueError cases.

use fnp_core::{
    binary, result_type, result_type_weak, unary, ArrayRef, BinaryOp, DType, Error, OperandType,
    Shape, UnaryOp,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = format!(
        "{}/../fixtures/numpy/promotion.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn dtypes(fx: &Value) -> Vec<DType> {
    fx["dtypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| DType::from_name(d.as_str().unwrap()).unwrap())
        .collect()
}

/// A Python scalar from the fixture as (dtype, 8 aligned bytes).
fn scalar(s: &Value) -> (DType, [u64; 1]) {
    let v = &s["value"];
    match s["kind"].as_str().unwrap() {
        "bool" => (DType::Bool, [u64::from(v.as_bool().unwrap())]),
        "int64" => (DType::Int64, [v.as_i64().unwrap() as u64]),
        "uint64" => (DType::UInt64, [v.as_u64().unwrap()]),
        "float64" => (DType::Float64, [v.as_f64().unwrap().to_bits()]),
        k => panic!("{k}"),
    }
}

/// One element of value 1 in `d`, as aligned bytes.
fn one(d: DType) -> [u64; 1] {
    [match d {
        DType::Float32 => u64::from(1f32.to_bits()),
        DType::Float64 => 1f64.to_bits(),
        _ => 1,
    }]
}

fn bytes(d: DType, v: &[u64; 1]) -> &[u8] {
    &bytemuck::cast_slice(v)[..d.itemsize()]
}

/// What `binary` answers: the output dtype's name or the NumPy exception.
/// The output dtype name, or the exception class NumPy would raise; fnp's
/// "NumPy answers in float16" is the float16 NumPy's answer has.
fn name_of(r: Result<fnp_core::Output, Error>) -> String {
    match r {
        Ok(o) => o.dtype.name().to_string(),
        Err(Error::Float16) => "float16".to_string(),
        Err(e) => e.numpy_exception().to_string(),
    }
}

fn outcome(op: BinaryOp, a: &ArrayRef<'_>, b: &ArrayRef<'_>) -> String {
    let mut out = [0u64; 1];
    name_of(binary(op, a, b, bytemuck::cast_slice_mut(&mut out)))
}

#[test]
fn result_type_matches_numpy() {
    let fx = fixture();
    let ds = dtypes(&fx);
    for (i, &a) in ds.iter().enumerate() {
        for (j, &b) in ds.iter().enumerate() {
            assert_eq!(
                result_type(a, b).name(),
                fx["result_type"][i][j].as_str().unwrap(),
                "{a} {b}"
            );
        }
        let weak = &fx["result_type_weak"][a.name()];
        for (kind, op) in [
            ("bool", OperandType::PyBool),
            ("int64", OperandType::PyInt),
            ("float64", OperandType::PyFloat),
        ] {
            let want = weak[kind].as_str().unwrap();
            let got = result_type_weak(&[OperandType::Array(a), op]).unwrap();
            assert_eq!(got.name(), want, "{a} with Python {kind}");
            let got = result_type_weak(&[op, OperandType::Array(a)]).unwrap();
            assert_eq!(got.name(), want, "Python {kind} with {a}");
        }
    }
}

#[test]
fn every_op_resolves_every_dtype_pair_like_numpy() {
    let fx = fixture();
    let ds = dtypes(&fx);
    let scalar_shape = Shape::new(&[1]).unwrap();
    let mut checked = 0;
    for &op in BinaryOp::ALL {
        let rec = &fx["ops"][op.name()];
        for (i, &a) in ds.iter().enumerate() {
            for (j, &b) in ds.iter().enumerate() {
                let want = rec["pairs"][i][j].as_str().unwrap();
                let resolved = match op.resolve(OperandType::Array(a), OperandType::Array(b)) {
                    Ok(d) => d.name().to_string(),
                    Err(Error::Float16) => "float16".to_string(),
                    Err(e) => e.numpy_exception().to_string(),
                };
                assert_eq!(resolved, want, "resolve {}({a}, {b})", op.name());
                let (va, vb) = (one(a), one(b));
                let xa = ArrayRef::contiguous(a, bytes(a, &va), scalar_shape).unwrap();
                let xb = ArrayRef::contiguous(b, bytes(b, &vb), scalar_shape).unwrap();
                assert_eq!(outcome(op, &xa, &xb), want, "{}({a}, {b})", op.name());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, BinaryOp::ALL.len() * 121);
}

#[test]
fn every_unary_op_resolves_like_numpy() {
    let fx = fixture();
    let ds = dtypes(&fx);
    let shape = Shape::new(&[1]).unwrap();
    let scalars: Vec<_> = fx["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .map(scalar)
        .collect();
    let mut mismatches = Vec::new();
    for &op in UnaryOp::ALL {
        let rec = &fx["unary"][op.name()];
        let mut out = [0u64; 1];
        for (i, &d) in ds.iter().enumerate() {
            let v = one(d);
            let x = ArrayRef::contiguous(d, bytes(d, &v), shape).unwrap();
            let got = name_of(unary(op, &x, bytemuck::cast_slice_mut(&mut out)));
            if got != rec["arrays"][i].as_str().unwrap() {
                mismatches.push(format!("{}({d}): {got} vs {}", op.name(), rec["arrays"][i]));
            }
        }
        for (k, (sd, sv)) in scalars.iter().enumerate() {
            let s = ArrayRef::python_scalar(*sd, bytes(*sd, sv)).unwrap();
            let got = name_of(unary(op, &s, bytemuck::cast_slice_mut(&mut out)));
            if got != rec["scalars"][k].as_str().unwrap() {
                mismatches.push(format!(
                    "{}({}): {got} vs {}",
                    op.name(),
                    fx["scalars"][k]["value"],
                    rec["scalars"][k]
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn python_scalars_like_numpy() {
    let fx = fixture();
    let ds = dtypes(&fx);
    let scalars: Vec<_> = fx["scalars"]
        .as_array()
        .unwrap()
        .iter()
        .map(scalar)
        .collect();
    let shape = Shape::new(&[1]).unwrap();
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for &op in BinaryOp::ALL {
        let rec = &fx["ops"][op.name()];
        for (i, &d) in ds.iter().enumerate() {
            let va = one(d);
            let arr = ArrayRef::contiguous(d, bytes(d, &va), shape).unwrap();
            for (k, (sd, sv)) in scalars.iter().enumerate() {
                let s = ArrayRef::python_scalar(*sd, bytes(*sd, sv)).unwrap();
                let value = &fx["scalars"][k]["value"];
                for (got, want, what) in [
                    (
                        outcome(op, &arr, &s),
                        &rec["array_scalar"][i][k],
                        "array, scalar",
                    ),
                    (
                        outcome(op, &s, &arr),
                        &rec["scalar_array"][i][k],
                        "scalar, array",
                    ),
                ] {
                    checked += 1;
                    if got != want.as_str().unwrap() {
                        mismatches.push(format!(
                            "{}({what}) {d} {value}: {got} vs {want}",
                            op.name()
                        ));
                    }
                }
            }
        }
        for (k1, (d1, v1)) in scalars.iter().enumerate() {
            for (k2, (d2, v2)) in scalars.iter().enumerate() {
                let s1 = ArrayRef::python_scalar(*d1, bytes(*d1, v1)).unwrap();
                let s2 = ArrayRef::python_scalar(*d2, bytes(*d2, v2)).unwrap();
                let want = rec["scalar_scalar"][k1][k2].as_str().unwrap();
                let got = outcome(op, &s1, &s2);
                checked += 1;
                if got != want {
                    mismatches.push(format!(
                        "{}({}, {}): {got} vs {want}",
                        op.name(),
                        fx["scalars"][k1]["value"],
                        fx["scalars"][k2]["value"]
                    ));
                }
            }
        }
    }
    let n = scalars.len();
    assert_eq!(checked, BinaryOp::ALL.len() * (ds.len() * n * 2 + n * n));
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
