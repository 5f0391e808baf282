//! NumPy's reduction iteration order, reproduced.
//!
//! A float sum's bits depend on how NumPy's iterator walks the input: the
//! axes are sorted by stride (smallest innermost), mergeable axes are
//! coalesced, and the buffering setup (NumPy ≥ 2.3, `nditer_constr.c`,
//! `npyiter_find_buffering_setup`) decides how many elements each call of
//! the inner loop sees. When the innermost iterated axis is reduced, the
//! inner loop is a "binary reduce" (`out += pairwise_sum(run)` for add);
//! otherwise it adds element-wise into the output. This module emulates
//! those decisions on element strides and hands out the inner-loop calls as
//! ranges of the flat iteration space; [`Cursor`] walks the same space over
//! the caller's real memory layout.

use crate::shape::{first, first_mut, Layout, MAX_NDIM};

/// NumPy's default buffer size (`NPY_BUFSIZE`), in elements.
pub(crate) const BUFSIZE: usize = 8192;

/// Operand slots: the output, the input, the `where=` mask.
pub(crate) const OUT: usize = 0;
pub(crate) const IN: usize = 1;
pub(crate) const MASK: usize = 2;
pub(crate) const NOP: usize = 3;

/// Strides of one axis for each operand (0 when broadcast or absent).
type OpStrides = [isize; NOP];

/// What one inner-loop call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// The output element is fixed: NumPy's `IS_BINARY_REDUCE` loop.
    Reduce,
    /// The output advances with the input: `out[i] = out[i] op in[i]`.
    Elementwise,
}

/// The iteration NumPy sets up for one reduction.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Input axes in iteration order, innermost first (size-1 axes dropped).
    pub(crate) order: [usize; MAX_NDIM],
    pub(crate) norder: usize,
    /// Total number of iterated elements.
    pub(crate) size: usize,
    /// Kind of every inner-loop call.
    pub(crate) kind: CallKind,
    /// Elements per inner-loop call in the buffering scheme; see [`Plan::calls`].
    coresize: usize,
    buffersize: usize,
    outer_len: usize,
    using_reduce: bool,
}

/// The operands as NumPy's iterator sees them, per input axis.
pub(crate) struct PlanInput<'a> {
    pub(crate) dims: &'a [usize],
    pub(crate) reduced: &'a [bool],
    /// Input strides as NumPy sees the array being reduced (the caller's
    /// layout, or the layout of the copy NumPy reduces instead).
    pub(crate) in_strides: &'a [isize],
    /// Mask strides broadcast to `dims`, if `where=` was given.
    pub(crate) mask_strides: Option<&'a [isize]>,
    /// Whether the input is cast to the loop dtype (buffered by NumPy).
    pub(crate) cast: bool,
}

/// NumPy's stable insertion sort of axes (`npyiter_find_best_axis_ordering`).
///
/// `strides[k]` holds the operand strides of C axis `k`; the result lists C
/// axes innermost first. An axis moves inward past another only when every
/// operand that has non-zero strides on both agrees it is smaller.
pub(crate) fn best_axis_order(strides: &[OpStrides], order: &mut [usize]) {
    let ndim = strides.len().min(order.len());
    // NumPy's axisdata is reversed C order: position 0 is the last axis.
    for (i, o) in order.iter_mut().enumerate().take(ndim) {
        *o = ndim - 1 - i;
    }
    for i0 in 1..ndim {
        let j0 = order[i0];
        let s0 = strides[j0];
        let mut ipos = i0;
        for i1 in (0..i0).rev() {
            let s1 = strides[order[i1]];
            let (mut ambig, mut swap) = (true, false);
            for k in 0..NOP {
                if s0[k] != 0 && s1[k] != 0 {
                    if s1[k].unsigned_abs() <= s0[k].unsigned_abs() {
                        swap = false;
                    } else if ambig {
                        swap = true;
                    }
                    ambig = false;
                }
            }
            if !ambig {
                if swap {
                    ipos = i1;
                } else {
                    break;
                }
            }
        }
        // Move axis j0 from i0 to ipos, shifting the ones between outward
        // (a loop rather than `copy_within`, which links a 1.6 KB memmove
        // into firmware that has no other use for it).
        if let Some(moved) = order.get_mut(ipos..=i0) {
            let mut carry = j0;
            for o in moved {
                core::mem::swap(o, &mut carry);
            }
        }
    }
}

