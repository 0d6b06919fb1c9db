//! The group names of a workspace, lower-cased into one buffer, so that a
//! fuzzy name query is one substring search over contiguous memory instead
//! of one search per group through scattered strings.

use crate::kinds::ImageType;
use crate::name_match::{fold_into, ByteRanks, NameMatcher};

/// Ends each entry's name; a name's own NUL bytes are stored as [`NUL_IN_NAME`].
const END: u8 = 0;
/// What a NUL inside a name is stored as: a byte no query name holds, like
/// NUL, but not [`END`], so that the first `END` after a match is its
/// entry's.
const NUL_IN_NAME: u8 = 0xff;
/// The bytes after an entry's [`END`] that give its group: seven bits each,
/// low first, each with the high bit set, so that no query name (ASCII) can
/// match in them and none is `END`. The group number takes 32 of their 35
/// bits; the last byte's bits above the number's hold the group's
/// [`type_bit`]s (which image types it has versions of), so that a fuzzy
/// name with a type filter drops groups without the type from bytes the
/// search has just read, instead of loading their aggregates.
const OWNER_BYTES: usize = 5;
/// Where the type bits start in the last owner byte (above the group
/// number's top four bits).
const TYPES_SHIFT: u32 = 4;

/// Names this long in all (with their ends and groups) are searched on two
/// threads, each over one half: below it, starting a thread costs about as
/// much as the search it saves. (The crate's own tests search small
/// catalogs on two threads too, so that both ways are checked alike.)
const TWO_THREADS_MIN_BYTES: usize = if cfg!(test) { 64 } else { 2 << 20 };

/// The bit of `image_type` in a group's type bits.
pub(super) fn type_bit(image_type: ImageType) -> u8 {
    1 << (image_type as u8)
}

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
    /// Adds `name` for `group`, which has versions of the image types in
    /// `types` (its [`type_bit`]s), and returns its entry: where it starts.
    ///
    /// # Panics
    ///
    /// When the names of one workspace pass 4 GiB.
    pub(super) fn push(&mut self, name: &str, group: u32, types: u8) -> u32 {
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
        self.set_types(
            entry,
            self.bytes.len() - entry as usize - 1 - OWNER_BYTES,
            types,
        );
        entry
    }

    /// Sets the type bits of `entry`, a name of `len` bytes, to `types`.
    pub(super) fn set_types(&mut self, entry: u32, len: usize, types: u8) {
        assert!(
            types < 1 << (7 - TYPES_SHIFT),
            "type bits fit the owner byte"
        );
        let last = &mut self.bytes[entry as usize + len + OWNER_BYTES];
        *last = (*last & !(0b111 << TYPES_SHIFT)) | (types << TYPES_SHIFT);
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
        super::worth_compacting(self.dead_bytes, self.bytes.len())
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

    /// The groups whose name `matcher` matches, in the order of their
    /// entries, each once; with `image_type`, only those whose type bits
    /// hold it.
    ///
    /// A long buffer is searched on two threads (when the machine has two
    /// cores), cut at an entry's start: the same groups in the same order.
    pub(super) fn matching(
        &self,
        matcher: &NameMatcher<'_>,
        image_type: Option<ImageType>,
    ) -> Vec<u32> {
        let two_threads = self.bytes.len() >= TWO_THREADS_MIN_BYTES && super::cores() >= 2;
        self.matching_on(matcher, image_type, two_threads)
    }

    /// [`matching`](Self::matching), on two threads or on this one.
    fn matching_on(
        &self,
        matcher: &NameMatcher<'_>,
        image_type: Option<ImageType>,
        two_threads: bool,
    ) -> Vec<u32> {
        let wanted = image_type.map(type_bit);
        let mut found = Vec::new();
        if !two_threads {
            collect_matches(&self.bytes, matcher, wanted, &mut found);
            return found;
        }
        let (first, second) = self
            .bytes
            .split_at(entry_start_from(&self.bytes, self.bytes.len() / 2));
        let (second_found, ()) = crate::threads::both(
            true,
            || {
                let mut found = Vec::new();
                collect_matches(second, matcher, wanted, &mut found);
                found
            },
            || collect_matches(first, matcher, wanted, &mut found),
        );
        found.extend(second_found);
        found
    }
}

