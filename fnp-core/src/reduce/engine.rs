//! The reduction driver: walks NumPy's inner-loop calls over the caller's
//! memory and folds each element into its output element.
//!
//! Float adds use NumPy's pairwise summation whenever NumPy's inner loop is
//! a binary reduce; every other fold is sequential in NumPy's iteration
//! order. Elements are read in blocks of at most [`BLOCK`]: borrowed
//! directly when the input is already unit-stride in the loop dtype,
//! gathered and converted otherwise.

use super::plan::{CallKind, Cursor, Plan, IN, MASK, OUT};
use crate::array::ArrayRef;
use crate::element::{Bool, CastFrom, Element};
use crate::flags::FpFlags;
use crate::num::Num;
use crate::shape::first_mut;

/// NumPy's pairwise block (`PW_BLOCKSIZE`), also our gather block.
pub(crate) const BLOCK: usize = 128;

/// How an element is folded into its output element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    Add,
    Mul,
    Maximum,
    Minimum,
    Fmax,
    Fmin,
}

/// What is done to each loaded element before it is folded, standing in
/// for the temporary arrays NumPy builds (`_replace_nan`, `x - mean`,
/// `a != 0`).
#[derive(Clone, Copy)]
pub(crate) enum Pre<'s> {
    /// The element itself (converted to the loop dtype).
    None,
    /// NaN replaced by 0 (nansum, nanmean).
    NanToZero,
    /// NaN replaced by 1 (nanprod).
    NanToOne,
    /// 1 where the element is non-zero (count_nonzero, where-counts).
    NonZero,
    /// 1 where the element is not NaN (nanmean counts).
    NotNan,
    /// `(x - mean[out]) ** 2` with the mean of its output element (var),
    /// computed in NumPy's `result_type(input, dtype)` and then cast.
    SqDev(&'s [u64], DevType),
}

/// The dtype `_var` subtracts and squares in (`arr - arrmean`), with the
/// means stored in that form: float64 bits, float32 bits (as f64), or the
/// integer as i64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DevType {
    /// float64 arithmetic.
    F64,
    /// float32 arithmetic.
    F32,
    /// Wrapping integer arithmetic of this many bits.
    Int { bits: u32, signed: bool },
}

/// How a pass reads its elements: from which input dtype, with which
/// pre-map. [`Pre`] decides both at run time (the type-erased entry);
/// [`Plain`] reads the elements themselves from an input whose element
/// type is fixed at compile time (the typed API), so a typed call links
/// neither the conversions from the other ten dtypes nor the pre-maps of
/// the ops it does not call.
pub(crate) trait Load<T: Num>: Copy {
    /// The loader of the elements themselves, without a pre-map.
    const PLAIN: Self;
    /// The input as `T`s borrowed as they are, when they need no
    /// conversion and no pre-map (never for bool: any non-zero byte must
    /// read as True).
    fn direct<'a>(&self, input: &ArrayRef<'a>) -> Option<&'a [T]>;
    /// Loads one run (within the cursor's innermost run), pre-mapped.
    fn load_run(
        &self,
        src: &Source<'_, T, Self>,
        cur: &Cursor,
        chunk: &mut [T],
        flags: &mut FpFlags,
    );
    /// var's means and deviation dtype, when the pass sums squared
    /// deviations.
    fn sqdev(&self) -> Option<(&[u64], DevType)> {
        None
    }
    /// The same loads decided at run time, for the passes `small` runs in
    /// an unsigned dtype's signed twin.
    fn erased(&self) -> Pre<'_>;
}

/// The input as `T`s, if it holds `T`s that are not bool (any non-zero
/// bool byte must read as True, so bool is always loaded).
fn borrow<'a, T: Num>(input: &ArrayRef<'a>) -> Option<&'a [T]> {
    if T::DTYPE == crate::DType::Bool {
        return None;
    }
    input.typed::<T>().ok()
}

/// The elements themselves, of the input element type `I`.
pub(crate) struct Plain<I>(core::marker::PhantomData<I>);

impl<I> Clone for Plain<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for Plain<I> {}

impl<T: Num, I: Element> Load<T> for Plain<I> {
    const PLAIN: Self = Plain(core::marker::PhantomData);

    fn direct<'a>(&self, input: &ArrayRef<'a>) -> Option<&'a [T]> {
        borrow(input).filter(|_| I::DTYPE == T::DTYPE)
    }

    fn load_run(&self, src: &Source<'_, T, Self>, cur: &Cursor, chunk: &mut [T], _: &mut FpFlags) {
        // `erased` serves the passes in a twin dtype, so `real` is `T`'s
        // own and nothing is flipped here.
        let start = usize::try_from(cur.pos[IN]).unwrap_or(0);
        crate::array::gather::<I, T>(src.input.bytes(), start, cur.run_stride(IN), chunk);
    }

    fn erased(&self) -> Pre<'_> {
        Pre::None
    }
}

