//! The scan's software pipeline: the random accesses of counting one
//! version (its key's slot, then its group's record) are asked for well
//! before the version is counted, so that the processor waits for many cache
//! misses at once instead of one after another.

use super::table::GroupTable;
use crate::group_state::{GroupKey, GroupState};
use crate::version::ImageVersion;

/// A matching version and its key's hash, waiting to be counted into its group.
#[derive(Clone, Copy)]
pub(crate) struct PendingKey<'a> {
    pub(crate) hash: u64,
    pub(crate) version: &'a ImageVersion,
}

/// How many versions behind the newest one a version is counted.
const AHEAD: usize = 32;
/// The ring's size: a power of two above [`AHEAD`].
const RING: usize = 64;

/// The matching versions in a ring: the `n`th version's slot is prefetched
/// when it is pushed (stage one), its group's record when the
/// `n + AHEAD / 2`th is (stage two), and it is counted when the
/// `n + AHEAD`th is (stage three). The prefetches are spread out, one or two
/// per version.
pub(crate) struct Pipeline<'a> {
    ring: [PendingKey<'a>; RING],
    /// How many versions have been pushed.
    pushed: usize,
}

impl<'a> Pipeline<'a> {
    pub(crate) fn new() -> Self {
        /// What the ring's unused entries point at; never counted.
        static NONE: ImageVersion = ImageVersion {
            id: String::new(),
            name: String::new(),
            namespace: String::new(),
            tag: None,
            image_type: crate::ImageType::Dedicated,
            workspace_id: String::new(),
            service_type: crate::ServiceType::Unknown,
            swr_instance_id: None,
            create_at: 0,
            update_at: 0,
        };
        let none = PendingKey {
            hash: 0,
            version: &NONE,
        };
        Pipeline {
            ring: [none; RING],
            pushed: 0,
        }
    }

    /// Adds a matching version's key.
    #[inline]
    pub(crate) fn push(&mut self, table: &mut GroupTable, key: PendingKey<'a>) {
        table.prefetch_slot(key.hash);
        self.ring[self.pushed % RING] = key;
        self.pushed += 1;
        if self.pushed > AHEAD {
            let next = &self.ring[(self.pushed - 1 - AHEAD / 2) % RING];
            table.prefetch_record_of(next.hash);
            count(table, &self.ring[(self.pushed - 1 - AHEAD) % RING]);
        }
    }

    /// Counts every version still waiting.
    pub(crate) fn finish(self, table: &mut GroupTable) {
        for n in self.pushed.saturating_sub(AHEAD)..self.pushed {
            count(table, &self.ring[n % RING]);
        }
    }
}

/// Stage three: counts a version into its group.
#[inline]
fn count(table: &mut GroupTable, key: &PendingKey<'_>) {
    let v = key.version;
    table.count(key.hash, &GroupKey::of(v), GroupState::of(v));
}
