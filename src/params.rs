//! The API's query parameters: their names and the rule each value must
//! satisfy, written once for the parser, the setters and the error messages
//! (crate docs, "Query").

/// One query parameter of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    Name,
    NameFuzzyMatch,
    Namespace,
    Type,
    ServiceType,
    WorkspaceId,
    SwrInstanceId,
    Offset,
    Limit,
    SortKey,
    SortDir,
}

impl Param {
    /// Every parameter, in the order of the API's documentation (which is
    /// also the order of a query's canonical string).
    pub(crate) const ALL: [Param; 11] = [
        Param::Name,
        Param::NameFuzzyMatch,
        Param::Namespace,
        Param::Type,
        Param::ServiceType,
        Param::WorkspaceId,
        Param::SwrInstanceId,
        Param::Offset,
        Param::Limit,
        Param::SortKey,
        Param::SortDir,
    ];

    /// The parameter's name in a query string.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Param::Name => "name",
            Param::NameFuzzyMatch => "name_fuzzy_match",
            Param::Namespace => "namespace",
            Param::Type => "type",
            Param::ServiceType => "service_type",
            Param::WorkspaceId => "workspace_id",
            Param::SwrInstanceId => "swr_instance_id",
            Param::Offset => "offset",
            Param::Limit => "limit",
            Param::SortKey => "sort_key",
            Param::SortDir => "sort_dir",
        }
    }

    /// The parameter named `name` (case-sensitive), if the API has one.
    pub(crate) fn from_name(name: &str) -> Option<Param> {
        Param::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The rule a value must satisfy, as error messages state it.
    pub(crate) const fn rule(self) -> &'static str {
        match self {
            Param::Name => "must be 1 to 512 characters of a-z, 0-9, '-', '_' and '.'",
            Param::NameFuzzyMatch => "must be `true` or `false` (in any case)",
            Param::Namespace => {
                "must be 1 to 64 characters: a lower-case letter, \
                 then letters, digits, '-', '_' and '.'"
            }
            // Their spellings are the enums' own (`ImageType::ALL`,
            // `ServiceType::ALL`); the message lists them from there.
            Param::Type | Param::ServiceType => "must be one of the spellings (upper case)",
            Param::WorkspaceId => "must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'",
            Param::SwrInstanceId => "must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'",
            Param::Offset => "must be an integer from 0 to 2147483647",
            Param::Limit => "must be an integer from 1 to 2147483647",
            Param::SortKey => "must be a comma-separated list of fields with no empty field",
            Param::SortDir => "must be `ASC` or `DESC` (in any case)",
        }
    }
}

/// The sortable fields and their aliases, as the `ModelArts.6303` message
/// lists them.
pub(crate) const SORTABLE_FIELDS_HELP: &str = "name, namespace, version_count (alias \
     versionCount), create_at (aliases createTime, create_time), update_at (aliases \
     updateTime, update_time)";

#[cfg(test)]
mod tests {
    use super::Param;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for p in Param::ALL {
            assert_eq!(Param::from_name(p.name()), Some(p));
        }
        assert_eq!(Param::from_name("Name"), None);
        assert_eq!(Param::from_name("nmae"), None);
    }
}
