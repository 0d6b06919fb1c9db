//! Who is calling: the SDK-HMAC-SHA256 signature the official Huawei Cloud
//! SDKs sign every request with, and the `X-Auth-Token` header.
//!
//! This module is pure: it sees a request as its method, raw path, raw query,
//! header pairs and body bytes, and the time as seconds since the Unix epoch,
//! never an HTTP framework's types. So the fuzz target
//! (`fuzz/fuzz_targets/auth.rs`) and the integration tests include this very
//! file, and the check they exercise is the server's.
//!
//! # The signature
//!
//! The reference is the SDK's own signer (`huaweicloudsdkcore`,
//! `signer/signer.py`); `signer_vectors.json` beside this file holds requests
//! it signed (`signer_vectors.py` writes it), and the tests below verify them.
//!
//! * canonical request: the method, `\n`, the canonical URI, `\n`, the
//!   canonical query, `\n`, the canonical headers, `\n`, the `SignedHeaders`
//!   list, `\n`, the hex SHA-256 of the body (or, for a non-empty body, the
//!   value of an `X-Sdk-Content-Sha256` header, as the signer does: it sends
//!   `UNSIGNED-PAYLOAD` with a body that is not JSON; this endpoint never
//!   reads a body, so an unsigned one changes no answer);
//! * canonical URI: the raw path percent-decoded (as the signer's `unquote`
//!   does, so an encoded `/` splits a segment), cut at `/`, each segment
//!   percent-encoded keeping only the unreserved characters (`A-Z a-z 0-9 - _
//!   . ~`), joined with `/`, always ending in `/`;
//! * canonical query: the pairs decoded as the library decodes a query (`+`
//!   is a space), sorted by key then value, each encoded like a segment,
//!   `key=value` joined by `&`;
//! * canonical headers: `name:value\n` for each name of `SignedHeaders`, in
//!   its order, the value trimmed of surrounding whitespace;
//! * string to sign: `SDK-HMAC-SHA256\n`, the `X-Sdk-Date` value, `\n`, the hex
//!   SHA-256 of the canonical request;
//! * signature: hex HMAC-SHA256 of the string to sign under the secret key,
//!   compared with the `Signature` of the `Authorization` header in constant
//!   time (`subtle`), so the time taken tells nothing about how many leading
//!   bytes matched.
//!
//! Sorting the query means a signature still verifies if the query's pairs
//! are reordered on the way. That changes no answer: the library refuses a
//! repeated parameter, so the order of a valid query's pairs never matters.
//!
//! # What is refused, and why
//!
//! Every refusal is an [`AuthError`], answered 401 `APIG.0301`; a caller that
//! is authenticated but not allowed the project is the server's 403. Refused:
//!
//! * two `Authorization`, two `X-Auth-Token` or two `X-Sdk-Date` headers, or
//!   an `Authorization` and an `X-Auth-Token` together: a proxy in front that
//!   reads another one of them than this server would authenticate a
//!   different request;
//! * a missing or malformed `Authorization` (another scheme, a missing or
//!   repeated `Access`, `SignedHeaders` or `Signature`, a signature that is
//!   not 64 lowercase hex digits), and a signed header that is absent or
//!   given twice;
//! * an `X-Sdk-Date` that is not `YYYYMMDDTHHMMSSZ` or is more than 15
//!   minutes from the server's clock, which bounds how long a captured
//!   request can be replayed;
//! * an unknown access key or token, and a signature that does not match.
//!
//! Messages never contain a token, a signature or a secret key: they name the
//! header or the rule, never a value the caller sent as a credential.
//!
//! # Holding the keys
//!
//! Tokens are kept only as their SHA-256 digests, which are what a request's
//! token is looked up by: the lookup's timing depends on the digest, which
//! tells an attacker nothing about a valid token. Access keys are identifiers
//! (they travel in clear in every request), so they are looked up directly;
//! secret keys are wrapped in [`SecretKey`], whose `Debug` prints
//! `<redacted>`.

use std::collections::{HashMap, HashSet};
use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The signing algorithm's name, the first word of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// How far `X-Sdk-Date` may be from the server's clock, in seconds: the API
/// gateway's 15 minutes. It bounds the replay of a captured request, and
/// leaves room for clocks that are not quite in step.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// The most names a `SignedHeaders` list may have: more than any client
/// sends, and a bound on the work an attacker can make one request cost.
pub const MAX_SIGNED_HEADERS: usize = 64;

/// How many characters of a header name a message shows, so that an error
/// message stays short whatever a request carries.
const SHOWN_CHARS: usize = 64;

/// A request as the check sees it: what arrived, before any decoding.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The method as sent (`GET`).
    pub method: &'a str,
    /// The path as sent, still percent-encoded (`/v1/p/images/group`).
    pub path: &'a str,
    /// The query as sent, without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header, in the order received; names in any case.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The body bytes.
    pub body: &'a [u8],
}

