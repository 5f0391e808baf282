//! NumPy's dtypes and the promotion rules of NumPy 2 (NEP 50).

use crate::error::{Error, Result};

/// One of the eleven NumPy dtypes fnp supports.
///
/// The discriminant is the stable byte used on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum DType {
    /// `np.bool`
    Bool = 0,
    /// `np.int8`
    Int8 = 1,
    /// `np.int16`
    Int16 = 2,
    /// `np.int32`
    Int32 = 3,
    /// `np.int64`
    Int64 = 4,
    /// `np.uint8`
    UInt8 = 5,
    /// `np.uint16`
    UInt16 = 6,
    /// `np.uint32`
    UInt32 = 7,
    /// `np.uint64`
    UInt64 = 8,
    /// `np.float32`
    Float32 = 9,
    /// `np.float64`
    Float64 = 10,
}

/// NumPy's `dtype.kind`: the family a dtype belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Kind {
    /// `b`
    Bool,
    /// `i`
    SignedInt,
    /// `u`
    UnsignedInt,
    /// `f`
    Float,
}

impl Kind {
    /// NumPy's one-letter kind code.
    pub const fn code(self) -> char {
        match self {
            Kind::Bool => 'b',
            Kind::SignedInt => 'i',
            Kind::UnsignedInt => 'u',
            Kind::Float => 'f',
        }
    }
}

impl DType {
    /// The inclusive value range of an integer dtype (`None` for bool and
    /// floats).
    pub const fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            DType::Int8 => (i8::MIN as i128, i8::MAX as i128),
            DType::Int16 => (i16::MIN as i128, i16::MAX as i128),
            DType::Int32 => (i32::MIN as i128, i32::MAX as i128),
            DType::Int64 => (i64::MIN as i128, i64::MAX as i128),
            DType::UInt8 => (0, u8::MAX as i128),
            DType::UInt16 => (0, u16::MAX as i128),
            DType::UInt32 => (0, u32::MAX as i128),
            DType::UInt64 => (0, u64::MAX as i128),
            _ => return None,
        })
    }

    /// All dtypes, in wire order.
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::UInt8,
        DType::UInt16,
        DType::UInt32,
        DType::UInt64,
        DType::Float32,
        DType::Float64,
    ];

    /// NumPy's name (`np.dtype(x).name`).
    pub const fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::UInt8 => "uint8",
            DType::UInt16 => "uint16",
            DType::UInt32 => "uint32",
            DType::UInt64 => "uint64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// NumPy's one-character type code on a 64-bit Linux (`np.dtype(x).char`:
    /// `'d'` for float64, `'l'` for int64), as ufunc signatures spell it.
    pub const fn typecode(self) -> char {
        match self {
            DType::Bool => '?',
            DType::Int8 => 'b',
            DType::Int16 => 'h',
            DType::Int32 => 'i',
            DType::Int64 => 'l',
            DType::UInt8 => 'B',
            DType::UInt16 => 'H',
            DType::UInt32 => 'I',
            DType::UInt64 => 'L',
            DType::Float32 => 'f',
            DType::Float64 => 'd',
        }
    }

    /// Parses NumPy's name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bytes per element (`np.dtype(x).itemsize`).
    pub const fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::Int8 | DType::UInt8 => 1,
            DType::Int16 | DType::UInt16 => 2,
            DType::Int32 | DType::UInt32 | DType::Float32 => 4,
            DType::Int64 | DType::UInt64 | DType::Float64 => 8,
        }
    }

    /// [`DType::itemsize`] as a type that cannot be zero, so dividing by it
    /// needs no zero check.
    pub const fn itemsize_nonzero(self) -> core::num::NonZeroUsize {
        match core::num::NonZeroUsize::new(self.itemsize()) {
            Some(n) => n,
            // Every itemsize is 1, 2, 4 or 8.
            None => core::num::NonZeroUsize::MIN,
        }
    }

    /// NumPy's `dtype.kind`.
    pub const fn kind(self) -> Kind {
        match self {
            DType::Bool => Kind::Bool,
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => Kind::SignedInt,
            DType::UInt8 | DType::UInt16 | DType::UInt32 | DType::UInt64 => Kind::UnsignedInt,
            DType::Float32 | DType::Float64 => Kind::Float,
        }
    }

    /// True for int* and uint*.
    pub const fn is_integer(self) -> bool {
        matches!(self.kind(), Kind::SignedInt | Kind::UnsignedInt)
    }

    /// True for float32 and float64.
    pub const fn is_float(self) -> bool {
        matches!(self.kind(), Kind::Float)
    }

    /// The signed integer dtype of `bytes` bytes, if there is one.
    const fn signed_of_size(bytes: usize) -> Option<DType> {
        match bytes {
            1 => Some(DType::Int8),
            2 => Some(DType::Int16),
            4 => Some(DType::Int32),
            8 => Some(DType::Int64),
            _ => None,
        }
    }

    /// `np.can_cast(self, to, casting="safe")`.
    pub fn can_cast_safe(self, to: DType) -> bool {
        result_type(self, to) == to
    }
}

