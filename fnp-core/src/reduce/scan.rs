//! `cumsum`/`cumprod`: running results along one axis.

use super::engine::{self, Fold};
use super::plan::{Cursor, IN, NOP, OUT};
use crate::array::ArrayRef;
use crate::dtype::DType;
use crate::flags::FpFlags;
use crate::num::Num;
use crate::shape::{first, MAX_NDIM};

/// `add.accumulate`/`multiply.accumulate` along `axis` (flattened C order
/// for `None`): the first element is copied, the rest folded in order.
/// `T` carries the values of the dtype `real` (see [`engine::load_real`]).
pub(super) fn accumulate<T: Num>(
    fold: Fold,
    a: &ArrayRef<'_>,
    axis: Option<usize>,
    out: &mut [T],
    real: DType,
) -> FpFlags {
    let dims = a.shape().dims();
    let nd = dims.len();
    let mut flags = FpFlags::NONE;
    if a.shape().size() == 0 {
        return flags;
    }
    let mut st = [[0isize; NOP]; MAX_NDIM];
    let mut step: isize = 1;
    for k in (0..nd).rev() {
        st[k][IN] = a.layout().strides()[k];
        st[k][OUT] = step;
        step = step.wrapping_mul(dims[k] as isize);
    }
    // Lines along the axis; for the flattened case one line over every
    // axis in C order.
    let (line_len, line_axes, outer_axes) = match axis {
        Some(ax) => (dims[ax], [ax; 1], true),
        None => (a.shape().size(), [0; 1], false),
    };
    let mut outer = [0usize; MAX_NDIM];
    let mut no = 0;
    let mut inner = [0usize; MAX_NDIM];
    let mut ni = 0;
    for k in (0..nd).rev() {
        if outer_axes && k == line_axes[0] {
            continue;
        }
        if outer_axes {
            outer[no] = k;
            no += 1;
        } else {
            inner[ni] = k;
            ni += 1;
        }
    }
    if outer_axes {
        inner[0] = line_axes[0];
        ni = 1;
    }
    let base = [0, a.layout().offset() as isize, 0];
    let mut lines = Cursor::new(dims, first(&outer, no), first(&st, nd), base);
    let nlines = a.shape().size().checked_div(line_len).unwrap_or(0);
    let mut buf = [T::ZERO; engine::BLOCK];
    for _ in 0..nlines {
        let mut cur = Cursor::new(dims, first(&inner, ni), first(&st, nd), lines.pos);
        let mut acc = T::ZERO;
        let mut done = 0;
        while done < line_len {
            let len = (line_len - done).min(cur.run_len()).min(engine::BLOCK);
            let vals = &mut buf[..len];
            engine::load_real(
                a,
                real,
                usize::try_from(cur.pos[IN]).unwrap_or(0),
                cur.run_stride(IN),
                vals,
            );
            let (o0, so) = (cur.pos[OUT], cur.run_stride(OUT));
            for (k, &x) in vals.iter().enumerate() {
                acc = if done + k == 0 {
                    x
                } else {
                    let r = if fold == Fold::Add {
                        acc.add(x)
                    } else {
                        acc.mul(x)
                    };
                    if T::FLOAT {
                        flags |= if fold == Fold::Add {
                            T::add_flags(acc, x, r)
                        } else {
                            T::mul_flags(acc, x, r)
                        };
                    }
                    r
                };
                let at = o0.wrapping_add((k as isize).wrapping_mul(so));
                if let Some(o) = usize::try_from(at).ok().and_then(|i| out.get_mut(i)) {
                    *o = acc;
                }
            }
            cur.advance(len);
            done += len;
        }
        lines.advance(1);
    }
    flags
}
