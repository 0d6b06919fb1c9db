//! Records text straight to a page (crate docs, "The data flow"): the
//! records are parsed, filtered and grouped as they are read, on every core,
//! without an owned [`ImageVersion`](crate::ImageVersion) for any of them.
//!
//! The text is cut into chunks at record boundaries (NDJSON at line ends, a
//! JSON array between two top-level objects); worker threads parse each chunk
//! into borrowed records ([`RecordView`]) and count the matching ones into
//! their own [`GroupTable`]; the tables merge at the end. Memory is a few
//! chunks, the groups, and one 64-bit hash per record `id` (to refuse a
//! repeated id as [`parse_records`] does). Several queries are answered in
//! one pass ([`group_records_reader_many`]): each worker keeps a table per
//! distinct filter, and counts a record into each whose filter it matches.
//!
//! The streaming path answers only when it is sure to give what
//! `group_images(&parse_records(text)?, query)` gives. Anything else (a
//! broken record, a shape it does not stream, such as a single record) sends
//! the text down that exact path, read again from the start, so errors and
//! odd shapes are answered by one set of rules and the fast path never has
//! to reproduce an error message. A repeated id hash is the exception: a
//! second pass, in order, finds the two records (or finds two ids that
//! share a hash), keeping only the suspect ids.
//!
//! Most records are read by a small parser of the common record
//! ([`record::fast_record`]) that accepts a subset of what serde accepts,
//! with the same values, and hands any other record to serde in place. It
//! compares, rather than scans, the keys (and the values the query does not
//! read) that repeat the record before it in the chunk, and once two
//! records in a row share their keys, reads the next by a template of the
//! last: its unvarying text compared in stretches, its varying values read.
//!
//! The same chunks parse records text into versions ([`parse_records_reader`],
//! and `parse_records` for a long text): [`read_chunks`] has worker threads
//! each take the next chunk of the text in turn, reading it into the
//! worker's own buffer (so that the bytes it parses are in its core's
//! cache), and read it with a [`Job`], the counting one ([`Counting`]) or the
//! one that keeps each chunk's versions ([`Versions`]), which the calling
//! thread puts back in the text's order.
//! There too, any doubt (a record serde might read differently, an `id`
//! hash seen twice) sends the whole text down the exact path.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

use serde::Deserialize;

use crate::filter::{VersionFields, VersionFilter};
use crate::group_state::{GroupKey, GroupState};
use crate::query::GroupQuery;
use crate::records_error::RecordsError;
use crate::records_text::{parse_records_exact, PARALLEL_FROM};
use crate::response::ImageGroupPage;
use crate::scan::pipeline::{Pending as PendingGroup, Pipeline};
use crate::scan::table::GroupTable;
use crate::version::ImageVersion;

mod record;

use self::record::{fast_record, is_space, serde_record, skip_space, Layout, RecordView};

/// Answers `query` over records text read from `reader`, as
/// `group_images(&parse_records(text)?, query)` does, without holding the
/// records: they are parsed, filtered and grouped as they are read, on the
/// machine's cores.
///
/// Use it where records come from a file and one query is asked of them (the
/// `images-group` program does): its memory grows with the number of
/// matching groups and of records' ids (8 bytes each), not with the text,
/// and nothing waits for the whole text before grouping starts. To ask
/// several queries of one text, [`group_records_reader_many`] answers them
/// in one pass; to ask again and again, parse it once with
/// [`parse_records`] (or build a [`Catalog`](crate::Catalog)).
///
/// The three shapes of [`parse_records`] are accepted. A JSON array, NDJSON
/// and a saved `GET /v1/{project_id}/images` page (an object whose `data` is
/// the array) stream; a single record is read whole and parsed as
/// [`parse_records`] does, as is any text with an error, so that the error
/// is the same. `reader` is read from its current position, and is sought
/// back there to read it again in those cases, and to find where a
/// repeated `id` is (a second pass that keeps only the ids whose hashes
/// the first saw twice). The worker threads read it in turn, each its
/// next chunk (hence `Send`).
///
/// # Errors
/// The outer `io::Error` when reading or seeking `reader` fails; the inner
/// [`RecordsError`] for text that [`parse_records_bytes`](crate::parse_records_bytes) refuses, exactly
/// as it refuses it (the record's index or NDJSON line, the field, the
/// position; both records for a repeated `id`).
///
/// ```
/// use std::io::Cursor;
/// use image_groups::{group_images, group_records_reader, parse_records, GroupQuery};
///
/// let ndjson = concat!(
///     r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#, "\n",
///     r#"{"id":"2","name":"torch","namespace":"ns","type":"DEDICATED","create_at":3,"update_at":4}"#, "\n",
/// );
/// let query = GroupQuery::default();
/// let page = group_records_reader(Cursor::new(ndjson), &query)?.unwrap();
/// assert_eq!(page, group_images(&parse_records(ndjson).unwrap(), &query));
/// assert_eq!(page.data[0].version_count, 2);
///
/// let broken = ndjson.replace("\"create_at\":3", "\"create_at\":3.5");
/// let err = group_records_reader(Cursor::new(broken), &query)?.unwrap_err();
/// assert_eq!((err.ndjson_line(), err.field()), (Some(2), Some("create_at")));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// [`parse_records`]: crate::parse_records
pub fn group_records_reader<R: Read + Seek + Send>(
    mut reader: R,
    query: &GroupQuery,
) -> io::Result<Result<ImageGroupPage, RecordsError>> {
    let start = reader.stream_position()?;
    if let Some(answer) = streamed_answer(&mut reader, query, CHUNK)? {
        return Ok(answer);
    }
    reader.seek(SeekFrom::Start(start))?;
    let mut text = Vec::new();
    reader.read_to_end(&mut text)?;
    Ok(parse_records_exact(&text).map(|records| crate::scan::group_images(&records, query)))
}

/// The answer of the streaming path, or `None` where only the exact path
/// can answer; `reader` is left anywhere.
fn streamed_answer<R: Read + Seek + Send>(
    reader: &mut R,
    query: &GroupQuery,
    chunk_len: usize,
) -> io::Result<Option<Result<ImageGroupPage, RecordsError>>> {
    let tables = streamed_tables(reader, std::slice::from_ref(query), chunk_len, None)?;
    Ok(tables.map(|tables| {
        tables.map(|tables| {
            let groups = tables.first().expect("one table for one filter");
            crate::order::page(groups, query)
        })
    }))
}

/// The groups of each of `filters` (queries whose filters alone are
/// read) over the text, by the streaming path, or `None` where only the
/// exact path can answer; `reader` is left anywhere.
fn streamed_tables<R: Read + Seek + Send>(
    reader: &mut R,
    filters: &[GroupQuery],
    chunk_len: usize,
    guard: Option<&Guard>,
) -> io::Result<Option<Result<Vec<GroupTable>, RecordsError>>> {
    let start = reader.stream_position()?;
    let id_hasher = foldhash::fast::RandomState::default();
    Ok(
        match stream(reader, filters, chunk_len, &id_hasher, guard, None)? {
            Outcome::Groups(tables) => Some(Ok(tables)),
            Outcome::GroupsUnlessRepeated(tables, hashes) => {
                // Read again, on one thread, in order, for where each suspect
                // id is (memory: the suspects' ids and positions).
                reader.seek(SeekFrom::Start(start))?;
                let suspects = hashes.into_iter().collect();
                match stream(reader, &[], chunk_len, &id_hasher, None, Some(&suspects))? {
                    Outcome::Repeated(e) => Some(Err(e)),
                    Outcome::NoRepeat => Some(Ok(tables)),
                    _ => None,
                }
            }
            _ => None,
        },
    )
}

/// Answers `query` over records text in memory, as
/// `group_images(&parse_records_bytes(text)?, query)` does, on the
/// machine's cores and without an owned version per record; see
/// [`group_records_reader`], which this is over the bytes.
///
/// # Errors
/// A [`RecordsError`] exactly as [`parse_records_bytes`](crate::parse_records_bytes) gives it.
///
/// ```
/// use image_groups::{group_records_text, GroupQuery};
///
/// let text = br#"[{"id":"a","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}]"#;
/// let page = group_records_text(text, &GroupQuery::default()).unwrap();
/// assert_eq!(page.total, 1);
/// assert!(group_records_text(b"[{}]", &GroupQuery::default()).is_err());
/// ```
pub fn group_records_text(text: &[u8], query: &GroupQuery) -> Result<ImageGroupPage, RecordsError> {
    match group_records_reader(io::Cursor::new(text), query) {
        Ok(answer) => answer,
        // Reading a slice cannot fail.
        Err(_) => unreachable!("reading bytes in memory failed"),
    }
}

/// The most distinct filters [`group_records_reader_many`] streams the
/// text for; with more, it parses the records once and asks each query.
///
/// Each distinct filter costs every worker thread a group table and a test
/// per record. Memory is bounded whatever the count (the pass stops once
/// its tables outgrow the text, see [`group_records_reader_many`]); this
/// bound is on time. The more filters, the likelier their tables are to
/// outgrow the text late in the pass, which is then wasted: measured over
/// 1M records (BENCHMARKS.md), 64 broad filters over 100k groups took
/// 1.4x the time of parsing once, while up to 40 streamed 1.6x to 2.6x
/// faster than it, over 100k groups or 1k.
pub const MAX_STREAMED_FILTERS: usize = 32;

