//! The HTTP example's authentication (`examples/http_server/auth.rs`, the
//! very file the server compiles): everything it reads of an attacker's
//! bytes before deciding who is calling: the `Authorization` header,
//! `X-Sdk-Date`, `X-Auth-Token`, and the canonical request built from any
//! method, path, query, headers and body.
//!
//! * Never a panic.
//! * A request as the fuzzer wrote it (its own `Authorization`, date and
//!   token) is never accepted: the fuzzer does not know the secret key or
//!   the token, so an acceptance would be a forged signature.
//! * The same request signed here with the secret key (`auth::sign`) is
//!   accepted when its date is within 15 minutes, and refused as out of
//!   range otherwise.
//! * Changed after signing (a byte of the method, path, query, body, a
//!   signed header or the `Authorization` header), it is accepted only if
//!   its canonical request is unchanged (`%41` for `A`, say) and its
//!   `Authorization` names the same key, signed headers and signature
//!   bytes: a signature it did not compute is never accepted.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../examples/http_server/auth.rs"]
mod auth;

const ACCESS_KEY: &str = "AKFUZZ";
const SECRET_KEY: &str = "fuzz-secret-key-0f1e2d3c";
const TOKEN: &[u8] = b"fuzz-token-9a8b7c6d";
/// 2026-11-29T18:30:00Z, the server's clock here.
const NOW: i64 = 1_795_977_000;

#[derive(Arbitrary, Debug)]
struct Input {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// How far the signer's clock is from the server's, in seconds.
    skew: i16,
    /// Which of the suitable headers are signed (bit i: the i-th).
    signed: u32,
    /// What is changed after signing: the part, the position, the xor.
    change: Option<(u8, u16, u8)>,
}

fn credentials() -> auth::Credentials {
    let mut credentials = auth::Credentials::new();
    credentials
        .add_access_key(
            ACCESS_KEY,
            auth::SecretKey::new(SECRET_KEY),
            ["p".to_string()],
        )
        .unwrap();
    credentials.add_token(TOKEN, ["p".to_string()]).unwrap();
    credentials
}

/// Checks the request; `Ok` only for a caller the credentials know.
fn check(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    credentials: &auth::Credentials,
) -> Result<(), auth::AuthError> {
    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let request = auth::Request {
        method,
        path,
        query,
        headers: &pairs,
        body,
    };
    match auth::authenticate(&request, credentials, NOW) {
        Ok(who) => {
            assert_ne!(who.caller, auth::Caller::Anyone);
            Ok(())
        }
        Err(err) => {
            let message = err.to_string();
            assert!(message.len() < 512, "{message}");
            assert!(!message.contains(SECRET_KEY));
            Err(err)
        }
    }
}

/// The canonical request, or `None` if it cannot be built.
fn canonical(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    signed: &[&str],
) -> Option<Vec<u8>> {
    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let request = auth::Request {
        method,
        path,
        query,
        headers: &pairs,
        body,
    };
    auth::canonical_request(&request, signed).ok()
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fuzz_target!(|input: Input| {
    let credentials = credentials();
    let Input {
        method,
        path,
        query,
        mut headers,
        body,
        skew,
        signed,
        change,
    } = input;

    // As written by the fuzzer: never accepted.
    let result = check(&method, &path, &query, &headers, &body, &credentials);
    assert!(
        result.is_err(),
        "accepted a request it did not sign: {result:?}"
    );

    // Signed here: the fuzzer's credentials and date headers removed, a
    // date added, a subset of the headers that appear once signed.
    headers.retain(|(name, _)| {
        !["authorization", "x-auth-token", "x-sdk-date"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h))
    });
    let date = auth::format_sdk_date(NOW + i64::from(skew));
    headers.push(("X-Sdk-Date".to_string(), date.clone().into_bytes()));
    let lowercase: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    let mut names: Vec<&str> = Vec::new();
    for (i, name) in lowercase.iter().enumerate() {
        let once = lowercase.iter().filter(|n| *n == name).count() == 1;
        let chosen = name == "x-sdk-date" || signed & (1 << (i % 32)) != 0;
        if once && chosen && is_header_name(name) && !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names.truncate(auth::MAX_SIGNED_HEADERS);
    let secret = auth::SecretKey::new(SECRET_KEY);
    let canonical_before = canonical(&method, &path, &query, &headers, &body, &names)
        .expect("every signed header appears once");
    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_slice()))
        .collect();
    let request = auth::Request {
        method: &method,
        path: &path,
        query: &query,
        headers: &pairs,
        body: &body,
    };
    let authorization = auth::sign(&request, ACCESS_KEY, &secret, &names, &date).unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    headers.push((
        "Authorization".to_string(),
        authorization.clone().into_bytes(),
    ));
    let result = check(&method, &path, &query, &headers, &body, &credentials);
    if i64::from(skew).abs() <= auth::MAX_CLOCK_SKEW_SECS {
        assert_eq!(result, Ok(()), "refused a request signed with the key");
    } else {
        assert_eq!(result, Err(auth::AuthError::DateOutOfRange));
        return;
    }

    // Changed after signing.
    let Some((part, at, xor)) = change else {
        return;
    };
    let xor = xor.max(1);
    let (mut method, mut path, mut query, mut body) = (method, path, query, body);
    let flip = |bytes: &mut Vec<u8>| {
        if !bytes.is_empty() {
            let i = usize::from(at) % bytes.len();
            bytes[i] ^= xor;
        } else {
            bytes.push(xor);
        }
    };
    let flip_text = |text: &mut String| {
        let mut bytes = std::mem::take(text).into_bytes();
        flip(&mut bytes);
        *text = String::from_utf8_lossy(&bytes).into_owned();
    };
    let last = headers.len() - 1;
    match part % 6 {
        0 => flip_text(&mut method),
        1 => flip_text(&mut path),
        2 => flip_text(&mut query),
        3 => flip(&mut body),
        4 => {
            // A signed header's value (the date among them).
            let name = &names[usize::from(at) % names.len()];
            let header = headers
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .unwrap();
            flip(&mut header.1);
        }
        _ => flip(&mut headers[last].1),
    }
    // The same access key, signed headers and signature bytes (spaces
    // around a comma may differ).
    let authorization_unchanged = auth::parse_authorization(&headers[last].1).ok()
        == auth::parse_authorization(authorization.as_bytes()).ok();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let canonical_after = canonical(&method, &path, &query, &headers, &body, &names);
    let result = check(&method, &path, &query, &headers, &body, &credentials);
    if result.is_ok() {
        assert!(
            authorization_unchanged && canonical_after.as_ref() == Some(&canonical_before),
            "accepted a changed request whose canonical form or signature differs"
        );
    }
});
