//! `argmin`/`argmax`: the first index of the extreme (NaN wins).

use super::engine::{self, Fold};
use super::plan::{Cursor, IN, NOP};
use crate::array::ArrayRef;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::shape::{first, MAX_NDIM};

/// argmin/argmax along `axis` (flattened C order for `None`): the first
/// extreme, or the first NaN.
/// `flip` applies [`Num::flip_sign`] to every element read.
pub(super) fn arg<T: Num + PartialOrd>(
    (is_max, a, axis, out): (bool, &ArrayRef<'_>, Option<usize>, &mut [i64]),
    flip: bool,
) -> Result<FpFlags> {
    let dims = a.shape().dims();
    let nd = dims.len();
    let line_len = match axis {
        Some(ax) => dims.get(ax).copied().unwrap_or(0),
        None => a.shape().size(),
    };
    if line_len == 0 {
        return Err(Error::EmptyReduction);
    }
    let mut st = [[0isize; NOP]; MAX_NDIM];
    let mut outer = [0usize; MAX_NDIM];
    let mut no = 0;
    let mut inner = [0usize; MAX_NDIM];
    let mut ni = 0;
    for k in (0..nd).rev() {
        st[k][IN] = a.layout().strides()[k];
        match axis {
            Some(ax) if ax == k => {
                inner[0] = k;
                ni = 1;
            }
            Some(_) => {
                outer[no] = k;
                no += 1;
            }
            None => {
                inner[ni] = k;
                ni += 1;
            }
        }
    }
    let base = [0, a.layout().offset() as isize, 0];
    let mut lines = Cursor::new(dims, first(&outer, no), first(&st, nd), base);
    let mut buf = [T::ZERO; engine::BLOCK];
    for o in out.iter_mut() {
        let mut cur = Cursor::new(dims, first(&inner, ni), first(&st, nd), lines.pos);
        let mut best = T::ZERO;
        let mut best_at = 0usize;
        let mut done = 0;
        'line: while done < line_len {
            let len = (line_len - done).min(cur.run_len()).min(engine::BLOCK);
            let vals = &mut buf[..len];
            a.load(
                usize::try_from(cur.pos[IN]).unwrap_or(0),
                cur.run_stride(IN),
                vals,
            );
            if flip {
                vals.iter_mut().for_each(|v| *v = v.flip_sign());
            }
            if crate::SMALL {
                // NumPy's scan: a later element wins only when greater
                // (less), and the first NaN ends the line.
                for (k, &v) in vals.iter().enumerate() {
                    let better = if is_max { v > best } else { v < best };
                    if done + k == 0 || better || v.is_nan() {
                        best = v;
                        best_at = done + k;
                        if v.is_nan() {
                            break 'line;
                        }
                    }
                }
                cur.advance(len);
                done += len;
                continue;
            }
            if done == 0 {
                best = vals[0];
                best_at = 0;
                if best.is_nan() {
                    break 'line;
                }
            }
            // The block's extreme in lanes (NaN propagates), then the first
            // index holding it: the same answer as NumPy's first-wins scan.
            let fold = if is_max { Fold::Maximum } else { Fold::Minimum };
            let mut none = FpFlags::NONE;
            let extreme = engine::fold_block(fold, vals[0], vals, &mut none);
            if extreme.is_nan() {
                if let Some(k) = vals.iter().position(|x| x.is_nan()) {
                    best_at = done + k;
                }
                break 'line;
            }
            let better = if is_max {
                extreme > best
            } else {
                extreme < best
            };
            if better {
                if let Some(k) = vals.iter().position(|&x| x == extreme) {
                    best = extreme;
                    best_at = done + k;
                }
            }
            cur.advance(len);
            done += len;
        }
        *o = best_at as i64;
        lines.advance(1);
    }
    Ok(FpFlags::NONE)
}
