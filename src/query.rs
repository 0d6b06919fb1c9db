//! The query: [`GroupQuery`], validated by construction, and its sort types.

use std::fmt;
use std::str::FromStr;

use crate::error::QueryError;
use crate::record::{ImageType, ServiceType, DEFAULT_WORKSPACE_ID};

/// A validated "Obtaining User Image Groups" query.
///
/// Every way to make one checks the API's rules, so an invalid query cannot
/// exist and [`group_images`](crate::group_images) never fails. There are two:
///
/// * parse a query string with [`GroupQuery::from_query_string`] (or
///   [`str::parse`]), as a transport receives it;
/// * start from [`GroupQuery::new`] (the empty query, same as `Default`) and
///   chain `with_*` setters; a setter whose value could break a rule returns
///   `Result`.
///
/// ```
/// use image_groups::{GroupQuery, ImageType, SortDir, SortField};
///
/// # fn main() -> Result<(), image_groups::QueryError> {
/// let built = GroupQuery::new()
///     .with_name("torch")?
///     .with_image_type(ImageType::Dedicated)
///     .with_sort_key([SortField::VersionCount])?
///     .with_sort_dir(SortDir::Asc)
///     .with_limit(20)?;
/// let parsed: GroupQuery =
///     "name=torch&type=DEDICATED&sort_key=versionCount&sort_dir=asc&limit=20".parse()?;
/// assert_eq!(built, parsed);
/// // Display gives the canonical query string, which parses back to the same query.
/// assert_eq!(
///     built.to_string(),
///     "name=torch&type=DEDICATED&limit=20&sort_key=version_count&sort_dir=ASC"
/// );
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupQuery {
    name: Option<String>,
    name_fuzzy_match: bool,
    namespace: Option<String>,
    image_type: Option<ImageType>,
    service_type: Option<ServiceType>,
    workspace_id: String,
    offset: u32,
    limit: u32,
    sort_key: Vec<SortField>,
    sort_dir: SortDir,
}

/// The largest `offset` and `limit` the API accepts (`i32::MAX`).
pub const MAX_OFFSET_OR_LIMIT: u32 = i32::MAX as u32;
/// The `limit` of a query that does not give one.
pub const DEFAULT_LIMIT: u32 = 200;

pub(crate) const NAME_RULE: &str = "must be 1 to 512 characters of a-z, 0-9, '-', '_' and '.' \
     (an empty value means no name filter)";
pub(crate) const FUZZY_RULE: &str = "must be `true` or `false`";
pub(crate) const NAMESPACE_RULE: &str = "must be 1 to 64 characters: a lower-case letter, \
     then letters, digits, '-', '_' and '.'";
pub(crate) const TYPE_RULE: &str = "must be one of `BUILD_IN`, `DEDICATED` (upper case)";
pub(crate) const SERVICE_TYPE_RULE: &str =
    "must be one of `COMMON`, `INFERENCE`, `TRAIN`, `DEV`, `UNKNOWN` (upper case)";
pub(crate) const WORKSPACE_RULE: &str = "must be 1 to 64 characters of A-Z, a-z, 0-9, '-' and '_'";
pub(crate) const OFFSET_RULE: &str = "must be an integer from 0 to 2147483647";
pub(crate) const LIMIT_RULE: &str = "must be an integer from 1 to 2147483647";
pub(crate) const SORT_KEY_RULE: &str =
    "must be a comma-separated list of fields with no empty field";
pub(crate) const SORT_DIR_RULE: &str = "must be `ASC` or `DESC` (in any case)";
pub(crate) const SORTABLE_FIELDS_HELP: &str = "name, namespace, version_count (alias \
     versionCount), create_at (aliases createTime, create_time), update_at (aliases \
     updateTime, update_time)";

impl Default for GroupQuery {
    /// The empty query: every version of workspace `"0"`, grouped, by
    /// `update_at` descending, the first 200 groups.
    fn default() -> Self {
        GroupQuery {
            name: None,
            name_fuzzy_match: true,
            namespace: None,
            image_type: None,
            service_type: None,
            workspace_id: DEFAULT_WORKSPACE_ID.to_string(),
            offset: 0,
            limit: DEFAULT_LIMIT,
            sort_key: vec![SortField::UpdateAt],
            sort_dir: SortDir::Desc,
        }
    }
}

impl GroupQuery {
    /// The empty query, the same as [`GroupQuery::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name filter: 1 to 512 characters of `a-z 0-9 - _ .`, or the
    /// empty string for no name filter.
    ///
    /// # Errors
    /// `ModelArts.0104` for a name that breaks the rule.
    pub fn with_name(mut self, name: &str) -> Result<Self, QueryError> {
        let allowed = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.');
        if name.len() > 512 || !name.bytes().all(allowed) {
            return Err(QueryError::invalid_value("name", name, NAME_RULE));
        }
        self.name = (!name.is_empty()).then(|| name.to_string());
        Ok(self)
    }

