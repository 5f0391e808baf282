//! Every case of fixtures/numpy/reductions.json (recorded from NumPy 2.4
//! by fixtures/numpy/record_reductions.py) recomputed by fnp-core.
//!
//! Inputs are regenerated here from each case's seed with the same
//! splitmix64 recipe the recorder documents; results must match bit for
//! bit (NaN payloads aside, and either zero sign for the max/min family),
//! with the same IEEE flags and the same exception class for errors.

use fnp_core::{
    call, scratch_len, ArrayRef, Axes, DType, Layout, Op, ReduceOp, ReduceParams, Scalar, Shape,
};

mod json {
    //! A minimal JSON reader (the fixture is plain JSON; numbers are kept
    //! as text so 64-bit integers stay exact).

    #[derive(Debug, Clone)]
    pub enum Value {
        Null,
        Bool(bool),
        Num(String),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
    }

    impl Value {
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Obj(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn str(&self) -> &str {
            match self {
                Value::Str(s) => s,
                _ => panic!("not a string: {self:?}"),
            }
        }
        pub fn arr(&self) -> &[Value] {
            match self {
                Value::Arr(a) => a,
                _ => panic!("not an array: {self:?}"),
            }
        }
        pub fn num(&self) -> &str {
            match self {
                Value::Num(n) => n,
                _ => panic!("not a number: {self:?}"),
            }
        }
        pub fn i64(&self) -> i64 {
            self.num().parse().expect("int")
        }
        pub fn usize(&self) -> usize {
            self.num().parse().expect("usize")
        }
    }

    pub fn parse(text: &str) -> Value {
        let b = text.as_bytes();
        let mut i = 0;
        value(b, &mut i)
    }

    fn ws(b: &[u8], i: &mut usize) {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    }

