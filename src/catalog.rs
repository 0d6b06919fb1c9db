//! An indexed catalog of versions that answers queries without scanning the
//! versions, and takes updates one version at a time.

use std::collections::{BTreeMap, HashMap};

use crate::aggregate::GroupState;
use crate::filter::VersionFilter;
use crate::order::{self, Groups};
use crate::query::GroupQuery;
use crate::record::{ImageType, ImageVersion, ServiceType};
use crate::response::ImageGroupPage;

/// An in-memory index over a live set of image versions, keyed by `id`.
///
/// [`query`](Self::query) returns exactly what [`group_images`](crate::group_images)
/// returns over the catalog's current versions (one per `id`; the last
/// [`upsert`](Self::upsert) wins), but its work grows with the number of
/// groups in the queried workspace, not with the number of versions: each
/// group keeps its aggregates per `(type, service_type)`, updated as versions
/// come and go.
///
/// Minimum and maximum cannot be subtracted, so each aggregate keeps its
/// creation and update times as ordered multisets: removing the version that
/// held a group's smallest `create_at` or largest `update_at` yields the next
/// one in O(log n).
///
/// ```
/// use image_groups::{Catalog, GroupQuery, ImageType, ImageVersion, ServiceType};
///
/// let version = |id: &str, name: &str, create_at: i64| ImageVersion {
///     id: id.into(), name: name.into(), namespace: "ml".into(), tag: None,
///     image_type: ImageType::Dedicated, workspace_id: "0".into(),
///     service_type: ServiceType::Unknown, create_at, update_at: create_at,
/// };
/// let mut catalog = Catalog::from_records([version("a", "torch", 1), version("b", "torch", 5)]);
/// let q = GroupQuery::default();
/// assert_eq!(catalog.query(&q).data[0].create_at, 1);
///
/// // An upsert may change anything, even the group; it returns the old version.
/// let old = catalog.upsert(version("a", "tf", 7)).unwrap();
/// assert_eq!(old.name, "torch");
/// let page = catalog.query(&q);
/// assert_eq!(page.total, 2);
/// assert_eq!(page.data[1].create_at, 5); // torch's smallest create_at is now b's
/// ```
///
/// # Sharing
///
/// `Catalog` is `Send + Sync` and [`query`](Self::query) takes `&self`, so a
/// service shares one in either of two ways:
///
/// * behind a `std::sync::RwLock`: many queries at once under `read()`, an
///   update under `write()`; simple, and updates wait for running queries;
/// * as immutable snapshots: readers clone an `Arc<Catalog>` from a shared
///   slot and query it without any lock held; the writer clones the catalog,
///   applies a batch of updates, and swaps the new `Arc` in. Readers never
///   wait, at the cost of a copy per batch.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// The versions, by id.
    versions: Map<ImageVersion>,
    /// The groups of each workspace.
    workspaces: Map<Workspace>,
}

/// A map by string with foldhash, seeded per process like the scan's table:
/// fast, and crafted ids or names cannot flood it.
type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// The groups of one workspace: in a dense vector that a query walks in
/// order, found by namespace and then name (nested maps, so that a lookup
/// borrows the version's strings instead of building a key).
#[derive(Clone, Debug, Default)]
struct Workspace {
    groups: Vec<Group>,
    index: Map<Map<usize>>,
}

/// A group's key and aggregates, one per `(type, service_type)` its versions
/// have.
#[derive(Clone, Debug)]
struct Group {
    namespace: String,
    name: String,
    /// The aggregates of all the group's versions: what a query without a
    /// type or service-type filter reads, without visiting the cells.
    total: GroupState,
    cells: Vec<(ImageType, ServiceType, Cell)>,
}

impl Group {
    /// Recomputes `total` from the cells, after a removal.
    fn retotal(&mut self) {
        self.total = GroupState {
            version_count: 0,
            create_at: i64::MAX,
            update_at: i64::MIN,
        };
        for (_, _, cell) in &self.cells {
            self.total.version_count += cell.state.version_count;
            self.total.create_at = self.total.create_at.min(cell.state.create_at);
            self.total.update_at = self.total.update_at.max(cell.state.update_at);
        }
    }
}

/// The aggregates of one group's versions of one type and service type.
#[derive(Clone, Debug)]
struct Cell {
    /// Count and extremes, kept current so that a query reads them directly.
    state: GroupState,
    /// `create_at` values with their multiplicities.
    creates: BTreeMap<i64, u64>,
    /// `update_at` values with their multiplicities.
    updates: BTreeMap<i64, u64>,
}