/// Answers each of `queries` over records text read from `reader`, in
/// order, as `group_images(&parse_records(text)?, query)` does for each,
/// in one pass over the text and, for up to [`MAX_STREAMED_FILTERS`]
/// distinct filters whose groups take less memory than the records,
/// without holding the records.
///
/// Queries that differ only in order and paging (`sort_key`, `sort_dir`,
/// `offset`, `limit`) share one filter: the records are filtered and
/// grouped once per distinct filter, as [`group_records_reader`] does for
/// one query (every worker thread counts each record into the groups of
/// each filter it matches; the threads' groups are merged per filter), and
/// each query's page is ordered and cut from its filter's groups. Memory
/// grows with the distinct filters times their groups (times the worker
/// threads) and with the records' ids (8 bytes each), not with the records.
///
/// With more than [`MAX_STREAMED_FILTERS`] distinct filters, the records
/// are parsed once ([`parse_records_reader`]) and held, and each query is
/// asked of them ([`group_images`](crate::group_images)): memory then grows
/// with the records, as it does for a [`Catalog`](crate::Catalog). The
/// pass takes that path too, reading the text again from the start, as
/// soon as its group tables (all filters', all threads') hold more bytes
/// than the whole text (from `reader`'s position to its end, which is
/// sought to learn it) and more than 16 MiB: the text's length stands for
/// what holding its records would take, so the pass never holds much more
/// than that path would (where nearly every version is its own group,
/// several broad filters get there part way through the text). The pages
/// and errors are the same either way.
///
/// The shapes, the reading of `reader` (from its current position, by the
/// worker threads in turn, sought back there for the exact path or the
/// second pass of a repeated `id`) and the errors are those of
/// [`group_records_reader`]: the same error,
/// whatever the queries, as [`parse_records_bytes`](crate::parse_records_bytes)
/// gives; with no queries, the text is still read and checked.
///
/// # Errors
/// The outer `io::Error` when reading or seeking `reader` fails; the inner
/// [`RecordsError`] for text that
/// [`parse_records_bytes`](crate::parse_records_bytes) refuses, exactly as
/// it refuses it.
///
/// ```
/// use std::io::Cursor;
/// use image_groups::{group_images, group_records_reader_many, parse_records, GroupQuery};
///
/// let ndjson = concat!(
///     r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#, "\n",
///     r#"{"id":"2","name":"tf","namespace":"ns","type":"BUILD_IN","create_at":3,"update_at":4}"#, "\n",
/// );
/// // The first two share a filter, so one set of groups answers both.
/// let queries: Vec<GroupQuery> = ["sort_key=name", "limit=1&sort_dir=asc", "type=BUILD_IN"]
///     .iter()
///     .map(|q| q.parse().unwrap())
///     .collect();
/// let pages = group_records_reader_many(Cursor::new(ndjson), &queries)?.unwrap();
/// let records = parse_records(ndjson).unwrap();
/// for (page, query) in pages.iter().zip(&queries) {
///     assert_eq!(page, &group_images(&records, query));
/// }
/// assert_eq!((pages[0].total, pages[1].size, pages[2].data[0].name.as_str()), (2, 1, "tf"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn group_records_reader_many<R: Read + Seek + Send>(
    reader: R,
    queries: &[GroupQuery],
) -> io::Result<Result<Vec<ImageGroupPage>, RecordsError>> {
    many_pages(reader, queries, CHUNK, GUARD_FROM)
}

/// [`group_records_reader_many`] with chunks of `chunk_len` bytes and a
/// memory guard that does not act below `guard_from` bytes of tables (nor
/// below the text's length).
fn many_pages<R: Read + Seek + Send>(
    mut reader: R,
    queries: &[GroupQuery],
    chunk_len: usize,
    guard_from: usize,
) -> io::Result<Result<Vec<ImageGroupPage>, RecordsError>> {
    if distinct_filters(queries).0.len() > MAX_STREAMED_FILTERS {
        return Ok(parse_records_reader(reader)?.map(|records| pages_of(&records, queries)));
    }
    let start = reader.stream_position()?;
    let text_len = reader.seek(SeekFrom::End(0))?.saturating_sub(start);
    reader.seek(SeekFrom::Start(start))?;
    let guard = Guard::new(
        usize::try_from(text_len)
            .unwrap_or(usize::MAX)
            .max(guard_from),
    );
    if let Some(answer) = streamed_pages(&mut reader, queries, chunk_len, Some(&guard))? {
        return Ok(answer);
    }
    reader.seek(SeekFrom::Start(start))?;
    if guard.tripped() {
        // Holding the records is now the smaller bound: the fallback of
        // many filters (which gives the exact path's errors too).
        return Ok(parse_records_reader(reader)?.map(|records| pages_of(&records, queries)));
    }
    let mut text = Vec::new();
    reader.read_to_end(&mut text)?;
    Ok(parse_records_exact(&text).map(|records| pages_of(&records, queries)))
}

/// The table bytes below which [`Guard`] never stops a pass: small tables
/// cost little whatever the text, and the tables' fixed first sizes
/// would otherwise outweigh a short text.
const GUARD_FROM: usize = 16 << 20;

/// The memory guard of the many-query pass: the bytes held by every
/// worker's group tables against a bound, the whole text's length: an
/// estimate of what holding its records as versions would take (a version
/// and its strings take about as much as its record's text). Once the
/// tables hold more, the pass stops.
///
/// Why the whole text's length and not the text read so far: groups are
/// mostly seen early where records share them, so tables that outgrow
/// the text read in the first chunks may still end far below the records.
struct Guard {
    bound: usize,
    tables: AtomicUsize,
    tripped: AtomicBool,
}

impl Guard {
    fn new(bound: usize) -> Self {
        Guard {
            bound,
            tables: AtomicUsize::new(0),
            tripped: AtomicBool::new(false),
        }
    }

    /// Notes that a worker's tables grew by `grown` bytes; whether the
    /// pass may go on.
    fn allows(&self, grown: usize) -> bool {
        let tables = self.tables.fetch_add(grown, Ordering::Relaxed) + grown;
        if tables > self.bound {
            self.tripped.store(true, Ordering::Relaxed);
        }
        !self.tripped.load(Ordering::Relaxed)
    }

    /// Whether the pass was stopped for its tables' memory.
    fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Relaxed)
    }
}

/// The pages of the streaming path, each query's from its filter's groups,
/// or `None` where only the exact path can answer; `reader` is left
/// anywhere.
fn streamed_pages<R: Read + Seek + Send>(
    reader: &mut R,
    queries: &[GroupQuery],
    chunk_len: usize,
    guard: Option<&Guard>,
) -> io::Result<Option<Result<Vec<ImageGroupPage>, RecordsError>>> {
    let (filters, filter_of) = distinct_filters(queries);
    let tables = streamed_tables(reader, &filters, chunk_len, guard)?;
    Ok(tables.map(|tables| {
        tables.map(|tables| {
            queries
                .iter()
                .zip(&filter_of)
                .map(|(query, &f)| crate::order::page(&tables[f], query))
                .collect()
        })
    }))
}

/// Answers each of `queries` over records text in memory, as
/// `group_images(&parse_records_bytes(text)?, query)` does for each; see
/// [`group_records_reader_many`], which this is over the bytes.
///
/// # Errors
/// A [`RecordsError`] exactly as [`parse_records_bytes`](crate::parse_records_bytes) gives it.
///
/// ```
/// use image_groups::{group_records_text_many, GroupQuery};
///
/// let text = br#"[{"id":"a","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}]"#;
/// let queries = ["name=torch".parse().unwrap(), "name=tf".parse().unwrap()];
/// let pages = group_records_text_many(text, &queries).unwrap();
/// assert_eq!((pages[0].total, pages[1].total), (1, 0));
/// assert!(group_records_text_many(b"[{}]", &queries).is_err());
/// ```
pub fn group_records_text_many(
    text: &[u8],
    queries: &[GroupQuery],
) -> Result<Vec<ImageGroupPage>, RecordsError> {
    match group_records_reader_many(io::Cursor::new(text), queries) {
        Ok(answer) => answer,
        // Reading a slice cannot fail.
        Err(_) => unreachable!("reading bytes in memory failed"),
    }
}

/// The distinct filters of `queries` (each a query with the default order
/// and paging, in order of first use) and, by query, its filter's index.
fn distinct_filters(queries: &[GroupQuery]) -> (Vec<GroupQuery>, Vec<usize>) {
    // Indexed by a hash map: a queries file may hold many thousands of
    // distinct lines, and a search of the list per line would be quadratic.
    let mut index: HashMap<GroupQuery, usize> = HashMap::new();
    let mut filters: Vec<GroupQuery> = Vec::new();
    let filter_of = queries
        .iter()
        .map(|query| {
            let filter = crate::partial::filters_of(query);
            *index.entry(filter).or_insert_with_key(|filter| {
                filters.push(filter.clone());
                filters.len() - 1
            })
        })
        .collect();
    (filters, filter_of)
}

/// Each query's page over versions in memory.
fn pages_of(records: &[ImageVersion], queries: &[GroupQuery]) -> Vec<ImageGroupPage> {
    queries
        .iter()
        .map(|query| crate::scan::group_images(records, query))
        .collect()
}

/// Parses records text read from `reader` into versions, exactly as
/// [`parse_records_bytes`](crate::parse_records_bytes) parses the whole
/// text, on the machine's cores and without holding the whole text: the
/// text is cut into chunks as [`group_records_reader`] cuts it, and each
/// chunk's records are parsed on a worker thread and put in place.
///
/// Use it where records come from a file and are to be kept (a
/// [`Catalog`](crate::Catalog), queries asked later): its memory is the
/// versions and a few chunks, not the text as well. For one query, or
/// several known at once, [`group_records_reader`] and
/// [`group_records_reader_many`] hold no versions at all.
///
/// `reader` is read from its current position, by the worker threads in
/// turn, each its next chunk (hence `Send`). A text shorter than 128
/// KiB is parsed on the calling thread. Text with an error, a
/// single record, or a repeated `id` is read again from there (`reader`
/// is sought back) and parsed whole by the exact path, so that the error
/// is the same.
///
/// # Errors
/// The outer `io::Error` when reading or seeking `reader` fails; the inner
/// [`RecordsError`] for text that
/// [`parse_records_bytes`](crate::parse_records_bytes) refuses, exactly as
/// it refuses it.
///
/// ```
/// use std::io::Cursor;
/// use image_groups::{parse_records, parse_records_reader};
///
/// let ndjson = concat!(
///     r#"{"id":"1","name":"torch","namespace":"ns","type":"DEDICATED","create_at":1,"update_at":2}"#, "\n",
///     r#"{"id":"2","name":"torch","namespace":"ns","type":"GOLDEN","create_at":3,"update_at":4}"#, "\n",
/// );
/// let err = parse_records_reader(Cursor::new(ndjson))?.unwrap_err();
/// assert_eq!((err.ndjson_line(), err.field()), (Some(2), Some("type")));
/// let fixed = ndjson.replace("GOLDEN", "BUILD_IN");
/// let versions = parse_records_reader(Cursor::new(&fixed))?.unwrap();
/// assert_eq!(versions, parse_records(&fixed).unwrap());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn parse_records_reader<R: Read + Seek + Send>(
    mut reader: R,
) -> io::Result<Result<Vec<ImageVersion>, RecordsError>> {
    let start = reader.stream_position()?;
    match read_versions(&mut reader, CHUNK)? {
        Some(Parse::Short(head)) => return Ok(parse_records_exact(&head)),
        Some(Parse::Versions(versions)) => return Ok(Ok(versions)),
        None => {}
    }
    reader.seek(SeekFrom::Start(start))?;
    let mut text = Vec::new();
    reader.read_to_end(&mut text)?;
    Ok(parse_records_exact(&text))
}

/// What [`read_versions`] found.
enum Parse {
    /// A text too short to parse on other threads: all of it.
    Short(Vec<u8>),
    /// The versions, parsed on every core.
    Versions(Vec<ImageVersion>),
}