/// A secret key: the bytes the HMAC is keyed with. Its `Debug` output is
/// `<redacted>`, so no log or panic message can print it.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// Wraps the key's bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        SecretKey(bytes.into())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// One access key: its secret and the projects it may read.
#[derive(Debug, Clone)]
struct AccessKey {
    secret_key: SecretKey,
    projects: HashSet<String>,
}

/// Who may call, and which projects each may read.
///
/// Empty credentials mean an open server: every request is let through as
/// [`Caller::Anyone`] and no authentication header is looked at.
#[derive(Clone, Default)]
pub struct Credentials {
    access_keys: HashMap<String, AccessKey>,
    /// SHA-256 of each token to the projects it may read.
    tokens: HashMap<[u8; 32], HashSet<String>>,
}

/// The same access key or token given twice when building [`Credentials`]
/// (which one would hold is a guess, so it is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duplicate;

impl Credentials {
    /// No keys, no tokens: an open server.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing was configured, so nothing is checked.
    pub fn is_empty(&self) -> bool {
        self.access_keys.is_empty() && self.tokens.is_empty()
    }

    /// Adds an access key that may read `projects`.
    pub fn add_access_key(
        &mut self,
        access_key: &str,
        secret_key: SecretKey,
        projects: impl IntoIterator<Item = String>,
    ) -> Result<(), Duplicate> {
        if self.access_keys.contains_key(access_key) {
            return Err(Duplicate);
        }
        let projects = projects.into_iter().collect();
        self.access_keys.insert(
            access_key.to_string(),
            AccessKey {
                secret_key,
                projects,
            },
        );
        Ok(())
    }

    /// Adds a token that may read `projects`.
    pub fn add_token(
        &mut self,
        token: &[u8],
        projects: impl IntoIterator<Item = String>,
    ) -> Result<(), Duplicate> {
        let digest: [u8; 32] = Sha256::digest(token).into();
        if self.tokens.contains_key(&digest) {
            return Err(Duplicate);
        }
        self.tokens.insert(digest, projects.into_iter().collect());
        Ok(())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Access keys with their projects (the secrets print as <redacted>);
        // tokens only as how many there are.
        f.debug_struct("Credentials")
            .field("access_keys", &self.access_keys)
            .field("tokens", &self.tokens.len())
            .finish()
    }
}

/// Who a request was authenticated as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'c> {
    /// No credentials are configured: anyone may read any project.
    Anyone,
    /// A request signed with this access key.
    AccessKey(&'c str),
    /// A request carrying a known `X-Auth-Token`.
    Token,
}

/// The result of [`authenticate`]: the caller and the projects it may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated<'c> {
    /// Who called.
    pub caller: Caller<'c>,
    projects: Option<&'c HashSet<String>>,
}

impl Authenticated<'_> {
    /// Whether the caller may read `project`.
    pub fn may_read(&self, project: &str) -> bool {
        self.projects
            .is_none_or(|projects| projects.contains(project))
    }
}

/// Why a request was not authenticated (all answered 401 `APIG.0301`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// Neither `Authorization` nor `X-Auth-Token`.
    Missing,
    /// A header that must appear at most once appeared more often.
    Repeated(&'static str),
    /// Both `Authorization` and `X-Auth-Token`.
    BothSchemes,
    /// An `X-Auth-Token` no token matches.
    UnknownToken,
    /// An `Authorization` header that is not an SDK-HMAC-SHA256 one.
    Malformed(&'static str),
    /// A name in `SignedHeaders` that is absent from the request (the name,
    /// cut to 64 characters).
    SignedHeaderMissing(String),
    /// A name in `SignedHeaders` that appears more than once in the request.
    SignedHeaderRepeated(String),
    /// No `X-Sdk-Date` header.
    DateMissing,
    /// An `X-Sdk-Date` that is not `YYYYMMDDTHHMMSSZ`.
    DateMalformed,
    /// An `X-Sdk-Date` more than 15 minutes from the server's clock.
    DateOutOfRange,
    /// An access key no credential has.
    UnknownAccessKey,
    /// The signature is not the one the access key's secret gives.
    SignatureMismatch,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Incorrect IAM authentication information: ")?;
        match self {
            AuthError::Missing => f.write_str("no Authorization or X-Auth-Token header"),
            AuthError::Repeated(name) => write!(f, "the {name} header is given more than once"),
            AuthError::BothSchemes => {
                f.write_str("both an Authorization and an X-Auth-Token header; send one")
            }
            AuthError::UnknownToken => f.write_str("unknown x-auth-token"),
            AuthError::Malformed(what) => write!(f, "malformed Authorization header: {what}"),
            AuthError::SignedHeaderMissing(name) => {
                write!(f, "signed header {name:?} is not in the request")
            }
            AuthError::SignedHeaderRepeated(name) => {
                write!(f, "signed header {name:?} is given more than once")
            }
            AuthError::DateMissing => f.write_str("no X-Sdk-Date header"),
            AuthError::DateMalformed => f.write_str("X-Sdk-Date is not YYYYMMDDTHHMMSSZ"),
            AuthError::DateOutOfRange => write!(
                f,
                "X-Sdk-Date is more than {} minutes from the server's clock",
                MAX_CLOCK_SKEW_SECS / 60
            ),
            // The same words as a wrong signature: a caller without the
            // secret key must not learn which access keys exist.
            AuthError::UnknownAccessKey => f.write_str("verify aksk signature fail"),
            AuthError::SignatureMismatch => f.write_str("verify aksk signature fail"),
        }
    }
}

