//! The credentials file (`--credentials FILE`): who may read which project.
//!
//! ```json
//! {
//!   "access_keys": [
//!     {"access_key": "HPUA...", "secret_key": "...", "projects": ["<project_id>", "..."]}
//!   ],
//!   "tokens": [
//!     {"token": "...", "projects": ["<project_id>"]}
//!   ]
//! }
//! ```
//!
//! Both lists are optional, but the file must hold at least one entry: an
//! empty file would leave the server open while its operator believes it
//! protected. Every entry needs all its fields and no others (a misspelt
//! field would otherwise be silently ignored); `projects` is a non-empty list
//! of project ids. An access key is 1 to 128 ASCII letters, digits, `-`, `_`
//! and `.` (it travels inside the `Authorization` header, whose separators it
//! must not contain); a secret key or a token is any non-empty string of
//! visible ASCII characters (a token is sent as a header value). No access
//! key and no token may appear twice.
//!
//! A file that breaks a rule stops the server at start (exit 1) with a
//! message naming the file and the entry (`access_keys[2]`, `tokens[0]`) and
//! what is wrong, never the value of a secret key or a token.
//!
//! Why a file rather than `--token` on the command line: any user of the
//! machine can read every process's command line (`ps`, `/proc/PID/cmdline`),
//! while a file can be readable by the server's user alone (the server warns
//! when the file is readable by its group or by others).

use std::path::Path;

use serde_json::{Map, Value};

use crate::auth::{Credentials, SecretKey};

/// Reads and checks the credentials file at `path`.
///
/// The error is the whole message: the file, the entry and the rule.
pub fn load(path: &Path) -> Result<Credentials, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("credentials file {}: {e}", path.display()))?;
    warn_if_readable_by_others(path);
    parse(&text).map_err(|msg| format!("credentials file {}: {msg}", path.display()))
}

/// Logs a warning when the file's mode lets its group or others read it.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o044 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the credentials file is readable by other users; chmod 600 it"
                );
            }
        }
    }
}

/// Parses the file's text into [`Credentials`].
pub fn parse(text: &str) -> Result<Credentials, String> {
    // serde_json's syntax errors name a line and column, never the text.
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(top) = value else {
        return Err("not a JSON object with \"access_keys\" and \"tokens\"".into());
    };
    if let Some(unknown) = top
        .keys()
        .find(|key| !["access_keys", "tokens"].contains(&key.as_str()))
    {
        return Err(format!(
            "unknown field {:?} (the fields are \"access_keys\" and \"tokens\")",
            shown(unknown)
        ));
    }
    let mut credentials = Credentials::new();
    let access_keys = list(&top, "access_keys")?;
    for (i, entry) in access_keys.iter().enumerate() {
        let at = format!("access_keys[{i}]");
        let entry = fields(entry, &at, &["access_key", "secret_key", "projects"])?;
        let access_key = string(entry, &at, "access_key")?;
        if !is_access_key(access_key) {
            return Err(format!(
                "{at}: access_key must be 1 to 128 ASCII letters, digits, '-', '_' and '.'"
            ));
        }
        let at = format!("{at} (access key {access_key})");
        let secret_key = string(entry, &at, "secret_key")?;
        if !is_visible_ascii(secret_key) {
            return Err(format!(
                "{at}: secret_key must be a non-empty string of visible ASCII characters"
            ));
        }
        let projects = projects(entry, &at)?;
        if credentials
            .add_access_key(access_key, SecretKey::new(secret_key), projects)
            .is_err()
        {
            let first = access_keys
                .iter()
                .position(|other| other["access_key"].as_str() == Some(access_key))
                .unwrap_or(i);
            return Err(format!(
                "{at}: the access key is also access_keys[{first}]'s"
            ));
        }
    }
    let tokens = list(&top, "tokens")?;
    for (i, entry) in tokens.iter().enumerate() {
        let at = format!("tokens[{i}]");
        let entry = fields(entry, &at, &["token", "projects"])?;
        let token = string(entry, &at, "token")?;
        if !is_visible_ascii(token) {
            return Err(format!(
                "{at}: token must be a non-empty string of visible ASCII characters"
            ));
        }
        let projects = projects(entry, &at)?;
        if credentials.add_token(token.as_bytes(), projects).is_err() {
            let first = tokens
                .iter()
                .position(|other| other["token"].as_str() == Some(token))
                .unwrap_or(i);
            return Err(format!("{at}: the same token as tokens[{first}]"));
        }
    }
    if credentials.is_empty() {
        return Err("no access keys and no tokens: the server would be open to anyone".into());
    }
    Ok(credentials)
}

/// The array at `top[key]`, empty when absent.
fn list<'a>(top: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match top.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// The entry as an object with exactly the fields `expected`.
fn fields<'a>(
    entry: &'a Value,
    at: &str,
    expected: &[&str],
) -> Result<&'a Map<String, Value>, String> {
    let Value::Object(map) = entry else {
        return Err(format!("{at}: not an object"));
    };
    if let Some(unknown) = map.keys().find(|key| !expected.contains(&key.as_str())) {
        return Err(format!(
            "{at}: unknown field {:?} (the fields are {})",
            shown(unknown),
            expected.join(", ")
        ));
    }
    if let Some(missing) = expected.iter().find(|key| !map.contains_key(**key)) {
        return Err(format!("{at}: no {missing}"));
    }
    Ok(map)
}

/// The string field `key` (which [`fields`] made sure is present).
fn string<'a>(entry: &'a Map<String, Value>, at: &str, key: &str) -> Result<&'a str, String> {
    entry[key]
        .as_str()
        .ok_or_else(|| format!("{at}: {key} is not a string"))
}