/// The element strides of a fresh array NumPy allocates "like" a layout
/// (order='K'): C-contiguous in the stride-sorted axis order, positive.
pub(crate) fn keep_order_strides(layout: &Layout, out: &mut [isize; MAX_NDIM]) {
    let dims = layout.shape().dims();
    let n = dims.len();
    let mut st = [[0isize; NOP]; MAX_NDIM];
    for k in 0..n {
        st[k][IN] = if dims[k] == 1 { 0 } else { layout.strides()[k] };
    }
    let mut order = [0usize; MAX_NDIM];
    best_axis_order(first(&st, n), first_mut(&mut order, n));
    let mut step: isize = 1;
    for &ax in first(&order, n) {
        out[ax] = step;
        step = step.wrapping_mul(dims[ax] as isize);
    }
}

/// The element strides of `np.array(a, copy=True)` (order='K', NumPy's
/// `PyArray_CreateSortedStridePerm`): axes sorted by |stride|, largest
/// outermost, ties in axis order, so broadcast (stride-0) axes end up
/// innermost, unlike the iterator's sort above.
pub(crate) fn copy_strides(layout: &Layout, out: &mut [isize; MAX_NDIM]) {
    let dims = layout.shape().dims();
    let strides = layout.strides();
    let n = dims.len();
    let mut perm = [0usize; MAX_NDIM];
    for (i, p) in perm.iter_mut().enumerate().take(n) {
        *p = i;
    }
    // Insertion sort: stable, and n is at most MAX_NDIM.
    for i in 1..n {
        let mut j = i;
        while j > 0 && strides[perm[j - 1]].unsigned_abs() < strides[perm[j]].unsigned_abs() {
            perm.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut step: isize = 1;
    for &ax in first(&perm, n).iter().rev() {
        out[ax] = step;
        step = step.wrapping_mul(dims[ax] as isize);
    }
}

impl Plan {
    /// Emulates NumPy's iterator construction for this reduction.
    pub(crate) fn new(p: &PlanInput<'_>) -> Plan {
        let ndim = p.dims.len();
        let mut st = [[0isize; NOP]; MAX_NDIM];
        for k in 0..ndim {
            if p.dims[k] != 1 {
                st[k][IN] = p.in_strides[k];
                st[k][MASK] = p.mask_strides.map_or(0, |m| m[k]);
            }
        }
        // The output is allocated after sorting, so only input and mask
        // decide the order.
        let mut order = [0usize; MAX_NDIM];
        best_axis_order(first(&st, ndim), first_mut(&mut order, ndim));
        // Then it is allocated in that order (positive, contiguous).
        let mut step: isize = 1;
        for &ax in first(&order, ndim) {
            if !p.reduced[ax] && p.dims[ax] != 1 {
                st[ax][OUT] = step;
                step = step.wrapping_mul(p.dims[ax] as isize);
            }
        }
        let size: usize = p.dims.iter().product();

        // Coalesce (npyiter_coalesce_axes) over the sorted axes.
        let mut shape = [1usize; MAX_NDIM];
        let mut cst = [[0isize; NOP]; MAX_NDIM];
        let mut nd = 0usize;
        let mut kept = [0usize; MAX_NDIM];
        let mut nkept = 0usize;
        for &ax in first(&order, ndim) {
            let (d, s) = (p.dims[ax], st[ax]);
            if d != 1 {
                kept[nkept] = ax;
                nkept += 1;
            }
            if nd == 0 {
                shape[0] = d;
                cst[0] = s;
                nd = 1;
                continue;
            }
            let (d0, s0) = (shape[nd - 1], cst[nd - 1]);
            let ok = (0..NOP).all(|k| {
                (d0 == 1 && s0[k] == 0)
                    || (d == 1 && s[k] == 0)
                    || s0[k].wrapping_mul(d0 as isize) == s[k]
            });
            if ok {
                shape[nd - 1] = d0.saturating_mul(d);
                for k in 0..NOP {
                    if cst[nd - 1][k] == 0 {
                        cst[nd - 1][k] = s[k];
                    }
                }
            } else {
                shape[nd] = d;
                cst[nd] = s;
                nd += 1;
            }
        }
        if nd == 0 {
            nd = 1;
        }
        let kind = if cst[0][OUT] == 0 {
            CallKind::Reduce
        } else {
            CallKind::Elementwise
        };

        // npyiter_find_buffering_setup.
        let cast = [false, p.cast, false];
        // The output has zero strides where it is reduced: NumPy flags it
        // as a reduce operand.
        let is_reduce_operand = [true, false, false];
        let mut single = [1usize; NOP];
        let mut reduce_outer = [0usize; NOP];
        let mut cost: usize = 1 + cast.iter().filter(|&&c| c).count();
        let mut outer_reduce_dim = 0usize;
        let mut sz = shape[0];
        let (mut best_dim, mut best_cost, mut best_size, mut best_coresize) =
            (0usize, cost, sz, 1usize);
        for idim in 1..nd {
            if outer_reduce_dim != 0 {
                break;
            }
            if sz >= BUFSIZE && cost > 1 {
                break;
            }
            let (prev, prev_shape, cur) = (cst[idim - 1], shape[idim - 1], cst[idim]);
            for k in 0..NOP {
                if single[k] == idim {
                    if prev[k].wrapping_mul(prev_shape as isize) == cur[k] {
                        single[k] += 1;
                        continue;
                    }
                    if !cast[k] {
                        cost += 1;
                    }
                }
                if is_reduce_operand[k] && (cur[k] == 0 || prev[k] == 0) {
                    reduce_outer[k] = idim;
                    outer_reduce_dim = idim;
                }
            }
            let coresize = sz;
            sz = sz.saturating_mul(shape[idim]);
            if sz == 0 {
                break;
            }
            let bufsize = if sz > BUFSIZE && cost > 1 {
                BUFSIZE
            } else {
                sz
            };
            // NumPy compares these products as doubles; they are exact
            // integers far below 2^53, so integer products agree and need
            // no soft-float multiply on devices.
            let wide = |a: usize, b: usize| (a as u128) * (b as u128);
            if wide(cost, best_size) <= wide(best_cost, bufsize) {
                best_cost = cost;
                best_coresize = coresize;
                best_size = sz;
                best_dim = idim;
            }
        }
        let using_reduce = outer_reduce_dim != 0 && best_dim == outer_reduce_dim;
        let reduce_dim = outer_reduce_dim;
        let mut must_buffer = false;
        for k in 0..NOP {
            if k == MASK && p.mask_strides.is_none() {
                continue;
            }
            // NumPy's three reasons to iterate an operand the reduce way.
            let is_reduce_op = using_reduce
                && (reduce_outer[k] == best_dim
                    || (single[k] == best_dim && !cast[k])
                    || (cst[reduce_dim][k] == 0 && single[k] <= best_dim));
            let single_stride = single[k] + usize::from(is_reduce_op) > best_dim;
            if cast[k] || !single_stride {
                must_buffer = true;
            }
        }
        if must_buffer && BUFSIZE < best_size {
            best_size = best_coresize * (BUFSIZE / best_coresize);
        }
        let mut plan = Plan {
            order: [0; MAX_NDIM],
            norder: nkept,
            size,
            kind,
            coresize: best_coresize.max(1),
            buffersize: best_size.max(1),
            outer_len: shape[best_dim].max(1),
            using_reduce,
        };
        for (slot, &k) in plan.order.iter_mut().zip(first(&kept, nkept)) {
            *slot = k;
        }
        plan
    }

    /// The inner-loop calls in order, as lengths of consecutive ranges of
    /// the flat iteration space (`npyiter_copy_to_buffers`: a transfer
    /// never crosses the end of the outer buffering axis; with the reduce
    /// logic each core is its own call).
    pub(crate) fn calls(&self) -> Calls {
        Calls {
            at: 0,
            size: self.size,
            coresize: self.coresize,
            buffersize: self.buffersize,
            outer_len: self.outer_len,
            using_reduce: self.using_reduce,
            pending: 0,
            pending_len: 0,
        }
    }
}

/// Iterator over inner-loop call lengths.
pub(crate) struct Calls {
    at: usize,
    size: usize,
    coresize: usize,
    buffersize: usize,
    outer_len: usize,
    using_reduce: bool,
    pending: usize,
    pending_len: usize,
}

impl Iterator for Calls {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.pending > 0 {
            self.pending -= 1;
            self.at += self.pending_len;
            return Some(self.pending_len);
        }
        if self.at >= self.size {
            return None;
        }
        let outer_index = (self.at / self.coresize) % self.outer_len;
        let remaining_outer = self.outer_len - outer_index;
        let transfer = self
            .buffersize
            .min(self.coresize.saturating_mul(remaining_outer))
            .min(self.size - self.at)
            .max(1);
        if self.using_reduce && transfer / self.coresize > 1 {
            self.pending = transfer / self.coresize - 1;
            self.pending_len = self.coresize;
            self.at += self.coresize;
            return Some(self.coresize);
        }
        self.at += transfer;
        Some(transfer)
    }
}

/// A walk over the flat iteration space in the caller's memory: per
/// operand, the element index of the current position.
#[derive(Clone)]
pub(crate) struct Cursor {
    nd: usize,
    shape: [usize; MAX_NDIM],
    strides: [OpStrides; MAX_NDIM],
    index: [usize; MAX_NDIM],
    /// Current element index per operand.
    pub(crate) pos: [isize; NOP],
}

impl Cursor {
    /// A cursor over `order` (innermost first) with per-axis operand
    /// strides `st` (C axis indexed) starting at `base`. Axes that step
    /// through memory as one for every operand are merged.
    pub(crate) fn new(
        dims: &[usize],
        order: &[usize],
        st: &[OpStrides],
        base: [isize; NOP],
    ) -> Cursor {
        let mut c = Cursor {
            nd: 0,
            shape: [1; MAX_NDIM],
            strides: [[0; NOP]; MAX_NDIM],
            index: [0; MAX_NDIM],
            pos: base,
        };
        for &ax in order {
            let (d, s) = (dims[ax], st[ax]);
            if d == 1 {
                continue;
            }
            if c.nd > 0 {
                let (d0, s0) = (c.shape[c.nd - 1], c.strides[c.nd - 1]);
                if (0..NOP).all(|k| s0[k].wrapping_mul(d0 as isize) == s[k]) {
                    c.shape[c.nd - 1] = d0.saturating_mul(d);
                    continue;
                }
            }
            c.shape[c.nd] = d;
            c.strides[c.nd] = s;
            c.nd += 1;
        }
        if c.nd == 0 {
            c.nd = 1;
        }
        c
    }

    /// Elements left in the current innermost run.
    #[inline]
    pub(crate) fn run_len(&self) -> usize {
        self.shape[0] - self.index[0]
    }

    /// Stride of the innermost run for operand `k`.
    #[inline]
    pub(crate) fn run_stride(&self, k: usize) -> isize {
        self.strides[0][k]
    }

    /// Moves `n` elements forward, `n <= run_len()`.
    #[inline]
    pub(crate) fn advance(&mut self, n: usize) {
        let n = n.min(self.run_len());
        for k in 0..NOP {
            self.pos[k] = self.pos[k].wrapping_add((n as isize).wrapping_mul(self.strides[0][k]));
        }
        self.index[0] += n;
        if self.index[0] < self.shape[0] {
            return;
        }
        // Carry into the outer axes.
        for k in 0..NOP {
            self.pos[k] =
                self.pos[k].wrapping_sub((self.shape[0] as isize).wrapping_mul(self.strides[0][k]));
        }
        self.index[0] = 0;
        for d in 1..self.nd {
            self.index[d] += 1;
            for k in 0..NOP {
                self.pos[k] = self.pos[k].wrapping_add(self.strides[d][k]);
            }
            if self.index[d] < self.shape[d] {
                return;
            }
            for k in 0..NOP {
                self.pos[k] = self.pos[k]
                    .wrapping_sub((self.shape[d] as isize).wrapping_mul(self.strides[d][k]));
            }
            self.index[d] = 0;
        }
    }
}
