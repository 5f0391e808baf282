//! A ufunc call's `signature=`: the loop's dtype for some or all of its
//! operands, inputs first, then outputs.
//!
//! NumPy 2.4's rules, measured: the signature names a dtype or `None` for
//! each operand (`np.add(a, b, signature="dd->d")`, or a tuple such as
//! `(None, "float64", None)`). A given input dtype takes the place of that
//! operand's own dtype when NumPy picks the loop, and every given dtype
//! must then be the loop's (otherwise TypeError: `add` has no `ff->d`
//! loop); only outputs given is `dtype=` for those outputs. The inputs are
//! then cast into the loop under `casting=` (float64 into an `int8` loop
//! is a UFuncTypeError under `same_kind`), except a Python scalar in a
//! position the signature names, which is converted (`3.5` into `"bb->b"`
//! is 3; a Python int still has to fit).
//!
//! A tuple or string of the wrong length is ValueError, one of length one
//! TypeError (NumPy's expired deprecation: "use `dtype`"), and a
//! signature together with `dtype=` is TypeError.

use crate::dtype::DType;
use crate::error::{Error, Result};

/// The most operands a ufunc has (divmod: two inputs, two outputs).
const MAX_OPERANDS: usize = 4;

/// `signature=` of a ufunc call: a dtype or `None` per operand.
///
/// ```
/// use fnp_core::{DType, Signature};
/// // np.add(a, b, signature="dd->d"): add in float64.
/// let s = Signature::parse("dd->d").unwrap();
/// assert_eq!(s.types(), &[Some(DType::Float64); 3]);
/// // np.add(a, b, signature=(None, None, "float32")) is dtype=float32.
/// let t = Signature::new(&[None, None, Some(DType::Float32)]).unwrap();
/// assert_eq!(t.types()[2], Some(DType::Float32));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Signature {
    types: [Option<DType>; MAX_OPERANDS],
    len: u8,
    /// Typecodes before `->` in the string form; `None` for a tuple.
    arrow: Option<u8>,
}

impl Signature {
    /// A tuple signature (`(None, "float64", None)`), one entry per operand.
    /// More than four entries is [`Error::InvalidArgument`] (NumPy's
    /// ValueError: no ufunc has that many operands).
    pub fn new(types: &[Option<DType>]) -> Result<Signature> {
        let mut s = Signature {
            types: [None; MAX_OPERANDS],
            len: 0,
            arrow: None,
        };
        if types.len() > MAX_OPERANDS {
            return Err(Error::InvalidArgument);
        }
        for (slot, t) in s.types.iter_mut().zip(types) {
            *slot = *t;
            s.len += 1;
        }
        Ok(s)
    }

    /// A typecode string (`"dd->d"`, `"d->di"`), with NumPy's codes on a
    /// 64-bit Linux (`l` and `q` are int64). A code NumPy knows but fnp
    /// has no dtype for (`e`, `g`, `F`, `O`, ...) is
    /// [`Error::Unsupported`]; any other is [`Error::InvalidArgument`]
    /// (NumPy's ValueError, as is a string without `->`). A single code
    /// (`"d"`) is [`Error::InvalidType`], NumPy's TypeError.
    pub fn parse(s: &str) -> Result<Signature> {
        if s.len() == 1 {
            return Err(Error::InvalidType);
        }
        let (ins, outs) = s.split_once("->").ok_or(Error::InvalidArgument)?;
        let mut types = [None; MAX_OPERANDS];
        let mut len = 0usize;
        for c in ins.chars().chain(outs.chars()) {
            let slot = types.get_mut(len).ok_or(Error::InvalidArgument)?;
            *slot = Some(typecode(c)?);
            len += 1;
        }
        Ok(Signature {
            types,
            len: len as u8,
            arrow: Some(ins.len() as u8),
        })
    }

