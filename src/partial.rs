//! Partial results for sharded data: each shard groups its own records, any
//! transport carries the partials as JSON, and one node merges and pages.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::group_state::{GroupKey, GroupState};
use crate::order::owned;
use crate::query::GroupQuery;
use crate::response::ImageGroupPage;
use crate::scan::table::GroupTable;
use crate::version::ImageVersion;

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
/// A partial keeps its groups in the scan's hash table, so merging costs one
/// look-up per incoming group, whatever the size of the partial merged into.
/// Serialized, it is `{"filters": "<canonical query string of the filters>",
/// "groups": [{"name", "namespace", "version_count", "create_at",
/// "update_at"}, ...]}`, a group in an SWR enterprise instance with its
/// `swr_instance_id` too; deserializing checks the filters as a query string
/// and merges groups that repeat a key. Two partials are equal when they
/// have the same filters and the same groups, in any order.
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
#[derive(Clone)]
pub struct PartialGroups {
    /// The filters: a query whose order and paging are the defaults.
    filters: GroupQuery,
    groups: GroupTable,
    /// The versions counted in all groups: merges check it, so that no
    /// group's count can overflow, whatever partials arrive.
    versions: u64,
}

/// One group of a partial result, as serialized.
#[derive(Serialize, Deserialize)]
struct WireGroup<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    namespace: std::borrow::Cow<'a, str>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    swr_instance_id: Option<std::borrow::Cow<'a, str>>,
    version_count: u64,
    create_at: i64,
    update_at: i64,
}

/// A partial result, as serialized.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    filters: GroupQuery,
    #[serde(borrow)]
    groups: Vec<WireGroup<'a>>,
}

/// Partial results that cannot be merged or paged: computed with different
/// filters, or together counting more than `u64::MAX` versions (which only a
/// crafted partial can).
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
pub struct PartialsError {
    kind: PartialsErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PartialsErrorKind {
    /// The two filters (boxed: an error stays one pointer wide).
    Filters(Box<(GroupQuery, GroupQuery)>),
    /// Counts that would not fit a `u64` together.
    TooManyVersions,
}

impl PartialsError {
    fn filters(expected: GroupQuery, found: GroupQuery) -> Self {
        PartialsError {
            kind: PartialsErrorKind::Filters(Box::new((expected, found))),
        }
    }
}

impl fmt::Display for PartialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PartialsErrorKind::Filters(filters) => write!(
                f,
                "partial results were computed with different filters: \"{}\" and \"{}\"",
                filters.0, filters.1
            ),
            PartialsErrorKind::TooManyVersions => {
                f.write_str("partial results count more than 2^64 - 1 versions together")
            }
        }
    }
}

impl std::error::Error for PartialsError {}

/// The filter part of `query`: the same query with the default order and
/// paging, so that partials computed with any paging merge.
pub(crate) fn filters_of(query: &GroupQuery) -> GroupQuery {
    let defaults = GroupQuery::default();
    query
        .clone()
        .with_sort_dir(defaults.sort_dir())
        .with_sort_key(defaults.sort_key().iter().copied())
        .and_then(|q| q.with_offset(defaults.offset()))
        .and_then(|q| q.with_limit(defaults.limit()))
        .expect("the default order and paging are valid")
}

impl PartialGroups {
    /// Groups the versions of `records` that match `query`'s filters.
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = &'a ImageVersion>,
        query: &GroupQuery,
    ) -> Self {
        let mut groups = GroupTable::new(foldhash::fast::RandomState::default());
        crate::scan::aggregate_into(&mut groups, records, query);
        let versions = (0..groups.len())
            .map(|g| groups.state(g).version_count)
            .sum();
        PartialGroups {
            filters: filters_of(query),
            groups,
            versions,
        }
    }

    /// Folds `other` into this partial: one look-up per group of `other`.
    ///
    /// # Errors
    /// [`PartialsError`] if the two were computed with different filters,
    /// or count more than `u64::MAX` versions together; `self` is then
    /// unchanged.
    pub fn merge(&mut self, other: PartialGroups) -> Result<(), PartialsError> {
        if self.filters != other.filters {
            return Err(PartialsError::filters(self.filters.clone(), other.filters));
        }
        self.versions = self
            .versions
            .checked_add(other.versions)
            .ok_or(PartialsError {
                kind: PartialsErrorKind::TooManyVersions,
            })?;
        self.groups.merge(&other.groups);
        Ok(())
    }

    /// Orders the groups as `query` asks and returns its page.
    ///
    /// # Errors
    /// [`PartialsError`] if `query`'s filters are not the ones the partials
    /// were computed with.
    pub fn into_page(self, query: &GroupQuery) -> Result<ImageGroupPage, PartialsError> {
        let filters = filters_of(query);
        if self.filters != filters {
            return Err(PartialsError::filters(self.filters, filters));
        }
        Ok(crate::order::page(&self.groups, query))
    }

    /// The number of groups in this partial.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether this partial has no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.len() == 0
    }

    /// The groups as `(key, state)`, sorted by key.
    fn sorted_groups(&self) -> Vec<(GroupKey<'_>, GroupState)> {
        let mut groups: Vec<_> = (0..self.groups.len())
            .map(|g| (self.groups.key(g), self.groups.state(g)))
            .collect();
        groups.sort_unstable_by_key(|(k, _)| (k.name, k.namespace, k.swr_instance_id));
        groups
    }
}

