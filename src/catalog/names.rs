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
/// The type bits in an entry's first owner byte.
///
/// After an entry's [`END`], its owner bytes: its group and what a query
/// needs to know of it, seven bits each, with the high bit set, so that no
/// query name (ASCII) can match in them and none is `END`. The first
/// [`NameArena::group_bytes`] hold the group number shifted left by two,
/// with the group's [`type_bit`]s (which image types it has versions of) in
/// the two low bits, low bytes first: as many bytes as the workspace's
/// group slots need, so that a small number costs few bytes. A fuzzy name
/// with a type filter drops groups without the type from bytes the search
/// has just read, instead of loading their aggregates. The last byte holds
/// the group's [`bucket`](NameArena::bucket) of `update_at`.
const TYPES: u8 = 0b11;
/// How many update buckets there are: seven bits' worth.
pub(super) const BUCKETS: usize = 128;

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
    /// The update buckets' lower bounds, ascending ([`BUCKETS`] - 1 of
    /// them, or none: then every group is in bucket 0).
    bounds: Vec<i64>,
    /// How many owner bytes hold the group number and type bits: enough
    /// for the group numbers below [`set_groups`](Self::set_groups)'s count
    /// (0 before it is first called: no group fits).
    group_bytes: usize,
    /// How many times an entry moved into the top bucket from another since
    /// the bounds were last cut: groups updated past the newest bound pile
    /// up there, where no match is settled by its bucket.
    into_top: usize,
    /// Where the entries of each [`region`] end, in that order; past the
    /// last, the entries pushed since (any types). All 0 until a rebuild
    /// writes the entries region by region.
    region_ends: [usize; REGIONS],
}

/// How many regions a rebuild writes the entries in: the groups of the
/// first image type only, then the others (of both types), then those of
/// the second type only, so that a type filter searches only the regions
/// its groups can be in (a query of one type skips the groups of the
/// other: about half the names where groups have versions of one type).
pub(super) const REGIONS: usize = 3;

/// The region a rebuild writes the entry of a group of type bits `types`
/// in.
pub(super) fn region(types: u8) -> usize {
    match types {
        t if t == type_bit(ImageType::ALL[0]) => 0,
        t if t == type_bit(ImageType::ALL[1]) => 2,
        _ => 1,
    }
}

/// What a group's owner bytes hold besides its number: its [`type_bit`]s and
/// its latest `update_at` (over all its versions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Owner {
    pub(super) types: u8,
    pub(super) update_at: i64,
}

impl NameArena {
    /// Adds `name` for `group` and returns its entry: where it starts.
    ///
    /// # Panics
    ///
    /// When the names of one workspace pass 4 GiB.
    pub(super) fn push(&mut self, name: &str, group: u32, owner: Owner) -> u32 {
        let entry = u32::try_from(self.bytes.len())
            .expect("a Catalog workspace's group names take at most 4 GiB");
        fold_into(name.as_bytes(), &mut self.bytes);
        if self.counts.is_empty() {
            self.counts = vec![0; 256];
        }
        let counts: &mut [u64; 256] = (&mut self.counts[..]).try_into().expect("256 counts");
        for b in &mut self.bytes[entry as usize..] {
            if *b == END {
                *b = NUL_IN_NAME;
            }
            counts[usize::from(*b)] += 1;
        }
        self.bytes.push(END);
        assert!(self.fits(group), "a group number fits the owner bytes");
        let packed = u64::from(group) << 2;
        self.bytes
            .extend((0..self.group_bytes).map(|i| 0x80 | ((packed >> (7 * i)) & 0x7f) as u8));
        self.bytes.push(0x80);
        let len = self.bytes.len() - entry as usize - 1 - self.owner_bytes();
        self.set_owner(entry, len, owner);
        entry
    }

    /// Whether `group`'s number fits the owner bytes: if not, the names are
    /// to be written again after [`set_groups`](Self::set_groups).
    pub(super) fn fits(&self, group: u32) -> bool {
        self.group_bytes > 0 && u64::from(group) << 2 >> (7 * self.group_bytes) == 0
    }

