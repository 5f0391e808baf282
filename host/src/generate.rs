//! `fnp corpus generate`: the seeded, deterministic case generator.
//!
//! The same seed gives byte-identical files. Cases come in families, each
//! with a stable id prefix `<op>/<family>/<dtypes>/<n>`:
//!
//! - binary ops: `edge` (every pair of a dtype's edge values: NaN, ±Inf,
//!   -0.0, subnormals, integer limits, overflow, division by zero), `rand`
//!   (random values and shapes), `mixed` (every ordered pair of different
//!   dtypes), `scalar` (Python int/float/bool operands, out-of-range Python
//!   ints), `bcast` (every rank pattern, size-1 dims, empty and 0-d, shape
//!   mismatches), `layout` (F order, reversed, strided, zero-stride inputs);
//!   `ldexp` also has `exp`, `expdtype`, `mantissa` and `pybcast` (a float
//!   mantissa with an integer exponent, which the same-dtype families
//!   cannot reach);
//! - reductions: `rand` (random shapes, axes, keepdims and the op's other
//!   keywords), `edge` (NaN/Inf/-0.0/overflow data, empty arrays, bad axes),
//!   `layout` (F order, reversed, strided and permuted inputs whose memory
//!   order decides NumPy's summation order), `pairwise` (lengths around
//!   NumPy's pairwise-sum block sizes);
//! - unary ops (`unary.json`): `edge` (each dtype's edge values; floats
//!   also the thresholds where exp/log/trig functions change behaviour),
//!   `dense` (uniform samples of the op's domain and log-uniform
//!   magnitudes, for ULP statistics), `rand`, `scalar` (lone Python
//!   scalars), `layout` and `shape` (strided views, 0-d and empty);
//! - `large.json`: host-only cases of ≥ 10⁵ elements, stored as seeded
//!   `generate` descriptors instead of values;
//! - ufunc methods (`methods.json`, op `<ufunc>.reduce` and
//!   `<ufunc>.accumulate` for every binary ufunc and dtype): `rand`
//!   (random shapes, axes and the method's other keywords), `edge` (edge
//!   values; axis tuples, 0-d and `axis=None` calls NumPy refuses),
//!   `empty` and `layout` (reversed and strided views). It has its own
//!   seeded generator, so adding it moved no other file.
//!
//! Most arrays have at most 16 elements so cases fit a 64 KiB device.
//!
//! Which ops exist and which keywords a reduction takes come from fnp-core's
//! op table (`BinaryOp::ALL`, `UnaryOp::ALL`, `ReduceOp::ALL` and
//! `ReduceOp::keywords`), so a new table row gets cases without a list here.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use fnp_core::table::{Keyword, Keywords};
use fnp_core::{BinaryOp, DType, MultiOp, OperandType, ReduceOp, UnaryOp};
use serde_json::{json, Map, Value};

use crate::corpus::{c_strides, splitmix64};
use crate::value;

/// Elements from which a case counts as large (host-only by size).
pub const LARGE_ELEMENTS: usize = 100_000;

/// A small deterministic RNG (SplitMix64), so corpora do not depend on a
/// crate's algorithm staying the same across versions.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        splitmix64(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }

    /// `true` with probability `num/den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    /// One element of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// Uniform float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Little-endian bytes of integers (already in range) for `dtype`.
fn int_bytes(dtype: DType, values: &[i128]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| v.to_le_bytes().into_iter().take(dtype.itemsize()))
        .collect()
}

fn f64_bytes(dtype: DType, values: &[f64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| {
            if dtype == DType::Float32 {
                (v as f32).to_le_bytes().to_vec()
            } else {
                v.to_le_bytes().to_vec()
            }
        })
        .collect()
}

/// The edge values of a dtype, as bytes.
pub fn edge_values(dtype: DType) -> Vec<u8> {
    match dtype {
        DType::Bool => vec![0, 1],
        DType::Float64 => f64_bytes(
            dtype,
            &[
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -2.5,
                3.0,
                f64::NAN,
                -f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                5e-324,
                -2.5e-323,
                f64::MIN_POSITIVE,
                f64::MAX,
                -f64::MAX,
                0.1,
                1e300,
            ],
        ),
        DType::Float32 => {
            let v: [f32; 18] = [
                0.0,
                -0.0,
                1.0,
                -1.0,
                0.5,
                -2.5,
                3.0,
                f32::NAN,
                -f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                1e-45,
                -3e-45,
                f32::MIN_POSITIVE,
                f32::MAX,
                -f32::MAX,
                0.1,
                1e30,
            ];
            v.iter().flat_map(|x| x.to_le_bytes()).collect()
        }
        _ => {
            let (lo, hi) = dtype.int_range().unwrap_or((0, 0));
            let vals: Vec<i128> = if lo < 0 {
                vec![0, 1, -1, 2, -3, 7, lo, lo + 1, hi, hi - 1]
            } else {
                vec![0, 1, 2, 3, 7, hi, hi - 1, hi / 2, hi / 2 + 1]
            };
            int_bytes(dtype, &vals)
        }
    }
}

/// Random element values for `dtype`: mostly small, some extreme.
pub fn random_values(dtype: DType, n: usize, rng: &mut Rng) -> Vec<u8> {
    match dtype {
        DType::Bool => (0..n).map(|_| rng.below(2) as u8).collect(),
        DType::Float32 | DType::Float64 => {
            let mut out = Vec::with_capacity(n * dtype.itemsize());
            for _ in 0..n {
                let x = match rng.below(12) {
                    0..=3 => (rng.below(17) as f64) - 8.0,
                    4..=7 => rng.unit() * 20.0 - 10.0,
                    8 => (rng.below(64) as f64 - 32.0) / 4.0,
                    9 => {
                        // Any finite magnitude of the dtype.
                        let (emin, emax) = if dtype == DType::Float32 {
                            (-149, 127)
                        } else {
                            (-1074, 1023)
                        };
                        let e = emin + rng.below((emax - emin + 1) as usize) as i32;
                        (1.0 + rng.unit())
                            * 2f64.powi(e)
                            * if rng.chance(1, 2) { -1.0 } else { 1.0 }
                    }
                    10 => rng.pick(&[0.0, -0.0, 1.0, -1.0]),
                    _ => rng.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.5]),
                };
                out.extend(f64_bytes(dtype, &[x]));
            }
            out
        }
        _ => {
            let (lo, hi) = dtype.int_range().unwrap_or((0, 0));
            let vals: Vec<i128> = (0..n)
                .map(|_| match rng.below(10) {
                    0..=6 => (rng.below(21) as i128 - 10).clamp(lo, hi),
                    7 | 8 => lo + (u128::from(rng.next_u64()) % ((hi - lo + 1) as u128)) as i128,
                    _ => rng.pick(&[lo, hi, 0, 1]),
                })
                .collect();
            int_bytes(dtype, &vals)
        }
    }
}

fn values_json(dtype: DType, bytes: &[u8]) -> Value {
    Value::Array(value::decode_values(dtype, bytes))
}

/// An input object with C-order `bytes` and an optional layout.
fn input(dtype: DType, shape: &[usize], bytes: &[u8], layout: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("dtype".into(), json!(dtype.name()));
    m.insert("shape".into(), json!(shape));
    m.insert("data".into(), values_json(dtype, bytes));
    if let Some(l) = layout {
        m.insert("layout".into(), l);
    }
    Value::Object(m)
}

fn scalar_input(dtype: DType, bytes: &[u8]) -> Value {
    json!({"dtype": dtype.name(), "shape": [], "data": values_json(dtype, bytes), "scalar": true})
}

/// Collects cases with unique ids.
#[derive(Default)]
struct Suite {
    cases: Vec<Value>,
    counters: BTreeMap<String, usize>,
}

impl Suite {
    fn push(
        &mut self,
        op: &str,
        family: &str,
        sig: &str,
        inputs: Vec<Value>,
        params: Option<Value>,
    ) {
        let key = format!("{op}/{family}/{sig}");
        let n = self.counters.entry(key.clone()).or_insert(0);
        let id = format!("{key}/{n}");
        *n += 1;
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        m.insert("op".into(), json!(op));
        m.insert("inputs".into(), Value::Array(inputs));
        if let Some(p) = params {
            if p.as_object().is_some_and(|o| !o.is_empty()) {
                m.insert("params".into(), p);
            }
        }
        self.cases.push(Value::Object(m));
    }
}

fn random_shape(rng: &mut Rng, max_elems: usize) -> Vec<usize> {
    loop {
        let ndim = rng.pick(&[0usize, 1, 1, 1, 2, 2, 2, 3]);
        let shape: Vec<usize> = (0..ndim).map(|_| rng.pick(&[1usize, 2, 3, 4, 5])).collect();
        if shape.iter().product::<usize>() <= max_elems {
            return shape;
        }
    }
}

/// A shape `b` broadcasts with `a`: some dims dropped or set to 1.
fn broadcast_partner(a: &[usize], rng: &mut Rng) -> Vec<usize> {
    let keep = rng.below(a.len() + 1);
    a[a.len() - keep..]
        .iter()
        .map(|&d| if rng.chance(1, 3) { 1 } else { d })
        .collect()
}

fn size(shape: &[usize]) -> usize {
    shape.iter().product()
}

fn binary_ops() -> Vec<&'static str> {
    BinaryOp::ALL.iter().map(|op| op.name()).collect()
}

fn binary_suite(rng: &mut Rng) -> Suite {
    let mut s = Suite::default();
    for op in binary_ops() {
        // edge: every ordered pair of edge values, eight pairs per case.
        for d in DType::ALL {
            let edges = edge_values(d);
            let item = d.itemsize();
            let n = edges.len() / item;
            let mut a = Vec::new();
            let mut b = Vec::new();
            for i in 0..n {
                for j in 0..n {
                    let bj = &edges[j * item..(j + 1) * item];
                    // Integer power with a negative exponent is a ValueError
                    // for the whole call; keep the grid about values.
                    if op == "power"
                        && d.is_integer()
                        && value::decode_value(d, bj, 0)
                            .and_then(|v| v.as_i64())
                            .is_some_and(|v| v < 0)
                    {
                        continue;
                    }
                    a.extend_from_slice(&edges[i * item..(i + 1) * item]);
                    b.extend_from_slice(bj);
                }
            }
            let pairs = a.len() / item;
            for start in (0..pairs).step_by(8) {
                let end = (start + 8).min(pairs);
                let shape = [end - start];
                s.push(
                    op,
                    "edge",
                    d.name(),
                    vec![
                        input(d, &shape, &a[start * item..end * item], None),
                        input(d, &shape, &b[start * item..end * item], None),
                    ],
                    None,
                );
            }
        }
        // rand: same dtype, random shapes with broadcasting.
        for d in DType::ALL {
            for _ in 0..3 {
                let sa = random_shape(rng, 16);
                let sb = if rng.chance(1, 2) {
                    sa.clone()
                } else {
                    broadcast_partner(&sa, rng)
                };
                let (sa, sb) = if rng.chance(1, 2) { (sa, sb) } else { (sb, sa) };
                s.push(
                    op,
                    "rand",
                    d.name(),
                    vec![
                        input(d, &sa, &random_values(d, size(&sa), rng), None),
                        input(d, &sb, &random_values(d, size(&sb), rng), None),
                    ],
                    None,
                );
            }
        }
        // mixed: every ordered pair of different dtypes.
        for da in DType::ALL {
            for db in DType::ALL {
                if da == db {
                    continue;
                }
                let n = 1 + rng.below(4);
                s.push(
                    op,
                    "mixed",
                    &format!("{da}+{db}"),
                    vec![
                        input(da, &[n], &random_values(da, n, rng), None),
                        input(db, &[n], &random_values(db, n, rng), None),
                    ],
                    None,
                );
            }
        }
        // scalar: NEP 50 weak Python operands, both sides.
        for d in DType::ALL {
            let n = 1 + rng.below(4);
            let a_bytes = random_values(d, n, rng);
            let a = input(d, &[n], &a_bytes, None);
            let py_int = int_bytes(DType::Int64, &[rng.below(7) as i128 - 3]);
            let py_float = 2.5f64.to_le_bytes();
            let py_bool = [1u8];
            let (lo, hi) = d.int_range().unwrap_or((0, 1));
            let out_of_range = if d.is_integer() && hi < i128::from(i64::MAX) {
                Some(int_bytes(DType::Int64, &[hi + 1]))
            } else {
                None
            };
            let below = if d.is_integer() && lo == 0 {
                Some(int_bytes(DType::Int64, &[-1]))
            } else {
                None
            };
            let py_sig = |k: &str| format!("{d}+py{k}");
            s.push(
                op,
                "scalar",
                &py_sig("int"),
                vec![a.clone(), scalar_input(DType::Int64, &py_int)],
                None,
            );
            s.push(
                op,
                "scalar",
                &format!("pyint+{d}"),
                vec![scalar_input(DType::Int64, &py_int), a.clone()],
                None,
            );
            s.push(
                op,
                "scalar",
                &py_sig("float"),
                vec![a.clone(), scalar_input(DType::Float64, &py_float)],
                None,
            );
            s.push(
                op,
                "scalar",
                &py_sig("bool"),
                vec![a.clone(), scalar_input(DType::Bool, &py_bool)],
                None,
            );
            if let Some(v) = out_of_range {
                s.push(
                    op,
                    "scalar",
                    &py_sig("int"),
                    vec![a.clone(), scalar_input(DType::Int64, &v)],
                    None,
                );
            }
            if let Some(v) = below {
                s.push(
                    op,
                    "scalar",
                    &py_sig("int"),
                    vec![a.clone(), scalar_input(DType::Int64, &v)],
                    None,
                );
            }
            // A Python int ≥ 2**63 (uint64 on the wire).
            let big = ((1u64 << 63) + 5).to_le_bytes();
            s.push(
                op,
                "scalar",
                &py_sig("int"),
                vec![a.clone(), scalar_input(DType::UInt64, &big)],
                None,
            );
            if d == DType::Float32 {
                let huge = 1e40f64.to_le_bytes();
                s.push(
                    op,
                    "scalar",
                    &py_sig("float"),
                    vec![a.clone(), scalar_input(DType::Float64, &huge)],
                    None,
                );
            }
        }
        // bcast: every rank pattern, empty and 0-d arrays, mismatches.
        let patterns: &[(&[usize], &[usize])] = &[
            (&[], &[]),
            (&[], &[3]),
            (&[3], &[]),
            (&[1], &[4]),
            (&[4], &[1]),
            (&[2, 1], &[1, 3]),
            (&[2, 3], &[3]),
            (&[3], &[2, 3]),
            (&[2, 1, 4], &[3, 1]),
            (&[1, 1, 1, 1], &[2]),
            (&[2, 1, 2, 1, 1], &[1, 1, 1, 2, 3]),
            (&[1, 2, 1, 2, 1, 2], &[2, 1, 1, 1, 1]),
            (&[0], &[1]),
            (&[0], &[]),
            (&[2, 0], &[1, 1]),
            (&[0, 3], &[3]),
            (&[2], &[3]),
            (&[2, 3], &[2]),
            (&[0], &[2]),
        ];
        for d in [DType::Float64, DType::Int16, DType::UInt8, DType::Bool] {
            for (sa, sb) in patterns {
                s.push(
                    op,
                    "bcast",
                    d.name(),
                    vec![
                        input(d, sa, &random_values(d, size(sa), rng), None),
                        input(d, sb, &random_values(d, size(sb), rng), None),
                    ],
                    None,
                );
            }
        }
        // layout: how inputs lie in memory must not change element results.
        for d in [DType::Float64, DType::Int32, DType::Float32] {
            for (shape, layout_a, layout_b) in binary_layouts() {
                s.push(
                    op,
                    "layout",
                    d.name(),
                    vec![
                        input(d, &shape, &random_values(d, size(&shape), rng), layout_a),
                        input(d, &shape, &random_values(d, size(&shape), rng), layout_b),
                    ],
                    None,
                );
            }
            // A zero-stride (broadcast view) input: rows repeated.
            let row = random_values(d, 4, rng);
            let rows: Vec<u8> = row.iter().chain(&row).chain(&row).copied().collect();
            s.push(
                op,
                "layout",
                d.name(),
                vec![
                    input(
                        d,
                        &[3, 4],
                        &rows,
                        Some(json!({"strides": [0, 1], "offset": 0})),
                    ),
                    input(d, &[3, 4], &random_values(d, 12, rng), Some(json!("F"))),
                ],
                None,
            );
        }
        if op == "ldexp" {
            ldexp_cases(&mut s);
        }
    }
    s
}

