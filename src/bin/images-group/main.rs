//! `images-group`: the "Obtaining User Image Groups" query from the command
//! line, over records read from a file, from standard input, or from the
//! bundled sample. `images-group --help` (the [`HELP`] text) is its manual.
//!
//! The program is a thin shell over the library's public API: it parses the
//! flags and prints what the library answers, so that its output is the
//! library's answer and nothing of its own. One query over `--records`
//! streams the records to the page (`group_records_reader`), and so do the
//! queries of `--queries`, in one pass (`group_records_reader_many`);
//! standard input and a pipe given as a path are read whole first (they
//! cannot be read twice) and streamed from the text
//! (`group_records_text`, `group_records_text_many`). The bundled sample is
//! parsed (`parse_records_bytes`) and each query asked of it with
//! `group_images`.

mod table;

use std::ffi::{OsStr, OsString};
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

use image_groups::{
    group_images, group_records_reader, group_records_reader_many, group_records_text,
    group_records_text_many, parse_records_bytes, parse_records_reader, GroupQuery, ImageGroupPage,
    ImageVersion, QueryError, RecordsError,
};

/// The API page's three example images, as a saved `GET /v1/{project_id}/images`
/// page. Embedded rather than read from the source tree, so that an installed
/// binary answers without `--records` as `cargo run` does.
const SAMPLE_RECORDS: &str = include_str!("../../../examples/data/sample.json");

const USAGE: &str = "usage: images-group [--records FILE|-] [--format json|table] [QUERY_STRING]
       images-group [--records FILE|-] --queries FILE|-
       images-group --help";

/// The manual: every flag, the input formats and the exit codes.
const HELP: &str = "images-group: the ModelArts \"Obtaining User Image Groups\" query
(GET /v1/{project_id}/images/group) over image-version records.

usage: images-group [--records FILE|-] [--format json|table] [QUERY_STRING]
       images-group [--records FILE|-] --queries FILE|-
       images-group --help

QUERY_STRING
    The request's query string without the leading '?', for example
    'name=torch&type=DEDICATED&limit=20'. Without one, the default query
    (every group of workspace 0, newest update first, 200 to a page).
    Put `--` before a query string that starts with '-'.

--records FILE, --records=FILE
    The image-version records to query. The format is told from the content:
      * a JSON array of records;
      * a saved `GET /v1/{project_id}/images` page: a JSON object whose
        `data` is that array (its other fields are ignored);
      * NDJSON: one JSON record per line.
    FILE `-` reads the records from standard input. Without --records, a
    bundled sample holding the API page's three example images is used.

--format json|table
    json (the default): the page as the API answers it, pretty-printed.
    table: one aligned row per group (name, namespace, version count,
    creation and update times as RFC 3339 UTC) and a footer with the page
    numbers. Columns are aligned by display width; a name or namespace
    wider than 40 columns is cut and ends in '…' (the JSON keeps it whole).

--queries FILE
    One query string per line; prints one compact JSON line per query, the
    page or the error body, with the records read once; a blank line is
    the default query, as an empty QUERY_STRING is. Takes neither a
    QUERY_STRING nor --format. FILE `-` reads the queries from standard
    input (then --records cannot be `-`, nor name the same pipe, as
    `/dev/stdin` would when standard input is one).

-h, --help
    Prints this help and exits.

Exit codes:
    0  a page was printed (with --queries: every line was answered, error
       bodies included);
    1  the records or queries could not be read or are invalid (a message on
       standard error naming the file, the record and the field), or the
       output could not be written;
    2  a usage error (a message on standard error), or an invalid query (its
       error body, as the API answers it, on standard output).
";

/// Where a `--records` or `--queries` value says to read from.
#[derive(Debug, PartialEq)]
enum Source {
    Stdin,
    File(OsString),
}

impl Source {
    /// Whether the input can be read a second time from the start, as the
    /// library's streaming readers need where only their exact path can
    /// answer: a regular file. Standard input, a pipe, a FIFO or a
    /// process substitution (`<(...)`) is read whole instead. A path that
    /// cannot be looked up counts as a file, so that opening it names the
    /// problem.
    fn seekable(&self) -> bool {
        match self {
            Source::Stdin => false,
            Source::File(path) => std::fs::metadata(path).map_or(true, |m| m.is_file()),
        }
    }

    fn new(value: OsString) -> Self {
        if value == "-" {
            Source::Stdin
        } else {
            Source::File(value)
        }
    }