    /// Sizes the owner bytes for group numbers below `count`, in an arena
    /// without entries (new, or cleared for a rebuild).
    pub(super) fn set_groups(&mut self, count: usize) {
        assert!(
            self.bytes.is_empty(),
            "owner bytes are sized before any entry"
        );
        let bits = usize::BITS - count.saturating_sub(1).leading_zeros() + 2;
        self.group_bytes = (bits as usize).div_ceil(7);
    }

    /// How many owner bytes follow each entry's `END`.
    fn owner_bytes(&self) -> usize {
        self.group_bytes + 1
    }

    /// Sets what the owner bytes of `entry`, a name of `len` bytes, say of
    /// its group.
    pub(super) fn set_owner(&mut self, entry: u32, len: usize, owner: Owner) {
        assert!(owner.types <= TYPES, "type bits fit the owner byte");
        let bucket = self.bucket(owner.update_at);
        let top = self.bounds.len() as u8;
        let owner_bytes = self.owner_bytes();
        let bytes = &mut self.bytes[entry as usize + len + 1..][..owner_bytes];
        bytes[0] = (bytes[0] & !TYPES) | owner.types;
        let was = bytes[owner_bytes - 1] & 0x7f;
        bytes[owner_bytes - 1] = 0x80 | bucket;
        if bucket == top && was != top {
            self.into_top += 1;
        }
    }

    /// The update bucket that the owner bytes of `entry`, a name of `len`
    /// bytes, hold (what [`set_owner`](Self::set_owner) or
    /// [`push`](Self::push) wrote there).
    pub(super) fn bucket_at(&self, entry: u32, len: usize) -> u8 {
        self.bytes[entry as usize + len + self.owner_bytes()] & 0x7f
    }

    /// Starts counting the moves into the top bucket afresh: the entries
    /// are as the bounds were just cut (a rebuild has pushed them all).
    pub(super) fn count_from_now(&mut self) {
        self.into_top = 0;
    }

    /// Whether so many entries moved into the top bucket since the bounds
    /// were cut, more than `groups / 16` (and 4,096), that the bounds are
    /// worth cutting again: a catalog whose upserts keep bringing newer
    /// times would otherwise lose the buckets' use until its next rebuild.
    /// The threshold keeps a rebuild to one per that many upserts.
    pub(super) fn wants_new_bounds(&self, groups: usize) -> bool {
        self.into_top > (groups / 16).max(4096)
    }

    /// The update bucket of `update_at`: how many of the bounds are at or
    /// below it. A group in a lower bucket than another was updated
    /// earlier (not so for two groups of one bucket), so a page ordered by
    /// `update_at` is settled among groups of different buckets by their
    /// owner bytes alone.
    pub(super) fn bucket(&self, update_at: i64) -> u8 {
        self.bounds.partition_point(|&b| b <= update_at) as u8
    }

    /// Sets the update buckets' bounds to the quantiles of `times` (every
    /// live group's `update_at`, or a sample of them), before the entries
    /// are pushed again: each bucket then holds about as many groups.
    pub(super) fn set_bounds(&mut self, mut times: Vec<i64>) {
        self.bounds.clear();
        if times.is_empty() {
            return;
        }
        times.sort_unstable();
        self.bounds
            .extend((1..BUCKETS).map(|i| times[i * times.len() / BUCKETS]));
    }

    /// Drops `entry`, a name of `len` bytes: its bytes become NULs, which no
    /// query matches.
    pub(super) fn kill(&mut self, entry: u32, len: usize) {
        let name = &mut self.bytes[entry as usize..entry as usize + len];
        for b in name.iter() {
            self.counts[usize::from(*b)] -= 1;
        }
        name.fill(END);
        self.dead_bytes += len + 1 + self.owner_bytes();
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
        self.region_ends = [0; REGIONS];
    }

    /// Ends region `r` ([`region`]) after the entries pushed so far, in a
    /// rebuild that pushes the entries of each region in turn.
    pub(super) fn end_region(&mut self, r: usize) {
        assert!(
            self.region_ends[r..].iter().all(|&e| e == 0),
            "regions end in order, once per rebuild"
        );
        self.region_ends[r] = self.bytes.len();
    }

