//! The scan (crate docs, "The data flow"): filter the records, count each
//! matching version into its group, order and page. The driver lives here;
//! the group table, its record format, the pipeline and the read-ahead each
//! have their own file.

mod arena;
mod group_record;
pub(crate) mod pipeline;
pub(crate) mod read_ahead;
pub(crate) mod table;

use crate::filter::VersionFilter;
use crate::group_state::{GroupKey, GroupState};
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::version::ImageVersion;

use self::pipeline::{PendingKey, Pipeline};
use self::read_ahead::{records_ahead, strings_ahead};
use self::table::GroupTable;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// Answers `query` over `records`: filters the versions, groups them by
/// `(namespace, name)`, orders the groups and returns the requested page.
///
/// `records` is anything that yields `&ImageVersion`: a slice, a `&Vec`, or an
/// iterator (to query a subset without copying it). The function cannot fail,
/// since a [`GroupQuery`] is valid by construction; it allocates state for
/// each matching group and owned strings only for the groups on the page,
/// and keeps its group table's memory, up to 16 MiB, for the next call
/// (crate docs, "Memory kept between calls").
///
/// ```
/// use image_groups::{group_images, GroupQuery, ImageType, ImageVersion};
///
/// let version = |name: &str, workspace: &str| {
///     ImageVersion::new(format!("{name}-{workspace}"), name, "ns", ImageType::Dedicated, 0, 0)
///         .with_workspace_id(workspace)
/// };
/// let records = vec![version("a", "0"), version("b", "0"), version("c", "ws1")];
///
/// // A slice, a &Vec or an iterator of references.
/// let page = group_images(&records, &GroupQuery::default());
/// assert_eq!(page.total, 2); // "c" is in another workspace
/// let page = group_images(records.iter().skip(1), &GroupQuery::default());
/// assert_eq!(page.total, 1);
/// ```
pub fn group_images<'a, I>(records: I, query: &GroupQuery) -> ImageGroupPage
where
    I: IntoIterator<Item = &'a ImageVersion>,
{
    let records = records.into_iter();
    let mut groups = GroupTable::reused_or_new(
        foldhash::fast::RandomState::default(),
        records.size_hint().0,
    );
    aggregate_into(&mut groups, records, query);
    let page = crate::order::page(&groups, query);
    groups.leave();
    page
}

/// Filters `records` and counts the matching ones into `groups`.
///
/// A scan's time is the time of waiting for memory: the records' strings
/// are scattered over the heap, and each matching version is a random access
/// into the group table. So (unless the query is selective) the records are
/// asked for a few records ahead, and those the record alone does not
/// reject have their strings asked for a few such records ahead; each record
/// is filtered with one branch on the result, and each matching version is
/// counted through the table's [`Pipeline`], which asks for the table's
/// memory well before it is needed (or at once while the table is small
/// enough to stay in the cache, [`CACHED_GROUPS`]).
pub(crate) fn aggregate_into<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    query: &GroupQuery,
) {
    aggregate_part_into(groups, records, query, |_| true);
}

/// [`aggregate_into`], counting only the matching versions whose key hash
/// `in_part` takes: one thread's share of the groups where the threads
/// split them by hash ([`group_on_threads`]).
fn aggregate_part_into<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    query: &GroupQuery,
    in_part: impl Fn(u64) -> bool,
) {
    // Most records are read through unless a namespace or an exact name
    // rejects most of them on a length stored in the record: then reading
    // their strings ahead would cost more than it saves.
    let reads_strings =
        query.namespace().is_none() && (query.name().is_none() || query.name_fuzzy_match());
    let filter = VersionFilter::new(query);
    if reads_strings {
        let own = filter.own_fields();
        let candidates = records_ahead(records.into_iter()).filter(|v| own.may_match(*v));
        count_matching(
            groups,
            strings_ahead(candidates),
            filter,
            in_part,
            CACHED_GROUPS,
        );
    } else {
        count_matching(groups, records, filter, in_part, CACHED_GROUPS);
    }
}

/// The loop of [`aggregate_part_into`]: versions are counted into the
/// table at once while it holds fewer than `cached_groups` groups, then
/// through the [`Pipeline`].
fn count_matching<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    mut filter: VersionFilter<'_>,
    in_part: impl Fn(u64) -> bool,
    cached_groups: usize,
) {
    let mut pipeline: Pipeline<PendingKey<'_>> = Pipeline::new();
    for version in records {
        if !filter.matches(version) {
            continue;
        }
        let key = GroupKey::of(version);
        let hash = groups.hash_key(&key);
        if !in_part(hash) {
            continue;
        }
        // A table this small stays in the cache: prefetching its memory
        // would only cost. Tables only grow, so once versions go through
        // the pipeline they all do, and each is counted in its turn.
        if groups.len() < cached_groups {
            groups.count(hash, &key, GroupState::of(version));
        } else {
            pipeline.push(groups, PendingKey { hash, version });
        }
    }
    pipeline.finish(groups);
}

