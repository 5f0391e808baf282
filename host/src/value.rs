//! Exact JSON encoding of element values.
//!
//! Every value must survive a round trip bit for bit: floats are written as
//! the shortest decimal that parses back to the same bits (float32 values
//! with float32's shortest form), NaN/±Inf as the strings `"nan"`, `"-nan"`
//! (sign bit set), `"inf"`, `"-inf"`, `-0.0` keeps its sign, and 64-bit
//! integers are exact JSON integers. Parsing reads the number's own text
//! (serde_json's `arbitrary_precision`), so float32 values are rounded once,
//! straight from the decimal, never through float64.

use fnp_core::DType;
use serde_json::{Number, Value};

/// One scalar value as the corpus writes it (e.g. a reduction's `initial`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// A Python `bool`.
    Bool(bool),
    /// A Python `int` (fits int64 or uint64).
    Int(i128),
    /// A Python `float`.
    Float(f64),
}

impl Scalar {
    /// Reads a JSON scalar: `true`/`false`, an integer literal, or a float
    /// (a literal with `.`/`e`, or one of the NaN/Inf strings).
    pub fn from_json(v: &Value) -> Result<Scalar, String> {
        match v {
            Value::Bool(b) => Ok(Scalar::Bool(*b)),
            Value::Number(n) => {
                let text = n.to_string();
                if is_integer_literal(&text) {
                    let i: i128 = text
                        .parse()
                        .map_err(|_| format!("integer {text} is not a valid integer"))?;
                    if i < i128::from(i64::MIN) || i > i128::from(u64::MAX) {
                        return Err(format!("integer {text} does not fit int64 or uint64"));
                    }
                    Ok(Scalar::Int(i))
                } else {
                    parse_f64(v).map(Scalar::Float)
                }
            }
            Value::String(_) => parse_f64(v).map(Scalar::Float),
            other => Err(format!("expected a number or bool, found {other}")),
        }
    }

    /// The canonical JSON form.
    pub fn to_json(self) -> Value {
        match self {
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => int_json(i),
            Scalar::Float(f) => f64_json(f),
        }
    }

    /// The dtype NumPy gives this Python scalar on its own.
    pub fn dtype(self) -> DType {
        match self {
            Scalar::Bool(_) => DType::Bool,
            Scalar::Int(i) if i > i128::from(i64::MAX) => DType::UInt64,
            Scalar::Int(_) => DType::Int64,
            Scalar::Float(_) => DType::Float64,
        }
    }
}