    /// Whether `entry`, given type bits `types`, is in a region that a
    /// query of a type it now has skips: then it must be written again
    /// (killed, and pushed past the regions).
    pub(super) fn must_move(&self, entry: u32, types: u8) -> bool {
        let entry = entry as usize;
        let [only_first, both, only_second] = self.region_ends;
        (entry < only_first && types & !type_bit(ImageType::ALL[0]) != 0)
            || ((both..only_second).contains(&entry) && types & !type_bit(ImageType::ALL[1]) != 0)
    }

    /// The parts of the buffer a query of `image_type` searches (whole
    /// entries; the second may be empty): every entry whose group may have
    /// versions of the type.
    fn parts(&self, image_type: Option<ImageType>) -> [&[u8]; 2] {
        let [only_first, both, only_second] = self.region_ends;
        let bytes = &self.bytes[..];
        match image_type {
            None => [bytes, &[]],
            Some(t) if t == ImageType::ALL[0] => [&bytes[..both], &bytes[only_second..]],
            Some(_) => [&bytes[only_first..], &[]],
        }
    }

    /// Makes room for names of `bytes` bytes in all, `count` of them, exactly.
    pub(super) fn reserve_exact(&mut self, count: usize, bytes: usize) {
        self.bytes
            .reserve_exact(bytes + count * (1 + self.owner_bytes()));
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
        let two_threads = self.two_threads(image_type);
        self.matching_on(matcher, image_type, two_threads)
    }

    /// Whether a search of the names of `image_type` is worth a second
    /// thread.
    fn two_threads(&self, image_type: Option<ImageType>) -> bool {
        let [a, b] = self.parts(image_type);
        a.len() + b.len() >= TWO_THREADS_MIN_BYTES && super::cores() >= 2
    }

    /// [`matching`](Self::matching), on two threads or on this one.
    fn matching_on(
        &self,
        matcher: &NameMatcher<'_>,
        image_type: Option<ImageType>,
        two_threads: bool,
    ) -> Vec<u32> {
        let wanted = image_type.map(type_bit);
        let w = self.owner_bytes();
        let mut found = Vec::new();
        let search = |parts: [&[u8]; 2], found: &mut Vec<u32>| {
            for bytes in parts {
                for_each_match(bytes, w, matcher, |owner| {
                    if wanted.is_none_or(|bit| owner[0] & bit != 0) {
                        found.push(group_of(owner))
                    }
                })
            }
        };
        let parts = self.parts(image_type);
        if !two_threads {
            search(parts, &mut found);
            return found;
        }
        let (first, second) = halves(parts, w);
        let (second_found, ()) = crate::threads::both(
            true,
            || {
                let mut found = Vec::new();
                search(second, &mut found);
                found
            },
            || search(first, &mut found),
        );
        found.extend(second_found);
        found
    }

    /// For a page ordered by `update_at` first (`descending` or not) that
    /// ends at `end` (at least 1): how many groups `matcher` and
    /// `image_type` match (as [`matching`](Self::matching)), and a list of
    /// them, in entry order, that holds the first `end` of them in the
    /// page's order (all of them when they are fewer).
    ///
    /// Why: a fuzzy name can match tens of thousands of groups, whose
    /// aggregates lie scattered in memory; the update buckets in their
    /// owner bytes, read with the names, drop every group whose bucket is
    /// below (after) that of the `end`-th so far, and only the few left are
    /// read. A group of both types under a type filter has its bucket over
    /// all its versions, an upper bound of its type's `update_at`: it is
    /// kept while that bound allows (always, in ascending order) and never
    /// counted towards the `end`.
    pub(super) fn top_matching(
        &self,
        matcher: &NameMatcher<'_>,
        image_type: Option<ImageType>,
        descending: bool,
        end: usize,
    ) -> (usize, Vec<u32>) {
        let two_threads = self.two_threads(image_type);
        self.top_matching_on(matcher, image_type, descending, end, two_threads)
    }

