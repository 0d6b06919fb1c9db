//! Requests signed the way the official SDKs sign them (SDK-HMAC-SHA256),
//! tokens from the credentials file, gzip, HEAD, and the logs.

use std::io::Read as _;

use super::*;
use signer::SecretKey;

const AK_ALPHA: &str = "AKALPHA0000000000001";
const SK_ALPHA: &str = "sk-alpha-9f3e1c7a5b";
const AK_BOTH: &str = "AKBOTH00000000000002";
const SK_BOTH: &str = "sk-both-2d8b6e4f0a";
const FILE_TOKEN: &str = "file-token-alpha-77c1";

/// A credentials file (outside the data directory, readable by its owner
/// only): one key for alpha, one for alpha, beta and gamma (which has no
/// records file), a token for alpha.
fn write_credentials(name: &str) -> PathBuf {
    let path = temp_dir(&format!("{name}-credentials")).join("credentials.json");
    let text = serde_json::json!({
        "access_keys": [
            {"access_key": AK_ALPHA, "secret_key": SK_ALPHA, "projects": ["alpha"]},
            {"access_key": AK_BOTH, "secret_key": SK_BOTH, "projects": ["alpha", "beta", "gamma"]},
        ],
        "tokens": [{"token": FILE_TOKEN, "projects": ["alpha"]}],
    });
    std::fs::write(&path, text.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// The clock, as the signer reads it.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// What the SDK puts on a request, signed with `(ak, sk)` at `date` over the
/// path and query `signed_target`: the headers to send.
fn sdk_headers(
    server: &Server,
    method: &str,
    signed_target: &str,
    (ak, sk): (&str, &str),
    date: i64,
) -> Vec<(String, String)> {
    let (path, query) = signed_target.split_once('?').unwrap_or((signed_target, ""));
    let project = path.split('/').nth(2).unwrap_or("");
    let date = signer::format_sdk_date(date);
    let headers = [
        ("host", server.addr.as_str()),
        ("x-project-id", project),
        ("x-sdk-date", date.as_str()),
        ("user-agent", "huaweicloud-usdk-python/3.0"),
    ];
    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_bytes()))
        .collect();
    let request = signer::Request {
        method,
        path,
        query,
        headers: &pairs,
        body: b"",
    };
    let authorization = signer::sign(
        &request,
        ak,
        &SecretKey::new(sk),
        &["host", "user-agent", "x-project-id", "x-sdk-date"],
        &date,
    )
    .unwrap();
    let mut out: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    out.push(("authorization".into(), authorization));
    out
}