/// `ldexp`'s own families (its operands differ in kind, which the
/// same-dtype families above cannot reach): `exp`, every float edge
/// mantissa against exponents around the overflow and subnormal
/// thresholds (int32 and int64, beyond C's int too); `expdtype`, every
/// exponent dtype, refused ones included; `mantissa`, integer and bool
/// mantissas (float16 for bool, int8, uint8); `pybcast`, broadcasting and
/// Python scalars on either side. No randomness, so the other ops' cases
/// do not move.
fn ldexp_cases(s: &mut Suite) {
    const EXPONENTS: &[i128] = &[
        0,
        1,
        -1,
        2,
        -3,
        127,
        128,
        -126,
        -149,
        -150,
        1023,
        1024,
        -1022,
        -1074,
        -1075,
        2000,
        -2000,
        i32::MAX as i128,
        i32::MIN as i128,
    ];
    const WIDE: &[i128] = &[
        5,
        -5,
        1 << 40,
        -(1 << 40),
        i32::MAX as i128 + 1,
        i32::MIN as i128 - 1,
        i64::MAX as i128,
        i64::MIN as i128,
    ];
    let grid = |s: &mut Suite, d: DType, de: DType, exps: &[i128]| {
        let mantissas = edge_values(d);
        let item = d.itemsize();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for m in mantissas.chunks(item) {
            for &e in exps {
                a.extend_from_slice(m);
                b.extend(int_bytes(de, &[e]));
            }
        }
        let pairs = a.len() / item;
        for start in (0..pairs).step_by(8) {
            let end = (start + 8).min(pairs);
            let shape = [end - start];
            s.push(
                "ldexp",
                "exp",
                &format!("{d}+{de}"),
                vec![
                    input(d, &shape, &a[start * item..end * item], None),
                    input(
                        de,
                        &shape,
                        &b[start * de.itemsize()..end * de.itemsize()],
                        None,
                    ),
                ],
                None,
            );
        }
    };
    for d in [DType::Float32, DType::Float64] {
        grid(s, d, DType::Int32, EXPONENTS);
        grid(s, d, DType::Int64, WIDE);
    }
    // Every exponent dtype against a few mantissas.
    let f64s = |v: &[f64]| f64_bytes(DType::Float64, v);
    for d in [DType::Float32, DType::Float64] {
        for de in DType::ALL {
            let edges = edge_values(de);
            let n = edges.len() / de.itemsize();
            let m: Vec<f64> = (0..n).map(|i| [1.5, -0.75, 3.0, 1e-300][i % 4]).collect();
            s.push(
                "ldexp",
                "expdtype",
                &format!("{d}+{de}"),
                vec![
                    input(d, &[n], &f64_bytes(d, &m), None),
                    input(de, &[n], &edges, None),
                ],
                None,
            );
        }
    }
    // Integer and bool mantissas.
    for dm in DType::ALL {
        if dm.is_float() {
            continue;
        }
        let edges = edge_values(dm);
        let n = edges.len() / dm.itemsize();
        let exps: Vec<i128> = (0..n).map(|i| [0, 1, -1, 3, -40][i % 5]).collect();
        for de in [DType::Int32, DType::Int64, DType::UInt64, DType::Float64] {
            let e = if de.is_float() {
                f64s(&exps.iter().map(|&v| v as f64).collect::<Vec<_>>())
            } else {
                let unsigned = |v: i128| if de == DType::UInt64 { v.max(0) } else { v };
                int_bytes(de, &exps.iter().map(|&v| unsigned(v)).collect::<Vec<_>>())
            };
            s.push(
                "ldexp",
                "mantissa",
                &format!("{dm}+{de}"),
                vec![input(dm, &[n], &edges, None), input(de, &[n], &e, None)],
                None,
            );
        }
    }
    // Broadcasting and Python scalars.
    let shapes: &[(&[usize], &[usize])] = &[
        (&[2, 1, 3], &[4, 1]),
        (&[3], &[]),
        (&[], &[5]),
        (&[0], &[1]),
        (&[2, 3], &[2]),
    ];
    for (sa, sb) in shapes {
        let m: Vec<f64> = (0..size(sa)).map(|i| 0.75 * (i as f64 - 2.0)).collect();
        let e: Vec<i128> = (0..size(sb)).map(|i| i as i128 * 300 - 600).collect();
        s.push(
            "ldexp",
            "pybcast",
            "float64+int16",
            vec![
                input(DType::Float64, sa, &f64s(&m), None),
                input(DType::Int16, sb, &int_bytes(DType::Int16, &e), None),
            ],
            None,
        );
    }
    let f32s = f64_bytes(DType::Float32, &[1.0, -3.5, 1e-30, 2e38]);
    for e in [
        3i128,
        -200,
        i32::MAX as i128,
        i32::MAX as i128 + 1,
        i32::MIN as i128,
        i32::MIN as i128 - 1,
    ] {
        s.push(
            "ldexp",
            "pybcast",
            "float32+pyint",
            vec![
                input(DType::Float32, &[4], &f32s, None),
                scalar_input(DType::Int64, &int_bytes(DType::Int64, &[e])),
            ],
            None,
        );
    }
    s.push(
        "ldexp",
        "pybcast",
        "float32+pybool",
        vec![
            input(DType::Float32, &[4], &f32s, None),
            scalar_input(DType::Bool, &[1]),
        ],
        None,
    );
    for de in [DType::Int16, DType::Int64, DType::Bool] {
        let e = if de == DType::Bool {
            vec![1, 0, 1]
        } else {
            int_bytes(de, &[-1, 4, 1])
        };
        for (k, py) in [
            (
                "pyfloat",
                scalar_input(DType::Float64, &1.5f64.to_le_bytes()),
            ),
            (
                "pyint",
                scalar_input(DType::Int64, &int_bytes(DType::Int64, &[3])),
            ),
            ("pybool", scalar_input(DType::Bool, &[1])),
        ] {
            s.push(
                "ldexp",
                "pybcast",
                &format!("{k}+{de}"),
                vec![py, input(de, &[3], &e, None)],
                None,
            );
        }
    }
}

/// Values where float functions change behaviour: overflow and underflow
/// thresholds of exp/exp2 in both widths, the edges of [-1, 1], large
/// arguments for the trigonometric reductions, tiny and huge magnitudes.
const FLOAT_SPECIALS: &[f64] = &[
    709.78,
    709.79,
    -745.13,
    -745.14,
    88.72,
    88.73,
    -103.97,
    -103.98,
    1023.9,
    1024.0,
    -1074.0,
    -1075.0,
    127.9,
    128.0,
    -149.0,
    -150.0,
    0.999_999_9,
    1.000_000_1,
    -0.999_999_9,
    1e-8,
    -1e-8,
    1e-300,
    1e5,
    1e22,
    -1e22,
    std::f64::consts::PI,
    std::f64::consts::FRAC_PI_2,
    2.0,
    10.0,
    100.0,
    0.75,
];

/// The interval a unary float op is most interesting on (for its dense,
/// uniformly sampled cases).
fn unary_domain(op: &str) -> (f64, f64) {
    match op {
        "sqrt" | "log" | "log2" | "log10" => (0.0, 100.0),
        "log1p" => (-1.0, 10.0),
        "arcsin" | "arccos" | "arctanh" => (-1.0, 1.0),
        "arccosh" => (1.0, 100.0),
        "exp" => (-100.0, 100.0),
        "exp2" => (-140.0, 140.0),
        "expm1" | "tanh" => (-5.0, 5.0),
        "sinh" | "cosh" => (-20.0, 20.0),
        "arcsinh" | "cbrt" => (-1000.0, 1000.0),
        "sin" | "cos" | "tan" => (-10.0, 10.0),
        _ => (-10.0, 10.0),
    }
}

fn unary_suite(rng: &mut Rng) -> Suite {
    let mut s = Suite::default();
    for op in UnaryOp::ALL.iter().map(|op| op.name()) {
        // edge: each dtype's edge values, floats also FLOAT_SPECIALS.
        for d in DType::ALL {
            let mut values = edge_values(d);
            let mut per_case = values.len() / d.itemsize();
            if d.is_float() {
                values.extend(f64_bytes(d, FLOAT_SPECIALS));
                values.extend(f64_bytes(
                    d,
                    &FLOAT_SPECIALS.iter().map(|v| -v).collect::<Vec<_>>(),
                ));
                per_case = 8;
            }
            let item = d.itemsize();
            for chunk in values.chunks(per_case * item) {
                let shape = [chunk.len() / item];
                s.push(
                    op,
                    "edge",
                    d.name(),
                    vec![input(d, &shape, chunk, None)],
                    None,
                );
            }
        }
        // dense: uniform samples of the op's domain, and log-uniform
        // magnitudes over the whole range, for the ULP statistics.
        let (lo, hi) = unary_domain(op);
        for d in [DType::Float32, DType::Float64] {
            for k in 0..4 {
                let vals: Vec<f64> = (0..16)
                    .map(|_| {
                        if k < 3 {
                            lo + (hi - lo) * rng.unit()
                        } else {
                            let e = rng.unit() * 60.0 - 30.0;
                            10f64.powf(e) * if rng.chance(1, 2) { -1.0 } else { 1.0 }
                        }
                    })
                    .collect();
                s.push(
                    op,
                    "dense",
                    d.name(),
                    vec![input(d, &[16], &f64_bytes(d, &vals), None)],
                    None,
                );
            }
        }
        // rand: random values and shapes in every dtype.
        for d in DType::ALL {
            for _ in 0..2 {
                let shape = random_shape(rng, 16);
                let v = random_values(d, size(&shape), rng);
                s.push(op, "rand", d.name(), vec![input(d, &shape, &v, None)], None);
            }
        }
        // scalar: a lone Python int (small and >= 2**63), float and bool.
        let py_int = int_bytes(DType::Int64, &[rng.below(7) as i128 - 3]);
        s.push(
            op,
            "scalar",
            "pyint",
            vec![scalar_input(DType::Int64, &py_int)],
            None,
        );
        let big = ((1u64 << 63) + 5).to_le_bytes();
        s.push(
            op,
            "scalar",
            "pyint",
            vec![scalar_input(DType::UInt64, &big)],
            None,
        );
        let py_float = (rng.unit() * 4.0 - 1.0).to_le_bytes();
        s.push(
            op,
            "scalar",
            "pyfloat",
            vec![scalar_input(DType::Float64, &py_float)],
            None,
        );
        s.push(
            op,
            "scalar",
            "pybool",
            vec![scalar_input(DType::Bool, &[1])],
            None,
        );
        // layout and shapes: strided views, 0-d and empty arrays.
        for d in [DType::Float64, DType::Int32, DType::Float32, DType::Int16] {
            for (shape, layout, _) in binary_layouts() {
                let v = random_values(d, size(&shape), rng);
                s.push(
                    op,
                    "layout",
                    d.name(),
                    vec![input(d, &shape, &v, layout)],
                    None,
                );
            }
            let row = random_values(d, 4, rng);
            let rows: Vec<u8> = row.iter().chain(&row).chain(&row).copied().collect();
            let zero_stride = Some(json!({"strides": [0, 1], "offset": 0}));
            s.push(
                op,
                "layout",
                d.name(),
                vec![input(d, &[3, 4], &rows, zero_stride)],
                None,
            );
            for shape in [&[][..], &[0][..], &[2, 0][..]] {
                let v = random_values(d, size(shape), rng);
                s.push(op, "shape", d.name(), vec![input(d, shape, &v, None)], None);
            }
        }
    }
    s
}

fn reversed(shape: &[usize]) -> Value {
    let c = c_strides(shape);
    let strides: Vec<isize> = c.iter().map(|s| -s).collect();
    json!({"strides": strides, "offset": size(shape).saturating_sub(1)})
}

fn stepped(shape: &[usize]) -> Value {
    let strides: Vec<isize> = c_strides(shape).iter().map(|s| s * 2).collect();
    json!({"strides": strides, "offset": 1})
}