    /// [`top_matching`](Self::top_matching), on two threads or on this one.
    fn top_matching_on(
        &self,
        matcher: &NameMatcher<'_>,
        image_type: Option<ImageType>,
        descending: bool,
        end: usize,
        two_threads: bool,
    ) -> (usize, Vec<u32>) {
        assert!(end > 0, "a page that ends after its first group");
        let wanted = image_type.map(type_bit);
        let w = self.owner_bytes();
        let scan = |parts: [&[u8]; 2]| {
            let mut top = TopScan::new(end);
            for bytes in parts {
                for_each_match(bytes, w, matcher, |owner| {
                    // Computed without a branch on the type (which is as likely
                    // one way as the other): only a match that may be on the
                    // page (few) takes one.
                    let types = owner[0] & TYPES;
                    let has = wanted.is_none_or(|bit| types & bit != 0);
                    top.total += usize::from(has);
                    let bucket = usize::from(owner[w - 1] & 0x7f);
                    // Exact: the bucket is that of the type's own `update_at`.
                    let exact = wanted.is_none_or(|bit| types == bit);
                    let rank = match (descending, exact) {
                        (true, _) => bucket,
                        (false, true) => BUCKETS - 1 - bucket,
                        (false, false) => BUCKETS - 1,
                    };
                    if has & (rank >= top.floor) {
                        top.keep(group_of(owner), rank, exact);
                    }
                });
            }
            top
        };
        let parts = self.parts(image_type);
        let mut top = if two_threads {
            let (first, second) = halves(parts, w);
            let (second, mut first) = crate::threads::both(true, || scan(second), || scan(first));
            first.merge(second);
            first
        } else {
            scan(parts)
        };
        top.settle();
        let floor = top.floor as u8;
        let ids = top
            .kept
            .into_iter()
            .filter(|&(_, rank)| rank >= floor)
            .map(|(group, _)| group)
            .collect();
        (top.total, ids)
    }
}

/// The state of [`NameArena::top_matching`] over part of the names.
struct TopScan {
    /// The page's end.
    end: usize,
    /// Matches so far.
    total: usize,
    /// Exact matches by rank (a bucket, in the page's order: higher first),
    /// counted from `floor` on.
    by_rank: [u32; BUCKETS],
    /// No group of a rank below it can be on the page: at least `end`
    /// exact matches have a higher rank, or it is 0.
    floor: usize,
    /// The exact matches counted at `floor` and above.
    at_or_above: usize,
    /// The matches of a rank at or above the floor when they came, with
    /// their rank.
    kept: Vec<(u32, u8)>,
}

impl TopScan {
    fn new(end: usize) -> Self {
        TopScan {
            end,
            total: 0,
            by_rank: [0; BUCKETS],
            floor: 0,
            at_or_above: 0,
            kept: Vec::new(),
        }
    }

    /// Keeps `group`, a match of `rank` at or above the floor, exact or
    /// not, and counts it into the ranks if exact (the caller counts it
    /// into `total`, and leaves the matches below the floor).
    #[inline]
    fn keep(&mut self, group: u32, rank: usize, exact: bool) {
        debug_assert!(rank >= self.floor, "a match at or above the floor");
        self.kept.push((group, rank as u8));
        if exact {
            self.by_rank[rank] += 1;
            self.at_or_above += 1;
            self.settle();
        }
    }

    /// Raises the floor while the exact matches above it are `end` or more.
    fn settle(&mut self) {
        while self.floor + 1 < BUCKETS
            && self.at_or_above - self.by_rank[self.floor] as usize >= self.end
        {
            self.at_or_above -= self.by_rank[self.floor] as usize;
            self.floor += 1;
        }
    }

    /// Takes in the scan of the names after these. Below the higher of the
    /// two floors, neither scan counted every exact match, and neither needs
    /// to: the floor stays at or above it.
    fn merge(&mut self, other: TopScan) {
        self.total += other.total;
        self.kept.extend(other.kept);
        self.floor = self.floor.max(other.floor);
        for (mine, theirs) in self.by_rank.iter_mut().zip(other.by_rank) {
            *mine += theirs;
        }
        self.at_or_above = self.by_rank[self.floor..].iter().map(|&n| n as usize).sum();
    }
}

