//! Query-string parsing: decode, dispatch each parameter to its validating
//! setter, and reject unknown and repeated parameters.

use crate::error::QueryError;
use crate::query::{
    GroupQuery, SortField, FUZZY_RULE, LIMIT_RULE, OFFSET_RULE, SERVICE_TYPE_RULE, SORT_KEY_RULE,
    TYPE_RULE,
};

/// The parameters of the API, in the order of its documentation.
pub(crate) const PARAMETER_NAMES: [&str; 10] = [
    "name",
    "name_fuzzy_match",
    "namespace",
    "type",
    "service_type",
    "workspace_id",
    "offset",
    "limit",
    "sort_key",
    "sort_dir",
];

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
        let mut seen = [false; PARAMETER_NAMES.len()];
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let Some(index) = PARAMETER_NAMES.iter().position(|p| *p == key) else {
                return Err(QueryError::unknown_parameter(&key));
            };
            let parameter = PARAMETER_NAMES[index];
            if std::mem::replace(&mut seen[index], true) {
                return Err(QueryError::repeated_parameter(parameter));
            }
            query_out = apply(query_out, parameter, &value)?;
        }
        Ok(query_out)
    }
}

/// Sets one decoded parameter on the query through its validating setter.
fn apply(q: GroupQuery, parameter: &'static str, value: &str) -> Result<GroupQuery, QueryError> {
    let invalid = |rule| QueryError::invalid_value(parameter, value, rule);
    Ok(match parameter {
        "name" => q.with_name(value)?,
        "name_fuzzy_match" => {
            let fuzzy = if value.eq_ignore_ascii_case("true") {
                true
            } else if value.eq_ignore_ascii_case("false") {
                false
            } else {
                return Err(invalid(FUZZY_RULE));
            };
            q.with_name_fuzzy_match(fuzzy)
        }
        "namespace" => q.with_namespace(value)?,
        "type" => q.with_image_type(Some(value.parse().map_err(|_| invalid(TYPE_RULE))?)),
        "service_type" => {
            q.with_service_type(Some(value.parse().map_err(|_| invalid(SERVICE_TYPE_RULE))?))
        }
        "workspace_id" => q.with_workspace_id(value)?,
        // The setters would show the saturated number; show the value as given.
        "offset" => parse_count(value)
            .and_then(|n| q.with_offset(n).ok())
            .ok_or_else(|| invalid(OFFSET_RULE))?,
        "limit" => parse_count(value)
            .and_then(|n| q.with_limit(n).ok())
            .ok_or_else(|| invalid(LIMIT_RULE))?,
        "sort_key" => {
            let mut fields = Vec::with_capacity(SortField::ALL.len());
            // Left to right, so that the first bad field is the one reported.
            for field in value.split(',').filter(|_| !value.is_empty()) {
                if field.is_empty() {
                    return Err(invalid(SORT_KEY_RULE));
                }
                let parsed: SortField = field.parse()?;
                if fields.contains(&parsed) {
                    return Err(QueryError::repeated_sort_field(parsed.as_str(), field));
                }
                fields.push(parsed);
            }
            q.with_sort_key(fields)?
        }
        "sort_dir" => q.with_sort_dir(value.parse()?),
        _ => unreachable!("every name in PARAMETER_NAMES has a setter"),
    })
}

/// Parses a decimal count: ASCII digits only (no sign, no spaces), saturating
/// at `u64::MAX` so that a number past 64 bits is reported as out of range,
/// not as "not a number". `None` for anything that is not digits.
fn parse_count(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::parse_count;

    #[test]
    fn parse_count_takes_digits_only_and_saturates() {
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("007"), Some(7));
        assert_eq!(parse_count("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_count("99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_count(""), None);
        assert_eq!(parse_count("+5"), None);
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count(" 5"), None);
        assert_eq!(parse_count("1e3"), None);
        assert_eq!(parse_count("٣"), None);
    }
}
