//! NumPy's reduction keywords: `axis=`, `keepdims=`, `where=`, `initial=`,
//! `dtype=`, `ddof=`.

use crate::array::ArrayRef;
use crate::dtype::{Casting, DType};
use crate::element::Bool;
use crate::error::{Error, Result};
use crate::shape::{Shape, MAX_NDIM};
use crate::signature::Signature;

/// NumPy's `axis=`: `None`, an int, or a tuple of (possibly negative)
/// axes.
///
/// An int and a one-element tuple differ in NumPy: argmin, argmax, cumsum
/// and cumprod take only an int (a tuple is a TypeError), and the
/// ufunc-based reductions of a 0-d array take the int 0 or -1 but no
/// tuple other than `()`.
// The list variant is as large as the fixed-size array it holds; boxing is
// not an option without an allocator.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axes {
    /// `axis=None`: every axis.
    All,
    /// `axis=k`.
    One(isize),
    /// `axis=(k, …)`.
    List {
        /// The axes, the first `len` are used.
        axes: [isize; MAX_NDIM],
        /// How many axes.
        len: usize,
    },
}

impl Axes {
    /// `axis=k`.
    pub fn single(axis: isize) -> Axes {
        Axes::One(axis)
    }

    /// `axis=(…)`; more than [`MAX_NDIM`] entries is
    /// [`Error::TooManyDims`].
    pub fn list(list: &[isize]) -> Result<Axes> {
        let mut axes = [0isize; MAX_NDIM];
        axes.get_mut(..list.len())
            .ok_or(Error::TooManyDims)?
            .copy_from_slice(list);
        Ok(Axes::List {
            axes,
            len: list.len(),
        })
    }

    /// The listed axes (`None` for [`Axes::All`]).
    pub fn as_slice(&self) -> Option<&[isize]> {
        match self {
            Axes::All => None,
            Axes::One(axis) => Some(core::slice::from_ref(axis)),
            Axes::List { axes, len } => Some(axes.get(..*len).unwrap_or(&axes[..])),
        }
    }
}

/// A Python scalar, as passed to `initial=`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scalar {
    /// `True`/`False`.
    Bool(bool),
    /// A Python int that fits int64.
    Int(i64),
    /// A Python int ≥ 2**63.
    UInt(u64),
    /// A Python float.
    Float(f64),
}

/// `out=` of a ufunc call: the dtype and shape of the array the caller
/// passes as an output. Its contents, C order, are the call's output
/// buffer, before the call (what `where=` keeps) and after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutArray {
    /// The out array's dtype (the result is cast to it under `casting=`).
    pub dtype: DType,
    /// Its shape: the call's broadcast shape (the inputs broadcast to it;
    /// an output is never broadcast).
    pub shape: Shape,
}

/// The keyword arguments of a reduction or a ufunc call.
#[derive(Clone, Copy, Debug)]
pub struct ReduceParams<'a> {
    /// `axis=`.
    pub axis: Axes,
    /// `keepdims=`.
    pub keepdims: bool,
    /// `initial=`.
    pub initial: Option<Scalar>,
    /// `where=`: a bool array broadcast to the input.
    pub where_mask: Option<ArrayRef<'a>>,
    /// `dtype=`.
    pub dtype: Option<DType>,
    /// `ddof=` (var, std).
    pub ddof: f64,
    /// `out=` of a ufunc call, one entry per output (a two-output ufunc
    /// uses both; `None` is NumPy's `out=None`, an output of the result's
    /// own dtype and shape).
    pub out: [Option<OutArray>; 2],
    /// `casting=` of a ufunc call: which casts of the result into `out=`
    /// are allowed (NumPy's default `same_kind`).
    pub casting: Casting,
    /// `signature=` of a ufunc call: the loop's dtype per operand.
    pub signature: Option<Signature>,
}

impl Default for ReduceParams<'_> {
    fn default() -> Self {
        ReduceParams {
            axis: Axes::All,
            keepdims: false,
            initial: None,
            where_mask: None,
            dtype: None,
            ddof: 0.0,
            out: [None, None],
            casting: Casting::SameKind,
            signature: None,
        }
    }
}