impl<'s, T: Num> Load<T> for Pre<'s> {
    const PLAIN: Self = Pre::None;

    fn direct<'a>(&self, input: &ArrayRef<'a>) -> Option<&'a [T]> {
        match self {
            Pre::None => borrow(input),
            _ => None,
        }
    }

    fn load_run(
        &self,
        src: &Source<'_, T, Self>,
        cur: &Cursor,
        chunk: &mut [T],
        flags: &mut FpFlags,
    ) {
        src.load_erased(cur, chunk, flags);
    }

    fn sqdev(&self) -> Option<(&[u64], DevType)> {
        match *self {
            Pre::SqDev(means, dev) => Some((means, dev)),
            _ => None,
        }
    }

    fn erased(&self) -> Pre<'_> {
        *self
    }
}

/// The input of one reduction pass.
pub(crate) struct Source<'a, T, L> {
    pub(crate) input: ArrayRef<'a>,
    /// The input as a typed slice when it needs no conversion.
    pub(crate) direct: Option<&'a [T]>,
    pub(crate) pre: L,
    pub(crate) mask: Option<&'a [u8]>,
    /// The dtype being reduced in: `T::DTYPE`, or an unsigned dtype whose
    /// values are carried as its signed twin `T` (same bits).
    pub(crate) real: crate::DType,
    /// Whether elements are read with [`Num::flip_sign`] (an unsigned
    /// max/min carried as its signed twin).
    pub(crate) flip: bool,
}

impl<'a, T: Num, L: Load<T>> Source<'a, T, L> {
    pub(crate) fn new(input: ArrayRef<'a>, pre: L, mask: Option<&'a [u8]>) -> Self {
        Source {
            input,
            direct: pre.direct(&input),
            pre,
            mask,
            real: T::DTYPE,
            flip: false,
        }
    }

    #[inline]
    fn mask_at(&self, pos: isize) -> bool {
        match self.mask {
            None => true,
            Some(m) => usize::try_from(pos)
                .ok()
                .and_then(|i| m.get(i))
                .is_some_and(|&b| b != 0),
        }
    }

    /// The next `n` elements as one borrowed slice, when they are.
    fn direct_run(&self, cur: &Cursor, n: usize) -> Option<&'a [T]> {
        let d = self.direct?;
        if cur.run_stride(IN) != 1 || cur.run_len() < n {
            return None;
        }
        let i = usize::try_from(cur.pos[IN]).ok()?;
        d.get(i..i.checked_add(n)?)
    }

    /// Reads the next `n <= BLOCK` elements along the cursor (crossing
    /// runs as needed) and advances it.
    fn read<'x>(
        &self,
        cur: &mut Cursor,
        n: usize,
        buf: &'x mut [T; BLOCK],
        flags: &mut FpFlags,
    ) -> &'x [T]
    where
        'a: 'x,
    {
        let n = n.min(BLOCK);
        if let Some(d) = self.direct.filter(|_| !crate::SMALL) {
            if cur.run_stride(IN) == 1 && cur.run_len() >= n {
                if let Some(s) = usize::try_from(cur.pos[IN])
                    .ok()
                    .and_then(|i| d.get(i..i + n))
                {
                    cur.advance(n);
                    return s;
                }
            }
        }
        let mut done = 0;
        while done < n {
            let len = (n - done).min(cur.run_len());
            let chunk = &mut buf[done..done + len];
            self.pre.load_run(self, cur, chunk, flags);
            cur.advance(len);
            done += len;
        }
        &buf[..n]
    }
}

impl<T: Num> Source<'_, T, Pre<'_>> {
    /// Reads the input converted to the reduction dtype as `real`'s own
    /// cast would (an integer or bool source has the same bits either
    /// way; a float one saturates to the unsigned range), then flips.
    fn load_input(&self, start: usize, stride: isize, chunk: &mut [T]) {
        load_real(&self.input, self.real, start, stride, chunk);
        if self.flip {
            chunk.iter_mut().for_each(|v| *v = v.flip_sign());
        }
    }

