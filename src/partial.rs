//! Partial results for sharded data: each shard groups its own records, any
//! transport carries the partials as JSON, and one node merges and pages.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::aggregate::{GroupState, GroupTable};
use crate::query::GroupQuery;
use crate::record::ImageVersion;
use crate::response::ImageGroupPage;

/// The groups of one shard's matching versions, before ordering and paging.
///
/// When one tenant's versions are spread over shards, each shard computes
/// `PartialGroups::from_records(its_records, &query)`, serializes it (serde;
/// JSON works) and sends it to a coordinator, which merges the partials in
/// any order and grouping and turns the result into the page. Merging the
/// partials of any split of the records gives exactly the page
/// [`group_images`](crate::group_images) gives over all of them.
///
/// A partial remembers the filters it was computed with (`name`,
/// `name_fuzzy_match`, `namespace`, `type`, `service_type`, `workspace_id`),
/// and merging partials of different filters is an error rather than a silently
/// wrong page. Order and paging are the coordinator's: only the query given to
/// [`into_page`](Self::into_page) decides them.
///
/// ```
/// use image_groups::{group_images, parse_records, GroupQuery, PartialGroups};
///
/// let records = parse_records(r#"[
///   {"id": "1", "name": "torch", "namespace": "ml", "type": "DEDICATED", "create_at": 5, "update_at": 9},
///   {"id": "2", "name": "torch", "namespace": "ml", "type": "DEDICATED", "create_at": 2, "update_at": 3},
///   {"id": "3", "name": "tf", "namespace": "ml", "type": "DEDICATED", "create_at": 1, "update_at": 4}
/// ]"#).unwrap();
/// let query: GroupQuery = "sort_key=name&sort_dir=asc".parse().unwrap();
///
/// // Two shards, each with part of the records; the partials travel as JSON.
/// let shard_a = PartialGroups::from_records(&records[..1], &query);
/// let shard_b = PartialGroups::from_records(&records[1..], &query);
/// let wire_b = serde_json::to_string(&shard_b).unwrap();
///
/// let mut merged = shard_a;
/// merged.merge(serde_json::from_str(&wire_b).unwrap()).unwrap();
/// assert_eq!(merged.into_page(&query).unwrap(), group_images(&records, &query));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialGroups {
    /// The filter part of the query, as a canonical query string.
    filters: String,
    /// One entry per group.
    groups: Vec<PartialGroup>,
}

/// One group of a partial result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PartialGroup {
    name: String,
    namespace: String,
    version_count: u64,
    create_at: i64,
    update_at: i64,
}

/// Partial results computed with different filters, which cannot be merged.
///
/// ```
/// use image_groups::{GroupQuery, PartialGroups};
///
/// let a = PartialGroups::from_records([], &"type=DEDICATED".parse().unwrap());
/// let b = PartialGroups::from_records([], &"type=BUILD_IN".parse().unwrap());
/// let err = a.clone().merge(b).unwrap_err();
/// assert!(err.to_string().contains("type=DEDICATED"));
/// // Paging and order may differ from the shards' query; the filters may not.
/// assert!(a.into_page(&"type=DEDICATED&limit=5&sort_key=name".parse().unwrap()).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterMismatch {
    expected: String,
    found: String,
}

impl fmt::Display for FilterMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "partial results were computed with different filters: \"{}\" and \"{}\"",
            self.expected, self.found
        )
    }
}

impl std::error::Error for FilterMismatch {}

/// The filter part of `query` as a canonical query string: its `Display`
/// without the paging and order parameters, so that partials computed with
/// any paging merge.
fn filters_of(query: &GroupQuery) -> String {
    const ORDER_AND_PAGING: [&str; 4] = ["offset=", "limit=", "sort_key=", "sort_dir="];
    query
        .to_string()
        .split('&')
        .filter(|param| !ORDER_AND_PAGING.iter().any(|p| param.starts_with(p)))
        .collect::<Vec<_>>()
        .join("&")
}

impl PartialGroups {
    /// Groups the versions of `records` that match `query`'s filters.
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = &'a ImageVersion>,
        query: &GroupQuery,
    ) -> Self {
        let mut table = GroupTable::new(foldhash::fast::RandomState::default());
        crate::aggregate_into(&mut table, records, query);
        PartialGroups::from_table(&table, filters_of(query))
    }

    /// Folds `other` into this partial.
    ///
    /// # Errors
    /// [`FilterMismatch`] if the two were computed with different filters;
    /// `self` is then unchanged.
    pub fn merge(&mut self, other: PartialGroups) -> Result<(), FilterMismatch> {
        if self.filters != other.filters {
            return Err(FilterMismatch {
                expected: self.filters.clone(),
                found: other.filters,
            });
        }
        let mut table = self.table();
        table.add_states(other.groups.iter().map(PartialGroup::parts));
        *self = PartialGroups::from_table(&table, std::mem::take(&mut self.filters));
        Ok(())
    }

    /// Orders the groups as `query` asks and returns its page.
    ///
    /// # Errors
    /// [`FilterMismatch`] if `query`'s filters are not the ones the partials
    /// were computed with.
    pub fn into_page(self, query: &GroupQuery) -> Result<ImageGroupPage, FilterMismatch> {
        let filters = filters_of(query);
        if self.filters != filters {
            return Err(FilterMismatch {
                expected: self.filters,
                found: filters,
            });
        }
        Ok(crate::order::page(&self.table(), query))
    }

    /// The number of groups in this partial.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether this partial has no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    fn table(&self) -> GroupTable {
        let mut table = GroupTable::new(foldhash::fast::RandomState::default());
        table.add_states(self.groups.iter().map(PartialGroup::parts));
        table
    }

    fn from_table(table: &GroupTable, filters: String) -> Self {
        PartialGroups {
            filters,
            groups: (0..table.len())
                .map(|g| {
                    let state = table.state(g);
                    PartialGroup {
                        name: crate::order::owned(table.name(g)),
                        namespace: crate::order::owned(table.namespace(g)),
                        version_count: state.version_count,
                        create_at: state.create_at,
                        update_at: state.update_at,
                    }
                })
                .collect(),
        }
    }
}

impl PartialGroup {
    fn parts(&self) -> (&[u8], &[u8], GroupState) {
        (
            self.name.as_bytes(),
            self.namespace.as_bytes(),
            GroupState {
                version_count: self.version_count,
                create_at: self.create_at,
                update_at: self.update_at,
            },
        )
    }
}
