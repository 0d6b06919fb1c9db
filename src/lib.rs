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
//! # Entry points
//!
//! * [`group_images`] answers a query over records in memory, on the calling
//!   thread; [`group_images_parallel`] splits a large slice over the
//!   machine's cores. Both give the same page.
//! * [`Catalog`] keeps an index for a service that answers again and again
//!   over versions that change a little at a time: updates one version at a
//!   time, answers per group instead of per version. A query over a large
//!   workspace, and a build from 16,384 records or more, use a second
//!   thread for part of their work when the machine has two cores (see
//!   [`Catalog::query`] and [`Catalog::from_records`]).
//! * [`PartialGroups`]: for records spread over shards, each shard groups its
//!   own, and one node merges the partials and pages.
//! * [`parse_records`] reads records text (a JSON array, a saved
//!   `GET /v1/{project_id}/images` page, or NDJSON), on the machine's cores
//!   when it is long; [`parse_records_reader`] reads it from a file.
//! * [`group_records_reader`] and [`group_records_text`] answer one query
//!   over records text without holding the records: they are parsed,
//!   filtered and grouped as they are read, on the machine's cores, so
//!   memory grows with the groups, not the records. The same page, and the
//!   same errors, as [`parse_records`] then [`group_images`].
//!   [`group_records_reader_many`] and [`group_records_text_many`] answer
//!   several queries in one such pass.
//!
//! All of them give exactly the same page for the same versions and query.
//!
//! # The data flow
//!
//! Each step has its own module: query (parse, validate) → filter → scan
//! (driver, group table, pipeline, read-ahead) → order and page → response.
//! The catalog and the partials are the scan's siblings: they keep the same
//! group aggregates and share the ordering. Records text takes one of two
//! roads in: parsed into [`ImageVersion`]s (records text), or streamed
//! (records stream: cut into chunks at record boundaries, each chunk's
//! records borrowed from its text, filtered by the same filter and counted
//! into the scan's group table, one table per thread, merged before the
//! order and page).
//!
//! Both roads share one chunker and one record parser (`records_stream`):
//! [`parse_records`] and [`parse_records_bytes`] themselves parse a text of
//! 128 KiB or more on every core, through the same chunks as the stream,
//! each chunk's versions put back in the text's order; a shorter text is
//! parsed on the calling thread, since threads would cost more than they
//! save. This is the functions' own implementation rather than a new one,
//! so that every caller (a service's loader, a `Catalog` built from a file)
//! gains without a choice to make, and the contract is unchanged: the
//! result is exactly that of serde on one thread (the exact path). Anything
//! the chunks are unsure of (an error, a single record, a possibly
//! repeated `id`) sends the whole text down the exact path, so every error
//! comes from one place. [`parse_records_reader`] does the same over a
//! file without holding its whole text beside the versions.
//!
//! Several queries over one text ([`group_records_reader_many`]) stream
//! once: queries that differ only in order and paging share a filter (as
//! partials do), every thread counts each record into the group table of
//! each distinct filter it matches, the tables merge per filter, and each
//! query is ordered and paged from its filter's table. Memory is then the
//! distinct filters times their groups; past [`MAX_STREAMED_FILTERS`]
//! distinct filters the records are parsed once and held instead, and
//! each query scans them. The pass takes that path too once its tables
//! hold more bytes than the whole text (and 16 MiB), so that it never
//! holds much more than holding the records would.
//!
//! # Query
//!
//! [`GroupQuery`] is parsed from a query string
//! ([`GroupQuery::from_query_string`]), deserialized (serde, from the same
//! string) or built with validating setters. An invalid query is a
//! [`QueryError`] carrying the ModelArts error code and HTTP status, so
//! answering a query cannot fail. The parameters and their rules:
//!
//! | parameter | rule | default |
//! |---|---|---|
//! | `name` | 1 to 512 of `a-z 0-9 - _ .`; empty: no filter | no filter |
//! | `name_fuzzy_match` | `true` or `false`, any case | `true` |
//! | `namespace` | 1 to 64: a lower-case letter, then `A-Z a-z 0-9 - _ .` | no filter |
//! | `type` | `BUILD_IN` or `DEDICATED` | no filter |
//! | `service_type` | `COMMON`, `INFERENCE`, `TRAIN`, `DEV` or `UNKNOWN` | no filter |
//! | `workspace_id` | 1 to 64 of `A-Z a-z 0-9 - _` | `0` |
//! | `swr_instance_id` | 1 to 64 of `A-Z a-z 0-9 - _` (an instance id is a UUID) | no filter |
//! | `offset` | 0 to 2147483647 | 0 |
//! | `limit` | 1 to 2147483647 | 200 |
//! | `sort_key` | comma-separated [`SortField`]s, each once | `update_at` |
//! | `sort_dir` | `ASC` or `DESC`, any case | `DESC` |
//!
//! A `sort_key` field that cannot be sorted on is `ModelArts.6303`; every
//! other broken rule is `ModelArts.0104`.
//!
//! # Filter
//!
//! A version matches when its `workspace_id` equals the query's (a query
//! sees exactly one workspace), and its `type`, `service_type`,
//! `swr_instance_id` and `namespace` equal the query's where given. Without
//! `swr_instance_id`, a query sees the repositories of the shared SWR and of
//! every SWR enterprise instance, each group saying which instance it is in;
//! with it, only that instance's. `name` matches exactly with
//! `name_fuzzy_match=false`, and otherwise as a substring,
//! ASCII-case-insensitively (`PyTorch` matches `torch`; only ASCII letters
//! fold, so `Ä` never matches `ä`).
//!
//! # Groups
//!
//! Matching versions are grouped by SWR repository: `(namespace, name)` in
//! the shared SWR or in one SWR enterprise instance (`swr_instance_id`), so
//! one namespace and name in two instances are two groups.
//! A group counts its matching versions (`version_count`) and keeps the
//! smallest `create_at` and the largest `update_at` of them (UTC
//! milliseconds).
//!
//! # Order and paging
//!
//! Groups are ordered by the `sort_key` fields in turn, each in `sort_dir`,
//! then by `name` and `namespace` ascending where not already used, then by
//! `swr_instance_id` (the shared SWR first, then instances ascending),
//! comparing strings byte-wise. No two groups share a repository, so the
//! order is total and pages never repeat or skip a group. The page is
//! `groups[offset..offset + limit]`; past the last group it is empty.
//!
//! # Response
//!
//! [`ImageGroupPage`] serializes as the API answers: `current`
//! (`offset / limit + 1`), `data`, `pages` (`ceil(total / limit)`), `size`
//! (groups on this page) and `total` (groups on all pages). Each
//! [`ImageGroup`] serializes as `create_at, name, namespace, update_at,
//! version_count`, and a group in an SWR enterprise instance carries
//! `swr_instance_id` after `namespace` (absent otherwise, so a shared-SWR
//! page is byte for byte the API page's example).
//!
//! Of the optional fields of the official SDKs' response model, the group's
//! `swr_instance_id` is served. Not served, since version records do not
//! carry them or they restate the query: the page's `is_swr_enterprise`
//! (whether the query named an instance), and a group's `id`,
//! `description`, `read_me`, `icon_name` and `swr_instance_name`
//! (repository metadata kept by SWR, not by image versions). The SDKs read
//! an absent field as `None`.
//!
//! # Decisions where the API is silent
//!
//! * The group key is `(namespace, name)`, not the name alone: the same name
//!   in two organizations is two repositories, and each row carries one
//!   namespace.
//! * [`group_images`] counts the versions it is given: two with one `id`
//!   count twice. Records text is stricter: an `id` names one version, so
//!   [`parse_records`] refuses a text that repeats one, naming both records,
//!   and one records file gives one answer through the scan, a [`Catalog`]
//!   (whose `upsert` replaces by `id`) and the programs built on them.
//! * In records, an absent or `null` `workspace_id` is `"0"`, an absent or
//!   `null` `service_type` is `UNKNOWN`, and an absent, `null` or empty
//!   `swr_instance_id` is the shared SWR. `update_at` earlier than `create_at`
//!   is kept as it is.
//! * Record strings are not validated (stored data may be messy).
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
//! # API conventions
//!
//! * **Absent is `None`.** A filter that is not set is `None` in every setter
//!   and getter of [`GroupQuery`]; only the query string spells "no name
//!   filter" as an empty `name`, as the API does.
//! * **Counts are `u32`** in setters and getters alike (`offset`, `limit`),
//!   checked against [`MAX_OFFSET_OR_LIMIT`].
//! * **Value types** ([`GroupQuery`], [`SortField`], [`SortDir`],
//!   [`ImageType`], [`ServiceType`]) all have `Display` and `FromStr`
//!   (which round-trip), serde through the same strings (so a deserialized
//!   value is validated like a parsed one), `Clone`, `Debug`, `Eq` and
//!   `Hash`; the enums have `ALL` and `as_str`, and those with an API
//!   default implement `Default`.
//! * **One error for values**: every `FromStr`, setter and deserializer of a
//!   query value fails with [`QueryError`], naming the parameter. Records
//!   text fails with [`RecordsError`]; merging partials of different
//!   filters (or counting more than `u64::MAX` versions) with
//!   [`PartialsError`]. Errors are opaque structs with
//!   accessors, so that they can grow.
//! * **Growth**: [`ImageType`], [`ServiceType`], [`SortField`],
//!   [`ImageVersion`], [`ImageGroup`] and [`ImageGroupPage`] are
//!   `#[non_exhaustive]`, since the API adds values and fields; build an
//!   [`ImageVersion`] with [`ImageVersion::new`].
//! * **Borrowed where possible**: [`Catalog::get`] and
//!   [`Catalog::versions`] lend [`VersionRef`]s instead of rebuilding owned
//!   versions.
//! * **Memory kept between calls**: [`group_images`] and
//!   [`group_images_parallel`] keep the memory of at most two of their group
//!   tables of at most 16 MiB each (32 MiB in all, for the process; a larger
//!   table is freed) for the next scan, which writes its groups there instead
//!   of into fresh memory that the operating system must fault in and zero
//!   page by page. Whether a freed table came back fresh depended on what the
//!   process had allocated before, so the same query's time varied between
//!   calls (BENCHMARKS.md, "the two-thread scan's spread").
//! * **Threads kept between calls**: the first call that works on two
//!   threads or more ([`group_images_parallel`], a large [`Catalog`]'s query
//!   or build) starts one thread fewer than the machine's cores, and keeps
//!   them, asleep, for the next calls: a thread started for each call
//!   waited up to the scheduler's next tick (4 ms) whenever the other core
//!   was busy. One call
//!   holds them at a time: a call made meanwhile (another thread of a
//!   service) starts threads of its own, as does a call in a child process
//!   made by `fork` (which has none of the parent's threads). A call that
//!   can have no thread at all (a process limit) does its work on the
//!   calling thread. Parsing records on both cores ([`parse_records`],
//!   [`group_records_reader`]) starts its own thread for each call.
//! * **Times are `i64` UTC milliseconds.** The optional `chrono` feature adds
//!   [`ImageGroup`] helpers that return `chrono` date-times; without it the
//!   crate's public API has no `chrono` types.
//!
//! # Unsafe code
//!
//! The crate denies `unsafe_code` with two exceptions, both hints that
//! change no data: a cache prefetch, into every cache or the outer ones only
//! (the standard library's prefetch intrinsic is `unsafe` to call, and the
//! scan's benchmark measured it worth having: a prefetch, unlike a load, does
//! not stall the processor; it reads nothing the program can see and cannot
//! fault), and on Linux an
//! `madvise(MADV_HUGEPAGE)` on the scan's large fresh blocks of 4 MiB and
//! more: the group table's index, group lists and key arena, and the key
//! vector the ordering fills for a page past its bounded heap (deep offsets
//! over many groups, in the scan and the `Catalog` alike). A table of many
//! groups (more than the scan keeps between calls) is fresh memory on every
//! query, written and then read at random: in huge pages it takes far fewer
//! page faults and TLB misses.

