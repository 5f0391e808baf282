//! Shapes, strided layouts and broadcasting.
//!
//! Shapes and strides live in fixed arrays of [`MAX_NDIM`] entries, so no
//! allocator is needed. Strides are in elements (not bytes) and may be
//! negative or zero; a layout's `offset` is the element index of the first
//! logical element.

use crate::error::{Error, Result};

/// The most dimensions an array may have: NumPy's 64 on hosted targets, 8 on
/// bare-metal devices (reported in the wire `Hello`).
pub const MAX_NDIM: usize = if cfg!(target_os = "none") { 8 } else { 64 };

/// An array shape of at most [`MAX_NDIM`] dimensions.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    ndim: usize,
    dims: [usize; MAX_NDIM],
}

impl core::fmt::Debug for Shape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.dims()).finish()
    }
}

/// A shape serializes as the sequence of its dimensions (`[2, 3]`).
#[cfg(feature = "serde")]
impl serde::Serialize for Shape {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.dims())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Shape, D::Error> {
        struct Dims;
        impl<'de> serde::de::Visitor<'de> for Dims {
            type Value = Shape;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "at most {MAX_NDIM} dimensions whose product fits usize")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> core::result::Result<Shape, A::Error> {
                let mut shape = Shape::SCALAR;
                while let Some(d) = seq.next_element::<usize>()? {
                    shape.push(d).map_err(serde::de::Error::custom)?;
                }
                Ok(shape)
            }
        }
        d.deserialize_seq(Dims)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Shape {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", self.dims())
    }
}

impl Shape {
    /// The shape of a 0-d array.
    pub const SCALAR: Shape = Shape {
        ndim: 0,
        dims: [0; MAX_NDIM],
    };

    /// A shape from its dimensions; errors when there are too many or the
    /// element count overflows.
    pub fn new(dims: &[usize]) -> Result<Shape> {
        if dims.len() > MAX_NDIM {
            return Err(Error::TooManyDims);
        }
        let mut shape = Shape::SCALAR;
        shape.ndim = dims.len();
        for (slot, &d) in shape.dims.iter_mut().zip(dims) {
            *slot = d;
        }
        shape.checked_size()?;
        Ok(shape)
    }

    /// A 1-d shape.
    pub fn vector(len: usize) -> Shape {
        let mut shape = Shape::SCALAR;
        shape.ndim = 1;
        shape.dims[0] = len;
        shape
    }

    /// Number of dimensions. Never above [`MAX_NDIM`] (every constructor
    /// checks it); the `min` says so to the optimiser, so indexing the
    /// fixed arrays by a dimension needs no bounds check.
    #[inline(always)]
    pub const fn ndim(&self) -> usize {
        if self.ndim < MAX_NDIM {
            self.ndim
        } else {
            MAX_NDIM
        }
    }

    /// The dimensions.
    #[inline(always)]
    pub fn dims(&self) -> &[usize] {
        self.dims
            .split_at_checked(self.ndim())
            .map_or(&[], |(d, _)| d)
    }

    /// Number of elements, checked.
    pub fn checked_size(&self) -> Result<usize> {
        self.dims()
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or(Error::ShapeOverflow)
    }

    /// Number of elements. Every `Shape` was checked when built, so this
    /// cannot overflow.
    pub fn size(&self) -> usize {
        self.dims().iter().product()
    }

    /// Appends a dimension.
    pub fn push(&mut self, dim: usize) -> Result<()> {
        let Some(slot) = self.dims.get_mut(self.ndim) else {
            return Err(Error::TooManyDims);
        };
        *slot = dim;
        self.ndim += 1;
        if self.checked_size().is_err() {
            self.ndim -= 1;
            return Err(Error::ShapeOverflow);
        }
        Ok(())
    }
}

/// How the elements of an array lie in memory: shape, element strides and the
/// element offset of the first logical element.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    shape: Shape,
    strides: [isize; MAX_NDIM],
    offset: usize,
}

impl core::fmt::Debug for Layout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Layout")
            .field("shape", &self.shape)
            .field("strides", &self.strides())
            .field("offset", &self.offset)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Layout {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Layout {{ shape: {}, strides: {}, offset: {=usize} }}",
            self.shape,
            self.strides(),
            self.offset
        )
    }
}