impl std::error::Error for AuthError {}

/// Authenticates `request` against `credentials` at `now` (seconds since the
/// Unix epoch, UTC).
///
/// With empty credentials every request is [`Caller::Anyone`]. Otherwise the
/// request must carry exactly one of a valid SDK-HMAC-SHA256 `Authorization`
/// or a known `X-Auth-Token` (see the module docs for every refusal).
pub fn authenticate<'c>(
    request: &Request<'_>,
    credentials: &'c Credentials,
    now: i64,
) -> Result<Authenticated<'c>, AuthError> {
    if credentials.is_empty() {
        return Ok(Authenticated {
            caller: Caller::Anyone,
            projects: None,
        });
    }
    let authorization = single_header(request.headers, "authorization", "Authorization")?;
    let token = single_header(request.headers, "x-auth-token", "X-Auth-Token")?;
    match (authorization, token) {
        (None, None) => Err(AuthError::Missing),
        (Some(_), Some(_)) => Err(AuthError::BothSchemes),
        (None, Some(token)) => {
            let digest: [u8; 32] = Sha256::digest(token).into();
            match credentials.tokens.get(&digest) {
                Some(projects) => Ok(Authenticated {
                    caller: Caller::Token,
                    projects: Some(projects),
                }),
                None => Err(AuthError::UnknownToken),
            }
        }
        (Some(authorization), None) => {
            let (access_key, key) = verify_signature(request, authorization, credentials, now)?;
            Ok(Authenticated {
                caller: Caller::AccessKey(access_key),
                projects: Some(&key.projects),
            })
        }
    }
}

/// The one value of header `name` (lowercase), `None` if absent, an error
/// naming it as `shown` if it appears more than once.
fn single_header<'a>(
    headers: &[(&str, &'a [u8])],
    name: &str,
    shown: &'static str,
) -> Result<Option<&'a [u8]>, AuthError> {
    let mut found = None;
    for (header, value) in headers {
        if header.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(AuthError::Repeated(shown));
            }
            found = Some(*value);
        }
    }
    Ok(found)
}

/// The parts of an `SDK-HMAC-SHA256` `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key.
    pub access_key: &'a str,
    /// The lowercase names of the signed headers, in the header's order.
    pub signed_headers: Vec<&'a str>,
    /// The signature's 32 bytes.
    pub signature: [u8; 32],
}

/// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX`.
///
/// Strict: the three parameters exactly once each, in any order, nothing
/// else; `SignedHeaders` names lowercase header-name characters, none twice;
/// the signature 64 lowercase hex digits.
pub fn parse_authorization(value: &[u8]) -> Result<Authorization<'_>, AuthError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| AuthError::Malformed("not UTF-8"))?
        .trim();
    let rest = text
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or(AuthError::Malformed("the scheme is not SDK-HMAC-SHA256"))?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(AuthError::Malformed("a parameter without '='"))?;
        let slot = match key {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(AuthError::Malformed("an unknown parameter")),
        };
        if slot.replace(value).is_some() {
            return Err(AuthError::Malformed("a parameter given twice"));
        }
    }
    let access_key = access
        .filter(|access| !access.is_empty())
        .ok_or(AuthError::Malformed("no Access"))?;
    let signed = signed
        .filter(|signed| !signed.is_empty())
        .ok_or(AuthError::Malformed("no SignedHeaders"))?;
    let signed_headers: Vec<&str> = signed.split(';').collect();
    if signed_headers.len() > MAX_SIGNED_HEADERS {
        return Err(AuthError::Malformed("too many SignedHeaders"));
    }
    for (i, name) in signed_headers.iter().enumerate() {
        if name.is_empty() || !name.bytes().all(is_lowercase_header_byte) {
            return Err(AuthError::Malformed(
                "SignedHeaders has a name that is not a lowercase header name",
            ));
        }
        if signed_headers[..i].contains(name) {
            return Err(AuthError::Malformed("SignedHeaders names a header twice"));
        }
    }
    let signature = signature.ok_or(AuthError::Malformed("no Signature"))?;
    // Lowercase only, as every SDK signer writes it: one signature has one
    // spelling.
    let mut bytes = [0u8; 32];
    if signature.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(AuthError::Malformed(
            "the Signature is not 64 lowercase hex digits",
        ));
    }
    hex::decode_to_slice(signature, &mut bytes)
        .map_err(|_| AuthError::Malformed("the Signature is not 64 lowercase hex digits"))?;
    Ok(Authorization {
        access_key,
        signed_headers,
        signature: bytes,
    })
}

