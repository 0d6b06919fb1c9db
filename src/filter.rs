//! Which versions match a query (SPEC 3): workspace, type, service type,
//! namespace and name.

use memchr::memmem;

use crate::bytes::bytes_eq;
use crate::query::GroupQuery;
use crate::record::{ImageType, ImageVersion, ServiceType};

/// A query's filter, compiled once per query so that the per-record test is
/// a few comparisons and, for a fuzzy name, one substring search.
pub(crate) struct VersionFilter<'q> {
    workspace_id: &'q str,
    /// Bit `t as u8` is set for each image type `t` that passes.
    type_mask: u8,
    /// Bit `s as u8` is set for each service type `s` that passes.
    service_mask: u8,
    namespace: Option<&'q str>,
    name: NameFilter<'q>,
}

enum NameFilter<'q> {
    /// No name filter.
    Any,
    /// `name_fuzzy_match=false`: byte-for-byte equality.
    Exact(&'q str),
    /// `name_fuzzy_match=true`: the query name occurs in the record's name,
    /// ASCII-case-insensitively.
    Contains {
        /// Searches for the query name, which the rules make lower-case ASCII.
        finder: Box<memmem::Finder<'q>>,
        /// Reused buffer for record names that hold upper-case ASCII letters.
        folded: Vec<u8>,
    },
}

impl<'q> VersionFilter<'q> {
    pub(crate) fn new(query: &'q GroupQuery) -> Self {
        let name = match (query.name(), query.name_fuzzy_match()) {
            (None, _) => NameFilter::Any,
            (Some(name), false) => NameFilter::Exact(name),
            (Some(name), true) => NameFilter::Contains {
                finder: Box::new(memmem::Finder::new(name.as_bytes())),
                folded: Vec::new(),
            },
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
            name,
        }
    }

    /// Whether `version` matches every filter of the query.
    ///
    /// Short-circuits, cheapest and most selective first: the enums and the
    /// string lengths sit in the record itself, while the string bytes are
    /// elsewhere in memory, so most non-matching records of a selective query
    /// are rejected without reading any string.
    #[inline(always)]
    pub(crate) fn matches(&mut self, version: &ImageVersion) -> bool {
        self.types_match(version)
            && self
                .namespace
                .is_none_or(|ns| bytes_eq(ns.as_bytes(), version.namespace.as_bytes()))
            && match &self.name {
                NameFilter::Exact(wanted) => bytes_eq(wanted.as_bytes(), version.name.as_bytes()),
                NameFilter::Any | NameFilter::Contains { .. } => true,
            }
            && bytes_eq(
                version.workspace_id.as_bytes(),
                self.workspace_id.as_bytes(),
            )
            && self.name_matches(&version.name)
    }

    /// Whether `version` matches a query that is not
    /// [selective](Self::is_selective): its workspace, type and service type.
    ///
    /// Every comparison runs (`&`, not `&&`), and the enums are tested by a
    /// bit mask, so that the one branch is on the result: which filters a
    /// record fails is data the branch predictor cannot guess, and a
    /// mispredicted branch discards work already started for the next
    /// records.
    #[inline(always)]
    pub(crate) fn matches_fields(&self, version: &ImageVersion) -> bool {
        debug_assert!(!self.is_selective());
        let workspace = bytes_eq(
            version.workspace_id.as_bytes(),
            self.workspace_id.as_bytes(),
        );
        workspace & self.types_match(version)
    }

    /// Whether `version`'s type and service type pass, by the bit masks
    /// (no branch).
    #[inline(always)]
    fn types_match(&self, version: &ImageVersion) -> bool {
        let image_type = self.type_mask >> (version.image_type as u8);
        let service_type = self.service_mask >> (version.service_type as u8);
        image_type & service_type & 1 != 0
    }

    /// Whether few records will match: a namespace or a name filter. Then
    /// [`matches`](Self::matches) rejects most records on a length stored in
    /// the record, skipping the rest of the test, and the scan does not read
    /// the records' strings ahead.
    pub(crate) fn is_selective(&self) -> bool {
        self.namespace.is_some() || !matches!(self.name, NameFilter::Any)
    }

    /// Whether the query has a fuzzy name filter, which reads every
    /// candidate record's name.
    pub(crate) fn has_fuzzy_name(&self) -> bool {
        matches!(self.name, NameFilter::Contains { .. })
    }

    /// Whether a name passes the name filter, exact or fuzzy (the catalog
    /// asks this once per group).
    pub(crate) fn name_passes(&mut self, name: &str) -> bool {
        match &self.name {
            NameFilter::Exact(wanted) => bytes_eq(wanted.as_bytes(), name.as_bytes()),
            NameFilter::Any | NameFilter::Contains { .. } => self.name_matches(name),
        }
    }

    /// Whether a name passes the fuzzy name filter (true without one; an
    /// exact name is checked by [`matches`](Self::matches)).
    fn name_matches(&mut self, name: &str) -> bool {
        let name = name.as_bytes();
        match &mut self.name {
            NameFilter::Any | NameFilter::Exact(_) => true,
            NameFilter::Contains { finder, folded } => {
                // The query name is lower-case ASCII, so only the record's
                // upper-case ASCII letters need folding; UTF-8 continuation and
                // lead bytes are >= 0x80 and can never match query bytes, so a
                // byte-wise search is a correct character-wise one.
                if !name.iter().any(u8::is_ascii_uppercase) {
                    return finder.find(name).is_some();
                }
                folded.clear();
                folded.extend(name.iter().map(u8::to_ascii_lowercase));
                finder.find(folded).is_some()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(name: &str) -> ImageVersion {
        ImageVersion {
            id: "id".into(),
            name: name.into(),
            namespace: "ns".into(),
            tag: None,
            image_type: ImageType::Dedicated,
            workspace_id: "0".into(),
            service_type: ServiceType::Unknown,
            create_at: 0,
            update_at: 0,
        }
    }

    #[test]
    fn fuzzy_name_folds_only_ascii_case_of_the_record() {
        let q = GroupQuery::new().with_name("torch").unwrap();
        let mut f = VersionFilter::new(&q);
        assert!(f.matches(&version("PyTorch-2")));
        assert!(f.matches(&version("torch")));
        assert!(f.matches(&version("ÄTORCHÖ")));
        assert!(!f.matches(&version("TÖRCH")));
        assert!(!f.matches(&version("torc")));
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
    /// fields equal the query's, or all of them without a filter, on both
    /// the short-circuit and the branch-free test.
    #[test]
    fn type_masks_agree_with_equality() {
        let types = ImageType::ALL.iter().map(|&t| Some(t)).chain([None]);
        for query_type in types {
            let services = ServiceType::ALL.iter().map(|&s| Some(s)).chain([None]);
            for query_service in services {
                let mut q = GroupQuery::new();
                if let Some(t) = query_type {
                    q = q.with_image_type(t);
                }
                if let Some(s) = query_service {
                    q = q.with_service_type(s);
                }
                let mut f = VersionFilter::new(&q);
                for &t in ImageType::ALL {
                    for &s in ServiceType::ALL {
                        let mut v = version("n");
                        v.image_type = t;
                        v.service_type = s;
                        let want = query_type.is_none_or(|q| q == t)
                            && query_service.is_none_or(|q| q == s);
                        assert_eq!(f.matches_fields(&v), want, "{q} {t} {s}");
                        assert_eq!(f.matches(&v), want, "{q} {t} {s}");
                    }
                }
            }
        }
    }
}