impl Layout {
    /// C-contiguous (row-major) layout of `shape` starting at element 0.
    pub fn c_contiguous(shape: Shape) -> Layout {
        let mut strides = [0isize; MAX_NDIM];
        let mut step: isize = 1;
        for (stride, &dim) in strides.iter_mut().zip(shape.dims()).rev() {
            *stride = step;
            // The size was checked to fit usize; an isize overflow here only
            // matters for dims after a zero, where strides are never used.
            step = step.wrapping_mul(dim as isize);
        }
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    /// Fortran-contiguous (column-major) layout of `shape`.
    pub fn f_contiguous(shape: Shape) -> Layout {
        let mut strides = [0isize; MAX_NDIM];
        let mut step: isize = 1;
        for (stride, &dim) in strides.iter_mut().zip(shape.dims()) {
            *stride = step;
            step = step.wrapping_mul(dim as isize);
        }
        Layout {
            shape,
            strides,
            offset: 0,
        }
    }

    /// An explicit layout. `strides` must have one entry per dimension; the
    /// layout is checked against a buffer with [`Layout::check_len`].
    pub fn strided(shape: Shape, strides: &[isize], offset: usize) -> Result<Layout> {
        if strides.len() != shape.ndim() {
            return Err(Error::LayoutMismatch);
        }
        let mut s = [0isize; MAX_NDIM];
        for (slot, &x) in s.iter_mut().zip(strides) {
            *slot = x;
        }
        Ok(Layout {
            shape,
            strides: s,
            offset,
        })
    }

    /// The logical shape.
    pub const fn shape(&self) -> &Shape {
        &self.shape
    }

    /// Element strides, one per dimension.
    #[inline(always)]
    pub fn strides(&self) -> &[isize] {
        self.strides
            .split_at_checked(self.shape.ndim())
            .map_or(&[], |(s, _)| s)
    }

    /// Element index of the first logical element.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Number of dimensions.
    #[inline(always)]
    pub const fn ndim(&self) -> usize {
        self.shape.ndim()
    }

    /// Number of logical elements.
    pub fn size(&self) -> usize {
        self.shape.size()
    }

    /// Lowest and highest element index the layout touches, or `None` for an
    /// empty array. Errors if an index is negative or overflows.
    pub fn index_range(&self) -> Result<Option<(usize, usize)>> {
        if self.size() == 0 {
            return Ok(None);
        }
        let base = isize::try_from(self.offset).map_err(|_| Error::LayoutMismatch)?;
        let (mut lo, mut hi) = (base, base);
        for (&d, &s) in self.shape.dims().iter().zip(self.strides()) {
            let span = isize::try_from(d - 1)
                .ok()
                .and_then(|n| n.checked_mul(s))
                .ok_or(Error::LayoutMismatch)?;
            if span < 0 {
                lo = lo.checked_add(span).ok_or(Error::LayoutMismatch)?;
            } else {
                hi = hi.checked_add(span).ok_or(Error::LayoutMismatch)?;
            }
        }
        if lo < 0 {
            return Err(Error::LayoutMismatch);
        }
        Ok(Some((lo as usize, hi as usize)))
    }

    /// Checks that every element the layout reaches is inside a buffer of
    /// `len` elements.
    pub fn check_len(&self, len: usize) -> Result<()> {
        match self.index_range()? {
            Some((_, hi)) if hi >= len => Err(Error::LayoutMismatch),
            _ => Ok(()),
        }
    }

    /// Whether the elements are C-contiguous (size-1 dims may have any stride).
    pub fn is_c_contiguous(&self) -> bool {
        let mut step: isize = 1;
        for i in (0..self.ndim()).rev() {
            let d = self.shape.dims[i];
            if d == 0 {
                return true;
            }
            if d != 1 {
                if self.strides[i] != step {
                    return false;
                }
                step = step.wrapping_mul(d as isize);
            }
        }
        true
    }

    /// This layout broadcast to `shape` (NumPy's `broadcast_to`): new leading
    /// dims and size-1 dims get stride 0.
    pub fn broadcast_to(&self, shape: &Shape) -> Result<Layout> {
        let (n, m) = (shape.ndim(), self.ndim());
        if m > n {
            return Err(Error::BroadcastMismatch);
        }
        let mut strides = [0isize; MAX_NDIM];
        for i in 0..m {
            let (src, dst) = (self.shape.dims[i], shape.dims[n - m + i]);
            strides[n - m + i] = if src == dst {
                self.strides[i]
            } else if src == 1 {
                0
            } else {
                return Err(Error::BroadcastMismatch);
            };
        }
        Ok(Layout {
            shape: *shape,
            strides,
            offset: self.offset,
        })
    }

    /// Element index of the logical element at multi-index `index`.
    /// `index` must be within the shape.
    #[inline]
    pub fn element_index(&self, index: &[usize]) -> usize {
        let mut at = self.offset as isize;
        for (&i, &s) in index.iter().zip(self.strides()) {
            at += i as isize * s;
        }
        at as usize
    }

    /// Removes dimension `axis` (shape and stride).
    pub fn remove_axis(&self, axis: usize) -> Layout {
        let mut out = *self;
        if axis < self.ndim() {
            let n = self.ndim();
            out.shape.dims.copy_within(axis + 1..n, axis);
            out.strides.copy_within(axis + 1..n, axis);
            out.shape.ndim -= 1;
        }
        out
    }
}

/// The first `n` entries of a per-dimension array, without a panic path:
/// `n` is a dimension count (≤ [`MAX_NDIM`], the arrays' length) or a
/// block length bounded by its buffer, so the whole-array fallback is
/// never taken. (`&a[..n]` would compile to a call with a bounds panic at
/// opt-level z, where core's index function is not inlined.)
#[inline(always)]
pub(crate) fn first<T>(a: &[T], n: usize) -> &[T] {
    match a.split_at_checked(n) {
        Some((head, _)) => head,
        None => a,
    }
}

/// [`first`] for a mutable array.
#[inline(always)]
pub(crate) fn first_mut<T>(a: &mut [T], n: usize) -> &mut [T] {
    let len = a.len();
    match a.split_at_mut_checked(n.min(len)) {
        Some((head, _)) => head,
        None => &mut [],
    }
}

/// The broadcast shape of two shapes (`np.broadcast_shapes`).
pub fn broadcast_shapes(a: &Shape, b: &Shape) -> Result<Shape> {
    let n = a.ndim().max(b.ndim());
    let mut out = Shape::SCALAR;
    out.ndim = n;
    for i in 0..n {
        let da = if i < n - a.ndim() {
            1
        } else {
            a.dims[i - (n - a.ndim())]
        };
        let db = if i < n - b.ndim() {
            1
        } else {
            b.dims[i - (n - b.ndim())]
        };
        out.dims[i] = match (da, db) {
            _ if da == db => da,
            (1, _) => db,
            (_, 1) => da,
            _ => return Err(Error::BroadcastMismatch),
        };
    }
    out.checked_size()?;
    Ok(out)
}

/// Several layouts of one shape, with adjacent dimensions merged wherever
/// every layout steps through them as one (NumPy's iterator coalescing).
/// The result iterates the same elements in the same C order.
pub(crate) fn coalesce<const K: usize>(layouts: &mut [Layout; K]) {
    let Some(first) = layouts.first() else {
        return;
    };
    let shape = *first.shape();
    let mut dims = [0usize; MAX_NDIM];
    let mut strides = [[0isize; MAX_NDIM]; K];
    let mut n = 0usize;
    for i in 0..shape.ndim() {
        let d = shape.dims[i];
        if d == 1 {
            continue;
        }
        let mergeable = n > 0
            && layouts
                .iter()
                .enumerate()
                .all(|(k, l)| strides[k][n - 1] == l.strides[i].wrapping_mul(d as isize));
        if mergeable {
            dims[n - 1] *= d;
            for (k, l) in layouts.iter().enumerate() {
                strides[k][n - 1] = l.strides[i];
            }
        } else {
            dims[n] = d;
            for (k, l) in layouts.iter().enumerate() {
                strides[k][n] = l.strides[i];
            }
            n += 1;
        }
    }
    if shape.size() == 0 {
        // Keep a zero dim so the size stays 0.
        n = 1;
        dims[0] = 0;
    }
    for (k, l) in layouts.iter_mut().enumerate() {
        l.shape.ndim = n;
        l.shape.dims = dims;
        l.strides = strides[k];
    }
}

/// A C-order counter over the outer dimensions of a shape (all but the last).
pub(crate) struct OuterIndex {
    index: [usize; MAX_NDIM],
    dims: [usize; MAX_NDIM],
    ndim: usize,
    done: bool,
}

impl OuterIndex {
    /// Counts over `shape.dims()[..shape.ndim() - 1]` (one step for ndim ≤ 1).
    pub(crate) fn new(shape: &Shape) -> OuterIndex {
        let ndim = shape.ndim().saturating_sub(1);
        let mut dims = [0usize; MAX_NDIM];
        for (slot, &d) in dims.iter_mut().zip(shape.dims().iter().take(ndim)) {
            *slot = d;
        }
        OuterIndex {
            index: [0; MAX_NDIM],
            dims,
            ndim,
            done: shape.size() == 0,
        }
    }

