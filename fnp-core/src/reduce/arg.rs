//! `argmin`/`argmax`: the first index of the extreme (NaN wins).

use super::engine::{self, Fold};
use super::plan::{Cursor, IN, NOP};
use crate::array::ArrayRef;
use crate::error::{Error, Result};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::shape::{first, MAX_NDIM};

/// Elements per loaded block. The host's blocks are long so the load, the
/// fold's final lane merge and the per-block compare cost little per
/// element (at the reductions' 128 argmax ran at 0.67x NumPy); firmware
/// keeps the reductions' block, whose buffer lives on its small stack.
const ARG_BLOCK: usize = if crate::SMALL { engine::BLOCK } else { 2048 };

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
    let mut buf = [T::ZERO; ARG_BLOCK];
    // The elements themselves when they are of the loop type: contiguous
    // runs are scanned in place instead of copied first.
    let direct = if flip || crate::SMALL {
        None
    } else {
        a.typed::<T>().ok()
    };
    for o in out.iter_mut() {
        let mut cur = Cursor::new(dims, first(&inner, ni), first(&st, nd), lines.pos);
        let mut best = T::ZERO;
        let mut best_at = 0usize;
        let mut done = 0;
        'line: while done < line_len {
            let len = (line_len - done).min(cur.run_len()).min(ARG_BLOCK);
            let start = usize::try_from(cur.pos[IN]).unwrap_or(0);
            let run = match direct {
                Some(d) if cur.run_stride(IN) == 1 => d.get(start..start.saturating_add(len)),
                _ => None,
            };
            let vals: &[T] = match (run, buf.get_mut(..len)) {
                (Some(run), _) => run,
                (None, Some(vals)) => {
                    a.load(start, cur.run_stride(IN), vals);
                    if flip {
                        vals.iter_mut().for_each(|v| *v = v.flip_sign());
                    }
                    vals
                }
                (None, None) => break 'line,
            };
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

#[cfg(test)]
mod tests {
    use crate::array::ArrayRef;
    use crate::reduce::{reduce, Axes, ReduceOp, ReduceParams};
    use crate::shape::{Layout, Shape};
    use std::vec;
    use std::vec::Vec;

    /// NumPy's scan: a later element wins only when greater (less), and
    /// the first NaN wins outright.
    fn scan(v: &[f64], is_max: bool) -> i64 {
        let mut at = 0;
        for (k, &x) in v.iter().enumerate() {
            if x.is_nan() {
                return k as i64;
            }
            if (is_max && x > v[at]) || (!is_max && x < v[at]) {
                at = k;
            }
        }
        at as i64
    }

    /// Long lines (several blocks), in place and through a strided axis:
    /// ties, signed zeros and NaNs on and around block boundaries.
    #[test]
    fn first_extreme_across_blocks() {
        let n = 5000;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let base: Vec<f64> = (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 41) as f64 - 20.0
            })
            .collect();
        let mut cases: Vec<Vec<f64>> = vec![base.clone()];
        for (at, v) in [(2047, 100.0), (2048, f64::NAN), (4999, f64::NAN), (0, -0.0)] {
            let mut c = base.clone();
            c[at] = v;
            cases.push(c);
        }
        let mut zeros = vec![0.0; n];
        zeros[3000] = -0.0;
        cases.push(zeros);
        for case in &cases {
            for (op, is_max) in [(ReduceOp::Argmax, true), (ReduceOp::Argmin, false)] {
                let want = scan(case, is_max);
                // The whole array, and the same values as column 1 of an
                // (n, 2) array (stride 2 along axis 0).
                let flat =
                    ArrayRef::from_slice(case, Layout::c_contiguous(Shape::new(&[n]).unwrap()))
                        .unwrap();
                let wide: Vec<f64> = case.iter().flat_map(|&x| [7.0, x]).collect();
                let wide =
                    ArrayRef::from_slice(&wide, Layout::c_contiguous(Shape::new(&[n, 2]).unwrap()))
                        .unwrap();
                let mut out = [0i64; 2];
                let p = ReduceParams::default();
                reduce(
                    op,
                    &flat,
                    &p,
                    bytemuck::cast_slice_mut(&mut out[..1]),
                    &mut [],
                )
                .unwrap();
                assert_eq!(out[0], want, "{op:?} flat");
                let p = ReduceParams {
                    axis: Axes::single(0),
                    ..ReduceParams::default()
                };
                reduce(op, &wide, &p, bytemuck::cast_slice_mut(&mut out), &mut []).unwrap();
                assert_eq!(out[1], want, "{op:?} strided");
            }
        }
    }
}