    /// Loads one run (within the cursor's innermost run) with the pre-map
    /// chosen at run time.
    fn load_erased(&self, cur: &Cursor, chunk: &mut [T], flags: &mut FpFlags) {
        let start = usize::try_from(cur.pos[IN]).unwrap_or(0);
        let stride = cur.run_stride(IN);
        match self.pre {
            Pre::None => self.load_input(start, stride, chunk),
            Pre::NanToZero | Pre::NanToOne => {
                self.load_input(start, stride, chunk);
                let with = if matches!(self.pre, Pre::NanToZero) {
                    T::ZERO
                } else {
                    T::ONE
                };
                if T::FLOAT {
                    for x in chunk.iter_mut() {
                        if x.is_nan() {
                            *x = with;
                        }
                    }
                } else {
                    // A cast to an integer loop happens after NumPy's
                    // replacement, so replace in the input dtype first.
                    let mut tmp = [0f64; BLOCK];
                    let tmp = first_mut(&mut tmp, chunk.len());
                    self.input.load(start, stride, tmp);
                    let w = with.to_f64();
                    for (x, &v) in chunk.iter_mut().zip(tmp.iter()) {
                        if v.is_nan() {
                            *x = T::from_f64(w);
                        }
                    }
                }
            }
            Pre::NonZero => {
                let mut tmp = [Bool::FALSE; BLOCK];
                let tmp = first_mut(&mut tmp, chunk.len());
                self.input.load(start, stride, tmp);
                for (x, b) in chunk.iter_mut().zip(tmp.iter()) {
                    *x = if b.get() { T::ONE } else { T::ZERO };
                }
            }
            Pre::NotNan => {
                let mut tmp = [0f64; BLOCK];
                let tmp = first_mut(&mut tmp, chunk.len());
                self.input.load(start, stride, tmp);
                for (x, v) in chunk.iter_mut().zip(tmp.iter()) {
                    *x = if v.is_nan() { T::ZERO } else { T::ONE };
                }
            }
            Pre::SqDev(means, dev) => self.load_sqdev(cur, chunk, means, dev, flags),
        }
    }

    /// `_var`'s `x = arr - arrmean; x = x * x`, then the cast to the
    /// summation dtype, for one run.
    fn load_sqdev(
        &self,
        cur: &Cursor,
        chunk: &mut [T],
        means: &[u64],
        dev: DevType,
        flags: &mut FpFlags,
    ) {
        let start = usize::try_from(cur.pos[IN]).unwrap_or(0);
        let stride = cur.run_stride(IN);
        let (o0, so) = (cur.pos[OUT], cur.run_stride(OUT));
        let mean_word = |k: usize| -> u64 {
            let at = o0.wrapping_add((k as isize).wrapping_mul(so));
            usize::try_from(at)
                .ok()
                .and_then(|i| means.get(i))
                .copied()
                .unwrap_or(0)
        };
        match dev {
            // Under `small` these two go through the generic arms below (an
            // identity cast at the end), so that only one f64 and one f32
            // deviation routine exist instead of one per loop dtype.
            DevType::F64 if !crate::SMALL && T::DTYPE == crate::DType::Float64 => sqdev_float::<T>(
                &self.input,
                start,
                stride,
                so,
                chunk,
                &|k| T::from_f64(f64::from_bits(mean_word(k))),
                flags,
            ),
            DevType::F32 if !crate::SMALL && T::DTYPE == crate::DType::Float32 => sqdev_float::<T>(
                &self.input,
                start,
                stride,
                so,
                chunk,
                &|k| T::from_f64(f64::from_bits(mean_word(k))),
                flags,
            ),
            DevType::F64 => {
                let mut tmp = [0f64; BLOCK];
                let tmp = first_mut(&mut tmp, chunk.len());
                sqdev_float::<f64>(
                    &self.input,
                    start,
                    stride,
                    so,
                    tmp,
                    &|k| f64::from_bits(mean_word(k)),
                    flags,
                );
                if self.real == crate::DType::Bool {
                    for (c, &v) in chunk.iter_mut().zip(tmp.iter()) {
                        *c = if v != 0.0 { T::ONE } else { T::ZERO };
                    }
                } else if self.real.is_integer() {
                    // NumPy's C conversion (x86), not Rust's saturating one.
                    for (c, &v) in chunk.iter_mut().zip(tmp.iter()) {
                        let (bits, invalid) = crate::num::c_cast_to_int_bits(v, self.real);
                        *flags |= FpFlags::when(invalid, FpFlags::INVALID);
                        *c = <T as CastFrom<u64>>::cast_from(bits);
                    }
                } else {
                    for (c, &v) in chunk.iter_mut().zip(tmp.iter()) {
                        *c = <T as CastFrom<f64>>::cast_from(v);
                    }
                }
            }
            DevType::F32 => {
                let mut tmp = [0f32; BLOCK];
                let tmp = first_mut(&mut tmp, chunk.len());
                sqdev_float::<f32>(
                    &self.input,
                    start,
                    stride,
                    so,
                    tmp,
                    &|k| f64::from_bits(mean_word(k)) as f32,
                    flags,
                );
                for (c, &v) in chunk.iter_mut().zip(tmp.iter()) {
                    *c = if self.real == T::DTYPE {
                        <T as CastFrom<f32>>::cast_from(v)
                    } else if self.real == crate::DType::Bool {
                        if v != 0.0 {
                            T::ONE
                        } else {
                            T::ZERO
                        }
                    } else {
                        <T as CastFrom<u64>>::cast_from(saturate_unsigned(f64::from(v), self.real))
                    };
                }
            }
            DevType::Int { bits, signed } => {
                let mut tmp = [0i64; BLOCK];
                let tmp = first_mut(&mut tmp, chunk.len());
                sqdev_int(&self.input, start, stride, tmp, &mean_word, bits, signed);
                let as_bool = self.real == crate::DType::Bool && T::DTYPE != self.real;
                for (c, &x) in chunk.iter_mut().zip(tmp.iter()) {
                    *c = if as_bool {
                        if x != 0 {
                            T::ONE
                        } else {
                            T::ZERO
                        }
                    } else if signed {
                        <T as CastFrom<i64>>::cast_from(x)
                    } else {
                        <T as CastFrom<u64>>::cast_from(x as u64)
                    };
                }
            }
        }
    }
}

