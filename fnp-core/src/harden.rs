//! Run modes: [`Mode::Strict`] is NumPy's behaviour exactly (errors only
//! where NumPy raises); [`Mode::Hardened`] also refuses inputs that NumPy
//! accepts but that are dangerous on a device, before any work is done:
//!
//! - more dimensions than [`Hardening::max_ndim`];
//! - an operand or result with more logical elements than
//!   [`Hardening::max_elements`] — which also catches a zero-stride view
//!   that turns a few bytes into a huge array, and shape products that
//!   overflow;
//! - with [`Hardening::refuse_nan_casts`], a reduction whose `dtype=` casts
//!   a NaN or infinity to an integer (NumPy produces an arbitrary integer
//!   and an `invalid` flag).
//!
//! Both the wire server (the Case frame's mode byte) and the host build
//! call [`check`], so a case is refused the same way on every target.

use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::op::{output_of, Op};
use crate::reduce::ReduceParams;
use crate::shape::{Layout, MAX_NDIM};

/// How a case is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Mode {
    /// NumPy semantics, nothing refused that NumPy accepts.
    #[default]
    Strict = 0,
    /// NumPy semantics within [`Hardening`]'s limits; beyond them the case
    /// is refused with a [`Refusal`].
    Hardened = 1,
}

impl Mode {
    /// The name used in logs and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Hardened => "hardened",
        }
    }
}

/// The limits of [`Mode::Hardened`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Hardening {
    /// Most dimensions of any operand or result.
    pub max_ndim: usize,
    /// Most logical elements of any operand or result.
    pub max_elements: usize,
    /// Refuse reductions whose `dtype=` casts NaN or ±inf to an integer.
    pub refuse_nan_casts: bool,
}

impl Hardening {
    /// The defaults: 6 dimensions, 2^20 elements, NaN casts refused.
    pub const DEFAULT: Hardening = Hardening {
        max_ndim: 6,
        max_elements: 1 << 20,
        refuse_nan_casts: true,
    };
}

impl Default for Hardening {
    fn default() -> Self {
        Hardening::DEFAULT
    }
}

/// Why hardened mode refused a case. The discriminant is the `detail` of
/// the wire's `hardened` refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Refusal {
    /// An operand or the result has more than `max_ndim` dimensions.
    TooManyDims = 1,
    /// An operand or the result has more than `max_elements` elements (or
    /// a count that does not fit a `usize`).
    TooManyElements = 2,
    /// `dtype=` would cast a NaN or an infinity to an integer.
    NanCast = 3,
}

impl Refusal {
    /// A short name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            Refusal::TooManyDims => "too_many_dims",
            Refusal::TooManyElements => "too_many_elements",
            Refusal::NanCast => "nan_cast",
        }
    }

    /// The refusal with wire detail `code`.
    pub const fn from_code(code: u64) -> Option<Refusal> {
        match code {
            1 => Some(Refusal::TooManyDims),
            2 => Some(Refusal::TooManyElements),
            3 => Some(Refusal::NanCast),
            _ => None,
        }
    }
}

