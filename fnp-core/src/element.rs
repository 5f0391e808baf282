//! Rust element types behind the dtypes, and the safe casts between them.

use crate::dtype::DType;

/// NumPy's `bool`: one byte, 0 or 1 (any non-zero byte reads as true).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[repr(transparent)]
pub struct Bool(pub u8);

impl Bool {
    /// `True`.
    pub const TRUE: Bool = Bool(1);
    /// `False`.
    pub const FALSE: Bool = Bool(0);

    /// The truth value.
    #[inline(always)]
    pub const fn get(self) -> bool {
        self.0 != 0
    }
}

impl From<bool> for Bool {
    #[inline(always)]
    fn from(b: bool) -> Bool {
        Bool(b as u8)
    }
}

/// A Rust type that stores one NumPy dtype.
pub trait Element: bytemuck::Pod + PartialEq + core::fmt::Debug + Default + 'static {
    /// The dtype this type stores.
    const DTYPE: DType;

    /// Converts to the loop type `L` as NumPy's C cast does: the loads of
    /// the typed API, where both types are known at compile time.
    #[doc(hidden)]
    fn cast_to<L: LoopElement>(self) -> L;
}

macro_rules! element {
    ($($t:ty => $d:ident),* $(,)?) => {
        $(impl Element for $t {
            const DTYPE: DType = DType::$d;

            #[inline(always)]
            fn cast_to<L: LoopElement>(self) -> L {
                L::cast_from(self)
            }
        })*
    };
}

element! {
    Bool => Bool, i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64,
    u8 => UInt8, u16 => UInt16, u32 => UInt32, u64 => UInt64,
    f32 => Float32, f64 => Float64,
}

/// A value convertible to every element type as NumPy's C casts do:
/// integers wrap, int→float rounds to nearest, bool is 0/1.
///
/// Only safe casts (`np.can_cast(..., "safe")`) are used by the ufunc
/// machinery; other casts exist so weak Python scalars can be converted after
/// their range was checked.
pub trait CastFrom<S> {
    /// Converts `s`.
    fn cast_from(s: S) -> Self;
}

macro_rules! cast_numeric {
    ($($dst:ty),*) => {
        $(
            impl CastFrom<Bool> for $dst {
                #[inline(always)]
                fn cast_from(s: Bool) -> $dst { s.get() as u8 as $dst }
            }
            cast_numeric!(@from $dst; i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
        )*
    };
    (@from $dst:ty; $($src:ty),*) => {
        $(impl CastFrom<$src> for $dst {
            #[inline(always)]
            #[allow(clippy::cast_lossless, clippy::unnecessary_cast)]
            fn cast_from(s: $src) -> $dst { s as $dst }
        })*
    };
}

cast_numeric!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

macro_rules! cast_to_bool {
    ($($src:ty),*) => {
        $(impl CastFrom<$src> for Bool {
            #[inline(always)]
            #[allow(clippy::float_cmp)]
            fn cast_from(s: $src) -> Bool { Bool::from(s != (0 as $src)) }
        })*
    };
}

cast_to_bool!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl CastFrom<Bool> for Bool {
    #[inline(always)]
    fn cast_from(s: Bool) -> Bool {
        Bool::from(s.get())
    }
}

/// An element type every dtype can be cast into (a ufunc loop type).
pub trait LoopElement:
    Element
    + CastFrom<Bool>
    + CastFrom<i8>
    + CastFrom<i16>
    + CastFrom<i32>
    + CastFrom<i64>
    + CastFrom<u8>
    + CastFrom<u16>
    + CastFrom<u32>
    + CastFrom<u64>
    + CastFrom<f32>
    + CastFrom<f64>
{
}

impl<T> LoopElement for T where
    T: Element
        + CastFrom<Bool>
        + CastFrom<i8>
        + CastFrom<i16>
        + CastFrom<i32>
        + CastFrom<i64>
        + CastFrom<u8>
        + CastFrom<u16>
        + CastFrom<u32>
        + CastFrom<u64>
        + CastFrom<f32>
        + CastFrom<f64>
{
}

/// Runs `$body` with `$t` standing for the element type of `$dtype`. On a
/// compile-time constant dtype (`O::DTYPE`) the optimizer keeps one arm,
/// which is what makes the typed API monomorphic.
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::dtype::DType::Bool => {
                type $t = $crate::element::Bool;
                $body
            }
            $crate::dtype::DType::Int8 => {
                type $t = i8;
                $body
            }
            $crate::dtype::DType::Int16 => {
                type $t = i16;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $t = i32;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $t = i64;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $t = u8;
                $body
            }
            $crate::dtype::DType::UInt16 => {
                type $t = u16;
                $body
            }
            $crate::dtype::DType::UInt32 => {
                type $t = u32;
                $body
            }
            $crate::dtype::DType::UInt64 => {
                type $t = u64;
                $body
            }
            $crate::dtype::DType::Float32 => {
                type $t = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $t = f64;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;