/// Squared deviations in the float type `F`, with NumPy's flags for
/// the subtraction and the square.
#[cfg_attr(feature = "small", inline(never))]
fn sqdev_float<F: Num>(
    input: &ArrayRef<'_>,
    start: usize,
    stride: isize,
    so: isize,
    chunk: &mut [F],
    mean_at: &dyn Fn(usize) -> F,
    flags: &mut FpFlags,
) {
    let direct = if F::DTYPE == input.dtype() && stride == 1 {
        input
            .typed::<F>()
            .ok()
            .and_then(|d| d.get(start..start.checked_add(chunk.len())?))
    } else {
        None
    };
    let mut ok = true;
    match (so, direct) {
        (0, Some(xs)) => {
            let neg = negate(mean_at(0));
            for (o, &x) in chunk.iter_mut().zip(xs) {
                let d = x.add(neg);
                ok &= d.square_is_tame();
                *o = d.mul(d);
            }
        }
        (0, None) => {
            input.load(start, stride, chunk);
            let neg = negate(mean_at(0));
            for x in chunk.iter_mut() {
                let d = x.add(neg);
                ok &= d.square_is_tame();
                *x = d.mul(d);
            }
        }
        _ => {
            input.load(start, stride, chunk);
            for (k, x) in chunk.iter_mut().enumerate() {
                let d = x.add(negate(mean_at(k)));
                ok &= d.square_is_tame();
                *x = d.mul(d);
            }
        }
    }
    if !ok {
        // Rare: redo the run to report exactly NumPy's flags for
        // `arr - arrmean` and `x * x`.
        let mut raw = [F::ZERO; BLOCK];
        let raw = first_mut(&mut raw, chunk.len());
        input.load(start, stride, raw);
        for (k, &x) in raw.iter().enumerate() {
            let neg = negate(mean_at(k));
            let d = x.add(neg);
            *flags |= F::add_flags(x, neg, d);
            *flags |= F::mul_flags(d, d, d.mul(d));
        }
    }
}

/// `_var`'s integer `arr - arrmean` and square, wrapped to the width of
/// the `bits`-bit deviation dtype and sign- or zero-extended to 64 bits.
#[cfg_attr(feature = "small", inline(never))]
fn sqdev_int(
    input: &ArrayRef<'_>,
    start: usize,
    stride: isize,
    out: &mut [i64],
    mean_word: &dyn Fn(usize) -> u64,
    bits: u32,
    signed: bool,
) {
    input.load(start, stride, out);
    let shift = 64 - bits.min(64);
    for (k, x) in out.iter_mut().enumerate() {
        let d = x.wrapping_sub(mean_word(k) as i64);
        let sq = d.wrapping_mul(d);
        *x = if signed {
            (sq << shift) >> shift
        } else {
            (((sq as u64) << shift) >> shift) as i64
        };
    }
}

/// `input.load` into `T` carrying the values of the dtype `real` (`T`'s own
/// or the unsigned dtype `T` is the signed twin of): integer and bool
/// sources have the same bits either way, float ones saturate to `real`'s
/// range as its own cast does. At most [`BLOCK`] elements.
pub(crate) fn load_real<T: Num>(
    input: &ArrayRef<'_>,
    real: crate::DType,
    start: usize,
    stride: isize,
    chunk: &mut [T],
) {
    if real == crate::DType::Bool && T::DTYPE != real {
        let mut tmp = [Bool::FALSE; BLOCK];
        let tmp = &mut tmp[..chunk.len().min(BLOCK)];
        input.load(start, stride, tmp);
        for (c, b) in chunk.iter_mut().zip(tmp.iter()) {
            *c = if b.get() { T::ONE } else { T::ZERO };
        }
    } else if real != T::DTYPE && input.dtype().is_float() {
        let mut tmp = [0f64; BLOCK];
        let tmp = &mut tmp[..chunk.len().min(BLOCK)];
        input.load(start, stride, tmp);
        for (c, &v) in chunk.iter_mut().zip(tmp.iter()) {
            *c = <T as CastFrom<u64>>::cast_from(saturate_unsigned(v, real));
        }
    } else {
        input.load(start, stride, chunk);
    }
}