fn permuted3(shape: &[usize]) -> Value {
    // Memory order (outer to inner) axis 0, axis 2, axis 1: the innermost
    // axis is neither C's (last) nor F's (first).
    let (b, c) = (shape[1] as isize, shape[2] as isize);
    json!({"strides": [b * c, 1, b], "offset": 0})
}

fn binary_layouts() -> Vec<(Vec<usize>, Option<Value>, Option<Value>)> {
    vec![
        (vec![3, 4], Some(json!("F")), None),
        (vec![3, 4], None, Some(reversed(&[3, 4]))),
        (vec![2, 5], Some(stepped(&[2, 5])), Some(json!("F"))),
        (
            vec![2, 3, 2],
            Some(permuted3(&[2, 3, 2])),
            Some(reversed(&[2, 3, 2])),
        ),
        (vec![7], Some(json!({"strides": [-2], "offset": 13})), None),
    ]
}

/// A scalar of `dtype`'s kind for `initial=`.
fn initial_for(dtype: DType, rng: &mut Rng) -> Value {
    match dtype {
        DType::Float32 | DType::Float64 => {
            value::f64_json(rng.pick(&[0.5, -3.0, 10.0, f64::INFINITY]))
        }
        DType::Bool => json!(rng.pick(&[0, 1, 5])),
        d if d.kind() == fnp_core::Kind::UnsignedInt => json!(rng.pick(&[0, 3, 100])),
        _ => json!(rng.pick(&[0, -3, 7])),
    }
}

fn mask_for(shape: &[usize], rng: &mut Rng) -> Value {
    // Either the full shape or the trailing dimension (broadcast).
    let mshape: Vec<usize> = if shape.len() > 1 && rng.chance(1, 3) {
        shape[shape.len() - 1..].to_vec()
    } else {
        shape.to_vec()
    };
    let data: Vec<bool> = (0..size(&mshape)).map(|_| rng.chance(2, 3)).collect();
    json!({"shape": mshape, "data": data})
}

fn random_axis(ndim: usize, acc: Keywords, rng: &mut Rng) -> Option<Value> {
    match rng.below(6) {
        0 => None,
        1 => Some(Value::Null),
        2 | 3 if ndim > 0 => Some(json!(rng.below(ndim) as i64)),
        4 if ndim > 0 => Some(json!(rng.below(ndim) as i64 - ndim as i64)),
        5 if ndim > 1 && acc.contains(Keyword::AxisTuple) => {
            let a = rng.below(ndim);
            let b = (a + 1 + rng.below(ndim - 1)) % ndim;
            Some(json!([a, b]))
        }
        _ => None,
    }
}

fn reduce_params(op: ReduceOp, dtype: DType, shape: &[usize], rng: &mut Rng) -> Map<String, Value> {
    let acc = op.keywords();
    let mut p = Map::new();
    if let Some(axis) = random_axis(shape.len(), acc, rng) {
        p.insert("axis".into(), axis);
    }
    if acc.contains(Keyword::Keepdims) && rng.chance(1, 3) {
        p.insert("keepdims".into(), json!(true));
    }
    if acc.contains(Keyword::Initial) && rng.chance(1, 4) {
        p.insert("initial".into(), initial_for(dtype, rng));
    }
    if acc.contains(Keyword::Where) && rng.chance(1, 4) {
        p.insert("where".into(), mask_for(shape, rng));
        // min/max without an identity need `initial` with `where`; leave
        // it out sometimes to keep NumPy's ValueError covered.
        if acc.contains(Keyword::Initial) && !p.contains_key("initial") && rng.chance(3, 4) {
            p.insert("initial".into(), initial_for(dtype, rng));
        }
    }
    if acc.contains(Keyword::Dtype) && rng.chance(1, 4) {
        // A float input cast to an integer dtype is C's undefined
        // behaviour for out-of-range values (NumPy's answer is the CPU's),
        // so random float inputs only get float accumulators; the `edge`
        // family has one in-range float-to-int case.
        let to = if dtype.is_float() {
            rng.pick(&[DType::Float64, DType::Float32, dtype])
        } else {
            rng.pick(&[
                DType::Float64,
                DType::Int64,
                DType::Float32,
                dtype,
                DType::Int8,
            ])
        };
        p.insert("dtype".into(), json!(to.name()));
    }
    if acc.contains(Keyword::Ddof) && rng.chance(1, 2) {
        p.insert(
            "ddof".into(),
            value::f64_json(rng.pick(&[0.0, 1.0, 2.0, 0.5])),
        );
    }
    p
}

fn reduce_suite(rng: &mut Rng) -> Suite {
    let mut s = Suite::default();
    // Every reduction of the op table, with the keywords its row accepts.
    for &reduce in ReduceOp::ALL {
        let (op, acc) = (reduce.name(), reduce.keywords());
        for d in DType::ALL {
            let sig = d.name();
            // rand
            for _ in 0..6 {
                let shape = random_shape(rng, 16);
                let params = reduce_params(reduce, d, &shape, rng);
                s.push(
                    op,
                    "rand",
                    sig,
                    vec![input(d, &shape, &random_values(d, size(&shape), rng), None)],
                    Some(Value::Object(params)),
                );
            }
            // edge: the dtype's edge values in one array, reduced whole and
            // per row.
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            s.push(op, "edge", sig, vec![input(d, &[n], &edges, None)], None);
            if n % 2 == 0 {
                s.push(
                    op,
                    "edge",
                    sig,
                    vec![input(d, &[2, n / 2], &edges, None)],
                    Some(json!({"axis": 1})),
                );
            }
            // Overflow: the largest values repeated.
            let big = if d.is_float() {
                f64_bytes(
                    d,
                    &[if d == DType::Float32 {
                        f32::MAX as f64
                    } else {
                        f64::MAX
                    }; 3],
                )
            } else {
                let (_, hi) = d.int_range().unwrap_or((0, 1));
                int_bytes(d, &[hi, hi, hi])
            };
            s.push(op, "edge", sig, vec![input(d, &[3], &big, None)], None);
            if acc.contains(Keyword::Dtype) {
                s.push(
                    op,
                    "edge",
                    sig,
                    vec![input(d, &[3], &big, None)],
                    Some(json!({"dtype": d.name()})),
                );
                if d.is_float() {
                    // In range, so the truncating cast is well defined.
                    let small = f64_bytes(d, &[1.5, -2.5, 3.75]);
                    s.push(
                        op,
                        "edge",
                        sig,
                        vec![input(d, &[3], &small, None)],
                        Some(json!({"dtype": "int32"})),
                    );
                }
            }
            // Empty arrays: identity or ValueError.
            s.push(op, "edge", sig, vec![input(d, &[0], &[], None)], None);
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[2, 0], &[], None)],
                Some(json!({"axis": 1})),
            );
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[0, 2], &[], None)],
                Some(json!({"axis": 1})),
            );
            // 0-d input and size-1 dims.
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[], &random_values(d, 1, rng), None)],
                None,
            );
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[1, 3, 1], &random_values(d, 3, rng), None)],
                Some(json!({"axis": 2})),
            );
            // Bad axes: AxisError, duplicate axis, tuple where only an int goes.
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[2, 2], &random_values(d, 4, rng), None)],
                Some(json!({"axis": 2})),
            );
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[2, 2], &random_values(d, 4, rng), None)],
                Some(json!({"axis": -3})),
            );
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[2, 2], &random_values(d, 4, rng), None)],
                Some(json!({"axis": [0, -2]})),
            );
            if !acc.contains(Keyword::AxisTuple) {
                s.push(
                    op,
                    "edge",
                    sig,
                    vec![input(d, &[2, 2], &random_values(d, 4, rng), None)],
                    Some(json!({"axis": [0, 1]})),
                );
            }
            if acc.contains(Keyword::Where) && acc.contains(Keyword::Initial) {
                // where= without initial (ValueError for min/max).
                s.push(
                    op,
                    "edge",
                    sig,
                    vec![input(d, &[4], &random_values(d, 4, rng), None)],
                    Some(json!({"where": {"shape": [4], "data": [true, false, true, false]}})),
                );
            }
            if acc.contains(Keyword::Ddof) {
                for ddof in [3.0, 5.0] {
                    s.push(
                        op,
                        "edge",
                        sig,
                        vec![input(d, &[3], &random_values(d, 3, rng), None)],
                        Some(json!({"ddof": value::f64_json(ddof)})),
                    );
                }
            }
        }
        // layout and pairwise: the memory order and the length decide
        // NumPy's summation order. Arrays this size are stored as seeded
        // `generate` descriptors to keep the corpus small.
        let order_sensitive = matches!(
            op,
            "sum" | "mean" | "var" | "std" | "nansum" | "nanmean" | "cumsum"
        );
        for d in [DType::Float32, DType::Float64, DType::Int32] {
            let sig = d.name();
            let layouts: Vec<(Vec<usize>, Value)> = if order_sensitive {
                vec![
                    (vec![9, 13], json!("F")),
                    (vec![9, 13], reversed(&[9, 13])),
                    (vec![9, 13], stepped(&[9, 13])),
                    (vec![4, 5, 6], permuted3(&[4, 5, 6])),
                    (vec![4, 5, 6], json!("F")),
                ]
            } else {
                vec![
                    (vec![3, 4], json!("F")),
                    (vec![2, 3, 2], reversed(&[2, 3, 2])),
                ]
            };
            for (shape, layout) in layouts {
                let data = generated(d, &shape, Some(layout), rng);
                for axis in [Value::Null, json!(0), json!(-1)] {
                    s.push(
                        op,
                        "layout",
                        sig,
                        vec![data.clone()],
                        Some(json!({"axis": axis})),
                    );
                }
            }
            if !order_sensitive {
                continue;
            }
            for n in [7usize, 8, 9, 16, 17, 127, 128, 129, 200, 257, 1000] {
                s.push(
                    op,
                    "pairwise",
                    sig,
                    vec![generated(d, &[n], None, rng)],
                    None,
                );
            }
            for shape in [[8usize, 37], [37, 8]] {
                s.push(
                    op,
                    "pairwise",
                    sig,
                    vec![generated(d, &shape, None, rng)],
                    Some(json!({"axis": 0})),
                );
            }
        }
    }
    zero_d_axes(&mut s);
    s
}

/// 0-d arrays under every `axis=` spelling: NumPy lets the int 0 or -1
/// mean the whole array for most reductions (not mean/var/std, nor
/// nanmean of ints), refuses other ints and non-empty tuples, and takes
/// `()` everywhere but argmin-like ops.
fn zero_d_axes(s: &mut Suite) {
    // Every reduction of the op table, with the keywords its row accepts.
    for &reduce in ReduceOp::ALL {
        let (op, acc) = (reduce.name(), reduce.keywords());
        let mut axes = vec![json!(0), json!(-1), json!(1), json!(-2)];
        if acc.contains(Keyword::AxisTuple) {
            axes.extend([json!([0]), json!([-1]), json!([]), json!([0, 0])]);
        }
        for d in [
            DType::Float64,
            DType::Float32,
            DType::Int32,
            DType::UInt8,
            DType::Bool,
        ] {
            let value = if d.is_float() {
                f64_bytes(d, &[-2.5])
            } else {
                int_bytes(d, &[1])
            };
            for axis in &axes {
                let mut params = Map::new();
                params.insert("axis".into(), axis.clone());
                s.push(
                    op,
                    "zero_d",
                    d.name(),
                    vec![input(d, &[], &value, None)],
                    Some(Value::Object(params.clone())),
                );
                if acc.contains(Keyword::Keepdims) && axis == &json!(0) {
                    params.insert("keepdims".into(), json!(true));
                    s.push(
                        op,
                        "zero_d",
                        d.name(),
                        vec![input(d, &[], &value, None)],
                        Some(Value::Object(params)),
                    );
                }
            }
        }
    }
    // With `where=`, mean/var/std (and nanmean of ints) count the items by
    // a ufunc reduction over the mask, which takes 0 and -1 on a 0-d array
    // like the other reductions do; a False mask leaves nothing to reduce.
    // Every reduction of the op table, with the keywords its row accepts.
    for &reduce in ReduceOp::ALL {
        let (op, acc) = (reduce.name(), reduce.keywords());
        if !acc.contains(Keyword::Where) {
            continue;
        }
        let mut axes = vec![json!(0), json!(-1), json!(1), Value::Null];
        if acc.contains(Keyword::AxisTuple) {
            axes.extend([json!([]), json!([0])]);
        }
        for d in [DType::Float64, DType::Float32, DType::Int32, DType::Bool] {
            let value = if d.is_float() {
                f64_bytes(d, &[-2.5])
            } else {
                int_bytes(d, &[1])
            };
            for mask in [false, true] {
                for axis in &axes {
                    let mut params = Map::new();
                    if !axis.is_null() {
                        params.insert("axis".into(), axis.clone());
                    }
                    params.insert("where".into(), json!({"shape": [], "data": [mask]}));
                    s.push(
                        op,
                        "zero_d_where",
                        d.name(),
                        vec![input(d, &[], &value, None)],
                        Some(Value::Object(params)),
                    );
                }
            }
        }
    }
    // NaN, where NumPy's NaN-aware reductions differ from the plain ones.
    for op in ["nanmean", "nansum", "nanmax", "argmax", "max"] {
        for axis in [json!(0), json!(-1)] {
            s.push(
                op,
                "zero_d",
                "float64",
                vec![input(
                    DType::Float64,
                    &[],
                    &f64_bytes(DType::Float64, &[f64::NAN]),
                    None,
                )],
                Some(json!({"axis": axis})),
            );
        }
    }
}

/// A seeded `generate` input: finite values with a range that makes float
/// sums round differently in different orders.
fn generated(dtype: DType, shape: &[usize], layout: Option<Value>, rng: &mut Rng) -> Value {
    let seed = rng.next_u64() >> 11;
    let (low, high) = if dtype.is_float() {
        let (lo, hi) = rng.pick(&[(-1.0, 1.0), (0.0, 1e6), (-1e-3, 1e3), (-3.5, 2.25)]);
        (value::f64_json(lo), value::f64_json(hi))
    } else {
        (json!(-1000), json!(1000))
    };
    let mut m = Map::new();
    m.insert("dtype".into(), json!(dtype.name()));
    m.insert("shape".into(), json!(shape));
    m.insert(
        "generate".into(),
        json!({"seed": seed, "low": low, "high": high}),
    );
    if let Some(l) = layout {
        m.insert("layout".into(), l);
    }
    Value::Object(m)
}

