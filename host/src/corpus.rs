//! The case corpus (`fnp.cases.v2`, and `fnp.cases.v1` without `out=` and
//! `casting=`): reading, decoding and writing.
//!
//! # How an input lies in memory
//!
//! `data` is always the logical C-order values (or `generate`, below). An
//! optional `layout` says where they lie in the memory buffer handed to
//! NumPy and to fnp, because NumPy's reduction order depends on it:
//!
//! - absent: C order, offset 0, the buffer is exactly the data;
//! - `"F"`: Fortran order, offset 0, buffer length = element count;
//! - `{"strides": [s0, …], "offset": o}`: element strides (one per
//!   dimension, negative or zero allowed) and the element index of the first
//!   logical element. The logical element at index `(i0, i1, …)` is stored at
//!   buffer element `o + Σ ik·sk`. The buffer has `max(o + Σ ik·sk) + 1`
//!   elements (`o` elements when the array is empty); every index must be
//!   ≥ 0. Bytes no logical element reaches are [`FILL_BYTE`]. Two logical
//!   elements may share a slot (zero strides) only if their values are equal.
//!
//! Both `fnp capture` (which hands NumPy the very bytes built here) and
//! every target build this same buffer.
//!
//! # Compact large inputs
//!
//! Host-only inputs with ≥ 10⁵ elements are stored as
//! `"generate": {"seed", "low", "high"}` instead of `data`, expanded by
//! [`generate_values`]: element `i` is drawn from SplitMix64 at state
//! `seed + (i + 1)·0x9E3779B97F4A7C15`; integers are `low + u mod
//! (high − low + 1)`, bools `u & 1`, floats `low + (high − low)·t` in
//! float64 with `t = (u >> 11)·2⁻⁵³`, rounded once to float32 for float32.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use fnp_core::DType;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::case::{AxisParam, Case, CaseOp, Input, Mask, Out, Params, SignatureParam};
use crate::value::{self, Scalar};

/// Schema id of corpus files.
pub const SCHEMA: &str = "fnp.cases.v3";

/// The schema of corpora that use none of v3's keywords (`signature=`)
/// but v2's: still written for them, so their bytes do not change.
pub const SCHEMA_V2: &str = "fnp.cases.v2";

/// The schema of corpora that use none of v2's keywords (`out=`,
/// `casting=`): still written for them, so their bytes (and their
/// oracles' corpus hashes) do not change.
pub const SCHEMA_V1: &str = "fnp.cases.v1";

/// The byte in buffer slots that no logical element reaches.
pub const FILL_BYTE: u8 = 0xA5;

/// Largest memory buffer one input may ask for, in elements.
pub const MAX_BUFFER_ELEMENTS: usize = 1 << 24;

/// A decoded corpus file.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// Where it was read from.
    pub path: PathBuf,
    /// The `suite` name.
    pub suite: String,
    /// sha256 of the file's bytes (what an oracle names).
    pub sha256: String,
    /// The generator seed the file was made with (`seed`), if it says.
    pub seed: Option<u64>,
    /// Cases in file order.
    pub cases: Vec<Case>,
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// C-order element strides of `shape`.
pub fn c_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = step;
        step = step.saturating_mul(d.max(1) as isize);
    }
    strides
}

/// Fortran-order element strides of `shape`.
pub fn f_strides(shape: &[usize]) -> Vec<isize> {
    let mut strides = vec![0isize; shape.len()];
    let mut step = 1isize;
    for (s, &d) in strides.iter_mut().zip(shape) {
        *s = step;
        step = step.saturating_mul(d.max(1) as isize);
    }
    strides
}