/// Rust's saturating float-to-integer `as` into the unsigned dtype `d`,
/// as bits (`f32 as u8` equals `(f32 as f64) as u8`: widening is exact).
fn saturate_unsigned(v: f64, d: crate::DType) -> u64 {
    match d {
        crate::DType::UInt8 => u64::from(v as u8),
        crate::DType::UInt16 => u64::from(v as u16),
        crate::DType::UInt32 => u64::from(v as u32),
        _ => v as u64,
    }
}

/// `-m` in the loop dtype (only used for float loops).
#[inline(always)]
fn negate<T: Num>(m: T) -> T {
    T::from_f64(-m.to_f64())
}

/// NumPy's `pairwise_sum` over the next `n` elements of the cursor.
/// `TRACK` computes the IEEE flags of every addition (the slow path).
fn pairwise<T: Num, L: Load<T>, const TRACK: bool>(
    src: &Source<'_, T, L>,
    cur: &mut Cursor,
    n: usize,
    buf: &mut [T; BLOCK],
    flags: &mut FpFlags,
) -> T {
    if n < 8 {
        // NumPy starts short sums at -0.0 so that all -0.0 stays -0.0.
        let mut res = T::from_f64(-0.0);
        let b = src.read(cur, n, buf, flags);
        for &x in b {
            let r = res.add(x);
            if TRACK {
                *flags |= T::add_flags(res, x, r);
            }
            res = r;
        }
        res
    } else if n <= BLOCK {
        let b = src.read(cur, n, buf, flags);
        if !TRACK {
            return lanes_sum(b);
        }
        let full = n - n % 8;
        let mut r = [T::ZERO; 8];
        r.copy_from_slice(&b[..8]);
        if TRACK {
            for c in b[8..full].chunks_exact(8) {
                for k in 0..8 {
                    let s = r[k].add(c[k]);
                    *flags |= T::add_flags(r[k], c[k], s);
                    r[k] = s;
                }
            }
        } else {
            // Eight independent lanes: the same rounding as NumPy's scalar
            // unrolled loop, and the compiler can vectorize it.
            for c in b[8..full].chunks_exact(8) {
                for k in 0..8 {
                    r[k] = r[k].add(c[k]);
                }
            }
        }
        let mut res = if TRACK {
            let a01 = add_tracked(r[0], r[1], flags);
            let a23 = add_tracked(r[2], r[3], flags);
            let a45 = add_tracked(r[4], r[5], flags);
            let a67 = add_tracked(r[6], r[7], flags);
            let lo = add_tracked(a01, a23, flags);
            let hi = add_tracked(a45, a67, flags);
            add_tracked(lo, hi, flags)
        } else {
            (r[0].add(r[1]).add(r[2].add(r[3]))).add(r[4].add(r[5]).add(r[6].add(r[7])))
        };
        for &x in &b[full..n] {
            res = if TRACK {
                add_tracked(res, x, flags)
            } else {
                res.add(x)
            };
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let a = pairwise::<T, L, TRACK>(src, cur, n2, buf, flags);
        let b = pairwise::<T, L, TRACK>(src, cur, n - n2, buf, flags);
        if TRACK {
            add_tracked(a, b, flags)
        } else {
            a.add(b)
        }
    }
}

/// NumPy's pairwise sum of a block of 8..=128 elements: eight independent
/// lanes (one vector add per eight elements, the same rounding as NumPy's
/// unrolled scalar loop), combined as NumPy combines them.
#[inline(always)]
pub(crate) fn lanes_sum<T: Num>(b: &[T]) -> T {
    let n = b.len();
    let full = n - n % 8;
    let mut r = [T::ZERO; 8];
    for (rk, &x) in r.iter_mut().zip(b) {
        *rk = x;
    }
    for c in b.get(8..full).unwrap_or(&[]).chunks_exact(8) {
        for k in 0..8 {
            r[k] = r[k].add(c[k]);
        }
    }
    let mut res = (r[0].add(r[1]).add(r[2].add(r[3]))).add(r[4].add(r[5]).add(r[6].add(r[7])));
    for &x in b.get(full..).unwrap_or(&[]) {
        res = res.add(x);
    }
    res
}

/// var's second pass over a contiguous run of one output element, when the
/// deviations are computed in the loop dtype itself and every square is a
/// normal finite number (so no flag can arise): the squares are summed
/// pairwise as they are computed, with no intermediate buffer.
fn sqdev_run<T: Num, L: Load<T>>(
    src: &Source<'_, T, L>,
    cur: &mut Cursor,
    len: usize,
) -> Option<T> {
    let (means, dev) = src.pre.sqdev()?;
    let same = matches!(
        (dev, T::DTYPE),
        (DevType::F64, crate::DType::Float64) | (DevType::F32, crate::DType::Float32)
    );
    if !same || cur.run_stride(OUT) != 0 || cur.run_stride(IN) != 1 || cur.run_len() < len {
        return None;
    }
    let data = src.input.typed::<T>().ok()?;
    let start = usize::try_from(cur.pos[IN]).ok()?;
    let run = data.get(start..start.checked_add(len)?)?;
    let mean = means.get(usize::try_from(cur.pos[OUT]).ok()?)?;
    let neg = negate(T::from_f64(f64::from_bits(*mean)));
    let mut tame = true;
    for &x in run {
        tame &= x.add(neg).square_is_tame();
    }
    if !tame {
        return None;
    }
    let sq = |x: T| {
        let d = x.add(neg);
        d.mul(d)
    };
    cur.advance(len);
    Some(pairwise_map(run, &sq))
}

/// [`pairwise_slice`] of `f(x)` for each element.
fn pairwise_map<T: Num, F: Fn(T) -> T>(a: &[T], f: &F) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::from_f64(-0.0);
        for &x in a {
            res = res.add(f(x));
        }
        res
    } else if n <= BLOCK {
        let full = n - n % 8;
        let mut r = [T::ZERO; 8];
        for (rk, &x) in r.iter_mut().zip(a) {
            *rk = f(x);
        }
        for c in a[8..full].chunks_exact(8) {
            for k in 0..8 {
                r[k] = r[k].add(f(c[k]));
            }
        }
        let mut res = (r[0].add(r[1]).add(r[2].add(r[3]))).add(r[4].add(r[5]).add(r[6].add(r[7])));
        for &x in &a[full..] {
            res = res.add(f(x));
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let (l, r) = a.split_at(n2);
        pairwise_map(l, f).add(pairwise_map(r, f))
    }
}

