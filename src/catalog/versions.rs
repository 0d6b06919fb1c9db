//! The catalog's versions: compact records in a slab, found by `id`.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::cell::Member;
use crate::kinds::{ImageType, ServiceType};

/// One version as the catalog keeps it: what is its own (id, tag, type,
/// times), with its workspace, name and namespace replaced by the group it
/// belongs to, whose strings all its versions share.
#[derive(Clone, Debug)]
pub(super) struct Stored {
    /// The id, then the tag if there is one: one allocation, not two.
    text: Box<str>,
    /// The id's length in `text`.
    id_len: u32,
    has_tag: bool,
    /// The workspace's slot, or [`FREE`] for a free slab slot.
    pub(super) workspace: u32,
    /// The group's slot in its workspace.
    pub(super) group: u32,
    pub(super) image_type: ImageType,
    pub(super) service_type: ServiceType,
    pub(super) create_at: i64,
    pub(super) update_at: i64,
}

/// The `workspace` of a free slab slot.
const FREE: u32 = u32::MAX;

impl Stored {
    /// A version with `id` and `tag`, in group `group` of workspace
    /// `workspace`; the rest as given.
    ///
    /// # Panics
    ///
    /// If the id takes 4 GiB or more.
    pub(super) fn new(id: &str, tag: Option<&str>, workspace: u32, group: u32) -> Self {
        let id_len = u32::try_from(id.len()).expect("a version id takes less than 4 GiB");
        let text = match tag {
            None => Box::from(id),
            Some(tag) => [id, tag].concat().into_boxed_str(),
        };
        Stored {
            text,
            id_len,
            has_tag: tag.is_some(),
            workspace,
            group,
            image_type: ImageType::BuildIn,
            service_type: ServiceType::Unknown,
            create_at: 0,
            update_at: 0,
        }
    }

    /// Its id.
    pub(super) fn id(&self) -> &str {
        &self.text[..self.id_len as usize]
    }

    /// Its tag, if it has one.
    pub(super) fn tag(&self) -> Option<&str> {
        self.has_tag.then(|| &self.text[self.id_len as usize..])
    }

    /// What its group's aggregates need of it, stored in `slot`.
    pub(super) fn member(&self, slot: u32) -> Member {
        Member {
            slot,
            image_type: self.image_type,
            service_type: self.service_type,
            create_at: self.create_at,
            update_at: self.update_at,
        }
    }

    fn free() -> Self {
        Stored::new("", None, FREE, 0)
    }
}

/// Versions in a slab (freed slots are reused), with a hash table of slot
/// numbers keyed by the id stored in the slot itself, so the id is kept once.
#[derive(Clone, Debug, Default)]
pub(super) struct VersionStore {
    slots: Vec<Stored>,
    free: Vec<u32>,
    ids: HashTable<u32>,
    hasher: RandomState,
}

