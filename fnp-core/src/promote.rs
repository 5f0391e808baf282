//! NumPy's result dtypes as Rust types: what makes the typed API typed on
//! the output side too.
//!
//! Every row of the op table ([`crate::table`]) names an output rule (a
//! [`rule`] marker) beside its loop family. The rule turns the input
//! element types into the output element type at compile time, the way
//! NumPy's type resolver turns the input dtypes into the output dtype at
//! run time, so
//!
//! ```
//! use fnp_core::{add, argmax, mean, true_divide};
//!
//! let a = [1i16, 2, 3];
//! let b = [0.5f32; 3];
//! let mut out = [0f32; 3]; // int16 with float32 is float32, as in NumPy
//! add(&a, &b, &mut out)?;
//! let mut ratio = [0f64; 3]; // true division of integers is float64
//! true_divide(&a, &a, &mut ratio)?;
//! let i = argmax(&out)?; // an i64, no turbofish
//! let m = mean(&a)?; // the mean of integers is an f64
//! assert_eq!((i, m), (2i64, 2.0f64));
//! # Ok::<(), fnp_core::Error>(())
//! ```
//!
//! and a wrong output type is a compile error, not a run-time one:
//!
//! ```compile_fail
//! let mut out = [0f64; 3];
//! fnp_core::add(&[1f32, 2.0, 3.0], &[1f32; 3], &mut out)?; // float32 + float32 is float32
//! # Ok::<(), fnp_core::Error>(())
//! ```
//!
//! ```compile_fail
//! let s: i16 = fnp_core::sum(&[1i16, 2, 3])?; // np.sum of int16 is int64
//! # Ok::<(), fnp_core::Error>(())
//! ```
//!
//! Where NumPy would answer in float16 (the float functions of bool, int8
//! and uint8), the rule's result is [`Float16`], which is no [`Element`]:
//! the typed call does not compile, as the dynamic entries
//! ([`crate::call`], [`crate::unary_into`]) answer [`Error::Float16`](crate::Error::Float16).
//!
//! ```compile_fail
//! let mut out = [0f32; 1];
//! fnp_core::exp(&[1i8], &mut out)?; // NumPy computes this in float16
//! # Ok::<(), fnp_core::Error>(())
//! ```
//!
//! A rule says which dtype a loop *would* produce; whether NumPy has the
//! loop at all (`subtract` of two bools, `bitwise_and` of floats) is still
//! checked at run time ([`Error::NoLoop`](crate::Error::NoLoop)). The tests
//! check every rule against the run-time resolver for every dtype pair.

use crate::dtype::DType;
use crate::element::{Bool, Element};

/// A place a result type can be: an [`Element`], or [`Float16`] where fnp
/// has no loop (`DTYPE` is `None`).
pub trait Slot: 'static {
    /// The dtype of an [`Element`], `None` for [`Float16`].
    const ELEMENT_DTYPE: Option<DType>;
}

/// NumPy's `float16`, which fnp does not compute in yet: the result of a
/// rule that has no typed loop.
#[derive(Debug)]
pub enum Float16 {}

impl Slot for Float16 {
    const ELEMENT_DTYPE: Option<DType> = None;
}

/// NumPy's `result_type` of two element types (`np.result_type(A, B)`).
pub trait Promote<B: Element>: Element {
    /// The common type.
    type Out: Loops;
}

/// The types NumPy's loops use for one element type.
pub trait Loops: Element + Slot {
    /// The type when bool has no loop of its own (bool computes in int8).
    type NoBool: Loops;
    /// The float of true division and of `mean`/`var`: float64 for bool
    /// and integers, the float itself otherwise.
    type Real: Loops;
    /// The smallest float it casts to safely ([`Float16`] for bool, int8
    /// and uint8).
    type Float: Meet<f32> + Meet<f64> + Meet<Float16>;
    /// The accumulator of `sum`/`prod`: int64 for bool and signed
    /// integers, uint64 for unsigned ones, the float itself.
    type Wide: Loops;
}

