//! The query: [`GroupQuery`], validated by construction.

use std::fmt;
use std::str::FromStr;

use crate::kinds::{ImageType, ServiceType};
use crate::params::Param;
use crate::query_error::QueryError;
use crate::sort::{serde_via_str, SortDir, SortField};
use crate::version::DEFAULT_WORKSPACE_ID;

/// A validated "Obtaining User Image Groups" query.
///
/// Every way to make one checks the API's rules, so an invalid query cannot
/// exist and [`group_images`](crate::group_images) never fails. There are two:
///
/// * parse a query string with [`GroupQuery::from_query_string`] (or
///   [`str::parse`]), as a transport receives it;
/// * start from [`GroupQuery::new`] (the empty query, same as `Default`) and
///   chain `with_*` setters; a setter whose value could break a rule returns
///   `Result`. An absent filter is `None`, in setters and getters alike.
///
/// `Display` writes the canonical query string, and serde carries a query as
/// that string (`"name=torch&limit=20"`), so a query that arrives over JSON,
/// a message queue or an RPC is validated exactly as a parsed one is.
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
/// // Serde uses the same string, and validates what it reads.
/// let json = serde_json::to_string(&built).unwrap();
/// assert_eq!(serde_json::from_str::<GroupQuery>(&json).unwrap(), built);
/// assert!(serde_json::from_str::<GroupQuery>(r#""limit=0""#).is_err());
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
    swr_instance_id: Option<String>,
    offset: u32,
    limit: u32,
    sort_key: Vec<SortField>,
    sort_dir: SortDir,
}

/// The largest `offset` and `limit` the API accepts (`i32::MAX`).
pub const MAX_OFFSET_OR_LIMIT: u32 = i32::MAX as u32;
/// The `limit` of a query that does not give one.
pub const DEFAULT_LIMIT: u32 = 200;

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
            swr_instance_id: None,
            offset: 0,
            limit: DEFAULT_LIMIT,
            sort_key: vec![SortField::default()],
            sort_dir: SortDir::default(),
        }
    }
}