    /// Sets whether `name` matches as a substring (`true`, the default) or
    /// exactly (`false`).
    pub fn with_name_fuzzy_match(mut self, fuzzy: bool) -> Self {
        self.name_fuzzy_match = fuzzy;
        self
    }

    /// Sets the namespace filter: 1 to 64 characters, a lower-case letter first,
    /// then `A-Z a-z 0-9 - _ .`; `None` for no namespace filter.
    ///
    /// # Errors
    /// `ModelArts.0104` for a namespace that breaks the rule.
    pub fn with_namespace<'a>(
        mut self,
        namespace: impl Into<Option<&'a str>>,
    ) -> Result<Self, QueryError> {
        self.namespace = match namespace.into() {
            None => None,
            Some(ns) => {
                let bytes = ns.as_bytes();
                let rest_ok = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
                let ok = (1..=64).contains(&bytes.len())
                    && bytes[0].is_ascii_lowercase()
                    && bytes[1..].iter().all(rest_ok);
                if !ok {
                    return Err(QueryError::invalid_value("namespace", ns, NAMESPACE_RULE));
                }
                Some(ns.to_string())
            }
        };
        Ok(self)
    }

    /// Sets the `type` filter; `None` for no type filter.
    pub fn with_image_type(mut self, image_type: impl Into<Option<ImageType>>) -> Self {
        self.image_type = image_type.into();
        self
    }

    /// Sets the `service_type` filter; `None` for no service-type filter. A
    /// record without `service_type` counts as [`ServiceType::Unknown`].
    pub fn with_service_type(mut self, service_type: impl Into<Option<ServiceType>>) -> Self {
        self.service_type = service_type.into();
        self
    }

    /// Sets the workspace: 1 to 64 characters of `A-Z a-z 0-9 - _`. A query
    /// sees exactly one workspace, `"0"` by default.
    ///
    /// # Errors
    /// `ModelArts.0104` for a workspace id that breaks the rule.
    pub fn with_workspace_id(mut self, workspace_id: &str) -> Result<Self, QueryError> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');
        if !(1..=64).contains(&workspace_id.len()) || !workspace_id.bytes().all(allowed) {
            return Err(QueryError::invalid_value(
                "workspace_id",
                workspace_id,
                WORKSPACE_RULE,
            ));
        }
        self.workspace_id = workspace_id.to_string();
        Ok(self)
    }

    /// Sets how many groups to skip: 0 to 2147483647.
    ///
    /// # Errors
    /// `ModelArts.0104` for a value out of range.
    pub fn with_offset(mut self, offset: u64) -> Result<Self, QueryError> {
        self.offset = in_range(offset, 0, "offset", OFFSET_RULE)?;
        Ok(self)
    }

    /// Sets the page size: 1 to 2147483647.
    ///
    /// # Errors
    /// `ModelArts.0104` for a value out of range.
    pub fn with_limit(mut self, limit: u64) -> Result<Self, QueryError> {
        self.limit = in_range(limit, 1, "limit", LIMIT_RULE)?;
        Ok(self)
    }

    /// Sets the sort fields, applied in turn; no fields means the default,
    /// `update_at`.
    ///
    /// # Errors
    /// `ModelArts.0104` for a field given twice.
    pub fn with_sort_key(
        mut self,
        fields: impl IntoIterator<Item = SortField>,
    ) -> Result<Self, QueryError> {
        let mut sort_key = Vec::with_capacity(SortField::ALL.len());
        for field in fields {
            if sort_key.contains(&field) {
                return Err(QueryError::repeated_sort_field(
                    field.as_str(),
                    field.as_str(),
                ));
            }
            sort_key.push(field);
        }
        if sort_key.is_empty() {
            sort_key.push(SortField::UpdateAt);
        }
        self.sort_key = sort_key;
        Ok(self)
    }

    /// Sets the direction of every sort field (the tie-breakers on name and
    /// namespace are always ascending).
    pub fn with_sort_dir(mut self, sort_dir: SortDir) -> Self {
        self.sort_dir = sort_dir;
        self
    }

    /// The name filter, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether the name filter is a case-insensitive substring match (`true`)
    /// or an exact match.
    pub fn name_fuzzy_match(&self) -> bool {
        self.name_fuzzy_match
    }

    /// The namespace filter, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The `type` filter, if any.
    pub fn image_type(&self) -> Option<ImageType> {
        self.image_type
    }

    /// The `service_type` filter, if any.
    pub fn service_type(&self) -> Option<ServiceType> {
        self.service_type
    }

    /// The workspace the query sees.
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }

    /// How many groups to skip.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The sort fields in order; never empty and without repeats.
    pub fn sort_key(&self) -> &[SortField] {
        &self.sort_key
    }

    /// The sort direction.
    pub fn sort_dir(&self) -> SortDir {
        self.sort_dir
    }
}

fn in_range(
    value: u64,
    min: u32,
    parameter: &'static str,
    rule: &'static str,
) -> Result<u32, QueryError> {
    match u32::try_from(value) {
        Ok(v) if (min..=MAX_OFFSET_OR_LIMIT).contains(&v) => Ok(v),
        _ => Err(QueryError::invalid_value(
            parameter,
            &value.to_string(),
            rule,
        )),
    }
}