    /// The current outer index, or `None` when finished; then advances.
    pub(crate) fn next_index(&mut self) -> Option<[usize; MAX_NDIM]> {
        if self.done {
            return None;
        }
        let current = self.index;
        self.done = true;
        let n = self.ndim.min(MAX_NDIM);
        for (i, &d) in self.index.iter_mut().zip(&self.dims).take(n).rev() {
            *i += 1;
            if *i < d {
                self.done = false;
                break;
            }
            *i = 0;
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        let s = |d: &[usize]| Shape::new(d).unwrap();
        assert_eq!(broadcast_shapes(&s(&[3, 1]), &s(&[4])), Ok(s(&[3, 4])));
        assert_eq!(broadcast_shapes(&s(&[]), &s(&[2, 0])), Ok(s(&[2, 0])));
        assert_eq!(broadcast_shapes(&s(&[1, 0]), &s(&[3, 1])), Ok(s(&[3, 0])));
        assert_eq!(
            broadcast_shapes(&s(&[3]), &s(&[4])),
            Err(Error::BroadcastMismatch)
        );
        assert_eq!(
            broadcast_shapes(&s(&[2, 0]), &s(&[3])),
            Err(Error::BroadcastMismatch)
        );
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Shape::new(&[usize::MAX, 2]).unwrap_err(),
            Error::ShapeOverflow
        );
        assert_eq!(
            Shape::new(&[1; MAX_NDIM + 1]).unwrap_err(),
            Error::TooManyDims
        );
        assert!(Shape::new(&[usize::MAX, 0]).is_ok());
    }