impl Cell {
    fn new() -> Self {
        Cell {
            state: GroupState {
                version_count: 0,
                create_at: i64::MAX,
                update_at: i64::MIN,
            },
            creates: BTreeMap::new(),
            updates: BTreeMap::new(),
        }
    }

    fn add(&mut self, v: &ImageVersion) {
        self.state.version_count += 1;
        self.state.create_at = self.state.create_at.min(v.create_at);
        self.state.update_at = self.state.update_at.max(v.update_at);
        *self.creates.entry(v.create_at).or_insert(0) += 1;
        *self.updates.entry(v.update_at).or_insert(0) += 1;
    }

    fn remove(&mut self, v: &ImageVersion) {
        self.state.version_count = self.state.version_count.saturating_sub(1);
        for (map, key) in [
            (&mut self.creates, v.create_at),
            (&mut self.updates, v.update_at),
        ] {
            if let Some(n) = map.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        // The extremes may have been the removed version's: read them again.
        self.state.create_at = self.creates.keys().next().copied().unwrap_or(i64::MAX);
        self.state.update_at = self.updates.keys().next_back().copied().unwrap_or(i64::MIN);
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog of `records`; of several with one `id`, the last wins.
    pub fn from_records(records: impl IntoIterator<Item = ImageVersion>) -> Self {
        let records = records.into_iter();
        let mut catalog = Catalog::new();
        catalog.versions.reserve(records.size_hint().0);
        for version in records {
            catalog.upsert(version);
        }
        catalog
    }

    /// Adds `version`, or replaces the version with its `id`, and returns the
    /// version it replaced. Any field may change, so the version may move to
    /// another group, namespace, workspace or type.
    pub fn upsert(&mut self, version: ImageVersion) -> Option<ImageVersion> {
        let old = self.versions.remove(&version.id);
        if let Some(old) = &old {
            self.unindex(old);
        }
        self.index(&version);
        self.versions.insert(version.id.clone(), version);
        old
    }

    /// Removes the version with `id`, returning it; `None` if there is none.
    pub fn remove(&mut self, id: &str) -> Option<ImageVersion> {
        let old = self.versions.remove(id)?;
        self.unindex(&old);
        Some(old)
    }

    /// The version with `id`, if any.
    pub fn get(&self, id: &str) -> Option<&ImageVersion> {
        self.versions.get(id)
    }

    /// The number of versions.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether the catalog holds no version.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The current versions, in no particular order.
    pub fn versions(&self) -> impl Iterator<Item = &ImageVersion> + '_ {
        self.versions.values()
    }

    /// Answers `query` over the current versions: the same page as
    /// [`group_images`](crate::group_images) over [`versions`](Self::versions).
    pub fn query(&self, query: &GroupQuery) -> ImageGroupPage {
        let mut matching = MatchingGroups::default();
        if let Some(workspace) = self.workspaces.get(query.workspace_id()) {
            let mut name_filter = VersionFilter::new(query);
            let by_cell = query.image_type().is_some() || query.service_type().is_some();
            let mut consider = |group: &'_ Group| {
                let (namespace, name) = (group.namespace.as_str(), group.name.as_str());
                if query.namespace().is_some_and(|ns| ns != namespace)
                    || !name_filter.name_passes(name)
                {
                    return None;
                }
                if !by_cell {
                    return Some(group.total);
                }
                let mut state = GroupState {
                    version_count: 0,
                    create_at: i64::MAX,
                    update_at: i64::MIN,
                };
                for (image_type, service_type, cell) in &group.cells {
                    if query.image_type().is_none_or(|t| t == *image_type)
                        && query.service_type().is_none_or(|s| s == *service_type)
                    {
                        let cell = &cell.state;
                        state.version_count += cell.version_count;
                        state.create_at = state.create_at.min(cell.create_at);
                        state.update_at = state.update_at.max(cell.update_at);
                    }
                }
                (state.version_count > 0).then_some(state)
            };
            // Narrow the groups through the index where the query allows:
            // an exact name is one lookup per namespace, a namespace is its
            // own groups; otherwise every group of the workspace.
            let exact_name = query.name().filter(|_| !query.name_fuzzy_match());
            let candidates: Box<dyn Iterator<Item = usize> + '_> =
                match (exact_name, query.namespace()) {
                    (Some(name), Some(ns)) => Box::new(
                        workspace
                            .index
                            .get(ns)
                            .and_then(|names| names.get(name))
                            .copied()
                            .into_iter(),
                    ),
                    (Some(name), None) => Box::new(
                        workspace
                            .index
                            .values()
                            .filter_map(move |names| names.get(name).copied()),
                    ),
                    (None, Some(ns)) => Box::new(
                        workspace
                            .index
                            .get(ns)
                            .into_iter()
                            .flat_map(|names| names.values().copied()),
                    ),
                    (None, None) => Box::new(0..workspace.groups.len()),
                };
            for g in candidates {
                let group = &workspace.groups[g];
                if let Some(state) = consider(group) {
                    matching
                        .groups
                        .push((group.name.as_str(), group.namespace.as_str(), state));
                }
            }
        }
        order::page(&matching, query)
    }

