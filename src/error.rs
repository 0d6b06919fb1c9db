//! The two error types: [`QueryError`] for a query that breaks a rule, and
//! [`RecordsError`] for records text that is not valid input.
//!
//! Both are opaque structs over a private kind, so that new detail can be added
//! without breaking callers; what a caller needs to act on (the ModelArts error
//! code, the HTTP status, the parameter, the record and the field) has an accessor.

use std::fmt::{self, Write as _};

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The ModelArts code for a parameter error.
pub(crate) const CODE_PARAMETER: &str = "ModelArts.0104";
/// The ModelArts code for "The field does not support sorting".
pub(crate) const CODE_UNSORTABLE: &str = "ModelArts.6303";

/// How many characters of an offending value an error message shows.
const SHOWN_CHARS: usize = 64;

/// A query that breaks one of the rules of the API.
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
    RepeatedParameter { parameter: &'static str },
    /// A value that breaks the parameter's rule.
    InvalidValue {
        parameter: &'static str,
        shown: String,
        rule: &'static str,
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

    pub(crate) fn repeated_parameter(parameter: &'static str) -> Self {
        Self::new(QueryErrorKind::RepeatedParameter { parameter })
    }

    pub(crate) fn invalid_value(parameter: &'static str, value: &str, rule: &'static str) -> Self {
        Self::new(QueryErrorKind::InvalidValue {
            parameter,
            shown: show(value),
            rule,
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
            | QueryErrorKind::InvalidValue { parameter, .. } => Some(parameter),
            QueryErrorKind::UnsortableField { .. } | QueryErrorKind::RepeatedSortField { .. } => {
                Some("sort_key")
            }
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            QueryErrorKind::UnknownParameter { shown } => write!(
                f,
                "unknown parameter {shown}: the parameters are {}",
                crate::parse::PARAMETER_NAMES.join(", ")
            ),
            QueryErrorKind::RepeatedParameter { parameter } => {
                write!(f, "parameter `{parameter}` is given more than once")
            }
            QueryErrorKind::InvalidValue {
                parameter,
                shown,
                rule,
            } => write!(
                f,
                "invalid value {shown} for parameter `{parameter}`: {rule}"
            ),
            QueryErrorKind::UnsortableField { shown } => write!(
                f,
                "The field does not support sorting: {shown} in parameter `sort_key`; \
                 the sortable fields are {}",
                crate::query::SORTABLE_FIELDS_HELP
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

/// Quotes a caller's value for an error message: at most [`SHOWN_CHARS`]
/// characters, quotes, backslashes and control characters escaped, so that the
/// message stays short and cannot carry terminal escapes or forged lines.
fn show(value: &str) -> String {
    let mut shown = String::with_capacity(value.len().min(SHOWN_CHARS) + 8);
    shown.push('"');
    for c in value.chars().take(SHOWN_CHARS) {
        if c.is_control() || c == '"' || c == '\\' {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown.push('"');
    let total = value.chars().count();
    if total > SHOWN_CHARS {
        let _ = write!(shown, "... ({total} characters)");
    }
    shown
}

/// Records text that is not valid input: not JSON, not one of the three
/// accepted shapes, or a record with a missing field, a wrong JSON type or an
/// unknown enum value.
///
/// The message names where the problem is: the record's index (JSON array or
/// page) or line (NDJSON), the field, and the line and column in the text.
///
/// ```
/// use image_groups::parse_records;
///
/// let text = r#"[{"id": "a", "name": "n", "namespace": "s", "type": "DEDICATED",
///                 "create_at": 1.5, "update_at": 2}]"#;
/// let err = parse_records(text).unwrap_err();
/// assert_eq!(err.record_index(), Some(0));
/// assert_eq!(err.field(), Some("create_at"));
/// assert!(err.to_string().contains("record 0"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordsError {
    kind: RecordsErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum RecordsErrorKind {
    /// The bytes are not UTF-8.
    NotUtf8 { valid_up_to: usize },
    /// The text is neither an array, an object nor NDJSON.
    Shape { found: String },
    /// Invalid JSON or an invalid record.
    Json {
        record_index: Option<usize>,
        ndjson_line: Option<usize>,
        field: Option<String>,
        line: usize,
        column: usize,
        message: String,
    },
}

impl RecordsError {
    pub(crate) fn not_utf8(valid_up_to: usize) -> Self {
        Self {
            kind: RecordsErrorKind::NotUtf8 { valid_up_to },
        }
    }

    pub(crate) fn shape(found: &str) -> Self {
        Self {
            kind: RecordsErrorKind::Shape { found: show(found) },
        }
    }

    pub(crate) fn json(
        record_index: Option<usize>,
        ndjson_line: Option<usize>,
        field: Option<String>,
        err: &serde_json::Error,
    ) -> Self {
        // serde_json's Display appends " at line L column C"; the position is
        // reported separately, so keep only the description.
        let full = err.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) if err.line() != 0 => full[..at].to_string(),
            _ => full,
        };
        let field = field.or_else(|| crate::records::field_in_message(&message).map(String::from));
        Self {
            kind: RecordsErrorKind::Json {
                record_index,
                ndjson_line,
                field,
                // Within an NDJSON line serde_json counts from line 1.
                line: ndjson_line.unwrap_or(err.line()),
                column: err.column(),
                message,
            },
        }
    }

    /// The 0-based index of the offending record in a JSON array (or in the
    /// `data` array of a page), if the error is about one record.
    pub fn record_index(&self) -> Option<usize> {
        match &self.kind {
            RecordsErrorKind::Json { record_index, .. } => *record_index,
            _ => None,
        }
    }

    /// The 1-based line of the offending record in NDJSON input.
    pub fn ndjson_line(&self) -> Option<usize> {
        match &self.kind {
            RecordsErrorKind::Json { ndjson_line, .. } => *ndjson_line,
            _ => None,
        }
    }

    /// The record field at fault (`"create_at"`, `"type"`, ...), if known.
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            RecordsErrorKind::Json { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for RecordsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RecordsErrorKind::NotUtf8 { valid_up_to } => write!(
                f,
                "records text is not UTF-8 (invalid byte at offset {valid_up_to})"
            ),
            RecordsErrorKind::Shape { found } => write!(
                f,
                "records must be a JSON array of records, a JSON object whose `data` is \
                 that array, or NDJSON (one record per line); the text starts with {found}"
            ),
            RecordsErrorKind::Json {
                record_index,
                ndjson_line,
                field,
                line,
                column,
                message,
            } => {
                match (record_index, ndjson_line) {
                    (Some(i), _) => write!(f, "record {i}")?,
                    (None, Some(l)) => write!(f, "record on line {l}")?,
                    (None, None) => f.write_str("records")?,
                }
                if let Some(field) = field {
                    write!(f, ", field `{field}`")?;
                }
                write!(f, ": {message}")?;
                match (ndjson_line, line) {
                    (Some(_), _) => write!(f, " (at column {column})"),
                    (None, 0) => Ok(()),
                    (None, line) => write!(f, " (at line {line}, column {column})"),
                }
            }
        }
    }
}

impl std::error::Error for RecordsError {}

#[cfg(test)]
mod tests {
    use super::show;

    #[test]
    fn show_cuts_long_values_and_says_how_long_they_were() {
        let shown = show(&"a".repeat(100));
        assert_eq!(shown, format!("\"{}\"... (100 characters)", "a".repeat(64)));
    }

    #[test]
    fn show_escapes_control_characters_quotes_and_backslashes() {
        assert_eq!(show("a\u{1b}[31m\n\"\\"), r#""a\u{1b}[31m\n\"\\""#);
        assert_eq!(show("\0"), r#""\u{0}""#);
    }

    #[test]
    fn show_counts_characters_not_bytes() {
        let shown = show(&"é".repeat(64));
        assert_eq!(shown, format!("\"{}\"", "é".repeat(64)));
    }
}