fn is_integer_literal(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

/// JSON for an integer of any dtype (exact, never through f64).
pub fn int_json(i: i128) -> Value {
    if let Ok(v) = i64::try_from(i) {
        Value::Number(Number::from(v))
    } else if let Ok(v) = u64::try_from(i) {
        Value::Number(Number::from(v))
    } else {
        // Wider than any dtype: only reachable with a caller bug; keep the
        // exact digits rather than rounding.
        Value::String(i.to_string())
    }
}

fn number_from_text(text: &str) -> Value {
    match serde_json::from_str::<Number>(text) {
        Ok(n) => Value::Number(n),
        Err(_) => Value::String(text.to_string()),
    }
}

fn special_json(nan: bool, negative: bool) -> Option<Value> {
    let s = match (nan, negative) {
        (true, false) => "nan",
        (true, true) => "-nan",
        _ => return None,
    };
    Some(Value::String(s.into()))
}

/// Canonical JSON for a float64 value.
pub fn f64_json(f: f64) -> Value {
    if f.is_nan() {
        return special_json(true, f.is_sign_negative()).unwrap_or(Value::Null);
    }
    if f.is_infinite() {
        return Value::String(if f > 0.0 { "inf" } else { "-inf" }.into());
    }
    number_from_text(ryu::Buffer::new().format_finite(f))
}

/// Canonical JSON for a float32 value (float32's own shortest decimal).
pub fn f32_json(f: f32) -> Value {
    if f.is_nan() {
        return special_json(true, f.is_sign_negative()).unwrap_or(Value::Null);
    }
    if f.is_infinite() {
        return Value::String(if f > 0.0 { "inf" } else { "-inf" }.into());
    }
    number_from_text(ryu::Buffer::new().format_finite(f))
}

fn special_text(s: &str) -> Option<(bool, bool)> {
    // (is_nan, negative)
    match s {
        "nan" => Some((true, false)),
        "-nan" => Some((true, true)),
        "inf" => Some((false, false)),
        "-inf" => Some((false, true)),
        _ => None,
    }
}

/// Parses a float64 value from its JSON form.
pub fn parse_f64(v: &Value) -> Result<f64, String> {
    match v {
        Value::Number(n) => {
            let f = n
                .to_string()
                .parse::<f64>()
                .map_err(|_| format!("{n} is not a float"))?;
            // A literal beyond MAX is not a value fnp ever writes; taking
            // it as inf would hide a corrupted file.
            if f.is_infinite() {
                return Err(format!("{n} is out of range for float64 (write \"inf\")"));
            }
            Ok(f)
        }
        Value::String(s) => match special_text(s) {
            Some((true, neg)) => Ok(if neg { -f64::NAN.abs() } else { f64::NAN.abs() }),
            Some((false, neg)) => Ok(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            None => Err(format!("\"{s}\" is not a float (use nan, -nan, inf, -inf)")),
        },
        other => Err(format!("expected a float, found {other}")),
    }
}

/// Parses a float32 value, rounding the decimal text once to float32.
pub fn parse_f32(v: &Value) -> Result<f32, String> {
    match v {
        Value::Number(n) => {
            let f = n
                .to_string()
                .parse::<f32>()
                .map_err(|_| format!("{n} is not a float"))?;
            if f.is_infinite() {
                return Err(format!("{n} is out of range for float32 (write \"inf\")"));
            }
            Ok(f)
        }
        Value::String(_) => {
            let f = parse_f64(v)?;
            // NaN keeps its sign; infinities convert exactly.
            Ok(f as f32)
        }
        other => Err(format!("expected a float, found {other}")),
    }
}

fn parse_int(v: &Value, lo: i128, hi: i128, dtype: DType) -> Result<i128, String> {
    let Value::Number(n) = v else {
        return Err(format!("expected an integer for {dtype}, found {v}"));
    };
    let text = n.to_string();
    if !is_integer_literal(&text) {
        return Err(format!("expected an integer for {dtype}, found {text}"));
    }
    let i: i128 = text
        .parse()
        .map_err(|_| format!("{text} is not an integer"))?;
    if i < lo || i > hi {
        return Err(format!("{text} is out of range for {dtype}"));
    }
    Ok(i)
}

/// Appends the little-endian bytes of one JSON value of `dtype` to `out`.
pub fn encode_value(dtype: DType, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match dtype {
        DType::Bool => match v {
            Value::Bool(b) => out.push(u8::from(*b)),
            other => return Err(format!("expected true/false for bool, found {other}")),
        },
        DType::Float32 => out.extend_from_slice(&parse_f32(v)?.to_le_bytes()),
        DType::Float64 => out.extend_from_slice(&parse_f64(v)?.to_le_bytes()),
        _ => {
            let (lo, hi) = dtype
                .int_range()
                .ok_or_else(|| format!("no range for {dtype}"))?;
            let i = parse_int(v, lo, hi, dtype)?;
            let bytes = i.to_le_bytes();
            out.extend_from_slice(bytes.get(..dtype.itemsize()).unwrap_or(&[]));
        }
    }
    Ok(())
}

/// Encodes a JSON array of values; the error names the element index.
pub fn encode_values(dtype: DType, values: &[Value]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(values.len() * dtype.itemsize());
    for (i, v) in values.iter().enumerate() {
        encode_value(dtype, v, &mut out).map_err(|e| format!("data[{i}]: {e}"))?;
    }
    Ok(out)
}

/// Decodes the element at `index` of little-endian `bytes`.
pub fn decode_value(dtype: DType, bytes: &[u8], index: usize) -> Option<Value> {
    let size = dtype.itemsize();
    let raw = bytes.get(index.checked_mul(size)?..index.checked_mul(size)?.checked_add(size)?)?;
    let mut b8 = [0u8; 8];
    b8.get_mut(..size)?.copy_from_slice(raw);
    Some(match dtype {
        DType::Bool => Value::Bool(raw.first().copied().unwrap_or(0) != 0),
        DType::Int8 => int_json(i128::from(raw[0] as i8)),
        DType::Int16 => int_json(i128::from(i16::from_le_bytes([b8[0], b8[1]]))),
        DType::Int32 => int_json(i128::from(i32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]]))),
        DType::Int64 => int_json(i128::from(i64::from_le_bytes(b8))),
        DType::UInt8 => int_json(i128::from(raw[0])),
        DType::UInt16 => int_json(i128::from(u16::from_le_bytes([b8[0], b8[1]]))),
        DType::UInt32 => int_json(i128::from(u32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]]))),
        DType::UInt64 => int_json(i128::from(u64::from_le_bytes(b8))),
        DType::Float32 => f32_json(f32::from_le_bytes([b8[0], b8[1], b8[2], b8[3]])),
        DType::Float64 => f64_json(f64::from_le_bytes(b8)),
    })
}

