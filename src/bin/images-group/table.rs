//! `--format table`: a page as aligned text for a terminal.
//!
//! Cells are measured in display columns (East Asian wide characters take
//! two), not in characters, so that a row holding CJK text lines up with the
//! others. Names come from the records, and one very long name would
//! otherwise widen its column for every row: a text cell wider than
//! [`MAX_CELL_WIDTH`] is cut and marked with [`ELLIPSIS`]. The table is for
//! reading; the JSON output is the one that keeps every name whole.

use std::fmt::Write as _;

use image_groups::{GroupQuery, ImageGroupPage};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The widest a name or namespace cell may be, in display columns: room for
/// ordinary repository names while keeping a row within a wide terminal.
pub const MAX_CELL_WIDTH: usize = 40;

/// Ends a cell that was cut to [`MAX_CELL_WIDTH`].
pub const ELLIPSIS: char = '…';

const HEADER: [&str; 6] = [
    "NAME",
    "NAMESPACE",
    "VERSIONS",
    "CREATED",
    "UPDATED",
    "SWR INSTANCE",
];

/// The column of version counts, which align right.
const COUNT_COLUMN: usize = 2;

/// An aligned table of the page's groups, times as RFC 3339 UTC, and a
/// footer with the page numbers. The SWR instance column is there only when
/// a group on the page is in an SWR enterprise instance.
pub fn render(page: &ImageGroupPage, query: &GroupQuery) -> String {
    let instances = page.data.iter().any(|g| g.swr_instance_id.is_some());
    let columns = if instances {
        HEADER.len()
    } else {
        HEADER.len() - 1
    };
    let rows: Vec<Vec<String>> = page
        .data
        .iter()
        .map(|g| {
            let mut row = vec![
                fit(&printable(&g.name)),
                fit(&printable(&g.namespace)),
                g.version_count.to_string(),
                time(g.create_at),
                time(g.update_at),
            ];
            if instances {
                row.push(fit(&printable(g.swr_instance_id.as_deref().unwrap_or("-"))));
            }
            row
        })
        .collect();
    let header = &HEADER[..columns];
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut text = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(cell.width()));
            if i == COUNT_COLUMN {
                let _ = write!(l, "{pad}{cell}  ");
            } else {
                let _ = write!(l, "{cell}{pad}  ");
            }
        }
        text.push_str(l.trim_end());
        text.push('\n');
    };
    line(header);
    for row in &rows {
        line(&row.iter().map(String::as_str).collect::<Vec<_>>());
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

/// Milliseconds since the epoch as RFC 3339 UTC, or the number itself where
/// it lies outside the dates chrono can represent.
fn time(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => format!("{ms} ms (out of range)"),
    }
}

/// `cell` if it fits in [`MAX_CELL_WIDTH`] columns, else its longest prefix
/// that fits with [`ELLIPSIS`] after it.
fn fit(cell: &str) -> String {
    if cell.width() <= MAX_CELL_WIDTH {
        return cell.to_string();
    }
    let room = MAX_CELL_WIDTH - ELLIPSIS.width().unwrap_or(1);
    let mut used = 0;
    let mut out = String::new();
    for c in cell.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push(ELLIPSIS);
    out
}

/// Escapes control characters so that a record's name cannot drive the
/// terminal.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // Control characters, and the bidirectional controls that would
        // reorder the rest of the line on a terminal.
        if c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_short_cells_and_cuts_long_ones_to_the_cap() {
        assert_eq!(fit("pytorch"), "pytorch");
        let exact = "a".repeat(MAX_CELL_WIDTH);
        assert_eq!(fit(&exact), exact);
        let cut = fit(&"a".repeat(MAX_CELL_WIDTH + 1));
        assert_eq!(cut.width(), MAX_CELL_WIDTH);
        assert!(cut.ends_with(ELLIPSIS));
        // A wide character that would cross the cap is left out whole.
        let wide = fit(&"語".repeat(MAX_CELL_WIDTH));
        assert!(wide.width() <= MAX_CELL_WIDTH && wide.ends_with(ELLIPSIS));
        assert_eq!(
            wide.chars().filter(|&c| c == '語').count(),
            (MAX_CELL_WIDTH - 1) / 2
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\n");
    }

    #[test]
    fn bidirectional_controls_are_escaped_like_control_characters() {
        assert_eq!(printable("a\u{202e}b\u{2066}c"), "a\\u{202e}b\\u{2066}c");
        assert_eq!(printable("日本語"), "日本語");
    }
}