/// NumPy's `pairwise_sum` over a contiguous slice.
pub(crate) fn pairwise_slice<T: Num>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::from_f64(-0.0);
        for &x in a {
            res = res.add(x);
        }
        res
    } else if n <= BLOCK {
        lanes_sum(a)
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        let (l, r) = a.split_at(n2);
        if T::DTYPE == crate::DType::Float32 && l.len() >= 8 && r.len() <= BLOCK {
            // Two sibling leaves summed side by side: twice the independent
            // add chains for the CPU, each chain in NumPy's order. (Measured:
            // 1.5x for float32; float64 is bound by memory and gets slower.)
            let (x, y) = lanes_sum2(l, r);
            return x.add(y);
        }
        pairwise_slice(l).add(pairwise_slice(r))
    }
}

/// [`lanes_sum`] of two blocks at once (8..=128 elements each).
#[inline(always)]
fn lanes_sum2<T: Num>(a: &[T], b: &[T]) -> (T, T) {
    let neg0 = T::from_f64(-0.0);
    // -0.0 + x is x for every x, so starting the lanes at -0.0 and adding
    // the first eight is NumPy's `r[k] = a[k]`.
    let (mut ra, mut rb) = ([neg0; 8], [neg0; 8]);
    let (fa, fb) = (a.len() - a.len() % 8, b.len() - b.len() % 8);
    let common = fa.min(fb);
    for (x, y) in a[..common].chunks_exact(8).zip(b[..common].chunks_exact(8)) {
        for k in 0..8 {
            ra[k] = ra[k].add(x[k]);
            rb[k] = rb[k].add(y[k]);
        }
    }
    for x in a[common..fa].chunks_exact(8) {
        for k in 0..8 {
            ra[k] = ra[k].add(x[k]);
        }
    }
    for y in b[common..fb].chunks_exact(8) {
        for k in 0..8 {
            rb[k] = rb[k].add(y[k]);
        }
    }
    let combine = |r: [T; 8], tail: &[T]| {
        let mut res = (r[0].add(r[1]).add(r[2].add(r[3]))).add(r[4].add(r[5]).add(r[6].add(r[7])));
        for &x in tail {
            res = res.add(x);
        }
        res
    };
    (combine(ra, &a[fa..]), combine(rb, &b[fb..]))
}

