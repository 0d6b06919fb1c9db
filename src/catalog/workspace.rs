//! The groups of one workspace and the indexes a query narrows them with.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use super::cell::Cell;
use super::names::NameArena;
use crate::group_state::{GroupKey, GroupState};
use crate::kinds::{ImageType, ServiceType};
use crate::version::ImageVersion;

/// One group (one SWR repository): its key, its aggregates, and its place
/// in the indexes.
#[derive(Clone, Debug)]
pub(super) struct Group {
    /// Shared with its entry in the name index, which would otherwise
    /// keep a second copy of every name.
    pub(super) name: Arc<str>,
    pub(super) namespace: Box<str>,
    /// The SWR enterprise instance; `None` for the shared SWR.
    pub(super) swr_instance_id: Option<Box<str>>,
    /// Per `(type, service_type)` it has versions of.
    pub(super) cells: Vec<(ImageType, ServiceType, Cell)>,
    /// Its position in its namespace's list.
    namespace_pos: u32,
    /// Its position in its SWR instance's list (0 for the shared SWR, which
    /// has none).
    instance_pos: u32,
    /// Its entry in the folded names (where it starts).
    name_entry: u32,
}

impl Group {
    /// Its key.
    pub(super) fn key(&self) -> GroupKey<'_> {
        GroupKey {
            name: self.name.as_bytes(),
            namespace: self.namespace.as_bytes(),
            swr_instance_id: self.swr_instance_id.as_deref().map(str::as_bytes),
        }
    }

    /// Whether the slot holds a group (a freed slot has no cells).
    pub(super) fn is_live(&self) -> bool {
        !self.cells.is_empty()
    }

    /// The position of `version`'s cell, if the group has one.
    fn cell_of(&self, version: &Member) -> Option<usize> {
        self.cells
            .iter()
            .position(|(t, s, _)| *t == version.image_type && *s == version.service_type)
    }

    /// Its aggregates over all its versions and per image type, from the
    /// cells (see [`Workspace::states`]).
    fn totals(&self) -> [GroupState; 3] {
        let mut states = [GroupState::EMPTY; 3];
        for (image_type, _, cell) in &self.cells {
            states[ALL_TYPES].merge(&cell.state);
            states[of_type(*image_type)].merge(&cell.state);
        }
        states
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
    /// Each group's aggregates over all its versions ([`ALL_TYPES`]) and
    /// over those of each image type ([`of_type`]), by group slot, in plain
    /// vectors apart from the groups: a query without a service-type filter
    /// reads 24 bytes a group, in order, and nothing else but the page's
    /// keys. A free slot has a count of 0.
    pub(super) states: [Vec<GroupState>; 3],
    /// Free group slots.
    free: Vec<u32>,
    /// Group slots by `(namespace, name)`, hashed from the group's own strings.
    by_key: HashTable<u32>,
    /// Group slots by name, names in byte order: one entry per run of groups
    /// that share a name.
    pub(super) by_name: BTreeMap<Arc<str>, Vec<u32>>,
    /// Group slots by namespace (foldhash's default state is seeded per
    /// instance, like every other index here).
    pub(super) by_namespace: GroupLists,
    /// Group slots by SWR instance, for the groups of an enterprise
    /// instance only: an instance filter without a name or namespace visits
    /// its instance's groups, not the workspace's.
    pub(super) by_instance: GroupLists,
    pub(super) names: NameArena,
}

/// Lists of group slots by a key string (a namespace, an SWR instance), each
/// group knowing its position in its list, so that dropping a group is a
/// swap with its list's last.
#[derive(Clone, Debug, Default)]
pub(super) struct GroupLists {
    /// foldhash's default state is seeded per instance, like every other
    /// index here.
    lists: HashMap<Box<str>, Vec<u32>, RandomState>,
}

impl GroupLists {
    /// The groups listed under `key` (none if there is no list).
    pub(super) fn get(&self, key: &str) -> &[u32] {
        self.lists.get(key).map_or(&[], Vec::as_slice)
    }

    /// Appends group `g` to the list of `key` and returns its position there.
    fn push(&mut self, key: &str, g: u32) -> u32 {
        let list = match self.lists.get_mut(key) {
            Some(list) => list,
            None => self.lists.entry(key.into()).or_default(),
        };
        list.push(g);
        (list.len() - 1) as u32
    }

