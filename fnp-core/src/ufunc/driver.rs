//! The one elementwise driver, for any number of operands.
//!
//! A [`Walk`] decides the layout once: the operands' layouts broadcast to
//! the output shape and coalesced together with the C-contiguous output,
//! so the iteration is a C-order walk over outer indices with one inner
//! run each. [`Walk::runs`] hands every run (each operand's start element
//! and the output position) to the caller's loop body; [`Walk::step`]
//! picks one run per row when every input can be read in place (the
//! contiguous fast path) and [`CHUNK`]-long pieces otherwise, which
//! [`Input::run`] gathers (and casts) into a stack buffer — the one
//! strided inner loop. Unary ops use it with two layouts, binary ops with
//! three, and the ternary and multi-output ops take it as they come.

use super::CHUNK;
use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::element::{Element, LoopElement};
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::shape::{coalesce, Layout, OuterIndex};

/// The iteration space of one elementwise call: `K` layouts (the inputs,
/// then the C-contiguous output) over the same shape, coalesced.
pub(crate) struct Walk<const K: usize> {
    layouts: [Layout; K],
}

impl<const K: usize> Walk<K> {
    /// Coalesces `layouts`, which already have the output's shape (the
    /// output's own C-contiguous layout last).
    pub(crate) fn new(mut layouts: [Layout; K]) -> Walk<K> {
        coalesce(&mut layouts);
        Walk { layouts }
    }

    /// The output layout (the last one).
    fn output(&self) -> Option<&Layout> {
        self.layouts.last()
    }

    /// Elements in one row of the coalesced walk (1 for a 0-d result).
    pub(crate) fn inner(&self) -> usize {
        self.output()
            .and_then(|l| l.shape().dims().last().copied())
            .unwrap_or(1)
    }

    /// Operand `k`'s stride along the row (0 for a 0-d result).
    pub(crate) fn stride(&self, k: usize) -> isize {
        self.layouts
            .get(k)
            .and_then(|l| l.strides().last().copied())
            .unwrap_or(0)
    }

    /// The run length: a whole row where every input is read in place,
    /// [`CHUNK`] elements where one is gathered.
    pub(crate) fn step(&self, all_direct: bool) -> usize {
        if all_direct {
            self.inner()
        } else {
            CHUNK
        }
    }

    /// Calls `body(starts, len, pos)` for every run of `step` (or fewer, at
    /// a row's end) elements in C order: `starts[k]` is operand `k`'s
    /// first element, `pos` the output position. ORs the flags `body`
    /// returns; its first error stops the walk.
    pub(crate) fn runs(
        &self,
        step: usize,
        mut body: impl FnMut(&[usize; K], usize, usize) -> Result<FpFlags>,
    ) -> Result<FpFlags> {
        let Some(out) = self.output() else {
            return Ok(FpFlags::NONE);
        };
        let nd = out.ndim();
        let inner = self.inner();
        let mut strides = [0isize; K];
        for (k, s) in strides.iter_mut().enumerate() {
            *s = self.stride(k);
        }
        let step = step.max(1);
        let mut flags = FpFlags::NONE;
        let mut outer = OuterIndex::new(out.shape());
        let mut pos = 0usize;
        while let Some(index) = outer.next_index() {
            let outer_index: &[usize] = index.get(..nd.saturating_sub(1)).unwrap_or(&[]);
            let mut base = [0usize; K];
            for (b, l) in base.iter_mut().zip(&self.layouts) {
                *b = l.element_index(outer_index);
            }
            let mut done = 0usize;
            while done < inner {
                let len = step.min(inner - done);
                let mut starts = [0usize; K];
                for ((s, &b), &st) in starts.iter_mut().zip(&base).zip(&strides) {
                    *s = (b as isize + done as isize * st) as usize;
                }
                flags |= body(&starts, len, pos)?;
                done += len;
                pos += len;
            }
        }
        Ok(flags)
    }
}