/// Below how many groups the scan counts a version into the table at once
/// instead of through the [`Pipeline`] ([`count_matching`]): a table this
/// small (a few hundred KiB) stays in the processor's cache.
const CACHED_GROUPS: usize = 4096;

/// The bit of a key's hash that splits the groups between two threads
/// ([`group_on_threads`]): one the group table uses neither for a key's
/// first slot (the top bits) nor for a slot's tag (the low bits), so that
/// each thread's table spreads its keys as well as one table would.
const PART_BIT: u64 = 1 << 32;

/// The share of new groups among the first piece's records, as
/// `(numerator, denominator)`, above which [`group_on_threads`] splits the
/// groups between two threads instead of the records.
const MANY_GROUPS: (usize, usize) = (3, 4);

/// Answers `query` over `records` on `threads` threads, then merges their
/// groups and pages.
///
/// Each thread groups pieces of `piece_len` records into its own table,
/// taking the next piece not yet taken, so that a thread slowed down by the
/// rest of the machine takes fewer pieces instead of holding up the answer.
///
/// When most versions of the calling thread's first piece start a group of
/// their own (more than `many_groups`, a share as `(numerator,
/// denominator)`), the threads' tables would hold mostly different groups,
/// and merging them would cost about what the threads saved. Then every
/// thread stops after its current piece, and the rest of the records is
/// counted by two threads that split the groups instead of the records
/// ([`count_split`]): each reads all of the rest and counts only the
/// versions whose key hash has its value of [`PART_BIT`], into a table of
/// its own, so that no group is in both tables and nothing is merged but
/// the few pieces counted before.
fn group_on_threads(
    records: &[ImageVersion],
    query: &GroupQuery,
    threads: usize,
    piece_len: usize,
    many_groups: (usize, usize),
) -> ImageGroupPage {
    if threads <= 1 || records.len() < 2 {
        return group_images(records, query);
    }
    let hasher = foldhash::fast::RandomState::default();
    let piece_len = piece_len.max(1);
    let next_piece = AtomicUsize::new(0);
    // Set by the calling thread when most versions of its first piece
    // started a group of their own.
    let split = AtomicBool::new(false);
    let work = |mut groups: GroupTable, decides: bool| {
        let mut first = decides;
        while !split.load(Relaxed) {
            let Some(piece) = records
                .chunks(piece_len)
                .nth(next_piece.fetch_add(1, Relaxed))
            else {
                break;
            };
            aggregate_into(&mut groups, piece, query);
            if first {
                first = false;
                if groups.len() * many_groups.1 > piece.len() * many_groups.0 {
                    split.store(true, Relaxed);
                }
            }
        }
        groups
    };
    // The calling thread's table first: the one it merges into, it takes
    // the table kept last, the merged one (if a past scan left tables).
    let own = GroupTable::reused_or_new(hasher.clone(), records.len());
    let work = &work;
    let others: Vec<_> = (1..threads)
        .map(|_| {
            let groups = GroupTable::reused_or_new(hasher.clone(), records.len() / threads);
            move || work(groups, false)
        })
        .collect();
    // The calling thread works too, rather than wait. Work no thread can be
    // had for (a process limit) runs after it, and finds the pieces taken.
    let (others, own) = crate::threads::beside(others, || work(own, true));
    let tables: Vec<GroupTable> = std::iter::once(own).chain(others).collect();
    if split.load(Relaxed) {
        // Every piece taken was counted: the threads stop only before
        // taking one.
        let counted = next_piece.load(Relaxed).saturating_mul(piece_len);
        let rest = records.get(counted..).unwrap_or_default();
        let parts = count_split(rest, query, &hasher, &tables);
        let page = crate::order::page_on_threads(&parts, query, true);
        parts
            .parts
            .into_iter()
            .chain(tables)
            .for_each(GroupTable::leave);
        return page;
    }
    let mut tables = tables.into_iter();
    let mut groups = tables.next().expect("the calling thread's table");
    for other in tables {
        groups.merge(&other);
        other.leave();
    }
    let page = crate::order::page(&groups, query);
    groups.leave();
    page
}

/// The groups of `rest` and of the tables `counted` (built with `hasher`
/// from the records before `rest`), split by their key hash's
/// [`PART_BIT`] into two tables, counted on two threads (or one, if the
/// system refuses the thread).
fn count_split(
    rest: &[ImageVersion],
    query: &GroupQuery,
    hasher: &foldhash::fast::RandomState,
    counted: &[GroupTable],
) -> SplitGroups {
    let part = |bit: u64| {
        let mut groups = GroupTable::reused_or_new(hasher.clone(), rest.len() / 2);
        aggregate_part_into(&mut groups, rest, query, |hash| hash & PART_BIT == bit);
        for table in counted {
            groups.merge_where(table, |hash| hash & PART_BIT == bit);
        }
        groups
    };
    let (with_bit, without_bit) = crate::threads::both(true, || part(PART_BIT), || part(0));
    SplitGroups {
        parts: [without_bit, with_bit],
    }
}