fn large_suite(seed: u64) -> Suite {
    let mut s = Suite::default();
    let mut k = 0u64;
    let mut gen = |dtype: DType, shape: &[usize], low: Value, high: Value| {
        k += 1;
        json!({"dtype": dtype.name(), "shape": shape,
               "generate": {"seed": seed.wrapping_mul(1000).wrapping_add(k), "low": low, "high": high}})
    };
    let ops = [
        "sum", "mean", "var", "std", "nansum", "nanmean", "min", "max", "argmax", "argmin", "prod",
    ];
    for op in ops {
        for d in [DType::Float32, DType::Float64] {
            let (lo, hi) = if op == "prod" {
                (0.999, 1.001)
            } else {
                (-1.0, 1.0)
            };
            for (shape, axis) in [
                (vec![120_000], Value::Null),
                (vec![400, 300], Value::Null),
                (vec![400, 300], json!(0)),
                (vec![400, 300], json!(-1)),
            ] {
                let x = gen(d, &shape, value::f64_json(lo), value::f64_json(hi));
                s.push(op, "large", d.name(), vec![x], Some(json!({"axis": axis})));
            }
            if d == DType::Float32 && matches!(op, "sum" | "mean") {
                // A cast to float64 makes NumPy chunk the sum in 8192s.
                let x = gen(d, &[120_000], value::f64_json(lo), value::f64_json(hi));
                s.push(
                    op,
                    "large",
                    d.name(),
                    vec![x],
                    Some(json!({"dtype": "float64"})),
                );
            }
        }
        if matches!(op, "sum" | "prod" | "min" | "max" | "argmax" | "mean") {
            for d in [DType::Int32, DType::Int64, DType::UInt8, DType::Bool] {
                let (lo, hi) = match d {
                    DType::UInt8 => (json!(0), json!(255)),
                    DType::Bool => (json!(0), json!(1)),
                    _ => (json!(-100_000), json!(100_000)),
                };
                let x = gen(d, &[250, 500], lo, hi);
                s.push(
                    op,
                    "large",
                    d.name(),
                    vec![x],
                    Some(json!({"axis": Value::Null})),
                );
            }
        }
    }
    s
}

/// The ufunc methods of the `methods` suite, as NumPy spells them after
/// the ufunc's name (`add.reduce`).
const METHODS: [&str; 2] = ["reduce", "accumulate"];

/// How NumPy's type resolver treats a binary ufunc on two arrays of one
/// dtype, as fnp-core's op table says (only to share out the cases: a
/// refused or float16 combination needs few).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loops {
    /// A loop NumPy and fnp both have.
    Found,
    /// NumPy answers in float16 (float functions of bool, int8, uint8).
    Float16,
    /// No loop: a TypeError whatever the values.
    Refused,
}

fn loops(op: BinaryOp, dtype: DType) -> Loops {
    let t = OperandType::Array(dtype);
    match op.resolve(t, t) {
        Ok(_) => Loops::Found,
        Err(fnp_core::Error::Float16) => Loops::Float16,
        Err(_) => Loops::Refused,
    }
}

/// `reduce`'s `dtype=`: a float input only gets float dtypes (a float cast
/// to an integer is C's undefined behaviour out of range), an integer or
/// bool input int64, float64 or its own.
fn method_dtype(dtype: DType, rng: &mut Rng) -> DType {
    if dtype.is_float() {
        rng.pick(&[DType::Float64, DType::Float32, dtype])
    } else {
        rng.pick(&[DType::Int64, DType::Float64, dtype])
    }
}

/// Keywords of `ufunc.reduce(array, axis=0, dtype=None, out=None,
/// keepdims=False, initial=<no value>, where=True)`. An axis tuple on a
/// ufunc NumPy does not call reorderable (subtract, …) is a ValueError.
fn method_reduce_params(dtype: DType, shape: &[usize], rng: &mut Rng) -> Map<String, Value> {
    let ndim = shape.len();
    let mut p = Map::new();
    let axis = match rng.below(8) {
        2 => Some(Value::Null),
        3 | 4 if ndim > 0 => Some(json!(rng.below(ndim) as i64)),
        5 if ndim > 0 => Some(json!(rng.below(ndim) as i64 - ndim as i64)),
        6 if ndim > 1 => {
            let a = rng.below(ndim);
            let b = (a + 1 + rng.below(ndim - 1)) % ndim;
            Some(json!([a, b]))
        }
        _ => None,
    };
    if let Some(axis) = axis {
        p.insert("axis".into(), axis);
    }
    if rng.chance(1, 4) {
        p.insert("keepdims".into(), json!(true));
    }
    if rng.chance(1, 5) {
        p.insert("initial".into(), initial_for(dtype, rng));
    }
    if rng.chance(1, 5) {
        p.insert("where".into(), mask_for(shape, rng));
        // Ufuncs without an identity need `initial` with `where`; leave it
        // out sometimes to keep NumPy's ValueError covered.
        if !p.contains_key("initial") && rng.chance(3, 4) {
            p.insert("initial".into(), initial_for(dtype, rng));
        }
    }
    if rng.chance(1, 8) {
        p.insert("dtype".into(), json!(method_dtype(dtype, rng).name()));
    }
    p
}

/// Keywords of `ufunc.accumulate(array, axis=0, dtype=None, out=None)`.
fn method_accumulate_params(dtype: DType, shape: &[usize], rng: &mut Rng) -> Map<String, Value> {
    let ndim = shape.len();
    let mut p = Map::new();
    match rng.below(4) {
        1 if ndim > 0 => {
            p.insert("axis".into(), json!(rng.below(ndim) as i64));
        }
        2 if ndim > 0 => {
            p.insert("axis".into(), json!(rng.below(ndim) as i64 - ndim as i64));
        }
        _ => {}
    }
    if rng.chance(1, 8) {
        p.insert("dtype".into(), json!(method_dtype(dtype, rng).name()));
    }
    p
}

/// Whether NumPy 2.4's own answer for `ufunc.reduce` of `d` depends on
/// the CPU: its AVX-512 loops of float `power` (also `float_power`'s),
/// `arctan2` and `ldexp` read the accumulator once when the reduced axis
/// is innermost, so
/// `np.power.reduce([2., 3., 2.])` is `2. ** 2.` (4.0) on this machine and
/// 64.0 (the left fold, what fnp computes) on CPUs without AVX-512. The
/// corpus reduces those only where every CPU agrees: down the columns of
/// a 2-d array (an elementwise loop per row) and over two elements.
fn numpy_misreduces(ufunc: BinaryOp, d: DType) -> bool {
    matches!(
        ufunc,
        BinaryOp::Power | BinaryOp::FloatPower | BinaryOp::Arctan2 | BinaryOp::Ldexp
    ) && fnp_core::method_dtype(ufunc, fnp_core::Method::Reduce, d, None).is_ok_and(DType::is_float)
}

/// `methods.json`: NumPy's ufunc methods `reduce` and `accumulate` of every
/// binary ufunc of the op table, in every dtype (op `add.reduce`,
/// `maximum.accumulate`, …). Families: `rand` (random small shapes, values
/// and keywords), `edge` (the dtype's edge values, whole and per row; for
/// a few ufuncs also the calls NumPy refuses: an axis tuple to a
/// non-reorderable ufunc, accumulate of a 0-d array, over `None` or a
/// tuple), `empty` (identity or ValueError), `layout` (reversed and
/// strided views). Its own seeded generator, so the other files do not
/// move.
fn methods_suite(seed: u64) -> Suite {
    let mut rng = Rng::new(seed ^ 0x004d_4554_484f_4453);
    let rng = &mut rng;
    let mut s = Suite::default();
    for &ufunc in BinaryOp::ALL {
        for method in METHODS {
            let op = format!("{}.{method}", ufunc.name());
            let op = op.as_str();
            let reduce = method == "reduce";
            let params = |d: DType, shape: &[usize], rng: &mut Rng| {
                Some(Value::Object(if reduce {
                    method_reduce_params(d, shape, rng)
                } else {
                    method_accumulate_params(d, shape, rng)
                }))
            };
            for d in DType::ALL {
                if reduce && numpy_misreduces(ufunc, d) {
                    // Only where NumPy's answer does not depend on the CPU:
                    // down the columns (an elementwise loop per row) and
                    // over two elements.
                    let sig = d.name();
                    for shape in [[3usize, 4], [2, 3]] {
                        let v = random_values(d, size(&shape), rng);
                        let p = json!({"axis": 0});
                        s.push(
                            op,
                            "columns",
                            sig,
                            vec![input(d, &shape, &v, None)],
                            Some(p),
                        );
                    }
                    let edges = edge_values(d);
                    let n = edges.len() / d.itemsize();
                    if n % 2 == 0 {
                        let p = json!({"axis": 0});
                        let shape = [2, n / 2];
                        s.push(
                            op,
                            "edge",
                            sig,
                            vec![input(d, &shape, &edges, None)],
                            Some(p),
                        );
                    }
                    let v = random_values(d, 2, rng);
                    s.push(op, "pair", sig, vec![input(d, &[2], &v, None)], None);
                    continue;
                }
                let sig = d.name();
                let found = loops(ufunc, d);
                // rand: small random shapes (0-d only for reduce: a 0-d
                // accumulate is an error, below).
                let count = match found {
                    Loops::Found if reduce && d.is_float() => 3,
                    Loops::Found => 2,
                    Loops::Float16 | Loops::Refused => 1,
                };
                for _ in 0..count {
                    let shape = loop {
                        let shape = random_shape(rng, 16);
                        if reduce || !shape.is_empty() {
                            break shape;
                        }
                    };
                    let p = params(d, &shape, rng);
                    let v = random_values(d, size(&shape), rng);
                    s.push(op, "rand", sig, vec![input(d, &shape, &v, None)], p);
                }
                // edge: the dtype's edge values in one array, and for
                // reduce per row.
                let edges = edge_values(d);
                let n = edges.len() / d.itemsize();
                s.push(op, "edge", sig, vec![input(d, &[n], &edges, None)], None);
                if found == Loops::Refused {
                    continue;
                }
                if reduce && n % 2 == 0 && found == Loops::Found {
                    // Floats in three rows, so not every row holds a NaN.
                    let rows = if n % 6 == 0 { 3 } else { 2 };
                    s.push(
                        op,
                        "edge",
                        sig,
                        vec![input(d, &[rows, n / rows], &edges, None)],
                        Some(json!({"axis": 1})),
                    );
                }
                // empty: reduce gives the identity or a ValueError.
                if reduce {
                    s.push(op, "empty", sig, vec![input(d, &[0], &[], None)], None);
                }
                if matches!(d, DType::Float64 | DType::Int32) {
                    s.push(
                        op,
                        "empty",
                        sig,
                        vec![input(d, &[2, 0], &[], None)],
                        Some(json!({"axis": 1})),
                    );
                }
                // layout: reversed and strided views.
                if found != Loops::Found {
                    continue;
                }
                let (shape, layout, axes) = match (d, reduce) {
                    (DType::Float64, true) => {
                        (vec![3, 4], reversed(&[3, 4]), vec![json!(1), Value::Null])
                    }
                    (DType::Int32, true) => (
                        vec![2, 3, 2],
                        stepped(&[2, 3, 2]),
                        vec![json!(-1), json!(0)],
                    ),
                    (DType::Float64, false) => (vec![3, 4], stepped(&[3, 4]), vec![json!(1)]),
                    (DType::Int32, false) => (vec![4, 3], reversed(&[4, 3]), vec![json!(0)]),
                    _ => continue,
                };
                let axis = rng.pick(&[0, 1][..axes.len()]);
                let v = random_values(d, size(&shape), rng);
                s.push(
                    op,
                    "layout",
                    sig,
                    vec![input(d, &shape, &v, Some(layout))],
                    Some(json!({"axis": axes[axis]})),
                );
            }
            // Calls NumPy refuses whatever the values.
            let d = DType::Float64;
            let v = f64_bytes(d, &[1.5, -2.0, 0.25, 3.0, -0.5, 8.0]);
            let a = input(d, &[2, 3], &v, None);
            if reduce {
                // An axis tuple: fine for reorderable ufuncs, a ValueError
                // for the others.
                s.push(op, "edge", d.name(), vec![a], Some(json!({"axis": [0, 1]})));
            } else if matches!(ufunc.name(), "add" | "subtract" | "maximum") {
                // A 0-d array, `axis=None` and an axis tuple.
                s.push(
                    op,
                    "edge",
                    d.name(),
                    vec![input(d, &[], &v[..8], None)],
                    None,
                );
                for axis in [Value::Null, json!([0, 1])] {
                    s.push(
                        op,
                        "edge",
                        d.name(),
                        vec![a.clone()],
                        Some(json!({"axis": axis})),
                    );
                }
            }
        }
    }
    reduceat_cases(&mut s, rng);
    outer_cases(&mut s, rng);
    at_cases(&mut s, rng);
    method_out_cases(&mut s, rng);
    s
}

