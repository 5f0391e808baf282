//! Owned arrays for hosts (feature `alloc`): a `Vec` and a shape, with the
//! typed ops sizing the result themselves.
//!
//! ```
//! use fnp_core::{owned::Array, BinaryOp, ReduceOp, ReduceParams};
//!
//! let x = Array::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2])?;
//! let y = Array::<f64>::binary(BinaryOp::Multiply, &x, &[10.0, 100.0])?;
//! assert_eq!(y.as_slice(), &[10.0, 200.0, 30.0, 400.0]);
//! let col = Array::<f64>::reduce(ReduceOp::Sum, &y, &ReduceParams::along(0))?;
//! assert_eq!((col.shape().dims(), col.as_slice()), (&[2][..], &[40.0, 600.0][..]));
//! // Views of owned arrays go to the slice API as well:
//! assert_eq!(fnp_core::max(&y)?, 400.0);
//! # Ok::<(), fnp_core::Error>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::element::Element;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::output::Output;
use crate::reduce::ReduceParams;
use crate::shape::{Layout, Shape};
use crate::table::{BinaryOp, ReduceOp, UnaryOp};
use crate::typed::{self, View};

/// A C-contiguous array that owns its elements, and the IEEE flags raised
/// computing it.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "RawArray<T>",
        bound(deserialize = "T: serde::Deserialize<'de>")
    )
)]
pub struct Array<T: Element> {
    data: Vec<T>,
    shape: Shape,
    flags: FpFlags,
}

/// What a serialized [`Array`] holds, checked (data length against shape)
/// before it becomes one.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct RawArray<T> {
    data: Vec<T>,
    shape: Shape,
    flags: FpFlags,
}

#[cfg(feature = "serde")]
impl<T: Element> TryFrom<RawArray<T>> for Array<T> {
    type Error = Error;

    fn try_from(raw: RawArray<T>) -> Result<Array<T>> {
        let mut array = Array::from_vec(raw.data, raw.shape.dims())?;
        array.flags = raw.flags;
        Ok(array)
    }
}

impl<T: Element> Array<T> {
    /// `data` as an array of shape `dims` (`data.len()` must be the element
    /// count: [`Error::LayoutMismatch`] otherwise).
    pub fn from_vec(data: Vec<T>, dims: &[usize]) -> Result<Array<T>> {
        let shape = Shape::new(dims)?;
        if shape.size() != data.len() {
            return Err(Error::LayoutMismatch);
        }
        Ok(Array {
            data,
            shape,
            flags: FpFlags::NONE,
        })
    }

    /// An array of `shape` filled with `T::default()` (zeros, `False`).
    pub fn zeros(shape: Shape) -> Array<T> {
        Array {
            data: vec![T::default(); shape.size()],
            shape,
            flags: FpFlags::NONE,
        }
    }

    /// The elements in C order.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The IEEE flags NumPy would have raised computing this array.
    pub fn flags(&self) -> FpFlags {
        self.flags
    }

    /// The elements as a `Vec`.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// A borrowed view, for the slice API.
    pub fn view(&self) -> View<'_, T> {
        // The length matches the shape (checked when built): this cannot
        // fail, and an empty view is the panic-free fallback.
        View::with_layout(&self.data, Layout::c_contiguous(self.shape))
            .unwrap_or_else(|_| View::from(&self.data[..0]))
    }

    fn filled(shape: Shape, run: impl FnOnce(&mut [T]) -> Result<Output>) -> Result<Array<T>> {
        let mut out = Array::zeros(shape);
        out.flags = run(&mut out.data)?.flags;
        Ok(out)
    }

    /// `op(a, b)` with broadcasting, as a new array of the result dtype `T`.
    pub fn binary<'a, 'b, A: Element, B: Element>(
        op: BinaryOp,
        a: impl Into<View<'a, A>>,
        b: impl Into<View<'b, B>>,
    ) -> Result<Array<T>> {
        let (a, b) = (a.into(), b.into());
        let (_, shape) = typed::binary_output(op, a, b)?;
        Array::filled(shape, |out| typed::binary_into(op, a, b, out))
    }

    /// `op(x)` elementwise, as a new array of the result dtype `T`.
    pub fn unary<'a, A: Element>(op: UnaryOp, x: impl Into<View<'a, A>>) -> Result<Array<T>> {
        let x = x.into();
        let (_, shape) = typed::unary_output(op, x)?;
        Array::filled(shape, |out| typed::unary_into(op, x, out))
    }

    /// A reduction with NumPy's keywords, as a new array of the result
    /// dtype `T` (its scratch is allocated too).
    pub fn reduce<'a, A: Element>(
        op: ReduceOp,
        x: impl Into<View<'a, A>>,
        params: &ReduceParams<'_>,
    ) -> Result<Array<T>> {
        let x = x.into();
        let (_, shape) = typed::reduce_output(op, x, params)?;
        let mut scratch = vec![0u64; typed::reduce_scratch_len(op, x, params)?];
        Array::filled(shape, |out| {
            typed::reduce_into(op, x, params, out, &mut scratch)
        })
    }
}

impl<'a, T: Element> From<&'a Array<T>> for View<'a, T> {
    fn from(a: &'a Array<T>) -> View<'a, T> {
        a.view()
    }
}