    fn value(b: &[u8], i: &mut usize) -> Value {
        ws(b, i);
        match b[*i] {
            b'{' => {
                *i += 1;
                let mut items = Vec::new();
                loop {
                    ws(b, i);
                    if b[*i] == b'}' {
                        *i += 1;
                        return Value::Obj(items);
                    }
                    let k = match value(b, i) {
                        Value::Str(s) => s,
                        v => panic!(
                            "key {v:?} at {}: {}",
                            *i,
                            String::from_utf8_lossy(&b[i.saturating_sub(80)..*i])
                        ),
                    };
                    ws(b, i);
                    assert_eq!(b[*i], b':');
                    *i += 1;
                    let v = value(b, i);
                    items.push((k, v));
                    ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'[' => {
                *i += 1;
                let mut items = Vec::new();
                loop {
                    ws(b, i);
                    if b[*i] == b']' {
                        *i += 1;
                        return Value::Arr(items);
                    }
                    items.push(value(b, i));
                    ws(b, i);
                    if b[*i] == b',' {
                        *i += 1;
                    }
                }
            }
            b'"' => {
                *i += 1;
                let start = *i;
                while b[*i] != b'"' {
                    assert_ne!(b[*i], b'\\', "escapes are not used in the fixture");
                    *i += 1;
                }
                let s = std::str::from_utf8(&b[start..*i]).unwrap().to_string();
                *i += 1;
                Value::Str(s)
            }
            b't' => {
                *i += 4;
                Value::Bool(true)
            }
            b'f' => {
                *i += 5;
                Value::Bool(false)
            }
            b'n' => {
                *i += 4;
                Value::Null
            }
            _ => {
                let start = *i;
                while *i < b.len()
                    && (matches!(b[*i], b'-' | b'+' | b'.') || b[*i].is_ascii_alphanumeric())
                {
                    *i += 1;
                }
                Value::Num(std::str::from_utf8(&b[start..*i]).unwrap().to_string())
            }
        }
    }
}

use json::Value;

/// splitmix64, as in the recorder.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `np.ldexp(1.0, k)`: exact, 0 below the subnormals, inf above the range.
fn pow2(k: i64) -> f64 {
    if k > 1023 {
        f64::INFINITY
    } else if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else if k >= -1074 {
        f64::from_bits(1u64 << (k + 1074))
    } else {
        0.0
    }
}

/// The case's buffer as aligned little-endian bytes (in u64 words).
fn make_buffer(dtype: DType, n: usize, seed: u64, nan_pct: u64, scale: i64) -> Vec<u64> {
    let mut g = SplitMix(seed);
    let mut words = vec![0u64; (n * dtype.itemsize()).div_ceil(8).max(1)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    for i in 0..n {
        let sz = dtype.itemsize();
        let dst = &mut bytes[i * sz..(i + 1) * sz];
        if dtype.is_float() {
            let (z1, z2) = (g.next(), g.next());
            let u = (z1 >> 11) as f64 * pow2(-53);
            let e = (z2 % 21) as i64 - 10;
            let mut x = (2.0 * u - 1.0) * pow2(e);
            if scale != 0 {
                x *= pow2(scale);
            }
            if nan_pct > 0 && g.next() % 100 < nan_pct {
                x = f64::NAN;
            }
            if dtype == DType::Float32 {
                dst.copy_from_slice(&(x as f32).to_le_bytes());
            } else {
                dst.copy_from_slice(&x.to_le_bytes());
            }
        } else if dtype == DType::Bool {
            dst[0] = (g.next() >> 63) as u8;
        } else {
            let bits = sz * 8;
            let top = g.next() >> (64 - bits);
            dst.copy_from_slice(&top.to_le_bytes()[..sz]);
        }
    }
    words
}

fn make_layout(lay: &Value) -> Layout {
    let base: Vec<usize> = lay
        .get("base")
        .unwrap()
        .arr()
        .iter()
        .map(Value::usize)
        .collect();
    let nd = base.len();
    let f_order = lay.get("order").is_some_and(|o| o.str() == "F");
    let mut strides = vec![0isize; nd];
    let mut step = 1isize;
    let idx: Vec<usize> = if f_order {
        (0..nd).collect()
    } else {
        (0..nd).rev().collect()
    };
    for k in idx {
        strides[k] = step;
        step *= base[k] as isize;
    }
    let mut shape = base.clone();
    let mut offset = 0isize;
    if let Some(steps) = lay.get("steps") {
        for (k, s) in steps.arr().iter().enumerate() {
            let s = s.usize();
            shape[k] = base[k].div_ceil(s);
            strides[k] *= s as isize;
        }
    }
    if let Some(flip) = lay.get("flip") {
        for ax in flip.arr() {
            let k = ax.usize();
            if shape[k] > 0 {
                offset += (shape[k] as isize - 1) * strides[k];
            }
            strides[k] = -strides[k];
        }
    }
    if let Some(perm) = lay.get("perm") {
        let p: Vec<usize> = perm.arr().iter().map(Value::usize).collect();
        shape = p.iter().map(|&k| shape[k]).collect();
        strides = p.iter().map(|&k| strides[k]).collect();
    }
    if let Some(expand) = lay.get("expand") {
        let (ax, n) = (expand.arr()[0].usize(), expand.arr()[1].usize());
        shape.insert(ax, n);
        strides.insert(ax, 0);
    }
    Layout::strided(Shape::new(&shape).unwrap(), &strides, offset as usize).unwrap()
}

fn make_mask(spec: &Value) -> (Vec<u8>, Layout) {
    let shape: Vec<usize> = spec
        .get("shape")
        .unwrap()
        .arr()
        .iter()
        .map(Value::usize)
        .collect();
    let n: usize = shape.iter().product();
    let mut g = SplitMix(spec.get("seed").unwrap().i64() as u64);
    let data = (0..n).map(|_| u8::from((g.next() >> 60) < 12)).collect();
    let shape = Shape::new(&shape).unwrap();
    let layout = if spec.get("order").is_some_and(|o| o.str() == "F") {
        Layout::f_contiguous(shape)
    } else {
        Layout::c_contiguous(shape)
    };
    (data, layout)
}

fn scalar_of(v: &Value) -> Scalar {
    match v {
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Num(n) if n.contains(['.', 'e', 'E', 'I']) => Scalar::Float(n.parse().unwrap()),
        Value::Num(n) => match n.parse::<i64>() {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::UInt(n.parse().unwrap()),
        },
        _ => panic!("initial {v:?}"),
    }
}

const MINMAX: [&str; 4] = ["min", "max", "nanmin", "nanmax"];

/// Our output as canonical values: hex bits for floats, integers and bools
/// as text; NaN canonical; zero sign dropped for the max/min family.
fn canonical(dtype: DType, bytes: &[u8], op: &str) -> Vec<String> {
    let sz = dtype.itemsize();
    bytes
        .chunks_exact(sz)
        .map(|c| match dtype {
            DType::Float64 => {
                let mut x = f64::from_le_bytes(c.try_into().unwrap());
                if x.is_nan() {
                    x = f64::NAN;
                }
                if MINMAX.contains(&op) && x == 0.0 {
                    x = 0.0;
                }
                format!("{:016x}", x.to_bits())
            }
            DType::Float32 => {
                let mut x = f32::from_le_bytes(c.try_into().unwrap());
                if x.is_nan() {
                    x = f32::NAN;
                }
                if MINMAX.contains(&op) && x == 0.0 {
                    x = 0.0;
                }
                format!("{:08x}", x.to_bits())
            }
            DType::Bool => (c[0] != 0).to_string(),
            DType::Int8 => (c[0] as i8).to_string(),
            DType::Int16 => i16::from_le_bytes(c.try_into().unwrap()).to_string(),
            DType::Int32 => i32::from_le_bytes(c.try_into().unwrap()).to_string(),
            DType::Int64 => i64::from_le_bytes(c.try_into().unwrap()).to_string(),
            DType::UInt8 => c[0].to_string(),
            DType::UInt16 => u16::from_le_bytes(c.try_into().unwrap()).to_string(),
            DType::UInt32 => u32::from_le_bytes(c.try_into().unwrap()).to_string(),
            DType::UInt64 => u64::from_le_bytes(c.try_into().unwrap()).to_string(),
        })
        .collect()
}

/// The recorded values in the same canonical form.
fn canonical_expected(dtype: DType, vals: &[Value], op: &str) -> Vec<String> {
    vals.iter()
        .map(|v| match (dtype, v) {
            (DType::Float64, Value::Str(h)) => {
                let bits = u64::from_str_radix(h, 16).unwrap();
                canonical(dtype, &bits.to_le_bytes(), op).remove(0)
            }
            (DType::Float32, Value::Str(h)) => {
                let bits = u32::from_str_radix(h, 16).unwrap();
                canonical(dtype, &bits.to_le_bytes(), op).remove(0)
            }
            (_, Value::Bool(b)) => b.to_string(),
            (_, Value::Num(n)) => n.clone(),
            _ => panic!("value {v:?}"),
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    h
}

/// FNV-1a of the output's bytes after the recorder's canonicalization.
fn digest(dtype: DType, bytes: &[u8], op: &str) -> String {
    let mut v = bytes.to_vec();
    let sz = dtype.itemsize();
    for c in v.chunks_exact_mut(sz) {
        match dtype {
            DType::Float64 => {
                let mut x = f64::from_le_bytes((&*c).try_into().unwrap());
                if x.is_nan() {
                    x = f64::NAN;
                }
                if MINMAX.contains(&op) && x == 0.0 {
                    x = 0.0;
                }
                c.copy_from_slice(&x.to_le_bytes());
            }
            DType::Float32 => {
                let mut x = f32::from_le_bytes((&*c).try_into().unwrap());
                if x.is_nan() {
                    x = f32::NAN;
                }
                if MINMAX.contains(&op) && x == 0.0 {
                    x = 0.0;
                }
                c.copy_from_slice(&x.to_le_bytes());
            }
            DType::Bool => c[0] = u8::from(c[0] != 0),
            _ => {}
        }
    }
    format!("{:016x}", fnv1a(&v))
}

fn run_case(case: &Value) -> Result<(), String> {
    let op_name = case.get("op").unwrap().str();
    let op = ReduceOp::from_name(op_name).ok_or("unknown op")?;
    let dtype = DType::from_name(case.get("dtype").unwrap().str()).unwrap();
    let lay = case.get("layout").unwrap();
    let layout = make_layout(lay);
    let n: usize = lay
        .get("base")
        .unwrap()
        .arr()
        .iter()
        .map(Value::usize)
        .product();
    let seed = case.get("seed").unwrap().i64() as u64;
    let nan_pct = case.get("nan_pct").map_or(0, |v| v.i64() as u64);
    let scale = case.get("scale").map_or(0, Value::i64);
    let buf = make_buffer(dtype, n, seed, nan_pct, scale);
    let bytes: &[u8] = &bytemuck::cast_slice(&buf)[..n * dtype.itemsize()];
    let a = ArrayRef::new(dtype, bytes, layout).map_err(|e| format!("array: {e:?}"))?;

    let p = case.get("params").unwrap();
    let mut params = ReduceParams::default();
    match p.get("axis") {
        None | Some(Value::Null) => {}
        Some(Value::Arr(list)) => {
            let axes: Vec<isize> = list.iter().map(|v| v.i64() as isize).collect();
            params.axis = Axes::list(&axes).unwrap();
        }
        Some(v) => params.axis = Axes::single(v.i64() as isize),
    }
    if let Some(Value::Bool(k)) = p.get("keepdims") {
        params.keepdims = *k;
    }
    if let Some(v) = p.get("initial") {
        params.initial = Some(scalar_of(v));
    }
    if let Some(v) = p.get("ddof") {
        params.ddof = v.num().parse().unwrap();
    }
    if let Some(v) = p.get("dtype") {
        params.dtype = Some(DType::from_name(v.str()).unwrap());
    }
    let mask_data;
    if let Some(w) = p.get("where") {
        let (data, layout) = make_mask(w);
        mask_data = data;
        params.where_mask = Some(ArrayRef::new(DType::Bool, &mask_data, layout).unwrap());
    }

    let expect = case.get("expect").unwrap();
    let inputs = [a];
    let op = Op::Reduce(op);
    let result = fnp_core::output_of(op, &inputs, &params).and_then(|(dt, shape)| {
        let mut out = vec![0u64; (shape.size() * dt.itemsize()).div_ceil(8)];
        let mut scratch = vec![0u64; scratch_len(op, &inputs, &params)?];
        let o = call(
            op,
            &inputs,
            &params,
            bytemuck::cast_slice_mut(&mut out),
            &mut scratch,
        )?;
        let out_bytes: Vec<u8> = bytemuck::cast_slice(&out)[..o.byte_len()].to_vec();
        Ok((o, out_bytes))
    });
    match (expect.get("status").unwrap().str(), result) {
        ("error", Err(e)) => {
            let want = expect.get("error").unwrap().str();
            if e.numpy_exception() == want {
                Ok(())
            } else {
                Err(format!(
                    "error {e:?} ({}) but NumPy raised {want}",
                    e.numpy_exception()
                ))
            }
        }
        ("error", Ok(_)) => Err(format!(
            "NumPy raised {}, fnp answered",
            expect.get("error").unwrap().str()
        )),
        (_, Err(e)) => Err(format!("fnp error {e:?}, NumPy answered")),
        (_, Ok((o, out))) => {
            let want_dtype = expect.get("dtype").unwrap().str();
            if o.dtype.name() != want_dtype {
                return Err(format!("dtype {} vs {want_dtype}", o.dtype));
            }
            let want_shape: Vec<usize> = expect
                .get("shape")
                .unwrap()
                .arr()
                .iter()
                .map(Value::usize)
                .collect();
            if o.shape.dims() != want_shape.as_slice() {
                return Err(format!("shape {:?} vs {want_shape:?}", o.shape.dims()));
            }
            let got = canonical(o.dtype, &out, op_name);
            if let Some(data) = expect.get("data") {
                let want = canonical_expected(o.dtype, data.arr(), op_name);
                if let Some(i) = (0..want.len()).find(|&i| got.get(i) != want.get(i)) {
                    return Err(format!(
                        "value [{i}] {} vs NumPy {} ({} values)",
                        got[i],
                        want[i],
                        want.len()
                    ));
                }
            } else {
                let head =
                    canonical_expected(o.dtype, expect.get("data_head").unwrap().arr(), op_name);
                if let Some(i) = (0..head.len()).find(|&i| got.get(i) != head.get(i)) {
                    return Err(format!("value [{i}] {} vs NumPy {}", got[i], head[i]));
                }
                let want_hash = expect.get("hash").unwrap().str();
                let h = digest(o.dtype, &out, op_name);
                if h != want_hash {
                    return Err(format!(
                        "hash of {} values differs (head matches)",
                        got.len()
                    ));
                }
            }
            let want_flags: Vec<&str> = expect
                .get("fp_flags")
                .unwrap()
                .arr()
                .iter()
                .map(Value::str)
                .collect();
            let got_flags: Vec<&str> = o.flags.names().collect();
            if got_flags != want_flags {
                return Err(format!("flags {got_flags:?} vs NumPy {want_flags:?}"));
            }
            Ok(())
        }
    }
}

#[test]
fn reductions_match_numpy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/numpy/reductions.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    let doc = json::parse(&text);
    let cases = doc.get("cases").unwrap().arr();
    let filter = std::env::var("FNP_CASE").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for case in cases {
        let id = case.get("id").unwrap().str();
        if filter.as_deref().is_some_and(|f| !id.contains(f)) {
            continue;
        }
        ran += 1;
        if let Err(msg) = run_case(case) {
            failures.push(format!(
                "{id} {}: {msg}",
                case.get("layout")
                    .map(|l| format!("{l:?}"))
                    .unwrap_or_default()
            ));
        }
    }
    for f in failures.iter().take(60) {
        eprintln!("{f}");
    }
    eprintln!("{ran} cases, {} failures", failures.len());
    assert!(ran > 0, "no case ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} cases differ from NumPy",
        failures.len()
    );
}