/// A header-name character (RFC 9110 `tchar`) that is not an uppercase letter.
fn is_lowercase_header_byte(byte: u8) -> bool {
    byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Checks the signature; the access key and its entry when it holds.
fn verify_signature<'c>(
    request: &Request<'_>,
    authorization: &[u8],
    credentials: &'c Credentials,
    now: i64,
) -> Result<(&'c str, &'c AccessKey), AuthError> {
    let parsed = parse_authorization(authorization)?;
    let date = single_header(request.headers, "x-sdk-date", "X-Sdk-Date")?
        .ok_or(AuthError::DateMissing)?;
    let date = std::str::from_utf8(date).map_err(|_| AuthError::DateMalformed)?;
    let signed_at = parse_sdk_date(date).ok_or(AuthError::DateMalformed)?;
    if signed_at.abs_diff(now) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(AuthError::DateOutOfRange);
    }
    let (access_key, key) = credentials
        .access_keys
        .get_key_value(parsed.access_key)
        .ok_or(AuthError::UnknownAccessKey)?;
    let canonical = canonical_request(request, &parsed.signed_headers)?;
    let expected = signature(&key.secret_key, date, &canonical);
    if bool::from(expected.ct_eq(&parsed.signature)) {
        Ok((access_key.as_str(), key))
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

/// The HMAC-SHA256 of the string to sign for `canonical` at `date`.
fn signature(secret_key: &SecretKey, date: &str, canonical: &[u8]) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&secret_key.0).expect("HMAC takes a key of any length");
    mac.update(&string_to_sign(date, canonical));
    mac.finalize().into_bytes().into()
}

/// `SDK-HMAC-SHA256\n` + date + `\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(date: &str, canonical: &[u8]) -> Vec<u8> {
    format!(
        "{ALGORITHM}\n{date}\n{}",
        hex::encode(Sha256::digest(canonical))
    )
    .into_bytes()
}

/// The canonical request of `request` over `signed_headers` (lowercase
/// names): bytes, since header values need not be UTF-8.
pub fn canonical_request(
    request: &Request<'_>,
    signed_headers: &[&str],
) -> Result<Vec<u8>, AuthError> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(request.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(request.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(request.query).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        let mut values = request
            .headers
            .iter()
            .filter(|(header, _)| header.eq_ignore_ascii_case(name));
        let value = values
            .next()
            .ok_or_else(|| AuthError::SignedHeaderMissing(shown(name)))?
            .1;
        if values.next().is_some() {
            return Err(AuthError::SignedHeaderRepeated(shown(name)));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.trim_ascii());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    // The signer's payload rule: an empty body is the hash of no bytes; a
    // body with an `X-Sdk-Content-Sha256` header is what the header says
    // (the SDK sends `UNSIGNED-PAYLOAD` with a body that is not JSON).
    let declared = single_header(
        request.headers,
        "x-sdk-content-sha256",
        "X-Sdk-Content-Sha256",
    )?;
    match declared {
        Some(declared) if !request.body.is_empty() && !declared.is_empty() => {
            out.extend_from_slice(declared)
        }
        _ => out.extend_from_slice(hex::encode(Sha256::digest(request.body)).as_bytes()),
    }
    Ok(out)
}

/// A header name as a message shows it: at most 64 characters.
fn shown(name: &str) -> String {
    name.chars().take(SHOWN_CHARS).collect()
}

/// The canonical URI: decoded, cut at `/`, each segment encoded, ending in `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode(path.as_bytes());
    let decoded = String::from_utf8_lossy(&decoded);
    let mut out = String::with_capacity(path.len() + 1);
    for (i, segment) in decoded.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_into(&mut out, segment);
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query: pairs decoded like the library's query parser does,
/// sorted by key then value, encoded, `key=value` joined by `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len());
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, key);
        out.push('=');
        encode_into(&mut out, value);
    }
    out
}

/// Percent-decodes every `%XX` with two hex digits; anything else is kept,
/// as Python's `unquote` does.
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(high), Some(low)) = (
                bytes.get(i + 1).and_then(|b| hex_value(*b)),
                bytes.get(i + 2).and_then(|b| hex_value(*b)),
            ) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The value of one hex digit, either case (a `%xx` escape may use either).
fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Appends `text` percent-encoded, keeping only `A-Z a-z 0-9 - _ . ~` (the
/// signer's `quote(s, safe='~')`), with uppercase hex digits.
fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        }
    }
}

