//! The scan's hash table of groups, keyed by [`GroupKey`] (crate docs,
//! "Groups").
//!
//! Following DataFusion's hash aggregation: each distinct key is interned to a
//! dense group index, so ordering and paging work on integers and owned
//! strings are made only for the groups on the returned page. A table can be
//! built from any subset of the records and merged with another built with
//! the same hasher, which is how the scan is split over threads and how
//! partial results merge.
//!
//! The layout is chosen for memory, which is where a scan's time goes: the
//! versions of one repository are scattered over the input, so counting a
//! version is a random access into the table. A group's key and aggregates
//! are one record ([`group_record`](super::group_record)) in an arena, so
//! counting reads one slot of a small index and one record; the scan's
//! [`Pipeline`](super::pipeline::Pipeline) asks for both well before it
//! counts. A table of many groups is tens of MiB of memory fresh to the
//! process on each query: its large blocks are advised into huge pages
//! ([`huge_pages`](crate::huge_pages)) before they are written.

use foldhash::fast::RandomState;

use super::arena::{LineArena, LINE};
use super::group_record;
use crate::bytes::bytes_eq;
use crate::group_state::{GroupKey, GroupState};
use crate::order::Groups;

/// How many groups ahead a merge prefetches slots.
const MERGE_AHEAD: usize = 16;

/// The most groups [`GroupTable::with_room_for`] reserves room for: 128 MiB
/// of records, so that a scan of very many records does not reserve more
/// address space than a small machine lets a process commit.
const MAX_ROOM: usize = 1 << 21;

/// The most tables kept for the next scans ([`GroupTable::leave`]): the
/// two threads' tables of a parallel scan on two cores.
const SPARE_TABLES: usize = 2;

/// The largest table kept for the next scans, in bytes of its allocations
/// ([`GroupTable::leave`]): so that at most `SPARE_TABLES` times this is
/// held between scans.
const SPARE_BYTES: usize = 16 << 20;

/// Tables that past scans left for the next ones to write into
/// ([`GroupTable::reused_or_new`]).
static SPARE: std::sync::Mutex<Vec<GroupTable>> = std::sync::Mutex::new(Vec::new());

/// How many groups ahead a growing index prefetches the new slots.
const GROW_AHEAD: usize = 16;

/// The index's first number of slots.
const MIN_SLOTS: usize = 64;

/// A used slot's low [`OFFSET_BITS`] hold a reference to a group's record:
/// where the record starts in the arena, in cache lines, plus one (a free
/// slot is 0). 2^50 lines are 64 PiB, more than any 64-bit processor can
/// address.
const OFFSET_BITS: u32 = 50;
const OFFSET_MASK: u64 = (1 << OFFSET_BITS) - 1;

/// Pushes `value` onto `list`; when that moved the list into a larger
/// block, advises huge pages for the block's part not yet written.
#[inline(always)]
fn push_advised(list: &mut Vec<u64>, value: u64) {
    let capacity = list.capacity();
    list.push(value);
    if list.capacity() != capacity {
        let spare = list.spare_capacity_mut();
        crate::huge_pages::advise(spare.as_ptr().cast(), size_of_val(spare));
    }
}

/// The groups of one query's matching versions, by [`GroupKey`].
///
/// Two arrays the scan touches: an index of 8-byte slots (open addressing,
/// linear probing, at most half full), and an arena of group records, each
/// holding a group's key and aggregates on whole cache lines. Beside them,
/// by dense group index, each group's record and key hash.
#[derive(Clone)]
pub(crate) struct GroupTable {
    /// Hashes keys; foldhash's `RandomState` is seeded per process (and per
    /// table), so crafted keys cannot flood the table. Tables that merge share it.
    hasher: RandomState,
    /// A key's first slot is its hash's top bits; a used slot holds a record
    /// reference (see [`OFFSET_BITS`]) and, above it, the hash's low bits, so
    /// that a probe reads a record only when those agree.
    slots: Vec<u64>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    /// The group records, back to back. Only whole `&str`s are copied in,
    /// so every group's name and namespace are valid UTF-8.
    arena: LineArena,
    /// A reference to each group's record (as a slot holds it), by dense
    /// group index (in order of creation, which is arena order).
    groups: Vec<u64>,
    /// The hash of each group's key, by dense group index: read only to
    /// grow the index and to merge tables, so kept out of the records.
    hashes: Vec<u64>,
}