/// `out=` on the methods: the result's own dtype, another one (the loop
/// is then NumPy's pick for the out's dtype and the array's, the result
/// cast into out), in place, wrong shapes and counts; `outer` with the
/// ufunc call's keywords (`out=`, `where=`, `casting=`, `dtype=`,
/// `signature=`).
fn method_out_cases(s: &mut Suite, rng: &mut Rng) {
    let params = keyword_params;
    let arr = OperandType::Array;
    for &op in BinaryOp::ALL {
        let name = op.name();
        // A dtype the op has its own loop in (float64, int32, bool, uint8).
        let Some((d, _)) = keyword_dtype(|d| op.resolve(arr(d), arr(d))) else {
            continue;
        };
        let sig = d.name();
        let a = input(d, &[2, 3], &random_values(d, 6, rng), None);
        let reduce = format!("{name}.reduce");
        let accumulate = format!("{name}.accumulate");
        let reduceat = format!("{name}.reduceat");
        let outer = format!("{name}.outer");
        let indices = input(DType::Int64, &[2], &int_bytes(DType::Int64, &[0, 2]), None);
        let natural = fnp_core::method_dtype(op, fnp_core::Method::Reduce, d, None).unwrap_or(d);
        for to in [natural, DType::Float64, DType::Int16, DType::Float32] {
            let tag = format!("{sig}_{}", to.name());
            s.push(
                &reduce,
                "out",
                &tag,
                vec![a.clone()],
                params(&[("axis", json!(0)), ("out", out_array(to, &[3], rng))]),
            );
            s.push(
                &accumulate,
                "out",
                &tag,
                vec![a.clone()],
                params(&[("axis", json!(1)), ("out", out_array(to, &[2, 3], rng))]),
            );
            s.push(
                &reduceat,
                "out",
                &tag,
                vec![a.clone(), indices.clone()],
                params(&[("axis", json!(1)), ("out", out_array(to, &[2, 2], rng))]),
            );
        }
        // keepdims, and axis=None into a 0-d out; down the columns only
        // where NumPy's own answer depends on the CPU.
        let (axis, kept) = if numpy_misreduces(op, d) {
            (0, [1usize, 3])
        } else {
            (1, [2, 1])
        };
        s.push(
            &reduce,
            "out",
            sig,
            vec![a.clone()],
            params(&[
                ("axis", json!(axis)),
                ("keepdims", json!(true)),
                ("out", out_array(natural, &kept, rng)),
            ]),
        );
        if !numpy_misreduces(op, d) {
            s.push(
                &reduce,
                "out",
                sig,
                vec![a.clone()],
                params(&[("axis", Value::Null), ("out", out_array(natural, &[], rng))]),
            );
        }
        if d == natural {
            s.push(
                &accumulate,
                "inplace",
                sig,
                vec![a.clone()],
                params(&[("axis", json!(0)), ("out", json!({"input": 0}))]),
            );
        }
        // outer: the ufunc call's keywords.
        let b = input(d, &[2], &random_values(d, 2, rng), None);
        let row = input(d, &[3], &random_values(d, 3, rng), None);
        let r = op.resolve(arr(d), arr(d)).unwrap_or(d);
        for to in [r, DType::Float64, DType::Int8] {
            s.push(
                &outer,
                "out",
                &format!("{sig}_{}", to.name()),
                vec![row.clone(), b.clone()],
                params(&[("out", out_array(to, &[3, 2], rng))]),
            );
        }
        s.push(
            &outer,
            "where",
            sig,
            vec![row.clone(), b.clone()],
            params(&[
                ("out", out_array(r, &[3, 2], rng)),
                ("where", where_mask(&[2], rng)),
            ]),
        );
        s.push(
            &outer,
            "dtype",
            sig,
            vec![row.clone(), b.clone()],
            params(&[("dtype", json!("float32"))]),
        );
        s.push(
            &outer,
            "signature",
            sig,
            vec![row, b],
            params(&[("signature", json!([null, "float64", null]))]),
        );
    }
    // NumPy's errors: an out of the wrong shape or rank, two outs, a
    // keyword reduce does not take, an out a comparison cannot fill.
    let f = DType::Float64;
    let a = input(
        f,
        &[2, 3],
        &f64_bytes(f, &[1.5, -2.0, 0.25, 3.0, -0.5, 1e300]),
        None,
    );
    let wrong: [(&str, Value); 6] = [
        (
            "add.reduce",
            json!({"axis": 0, "out": out_array(f, &[2], rng)}),
        ),
        (
            "add.reduce",
            json!({"axis": 0, "out": out_array(f, &[1, 3], rng)}),
        ),
        (
            "add.reduce",
            json!({"axis": 0, "out": [out_array(f, &[3], rng), out_array(f, &[3], rng)]}),
        ),
        (
            "add.reduce",
            json!({"axis": 0, "out": out_array(DType::Int32, &[3], rng), "casting": "unsafe"}),
        ),
        (
            "greater.reduce",
            json!({"axis": 0, "out": out_array(DType::Int8, &[3], rng)}),
        ),
        (
            "add.accumulate",
            json!({"axis": 1, "out": out_array(f, &[3, 2], rng)}),
        ),
    ];
    for (op, p) in wrong {
        s.push(op, "out_error", "float64", vec![a.clone()], Some(p));
    }
    // Casts with flags: float64 sums into float32 (overflow) and int32
    // (NumPy's loop is float64, the result cast: invalid), dtype= and out=
    // of different dtypes, a masked reduction with initial=.
    for (op, p) in [
        (
            "add.reduce",
            json!({"axis": 0, "out": out_array(DType::Float32, &[3], rng)}),
        ),
        (
            "add.reduce",
            json!({"axis": 0, "out": out_array(DType::Int32, &[3], rng)}),
        ),
        (
            "multiply.reduce",
            json!({"axis": 1, "out": out_array(DType::Int64, &[2], rng)}),
        ),
        (
            "add.accumulate",
            json!({"axis": 0, "out": out_array(DType::Int32, &[2, 3], rng)}),
        ),
        (
            "add.reduce",
            json!({"axis": 0, "dtype": "float32", "out": out_array(f, &[3], rng)}),
        ),
        (
            "maximum.reduce",
            json!({"axis": 0, "initial": 0, "where": {"dtype": "bool", "shape": [3], "data": [true, false, true]}, "out": out_array(f, &[3], rng)}),
        ),
        (
            "maximum.reduce",
            json!({"axis": 0, "out": out_array(DType::Int32, &[3], rng)}),
        ),
        (
            "subtract.reduce",
            json!({"axis": 1, "out": out_array(DType::Float32, &[2], rng)}),
        ),
    ] {
        s.push(op, "out_cast", "float64", vec![a.clone()], Some(p));
    }
}

/// `indices` for `reduceat` over an axis of `n`: sorted slices, a
/// non-increasing pair (the element alone), and where NumPy's own answer
/// depends on the CPU (see [`numpy_misreduces`]) only slices of at most two
/// elements.
fn reduceat_indices(n: usize, short: bool, rng: &mut Rng) -> Vec<i128> {
    if short {
        // Steps of 1 or 2 from 0, ending within two of the end.
        let mut v = vec![0i128];
        while (*v.last().unwrap_or(&0) as usize) + 2 < n {
            let step = 1 + rng.below(2) as i128;
            v.push(v.last().unwrap_or(&0) + step);
        }
        return v;
    }
    let m = 1 + rng.below(4);
    let mut v: Vec<i128> = (0..m).map(|_| rng.below(n) as i128).collect();
    if rng.chance(2, 3) {
        v.sort_unstable();
    }
    v
}

fn reduceat_cases(s: &mut Suite, rng: &mut Rng) {
    let int64 = |v: &[i128]| input(DType::Int64, &[v.len()], &int_bytes(DType::Int64, v), None);
    for &ufunc in BinaryOp::ALL {
        let op = format!("{}.reduceat", ufunc.name());
        let op = op.as_str();
        for d in DType::ALL {
            let sig = d.name();
            let short = numpy_misreduces(ufunc, d);
            let count = if loops(ufunc, d) == Loops::Found {
                2
            } else {
                1
            };
            // rand: 1-d, or 2-d along either axis.
            for k in 0..count {
                let (shape, axis): (Vec<usize>, Option<i64>) = if k == 0 {
                    (vec![2 + rng.below(7)], None)
                } else {
                    let shape = vec![2 + rng.below(3), 2 + rng.below(3)];
                    (shape, Some(rng.pick(&[0i64, 1, -1])))
                };
                let along = match axis {
                    Some(a) => shape[a.rem_euclid(2) as usize],
                    None => shape[0],
                };
                let v = random_values(d, size(&shape), rng);
                let ind = reduceat_indices(along, short, rng);
                let p = axis.map(|a| json!({"axis": a}));
                s.push(
                    op,
                    "rand",
                    sig,
                    vec![input(d, &shape, &v, None), int64(&ind)],
                    p,
                );
            }
            // edge: the edge values, a non-increasing pair included.
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            let ind: Vec<i128> = if short {
                reduceat_indices(n, true, rng)
            } else {
                vec![0, n as i128 / 2, 1, n as i128 - 1]
            };
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[n], &edges, None), int64(&ind)],
                None,
            );
        }
        // Errors and empties, in float64 (int32 for the integer-only ops).
        let d = if loops(ufunc, DType::Float64) == Loops::Found {
            DType::Float64
        } else {
            DType::Int32
        };
        let v = random_values(d, 6, rng);
        let a = input(d, &[6], &v, None);
        let a2 = input(d, &[2, 3], &v, None);
        for (ind, p) in [
            (vec![0, 6], None),
            (vec![-1], None),
            (vec![], None),
            (vec![0, 1], Some(json!({"axis": null}))),
            (vec![1], Some(json!({"axis": [1]}))),
        ] {
            let arr = if p.is_some() { a2.clone() } else { a.clone() };
            s.push(op, "error", d.name(), vec![arr, int64(&ind)], p);
        }
        let empty = input(d, &[0], &[], None);
        s.push(op, "empty", d.name(), vec![empty, int64(&[])], None);
        let floats = input(
            DType::Float64,
            &[1],
            &f64_bytes(DType::Float64, &[0.0]),
            None,
        );
        s.push(op, "error", d.name(), vec![a, floats], None);
    }
}

fn outer_cases(s: &mut Suite, rng: &mut Rng) {
    for &ufunc in BinaryOp::ALL {
        let op = format!("{}.outer", ufunc.name());
        let op = op.as_str();
        for d in DType::ALL {
            let sig = d.name();
            let count = if loops(ufunc, d) == Loops::Found {
                2
            } else {
                1
            };
            for _ in 0..count {
                let sa = random_shape(rng, 6);
                let sb = if sa.len() > 2 {
                    vec![2]
                } else {
                    random_shape(rng, 6)
                };
                let va = random_values(d, size(&sa), rng);
                let vb = random_values(d, size(&sb), rng);
                s.push(
                    op,
                    "rand",
                    sig,
                    vec![input(d, &sa, &va, None), input(d, &sb, &vb, None)],
                    None,
                );
            }
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            let small = random_values(d, 3, rng);
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[n], &edges, None), input(d, &[3], &small, None)],
                None,
            );
        }
        // A Python scalar becomes an array of its own dtype (int8 with 3
        // is int64 here, unlike the ufunc call).
        let i8s = input(DType::Int8, &[2], &int_bytes(DType::Int8, &[1, -7]), None);
        let three = scalar_input(DType::Int64, &int_bytes(DType::Int64, &[3]));
        s.push(op, "scalar", "int8", vec![i8s, three], None);
    }
}

/// `at`'s indices into an axis of `n`, negative ones included: with
/// repeats, or each row at most once (`distinct`) where applying the op
/// twice would compound a rounding difference (a transcendental) or leave
/// the range a cast back is defined in.
fn at_indices(n: usize, distinct: bool, rng: &mut Rng) -> Vec<i128> {
    let rows: Vec<usize> = if distinct {
        let mut all: Vec<usize> = (0..n).collect();
        for k in (1..all.len()).rev() {
            all.swap(k, rng.below(k + 1));
        }
        all.truncate(1 + rng.below(n));
        all
    } else {
        (0..1 + rng.below(6)).map(|_| rng.below(n)).collect()
    };
    rows.into_iter()
        .map(|i| {
            if rng.chance(1, 3) {
                i as i128 - n as i128
            } else {
                i as i128
            }
        })
        .collect()
}

/// Whether NumPy's `at` stores a float result into an integer array: C's
/// float-to-integer cast, undefined out of range (NaN, inf, overflow), so
/// those cases use values whose results are small (see [`at_safe`]).
fn float_into_int(a: DType, result: Result<DType, fnp_core::Error>) -> bool {
    a.is_integer() && result.is_ok_and(|r| r.is_float())
}

/// Whether the op's float results are bit-exact (repeated indices cannot
/// compound a rounding difference).
fn exact(accuracy: fnp_core::precision::Accuracy) -> bool {
    accuracy.f32.ulp == 0 && accuracy.f64.ulp == 0
}

/// Whether a float result fits every integer dtype: finite, in [0, 100).
fn at_safe(result: fnp_core::Result<f64>) -> bool {
    result.is_ok_and(|r| r.is_finite() && (0.0..100.0).contains(&r))
}

/// `op(x)` in float64 (or the float32 it computes in), by fnp-core.
fn unary_f64(op: UnaryOp, x: f64) -> fnp_core::Result<f64> {
    let xs = [x];
    let view = fnp_core::ArrayRef::from_slice(
        &xs,
        fnp_core::Layout::c_contiguous(fnp_core::Shape::SCALAR),
    )?;
    let mut out = [0u64];
    let r = fnp_core::unary(op, &view, bytemuck::cast_slice_mut(&mut out))?;
    Ok(match r.dtype {
        DType::Float64 => f64::from_bits(out[0]),
        DType::Float32 => f64::from(f32::from_bits(out[0] as u32)),
        _ => f64::NAN,
    })
}

/// `op(x, y)` in float64, by fnp-core.
fn binary_f64(op: BinaryOp, x: f64, y: f64) -> fnp_core::Result<f64> {
    let (xs, ys) = ([x], [y]);
    let scalar = fnp_core::Layout::c_contiguous(fnp_core::Shape::SCALAR);
    let a = fnp_core::ArrayRef::from_slice(&xs, scalar)?;
    let b = fnp_core::ArrayRef::from_slice(&ys, scalar)?;
    let mut out = [0u64];
    let r = fnp_core::binary(op, &a, &b, bytemuck::cast_slice_mut(&mut out))?;
    Ok(match r.dtype {
        DType::Float64 => f64::from_bits(out[0]),
        _ => f64::NAN,
    })
}