/// Two tables that share no group, seen as one for the ordering: the
/// first table's groups, then the second's.
struct SplitGroups {
    parts: [GroupTable; 2],
}

impl SplitGroups {
    /// The table and the index in it of group `g`.
    #[inline(always)]
    fn locate(&self, g: usize) -> (&GroupTable, usize) {
        let first = self.parts[0].len();
        if g < first {
            (&self.parts[0], g)
        } else {
            (&self.parts[1], g - first)
        }
    }
}

impl crate::order::Groups for SplitGroups {
    fn len(&self) -> usize {
        self.parts[0].len() + self.parts[1].len()
    }
    fn name(&self, g: usize) -> &[u8] {
        let (table, g) = self.locate(g);
        table.name(g)
    }
    fn namespace(&self, g: usize) -> &[u8] {
        let (table, g) = self.locate(g);
        table.key(g).namespace
    }
    fn swr_instance_id(&self, g: usize) -> Option<&[u8]> {
        let (table, g) = self.locate(g);
        table.key(g).swr_instance_id
    }
    fn state(&self, g: usize) -> crate::group_state::GroupState {
        let (table, g) = self.locate(g);
        table.state(g)
    }
}

/// Answers `query` over `records` like [`group_images`], splitting the scan
/// over the machine's cores (threads each grouping pieces of the
/// slice as it gets to them) and merging the partial groups before ordering.
///
/// It uses no second thread unless each thread would get at least 65,536
/// records (on two cores: a slice of 131,072 or more), below which the
/// threads cost more than they save. The threads are kept between calls
/// (crate docs, "Threads kept between calls"). When most of the
/// versions in the calling thread's first piece (a sixteenth of its share)
/// are groups of their own, the threads' partial groups would mostly
/// differ, and merging them would cost about what they saved: the threads
/// stop after their current piece, and two threads count the rest with the
/// groups split between them by key hash (each reads all of the rest and
/// counts half the groups, so nothing is merged but the first pieces). Use
/// it where a call may take the machine's cores for a moment (a batch job,
/// a dedicated service): on a machine whose cores are busy, two threads
/// can take longer than one. [`group_images`] never spawns threads. Like
/// it, it keeps up to two group tables' memory (16 MiB each) for the next
/// call (crate docs, "Memory kept between calls").
///
/// ```
/// use image_groups::{group_images, group_images_parallel, GroupQuery};
/// # let records = image_groups::parse_records("[]").unwrap();
/// let q = GroupQuery::default();
/// assert_eq!(group_images_parallel(&records, &q), group_images(&records, &q));
/// ```
pub fn group_images_parallel(records: &[ImageVersion], query: &GroupQuery) -> ImageGroupPage {
    const MIN_PER_THREAD: usize = 1 << 16;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.min(records.len() / MIN_PER_THREAD);
    // About 16 pieces a thread: few enough that each piece's pipeline fills,
    // enough that a slowed thread costs at most a piece's time.
    group_on_threads(
        records,
        query,
        threads,
        records.len().div_ceil(threads.max(1) * 16),
        MANY_GROUPS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ImageType;
    use proptest::prelude::*;

    fn record(name: u8, namespace: u8, ws: bool, t: i64) -> ImageVersion {
        let v = ImageVersion::new(
            "",
            format!("n{name}"),
            format!("s{namespace}"),
            ImageType::Dedicated,
            t,
            -t,
        );
        v.with_workspace_id(if ws { "0" } else { "1" })
    }

    proptest! {
        /// Counting at once and through the pipeline give the same
        /// groups: a table switching between them at any size, over
        /// records with few or many groups, pages as one that only
        /// pipelines.
        #[test]
        fn counting_at_once_or_through_the_pipeline_gives_the_same_page(
            records in (prop::sample::select(vec![3u8, 255]), prop::collection::vec((any::<u8>(), 0u8..3, -50i64..50), 0..500))
                .prop_map(|(names, rs)| rs.into_iter().map(|(n, s, t)| record(n % names, s, true, t)).collect::<Vec<_>>()),
            cached_groups in prop::sample::select(vec![0usize, 1, 2, 17, 200, usize::MAX]),
            query in prop::sample::select(vec!["", "sort_key=name&limit=5&offset=1", "sort_key=version_count&sort_dir=asc"]),
        ) {
            let query: GroupQuery = query.parse().unwrap();
            let count = |cached_groups| {
                let mut groups = GroupTable::new(foldhash::fast::RandomState::default());
                count_matching(&mut groups, &records, VersionFilter::new(&query), |_| true, cached_groups);
                crate::order::page(&groups, &query)
            };
            prop_assert_eq!(count(cached_groups), count(0));
        }

        /// Scans one after another, each in the memory a past one left
        /// (of any size, from this or another test's scans), give the page
        /// of a table made new for the scan.
        #[test]
        fn scans_in_kept_tables_give_a_new_tables_page(
            scans in prop::collection::vec(
                (prop::sample::select(vec![3u8, 40, 255]), prop::collection::vec((any::<u8>(), 0u8..3, -50i64..50), 0..500)),
                1..6,
            ),
            query in prop::sample::select(vec!["", "sort_key=name&limit=5&offset=1", "sort_key=version_count&sort_dir=asc"]),
        ) {
            let query: GroupQuery = query.parse().unwrap();
            for (names, rs) in scans {
                let records: Vec<ImageVersion> = rs.into_iter().map(|(n, s, t)| record(n % names, s, true, t)).collect();
                let mut groups = GroupTable::new(foldhash::fast::RandomState::default());
                aggregate_into(&mut groups, &records, &query);
                let new = crate::order::page(&groups, &query);
                prop_assert_eq!(group_images(&records, &query), new.clone());
                prop_assert_eq!(group_on_threads(&records, &query, 2, 50, MANY_GROUPS), new);
            }
        }

        /// With few groups (the threads' path) or mostly distinct ones (the
        /// path that counts on one thread after the first piece), pieces
        /// grouped on threads give the one-thread page.
        #[test]
        fn few_or_many_groups_on_threads_give_the_same_page(
            records in (prop::sample::select(vec![2u8, 255]), prop::collection::vec((any::<u8>(), -50i64..50), 0..600))
                .prop_map(|(names, rs)| rs.into_iter().map(|(n, t)| record(n % names, 0, true, t)).collect::<Vec<_>>()),
            threads in 2usize..4,
            piece_len in 1usize..200,
            query in prop::sample::select(vec!["", "sort_key=name&limit=5&offset=1", "sort_key=version_count&sort_dir=asc"]),
        ) {
            let query: GroupQuery = query.parse().unwrap();
            prop_assert_eq!(
                group_on_threads(&records, &query, threads, piece_len, MANY_GROUPS),
                group_images(&records, &query)
            );
        }

        /// Grouping pieces on threads and merging gives the one-thread page.
        #[test]
        fn pieces_on_threads_merge_to_the_same_page(
            records in prop::collection::vec((0u8..40, 0u8..3, any::<bool>(), -50i64..50), 0..400)
                .prop_map(|rs| rs.into_iter().map(|(n, s, w, t)| record(n, s, w, t)).collect::<Vec<_>>()),
            threads in 1usize..6,
            piece_len in 0usize..60,
            query in prop::sample::select(vec!["", "name=n1", "sort_key=name&limit=7&offset=3", "sort_key=create_at,version_count&sort_dir=asc"]),
        ) {
            let query: GroupQuery = query.parse().unwrap();
            prop_assert_eq!(
                group_on_threads(&records, &query, threads, piece_len, MANY_GROUPS),
                group_images(&records, &query)
            );
        }

        /// With the groups split between two threads by key hash after the
        /// first pieces (forced here whatever the share of new groups, and
        /// with the thread refused too), or never split, the page is the
        /// one-thread page: no group lost or counted in both tables, the
        /// pieces counted before the split merged into the right table.
        #[test]
        fn groups_split_between_threads_by_hash_give_the_same_page(
            records in prop::collection::vec((0u8..60, 0u8..3, any::<bool>(), -50i64..50), 0..400)
                .prop_map(|rs| rs.into_iter().map(|(n, s, w, t)| record(n, s, w, t)).collect::<Vec<_>>()),
            threads in 2usize..5,
            piece_len in 1usize..60,
            split in any::<bool>(),
            refused in any::<bool>(),
            query in prop::sample::select(vec!["", "name=n1", "sort_key=name&limit=7&offset=3", "sort_key=create_at,version_count&sort_dir=asc", "sort_key=version_count&limit=2"]),
        ) {
            let query: GroupQuery = query.parse().unwrap();
            // (0, 1): any first piece with a group splits; (1, 0): none does.
            let many_groups = if split { (0, 1) } else { (1, 0) };
            crate::threads::REFUSE_THREADS.set(refused);
            let page = group_on_threads(&records, &query, threads, piece_len, many_groups);
            crate::threads::REFUSE_THREADS.set(false);
            prop_assert_eq!(page, group_images(&records, &query));
        }
    }
}