#![deny(unsafe_code)]
#![deny(missing_docs)]

// Query: parameters, validation, parsing.
mod params;
mod query;
mod query_error;
mod query_string;
mod shown;
mod sort;
// Records: one version and reading records text.
mod kinds;
mod records_error;
mod records_stream;
mod records_text;
mod version;
// Filter, scan, order and page, response.
mod bytes;
mod filter;
mod huge_pages;
mod name_match;
mod order;
mod prefetch;
mod response;
mod scan;
mod threads;
// What the scan, the catalog and the partials share, and the two siblings.
mod catalog;
mod group_state;
mod partial;

pub use crate::catalog::{Catalog, VersionRef};
pub use crate::kinds::{ImageType, ServiceType};
pub use crate::partial::{PartialGroups, PartialsError};
pub use crate::query::{GroupQuery, DEFAULT_LIMIT, MAX_OFFSET_OR_LIMIT};
pub use crate::query_error::QueryError;
pub use crate::records_error::RecordsError;
pub use crate::records_stream::{
    group_records_reader, group_records_reader_many, group_records_text, group_records_text_many,
    parse_records_reader, MAX_STREAMED_FILTERS,
};
pub use crate::records_text::{parse_records, parse_records_bytes};
pub use crate::response::{ImageGroup, ImageGroupPage};
pub use crate::scan::{group_images, group_images_parallel};
pub use crate::sort::{SortDir, SortField};
pub use crate::version::ImageVersion;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
