//! The group names of a workspace, lower-cased into one buffer, so that a
//! fuzzy name query is one substring search over contiguous memory instead
//! of one search per group through scattered strings.

use crate::name_match::{fold_into, ByteRanks, NameMatcher};

/// Ends each entry's name; a name's own NUL bytes are stored as [`NUL_IN_NAME`].
const END: u8 = 0;
/// What a NUL inside a name is stored as: a byte no query name holds, like
/// NUL, but not [`END`], so that the first `END` after a match is its
/// entry's.
const NUL_IN_NAME: u8 = 0xff;
/// The bytes after an entry's [`END`] that give its group: seven bits each,
/// low first, each with the high bit set, so that no query name (ASCII) can
/// match in them and none is `END`.
const OWNER_BYTES: usize = 5;

/// Names folded to ASCII lower case, each followed by [`END`] and its group.
///
/// The query name is made of `a-z 0-9 - _ .` (the API's rule), so it holds
/// no `END` and no byte of 0x80 or above: a match lies inside one entry's
/// name, never across an end or in a group number. Since it is lower-case
/// ASCII, searching the folded names is exactly the ASCII-case-insensitive
/// match of the crate docs' "Filter" (non-ASCII bytes are kept as they are
/// and never match).
///
/// A match's group is read right after the match's entry (the next `END`),
/// a few bytes further in memory that the search has just read, instead of
/// being looked up in a table of entry starts.
#[derive(Clone, Debug, Default)]
pub(super) struct NameArena {
    bytes: Vec<u8>,
    /// How many times each byte value occurs in the live names: the search
    /// looks for the needle's rarest bytes first (see [`ByteRanks`]).
    counts: Vec<u64>,
    /// Bytes of dead entries, NUL-filled until the next compaction.
    dead_bytes: usize,
}

impl NameArena {
    /// Adds `name` for `group` and returns its entry: where it starts.
    ///
    /// # Panics
    ///
    /// When the names of one workspace pass 4 GiB.
    pub(super) fn push(&mut self, name: &str, group: u32) -> u32 {
        let entry = u32::try_from(self.bytes.len())
            .expect("a Catalog workspace's group names take at most 4 GiB");
        fold_into(name.as_bytes(), &mut self.bytes);
        if self.counts.is_empty() {
            self.counts = vec![0; 256];
        }
        for b in &mut self.bytes[entry as usize..] {
            if *b == END {
                *b = NUL_IN_NAME;
            }
            self.counts[usize::from(*b)] += 1;
        }
        self.bytes.push(END);
        self.bytes
            .extend((0..OWNER_BYTES).map(|i| 0x80 | ((group >> (7 * i)) & 0x7f) as u8));
        entry
    }

    /// Drops `entry`, a name of `len` bytes: its bytes become NULs, which no
    /// query matches.
    pub(super) fn kill(&mut self, entry: u32, len: usize) {
        let name = &mut self.bytes[entry as usize..entry as usize + len];
        for b in name.iter() {
            self.counts[usize::from(*b)] -= 1;
        }
        name.fill(END);
        self.dead_bytes += len + 1 + OWNER_BYTES;
    }

    /// Whether dead entries take more room than live ones (and enough to be
    /// worth a rebuild).
    pub(super) fn wants_compaction(&self) -> bool {
        self.dead_bytes > 4096 && self.dead_bytes * 2 > self.bytes.len()
    }

    /// Forgets every entry, keeping the allocation, before a rebuild.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.counts.fill(0);
        self.dead_bytes = 0;
    }

    /// Makes room for names of `bytes` bytes in all, `count` of them, exactly.
    pub(super) fn reserve_exact(&mut self, count: usize, bytes: usize) {
        self.bytes.reserve_exact(bytes + count * (1 + OWNER_BYTES));
    }

    /// How common each byte is in the names, for [`NameMatcher::with_ranks`].
    pub(super) fn ranks(&self) -> ByteRanks {
        ByteRanks::from_counts(&self.counts)
    }

    /// Calls `found` once for each group whose name `matcher` matches.
    pub(super) fn for_each_match(&self, matcher: &NameMatcher<'_>, mut found: impl FnMut(u32)) {
        let mut from = 0;
        while let Some(at) = matcher.find_in_folded(&self.bytes[from..]) {
            let at = from + at;
            let end = at + memchr::memchr(END, &self.bytes[at..]).expect("every entry ends");
            let owner = &self.bytes[end + 1..end + 1 + OWNER_BYTES];
            let group = owner
                .iter()
                .rev()
                .fold(0u32, |g, &b| (g << 7) | u32::from(b & 0x7f));
            found(group);
            // One report per name: go on from the next entry.
            from = end + 1 + OWNER_BYTES;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(arena: &NameArena, needle: &str) -> Vec<u32> {
        let matcher = NameMatcher::with_ranks(needle, arena.ranks());
        let mut found = Vec::new();
        arena.for_each_match(&matcher, |g| found.push(g));
        found
    }

    #[test]
    fn one_report_per_name_folded_and_without_dead_entries() {
        let mut arena = NameArena::default();
        arena.push("PyTorch-torch", 7);
        arena.push("tensorflow", 8);
        let dead = arena.push("torch", 9);
        arena.push("Ä-torch", 10);
        arena.push("to", 11);
        arena.push("rch", 12);
        arena.push("a\0torch\0", u32::MAX);
        arena.push("torch", 1 << 30);
        arena.kill(dead, "torch".len());
        // "to" and "rch" are adjacent entries: no match across them.
        assert_eq!(matches(&arena, "torch"), vec![7, 10, u32::MAX, 1 << 30]);
        assert_eq!(matches(&arena, "orc"), vec![7, 10, u32::MAX, 1 << 30]);
        assert_eq!(matches(&arena, "to"), vec![7, 10, 11, u32::MAX, 1 << 30]);
        assert_eq!(matches(&arena, "ensor"), vec![8]);
        assert_eq!(matches(&arena, "a"), vec![u32::MAX]);
    }

    #[test]
    fn group_numbers_never_match() {
        let mut arena = NameArena::default();
        // Groups whose numbers' low seven-bit groups spell ASCII letters.
        let g = u32::from_le_bytes(*b"torc");
        arena.push("x", g);
        arena.push("y", u32::from(b't') | (u32::from(b'o') << 7));
        assert!(matches(&arena, "t").is_empty());
        assert!(matches(&arena, "to").is_empty());
        assert_eq!(matches(&arena, "x"), vec![g]);
    }

    #[test]
    fn compaction_is_wanted_once_dead_bytes_dominate() {
        let mut arena = NameArena::default();
        let long = "n".repeat(5000);
        let entry = arena.push(&long, 0);
        arena.push("x", 1);
        assert!(!arena.wants_compaction());
        arena.kill(entry, long.len());
        assert!(arena.wants_compaction());
        arena.clear();
        assert!(matches(&arena, "n").is_empty());
    }
}
