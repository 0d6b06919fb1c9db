//! Grouping matching versions by `(name, namespace)` (SPEC 4).
//!
//! Group keys are interned to dense indices; the per-group state lives in
//! plain vectors indexed by them, so ordering and paging work on `usize`s and
//! owned strings are made only for the groups on the returned page.

use std::collections::HashMap;

use crate::record::ImageVersion;

/// The groups of one query's matching versions, keyed by `(name, namespace)`,
/// borrowing the key strings from the records.
#[derive(Default)]
pub(crate) struct GroupTable<'a> {
    /// Key to dense group index. std's `RandomState` is seeded per process,
    /// so crafted keys cannot flood it.
    index: HashMap<(&'a str, &'a str), usize>,
    /// `(name, namespace)` of each group.
    pub(crate) keys: Vec<(&'a str, &'a str)>,
    /// Number of matching versions of each group.
    pub(crate) version_count: Vec<u64>,
    /// Smallest `create_at` of each group.
    pub(crate) create_at: Vec<i64>,
    /// Largest `update_at` of each group.
    pub(crate) update_at: Vec<i64>,
}

impl<'a> GroupTable<'a> {
    /// Counts one matching version into its group, creating the group if it
    /// is the first.
    pub(crate) fn add(&mut self, version: &'a ImageVersion) {
        let key = (version.name.as_str(), version.namespace.as_str());
        let next = self.keys.len();
        let group = *self.index.entry(key).or_insert(next);
        if group == next {
            self.keys.push(key);
            self.version_count.push(1);
            self.create_at.push(version.create_at);
            self.update_at.push(version.update_at);
        } else {
            self.version_count[group] += 1;
            self.create_at[group] = self.create_at[group].min(version.create_at);
            self.update_at[group] = self.update_at[group].max(version.update_at);
        }
    }

    /// The number of groups.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}
