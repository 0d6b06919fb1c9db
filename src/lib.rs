//! The ModelArts "Obtaining User Image Groups" query
//! (`GET /v1/{project_id}/images/group`) as a pure, in-memory library: a flat
//! list of image-version records goes in, one page of image groups comes out.
//!
//! ```
//! use image_groups::{group_images, parse_records, GroupQuery};
//!
//! let records = parse_records(r#"[
//!   {"id": "1", "name": "pytorch", "namespace": "ml", "type": "DEDICATED",
//!    "create_at": 1000, "update_at": 5000},
//!   {"id": "2", "name": "pytorch", "namespace": "ml", "type": "DEDICATED",
//!    "create_at": 2000, "update_at": 3000},
//!   {"id": "3", "name": "tensorflow", "namespace": "ml", "type": "BUILD_IN",
//!    "create_at": 1500, "update_at": 4000}
//! ]"#).unwrap();
//!
//! // `name` matches as a case-insensitive substring by default.
//! let query: GroupQuery = "name=torch&sort_key=name".parse().unwrap();
//! let page = group_images(&records, &query);
//! assert_eq!(page.total, 1);
//! assert_eq!(page.data[0].name, "pytorch");
//! assert_eq!(page.data[0].version_count, 2);
//! assert_eq!((page.data[0].create_at, page.data[0].update_at), (1000, 5000));
//!
//! let bad = "limit=0".parse::<GroupQuery>().unwrap_err();
//! assert_eq!(bad.error_code(), "ModelArts.0104");
//! ```
//!
//! # The data flow
//!
//! Each step has its own module and type:
//!
//! 1. **Query** — [`GroupQuery`] is parsed from a query string
//!    ([`GroupQuery::from_query_string`]) or built with validating setters. An
//!    invalid query is a [`QueryError`] carrying the ModelArts error code and
//!    HTTP status, so [`group_images`] itself cannot fail.
//! 2. **Filter** — a version matches when its `workspace_id` equals the
//!    query's (`"0"` by default: a query sees one workspace), and `type`,
//!    `service_type` and `namespace` equal the query's where given. `name`
//!    matches exactly with `name_fuzzy_match=false`, and otherwise as a
//!    substring, ASCII-case-insensitively (`PyTorch` matches `torch`).
//! 3. **Aggregate** — matching versions are grouped by `(namespace, name)`:
//!    one SWR repository. A group counts its matching versions and keeps the
//!    smallest `create_at` and the largest `update_at`.
//! 4. **Order and page** — groups are ordered by the `sort_key` fields
//!    (default `update_at`) in `sort_dir` (default `DESC`), then by `name` and
//!    `namespace` ascending, comparing strings byte-wise. The order is total,
//!    so pages never repeat or skip a group. The page is
//!    `groups[offset..offset + limit]`.
//! 5. **Response** — [`ImageGroupPage`] serializes as the API answers:
//!    `current` (`offset / limit + 1`), `data`, `pages` (`ceil(total / limit)`),
//!    `size` and `total`.
//!
//! [`group_images`] runs on the calling thread over any iterator of records;
//! [`group_images_parallel`] splits a large slice over the machine's cores.
//! Both give the same page. A service that answers again and again over
//! versions that change a little at a time keeps a [`Catalog`], which takes
//! updates one version at a time and answers from its index. For records
//! spread over shards, each shard computes [`PartialGroups`], and one node
//! merges them and pages.
//!
//! # Decisions where the API is silent
//!
//! * The group key is `(namespace, name)`, not the name alone: the same name
//!   in two organizations is two repositories, and each row carries one
//!   namespace.
//! * Records are counted as given; two records with one `id` count twice.
//! * In records, an absent or `null` `workspace_id` is `"0"` and an absent or
//!   `null` `service_type` is `UNKNOWN`. `update_at` earlier than `create_at`
//!   is kept as it is.
//! * Record strings are not validated (stored data may be messy); fuzzy
//!   matching folds only ASCII letters, so `Ä` never matches `ä`.
//! * In a query string, names are case-sensitive, a parameter without `=` has
//!   the empty value, and empty pairs (`&&`) are skipped. An empty `name` or
//!   `sort_key` means "no filter" and "the default order"; every other
//!   parameter must satisfy its rule even when empty. `sort_key` fields are
//!   not trimmed, so `name, update_at` names the unknown field `" update_at"`
//!   (`ModelArts.6303`), and an empty field (`name,,update_at`) is
//!   `ModelArts.0104`. Numbers are plain ASCII digits: no sign, no spaces.
//!   When a query breaks several rules, the first parameter (and the first
//!   `sort_key` field) in the string that breaks one is reported.
//! * Percent-decoding replaces invalid UTF-8 with U+FFFD, which no rule
//!   accepts, so it yields an error rather than a silently different value.
//!
//! # Unsafe code
//!
//! The crate denies `unsafe_code` with one exception, a cache prefetch hint:
//! the standard library's prefetch intrinsic is `unsafe` to call, and the
//! scan's benchmark measured it worth having (a prefetch, unlike a load, does
//! not stall the processor). A prefetch reads nothing the program can see
//! and cannot fault, and it is given only addresses of live references.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod aggregate;
mod arena;
mod bytes;
mod catalog;
mod error;
mod filter;
mod order;
mod parse;
mod partial;
mod prefetch;
mod query;
mod record;
mod records;
mod response;

