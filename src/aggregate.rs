//! Grouping matching versions by `(namespace, name)` (SPEC 4).
//!
//! Following DataFusion's hash aggregation: each distinct key is interned to a
//! dense group index, and per-group state lives in a plain vector indexed by
//! it, so ordering and paging work on integers and owned strings are made only
//! for the groups on the returned page. A table can be built from any subset
//! of the records and merged with another built with the same hasher, which
//! is how the scan is split over threads.
//!
//! The layout is chosen for memory, which is where a scan's time goes: the
//! versions of one repository are scattered over the input, so counting a
//! version is a random access into the table. Each group's key is copied once
//! into one arena (rather than borrowed from a record somewhere in the heap),
//! a group's key range and aggregates share one entry, and versions are
//! counted a batch at a time in passes whose loads are independent, so that
//! the processor waits for many of them at once instead of one after another.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;

use crate::record::ImageVersion;

/// Running aggregates of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupState {
    /// Number of matching versions.
    pub(crate) version_count: u64,
    /// Smallest `create_at`.
    pub(crate) create_at: i64,
    /// Largest `update_at`.
    pub(crate) update_at: i64,
}

impl GroupState {
    /// A placeholder state.
    pub(crate) const EMPTY: GroupState = GroupState {
        version_count: 0,
        create_at: i64::MAX,
        update_at: i64::MIN,
    };

    /// The state of a group of one version.
    pub(crate) fn of(version: &ImageVersion) -> Self {
        GroupState {
            version_count: 1,
            create_at: version.create_at,
            update_at: version.update_at,
        }
    }

    #[inline]
    pub(crate) fn merge(&mut self, other: &GroupState) {
        self.version_count += other.version_count;
        self.create_at = self.create_at.min(other.create_at);
        self.update_at = self.update_at.max(other.update_at);
    }
}

/// A matching version, read and hashed, waiting to be counted into its group.
#[derive(Clone, Copy)]
pub(crate) struct PendingKey<'a> {
    pub(crate) hash: u64,
    pub(crate) name: &'a [u8],
    pub(crate) namespace: &'a [u8],
    pub(crate) state: GroupState,
}

impl PendingKey<'_> {
    /// A placeholder for batch arrays.
    pub(crate) const NONE: PendingKey<'static> = PendingKey {
        hash: 0,
        name: &[],
        namespace: &[],
        state: GroupState::EMPTY,
    };
}

/// One group: where its key lies in the arena, and its aggregates.
#[derive(Clone, Copy)]
struct GroupEntry {
    /// `name` is `arena[start..name_end]`, `namespace` is `arena[name_end..end]`.
    start: usize,
    name_end: usize,
    end: usize,
    state: GroupState,
}

/// One place of the probe table: a group and its key's full hash, so that a
/// probe compares keys only when the hashes agree.
#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    /// The group, or [`Slot::EMPTY`].
    group: usize,
}

impl Slot {
    const EMPTY: usize = usize::MAX;
    const VACANT: Slot = Slot {
        hash: 0,
        group: Slot::EMPTY,
    };
}

/// The probe table's first size.
const MIN_SLOTS: usize = 64;
/// The most versions counted per batch: enough loads to overlap, few enough
/// that the batch's keys are still in the first-level cache.
pub(crate) const BATCH: usize = 32;

/// The groups of one query's matching versions, keyed by `(name, namespace)`.
pub(crate) struct GroupTable {
    /// Hashes keys; foldhash's `RandomState` is seeded per process (and per
    /// table), so crafted keys cannot flood the table. Tables that merge share it.
    hasher: RandomState,
    /// Open addressing with linear probing, at most half full; a key's first
    /// place is its hash's top bits.
    slots: Vec<Slot>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    /// Every group's name and namespace bytes, back to back. Only whole
    /// `&str`s are appended, so every group's part is valid UTF-8.
    arena: Vec<u8>,
    /// The groups, by index.
    entries: Vec<GroupEntry>,
}