impl<'a> ReduceParams<'a> {
    /// [`Error::InvalidType`] (NumPy's TypeError for an unexpected
    /// keyword) unless every keyword is at its default: a ufunc call and
    /// `ufunc.outer` take none of them.
    pub(crate) fn expect_defaults(&self) -> Result<()> {
        let default = ReduceParams::default();
        if self.where_mask.is_some()
            || self.initial.is_some()
            || self.dtype.is_some()
            || self.keepdims
            || self.ddof != 0.0
            || self.axis != default.axis
            || self.out.iter().any(Option::is_some)
            || self.casting != default.casting
            || self.signature.is_some()
        {
            return Err(Error::InvalidType);
        }
        Ok(())
    }

    /// The keywords a ufunc call takes: `out=`, `where=`, `casting=`,
    /// `dtype=`; the reduction keywords are NumPy's TypeError.
    pub(crate) fn expect_call_keywords(&self) -> Result<()> {
        let reduction_only = ReduceParams {
            out: [None, None],
            casting: Casting::SameKind,
            where_mask: None,
            dtype: None,
            signature: None,
            ..*self
        };
        reduction_only.expect_defaults()
    }

    /// A reduction's keywords without the ufunc call's (`out=`,
    /// `casting=`), which a reduction does not take.
    pub(crate) fn expect_no_call_keywords(&self) -> Result<()> {
        if self.out.iter().any(Option::is_some)
            || self.casting != Casting::SameKind
            || self.signature.is_some()
        {
            return Err(Error::InvalidType);
        }
        Ok(())
    }

    /// The same keywords with `out=` of these dtype and shape for output
    /// `k` (0, or 1 for a two-output ufunc's second).
    pub fn with_out(mut self, k: usize, dtype: DType, shape: Shape) -> ReduceParams<'a> {
        if let Some(slot) = self.out.get_mut(k) {
            *slot = Some(OutArray { dtype, shape });
        }
        self
    }

    /// The same keywords with `casting=casting`.
    pub fn with_casting(self, casting: Casting) -> ReduceParams<'a> {
        ReduceParams { casting, ..self }
    }

    /// `axis=axis`, every other keyword at NumPy's default.
    pub fn along(axis: isize) -> ReduceParams<'a> {
        ReduceParams {
            axis: Axes::single(axis),
            ..ReduceParams::default()
        }
    }

    /// The same keywords with `axis=axes`.
    pub fn with_axes(self, axes: Axes) -> ReduceParams<'a> {
        ReduceParams { axis: axes, ..self }
    }

    /// The same keywords with `keepdims=keepdims`.
    pub fn with_keepdims(self, keepdims: bool) -> ReduceParams<'a> {
        ReduceParams { keepdims, ..self }
    }

    /// The same keywords with `where=mask` (broadcast to the input; a
    /// plain `Bool` is a 0-d mask).
    pub fn with_where(self, mask: impl Into<crate::view::View<'a, Bool>>) -> ReduceParams<'a> {
        let mask = mask.into();
        // A view of a plain Bool holds its value: point at a static copy.
        let data: &'a [Bool] = match mask.borrowed() {
            Some(data) => data,
            None if mask.data().first().is_some_and(|b| b.get()) => &[Bool::TRUE],
            None => &[Bool::FALSE],
        };
        ReduceParams {
            where_mask: Some(ArrayRef::from_typed(data, *mask.layout())),
            ..self
        }
    }

    /// The same keywords with `initial=value`.
    pub fn with_initial(self, value: Scalar) -> ReduceParams<'a> {
        ReduceParams {
            initial: Some(value),
            ..self
        }
    }

    /// The same keywords with `dtype=dtype`.
    pub fn with_dtype(self, dtype: DType) -> ReduceParams<'a> {
        ReduceParams {
            dtype: Some(dtype),
            ..self
        }
    }

    /// The same keywords with `signature=signature` (a ufunc call).
    pub fn with_signature(self, signature: Signature) -> ReduceParams<'a> {
        ReduceParams {
            signature: Some(signature),
            ..self
        }
    }

    /// The same keywords with `ddof=ddof` (var, std).
    pub fn with_ddof(self, ddof: f64) -> ReduceParams<'a> {
        ReduceParams { ddof, ..self }
    }
}
