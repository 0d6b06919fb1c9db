//! The HTTP example end to end: the server binary started on `127.0.0.1:0`,
//! called with a real HTTP client (reqwest) and, for paths a client would
//! normalize or connections a client would not make, with raw HTTP/1.1 over
//! a TCP socket.
//!
//! The test builds the binary it runs (`cargo build --example http_server`,
//! once per run, in the test's own profile), so `cargo test --test
//! http_server` passes alone on a fresh clone.
//!
//! * this file: the helpers, the status codes with `--token`, the flags;
//! * `signed`: requests signed like the official SDKs sign them, the
//!   credentials file, compression, HEAD, and what the logs never show;
//! * `reload`: data that changes while serving, under load;
//! * `hostile`: idle and slow connections, the connection cap, SIGTERM;
//! * `one_answer`: one records file gives the same pages through the
//!   program, the server and a `Catalog`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use image_groups::{group_images, parse_records, GroupQuery, ImageVersion};
use serde_json::Value;

mod hostile;
mod one_answer;
mod reload;
mod signed;

/// The example's signature code itself, to sign requests as the SDKs do.
#[allow(dead_code)]
#[path = "../../examples/http_server/auth.rs"]
mod signer;

/// The example binary, built by this test (once) with the profile the test
/// itself was built with, rather than assumed built by an earlier command.
fn binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/{profile}/deps/http_server-HASH: the profile directory
            // is two levels up, and its name is the profile.
            let mut dir = std::env::current_exe().unwrap();
            dir.pop();
            if dir.ends_with("deps") {
                dir.pop();
            }
            let profile = dir.file_name().unwrap().to_str().unwrap().to_string();
            let mut command = Command::new(env!("CARGO"));
            command
                .args(["build", "--quiet", "--example", "http_server"])
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
                .arg("--target-dir")
                .arg(dir.parent().unwrap());
            if profile != "debug" {
                command.args([
                    "--profile",
                    if profile == "release" {
                        "release"
                    } else {
                        &profile
                    },
                ]);
            }
            let status = command.status().unwrap();
            assert!(
                status.success(),
                "cargo build --example http_server: {status}"
            );
            let path = dir
                .join("examples")
                .join(format!("http_server{}", std::env::consts::EXE_SUFFIX));
            assert!(path.exists(), "{} was not built", path.display());
            path
        })
        .clone()
}

/// A running server, killed when dropped (a failing test leaves none behind).
struct Server {
    child: Child,
    addr: String,
    /// Everything the server wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// `--data-dir DIR --addr 127.0.0.1:0` and `--token` for each of `tokens`.
    fn start(data_dir: &Path, tokens: &[&str]) -> Server {
        let mut args = Vec::new();
        for token in tokens {
            args.extend(["--token".to_string(), token.to_string()]);
        }
        Server::with_args(data_dir, &args, &[])
    }

    /// The server with `args` after `--data-dir` and `--addr`, and `env`
    /// (`RUST_LOG` is `warn` unless given: quiet, but problems show).
    fn with_args(data_dir: &Path, args: &[String], env: &[(&str, &str)]) -> Server {
        Server::spawn(Command::new(binary()), data_dir, args, env)
    }

    /// Like [`Server::with_args`], with the binary run by `command` (a
    /// `prlimit` in front of it, say).
    fn spawn(
        mut command: Command,
        data_dir: &Path,
        args: &[String],
        env: &[(&str, &str)],
    ) -> Server {
        if command.get_program() != binary().as_os_str() {
            command.arg(binary());
        }
        command
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn");
        // A server without credentials must be asked to be open.
        if !args
            .iter()
            .any(|a| ["--token", "--credentials", "--no-auth"].contains(&a.as_str()))
        {
            command.arg("--no-auth");
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Drained all along, so the server never blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = match line.strip_prefix("listening on ") {
            Some(addr) => addr.trim().to_string(),
            None => {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "unexpected first line {line:?}; stderr: {}",
                    stderr.lock().unwrap()
                );
            }
        };
        Server {
            child,
            addr,
            stderr,
        }
    }