impl GroupQuery {
    /// The empty query, the same as [`GroupQuery::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name filter: 1 to 512 characters of `a-z 0-9 - _ .`; `None`
    /// for no name filter.
    ///
    /// # Errors
    /// `ModelArts.0104` for a name that breaks the rule, the empty name
    /// included (in a query string, `name=` means no filter; in code, `None`
    /// does).
    pub fn with_name<'a>(mut self, name: impl Into<Option<&'a str>>) -> Result<Self, QueryError> {
        self.name = match name.into() {
            None => None,
            Some(name) => {
                let allowed = |b: u8| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.');
                if !(1..=512).contains(&name.len()) || !name.bytes().all(allowed) {
                    return Err(QueryError::invalid_value(Param::Name, name));
                }
                Some(name.to_string())
            }
        };
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
                    return Err(QueryError::invalid_value(Param::Namespace, ns));
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
            return Err(QueryError::invalid_value(Param::WorkspaceId, workspace_id));
        }
        self.workspace_id = workspace_id.to_string();
        Ok(self)
    }

    /// Sets the SWR enterprise instance filter: 1 to 64 characters of
    /// `A-Z a-z 0-9 - _` (an instance id is a UUID); `None` for no filter,
    /// which sees the repositories of the shared SWR and of every instance.
    ///
    /// # Errors
    /// `ModelArts.0104` for an id that breaks the rule.
    pub fn with_swr_instance_id<'a>(
        mut self,
        swr_instance_id: impl Into<Option<&'a str>>,
    ) -> Result<Self, QueryError> {
        self.swr_instance_id = match swr_instance_id.into() {
            None => None,
            Some(id) => {
                let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_');
                if !(1..=64).contains(&id.len()) || !id.bytes().all(allowed) {
                    return Err(QueryError::invalid_value(Param::SwrInstanceId, id));
                }
                Some(id.to_string())
            }
        };
        Ok(self)
    }

    /// Sets how many groups to skip: 0 to [`MAX_OFFSET_OR_LIMIT`].
    ///
    /// # Errors
    /// `ModelArts.0104` for a value out of range.
    pub fn with_offset(mut self, offset: u32) -> Result<Self, QueryError> {
        if offset > MAX_OFFSET_OR_LIMIT {
            return Err(QueryError::invalid_value(
                Param::Offset,
                &offset.to_string(),
            ));
        }
        self.offset = offset;
        Ok(self)
    }

    /// Sets the page size: 1 to [`MAX_OFFSET_OR_LIMIT`].
    ///
    /// # Errors
    /// `ModelArts.0104` for a value out of range.
    pub fn with_limit(mut self, limit: u32) -> Result<Self, QueryError> {
        if !(1..=MAX_OFFSET_OR_LIMIT).contains(&limit) {
            return Err(QueryError::invalid_value(Param::Limit, &limit.to_string()));
        }
        self.limit = limit;
        Ok(self)
    }

    /// Sets the sort fields, applied in turn; no fields means the default,
    /// `update_at`.
    ///
    /// # Errors
    /// `ModelArts.0104` for a field given twice.
    pub fn with_sort_key(
        self,
        fields: impl IntoIterator<Item = SortField>,
    ) -> Result<Self, QueryError> {
        self.with_sort_fields(fields.into_iter().map(|field| Ok((field, field.as_str()))))
    }

    /// Sets the sort fields, each with the text it was given as (shown in
    /// the error for a field named twice, possibly through an alias), taking
    /// them in turn and stopping at the first error, the caller's or a
    /// repeat.
    pub(crate) fn with_sort_fields<'a>(
        mut self,
        fields: impl IntoIterator<Item = Result<(SortField, &'a str), QueryError>>,
    ) -> Result<Self, QueryError> {
        let mut sort_key = Vec::with_capacity(SortField::ALL.len());
        for field in fields {
            let (field, given) = field?;
            if sort_key.contains(&field) {
                return Err(QueryError::repeated_sort_field(field.as_str(), given));
            }
            sort_key.push(field);
        }
        if sort_key.is_empty() {
            sort_key.push(SortField::default());
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

    /// The SWR enterprise instance filter, if any.
    pub fn swr_instance_id(&self) -> Option<&str> {
        self.swr_instance_id.as_deref()
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
        for p in Param::ALL {
            match p {
                Param::Name => {
                    if let Some(name) = &self.name {
                        param(f, p.name(), name)?;
                    }
                }
                Param::NameFuzzyMatch => {
                    if self.name_fuzzy_match != default.name_fuzzy_match {
                        param(f, p.name(), &self.name_fuzzy_match)?;
                    }
                }
                Param::Namespace => {
                    if let Some(namespace) = &self.namespace {
                        param(f, p.name(), namespace)?;
                    }
                }
                Param::Type => {
                    if let Some(image_type) = self.image_type {
                        param(f, p.name(), &image_type)?;
                    }
                }
                Param::ServiceType => {
                    if let Some(service_type) = self.service_type {
                        param(f, p.name(), &service_type)?;
                    }
                }
                Param::WorkspaceId => {
                    if self.workspace_id != default.workspace_id {
                        param(f, p.name(), &self.workspace_id)?;
                    }
                }
                Param::SwrInstanceId => {
                    if let Some(id) = &self.swr_instance_id {
                        param(f, p.name(), id)?;
                    }
                }
                Param::Offset => {
                    if self.offset != default.offset {
                        param(f, p.name(), &self.offset)?;
                    }
                }
                Param::Limit => {
                    if self.limit != default.limit {
                        param(f, p.name(), &self.limit)?;
                    }
                }
                Param::SortKey => {
                    if self.sort_key != default.sort_key {
                        let fields: Vec<&str> = self.sort_key.iter().map(|k| k.as_str()).collect();
                        param(f, p.name(), &fields.join(","))?;
                    }
                }
                Param::SortDir => {
                    if self.sort_dir != default.sort_dir {
                        param(f, p.name(), &self.sort_dir)?;
                    }
                }
            }
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

serde_via_str!(GroupQuery);