    #[test]
    fn layout_bounds() {
        let shape = Shape::new(&[2, 3]).unwrap();
        let c = Layout::c_contiguous(shape);
        assert!(c.check_len(6).is_ok());
        assert_eq!(c.check_len(5), Err(Error::LayoutMismatch));
        let rev = Layout::strided(shape, &[-3, -1], 5).unwrap();
        assert!(rev.check_len(6).is_ok());
        let bad = Layout::strided(shape, &[-3, -1], 4).unwrap();
        assert_eq!(bad.check_len(6), Err(Error::LayoutMismatch));
        assert_eq!(Layout::strided(shape, &[1], 0), Err(Error::LayoutMismatch));
        let huge = Layout::strided(shape, &[isize::MAX, 1], 0).unwrap();
        assert_eq!(huge.check_len(6), Err(Error::LayoutMismatch));
    }

    #[test]
    fn coalescing_merges_contiguous_dims() {
        let shape = Shape::new(&[2, 3, 4]).unwrap();
        let mut ls = [Layout::c_contiguous(shape), Layout::c_contiguous(shape)];
        coalesce(&mut ls);
        assert_eq!(ls[0].shape().dims(), &[24]);
        let f = Layout::f_contiguous(shape);
        let mut ls = [Layout::c_contiguous(shape), f];
        coalesce(&mut ls);
        assert_eq!(ls[0].shape().dims(), &[2, 3, 4]);
    }

    #[test]
    fn outer_index_counts_in_c_order() {
        let shape = Shape::new(&[2, 2, 5]).unwrap();
        let mut it = OuterIndex::new(&shape);
        let mut seen = std::vec::Vec::new();
        while let Some(i) = it.next_index() {
            seen.push((i[0], i[1]));
        }
        assert_eq!(seen, [(0, 0), (0, 1), (1, 0), (1, 1)]);
        let mut empty = OuterIndex::new(&Shape::new(&[2, 0]).unwrap());
        assert!(empty.next_index().is_none());
        let mut scalar = OuterIndex::new(&Shape::SCALAR);
        assert!(scalar.next_index().is_some());
        assert!(scalar.next_index().is_none());
    }
}
