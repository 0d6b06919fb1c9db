//! What every grouping shares (crate docs, "Groups"): a group's aggregates,
//! [`GroupState`], and its key, [`GroupKey`], with the key's hash. The scan's table, the
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

/// The byte that separates a namespace from an SWR instance id where a
/// table stores the two as one key part: `0xff` is never a byte of UTF-8, so
/// the split is unambiguous and no namespace can end where an instance
/// begins.
const INSTANCE_MARK: u8 = 0xff;

/// A group key: one SWR repository (crate docs, "Groups").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupKey<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) namespace: &'a [u8],
    /// `None` for the shared SWR.
    pub(crate) swr_instance_id: Option<&'a [u8]>,
}

impl<'a> GroupKey<'a> {
    /// The key of `version`'s group.
    #[inline(always)]
    pub(crate) fn of(version: &'a ImageVersion) -> Self {
        GroupKey {
            name: version.name.as_bytes(),
            namespace: version.namespace.as_bytes(),
            swr_instance_id: version.swr_instance_id.as_deref().map(str::as_bytes),
        }
    }

    /// The key's hash under `state`: every table of groups hashes with this,
    /// so two tables with one hasher agree on every key.
    #[inline(always)]
    pub(crate) fn hash(&self, state: &impl BuildHasher) -> u64 {
        match self.swr_instance_id {
            None => key_hash(state, [self.name, self.namespace]),
            Some(instance) => key_hash(state, [self.name, self.namespace, instance]),
        }
    }

    /// The length of the key's second part as [`stored`](Self::stored)
    /// writes it.
    #[inline(always)]
    pub(crate) fn stored_len(&self) -> usize {
        self.namespace.len() + self.swr_instance_id.map_or(0, |i| 1 + i.len())
    }

    /// The key's second part, as pieces to write one after another: the
    /// namespace, then, for an instance, the mark and the instance id.
    #[inline(always)]
    pub(crate) fn stored(&self) -> [&'a [u8]; 3] {
        match self.swr_instance_id {
            None => [self.namespace, &[], &[]],
            Some(instance) => [self.namespace, &[INSTANCE_MARK], instance],
        }
    }

    /// Whether `part`, a second part written from [`stored`](Self::stored),
    /// is this key's.
    #[inline(always)]
    pub(crate) fn stored_eq(&self, part: &[u8]) -> bool {
        match self.swr_instance_id {
            None => crate::bytes::bytes_eq(part, self.namespace),
            Some(instance) => {
                let n = self.namespace.len();
                part.len() == self.stored_len()
                    && part[..n] == *self.namespace
                    && part[n] == INSTANCE_MARK
                    && part[n + 1..] == *instance
            }
        }
    }

    /// The key whose parts are `name` and a second part written from
    /// [`stored`](Self::stored).
    #[inline]
    pub(crate) fn from_stored(name: &'a [u8], part: &'a [u8]) -> Self {
        match memchr::memchr(INSTANCE_MARK, part) {
            None => GroupKey {
                name,
                namespace: part,
                swr_instance_id: None,
            },
            Some(at) => GroupKey {
                name,
                namespace: &part[..at],
                swr_instance_id: Some(&part[at + 1..]),
            },
        }
    }
}