/// NumPy's `casting=` rule: which casts of a ufunc's result into `out=`
/// (and of inputs into a loop) are allowed. The discriminant is the wire
/// code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[repr(u8)]
pub enum Casting {
    /// `"no"`: the same dtype only.
    No = 0,
    /// `"equiv"`: the same dtype in any byte order (fnp's dtypes are all
    /// little-endian, so as `No`).
    Equiv = 1,
    /// `"safe"`: every value is kept (`np.can_cast(a, b)`).
    Safe = 2,
    /// `"same_kind"` (NumPy's default): safe, or within the kind order
    /// bool < unsigned < signed < float (`float64` to `float32`, `uint8`
    /// to `int8`; not `int8` to `uint8`, not float to int).
    #[default]
    SameKind = 3,
    /// `"unsafe"`: anything.
    Unsafe = 4,
}

impl Casting {
    /// Every rule, in code order.
    pub const ALL: [Casting; 5] = [
        Casting::No,
        Casting::Equiv,
        Casting::Safe,
        Casting::SameKind,
        Casting::Unsafe,
    ];

    /// NumPy's spelling (`"same_kind"`).
    pub const fn name(self) -> &'static str {
        match self {
            Casting::No => "no",
            Casting::Equiv => "equiv",
            Casting::Safe => "safe",
            Casting::SameKind => "same_kind",
            Casting::Unsafe => "unsafe",
        }
    }

    /// The rule NumPy spells `name`.
    pub fn from_name(name: &str) -> Option<Casting> {
        Casting::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The rule with wire code `code`.
    pub fn from_code(code: u8) -> Option<Casting> {
        Casting::ALL.get(usize::from(code)).copied()
    }

    /// `np.can_cast(from, to, casting=self)`.
    pub const fn allows(self, from: DType, to: DType) -> bool {
        const fn rank(k: Kind) -> u8 {
            match k {
                Kind::Bool => 0,
                Kind::UnsignedInt => 1,
                Kind::SignedInt => 2,
                Kind::Float => 3,
            }
        }
        match self {
            Casting::No | Casting::Equiv => from as u8 == to as u8,
            Casting::Safe => result_type(from, to) as u8 == to as u8,
            Casting::SameKind => {
                result_type(from, to) as u8 == to as u8 || rank(from.kind()) <= rank(to.kind())
            }
            Casting::Unsafe => true,
        }
    }
}

impl TryFrom<u8> for DType {
    type Error = Error;

    fn try_from(code: u8) -> Result<DType> {
        DType::ALL
            .get(usize::from(code))
            .copied()
            .ok_or(Error::UnknownDType)
    }
}

impl core::fmt::Display for DType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// `np.result_type(a, b)` for two array dtypes (no Python scalars).
///
/// A `const fn`: the typed API resolves its result dtypes at compile time.
pub const fn result_type(a: DType, b: DType) -> DType {
    use Kind::*;
    if a as u8 == b as u8 {
        return a;
    }
    match (a.kind(), b.kind()) {
        (Bool, _) => b,
        (_, Bool) => a,
        (Float, Float) => DType::Float64,
        (Float, _) => float_with_int(a, b),
        (_, Float) => float_with_int(b, a),
        (SignedInt, SignedInt) | (UnsignedInt, UnsignedInt) => {
            if a.itemsize() >= b.itemsize() {
                a
            } else {
                b
            }
        }
        (SignedInt, UnsignedInt) => signed_with_unsigned(a, b),
        (UnsignedInt, SignedInt) => signed_with_unsigned(b, a),
    }
}

/// float32 holds int8/16 and uint8/16 exactly; anything wider needs float64.
const fn float_with_int(float: DType, int: DType) -> DType {
    if matches!(float, DType::Float32) && int.itemsize() <= 2 {
        DType::Float32
    } else {
        DType::Float64
    }
}