    /// The whole input, or a message naming it (`what` is "records" or
    /// "queries").
    fn read(&self, what: &str) -> Result<Vec<u8>, String> {
        match self {
            Source::Stdin => {
                let mut bytes = Vec::new();
                io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("cannot read {what} from standard input: {e}"))?;
                Ok(bytes)
            }
            Source::File(path) => std::fs::read(path)
                .map_err(|e| format!("cannot read {what} file {}: {e}", path.to_string_lossy())),
        }
    }

    /// Which pipe or socket an input is (device and inode), so that two
    /// flags naming one pipe (`-` and `/dev/stdin`, say) can be told apart
    /// from two inputs: one of them would find it already read. `None` for
    /// anything that can be read twice or again (a file, a terminal,
    /// `/dev/null`), or named wrongly (opening it names the problem).
    #[cfg(unix)]
    fn stream(&self) -> Option<(u64, u64)> {
        use std::os::fd::AsFd;
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let metadata = match self {
            Source::Stdin => io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .and_then(|fd| std::fs::File::from(fd).metadata()),
            Source::File(path) => std::fs::metadata(path),
        }
        .ok()?;
        let kind = metadata.file_type();
        (kind.is_fifo() || kind.is_socket()).then(|| (metadata.dev(), metadata.ino()))
    }

    #[cfg(not(unix))]
    fn stream(&self) -> Option<(u64, u64)> {
        None
    }

    /// How a message names the input: "file PATH" or "standard input".
    fn describe(&self) -> String {
        match self {
            Source::Stdin => "standard input".to_string(),
            Source::File(path) => format!("file {}", path.to_string_lossy()),
        }
    }
}

#[derive(Debug, Default)]
struct Args {
    help: bool,
    records: Option<Source>,
    table: bool,
    queries: Option<Source>,
    query: Option<String>,
}

fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Args, String> {
    use lexopt::prelude::*;

    let mut parser = lexopt::Parser::from_args(args);
    let mut out = Args::default();
    let mut format = None;
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => {
                out.help = true;
                return Ok(out);
            }
            Long("records") => out.records = Some(Source::new(parser.value().map_err(text)?)),
            Long("queries") => out.queries = Some(Source::new(parser.value().map_err(text)?)),
            Long("format") => format = Some(parser.value().map_err(text)?),
            Value(value) if out.query.is_some() => {
                return Err(format!(
                    "more than one QUERY_STRING ({:?})",
                    value.to_string_lossy()
                ))
            }
            Value(value) => out.query = Some(value.string().map_err(text)?),
            other => return Err(other.unexpected().to_string()),
        }
    }
    out.table = match format.as_deref().map(OsStr::to_string_lossy).as_deref() {
        None | Some("json") => false,
        Some("table") => true,
        Some(other) => return Err(format!("--format must be json or table, not {other:?}")),
    };
    if out.queries.is_some() && (out.query.is_some() || out.table) {
        return Err("--queries takes neither a QUERY_STRING nor --format".to_string());
    }
    if out.records == Some(Source::Stdin) && out.queries == Some(Source::Stdin) {
        return Err("only one of --records and --queries can read standard input (-)".to_string());
    }
    Ok(out)
}

/// A lexopt error as text, for `map_err`.
fn text(e: lexopt::Error) -> String {
    e.to_string()
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(problem) => {
            complain(&format!("{problem}\n{USAGE}"));
            return ExitCode::from(2);
        }
    };
    if let (false, Some(records), Some(queries)) = (args.help, &args.records, &args.queries) {
        if records.stream().is_some() && records.stream() == queries.stream() {
            complain(&format!(
                "--records ({}) and --queries ({}) are one pipe: only one of them can read it\n{USAGE}",
                records.describe(),
                queries.describe()
            ));
            return ExitCode::from(2);
        }
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = if args.help {
        out.write_all(HELP.as_bytes())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Failure::Io)
    } else {
        run(&args, &mut out)
    };
    match result.and_then(|code| Ok(out.flush().map(|()| code)?)) {
        Ok(code) => code,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            complain(&format!("cannot write output: {e}"));
            ExitCode::from(1)
        }
        Err(Failure::Message(message)) => {
            complain(&message);
            ExitCode::from(1)
        }
    }
}

/// Writes a message on standard error; a closed standard error is no reason
/// to panic, so a failure to write there is ignored.
fn complain(message: &str) {
    let _ = writeln!(io::stderr().lock(), "images-group: {message}");
}