impl VersionStore {
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The hash of `id` in the index.
    fn hash_id(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The slot of the version with `id`.
    pub(super) fn find(&self, id: &str) -> Option<u32> {
        let hash = self.hash_id(id);
        self.ids
            .find(hash, |&s| self.slots[s as usize].id() == id)
            .copied()
    }

    pub(super) fn get(&self, slot: u32) -> &Stored {
        &self.slots[slot as usize]
    }

    /// `(create_at, update_at)` of the version in `slot`.
    pub(super) fn times(&self, slot: u32) -> (i64, i64) {
        let stored = &self.slots[slot as usize];
        (stored.create_at, stored.update_at)
    }

    /// Stores `version`, whose id must not be stored yet, and returns its slot.
    ///
    /// # Panics
    ///
    /// With more than `u32::MAX - 1` versions at once, as a `Vec` panics past
    /// its capacity: slots are 32-bit to keep the index small.
    pub(super) fn insert(&mut self, version: Stored) -> u32 {
        let hash = self.hash_id(version.id());
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = version;
                slot
            }
            None => self.push_unindexed(version),
        };
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.ids
            .insert_unique(hash, slot, |&s| hasher.hash_one(slots[s as usize].id()));
        slot
    }

    /// Bulk loading into an empty store, step 1 of 3: indexes the ids of
    /// `count` input records, `id_of(i)` being the id of the `i`-th, by input
    /// position, and returns which of them a later record with the same id
    /// replaces. This pass reads the ids in input order, and its loop is
    /// small, so the index's cache misses overlap.
    pub(super) fn index_input<'r>(
        &mut self,
        count: usize,
        id_of: impl Fn(usize) -> &'r str,
    ) -> Vec<bool> {
        debug_assert!(self.ids.is_empty() && self.slots.is_empty());
        assert!(
            count < FREE as usize,
            "a Catalog holds at most u32::MAX - 1 versions"
        );
        let mut replaced = vec![false; count];
        let hasher = &self.hasher;
        self.ids
            .reserve(count, |&i| hasher.hash_one(id_of(i as usize)));
        for i in 0..count {
            let id = id_of(i);
            let hash = hasher.hash_one(id);
            match self.ids.entry(
                hash,
                |&j| id_of(j as usize) == id,
                |&j| hasher.hash_one(id_of(j as usize)),
            ) {
                hashbrown::hash_table::Entry::Occupied(mut entry) => {
                    replaced[*entry.get() as usize] = true;
                    *entry.get_mut() = i as u32;
                }
                hashbrown::hash_table::Entry::Vacant(entry) => {
                    entry.insert(i as u32);
                }
            }
        }
        replaced
    }

    /// Makes room for `additional` more versions in the slab, exactly.
    pub(super) fn reserve(&mut self, additional: usize) {
        self.slots.reserve_exact(additional);
    }

    /// Appends `version` to the slab without indexing it, and returns its
    /// slot: bulk loading's step 2, and [`insert`](Self::insert)'s first step
    /// when no slot is free.
    pub(super) fn push_unindexed(&mut self, version: Stored) -> u32 {
        assert!(
            self.slots.len() < FREE as usize,
            "a Catalog holds at most u32::MAX - 1 versions"
        );
        self.slots.push(version);
        (self.slots.len() - 1) as u32
    }

    /// Bulk loading, step 3: turns the index's input positions into the
    /// slots the records were stored in.
    pub(super) fn finish_bulk(&mut self, slot_of_input: &[u32]) {
        for value in self.ids.iter_mut() {
            *value = slot_of_input[*value as usize];
        }
    }

    /// Takes the version with `id` out, freeing its slot; returns the slot
    /// it had and the version.
    pub(super) fn take(&mut self, id: &str) -> Option<(u32, Stored)> {
        let hash = self.hash_id(id);
        let slots = &self.slots;
        let entry = self
            .ids
            .find_entry(hash, |&s| slots[s as usize].id() == id)
            .ok()?;
        let (slot, _) = entry.remove();
        let stored = std::mem::replace(&mut self.slots[slot as usize], Stored::free());
        self.free.push(slot);
        Some((slot, stored))
    }

    /// The stored versions, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Stored> + '_ {
        self.slots.iter().filter(|stored| stored.workspace != FREE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_and_tag_share_one_string() {
        let tagged = Stored::new("id-1", Some("v2"), 0, 0);
        assert_eq!((tagged.id(), tagged.tag()), ("id-1", Some("v2")));
        let empty_tag = Stored::new("id-1", Some(""), 0, 0);
        assert_eq!((empty_tag.id(), empty_tag.tag()), ("id-1", Some("")));
        let untagged = Stored::new("id-1", None, 0, 0);
        assert_eq!((untagged.id(), untagged.tag()), ("id-1", None));
        // What a version costs besides its strings (the Catalog docs).
        assert_eq!(std::mem::size_of::<Stored>(), 48);
    }
}
