//! The groups of one workspace and the indexes a query narrows them with.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::cell::{Cells, Member};
use super::group_names::{GroupNames, Span};
use super::name_order::{prefix, NameOrder};
use super::names::{self, NameArena, Owner};
use super::type_states::TypeStates;
use super::update_buckets::UpdateBuckets;
use crate::group_state::{GroupKey, GroupState};
use crate::version::ImageVersion;

/// One group (one SWR repository): its key, its aggregates, and its place
/// in the indexes.
#[derive(Clone, Debug)]
pub(super) struct Group {
    /// Its name, in [`Workspace::group_names`].
    pub(super) name: Span,
    /// Its namespace, by its key in [`Workspace::by_namespace`]: a
    /// namespace's bytes are kept once for all its groups.
    pub(super) namespace: u32,
    /// Its SWR enterprise instance, by its key in [`Workspace::by_instance`];
    /// [`SHARED_SWR`] for the shared SWR.
    pub(super) instance: u32,
    /// Per `(type, service_type)` it has versions of.
    /// (Most groups have one: it is kept inline.)
    pub(super) cells: Cells,
    /// Its position in its namespace's list.
    namespace_pos: u32,
    /// Its position in its SWR instance's list (0 for the shared SWR, which
    /// has none).
    instance_pos: u32,
    /// Its entry in the folded names (where it starts).
    name_entry: u32,
}

/// A group's [`Group::instance`] when it is in the shared SWR.
pub(super) const SHARED_SWR: u32 = u32::MAX;

impl Group {
    /// Whether the slot holds a group (a freed slot has no cells).
    pub(super) fn is_live(&self) -> bool {
        !self.cells.is_empty()
    }
}

/// The groups of one workspace, in a slab that a query walks in order, with
/// the indexes that narrow a query: by key (for updates), by name in order
/// (exact names and name-ordered pages), by namespace, by SWR instance, and
/// the folded names (fuzzy names).
#[derive(Clone, Debug, Default)]
pub(super) struct Workspace {
    pub(super) id: Box<str>,
    pub(super) groups: Vec<Group>,
    /// The groups' names.
    pub(super) group_names: GroupNames,
    /// Each group's aggregates over all its versions and over those of
    /// each image type, by group slot, apart from the groups: a query
    /// without a service-type filter reads 24 bytes a group, in order, and
    /// nothing else but the page's keys (and a group with both types'
    /// per-type aggregates, with a type filter). A free slot has a count of 0.
    pub(super) states: TypeStates,
    /// Free group slots.
    free: Vec<u32>,
    /// Group slots by `(namespace, name)`, hashed from the group's own strings.
    by_key: HashTable<u32>,
    /// Live group slots in the byte order of their names.
    pub(super) by_name: NameOrder,
    /// Group slots by namespace (foldhash's default state is seeded per
    /// instance, like every other index here).
    pub(super) by_namespace: GroupLists,
    /// Group slots by SWR instance, for the groups of an enterprise
    /// instance only: an instance filter without a name or namespace visits
    /// its instance's groups, not the workspace's.
    pub(super) by_instance: GroupLists,
    pub(super) names: NameArena,
    /// Each group's update bucket (the one its folded name's owner bytes
    /// hold), by group slot: a page ordered by `update_at` without a
    /// filter reads the aggregates of the groups that may be on it only.
    pub(super) update_buckets: UpdateBuckets,
}

/// Key strings (namespaces, SWR instances), each kept once under a small
/// number, with the list of the group slots that have it. Each group knows
/// its key's number and its position in the key's list, so that dropping a
/// group is a swap with the list's last; a key whose list empties is freed,
/// and its number reused.
#[derive(Clone, Debug, Default)]
pub(super) struct GroupLists {
    /// By key number; a free number has an empty key and list.
    keys: Vec<(Box<str>, Vec<u32>)>,
    free: Vec<u32>,
    /// Key numbers by key; foldhash's default state is seeded per
    /// instance, like every other index here.
    index: HashTable<u32>,
    hasher: RandomState,
}

