//! Advice to the operating system to back a large, freshly allocated block
//! with huge pages (2 MiB on x86_64 Linux) where transparent huge pages are
//! on "madvise" (a common default), before the block is first written.
//!
//! Why: a scan over many groups writes a group table of tens of MiB that is
//! fresh memory on every query, and then reads it at random. In 4 KiB pages
//! that is a page fault (and a zeroed page) per 4 KiB written and a TLB miss
//! on most random accesses; in 2 MiB pages, a fault per 2 MiB and far fewer
//! TLB misses (BENCHMARKS.md, "huge pages for the group table").
//!
//! The advice changes how memory is backed, never what it holds; where the
//! system does not take it (another operating system, huge pages off, too
//! little memory in one piece), the block is used in small pages as before.

/// Blocks smaller than this are left alone: the advice costs a system call,
/// and a block smaller than a few huge pages gains little.
pub(crate) const MIN_BYTES: usize = 4 << 20;

/// The size of a huge page on the systems the advice is given on.
const HUGE_PAGE: usize = 2 << 20;

/// Advises huge pages for the whole 2 MiB pages within the `len` bytes at
/// `start`, if `len` is at least [`MIN_BYTES`]. The caller owns those bytes
/// (an allocation of its own, written or not); their contents do not change.
pub(crate) fn advise(start: *const u8, len: usize) {
    // Pointer to integer: only to find the whole huge pages in the block.
    let Some(pages) = whole_huge_pages(start as usize, len) else {
        return;
    };
    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    // SAFETY: `madvise` with `MADV_HUGEPAGE` only sets how the kernel backs
    // the pages of `pages` (a range aligned to huge pages inside the
    // caller's allocation, so no other object's memory); it neither reads
    // nor changes their contents nor unmaps them. Its result is advice taken
    // or not: an error (a kernel without transparent huge pages) leaves the
    // memory as it was, so it is ignored.
    unsafe {
        libc::madvise(
            start
                .wrapping_add(pages.start - start as usize)
                .cast_mut()
                .cast(),
            pages.len(),
            libc::MADV_HUGEPAGE,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pages;
}

/// The addresses of the whole huge pages among the `len` bytes from address
/// `start`, if the block is at least [`MIN_BYTES`] and holds one.
fn whole_huge_pages(start: usize, len: usize) -> Option<std::ops::Range<usize>> {
    if len < MIN_BYTES {
        return None;
    }
    let from = start.checked_next_multiple_of(HUGE_PAGE)?;
    let to = start.checked_add(len)? / HUGE_PAGE * HUGE_PAGE;
    (from < to).then_some(from..to)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The advised range is whole huge pages inside the block, all of
    /// them; none for a small block or one that holds no whole page.
    #[test]
    fn only_whole_huge_pages_inside_the_block_are_advised() {
        let m = HUGE_PAGE;
        assert_eq!(whole_huge_pages(10 * m, MIN_BYTES - 1), None);
        assert_eq!(
            whole_huge_pages(10 * m, MIN_BYTES),
            Some(10 * m..10 * m + MIN_BYTES)
        );
        assert_eq!(whole_huge_pages(10 * m + 16, 3 * m), Some(11 * m..13 * m));
        assert_eq!(
            whole_huge_pages(10 * m + 16, 3 * m - 16),
            Some(11 * m..13 * m)
        );
        assert_eq!(
            whole_huge_pages(10 * m + 16, 3 * m - 17),
            Some(11 * m..12 * m)
        );
        assert_eq!(
            whole_huge_pages(10 * m + 1, MIN_BYTES),
            Some(11 * m..12 * m)
        );
        assert_eq!(whole_huge_pages(usize::MAX - m, MIN_BYTES), None);
    }

    /// Advised memory, written before and after the advice, keeps what was
    /// written.
    #[test]
    fn advised_memory_keeps_its_bytes() {
        let mut block: Vec<u64> = (0..(MIN_BYTES as u64)).collect();
        advise(block.as_ptr().cast(), block.len() * 8);
        assert!(block.iter().enumerate().all(|(i, &v)| v == i as u64));
        let mut more: Vec<u64> = Vec::with_capacity(MIN_BYTES);
        advise(more.as_ptr().cast(), more.capacity() * 8);
        more.extend(0..MIN_BYTES as u64);
        block.truncate(MIN_BYTES);
        assert_eq!(block, more);
    }
}