/// Reads, schema-checks and decodes a corpus file. Errors name the file,
/// the case id and the field.
pub fn load(path: &Path) -> anyhow::Result<Corpus> {
    let bytes = crate::jsonread::read_file(path)?;
    let json = crate::jsonread::parse(path, &bytes)?;
    let kind = match json.get("schema").and_then(Value::as_str) {
        Some(SCHEMA_V1) => crate::schema::Kind::CasesV1,
        Some(SCHEMA_V2) => crate::schema::Kind::CasesV2,
        _ => crate::schema::Kind::Cases,
    };
    crate::schema::validate(kind, path, &json)?;
    let suite = json
        .get("suite")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut cases = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in json
        .get("cases")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let id = raw.get("id").and_then(Value::as_str).unwrap_or("?");
        let mut case = decode_case(raw).map_err(|(field, msg)| {
            anyhow::anyhow!("{}: case {id} (#{i}): field {field}: {msg}", path.display())
        })?;
        defer_generated(&mut case, raw);
        if !seen.insert(case.id.clone()) {
            anyhow::bail!(
                "{}: case {id} (#{i}): field id: duplicate id",
                path.display()
            );
        }
        cases.push(case);
    }
    Ok(Corpus {
        path: path.to_path_buf(),
        suite,
        sha256: sha256_hex(&bytes),
        seed: json.get("seed").and_then(Value::as_u64),
        cases,
    })
}

/// Drops the built buffers of `case`'s `generate` inputs, keeping their
/// descriptors: [`decode_case`] built them once, so every check ran at
/// load time, and [`Case::materialized`] builds them again when the case
/// runs. A corpus of many large generated cases then costs memory for one
/// case at a time, not for all of them.
pub fn defer_generated(case: &mut Case, raw: &Value) {
    let raws = raw.get("inputs").and_then(Value::as_array);
    for (k, input) in case.inputs.iter_mut().enumerate() {
        let Some(raw) = raws.and_then(|r| r.get(k)) else {
            continue;
        };
        if raw.get("generate").is_none() || input.generated.is_some() {
            continue;
        }
        input.generated = Some(crate::case::Generated {
            raw: raw.clone(),
            buffer_elements: input.buffer_len(),
        });
        input.buffer = Vec::new();
    }
}

type FieldError = (String, String);

fn field_err(field: impl Into<String>, msg: impl Into<String>) -> FieldError {
    (field.into(), msg.into())
}

