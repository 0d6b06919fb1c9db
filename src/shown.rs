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
        if must_escape(c) || c == '"' || c == '\\' {
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

/// Whether `c` would act on a terminal or a log viewer rather than show:
/// control characters, the line and paragraph separators, the
/// bidirectional controls that reorder what follows, and the byte-order
/// mark (invisible).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

/// How many characters of a parser's message (serde's, which quotes the
/// offending value whole and raw) an error message keeps.
const MESSAGE_CHARS: usize = 400;

/// Makes a parser's message safe to log, as [`show`] does for a value:
/// control characters escaped, each quoted value (between backticks or
/// double quotes, where serde puts them) cut to [`SHOWN_CHARS`] characters,
/// and the whole cut to [`MESSAGE_CHARS`] (a value holding a backtick ends
/// its quote early, so the cap on the whole is what bounds it).
pub(crate) fn tame(message: &str) -> String {
    let mut tamed = String::with_capacity(message.len().min(MESSAGE_CHARS) + 32);
    // The open quote, and how many characters of its value were seen.
    let mut quote: Option<(char, usize)> = None;
    let mut chars = message.chars();
    let mut written = 0usize;
    let push = |tamed: &mut String, c: char| {
        if must_escape(c) {
            tamed.extend(c.escape_default());
        } else {
            tamed.push(c);
        }
    };
    let close = |tamed: &mut String, seen: usize| {
        if seen > SHOWN_CHARS {
            let _ = write!(tamed, "... ({seen} characters)");
        }
    };
    while let Some(c) = chars.next() {
        if written == MESSAGE_CHARS {
            let total = written + 1 + chars.count();
            let _ = write!(tamed, "... (a message of {total} characters)");
            return tamed;
        }
        written += 1;
        match quote {
            Some((q, seen)) if c == q => {
                close(&mut tamed, seen);
                tamed.push(c);
                quote = None;
            }
            Some((q, seen)) => {
                // serde escapes a double quote inside a double-quoted value.
                let escaped = (q == '"' && c == '\\').then(|| chars.next()).flatten();
                if seen < SHOWN_CHARS {
                    push(&mut tamed, c);
                    if let Some(e) = escaped {
                        push(&mut tamed, e);
                    }
                } else {
                    // Past the shown part: counted, not written.
                    written -= 1;
                }
                quote = Some((q, seen + 1));
            }
            None => {
                push(&mut tamed, c);
                if c == '`' || c == '"' {
                    quote = Some((c, 0));
                }
            }
        }
    }
    if let Some((_, seen)) = quote {
        close(&mut tamed, seen);
    }
    tamed
}

#[cfg(test)]
mod tests {
    use super::{show, tame, SHOWN_CHARS};

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

    #[test]
    fn tame_escapes_control_characters_everywhere() {
        let tamed = tame("unknown variant `\u{1b}[31mRED\nFAKE`, expected `A`\r\n");
        assert!(!tamed.chars().any(char::is_control), "{tamed}");
        assert_eq!(
            tamed,
            "unknown variant `\\u{1b}[31mRED\\nFAKE`, expected `A`\\r\\n"
        );
    }

    #[test]
    fn tame_cuts_each_quoted_value_and_keeps_the_rest() {
        let long = "x".repeat(100_000);
        let tamed = tame(&format!(
            "unknown variant `{long}`, expected one of `BUILD_IN`"
        ));
        let shown = "x".repeat(SHOWN_CHARS);
        assert_eq!(
            tamed,
            format!("unknown variant `{shown}... (100000 characters)`, expected one of `BUILD_IN`")
        );
        let tamed = tame(&format!(
            "invalid type: string \"a\\\"{long}\", expected i64"
        ));
        assert!(
            tamed.starts_with("invalid type: string \"a\\\"xx"),
            "{tamed}"
        );
        assert!(
            tamed.ends_with("... (100002 characters)\", expected i64"),
            "{tamed}"
        );
    }

    #[test]
    fn tame_caps_the_whole_message() {
        // Backticks inside the value end its quote early: the cap on the
        // whole message still holds.
        let value = "a`".repeat(50_000);
        let tamed = tame(&format!("unknown variant `{value}`"));
        assert!(
            tamed.chars().count() < super::MESSAGE_CHARS + 64,
            "{}",
            tamed.len()
        );
        assert!(tamed.ends_with("characters)"), "{tamed}");
    }

    #[test]
    fn tame_leaves_an_ordinary_message_as_it_is() {
        let message = "unknown variant `GPU`, expected `BUILD_IN` or `DEDICATED`";
        assert_eq!(tame(message), message);
        assert_eq!(tame("missing field `id`"), "missing field `id`");
    }

    #[test]
    fn bidirectional_controls_separators_and_the_bom_are_escaped() {
        for c in [
            '\u{202e}', '\u{2066}', '\u{2028}', '\u{2029}', '\u{200f}', '\u{feff}',
        ] {
            let value = format!("a{c}b");
            let escaped = c.escape_default().to_string();
            assert_eq!(show(&value), format!("\"a{escaped}b\""));
            assert_eq!(tame(&value), format!("a{escaped}b"));
        }
    }
}
