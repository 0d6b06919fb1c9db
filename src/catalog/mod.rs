//! An indexed catalog of versions that answers queries without scanning the
//! versions, and takes updates one version at a time.
//!
//! The pieces, one per file: [`versions`] keeps the versions compactly by
//! id; a [`workspace`] keeps its groups and their indexes; a group's
//! aggregates per `(type, service_type)` are [`cell`]s; [`names`] is the
//! folded-name buffer for fuzzy queries; [`answer`] turns a query into a page;
//! [`version_ref`] lends a stored version out.

mod answer;
mod cell;
mod few;
mod names;
mod version_ref;
mod versions;
mod workspace;

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::group_state::{key_hash, GroupKey};
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::scan::read_ahead::prefetch_strings;
use crate::version::ImageVersion;

pub use self::version_ref::VersionRef;

use self::versions::{Stored, VersionStore};
use self::workspace::Workspace;

/// An in-memory index over a live set of image versions, keyed by `id`.
///
/// [`query`](Self::query) returns exactly what [`group_images`](crate::group_images)
/// returns over the catalog's current versions (one per `id`; the last
/// [`upsert`](Self::upsert) wins), but its work grows with the number of
/// groups in the queried workspace, not with the number of versions: each
/// group keeps its aggregates per `(type, service_type)`, updated as versions
/// come and go.
///
/// Minimum and maximum cannot be subtracted, so each aggregate can find its
/// next extremes: a small one (up to 32 versions) lists its members and
/// rescans them when an extreme leaves; a larger one keeps its creation and
/// update times as ordered multisets, which yield the next extreme in
/// O(log n).
///
/// How a query is answered: an exact name is one look-up in the name index;
/// a namespace is its own list of groups, and so is an SWR instance; a
/// fuzzy name is one substring search over the workspace's group names
/// folded to lower case and kept in one buffer; a page ordered by name first walks the name index in order,
/// counting (not visiting) the groups before the page when no type or
/// service-type filter applies; otherwise every group of the workspace is
/// visited once (without a service-type filter, only its aggregates, read
/// from one plain vector per workspace), and the page is selected as
/// [`group_images`](crate::group_images) selects it.
///
/// Memory: a version keeps its id, tag, type, times and a reference to its
/// group (48 bytes, plus the id's and tag's bytes in one allocation, and 5
/// to 10 bytes of id index); a group keeps its name once for all its
/// versions, and a workspace each namespace and SWR instance once for all
/// its groups, so a catalog takes less than the `Vec<ImageVersion>`
/// it was built from when groups have several versions each, and more when
/// most have one (BENCHMARKS.md).
///
/// ```
/// use image_groups::{Catalog, GroupQuery, ImageType, ImageVersion};
///
/// let version = |id: &str, name: &str, create_at: i64| {
///     ImageVersion::new(id, name, "ml", ImageType::Dedicated, create_at, create_at)
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
/// assert_eq!(catalog.get("a").unwrap().name(), "tf");
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
    versions: VersionStore,
    /// Workspaces in a slab (freed slots are reused), found by id.
    workspaces: Vec<Workspace>,
    free_workspaces: Vec<u32>,
    workspace_slots: HashMap<Box<str>, u32, RandomState>,
    /// Seeded per process, like the scan's table: crafted ids or names
    /// cannot flood the indexes.
    hasher: RandomState,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// A catalog of `records`; of several with one `id`, the last wins.
    ///
    /// Loads in bulk: each record's group key is hashed in input order, and
    /// the records are then stored a group at a time (in the order of the
    /// keys' hashes), so that a group's indexes and cells are found once per
    /// group rather than once per version, and the loads of one record do not
    /// wait for those of the one before. The name index and the folded names
    /// are built last, from all the groups' names at once.
    ///
    /// The catalog keeps none of the records' own allocations: it copies
    /// what it keeps (ids and tags too) and frees every string of the input
    /// before it finishes. A version's strings lie next to each other in
    /// memory, so freed all together they merge back into a few large free
    /// blocks; had the ids and tags been kept, each record would have left
    /// small free blocks between them, which an allocator that sorts freed
    /// blocks lazily (glibc's sorts a bounded number per call) would leave
    /// to the allocations of the queries after the build. The folded names
    /// for fuzzy queries are written last, once the records are freed, so
    /// that the allocator's deferred merging of the freed blocks happens
    /// within the build rather than in the first query (BENCHMARKS.md).
    pub fn from_records(records: impl IntoIterator<Item = ImageVersion>) -> Self {
        let records: Vec<ImageVersion> = records.into_iter().collect();
        let mut catalog = Catalog::new();
        let replaced = catalog
            .versions
            .index_input(records.len(), |i| records[i].id.as_str());
        let hasher = catalog.hasher.clone();
        let mut order: Vec<(u64, usize)> = records
            .iter()
            .enumerate()
            .filter(|&(i, _)| !replaced[i])
            .map(|(i, v)| {
                // A sort key that brings a group's versions together (the
                // loop below checks the whole key, so it need not be exact).
                let instance = v.swr_instance_id.as_deref().unwrap_or("");
                let key = [&v.workspace_id, &v.name, &v.namespace, instance].map(str::as_bytes);
                (key_hash(&hasher, key), i)
            })
            .collect();
        order.sort_unstable();
        catalog.versions.reserve(order.len());
        let mut slot_of_input = vec![0u32; records.len()];
        // The group of the previous record, and its key's hash.
        let mut previous: Option<(u64, u32, u32)> = None;
        for (k, &(hash, i)) in order.iter().enumerate() {
            // Ask for the key bytes of a record a few steps ahead: its loads
            // then overlap with this step's work instead of waiting their turn.
            if let Some(&(_, ahead)) = order.get(k + LOOKAHEAD) {
                prefetch_strings(&records[ahead]);
            }
            let v = &records[i];
            let (w, g) = match previous {
                Some((h, w, g)) if h == hash && catalog.holds_key(w, g, v) => (w, g),
                _ => {
                    let w = catalog.workspace_for(&v.workspace_id);
                    let hasher = &catalog.hasher;
                    let g = catalog.workspaces[w as usize].group_for(hasher, v, false);
                    (w, g)
                }
            };
            previous = Some((hash, w, g));
            let slot = catalog.versions.push_unindexed(stored(w, g, v));
            catalog.count_in(w, g, slot);
            slot_of_input[i] = slot;
        }
        drop((records, order, replaced));
        for workspace in &mut catalog.workspaces {
            workspace.rebuild_names();
            workspace.build_name_index();
            workspace.shrink_to_fit();
        }
        catalog.versions.finish_bulk(&slot_of_input);
        catalog
    }

    /// Adds `version`, or replaces the version with its `id`, and returns the
    /// version it replaced. Any field may change, so the version may move to
    /// another group, namespace, workspace or type.
    pub fn upsert(&mut self, version: ImageVersion) -> Option<ImageVersion> {
        let old = self.remove(&version.id);
        let w = self.workspace_for(&version.workspace_id);
        let g = self.workspaces[w as usize].group_for(&self.hasher, &version, true);
        self.insert_at(w, g, &version);
        old
    }

    /// Removes the version with `id`, returning it; `None` if there is none.
    pub fn remove(&mut self, id: &str) -> Option<ImageVersion> {
        let (slot, stored) = self.versions.take(id)?;
        let (w, g) = (stored.workspace, stored.group);
        let member = stored.member(slot);
        let workspace = &mut self.workspaces[w as usize];
        let version = VersionRef::new(workspace, &stored).to_version();
        let versions = &self.versions;
        workspace.remove_version(&self.hasher, g, member, |s| versions.times(s));
        if workspace.live() == 0 {
            self.workspace_slots.remove(&*workspace.id);
            *workspace = Workspace::default();
            self.free_workspaces.push(w);
        }
        Some(version)
    }

    /// The version with `id`, if any, lent out: its fields are the ones
    /// given to the catalog ([`VersionRef::to_version`] makes an owned copy).
    pub fn get(&self, id: &str) -> Option<VersionRef<'_>> {
        let stored = self.versions.get(self.versions.find(id)?);
        Some(VersionRef::new(
            &self.workspaces[stored.workspace as usize],
            stored,
        ))
    }

    /// The number of versions.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether the catalog holds no version.
    pub fn is_empty(&self) -> bool {
        self.versions.len() == 0
    }

    /// The current versions, in no particular order, lent out as with
    /// [`get`](Self::get).
    pub fn versions(&self) -> impl Iterator<Item = VersionRef<'_>> + '_ {
        self.versions
            .iter()
            .map(|stored| VersionRef::new(&self.workspaces[stored.workspace as usize], stored))
    }

    /// Answers `query` over the current versions: the same page as
    /// [`group_images`](crate::group_images) over [`versions`](Self::versions).
    ///
    /// A large workspace's query runs on two threads, the calling one and
    /// one started for it, when the machine has two cores or more: the
    /// search of a fuzzy `name` once the workspace's names take 2 MiB
    /// (some 80,000 names of 20 bytes), each thread over half of them; and
    /// finding the groups of a short page (ending within the first 4,096
    /// and the first quarter) among 32,768 matching groups or more, each
    /// thread over half. Smaller queries stay on the calling thread. The
    /// page is the same either way.
    pub fn query(&self, query: &GroupQuery) -> ImageGroupPage {
        let workspace = self
            .workspace_slots
            .get(query.workspace_id())
            .map(|&w| &self.workspaces[w as usize]);
        answer::answer(workspace, query)
    }

    /// The slot of workspace `id`, made if there is none.
    fn workspace_for(&mut self, id: &str) -> u32 {
        if let Some(&w) = self.workspace_slots.get(id) {
            return w;
        }
        let workspace = Workspace::new(id);
        let w = match self.free_workspaces.pop() {
            Some(w) => {
                self.workspaces[w as usize] = workspace;
                w
            }
            None => {
                self.workspaces.push(workspace);
                (self.workspaces.len() - 1) as u32
            }
        };
        self.workspace_slots.insert(id.into(), w);
        w
    }

    /// Whether group `g` of workspace `w` is the group of `v`.
    fn holds_key(&self, w: u32, g: u32, v: &ImageVersion) -> bool {
        let workspace = &self.workspaces[w as usize];
        *workspace.id == *v.workspace_id && workspace.key(g) == GroupKey::of(v)
    }

    /// Stores `version`, whose id the catalog does not hold, as a member of
    /// group `g` of workspace `w`.
    fn insert_at(&mut self, w: u32, g: u32, version: &ImageVersion) {
        let slot = self.versions.insert(stored(w, g, version));
        self.count_in(w, g, slot);
        self.workspaces[w as usize].sync_name_types(g);
    }

    /// Counts the stored version in `slot` into group `g` of workspace `w`.
    fn count_in(&mut self, w: u32, g: u32, slot: u32) {
        let versions = &self.versions;
        let member = versions.get(slot).member(slot);
        self.workspaces[w as usize].add_version(g, member, |s| versions.times(s));
    }
}

/// The catalog's form of `version`, a member of group `g` of workspace `w`.
fn stored(w: u32, g: u32, version: &ImageVersion) -> Stored {
    let mut stored = Stored::new(&version.id, version.tag.as_deref(), w, g);
    stored.image_type = version.image_type;
    stored.service_type = version.service_type;
    stored.create_at = version.create_at;
    stored.update_at = version.update_at;
    stored
}

/// The machine's cores, read once (the standard library reads them from
/// the system each time it is asked).
pub(super) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// How many records ahead [`Catalog::from_records`] reads while storing one.
const LOOKAHEAD: usize = 8;
