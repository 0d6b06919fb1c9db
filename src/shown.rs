//! How an error message quotes a caller's value.

use std::fmt::Write as _;

/// How many characters of an offending value an error message shows.
const SHOWN_CHARS: usize = 64;

/// Quotes a caller's value for an error message: at most [`SHOWN_CHARS`]
/// characters, quotes, backslashes and control characters escaped, so that the
/// message stays short and cannot carry terminal escapes or forged lines.
pub(crate) fn show(value: &str) -> String {
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
