//! Which versions match a query (crate docs, "Filter"): workspace, type,
//! service type, SWR instance, namespace and name.

use crate::bytes::bytes_eq;
use crate::kinds::{ImageType, ServiceType};
use crate::name_match::NameMatcher;
use crate::query::GroupQuery;
use crate::version::ImageVersion;

/// The fields of a version that [`VersionFilter::matches`] reads: an owned
/// [`ImageVersion`], or a record borrowed from the text it is parsed from
/// (`crate::records_stream`), so that both are filtered by one set of rules.
pub(crate) trait VersionFields {
    fn workspace_id(&self) -> &[u8];
    fn image_type(&self) -> ImageType;
    fn service_type(&self) -> ServiceType;
    fn namespace(&self) -> &[u8];
    fn name(&self) -> &[u8];
    /// `None` for the shared SWR.
    fn swr_instance_id(&self) -> Option<&[u8]>;
}

impl VersionFields for ImageVersion {
    #[inline(always)]
    fn workspace_id(&self) -> &[u8] {
        self.workspace_id.as_bytes()
    }
    #[inline(always)]
    fn image_type(&self) -> ImageType {
        self.image_type
    }
    #[inline(always)]
    fn service_type(&self) -> ServiceType {
        self.service_type
    }
    #[inline(always)]
    fn namespace(&self) -> &[u8] {
        self.namespace.as_bytes()
    }
    #[inline(always)]
    fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }
    #[inline(always)]
    fn swr_instance_id(&self) -> Option<&[u8]> {
        self.swr_instance_id.as_deref().map(str::as_bytes)
    }
}

/// A query's filter, compiled once per query so that the per-record test is
/// a few comparisons and, for a fuzzy name, one substring search. It answers
/// one question: does this version match.
pub(crate) struct VersionFilter<'q> {
    workspace_id: &'q str,
    /// Bit `t as u8` is set for each image type `t` that passes.
    type_mask: u8,
    /// Bit `s as u8` is set for each service type `s` that passes.
    service_mask: u8,
    namespace: Option<&'q str>,
    swr_instance_id: Option<&'q str>,
    name: NameFilter<'q>,
    /// Whether a namespace or name filter applies: the test then
    /// short-circuits instead of running every comparison.
    selective: bool,
}

/// The tests of a [`VersionFilter`] that read only a version's own bytes
/// (its enums and its strings' lengths), none of its strings: a version
/// they reject cannot match, one they pass may.
///
/// Why: a scan where most versions are in other workspaces (or of other
/// types) can reject those from the record alone and ask for the strings
/// of the others only, instead of waiting for every record's strings.
#[derive(Clone, Copy)]
pub(crate) struct OwnFields {
    workspace_len: usize,
    type_mask: u8,
    service_mask: u8,
    swr_instance_len: Option<usize>,
}

impl OwnFields {
    /// Whether `version` may match: its workspace id (and SWR instance id,
    /// if the query has one) has the query's length, and its type and
    /// service type pass.
    #[inline(always)]
    pub(crate) fn may_match(&self, version: &impl VersionFields) -> bool {
        let instance = match self.swr_instance_len {
            None => true,
            Some(len) => version.swr_instance_id().map(<[u8]>::len) == Some(len),
        };
        (version.workspace_id().len() == self.workspace_len)
            & types_pass(self.type_mask, self.service_mask, version)
            & instance
    }
}

/// Whether `version`'s type and service type pass the masks (bit `t as u8`
/// set for each type `t` that passes), with no branch.
#[inline(always)]
fn types_pass(type_mask: u8, service_mask: u8, version: &impl VersionFields) -> bool {
    let image_type = type_mask >> (version.image_type() as u8);
    let service_type = service_mask >> (version.service_type() as u8);
    image_type & service_type & 1 != 0
}