fn at_cases(s: &mut Suite, rng: &mut Rng) {
    let int64 = |v: &[i128]| input(DType::Int64, &[v.len()], &int_bytes(DType::Int64, v), None);
    for &ufunc in BinaryOp::ALL {
        let op = format!("{}.at", ufunc.name());
        let op = op.as_str();
        for d in DType::ALL {
            let sig = d.name();
            let t = OperandType::Array(d);
            let cast = float_into_int(d, ufunc.resolve(t, t));
            let repeats = exact(ufunc.accuracy()) && !cast;
            let count = match loops(ufunc, d) {
                Loops::Found if !cast => 2,
                _ => 1,
            };
            // rand: 1-d or 2-d `a`, `b` one value per index (times a row)
            // or one value for all.
            for _ in 0..count {
                let shape = if cast || rng.chance(1, 2) {
                    vec![1 + rng.below(6)]
                } else {
                    vec![1 + rng.below(3), 1 + rng.below(3)]
                };
                let ind = at_indices(shape[0], !repeats, rng);
                let b_shape: Vec<usize> = if cast || rng.chance(1, 4) {
                    vec![]
                } else {
                    std::iter::once(ind.len())
                        .chain(shape[1..].iter().copied())
                        .collect()
                };
                let (va, vb) = if cast {
                    // One small `b` and small `a`s whose results every
                    // integer dtype holds.
                    let bv = 1 + rng.below(2) as i128;
                    let ok: Vec<i128> = (0..5)
                        .filter(|&x| at_safe(binary_f64(ufunc, x as f64, bv as f64)))
                        .collect();
                    if ok.is_empty() {
                        continue;
                    }
                    let v: Vec<i128> = (0..size(&shape)).map(|_| rng.pick(&ok)).collect();
                    (int_bytes(d, &v), int_bytes(d, &[bv]))
                } else {
                    (
                        random_values(d, size(&shape), rng),
                        random_values(d, size(&b_shape), rng),
                    )
                };
                s.push(
                    op,
                    "rand",
                    sig,
                    vec![
                        input(d, &shape, &va, None),
                        int64(&ind),
                        input(d, &b_shape, &vb, None),
                    ],
                    None,
                );
            }
            if cast || loops(ufunc, d) == Loops::Refused {
                continue;
            }
            // edge: the edge values (the first and last twice where the op
            // is exact).
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            let ind: Vec<i128> = if repeats {
                vec![0, n as i128 - 1, 0, -1, 1]
            } else {
                vec![0, n as i128 - 1, 1, -3]
            };
            let vb = random_values(d, ind.len(), rng);
            s.push(
                op,
                "edge",
                sig,
                vec![
                    input(d, &[n], &edges, None),
                    int64(&ind),
                    input(d, &[ind.len()], &vb, None),
                ],
                None,
            );
        }
        // ldexp takes integer exponents (its float, float loop does not
        // exist): float mantissas, int64 exponents, a repeated index.
        if ufunc == BinaryOp::Ldexp {
            for d in [DType::Float32, DType::Float64] {
                let edges = edge_values(d);
                let n = edges.len() / d.itemsize();
                let e: Vec<i128> = (0..5).map(|_| rng.below(9) as i128 - 4).collect();
                let exps = input(DType::Int64, &[5], &int_bytes(DType::Int64, &e), None);
                s.push(
                    op,
                    "exponent",
                    d.name(),
                    vec![
                        input(d, &[n], &edges, None),
                        int64(&[0, n as i128 - 1, 0, -1, 2]),
                        exps,
                    ],
                    None,
                );
            }
        }
        // Mixed dtypes: the loop's result cast back unsafely (int8 wraps,
        // float64 into float32 overflows and underflows).
        for (da, db) in [
            (DType::Int8, DType::Int64),
            (DType::Float32, DType::Float64),
        ] {
            let ta = OperandType::Array(da);
            let result = ufunc.resolve(ta, OperandType::Array(db));
            if result.is_err() || float_into_int(da, result) {
                continue;
            }
            let va = random_values(da, 4, rng);
            let (ind, vb): (&[i128], _) = if exact(ufunc.accuracy()) {
                (&[1, -1, 1], random_values(db, 3, rng))
            } else {
                (&[1, -1], random_values(db, 2, rng))
            };
            s.push(
                op,
                "cast",
                da.name(),
                vec![
                    input(da, &[4], &va, None),
                    int64(ind),
                    input(db, &[ind.len()], &vb, None),
                ],
                None,
            );
        }
        // Errors and empties, in float64 (int32 for the integer-only ops).
        let d = if loops(ufunc, DType::Float64) == Loops::Found {
            DType::Float64
        } else {
            DType::Int32
        };
        let v = random_values(d, 6, rng);
        let k = d.itemsize();
        let a = input(d, &[6], &v, None);
        let one = input(d, &[1], &v[..k], None);
        let zero_f64 = input(
            DType::Float64,
            &[1],
            &f64_bytes(DType::Float64, &[0.0]),
            None,
        );
        for (family, inputs) in [
            ("error", vec![a.clone(), int64(&[6]), one.clone()]),
            ("error", vec![a.clone(), int64(&[-7]), one.clone()]),
            (
                "error",
                vec![a.clone(), int64(&[0, 1]), input(d, &[3], &v[..3 * k], None)],
            ),
            ("error", vec![a.clone(), zero_f64, one.clone()]),
            (
                "error",
                vec![input(d, &[], &v[..k], None), int64(&[0]), one.clone()],
            ),
            ("empty", vec![a.clone(), int64(&[]), one.clone()]),
            (
                "empty",
                vec![input(d, &[0], &[], None), int64(&[]), one.clone()],
            ),
            // Rows of a 2-d `a`, one row of `b` broadcast to each index.
            (
                "rows",
                vec![
                    input(d, &[3, 2], &v, None),
                    int64(&[2, 0, 2]),
                    input(d, &[2], &v[..2 * k], None),
                ],
            ),
        ] {
            s.push(op, family, d.name(), inputs, None);
        }
    }
    for &ufunc in UnaryOp::ALL {
        let op = format!("{}.at", ufunc.name());
        let op = op.as_str();
        for d in DType::ALL {
            let sig = d.name();
            let result = ufunc.resolve(OperandType::Array(d));
            let cast = float_into_int(d, result);
            let repeats = exact(ufunc.accuracy()) && !cast;
            let shape = if rng.chance(1, 2) {
                vec![1 + rng.below(6)]
            } else {
                vec![1 + rng.below(3), 1 + rng.below(3)]
            };
            let ind = at_indices(shape[0], !repeats, rng);
            let va = if cast {
                // Small integers whose results every integer dtype holds.
                let ok: Vec<i128> = (0..5)
                    .filter(|&x| at_safe(unary_f64(ufunc, x as f64)))
                    .collect();
                if ok.is_empty() {
                    continue;
                }
                let v: Vec<i128> = (0..size(&shape)).map(|_| rng.pick(&ok)).collect();
                int_bytes(d, &v)
            } else {
                random_values(d, size(&shape), rng)
            };
            s.push(
                op,
                "rand",
                sig,
                vec![input(d, &shape, &va, None), int64(&ind)],
                None,
            );
            if cast || result.is_err() {
                continue;
            }
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            let ind: &[i128] = if repeats {
                &[0, n as i128 - 1, 0, -1]
            } else {
                &[0, n as i128 - 1, 1, -3]
            };
            s.push(
                op,
                "edge",
                sig,
                vec![input(d, &[n], &edges, None), int64(ind)],
                None,
            );
        }
        let d = DType::Float64;
        let v = random_values(d, 4, rng);
        s.push(
            op,
            "error",
            d.name(),
            vec![input(d, &[4], &v, None), int64(&[4])],
            None,
        );
    }
}

/// One generated corpus file.
pub struct GeneratedFile {
    /// File name (`binary.json`, …).
    pub name: String,
    /// Its contents.
    pub text: String,
    /// Number of cases.
    pub cases: usize,
}

fn render(suite_name: &str, seed: u64, suite: Suite) -> GeneratedFile {
    let mut top = Map::new();
    // v2 only where its keywords are used: other corpora keep their bytes.
    let uses = |key: &str| {
        suite
            .cases
            .iter()
            .any(|c| c.get("params").is_some_and(|p| p.get(key).is_some()))
    };
    let schema = if uses("signature") {
        crate::corpus::SCHEMA
    } else if uses("out") || uses("casting") {
        crate::corpus::SCHEMA_V2
    } else {
        crate::corpus::SCHEMA_V1
    };
    top.insert("schema".into(), json!(schema));
    top.insert("suite".into(), json!(suite_name));
    top.insert("seed".into(), json!(seed));
    let cases = suite.cases.len();
    top.insert("cases".into(), Value::Array(suite.cases));
    GeneratedFile {
        name: format!("{suite_name}.json"),
        text: crate::corpus::write_lines(&top, "cases"),
        cases,
    }
}

/// Generates every corpus file for `seed`.
pub fn generate(seed: u64) -> Vec<GeneratedFile> {
    let mut rng = Rng::new(seed);
    let binary = binary_suite(&mut rng);
    let mut rng = Rng::new(seed ^ 0x5245_4455_4345);
    let reduce = reduce_suite(&mut rng);
    let mut rng = Rng::new(seed ^ 0x0055_4e41_5259);
    let unary = unary_suite(&mut rng);
    vec![
        render("binary", seed, binary),
        render("reduce", seed, reduce),
        render("unary", seed, unary),
        render("large", seed, large_suite(seed)),
        render("adversarial", seed, adversarial_suite()),
        render("methods", seed, methods_suite(seed)),
        render("outputs", seed, outputs_suite(seed)),
    ]
}

/// The ufuncs with two outputs (divmod, modf, frexp): every dtype, edge
/// values against each other, broadcasting, strided layouts, 0-d and empty
/// arrays, Python scalars and mixed dtypes.
fn outputs_suite(seed: u64) -> Suite {
    let mut rng = Rng::new(seed ^ 0x4f55_5450_5554);
    let rng = &mut rng;
    let mut s = Suite::default();
    for m in MultiOp::ALL {
        let op = m.name();
        for d in DType::ALL {
            let sig = d.name();
            let arrays = |shape: &[usize], rng: &mut Rng| -> Vec<Value> {
                (0..m.arity())
                    .map(|_| input(d, shape, &random_values(d, size(shape), rng), None))
                    .collect()
            };
            for _ in 0..3 {
                let shape = random_shape(rng, 12);
                s.push(op, "rand", sig, arrays(&shape, rng), None);
            }
            // Every edge value (against every other, for divmod).
            let edges = edge_values(d);
            let n = edges.len() / d.itemsize();
            let inputs = if m.arity() == 2 {
                vec![
                    input(d, &[n, 1], &edges, None),
                    input(d, &[n], &edges, None),
                ]
            } else {
                vec![input(d, &[n], &edges, None)]
            };
            s.push(op, "edge", sig, inputs, None);
            for shape in [vec![], vec![0], vec![2, 0]] {
                s.push(op, "shape", sig, arrays(&shape, rng), None);
            }
            for (shape, layout_a, layout_b) in binary_layouts() {
                let mut inputs = vec![input(
                    d,
                    &shape,
                    &random_values(d, size(&shape), rng),
                    layout_a,
                )];
                if m.arity() == 2 {
                    let v = random_values(d, size(&shape), rng);
                    inputs.push(input(d, &shape, &v, layout_b));
                }
                s.push(op, "layout", sig, inputs, None);
            }
            if m.arity() == 2 {
                // Broadcasting, and a Python scalar on either side.
                let a = random_shape(rng, 12);
                let b = broadcast_partner(&a, rng);
                let va = random_values(d, size(&a), rng);
                let vb = random_values(d, size(&b), rng);
                s.push(
                    op,
                    "bcast",
                    sig,
                    vec![input(d, &a, &va, None), input(d, &b, &vb, None)],
                    None,
                );
                let py = if d.is_float() {
                    scalar_input(DType::Float64, &f64_bytes(DType::Float64, &[-2.5]))
                } else {
                    scalar_input(DType::Int64, &int_bytes(DType::Int64, &[3]))
                };
                let v = random_values(d, 5, rng);
                s.push(
                    op,
                    "scalar",
                    sig,
                    vec![input(d, &[5], &v, None), py.clone()],
                    None,
                );
                s.push(op, "scalar", sig, vec![py, input(d, &[5], &v, None)], None);
            }
        }
        // Mixed dtypes: the loop is the promoted one.
        for (x, y) in [
            (DType::Int8, DType::UInt8),
            (DType::Int32, DType::Float32),
            (DType::UInt64, DType::Int64),
            (DType::Float32, DType::Float64),
            (DType::Bool, DType::Int16),
        ] {
            let sig = format!("{}_{}", x.name(), y.name());
            let vx = random_values(x, 6, rng);
            let mut inputs = vec![input(x, &[6], &vx, None)];
            if m.arity() == 2 {
                inputs.push(input(y, &[6], &random_values(y, 6, rng), None));
            }
            s.push(op, "mixed", &sig, inputs, None);
        }
        // A Python scalar alone (NumPy's 0-d answer), and one out of the
        // array's range (OverflowError).
        let three = scalar_input(DType::Float64, &f64_bytes(DType::Float64, &[-3.75]));
        if m.arity() == 1 {
            s.push(op, "scalar", "float64", vec![three], None);
        } else {
            let big = scalar_input(DType::Int64, &int_bytes(DType::Int64, &[300]));
            let u8s = input(
                DType::UInt8,
                &[2],
                &int_bytes(DType::UInt8, &[7, 250]),
                None,
            );
            s.push(op, "scalar", "uint8", vec![u8s, big], None);
        }
    }
    keyword_cases(&mut s, rng);
    // A missing operand is NumPy's TypeError (an extra one would be
    // NumPy's `out=`).
    let one = input(
        DType::Float64,
        &[1],
        &f64_bytes(DType::Float64, &[1.5]),
        None,
    );
    s.push("divmod", "args", "float64", vec![one], None);
    signature_cases(&mut s, rng);
    s
}

/// `signature=` as a typecode string (`"dd->d"`) when every operand is
/// given, else a list of dtype names and nulls.
fn signature_json(types: &[Option<DType>], nin: usize) -> Value {
    if types.iter().all(Option::is_some) {
        let code =
            |t: &[Option<DType>]| -> String { t.iter().flatten().map(|d| d.typecode()).collect() };
        json!(format!("{}->{}", code(&types[..nin]), code(&types[nin..])))
    } else {
        json!(types.iter().map(|t| t.map(DType::name)).collect::<Vec<_>>())
    }
}