/// The versions of the text read from `reader` (from its position, to
/// which it is sought back after reading the first bytes), or the whole
/// text if it is short; `None` where only the exact path can answer.
fn read_versions<R: Read + Seek + Send>(
    reader: &mut R,
    chunk_len: usize,
) -> io::Result<Option<Parse>> {
    let start = reader.stream_position()?;
    let mut head = Vec::new();
    reader.take(PARALLEL_FROM as u64).read_to_end(&mut head)?;
    if head.len() < PARALLEL_FROM {
        return Ok(Some(Parse::Short(head)));
    }
    reader.seek(SeekFrom::Start(start))?;
    Ok(parsed_versions(reader, chunk_len)?.map(Parse::Versions))
}

/// The smallest chunk of a text in memory: smaller ones cost more to hand
/// over than they take to parse.
const MIN_CHUNK: usize = 1 << 16;

/// The versions of records text in memory, parsed on the machine's cores
/// (chunks small enough that every core gets a few); `None` where only
/// the exact path can answer.
pub(crate) fn parallel_versions(text: &[u8]) -> Option<Vec<ImageVersion>> {
    let chunk_len = (text.len() / (4 * workers())).clamp(MIN_CHUNK, CHUNK);
    match parsed_versions(&mut io::Cursor::new(text), chunk_len) {
        Ok(versions) => versions,
        // Reading a slice cannot fail.
        Err(_) => unreachable!("reading bytes in memory failed"),
    }
}

/// The versions of the text read from `reader`, in chunks of about
/// `chunk_len` bytes; `None` where only the exact path can answer,
/// including where two records may have one `id` (the exact path names
/// both).
fn parsed_versions<R: Read + Send>(
    reader: &mut R,
    chunk_len: usize,
) -> io::Result<Option<Vec<ImageVersion>>> {
    let id_hasher = foldhash::fast::RandomState::default();
    let workers = workers();
    let jobs = (0..workers)
        .map(|_| Versions {
            id_hasher: &id_hasher,
            ids: IdHashes::new(),
        })
        .collect();
    // Chunks come back in any order; each is put in place as soon as the
    // ones before it are.
    let mut versions = Vec::new();
    let mut waiting = std::collections::BTreeMap::new();
    let mut next = 0;
    let put = |seq: usize, mut chunk: Vec<ImageVersion>| {
        if seq != next {
            waiting.insert(seq, chunk);
            return;
        }
        versions.append(&mut chunk);
        next += 1;
        while let Some(mut chunk) = waiting.remove(&next) {
            versions.append(&mut chunk);
            next += 1;
        }
    };
    let Some((_, done)) = read_chunks(reader, chunk_len, jobs, put)? else {
        return Ok(None);
    };
    assert!(
        waiting.is_empty(),
        "a chunk's versions were never put in place"
    );
    let ids: Vec<&IdHashes> = done.iter().map(|job| &job.ids).collect();
    Ok(IdHashes::repeats(&ids, workers)
        .is_empty()
        .then_some(versions))
}

/// A parsing worker's job: the versions of each chunk, and the hash of
/// every record's `id`.
struct Versions<'h> {
    id_hasher: &'h foldhash::fast::RandomState,
    ids: IdHashes,
}

impl Job for Versions<'_> {
    type Out = Vec<ImageVersion>;

    fn chunk(
        &mut self,
        text: &str,
        shape: Shape,
        page_rest: Option<&mut Option<Vec<u8>>>,
    ) -> Option<(usize, Vec<ImageVersion>)> {
        let mut versions = Vec::new();
        let (id_hasher, ids) = (self.id_hasher, &mut self.ids);
        let mut keep = |record: RecordView<'_>| {
            let mut id = id_hasher.build_hasher();
            id.write(record.id.0.as_bytes());
            ids.push(id.finish());
            versions.push(record.into_version());
        };
        let ok = match shape {
            Shape::Array => array_records(text, page_rest, keep),
            Shape::Ndjson => ndjson_records(text, |record, _| keep(record)).is_some(),
        };
        ok.then_some((versions.len(), versions))
    }
}

/// The size of a chunk: large enough that a chunk is cheap to hand to a
/// thread, small enough that a few in flight are little memory.
const CHUNK: usize = 1 << 19;

/// How far to read for the first record before leaving the text to the
/// exact path (a first object this long is a saved page, not NDJSON).
const HEAD_LIMIT: usize = 1 << 24;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Shape {
    Array,
    Ndjson,
}

/// What a pass over the text found.
enum Outcome {
    /// The groups of each filter.
    Groups(Vec<GroupTable>),
    /// The groups of each filter, unless two records with one of these id
    /// hashes have one id (then a second pass, `check`, tells).
    GroupsUnlessRepeated(Vec<GroupTable>, Vec<u64>),
    /// The second pass found the first record whose id an earlier one has.
    Repeated(RecordsError),
    /// The second pass found every suspect hash to be of different ids.
    NoRepeat,
    /// Only the exact path can answer.
    Exact,
}

/// What a worker found in a chunk.
struct Parsed<O> {
    /// The chunk's place in the text.
    seq: usize,
    /// The chunk's record count and output; `None` where a record is one
    /// that `ImageVersion` might not parse alike.
    out: Option<(usize, O)>,
    /// For a page's last chunk, what follows its array.
    page_rest: Option<Vec<u8>>,
}

/// What a worker thread does with the records of the chunks it is given
/// (each worker has its own).
trait Job: Send {
    /// What one chunk gives back to the calling thread.
    type Out: Send;

    /// Reads the records of one chunk, `text`: a JSON array
    /// ([`array_records`]) or whole NDJSON lines ([`ndjson_records`]). It
    /// returns the chunk's record count and output, or `None` where a
    /// record is one that `ImageVersion` might not parse alike. With
    /// `page_rest`, the chunk ends a page's array, and what follows the
    /// array is to be put there.
    fn chunk(
        &mut self,
        text: &str,
        shape: Shape,
        page_rest: Option<&mut Option<Vec<u8>>>,
    ) -> Option<(usize, Self::Out)>;
}

/// Cuts the text read from `reader` into chunks of about `chunk_len`
/// bytes at record boundaries and has `jobs` read them, one thread each
/// (each thread reads its next chunk from `reader` itself, in turn);
/// `take` is given each chunk's output and place on this thread, as they
/// come (in any order). Returns the shape and the jobs when every record
/// was read, or `None` where only the exact path can answer: the text is a
/// shape not streamed, a chunk's output was `None`, NDJSON holds fewer than
/// two records, or what surrounds a page's array is not what
/// `parse_records` reads as a page.
fn read_chunks<R: Read + Send, J: Job>(
    reader: &mut R,
    chunk_len: usize,
    jobs: Vec<J>,
    mut take: impl FnMut(usize, J::Out),
) -> io::Result<Option<(Shape, Vec<J>)>> {
    let mut buf = vec![0; chunk_len];
    let (mut filled, mut eof) = fill(reader, &mut buf, 0)?;
    let (shape, page_at) = loop {
        let bom = buf[..filled].starts_with("\u{feff}".as_bytes());
        // Fewer than three bytes may be the start of a byte-order mark.
        let head = if filled < 3 && !eof {
            Head::NeedMore
        } else {
            shape_of(&buf[if bom { 3 } else { 0 }..filled], eof)
        };
        match head {
            Head::Shape(shape) => break (shape, None),
            Head::Page(at) => break (Shape::Array, Some(at + if bom { 3 } else { 0 })),
            Head::NotStreamed => return Ok(None),
            Head::NeedMore if buf.len() >= HEAD_LIMIT => return Ok(None),
            Head::NeedMore => {
                let len = buf.len() * 2;
                buf.resize(len, 0);
                (filled, eof) = fill(reader, &mut buf, filled)?;
            }
        }
    };
    let start = match page_at {
        Some(at) => at,
        None if buf[..filled].starts_with("\u{feff}".as_bytes()) => 3,
        None => 0,
    };
    // A page is streamed as its array; the text around the array is
    // checked at the end, as a page whose array is empty.
    let page_start = page_at.map(|at| buf[..at].to_vec());
    buf.truncate(filled);
    let source = Mutex::new(Source {
        reader,
        carry: buf,
        start,
        eof,
        seq: 0,
        stop: false,
        error: None,
    });
    let page = page_start.is_some();
    let (done_tx, done_rx) = mpsc::channel::<Parsed<J::Out>>();
    let (jobs, records, ok, page_rest) = std::thread::scope(|scope| {
        // A thread the system refuses (a process limit) is one fewer
        // worker, and its job, which has read nothing, is left out.
        let handles: Vec<_> = jobs
            .into_iter()
            .filter_map(|job| {
                let done_tx = done_tx.clone();
                let source = &source;
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || {
                        work(job, shape, chunk_len, page, source, done_tx)
                    })
                    .ok()
            })
            .collect();
        drop(done_tx);
        if handles.is_empty() {
            // No worker at all: only the exact path can answer.
            return (Vec::new(), 0, false, None);
        }
        let mut records = 0;
        let mut ok = true;
        let mut page_rest = None;
        // Until every worker has stopped (and dropped its sender).
        for parsed in done_rx.iter() {
            match parsed.out {
                Some((n, out)) => {
                    records += n;
                    take(parsed.seq, out);
                }
                None => ok = false,
            }
            if parsed.page_rest.is_some() {
                page_rest = parsed.page_rest;
            }
        }
        let jobs: Vec<J> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (jobs, records, ok, page_rest)
    });
    let source = source
        .into_inner()
        .expect("a worker panicked while cutting a chunk, and that panic was not passed on");
    if let Some(error) = source.error {
        return Err(error);
    }
    // NDJSON of one record is, to `parse_records`, one object: a record
    // or a page. Leave that to it.
    if !ok || (shape == Shape::Ndjson && records < 2) {
        return Ok(None);
    }
    if let Some(page_start) = page_start {
        // What `parse_records` makes of the page without its records
        // must be no records: then the text was a page, and its array
        // the one streamed.
        let Some(page_rest) = page_rest else {
            return Ok(None);
        };
        let empty = [&page_start[..], b"[]", &page_rest[..]].concat();
        if !parse_records_exact(&empty).is_ok_and(|records| records.is_empty()) {
            return Ok(None);
        }
    }
    Ok(Some((shape, jobs)))
}

/// Id hashes seen twice in the first pass.
type Suspects = hashbrown::HashSet<u64, foldhash::fast::RandomState>;