pub use crate::catalog::Catalog;
pub use crate::error::{QueryError, RecordsError};
pub use crate::partial::{FilterMismatch, PartialGroups};
pub use crate::query::{GroupQuery, SortDir, SortField, DEFAULT_LIMIT, MAX_OFFSET_OR_LIMIT};
pub use crate::record::{ImageType, ImageVersion, ParseEnumError, ServiceType};
pub use crate::records::{parse_records, parse_records_bytes};
pub use crate::response::{ImageGroup, ImageGroupPage};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use crate::aggregate::{GroupTable, PendingKey, Pipeline};
use crate::filter::VersionFilter;

/// Answers `query` over `records`: filters the versions, groups them by
/// `(namespace, name)`, orders the groups and returns the requested page.
///
/// `records` is anything that yields `&ImageVersion`: a slice, a `&Vec`, or an
/// iterator (to query a subset without copying it). The function cannot fail,
/// since a [`GroupQuery`] is valid by construction; it allocates state for
/// each matching group and owned strings only for the groups on the page.
///
/// ```
/// use image_groups::{group_images, GroupQuery, ImageType, ImageVersion, ServiceType};
///
/// let version = |name: &str, workspace: &str| ImageVersion {
///     id: format!("{name}-{workspace}"),
///     name: name.to_string(),
///     namespace: "ns".to_string(),
///     tag: None,
///     image_type: ImageType::Dedicated,
///     workspace_id: workspace.to_string(),
///     service_type: ServiceType::Unknown,
///     create_at: 0,
///     update_at: 0,
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
    let mut groups = GroupTable::new(foldhash::fast::RandomState::default());
    aggregate_into(&mut groups, records, query);
    order::page(&groups, query)
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
fn aggregate_into<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    query: &GroupQuery,
) {
    let mut filter = VersionFilter::new(query);
    if !filter.is_selective() || filter.has_fuzzy_name() {
        // Most records are read through: ask for each record's bytes and
        // strings a few records ahead (measured, with the key check of
        // `bytes_eq`: 1.1x to 1.3x faster on the aggregate benchmark
        // queries, 1.1x on the fuzzy one; on queries that reject most
        // records by a string's length it cost 1.2x to 1.4x).
        count_matching(
            groups,
            prefetch::Lookahead::new(records.into_iter()),
            &mut filter,
        );
    } else {
        count_matching(groups, records, &mut filter);
    }
}

/// The loop of [`aggregate_into`].
fn count_matching<'a>(
    groups: &mut GroupTable,
    records: impl IntoIterator<Item = &'a ImageVersion>,
    filter: &mut VersionFilter<'_>,
) {
    let selective = filter.is_selective();
    let mut pipeline = Pipeline::new();
    for version in records {
        let matches = if selective {
            filter.matches(version)
        } else {
            filter.matches_fields(version)
        };
        if !matches {
            continue;
        }
        let key = PendingKey {
            hash: groups.hash_key(version.name.as_bytes(), version.namespace.as_bytes()),
            version,
        };
        pipeline.push(groups, key);
    }
    pipeline.finish(groups);
}

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
    let next_piece = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut groups = GroupTable::new(hasher.clone());
        while let Some(piece) = records
            .chunks(piece_len.max(1))
            .nth(next_piece.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        {
            aggregate_into(&mut groups, piece, query);
        }
        groups
    };
    let tables: Vec<GroupTable> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        // The calling thread works too, rather than wait.
        let mut tables = vec![work()];
        tables.extend(handles.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }));
        tables
    });
    let mut tables = tables.into_iter();
    let mut groups = tables.next().unwrap_or_else(|| GroupTable::new(hasher));
    for other in tables {
        groups.merge(&other);
    }
    order::page(&groups, query)
}

/// Answers `query` over `records` like [`group_images`], splitting the scan
/// over the machine's cores (scoped threads, each grouping pieces of the
/// slice as it gets to them) and merging the partial groups before ordering.
///
/// It spawns no thread unless each thread would get at least 65,536 records,
/// below which the threads cost more than they save. Use it where a call may
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
    use proptest::prelude::*;

    fn record(name: u8, namespace: u8, ws: bool, t: i64) -> ImageVersion {
        ImageVersion {
            id: String::new(),
            name: format!("n{name}"),
            namespace: format!("s{namespace}"),
            tag: None,
            image_type: ImageType::Dedicated,
            workspace_id: if ws { "0" } else { "1" }.to_string(),
            service_type: ServiceType::Unknown,
            create_at: t,
            update_at: -t,
        }
    }

    proptest! {
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
