//! [`RecordsError`]: records text that is not valid input.

use std::fmt;

use crate::shown::{show, tame};

/// Records text that is not valid input: not JSON, not one of the three
/// accepted shapes, or a record with a missing field, a wrong JSON type or an
/// unknown enum value.
///
/// The message names where the problem is: the record's index (JSON array or
/// page) or line (NDJSON), the field, and the line and column in the text.
/// What it quotes of the text (a value, a key) is cut to 64 characters with
/// control characters escaped, and the message to a few hundred characters,
/// so that it is safe to log; [`field`](Self::field) gives the key as it is.
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
    /// The bytes are not UTF-8: the first invalid byte's offset, and its
    /// 1-based line and column (in bytes) in the text.
    NotUtf8 {
        valid_up_to: usize,
        line: usize,
        column: usize,
    },
    /// The text is neither an array, an object nor NDJSON.
    Shape { found: String },
    /// A record whose `id` an earlier record has: where each is, as 0-based
    /// indexes or (`lines`) 1-based NDJSON lines.
    RepeatedId {
        shown: String,
        first: usize,
        second: usize,
        lines: bool,
    },
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
    /// `bytes` are valid UTF-8 up to `valid_up_to`, where the first invalid
    /// byte is.
    pub(crate) fn not_utf8(bytes: &[u8], valid_up_to: usize) -> Self {
        let before = &bytes[..valid_up_to.min(bytes.len())];
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |at| at + 1);
        Self {
            kind: RecordsErrorKind::NotUtf8 {
                valid_up_to,
                line: 1 + memchr::memchr_iter(b'\n', before).count(),
                column: 1 + valid_up_to - line_start,
            },
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
        let field = field.or_else(|| field_in_message(&message).map(String::from));
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

    pub(crate) fn repeated_id_at(id: &str, first: usize, second: usize) -> Self {
        Self {
            kind: RecordsErrorKind::RepeatedId {
                shown: show(id),
                first,
                second,
                lines: false,
            },
        }
    }

    pub(crate) fn repeated_id_on_lines(id: &str, first: usize, second: usize) -> Self {
        Self {
            kind: RecordsErrorKind::RepeatedId {
                shown: show(id),
                first,
                second,
                lines: true,
            },
        }
    }

    /// The 0-based index of the offending record in a JSON array (or in the
    /// `data` array of a page), if the error is about one record.
    pub fn record_index(&self) -> Option<usize> {
        match &self.kind {
            RecordsErrorKind::Json { record_index, .. } => *record_index,
            RecordsErrorKind::RepeatedId {
                second,
                lines: false,
                ..
            } => Some(*second),
            _ => None,
        }
    }

    /// The 1-based line of the offending record in NDJSON input.
    pub fn ndjson_line(&self) -> Option<usize> {
        match &self.kind {
            RecordsErrorKind::Json { ndjson_line, .. } => *ndjson_line,
            RecordsErrorKind::RepeatedId {
                second,
                lines: true,
                ..
            } => Some(*second),
            _ => None,
        }
    }

    /// The record field at fault (`"create_at"`, `"type"`, ...), if known.
    pub fn field(&self) -> Option<&str> {
        match &self.kind {
            RecordsErrorKind::Json { field, .. } => field.as_deref(),
            RecordsErrorKind::RepeatedId { .. } => Some("id"),
            _ => None,
        }
    }
}

impl fmt::Display for RecordsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RecordsErrorKind::NotUtf8 {
                valid_up_to,
                line,
                column,
            } => write!(
                f,
                "records text is not UTF-8: invalid byte at line {line}, column {column} \
                 (offset {valid_up_to})"
            ),
            RecordsErrorKind::Shape { found } => write!(
                f,
                "records must be a JSON array of records, a JSON object whose `data` is \
                 that array, or NDJSON (one record per line); the text starts with {found}"
            ),
            RecordsErrorKind::RepeatedId {
                shown,
                first,
                second,
                lines: false,
            } => write!(
                f,
                "record {second}, field `id`: the id {shown} is already record {first}'s \
                 (an id names one version)"
            ),
            RecordsErrorKind::RepeatedId {
                shown,
                first,
                second,
                lines: true,
            } => write!(
                f,
                "record on line {second}, field `id`: the id {shown} is already the record \
                 on line {first}'s (an id names one version)"
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
                // Both come from the text (a key, serde's quote of a
                // value): tamed so that the message is safe to log.
                if let Some(field) = field {
                    // In its quotes, so that a long key is cut as a value is.
                    write!(f, ", field {}", tame(&format!("`{field}`")))?;
                }
                write!(f, ": {}", tame(message))?;
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

/// The field a "missing field `x`" or "duplicate field `x`" message names;
/// serde reports those at the record, not at the field.
fn field_in_message(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("duplicate field `"))?;
    rest.split('`').next()
}