/// The number of worker threads: one per core.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Streams the text, counting the records that match each of `filters`
/// into that filter's groups: with `check`, the second pass, which only
/// looks for a repeated id among the records whose id hashes are in
/// `check` (and counts nothing).
fn stream<R: Read + Send>(
    reader: &mut R,
    filters: &[GroupQuery],
    chunk_len: usize,
    id_hasher: &foldhash::fast::RandomState,
    guard: Option<&Guard>,
    check: Option<&Suspects>,
) -> io::Result<Outcome> {
    // One hasher for every table: a key is hashed once for all of them,
    // and the workers' tables of one filter merge without hashing again.
    let hasher = foldhash::fast::RandomState::default();
    // The second pass reads the records in order, on one thread.
    let workers = match check {
        Some(_) => 1,
        None => workers(),
    };
    let jobs = (0..workers)
        .map(|_| Counting {
            tallies: filters
                .iter()
                .map(|filter| Tally {
                    filter: VersionFilter::new(filter),
                    groups: GroupTable::new(hasher.clone()),
                })
                .collect(),
            id_hasher,
            guard,
            table_bytes: 0,
            ids: IdHashes::new(),
            check: check.map(Check::new),
            records_before: 0,
            lines_before: 0,
        })
        .collect();
    let Some((_, done)) = read_chunks(reader, chunk_len, jobs, |_, ()| {})? else {
        return Ok(Outcome::Exact);
    };
    let mut done = done;
    if check.is_some() {
        return Ok(match done.pop().and_then(|w| w.check?.found) {
            Some(repeated) => Outcome::Repeated(repeated),
            None => Outcome::NoRepeat,
        });
    }
    let ids: Vec<&IdHashes> = done.iter().map(|w| &w.ids).collect();
    let repeats = IdHashes::repeats(&ids, workers);
    // Each filter's tables, one per worker, merged into the first's.
    let mut tables: Vec<GroupTable> = Vec::with_capacity(filters.len());
    for worker in done {
        for (f, tally) in worker.tallies.into_iter().enumerate() {
            match tables.get_mut(f) {
                Some(groups) => groups.merge(&tally.groups),
                None => tables.push(tally.groups),
            }
        }
    }
    Ok(match repeats.is_empty() {
        true => Outcome::Groups(tables),
        false => Outcome::GroupsUnlessRepeated(tables, repeats),
    })
}

/// Reads into `buf[filled..]` until it is full or the text ends; returns
/// the bytes now in `buf` and whether the text ended.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8], mut filled: usize) -> io::Result<(usize, bool)> {
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => return Ok((filled, true)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((filled, false))
}

/// What the first bytes of a text say about streaming it.
#[derive(PartialEq, Debug)]
enum Head {
    Shape(Shape),
    /// An object that starts like a page: its `data` array is at this
    /// index.
    Page(usize),
    /// A shape left to the exact path: an object alone (a record or a
    /// page), or text that is none of the shapes.
    NotStreamed,
    /// The bytes so far do not tell.
    NeedMore,
}

/// The shape to stream the text in, told from its first bytes (`eof`: they
/// are the whole text): `[` is an array; an object followed by more than
/// white space is NDJSON's first line.
fn shape_of(head: &[u8], eof: bool) -> Head {
    let need_more = if eof {
        Head::NotStreamed
    } else {
        Head::NeedMore
    };
    let Some(first) = head.iter().position(|&b| !is_space(b)) else {
        return need_more;
    };
    match head[first] {
        b'[' => Head::Shape(Shape::Array),
        b'{' => match object_end(&head[first..]) {
            Some(end) if head[first + end..].iter().any(|&b| !is_space(b)) => {
                Head::Shape(Shape::Ndjson)
            }
            _ => match page_data(&head[first..]) {
                Some(at) => Head::Page(first + at),
                None => need_more,
            },
        },
        _ => Head::NotStreamed,
    }
}

/// Where the array of the top-level `data` member of the object `head`
/// starts with is, if the members before it are in `head`. The text is not
/// checked: the page around the array is, at the end.
fn page_data(head: &[u8]) -> Option<usize> {
    let mut i = skip_space(head, 0);
    if head.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_space(head, i);
        let key_end = string_end(head, i)?;
        let key = &head[i + 1..key_end - 1];
        i = skip_space(head, key_end);
        if head.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(head, i + 1);
        if key == b"data" {
            return (head.get(i) == Some(&b'[')).then_some(i);
        }
        i = match head.get(i)? {
            b'{' | b'[' => i + object_end(&head[i..])?,
            b'"' => string_end(head, i)?,
            _ => {
                i + head[i..]
                    .iter()
                    .position(|&c| c == b',' || c == b'}' || is_space(c))?
            }
        };
        i = skip_space(head, i);
        if head.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The index after the string starting at `i`, escapes skipped.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let mut at = i + 1;
    loop {
        at += memchr::memchr2(b'"', b'\\', b.get(at..)?)?;
        if b[at] == b'"' {
            return Some(at + 1);
        }
        at += 2;
    }
}

/// The length of the object `bytes` starts with, counting brackets outside
/// strings; `None` if it does not end within `bytes`. The text is not
/// checked: the parser does that.
fn object_end(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                loop {
                    let at = i + memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
                    if bytes[at] == b'\\' {
                        i = at + 2;
                    } else {
                        i = at;
                        break;
                    }
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Where to cut an array's text between two records: after the last comma
/// with an object's `}` before it and, after it, the start of an object and
/// of its first member, `{"key":` (white space aside).
///
/// The text is not scanned from its start, so a cut may fall inside a
/// string. Inside a string a `"` is escaped, so that takes a string ending
/// in `},{` followed by a key starting with `:`. Then the chunk before the
/// cut ends inside that string, its parse fails, and the exact path
/// answers: a wrong cut costs time, never a wrong page.
fn array_cut(bytes: &[u8]) -> Option<usize> {
    let skip_space = |from: usize| {
        bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|&b| !is_space(b)))
            .map(|at| from + at)
    };
    let member_starts = |from: usize| -> Option<()> {
        let open = skip_space(from)?;
        (bytes[open] == b'{').then_some(())?;
        let quote = skip_space(open + 1)?;
        (bytes[quote] == b'"').then_some(())?;
        let mut i = quote + 1;
        loop {
            let at = i + memchr::memchr2(b'"', b'\\', bytes.get(i..)?)?;
            if bytes[at] == b'"' {
                let colon = skip_space(at + 1)?;
                return (bytes[colon] == b':').then_some(());
            }
            i = at + 2;
        }
    };
    for comma in memchr::memrchr_iter(b',', bytes) {
        let before = bytes[..comma].iter().rposition(|&b| !is_space(b));
        if before.is_some_and(|b| bytes[b] == b'}') && member_starts(comma + 1).is_some() {
            return Some(comma + 1);
        }
    }
    None
}

/// The text being cut into chunks, shared by the workers: each takes the
/// next chunk itself (reading it into its own buffer, so that the bytes it
/// parses are in its own core's cache) and leaves the bytes read past the
/// chunk's last whole record for the next.
struct Source<'r, R> {
    reader: &'r mut R,
    /// The text read but not yet in a chunk: the start of the next one.
    carry: Vec<u8>,
    /// Where the next chunk's records start in it (past a byte-order mark
    /// or a page's head, for the first).
    start: usize,
    /// Whether `reader` has ended.
    eof: bool,
    /// The next chunk's place in the text.
    seq: usize,
    /// No more chunks: the text has ended, a chunk was refused, or reading
    /// failed.
    stop: bool,
    /// The error reading failed with.
    error: Option<io::Error>,
}

/// Where a worker's chunk is in its buffer.
struct Cut {
    /// The chunk's place in the text: 0 for the first.
    seq: usize,
    /// `buf[start..end]` is a JSON array of whole records (the cuts between
    /// two records made `[` and `]`) or whole NDJSON lines.
    start: usize,
    end: usize,
    /// The text's last chunk.
    last: bool,
}

impl<R: Read> Source<'_, R> {
    /// Puts the next chunk in `buf` (grown to `chunk_len` bytes, or more for
    /// a record longer than that), or `None` when there is none: the text
    /// has ended, a chunk was refused, or reading failed (the error is kept).
    fn next_chunk(&mut self, buf: &mut Vec<u8>, shape: Shape, chunk_len: usize) -> Option<Cut> {
        loop {
            if self.stop {
                return None;
            }
            match self.cut(buf, shape, chunk_len) {
                Ok(Some(cut)) => return Some(cut),
                // An empty chunk, not the last: read on.
                Ok(None) => {}
                Err(error) => {
                    self.error = Some(error);
                    self.stop = true;
                }
            }
        }
    }

    /// The carried bytes and what follows them, up to the last record
    /// boundary, in `buf`; `None` for an empty chunk.
    fn cut(
        &mut self,
        buf: &mut Vec<u8>,
        shape: Shape,
        chunk_len: usize,
    ) -> io::Result<Option<Cut>> {
        let rest = self.carry.len();
        if buf.len() < rest.max(chunk_len) {
            buf.resize(rest.max(chunk_len), 0);
        }
        buf[..rest].copy_from_slice(&self.carry);
        let (mut filled, mut eof) = match self.eof {
            true => (rest, true),
            false => fill(self.reader, buf, rest)?,
        };
        let start = self.start;
        let cut = loop {
            let cut = match shape {
                Shape::Ndjson => {
                    memchr::memrchr(b'\n', &buf[start..filled]).map(|at| start + at + 1)
                }
                Shape::Array => array_cut(&buf[start..filled]).map(|at| start + at),
            };
            match cut {
                Some(cut) if !eof => break cut,
                _ if eof => break filled,
                _ => {
                    // No record ends in the buffer: make room and read on.
                    let len = buf.len() * 2;
                    buf.resize(len, 0);
                    (filled, eof) = fill(self.reader, buf, filled)?;
                }
            }
        };
        // The next chunk starts where this one is cut: after the line end,
        // or at the comma, which becomes its `[` while this chunk's copy
        // becomes `]`.
        let carry = match shape {
            Shape::Ndjson => cut,
            Shape::Array if cut < filled => cut - 1,
            Shape::Array => cut,
        };
        self.carry.clear();
        self.carry.extend_from_slice(&buf[carry..filled]);
        if shape == Shape::Array && !self.carry.is_empty() {
            buf[cut - 1] = b']';
            self.carry[0] = b'[';
        }
        self.start = 0;
        self.eof = eof;
        self.stop = eof;
        if cut <= start {
            return Ok(None);
        }
        self.seq += 1;
        Ok(Some(Cut {
            seq: self.seq - 1,
            start,
            end: cut,
            last: eof,
        }))
    }
}

/// A worker: takes the next chunk of the text and reads it with its job,
/// until there are no more or the calling thread stops listening. `page`:
/// the text is a page, whose last chunk ends its array.
fn work<R: Read + Send, J: Job>(
    mut job: J,
    shape: Shape,
    chunk_len: usize,
    page: bool,
    source: &Mutex<Source<'_, R>>,
    done: mpsc::Sender<Parsed<J::Out>>,
) -> J {
    let mut buf = Vec::new();
    loop {
        // A poisoned lock: another worker panicked, which the calling
        // thread passes on.
        let Ok(mut text) = source.lock() else {
            return job;
        };
        let Some(cut) = text.next_chunk(&mut buf, shape, chunk_len) else {
            return job;
        };
        drop(text);
        let mut page_rest = None;
        let out = match std::str::from_utf8(&buf[cut.start..cut.end]) {
            Err(_) => None,
            Ok(text) => job.chunk(text, shape, (page && cut.last).then_some(&mut page_rest)),
        };
        if out.is_none() {
            // The exact path answers: read no further.
            if let Ok(mut text) = source.lock() {
                text.stop = true;
            }
        }
        let parsed = Parsed {
            seq: cut.seq,
            out,
            page_rest,
        };
        if done.send(parsed).is_err() {
            return job;
        }
    }
}