/// The smallest signed type holding both; uint64 with any signed int is float64.
const fn signed_with_unsigned(signed: DType, unsigned: DType) -> DType {
    if unsigned.itemsize() < signed.itemsize() {
        signed
    } else {
        match DType::signed_of_size(unsigned.itemsize() * 2) {
            Some(d) => d,
            None => DType::Float64,
        }
    }
}

/// The type of one ufunc operand as NEP 50 sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OperandType {
    /// An array (or NumPy scalar) with a fixed dtype.
    Array(DType),
    /// A Python `bool`.
    PyBool,
    /// A Python `int`: takes the dtype of the arrays it meets.
    PyInt,
    /// A Python `float`: takes the dtype of float arrays it meets.
    PyFloat,
}

impl OperandType {
    /// Whether this is a weak Python scalar.
    pub const fn is_weak(self) -> bool {
        !matches!(self, OperandType::Array(_))
    }
}

/// `np.result_type` over ufunc operands with NEP 50's weak Python scalars.
///
/// Python scalars do not take part in promotion among arrays: an `int` only
/// lifts `bool` to the default integer (int64), a `float` only lifts
/// non-float dtypes to float64. When every operand is a Python scalar the
/// result is what NumPy's default types give (`bool`, `int64`, `float64`).
pub fn result_type_weak(operands: &[OperandType]) -> Result<DType> {
    let mut strong: Option<DType> = None;
    let (mut any_int, mut any_float) = (false, false);
    for op in operands {
        match *op {
            OperandType::Array(d) => {
                strong = Some(match strong {
                    Some(s) => result_type(s, d),
                    None => d,
                });
            }
            OperandType::PyBool => {}
            OperandType::PyInt => any_int = true,
            OperandType::PyFloat => any_float = true,
        }
    }
    if operands.is_empty() {
        return Err(Error::InvalidArgument);
    }
    let base = strong.unwrap_or(DType::Bool);
    let mut out = base;
    if any_int && out == DType::Bool {
        out = DType::Int64;
    }
    if any_float && !out.is_float() {
        out = DType::Float64;
    }
    Ok(out)
}

/// The dtype a weak operand is converted to when it meets `others`.
///
/// For an array operand this is its own dtype.
pub fn effective_dtype(op: OperandType, all: &[OperandType]) -> Result<DType> {
    match op {
        OperandType::Array(d) => Ok(d),
        OperandType::PyBool => Ok(DType::Bool),
        OperandType::PyInt | OperandType::PyFloat => result_type_weak(all),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_ranges_are_the_types_bounds() {
        assert_eq!(DType::Int8.int_range(), Some((-128, 127)));
        assert_eq!(DType::UInt64.int_range(), Some((0, u64::MAX.into())));
        assert_eq!(
            DType::Int64.int_range(),
            Some((i64::MIN.into(), i64::MAX.into()))
        );
        for d in [DType::Bool, DType::Float32, DType::Float64] {
            assert_eq!(d.int_range(), None);
        }
    }

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(DType::try_from(d as u8), Ok(d));
        }
        assert_eq!(DType::from_name("float16"), None);
        assert_eq!(DType::try_from(11), Err(Error::UnknownDType));
    }

    #[test]
    fn promotion_is_symmetric() {
        for a in DType::ALL {
            for b in DType::ALL {
                assert_eq!(result_type(a, b), result_type(b, a), "{a} {b}");
            }
        }
    }

    #[test]
    fn weak_scalars() {
        use OperandType::*;
        let i8a = Array(DType::Int8);
        assert_eq!(result_type_weak(&[i8a, PyInt]), Ok(DType::Int8));
        assert_eq!(result_type_weak(&[i8a, PyFloat]), Ok(DType::Float64));
        let f32a = Array(DType::Float32);
        assert_eq!(result_type_weak(&[f32a, PyFloat]), Ok(DType::Float32));
        assert_eq!(result_type_weak(&[f32a, PyInt]), Ok(DType::Float32));
        let ba = Array(DType::Bool);
        assert_eq!(result_type_weak(&[ba, PyInt]), Ok(DType::Int64));
        assert_eq!(result_type_weak(&[ba, PyBool]), Ok(DType::Bool));
        assert_eq!(result_type_weak(&[PyInt, PyInt]), Ok(DType::Int64));
        assert_eq!(result_type_weak(&[PyInt, PyFloat]), Ok(DType::Float64));
        assert_eq!(result_type_weak(&[]), Err(Error::InvalidArgument));
    }
}
