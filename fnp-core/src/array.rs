//! Borrowed, type-erased array views: what the host and the wire server pass in.

use crate::dtype::{DType, OperandType};
use crate::element::{Element, LoopElement};
use crate::error::{Error, Result};
use crate::shape::{Layout, Shape};

/// A read-only strided view of little-endian element bytes of one dtype.
///
/// The bytes must be aligned for the dtype (checked in [`ArrayRef::new`]);
/// the wire server copies frame payloads into an aligned arena first.
#[derive(Clone, Copy, Debug)]
pub struct ArrayRef<'a> {
    dtype: DType,
    data: &'a [u8],
    layout: Layout,
    weak: bool,
}

impl<'a> ArrayRef<'a> {
    /// A view of `data` (whole elements of `dtype`) laid out as `layout`.
    ///
    /// Errors: [`Error::LayoutMismatch`] when the byte length is not a whole
    /// number of elements or the layout reaches outside them,
    /// [`Error::Misaligned`] when `data` is not aligned for `dtype`.
    pub fn new(dtype: DType, data: &'a [u8], layout: Layout) -> Result<ArrayRef<'a>> {
        let item = dtype.itemsize_nonzero();
        if data.len() % item != 0 {
            return Err(Error::LayoutMismatch);
        }
        if data.as_ptr().align_offset(item.get()) != 0 {
            return Err(Error::Misaligned);
        }
        layout.check_len(data.len() / item)?;
        Ok(ArrayRef {
            dtype,
            data,
            layout,
            weak: false,
        })
    }

    /// A C-contiguous view of `data` with `shape`.
    pub fn contiguous(dtype: DType, data: &'a [u8], shape: Shape) -> Result<ArrayRef<'a>> {
        ArrayRef::new(dtype, data, Layout::c_contiguous(shape))
    }

    /// A view of a typed slice with `layout`.
    pub fn from_slice<T: Element>(data: &'a [T], layout: Layout) -> Result<ArrayRef<'a>> {
        ArrayRef::new(T::DTYPE, bytemuck::cast_slice(data), layout)
    }

    /// A view of a typed slice whose layout was already checked against
    /// its length (a [`crate::View`]); typed slices are always aligned.
    pub(crate) fn from_typed<T: Element>(data: &'a [T], layout: Layout) -> ArrayRef<'a> {
        ArrayRef {
            dtype: T::DTYPE,
            data: bytemuck::try_cast_slice(data).unwrap_or(&[]),
            layout,
            weak: false,
        }
    }

    /// A Python scalar operand (NEP 50 weak): one element of `bool`, `int64`,
    /// `uint64` (Python ints ≥ 2**63) or `float64`.
    pub fn python_scalar(dtype: DType, data: &'a [u8]) -> Result<ArrayRef<'a>> {
        if !matches!(
            dtype,
            DType::Bool | DType::Int64 | DType::UInt64 | DType::Float64
        ) {
            return Err(Error::InvalidType);
        }
        let mut view = ArrayRef::contiguous(dtype, data, Shape::SCALAR)?;
        view.weak = true;
        Ok(view)
    }

    /// The dtype of the elements.
    pub const fn dtype(&self) -> DType {
        self.dtype
    }

    /// How the elements lie in `data`.
    pub const fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The logical shape.
    pub const fn shape(&self) -> &Shape {
        self.layout.shape()
    }

    /// The raw element bytes.
    pub const fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Whether this operand is a Python scalar (NEP 50 weak).
    pub const fn is_weak(&self) -> bool {
        self.weak
    }

    /// The operand as NumPy's promotion sees it.
    pub fn operand_type(&self) -> OperandType {
        match (self.weak, self.dtype) {
            (false, d) => OperandType::Array(d),
            (true, DType::Bool) => OperandType::PyBool,
            (true, DType::Float64) => OperandType::PyFloat,
            (true, _) => OperandType::PyInt,
        }
    }

    /// The same view with another layout over the same bytes.
    pub fn with_layout(&self, layout: Layout) -> Result<ArrayRef<'a>> {
        layout.check_len(self.data.len() / self.dtype.itemsize_nonzero())?;
        Ok(ArrayRef { layout, ..*self })
    }

    /// The elements as a typed slice; `T` must match the dtype.
    pub fn typed<T: Element>(&self) -> Result<&'a [T]> {
        if T::DTYPE != self.dtype {
            return Err(Error::InvalidType);
        }
        bytemuck::try_cast_slice(self.data).map_err(|_| Error::Misaligned)
    }

    /// Reads `out.len()` elements starting at element index `start`, stepping
    /// by `stride` elements, converted to `L` (NumPy's cast).
    pub(crate) fn load<L: LoopElement>(&self, start: usize, stride: isize, out: &mut [L]) {
        crate::element::with_dtype!(self.dtype, T => gather::<T, L>(self.data, start, stride, out))
    }

    /// The single element of a size-1 array converted to `L`.
    pub(crate) fn first<L: LoopElement>(&self) -> L {
        let mut one = [L::default()];
        self.load(self.layout.offset(), 0, &mut one);
        one[0]
    }
}

/// A C-contiguous 1-d view of `v`, for tests.
#[cfg(test)]
pub(crate) fn vector<T: Element>(v: &[T]) -> ArrayRef<'_> {
    ArrayRef::from_slice(
        v,
        Layout::c_contiguous(crate::shape::Shape::vector(v.len())),
    )
    .expect("a slice is a valid vector")
}

/// Copies `src` into `dst` element by element, as far as the shorter
/// goes: `copy_from_slice` without its length panic, for slices whose
/// lengths the caller has made equal but the optimiser cannot prove so.
pub(crate) fn copy_into<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// Strided, converting copy. Every index was bounds-checked when the view's
/// layout was validated; an index outside `data` (impossible through the
/// public API) reads as zero rather than panicking.
pub(crate) fn gather<S: Element, L: LoopElement>(
    data: &[u8],
    start: usize,
    stride: isize,
    out: &mut [L],
) {
    let Ok(src) = bytemuck::try_cast_slice::<u8, S>(data) else {
        return;
    };
    if !crate::SMALL && stride == 1 {
        if let Some(run) = src.get(start..start.saturating_add(out.len())) {
            for (o, &s) in out.iter_mut().zip(run) {
                *o = s.cast_to();
            }
            return;
        }
    }
    let mut at = start as isize;
    for o in out.iter_mut() {
        let s = usize::try_from(at).ok().and_then(|i| src.get(i)).copied();
        *o = s.unwrap_or_else(S::zeroed).cast_to();
        at = at.wrapping_add(stride);
    }
}