/// The element type an operand is stored in: any dtype, decided at run
/// time ([`Erased`]), or an [`Element`] type fixed at compile time (the
/// typed API), whose gather then links only that type's conversion to the
/// loop type.
pub(crate) trait Stored {
    /// Whether an array of `dtype` is stored this way.
    fn holds(dtype: DType) -> bool;
    /// `out.len()` elements from element `start`, `stride` apart, cast to
    /// the loop type.
    fn load<T: LoopElement>(array: &ArrayRef<'_>, start: usize, stride: isize, out: &mut [T]);
}

/// An operand of any dtype (the type-erased entries).
pub(crate) enum Erased {}

impl Stored for Erased {
    fn holds(_: DType) -> bool {
        true
    }

    fn load<T: LoopElement>(array: &ArrayRef<'_>, start: usize, stride: isize, out: &mut [T]) {
        array.load(start, stride, out);
    }
}

impl<I: Element> Stored for I {
    fn holds(dtype: DType) -> bool {
        dtype == I::DTYPE
    }

    fn load<T: LoopElement>(array: &ArrayRef<'_>, start: usize, stride: isize, out: &mut [T]) {
        crate::array::gather::<I, T>(array.bytes(), start, stride, out);
    }
}

/// One input operand read as the loop type `T`: in place when its rows are
/// unit-stride runs of `T` already, gathered into a buffer otherwise. `S`
/// says what it is stored as.
pub(crate) struct Input<'a, 'd, T, S = Erased> {
    array: &'a ArrayRef<'d>,
    stride: isize,
    direct: Option<&'d [T]>,
    buf: [T; CHUNK],
    stored: core::marker::PhantomData<S>,
}

impl<'a, 'd, T: LoopElement, S: Stored> Input<'a, 'd, T, S> {
    /// Operand `k` of `walk`, which the caller has checked `S::holds`.
    pub(crate) fn new<const K: usize>(array: &'a ArrayRef<'d>, walk: &Walk<K>, k: usize) -> Self {
        let stride = walk.stride(k);
        // Bool inputs are always gathered so that any non-zero byte reads
        // as True.
        let direct = if stride == 1 && array.dtype() == T::DTYPE && T::DTYPE != DType::Bool {
            array.typed::<T>().ok()
        } else {
            None
        };
        Input {
            array,
            stride,
            direct,
            buf: [T::default(); CHUNK],
            stored: core::marker::PhantomData,
        }
    }

    /// Whether its runs are read in place.
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The `len` elements from element `start` along the row: borrowed
    /// when read in place, otherwise gathered (and cast).
    pub(crate) fn run(&mut self, start: usize, len: usize) -> Result<&[T]> {
        if let Some(run) = self.direct.and_then(|d| d.get(start..start + len)) {
            return Ok(run);
        }
        // len <= CHUNK here unless a direct run was cut short, which a
        // validated layout rules out.
        let chunk = self.buf.get_mut(..len).ok_or(Error::LayoutMismatch)?;
        // Devices gather only CHUNK = 32 elements at a time, where the fill
        // would save little and cost flash.
        if self.stride == 0 && !cfg!(target_os = "none") {
            // A broadcast operand: convert its one element once and repeat
            // it (a fill vectorizes; the general gather bounds-checks each
            // read).
            if let Some((first, rest)) = chunk.split_first_mut() {
                S::load(self.array, start, 0, core::slice::from_mut(first));
                rest.fill(*first);
            }
        } else {
            S::load(self.array, start, self.stride, chunk);
        }
        Ok(chunk)
    }
}

/// The output run at `pos`, `len` elements long.
pub(crate) fn out_run<O>(out: &mut [O], pos: usize, len: usize) -> Result<&mut [O]> {
    let n = out.len();
    out.get_mut(pos..pos + len)
        .ok_or_else(|| Error::short_output::<O>(n))
}
