//! A hint to the processor to start loading a cache line that will be needed
//! soon, so that the scan's memory accesses (the records, their strings and
//! the group table) overlap instead of waiting one after another.
//!
//! Why the crate has `unsafe` at all, and only here: the standard library's
//! prefetch intrinsic is `unsafe` to call (it is a `target_feature`
//! function), and the stable `std::hint` has no prefetch yet. A plain load
//! (the other way to warm a line) stalls the processor until the line
//! arrives; a prefetch does not, and the scan's benchmark measured the
//! difference as well worth it (BENCHMARKS.md).

/// Asks for the cache line holding `value` to be brought into the cache.
///
/// A hint only: it has no effect on the program's results, and it never
/// faults; `value` is a reference, so the address is valid anyway.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_address(std::ptr::from_ref(value).cast());
}

/// Asks for the cache line holding the byte at `address`; any address,
/// since a prefetch never faults.
#[inline(always)]
pub(crate) fn prefetch_address(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `_mm_prefetch` only hints the cache; it reads nothing the
    // program can observe and cannot fault. It is `unsafe` only because it
    // requires the `sse` target feature, which every x86_64 processor has
    // (it is part of the x86_64 baseline the compiler always targets).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