/// NumPy's `signature=` on every ufunc: a whole loop wider or narrower
/// than the operands pick (int16 operands in float64, float32, int8 and
/// bool loops), one input given, only the output given, a random
/// signature per ufunc (most of them NumPy's TypeError: no such loop),
/// and NumPy's errors for malformed ones.
fn signature_cases(s: &mut Suite, rng: &mut Rng) {
    let arr = OperandType::Array;
    let sig_param = |sig: Value, extra: &[(&str, Value)]| with_keyword("signature", sig, extra);
    let some = |d: DType| Some(d);
    let operands = |d: DType, n: usize, rng: &mut Rng| -> Vec<Value> {
        (0..n)
            .map(|_| input(d, &[4], &random_values(d, 4, rng), None))
            .collect()
    };
    let random_sig = |nop: usize, rng: &mut Rng| -> Vec<Option<DType>> {
        (0..nop)
            .map(|_| match rng.below(3) {
                0 => None,
                _ => Some(DType::ALL[rng.below(DType::ALL.len())]),
            })
            .collect()
    };
    let loops = [DType::Float64, DType::Float32, DType::Int8, DType::Bool];
    // Every binary then every unary ufunc: its name, inputs and the output
    // its loop of one dtype gives.
    type Resolve = Box<dyn Fn(DType) -> DType>;
    let ufuncs = BinaryOp::ALL
        .iter()
        .map(|&op| {
            let r: Resolve = Box::new(move |x| op.resolve(arr(x), arr(x)).unwrap_or(x));
            (op.name(), 2usize, r)
        })
        .chain(UnaryOp::ALL.iter().map(|&op| {
            let r: Resolve = Box::new(move |x| op.resolve(arr(x)).unwrap_or(x));
            (op.name(), 1usize, r)
        }));
    for (name, nin, resolve) in ufuncs {
        let ins = operands(DType::Int16, nin, rng);
        let mut push = |what: &str, inputs: Vec<Value>, types: &[Option<DType>]| {
            let sig = signature_json(types, nin);
            s.push(name, "signature", what, inputs, sig_param(sig, &[]));
        };
        for x in loops {
            let mut types = vec![some(x); nin];
            types.push(some(resolve(x)));
            push(x.name(), ins.clone(), &types);
        }
        if nin == 2 {
            push(
                "one_input",
                ins.clone(),
                &[None, some(DType::Float32), None],
            );
        }
        let mut output = vec![None; nin];
        output.push(some(DType::Float64));
        push("output", ins.clone(), &output);
        for _ in 0..2 {
            let d = DType::ALL[rng.below(DType::ALL.len())];
            let types = random_sig(nin + 1, rng);
            push("random", operands(d, nin, rng), &types);
        }
    }
    let (f, i) = (some(DType::Float64), some(DType::Int32));
    let f4 = some(DType::Float32);
    let multi: [(&str, usize, Vec<Option<DType>>); 9] = [
        ("divmod", 2, vec![f, f, f, f]),
        ("divmod", 2, vec![None, None, f, None]),
        ("divmod", 2, vec![None, f4, None, None]),
        ("modf", 1, vec![f4, f4, f4]),
        ("modf", 1, vec![None, None, f]),
        ("frexp", 1, vec![f, f, i]),
        ("frexp", 1, vec![None, f, None]),
        ("frexp", 1, vec![f, f, f]),
        ("frexp", 1, vec![None, None, some(DType::Int64)]),
    ];
    for (op, nin, types) in multi {
        let sig = signature_json(&types, nin);
        let ins = operands(DType::Int16, nin, rng);
        s.push(op, "signature", "int16", ins, sig_param(sig, &[]));
    }
    // Malformed: NumPy's ValueError (wrong length, no arrow, unknown
    // code) and TypeError (one entry; with dtype=); a dtype fnp lacks.
    let i8s = || {
        input(
            DType::Int8,
            &[3],
            &int_bytes(DType::Int8, &[100, -100, 3]),
            None,
        )
    };
    // (what, signature, other keywords)
    type Bad<'v> = (&'v str, Value, &'v [(&'v str, Value)]);
    let bad: [Bad<'_>; 9] = [
        ("length", json!("dd->dd"), &[]),
        ("length", json!("d->d"), &[]),
        ("length", json!(["float64", "float64"]), &[]),
        ("arrow", json!("dd-d"), &[]),
        ("code", json!("xx->x"), &[]),
        ("single", json!("d"), &[]),
        ("single", json!(["float64"]), &[]),
        ("dtype", json!("dd->d"), &[("dtype", json!("float64"))]),
        ("float16", json!("ee->e"), &[]),
    ];
    for (what, sig, extra) in bad {
        s.push(
            "add",
            "signature",
            what,
            vec![i8s(), i8s()],
            sig_param(sig, extra),
        );
    }
    // Python scalars: one the signature names is converted (3.5 into an
    // int8 loop is 3), one it does not name is a float64 the int8 loop
    // refuses; a Python int int8 cannot hold.
    let py35 = scalar_input(DType::Float64, &f64_bytes(DType::Float64, &[3.5]));
    let py300 = scalar_input(DType::Int64, &int_bytes(DType::Int64, &[300]));
    let b = some(DType::Int8);
    for (what, operand, types) in [
        ("named", &py35, vec![b, b, b]),
        ("unnamed", &py35, vec![None, None, b]),
        ("range", &py300, vec![b, b, b]),
        ("named", &py300, vec![None, some(DType::Int16), None]),
    ] {
        let sig = signature_json(&types, 2);
        s.push(
            "add",
            "signature",
            what,
            vec![i8s(), operand.clone()],
            sig_param(sig.clone(), &[]),
        );
        s.push(
            "add",
            "signature",
            what,
            vec![operand.clone(), i8s()],
            sig_param(sig, &[]),
        );
    }
    // With casting=, out= and where=.
    let fl = input(
        DType::Float64,
        &[3],
        &f64_bytes(DType::Float64, &[1.5, -2.5, 3.0]),
        None,
    );
    s.push(
        "add",
        "signature",
        "unsafe",
        vec![fl.clone(), fl.clone()],
        sig_param(json!("ii->i"), &[("casting", json!("unsafe"))]),
    );
    s.push(
        "multiply",
        "signature",
        "out",
        vec![fl.clone(), fl],
        sig_param(
            json!("ff->f"),
            &[
                ("out", out_array(DType::Float64, &[3], rng)),
                ("where", where_mask(&[3], rng)),
            ],
        ),
    );
}

/// A case's `params` holding these keywords.
fn keyword_params(pairs: &[(&str, Value)]) -> Option<Value> {
    let m: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    Some(Value::Object(m))
}

/// A case's `params`: keyword `key` and the `extra` ones.
fn with_keyword(key: &str, value: Value, extra: &[(&str, Value)]) -> Option<Value> {
    let mut pairs = vec![(key, value)];
    pairs.extend(extra.iter().cloned());
    keyword_params(&pairs)
}

/// An `out=` object: an array of `dtype` and `shape` holding random
/// contents (what `where=` keeps).
fn out_array(dtype: DType, shape: &[usize], rng: &mut Rng) -> Value {
    input(dtype, shape, &random_values(dtype, size(shape), rng), None)
}

/// A `where=` mask of `shape`, random.
fn where_mask(shape: &[usize], rng: &mut Rng) -> Value {
    let data: Vec<bool> = (0..size(shape)).map(|_| rng.chance(1, 2)).collect();
    json!({"dtype": "bool", "shape": shape, "data": data})
}

/// A dtype whose loop `op` has (its own, not float16), preferring float64,
/// int32, then bool; with the result dtype.
fn keyword_dtype(loop_of: impl Fn(DType) -> fnp_core::Result<DType>) -> Option<(DType, DType)> {
    [DType::Float64, DType::Int32, DType::Bool, DType::UInt8]
        .into_iter()
        .find_map(|d| loop_of(d).ok().map(|r| (d, r)))
}

