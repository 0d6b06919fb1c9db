//! Parsing records text: a JSON array of records, a saved
//! `GET /v1/{project_id}/images` page (an object whose `data` is that array),
//! or NDJSON (one record per line). The shape is told from the content.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use serde_path_to_error::Segment;

use crate::records_error::RecordsError;
use crate::version::ImageVersion;

/// Parses records from JSON text, in any of the three accepted shapes:
///
/// * a JSON array of records: `[{...}, {...}]`;
/// * a JSON object whose `data` is that array (a saved
///   `GET /v1/{project_id}/images` page); its other fields are ignored;
/// * NDJSON: one record per line; blank lines are skipped.
///
/// A text of 128 KiB or more is parsed on the machine's cores (scoped
/// threads, one per core; crate docs, "The data flow"), with exactly the
/// result, records or error, of parsing it on one thread.
///
/// The shape is told from the content: `[` starts an array; an object alone
/// is a page if it has `data` and a single record otherwise; an object
/// followed by more text is the first line of NDJSON, and so is a first
/// line that ends in `}` without being a whole object when a later line
/// starts one (NDJSON whose first record is broken: the error names
/// line 1). Empty text (or
/// only white space) holds no records. A leading byte-order mark is skipped.
///
/// An `id` names one version, and a `GET /v1/{project_id}/images` page never
/// repeats one, so records text that repeats an `id` is an error rather than
/// a choice between the two records (the scan itself, given versions in
/// memory, counts what it is given).
///
/// # Errors
/// A [`RecordsError`] naming the record (its index in the array, or its line
/// in NDJSON), the field, and the position in the text, for invalid JSON, a
/// missing required field, a wrong JSON type (a fractional or out-of-range
/// timestamp, say), an unknown enum value, or an `id` that an earlier
/// record has (naming both records).
///
/// ```
/// use image_groups::parse_records;
///
/// let ndjson = concat!(
///     r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#, "\n",
///     r#"{"id":"2","name":"torch","namespace":"ns","type":"GOLDEN","create_at":1,"update_at":2}"#, "\n",
/// );
/// let err = parse_records(ndjson).unwrap_err();
/// assert_eq!(err.ndjson_line(), Some(2));
/// assert_eq!(err.field(), Some("type"));
///
/// let twice = r#"[{"id":"a","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2},
///                 {"id":"a","name":"m","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}]"#;
/// let err = parse_records(twice).unwrap_err();
/// assert_eq!((err.record_index(), err.field()), (Some(1), Some("id")));
/// assert!(err.to_string().contains("record 0"));
/// ```
pub fn parse_records(text: &str) -> Result<Vec<ImageVersion>, RecordsError> {
    parse_records_bytes(text.as_bytes())
}

/// Texts from this long are parsed on the machine's cores; shorter ones
/// take less time to parse than threads take to start.
pub(crate) const PARALLEL_FROM: usize = 1 << 17;

/// [`parse_records`] on the calling thread, by serde: the rules every
/// other way in must give the same records and errors as.
fn parse_records_exact_str(text: &str) -> Result<Vec<ImageVersion>, RecordsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (records, lines) = parse_shapes(text)?;
    check_unique_ids(&records, lines.as_deref())?;
    Ok(records)
}

/// Parses records in any shape; for NDJSON, also each record's line.
fn parse_shapes(text: &str) -> Result<(Vec<ImageVersion>, Option<Vec<usize>>), RecordsError> {
    let whole = |records| Ok((records, None));
    match text.trim_start().as_bytes().first() {
        None => whole(Vec::new()),
        Some(b'[') => whole(parse_whole::<Vec<ImageVersion>>(text, Shape::Array)?),
        Some(b'{') if is_ndjson(text) => parse_ndjson(text).map(|(r, lines)| (r, Some(lines))),
        Some(b'{') => {
            #[derive(Deserialize)]
            struct Probe {
                data: Option<IgnoredAny>,
            }
            match serde_json::from_str::<Probe>(text) {
                Ok(Probe { data: None }) => {
                    whole(vec![parse_whole::<ImageVersion>(text, Shape::Record)?])
                }
                // With `data`, or broken JSON: parse as a page, which reports
                // where a broken text breaks.
                _ => whole(parse_whole::<Page>(text, Shape::Page)?.data),
            }
        }
        Some(_) => Err(RecordsError::shape(text.trim_start())),
    }
}