impl fmt::Display for GroupQuery {
    /// Writes the canonical query string: the parameters that differ from
    /// their defaults, in the API's order, with canonical spellings. It parses
    /// back to an equal query; the empty query writes nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = GroupQuery::default();
        let mut sep = "";
        let mut param = |f: &mut fmt::Formatter<'_>, key: &str, value: &dyn fmt::Display| {
            let r = write!(f, "{sep}{key}={value}");
            sep = "&";
            r
        };
        // Every accepted value is URL-safe (the rules allow only letters,
        // digits, '-', '_', '.' and ','), so nothing needs percent-encoding.
        if let Some(name) = &self.name {
            param(f, "name", name)?;
        }
        if self.name_fuzzy_match != default.name_fuzzy_match {
            param(f, "name_fuzzy_match", &self.name_fuzzy_match)?;
        }
        if let Some(namespace) = &self.namespace {
            param(f, "namespace", namespace)?;
        }
        if let Some(image_type) = self.image_type {
            param(f, "type", &image_type)?;
        }
        if let Some(service_type) = self.service_type {
            param(f, "service_type", &service_type)?;
        }
        if self.workspace_id != default.workspace_id {
            param(f, "workspace_id", &self.workspace_id)?;
        }
        if self.offset != default.offset {
            param(f, "offset", &self.offset)?;
        }
        if self.limit != default.limit {
            param(f, "limit", &self.limit)?;
        }
        if self.sort_key != default.sort_key {
            let fields: Vec<&str> = self.sort_key.iter().map(|k| k.as_str()).collect();
            param(f, "sort_key", &fields.join(","))?;
        }
        if self.sort_dir != default.sort_dir {
            param(f, "sort_dir", &self.sort_dir)?;
        }
        Ok(())
    }
}

impl FromStr for GroupQuery {
    type Err = QueryError;

    /// The same as [`GroupQuery::from_query_string`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GroupQuery::from_query_string(s)
    }
}

/// A group field that `sort_key` can name.
///
/// `FromStr` accepts the canonical names and the API's aliases
/// (`createTime`, `create_time`, `updateTime`, `update_time`, `versionCount`);
/// `Display` writes the canonical name.
///
/// ```
/// use image_groups::SortField;
///
/// assert_eq!("createTime".parse::<SortField>().unwrap(), SortField::CreateAt);
/// assert_eq!(SortField::CreateAt.to_string(), "create_at");
/// assert_eq!("size".parse::<SortField>().unwrap_err().error_code(), "ModelArts.6303");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortField {
    /// `name`.
    Name,
    /// `namespace`.
    Namespace,
    /// `version_count`.
    VersionCount,
    /// `create_at`: the group's earliest creation time.
    CreateAt,
    /// `update_at`: the group's latest update time.
    UpdateAt,
}

impl SortField {
    /// Every sortable field.
    pub const ALL: &'static [SortField] = &[
        SortField::Name,
        SortField::Namespace,
        SortField::VersionCount,
        SortField::CreateAt,
        SortField::UpdateAt,
    ];

    /// The canonical name, as in the response's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Name => "name",
            SortField::Namespace => "namespace",
            SortField::VersionCount => "version_count",
            SortField::CreateAt => "create_at",
            SortField::UpdateAt => "update_at",
        }
    }
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SortField {
    type Err = QueryError;

    /// Parses a canonical name or an alias, exactly (case matters).
    ///
    /// # Errors
    /// `ModelArts.6303` ("The field does not support sorting") for any other
    /// string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "name" => SortField::Name,
            "namespace" => SortField::Namespace,
            "version_count" | "versionCount" => SortField::VersionCount,
            "create_at" | "createTime" | "create_time" => SortField::CreateAt,
            "update_at" | "updateTime" | "update_time" => SortField::UpdateAt,
            _ => return Err(QueryError::unsortable_field(s)),
        })
    }
}

/// The direction of the sort fields.
///
/// ```
/// use image_groups::SortDir;
///
/// assert_eq!("asc".parse::<SortDir>().unwrap(), SortDir::Asc);
/// assert_eq!(SortDir::Desc.to_string(), "DESC");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortDir {
    /// Smallest first.
    Asc,
    /// Largest first (the default).
    Desc,
}

impl fmt::Display for SortDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortDir::Asc => "ASC",
            SortDir::Desc => "DESC",
        })
    }
}

impl FromStr for SortDir {
    type Err = QueryError;

    /// Parses `ASC` or `DESC`, ASCII case-insensitively.
    ///
    /// # Errors
    /// `ModelArts.0104` for any other string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("ASC") {
            Ok(SortDir::Asc)
        } else if s.eq_ignore_ascii_case("DESC") {
            Ok(SortDir::Desc)
        } else {
            Err(QueryError::invalid_value("sort_dir", s, SORT_DIR_RULE))
        }
    }
}
