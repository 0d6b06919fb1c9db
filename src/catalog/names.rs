//! The group names of a workspace, lower-cased into one buffer, so that a
//! fuzzy name query is one substring search over contiguous memory instead
//! of one search per group through scattered strings.

use crate::name_match::{fold_into, NameMatcher};

/// A dead entry's owner.
const DEAD: u32 = u32::MAX;

/// Names folded to ASCII lower case, each followed by a NUL byte.
///
/// The query name is made of `a-z 0-9 - _ .` (the API's rule), so it holds
/// no NUL and a match can never span two entries; and since it is lower-case
/// ASCII, searching the folded names is exactly the ASCII-case-insensitive
/// match of the crate docs' "Filter" (non-ASCII bytes are kept as they are
/// and never match).
#[derive(Clone, Debug, Default)]
pub(super) struct NameArena {
    bytes: Vec<u8>,
    /// Where each entry starts in `bytes`, increasing.
    starts: Vec<usize>,
    /// The group of each entry, or [`DEAD`].
    owners: Vec<u32>,
    /// Bytes of dead entries, NUL-filled until the next compaction.
    dead_bytes: usize,
}

impl NameArena {
    /// Adds `name` for `group` and returns its entry.
    pub(super) fn push(&mut self, name: &str, group: u32) -> u32 {
        let entry = self.starts.len() as u32;
        self.starts.push(self.bytes.len());
        self.owners.push(group);
        fold_into(name.as_bytes(), &mut self.bytes);
        self.bytes.push(0);
        entry
    }

    /// Drops `entry`: its bytes become NULs, which no query matches.
    pub(super) fn kill(&mut self, entry: u32) {
        let e = entry as usize;
        let end = self.starts.get(e + 1).copied().unwrap_or(self.bytes.len());
        self.bytes[self.starts[e]..end].fill(0);
        self.dead_bytes += end - self.starts[e];
        self.owners[e] = DEAD;
    }

    /// Whether dead entries take more room than live ones (and enough to be
    /// worth a rebuild).
    pub(super) fn wants_compaction(&self) -> bool {
        self.dead_bytes > 4096 && self.dead_bytes * 2 > self.bytes.len()
    }

    /// Makes room for `count` more entries of `bytes` bytes in all (NULs
    /// included), exactly.
    pub(super) fn reserve_exact(&mut self, count: usize, bytes: usize) {
        self.bytes.reserve_exact(bytes);
        self.starts.reserve_exact(count);
        self.owners.reserve_exact(count);
    }

    /// Forgets every entry, keeping the allocations, before a rebuild.
    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
        self.owners.clear();
        self.dead_bytes = 0;
    }

    /// Calls `found` once for each group whose name `matcher` matches.
    pub(super) fn for_each_match(&self, matcher: &NameMatcher<'_>, mut found: impl FnMut(u32)) {
        let mut from = 0;
        while let Some(at) = matcher.find_in_folded(&self.bytes[from..]) {
            let at = from + at;
            let entry = self.starts.partition_point(|&start| start <= at) - 1;
            if self.owners[entry] != DEAD {
                found(self.owners[entry]);
            }
            // One report per name: go on from the next entry.
            match self.starts.get(entry + 1) {
                Some(&next) => from = next,
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(arena: &NameArena, needle: &str) -> Vec<u32> {
        let matcher = NameMatcher::new(needle);
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
        arena.kill(dead);
        // "to" and "rch" are adjacent entries: no match across them.
        assert_eq!(matches(&arena, "torch"), vec![7, 10]);
        assert_eq!(matches(&arena, "orc"), vec![7, 10]);
        assert_eq!(matches(&arena, "to"), vec![7, 10, 11]);
        assert_eq!(matches(&arena, "ensor"), vec![8]);
    }

    #[test]
    fn compaction_is_wanted_once_dead_bytes_dominate() {
        let mut arena = NameArena::default();
        let long = "n".repeat(5000);
        let entry = arena.push(&long, 0);
        arena.push("x", 1);
        assert!(!arena.wants_compaction());
        arena.kill(entry);
        assert!(arena.wants_compaction());
        arena.clear();
        assert!(matches(&arena, "n").is_empty());
    }
}