/// Parses records from bytes, which must be UTF-8; see [`parse_records`].
///
/// # Errors
/// As [`parse_records`], and for bytes that are not UTF-8.
pub fn parse_records_bytes(bytes: &[u8]) -> Result<Vec<ImageVersion>, RecordsError> {
    if bytes.len() >= PARALLEL_FROM {
        if let Some(versions) = crate::records_stream::parallel_versions(bytes) {
            return Ok(versions);
        }
    }
    parse_records_exact(bytes)
}

/// [`parse_records_bytes`] on the calling thread, by serde (see
/// `parse_records_exact_str`); where every other way in falls back to.
pub(crate) fn parse_records_exact(bytes: &[u8]) -> Result<Vec<ImageVersion>, RecordsError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_records_exact_str(text),
        Err(e) => Err(RecordsError::not_utf8(bytes, e.valid_up_to())),
    }
}

#[derive(Deserialize)]
struct Page {
    data: Vec<ImageVersion>,
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Array,
    Page,
    Record,
}

/// An object followed by more than white space is NDJSON's first line. So
/// is a first line that ends like an object (`}`) but is not a whole one,
/// when the next line that is not blank starts one: NDJSON whose first
/// record is broken, which is then named by its line, as a broken record
/// on any other line is (read as one record or a page, its error would
/// name no record). A page written a record per line starts with a line
/// that does not end in `}` (`{"data":[`), and stays a page.
fn is_ndjson(text: &str) -> bool {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => !text[values.byte_offset()..].trim().is_empty(),
        Some(Err(_)) => text.split_once('\n').is_some_and(|(first, rest)| {
            first.trim_end().ends_with('}')
                && rest
                    .lines()
                    .find(|line| !line.trim().is_empty())
                    .is_some_and(|line| line.trim_start().starts_with('{'))
        }),
        None => false,
    }
}

fn parse_whole<T: DeserializeOwned>(text: &str, shape: Shape) -> Result<T, RecordsError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let (index, field) = locate(e.path(), shape);
        let index = index.or((shape == Shape::Record).then_some(0));
        RecordsError::json(index, None, field, e.inner())
    })?;
    de.end()
        .map_err(|e| RecordsError::json(None, None, None, &e))?;
    Ok(value)
}

/// Fails on the first record whose `id` an earlier record has, naming both
/// by index, or by line where `lines` gives each record's NDJSON line.
fn check_unique_ids(records: &[ImageVersion], lines: Option<&[usize]>) -> Result<(), RecordsError> {
    let mut first_of: hashbrown::HashMap<&str, usize, foldhash::fast::RandomState> =
        hashbrown::HashMap::with_capacity_and_hasher(records.len(), Default::default());
    for (i, v) in records.iter().enumerate() {
        if let Some(&first) = first_of.get(v.id.as_str()) {
            return Err(match lines {
                Some(lines) => RecordsError::repeated_id_on_lines(&v.id, lines[first], lines[i]),
                None => RecordsError::repeated_id_at(&v.id, first, i),
            });
        }
        first_of.insert(&v.id, i);
    }
    Ok(())
}

fn parse_ndjson(text: &str) -> Result<(Vec<ImageVersion>, Vec<usize>), RecordsError> {
    let mut records = Vec::new();
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut de = serde_json::Deserializer::from_str(line);
        let record = serde_path_to_error::deserialize::<_, ImageVersion>(&mut de)
            .map_err(|e| {
                let (_, field) = locate(e.path(), Shape::Record);
                RecordsError::json(None, Some(n + 1), field, e.inner())
            })
            .and_then(|record| {
                de.end()
                    .map_err(|e| RecordsError::json(None, Some(n + 1), None, &e))?;
                Ok(record)
            })?;
        records.push(record);
        lines.push(n + 1);
    }
    Ok((records, lines))
}

/// Reads the record index and field from the path serde was at when it
/// failed: `[3].create_at` (array), `data[3].create_at` (page) or `type`
/// (one record).
fn locate(path: &serde_path_to_error::Path, shape: Shape) -> (Option<usize>, Option<String>) {
    let mut segments = path.iter().peekable();
    if shape == Shape::Page {
        if let Some(Segment::Map { key }) = segments.peek() {
            if key == "data" && path.iter().len() > 1 {
                segments.next();
            } else {
                return (None, Some(key.clone()));
            }
        }
    }
    let mut index = None;
    if shape != Shape::Record {
        if let Some(Segment::Seq { index: i }) = segments.peek() {
            index = Some(*i);
            segments.next();
        }
    }
    let field = match segments.next() {
        Some(Segment::Map { key }) => Some(key.clone()),
        _ => None,
    };
    (index, field)
}
