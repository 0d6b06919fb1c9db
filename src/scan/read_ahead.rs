//! Reading the records ahead of the scan: each record's bytes and strings
//! are asked for a few records before the scan reads them.

use super::arena::LINE;
use crate::prefetch::{prefetch, prefetch_address};
use crate::version::ImageVersion;

/// How many records ahead [`Lookahead`] prefetches a record's own bytes;
/// its strings are prefetched half as many records ahead, once the record
/// (which holds their addresses) has arrived.
const LOOKAHEAD: usize = 16;

/// The records of an iterator, each handed out [`LOOKAHEAD`] records after
/// its own bytes were prefetched, and half that many after the strings the
/// scan reads (workspace, name, namespace) were.
///
/// Why: a record's strings are separate heap blocks, and a scan reads them
/// one record after another; without a hint, each first read of a record or
/// its strings waits for memory, and the processor cannot look far enough
/// past the hashing and counting of one record to start the next ones.
pub(crate) struct Lookahead<'a, I> {
    inner: std::iter::Fuse<I>,
    ring: [Option<&'a ImageVersion>; LOOKAHEAD],
    at: usize,
}

impl<'a, I: Iterator<Item = &'a ImageVersion>> Lookahead<'a, I> {
    pub(crate) fn new(inner: I) -> Self {
        let mut inner = inner.fuse();
        let ring: [Option<&'a ImageVersion>; LOOKAHEAD] =
            std::array::from_fn(|_| inner.next().inspect(|v| prefetch_record(v)));
        for v in ring.iter().take(LOOKAHEAD / 2).flatten() {
            prefetch_strings(v);
        }
        Lookahead { inner, ring, at: 0 }
    }
}

impl<'a, I: Iterator<Item = &'a ImageVersion>> Iterator for Lookahead<'a, I> {
    type Item = &'a ImageVersion;

    #[inline]
    fn next(&mut self) -> Option<&'a ImageVersion> {
        let incoming = self.inner.next();
        if let Some(v) = incoming {
            prefetch_record(v);
        }
        if let Some(v) = self.ring[(self.at + LOOKAHEAD / 2) % LOOKAHEAD] {
            prefetch_strings(v);
        }
        // The ring was filled in order, so once it hands out `None` the
        // inner iterator is done and every later entry is `None` too.
        let out = std::mem::replace(&mut self.ring[self.at], incoming);
        self.at = (self.at + 1) % LOOKAHEAD;
        out
    }
}

/// Asks for the first cache line of each string a scan reads: workspace,
/// name and namespace.
#[inline(always)]
pub(crate) fn prefetch_strings(v: &ImageVersion) {
    prefetch_str(&v.workspace_id);
    prefetch_str(&v.name);
    prefetch_str(&v.namespace);
}

/// Asks for every cache line of a record itself (not its strings): one
/// every line's length and its last byte's, since a record need not start a
/// line.
#[inline(always)]
pub(crate) fn prefetch_record(v: &ImageVersion) {
    let start = std::ptr::from_ref(v).cast::<u8>();
    let size = std::mem::size_of::<ImageVersion>();
    for at in (0..size).step_by(LINE).chain([size - 1]) {
        // `at < size`: the address is inside the record.
        prefetch_address(start.wrapping_add(at));
    }
}

/// Asks for the first cache line of a string's bytes (none if it is empty).
#[inline(always)]
fn prefetch_str(s: &str) {
    if let Some(first) = s.as_bytes().first() {
        prefetch(first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(i: usize) -> ImageVersion {
        let name = if i % 3 == 0 {
            String::new()
        } else {
            format!("n{i}")
        };
        ImageVersion::new(i.to_string(), name, "ns", crate::ImageType::Dedicated, 0, 0)
    }

    /// Any number of records, fewer or more than the ring holds, comes out
    /// once each and in order.
    #[test]
    fn lookahead_yields_the_records_in_order() {
        let records: Vec<ImageVersion> = (0..40).map(version).collect();
        for n in 0..records.len() {
            let ids: Vec<&str> = Lookahead::new(records[..n].iter())
                .map(|v| v.id.as_str())
                .collect();
            let want: Vec<&str> = records[..n].iter().map(|v| v.id.as_str()).collect();
            assert_eq!(ids, want, "{n} records");
        }
    }

    /// An iterator that yields again after its first `None` is read as
    /// ending there.
    #[test]
    fn lookahead_stops_at_the_first_end() {
        let records: Vec<ImageVersion> = (0..3).map(version).collect();
        let mut calls = 0;
        let restarting = std::iter::from_fn(|| {
            calls += 1;
            match calls {
                1 | 2 => records.get(calls - 1),
                3 => None,
                _ => records.get(2),
            }
        });
        assert_eq!(Lookahead::new(restarting).count(), 2);
    }
}
