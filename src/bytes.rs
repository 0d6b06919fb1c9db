//! Byte-string equality for the scan's hot loop: the filter's string tests
//! and the group table's key check.
//!
//! Why not `==` (a `memcmp` call): the call, and its branches on the length
//! and the bytes, cost more than the comparison itself for the short strings
//! of this data (BENCHMARKS.md has the measurement). A mispredicted branch also throws away the loads the processor had already
//! started for the next records, which is where a scan's time goes.

/// Whether `a == b`, with few branches, all on the length class.
///
/// A string of 8 to 32 bytes, the usual length of names and namespaces, is
/// compared as four 8-byte words placed by its length: its first and last
/// words, the word after the first and the word before the last, clamped
/// into the string. Together they cover every byte, so the one branch is
/// "8 to 32 bytes or not". Shorter strings are compared as overlapping
/// blocks at both ends, longer ones with `==`.
#[inline(always)]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => (a[0] == b[0]) & (a[n / 2] == b[n / 2]) & (a[n - 1] == b[n - 1]),
        4..=7 => ends_eq::<4>(a, b),
        8..=32 => words_eq(a, b),
        _ => a == b,
    }
}

/// Whether the first `N` and the last `N` bytes of `a` and `b` agree; with
/// `N <= len <= 2N`, that is the whole of them.
#[inline(always)]
fn ends_eq<const N: usize>(a: &[u8], b: &[u8]) -> bool {
    match (
        a.first_chunk::<N>(),
        b.first_chunk::<N>(),
        a.last_chunk::<N>(),
        b.last_chunk::<N>(),
    ) {
        (Some(a0), Some(b0), Some(a1), Some(b1)) => (a0 == b0) & (a1 == b1),
        _ => false,
    }
}

/// Whether `a` and `b`, both of the same length `n` with `8 <= n <= 32`,
/// agree in the four words at `0`, `min(8, n - 8)`, `max(n - 16, 0)` and
/// `n - 8`, which cover `[0, 16)` and `[n - 16, n)`: all of them.
#[inline(always)]
fn words_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let word = |s: &[u8], at: usize| {
        s.get(at..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map(|w| u64::from_ne_bytes(*w))
    };
    let mut diff = 0;
    for at in [0, 8.min(n - 8), n.saturating_sub(16), n - 8] {
        match (word(a, at), word(b, at)) {
            (Some(x), Some(y)) => diff |= x ^ y,
            // Unreachable for 8 <= n: every word lies inside both slices.
            _ => return a == b,
        }
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_eq_agrees_with_slice_eq_at_every_length_and_position() {
        for len in 0..80 {
            let a: Vec<u8> = (0..len as u8).collect();
            assert!(bytes_eq(&a, &a.clone()), "{len}");
            for i in 0..len {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!bytes_eq(&a, &b), "len {len}, byte {i}");
            }
            assert!(!bytes_eq(&a, &a[..len.saturating_sub(1)]) || len == 0);
        }
    }

    proptest::proptest! {
        /// Pairs over a two-letter alphabet, so that equal pairs are common.
        #[test]
        fn bytes_eq_is_slice_eq(
            a in proptest::collection::vec(b'a'..=b'b', 0..48),
            b in proptest::collection::vec(b'a'..=b'b', 0..48),
        ) {
            let b = if a.len() % 3 == 0 { b.iter().copied().cycle().take(a.len()).collect() } else { b };
            proptest::prop_assert_eq!(bytes_eq(&a, &b), a == b);
        }
    }
}
