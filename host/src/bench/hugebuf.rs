//! Benchmark buffers allocated the way NumPy allocates large arrays.
//!
//! NumPy asks Linux for transparent huge pages (`madvise(MADV_HUGEPAGE)`) on
//! every allocation of 4 MiB or more; with THP in `madvise` mode that halves
//! TLB misses on 1M-element streams. fnp-core never allocates — the caller
//! owns the buffers — so for a like-for-like comparison the harness gives
//! fnp's inputs and outputs the same kind of memory.

use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

const HUGE_PAGE: usize = 2 << 20;

/// Bytes between the start of consecutive buffers' data within their pages.
/// Buffers that all start at the same offset modulo 4 KiB make every load
/// of one stream alias the store of another in the CPU's store buffer
/// ("4K aliasing"); NumPy's allocator does not line arrays up like that.
const STAGGER: usize = 320;

/// Buffers made so far, to stagger the next one.
static MADE: AtomicUsize = AtomicUsize::new(0);

/// A zeroed byte buffer in 2 MiB-aligned memory advised to use huge pages,
/// its data starting at a staggered offset below 4 KiB.
pub struct HugeBuf {
    base: NonNull<u8>,
    offset: usize,
    len: usize,
    layout: Layout,
}

impl HugeBuf {
    /// `len` zero bytes. Aborts like `Vec` does if memory is exhausted.
    pub fn zeroed(len: usize) -> HugeBuf {
        let offset = (MADE.fetch_add(1, Ordering::Relaxed) % 12) * STAGGER;
        let size = (len + offset).max(1).next_multiple_of(HUGE_PAGE);
        let layout = Layout::from_size_align(size, HUGE_PAGE).unwrap_or_else(|_| {
            // Only reachable for sizes near usize::MAX, which cannot be
            // allocated anyway.
            std::alloc::handle_alloc_error(Layout::new::<u8>())
        });
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc(layout) };
        let Some(base) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        // The advice must come before the first touch: pages faulted in
        // before it stay 4 KiB pages. SAFETY: the range is exactly the
        // allocation made above; the advice is only a hint and its result
        // does not matter for correctness.
        unsafe {
            libc::madvise(raw.cast(), size, libc::MADV_HUGEPAGE);
        }
        // SAFETY: `raw` is valid for writes of `size` bytes; this makes every
        // byte initialized before any slice of them is formed.
        unsafe { raw.write_bytes(0, size) };
        HugeBuf {
            base,
            offset,
            len,
            layout,
        }
    }

    /// A copy of `bytes` in a huge-page buffer.
    pub fn from_bytes(bytes: &[u8]) -> HugeBuf {
        let mut buf = HugeBuf::zeroed(bytes.len());
        buf.bytes_mut().copy_from_slice(bytes);
        buf
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the allocation holds `offset + len` initialized (zeroed)
        // bytes and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr().add(self.offset), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.base.as_ptr().add(self.offset), self.len) }
    }
}

impl Drop for HugeBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with exactly this layout.
        unsafe { dealloc(self.base.as_ptr(), self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_copyable() {
        let mut b = HugeBuf::zeroed(10);
        assert_eq!(b.bytes(), &[0; 10]);
        assert_eq!(b.bytes().as_ptr() as usize % 64, 0);
        assert!(b.bytes().as_ptr() as usize % HUGE_PAGE < 4096);
        b.bytes_mut()[3] = 7;
        assert_eq!(HugeBuf::from_bytes(b.bytes()).bytes()[3], 7);
        assert!(HugeBuf::zeroed(0).bytes().is_empty());
    }
}