/// Calls `found` with the owner bytes (`w` of them) of each entry of
/// `bytes` (whole entries) whose name `matcher` matches, in entry order.
#[inline(always)]
fn for_each_match(bytes: &[u8], w: usize, matcher: &NameMatcher<'_>, mut found: impl FnMut(&[u8])) {
    let mut from = 0;
    // The match holds no `END`: its entry's end is past it.
    let skip = matcher.needle_len();
    while let Some(at) = matcher.find_in_folded(&bytes[from..]) {
        let at = from + at + skip;
        let end = at + end_of_name(&bytes[at..]);
        found(&bytes[end + 1..end + 1 + w]);
        // One report per name: go on from the next entry.
        from = end + 1 + w;
    }
}

/// Where the first `END` of `bytes` is: the end of the name a match lies
/// in, some bytes on.
///
/// Why not `memchr`: the end is near (a name's tail), and eight bytes at a
/// time in a word find it in a step or two without the call and set-up of
/// a vector search.
///
/// # Panics
///
/// When `bytes` holds no `END`: every entry ends with one.
#[inline(always)]
fn end_of_name(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        // The lowest byte that is 0 is the lowest with its high bit set here
        // (bytes above it may be marked wrongly, never bytes below).
        let zeros = word.wrapping_sub(ONES) & !word & HIGH;
        if zeros != 0 {
            return i + zeros.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    i + memchr::memchr(END, &bytes[i..]).expect("every entry ends")
}

/// The group number in `owner`, an entry's owner bytes (read only for the
/// groups a query keeps).
#[inline(always)]
fn group_of(owner: &[u8]) -> u32 {
    let packed = owner[..owner.len() - 1]
        .iter()
        .rev()
        .fold(0u64, |g, &b| (g << 7) | u64::from(b & 0x7f));
    (packed >> 2) as u32
}

/// `parts` (whole entries, each with `w` owner bytes) cut in two at the
/// entry start nearest the middle of their bytes, each half in order.
#[allow(clippy::type_complexity)]
fn halves(parts: [&[u8]; 2], w: usize) -> ([&[u8]; 2], [&[u8]; 2]) {
    let [a, b] = parts;
    let middle = (a.len() + b.len()) / 2;
    if middle < a.len() {
        let (first, second) = a.split_at(entry_start_from(a, w, middle));
        ([first, &[]], [second, b])
    } else {
        let (first, second) = b.split_at(entry_start_from(b, w, middle - a.len()));
        ([a, first], [second, &[]])
    }
}

/// The start of the first entry of `bytes` (whole entries, each with `w`
/// owner bytes) that starts at or after `at`, or the end of `bytes`.
///
/// The entry holding `at` ends at the last `END` of the first run of `END`s
/// from `at`: a live name holds no `END` and a dead one only `END`s, and
/// owner bytes are never `END`, so a run of them is one entry's end, with
/// the dead name before it if any.
fn entry_start_from(bytes: &[u8], w: usize, at: usize) -> usize {
    let Some(first_end) = memchr::memchr(END, &bytes[at..]).map(|i| at + i) else {
        return bytes.len();
    };
    let run = bytes[first_end..].iter().take_while(|&&b| b == END).count();
    // `at` may have fallen in the owner bytes after an end: then that end
    // closed the entry before, and the next entry's end is the run found.
    (first_end + run + w).min(bytes.len())
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

    /// An arena for any group number.
    fn arena() -> NameArena {
        let mut arena = NameArena::default();
        arena.set_groups(1 << 32);
        arena
    }

    /// Owner bytes of `types`, updated at 0.
    fn owner(types: u8) -> Owner {
        Owner {
            types,
            update_at: 0,
        }
    }

    #[test]
    fn one_report_per_name_folded_and_without_dead_entries() {
        let mut arena = arena();
        arena.push("PyTorch-torch", 7, owner(ALL));
        arena.push("tensorflow", 8, owner(ALL));
        let dead = arena.push("torch", 9, owner(ALL));
        arena.push("Ä-torch", 10, owner(ALL));
        arena.push("to", 11, owner(ALL));
        arena.push("rch", 12, owner(ALL));
        arena.push("a\0torch\0", u32::MAX, owner(ALL));
        arena.push("torch", 1 << 30, owner(ALL));
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
        let mut arena = arena();
        // Groups whose numbers' low seven-bit groups spell ASCII letters.
        let g = u32::from_le_bytes(*b"torc");
        arena.push("x", g, owner(ALL));
        arena.push("y", u32::from(b't') | (u32::from(b'o') << 7), owner(ALL));
        assert!(matches(&arena, "t").is_empty());
        assert!(matches(&arena, "to").is_empty());
        assert_eq!(matches(&arena, "x"), vec![g]);
    }

    #[test]
    fn compaction_is_wanted_once_dead_bytes_dominate() {
        let mut arena = arena();
        let long = "n".repeat(5000);
        let entry = arena.push(&long, 0, owner(ALL));
        arena.push("x", 1, owner(ALL));
        assert!(!arena.wants_compaction());
        arena.kill(entry, long.len());
        assert!(arena.wants_compaction());
        arena.clear();
        assert!(matches(&arena, "n").is_empty());
    }

    #[test]
    fn type_bits_filter_without_changing_the_group() {
        let mut arena = arena();
        let build_in = type_bit(ImageType::BuildIn);
        let dedicated = type_bit(ImageType::Dedicated);
        arena.push("torch-a", u32::MAX, owner(dedicated));
        let both = arena.push("torch-b", (1 << 28) - 1, owner(build_in));
        arena.push("torch-c", 1 << 28, owner(build_in));
        arena.set_owner(both, "torch-b".len(), owner(ALL));
        let matcher = NameMatcher::new("torch");
        let with = |arena: &NameArena, t| arena.matching_on(&matcher, t, false);
        assert_eq!(with(&arena, None), vec![u32::MAX, (1 << 28) - 1, 1 << 28]);
        let dedicated_only = vec![u32::MAX, (1 << 28) - 1];
        assert_eq!(with(&arena, Some(ImageType::Dedicated)), dedicated_only);
        let build_in_only = vec![(1 << 28) - 1, 1 << 28];
        assert_eq!(with(&arena, Some(ImageType::BuildIn)), build_in_only);
        arena.set_owner(both, "torch-b".len(), owner(0));
        assert_eq!(with(&arena, Some(ImageType::BuildIn)), vec![1 << 28]);
        assert_eq!(with(&arena, None), vec![u32::MAX, (1 << 28) - 1, 1 << 28]);
    }

    /// With a bucket per time, a page of the latest group keeps few of the
    /// matches (the point of the buckets), and none of those the type
    /// filter drops; with no bounds (a catalog built by upserts alone),
    /// every match is kept.
    #[test]
    fn buckets_drop_groups_that_cannot_be_on_the_page() {
        let times: Vec<i64> = (0..1280).collect();
        let mut arena = arena();
        arena.set_bounds(times.clone());
        for &t in &times {
            arena.push(
                &format!("torch-{t}"),
                t as u32,
                owner_at(type_bit(ImageType::Dedicated), t),
            );
        }
        let matcher = NameMatcher::new("torch");
        let (total, kept) = arena.top_matching_on(&matcher, None, true, 1, false);
        assert_eq!(total, 1280);
        assert!(kept.contains(&1279) && kept.len() <= 20, "{kept:?}");
        let (total, kept) = arena.top_matching_on(&matcher, None, false, 1, false);
        assert_eq!(total, 1280);
        assert!(kept.contains(&0) && kept.len() <= 20, "{kept:?}");
        let build_in = Some(ImageType::BuildIn);
        assert_eq!(
            arena.top_matching_on(&matcher, build_in, true, 1, false),
            (0, vec![])
        );
        let mut unbounded = super::tests::arena();
        for &t in &times {
            unbounded.push(&format!("torch-{t}"), t as u32, owner_at(ALL, t));
        }
        let (total, kept) = unbounded.top_matching_on(&matcher, None, true, 1, false);
        assert_eq!((total, kept.len()), (1280, 1280));
    }

    /// Group numbers take as many owner bytes as the count set needs, and
    /// read back whole at each width; a number past it does not fit.
    #[test]
    fn owner_bytes_fit_the_group_numbers() {
        for (count, bytes) in [(1, 1), (32, 1), (33, 2), (4096, 2), (4097, 3), (1 << 32, 5)] {
            let mut arena = NameArena::default();
            assert!(!arena.fits(0));
            arena.set_groups(count);
            assert_eq!(arena.group_bytes, bytes, "{count}");
            let last = (count - 1) as u32;
            assert!(arena.fits(last));
            // The first number past what the bytes hold, if a `u32`.
            let past = 1u64 << (7 * bytes - 2);
            assert!(past >= count as u64);
            if let Ok(past) = u32::try_from(past) {
                assert!(arena.fits(past - 1) && !arena.fits(past));
            }
            arena.push("torch", last, owner_at(ALL, 0));
            arena.push("torch", 0, owner_at(type_bit(ImageType::BuildIn), 0));
            assert_eq!(matches(&arena, "torch"), vec![last, 0]);
            let matcher = NameMatcher::new("torch");
            assert_eq!(
                arena.matching_on(&matcher, Some(ImageType::Dedicated), false),
                vec![last]
            );
        }
    }

    /// Owner bytes of `types`, updated at `update_at`.
    fn owner_at(types: u8, update_at: i64) -> Owner {
        Owner { types, update_at }
    }

    /// Entries moved into the top bucket from another ask for new bounds
    /// past `groups / 16` (at least 4,096) of them; an entry already there
    /// moving again counts nothing, and a rebuild counts from zero.
    #[test]
    fn moves_into_the_top_bucket_ask_for_new_bounds() {
        let groups = 10_000u32;
        let mut arena = NameArena::default();
        arena.set_groups(groups as usize);
        arena.set_bounds((0..i64::from(groups)).collect());
        let entries: Vec<u32> = (0..groups)
            .map(|g| arena.push("n", g, owner_at(1, i64::from(g))))
            .collect();
        arena.count_from_now();
        let newest = owner_at(1, 1 << 40);
        for &entry in &entries[..4096] {
            arena.set_owner(entry, 1, newest);
        }
        assert!(!arena.wants_new_bounds(groups as usize), "4,096 moves");
        for &entry in entries[..10].iter().chain(&entries[9990..]) {
            arena.set_owner(entry, 1, owner_at(1, 1 << 41));
        }
        assert!(
            !arena.wants_new_bounds(groups as usize),
            "moves within the top"
        );
        arena.set_owner(entries[5000], 1, newest);
        assert!(arena.wants_new_bounds(groups as usize), "4,097 moves");
        arena.count_from_now();
        assert!(!arena.wants_new_bounds(groups as usize));
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
            narrow in any::<bool>(),
        ) {
            // Owner bytes for any group, or just enough for these.
            let mut arena = arena();
            if narrow {
                arena = NameArena::default();
                arena.set_groups(entries.len() * 40_503);
            }
            let mut live = Vec::new();
            let mut starts = Vec::new();
            for (g, (name, types, dead)) in entries.iter().enumerate() {
                let entry = arena.push(name, g as u32 * 40_503, owner(*types));
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
                let cut = entry_start_from(&arena.bytes, arena.owner_bytes(), at);
                prop_assert!(cut >= at);
                prop_assert!(
                    cut == arena.bytes.len() || starts.contains(&cut),
                    "cut {} from {} is an entry's start", cut, at
                );
                let (first, second) = arena.bytes.split_at(cut);
                let mut found = Vec::new();
                for half in [first, second] {
                    let w = arena.owner_bytes();
                    for_each_match(half, w, &matcher, |owner| {
                        if image_type.is_none_or(|t| owner[0] & type_bit(t) != 0) {
                            found.push(group_of(owner));
                        }
                    });
                }
                prop_assert_eq!(&found, &want);
            }
        }
        /// The groups kept for a page ordered by `update_at` (either way)
        /// are, in entry order and each once, matches (as `matching` finds
        /// them) that include every match at or before the `end`-th in
        /// that order, on one thread and two; `total` counts every match.
        /// A group of both types has a type's `update_at` at or before its
        /// total one; the buckets' bounds come from some of the groups'
        /// times (a sample, or stale: from before their last update).
        #[test]
        fn kept_groups_hold_the_first_of_the_page_order(
            entries in prop::collection::vec(
                (name(), 0u8..4, -20i64..20, 0i64..10, any::<bool>()),
                0..80,
            ),
            bound_times in prop::collection::vec(-20i64..20, 0..300),
            needle in prop::sample::select(vec!["to", "torch", "o", "rch", "x-", "ox"]),
            image_type in prop::option::of(prop::sample::select(ImageType::ALL.to_vec())),
            descending in any::<bool>(),
            end in 1usize..12,
        ) {
            let mut arena = arena();
            arena.set_bounds(bound_times);
            // (group, the key a page ordered by `update_at` reads).
            let mut want = Vec::new();
            for (g, (name, types, update_at, earlier, dead)) in entries.iter().enumerate() {
                let g = g as u32 * 40_503;
                let entry = arena.push(name, g, Owner { types: *types, update_at: *update_at });
                if *dead {
                    arena.kill(entry, name.len());
                    continue;
                }
                let wanted = image_type.is_none_or(|t| types & type_bit(t) != 0);
                if name.to_ascii_lowercase().contains(needle) && wanted {
                    // A type's own time, where the group has the other too.
                    let mixed = image_type.is_some() && *types == ALL;
                    want.push((g, update_at - if mixed { *earlier } else { 0 }));
                }
            }
            let mut keys: Vec<i64> = want.iter().map(|&(_, k)| k).collect();
            keys.sort_unstable();
            if descending {
                keys.reverse();
            }
            let matcher = NameMatcher::with_ranks(needle, arena.ranks());
            for two_threads in [false, true] {
                let (total, kept) =
                    arena.top_matching_on(&matcher, image_type, descending, end, two_threads);
                prop_assert_eq!(total, want.len());
                let mut at = want.iter();
                for g in &kept {
                    prop_assert!(at.any(|(w, _)| w == g), "{} kept in entry order, once, a match", g);
                }
                if let Some(&nth) = keys.get(end - 1).or(keys.last()) {
                    for &(g, key) in &want {
                        let on_page = if descending { key >= nth } else { key <= nth };
                        prop_assert!(!on_page || kept.contains(&g), "{} may be on the page", g);
                    }
                }
            }
        }

        /// Entries written region by region (as a rebuild writes them),
        /// then given new type bits (moved past the regions when a query of
        /// a type they now have would skip their region, as a workspace
        /// does) or killed: each type's queries, and the untyped ones, find
        /// the model's groups, on one thread and two, and a page ordered by
        /// `update_at` counts them all.
        #[test]
        fn a_type_query_finds_every_group_of_its_type_across_the_regions(
            entries in prop::collection::vec((name(), 1u8..4, 1u8..4, any::<bool>()), 0..60),
            needle in prop::sample::select(vec!["to", "torch", "o", "rch", "x-", "ox"]),
            image_type in prop::option::of(prop::sample::select(ImageType::ALL.to_vec())),
        ) {
            let mut arena = arena();
            let mut starts = vec![0u32; entries.len()];
            for r in 0..REGIONS {
                for (g, (name, types, _, _)) in entries.iter().enumerate() {
                    if region(*types) == r {
                        starts[g] = arena.push(name, g as u32, owner(*types));
                    }
                }
                arena.end_region(r);
            }
            let mut want = Vec::new();
            for (g, (name, _, types, dead)) in entries.iter().enumerate() {
                let entry = starts[g];
                if *dead {
                    arena.kill(entry, name.len());
                    continue;
                }
                if arena.must_move(entry, *types) {
                    arena.kill(entry, name.len());
                    arena.push(name, g as u32, owner(*types));
                } else {
                    arena.set_owner(entry, name.len(), owner(*types));
                }
                let typed = image_type.is_none_or(|t| types & type_bit(t) != 0);
                if typed && name.to_ascii_lowercase().contains(needle) {
                    want.push(g as u32);
                }
            }
            let matcher = NameMatcher::with_ranks(needle, arena.ranks());
            for two_threads in [false, true] {
                let mut found = arena.matching_on(&matcher, image_type, two_threads);
                found.sort_unstable();
                prop_assert_eq!(&found, &want);
                let (total, _) = arena.top_matching_on(&matcher, image_type, true, 1, two_threads);
                prop_assert_eq!(total, want.len());
            }
        }
    }
}