/// Decodes one case object (already schema-checked, but every access is
/// still checked so a hand-made `Value` cannot panic).
pub fn decode_case(raw: &Value) -> Result<Case, FieldError> {
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| field_err("id", "missing"))?
        .to_string();
    let op = raw
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| field_err("op", "missing"))?
        .to_string();
    let inputs = raw
        .get("inputs")
        .and_then(Value::as_array)
        .ok_or_else(|| field_err("inputs", "missing"))?
        .iter()
        .enumerate()
        .map(|(k, v)| decode_input(v).map_err(|(f, m)| (format!("inputs[{k}].{f}"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    let params = match raw.get("params") {
        Some(p) => decode_params(p, &inputs).map_err(|(f, m)| (format!("params.{f}"), m))?,
        None => Params::default(),
    };
    Ok(Case {
        id,
        op: CaseOp::new(&op),
        inputs,
        params,
    })
}

fn decode_shape(v: Option<&Value>) -> Result<Vec<usize>, FieldError> {
    let arr = v
        .and_then(Value::as_array)
        .ok_or_else(|| field_err("shape", "missing or not an array"))?;
    arr.iter()
        .map(|d| {
            d.as_u64()
                .and_then(|d| usize::try_from(d).ok())
                .ok_or_else(|| field_err("shape", format!("{d} is not a dimension")))
        })
        .collect()
}

fn decode_dtype(v: Option<&Value>, field: &str) -> Result<DType, FieldError> {
    let name = v
        .and_then(Value::as_str)
        .ok_or_else(|| field_err(field, "missing"))?;
    DType::from_name(name).ok_or_else(|| field_err(field, format!("unknown dtype {name:?}")))
}

/// Decodes one input and builds its memory buffer.
pub fn decode_input(v: &Value) -> Result<Input, FieldError> {
    let dtype = decode_dtype(v.get("dtype"), "dtype")?;
    let shape = decode_shape(v.get("shape"))?;
    let scalar = v.get("scalar").and_then(Value::as_bool).unwrap_or(false);
    let size = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| field_err("shape", "element count overflows"))?;
    if size > MAX_BUFFER_ELEMENTS {
        return Err(field_err(
            "shape",
            format!("{size} elements is more than fnp reads"),
        ));
    }
    let logical = match (v.get("data"), v.get("generate")) {
        (Some(Value::Array(items)), None) => {
            if items.len() != size {
                return Err(field_err(
                    "data",
                    format!(
                        "{} values for shape {shape:?} ({size} elements)",
                        items.len()
                    ),
                ));
            }
            value::encode_values(dtype, items).map_err(|m| field_err("data", m))?
        }
        (None, Some(g)) => generate_values(dtype, size, g).map_err(|m| field_err("generate", m))?,
        _ => {
            return Err(field_err(
                "data",
                "exactly one of data and generate is required",
            ))
        }
    };
    if scalar {
        if !shape.is_empty() {
            return Err(field_err("scalar", "a Python scalar has shape []"));
        }
        if !matches!(
            dtype,
            DType::Bool | DType::Int64 | DType::UInt64 | DType::Float64
        ) {
            return Err(field_err(
                "scalar",
                format!("a Python scalar cannot be {dtype}"),
            ));
        }
        if v.get("layout").is_some() {
            return Err(field_err("layout", "a Python scalar has no layout"));
        }
    }
    let (strides, offset) = match v.get("layout") {
        None => (c_strides(&shape), 0),
        Some(Value::String(s)) if s == "F" => (f_strides(&shape), 0),
        Some(Value::String(s)) if s == "C" => (c_strides(&shape), 0),
        Some(l @ Value::Object(_)) => {
            let strides = l
                .get("strides")
                .and_then(Value::as_array)
                .ok_or_else(|| field_err("layout.strides", "missing"))?
                .iter()
                .map(|s| {
                    s.as_i64()
                        .and_then(|s| isize::try_from(s).ok())
                        .ok_or_else(|| field_err("layout.strides", format!("{s} is not a stride")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if strides.len() != shape.len() {
                return Err(field_err(
                    "layout.strides",
                    format!("{} strides for {} dimensions", strides.len(), shape.len()),
                ));
            }
            let offset = l
                .get("offset")
                .map(|o| {
                    o.as_u64()
                        .and_then(|o| usize::try_from(o).ok())
                        .ok_or_else(|| field_err("layout.offset", format!("{o} is not an offset")))
                })
                .transpose()?
                .unwrap_or(0);
            (strides, offset)
        }
        Some(other) => {
            return Err(field_err(
                "layout",
                format!("{other} is not \"F\" or {{strides, offset}}"),
            ))
        }
    };
    let buffer = build_buffer(dtype, &shape, &strides, offset, &logical)
        .map_err(|m| field_err("layout", m))?;
    Ok(Input {
        dtype,
        shape,
        scalar,
        strides,
        offset,
        buffer,
        generated: None,
    })
}

/// Lays C-order `logical` bytes out in memory as described in the module
/// docs.
pub fn build_buffer(
    dtype: DType,
    shape: &[usize],
    strides: &[isize],
    offset: usize,
    logical: &[u8],
) -> Result<Vec<u8>, String> {
    let item = dtype.itemsize();
    // Checked: this is public, and a shape from a hand-made value may not
    // have been through `decode_input`'s limit.
    let size = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or("element count overflows")?;
    if size.checked_mul(item) != Some(logical.len()) {
        return Err("data length does not match the shape".into());
    }
    if strides.len() != shape.len() {
        return Err(format!(
            "{} strides for {} dimensions",
            strides.len(),
            shape.len()
        ));
    }
    let base = i128::try_from(offset).map_err(|_| "offset too large")?;
    let len = if size == 0 {
        offset
    } else {
        let (mut lo, mut hi) = (base, base);
        for (&d, &s) in shape.iter().zip(strides) {
            // |(d - 1)·s| < 2**127, but a sum of them may not be.
            let span = (d as i128 - 1) * s as i128;
            let side = if span < 0 { &mut lo } else { &mut hi };
            *side = side
                .checked_add(span)
                .ok_or("the layout's span overflows")?;
        }
        if lo < 0 {
            return Err(format!(
                "the layout reaches element index {lo} (before the buffer)"
            ));
        }
        usize::try_from(hi + 1).map_err(|_| "buffer too large".to_string())?
    };
    if len > MAX_BUFFER_ELEMENTS {
        return Err(format!("a buffer of {len} elements is more than fnp reads"));
    }
    let mut buffer = vec![FILL_BYTE; len * item];
    let mut written = vec![false; len];
    let mut index = vec![0usize; shape.len()];
    for k in 0..size {
        let pos = index
            .iter()
            .zip(strides)
            .fold(base, |acc, (&i, &s)| acc + i as i128 * s as i128);
        let pos = usize::try_from(pos).map_err(|_| "negative element index")?;
        let src = logical
            .get(k * item..(k + 1) * item)
            .ok_or("data shorter than the shape")?;
        let dst = buffer
            .get_mut(pos * item..(pos + 1) * item)
            .ok_or("element index outside the buffer")?;
        let seen = written
            .get_mut(pos)
            .ok_or("element index outside the buffer")?;
        if *seen && dst != src {
            return Err(format!(
                "logical elements share buffer slot {pos} but have different values"
            ));
        }
        dst.copy_from_slice(src);
        *seen = true;
        // Next C-order index.
        for axis in (0..shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    Ok(buffer)
}

/// The logical C-order values of `input` read back from its buffer.
pub fn logical_bytes(input: &Input) -> Vec<u8> {
    let item = input.dtype.itemsize();
    let size = input.size();
    let mut out = Vec::with_capacity(size * item);
    let mut index = vec![0usize; input.shape.len()];
    for _ in 0..size {
        let pos = index
            .iter()
            .zip(&input.strides)
            .fold(input.offset as i128, |acc, (&i, &s)| {
                acc + i as i128 * s as i128
            });
        let slot = usize::try_from(pos)
            .ok()
            .and_then(|p| input.buffer.get(p * item..(p + 1) * item));
        out.extend_from_slice(slot.unwrap_or(&[0u8; 8][..item]));
        for axis in (0..input.shape.len()).rev() {
            index[axis] += 1;
            if index[axis] < input.shape[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    out
}

/// SplitMix64 output for `state`.
pub fn splitmix64(state: u64) -> u64 {
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// Expands a `generate` descriptor (see the module docs).
pub fn generate_values(dtype: DType, size: usize, g: &Value) -> Result<Vec<u8>, String> {
    let seed = g
        .get("seed")
        .and_then(Value::as_u64)
        .ok_or("seed must be a non-negative integer")?;
    let low = g.get("low").ok_or("low is missing")?;
    let high = g.get("high").ok_or("high is missing")?;
    let mut out = Vec::with_capacity(size * dtype.itemsize());
    let draw =
        |i: usize| splitmix64(seed.wrapping_add((i as u64).wrapping_add(1).wrapping_mul(GOLDEN)));
    match dtype {
        DType::Bool => out.extend((0..size).map(|i| (draw(i) & 1) as u8)),
        DType::Float32 | DType::Float64 => {
            let lo = value::parse_f64(low)?;
            let hi = value::parse_f64(high)?;
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err("low and high must be finite with low <= high".into());
            }
            for i in 0..size {
                let t = (draw(i) >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                let x = lo + (hi - lo) * t;
                if dtype == DType::Float32 {
                    out.extend_from_slice(&(x as f32).to_le_bytes());
                } else {
                    out.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        _ => {
            let (lo, hi) = match (Scalar::from_json(low)?, Scalar::from_json(high)?) {
                (Scalar::Int(lo), Scalar::Int(hi)) => (lo, hi),
                _ => return Err("low and high must be integers".into()),
            };
            let (min, max) = dtype.int_range().ok_or("not an integer dtype")?;
            if lo > hi || lo < min || hi > max {
                return Err(format!("[{lo}, {hi}] is not a range inside {dtype}"));
            }
            let span = (hi - lo + 1) as u128;
            for i in 0..size {
                let v = lo + (u128::from(draw(i)) % span) as i128;
                out.extend_from_slice(v.to_le_bytes().get(..dtype.itemsize()).unwrap_or(&[]));
            }
        }
    }
    Ok(out)
}

/// One `out=` entry: an array (its contents before the call) or
/// `{"input": k}`, input k itself (in place: its logical values are the
/// out array's contents).
fn decode_out(v: &Value, inputs: &[Input]) -> Result<Option<Out>, FieldError> {
    if v.is_null() {
        return Ok(None);
    }
    if let Some(k) = v.get("input") {
        let k = k
            .as_u64()
            .and_then(|k| usize::try_from(k).ok())
            .ok_or_else(|| field_err("input", format!("{k} is not an input index")))?;
        let input = inputs
            .get(k)
            .ok_or_else(|| field_err("input", format!("no input {k}")))?;
        if input.scalar || input.generated.is_some() {
            return Err(field_err("input", format!("input {k} is not an array")));
        }
        return Ok(Some(Out {
            array: input.clone(),
            operand: Some(k),
        }));
    }
    if v.get("generate").is_some() || v.get("scalar").is_some() {
        return Err(field_err(
            "out",
            "an out array holds data, not generate or scalar",
        ));
    }
    Ok(Some(Out {
        array: decode_input(v)?,
        operand: None,
    }))
}

fn decode_params(p: &Value, inputs: &[Input]) -> Result<Params, FieldError> {
    let mut params = Params::default();
    if let Some(axis) = p.get("axis") {
        params.axis = Some(match axis {
            Value::Null => AxisParam::All,
            Value::Number(n) => AxisParam::One(
                n.as_i64()
                    .ok_or_else(|| field_err("axis", format!("{n} is not an axis")))?,
            ),
            Value::Array(items) => AxisParam::Tuple(
                items
                    .iter()
                    .map(|a| {
                        a.as_i64()
                            .ok_or_else(|| field_err("axis", format!("{a} is not an axis")))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => return Err(field_err("axis", format!("{other} is not an axis"))),
        });
    }
    if let Some(k) = p.get("keepdims") {
        params.keepdims = k
            .as_bool()
            .ok_or_else(|| field_err("keepdims", "not a bool"))?;
    }
    if let Some(i) = p.get("initial") {
        params.initial = Some(Scalar::from_json(i).map_err(|m| field_err("initial", m))?);
    }
    if let Some(w) = p.get("where") {
        let shape = decode_shape(w.get("shape")).map_err(|(f, m)| (format!("where.{f}"), m))?;
        let data = w
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| field_err("where.data", "missing"))?
            .iter()
            .map(|b| {
                b.as_bool()
                    .ok_or_else(|| field_err("where.data", format!("{b} is not a bool")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if data.len() != shape.iter().product::<usize>() {
            return Err(field_err("where.data", "length does not match where.shape"));
        }
        params.where_mask = Some(Mask { shape, data });
    }
    if let Some(d) = p.get("dtype") {
        params.dtype = Some(decode_dtype(Some(d), "dtype")?);
    }
    if let Some(d) = p.get("ddof") {
        params.ddof = Some(value::parse_f64(d).map_err(|m| field_err("ddof", m))?);
    }
    if let Some(o) = p.get("out") {
        params.out = match o {
            Value::Array(list) => list
                .iter()
                .enumerate()
                .map(|(k, v)| decode_out(v, inputs).map_err(|(f, m)| (format!("out[{k}].{f}"), m)))
                .collect::<Result<_, _>>()?,
            one => vec![decode_out(one, inputs).map_err(|(f, m)| (format!("out.{f}"), m))?],
        };
    }
    if let Some(c) = p.get("casting") {
        let name = c.as_str().unwrap_or_default();
        params.casting = Some(
            fnp_core::Casting::from_name(name)
                .ok_or_else(|| field_err("casting", format!("unknown rule {name:?}")))?,
        );
    }
    if let Some(sig) = p.get("signature") {
        params.signature = Some(match sig {
            Value::String(text) => SignatureParam::Text(text.clone()),
            Value::Array(items) => SignatureParam::Types(
                items
                    .iter()
                    .map(|v| match v {
                        Value::Null => Ok(None),
                        Value::String(name) => Ok(Some(name.clone())),
                        other => Err(field_err(
                            "signature",
                            format!("{other} is neither a dtype name nor null"),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => {
                return Err(field_err(
                    "signature",
                    format!("{other} is neither a string nor a list"),
                ))
            }
        });
    }
    Ok(params)
}

/// Writes `top` (an object) deterministically: sorted keys, compact, with
/// the elements of the array under `list_key` one per line so diffs of
/// committed fixtures stay readable.
pub fn write_lines(top: &serde_json::Map<String, Value>, list_key: &str) -> String {
    let mut out = String::from("{");
    let mut first = true;
    // serde_json's Map is a BTreeMap (no preserve_order): keys come sorted.
    for (k, v) in top {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('\n');
        out.push_str(&serde_json::to_string(k).unwrap_or_default());
        out.push(':');
        match v {
            Value::Array(items) if k == list_key => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    out.push_str(&serde_json::to_string(item).unwrap_or_default());
                }
                out.push_str("\n]");
            }
            other => out.push_str(&serde_json::to_string(other).unwrap_or_default()),
        }
    }
    out.push_str("\n}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layouts_build_the_documented_buffer() {
        let data: Vec<u8> = (1u8..=6).collect();
        // F order of a 2x3 array.
        let f = build_buffer(DType::UInt8, &[2, 3], &f_strides(&[2, 3]), 0, &data).unwrap();
        assert_eq!(f, [1, 4, 2, 5, 3, 6]);
        // Reversed columns with a gap: strides [3, -1], offset 2.
        let r = build_buffer(DType::UInt8, &[2, 3], &[4, -1], 2, &data).unwrap();
        assert_eq!(r, [3, 2, 1, FILL_BYTE, 6, 5, 4]);
        // Negative reach before the buffer is an error.
        assert!(build_buffer(DType::UInt8, &[2, 3], &[3, -1], 0, &data).is_err());
        // Zero strides only with equal values.
        assert!(build_buffer(DType::UInt8, &[2], &[0], 0, &[7, 7]).is_ok());
        assert!(build_buffer(DType::UInt8, &[2], &[0], 0, &[7, 8]).is_err());
        // Empty arrays keep their offset as the buffer length.
        assert_eq!(
            build_buffer(DType::UInt8, &[0, 3], &[3, 1], 2, &[])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn decoded_input_reads_back_its_logical_values() {
        let v = json!({"dtype": "int16", "shape": [2, 2], "data": [1, -2, 3, -4],
                       "layout": {"strides": [-1, 2], "offset": 1}});
        let input = decode_input(&v).unwrap();
        assert_eq!(input.buffer_len(), 4);
        assert_eq!(
            logical_bytes(&input),
            value::encode_values(DType::Int16, v["data"].as_array().unwrap()).unwrap()
        );
    }

    #[test]
    fn input_errors_name_the_field() {
        let bad = [
            (json!({"dtype": "int8", "shape": [2], "data": [1]}), "data"),
            (json!({"dtype": "int9", "shape": [1], "data": [1]}), "dtype"),
            (
                json!({"dtype": "int8", "shape": [1], "data": [1], "scalar": true}),
                "scalar",
            ),
            (
                json!({"dtype": "int8", "shape": [2], "data": [1, 2], "layout": {"strides": [1, 1]}}),
                "layout.strides",
            ),
            (
                json!({"dtype": "int8", "shape": [2], "data": [1, 2], "layout": "K"}),
                "layout",
            ),
            (json!({"dtype": "int8", "shape": [2]}), "data"),
            (
                json!({"dtype": "int8", "shape": [3], "generate": {"seed": 1, "low": 5, "high": 1}}),
                "generate",
            ),
        ];
        for (v, field) in bad {
            let (f, _) = decode_input(&v).unwrap_err();
            assert_eq!(f, field, "{v}");
        }
    }

    #[test]
    fn loaded_corpora_build_generate_inputs_only_when_a_case_runs() {
        // Issue 27: every case's generated buffers were built at load, so
        // a small corpus of large `generate` inputs took gigabytes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.json");
        let gen = |seed: u64| {
            json!({"dtype": "float64", "shape": [1000, 3],
                   "generate": {"seed": seed, "low": -1.0, "high": 1.0},
                   "layout": {"strides": [1, 1000], "offset": 0}})
        };
        let doc = json!({"schema": SCHEMA, "suite": "g", "cases": [
            {"id": "a", "op": "add", "inputs": [gen(1), {"dtype": "float64", "shape": [], "data": [2.0]}]},
            {"id": "b", "op": "add", "inputs": [gen(2), gen(3)]}
        ]});
        std::fs::write(&path, doc.to_string()).unwrap();
        let corpus = load(&path).unwrap();
        for case in &corpus.cases {
            assert!(!case.is_materialized(), "{}", case.id);
            for input in &case.inputs {
                if input.generated.is_some() {
                    assert!(input.buffer.is_empty(), "{}: built at load", case.id);
                    assert_eq!(input.buffer_len(), 3000);
                }
            }
            // Sizes (what target limits look at) are known without the data.
            assert!(case.input_bytes() >= 3000 * 8);
            let built = case.materialized().unwrap();
            assert!(built.is_materialized());
            assert_eq!(built.input_bytes(), case.input_bytes());
            for (k, input) in built.inputs.iter().enumerate() {
                // The same bytes decoding the input directly gives.
                let raw = &doc["cases"][if case.id == "a" { 0 } else { 1 }]["inputs"][k];
                assert_eq!(input, &decode_input(raw).unwrap());
            }
        }
        // A plain case is borrowed as it is.
        let plain = decode_case(&json!({"id": "p", "op": "add", "inputs": [
            {"dtype": "int8", "shape": [1], "data": [1]}]}))
        .unwrap();
        assert!(matches!(
            plain.materialized(),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn generated_values_are_deterministic_and_in_range() {
        let g = json!({"seed": 7, "low": -3, "high": 3});
        let a = generate_values(DType::Int8, 1000, &g).unwrap();
        assert_eq!(a, generate_values(DType::Int8, 1000, &g).unwrap());
        assert!(a.iter().all(|&b| (-3..=3).contains(&(b as i8))));
        let g = json!({"seed": 7, "low": -1.0, "high": 1.0});
        let f = generate_values(DType::Float64, 100, &g).unwrap();
        for c in f.chunks(8) {
            let x = f64::from_le_bytes(c.try_into().unwrap());
            assert!((-1.0..=1.0).contains(&x));
        }
        // Pinned so that a change of the documented algorithm fails.
        assert_eq!(splitmix64(GOLDEN), 0xE220_A839_7B1D_CDAF);
    }
}