    fn index(&mut self, v: &ImageVersion) {
        let workspace = match self.workspaces.get_mut(&v.workspace_id) {
            Some(workspace) => workspace,
            None => self.workspaces.entry(v.workspace_id.clone()).or_default(),
        };
        let found = workspace
            .index
            .get(&v.namespace)
            .and_then(|names| names.get(&v.name))
            .copied();
        let g = match found {
            Some(g) => g,
            None => {
                let g = workspace.groups.len();
                workspace.groups.push(Group {
                    namespace: v.namespace.clone(),
                    name: v.name.clone(),
                    total: GroupState {
                        version_count: 0,
                        create_at: i64::MAX,
                        update_at: i64::MIN,
                    },
                    cells: Vec::new(),
                });
                workspace
                    .index
                    .entry(v.namespace.clone())
                    .or_default()
                    .insert(v.name.clone(), g);
                g
            }
        };
        let group = &mut workspace.groups[g];
        group.total.version_count += 1;
        group.total.create_at = group.total.create_at.min(v.create_at);
        group.total.update_at = group.total.update_at.max(v.update_at);
        let cells = &mut group.cells;
        match cells
            .iter_mut()
            .find(|(t, s, _)| *t == v.image_type && *s == v.service_type)
        {
            Some((_, _, cell)) => cell.add(v),
            None => {
                let mut cell = Cell::new();
                cell.add(v);
                cells.push((v.image_type, v.service_type, cell));
            }
        }
    }

    /// Takes `v`, which the catalog holds, out of its group, dropping the
    /// cell, group and workspace it leaves empty.
    fn unindex(&mut self, v: &ImageVersion) {
        let Some(workspace) = self.workspaces.get_mut(&v.workspace_id) else {
            return;
        };
        let Some(&g) = workspace
            .index
            .get(&v.namespace)
            .and_then(|names| names.get(&v.name))
        else {
            return;
        };
        let group = &mut workspace.groups[g];
        if let Some(i) = group
            .cells
            .iter()
            .position(|(t, s, _)| *t == v.image_type && *s == v.service_type)
        {
            group.cells[i].2.remove(v);
            if group.cells[i].2.state.version_count == 0 {
                group.cells.swap_remove(i);
            }
        }
        group.retotal();
        if group.cells.is_empty() {
            workspace.remove_group(g);
        }
        if workspace.groups.is_empty() {
            self.workspaces.remove(&v.workspace_id);
        }
    }
}

impl Workspace {
    /// Removes group `g`; the last group takes its place in the vector.
    fn remove_group(&mut self, g: usize) {
        let removed = self.groups.swap_remove(g);
        if let Some(names) = self.index.get_mut(&removed.namespace) {
            names.remove(&removed.name);
            if names.is_empty() {
                self.index.remove(&removed.namespace);
            }
        }
        if let Some(moved) = self.groups.get(g) {
            if let Some(slot) = self
                .index
                .get_mut(&moved.namespace)
                .and_then(|names| names.get_mut(&moved.name))
            {
                *slot = g;
            }
        }
    }
}

/// The groups one catalog query matched, borrowing their keys.
#[derive(Default)]
struct MatchingGroups<'c> {
    groups: Vec<(&'c str, &'c str, GroupState)>,
}

impl Groups for MatchingGroups<'_> {
    fn len(&self) -> usize {
        self.groups.len()
    }
    fn name(&self, g: usize) -> &[u8] {
        self.groups[g].0.as_bytes()
    }
    fn namespace(&self, g: usize) -> &[u8] {
        self.groups[g].1.as_bytes()
    }
    fn state(&self, g: usize) -> &GroupState {
        &self.groups[g].2
    }
}