impl GroupLists {
    /// The number of `key`, if any group has it.
    pub(super) fn find(&self, key: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let keys = &self.keys;
        self.index
            .find(hash, |&k| *keys[k as usize].0 == *key)
            .copied()
    }

    /// The groups listed under `key` (none if no group has it).
    pub(super) fn get(&self, key: &str) -> &[u32] {
        self.find(key).map_or(&[], |k| &self.keys[k as usize].1)
    }

    /// The key numbered `k`.
    pub(super) fn key(&self, k: u32) -> &str {
        &self.keys[k as usize].0
    }

    /// Appends group `g` to the list of `key`; returns the key's number and
    /// the group's position in its list.
    fn push(&mut self, key: &str, g: u32) -> (u32, u32) {
        let k = match self.find(key) {
            Some(k) => k,
            None => {
                let entry = (Box::from(key), Vec::new());
                let k = match self.free.pop() {
                    Some(k) => {
                        self.keys[k as usize] = entry;
                        k
                    }
                    None => {
                        self.keys.push(entry);
                        u32::try_from(self.keys.len() - 1)
                            .ok()
                            .filter(|&k| k != SHARED_SWR)
                            .expect("a Catalog workspace has fewer than u32::MAX namespaces or instances")
                    }
                };
                let (keys, hasher) = (&self.keys, &self.hasher);
                let hash = hasher.hash_one(key);
                self.index
                    .insert_unique(hash, k, |&k| hasher.hash_one(&*keys[k as usize].0));
                k
            }
        };
        let list = &mut self.keys[k as usize].1;
        list.push(g);
        (k, (list.len() - 1) as u32)
    }

    /// Takes the group at `pos` out of the list of key `k`, freeing a key
    /// left without groups; returns the group moved into `pos`, if any,
    /// whose position is now `pos`.
    fn remove(&mut self, k: u32, pos: u32) -> Option<u32> {
        let list = &mut self.keys[k as usize].1;
        list.swap_remove(pos as usize);
        let moved = list.get(pos as usize).copied();
        if list.is_empty() {
            let key = std::mem::take(&mut self.keys[k as usize].0);
            let hash = self.hasher.hash_one(&*key);
            self.index
                .find_entry(hash, |&other| other == k)
                .expect("a key with groups is indexed")
                .remove();
            self.keys[k as usize] = Default::default();
            self.free.push(k);
        }
        moved
    }

    fn shrink_to_fit(&mut self) {
        for (_, list) in &mut self.keys {
            list.shrink_to_fit();
        }
    }
}

impl Workspace {
    pub(super) fn new(id: &str) -> Self {
        Workspace {
            id: id.into(),
            ..Workspace::default()
        }
    }

    /// The number of groups: every slot but the free ones.
    pub(super) fn live(&self) -> usize {
        self.groups.len() - self.free.len()
    }