/// Appends to `found` the group of each entry of `bytes` (whole entries)
/// whose name `matcher` matches and, with `wanted`, whose type bits hold it.
fn collect_matches(
    bytes: &[u8],
    matcher: &NameMatcher<'_>,
    wanted: Option<u8>,
    found: &mut Vec<u32>,
) {
    let mut from = 0;
    while let Some(at) = matcher.find_in_folded(&bytes[from..]) {
        let at = from + at;
        let end = at + memchr::memchr(END, &bytes[at..]).expect("every entry ends");
        let owner = &bytes[end + 1..end + 1 + OWNER_BYTES];
        let last = owner[OWNER_BYTES - 1];
        if wanted.is_none_or(|bit| (last >> TYPES_SHIFT) & bit != 0) {
            let group = owner[..OWNER_BYTES - 1]
                .iter()
                .rev()
                .fold(u32::from(last & 0x0f), |g, &b| {
                    (g << 7) | u32::from(b & 0x7f)
                });
            found.push(group);
        }
        // One report per name: go on from the next entry.
        from = end + 1 + OWNER_BYTES;
    }
}

/// The start of the first entry of `bytes` (whole entries) that starts at
/// or after `at`, or the end of `bytes`.
///
/// The entry holding `at` ends at the last `END` of the first run of `END`s
/// from `at`: a live name holds no `END` and a dead one only `END`s, and
/// owner bytes are never `END`, so a run of them is one entry's end, with
/// the dead name before it if any.
fn entry_start_from(bytes: &[u8], at: usize) -> usize {
    let Some(first_end) = memchr::memchr(END, &bytes[at..]).map(|i| at + i) else {
        return bytes.len();
    };
    let run = bytes[first_end..].iter().take_while(|&&b| b == END).count();
    // `at` may have fallen in the owner bytes after an end: then that end
    // closed the entry before, and the next entry's end is the run found.
    (first_end + run + OWNER_BYTES).min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(arena: &NameArena, needle: &str) -> Vec<u32> {
        let matcher = NameMatcher::with_ranks(needle, arena.ranks());
        arena.matching_on(&matcher, None, false)
    }

    /// Both type bits.
    const ALL: u8 = 0b11;

    #[test]
    fn one_report_per_name_folded_and_without_dead_entries() {
        let mut arena = NameArena::default();
        arena.push("PyTorch-torch", 7, ALL);
        arena.push("tensorflow", 8, ALL);
        let dead = arena.push("torch", 9, ALL);
        arena.push("Ä-torch", 10, ALL);
        arena.push("to", 11, ALL);
        arena.push("rch", 12, ALL);
        arena.push("a\0torch\0", u32::MAX, ALL);
        arena.push("torch", 1 << 30, ALL);
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
        arena.push("x", g, ALL);
        arena.push("y", u32::from(b't') | (u32::from(b'o') << 7), ALL);
        assert!(matches(&arena, "t").is_empty());
        assert!(matches(&arena, "to").is_empty());
        assert_eq!(matches(&arena, "x"), vec![g]);
    }

    #[test]
    fn compaction_is_wanted_once_dead_bytes_dominate() {
        let mut arena = NameArena::default();
        let long = "n".repeat(5000);
        let entry = arena.push(&long, 0, ALL);
        arena.push("x", 1, ALL);
        assert!(!arena.wants_compaction());
        arena.kill(entry, long.len());
        assert!(arena.wants_compaction());
        arena.clear();
        assert!(matches(&arena, "n").is_empty());
    }

    #[test]
    fn type_bits_filter_without_changing_the_group() {
        let mut arena = NameArena::default();
        let build_in = type_bit(ImageType::BuildIn);
        let dedicated = type_bit(ImageType::Dedicated);
        arena.push("torch-a", u32::MAX, dedicated);
        let both = arena.push("torch-b", (1 << 28) - 1, build_in);
        arena.push("torch-c", 1 << 28, build_in);
        arena.set_types(both, "torch-b".len(), ALL);
        let matcher = NameMatcher::new("torch");
        let with = |arena: &NameArena, t| arena.matching_on(&matcher, t, false);
        assert_eq!(with(&arena, None), vec![u32::MAX, (1 << 28) - 1, 1 << 28]);
        let dedicated_only = vec![u32::MAX, (1 << 28) - 1];
        assert_eq!(with(&arena, Some(ImageType::Dedicated)), dedicated_only);
        let build_in_only = vec![(1 << 28) - 1, 1 << 28];
        assert_eq!(with(&arena, Some(ImageType::BuildIn)), build_in_only);
        arena.set_types(both, "torch-b".len(), 0);
        assert_eq!(with(&arena, Some(ImageType::BuildIn)), vec![1 << 28]);
        assert_eq!(with(&arena, None), vec![u32::MAX, (1 << 28) - 1, 1 << 28]);
    }

    use proptest::prelude::*;

    /// A name of pieces that the needles below match, miss, or match only
    /// across an entry's end, with upper case, NUL and non-ASCII bytes.
    fn name() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!["to", "rch", "T", "o", "Ä", "\0", "-", "x", "ä"]),
            0..6,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        /// Two threads, the buffer cut at an entry's start, find the same
        /// groups in the same order as one thread and as a name-by-name
        /// model, with dead entries (anywhere, the cut's too), type
        /// filters, and matches at either side of the cut.
        #[test]
        fn two_threads_find_what_one_thread_and_the_model_find(
            entries in prop::collection::vec((name(), 0u8..4, any::<bool>()), 0..60),
            needle in prop::sample::select(vec!["to", "torch", "o", "rch", "x-", "ox"]),
            image_type in prop::option::of(prop::sample::select(ImageType::ALL.to_vec())),
        ) {
            let mut arena = NameArena::default();
            let mut live = Vec::new();
            let mut starts = Vec::new();
            for (g, (name, types, dead)) in entries.iter().enumerate() {
                let entry = arena.push(name, g as u32 * 40_503, *types);
                starts.push(entry as usize);
                if *dead {
                    arena.kill(entry, name.len());
                } else {
                    live.push((g as u32 * 40_503, name.to_ascii_lowercase(), *types));
                }
            }
            let want: Vec<u32> = live
                .iter()
                .filter(|(_, name, types)| {
                    name.contains(needle)
                        && image_type.is_none_or(|t| types & type_bit(t) != 0)
                })
                .map(|&(g, _, _)| g)
                .collect();
            let matcher = NameMatcher::with_ranks(needle, arena.ranks());
            prop_assert_eq!(&arena.matching_on(&matcher, image_type, false), &want);
            prop_assert_eq!(&arena.matching_on(&matcher, image_type, true), &want);
            // Every cut is at an entry's start: the two halves together find
            // the same, wherever the middle falls.
            for at in 0..=arena.bytes.len() {
                let cut = entry_start_from(&arena.bytes, at);
                prop_assert!(cut >= at);
                prop_assert!(
                    cut == arena.bytes.len() || starts.contains(&cut),
                    "cut {} from {} is an entry's start", cut, at
                );
                let (first, second) = arena.bytes.split_at(cut);
                let mut found = Vec::new();
                collect_matches(first, &matcher, image_type.map(type_bit), &mut found);
                collect_matches(second, &matcher, image_type.map(type_bit), &mut found);
                prop_assert_eq!(&found, &want);
            }
        }
    }
}