/// One filter's groups, in a counting worker.
struct Tally<'q> {
    filter: VersionFilter<'q>,
    groups: GroupTable,
}

/// A counting worker's job: the groups of each filter and the id hashes,
/// or (second pass) what it found.
struct Counting<'q, 'h, 's> {
    tallies: Vec<Tally<'q>>,
    id_hasher: &'h foldhash::fast::RandomState,
    /// Stops the pass once the tables outgrow the records.
    guard: Option<&'h Guard>,
    /// The bytes this worker's tables held after its last chunk.
    table_bytes: usize,
    ids: IdHashes,
    /// The second pass: records are not counted, their ids are checked.
    check: Option<Check<'s>>,
    /// Records and lines before the chunk (in order only on one thread).
    records_before: usize,
    lines_before: usize,
}

impl Job for Counting<'_, '_, '_> {
    type Out = ();

    fn chunk(
        &mut self,
        text: &str,
        shape: Shape,
        page_rest: Option<&mut Option<Vec<u8>>>,
    ) -> Option<(usize, ())> {
        let mut counter = Counter {
            pipelines: self.tallies.iter().map(|_| Pipeline::new()).collect(),
            tallies: &mut self.tallies,
            id_hasher: self.id_hasher,
            ids: &mut self.ids,
            check: self.check.as_mut(),
            shape,
            records_before: self.records_before,
            lines_before: self.lines_before,
            records: 0,
        };
        let lines = match shape {
            Shape::Array => array_records(text, page_rest, |r| counter.count(r, 0)).then_some(0),
            Shape::Ndjson => ndjson_records(text, |r, line| counter.count(r, line)),
        };
        counter.finish();
        let records = counter.records;
        self.records_before += records;
        self.lines_before += lines?;
        if let Some(guard) = self.guard {
            let bytes = self.tallies.iter().map(|t| t.groups.bytes_in_use()).sum();
            let grown = bytes - self.table_bytes;
            self.table_bytes = bytes;
            // Tables only grow while counting, so the worker's total is
            // its growth chunk by chunk.
            if !guard.allows(grown) {
                return None;
            }
        }
        Some((records, ()))
    }
}

/// The second pass's search for the first repeated id.
struct Check<'s> {
    suspects: &'s Suspects,
    /// Each suspect id seen, and where (its index, or its NDJSON line).
    seen: hashbrown::HashMap<u64, Vec<(String, usize)>, foldhash::fast::RandomState>,
    found: Option<RecordsError>,
}

impl<'s> Check<'s> {
    fn new(suspects: &'s Suspects) -> Self {
        Check {
            suspects,
            seen: Default::default(),
            found: None,
        }
    }

    /// Notes the record with `id` (hashing to `hash`) at `position`.
    #[cold]
    fn note(&mut self, hash: u64, id: &str, position: usize, shape: Shape) {
        if self.found.is_some() || !self.suspects.contains(&hash) {
            return;
        }
        let seen = self.seen.entry(hash).or_default();
        match seen.iter().find(|(earlier, _)| earlier == id) {
            Some(&(_, first)) => {
                self.found = Some(match shape {
                    Shape::Array => RecordsError::repeated_id_at(id, first, position),
                    Shape::Ndjson => RecordsError::repeated_id_on_lines(id, first, position),
                });
            }
            None => seen.push((id.to_string(), position)),
        }
    }
}

/// Counts the records of one chunk, whose text lives for `'de`.
struct Counter<'t, 'q, 'de, 's> {
    tallies: &'t mut [Tally<'q>],
    id_hasher: &'t foldhash::fast::RandomState,
    ids: &'t mut IdHashes,
    /// The second pass: records are not counted, their ids are checked.
    check: Option<&'t mut Check<'s>>,
    shape: Shape,
    /// Records and lines before the chunk.
    records_before: usize,
    lines_before: usize,
    /// Records counted.
    records: usize,
    /// By tally, matching records waiting to be counted (see [`Pending`]).
    pipelines: Vec<Pipeline<Pending<'de>, AHEAD>>,
}

/// A matching record's group key and aggregates, waiting in the scan's
/// pipeline ([`Pipeline`]) for its group's memory to arrive.
struct Pending<'de> {
    hash: u64,
    name: Cow<'de, str>,
    namespace: Cow<'de, str>,
    swr_instance_id: Option<Cow<'de, str>>,
    state: GroupState,
}

impl PendingGroup for Pending<'_> {
    #[inline(always)]
    fn hash(&self) -> u64 {
        self.hash
    }
    #[inline(always)]
    fn key(&self) -> GroupKey<'_> {
        GroupKey {
            name: self.name.as_bytes(),
            namespace: self.namespace.as_bytes(),
            swr_instance_id: self.swr_instance_id.as_deref().map(str::as_bytes),
        }
    }
    #[inline(always)]
    fn state(&self) -> GroupState {
        self.state
    }
}

/// How many matching records a record is counted after: shorter than the
/// scan's distance, since parsing the records in between hides the wait.
const AHEAD: usize = 8;

/// Reads a chunk of NDJSON lines, split and skipped as `parse_records`
/// does (`str::lines`, and blank when `str::trim` leaves nothing), giving
/// `each` every record with its line in the chunk (from 1). Returns the
/// lines read, or `None` at a line `ImageVersion` might not parse alike.
#[inline(always)]
fn ndjson_records<'de>(
    text: &'de str,
    mut each: impl FnMut(RecordView<'de>, usize),
) -> Option<usize> {
    let b = text.as_bytes();
    let mut pos = 0;
    let mut lines = 0;
    let mut layout = Layout::default();
    while pos < b.len() {
        // The common line, a record and its line end, read in one pass.
        if b[pos] == b'{' {
            if let Some((record, end)) = fast_record::<false>(text, pos, &mut layout) {
                let rest = b[end..]
                    .iter()
                    .position(|c| !matches!(c, b' ' | b'\t' | b'\r'));
                match rest.map(|at| end + at) {
                    None => {
                        lines += 1;
                        each(record, lines);
                        break;
                    }
                    Some(nl) if b[nl] == b'\n' => {
                        lines += 1;
                        each(record, lines);
                        pos = nl + 1;
                        continue;
                    }
                    Some(_) => {}
                }
            }
        }
        let (line, next) = match memchr::memchr(b'\n', &b[pos..]) {
            Some(at) => {
                let line = &text[pos..pos + at];
                (line.strip_suffix('\r').unwrap_or(line), pos + at + 1)
            }
            None => (&text[pos..], b.len()),
        };
        pos = next;
        lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        let lb = line.as_bytes();
        match fast_record::<false>(line, 0, &mut layout) {
            Some((record, end)) if skip_space(lb, end) == lb.len() => each(record, lines),
            // Read as `parse_records` reads a line, to accept exactly
            // what it accepts.
            _ => {
                let mut de = serde_json::Deserializer::from_str(line);
                match RecordView::deserialize(&mut de).and_then(|r| de.end().map(|()| r)) {
                    Ok(record) => each(record, lines),
                    Err(_) => return None,
                }
            }
        }
    }
    Some(lines)
}

/// Reads a chunk that is a JSON array of records as serde_json reads an
/// array (white space, commas, no trailing comma, nothing after it but
/// white space), each record by [`fast_record`] or, where that declines,
/// by serde, and gives `each` every record. With `page_rest`, the chunk
/// ends a page's array, and what follows the array is put there. `false`
/// where `ImageVersion` might not parse the records alike.
#[inline(always)]
fn array_records<'de>(
    text: &'de str,
    page_rest: Option<&mut Option<Vec<u8>>>,
    mut each: impl FnMut(RecordView<'de>),
) -> bool {
    let b = text.as_bytes();
    let mut i = skip_space(b, 0);
    if b.get(i) != Some(&b'[') {
        return false;
    }
    i = skip_space(b, i + 1);
    let end = |i: usize| match page_rest {
        Some(rest) => {
            *rest = Some(b[i..].to_vec());
            true
        }
        None => skip_space(b, i) == b.len(),
    };
    if b.get(i) == Some(&b']') {
        return end(i + 1);
    }
    let mut layout = Layout::default();
    loop {
        let Some((record, end)) =
            fast_record::<true>(text, i, &mut layout).or_else(|| serde_record(text, i))
        else {
            return false;
        };
        each(record);
        i = skip_space(b, end);
        match b.get(i) {
            Some(b',') => i = skip_space(b, i + 1),
            Some(b']') => break,
            _ => return false,
        }
    }
    end(i + 1)
}

impl<'de> Counter<'_, '_, 'de, '_> {
    /// Counts `record`, which is on line `line` of the chunk (NDJSON).
    #[inline]
    fn count(&mut self, record: RecordView<'de>, line: usize) {
        let mut id = self.id_hasher.build_hasher();
        id.write(record.id.0.as_bytes());
        let hash = id.finish();
        self.records += 1;
        if let Some(check) = &mut self.check {
            let position = match self.shape {
                Shape::Array => self.records_before + self.records - 1,
                Shape::Ndjson => self.lines_before + line,
            };
            check.note(hash, &record.id.0, position, self.shape);
            return;
        }
        self.ids.push(hash);
        // The key's hash under the tables' one hasher, once a filter
        // matches.
        let mut key_hash = None;
        for (tally, pipeline) in self.tallies.iter_mut().zip(&mut self.pipelines) {
            if !tally.filter.matches(&record) {
                continue;
            }
            let hash = *key_hash.get_or_insert_with(|| {
                tally.groups.hash_key(&GroupKey {
                    name: record.name(),
                    namespace: record.namespace(),
                    swr_instance_id: record.swr_instance_id(),
                })
            });
            let pending = Pending {
                hash,
                name: record.name.0.clone(),
                namespace: record.namespace.0.clone(),
                swr_instance_id: record
                    .swr_instance_id
                    .as_ref()
                    .map(|i| i.0.clone())
                    .filter(|i| !i.is_empty()),
                state: GroupState {
                    version_count: 1,
                    create_at: record.create_at,
                    update_at: record.update_at,
                },
            };
            pipeline.push(&mut tally.groups, pending);
        }
    }

    /// Counts every record still waiting.
    fn finish(&mut self) {
        for (tally, pipeline) in self.tallies.iter_mut().zip(&mut self.pipelines) {
            pipeline.finish(&mut tally.groups);
        }
    }
}