impl GroupTable {
    pub(crate) fn new(hasher: RandomState) -> Self {
        GroupTable {
            hasher,
            slots: vec![Slot::VACANT; MIN_SLOTS],
            shift: 64 - MIN_SLOTS.trailing_zeros(),
            arena: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The hash of a key.
    #[inline]
    pub(crate) fn hash_key(&self, name: &[u8], namespace: &[u8]) -> u64 {
        self.hasher.hash_one((name, namespace))
    }

    #[inline]
    fn first_place(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    #[inline]
    fn key_eq(&self, entry: &GroupEntry, name: &[u8], namespace: &[u8]) -> bool {
        bytes_eq(&self.arena[entry.start..entry.name_end], name)
            && bytes_eq(&self.arena[entry.name_end..entry.end], namespace)
    }

    /// Counts a batch of versions (at most [`BATCH`]) into their groups.
    ///
    /// Four passes over the batch: read each key's first probe place, read
    /// the group entry it names, touch its key in the arena, then compare keys
    /// and count. Each pass's loads are independent of each other, so their
    /// cache misses overlap.
    /// A key whose first place holds another key, or none, takes the full
    /// probe; a place read before an insert in this batch can only be stale
    /// in that way, since groups never move.
    pub(crate) fn add_batch(&mut self, batch: &[PendingKey<'_>]) {
        let batch = &batch[..batch.len().min(BATCH)];
        let mut candidate = [Slot::EMPTY; BATCH];
        for (key, c) in batch.iter().zip(&mut candidate) {
            let slot = self.slots[self.first_place(key.hash)];
            if slot.hash == key.hash {
                *c = slot.group;
            }
        }
        let mut entry = [None; BATCH];
        for (c, e) in candidate.iter().zip(&mut entry) {
            *e = self.entries.get(*c).copied();
        }
        // Touch each candidate's key in the arena, so that the comparisons
        // below find it in cache; a plain load stands in for a prefetch.
        let mut touched = 0u8;
        for e in entry.iter().flatten() {
            touched ^= self.arena.get(e.start).copied().unwrap_or(0);
        }
        std::hint::black_box(touched);
        for ((key, &c), e) in batch.iter().zip(&candidate).zip(&entry) {
            match e {
                Some(e) if self.key_eq(e, key.name, key.namespace) => {
                    self.entries[c].state.merge(&key.state)
                }
                _ => self.count(key.hash, key.name, key.namespace, key.state),
            }
        }
    }

    /// Counts `state` into the group of `(name, namespace)`, whose key hashes
    /// to `hash`, creating the group if it is new.
    fn count(&mut self, hash: u64, name: &[u8], namespace: &[u8], state: GroupState) {
        let (group, existed) = self.find_or_insert(hash, name, namespace, state);
        if existed {
            self.entries[group].state.merge(&state);
        }
    }

    /// The group of `(name, namespace)`, created with `state` if new; returns
    /// its index and whether it already existed.
    fn find_or_insert(
        &mut self,
        hash: u64,
        name: &[u8],
        namespace: &[u8],
        state: GroupState,
    ) -> (usize, bool) {
        let mask = self.slots.len() - 1;
        let mut i = self.first_place(hash);
        loop {
            let slot = self.slots[i];
            if slot.group == Slot::EMPTY {
                break;
            }
            if slot.hash == hash && self.key_eq(&self.entries[slot.group], name, namespace) {
                return (slot.group, true);
            }
            i = (i + 1) & mask;
        }
        let group = self.entries.len();
        self.slots[i] = Slot { hash, group };
        let start = self.arena.len();
        self.arena.extend_from_slice(name);
        let name_end = self.arena.len();
        self.arena.extend_from_slice(namespace);
        self.entries.push(GroupEntry {
            start,
            name_end,
            end: self.arena.len(),
            state,
        });
        if self.entries.len() * 2 > self.slots.len() {
            self.grow();
        }
        (group, false)
    }

    /// Doubles the probe table and re-inserts every group.
    #[cold]
    fn grow(&mut self) {
        let len = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::VACANT; len]);
        self.shift -= 1;
        let mask = len - 1;
        for slot in old.into_iter().filter(|s| s.group != Slot::EMPTY) {
            let mut i = self.first_place(slot.hash);
            while self.slots[i].group != Slot::EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }

    /// Counts already-aggregated groups into this table (partial results).
    pub(crate) fn add_states<'k>(
        &mut self,
        groups: impl IntoIterator<Item = (&'k [u8], &'k [u8], GroupState)>,
    ) {
        for (name, namespace, state) in groups {
            self.count(self.hash_key(name, namespace), name, namespace, state);
        }
    }

    /// Folds `other`, built with the same hasher, into this table.
    pub(crate) fn merge(&mut self, other: &GroupTable) {
        for slot in other.slots.iter().filter(|s| s.group != Slot::EMPTY) {
            let entry = &other.entries[slot.group];
            let name = &other.arena[entry.start..entry.name_end];
            let namespace = &other.arena[entry.name_end..entry.end];
            self.count(slot.hash, name, namespace, entry.state);
        }
    }

    /// The number of groups.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The name of group `g`, as bytes (strings compare byte-wise).
    pub(crate) fn name(&self, g: usize) -> &[u8] {
        let e = &self.entries[g];
        &self.arena[e.start..e.name_end]
    }

    /// The namespace of group `g`, as bytes.
    pub(crate) fn namespace(&self, g: usize) -> &[u8] {
        let e = &self.entries[g];
        &self.arena[e.name_end..e.end]
    }

    /// The aggregates of group `g`.
    pub(crate) fn state(&self, g: usize) -> &GroupState {
        &self.entries[g].state
    }
}

/// Byte equality with few, predictable branches.
///
/// Why not `==` (a `memcmp` call): its branches depend on the length and the
/// bytes, and each misprediction throws away the loads the processor had
/// already started for the next records, which is where a scan's time goes.
/// Here a string of up to 32 bytes is compared as two overlapping fixed-size
/// blocks, its first and its last `N` bytes.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => (a[0] == b[0]) & (a[n / 2] == b[n / 2]) & (a[n - 1] == b[n - 1]),
        4..=7 => ends_eq::<4>(a, b),
        8..=15 => ends_eq::<8>(a, b),
        16..=32 => ends_eq::<16>(a, b),
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

#[cfg(test)]
mod tests {
    use super::*;

    impl GroupTable {
        /// The longest run of occupied places a probe may walk.
        fn longest_probe(&self) -> usize {
            let occupied: Vec<bool> = self.slots.iter().map(|s| s.group != Slot::EMPTY).collect();
            let (mut longest, mut run) = (0, 0);
            for &o in occupied.iter().chain(&occupied) {
                run = if o { run + 1 } else { 0 };
                longest = longest.max(run);
            }
            longest.min(self.slots.len())
        }
    }

    /// Keys crafted so that all share their first probe place in a table of
    /// 4096 places under foldhash's fixed seed: what an attacker would send
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
            if fixed.hash_one((name.as_slice(), namespace)) >> 52 == 0 {
                keys.push(name);
            }
        }
        let mut table = GroupTable::new(RandomState::default());
        for name in &keys {
            let hash = table.hash_key(name, namespace);
            let state = GroupState::EMPTY;
            table.find_or_insert(hash, name, namespace, state);
        }
        assert_eq!(table.len(), keys.len());
        // 1500 keys in a table of at least 4096 places: random hashes give
        // runs of a few dozen at most; a fixed seed would give one of 1500.
        assert!(table.longest_probe() < 100, "{}", table.longest_probe());
    }

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
}