    /// The URL of `path` on this server.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the server wrote on stderr so far.
    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (`INT`, `TERM`, `HUP`) to the server.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `limit` for the server to exit; its status.
    fn wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit status.
    fn interrupt(mut self) -> std::process::ExitStatus {
        self.signal("INT");
        self.wait(Duration::from_secs(10))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A few hundred versions over several groups, workspaces, types and
/// service types, with distinct ids (the catalog keeps one version per id).
fn generated_records(seed: u64) -> Vec<ImageVersion> {
    let mut state = seed;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let names = [
        "pytorch",
        "PyTorch-cuda",
        "tensorflow",
        "mindspore",
        "torch_1_8",
    ];
    let namespaces = ["ml", "vision", "op_svc"];
    let workspaces = ["0", "0", "ws-1"];
    let types = ["BUILD_IN", "DEDICATED"];
    let services = ["DEV", "TRAIN", "INFERENCE", "UNKNOWN"];
    let text: Vec<String> = (0..400)
        .map(|i| {
            let create = 1_600_000_000_000 + next(1_000_000) as i64;
            format!(
                r#"{{"id":"v-{seed}-{i}","name":"{}","namespace":"{}","workspace_id":"{}","type":"{}","service_type":"{}","create_at":{create},"update_at":{}}}"#,
                names[next(5) as usize],
                namespaces[next(3) as usize],
                workspaces[next(3) as usize],
                types[next(2) as usize],
                services[next(4) as usize],
                create + next(1_000_000) as i64,
            )
        })
        .collect();
    parse_records(&format!("[{}]", text.join(","))).unwrap()
}

/// A fresh, empty directory for one test (its name keeps parallel tests
/// and runs apart).
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("image-groups-http-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes project `alpha` as a JSON array and `beta` as NDJSON; returns the
/// directory and the records of each.
fn data_dir(name: &str) -> (PathBuf, Vec<ImageVersion>, Vec<ImageVersion>) {
    let dir = temp_dir(name);
    let alpha = generated_records(1);
    let beta = generated_records(2);
    std::fs::write(
        dir.join("alpha.json"),
        serde_json::to_string(&alpha).unwrap(),
    )
    .unwrap();
    let ndjson: Vec<String> = beta
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect();
    std::fs::write(dir.join("beta.json"), ndjson.join("\n")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a records file").unwrap();
    (dir, alpha, beta)
}

/// The queries used against the server, valid and invalid.
const QUERIES: &[&str] = &[
    "",
    "name=torch",
    "name=torch&type=DEDICATED&limit=3",
    "name=pytorch&name_fuzzy_match=false",
    "namespace=ml&sort_key=version_count&sort_dir=ASC",
    "sort_key=name&sort_dir=ASC&offset=2&limit=2",
    "workspace_id=ws-1&service_type=TRAIN",
    "sort_key=create_at,name&limit=1",
    "offset=1000",
    "limit=0",
    "sort_key=arch",
    "colour=blue",
    "name=a%20b",
    "type=dedicated",
];

/// What the server must answer for `query` over `records`: the status and
/// the JSON body, computed with the plain function call.
fn expected(records: &[ImageVersion], query: &str) -> (u16, Value) {
    match GroupQuery::from_query_string(query) {
        Ok(query) => (
            200,
            serde_json::to_value(group_images(records, &query)).unwrap(),
        ),
        Err(err) => (err.http_status(), serde_json::to_value(&err).unwrap()),
    }
}

/// The endpoint's path for `project`, with `query` if any.
fn group_path(project: &str, query: &str) -> String {
    if query.is_empty() {
        format!("/v1/{project}/images/group")
    } else {
        format!("/v1/{project}/images/group?{query}")
    }
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.header("X-Auth-Token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url}: body {body:?} is not JSON: {e}"));
    (status, headers, json)
}

/// One raw HTTP/1.1 request, the path sent exactly as written.
fn raw_get(addr: &str, path: &str, token: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap())
}

/// An error body: this `error_code` and a message.
fn assert_error_body(body: &Value, code: &str) {
    assert_eq!(body["error_code"], code, "{body}");
    assert!(
        body["error_msg"]
            .as_str()
            .is_some_and(|msg| !msg.is_empty()),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_code_with_tokens() {
    let (dir, alpha, beta) = data_dir("tokens");
    let server = Server::start(&dir, &["alpha:tok-a", "beta:tok-b"]);
    let client = reqwest::Client::new();

    // 200 and query 400s: the same bodies as the plain function call, for
    // both record formats.
    for (project, token, records) in [("alpha", "tok-a", &alpha), ("beta", "tok-b", &beta)] {
        for query in QUERIES {
            let url = server.url(&group_path(project, query));
            let (status, headers, body) = get(&client, &url, Some(token)).await;
            assert_eq!((status, body), expected(records, query), "{url}");
            assert_eq!(headers["content-type"], "application/json");
        }
    }

    // 401: no token, an unknown token; before anything else is looked at.
    for path in [
        "/v1/alpha/images/group",
        "/v1/nope/images/group",
        "/v1/a_b/images/group",
    ] {
        let (status, _, body) = get(&client, &server.url(path), None).await;
        assert_eq!(status, 401, "{path}");
        assert_error_body(&body, "APIG.0301");
        let (status, _, body) = get(&client, &server.url(path), Some("tok-x")).await;
        assert_eq!(status, 401, "{path}");
        assert_error_body(&body, "APIG.0301");
    }

    // 403: a token of another project, whether that project exists or not.
    for project in ["beta", "gamma"] {
        let url = server.url(&group_path(project, ""));
        let (status, _, body) = get(&client, &url, Some("tok-a")).await;
        assert_eq!(status, 403, "{url}");
        assert_error_body(&body, "APIG.0302");
    }

    // 400: malformed project ids, after percent-decoding.
    let long = "a".repeat(65);
    for project in [
        "a_b", "%2e%2e", "%2E", "a%2Fb", "a%2fb", "%FF", "a%00", "a%20b", &long, "al.pha",
    ] {
        // Raw: a client's URL parser would turn `%2e%2e` into a dot segment.
        let path = group_path(project, "");
        let (status, body) = raw_get(&server.addr, &path, "tok-a");
        assert_eq!(status, 400, "{path}");
        assert_error_body(&body, "ModelArts.0104");
        assert!(body["error_msg"].as_str().unwrap().contains("project_id"));
    }
    // 64 characters is a well-formed id (not loaded here, and not alpha's).
    let url = server.url(&group_path(&"a".repeat(64), ""));
    assert_eq!(get(&client, &url, Some("tok-a")).await.0, 403);

    // Dot segments sent as written never reach another project's data.
    for path in [
        "/v1/alpha/../beta/images/group",
        "/v1/beta/images/../../alpha/images/group",
        "/v1/./beta/images/group",
        "/v1/beta/./images/group",
        "/v1/beta/images/group/",
        "//v1/beta/images/group",
    ] {
        let (status, body) = raw_get(&server.addr, path, "tok-a");
        assert_eq!(status, 404, "{path}");
        assert_error_body(&body, "APIG.0101");
    }
    let (status, _) = raw_get(&server.addr, "/v1/..%2Fbeta/images/group", "tok-a");
    assert_eq!(status, 400);

    // 405 on the endpoint, with a JSON body and the Allow header.
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let response = client
            .request(method.clone(), server.url("/v1/alpha/images/group"))
            .header("X-Auth-Token", "tok-a")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_error_body(&body, "APIG.0101");
    }

    // 404: paths that name no API.
    for path in [
        "/",
        "/v1/alpha/images",
        "/v1/alpha/images/groups",
        "/v2/alpha/images/group",
    ] {
        let (status, _, body) = get(&client, &server.url(path), Some("tok-a")).await;
        assert_eq!(status, 404, "{path}");
        assert_error_body(&body, "APIG.0101");
    }

    let status = server.interrupt();
    assert!(status.success(), "exit after SIGINT: {status}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tokens_no_header_is_needed_and_unknown_projects_are_404() {
    let (dir, alpha, _) = data_dir("open");
    let server = Server::start(&dir, &[]);
    let client = reqwest::Client::new();
    let url = server.url(&group_path("alpha", "name=torch"));
    let (status, _, body) = get(&client, &url, None).await;
    assert_eq!((status, body), expected(&alpha, "name=torch"));
    // Any token is ignored.
    assert_eq!(get(&client, &url, Some("whatever")).await.0, 200);
    for project in ["gamma", "notes", "alpha-2"] {
        let url = server.url(&group_path(project, ""));
        let (status, _, body) = get(&client, &url, None).await;
        assert_eq!(status, 404, "{url}");
        assert_error_body(&body, "APIG.0101");
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_requests_are_all_answered_correctly() {
    let (dir, alpha, beta) = data_dir("load");
    let server = Server::start(&dir, &["alpha:tok-a", "beta:tok-b"]);
    let client = reqwest::Client::new();
    let cases: Vec<(String, Option<&str>, (u16, Value))> = QUERIES
        .iter()
        .flat_map(|query| {
            [
                (
                    server.url(&group_path("alpha", query)),
                    Some("tok-a"),
                    expected(&alpha, query),
                ),
                (
                    server.url(&group_path("beta", query)),
                    Some("tok-b"),
                    expected(&beta, query),
                ),
            ]
        })
        .collect();
    let cases = Arc::new(cases);
    // 4000 requests, 500 of them in flight at once, on a pool of connections.
    let limit = Arc::new(tokio::sync::Semaphore::new(500));
    let mut tasks = Vec::new();
    for i in 0..4000usize {
        let (client, cases, limit) = (client.clone(), cases.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let (url, token, want) = &cases[i * 7 % cases.len()];
            let (status, _, body) = get(&client, url, *token).await;
            assert_eq!(&(status, body), want, "{url}");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    drop(server);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_records_file_stops_the_server_from_starting() {
    for (file, contents, named) in [
        ("alpha.json", r#"[{"id": "1"}]"#, "alpha.json"),
        ("a_b.json", "[]", "a_b.json"),
        ("alpha.json", " \n", "is empty"),
    ] {
        let dir = temp_dir(&format!("bad-{file}"));
        std::fs::write(dir.join(file), contents).unwrap();
        let output = Command::new(binary())
            .arg("--data-dir")
            .arg(&dir)
            .args(["--addr", "127.0.0.1:0", "--no-auth"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{file}");
        assert!(output.stdout.is_empty(), "{file}: nothing on stdout");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(named), "{file}: {stderr}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn help_prints_the_usage_and_exits_0() {
    for flag in ["-h", "--help"] {
        let output = Command::new(binary()).arg(flag).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert!(String::from_utf8(output.stdout)
            .unwrap()
            .starts_with("usage: http_server"));
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--data-dir"][..],
        &["--data-dir", ".", "--token", "alpha"][..],
        &["--data-dir", ".", "--token", "a_b:t"][..],
        &["--data-dir", ".", "--addr", "localhost"][..],
        &["--data-dir", ".", "--bogus"][..],
        &["--data-dir=.", "--addr"][..],
        &["--data-dir", ".", "--max-connections", "0"][..],
        &["--data-dir", ".", "--max-connections", "many"][..],
        &["--data-dir", ".", "--header-timeout", "0"][..],
        &["--data-dir", ".", "--header-timeout", "1.5"][..],
        &["--data-dir", ".", "--body-timeout", "99999"][..],
        &["--data-dir", ".", "--credentials"][..],
        &["--data-dir", "."][..],
        &["--data-dir", ".", "--data-dir", "."][..],
        &["--data-dir", ".", "--no-auth", "--token", "alpha:t"][..],
    ] {
        let output = Command::new(binary()).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8(output.stderr).unwrap().contains("usage"));
    }
}
