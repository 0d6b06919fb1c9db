//! The software pipeline of counting matching versions into a group table:
//! the random accesses of counting one version (its key's slot, then its
//! group's record) are asked for well before the version is counted, so
//! that the processor waits for many cache misses at once instead of one
//! after another. The scan and the streaming reader both count through it.

use super::table::GroupTable;
use crate::group_state::{GroupKey, GroupState};
use crate::version::ImageVersion;

/// A matching version waiting to be counted: its key, the key's hash under
/// the table's hasher, and its aggregates.
pub(crate) trait Pending {
    fn hash(&self) -> u64;
    fn key(&self) -> GroupKey<'_>;
    fn state(&self) -> GroupState;
}

/// A matching version of the scan and its key's hash.
#[derive(Clone, Copy)]
pub(crate) struct PendingKey<'a> {
    pub(crate) hash: u64,
    pub(crate) version: &'a ImageVersion,
}

impl Pending for PendingKey<'_> {
    #[inline(always)]
    fn hash(&self) -> u64 {
        self.hash
    }
    #[inline(always)]
    fn key(&self) -> GroupKey<'_> {
        GroupKey::of(self.version)
    }
    #[inline(always)]
    fn state(&self) -> GroupState {
        GroupState::of(self.version)
    }
}

/// The ring's size: a power of two above any pipeline distance.
const RING: usize = 64;

/// The matching versions in a ring: the `n`th version's slot is prefetched
/// when it is pushed (stage one), its group's record when the
/// `n + AHEAD / 2`th is (stage two), and it is counted when the
/// `n + AHEAD`th is (stage three). The prefetches are spread out, one or two
/// per version. `AHEAD` is the scan's 32 by default; a caller that does more
/// work between versions (parsing them) needs a shorter distance.
pub(crate) struct Pipeline<T, const AHEAD: usize = 32> {
    ring: [Option<T>; RING],
    /// How many versions have been pushed.
    pushed: usize,
}

impl<T: Pending, const AHEAD: usize> Pipeline<T, AHEAD> {
    pub(crate) fn new() -> Self {
        const { assert!(AHEAD < RING && AHEAD >= 2) };
        Pipeline {
            ring: std::array::from_fn(|_| None),
            pushed: 0,
        }
    }

    /// Adds a matching version.
    #[inline]
    pub(crate) fn push(&mut self, table: &mut GroupTable, pending: T) {
        table.prefetch_slot(pending.hash());
        self.ring[self.pushed % RING] = Some(pending);
        self.pushed += 1;
        if self.pushed > AHEAD {
            let next = self.at(self.pushed - 1 - AHEAD / 2);
            table.prefetch_record_of(next.hash());
            count(table, self.at(self.pushed - 1 - AHEAD));
        }
    }

    /// Counts every version still waiting.
    pub(crate) fn finish(&mut self, table: &mut GroupTable) {
        for n in self.pushed.saturating_sub(AHEAD)..self.pushed {
            count(table, self.at(n));
        }
        self.pushed = 0;
    }

    /// The `n`th version pushed, still in the ring.
    #[inline(always)]
    fn at(&self, n: usize) -> &T {
        self.ring[n % RING]
            .as_ref()
            .expect("the ring holds the last RING versions pushed")
    }
}

/// Stage three: counts a version into its group.
#[inline]
fn count(table: &mut GroupTable, pending: &impl Pending) {
    table.count(pending.hash(), &pending.key(), pending.state());
}