/// Sends `target` with `headers`; the status, headers and JSON body.
async fn send(
    client: &reqwest::Client,
    server: &Server,
    target: &str,
    headers: &[(String, String)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = client.get(server.url(target));
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{target}: body {body:?} is not JSON: {e}"));
    (status, headers, json)
}

/// A refusal: the status, the code, and a message that says why.
fn assert_refused(
    answer: &(u16, reqwest::header::HeaderMap, Value),
    status: u16,
    code: &str,
    says: &str,
) {
    let (got, _, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_error_body(body, code);
    let msg = body["error_msg"].as_str().unwrap();
    assert!(msg.contains(says), "{msg:?} should say {says:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_signed_requests_are_answered_and_every_bad_one_refused() {
    let (dir, alpha, beta) = data_dir("signed");
    let credentials = write_credentials("signed");
    let server = Server::with_args(
        &dir,
        &[
            "--credentials".into(),
            credentials.display().to_string(),
            "--token".into(),
            "beta:flag-token-beta".into(),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let alpha_key = (AK_ALPHA, SK_ALPHA);
    let both_key = (AK_BOTH, SK_BOTH);

    // Signed requests get the same pages as the function call.
    for (project, key, records) in [
        ("alpha", alpha_key, &alpha),
        ("alpha", both_key, &alpha),
        ("beta", both_key, &beta),
    ] {
        for query in QUERIES {
            let target = group_path(project, query);
            let headers = sdk_headers(&server, "GET", &target, key, now());
            let (status, _, body) = send(&client, &server, &target, &headers).await;
            assert_eq!((status, body), expected(records, query), "{target}");
        }
    }
    // The clock may be 15 minutes off either way, not more.
    for offset in [-14 * 60, 14 * 60] {
        let target = group_path("alpha", "");
        let headers = sdk_headers(&server, "GET", &target, alpha_key, now() + offset);
        assert_eq!(
            send(&client, &server, &target, &headers).await.0,
            200,
            "{offset}"
        );
    }
    for offset in [-16 * 60, 16 * 60, -86_400] {
        let target = group_path("alpha", "");
        let headers = sdk_headers(&server, "GET", &target, alpha_key, now() + offset);
        let answer = send(&client, &server, &target, &headers).await;
        assert_refused(&answer, 401, "APIG.0301", "15 minutes");
    }

    let target = group_path("alpha", "name=torch");
    // A wrong secret key, an unknown access key.
    let headers = sdk_headers(&server, "GET", &target, (AK_ALPHA, "sk-wrong"), now());
    let answer = send(&client, &server, &target, &headers).await;
    assert_refused(&answer, 401, "APIG.0301", "signature");
    let headers = sdk_headers(&server, "GET", &target, ("AKUNKNOWN", SK_ALPHA), now());
    let answer = send(&client, &server, &target, &headers).await;
    // The same answer as a wrong signature: access keys are not enumerable.
    assert_refused(&answer, 401, "APIG.0301", "verify aksk signature fail");

    // Changed after signing: the query, the path, a signed header.
    let headers = sdk_headers(&server, "GET", &target, alpha_key, now());
    for changed in [
        group_path("alpha", "name=torchx"),
        group_path("alpha", "name=torch&limit=1"),
        group_path("alpha", ""),
    ] {
        let answer = send(&client, &server, &changed, &headers).await;
        assert_refused(&answer, 401, "APIG.0301", "signature");
    }
    let both = sdk_headers(&server, "GET", &group_path("alpha", ""), both_key, now());
    let answer = send(&client, &server, &group_path("beta", ""), &both).await;
    assert_refused(&answer, 401, "APIG.0301", "signature");
    let mut changed = headers.clone();
    changed[1].1 = "beta".into();
    let answer = send(&client, &server, &target, &changed).await;
    assert_refused(&answer, 401, "APIG.0301", "signature");

    // Another project's key: 403, whether the project exists or not; only a
    // key for the project learns that it does not exist.
    for project in ["beta", "gamma"] {
        let target = group_path(project, "");
        let headers = sdk_headers(&server, "GET", &target, alpha_key, now());
        let answer = send(&client, &server, &target, &headers).await;
        assert_refused(&answer, 403, "APIG.0302", "access key");
    }
    let target = group_path("gamma", "");
    let headers = sdk_headers(&server, "GET", &target, both_key, now());
    assert_refused(
        &send(&client, &server, &target, &headers).await,
        404,
        "APIG.0101",
        "gamma",
    );

    // Two of a header that must be single; both schemes at once.
    let target = group_path("alpha", "");
    let mut twice = sdk_headers(&server, "GET", &target, alpha_key, now());
    twice.push(twice.last().unwrap().clone());
    let answer = send(&client, &server, &target, &twice).await;
    assert_refused(
        &answer,
        401,
        "APIG.0301",
        "Authorization header is given more than once",
    );
    let tokens = [
        ("X-Auth-Token".to_string(), FILE_TOKEN.to_string()),
        ("X-Auth-Token".to_string(), FILE_TOKEN.to_string()),
    ];
    let answer = send(&client, &server, &target, &tokens).await;
    assert_refused(
        &answer,
        401,
        "APIG.0301",
        "X-Auth-Token header is given more than once",
    );
    let mut mixed = sdk_headers(&server, "GET", &target, alpha_key, now());
    mixed.push(tokens[0].clone());
    let answer = send(&client, &server, &target, &mixed).await;
    assert_refused(&answer, 401, "APIG.0301", "both");

    // Tokens keep working, from the file and from --token, and are scoped.
    let token = |t: &str| vec![("X-Auth-Token".to_string(), t.to_string())];
    let (status, _, body) = send(
        &client,
        &server,
        &group_path("alpha", "name=torch"),
        &token(FILE_TOKEN),
    )
    .await;
    assert_eq!((status, body), expected(&alpha, "name=torch"));
    assert_eq!(
        send(
            &client,
            &server,
            &group_path("beta", ""),
            &token("flag-token-beta")
        )
        .await
        .0,
        200
    );
    let answer = send(
        &client,
        &server,
        &group_path("beta", ""),
        &token(FILE_TOKEN),
    )
    .await;
    assert_refused(&answer, 403, "APIG.0302", "token");

    // Authentication before anything else: no credentials, or bad ones, on
    // a malformed id or an unknown project is still 401.
    for target in [
        group_path("a_b", ""),
        group_path("gamma", ""),
        group_path("alpha", "limit=0"),
    ] {
        let answer = send(&client, &server, &target, &[]).await;
        assert_refused(
            &answer,
            401,
            "APIG.0301",
            "no Authorization or X-Auth-Token",
        );
        let answer = send(&client, &server, &target, &token("nope")).await;
        assert_refused(&answer, 401, "APIG.0301", "unknown x-auth-token");
        let bearer = vec![("Authorization".to_string(), "Bearer x".to_string())];
        let answer = send(&client, &server, &target, &bearer).await;
        assert_refused(&answer, 401, "APIG.0301", "malformed Authorization");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(credentials.parent().unwrap()).unwrap();
}

#[test]
fn a_malformed_credentials_file_stops_the_server_naming_the_file_and_entry() {
    let dir = temp_dir("bad-credentials");
    std::fs::write(dir.join("alpha.json"), "[]").unwrap();
    for (contents, named) in [
        ("{", "not valid JSON"),
        ("{}", "open to anyone"),
        (
            r#"{"access_keys": [{"access_key": "AK1", "secret_key": "s3cr3t-x", "projects": ["alpha"]},
                {"access_key": "AK2", "secret_key": "s3cr3t-y", "projects": ["al/pha"]}]}"#,
            "access_keys[1] (access key AK2): projects[0]",
        ),
        (
            r#"{"tokens": [{"token": "s3cr3t-t", "projects": ["alpha"], "project": "beta"}]}"#,
            "tokens[0]: unknown field \"project\"",
        ),
    ] {
        let file = dir.join("creds.json");
        std::fs::write(&file, contents).unwrap();
        let output = Command::new(binary())
            .arg("--data-dir")
            .arg(&dir)
            .args(["--addr", "127.0.0.1:0", "--credentials"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{contents}");
        assert!(output.stdout.is_empty(), "{contents}: nothing on stdout");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("creds.json") && stderr.contains(named),
            "{contents}: {stderr}"
        );
        assert!(!stderr.contains("s3cr3t"), "{stderr}");
    }
    // A file that does not exist.
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(&dir)
        .args(["--addr", "127.0.0.1:0", "--credentials"])
        .arg(dir.join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("missing.json"));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Records of `n` groups (one version each) in workspace 0.
fn many_groups(n: usize) -> Vec<ImageVersion> {
    let text: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"id":"g{i}","name":"image-{i:04}","namespace":"ml","type":"DEDICATED","create_at":{},"update_at":{}}}"#,
                1_600_000_000_000i64 + i as i64,
                1_700_000_000_000i64 + i as i64
            )
        })
        .collect();
    parse_records(&format!("[{}]", text.join(","))).unwrap()
}

/// A raw request; the status line's code, the headers (lowercase names) and
/// the body bytes as sent (still compressed). `Connection: close` makes the
/// body end at the end of the stream.
fn raw(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let mut body = response[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    (status, headers, body)
}

/// The data of a chunked body.
fn dechunk(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).unwrap(), 16).unwrap();
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
}