    /// Takes the group at `pos` out of the list of `key`, dropping a list
    /// left empty; returns the group moved into `pos`, if any, whose
    /// position is now `pos`.
    fn remove(&mut self, key: &str, pos: u32) -> Option<u32> {
        const LISTED: &str = "a live group is in its list";
        let list = self.lists.get_mut(key).expect(LISTED);
        list.swap_remove(pos as usize);
        let moved = list.get(pos as usize).copied();
        if list.is_empty() {
            self.lists.remove(key);
        }
        moved
    }

    fn shrink_to_fit(&mut self) {
        for list in self.lists.values_mut() {
            list.shrink_to_fit();
        }
    }
}

/// What a group's aggregates need of one of its versions.
pub(super) struct Member {
    pub(super) slot: u32,
    pub(super) image_type: ImageType,
    pub(super) service_type: ServiceType,
    pub(super) create_at: i64,
    pub(super) update_at: i64,
}

/// The index in [`Workspace::states`] of the aggregates over all versions.
pub(super) const ALL_TYPES: usize = 0;

/// The index in [`Workspace::states`] of the aggregates over versions of
/// `image_type`.
pub(super) fn of_type(image_type: ImageType) -> usize {
    1 + image_type as usize
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

    /// The slot of `version`'s group, made if there is none. A new group's
    /// name goes into the name index and the folded names only with
    /// `index_name`; a bulk load builds both at the end, from all the names
    /// at once ([`rebuild_names`](Self::rebuild_names) and
    /// [`build_name_index`](Self::build_name_index)).
    pub(super) fn group_for(
        &mut self,
        hasher: &RandomState,
        version: &ImageVersion,
        index_name: bool,
    ) -> u32 {
        let key = GroupKey::of(version);
        let hash = key.hash(hasher);
        let groups = &self.groups;
        if let Some(&g) = self.by_key.find(hash, |&g| groups[g as usize].key() == key) {
            return g;
        }
        let (name, namespace) = (version.name.as_str(), version.namespace.as_str());
        let shared_name: Arc<str> = Arc::from(name);
        let group = Group {
            name: Arc::clone(&shared_name),
            namespace: namespace.into(),
            swr_instance_id: version.swr_instance_id.as_deref().map(Box::from),
            cells: Vec::new(),
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
                for states in &mut self.states {
                    states.push(GroupState::EMPTY);
                }
                (self.groups.len() - 1) as u32
            }
        };
        let groups = &self.groups;
        self.by_key
            .insert_unique(hash, g, |&g| groups[g as usize].key().hash(hasher));
        if index_name {
            self.by_name.entry(shared_name).or_default().push(g);
        }
        self.groups[g as usize].namespace_pos = self.by_namespace.push(namespace, g);
        if let Some(instance) = version.swr_instance_id.as_deref() {
            self.groups[g as usize].instance_pos = self.by_instance.push(instance, g);
        }
        if index_name {
            self.groups[g as usize].name_entry = self.names.push(name, g);
        }
        g
    }

    /// Writes the folded names of the live groups afresh; buffers that must
    /// grow grow to exactly their size.
    pub(super) fn rebuild_names(&mut self) {
        let live = self.groups.iter().filter(|group| group.is_live());
        let (count, bytes) = live.fold((0, 0), |(n, b), group| (n + 1, b + group.name.len()));
        self.names.clear();
        self.names.reserve_exact(count, bytes);
        for (g, group) in self.groups.iter_mut().enumerate() {
            if group.is_live() {
                group.name_entry = self.names.push(&group.name, g as u32);
            }
        }
    }

    /// Builds the name index of an empty-indexed workspace from its live
    /// groups: the names are sorted once (most comparisons settled by their
    /// first 32 bytes, read once per group, rather than by reading two names
    /// far apart in memory), and the map is built from the sorted runs, in
    /// full nodes. Inserting the names one by one, in the order a bulk load
    /// meets them, would walk the map from its root for each, comparing
    /// whole names all the way down.
    pub(super) fn build_name_index(&mut self) {
        assert!(
            self.by_name.is_empty(),
            "the name index is built once, into an empty map"
        );
        let groups = &self.groups;
        let mut order: Vec<([u128; 2], u32)> = (0..groups.len() as u32)
            .filter(|&g| groups[g as usize].is_live())
            .map(|g| (prefix32(groups[g as usize].name.as_bytes()), g))
            .collect();
        order.sort_unstable_by(|a, b| {
            let name = |g: u32| groups[g as usize].name.as_bytes();
            a.0.cmp(&b.0).then_with(|| name(a.1).cmp(name(b.1)))
        });
        let mut runs: Vec<(Arc<str>, Vec<u32>)> = Vec::new();
        for (_, g) in order {
            let name = &groups[g as usize].name;
            match runs.last_mut() {
                Some((run_name, run)) if run_name == name => run.push(g),
                _ => runs.push((Arc::clone(name), vec![g])),
            }
        }
        self.by_name = runs.into_iter().collect();
    }

    /// Gives back the room that growing one element at a time left over:
    /// what a bulk load calls once it has added every version.
    pub(super) fn shrink_to_fit(&mut self) {
        self.groups.shrink_to_fit();
        for states in &mut self.states {
            states.shrink_to_fit();
        }
        self.by_namespace.shrink_to_fit();
        self.by_instance.shrink_to_fit();
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
        self.states[ALL_TYPES][g as usize].merge(&one);
        self.states[of_type(version.image_type)][g as usize].merge(&one);
        let group = &mut self.groups[g as usize];
        let i = match group.cell_of(&version) {
            Some(i) => i,
            None => {
                let cell = (version.image_type, version.service_type, Cell::new());
                // One at a time: a group has a few of its ten possible
                // cells, and a vector's doubling would leave room for as
                // many again, for every group.
                group.cells.reserve_exact(1);
                group.cells.push(cell);
                group.cells.len() - 1
            }
        };
        let cell = &mut group.cells[i].2;
        cell.add(version.slot, version.create_at, version.update_at, times);
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
        let group = &mut self.groups[g as usize];
        let i = group
            .cell_of(&version)
            .expect("a member's group has the cell of its type and service type");
        let cell = &mut group.cells[i].2;
        cell.remove(version.slot, version.create_at, version.update_at, times);
        if group.cells[i].2.is_empty() {
            group.cells.swap_remove(i);
        }
        let totals = group.totals();
        let live = group.is_live();
        for (states, total) in self.states.iter_mut().zip(totals) {
            states[g as usize] = total;
        }
        if !live {
            self.drop_group(hasher, g);
        }
    }

    /// Takes the empty group `g` out of every index and frees its slot.
    fn drop_group(&mut self, hasher: &RandomState, g: u32) {
        let group = &mut self.groups[g as usize];
        let hash = group.key().hash(hasher);
        let name = std::mem::take(&mut group.name);
        let namespace = std::mem::take(&mut group.namespace);
        let instance = group.swr_instance_id.take();
        let (namespace_pos, instance_pos) = (group.namespace_pos, group.instance_pos);
        let name_entry = group.name_entry;
        const INDEXED: &str = "a live group is in every index";
        self.by_key
            .find_entry(hash, |&other| other == g)
            .expect(INDEXED)
            .remove();
        let run = self.by_name.get_mut(&*name).expect(INDEXED);
        run.retain(|&other| other != g);
        if run.is_empty() {
            self.by_name.remove(&*name);
        }
        if let Some(moved) = self.by_namespace.remove(&namespace, namespace_pos) {
            self.groups[moved as usize].namespace_pos = namespace_pos;
        }
        if let Some(instance) = instance {
            if let Some(moved) = self.by_instance.remove(&instance, instance_pos) {
                self.groups[moved as usize].instance_pos = instance_pos;
            }
        }
        self.names.kill(name_entry, name.len());
        self.free.push(g);
        if self.names.wants_compaction() {
            self.rebuild_names();
        }
    }
}

/// The first 32 bytes of `bytes` as two big-endian numbers, padded with
/// zeros: ordered as the bytes are, except that a string and the same string
/// followed by zero bytes tie (the full comparison then decides).
fn prefix32(bytes: &[u8]) -> [u128; 2] {
    let mut first = [0u8; 32];
    let n = bytes.len().min(32);
    first[..n].copy_from_slice(&bytes[..n]);
    let (high, low) = first.split_at(16);
    [
        u128::from_be_bytes(high.try_into().expect("16 bytes")),
        u128::from_be_bytes(low.try_into().expect("16 bytes")),
    ]
}
