//! Query-string parsing: decode, dispatch each parameter to its validating
//! setter, and reject unknown and repeated parameters.

use crate::kinds::{ImageType, ServiceType};
use crate::params::Param;
use crate::query::GroupQuery;
use crate::query_error::QueryError;
use crate::sort::SortField;

impl GroupQuery {
    /// Parses and validates a query string such as
    /// `name=torch&type=DEDICATED&limit=20` (without a leading `?`).
    ///
    /// The string is split on `&`, each pair on its first `=` (a pair without
    /// `=` has the empty value), and names and values are percent-decoded with
    /// `+` as a space, as HTML forms encode them. Empty pairs (`a=1&&b=2`) are
    /// skipped; the empty string is the empty query.
    ///
    /// Parameters are checked in the order given and the first problem is
    /// reported.
    ///
    /// # Errors
    /// * `ModelArts.0104`: an unknown parameter (names are case-sensitive), a
    ///   parameter given twice, or a value that breaks its parameter's rule;
    /// * `ModelArts.6303`: a `sort_key` field that does not support sorting.
    ///
    /// ```
    /// use image_groups::{GroupQuery, ServiceType};
    ///
    /// let q = GroupQuery::from_query_string("service_type=TRAIN&name=py%2Dtorch").unwrap();
    /// assert_eq!(q.service_type(), Some(ServiceType::Train));
    /// assert_eq!(q.name(), Some("py-torch"));
    ///
    /// let err = GroupQuery::from_query_string("nmae=torch").unwrap_err();
    /// assert!(err.to_string().starts_with("unknown parameter \"nmae\""));
    /// ```
    pub fn from_query_string(query: &str) -> Result<GroupQuery, QueryError> {
        let mut query_out = GroupQuery::default();
        let mut seen = [false; Param::ALL.len()];
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let Some(parameter) = Param::from_name(&key) else {
                return Err(QueryError::unknown_parameter(&key));
            };
            if std::mem::replace(&mut seen[parameter as usize], true) {
                return Err(QueryError::repeated_parameter(parameter));
            }
            query_out = apply(query_out, parameter, &value)?;
        }
        Ok(query_out)
    }
}

/// Sets one decoded parameter on the query through its validating setter.
fn apply(q: GroupQuery, parameter: Param, value: &str) -> Result<GroupQuery, QueryError> {
    let invalid = || QueryError::invalid_value(parameter, value);
    Ok(match parameter {
        // The one parameter whose empty value means "absent".
        Param::Name => q.with_name(Some(value).filter(|name| !name.is_empty()))?,
        Param::NameFuzzyMatch => {
            let fuzzy = if value.eq_ignore_ascii_case("true") {
                true
            } else if value.eq_ignore_ascii_case("false") {
                false
            } else {
                return Err(invalid());
            };
            q.with_name_fuzzy_match(fuzzy)
        }
        Param::Namespace => q.with_namespace(value)?,
        Param::Type => q.with_image_type(value.parse::<ImageType>()?),
        Param::ServiceType => q.with_service_type(value.parse::<ServiceType>()?),
        Param::WorkspaceId => q.with_workspace_id(value)?,
        Param::SwrInstanceId => q.with_swr_instance_id(value)?,
        // The setters would show the saturated number; show the value as given.
        Param::Offset => parse_count(value)
            .and_then(|n| q.with_offset(n).ok())
            .ok_or_else(invalid)?,
        Param::Limit => parse_count(value)
            .and_then(|n| q.with_limit(n).ok())
            .ok_or_else(invalid)?,
        // Parsed lazily, as the setter takes them, so that the first field
        // that breaks a rule (empty, unsortable or repeated) is reported.
        Param::SortKey => {
            q.with_sort_fields(value.split(',').filter(|_| !value.is_empty()).map(|field| {
                match field {
                    "" => Err(invalid()),
                    _ => Ok((field.parse::<SortField>()?, field)),
                }
            }))?
        }
        Param::SortDir => q.with_sort_dir(value.parse()?),
    })
}

/// Parses a decimal count: ASCII digits only (no sign, no spaces). `None`
/// for anything that is not digits or does not fit a `u32` (every count
/// the API accepts does; the error shows the value as given either way).
fn parse_count(value: &str) -> Option<u32> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.bytes().try_fold(0u32, |n, b| {
        n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::parse_count;

    #[test]
    fn parse_count_takes_digits_only_within_u32() {
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("007"), Some(7));
        assert_eq!(parse_count("4294967295"), Some(u32::MAX));
        assert_eq!(parse_count("4294967296"), None);
        assert_eq!(parse_count("99999999999999999999999"), None);
        assert_eq!(parse_count(""), None);
        assert_eq!(parse_count("+5"), None);
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count(" 5"), None);
        assert_eq!(parse_count("1e3"), None);
        assert_eq!(parse_count("٣"), None);
    }
}