impl PartialEq for PartialGroups {
    fn eq(&self, other: &Self) -> bool {
        self.filters == other.filters && self.sorted_groups() == other.sorted_groups()
    }
}

impl Eq for PartialGroups {}

impl fmt::Debug for PartialGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartialGroups")
            .field("filters", &self.filters.to_string())
            .field("groups", &self.groups.len())
            .finish()
    }
}

impl Serialize for PartialGroups {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let groups = (0..self.groups.len())
            .map(|g| {
                let key = self.groups.key(g);
                let state = self.groups.state(g);
                WireGroup {
                    name: owned(key.name).into(),
                    namespace: owned(key.namespace).into(),
                    swr_instance_id: key.swr_instance_id.map(|id| owned(id).into()),
                    version_count: state.version_count,
                    create_at: state.create_at,
                    update_at: state.update_at,
                }
            })
            .collect();
        Wire {
            filters: self.filters.clone(),
            groups,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PartialGroups {
    /// Reads the serialized form, checking what a partial made by
    /// [`PartialGroups::from_records`] always satisfies: the filters are a
    /// valid query string without order or paging parameters; each group
    /// counts at least one version, passes the filters' name, namespace and
    /// SWR instance, and appears once; the counts add up to at most
    /// `u64::MAX`. A partial that breaks one is an error, not a page.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let wire = Wire::deserialize(deserializer)?;
        if filters_of(&wire.filters) != wire.filters {
            return Err(D::Error::custom(format_args!(
                "the filters of a partial result hold order or paging parameters: \"{}\"",
                wire.filters
            )));
        }
        let filters = &wire.filters;
        let mut matcher = filters
            .name()
            .filter(|_| filters.name_fuzzy_match())
            .map(crate::name_match::NameMatcher::new);
        let mut groups = GroupTable::new(foldhash::fast::RandomState::default());
        let mut versions = 0u64;
        for g in &wire.groups {
            let instance = g.swr_instance_id.as_deref().filter(|id| !id.is_empty());
            let passes = filters.namespace().is_none_or(|ns| ns == g.namespace)
                && filters
                    .swr_instance_id()
                    .is_none_or(|id| Some(id) == instance)
                && match (&mut matcher, filters.name()) {
                    (Some(m), _) => m.matches(g.name.as_bytes()),
                    (None, Some(name)) => name == g.name,
                    (None, None) => true,
                };
            if !passes || g.version_count == 0 {
                return Err(D::Error::custom(format_args!(
                    "group {:?} in namespace {:?} of a partial result {}",
                    g.name,
                    g.namespace,
                    if passes {
                        "counts no version"
                    } else {
                        "does not pass its filters"
                    }
                )));
            }
            versions = versions.checked_add(g.version_count).ok_or_else(|| {
                D::Error::custom("a partial result counts more than 2^64 - 1 versions")
            })?;
            let key = GroupKey {
                name: g.name.as_bytes(),
                namespace: g.namespace.as_bytes(),
                // As in a record, an empty instance id is the shared SWR.
                swr_instance_id: instance.map(str::as_bytes),
            };
            let state = GroupState {
                version_count: g.version_count,
                create_at: g.create_at,
                update_at: g.update_at,
            };
            let before = groups.len();
            groups.count(groups.hash_key(&key), &key, state);
            if groups.len() == before {
                return Err(D::Error::custom(format_args!(
                    "group {:?} in namespace {:?} appears twice in a partial result",
                    g.name, g.namespace
                )));
            }
        }
        Ok(PartialGroups {
            filters: wire.filters,
            groups,
            versions,
        })
    }
}