impl GroupTable {
    pub(crate) fn new(hasher: RandomState) -> Self {
        Self::with_room_for(hasher, 0)
    }

    /// An empty table whose arena, once past a few MiB, makes
    /// room for `groups` one-line records (at most [`MAX_ROOM`]) at once
    /// ([`LineArena::with_room`]): the caller's bound on the groups, such as
    /// the number of records.
    ///
    /// The group lists grow by reallocation, which moves large blocks
    /// without copying them; the index is not sized ahead, since its slots
    /// are spread over all of it and every page of it would be written.
    pub(crate) fn with_room_for(hasher: RandomState, groups: usize) -> Self {
        GroupTable {
            hasher,
            slots: vec![0; MIN_SLOTS],
            shift: 64 - MIN_SLOTS.trailing_zeros(),
            arena: LineArena::with_room(groups.min(MAX_ROOM) * LINE),
            groups: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// An empty table as [`with_room_for`](Self::with_room_for), in the
    /// memory of one a past scan left ([`leave`](Self::leave)) if one is
    /// kept.
    ///
    /// Why: a table's memory, once freed, goes back to the allocator, which
    /// may hand it back to the operating system (a large block, or memory of
    /// another thread's arena, such as the parallel scan's second thread's
    /// table): then the next scan's table is fresh memory, and each of its
    /// pages is faulted in and zeroed again. Whether it is depends on what
    /// the process allocated before, so the same query took a few
    /// milliseconds more or less from one call to the next (BENCHMARKS.md,
    /// "the two-thread scan's spread"). A kept table's memory is already
    /// written: its index is cleared in place as it grows.
    pub(crate) fn reused_or_new(hasher: RandomState, groups: usize) -> Self {
        Self::reused_or_new_from(&SPARE, hasher, groups)
    }

    /// [`reused_or_new`](Self::reused_or_new) with the tables kept in `spare`.
    fn reused_or_new_from(
        spare: &std::sync::Mutex<Vec<GroupTable>>,
        hasher: RandomState,
        groups: usize,
    ) -> Self {
        let kept = spare
            .lock()
            .expect("nothing panics while holding the spare tables")
            .pop();
        match kept {
            Some(mut table) => {
                table.empty(hasher, groups);
                table
            }
            None => Self::with_room_for(hasher, groups),
        }
    }

    /// Empties the table, keeping its allocations, as
    /// [`with_room_for`](Self::with_room_for)`(hasher, groups)` would make
    /// it: no group, an index of [`MIN_SLOTS`] free slots.
    fn empty(&mut self, hasher: RandomState, groups: usize) {
        self.hasher = hasher;
        self.slots.clear();
        self.slots.resize(MIN_SLOTS, 0);
        self.shift = 64 - MIN_SLOTS.trailing_zeros();
        self.arena.clear(groups.min(MAX_ROOM) * LINE);
        self.groups.clear();
        self.hashes.clear();
    }

    /// Ends a scan's use of the table: keeps its memory for the next scan
    /// ([`reused_or_new`](Self::reused_or_new)) if it holds at most
    /// [`SPARE_BYTES`] and fewer than [`SPARE_TABLES`] are kept; frees it
    /// otherwise.
    pub(crate) fn leave(self) {
        self.leave_in(&SPARE);
    }

    /// [`leave`](Self::leave), keeping the table in `spare`.
    fn leave_in(self, spare: &std::sync::Mutex<Vec<GroupTable>>) {
        if self.allocated_bytes() > SPARE_BYTES {
            return;
        }
        let mut spare = spare
            .lock()
            .expect("nothing panics while holding the spare tables");
        if spare.len() < SPARE_TABLES {
            spare.push(self);
        }
    }

    /// The bytes of the table's allocations (capacities, not lengths).
    fn allocated_bytes(&self) -> usize {
        (self.slots.capacity() + self.groups.capacity() + self.hashes.capacity()) * 8
            + self.arena.capacity()
    }

    /// The hash of a key.
    #[inline]
    pub(crate) fn hash_key(&self, key: &GroupKey<'_>) -> u64 {
        key.hash(&self.hasher)
    }

    #[inline]
    fn first_slot(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    /// The bits of a slot that must match for the slot to hold `hash`'s key.
    #[inline]
    fn tag(hash: u64) -> u64 {
        hash << OFFSET_BITS
    }

    /// The reference a slot holds to the record at `record` (a multiple of
    /// [`LINE`]): its line number plus one.
    fn record_ref(record: usize) -> u64 {
        (record / LINE) as u64 + 1
    }

    /// The record offset a used slot (or a group's reference) points at.
    #[inline]
    fn record_of(slot: u64) -> usize {
        ((slot & OFFSET_MASK) - 1) as usize * LINE
    }

    /// If the record at `record` is the group of `key`, merges `state` into
    /// it and returns true.
    ///
    /// Each key part is compared, length and bytes, by [`bytes_eq`], not by
    /// `memcmp` calls, whose call and branches cost more than the comparison
    /// for keys this short.
    #[inline(always)]
    fn merge_if_key(&mut self, record: usize, key: &GroupKey<'_>, state: &GroupState) -> bool {
        let (header, rest) = group_record::read_mut(&mut self.arena, record);
        let (stored_name, stored_part) = group_record::key(header, rest);
        let found = bytes_eq(stored_name, key.name) && key.stored_eq(stored_part);
        if found {
            let mut merged = group_record::state(header);
            merged.merge(state);
            group_record::set_state(header, &merged);
        }
        found
    }

    /// Stage one of counting a key: start loading its first slot.
    #[inline]
    pub(crate) fn prefetch_slot(&self, hash: u64) {
        if let Some(slot) = self.slots.get(self.first_slot(hash)) {
            crate::prefetch::prefetch(slot);
        }
    }

    /// Stage two, half a pipeline after stage one: the key's first slot
    /// has arrived; start loading the record of the group it points at
    /// (its first two cache lines) if the hash bits agree.
    #[inline]
    pub(crate) fn prefetch_record_of(&self, hash: u64) {
        let mask = self.slots.len() - 1;
        let tag = Self::tag(hash);
        let mut i = self.first_slot(hash);
        // A key not at its first slot is a few slots on, in the same line.
        for _ in 0..4 {
            let slot = self.slots[i];
            if slot == 0 {
                return;
            }
            if slot & !OFFSET_MASK == tag {
                let (header, rest) = group_record::read(&self.arena, Self::record_of(slot));
                crate::prefetch::prefetch(header);
                // The second line too, even when the record is one line:
                // no slower, and it spares a flag in the slot.
                if let Some(second) = rest.get(LINE - group_record::HEADER) {
                    crate::prefetch::prefetch(second);
                }
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Counts `state` into the group of `key`, whose key hashes
    /// to `hash`, creating the group if it is new. Prefetches were hints
    /// only; this is the full look-up, right whatever happened in between.
    #[inline(always)]
    pub(crate) fn count(&mut self, hash: u64, key: &GroupKey<'_>, state: GroupState) {
        let mask = self.slots.len() - 1;
        let tag = Self::tag(hash);
        let mut i = self.first_slot(hash);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                self.insert(i, hash, key, state);
                return;
            }
            if slot & !OFFSET_MASK == tag && self.merge_if_key(Self::record_of(slot), key, &state) {
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Creates a group in the free slot `i`.
    #[inline(never)]
    fn insert(&mut self, i: usize, hash: u64, key: &GroupKey<'_>, state: GroupState) {
        let record = group_record::push(&mut self.arena, key, state);
        let record_ref = Self::record_ref(record);
        self.slots[i] = Self::tag(hash) | record_ref;
        push_advised(&mut self.groups, record_ref);
        push_advised(&mut self.hashes, hash);
        if self.groups.len() * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Doubles the index and re-inserts every group, in arena order, with
    /// its stored hash.
    #[cold]
    fn grow(&mut self) {
        let len = self.slots.len() * 2;
        // The slots are filled from the group lists, not the old index: its
        // memory is reused when it is large enough (a kept table's), cleared
        // in place.
        let mut slots = std::mem::take(&mut self.slots);
        if slots.capacity() >= len {
            slots.clear();
            slots.resize(len, 0);
        } else {
            drop(slots);
            slots = vec![0; len];
            // A large new index is usually fresh memory, not yet touched (the
            // allocator zeroes it lazily): huge pages before it is written.
            crate::huge_pages::advise(slots.as_ptr().cast(), len * size_of::<u64>());
        }
        self.shift -= 1;
        let mask = len - 1;
        for (g, (&record_ref, &hash)) in self.groups.iter().zip(&self.hashes).enumerate() {
            // The slots of later groups are random accesses into an index
            // that may be far bigger than the caches: ask for them ahead.
            if let Some(&ahead) = self.hashes.get(g + GROW_AHEAD) {
                crate::prefetch::prefetch(&slots[(ahead >> self.shift) as usize]);
            }
            let mut i = self.first_slot(hash);
            while slots[i] != 0 {
                i = (i + 1) & mask;
            }
            slots[i] = Self::tag(hash) | record_ref;
        }
        self.slots = slots;
    }

    /// Folds `other`, built with the same hasher, into this table: one
    /// look-up per group of `other`.
    ///
    /// `other`'s records are read in arena order; this table's slots and
    /// records are prefetched [`MERGE_AHEAD`] and half that many groups
    /// ahead, as the scan's pipeline does.
    ///
    /// A table built with another hasher (one deserialized from a partial
    /// result, say) is merged all the same, each of its keys hashed anew.
    pub(crate) fn merge(&mut self, other: &GroupTable) {
        let probe = GroupKey::from_stored(b"", b"");
        if self.hash_key(&probe) != other.hash_key(&probe) {
            for g in 0..other.len() {
                let key = other.key(g);
                self.count(self.hash_key(&key), &key, other.state(g));
            }
            return;
        }
        self.merge_where(other, |_| true);
    }

    /// As [`merge`](Self::merge), only the groups of `other` whose key hash
    /// `keep` takes; `other` must share this table's hasher.
    ///
    /// # Panics
    /// If `other` was built with another hasher: its hashes would say
    /// nothing about this table's.
    pub(crate) fn merge_where(&mut self, other: &GroupTable, keep: impl Fn(u64) -> bool) {
        let probe = GroupKey::from_stored(b"", b"");
        assert_eq!(
            self.hash_key(&probe),
            other.hash_key(&probe),
            "tables merged by hash share their hasher"
        );
        let hash_of = |g: usize| other.hashes[g];
        for g in 0..other.len() {
            if g + MERGE_AHEAD < other.len() {
                self.prefetch_slot(hash_of(g + MERGE_AHEAD));
            }
            if g + MERGE_AHEAD / 2 < other.len() {
                self.prefetch_record_of(hash_of(g + MERGE_AHEAD / 2));
            }
            if keep(hash_of(g)) {
                self.count(hash_of(g), &other.key(g), other.state(g));
            }
        }
    }

    /// About the heap bytes the table holds: the index, the arena's records
    /// and the two group lists (lengths, not capacities: room asked for but
    /// not written is not backed by memory). It never falls while groups
    /// are counted. For a memory guard; O(1).
    pub(crate) fn bytes_in_use(&self) -> usize {
        (self.slots.len() + self.groups.len() + self.hashes.len()) * 8 + self.arena.len()
    }

    /// The number of groups.
    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    /// The key of group `g`, as bytes (strings compare byte-wise).
    pub(crate) fn key(&self, g: usize) -> GroupKey<'_> {
        let (header, rest) = group_record::read(&self.arena, Self::record_of(self.groups[g]));
        let (name, part) = group_record::key(header, rest);
        GroupKey::from_stored(name, part)
    }

    /// The name of group `g`: as [`key`](Self::key)`(g).name`, without
    /// looking for where the second key part's namespace ends, which
    /// ordering by name over many groups would pay for each comparison.
    pub(crate) fn name(&self, g: usize) -> &[u8] {
        let (header, rest) = group_record::read(&self.arena, Self::record_of(self.groups[g]));
        group_record::key(header, rest).0
    }

    /// The aggregates of group `g`.
    pub(crate) fn state(&self, g: usize) -> GroupState {
        let (header, _) = group_record::read(&self.arena, Self::record_of(self.groups[g]));
        group_record::state(header)
    }
}

/// The ordering reads groups by dense index, as the table keeps them.
impl Groups for GroupTable {
    fn len(&self) -> usize {
        GroupTable::len(self)
    }
    fn name(&self, g: usize) -> &[u8] {
        GroupTable::name(self, g)
    }
    fn namespace(&self, g: usize) -> &[u8] {
        self.key(g).namespace
    }
    fn swr_instance_id(&self, g: usize) -> Option<&[u8]> {
        self.key(g).swr_instance_id
    }
    fn state(&self, g: usize) -> GroupState {
        GroupTable::state(self, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl GroupTable {
        /// The longest run of used slots a probe may walk.
        fn longest_probe(&self) -> usize {
            let occupied: Vec<bool> = self.slots.iter().map(|&s| s != 0).collect();
            let (mut longest, mut run) = (0, 0);
            for &o in occupied.iter().chain(&occupied) {
                run = if o { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            longest.min(self.slots.len())
        }
    }

    /// Keys crafted so that all share their first slot in an index of
    /// 4096 slots under foldhash's fixed seed: what an attacker would send
    /// to a table with a fixed hash. The per-process seed scatters them.
    #[test]
    fn keys_crafted_against_a_fixed_seed_do_not_cluster() {
        let fixed = foldhash::fast::FixedState::default();
        let namespace = b"ns".as_slice();
        let mut keys = Vec::new();
        let mut nonce = 0u64;
        while keys.len() < 1500 {
            let name = format!("img-{nonce}").into_bytes();
            nonce += 1;
            if crate::group_state::key_hash(&fixed, [&name, namespace]) >> 52 == 0 {
                keys.push(name);
            }
        }
        let mut table = GroupTable::new(RandomState::default());
        for name in &keys {
            let key = GroupKey {
                name,
                namespace,
                swr_instance_id: None,
            };
            table.count(table.hash_key(&key), &key, GroupState::EMPTY);
        }
        assert_eq!(table.len(), keys.len());
        // 1500 keys in an index of at least 4096 slots: random hashes give
        // runs of a few dozen at most; a fixed seed would give one of 1500.
        assert!(table.longest_probe() < 100, "{}", table.longest_probe());
    }

    use crate::version::ImageVersion;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn version(name: &str, namespace: &str, t: i64) -> ImageVersion {
        ImageVersion::new("", name, namespace, crate::ImageType::Dedicated, t, -t)
    }

    /// The naive model: a map from key to aggregates.
    /// A key as the model keeps it: name, namespace, SWR instance.
    type Key = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

    fn model<'a>(versions: impl IntoIterator<Item = &'a ImageVersion>) -> HashMap<Key, GroupState> {
        let mut model: HashMap<Key, GroupState> = HashMap::new();
        for v in versions {
            let key = (
                v.name.clone().into_bytes(),
                v.namespace.clone().into_bytes(),
                v.swr_instance_id.clone().map(String::into_bytes),
            );
            model
                .entry(key)
                .and_modify(|s| s.merge(&GroupState::of(v)))
                .or_insert(GroupState::of(v));
        }
        model
    }

    /// The table's groups, read back through its group-index accessors.
    fn contents(table: &GroupTable) -> HashMap<Key, GroupState> {
        let groups: HashMap<_, _> = (0..table.len())
            .map(|g| {
                let k = table.key(g);
                assert_eq!(table.name(g), k.name, "the name read alone is the key's");
                let key = (
                    k.name.to_vec(),
                    k.namespace.to_vec(),
                    k.swr_instance_id.map(<[u8]>::to_vec),
                );
                (key, table.state(g))
            })
            .collect();
        assert_eq!(groups.len(), table.len(), "a key has two groups");
        groups
    }

    /// Key parts of every length from 0 to 40 (so keys cross the end of a
    /// one-line record, 36 bytes, and the comparison's block sizes), over
    /// few letters so that keys repeat and differ in one byte.
    fn part() -> impl Strategy<Value = String> {
        (
            0usize..41,
            prop::collection::vec(prop::sample::select(vec!['a', 'b', 'é']), 0..41),
        )
            .prop_map(|(len, letters)| letters.into_iter().take(len).collect())
    }

    proptest! {
        /// Through the pipeline, the table holds what the model holds, and
        /// merging two tables gives the table of both inputs.
        #[test]
        fn table_and_merge_agree_with_a_map(
            versions in prop::collection::vec(
                (part(), part(), prop::option::of(prop::sample::select(vec!["i", "ii", "é"])), -50i64..50),
                0..300,
            ),
            split in 0usize..300,
        ) {
            // Instances beside the shared SWR: a key whose namespace is
            // another's namespace and instance joined must stay apart.
            let versions: Vec<ImageVersion> = versions
                .into_iter()
                .map(|(n, s, i, t)| {
                    let v = version(&n, &s, t);
                    match i {
                        Some(i) => v.with_swr_instance_id(i),
                        None => v,
                    }
                })
                .collect();
            let hasher = RandomState::default();
            let build = |part: &[ImageVersion]| {
                let mut table = GroupTable::new(hasher.clone());
                let mut pipeline: crate::scan::pipeline::Pipeline<crate::scan::pipeline::PendingKey<'_>> =
                    crate::scan::pipeline::Pipeline::new();
                for v in part {
                    let hash = table.hash_key(&GroupKey::of(v));
                    pipeline.push(&mut table, crate::scan::pipeline::PendingKey { hash, version: v });
                }
                pipeline.finish(&mut table);
                table
            };
            let want = model(&versions);
            prop_assert_eq!(contents(&build(&versions)), want.clone());

            let (left, right) = versions.split_at(split.min(versions.len()));
            let mut merged = build(left);
            merged.merge(&build(right));
            prop_assert_eq!(contents(&merged), want);
        }
    }

    /// A table with `hasher` and `versions` counted in, each under the hash
    /// `hash` gives.
    fn counted(
        hasher: &RandomState,
        versions: &[ImageVersion],
        hash: impl Fn(&GroupTable, &ImageVersion) -> u64,
    ) -> GroupTable {
        let mut table = GroupTable::new(hasher.clone());
        for v in versions {
            let h = hash(&table, v);
            table.count(h, &GroupKey::of(v), GroupState::of(v));
        }
        table
    }

    /// The table's own hash of a version's key.
    fn real_hash(table: &GroupTable, v: &ImageVersion) -> u64 {
        table.hash_key(&GroupKey::of(v))
    }

    proptest! {
        /// A table emptied for another scan (a kept table) counts the next
        /// versions as a new table does: none of the groups before is
        /// found, and its index, cleared as it grows again, points only at
        /// the new groups; fewer or more groups than before alike.
        #[test]
        fn an_emptied_table_counts_as_a_new_one(
            before in prop::collection::vec((0u8..40, 0u8..3, -50i64..50), 0..400),
            after in prop::collection::vec((0u8..40, 0u8..3, -50i64..50), 0..400),
        ) {
            let versions = |rs: &[(u8, u8, i64)]| -> Vec<ImageVersion> {
                rs.iter().map(|&(n, s, t)| version(&format!("n{n}"), &format!("s{s}"), t)).collect()
            };
            let (before, after) = (versions(&before), versions(&after));
            let mut table = counted(&RandomState::default(), &before, real_hash);
            table.empty(RandomState::default(), after.len());
            prop_assert!(table.len() == 0 && table.slots.iter().all(|&slot| slot == 0));
            for v in &after {
                let h = real_hash(&table, v);
                table.count(h, &GroupKey::of(v), GroupState::of(v));
            }
            prop_assert_eq!(contents(&table), model(&after));
            // Each group in one slot, and no slot of the groups before.
            let used = table.slots.iter().filter(|&&slot| slot != 0).count();
            prop_assert_eq!(used, table.len());
        }
    }

    /// Tables are kept up to [`SPARE_TABLES`] and [`SPARE_BYTES`] each,
    /// and handed out again (emptied) before new ones are made.
    #[test]
    fn spare_tables_are_kept_within_their_bounds_and_reused() {
        let spare = std::sync::Mutex::new(Vec::new());
        let hasher = RandomState::default();
        let versions: Vec<ImageVersion> = (0..1000)
            .map(|n| version(&format!("n{n}"), "s", n))
            .collect();
        for _ in 0..SPARE_TABLES + 1 {
            counted(&hasher, &versions, real_hash).leave_in(&spare);
        }
        assert_eq!(spare.lock().unwrap().len(), SPARE_TABLES);
        let kept = spare.lock().unwrap()[SPARE_TABLES - 1].allocated_bytes();
        let table = GroupTable::reused_or_new_from(&spare, hasher.clone(), 10);
        assert_eq!(spare.lock().unwrap().len(), SPARE_TABLES - 1);
        assert_eq!((table.len(), table.allocated_bytes()), (0, kept));
        // A table over the bound is freed, not kept.
        let mut big = GroupTable::new(hasher.clone());
        big.hashes.reserve_exact(SPARE_BYTES / 8 + 1);
        big.leave_in(&spare);
        assert_eq!(spare.lock().unwrap().len(), SPARE_TABLES - 1);
        while spare.lock().unwrap().pop().is_some() {}
        let fresh = GroupTable::reused_or_new_from(&spare, hasher, 10);
        assert!(fresh.allocated_bytes() < kept);
    }

    /// Two keys whose parts concatenate to the same bytes are two groups.
    #[test]
    fn the_boundary_between_name_and_namespace_is_part_of_the_key() {
        let versions = [
            version("ab", "c", 1),
            version("a", "bc", 2),
            version("abc", "", 3),
        ];
        let table = counted(&RandomState::default(), &versions, real_hash);
        assert_eq!(contents(&table), model(&versions));
        assert_eq!(table.len(), 3);
    }

    /// Keys that share a whole hash (forced here; the hasher makes it rare)
    /// are still told apart by their bytes, including keys that are
    /// prefixes of one another in either part.
    #[test]
    fn keys_with_the_same_hash_are_compared_whole() {
        let versions = [
            version("a", "b", 1),
            version("a", "bc", 2),
            version("ab", "", 3),
            version("", "ab", 4),
            version("a", "", 5),
            version("a", "b", 6),
            version("a", "bc", 7),
        ];
        let table = counted(&RandomState::default(), &versions, |_, _| 7);
        assert_eq!(contents(&table), model(&versions));
        assert_eq!(table.len(), 5);
    }

    /// Key parts around `u16::MAX` bytes, where a record stores its lengths
    /// as two `u64` instead of two `u16`, next to short keys and keys that
    /// just fill or just overflow a one-line record: counted under one
    /// forced hash (so every key is compared with every other) and under
    /// the real one, then merged, they give the model's groups.
    #[test]
    fn long_key_parts_keep_their_lengths() {
        let long = |n: usize| "x".repeat(n);
        let mut versions = Vec::new();
        for (t, (name, namespace)) in [
            (long(0xfffe), long(1)),
            (long(0xffff), long(1)),
            (long(0x10000), long(1)),
            (long(1), long(0xffff)),
            (long(0xffff), String::new()),
            (long(0xfffe), long(2)),
            (long(20), long(16)),
            (long(20), long(17)),
            (long(36), String::new()),
            (String::new(), long(37)),
        ]
        .into_iter()
        .enumerate()
        {
            for repeat in 0..3 {
                versions.push(version(&name, &namespace, (t * 3 + repeat) as i64));
            }
        }
        let forced = counted(&RandomState::default(), &versions, |_, _| 7);
        assert_eq!(contents(&forced), model(&versions));
        let (left, right) = versions.split_at(versions.len() / 2);
        let hasher = RandomState::default();
        let mut merged = counted(&hasher, left, real_hash);
        merged.merge(&counted(&hasher, right, real_hash));
        assert_eq!(contents(&merged), model(&versions));
        assert_eq!(merged.len(), 10);
    }
}