/// The hash of every record's `id`, by the hash's top byte, so that the
/// hashes of all workers can be checked for a repeat bucket by bucket on
/// every core, each bucket's set small enough for the cache (cheaper than
/// one hash set shared by the workers, or filled by one thread).
struct IdHashes {
    buckets: Vec<Vec<u64>>,
}

impl IdHashes {
    fn new() -> Self {
        IdHashes {
            buckets: vec![Vec::new(); 256],
        }
    }

    #[inline]
    fn push(&mut self, hash: u64) {
        self.buckets[(hash >> 56) as usize].push(hash);
    }

    /// The hashes that are in the workers' buckets more than once, checked
    /// on `threads` threads.
    fn repeats(all: &[&IdHashes], threads: usize) -> Vec<u64> {
        let threads = threads.clamp(1, 256);
        let check = |first: usize| {
            // Each bucket's hashes into an open-addressed set by their low
            // bits (a seeded hash's bits are all alike; the top byte is the
            // bucket's): a few probes each, where sorting them took about
            // twelve comparisons. 0 marks an empty slot, so a hash of 0 is
            // counted apart.
            let mut set: Vec<u64> = Vec::new();
            let mut repeats = Vec::new();
            for b in (first..256).step_by(threads) {
                let len: usize = all.iter().map(|ids| ids.buckets[b].len()).sum();
                let size = (2 * len).next_power_of_two();
                set.clear();
                set.resize(size, 0);
                let mask = size - 1;
                let mut zeros = 0usize;
                for &hash in all.iter().flat_map(|ids| &ids.buckets[b]) {
                    if hash == 0 {
                        if zeros > 0 {
                            repeats.push(0);
                        }
                        zeros += 1;
                        continue;
                    }
                    let mut slot = hash as usize & mask;
                    loop {
                        match set[slot] {
                            0 => {
                                set[slot] = hash;
                                break;
                            }
                            seen if seen == hash => {
                                repeats.push(hash);
                                break;
                            }
                            _ => slot = (slot + 1) & mask,
                        }
                    }
                }
            }
            repeats
        };
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..threads)
                .map(|t| {
                    let check = &check;
                    std::thread::Builder::new()
                        .spawn_scoped(scope, move || check(t))
                        .map_err(|_| t)
                })
                .collect();
            let mut repeats = check(0);
            for other in others {
                repeats.extend(match other {
                    Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    // A thread the system refused: its buckets are
                    // checked here.
                    Err(t) => check(t),
                });
            }
            repeats
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The repeated hashes are those a count finds more than once,
        /// whichever worker holds each, on any number of threads (hashes
        /// that share a bucket, or their low bits, and 0 among them).
        #[test]
        fn repeats_are_the_hashes_seen_twice(
            hashes in proptest::collection::vec(
                (0u64..4, 0u64..64, 0usize..3),
                0..300,
            ),
            threads in 1usize..4,
        ) {
            let mut workers: Vec<IdHashes> = (0..3).map(|_| IdHashes::new()).collect();
            let mut counts: HashMap<u64, usize> = HashMap::new();
            for (top, low, worker) in hashes {
                let hash = (top << 56) | (low * 0x0101) << (low % 3);
                workers[worker].push(hash);
                *counts.entry(hash).or_default() += 1;
            }
            let all: Vec<&IdHashes> = workers.iter().collect();
            let mut found = IdHashes::repeats(&all, threads);
            found.sort_unstable();
            found.dedup();
            let mut want: Vec<u64> = counts.into_iter().filter(|&(_, n)| n > 1).map(|(h, _)| h).collect();
            want.sort_unstable();
            proptest::prop_assert_eq!(found, want);
        }
    }

    #[test]
    fn object_end_skips_strings_and_escapes() {
        assert_eq!(object_end(br#"{"a":"}\"}"} x"#), Some(12));
        assert_eq!(object_end(br#"{"a":[1,{}]}"#), Some(12));
        assert_eq!(object_end(br#"{"a":"#), None);
    }

    #[test]
    fn shapes_from_the_first_bytes() {
        use Head::*;
        assert_eq!(shape_of(b" \n[1]", false), Shape(super::Shape::Array));
        let two = b"{\"a\":1}\n{\"a\":2}";
        assert_eq!(shape_of(two, false), Shape(super::Shape::Ndjson));
        assert_eq!(shape_of(b"{\"a\":1}\n \n", false), NeedMore);
        assert_eq!(shape_of(b"{\"a\":1}\n \n", true), NotStreamed);
        assert_eq!(shape_of(b"{\"a\":", false), NeedMore);
        assert_eq!(
            shape_of(b"{\"a\":{\"data\":[]}, \"data\": [{", false),
            Page(26)
        );
        assert_eq!(shape_of(b"{\"a\":\"\\\"\", \"data\" :[", false), Page(19));
        assert_eq!(shape_of(b"{\"data\": 5", false), NeedMore);
        assert_eq!(shape_of(b"x", false), NotStreamed);
        assert_eq!(shape_of(b"  ", false), NeedMore);
        assert_eq!(shape_of(b"", true), NotStreamed);
    }

    #[test]
    fn array_cut_is_after_a_comma_between_objects() {
        assert_eq!(array_cut(br#"[{}, {"a":1},1]"#), Some(4));
        assert_eq!(array_cut(b"[{} ,\n{ \"a\\\"\" :1"), Some(5));
        assert_eq!(array_cut(br#"[{"a":"},{b"}, {"a}"#), None);
        assert_eq!(array_cut(br#"[{"a":"},{\"b\":"}"#), None);
        assert_eq!(array_cut(b"[{},"), None);
        assert_eq!(array_cut(b"[1,2]"), None);
    }

    use crate::records_text::parse_records_exact;
    use crate::scan::group_images;
    use proptest::prelude::*;

    /// What the exact path answers.
    fn exact(text: &[u8], query: &GroupQuery) -> Result<ImageGroupPage, RecordsError> {
        parse_records_exact(text).map(|records| group_images(&records, query))
    }

    /// The streaming path alone, with chunks of `chunk_len` bytes.
    fn streamed(
        text: &[u8],
        query: &GroupQuery,
        chunk_len: usize,
    ) -> Option<Result<ImageGroupPage, RecordsError>> {
        streamed_answer(&mut io::Cursor::new(text), query, chunk_len).unwrap()
    }

    /// Strings that make chunk cuts and parsing hard: structure inside
    /// strings, escapes, multi-byte UTF-8.
    fn tricky() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "torch",
            "PyTorch",
            "tor\"ch",
            "a},{b",
            "},{\"k\":",
            "a},{",
            "x\\y",
            "名前torch",
            "é",
            "\u{1F600}",
            "",
            "n,\n{",
        ])
        .prop_map(String::from)
    }

    fn record() -> impl Strategy<Value = serde_json::Value> {
        (
            tricky(),
            prop::sample::select(vec!["ns", "ns1", "n\"s"]),
            prop::sample::select(vec!["DEDICATED", "BUILD_IN"]),
            prop::option::of(prop::sample::select(vec![
                serde_json::json!("0"),
                serde_json::json!("1"),
                serde_json::Value::Null,
            ])),
            prop::option::of(prop::sample::select(vec![
                serde_json::json!("TRAIN"),
                serde_json::Value::Null,
            ])),
            prop::option::of(prop::sample::select(vec![
                serde_json::json!("i-1"),
                serde_json::json!(""),
                serde_json::Value::Null,
            ])),
            (-5i64..5, -5i64..5),
            prop::option::of(tricky()),
            prop::option::of(prop::option::of(tricky())),
        )
            .prop_map(
                |(name, ns, ty, ws, service, instance, (c, u), extra, tag)| {
                    let mut r = serde_json::json!({
                        "name": name, "namespace": ns, "type": ty, "create_at": c, "update_at": u,
                    });
                    let map = r.as_object_mut().unwrap();
                    if let Some(ws) = ws {
                        map.insert("workspace_id".into(), ws);
                    }
                    if let Some(s) = service {
                        map.insert("service_type".into(), s);
                    }
                    if let Some(i) = instance {
                        map.insert("swr_instance_id".into(), i);
                    }
                    if let Some(tag) = tag {
                        map.insert("tag".into(), serde_json::json!(tag));
                    }
                    if let Some(extra) = extra {
                        map.insert(
                            "description".into(),
                            serde_json::json!({"text": extra, "list": [1, {"x": "]"}]}),
                        );
                    }
                    r
                },
            )
    }

    /// Records text: records with unique ids (some escaped) in one of the
    /// shapes, with random separators, line ends, blank lines and BOM.
    fn text() -> impl Strategy<Value = String> {
        (
            prop::collection::vec((record(), raw_member()), 0..40),
            0..4u8,
            prop::sample::select(vec![",", ", ", ",\n  ", " ,\r\n\t"]),
            prop::sample::select(vec!["\n", "\r\n"]),
            prop::collection::vec(any::<bool>(), 40),
            any::<bool>(),
            any::<bool>(),
            prop::option::weighted(
                0.1,
                (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            ),
        )
            .prop_map(|(records, shape, sep, eol, blanks, bom, pretty, repeat)| {
                let n = records.len();
                let lines: Vec<String> = records
                    .into_iter()
                    .enumerate()
                    .map(|(i, (mut r, raw))| {
                        // Now and then a record takes an earlier one's id.
                        let id = match repeat.map(|(a, b)| (a.index(n.max(1)), b.index(n.max(1)))) {
                            Some((a, b)) if i == a.max(b) && a != b => a.min(b),
                            _ => i,
                        };
                        r["id"] = serde_json::json!(format!("id-é-{id}"));
                        if raw.starts_with("\"create_at\"") {
                            r.as_object_mut().unwrap().remove("create_at");
                        }
                        // Escape every `é` (only strings hold one).
                        // NDJSON's records are one line each; an array's may
                        // not be.
                        let json = match pretty && shape != 2 {
                            true => serde_json::to_string_pretty(&r),
                            false => serde_json::to_string(&r),
                        };
                        let json = json.unwrap().replace('é', "\\u00e9");
                        match raw {
                            "" => json,
                            raw => format!("{},{raw}}}", &json[..json.len() - 1]),
                        }
                    })
                    .collect();
                let body = match shape {
                    0 => format!("[{}]", lines.join(sep)),
                    1 => format!("{{\"count\": 1, \"data\": [{}]}}", lines.join(sep)),
                    3 => format!(
                        "{{\"total\": 5, \"x\": {{\"data\": [1]}}, \"data\" :\n[{}] , \"meta\": {{\"a\": [1, {{\"b\": \"],{{\"}}]}}, \"current\": 1}}\n",
                        lines.join(sep)
                    ),
                    _ => lines
                        .iter()
                        .zip(&blanks)
                        .map(|(l, &blank)| {
                            if blank {
                                format!("{eol} {eol}{l}")
                            } else {
                                l.clone()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(eol),
                };
                if bom {
                    format!("\u{feff}{body}")
                } else {
                    body
                }
            })
    }

    /// A member written as raw JSON: values serde reads in a way of its own
    /// (or refuses), which the fast parser must decline or read alike.
    fn raw_member() -> impl Strategy<Value = &'static str> {
        let raw = prop::sample::select(vec![
            r#""create_at":-0"#,
            r#""create_at":1.0"#,
            r#""create_at":1e3"#,
            r#""create_at":01"#,
            r#""create_at":99999999999999999999"#,
            r#""create_at":-9223372036854775808"#,
            r#""create_at":123456789012345678"#,
            r#""create_at":-5"#,
            r#""create_at":null"#,
            r#""create_at":"1""#,
            r#""x":1.5e-3"#,
            r#""x":-0"#,
            r#""x":01"#,
            r#""x":1."#,
            r#""x":true"#,
            r#""x":nul"#,
            r#""x":{"y":[1,{"z":null}]}"#,
            r#""x":[]"#,
            r#""x":[ "a",1.5e2 ,null]"#,
            r#""x":[1,]"#,
            r#""x":[1 2]"#,
            r#""x":"a\u0000b""#,
            "\"x\":\"\u{7}\"",
            r#""x":"\ud800""#,
            r#""n\u0061me":"torch""#,
            r#""id":"again""#,
            r#""tag":5"#,
            r#""tag":null"#,
            r#""type":"GOLDEN""#,
            r#""service_type":"TRAIN""#,
            r#""x" : "y" "#,
        ]);
        // Rare, so that most texts are valid and stream.
        prop::option::weighted(0.03, raw).prop_map(Option::unwrap_or_default)
    }

    fn query() -> impl Strategy<Value = GroupQuery> {
        prop::sample::select(vec![
            "",
            "name=torch",
            "name=torch&name_fuzzy_match=false&sort_key=name",
            "namespace=ns1&sort_dir=asc",
            "workspace_id=1&sort_key=version_count,create_at",
            "swr_instance_id=i-1",
            "service_type=TRAIN&limit=3&offset=1",
        ])
        .prop_map(|q| q.parse().unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The page equals the exact path's, and arrays and NDJSON of two
        /// or more records are streamed (not left to the exact path).
        #[test]
        fn streaming_gives_the_exact_page(text in text(), query in query(), chunk_len in 1usize..300) {
            let want = exact(text.as_bytes(), &query);
            let got = streamed(text.as_bytes(), &query, chunk_len);
            let streams = should_stream(&text);
            match (&want, got) {
                (Ok(page), None) => prop_assert!(!streams, "not streamed: {:?}", page),
                (want, Some(got)) => prop_assert_eq!(want, &got),
                (Err(_), None) => {}
            }
            prop_assert_eq!(group_records_text(text.as_bytes(), &query), want);
        }

        /// Broken text (a byte changed, inserted or cut off) gives what the
        /// exact path gives: the same page or the same error.
        #[test]
        fn broken_text_gives_the_exact_answer(
            text in text(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![b'"', b',', b'}', b']', b'\\', b'x', b'\n', 0xff, b'{', b'1']),
            how in 0..3u8,
            chunk_len in 1usize..300,
        ) {
            let bytes = broken(text, at, byte, how);
            let query = GroupQuery::default();
            let want = exact(&bytes, &query);
            if let Some(got) = streamed(&bytes, &query, chunk_len) {
                prop_assert_eq!(got, want.clone());
            }
            prop_assert_eq!(group_records_text(&bytes, &query), want);
        }
    }

    /// `text` with the byte at `at` replaced by `byte` (`how` 0), `byte`
    /// inserted there (1), or the text cut there (2).
    fn broken(text: String, at: prop::sample::Index, byte: u8, how: u8) -> Vec<u8> {
        let mut bytes = text.into_bytes();
        if !bytes.is_empty() {
            let at = at.index(bytes.len());
            match how {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        bytes
    }

    /// What the exact path answers, for each query.
    fn exact_many(
        text: &[u8],
        queries: &[GroupQuery],
    ) -> Result<Vec<ImageGroupPage>, RecordsError> {
        parse_records_exact(text)
            .map(|records| queries.iter().map(|q| group_images(&records, q)).collect())
    }

    /// The many-query streaming path alone, with chunks of `chunk_len` bytes.
    fn streamed_many(
        text: &[u8],
        queries: &[GroupQuery],
        chunk_len: usize,
    ) -> Option<Result<Vec<ImageGroupPage>, RecordsError>> {
        streamed_pages(&mut io::Cursor::new(text), queries, chunk_len, None).unwrap()
    }

    /// The many-query answer with a memory guard that acts from `guard_from`
    /// bytes of tables.
    fn guarded_many(
        text: &[u8],
        queries: &[GroupQuery],
        chunk_len: usize,
        guard_from: usize,
    ) -> Result<Vec<ImageGroupPage>, RecordsError> {
        many_pages(io::Cursor::new(text), queries, chunk_len, guard_from).unwrap()
    }

    /// A few queries, some sharing a filter (differing in order and paging
    /// only), some not.
    fn queries() -> impl Strategy<Value = Vec<GroupQuery>> {
        let one = prop::sample::select(vec![
            "",
            "sort_key=name",
            "limit=1&offset=1",
            "sort_dir=asc&sort_key=create_at,name",
            "name=torch",
            "name=torch&sort_key=version_count&limit=2",
            "name=torch&name_fuzzy_match=false",
            "namespace=ns1&sort_dir=asc",
            "namespace=ns1&offset=1&limit=1&sort_key=update_at",
            "workspace_id=1",
            "workspace_id=1&sort_key=version_count,create_at",
            "swr_instance_id=i-1&limit=1",
            "type=BUILD_IN",
            "service_type=TRAIN&offset=2",
        ])
        .prop_map(|q| q.parse::<GroupQuery>().unwrap());
        prop::collection::vec(one, 0..7)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Each query's page equals the exact path's, whatever the queries
        /// share; arrays and NDJSON of two or more records are streamed.
        #[test]
        fn many_queries_give_each_exact_page(text in text(), queries in queries(), chunk_len in 1usize..300) {
            let want = exact_many(text.as_bytes(), &queries);
            let got = streamed_many(text.as_bytes(), &queries, chunk_len);
            let streams = should_stream(&text);
            match (&want, got) {
                (Ok(pages), None) => prop_assert!(!streams, "not streamed: {:?}", pages),
                (want, Some(got)) => prop_assert_eq!(want, &got),
                (Err(_), None) => {}
            }
            // A guard from 0 bytes stops most passes (the tables' first
            // sizes outweigh short chunks): the fallback's pages.
            prop_assert_eq!(&guarded_many(text.as_bytes(), &queries, chunk_len, 0), &want);
            prop_assert_eq!(group_records_text_many(text.as_bytes(), &queries), want);
        }

        /// Broken text gives, for several queries, what the exact path
        /// gives: the same pages or the same error.
        #[test]
        fn broken_text_gives_the_exact_answer_to_many_queries(
            text in text(),
            queries in queries(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![b'"', b',', b'}', b']', b'\\', b'x', b'\n', 0xff, b'{', b'1']),
            how in 0..3u8,
            chunk_len in 1usize..300,
        ) {
            let bytes = broken(text, at, byte, how);
            let want = exact_many(&bytes, &queries);
            if let Some(got) = streamed_many(&bytes, &queries, chunk_len) {
                prop_assert_eq!(got, want.clone());
            }
            prop_assert_eq!(&guarded_many(&bytes, &queries, chunk_len, 0), &want);
            prop_assert_eq!(group_records_text_many(&bytes, &queries), want);
        }
    }

    /// Queries that differ only in order and paging share a filter; any
    /// filter parameter makes another.
    #[test]
    fn queries_share_a_filter_when_only_order_and_paging_differ() {
        let q = |s: &str| s.parse::<GroupQuery>().unwrap();
        let queries = [
            q(""),
            q("sort_key=name&sort_dir=asc&offset=3&limit=7"),
            q("name=torch"),
            q("name=torch&name_fuzzy_match=false"),
            q("limit=1&name=torch"),
            q("workspace_id=0"),
        ];
        let (filters, filter_of) = distinct_filters(&queries);
        assert_eq!(filter_of, [0, 0, 1, 2, 1, 0]);
        assert_eq!(
            filters,
            [
                q(""),
                q("name=torch"),
                q("name=torch&name_fuzzy_match=false")
            ]
        );
    }

    /// Past the bound of distinct filters, the records are parsed and held:
    /// the pages and the errors are the same.
    #[test]
    fn more_filters_than_streamed_give_the_same_pages() {
        let r = |id: usize, ws: usize| {
            format!(
                r#"{{"id":"{id}","name":"n{}","namespace":"s","type":"DEDICATED","workspace_id":"{ws}","create_at":{id},"update_at":2}}"#,
                id % 3
            )
        };
        let text: String = (0..200).map(|i| r(i, i % 20) + "\n").collect();
        let mut queries: Vec<GroupQuery> = (0..=MAX_STREAMED_FILTERS)
            .map(|ws| {
                format!("workspace_id={ws}&sort_key=create_at")
                    .parse()
                    .unwrap()
            })
            .collect();
        queries.push("workspace_id=3&limit=1&sort_dir=asc".parse().unwrap());
        assert!(distinct_filters(&queries).0.len() > MAX_STREAMED_FILTERS);
        let want = exact_many(text.as_bytes(), &queries);
        assert!(want.as_ref().is_ok_and(|pages| pages[3].total == 3));
        assert_eq!(group_records_text_many(text.as_bytes(), &queries), want);
        let broken = text.replacen("\"create_at\":7", "\"create_at\":7.5", 1);
        let want = exact_many(broken.as_bytes(), &queries);
        assert!(want.is_err());
        assert_eq!(group_records_text_many(broken.as_bytes(), &queries), want);
        let few = &queries[..MAX_STREAMED_FILTERS];
        assert_eq!(
            group_records_text_many(broken.as_bytes(), few),
            exact_many(broken.as_bytes(), few)
        );
    }

    /// Where nearly every version is its own group, the tables of several
    /// broad filters outgrow the text: the guard stops the pass and
    /// the records are parsed and held, with the same pages and errors.
    /// Where groups are few, the pass goes on.
    #[test]
    fn tables_that_outgrow_the_text_stop_the_pass() {
        let r = |id: usize, name: usize| {
            format!(
                r#"{{"id":"{id}","name":"n{name}","namespace":"s","type":"DEDICATED","workspace_id":"0","create_at":{id},"update_at":2}}"#
            )
        };
        let queries: Vec<GroupQuery> = [
            "sort_key=create_at",
            "type=DEDICATED&limit=3",
            "name=n1&sort_dir=asc",
            "name=n2&offset=5",
            "workspace_id=0&sort_key=name",
            "name=0",
        ]
        .iter()
        .map(|q| q.parse().unwrap())
        .collect();
        let from = 1 << 16;
        let singletons: String = (0..4000).map(|i| r(i, i) + "\n").collect();
        let few: String = (0..4000).map(|i| r(i, i % 3) + "\n").collect();
        for (text, stops) in [(&singletons, true), (&few, false)] {
            let guard = Guard::new(text.len().max(from));
            let got = streamed_pages(&mut io::Cursor::new(text), &queries, 1 << 12, Some(&guard));
            assert_eq!((got.unwrap().is_none(), guard.tripped()), (stops, stops));
            let want = exact_many(text.as_bytes(), &queries);
            assert!(want.as_ref().is_ok_and(|pages| pages[0].total > 2));
            assert_eq!(guarded_many(text.as_bytes(), &queries, 1 << 12, from), want);
        }
        let broken = singletons.replacen("\"create_at\":3999", "\"create_at\":3999.5", 1);
        let want = exact_many(broken.as_bytes(), &queries);
        assert!(want.is_err());
        assert_eq!(
            guarded_many(broken.as_bytes(), &queries, 1 << 12, from),
            want
        );
    }

    /// The parallel parse alone, with chunks of `chunk_len` bytes.
    fn parsed(text: &[u8], chunk_len: usize) -> Option<Vec<ImageVersion>> {
        parsed_versions(&mut io::Cursor::new(text), chunk_len).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The versions equal the exact path's, in order; the parallel
        /// path never accepts what the exact one refuses; and arrays,
        /// pages and NDJSON of two or more records without a repeated id
        /// are parsed by it (not left to the exact path).
        #[test]
        fn the_parallel_parse_gives_the_exact_versions(text in text(), chunk_len in 1usize..300) {
            let want = parse_records_exact(text.as_bytes());
            let got = parsed(text.as_bytes(), chunk_len);
            let streams = should_stream(&text);
            match (&want, got) {
                (Ok(versions), Some(got)) => prop_assert_eq!(versions, &got),
                (Err(e), Some(got)) => prop_assert!(false, "parsed {} versions where the exact path says {}", got.len(), e),
                (Ok(versions), None) => prop_assert!(!streams, "not parsed in parallel: {:?}", versions),
                (Err(_), None) => {}
            }
            let reader = crate::parse_records_reader(io::Cursor::new(text.as_bytes())).unwrap();
            prop_assert_eq!(reader, want.clone());
            prop_assert_eq!(crate::parse_records_bytes(text.as_bytes()), want);
        }

        /// Broken text (a byte changed, inserted or cut off) gives what the
        /// exact path gives: the same versions or the same error.
        #[test]
        fn broken_text_parses_as_the_exact_path_parses_it(
            text in text(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(vec![b'"', b',', b'}', b']', b'\\', b'x', b'\n', 0xff, b'{', b'1']),
            how in 0..3u8,
            chunk_len in 1usize..300,
        ) {
            let bytes = broken(text, at, byte, how);
            let want = parse_records_exact(&bytes);
            if let Some(got) = parsed(&bytes, chunk_len) {
                prop_assert_eq!(Ok(got), want.clone());
            }
            let reader = crate::parse_records_reader(io::Cursor::new(&bytes)).unwrap();
            prop_assert_eq!(reader, want);
        }
    }

    /// A reader is parsed on every core from where it stands, a short
    /// text on the calling thread.
    #[test]
    fn a_long_text_from_a_reader_is_parsed_in_parallel() {
        let r = |i: usize| {
            format!(
                r#"{{"id":"{i}","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}}"#
            )
        };
        let text: String = (0..3000).map(|i| r(i) + "\n").collect();
        assert!(text.len() > PARALLEL_FROM);
        let want = parse_records_exact(text.as_bytes()).unwrap();
        let mut reader = io::Cursor::new(format!("junk{text}"));
        reader.set_position(4);
        match read_versions(&mut reader, 4096).unwrap() {
            Some(Parse::Versions(versions)) => assert_eq!(versions, want),
            _ => panic!("not parsed in parallel"),
        }
        let short = &text[..1000];
        match read_versions(&mut io::Cursor::new(short), 4096).unwrap() {
            Some(Parse::Short(head)) => assert_eq!(head, short.as_bytes()),
            _ => panic!("a short text is read whole"),
        }
    }

    fn want_records(text: &str) -> usize {
        parse_records_exact(text.as_bytes()).map_or(0, |r| r.len())
    }

    /// Whether the chunked paths must take `text` rather than leave it to
    /// the exact path when it is valid: an array, a saved page (the
    /// generator's start with `count` or `total`), or two records or more.
    fn should_stream(text: &str) -> bool {
        let body = text.trim_start_matches('\u{feff}').trim_start();
        let page = body.starts_with("{\"count\"") || body.starts_with("{\"total\"");
        body.starts_with('[') || page || want_records(text) >= 2
    }

    /// A suspect hash whose records have different ids (two ids with one
    /// hash) is no repeat.
    #[test]
    fn the_second_pass_tells_a_shared_hash_from_a_repeated_id() {
        let r = |id: &str| {
            format!(
                r#"{{"id":"{id}","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}}"#
            )
        };
        let text = format!("[{},{},{}]", r("a"), r("b"), r("c"));
        let id_hasher = foldhash::fast::RandomState::default();
        let hash = |id: &str| {
            let mut h = id_hasher.build_hasher();
            h.write(id.as_bytes());
            h.finish()
        };
        let suspects: Suspects = [hash("a"), hash("c")].into_iter().collect();
        let mut cursor = io::Cursor::new(text.as_bytes());
        let outcome = stream(&mut cursor, &[], 16, &id_hasher, None, Some(&suspects)).unwrap();
        assert!(matches!(outcome, Outcome::NoRepeat));
    }

    /// Line ends as `str::lines` sees them: a record over two lines is an
    /// error, `\r` before `\n` is dropped, a line of Unicode white space is
    /// blank, and a bare `\r` at the end is white space to serde.
    #[test]
    fn ndjson_lines_are_split_as_parse_records_splits_them() {
        let r = |id: &str| {
            format!(
                r#"{{"id":"{id}","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}}"#
            )
        };
        let split = r("b").replacen(',', ",\n", 1);
        let texts = [
            format!("{}\n{}\n", r("a"), split),
            format!("{}\r\n{} \t\r\n\u{a0}\n{}\r", r("a"), r("b"), r("c")),
            format!("{}\n{}\r\r\n", r("a"), r("b")),
            format!("{}\n{}\n\r", r("a"), r("b")),
            format!("{}\n\u{a0}{}", r("a"), r("b")),
        ];
        for text in &texts {
            let want = exact(text.as_bytes(), &GroupQuery::default());
            for chunk_len in [1, 5, 50, 1000] {
                if let Some(got) = streamed(text.as_bytes(), &GroupQuery::default(), chunk_len) {
                    assert_eq!(got, want, "{text:?}");
                }
            }
            assert_eq!(
                group_records_text(text.as_bytes(), &GroupQuery::default()),
                want,
                "{text:?}"
            );
        }
        assert!(exact(texts[0].as_bytes(), &GroupQuery::default()).is_err());
        assert!(streamed(texts[1].as_bytes(), &GroupQuery::default(), 7).is_some());
    }

    /// A repeated id, however the text is cut, is the exact path's error
    /// naming both records.
    /// A reader of `text` that gives at most `step` bytes a call, is
    /// interrupted every other call, and fails once `fail_at` bytes are
    /// read.
    struct Awkward<'t> {
        text: io::Cursor<&'t [u8]>,
        step: usize,
        fail_at: Option<u64>,
        calls: usize,
    }

    impl Read for Awkward<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 2 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.fail_at.is_some_and(|at| self.text.position() >= at) {
                return Err(io::Error::other("the disk went away"));
            }
            let n = buf.len().min(self.step);
            self.text.read(&mut buf[..n])
        }
    }

    impl Seek for Awkward<'_> {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.text.seek(to)
        }
    }

    #[test]
    fn short_and_interrupted_reads_give_the_page_and_a_failed_read_is_the_error() {
        let r = |id: usize| {
            format!(
                r#"{{"id":"{id}","name":"n{}","namespace":"s","type":"DEDICATED","create_at":{id},"update_at":2}}"#,
                id % 7
            )
        };
        let records: Vec<String> = (0..200).map(r).collect();
        let ndjson = records.join("\n");
        let array = format!("[{}]", records.join(","));
        let query = GroupQuery::default();
        for text in [&ndjson, &array] {
            let want = exact(text.as_bytes(), &query);
            for (chunk_len, step) in [(64, 5), (300, 64), (4096, 1000), (1 << 19, 1 << 19)] {
                let mut reader = Awkward {
                    text: io::Cursor::new(text.as_bytes()),
                    step,
                    fail_at: None,
                    calls: 0,
                };
                let got = streamed_answer(&mut reader, &query, chunk_len).unwrap();
                assert_eq!(got, Some(want.clone()), "{chunk_len} {step}");
                for fail_at in [0, 1, 100, text.len() as u64 / 2, text.len() as u64 - 1] {
                    let reader = || Awkward {
                        text: io::Cursor::new(text.as_bytes()),
                        step,
                        fail_at: Some(fail_at),
                        calls: 0,
                    };
                    let err = streamed_answer(&mut reader(), &query, chunk_len)
                        .map(|_| ())
                        .unwrap_err();
                    assert_eq!(err.to_string(), "the disk went away", "{fail_at}");
                    let err = parsed_versions(&mut reader(), chunk_len)
                        .map(|_| ())
                        .unwrap_err();
                    assert_eq!(err.to_string(), "the disk went away", "{fail_at}");
                }
            }
        }
    }

    #[test]
    fn a_repeated_id_is_named_with_both_records() {
        let r = |id: &str| {
            format!(
                r#"{{"id":"{id}","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}}"#
            )
        };
        let array = format!("[{},{},{},{}]", r("a"), r("b"), r("c"), r("b"));
        let ndjson = format!("{}\n\n{}\n{}\n{}\n", r("a"), r("b"), r("c"), r("\\u0062"));
        for chunk_len in [1, 7, 64, 1000] {
            for text in [&array, &ndjson] {
                let want = exact(text.as_bytes(), &GroupQuery::default());
                let got = streamed(text.as_bytes(), &GroupQuery::default(), chunk_len);
                assert_eq!(got, Some(want), "found by the second pass");
            }
        }
        let err = group_records_text(array.as_bytes(), &GroupQuery::default()).unwrap_err();
        assert_eq!(err.record_index(), Some(3));
        assert!(err.to_string().contains("record 1's"), "{err}");
        let err = group_records_text(ndjson.as_bytes(), &GroupQuery::default()).unwrap_err();
        assert_eq!(err.ndjson_line(), Some(5));
        assert!(err.to_string().contains("line 3's"), "{err}");
    }
}
