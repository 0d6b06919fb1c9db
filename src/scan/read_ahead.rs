//! Reading the records ahead of the scan: each record's bytes are asked
//! for a few records before the scan reads them, and the strings of the
//! records that may match a few such records before.

use super::arena::LINE;
use crate::prefetch::{prefetch, prefetch_address, prefetch_address_outer};
use crate::version::ImageVersion;

/// How many records ahead [`records_ahead`] prefetches a record's own bytes.
const RECORDS_AHEAD: usize = 16;

/// How many records ahead [`strings_ahead`] prefetches a record's strings;
/// fewer than [`RECORDS_AHEAD`], since a record's strings can be asked for
/// only once the record (which holds their addresses) has arrived.
const STRINGS_AHEAD: usize = 8;

/// The records of `records`, each handed out [`RECORDS_AHEAD`] records after
/// its own bytes were prefetched into the outer caches
/// ([`prefetch_address_outer`]).
///
/// Why: the processor cannot look far enough past the work on one record
/// to start loading the next ones, and the records need not be contiguous
/// (any iterator of references is scanned).
pub(crate) fn records_ahead<'a>(
    records: impl Iterator<Item = &'a ImageVersion>,
) -> impl Iterator<Item = &'a ImageVersion> {
    Ahead::<_, _, RECORDS_AHEAD>::new(records, |v: &ImageVersion| {
        ask_record_lines(v, prefetch_address_outer);
    })
}

/// The records of `records`, each handed out [`STRINGS_AHEAD`] records
/// after the strings a scan reads (workspace, name, namespace) were
/// prefetched.
///
/// Why: a record's strings are separate heap blocks; without a hint, each
/// first read of one waits for memory. Given only the records that may
/// match (`crate::filter::OwnFields`), it asks for no string of a record
/// the scan rejects from the record alone, and its distance counts records
/// that will be read, however few of all records they are.
pub(crate) fn strings_ahead<'a>(
    records: impl Iterator<Item = &'a ImageVersion>,
) -> impl Iterator<Item = &'a ImageVersion> {
    Ahead::<_, _, STRINGS_AHEAD>::new(records, prefetch_strings)
}

/// The items of an iterator, each handed out `N` items after `ask` was
/// called on it.
struct Ahead<'a, I, F, const N: usize> {
    inner: std::iter::Fuse<I>,
    ring: [Option<&'a ImageVersion>; N],
    at: usize,
    ask: F,
}

impl<'a, I, F, const N: usize> Ahead<'a, I, F, N>
where
    I: Iterator<Item = &'a ImageVersion>,
    F: Fn(&ImageVersion),
{
    fn new(inner: I, ask: F) -> Self {
        let mut inner = inner.fuse();
        let ring = std::array::from_fn(|_| inner.next().inspect(|v| ask(v)));
        Ahead {
            inner,
            ring,
            at: 0,
            ask,
        }
    }
}

impl<'a, I, F, const N: usize> Iterator for Ahead<'a, I, F, N>
where
    I: Iterator<Item = &'a ImageVersion>,
    F: Fn(&ImageVersion),
{
    type Item = &'a ImageVersion;

    #[inline]
    fn next(&mut self) -> Option<&'a ImageVersion> {
        let incoming = self.inner.next();
        if let Some(v) = incoming {
            (self.ask)(v);
        }
        // The ring was filled in order, so once it hands out `None` the
        // inner iterator is done and every later entry is `None` too.
        let out = std::mem::replace(&mut self.ring[self.at], incoming);
        self.at = (self.at + 1) % N;
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

/// Asks for every cache line of a record itself (not its strings) into
/// every cache level, for a reader that needs it soon (the catalog's build).
#[inline(always)]
pub(crate) fn prefetch_record(v: &ImageVersion) {
    ask_record_lines(v, prefetch_address);
}

/// Calls `ask` with an address in each cache line of `v` itself: one every
/// line's length and its last byte's, since a record need not start a line.
#[inline(always)]
fn ask_record_lines(v: &ImageVersion, ask: impl Fn(*const u8)) {
    let start = std::ptr::from_ref(v).cast::<u8>();
    // A fixed list of offsets, so that the loop unrolls to its prefetches.
    for at in RECORD_OFFSETS {
        // `at < size_of::<ImageVersion>()`: the address is inside the record.
        ask(start.wrapping_add(at));
    }
}

/// The offsets [`prefetch_record`] asks for: `0`, `LINE`, `2 * LINE`, ...
/// below the record's size, and its last byte.
const RECORD_OFFSETS: [usize; RECORD_LINES + 1] = {
    let size = std::mem::size_of::<ImageVersion>();
    let mut offsets = [size - 1; RECORD_LINES + 1];
    let mut i = 0;
    while i < RECORD_LINES {
        offsets[i] = i * LINE;
        i += 1;
    }
    offsets
};

/// How many line-length steps fit in a record: `size.div_ceil(LINE)`.
const RECORD_LINES: usize = std::mem::size_of::<ImageVersion>().div_ceil(LINE);

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
    fn read_ahead_yields_the_records_in_order() {
        let records: Vec<ImageVersion> = (0..40).map(version).collect();
        for n in 0..records.len() {
            let ids: Vec<&str> = strings_ahead(records_ahead(records[..n].iter()))
                .map(|v| v.id.as_str())
                .collect();
            let want: Vec<&str> = records[..n].iter().map(|v| v.id.as_str()).collect();
            assert_eq!(ids, want, "{n} records");
        }
    }

    /// An iterator that yields again after its first `None` is read as
    /// ending there.
    #[test]
    fn read_ahead_stops_at_the_first_end() {
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
        assert_eq!(records_ahead(restarting).count(), 2);
    }

    /// The offsets a record's prefetches use fall inside the record and
    /// reach every cache line it spans, wherever in a line it starts.
    #[test]
    fn record_offsets_reach_each_line_of_a_record() {
        let size = std::mem::size_of::<ImageVersion>();
        for start in 0..LINE {
            let spanned: Vec<usize> = (start / LINE..=(start + size - 1) / LINE).collect();
            let mut asked: Vec<usize> = RECORD_OFFSETS
                .iter()
                .map(|at| (start + at) / LINE)
                .collect();
            asked.dedup();
            assert_eq!(
                asked, spanned,
                "a record starting {start} bytes into a line"
            );
            assert!(RECORD_OFFSETS.iter().all(|&at| at < size));
        }
    }
}