/// The value of header `name` (lowercase) in a raw answer.
fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A gzip body, decompressed.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn answers_are_gzipped_when_accepted_and_head_and_errors_stay_correct() {
    let dir = temp_dir("gzip");
    let records = many_groups(250);
    std::fs::write(
        dir.join("alpha.json"),
        serde_json::to_string(&records).unwrap(),
    )
    .unwrap();
    let server = Server::start(&dir, &["alpha:tok-a"]);
    let token = ("X-Auth-Token", "tok-a");
    let gzip = ("Accept-Encoding", "gzip");

    // A 200-group page: gzip when accepted, plain otherwise; same JSON.
    let path = group_path("alpha", "limit=200");
    let want = expected(&records, "limit=200");
    let (status, headers, plain) = raw(&server.addr, "GET", &path, &[token]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(
        (200, serde_json::from_slice::<Value>(&plain).unwrap()),
        want
    );
    for accept in ["gzip", "gzip, deflate", "br;q=1.0, gzip;q=0.8, *;q=0.1"] {
        let (status, headers, zipped) = raw(
            &server.addr,
            "GET",
            &path,
            &[token, ("Accept-Encoding", accept)],
        );
        assert_eq!(status, 200, "{accept}");
        assert_eq!(
            header(&headers, "content-encoding"),
            Some("gzip"),
            "{accept}"
        );
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert!(header(&headers, "vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
        assert!(
            zipped.len() * 4 < plain.len(),
            "{} gzipped vs {} plain",
            zipped.len(),
            plain.len()
        );
        assert_eq!(
            (
                200,
                serde_json::from_slice::<Value>(&gunzip(&zipped)).unwrap()
            ),
            want
        );
    }
    for refused in ["identity", "gzip;q=0", "br"] {
        let (_, headers, body) = raw(
            &server.addr,
            "GET",
            &path,
            &[token, ("Accept-Encoding", refused)],
        );
        assert_eq!(header(&headers, "content-encoding"), None, "{refused}");
        assert_eq!(body, plain, "{refused}");
    }

    // Errors, gzipped or not, keep their status and JSON body.
    for (path, headers, status, code) in [
        (group_path("alpha", ""), vec![], 401, "APIG.0301"),
        (
            group_path("alpha", "limit=0"),
            vec![token],
            400,
            "ModelArts.0104",
        ),
        (
            group_path("alpha", "sort_key=arch"),
            vec![token],
            400,
            "ModelArts.6303",
        ),
        (group_path("gamma", ""), vec![token], 403, "APIG.0302"),
        (
            "/v1/alpha/images".to_string(),
            vec![token],
            404,
            "APIG.0101",
        ),
    ] {
        for zip in [false, true] {
            let mut sent = headers.clone();
            if zip {
                sent.push(gzip);
            }
            let (got, answer_headers, body) = raw(&server.addr, "GET", &path, &sent);
            assert_eq!(got, status, "{path}");
            let body = if header(&answer_headers, "content-encoding") == Some("gzip") {
                assert!(zip);
                gunzip(&body)
            } else {
                body
            };
            let body: Value = serde_json::from_slice(&body).unwrap();
            assert_error_body(&body, code);
        }
    }
    let (status, headers, body) = raw(&server.addr, "POST", &path, &[token, gzip]);
    assert_eq!(status, 405);
    assert_eq!(header(&headers, "allow"), Some("GET, HEAD"));
    let body = if header(&headers, "content-encoding") == Some("gzip") {
        gunzip(&body)
    } else {
        body
    };
    assert_error_body(&serde_json::from_slice(&body).unwrap(), "APIG.0101");

    // HEAD: the GET answer's status and headers, no body, gzip or not.
    for sent in [vec![token], vec![token, gzip]] {
        let (status, headers, body) = raw(&server.addr, "HEAD", &path, &sent);
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-type"), Some("application/json"));
        assert!(body.is_empty(), "HEAD sent a body of {} bytes", body.len());
        if sent.len() == 1 {
            assert_eq!(
                header(&headers, "content-length"),
                Some(plain.len().to_string().as_str())
            );
        }
    }
    for (path, sent, status) in [
        (group_path("alpha", ""), vec![gzip], 401),
        (group_path("alpha", "limit=0"), vec![token], 400),
        ("/nope".to_string(), vec![token, gzip], 404),
    ] {
        let (got, _, body) = raw(&server.addr, "HEAD", &path, &sent);
        assert_eq!(got, status, "{path}");
        assert!(body.is_empty(), "{path}");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_name_each_request_and_never_a_secret() {
    let (dir, _, _) = data_dir("logs");
    let credentials = write_credentials("logs");
    for level in ["debug", "trace"] {
        let server = Server::with_args(
            &dir,
            &["--credentials".into(), credentials.display().to_string()],
            &[("RUST_LOG", level)],
        );
        let client = reqwest::Client::new();
        let mut secrets = vec![
            SK_ALPHA.to_string(),
            SK_BOTH.to_string(),
            FILE_TOKEN.to_string(),
        ];
        let target = group_path("alpha", "name=torch");
        // A good signature, a bad one, a good token, an unknown one.
        let good = sdk_headers(&server, "GET", &target, (AK_ALPHA, SK_ALPHA), now());
        let bad = sdk_headers(
            &server,
            "GET",
            &target,
            (AK_BOTH, "sk-guessed-secret"),
            now(),
        );
        for headers in [&good, &bad] {
            let signature = headers
                .last()
                .unwrap()
                .1
                .rsplit('=')
                .next()
                .unwrap()
                .to_string();
            secrets.push(signature);
        }
        assert_eq!(send(&client, &server, &target, &good).await.0, 200);
        assert_eq!(send(&client, &server, &target, &bad).await.0, 401);
        let token = |t: &str| vec![("X-Auth-Token".to_string(), t.to_string())];
        assert_eq!(
            send(&client, &server, &target, &token(FILE_TOKEN)).await.0,
            200
        );
        assert_eq!(
            send(&client, &server, &target, &token("tok-attacker-guess"))
                .await
                .0,
            401
        );
        secrets.push("tok-attacker-guess".into());
        secrets.push("sk-guessed-secret".into());
        // The log lines are written as the answers go out; give the last
        // one a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while server.stderr().matches("status=").count() < 4 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let log = server.stderr();
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "RUST_LOG={level}: {secret:?} is in the log:\n{log}"
            );
        }
        // Each request: method, path, project id, status, latency.
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("finished processing request"))
            .collect();
        assert_eq!(lines.len(), 4, "RUST_LOG={level}:\n{log}");
        for line in &lines {
            for part in [
                "method=GET",
                "path=/v1/alpha/images/group",
                "latency=",
                "status=",
            ] {
                assert!(line.contains(part), "{part} not in {line}");
            }
        }
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("project_id=alpha"))
                .count(),
            2,
            "{log}"
        );
        assert_eq!(
            lines.iter().filter(|l| l.contains("status=401")).count(),
            2,
            "{log}"
        );
        drop(server);
    }
    // Quiet by default in tests: RUST_LOG=warn logs no request.
    let server = Server::start(&dir, &[]);
    let client = reqwest::Client::new();
    assert_eq!(
        get(&client, &server.url(&group_path("alpha", "")), None)
            .await
            .0,
        200
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.stderr(), "");
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(credentials.parent().unwrap()).unwrap();
}
