//! `images_group`: the "Obtaining User Image Groups" query from the command line.
//!
//! ```text
//! images_group [--records FILE] [--format json|table] [QUERY_STRING]
//! images_group [--records FILE] --queries FILE
//! ```
//!
//! * `--records FILE`: a JSON array of records, a JSON object whose `data` is
//!   that array, or NDJSON; told from the content. Without it, a bundled sample
//!   holding the API page's example images is used.
//! * `QUERY_STRING`: e.g. `name=torch&type=DEDICATED&limit=20` (no leading `?`).
//! * `--format table`: an aligned table and a footer instead of JSON.
//! * `--queries FILE`: one query string per line; one compact JSON line per
//!   query (the page or the error body), records loaded once.
//!
//! Exit codes: 0 for a page (and in `--queries` mode), 2 for an invalid query
//! (its error body on stdout) or a usage error, 1 for an unreadable or invalid
//! records or queries file (a message on stderr naming the file, the record
//! and the field).

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

#[path = "support/flags.rs"]
mod flags;

use flags::Arg;
use image_groups::{group_images, parse_records_bytes, GroupQuery, ImageGroupPage, ImageVersion};

/// The API page's three example images, as a saved `GET /v1/{project_id}/images` page.
const SAMPLE_RECORDS: &str = include_str!("data/sample.json");

const USAGE: &str = "usage: images_group [--records FILE] [--format json|table] [QUERY_STRING]
       images_group [--records FILE] --queries FILE";

#[derive(Default)]
struct Args {
    records: Option<String>,
    table: bool,
    queries: Option<String>,
    query: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut format = None;
    while let Some(arg) = args.next().map(Arg::new) {
        match arg.flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--records" => out.records = Some(arg.value(&mut args)?),
            "--queries" => out.queries = Some(arg.value(&mut args)?),
            "--format" => format = Some(arg.value(&mut args)?),
            _ if arg.text.starts_with("--") => return Err(format!("unknown option {}", arg.text)),
            _ if out.query.is_some() => return Err("more than one QUERY_STRING".to_string()),
            _ => out.query = Some(arg.text),
        }
    }
    out.table = match format.as_deref() {
        None | Some("json") => false,
        Some("table") => true,
        Some(other) => return Err(format!("--format must be json or table, not {other:?}")),
    };
    if out.queries.is_some() && (out.query.is_some() || out.table) {
        return Err("--queries takes neither a QUERY_STRING nor --format".to_string());
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(problem) if problem.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("images_group: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let records = match load_records(args.records.as_deref()) {
        Ok(records) => records,
        Err(message) => {
            eprintln!("images_group: {message}");
            return ExitCode::from(1);
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match &args.queries {
        Some(path) => run_queries(&records, path, &mut out),
        None => run_one(
            &records,
            args.query.as_deref().unwrap_or(""),
            args.table,
            &mut out,
        ),
    };
    match result.and_then(|code| Ok(out.flush().map(|()| code)?)) {
        Ok(code) => code,
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("images_group: cannot write output: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Message(message)) => {
            eprintln!("images_group: {message}");
            ExitCode::from(1)
        }
    }
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

fn load_records(path: Option<&str>) -> Result<Vec<ImageVersion>, String> {
    let Some(path) = path else {
        return image_groups::parse_records(SAMPLE_RECORDS)
            .map_err(|e| format!("bundled sample: {e}"));
    };
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read records file {path}: {e}"))?;
    parse_records_bytes(&bytes).map_err(|e| format!("invalid records file {path}: {e}"))
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
    let page = group_images(records, &query);
    if table {
        out.write_all(render_table(&page, &query).as_bytes())?;
    } else {
        serde_json::to_writer_pretty(&mut *out, &page).map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_queries(
    records: &[ImageVersion],
    path: &str,
    out: &mut impl Write,
) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("cannot read queries file {path}: {e}")))?;
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match GroupQuery::from_query_string(line) {
            Ok(query) => serde_json::to_writer(&mut *out, &group_images(records, &query)),
            Err(e) => serde_json::to_writer(&mut *out, &e),
        }
        .map_err(io::Error::from)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// An aligned table of the page's groups, times as RFC 3339 UTC, and a
/// footer with the page numbers.
fn render_table(page: &ImageGroupPage, query: &GroupQuery) -> String {
    let header = ["NAME", "NAMESPACE", "VERSIONS", "CREATED", "UPDATED"];
    let time = |t: Option<chrono::DateTime<chrono::Utc>>, ms: i64| match t {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => format!("{ms} ms (out of range)"),
    };
    let rows: Vec<[String; 5]> = page
        .data
        .iter()
        .map(|g| {
            [
                printable(&g.name),
                printable(&g.namespace),
                g.version_count.to_string(),
                time(g.create_time(), g.create_at),
                time(g.update_time(), g.update_at),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == 2 {
                // Counts align right.
                let _ = write!(l, "{}{cell}  ", " ".repeat(pad));
            } else {
                let _ = write!(l, "{cell}{}  ", " ".repeat(pad));
            }
        }
        text.push_str(l.trim_end());
        text.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    let _ = writeln!(
        text,
        "page {} of {}: {} of {} groups (offset {}, limit {})",
        page.current,
        page.pages,
        page.size,
        page.total,
        query.offset(),
        query.limit()
    );
    text
}

/// Escapes control characters so that a record's name cannot drive the
/// terminal.
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
