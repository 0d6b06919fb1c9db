//! [`QueryError`]: a query that breaks one of the API's rules.
//!
//! An opaque struct over a private kind, so that new detail can be added
//! without breaking callers; what a caller acts on (the ModelArts error code,
//! the HTTP status, the parameter) has an accessor.

use std::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::params::{Param, SORTABLE_FIELDS_HELP};
use crate::shown::show;

/// The ModelArts code for a parameter error.
const CODE_PARAMETER: &str = "ModelArts.0104";
/// The ModelArts code for "The field does not support sorting".
const CODE_UNSORTABLE: &str = "ModelArts.6303";

/// A query that breaks one of the rules of the API.
///
/// Every fallible way to make a query value returns it: parsing a query string
/// ([`GroupQuery::from_query_string`](crate::GroupQuery::from_query_string)),
/// the validating setters, deserializing a [`GroupQuery`](crate::GroupQuery),
/// and `FromStr` of [`SortField`](crate::SortField),
/// [`SortDir`](crate::SortDir), [`ImageType`](crate::ImageType) and
/// [`ServiceType`](crate::ServiceType) (each names the parameter it is the
/// value of).
///
/// Its [`Display`](fmt::Display) output is the `error_msg` of the ModelArts error
/// body: it names the parameter, shows the offending value (cut to 64 characters,
/// control characters escaped) and states the rule. [`error_code`](Self::error_code)
/// and [`http_status`](Self::http_status) let a transport answer without matching
/// strings, and serializing it gives the error body itself:
///
/// ```
/// use image_groups::GroupQuery;
///
/// let err = "limit=0".parse::<GroupQuery>().unwrap_err();
/// assert_eq!(err.error_code(), "ModelArts.0104");
/// assert_eq!(err.http_status(), 400);
/// assert_eq!(err.parameter(), Some("limit"));
/// let body = serde_json::to_value(&err).unwrap();
/// assert_eq!(body["error_code"], "ModelArts.0104");
/// assert!(body["error_msg"].as_str().unwrap().contains("limit"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    kind: QueryErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum QueryErrorKind {
    /// A parameter this API does not have.
    UnknownParameter { shown: String },
    /// A parameter given more than once.
    RepeatedParameter { parameter: Param },
    /// A value that breaks the parameter's rule.
    InvalidValue { parameter: Param, shown: String },
    /// A value that is not one of an enum's spellings.
    NotOneOf {
        parameter: Param,
        shown: String,
        spellings: &'static [&'static str],
    },
    /// A `sort_key` field that is not sortable (`ModelArts.6303`).
    UnsortableField { shown: String },
    /// A `sort_key` field named twice, possibly through an alias.
    RepeatedSortField { field: &'static str, shown: String },
}

impl QueryError {
    pub(crate) fn unknown_parameter(name: &str) -> Self {
        Self::new(QueryErrorKind::UnknownParameter { shown: show(name) })
    }

    pub(crate) fn repeated_parameter(parameter: Param) -> Self {
        Self::new(QueryErrorKind::RepeatedParameter { parameter })
    }

    pub(crate) fn invalid_value(parameter: Param, value: &str) -> Self {
        Self::new(QueryErrorKind::InvalidValue {
            parameter,
            shown: show(value),
        })
    }

    pub(crate) fn not_one_of(
        parameter: Param,
        value: &str,
        spellings: &'static [&'static str],
    ) -> Self {
        Self::new(QueryErrorKind::NotOneOf {
            parameter,
            shown: show(value),
            spellings,
        })
    }

    pub(crate) fn unsortable_field(field: &str) -> Self {
        Self::new(QueryErrorKind::UnsortableField { shown: show(field) })
    }

    pub(crate) fn repeated_sort_field(field: &'static str, given: &str) -> Self {
        Self::new(QueryErrorKind::RepeatedSortField {
            field,
            shown: show(given),
        })
    }

    fn new(kind: QueryErrorKind) -> Self {
        QueryError { kind }
    }

    /// The ModelArts error code: `"ModelArts.6303"` for a `sort_key` field that
    /// does not support sorting, `"ModelArts.0104"` for every other parameter error.
    pub fn error_code(&self) -> &'static str {
        match self.kind {
            QueryErrorKind::UnsortableField { .. } => CODE_UNSORTABLE,
            _ => CODE_PARAMETER,
        }
    }

    /// The HTTP status a transport should answer with: always 400, since every
    /// query error is the client's.
    pub fn http_status(&self) -> u16 {
        400
    }

    /// The parameter the error is about, as the query string names it, or
    /// `None` for a parameter the API does not have (its name, escaped and
    /// cut, is in the message).
    pub fn parameter(&self) -> Option<&'static str> {
        match &self.kind {
            QueryErrorKind::UnknownParameter { .. } => None,
            QueryErrorKind::RepeatedParameter { parameter }
            | QueryErrorKind::InvalidValue { parameter, .. }
            | QueryErrorKind::NotOneOf { parameter, .. } => Some(parameter.name()),
            QueryErrorKind::UnsortableField { .. } | QueryErrorKind::RepeatedSortField { .. } => {
                Some(Param::SortKey.name())
            }
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QueryErrorKind::UnknownParameter { shown } => {
                write!(f, "unknown parameter {shown}: the parameters are ")?;
                for (i, p) in Param::ALL.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}", p.name())?;
                }
                Ok(())
            }
            QueryErrorKind::RepeatedParameter { parameter } => {
                write!(
                    f,
                    "parameter `{}` is given more than once",
                    parameter.name()
                )
            }
            QueryErrorKind::InvalidValue { parameter, shown } => write!(
                f,
                "invalid value {shown} for parameter `{}`: {}",
                parameter.name(),
                parameter.rule()
            ),
            QueryErrorKind::NotOneOf {
                parameter,
                shown,
                spellings,
            } => {
                write!(
                    f,
                    "invalid value {shown} for parameter `{}`: must be one of ",
                    parameter.name()
                )?;
                for (i, spelling) in spellings.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}`{spelling}`")?;
                }
                f.write_str(" (upper case)")
            }
            QueryErrorKind::UnsortableField { shown } => write!(
                f,
                "The field does not support sorting: {shown} in parameter `sort_key`; \
                 the sortable fields are {SORTABLE_FIELDS_HELP}"
            ),
            QueryErrorKind::RepeatedSortField { field, shown } => write!(
                f,
                "invalid value {shown} in parameter `sort_key`: the field `{field}` is \
                 already named (each field may be named once; aliases count as their field)"
            ),
        }
    }
}

impl std::error::Error for QueryError {}

impl Serialize for QueryError {
    /// Serializes to the ModelArts error body:
    /// `{"error_code": "ModelArts.0104", "error_msg": "..."}`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serializer.serialize_struct("QueryError", 2)?;
        body.serialize_field("error_code", self.error_code())?;
        body.serialize_field("error_msg", &self.to_string())?;
        body.end()
    }
}