/// Checks `op` on `inputs` against `limits`. Errors NumPy itself raises
/// (bad broadcast, bad axis) are not refusals: they are left to the op, so
/// a hardened run reports them exactly as a strict one.
pub fn check(
    op: Op,
    inputs: &[ArrayRef<'_>],
    params: &ReduceParams<'_>,
    limits: &Hardening,
) -> Result<(), Refusal> {
    for a in inputs.iter().chain(params.where_mask.as_ref()) {
        within(a.layout(), limits)?;
    }
    if let Ok((_, shape)) = output_of(op, inputs, params) {
        if shape.ndim() > limits.max_ndim {
            return Err(Refusal::TooManyDims);
        }
        if shape
            .checked_size()
            .map_or(true, |n| n > limits.max_elements)
        {
            return Err(Refusal::TooManyElements);
        }
    }
    if limits.refuse_nan_casts {
        if let (Op::Reduce(_), Some(to), [a]) = (op, params.dtype, inputs) {
            if !to.is_float() && a.dtype().is_float() && any_non_finite(a) {
                return Err(Refusal::NanCast);
            }
        }
    }
    Ok(())
}

fn within(layout: &Layout, limits: &Hardening) -> Result<(), Refusal> {
    if layout.ndim() > limits.max_ndim {
        return Err(Refusal::TooManyDims);
    }
    match layout.shape().checked_size() {
        Ok(n) if n <= limits.max_elements => Ok(()),
        _ => Err(Refusal::TooManyElements),
    }
}

/// Whether any element of the (float) view is NaN or infinite; elements
/// outside the buffer count as non-finite (the op refuses such a view
/// anyway).
fn any_non_finite(a: &ArrayRef<'_>) -> bool {
    match a.dtype() {
        DType::Float32 => any_element(a, |i| {
            a.typed::<f32>()
                .ok()
                .and_then(|d| d.get(i))
                .is_none_or(|v| !v.is_finite())
        }),
        DType::Float64 => any_element(a, |i| {
            a.typed::<f64>()
                .ok()
                .and_then(|d| d.get(i))
                .is_none_or(|v| !v.is_finite())
        }),
        _ => false,
    }
}

/// Whether `bad(buffer index)` holds for any logical element of `a`.
fn any_element(a: &ArrayRef<'_>, bad: impl Fn(usize) -> bool) -> bool {
    let layout = a.layout();
    let dims = layout.shape().dims();
    if layout.shape().checked_size().map_or(true, |n| n == 0) {
        return false;
    }
    let mut index = [0usize; MAX_NDIM];
    let Some(index) = index.get_mut(..dims.len()) else {
        return true;
    };
    loop {
        if bad(layout.element_index(index)) {
            return true;
        }
        // The next index in C order; done after the last.
        let mut axis = dims.len();
        loop {
            let Some(k) = axis.checked_sub(1) else {
                return false;
            };
            axis = k;
            match (index.get_mut(k), dims.get(k)) {
                (Some(i), Some(&d)) => {
                    *i += 1;
                    if *i < d {
                        break;
                    }
                    *i = 0;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::Shape;
    use crate::table::ReduceOp;
    use crate::{BinaryOp, UnaryOp};

    fn f64s(v: &[f64]) -> ArrayRef<'_> {
        ArrayRef::from_slice(v, Layout::c_contiguous(Shape::vector(v.len()))).unwrap()
    }

    #[test]
    fn limits_on_dims_and_elements() {
        let l = Hardening::DEFAULT;
        let x = [1.0f64; 4];
        let p = ReduceParams::default();
        let add = Op::Binary(BinaryOp::Add);
        assert_eq!(check(add, &[f64s(&x), f64s(&x)], &p, &l), Ok(()));
        // Seven dimensions of one.
        let deep =
            ArrayRef::from_slice(&x[..1], Layout::c_contiguous(Shape::new(&[1; 7]).unwrap()))
                .unwrap();
        assert_eq!(
            check(Op::Unary(UnaryOp::Negative), &[deep], &p, &l),
            Err(Refusal::TooManyDims)
        );
        // 2^21 elements from one by a zero stride.
        let big = Shape::new(&[1 << 21]).unwrap();
        let wide = ArrayRef::from_slice(&x[..1], Layout::strided(big, &[0], 0).unwrap()).unwrap();
        assert_eq!(
            check(Op::Unary(UnaryOp::Negative), &[wide], &p, &l),
            Err(Refusal::TooManyElements)
        );
        // Two small operands broadcasting to a big result.
        let col = ArrayRef::from_slice(
            &[0.0f64; 2048],
            Layout::c_contiguous(Shape::new(&[2048, 1]).unwrap()),
        )
        .unwrap();
        let row = ArrayRef::from_slice(
            &[0.0f64; 1024],
            Layout::c_contiguous(Shape::new(&[1024]).unwrap()),
        )
        .unwrap();
        assert_eq!(
            check(add, &[col, row], &p, &l),
            Err(Refusal::TooManyElements)
        );
        // A broadcast error is NumPy's, not a refusal.
        assert_eq!(check(add, &[f64s(&x), f64s(&x[..3])], &p, &l), Ok(()));
    }

    #[test]
    fn nan_casts_only_when_asked() {
        let mut l = Hardening::DEFAULT;
        let data = [1.0, f64::NAN, 2.0];
        let sum = Op::Reduce(ReduceOp::Sum);
        let to_int = ReduceParams {
            dtype: Some(DType::Int32),
            ..ReduceParams::default()
        };
        assert_eq!(
            check(sum, &[f64s(&data)], &to_int, &l),
            Err(Refusal::NanCast)
        );
        // The NaN skipped by a stride is not read.
        let strided =
            ArrayRef::from_slice(&data, Layout::strided(Shape::vector(2), &[2], 0).unwrap())
                .unwrap();
        assert_eq!(check(sum, &[strided], &to_int, &l), Ok(()));
        let to_float = ReduceParams {
            dtype: Some(DType::Float32),
            ..ReduceParams::default()
        };
        assert_eq!(check(sum, &[f64s(&data)], &to_float, &l), Ok(()));
        l.refuse_nan_casts = false;
        assert_eq!(check(sum, &[f64s(&data)], &to_int, &l), Ok(()));
        assert_eq!(Refusal::from_code(3), Some(Refusal::NanCast));
        assert_eq!(Refusal::from_code(0), None);
    }
}