/// Folds a block into one accumulator. Where the result does not depend
/// on the order (integer add/multiply, the max/min family up to which NaN
/// or zero sign is kept) it folds in eight lanes; float multiply stays
/// sequential as in NumPy.
#[inline]
pub(crate) fn fold_block<T: Num>(fold: Fold, acc: T, vals: &[T], flags: &mut FpFlags) -> T {
    // `start` is each lane's first value: the identity for add/multiply,
    // the accumulator itself for the idempotent max/min family.
    macro_rules! lanes {
        ($f:ident, $start:expr) => {{
            let mut r = [$start; 8];
            let full = vals.len() - vals.len() % 8;
            for c in vals[..full].chunks_exact(8) {
                for k in 0..8 {
                    r[k] = r[k].$f(c[k]);
                }
            }
            let mut a = acc;
            for &x in r.iter().chain(&vals[full..]) {
                a = a.$f(x);
            }
            a
        }};
    }
    // Float max/min: plain compare-and-select lanes (one vector op) while a
    // probe lane sum notices any NaN or inf, in which case the block is
    // redone with NumPy's NaN-propagating rule.
    macro_rules! select_lanes {
        ($keep:tt, $exact:ident) => {{
            if acc.is_nan() {
                return acc;
            }
            let mut r = [acc; 8];
            let mut probe = [T::ZERO; 8];
            let full = vals.len() - vals.len() % 8;
            for c in vals[..full].chunks_exact(8) {
                for k in 0..8 {
                    r[k] = if r[k] $keep c[k] { r[k] } else { c[k] };
                    probe[k] = probe[k].add(c[k].nonfinite_probe());
                }
            }
            if probe.iter().all(|p| p.is_finite()) {
                let mut a = acc;
                for &x in r.iter().chain(&vals[full..]) {
                    a = a.$exact(x);
                }
                return a;
            }
            lanes!($exact, acc)
        }};
    }
    match fold {
        // NumPy's own sequential order is the exact path all lanes mirror.
        _ if crate::SMALL => {
            let mut a = acc;
            for &x in vals {
                a = fold_one(fold, a, x, flags);
            }
            a
        }
        Fold::Maximum if T::FLOAT => select_lanes!(>, maximum),
        Fold::Minimum if T::FLOAT => select_lanes!(<, minimum),
        Fold::Add if !T::FLOAT => lanes!(add, T::ZERO),
        Fold::Mul if !T::FLOAT => lanes!(mul, T::ONE),
        Fold::Maximum => lanes!(maximum, acc),
        Fold::Minimum => lanes!(minimum, acc),
        Fold::Fmax => lanes!(fmax, acc),
        Fold::Fmin => lanes!(fmin, acc),
        _ => {
            let mut a = acc;
            for &x in vals {
                a = fold_one(fold, a, x, flags);
            }
            a
        }
    }
}

/// `dst[i] = fold(dst[i], vals[i])`: NumPy's element-wise inner loop.
#[inline]
fn fold_into<T: Num>(fold: Fold, dst: &mut [T], vals: &[T], track: bool, flags: &mut FpFlags) {
    macro_rules! each {
        ($f:ident) => {
            for (d, &x) in dst.iter_mut().zip(vals) {
                *d = d.$f(x);
            }
        };
    }
    match fold {
        Fold::Add if T::FLOAT && (track || crate::SMALL) => {
            for (d, &x) in dst.iter_mut().zip(vals) {
                *d = fold_one(fold, *d, x, flags);
            }
        }
        Fold::Add => each!(add),
        Fold::Mul if T::FLOAT => {
            for (d, &x) in dst.iter_mut().zip(vals) {
                *d = fold_one(fold, *d, x, flags);
            }
        }
        Fold::Mul => each!(mul),
        Fold::Maximum => each!(maximum),
        Fold::Minimum => each!(minimum),
        Fold::Fmax => each!(fmax),
        Fold::Fmin => each!(fmin),
    }
}

#[inline(always)]
fn add_tracked<T: Num>(a: T, b: T, flags: &mut FpFlags) -> T {
    let r = a.add(b);
    *flags |= T::add_flags(a, b, r);
    r
}

#[inline(always)]
fn fold_one<T: Num>(fold: Fold, acc: T, x: T, flags: &mut FpFlags) -> T {
    match fold {
        Fold::Add => {
            let r = acc.add(x);
            if T::FLOAT && !r.is_finite() {
                *flags |= T::add_flags(acc, x, r);
            }
            r
        }
        Fold::Mul => {
            let r = acc.mul(x);
            if T::FLOAT {
                *flags |= T::mul_flags(acc, x, r);
            }
            r
        }
        Fold::Maximum => acc.maximum(x),
        Fold::Minimum => acc.minimum(x),
        Fold::Fmax => acc.fmax(x),
        Fold::Fmin => acc.fmin(x),
    }
}

