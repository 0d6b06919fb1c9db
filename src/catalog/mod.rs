//! An indexed catalog of versions that answers queries without scanning the
//! versions, and takes updates one version at a time.
//!
//! The pieces, one per file: [`versions`] keeps the versions compactly by
//! id; a [`workspace`] keeps its groups and their indexes; a group's
//! aggregates per `(type, service_type)` are [`cell`]s, and its aggregates
//! over all its versions and per type are in [`type_states`]; its name is in
//! [`group_names`], and in name order in [`name_order`]; [`names`] is the
//! folded-name buffer for fuzzy queries; [`answer`] turns a query into a page;
//! [`version_ref`] lends a stored version out.

mod answer;
mod cell;
mod group_names;
mod name_order;
mod names;
mod type_states;
mod update_buckets;
mod version_ref;
mod versions;
mod workspace;

use crate::threads;
use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::group_state::GroupKey;
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::scan::read_ahead::{prefetch_record, prefetch_strings};
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
/// folded to lower case and kept in one buffer, each followed by its
/// group's number, image types and a coarse bucket of its latest
/// `update_at`, so that a type filter and, on a short page ordered by
/// `update_at`, most matches are settled without reading their aggregates
/// (the buckets are cut at the quantiles of the groups' times when the
/// names are written: at a bulk load, a compaction, when group numbers
/// outgrow their bytes, and once more than a sixteenth of the groups, and
/// 4,096, have been updated into the newest bucket, where nothing is
/// settled; that rewrite is one upsert's cost in so many); the names are
/// written in three runs, the groups of one image type only, of both, and
/// of the other only (a group's name is written again at the end when it
/// gains the type its run leaves out), so that a type filter searches only
/// the runs its groups can be in;
/// a page ordered by `update_at` first, with no filter but the workspace
/// and ending within the first 4,096 groups, is found from the same
/// buckets, kept also as one byte per group with a count per bucket: the
/// counts say which of the newest (or oldest) buckets hold the page's first
/// groups, one pass over the bytes lists those groups, and only their
/// aggregates are read (unless they are more than a quarter of the groups);
/// a page ordered by name first walks the name index in order,
/// counting (not visiting) the groups before the page when no type or
/// service-type filter applies; otherwise every group of the workspace is
/// visited once (without a service-type filter, only its aggregates, read
/// from one plain vector per workspace), and the page is selected as
/// [`group_images`](crate::group_images) selects it.
///
/// Memory: a version keeps its id, tag, type, times and a reference to its
/// group (48 bytes, plus the id's and tag's bytes in one allocation, and 5
/// to 10 bytes of id index); a group keeps its name once for all its
/// versions (56 bytes, its name's bytes, its aggregates in 24 more when its
/// versions are of one type, and about 21 bytes of indexes besides its
/// folded name), and a workspace each namespace and SWR instance once for
/// all its groups, so a catalog takes less than the `Vec<ImageVersion>` it
/// was built from when groups have several versions each, and about as much
/// when most have one (BENCHMARKS.md).
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
    /// Loads in bulk: each record's workspace and group key are hashed in
    /// input order, and the records are then stored a group at a time (in
    /// the order of the keys' hashes, within each workspace), so that a
    /// group's cells are found once per group rather than once per version,
    /// each workspace's groups and key index are allocated once at their
    /// final size, and the loads of one record do not wait for those of the
    /// one before. The name index and the folded names are built last, from
    /// all the groups' names at once.
    ///
    /// With 16,384 records or more, and a second core, two steps run on a
    /// second thread: the index of the ids (which also finds the records a
    /// later one replaces) beside the hashing and sorting of the keys, and
    /// the freeing of the input beside the build of the name index (both on
    /// the calling thread when the system refuses a thread). The catalog is
    /// the same either way.
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
        let two_threads = records.len() >= TWO_THREADS_FROM && cores() > 1;
        Self::build(records, two_threads, 64)
    }

    /// [`from_records`](Self::from_records)'s work, on two threads or one.
    /// `hash_bits` is how many bits of a key's hash order the records (64;
    /// tests take fewer, for groups of different keys with one hash).
    fn build(records: Vec<ImageVersion>, two_threads: bool, hash_bits: u32) -> Self {
        let mut catalog = Catalog::new();
        let hasher = catalog.hasher.clone();
        // Two passes over the input in input order, at once: the ids
        // indexed, and each record's workspace and key hash.
        let versions = &mut catalog.versions;
        let (replaced, (workspace_ids, mut order)) = threads::both(
            two_threads,
            || versions.index_input(records.len(), |i| records[i].id.as_str()),
            || sort_keys(&records, &hasher, hash_bits),
        );
        order.retain(|&entry| !replaced[input_position(entry)]);
        // Each workspace's number of groups (a key's hash, which a group's
        // versions share, once per group but for rare collisions).
        let mut groups_in = vec![0usize; workspace_ids.len()];
        let mut last_run = None;
        for &entry in &order {
            if last_run != Some(group_run(entry)) {
                last_run = Some(group_run(entry));
                groups_in[workspace_number(entry)] += 1;
            }
        }
        catalog.versions.reserve(order.len());
        let mut slot_of_input = vec![0u32; records.len()];
        // The catalog's slot of each workspace, made when first met.
        let mut workspace_slots: Vec<Option<u32>> = vec![None; workspace_ids.len()];
        // The previous record's workspace and key hash, and its group.
        let mut previous: Option<(u128, u32, u32)> = None;
        for (k, &entry) in order.iter().enumerate() {
            // Ask for a record's bytes a few steps ahead, and for its
            // strings (whose addresses it holds) once it has arrived: their
            // loads then overlap with this step's work.
            if let Some(&ahead) = order.get(k + 2 * LOOKAHEAD) {
                prefetch_record(&records[input_position(ahead)]);
            }
            if let Some(&ahead) = order.get(k + LOOKAHEAD) {
                prefetch_strings(&records[input_position(ahead)]);
            }
            let i = input_position(entry);
            let v = &records[i];
            let run = group_run(entry);
            let hash = match hash_bits {
                64 => run as u64,
                _ => GroupKey::of(v).hash(&catalog.hasher),
            };
            let (w, g) = match previous {
                // The previous record's group, or another of the same
                // workspace and key hash (a collision, which the key index
                // tells apart).
                Some((r, w, g)) if r == run => {
                    let workspace = &mut catalog.workspaces[w as usize];
                    if workspace.key(g) == GroupKey::of(v) {
                        (w, g)
                    } else {
                        (w, workspace.group_for(&catalog.hasher, v, hash, false))
                    }
                }
                // A key hash not met before in the workspace: a new group.
                _ => {
                    let local = workspace_number(entry);
                    let w = *workspace_slots[local].get_or_insert_with(|| {
                        let w = catalog.workspace_for(workspace_ids[local]);
                        catalog.workspaces[w as usize].reserve_groups(groups_in[local]);
                        w
                    });
                    let workspace = &mut catalog.workspaces[w as usize];
                    (w, workspace.new_group(&catalog.hasher, v, hash, false))
                }
            };
            previous = Some((run, w, g));
            let slot = catalog.versions.push_unindexed(stored(w, g, v));
            catalog.count_in(w, g, slot);
            slot_of_input[i] = slot;
        }
        drop(workspace_ids);
        // The input is freed beside the name indexes' build; the folded
        // names are written once it is freed (the type's docs say why).
        let Catalog {
            versions,
            workspaces,
            ..
        } = &mut catalog;
        threads::both(
            two_threads,
            move || drop((records, order, replaced)),
            || {
                for workspace in workspaces.iter_mut() {
                    workspace.build_name_index();
                    workspace.shrink_to_fit();
                }
                versions.finish_bulk(&slot_of_input);
            },
        );
        for workspace in &mut catalog.workspaces {
            workspace.rebuild_names();
        }
        catalog
    }

    /// Adds `version`, or replaces the version with its `id`, and returns the
    /// version it replaced. Any field may change, so the version may move to
    /// another group, namespace, workspace or type.
    pub fn upsert(&mut self, version: ImageVersion) -> Option<ImageVersion> {
        let old = self.remove(&version.id);
        let w = self.workspace_for(&version.workspace_id);
        let hash = GroupKey::of(&version).hash(&self.hasher);
        let g = self.workspaces[w as usize].group_for(&self.hasher, &version, hash, true);
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
    /// one kept between calls (crate docs, "Threads kept between calls"),
    /// when the machine has two cores or more: the
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

    /// Stores `version`, whose id the catalog does not hold, as a member of
    /// group `g` of workspace `w`.
    fn insert_at(&mut self, w: u32, g: u32, version: &ImageVersion) {
        let slot = self.versions.insert(stored(w, g, version));
        self.count_in(w, g, slot);
        self.workspaces[w as usize].sync_name_owner(g);
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

/// From this many records on, [`Catalog::from_records`] works on two
/// threads: below it, starting a thread (tens of microseconds) is a large
/// part of the build.
const TWO_THREADS_FROM: usize = 1 << 14;

/// A record's place in the bulk load's order: its workspace's number (in
/// the order the input first names them; bits 96 and up), its group key's
/// hash (bits 32 to 95) and its input position (the low 32 bits). Sorted,
/// these bring each workspace's groups together and each group's versions
/// together.
type OrderEntry = u128;

/// The input position of an [`OrderEntry`].
fn input_position(entry: OrderEntry) -> usize {
    entry as u32 as usize
}

/// The workspace number of an [`OrderEntry`].
fn workspace_number(entry: OrderEntry) -> usize {
    (entry >> 96) as usize
}

/// What an [`OrderEntry`] shares with the entries of its group's other
/// versions (and, but for rare hash collisions, with no other group's): its
/// workspace and key hash.
fn group_run(entry: OrderEntry) -> u128 {
    entry >> 32
}

/// The workspace ids of `records`, in the order they first appear, and the
/// records' [`OrderEntry`]s, sorted. The key hash is the one the workspace's
/// key index uses, so a new group's is not computed again.
fn sort_keys<'r>(
    records: &'r [ImageVersion],
    hasher: &RandomState,
    hash_bits: u32,
) -> (Vec<&'r str>, Vec<OrderEntry>) {
    assert!(
        records.len() < u32::MAX as usize,
        "a Catalog holds at most u32::MAX - 1 versions"
    );
    let mut workspace_ids: Vec<&str> = Vec::new();
    let mut numbers: HashMap<&str, u32, RandomState> = HashMap::default();
    // Records of one workspace often come in runs: the last one's number.
    let mut last: Option<(&str, u32)> = None;
    let mut order = Vec::with_capacity(records.len());
    for (i, v) in records.iter().enumerate() {
        let id = v.workspace_id.as_str();
        let w = match last {
            Some((last_id, w)) if last_id == id => w,
            _ => *numbers.entry(id).or_insert_with(|| {
                workspace_ids.push(id);
                (workspace_ids.len() - 1) as u32
            }),
        };
        last = Some((id, w));
        let hash = GroupKey::of(v)
            .hash(hasher)
            .checked_shr(64 - hash_bits)
            .unwrap_or(0);
        order.push((u128::from(w) << 96) | (u128::from(hash) << 32) | i as u128);
    }
    order.sort_unstable();
    (workspace_ids, order)
}

/// Whether a buffer of `len` bytes, `dead` of them dropped, is worth
/// rebuilding from its live bytes: the dropped ones outweigh the live ones,
/// and are enough (4 KiB) for the copy to pay. One rule for the folded
/// names and the group names.
fn worth_compacting(dead: usize, len: usize) -> bool {
    dead > 4096 && dead * 2 > len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::{ImageType, ServiceType};
    use proptest::prelude::*;
    use proptest::sample::select;

    /// Records over a few ids (later ones replace earlier ones), names that
    /// differ in case only, workspaces, SWR instances, and few distinct
    /// times, so that extremes tie.
    fn records() -> impl Strategy<Value = Vec<ImageVersion>> {
        let record = (
            0u8..40,
            select(vec!["torch", "Torch", "tf", "t", "", "a\0b", "Ä-torch"]),
            select(vec!["ns", "team", ""]),
            select(vec!["0", "ws1", ""]),
            select(vec![None, Some("inst-1"), Some("inst-2")]),
            (select(ImageType::ALL), select(ServiceType::ALL)),
            (-3i64..3, -3i64..3),
            prop::option::of(select(vec!["", "v1"])),
        )
            .prop_map(|(id, name, ns, ws, instance, (t, s), (c, u), tag)| {
                let mut v = ImageVersion::new(format!("id-{id}"), name, ns, t, c, u)
                    .with_workspace_id(ws)
                    .with_service_type(s);
                v.swr_instance_id = instance.map(String::from);
                v.tag = tag.map(String::from);
                v
            });
        prop::collection::vec(record, 0..120)
    }

    const QUERIES: [&str; 14] = [
        "",
        "workspace_id=ws1",
        "workspace_id=ws1&name=t&sort_key=name",
        "name=torch&name_fuzzy_match=false",
        "name=to",
        "name=b",
        "namespace=team&sort_key=name&sort_dir=asc",
        "swr_instance_id=inst-1",
        "workspace_id=ws1&swr_instance_id=inst-2&sort_key=version_count",
        "type=DEDICATED&sort_key=create_at&sort_dir=asc",
        "service_type=TRAIN&sort_key=update_at",
        "sort_key=name&offset=2&limit=3",
        "sort_key=version_count&sort_dir=asc&limit=1",
        "name=t&type=BUILD_IN&limit=50",
    ];

    /// The catalog's answers to [`QUERIES`] and its versions, by id; first
    /// checks that each workspace's update bucket bytes follow its groups.
    fn observe(catalog: &Catalog) -> (Vec<ImageGroupPage>, Vec<ImageVersion>) {
        for ws in &catalog.workspaces {
            assert_update_buckets_follow_the_groups(ws);
        }
        let pages = QUERIES
            .iter()
            .map(|q| catalog.query(&GroupQuery::from_query_string(q).expect("a valid query")))
            .collect();
        let mut versions: Vec<ImageVersion> = catalog.versions().map(|v| v.to_version()).collect();
        versions.sort_by(|a, b| a.id.cmp(&b.id));
        for v in &versions {
            assert_eq!(
                catalog.get(&v.id).map(|lent| lent.to_version()).as_ref(),
                Some(v)
            );
        }
        (pages, versions)
    }

    /// Every live group of `ws` has the bucket of its `update_at` in the
    /// update bucket bytes, and every free slot none.
    fn assert_update_buckets_follow_the_groups(ws: &Workspace) {
        assert_eq!(ws.update_buckets.len(), ws.groups.len());
        for (g, group) in ws.groups.iter().enumerate() {
            let g = g as u32;
            let bucket = group
                .is_live()
                .then(|| ws.names.bucket(ws.states.get(g, None).update_at));
            assert!(ws.update_buckets.is(g, bucket), "group {g}: {bucket:?}");
        }
    }

    /// A bulk load on two threads, on one, and with key hashes cut to two
    /// bits (so that groups of different keys share a hash and the load must
    /// tell them apart by key) is the catalog that upserting the records one
    /// by one makes (the upsert path is checked against `group_images` in
    /// tests/catalog.rs), before and after removals and upserts.
    /// When the system refuses the second thread, a bulk load does that
    /// thread's work on the calling one: the same catalog, no panic.
    #[test]
    fn a_refused_thread_leaves_the_bulk_load_to_the_calling_thread() {
        let records: Vec<ImageVersion> = (0..3000u32)
            .map(|i| {
                ImageVersion::new(
                    format!("id-{i}"),
                    format!("torch-{}", i % 700),
                    "ns",
                    ImageType::ALL[(i % 2) as usize],
                    i64::from(i),
                    i64::from(i % 97),
                )
            })
            .collect();
        let alone = Catalog::build(records.clone(), false, 64);
        crate::threads::REFUSE_THREADS.set(true);
        let refused = Catalog::build(records, true, 64);
        crate::threads::REFUSE_THREADS.set(false);
        assert_eq!(refused.len(), 3000);
        assert_eq!(observe(&refused), observe(&alone));
    }

    /// A catalog whose upserts keep bringing newer times (so many groups
    /// move into the newest update bucket that its bounds are cut again)
    /// answers as the bulk load of the records it ends with.
    #[test]
    fn upserts_of_ever_newer_times_answer_as_a_bulk_load() {
        let version = |i: u32, update_at: i64| {
            ImageVersion::new(
                format!("id-{i}"),
                format!("Torch-{i}"),
                "ns",
                ImageType::ALL[(i % 2) as usize],
                0,
                update_at,
            )
        };
        let mut catalog = Catalog::from_records((0..6000).map(|i| version(i, i64::from(i))));
        let mut last: Vec<ImageVersion> = (0..6000).map(|i| version(i, i64::from(i))).collect();
        for i in 0..5000u32 {
            let moved = version(i, 10_000 + i64::from(i));
            catalog.upsert(moved.clone());
            last[i as usize] = moved;
        }
        let built = Catalog::from_records(last);
        assert_update_buckets_follow_the_groups(&catalog.workspaces[0]);
        for q in [
            "name=torch-4&sort_key=update_at",
            "name=torch&type=DEDICATED&limit=50&sort_key=update_at",
            "name=rch-1&sort_key=update_at&sort_dir=asc&limit=20&offset=5",
            "name=torch&sort_key=update_at&offset=4090&limit=6",
            "name=torch-4",
        ] {
            let query = GroupQuery::from_query_string(q).expect("a valid query");
            assert_eq!(catalog.query(&query), built.query(&query), "{q}");
        }
    }

    /// A catalog built by upserts alone, whose folded names are written
    /// again as its group numbers outgrow their owner bytes (past 32 and
    /// 4,096 groups), answers fuzzy names as the bulk load of the same
    /// records does, before and after removals.
    #[test]
    fn upserts_past_the_owner_bytes_widths_answer_as_a_bulk_load() {
        let records: Vec<ImageVersion> = (0..5000u32)
            .map(|i| {
                ImageVersion::new(
                    format!("id-{i}"),
                    format!("Torch-{}", i % 4500),
                    "ns",
                    ImageType::ALL[(i % 3 % 2) as usize],
                    i64::from(i % 700),
                    i64::from(i % 997),
                )
            })
            .collect();
        let mut upserted = Catalog::new();
        for v in records.clone() {
            upserted.upsert(v);
        }
        let mut built = Catalog::from_records(records);
        let queries = [
            "name=torch",
            "name=torch-1&type=DEDICATED",
            "name=rch-2&type=BUILD_IN&sort_dir=asc&limit=50",
            "name=h-4&offset=20&limit=30",
        ];
        for round in 0..2 {
            for q in queries {
                let query = GroupQuery::from_query_string(q).expect("a valid query");
                assert_eq!(
                    upserted.query(&query),
                    built.query(&query),
                    "{q}, round {round}"
                );
            }
            for i in (0..5000).step_by(7) {
                let id = format!("id-{i}");
                assert_eq!(upserted.remove(&id), built.remove(&id));
            }
            for catalog in [&upserted, &built] {
                assert_update_buckets_follow_the_groups(&catalog.workspaces[0]);
            }
        }
    }

    #[test]
    fn bulk_loads_equal_upserts_on_two_threads_one_and_with_colliding_hashes() {
        let config = ProptestConfig::with_cases(128);
        proptest!(config, |(
            records in records(),
            removals in prop::collection::vec(0u8..40, 0..20),
            upserts in records(),
        )| {
            let mut want = Catalog::new();
            for v in records.clone() {
                want.upsert(v);
            }
            for (two_threads, hash_bits) in [(true, 64), (false, 64), (true, 2), (false, 0)] {
                let mut built = Catalog::build(records.clone(), two_threads, hash_bits);
                let mut want = want.clone();
                prop_assert_eq!(built.len(), want.len());
                prop_assert_eq!(observe(&built), observe(&want), "{} {}", two_threads, hash_bits);
                for id in &removals {
                    let id = format!("id-{id}");
                    prop_assert_eq!(built.remove(&id), want.remove(&id));
                }
                for v in upserts.iter().take(30) {
                    prop_assert_eq!(built.upsert(v.clone()), want.upsert(v.clone()));
                }
                prop_assert_eq!(observe(&built), observe(&want), "{} {} after updates", two_threads, hash_bits);
            }
        });
    }
}
