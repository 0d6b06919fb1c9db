//! What every grouping shares (crate docs, "Groups"): a group's aggregates,
//! [`GroupState`], and the hash of a group key. The scan's table, the
//! catalog and the partials all keep [`GroupState`]s, and merge them the
//! same way.

use std::hash::{BuildHasher, Hasher};

use crate::version::ImageVersion;

/// Running aggregates of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupState {
    /// Number of matching versions.
    pub(crate) version_count: u64,
    /// Smallest `create_at` (UTC milliseconds).
    pub(crate) create_at: i64,
    /// Largest `update_at` (UTC milliseconds).
    pub(crate) update_at: i64,
}

impl GroupState {
    /// The aggregates of no version: merging it changes nothing, so it
    /// starts a sum, and a count of 0 marks "no versions".
    pub(crate) const EMPTY: GroupState = GroupState {
        version_count: 0,
        create_at: i64::MAX,
        update_at: i64::MIN,
    };

    /// The state of a group of one version.
    #[inline]
    pub(crate) fn of(version: &ImageVersion) -> Self {
        GroupState {
            version_count: 1,
            create_at: version.create_at,
            update_at: version.update_at,
        }
    }

    /// Adds `other`'s versions: counts add, extremes combine.
    #[inline]
    pub(crate) fn merge(&mut self, other: &GroupState) {
        self.version_count += other.version_count;
        self.create_at = self.create_at.min(other.create_at);
        self.update_at = self.update_at.max(other.update_at);
    }
}

/// The hash of a group key given as its parts, in a fixed order, under
/// `state`: one `write` per part and no length prefixes, since foldhash's
/// `write` already folds each part's length in, so `("ab", "c")` and
/// `("a", "bc")` differ.
///
/// Every table of groups hashes with this, so two tables with one hasher
/// agree on every key.
#[inline]
pub(crate) fn key_hash<const N: usize>(state: &impl BuildHasher, parts: [&[u8]; N]) -> u64 {
    let mut hasher = state.build_hasher();
    for part in parts {
        hasher.write(part);
    }
    hasher.finish()
}