/// Decodes all of `bytes` as values of `dtype`.
pub fn decode_values(dtype: DType, bytes: &[u8]) -> Vec<Value> {
    let n = bytes.len() / dtype.itemsize();
    (0..n)
        .filter_map(|i| decode_value(dtype, bytes, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(dtype: DType, bytes: &[u8]) {
        let values = decode_values(dtype, bytes);
        let text = serde_json::to_string(&values).unwrap();
        let parsed: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(
            encode_values(dtype, &parsed).unwrap(),
            bytes,
            "{dtype} via {text}"
        );
    }

    #[test]
    fn floats_round_trip_bit_for_bit() {
        let f64s = [
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -f64::NAN,
            1e300,
            123456789.125,
        ];
        let bytes: Vec<u8> = f64s.iter().flat_map(|f| f.to_le_bytes()).collect();
        round_trip(DType::Float64, &bytes);
        let f32s = [
            0.1f32,
            -0.0,
            1e-45,
            f32::MAX,
            16777217.0,
            3.4e38,
            -f32::NAN,
            1.0 / 3.0,
        ];
        let bytes: Vec<u8> = f32s.iter().flat_map(|f| f.to_le_bytes()).collect();
        round_trip(DType::Float32, &bytes);
    }

    #[test]
    fn nan_sign_is_kept_and_named() {
        assert_eq!(f64_json(-f64::NAN.abs()), Value::String("-nan".into()));
        assert_eq!(f64_json(f64::NAN.abs()), Value::String("nan".into()));
        assert!(parse_f64(&Value::String("-nan".into()))
            .unwrap()
            .is_sign_negative());
        assert_eq!(f64_json(-0.0).to_string(), "-0.0");
    }

    #[test]
    fn float32_is_rounded_once_from_decimal() {
        // 1.00000005960464477539062500001 is just above the midpoint between
        // 1.0f32 and the next float32; rounding through float64 first lands
        // exactly on the midpoint and then ties to even (1.0): wrong.
        let v: Value = serde_json::from_str("1.00000005960464477539062500001").unwrap();
        assert_eq!(parse_f32(&v).unwrap(), 1.000_000_1f32);
    }

    #[test]
    fn int64_and_uint64_are_exact() {
        let i: Vec<u8> = [i64::MIN, i64::MAX, -1, 9007199254740993]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        round_trip(DType::Int64, &i);
        let u: Vec<u8> = [u64::MAX, 1 << 63, 18446744073709551557u64]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        round_trip(DType::UInt64, &u);
        let text = serde_json::to_string(&decode_values(DType::UInt64, &u)).unwrap();
        assert_eq!(
            text,
            "[18446744073709551615,9223372036854775808,18446744073709551557]"
        );
    }

    #[test]
    fn bad_values_are_errors() {
        let v: Vec<Value> = serde_json::from_str("[1, 300]").unwrap();
        assert!(encode_values(DType::UInt8, &v)
            .unwrap_err()
            .contains("data[1]"));
        let v: Vec<Value> = serde_json::from_str("[1.5]").unwrap();
        assert!(encode_values(DType::Int32, &v).is_err());
        let v: Vec<Value> = serde_json::from_str("[\"NaN\"]").unwrap();
        assert!(encode_values(DType::Float64, &v).is_err());
        let v: Vec<Value> = serde_json::from_str("[1]").unwrap();
        assert!(encode_values(DType::Bool, &v).is_err());
        assert!(Scalar::from_json(&serde_json::json!("x")).is_err());
        assert_eq!(
            Scalar::from_json(&serde_json::json!(2)).unwrap(),
            Scalar::Int(2)
        );
        let v: Vec<Value> = serde_json::from_str("[1e39]").unwrap();
        assert!(encode_values(DType::Float32, &v)
            .unwrap_err()
            .contains("out of range"));
        assert!(encode_values(DType::Float64, &v).is_ok());
        let v: Vec<Value> = serde_json::from_str("[1e309]").unwrap();
        assert!(encode_values(DType::Float64, &v).is_err());
        let big: Value = serde_json::from_str("18446744073709551616").unwrap();
        assert!(Scalar::from_json(&big).is_err());
    }
}
