//! [`View`]: a typed, borrowed n-d array over a Rust slice.

use crate::array::ArrayRef;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::shape::{Layout, Shape};

/// A read-only view of a slice of `T` as an n-d array: C-contiguous
/// ([`View::new`]), 1-d ([`From<&[T]>`](#impl-From%3C%26%5BT%5D%3E-for-View%3C'a,+T%3E)),
/// 0-d ([`View::scalar`]) or strided ([`View::strided`]).
///
/// Every op takes `impl Into<View<T>>`, so a slice or array reference is
/// a 1-d operand and a plain Rust scalar (`2.0f32`, or `&mean`) is a 0-d
/// operand: NumPy's 0-d array of that dtype, which takes part in type
/// promotion like any array (`f32` array times `2.0f64` is float64, as
/// `x * np.float64(2.0)` is in NumPy).
///
/// ```
/// let volts = [1.0f32, 2.5, 3.25];
/// let mut out = [0f32; 3];
/// fnp_core::multiply(&volts, 2.0f32, &mut out)?; // np.multiply(volts, np.float32(2))
/// assert_eq!(out, [2.0, 5.0, 6.5]);
/// let mean: f32 = fnp_core::mean(&volts)?;
/// fnp_core::subtract(&volts, &mean, &mut out)?; // volts - volts.mean()
/// assert_eq!(out, [-1.25, 0.25, 1.0]);
/// # Ok::<(), fnp_core::Error>(())
/// ```
///
/// ```
/// use fnp_core::View;
///
/// let data = [0i16, 1, 2, 3, 4, 5];
/// let m = View::new(&data, &[2, 3])?;
/// assert_eq!(m.shape().dims(), &[2, 3]);
/// // The transpose, as NumPy's `m.T`: strides in elements.
/// let t = View::strided(&data, &[3, 2], &[1, 3], 0)?;
/// assert_eq!(t.shape().dims(), &[3, 2]);
/// // A shape that does not match the data is NumPy's ValueError.
/// assert_eq!(View::new(&data, &[4, 2]).unwrap_err(), fnp_core::Error::LayoutMismatch);
/// # Ok::<(), fnp_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct View<'a, T: Element> {
    data: Data<'a, T>,
    layout: Layout,
}

/// Where a view's elements live: the caller's memory, or (a 0-d view of
/// a plain scalar) the view itself.
#[derive(Clone, Copy, Debug)]
enum Data<'a, T> {
    Borrowed(&'a [T]),
    Value(T),
}

impl<'a, T: Element> View<'a, T> {
    /// `data` as a C-contiguous array of shape `dims`; the element count
    /// must equal `data.len()` ([`Error::LayoutMismatch`] otherwise,
    /// [`Error::TooManyDims`] beyond [`crate::MAX_NDIM`]).
    pub fn new(data: &'a [T], dims: &[usize]) -> Result<View<'a, T>> {
        let shape = Shape::new(dims)?;
        if shape.size() != data.len() {
            return Err(Error::LayoutMismatch);
        }
        Ok(View {
            data: Data::Borrowed(data),
            layout: Layout::c_contiguous(shape),
        })
    }

    /// `data` as a strided array: element `index` is
    /// `data[offset + Σ index[k] * strides[k]]` (strides in elements, may be
    /// negative or zero). Every reachable element must lie inside `data`
    /// ([`Error::LayoutMismatch`] otherwise).
    pub fn strided(
        data: &'a [T],
        dims: &[usize],
        strides: &[isize],
        offset: usize,
    ) -> Result<View<'a, T>> {
        View::with_layout(data, Layout::strided(Shape::new(dims)?, strides, offset)?)
    }

    /// `data` with an explicit [`Layout`], checked against its length.
    pub fn with_layout(data: &'a [T], layout: Layout) -> Result<View<'a, T>> {
        layout.check_len(data.len())?;
        Ok(View {
            data: Data::Borrowed(data),
            layout,
        })
    }

    /// A 0-d array holding `*value` (`View::from(value)` does the same).
    pub fn scalar(value: &'a T) -> View<'a, T> {
        View {
            data: Data::Borrowed(core::slice::from_ref(value)),
            layout: Layout::c_contiguous(Shape::SCALAR),
        }
    }

    /// A 0-d array holding `value` itself (`View::from(value)`).
    pub fn value(value: T) -> View<'a, T> {
        View {
            data: Data::Value(value),
            layout: Layout::c_contiguous(Shape::SCALAR),
        }
    }

    /// The logical shape.
    pub const fn shape(&self) -> &Shape {
        self.layout.shape()
    }

    /// How the elements lie in [`View::data`].
    pub const fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The underlying slice (one element for a view of a plain scalar).
    pub fn data(&self) -> &[T] {
        match &self.data {
            Data::Borrowed(data) => data,
            Data::Value(value) => core::slice::from_ref(value),
        }
    }

    /// The underlying slice of the caller's memory, for the full lifetime
    /// `'a` (`None` for a view of a plain scalar, which holds its value).
    pub fn borrowed(&self) -> Option<&'a [T]> {
        match self.data {
            Data::Borrowed(data) => Some(data),
            Data::Value(_) => None,
        }
    }

    /// The same view, type-erased, for [`crate::call`] and the other
    /// dynamic-dtype entries.
    pub fn as_array(&self) -> ArrayRef<'_> {
        ArrayRef::from_typed(self.data(), self.layout)
    }
}

impl<'a, T: Element> From<&'a [T]> for View<'a, T> {
    fn from(data: &'a [T]) -> View<'a, T> {
        View {
            data: Data::Borrowed(data),
            layout: Layout::c_contiguous(Shape::vector(data.len())),
        }
    }
}

/// A plain scalar is a 0-d operand: `multiply(&x, 2.0f32, &mut out)`.
impl<'a, T: Element> From<T> for View<'a, T> {
    fn from(value: T) -> View<'a, T> {
        View::value(value)
    }
}

/// A reference to a scalar is a 0-d operand: `subtract(&x, &mean, &mut out)`.
impl<'a, T: Element> From<&'a T> for View<'a, T> {
    fn from(value: &'a T) -> View<'a, T> {
        View::scalar(value)
    }
}

impl<'a, T: Element, const N: usize> From<&'a [T; N]> for View<'a, T> {
    fn from(data: &'a [T; N]) -> View<'a, T> {
        View::from(&data[..])
    }
}

impl<'a, T: Element> From<&View<'a, T>> for View<'a, T> {
    fn from(view: &View<'a, T>) -> View<'a, T> {
        *view
    }
}

impl<'a, T: Element> From<&'a mut [T]> for View<'a, T> {
    fn from(data: &'a mut [T]) -> View<'a, T> {
        View::from(&*data)
    }
}

#[cfg(feature = "defmt")]
impl<T: Element> defmt::Format for View<'_, T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "View {{ dtype: {}, layout: {} }}",
            T::DTYPE.name(),
            self.layout
        )
    }
}
