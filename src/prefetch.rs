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
    hint::<false>(address);
}

/// Asks for the cache line holding the byte at `address` into the outer
/// caches only (x86's T1 hint), not the innermost one.
///
/// Why: a line asked into the innermost cache holds one of its few
/// outstanding-miss slots until it arrives. For a stream of many lines read
/// a little later (the scan's records), those slots ran out, and the
/// prefetches of the lines needed soonest (a record's strings, the group
/// table) waited for them; a line brought to the outer cache is near enough
/// by the time it is read.
#[inline(always)]
pub(crate) fn prefetch_address_outer(address: *const u8) {
    hint::<true>(address);
}

/// The prefetch instruction: the T1 hint if `OUTER`, else T0.
#[inline(always)]
fn hint<const OUTER: bool>(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: `_mm_prefetch` only hints the cache; it reads nothing the
    // program can observe and cannot fault. It is `unsafe` only because it
    // requires the `sse` target feature, which every x86_64 processor has
    // (it is part of the x86_64 baseline the compiler always targets).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        if OUTER {
            _mm_prefetch::<_MM_HINT_T1>(address.cast::<i8>());
        } else {
            _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