/// The common float of two float slots (float16 < float32 < float64).
pub trait Meet<B: Slot>: Slot {
    /// The wider one.
    type Out: Slot;
}

macro_rules! slots {
    ($($t:ty),*) => { $(impl Slot for $t { const ELEMENT_DTYPE: Option<DType> = Some(<$t as Element>::DTYPE); })* };
}
slots!(Bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

macro_rules! meet {
    ($($a:ty, $b:ty => $o:ty;)*) => { $(impl Meet<$b> for $a { type Out = $o; })* };
}
meet! {
    Float16, Float16 => Float16; Float16, f32 => f32; Float16, f64 => f64;
    f32, Float16 => f32; f32, f32 => f32; f32, f64 => f64;
    f64, Float16 => f64; f64, f32 => f64; f64, f64 => f64;
}

macro_rules! loops {
    ($($t:ty => $nobool:ty, $real:ty, $float:ty, $wide:ty;)*) => {
        $(impl Loops for $t {
            type NoBool = $nobool;
            type Real = $real;
            type Float = $float;
            type Wide = $wide;
        })*
    };
}
loops! {
    //       NoBool Real Float    Wide
    Bool => i8,     f64, Float16, i64;
    i8   => i8,     f64, Float16, i64;
    i16  => i16,    f64, f32,     i64;
    i32  => i32,    f64, f64,     i64;
    i64  => i64,    f64, f64,     i64;
    u8   => u8,     f64, Float16, u64;
    u16  => u16,    f64, f32,     u64;
    u32  => u32,    f64, f64,     u64;
    u64  => u64,    f64, f64,     u64;
    f32  => f32,    f32, f32,     f32;
    f64  => f64,    f64, f64,     f64;
}

macro_rules! promote {
    ($($a:ty: $($b:ty => $o:ty),*;)*) => {
        $($(impl Promote<$b> for $a { type Out = $o; })*)*
    };
}
// Bool joins anything as the other type; same kinds take the wider; a
// signed with an unsigned type takes the signed type that holds both
// (float64 with uint64); float32 holds the 8- and 16-bit integers.
promote! {
    Bool: Bool => Bool, i8 => i8, i16 => i16, i32 => i32, i64 => i64,
          u8 => u8, u16 => u16, u32 => u32, u64 => u64, f32 => f32, f64 => f64;
    i8:   Bool => i8, i8 => i8, i16 => i16, i32 => i32, i64 => i64,
          u8 => i16, u16 => i32, u32 => i64, u64 => f64, f32 => f32, f64 => f64;
    i16:  Bool => i16, i8 => i16, i16 => i16, i32 => i32, i64 => i64,
          u8 => i16, u16 => i32, u32 => i64, u64 => f64, f32 => f32, f64 => f64;
    i32:  Bool => i32, i8 => i32, i16 => i32, i32 => i32, i64 => i64,
          u8 => i32, u16 => i32, u32 => i64, u64 => f64, f32 => f64, f64 => f64;
    i64:  Bool => i64, i8 => i64, i16 => i64, i32 => i64, i64 => i64,
          u8 => i64, u16 => i64, u32 => i64, u64 => f64, f32 => f64, f64 => f64;
    u8:   Bool => u8, i8 => i16, i16 => i16, i32 => i32, i64 => i64,
          u8 => u8, u16 => u16, u32 => u32, u64 => u64, f32 => f32, f64 => f64;
    u16:  Bool => u16, i8 => i32, i16 => i32, i32 => i32, i64 => i64,
          u8 => u16, u16 => u16, u32 => u32, u64 => u64, f32 => f32, f64 => f64;
    u32:  Bool => u32, i8 => i64, i16 => i64, i32 => i64, i64 => i64,
          u8 => u32, u16 => u32, u32 => u32, u64 => u64, f32 => f64, f64 => f64;
    u64:  Bool => u64, i8 => f64, i16 => f64, i32 => f64, i64 => f64,
          u8 => u64, u16 => u64, u32 => u64, u64 => u64, f32 => f64, f64 => f64;
    f32:  Bool => f32, i8 => f32, i16 => f32, i32 => f64, i64 => f64,
          u8 => f32, u16 => f32, u32 => f64, u64 => f64, f32 => f32, f64 => f64;
    f64:  Bool => f64, i8 => f64, i16 => f64, i32 => f64, i64 => f64,
          u8 => f64, u16 => f64, u32 => f64, u64 => f64, f32 => f64, f64 => f64;
}

/// The output rules a row of the op table names: uninhabited marker types,
/// one per [`OutRule`](crate::OutRule) variant.
pub mod rule {
    /// The operands' common type (for one operand: its own type).
    #[derive(Debug)]
    pub enum Same {}
    /// As [`Same`], but bool, which has no loop, computes in int8.
    #[derive(Debug)]
    pub enum NoBool {}
    /// The float of the common type: float64 for bool and integers.
    #[derive(Debug)]
    pub enum Real {}
    /// The smallest float each operand casts to safely, then their common
    /// float ([`Float16`](super::Float16) for bool, int8, uint8 alone).
    #[derive(Debug)]
    pub enum Float {}
    /// Always float64.
    #[derive(Debug)]
    pub enum Float64 {}
    /// Always bool.
    #[derive(Debug)]
    pub enum Bool {}
    /// The float of the first operand (`ldexp`'s mantissa).
    #[derive(Debug)]
    pub enum Mantissa {}
    /// Always uint8 (`bitwise_count`).
    #[derive(Debug)]
    pub enum Uint8 {}
    /// The sum accumulator: int64, uint64 or the float itself.
    #[derive(Debug)]
    pub enum Wide {}
    /// Always int64 (an index or a count).
    #[derive(Debug)]
    pub enum Index {}
}

/// The output type of a binary ufunc with rule `R` on `Self` and `B`.
pub trait BinaryLoop<R, B: Element>: Element {
    /// The output element type (or [`Float16`]).
    type Out: Slot;
}

/// The output type of a unary ufunc with rule `R` on `Self`.
pub trait UnaryLoop<R>: Element {
    /// The output element type (or [`Float16`]).
    type Out: Slot;
}

/// The result type of a reduction with rule `R` of `Self` (without
/// `dtype=`).
pub trait ReduceLoop<R>: Element {
    /// The result element type.
    type Out: Element;
}

/// The output type of the binary ufunc with rule `R` on `A` and `B`.
pub type BinaryOut<R, A, B> = <A as BinaryLoop<R, B>>::Out;
/// The output type of the unary ufunc with rule `R` on `T`.
pub type UnaryOut<R, T> = <T as UnaryLoop<R>>::Out;
/// The result type of the reduction with rule `R` of `T`.
pub type ReduceOut<R, T> = <T as ReduceLoop<R>>::Out;

/// The common type of `A` and `B`.
type Common<A, B> = <A as Promote<B>>::Out;

impl<A: Promote<B>, B: Element> BinaryLoop<rule::Same, B> for A {
    type Out = Common<A, B>;
}
impl<A: Promote<B>, B: Element> BinaryLoop<rule::NoBool, B> for A {
    type Out = <Common<A, B> as Loops>::NoBool;
}
impl<A: Promote<B>, B: Element> BinaryLoop<rule::Real, B> for A {
    type Out = <Common<A, B> as Loops>::Real;
}
impl<A: Loops, B: Loops> BinaryLoop<rule::Float, B> for A
where
    A::Float: Meet<B::Float>,
{
    type Out = <A::Float as Meet<B::Float>>::Out;
}
impl<A: Element, B: Element> BinaryLoop<rule::Float64, B> for A {
    type Out = f64;
}
impl<A: Element, B: Element> BinaryLoop<rule::Bool, B> for A {
    type Out = Bool;
}
impl<A: Loops, B: Element> BinaryLoop<rule::Mantissa, B> for A {
    type Out = A::Float;
}

impl<T: Loops> UnaryLoop<rule::Same> for T {
    type Out = T;
}
impl<T: Loops> UnaryLoop<rule::NoBool> for T {
    type Out = T::NoBool;
}
impl<T: Loops> UnaryLoop<rule::Float> for T {
    type Out = T::Float;
}
impl<T: Element> UnaryLoop<rule::Bool> for T {
    type Out = Bool;
}
impl<T: Element> UnaryLoop<rule::Uint8> for T {
    type Out = u8;
}

impl<T: Element> ReduceLoop<rule::Same> for T {
    type Out = T;
}
impl<T: Loops> ReduceLoop<rule::Wide> for T {
    type Out = T::Wide;
}
impl<T: Loops> ReduceLoop<rule::Real> for T {
    type Out = T::Real;
}
impl<T: Element> ReduceLoop<rule::Bool> for T {
    type Out = Bool;
}
impl<T: Element> ReduceLoop<rule::Index> for T {
    type Out = i64;
}

/// Applies `$m!([x…], A, B)` to every pair of element types (121 calls).
#[cfg(test)]
macro_rules! each_pair {
    ($m:ident $(, $x:tt)*) => {
        $crate::promote::each_pair!(@a $m [$($x)*] [Bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64]);
    };
    (@a $m:ident $x:tt [$($a:ty)*]) => {
        $($crate::promote::each_pair!(@b $m $x $a [Bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64]);)*
    };
    (@b $m:ident $x:tt $a:ty [$($b:ty)*]) => { $($m!($x, $a, $b);)* };
}
#[cfg(test)]
pub(crate) use each_pair;

/// Applies `$m!([x…], T)` to every element type.
#[cfg(test)]
macro_rules! each_type {
    ($m:ident $(, $x:tt)*) => {
        $crate::promote::each_type!(@t $m [$($x)*] [Bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64]);
    };
    (@t $m:ident $x:tt [$($t:ty)*]) => { $($m!($x, $t);)* };
}
#[cfg(test)]
pub(crate) use each_type;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::{result_type, Kind};

    #[test]
    fn promote_is_result_type() {
        macro_rules! check {
            ([], $a:ty, $b:ty) => {
                assert_eq!(
                    <Common<$a, $b> as Element>::DTYPE,
                    result_type(<$a as Element>::DTYPE, <$b as Element>::DTYPE),
                    "{} with {}",
                    stringify!($a),
                    stringify!($b)
                );
            };
        }
        each_pair!(check);
    }

    #[test]
    fn loops_follow_their_definitions() {
        macro_rules! check {
            ([], $t:ty) => {
                let d = <$t as Element>::DTYPE;
                let int = matches!(d.kind(), Kind::Bool | Kind::SignedInt | Kind::UnsignedInt);
                let no_bool = if d == DType::Bool { DType::Int8 } else { d };
                assert_eq!(<<$t as Loops>::NoBool as Element>::DTYPE, no_bool);
                let real = if int { DType::Float64 } else { d };
                assert_eq!(<<$t as Loops>::Real as Element>::DTYPE, real);
                let wide = match d.kind() {
                    Kind::Bool | Kind::SignedInt => DType::Int64,
                    Kind::UnsignedInt => DType::UInt64,
                    Kind::Float => d,
                };
                assert_eq!(<<$t as Loops>::Wide as Element>::DTYPE, wide);
                let float = match d {
                    DType::Bool | DType::Int8 | DType::UInt8 => None,
                    DType::Int16 | DType::UInt16 | DType::Float32 => Some(DType::Float32),
                    _ => Some(DType::Float64),
                };
                assert_eq!(<<$t as Loops>::Float as Slot>::ELEMENT_DTYPE, float);
            };
        }
        each_type!(check);
    }
}