/// One reduction pass: folds every (unmasked) input element into `out`
/// (C-ordered output elements, already holding the initial values) in
/// NumPy's order. `cursor` walks the caller's memory in `plan`'s order.
///
/// Float additions report their flags only when `track` is set: an add
/// can only raise overflow or invalid by producing inf or NaN, which then
/// stays in its output element, so the caller runs the fast pass first and
/// repeats it with `track` only when some output is not finite.
pub(crate) fn run<T: Num, L: Load<T>>(
    fold: Fold,
    src: &Source<'_, T, L>,
    plan: &Plan,
    cursor: Cursor,
    out: &mut [T],
    track: bool,
) -> FpFlags {
    let mut flags = FpFlags::NONE;
    let mut cur = cursor;
    // A second cursor runs ahead to find the end of each run of True in
    // the mask (NumPy's masked loop calls the inner loop once per run).
    let mut ahead = if src.mask.is_some() {
        Some(cur.clone())
    } else {
        None
    };
    let mut buf = [T::ZERO; BLOCK];
    let mut flat = 0usize;
    for count in plan.calls() {
        match plan.kind {
            CallKind::Reduce => {
                let at = usize::try_from(cur.pos[OUT]).unwrap_or(usize::MAX);
                let Some(mut acc) = out.get(at).copied() else {
                    return flags;
                };
                let end = flat + count;
                while flat < end {
                    let mut len = end - flat;
                    if let Some(ahead) = ahead.as_mut() {
                        // Skip masked-out elements, then measure the run.
                        while flat < end && !src.mask_at(cur.pos[MASK]) {
                            cur.advance(1);
                            ahead.advance(1);
                            flat += 1;
                        }
                        len = 0;
                        while flat + len < end && src.mask_at(ahead.pos[MASK]) {
                            ahead.advance(1);
                            len += 1;
                        }
                        if len == 0 {
                            continue;
                        }
                    }
                    acc = reduce_run(fold, src, &mut cur, len, acc, track, &mut flags, &mut buf);
                    flat += len;
                }
                if let Some(o) = out.get_mut(at) {
                    *o = acc;
                }
            }
            CallKind::Elementwise => {
                let mut left = count;
                while left > 0 {
                    let (o0, so) = (cur.pos[OUT], cur.run_stride(OUT));
                    let (m0, sm) = (cur.pos[MASK], cur.run_stride(MASK));
                    if !crate::SMALL && src.mask.is_none() && so == 1 {
                        // Unit-stride output and input: fold whole runs.
                        let len = left.min(cur.run_len());
                        let dst = usize::try_from(o0)
                            .ok()
                            .and_then(|o| out.get_mut(o..o.checked_add(len)?));
                        if let (Some(dst), Some(vals)) = (dst, src.direct_run(&cur, len)) {
                            fold_into(fold, dst, vals, track, &mut flags);
                            cur.advance(len);
                            left -= len;
                            flat += len;
                            continue;
                        }
                    }
                    let len = left.min(cur.run_len()).min(BLOCK);
                    let vals = src.read(&mut cur, len, &mut buf, &mut flags);
                    if let Some(ahead) = ahead.as_mut() {
                        ahead.advance(len);
                    }
                    let contiguous = usize::try_from(o0)
                        .ok()
                        .filter(|_| so == 1 && src.mask.is_none());
                    if let Some(dst) = contiguous.and_then(|o| out.get_mut(o..o + len)) {
                        fold_into(fold, dst, vals, track, &mut flags);
                        left -= len;
                        flat += len;
                        continue;
                    }
                    for (k, &x) in vals.iter().enumerate() {
                        let kk = k as isize;
                        if src.mask.is_some() && !src.mask_at(m0.wrapping_add(kk.wrapping_mul(sm)))
                        {
                            continue;
                        }
                        let at = o0.wrapping_add(kk.wrapping_mul(so));
                        if let Some(o) = usize::try_from(at).ok().and_then(|i| out.get_mut(i)) {
                            *o = fold_one(fold, *o, x, &mut flags);
                        }
                    }
                    left -= len;
                    flat += len;
                }
            }
        }
    }
    flags
}

/// Folds the next `len` elements into `acc` as NumPy's binary-reduce
/// inner loop does: `acc += pairwise_sum(run)` for float add, a
/// sequential fold otherwise.
#[allow(clippy::too_many_arguments)]
fn reduce_run<T: Num, L: Load<T>>(
    fold: Fold,
    src: &Source<'_, T, L>,
    cur: &mut Cursor,
    len: usize,
    acc: T,
    track: bool,
    flags: &mut FpFlags,
    buf: &mut [T; BLOCK],
) -> T {
    if fold == Fold::Add && T::FLOAT {
        if track || crate::SMALL {
            let s = pairwise::<T, L, true>(src, cur, len, buf, flags);
            return add_tracked(acc, s, flags);
        }
        if let Some(s) = sqdev_run(src, cur, len) {
            return acc.add(s);
        }
        let s = match src.direct_run(cur, len) {
            Some(run) => {
                cur.advance(len);
                pairwise_slice(run)
            }
            None => pairwise::<T, L, false>(src, cur, len, buf, flags),
        };
        return acc.add(s);
    }
    let mut acc = acc;
    let mut left = len;
    while left > 0 {
        let n = left.min(BLOCK);
        let vals = src.read(cur, n, buf, flags);
        acc = fold_block(fold, acc, vals, flags);
        left -= n;
    }
    acc
}