/// NumPy's output keywords on ufunc calls: `out=` (fresh, in place,
/// larger than the inputs' broadcast, of another dtype under each
/// `casting=`), `where=` with `out=`, and NumPy's errors for them. Every
/// unary and binary ufunc gets its `out=`/`where=` cases; a few ops get
/// the casting and shape matrix.
fn keyword_cases(s: &mut Suite, rng: &mut Rng) {
    use fnp_core::Casting;
    let params = |out: Value, extra: &[(&str, Value)]| with_keyword("out", out, extra);
    let arr = OperandType::Array;
    for &op in BinaryOp::ALL {
        let name = op.name();
        let Some((d, r)) = keyword_dtype(|d| op.resolve(arr(d), arr(d))) else {
            continue;
        };
        let shape = [2usize, 3];
        let a = input(d, &shape, &random_values(d, 6, rng), None);
        let b = input(d, &shape, &random_values(d, 6, rng), None);
        let sig = d.name();
        s.push(
            name,
            "out",
            sig,
            vec![a.clone(), b.clone()],
            params(out_array(r, &shape, rng), &[]),
        );
        let mask = where_mask(&shape, rng);
        s.push(
            name,
            "where",
            sig,
            vec![a.clone(), b.clone()],
            params(out_array(r, &shape, rng), &[("where", mask)]),
        );
        if r == d {
            s.push(
                name,
                "inplace",
                sig,
                vec![a.clone(), b.clone()],
                params(json!({"input": 0}), &[]),
            );
            let mask = where_mask(&[3], rng);
            s.push(
                name,
                "inplace",
                sig,
                vec![a, b],
                params(json!([{"input": 1}]), &[("where", mask)]),
            );
        }
    }
    for &op in UnaryOp::ALL {
        let name = op.name();
        let Some((d, r)) = keyword_dtype(|d| op.resolve(arr(d))) else {
            continue;
        };
        let shape = [5usize];
        let x = input(d, &shape, &random_values(d, 5, rng), None);
        let sig = d.name();
        s.push(
            name,
            "out",
            sig,
            vec![x.clone()],
            params(out_array(r, &shape, rng), &[]),
        );
        let mask = where_mask(&shape, rng);
        s.push(
            name,
            "where",
            sig,
            vec![x.clone()],
            params(out_array(r, &[2, 5], rng), &[("where", mask)]),
        );
        if r == d {
            s.push(
                name,
                "inplace",
                sig,
                vec![x],
                params(json!({"input": 0}), &[]),
            );
        }
    }
    // dtype=: for every ufunc a wider loop than its operands pick (int16
    // operands computed in float64, or the natural dtype where that is all
    // NumPy allows), and one it has no loop for or cannot cast into.
    let dtype_param =
        |d: DType, extra: &[(&str, Value)]| with_keyword("dtype", json!(d.name()), extra);
    let i16s = |rng: &mut Rng| {
        input(
            DType::Int16,
            &[4],
            &random_values(DType::Int16, 4, rng),
            None,
        )
    };
    for &op in BinaryOp::ALL {
        let (a, b) = (i16s(rng), i16s(rng));
        for to in [DType::Float64, DType::Int8, DType::Bool] {
            s.push(
                op.name(),
                "dtype",
                to.name(),
                vec![a.clone(), b.clone()],
                dtype_param(to, &[]),
            );
        }
    }
    for &op in UnaryOp::ALL {
        let x = i16s(rng);
        for to in [DType::Float64, DType::Int8, DType::Bool, DType::UInt8] {
            s.push(
                op.name(),
                "dtype",
                to.name(),
                vec![x.clone()],
                dtype_param(to, &[]),
            );
        }
    }
    for op in ["divmod", "modf", "frexp"] {
        let mut inputs = vec![i16s(rng)];
        if op == "divmod" {
            inputs.push(input(
                DType::Int16,
                &[1],
                &int_bytes(DType::Int16, &[3]),
                None,
            ));
        }
        s.push(
            op,
            "dtype",
            "float64",
            inputs,
            dtype_param(DType::Float64, &[]),
        );
    }
    // Casting the operands into the loop: float64 into int32 (refused,
    // then unsafe), a Python int that int8 cannot hold, a Python float
    // into an int loop; with out= and where= too.
    let fl = input(
        DType::Float64,
        &[3],
        &f64_bytes(DType::Float64, &[1.5, -2.5, 3.0]),
        None,
    );
    let i8s = input(
        DType::Int8,
        &[3],
        &int_bytes(DType::Int8, &[100, -100, 3]),
        None,
    );
    let py300 = scalar_input(DType::Int64, &int_bytes(DType::Int64, &[300]));
    let py35 = scalar_input(DType::Float64, &f64_bytes(DType::Float64, &[3.5]));
    let big = input(
        DType::Float64,
        &[2],
        &f64_bytes(DType::Float64, &[1e300, 1.0]),
        None,
    );
    let unsafe_ = [("casting", json!("unsafe"))];
    // (op, operands, dtype=, other keywords)
    type Cast<'v> = (&'v str, [&'v Value; 2], DType, &'v [(&'v str, Value)]);
    let casts: [Cast<'_>; 7] = [
        ("add", [&fl, &fl], DType::Int32, &[]),
        ("add", [&fl, &fl], DType::Int32, &unsafe_),
        ("add", [&i8s, &py300], DType::Int8, &[]),
        ("add", [&i8s, &py300], DType::Int16, &[]),
        ("add", [&i8s, &py35], DType::Int8, &[]),
        ("add", [&i8s, &py35], DType::Int8, &unsafe_),
        ("multiply", [&big, &big], DType::Float32, &[]),
    ];
    for (op, [a, b], to, extra) in casts {
        let inputs = vec![a.clone(), b.clone()];
        s.push(op, "dtype", to.name(), inputs, dtype_param(to, extra));
    }
    s.push(
        "add",
        "dtype",
        "float64",
        vec![i8s.clone(), i8s],
        dtype_param(
            DType::Float64,
            &[
                ("out", out_array(DType::Float32, &[3], rng)),
                ("where", where_mask(&[3], rng)),
            ],
        ),
    );
    // The casting matrix: every rule into outputs of each dtype, from a
    // float64, an int16 and a bool result.
    for (op, d) in [
        ("add", DType::Float64),
        ("add", DType::Int16),
        ("less", DType::Float32),
        ("negative", DType::Int8),
        ("sqrt", DType::Float64),
    ] {
        let unary = UnaryOp::from_name(op).is_some();
        for casting in Casting::ALL {
            for to in DType::ALL {
                // A float result no integer holds (NaN, inf, out of range,
                // negative into unsigned) is C's undefined behaviour in
                // NumPy's cast, and differs by CPU: into integers the
                // values stay in 0..=100. Into floats, edge values too.
                let n = 4;
                let small = |n: usize, rng: &mut Rng| {
                    let v: Vec<f64> = (0..n).map(|_| rng.below(51) as f64).collect();
                    f64_bytes(d, &v)
                };
                let v = match (d.is_float(), to.is_float()) {
                    (true, false) => small(n, rng),
                    (true, true) if rng.chance(1, 2) => edge_values(d)[..n * d.itemsize()].to_vec(),
                    _ => random_values(d, n, rng),
                };
                let mut inputs = vec![input(d, &[n], &v, None)];
                if !unary {
                    let w = if d.is_float() {
                        small(1, rng)
                    } else {
                        random_values(d, 1, rng)
                    };
                    inputs.push(input(d, &[1], &w, None));
                }
                let sig = format!("{}_{}_{}", d.name(), to.name(), casting.name());
                s.push(
                    op,
                    "casting",
                    &sig,
                    inputs,
                    params(
                        out_array(to, &[n], rng),
                        &[("casting", json!(casting.name()))],
                    ),
                );
            }
        }
    }
    // Shapes: inputs broadcast into a larger out (with a mask that
    // broadcasts too); an out the result would have to broadcast into or
    // that does not match, a mask larger than out (ValueError); more outs
    // than outputs.
    let f = DType::Float64;
    let row = || {
        input(
            DType::Float64,
            &[3],
            &f64_bytes(DType::Float64, &[1.0, -2.5, 4.0]),
            None,
        )
    };
    let shapes: [(&[usize], Option<&[usize]>); 5] = [
        (&[2, 3], None),
        (&[2, 3], Some(&[2, 1])),
        (&[1], None),
        (&[4], None),
        (&[3], Some(&[2, 3])),
    ];
    for (out, mask) in shapes {
        let out = out_array(f, out, rng);
        let extra: Vec<(&str, Value)> = mask
            .map(|m| ("where", where_mask(m, rng)))
            .into_iter()
            .collect();
        s.push(
            "add",
            "shape",
            "float64",
            vec![row(), row()],
            params(out, &extra),
        );
    }
    s.push(
        "add",
        "shape",
        "float64",
        vec![row(), row()],
        params(
            json!([out_array(f, &[3], rng), out_array(f, &[3], rng)]),
            &[],
        ),
    );
    s.push(
        "negative",
        "shape",
        "float64",
        vec![row()],
        params(json!({"input": 0}), &[("casting", json!("no"))]),
    );
    // The two-output ufuncs: both outs, one of them, of another dtype,
    // with a mask, in place.
    let x = || {
        input(
            f,
            &[4],
            &f64_bytes(f, &[7.5, -7.5, 0.0, f64::INFINITY]),
            None,
        )
    };
    let two = || input(f, &[1], &f64_bytes(f, &[2.0]), None);
    for (op, inputs) in [
        ("divmod", vec![x(), two()]),
        ("modf", vec![x()]),
        ("frexp", vec![x()]),
    ] {
        let second = if op == "frexp" { DType::Int32 } else { f };
        let both = json!([out_array(f, &[4], rng), out_array(second, &[4], rng)]);
        s.push(op, "out", "float64", inputs.clone(), params(both, &[]));
        s.push(
            op,
            "out",
            "float64",
            inputs.clone(),
            params(json!([out_array(DType::Float32, &[4], rng), null]), &[]),
        );
        s.push(
            op,
            "out",
            "float64",
            inputs.clone(),
            params(json!([null, out_array(second, &[4], rng)]), &[]),
        );
        let masked = json!([out_array(f, &[4], rng), out_array(second, &[4], rng)]);
        s.push(
            op,
            "where",
            "float64",
            inputs.clone(),
            params(masked, &[("where", where_mask(&[4], rng))]),
        );
        s.push(
            op,
            "inplace",
            "float64",
            inputs.clone(),
            params(json!([{"input": 0}, null]), &[]),
        );
        // Into int16 from finite values only (see the casting matrix).
        let finite = input(f, &[4], &f64_bytes(f, &[7.5, -7.5, 0.0, 3.25]), None);
        let mut inputs = inputs;
        inputs[0] = finite;
        let narrow = json!([out_array(DType::Int16, &[4], rng), null]);
        s.push(
            op,
            "casting",
            "float64",
            inputs,
            params(narrow, &[("casting", json!("unsafe"))]),
        );
    }
}

/// Hostile but schema-valid cases: deep ndim, zero strides that make a
/// huge array of one element, element counts that overflow, empty arrays
/// with huge other dims, strides past the dims. NumPy answers each (often
/// with an error); targets must agree or refuse cleanly (never hang or
/// crash).
fn adversarial_suite() -> Suite {
    let mut s = Suite::default();
    let f64s = |v: &[f64]| f64_bytes(DType::Float64, v);
    let zero = |n: usize| json!({"strides": vec![0; n]});
    // Deep: NumPy takes up to 64 dimensions, devices 8.
    for ndim in [9usize, 16, 32, 64] {
        let mut shape = vec![1usize; ndim];
        shape[ndim - 1] = 2;
        let a = input(DType::Float64, &shape, &f64s(&[1.5, -2.0]), None);
        s.push("sum", "deep", "float64", vec![a.clone()], None);
        s.push(
            "sum",
            "deep",
            "float64",
            vec![a.clone()],
            Some(json!({"axis": -1, "keepdims": true})),
        );
        s.push("add", "deep", "float64", vec![a.clone(), a.clone()], None);
        s.push("negative", "deep", "float64", vec![a], None);
    }
    // One element seen 2^k times through a zero stride (`generate` with
    // low == high: every logical element is the same value).
    let same = |d: DType, shape: &[usize], v: Value| {
        let mut i = input(d, shape, &[], Some(zero(shape.len())));
        if let Some(o) = i.as_object_mut() {
            o.remove("data");
            o.insert(
                "generate".into(),
                json!({"seed": 1, "low": v.clone(), "high": v}),
            );
        }
        i
    };
    for k in [17u32, 20] {
        let n = 1usize << k;
        let a = same(DType::Float64, &[n], json!(1.5));
        for op in ["sum", "max", "argmax", "mean", "count_nonzero"] {
            s.push(op, "zero_stride", "float64", vec![a.clone()], None);
        }
        let b = same(DType::Int32, &[n], json!(3));
        s.push("sum", "zero_stride", "int32", vec![b.clone()], None);
        s.push("prod", "zero_stride", "int32", vec![b], None);
    }
    let a = same(DType::Float64, &[1 << 10, 1 << 10], json!(0.25));
    s.push(
        "sum",
        "zero_stride",
        "float64",
        vec![a.clone()],
        Some(json!({"axis": 0})),
    );
    s.push(
        "sum",
        "zero_stride",
        "float64",
        vec![a],
        Some(json!({"axis": [0, 1]})),
    );
    // (Element counts past 64 bits cannot be a corpus case: the corpus
    // holds logical values. fixtures/frames has them on the wire.)
    // Empty, however big the other dims.
    let e = input(DType::Float64, &[0, 1 << 40], &[], Some(zero(2)));
    s.push("sum", "empty_huge", "float64", vec![e.clone()], None);
    s.push(
        "sum",
        "empty_huge",
        "float64",
        vec![e.clone()],
        Some(json!({"axis": 1})),
    );
    s.push("max", "empty_huge", "float64", vec![e.clone()], None);
    s.push(
        "max",
        "empty_huge",
        "float64",
        vec![e.clone()],
        Some(json!({"axis": 1})),
    );
    s.push("argmin", "empty_huge", "float64", vec![e], None);
    // Strides that step past a dim's length and back.
    let data: Vec<f64> = (0..16).map(|i| f64::from(i) * 1.25 - 7.0).collect();
    let a = input(
        DType::Float64,
        &[4, 4],
        &f64s(&data),
        Some(json!({"strides": [-9, 15], "offset": 27})),
    );
    for op in ["sum", "cumsum", "argmax"] {
        s.push(
            op,
            "wild_strides",
            "float64",
            vec![a.clone()],
            Some(json!({"axis": 1})),
        );
    }
    s.push(
        "multiply",
        "wild_strides",
        "float64",
        vec![a.clone(), a.clone()],
        None,
    );
    s.push("sqrt", "wild_strides", "float64", vec![a], None);
    s
}

/// Writes the files into `dir`, returning (name, cases) per file.
pub fn write(dir: &Path, files: &[GeneratedFile]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for f in files {
        let path = dir.join(&f.name);
        crate::outdir::write_atomic(&path, f.text.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = generate(7);
        let b = generate(7);
        let c = generate(8);
        for ((x, y), z) in a.iter().zip(&b).zip(&c) {
            assert_eq!(x.text, y.text, "{}", x.name);
            assert_ne!(x.text, z.text, "{}", x.name);
        }
    }

    #[test]
    fn every_file_decodes_with_unique_ids_and_small_frames() {
        let dir = std::env::temp_dir().join(format!("fnp-gen-test-{}", std::process::id()));
        let files = generate(3);
        write(&dir, &files).unwrap();
        for f in &files {
            let corpus = crate::corpus::load(&dir.join(&f.name)).unwrap();
            assert_eq!(corpus.cases.len(), f.cases);
            let mut sizes: Vec<usize> = corpus.cases.iter().map(|c| c.input_bytes()).collect();
            sizes.sort_unstable();
            let median = sizes[sizes.len() / 2];
            if f.name == "large.json" {
                assert!(corpus
                    .cases
                    .iter()
                    .all(|c| c.total_elements() >= LARGE_ELEMENTS));
            } else {
                // Most cases must fit a small device's frame buffer.
                assert!(median <= 200, "{}: median {median}", f.name);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_op_and_dtype_is_covered() {
        let files = generate(11);
        let all: String = files.iter().map(|f| f.text.as_str()).collect();
        for op in BinaryOp::ALL
            .iter()
            .map(|o| o.name())
            .chain(UnaryOp::ALL.iter().map(|o| o.name()))
            .chain(ReduceOp::ALL.iter().map(|o| o.name()))
        {
            for d in DType::ALL {
                let probe = format!("\"{op}/rand/{}/0\"", d.name());
                assert!(all.contains(&probe), "{probe}");
            }
        }
        for family in ["edge", "mixed", "scalar", "bcast", "layout"] {
            assert!(all.contains(&format!("\"add/{family}/")), "{family}");
        }
        // reduceat and outer of every binary ufunc, in every dtype.
        let methods_text = &files
            .iter()
            .find(|f| f.name == "methods.json")
            .unwrap()
            .text;
        for ufunc in BinaryOp::ALL {
            for d in DType::ALL {
                for method in ["reduceat", "outer"] {
                    let probe = format!("\"{}.{method}/edge/{}/0\"", ufunc.name(), d.name());
                    assert!(methods_text.contains(&probe), "{probe}");
                }
            }
        }
        // Every ufunc method of every binary ufunc, in every dtype.
        let methods = files.iter().find(|f| f.name == "methods.json").unwrap();
        for ufunc in BinaryOp::ALL {
            for method in METHODS {
                for d in DType::ALL {
                    let probe = format!("\"{}.{method}/rand/{}/0\"", ufunc.name(), d.name());
                    let columns = method == "reduce" && numpy_misreduces(*ufunc, d);
                    assert_eq!(methods.text.contains(&probe), !columns, "{probe}");
                    if columns {
                        let probe = format!("\"{}.{method}/columns/{}/0\"", ufunc.name(), d.name());
                        assert!(methods.text.contains(&probe), "{probe}");
                    }
                }
                let all_left_out =
                    method == "reduce" && DType::ALL.iter().all(|&d| numpy_misreduces(*ufunc, d));
                for family in ["edge", "empty"] {
                    if all_left_out && family == "empty" {
                        break;
                    }
                    let probe = format!("\"{}.{method}/{family}/", ufunc.name());
                    assert!(methods.text.contains(&probe), "{probe}");
                }
            }
        }
    }

    #[test]
    fn the_outputs_suite_covers_every_two_output_ufunc_and_dtype() {
        let files = generate(5);
        let outputs = files.iter().find(|f| f.name == "outputs.json").unwrap();
        assert!((800..=2_000).contains(&outputs.cases), "{}", outputs.cases);
        for m in MultiOp::ALL {
            for d in DType::ALL {
                for family in ["rand", "edge", "shape", "layout"] {
                    let probe = format!("\"{}/{family}/{}/0\"", m.name(), d.name());
                    assert!(outputs.text.contains(&probe), "{probe}");
                }
            }
        }
    }

    #[test]
    fn the_methods_suite_is_small_and_names_numpy_methods() {
        let files = generate(5);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "binary.json",
                "reduce.json",
                "unary.json",
                "large.json",
                "adversarial.json",
                "methods.json",
                "outputs.json"
            ]
        );
        let methods = &files[5];
        assert!(
            (7_000..=9_000).contains(&methods.cases),
            "{} cases",
            methods.cases
        );
        let json: Value = serde_json::from_str(&methods.text).unwrap();
        assert_eq!(json["suite"], "methods");
        let ufuncs: Vec<&str> = BinaryOp::ALL.iter().map(|o| o.name()).collect();
        let unary: Vec<&str> = UnaryOp::ALL.iter().map(|o| o.name()).collect();
        let mut at = 0;
        for case in json["cases"].as_array().unwrap() {
            let (id, op) = (case["id"].as_str().unwrap(), case["op"].as_str().unwrap());
            assert!(id.starts_with(&format!("{op}/")), "{id}");
            let (ufunc, method) = op.split_once('.').unwrap();
            let all_methods = ["reduce", "accumulate", "reduceat", "outer", "at"];
            assert!(
                (ufuncs.contains(&ufunc) && all_methods.contains(&method))
                    || (unary.contains(&ufunc) && method == "at"),
                "{op}"
            );
            if method == "at" {
                // No keywords; int64 indices second; the unary ufuncs
                // without values.
                at += 1;
                assert!(case.get("params").is_none(), "{id}");
                let inputs = case["inputs"].as_array().unwrap();
                assert_eq!(
                    inputs.len(),
                    if unary.contains(&ufunc) { 2 } else { 3 },
                    "{id}"
                );
                let dtype = inputs[1]["dtype"].as_str().unwrap();
                assert!(["int64", "float64"].contains(&dtype), "{id}");
            }
            let elements: usize = case["inputs"][0]["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .product();
            assert!(elements <= 24, "{id}: {elements} elements");
            let keywords: &[&str] = match method {
                // casting= only in the case that checks NumPy's TypeError.
                "reduce" => &[
                    "axis", "keepdims", "initial", "where", "dtype", "out", "casting",
                ],
                "outer" => &["out", "where", "casting", "dtype", "signature"],
                _ => &["axis", "dtype", "out"],
            };
            if let Some(p) = case.get("params").and_then(Value::as_object) {
                assert!(p.keys().all(|k| keywords.contains(&k.as_str())), "{id}");
            }
        }
        assert!(at > 1_500, "{at} at cases");
    }
}