    /// The dtype given for each operand, inputs then outputs.
    pub fn types(&self) -> &[Option<DType>] {
        self.types.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Whether no operand's dtype is given (`(None, None, None)`, the
    /// same as no signature).
    pub fn is_empty(&self) -> bool {
        self.types().iter().all(Option::is_none)
    }

    /// The typecodes before `->` of the string form (`None` for a tuple).
    pub const fn arrow(&self) -> Option<u8> {
        self.arrow
    }

    /// A signature from its parts, as [`Signature::types`] and
    /// [`Signature::arrow`] give them (how the wire carries it); checked
    /// only for length here, against the ufunc when it runs.
    pub fn from_parts(types: &[Option<DType>], arrow: Option<u8>) -> Result<Signature> {
        Ok(Signature {
            arrow,
            ..Signature::new(types)?
        })
    }

    /// Checks the signature against a ufunc of `nin` inputs and `nout`
    /// outputs: [`Error::InvalidType`] for a single entry, else
    /// [`Error::InvalidArgument`] unless there is one per operand (and for
    /// a string, `nin` before the arrow).
    pub(crate) fn check(&self, nin: usize, nout: usize) -> Result<()> {
        let len = usize::from(self.len);
        if len == 1 && nin + nout != 1 {
            return Err(Error::InvalidType);
        }
        let split_ok = self.arrow.is_none_or(|a| usize::from(a) == nin);
        if len != nin + nout || !split_ok {
            return Err(Error::InvalidArgument);
        }
        Ok(())
    }
}

/// NumPy's one-character type code `c` on a 64-bit Linux.
fn typecode(c: char) -> Result<DType> {
    Ok(match c {
        '?' => DType::Bool,
        'b' => DType::Int8,
        'B' => DType::UInt8,
        'h' => DType::Int16,
        'H' => DType::UInt16,
        'i' => DType::Int32,
        'I' => DType::UInt32,
        'l' | 'q' | 'p' | 'n' => DType::Int64,
        'L' | 'Q' | 'P' | 'N' => DType::UInt64,
        'f' => DType::Float32,
        'd' => DType::Float64,
        // float16, long double, complex, object, bytes, str, void,
        // datetime, timedelta: NumPy's, not fnp's.
        'e' | 'g' | 'F' | 'D' | 'G' | 'O' | 'S' | 'a' | 'U' | 'V' | 'M' | 'm' | 'c' => {
            return Err(Error::Unsupported)
        }
        _ => return Err(Error::InvalidArgument),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_parse_as_numpy_reads_them() {
        let s = Signature::parse("bh->l").unwrap();
        assert_eq!(
            s.types(),
            &[Some(DType::Int8), Some(DType::Int16), Some(DType::Int64)]
        );
        assert_eq!(s.arrow(), Some(2));
        assert_eq!(s.check(2, 1), Ok(()));
        // Two codes before the arrow, one after, for add.
        assert_eq!(
            Signature::parse("d->dd").unwrap().check(2, 1),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            Signature::parse("dd->dd").unwrap().check(2, 1),
            Err(Error::InvalidArgument)
        );
        assert_eq!(Signature::parse("dd->dd").unwrap().check(2, 2), Ok(()));
        assert_eq!(Signature::parse("dd-d"), Err(Error::InvalidArgument));
        assert_eq!(Signature::parse("xx->x"), Err(Error::InvalidArgument));
        assert_eq!(Signature::parse("ddd->dd"), Err(Error::InvalidArgument));
        assert_eq!(Signature::parse("ee->e"), Err(Error::Unsupported));
        assert_eq!(Signature::parse("d"), Err(Error::InvalidType));
        assert_eq!(Signature::parse(""), Err(Error::InvalidArgument));
    }

    #[test]
    fn tuples_check_their_length() {
        let d = Some(DType::Float64);
        assert_eq!(
            Signature::new(&[d]).unwrap().check(2, 1),
            Err(Error::InvalidType)
        );
        assert_eq!(Signature::new(&[d]).unwrap().check(1, 0), Ok(()));
        assert_eq!(
            Signature::new(&[d, d]).unwrap().check(2, 1),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            Signature::new(&[None, d, None]).unwrap().check(2, 1),
            Ok(())
        );
        assert!(Signature::new(&[None, None, None]).unwrap().is_empty());
        assert_eq!(Signature::new(&[d; 5]), Err(Error::InvalidArgument));
    }
}
