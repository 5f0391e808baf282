//! Benchmark buffers allocated the way NumPy allocates large arrays.
//!
//! NumPy asks Linux for transparent huge pages (`madvise(MADV_HUGEPAGE)`) on
//! every allocation of 4 MiB or more; with THP in `madvise` mode that halves
//! TLB misses on 1M-element streams. fnp-core never allocates — the caller
//! owns the buffers — so for a like-for-like comparison the harness gives
//! fnp's inputs and outputs the same kind of memory.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

const HUGE_PAGE: usize = 2 << 20;

/// A zeroed, 2 MiB-aligned byte buffer advised to use huge pages.
pub struct HugeBuf {
    ptr: NonNull<u8>,
    len: usize,
    layout: Layout,
}

impl HugeBuf {
    /// `len` zero bytes. Aborts like `Vec` does if memory is exhausted.
    pub fn zeroed(len: usize) -> HugeBuf {
        let size = len.max(1).next_multiple_of(HUGE_PAGE);
        let layout = Layout::from_size_align(size, HUGE_PAGE).unwrap_or_else(|_| {
            // Only reachable for sizes near usize::MAX, which cannot be
            // allocated anyway.
            std::alloc::handle_alloc_error(Layout::new::<u8>())
        });
        // SAFETY: `layout` has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            std::alloc::handle_alloc_error(layout)
        };
        // SAFETY: the range is exactly the allocation made above. The advice
        // is only a hint; its result does not matter for correctness.
        unsafe {
            libc::madvise(raw.cast(), size, libc::MADV_HUGEPAGE);
        }
        HugeBuf { ptr, len, layout }
    }

    /// A copy of `bytes` in a huge-page buffer.
    pub fn from_bytes(bytes: &[u8]) -> HugeBuf {
        let mut buf = HugeBuf::zeroed(bytes.len());
        buf.bytes_mut().copy_from_slice(bytes);
        buf
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` points to an allocation of at least `len` initialized
        // (zeroed) bytes that lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for HugeBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with exactly this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_copyable() {
        let mut b = HugeBuf::zeroed(10);
        assert_eq!(b.bytes(), &[0; 10]);
        assert_eq!(b.bytes().as_ptr() as usize % HUGE_PAGE, 0);
        b.bytes_mut()[3] = 7;
        assert_eq!(HugeBuf::from_bytes(b.bytes()).bytes()[3], 7);
        assert!(HugeBuf::zeroed(0).bytes().is_empty());
    }
}