enum NameFilter<'q> {
    /// No name filter.
    Any,
    /// `name_fuzzy_match=false`: byte-for-byte equality.
    Exact(&'q str),
    /// `name_fuzzy_match=true`: a substring, ASCII-case-insensitively.
    Contains(Box<NameMatcher<'q>>),
}

impl<'q> VersionFilter<'q> {
    pub(crate) fn new(query: &'q GroupQuery) -> Self {
        let name = match (query.name(), query.name_fuzzy_match()) {
            (None, _) => NameFilter::Any,
            (Some(name), false) => NameFilter::Exact(name),
            (Some(name), true) => NameFilter::Contains(Box::new(NameMatcher::new(name))),
        };
        let type_mask = ImageType::ALL
            .iter()
            .filter(|&&t| query.image_type().is_none_or(|q| q == t))
            .fold(0, |mask, &t| mask | 1 << t as u8);
        let service_mask = ServiceType::ALL
            .iter()
            .filter(|&&s| query.service_type().is_none_or(|q| q == s))
            .fold(0, |mask, &s| mask | 1 << s as u8);
        VersionFilter {
            workspace_id: query.workspace_id(),
            type_mask,
            service_mask,
            namespace: query.namespace(),
            swr_instance_id: query.swr_instance_id(),
            selective: query.namespace().is_some() || !matches!(name, NameFilter::Any),
            name,
        }
    }

    /// The part of the filter a version's own bytes decide: what
    /// [`OwnFields::may_match`] tests without reading any string.
    pub(crate) fn own_fields(&self) -> OwnFields {
        OwnFields {
            workspace_len: self.workspace_id.len(),
            type_mask: self.type_mask,
            service_mask: self.service_mask,
            swr_instance_len: self.swr_instance_id.map(str::len),
        }
    }

    /// Whether `version` matches every filter of the query.
    ///
    /// Two forms, chosen by the query (so the branch between them is always
    /// predicted):
    ///
    /// * with a namespace or name filter, few versions match: the test
    ///   short-circuits, cheapest and most selective first. The enums and
    ///   the string lengths sit in the record itself, while the string bytes
    ///   are elsewhere in memory, so most versions are rejected without
    ///   reading any string;
    /// * otherwise every comparison runs (`&`, not `&&`) and the enums are
    ///   tested by bit masks, so that the one branch is on the result: which
    ///   filter a version fails is data the branch predictor cannot guess,
    ///   and a mispredicted branch discards loads already started for the
    ///   next versions.
    #[inline(always)]
    pub(crate) fn matches(&mut self, version: &impl VersionFields) -> bool {
        if !self.selective {
            let workspace = bytes_eq(version.workspace_id(), self.workspace_id.as_bytes());
            return workspace & self.types_match(version) && self.instance_matches(version);
        }
        self.types_match(version)
            && self.instance_matches(version)
            && self
                .namespace
                .is_none_or(|ns| bytes_eq(ns.as_bytes(), version.namespace()))
            && match &self.name {
                NameFilter::Exact(wanted) => bytes_eq(wanted.as_bytes(), version.name()),
                NameFilter::Any | NameFilter::Contains(_) => true,
            }
            && bytes_eq(version.workspace_id(), self.workspace_id.as_bytes())
            && match &mut self.name {
                NameFilter::Contains(matcher) => matcher.matches(version.name()),
                NameFilter::Any | NameFilter::Exact(_) => true,
            }
    }

    /// Whether `version` is in the query's SWR instance (true without an
    /// instance filter).
    #[inline(always)]
    fn instance_matches(&self, version: &impl VersionFields) -> bool {
        match self.swr_instance_id {
            None => true,
            Some(wanted) => version
                .swr_instance_id()
                .is_some_and(|id| bytes_eq(id, wanted.as_bytes())),
        }
    }

    /// Whether `version`'s type and service type pass, by the bit masks
    /// (no branch).
    #[inline(always)]
    fn types_match(&self, version: &impl VersionFields) -> bool {
        types_pass(self.type_mask, self.service_mask, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> ImageVersion {
        ImageVersion::new("id", name, "ns", ImageType::Dedicated, 0, 0)
    }

    #[test]
    fn fuzzy_name_folds_only_ascii_case_of_the_record() {
        let q = GroupQuery::new().with_name("torch").unwrap();
        let mut f = VersionFilter::new(&q);
        assert!(f.matches(&version("PyTorch-2")));
        assert!(f.matches(&version("ÄTORCHÖ")));
        assert!(!f.matches(&version("TÖRCH")));
        assert!(!f.matches(&version("")));
    }

    #[test]
    fn exact_name_is_byte_for_byte() {
        let q = GroupQuery::new()
            .with_name("torch")
            .unwrap()
            .with_name_fuzzy_match(false);
        let mut f = VersionFilter::new(&q);
        assert!(f.matches(&version("torch")));
        assert!(!f.matches(&version("Torch")));
        assert!(!f.matches(&version("pytorch")));
    }

    /// The type and service type masks pass exactly the versions whose
    /// fields equal the query's, or all of them without a filter, in both
    /// forms of the test (without and with a namespace filter).
    #[test]
    fn type_masks_agree_with_equality() {
        let types = ImageType::ALL.iter().map(|&t| Some(t)).chain([None]);
        for query_type in types {
            let services = ServiceType::ALL.iter().map(|&s| Some(s)).chain([None]);
            for query_service in services {
                for namespace in [None, Some("ns")] {
                    let q = GroupQuery::new()
                        .with_image_type(query_type)
                        .with_service_type(query_service)
                        .with_namespace(namespace)
                        .unwrap();
                    let mut f = VersionFilter::new(&q);
                    for &t in ImageType::ALL {
                        for &s in ServiceType::ALL {
                            let mut v = version("n");
                            v.image_type = t;
                            v.service_type = s;
                            let want = query_type.is_none_or(|q| q == t)
                                && query_service.is_none_or(|q| q == s);
                            assert_eq!(f.matches(&v), want, "{q} {t} {s}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_instance_filter_passes_only_that_instance_in_both_forms() {
        for query in ["swr_instance_id=i-1", "swr_instance_id=i-1&namespace=ns"] {
            let q: GroupQuery = query.parse().unwrap();
            let mut f = VersionFilter::new(&q);
            assert!(
                f.matches(&version("n").with_swr_instance_id("i-1")),
                "{query}"
            );
            assert!(
                !f.matches(&version("n").with_swr_instance_id("i-2")),
                "{query}"
            );
            assert!(!f.matches(&version("n")), "{query}");
        }
        let q = GroupQuery::default();
        let mut f = VersionFilter::new(&q);
        assert!(f.matches(&version("n").with_swr_instance_id("i-2")));
        assert!(f.matches(&version("n")));
    }

    #[test]
    fn the_workspace_must_be_equal_in_both_forms() {
        for query in [
            "",
            "namespace=ns",
            "name=n",
            "name=n&name_fuzzy_match=false",
        ] {
            let q: GroupQuery = query.parse().unwrap();
            let mut f = VersionFilter::new(&q);
            assert!(f.matches(&version("n")), "{query}");
            assert!(!f.matches(&version("n").with_workspace_id("1")), "{query}");
            assert!(!f.matches(&version("n").with_workspace_id("")), "{query}");
        }
    }

    /// `may_match` passes every version that matches (it may pass more):
    /// over every version built from a few values (so that versions often
    /// equal the queries' values) and queries of every filter, a version it
    /// rejects never matches.
    #[test]
    fn own_fields_never_reject_a_match() {
        let texts = ["0", "ab", "n", ""];
        let queries = [
            "",
            "workspace_id=ab",
            "type=DEDICATED",
            "type=BUILD_IN&service_type=TRAIN",
            "swr_instance_id=ab",
            "swr_instance_id=n&namespace=ab",
            "name=n",
            "name=n&name_fuzzy_match=false",
            "namespace=ab&workspace_id=ab",
            "service_type=INFERENCE&name=a",
        ];
        let instances = texts.iter().map(|&t| Some(t)).chain([None]);
        for query in queries {
            let q: GroupQuery = query.parse().unwrap();
            let mut f = VersionFilter::new(&q);
            let own = f.own_fields();
            let strings = texts
                .into_iter()
                .flat_map(|w| texts.into_iter().map(move |n| (w, n)))
                .flat_map(|(w, n)| texts.into_iter().map(move |s| (w, n, s)));
            for (workspace, name, namespace) in strings {
                for instance in instances.clone() {
                    for &t in ImageType::ALL {
                        for &s in ServiceType::ALL {
                            let mut v = ImageVersion::new("id", name, namespace, t, 0, 0)
                                .with_workspace_id(workspace)
                                .with_service_type(s);
                            v.swr_instance_id = instance.map(str::to_owned);
                            assert!(own.may_match(&v) || !f.matches(&v), "{query} {v:?}");
                        }
                    }
                }
            }
        }
    }

    /// `may_match` rejects a version on each field it reads: the workspace
    /// id's length, the type, the service type and the SWR instance id's
    /// length (or its absence).
    #[test]
    fn own_fields_reject_on_each_field() {
        let passes = |query: &str, v: &ImageVersion| {
            let q: GroupQuery = query.parse().unwrap();
            let own = VersionFilter::new(&q).own_fields();
            own.may_match(v)
        };
        let v = version("n");
        assert!(passes("", &v));
        assert!(passes("workspace_id=1", &v), "same length");
        assert!(!passes("workspace_id=12", &v));
        assert!(!passes("type=BUILD_IN", &v));
        assert!(passes("type=DEDICATED", &v));
        assert!(!passes("service_type=TRAIN", &v));
        assert!(passes("service_type=UNKNOWN", &v));
        assert!(!passes("swr_instance_id=i-1", &v), "no instance");
        assert!(passes(
            "swr_instance_id=i-1",
            &v.clone().with_swr_instance_id("i-2")
        ));
        assert!(!passes(
            "swr_instance_id=i-1",
            &v.clone().with_swr_instance_id("i-22")
        ));
        assert!(
            passes("namespace=other&name=other", &v),
            "strings are not read"
        );
    }
}