/// The `projects` list: non-empty, every item a project id.
fn projects(entry: &Map<String, Value>, at: &str) -> Result<Vec<String>, String> {
    let Value::Array(items) = &entry["projects"] else {
        return Err(format!("{at}: projects is not a list"));
    };
    if items.is_empty() {
        return Err(format!(
            "{at}: projects is empty (the entry would be allowed no project)"
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(j, item)| match item.as_str() {
            Some(id) if crate::is_project_id(id) => Ok(id.to_string()),
            Some(id) => Err(format!(
                "{at}: projects[{j}] {:?} is not a project id (1 to 64 ASCII letters, digits and hyphens)",
                shown(id)
            )),
            None => Err(format!("{at}: projects[{j}] is not a string")),
        })
        .collect()
}

/// 1 to 128 ASCII letters, digits, `-`, `_`, `.`: what can stand in the
/// `Access=` parameter without a separator of the `Authorization` header.
fn is_access_key(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Non-empty, visible ASCII only: what a header value carries unchanged
/// (hyper trims spaces around a value, so a key with them could never match).
fn is_visible_ascii(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

/// A name from the file as a message shows it: at most 64 characters.
fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
      "access_keys": [
        {"access_key": "AK1", "secret_key": "s3cr3t-one", "projects": ["alpha", "beta"]},
        {"access_key": "AK2", "secret_key": "s3cr3t-two", "projects": ["beta"]}
      ],
      "tokens": [{"token": "t0k3n", "projects": ["alpha"]}]
    }"#;

    #[test]
    fn a_good_file_parses() {
        let credentials = parse(GOOD).unwrap();
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AK1") && shown.contains("AK2"), "{shown}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
        // Either list alone is enough.
        parse(r#"{"tokens": [{"token": "t", "projects": ["p"]}]}"#).unwrap();
        parse(r#"{"access_keys": [{"access_key": "a", "secret_key": "s", "projects": ["p"]}]}"#)
            .unwrap();
    }

    #[test]
    fn each_broken_rule_names_the_entry_and_never_a_secret() {
        let key = |fields: &str| {
            format!(
                r#"{{"access_keys": [{{"access_key": "AK0", "secret_key": "ok-0", "projects": ["p"]}}, {{{fields}}}]}}"#
            )
        };
        let token = |fields: &str| format!(r#"{{"tokens": [{{{fields}}}]}}"#);
        for (text, wanted) in [
            ("".to_string(), "not valid JSON"),
            ("{\"access_keys\": [".to_string(), "not valid JSON"),
            ("[]".to_string(), "not a JSON object"),
            ("{}".to_string(), "open to anyone"),
            (r#"{"access_keys": [], "tokens": []}"#.to_string(), "open to anyone"),
            (r#"{"acess_keys": []}"#.to_string(), "unknown field \"acess_keys\""),
            (r#"{"tokens": {}}"#.to_string(), "tokens is not a list"),
            (r#"{"access_keys": ["s3cr3t"]}"#.to_string(), "access_keys[0]: not an object"),
            (key(r#""access_key": "AK1", "projects": ["p"]"#), "access_keys[1]: no secret_key"),
            (key(r#""secret_key": "s3cr3t", "projects": ["p"]"#), "access_keys[1]: no access_key"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t""#), "access_keys[1]: no projects"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t", "projects": ["p"], "secret": "s3cr3t""#), "access_keys[1]: unknown field \"secret\""),
            (key(r#""access_key": "A K", "secret_key": "s3cr3t", "projects": ["p"]"#), "access_keys[1]: access_key must be"),
            (key(r#""access_key": "", "secret_key": "s3cr3t", "projects": ["p"]"#), "access_keys[1]: access_key must be"),
            (key(r#""access_key": 7, "secret_key": "s3cr3t", "projects": ["p"]"#), "access_keys[1]: access_key is not a string"),
            (key(r#""access_key": "AK1", "secret_key": "", "projects": ["p"]"#), "access_keys[1] (access key AK1): secret_key must be"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t with space", "projects": ["p"]"#), "secret_key must be"),
            (key(r#""access_key": "AK1", "secret_key": ["s3cr3t"], "projects": ["p"]"#), "secret_key is not a string"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t", "projects": []"#), "access_keys[1] (access key AK1): projects is empty"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t", "projects": "p""#), "projects is not a list"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t", "projects": ["p", "a_b"]"#), "access_keys[1] (access key AK1): projects[1] \"a_b\" is not a project id"),
            (key(r#""access_key": "AK1", "secret_key": "s3cr3t", "projects": [1]"#), "projects[0] is not a string"),
            (key(r#""access_key": "AK0", "secret_key": "s3cr3t", "projects": ["p"]"#), "access_keys[1] (access key AK0): the access key is also access_keys[0]'s"),
            (token(r#""token": "", "projects": ["p"]"#), "tokens[0]: token must be"),
            (token(r#""token": "s3cr3t", "projects": ["p"], "extra": 1"#), "tokens[0]: unknown field \"extra\""),
            (token(r#""projects": ["p"]"#), "tokens[0]: no token"),
            (r#"{"tokens": [{"token": "s3cr3t", "projects": ["p"]}, {"token": "s3cr3t", "projects": ["q"]}]}"#.to_string(), "tokens[1]: the same token as tokens[0]"),
        ] {
            let err = parse(&text).unwrap_err();
            assert!(err.contains(wanted), "{text}\n  gave {err:?}\n  wanted {wanted:?}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }
}
