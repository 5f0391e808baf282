//! IEEE floating-point status flags as NumPy's `errstate` sees them.
//!
//! fnp-core derives them in software from operands and results (soft-float
//! targets have no status register), so they are the same on every target.

/// A set of IEEE exception flags: divide-by-zero, overflow, underflow, invalid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FpFlags(u8);

impl FpFlags {
    /// No flag raised.
    pub const NONE: FpFlags = FpFlags(0);
    /// Division by zero (or an exact infinity from finite inputs: log(0)).
    pub const DIVIDE: FpFlags = FpFlags(1);
    /// A finite result too large for the type.
    pub const OVERFLOW: FpFlags = FpFlags(2);
    /// A tiny, inexact result.
    pub const UNDERFLOW: FpFlags = FpFlags(4);
    /// An invalid operation (a NaN created from non-NaN inputs).
    pub const INVALID: FpFlags = FpFlags(8);

    /// Every flag with its `np.errstate` name, in a fixed order.
    pub const NAMED: [(FpFlags, &'static str); 4] = [
        (FpFlags::DIVIDE, "divide"),
        (FpFlags::OVERFLOW, "overflow"),
        (FpFlags::UNDERFLOW, "underflow"),
        (FpFlags::INVALID, "invalid"),
    ];

    /// The raw bits (bit 0 divide, 1 overflow, 2 underflow, 3 invalid).
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Builds flags from raw bits; unknown bits are dropped.
    pub const fn from_bits_truncate(bits: u8) -> FpFlags {
        FpFlags(bits & 0x0f)
    }

    /// Whether every flag in `other` is set in `self`.
    pub const fn contains(self, other: FpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `self` with `other` added.
    pub const fn union(self, other: FpFlags) -> FpFlags {
        FpFlags(self.0 | other.0)
    }

    /// `flag` if `cond`, else nothing: keeps kernels branch-free.
    #[inline(always)]
    pub const fn when(cond: bool, flag: FpFlags) -> FpFlags {
        FpFlags(flag.0 * cond as u8)
    }

    /// The names of the set flags, in [`FpFlags::NAMED`] order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        FpFlags::NAMED
            .into_iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, name)| name)
    }

    /// Parses one `np.errstate` name.
    pub fn from_name(name: &str) -> Option<FpFlags> {
        FpFlags::NAMED
            .into_iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| f)
    }
}

impl core::ops::BitOr for FpFlags {
    type Output = FpFlags;
    fn bitor(self, rhs: FpFlags) -> FpFlags {
        self.union(rhs)
    }
}

impl core::ops::BitOrAssign for FpFlags {
    fn bitor_assign(&mut self, rhs: FpFlags) {
        *self = self.union(rhs);
    }
}
