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

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aggregate;
mod error;
mod filter;
mod order;
mod parse;
mod query;
mod record;
mod records;
mod response;

pub use crate::error::{QueryError, RecordsError};
pub use crate::query::{GroupQuery, SortDir, SortField, DEFAULT_LIMIT, MAX_OFFSET_OR_LIMIT};
pub use crate::record::{ImageType, ImageVersion, ParseEnumError, ServiceType};
pub use crate::records::{parse_records, parse_records_bytes};
pub use crate::response::{ImageGroup, ImageGroupPage};

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use crate::aggregate::GroupTable;
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
    let mut filter = VersionFilter::new(query);
    let mut groups = GroupTable::default();
    for version in records {
        if filter.matches(version) {
            groups.add(version);
        }
    }
    order::page(&groups, query)
}