    /// The key of group `g`.
    pub(super) fn key(&self, g: u32) -> GroupKey<'_> {
        let group = &self.groups[g as usize];
        GroupKey {
            name: self.group_names.get(group.name),
            namespace: self.namespace(g).as_bytes(),
            swr_instance_id: self.instance(g).map(str::as_bytes),
        }
    }

    /// The name of group `g`, as bytes.
    pub(super) fn name(&self, g: u32) -> &[u8] {
        self.group_names.get(self.groups[g as usize].name)
    }

    /// The namespace of group `g`.
    pub(super) fn namespace(&self, g: u32) -> &str {
        self.by_namespace.key(self.groups[g as usize].namespace)
    }

    /// The SWR instance of group `g`; `None` for the shared SWR.
    pub(super) fn instance(&self, g: u32) -> Option<&str> {
        let k = self.groups[g as usize].instance;
        (k != SHARED_SWR).then(|| self.by_instance.key(k))
    }

    /// The slot of `version`'s group, made if there is none; `hash` is the
    /// group key's hash under `hasher`. A new group's
    /// name goes into the name index and the folded names only with
    /// `index_name`; a bulk load builds both at the end, from all the names
    /// at once ([`rebuild_names`](Self::rebuild_names) and
    /// [`build_name_index`](Self::build_name_index)).
    pub(super) fn group_for(
        &mut self,
        hasher: &RandomState,
        version: &ImageVersion,
        hash: u64,
        index_name: bool,
    ) -> u32 {
        let key = GroupKey::of(version);
        if let Some(&g) = self.by_key.find(hash, |&g| self.key(g) == key) {
            return g;
        }
        self.new_group(hasher, version, hash, index_name)
    }

    /// Makes a group for `version`, whose key no group of the workspace has
    /// (what [`group_for`](Self::group_for) does when it finds none; a bulk
    /// load, which meets the keys in the order of their hashes, knows it
    /// without looking), and returns its slot.
    pub(super) fn new_group(
        &mut self,
        hasher: &RandomState,
        version: &ImageVersion,
        hash: u64,
        index_name: bool,
    ) -> u32 {
        debug_assert_eq!(hash, GroupKey::of(version).hash(hasher), "the key's hash");
        let name = version.name.as_str();
        let group = Group {
            name: self.group_names.push(name),
            namespace: 0,
            instance: SHARED_SWR,
            cells: Cells::Empty,
            namespace_pos: 0,
            instance_pos: 0,
            name_entry: 0,
        };
        let g = match self.free.pop() {
            Some(g) => {
                self.groups[g as usize] = group;
                g
            }
            None => {
                assert!(
                    self.groups.len() < u32::MAX as usize,
                    "a Catalog workspace holds at most u32::MAX groups"
                );
                self.groups.push(group);
                self.states.push_empty();
                self.update_buckets.push_free();
                (self.groups.len() - 1) as u32
            }
        };
        // The group's own key parts, before the slot is indexed by key.
        let (namespace, pos) = self.by_namespace.push(&version.namespace, g);
        let group = &mut self.groups[g as usize];
        (group.namespace, group.namespace_pos) = (namespace, pos);
        if let Some(instance) = version.swr_instance_id.as_deref() {
            let (instance, pos) = self.by_instance.push(instance, g);
            let group = &mut self.groups[g as usize];
            (group.instance, group.instance_pos) = (instance, pos);
        }
        let Workspace {
            groups,
            group_names,
            by_namespace,
            by_instance,
            by_key,
            ..
        } = self;
        let key_of = |g: u32| {
            let group = &groups[g as usize];
            GroupKey {
                name: group_names.get(group.name),
                namespace: by_namespace.key(group.namespace).as_bytes(),
                swr_instance_id: (group.instance != SHARED_SWR)
                    .then(|| by_instance.key(group.instance).as_bytes()),
            }
        };
        by_key.insert_unique(hash, g, |&g| key_of(g).hash(hasher));
        if index_name {
            let (groups, names) = (&self.groups, &self.group_names);
            self.by_name
                .insert(g, |g| names.get(groups[g as usize].name));
            if !self.names.fits(g) {
                // Its number needs more owner bytes than the names have:
                // all are written again, sized for the slots there are now
                // (each time for some 128 times as many slots as the last).
                self.rebuild_names();
            }
            // No versions yet: its owner bytes are set as they are counted
            // in ([`sync_name_owner`](Self::sync_name_owner)).
            self.groups[g as usize].name_entry = self.names.push(name, g, Owner::default());
        }
        g
    }

    /// Makes room for `count` groups, exactly, in a workspace that has none
    /// yet: a bulk load knows how many it will add.
    pub(super) fn reserve_groups(&mut self, count: usize) {
        assert!(
            self.groups.is_empty(),
            "groups are reserved for in an empty workspace"
        );
        self.groups.reserve_exact(count);
        self.states.reserve_exact(count);
        self.update_buckets.reserve_exact(count);
        self.by_key = HashTable::with_capacity(count);
    }

    /// Writes group `g`'s type bits and update bucket into its folded
    /// name (writing the name again past the regions when a query of a
    /// type it now has would skip its region, and the names afresh when
    /// dead entries or the newest bucket ask for it), and the bucket into
    /// [`update_buckets`](Self::update_buckets),
    /// after versions were counted into it or taken out of it one at a time
    /// (a bulk load writes them with the names, in
    /// [`rebuild_names`](Self::rebuild_names)).
    pub(super) fn sync_name_owner(&mut self, g: u32) {
        let group = &self.groups[g as usize];
        let owner = self.name_owner(g);
        let (name, len) = (group.name, group.name.len());
        let mut entry = group.name_entry;
        if self.names.must_move(entry, owner.types) {
            // It now has versions of a type whose queries skip its
            // entry's region: written again past the regions.
            self.names.kill(entry, len);
            entry = self.names.push(self.group_names.get_str(name), g, owner);
            self.groups[g as usize].name_entry = entry;
        } else {
            self.names.set_owner(entry, len, owner);
        }
        self.update_buckets.set(g, self.names.bucket_at(entry, len));
        if self.names.wants_new_bounds(self.groups.len()) || self.names.wants_compaction() {
            self.rebuild_names();
        }
    }

    /// What group `g`'s folded name says of it.
    fn name_owner(&self, g: u32) -> Owner {
        Owner {
            types: self.states.type_bits(g),
            update_at: self.states.get(g, None).update_at,
        }
    }

    /// Writes the folded names of the live groups afresh, region by
    /// region ([`names::region`]), with update buckets cut at the quantiles
    /// of their `update_at` now, and each group's bucket in
    /// [`update_buckets`](Self::update_buckets); buffers that must grow
    /// grow to exactly their size.
    pub(super) fn rebuild_names(&mut self) {
        // Each slot's region ([`FREE_SLOT`] for a free one), and the live
        // groups' number and name bytes, in one pass over the groups; the
        // passes after it read these bytes, not the groups, to find the
        // live ones.
        let (mut count, mut bytes) = (0usize, 0usize);
        let regions: Vec<u8> = (self.groups.iter().enumerate())
            .map(|(g, group)| match group.is_live() {
                true => {
                    count += 1;
                    bytes += group.name.len();
                    names::region(self.states.type_bits(g as u32)) as u8
                }
                false => FREE_SLOT,
            })
            .collect();
        // Quantiles from every group up to this many, from an even sample
        // beyond: their bounds need not be exact, only fixed.
        let step = count.div_ceil(BOUNDS_SAMPLE).max(1);
        let sample = (0..self.groups.len() as u32)
            .filter(|&g| regions[g as usize] != FREE_SLOT)
            .step_by(step)
            .map(|g| self.states.get(g, None).update_at)
            .collect();
        self.names.set_bounds(sample);
        self.names.clear();
        self.names.set_groups(self.groups.len());
        self.names.reserve_exact(count, bytes);
        self.update_buckets.clear(self.groups.len());
        for r in 0..names::REGIONS {
            for g in 0..self.groups.len() as u32 {
                if usize::from(regions[g as usize]) != r {
                    continue;
                }
                let name = self.groups[g as usize].name;
                let owner = self.name_owner(g);
                let entry = self.names.push(self.group_names.get_str(name), g, owner);
                self.groups[g as usize].name_entry = entry;
                self.update_buckets
                    .set(g, self.names.bucket_at(entry, name.len()));
            }
            self.names.end_region(r);
        }
        self.names.count_from_now();
    }

    /// Builds the name index of an empty-indexed workspace from its live
    /// groups: the names are sorted once (most comparisons settled by their
    /// first 32 bytes, read once per group, rather than by reading two names
    /// far apart in memory), and the order is cut from the sorted slots
    /// without comparing them again. Inserting the names one by one would
    /// search the order for each, comparing whole names.
    pub(super) fn build_name_index(&mut self) {
        assert!(
            self.by_name.is_empty(),
            "the name index is built once, into an empty order"
        );
        let (groups, names) = (&self.groups, &self.group_names);
        let name = |g: u32| names.get(groups[g as usize].name);
        let mut order: Vec<([u128; 2], u32)> = (0..groups.len() as u32)
            .filter(|&g| groups[g as usize].is_live())
            .map(|g| (prefix_32(name(g)), g))
            .collect();
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| name(a.1).cmp(name(b.1))));
        let sorted: Vec<u32> = order.into_iter().map(|(_, g)| g).collect();
        self.by_name = NameOrder::from_sorted(&sorted, name);
    }

    /// Gives back the room that growing one element at a time left over:
    /// what a bulk load calls once it has added every version.
    pub(super) fn shrink_to_fit(&mut self) {
        self.groups.shrink_to_fit();
        self.group_names.shrink_to_fit();
        self.states.shrink_to_fit();
        self.update_buckets.shrink_to_fit();
        self.by_namespace.shrink_to_fit();
        self.by_instance.shrink_to_fit();
        self.by_name.shrink_to_fit();
    }

    /// Counts `version` into group `g`.
    pub(super) fn add_version(
        &mut self,
        g: u32,
        version: Member,
        times: impl Fn(u32) -> (i64, i64),
    ) {
        let one = GroupState {
            version_count: 1,
            create_at: version.create_at,
            update_at: version.update_at,
        };
        let total = self.states.get(g, None);
        self.states.add(g, version.image_type, &one);
        self.groups[g as usize].cells.add(&version, total, times);
    }

    /// Takes `version`, a member of group `g`, out of it, dropping the cell
    /// and the group it leaves empty.
    pub(super) fn remove_version(
        &mut self,
        hasher: &RandomState,
        g: u32,
        version: Member,
        times: impl Fn(u32) -> (i64, i64),
    ) {
        let total = self.states.get(g, None);
        let group = &mut self.groups[g as usize];
        let per_type = group.cells.remove(&version, total, times);
        let live = group.is_live();
        self.states.set(g, per_type);
        if live {
            self.sync_name_owner(g);
        } else {
            self.drop_group(hasher, g);
        }
    }

    /// Takes the empty group `g` out of every index and frees its slot.
    fn drop_group(&mut self, hasher: &RandomState, g: u32) {
        let hash = self.key(g).hash(hasher);
        let (groups, names) = (&self.groups, &self.group_names);
        self.by_name
            .remove(g, |g| names.get(groups[g as usize].name));
        let group = &mut self.groups[g as usize];
        let name = std::mem::take(&mut group.name);
        self.group_names.kill(name);
        let (namespace, instance) = (group.namespace, group.instance);
        let (namespace_pos, instance_pos) = (group.namespace_pos, group.instance_pos);
        let name_entry = group.name_entry;
        const INDEXED: &str = "a live group is in every index";
        self.by_key
            .find_entry(hash, |&other| other == g)
            .expect(INDEXED)
            .remove();
        if let Some(moved) = self.by_namespace.remove(namespace, namespace_pos) {
            self.groups[moved as usize].namespace_pos = namespace_pos;
        }
        if instance != SHARED_SWR {
            if let Some(moved) = self.by_instance.remove(instance, instance_pos) {
                self.groups[moved as usize].instance_pos = instance_pos;
            }
        }
        self.names.kill(name_entry, name.len());
        self.update_buckets.free(g);
        self.free.push(g);
        if self.names.wants_compaction() {
            self.rebuild_names();
        }
        if self.group_names.wants_compaction() {
            let live = self.groups.iter_mut().filter(|group| group.is_live());
            self.group_names.compact(live.map(|group| &mut group.name));
        }
    }
}

/// How many groups' `update_at` at most [`Workspace::rebuild_names`] sorts
/// for the update buckets' bounds.
const BOUNDS_SAMPLE: usize = 1 << 16;

/// A free slot's region in [`Workspace::rebuild_names`]: none of
/// [`names::REGIONS`].
const FREE_SLOT: u8 = u8::MAX;

/// The first 32 bytes of `bytes` as two [`prefix`]es: the bulk load's sort
/// key, which settles most names without reading them again.
fn prefix_32(bytes: &[u8]) -> [u128; 2] {
    [prefix(bytes), prefix(bytes.get(16..).unwrap_or_default())]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a group costs besides its name (the Catalog docs): a group of
    /// one cell keeps no aggregates of its own.
    #[test]
    fn a_group_takes_56_bytes() {
        assert_eq!(std::mem::size_of::<Group>(), 56);
    }
}
