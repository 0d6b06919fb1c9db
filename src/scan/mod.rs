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
use crate::group_state::GroupKey;
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::version::ImageVersion;

use self::pipeline::{PendingKey, Pipeline};
use self::read_ahead::Lookahead;
use self::table::GroupTable;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// Answers `query` over `records`: filters the versions, groups them by
/// `(namespace, name)`, orders the groups and returns the requested page.
///
/// `records` is anything that yields `&ImageVersion`: a slice, a `&Vec`, or an
/// iterator (to query a subset without copying it). The function cannot fail,
/// since a [`GroupQuery`] is valid by construction; it allocates state for
/// each matching group and owned strings only for the groups on the page.
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
    let mut groups = GroupTable::with_room_for(
        foldhash::fast::RandomState::default(),
        records.size_hint().0,
    );
    aggregate_into(&mut groups, records, query);
    crate::order::page(&groups, query)
}

/// Filters `records` and counts the matching ones into `groups`.
///
/// A scan's time is the time of waiting for memory: the records' strings
/// are scattered over the heap, and each matching version is a random access
/// into the group table. So the records and their strings are asked for a
/// few records ahead (unless the query is selective), each record is
/// filtered with one branch on the result, and each matching version is
/// counted through the table's [`Pipeline`], which asks for the table's
/// memory well before it is needed.
pub(crate) fn aggregate_into<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    query: &GroupQuery,
) {
    // Most records are read through unless a namespace or an exact name
    // rejects most of them on a length stored in the record: then reading
    // their strings ahead would cost more than it saves.
    let reads_strings =
        query.namespace().is_none() && (query.name().is_none() || query.name_fuzzy_match());
    if reads_strings {
        count_matching(groups, Lookahead::new(records.into_iter()), query);
    } else {
        count_matching(groups, records, query);
    }
}

/// The loop of [`aggregate_into`].
fn count_matching<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    query: &GroupQuery,
) {
    let mut filter = VersionFilter::new(query);
    let mut pipeline: Pipeline<PendingKey<'_>> = Pipeline::new();
    for version in records {
        if !filter.matches(version) {
            continue;
        }
        let key = PendingKey {
            hash: groups.hash_key(&GroupKey::of(version)),
            version,
        };
        pipeline.push(groups, key);
    }
    pipeline.finish(groups);
}

/// The share of new groups among the first piece's records, as
/// `(numerator, denominator)`, above which [`group_on_threads`] counts on
/// one thread.
const MANY_GROUPS: (usize, usize) = (3, 4);

/// Answers `query` over `records` on `threads` threads, then merges their
/// groups and pages.
///
/// Each thread groups pieces of `piece_len` records into its own table,
/// taking the next piece not yet taken, so that a thread slowed down by the
/// rest of the machine takes fewer pieces instead of holding up the answer.
fn group_on_threads(
    records: &[ImageVersion],
    query: &GroupQuery,
    threads: usize,
    piece_len: usize,
) -> ImageGroupPage {
    if threads <= 1 || records.len() < 2 {
        return group_images(records, query);
    }
    let hasher = foldhash::fast::RandomState::default();
    let piece_len = piece_len.max(1);
    let next_piece = AtomicUsize::new(0);
    // Set by the calling thread when most versions of its first piece
    // started a group of their own: the threads' tables would then hold
    // mostly different groups, and merging them would cost about what the
    // other threads save; so they stop after their current piece, and the
    // calling thread counts the rest.
    let one_thread = AtomicBool::new(false);
    let work = |mut groups: GroupTable, decides: bool| {
        let mut first = decides;
        while decides || !one_thread.load(Relaxed) {
            let Some(piece) = records
                .chunks(piece_len)
                .nth(next_piece.fetch_add(1, Relaxed))
            else {
                break;
            };
            aggregate_into(&mut groups, piece, query);
            if first {
                first = false;
                if groups.len() * MANY_GROUPS.1 > piece.len() * MANY_GROUPS.0 {
                    one_thread.store(true, Relaxed);
                }
            }
        }
        groups
    };
    let tables: Vec<GroupTable> = std::thread::scope(|scope| {
        // A thread the system refuses (a process limit) is one fewer: the
        // pieces go to the threads there are.
        let handles: Vec<_> = (1..threads)
            .filter_map(|_| {
                let groups = GroupTable::with_room_for(hasher.clone(), records.len() / threads);
                std::thread::Builder::new()
                    .spawn_scoped(scope, || work(groups, false))
                    .ok()
            })
            .collect();
        // The calling thread works too, rather than wait.
        let mut tables = vec![work(
            GroupTable::with_room_for(hasher.clone(), records.len()),
            true,
        )];
        tables.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        tables
    });
    let mut tables = tables.into_iter();
    let mut groups = tables.next().expect("the calling thread's table");
    for other in tables {
        groups.merge(&other);
    }
    crate::order::page(&groups, query)
}

/// Answers `query` over `records` like [`group_images`], splitting the scan
/// over the machine's cores (scoped threads, each grouping pieces of the
/// slice as it gets to them) and merging the partial groups before ordering.
///
/// It spawns no thread unless each thread would get at least 65,536 records,
/// below which the threads cost more than they save. When most of the
/// versions in the calling thread's first piece (a sixteenth of its share)
/// are groups of their own, the other threads stop after their current
/// piece and the calling thread counts the rest: the threads' partial groups
/// would mostly differ, and merging them would cost about what they saved. Use it where a call may
/// take the machine's cores for a moment (a batch job, a dedicated service);
/// [`group_images`] never spawns threads.
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
                group_on_threads(&records, &query, threads, piece_len),
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
                group_on_threads(&records, &query, threads, piece_len),
                group_images(&records, &query)
            );
        }
    }
}