enum Failure {
    Io(io::Error),
    Message(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn run(args: &Args, out: &mut impl Write) -> Result<ExitCode, Failure> {
    // One valid query over a records input: stream the records to the page
    // rather than hold them all. An invalid query is reported after the
    // records are read, as below, so that bad records are named first.
    if let (None, Some(source)) = (&args.queries, &args.records) {
        if let Ok(query) = GroupQuery::from_query_string(args.query.as_deref().unwrap_or("")) {
            let page = stream_records(source, &query).map_err(Failure::Message)?;
            return print_page(&page, &query, args.table, out);
        }
    }
    // Several queries over records input: one streaming pass answers them
    // all, holding groups rather than records (standard input and pipes
    // are read whole first, as for one query).
    if let (Some(queries), Some(source)) = (&args.queries, &args.records) {
        return stream_queries(source, queries, out);
    }
    let records = load_records(args.records.as_ref()).map_err(Failure::Message)?;
    let answered = match &args.queries {
        Some(source) => {
            let text = read_queries(source).map_err(Failure::Message)?;
            run_queries(&records, &text, out)
        }
        None => run_one(
            &records,
            args.query.as_deref().unwrap_or(""),
            args.table,
            out,
        ),
    };
    // The process ends here: freeing the records' strings one by one
    // would only delay its exit.
    std::mem::forget(records);
    answered
}

/// The page of `query` over the records of `source`, streamed from a file
/// (standard input or a pipe is read whole first: it cannot be read
/// twice), or a
/// message naming the input as [`load_records`] does.
fn stream_records(source: &Source, query: &GroupQuery) -> Result<ImageGroupPage, String> {
    read_records(
        source,
        |file| group_records_reader(file, query),
        |text| group_records_text(text, query),
        |page| page.total == 0,
    )
}

/// What the library makes of the records of `source`: `from_file` from a
/// file, read as it goes, or `from_text` from standard input or a pipe,
/// read whole first (it cannot be read twice); or a message naming the
/// input, the record and the field. Empty input is far more often a failed
/// download (`curl ... |`) than a project without images, which is `[]`:
/// it is an error, looked for only where `holds_none` says the answer is
/// empty (as it must be from an empty file).
fn read_records<T>(
    source: &Source,
    from_file: impl FnOnce(std::fs::File) -> io::Result<Result<T, RecordsError>>,
    from_text: impl FnOnce(&[u8]) -> Result<T, RecordsError>,
    holds_none: impl Fn(&T) -> bool,
) -> Result<T, String> {
    let answer = match source {
        Source::File(path) if source.seekable() => {
            let cannot_read =
                |e: io::Error| format!("cannot read records file {}: {e}", path.to_string_lossy());
            let answer = std::fs::File::open(path)
                .and_then(from_file)
                .map_err(cannot_read)?;
            // Look for the first byte that is not white space.
            if answer.as_ref().is_ok_and(&holds_none)
                && only_white_space(path).map_err(cannot_read)?
            {
                return Err(empty_input(source));
            }
            answer
        }
        _ => {
            let bytes = source.read("records")?;
            if nothing_but_white_space(&bytes) {
                return Err(empty_input(source));
            }
            from_text(&bytes)
        }
    };
    answer.map_err(|e| invalid_records(source, &e))
}

/// Whether the file at `path` holds nothing but white space; reads up to
/// its first other byte.
fn only_white_space(path: &OsStr) -> io::Result<bool> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = [0u8; 8192];
    let mut first = true;
    loop {
        let n = file.read(&mut buf)?;
        let read = &buf[..n];
        // A byte-order mark may open the text, and only the text (this
        // reads regular files, whose first read holds their first bytes).
        let read = match first {
            true => read.strip_prefix(BOM).unwrap_or(read),
            false => read,
        };
        first = false;
        match n {
            0 => return Ok(true),
            _ if read.iter().all(u8::is_ascii_whitespace) => continue,
            _ => return Ok(false),
        }
    }
}

/// The UTF-8 byte-order mark, which a records text may start with.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// Whether records text holds nothing but white space (after a
/// byte-order mark): empty input, not an empty list of records.
fn nothing_but_white_space(bytes: &[u8]) -> bool {
    bytes
        .strip_prefix(BOM)
        .unwrap_or(bytes)
        .iter()
        .all(u8::is_ascii_whitespace)
}

/// The message for records that are not valid input.
fn invalid_records(source: &Source, e: &RecordsError) -> String {
    match source {
        Source::Stdin => format!("invalid records on standard input: {e}"),
        Source::File(_) => format!("invalid records {}: {e}", source.describe()),
    }
}

/// The records of `source` (the bundled sample without one), parsed on
/// every core; a file is read in chunks, so that its whole text is never
/// held beside the records.
fn load_records(source: Option<&Source>) -> Result<Vec<ImageVersion>, String> {
    let Some(source) = source else {
        return parse_records_bytes(SAMPLE_RECORDS.as_bytes())
            .map_err(|e| format!("bundled sample: {e}"));
    };
    read_records(
        source,
        parse_records_reader,
        parse_records_bytes,
        Vec::is_empty,
    )
}

/// The message for records input that holds nothing but white space.
fn empty_input(source: &Source) -> String {
    format!(
        "no records in {}: the input is empty (no images is `[]`)",
        source.describe()
    )
}

fn run_one(
    records: &[ImageVersion],
    query: &str,
    table: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    let query = match GroupQuery::from_query_string(query) {
        Ok(query) => query,
        Err(e) => {
            serde_json::to_writer_pretty(&mut *out, &e).map_err(io::Error::from)?;
            writeln!(out)?;
            return Ok(ExitCode::from(2));
        }
    };
    print_page(&group_images(records, &query), &query, table, out)
}

fn print_page(
    page: &ImageGroupPage,
    query: &GroupQuery,
    table: bool,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    if table {
        out.write_all(table::render(page, query).as_bytes())?;
    } else {
        serde_json::to_writer_pretty(&mut *out, page).map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The text of the queries file (or standard input), without a leading
/// byte-order mark, or a message naming it.
fn read_queries(source: &Source) -> Result<String, String> {
    let bytes = source.read("queries")?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        format!(
            "cannot read queries {}: line {line} is not UTF-8",
            source.describe()
        )
    })?;
    // A leading byte-order mark is no part of the first query, as in a
    // records file.
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Each line of the queries text, parsed.
fn query_lines(text: &str) -> Vec<Result<GroupQuery, QueryError>> {
    text.lines()
        .map(|line| GroupQuery::from_query_string(line.strip_suffix('\r').unwrap_or(line)))
        .collect()
}

/// Prints, line by line, each query's page (taken in turn from `pages`,
/// one per valid query) or its error body.
fn print_answers(
    lines: &[Result<GroupQuery, QueryError>],
    pages: impl IntoIterator<Item = ImageGroupPage>,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    let mut pages = pages.into_iter();
    for line in lines {
        match line {
            Ok(_) => serde_json::to_writer(
                &mut *out,
                &pages.next().expect("one page for each valid query"),
            ),
            Err(e) => serde_json::to_writer(&mut *out, e),
        }
        .map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--queries` over records in memory (standard input, a pipe, the
/// sample): each
/// valid line asked of them with `group_images`, each line's page or error
/// body printed in order.
fn run_queries(
    records: &[ImageVersion],
    text: &str,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    let lines = query_lines(text);
    let pages = lines
        .iter()
        .filter_map(|line| line.as_ref().ok())
        .map(|query| group_images(records, query));
    print_answers(&lines, pages, out)
}

/// `--queries` over records input: the queries read first, then every
/// valid one answered in one pass over the records
/// (`group_records_reader_many`, or `group_records_text_many` over
/// standard input or a pipe), then each line's page or error body
/// printed in order. Messages and exit codes are those of loading the
/// records first: bad or empty records are named before a queries file
/// that cannot be read.
fn stream_queries(
    records: &Source,
    queries: &Source,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    let text = match read_queries(queries) {
        Ok(text) => text,
        Err(message) => {
            let records = load_records(Some(records)).map_err(Failure::Message)?;
            std::mem::forget(records);
            return Err(Failure::Message(message));
        }
    };
    let lines = query_lines(&text);
    let valid: Vec<GroupQuery> = lines
        .iter()
        .filter_map(|l| l.as_ref().ok())
        .cloned()
        .collect();
    let pages = read_records(
        records,
        |file| group_records_reader_many(file, &valid),
        |text| group_records_text_many(text, &valid),
        |pages| pages.iter().all(|page| page.total == 0),
    )
    .map_err(Failure::Message)?;
    print_answers(&lines, pages, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_states_the_table_cap_in_force() {
        let phrase = format!("wider than {} columns", table::MAX_CELL_WIDTH);
        assert!(HELP.contains(&phrase), "{phrase:?} missing from --help");
    }
}