/// Seconds since the Unix epoch of an `X-Sdk-Date` (`20261129T183000Z`,
/// UTC), `None` unless it is exactly that form and a real instant.
pub fn parse_sdk_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes[8] != b'T' || bytes[15] != b'Z' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        bytes[range].iter().try_fold(0i64, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (number(0..4)?, number(4..6)?, number(6..8)?);
    let (hour, minute, second) = (number(9..11)?, number(11..13)?, number(13..15)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1 || day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`), exact for every year of four digits.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// `X-Sdk-Date`'s form of `unix_seconds` (UTC): what a signer sends (the
/// tests, the fuzz target and the integration tests; the server only parses).
#[allow(dead_code)]
pub fn format_sdk_date(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// The `Authorization` value a signer sends for `request` (which must carry
/// the `X-Sdk-Date` header `date` and each of `signed_headers` once).
///
/// The server never signs; the tests, the fuzz target and the integration
/// tests do, with this function, to make requests the check must accept.
#[allow(dead_code)]
pub fn sign(
    request: &Request<'_>,
    access_key: &str,
    secret_key: &SecretKey,
    signed_headers: &[&str],
    date: &str,
) -> Result<String, AuthError> {
    let canonical = canonical_request(request, signed_headers)?;
    Ok(format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        signed_headers.join(";"),
        hex::encode(signature(secret_key, date, &canonical))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request the SDK's signer signed (`signer_vectors.json`).
    struct Vector {
        name: String,
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
        access_key: String,
        secret_key: String,
        date: String,
        canonical_request: String,
        string_to_sign: String,
        authorization: String,
        /// Other spellings of the query that must verify with the same
        /// signature (the SDK test's vectors have them).
        alt_queries: Vec<String>,
    }

    impl Vector {
        fn request(&self) -> OwnedRequest {
            OwnedRequest {
                method: self.method.clone(),
                path: self.path.clone(),
                query: self.query.clone(),
                headers: self.headers.clone(),
                body: self.body.clone(),
            }
        }

        fn credentials(&self) -> Credentials {
            let mut credentials = Credentials::new();
            credentials
                .add_access_key(
                    &self.access_key,
                    SecretKey::new(self.secret_key.as_bytes()),
                    ["p".to_string()],
                )
                .unwrap();
            credentials
        }

        fn now(&self) -> i64 {
            parse_sdk_date(&self.date).unwrap()
        }
    }

    /// A request whose parts a test can change.
    #[derive(Clone)]
    struct OwnedRequest {
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    }

    impl OwnedRequest {
        fn check(&self, credentials: &Credentials, now: i64) -> Result<(), AuthError> {
            let headers: Vec<(&str, &[u8])> = self
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice()))
                .collect();
            let request = Request {
                method: &self.method,
                path: &self.path,
                query: &self.query,
                headers: &headers,
                body: &self.body,
            };
            authenticate(&request, credentials, now).map(|_| ())
        }

        fn header_mut(&mut self, name: &str) -> &mut Vec<u8> {
            &mut self
                .headers
                .iter_mut()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .unwrap_or_else(|| panic!("no {name} header"))
                .1
        }

        fn authorization(&self) -> String {
            let value = self
                .headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
                .unwrap()
                .1
                .clone();
            String::from_utf8(value).unwrap()
        }
    }

    fn vectors() -> Vec<Vector> {
        parse_vectors(include_str!("signer_vectors.json"))
    }

    /// Vectors in this file's format or the SDK test's (`x_sdk_date` for
    /// `date`, and `alt_queries`).
    fn parse_vectors(text: &str) -> Vec<Vector> {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let string = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap().to_string();
        json["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| Vector {
                name: string(v, "name"),
                method: string(v, "method"),
                path: string(v, "path"),
                query: string(v, "query"),
                headers: v["headers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|pair| {
                        (
                            pair[0].as_str().unwrap().to_string(),
                            pair[1].as_str().unwrap().as_bytes().to_vec(),
                        )
                    })
                    .collect(),
                body: string(v, "body").into_bytes(),
                access_key: string(v, "access_key"),
                secret_key: string(v, "secret_key"),
                date: v["date"]
                    .as_str()
                    .or(v["x_sdk_date"].as_str())
                    .unwrap()
                    .to_string(),
                canonical_request: string(v, "canonical_request"),
                string_to_sign: string(v, "string_to_sign"),
                authorization: string(v, "authorization"),
                alt_queries: v["alt_queries"]
                    .as_array()
                    .map(|queries| {
                        queries
                            .iter()
                            .map(|q| q.as_str().unwrap().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    #[test]
    fn the_sdk_signers_vectors_verify_step_by_step() {
        let vectors = vectors();
        assert!(vectors.len() >= 10);
        verify_step_by_step(&vectors);
    }

    /// The vectors the SDK end-to-end test made with the same signer
    /// (`tests/sdk/signer_vectors.json`), where the tree has them.
    #[test]
    fn the_sdk_tests_vectors_verify_too() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/signer_vectors.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{} is not in this tree; nothing to check", path.display());
            return;
        };
        let vectors = parse_vectors(&text);
        assert!(!vectors.is_empty());
        verify_step_by_step(&vectors);
    }

    fn verify_step_by_step(vectors: &[Vector]) {
        for v in vectors {
            let request = v.request();
            let authorization = request.authorization();
            assert_eq!(authorization, v.authorization, "{}", v.name);
            let parsed = parse_authorization(authorization.as_bytes()).unwrap();
            let headers: Vec<(&str, &[u8])> = request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice()))
                .collect();
            let borrowed = Request {
                method: &request.method,
                path: &request.path,
                query: &request.query,
                headers: &headers,
                body: &request.body,
            };
            let canonical = canonical_request(&borrowed, &parsed.signed_headers).unwrap();
            assert_eq!(
                String::from_utf8(canonical.clone()).unwrap(),
                v.canonical_request,
                "{}",
                v.name
            );
            assert_eq!(
                String::from_utf8(string_to_sign(&v.date, &canonical)).unwrap(),
                v.string_to_sign,
                "{}",
                v.name
            );
            assert_eq!(
                request.check(&v.credentials(), v.now()),
                Ok(()),
                "{}",
                v.name
            );
            // The SDK sends its query sorted; reordered on the way, it still
            // verifies (the canonical query is sorted again).
            let mut reordered = v.request();
            let mut pairs: Vec<&str> = reordered.query.split('&').collect();
            pairs.reverse();
            reordered.query = pairs.join("&");
            assert_eq!(
                reordered.check(&v.credentials(), v.now()),
                Ok(()),
                "{}, query {}",
                v.name,
                reordered.query
            );
            for query in &v.alt_queries {
                let mut spelled = v.request();
                spelled.query = query.clone();
                assert_eq!(
                    spelled.check(&v.credentials(), v.now()),
                    Ok(()),
                    "{}, query {query}",
                    v.name
                );
            }
            // Signing the same request here gives the SDK's header.
            let resigned = sign(
                &borrowed,
                &v.access_key,
                &SecretKey::new(v.secret_key.as_bytes()),
                &parsed.signed_headers,
                &v.date,
            )
            .unwrap();
            assert_eq!(resigned, v.authorization, "{}", v.name);
        }
    }

    /// Every change a test makes to a signed request, by the part it changes.
    fn perturbations(v: &Vector) -> Vec<(&'static str, OwnedRequest)> {
        let base = v.request();
        let mut out = Vec::new();
        let mut changed = |what: &'static str, change: &dyn Fn(&mut OwnedRequest)| {
            let mut request = base.clone();
            change(&mut request);
            out.push((what, request));
        };
        changed("method", &|r| {
            r.method = if r.method == "GET" { "POST" } else { "GET" }.into()
        });
        changed("method case", &|r| r.method = r.method.to_lowercase());
        changed("path segment", &|r| {
            r.path = r.path.replacen("/v1/", "/v2/", 1)
        });
        changed("path, another project", &|r| {
            r.path = r.path.replacen("/v1/", "/v1/x", 1)
        });
        changed("path, trailing part", &|r| r.path.push_str("/x"));
        changed("query, a pair added", &|r| {
            r.query = if r.query.is_empty() {
                "limit=1".into()
            } else {
                format!("{}&limit=1", r.query)
            }
        });
        changed("query, a pair removed", &|r| {
            r.query = match r.query.rsplit_once('&') {
                Some((rest, _)) => rest.to_string(),
                None if r.query.is_empty() => "offset=0".into(),
                None => String::new(),
            }
        });
        changed("query key", &|r| {
            r.query = if r.query.is_empty() {
                "a=".into()
            } else {
                format!("x{}", r.query)
            }
        });
        changed("query value", &|r| {
            r.query = if r.query.is_empty() {
                "a=b".into()
            } else {
                format!("{}x", r.query)
            }
        });
        changed("body", &|r| r.body.push(b'x'));
        changed("access key", &|r| {
            let value = String::from_utf8(r.header_mut("authorization").clone()).unwrap();
            *r.header_mut("authorization") = value.replacen("Access=", "Access=X", 1).into_bytes();
        });
        changed("SignedHeaders, a name dropped", &|r| {
            let value = String::from_utf8(r.header_mut("authorization").clone()).unwrap();
            *r.header_mut("authorization") = value
                .replacen("content-type;", "", 1)
                .replacen("host;", "", 1)
                .into_bytes();
        });
        changed("SignedHeaders, reordered", &|r| {
            let value = String::from_utf8(r.header_mut("authorization").clone()).unwrap();
            *r.header_mut("authorization") = value
                .replacen("content-type;host;", "host;content-type;", 1)
                .into_bytes();
        });
        changed("signed header value", &|r| {
            r.header_mut("x-project-id").push(b'0');
        });
        changed("host", &|r| {
            *r.header_mut("host") = b"127.0.0.1:8081".to_vec()
        });
        changed("date, one second later", &|r| {
            let date = String::from_utf8(r.header_mut("x-sdk-date").clone()).unwrap();
            let next = format_sdk_date(parse_sdk_date(&date).unwrap() + 1);
            *r.header_mut("x-sdk-date") = next.into_bytes();
        });
        changed("signature, last digit", &|r| {
            let value = r.header_mut("authorization");
            let last = value.last_mut().unwrap();
            *last = if *last == b'0' { b'1' } else { b'0' };
        });
        out
    }

    #[test]
    fn every_part_of_the_canonical_request_is_signed() {
        for v in vectors() {
            let credentials = v.credentials();
            let unsigned_body = v
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("x-sdk-content-sha256"));
            for (what, request) in perturbations(&v) {
                let result = request.check(&credentials, v.now());
                if what == "body" && unsigned_body {
                    // The signer's UNSIGNED-PAYLOAD: the body is not signed.
                    assert_eq!(result, Ok(()), "{}", v.name);
                    continue;
                }
                assert!(
                    matches!(
                        result,
                        Err(AuthError::SignatureMismatch | AuthError::UnknownAccessKey)
                    ),
                    "{}: changing the {what} gave {result:?}",
                    v.name
                );
            }
        }
    }

    #[test]
    fn another_secret_key_is_refused() {
        for v in vectors() {
            let mut credentials = Credentials::new();
            credentials
                .add_access_key(
                    &v.access_key,
                    SecretKey::new(format!("{}x", v.secret_key)),
                    ["p".to_string()],
                )
                .unwrap();
            assert_eq!(
                v.request().check(&credentials, v.now()),
                Err(AuthError::SignatureMismatch),
                "{}",
                v.name
            );
            // A prefix of the key is another key too.
            let mut credentials = Credentials::new();
            let short = &v.secret_key[..v.secret_key.len() - 1];
            credentials
                .add_access_key(&v.access_key, SecretKey::new(short), ["p".to_string()])
                .unwrap();
            assert_eq!(
                v.request().check(&credentials, v.now()),
                Err(AuthError::SignatureMismatch),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn the_date_may_be_15_minutes_off_and_no_more() {
        let v = &vectors()[0];
        let (credentials, request, signed) = (v.credentials(), v.request(), v.now());
        for offset in [0, 1, -1, 900, -900] {
            assert_eq!(request.check(&credentials, signed + offset), Ok(()));
        }
        for offset in [901, -901, 86_400, -86_400 * 365] {
            assert_eq!(
                request.check(&credentials, signed + offset),
                Err(AuthError::DateOutOfRange),
                "{offset}"
            );
        }
    }

    #[test]
    fn headers_that_must_be_single_are_refused_when_repeated() {
        let v = &vectors()[0];
        let credentials = v.credentials();
        let mut with_token = credentials.clone();
        with_token.add_token(b"tok", ["p".to_string()]).unwrap();
        for (name, value, shown) in [
            ("Authorization", v.authorization.clone(), "Authorization"),
            ("authorization", "SDK-HMAC-SHA256 x".into(), "Authorization"),
            ("X-Sdk-Date", v.date.clone(), "X-Sdk-Date"),
        ] {
            let mut request = v.request();
            request.headers.push((name.into(), value.into_bytes()));
            assert_eq!(
                request.check(&credentials, v.now()),
                Err(AuthError::Repeated(shown)),
                "{name}"
            );
        }
        // Two tokens, even the same valid one twice.
        let mut request = v.request();
        request.headers.retain(|(name, _)| name != "Authorization");
        request
            .headers
            .push(("X-Auth-Token".into(), b"tok".to_vec()));
        assert_eq!(request.check(&with_token, v.now()), Ok(()));
        request
            .headers
            .push(("x-auth-token".into(), b"tok".to_vec()));
        assert_eq!(
            request.check(&with_token, v.now()),
            Err(AuthError::Repeated("X-Auth-Token"))
        );
        // A signature and a token together.
        let mut request = v.request();
        request
            .headers
            .push(("X-Auth-Token".into(), b"tok".to_vec()));
        assert_eq!(
            request.check(&with_token, v.now()),
            Err(AuthError::BothSchemes)
        );
        // A signed header given twice.
        let mut request = v.request();
        request
            .headers
            .push(("X-Project-Id".into(), b"other".to_vec()));
        assert_eq!(
            request.check(&credentials, v.now()),
            Err(AuthError::SignedHeaderRepeated("x-project-id".into()))
        );
    }

    #[test]
    fn tokens_are_checked_and_scoped() {
        let mut credentials = Credentials::new();
        credentials
            .add_token(b"tok-a", ["alpha".to_string()])
            .unwrap();
        assert_eq!(
            credentials.add_token(b"tok-a", ["beta".to_string()]),
            Err(Duplicate)
        );
        let check = |headers: &[(&str, &[u8])]| {
            let request = Request {
                method: "GET",
                path: "/",
                query: "",
                headers,
                body: b"",
            };
            authenticate(&request, &credentials, 0)
                .map(|a| (a.may_read("alpha"), a.may_read("beta")))
        };
        assert_eq!(check(&[("x-auth-token", b"tok-a")]), Ok((true, false)));
        assert_eq!(check(&[("X-AUTH-TOKEN", b"tok-a")]), Ok((true, false)));
        assert_eq!(
            check(&[("x-auth-token", b"tok-b")]),
            Err(AuthError::UnknownToken)
        );
        assert_eq!(
            check(&[("x-auth-token", b"")]),
            Err(AuthError::UnknownToken)
        );
        assert_eq!(check(&[]), Err(AuthError::Missing));
        // Open: nothing configured, nothing looked at.
        let open = Credentials::new();
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &[("x-auth-token", b"a"), ("x-auth-token", b"b")],
            body: b"",
        };
        let anyone = authenticate(&request, &open, 0).unwrap();
        assert_eq!(anyone.caller, Caller::Anyone);
        assert!(anyone.may_read("anything"));
    }

    #[test]
    fn malformed_authorization_headers_are_refused() {
        let sig = "0".repeat(64);
        for value in [
            String::new(),
            "Bearer abc".into(),
            "SDK-HMAC-SM3 Access=a, SignedHeaders=host, Signature=00".into(),
            "SDK-HMAC-SHA256".into(),
            "SDK-HMAC-SHA256 ".into(),
            format!("SDK-HMAC-SHA256 Access=, SignedHeaders=host, Signature={sig}"),
            format!("SDK-HMAC-SHA256 SignedHeaders=host, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, Signature={sig}"),
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host".into(),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=Host, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host;;x, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host;host, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=ho st, Signature={sig}"),
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=abc".into(),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature={sig}0"),
            format!(
                "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature={}",
                "g".repeat(64)
            ),
            format!(
                "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature={}",
                "AB".repeat(32)
            ),
            format!("SDK-HMAC-SHA256 Access=a, Access=a, SignedHeaders=host, Signature={sig}"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature={sig}, Extra=1"),
            format!("SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature={sig},"),
            format!(
                "SDK-HMAC-SHA256 Access=a, SignedHeaders={}, Signature={sig}",
                vec!["h"; MAX_SIGNED_HEADERS + 1].join(";")
            ),
        ] {
            assert!(
                matches!(
                    parse_authorization(value.as_bytes()),
                    Err(AuthError::Malformed(_))
                ),
                "{value:?}"
            );
        }
        assert!(parse_authorization(
            b"SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=\xff"
        )
        .is_err());
        // Parameters in any order, spaces around commas.
        let value = format!(
            "SDK-HMAC-SHA256 Signature={},SignedHeaders=host;x-sdk-date ,  Access=AK",
            "ab".repeat(32)
        );
        let parsed = parse_authorization(value.as_bytes()).unwrap();
        assert_eq!(parsed.access_key, "AK");
        assert_eq!(parsed.signed_headers, ["host", "x-sdk-date"]);
        assert_eq!(parsed.signature, [0xab; 32]);
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_sdk_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_sdk_date("20261129T183000Z"), Some(1_795_977_000));
        assert_eq!(parse_sdk_date("20240229T235959Z"), Some(1_709_251_199));
        for bad in [
            "",
            "20261129T183000",
            "20261129 183000Z",
            "20261129T183000z",
            "2026-11-29T18:30:00Z",
            "20261329T183000Z",
            "20261100T183000Z",
            "20230229T000000Z",
            "21000229T000000Z",
            "20261131T000000Z",
            "20261129T243000Z",
            "20261129T186000Z",
            "20261129T183060Z",
            "+0261129T183000Z",
            "2026112９T18300Z",
            "00001129T183000Z",
        ] {
            assert_eq!(parse_sdk_date(bad), None, "{bad:?}");
        }
        for seconds in [
            0,
            1,
            951_782_400,
            1_709_251_199,
            1_795_977_000,
            253_402_300_799,
        ] {
            assert_eq!(parse_sdk_date(&format_sdk_date(seconds)), Some(seconds));
        }
    }

    #[test]
    fn canonical_uri_and_query_follow_the_signer() {
        assert_eq!(canonical_uri("/v1/p/images/group"), "/v1/p/images/group/");
        assert_eq!(canonical_uri("/v1/p/images/group/"), "/v1/p/images/group/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(
            canonical_uri("/a%20b/%7e%2F/%zz/%e9"),
            "/a%20b/~//%25zz/%EF%BF%BD/"
        );
        assert_eq!(canonical_uri("/a+b*"), "/a%2Bb%2A/");
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1&a=0&&c"), "a=0&a=1&b=2&c=");
        assert_eq!(canonical_query("n=a+b%2B%7E~"), "n=a%20b%2B~~");
        // Sorted by the decoded text (as the signer sorts before encoding).
        assert_eq!(canonical_query("a%C3%A9=1&a~=2"), "a~=2&a%C3%A9=1");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let mut credentials = Credentials::new();
        credentials
            .add_access_key("AK1", SecretKey::new("s3cr3t-key"), ["p".to_string()])
            .unwrap();
        credentials.add_token(b"t0k3n", ["p".to_string()]).unwrap();
        let shown = format!("{credentials:?} {credentials:#?}");
        assert!(
            shown.contains("AK1") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
    }

    #[test]
    fn messages_never_carry_the_credential_sent() {
        for v in vectors() {
            let signature = v.authorization.rsplit('=').next().unwrap().to_string();
            let credentials = v.credentials();
            for (what, request) in perturbations(&v) {
                // (An unsigned body changed is still accepted.)
                let Err(err) = request.check(&credentials, v.now()) else {
                    continue;
                };
                let text = err.to_string();
                for secret in [&signature, &v.secret_key, &v.access_key] {
                    assert!(!text.contains(secret.as_str()), "{what}: {text}");
                }
            }
        }
        let mut credentials = Credentials::new();
        credentials.add_token(b"t0k3n", ["p".to_string()]).unwrap();
        let request = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &[("x-auth-token", b"t0k3n-x")],
            body: b"",
        };
        let text = authenticate(&request, &credentials, 0)
            .unwrap_err()
            .to_string();
        assert!(!text.contains("t0k3n"), "{text}");
    }
}
