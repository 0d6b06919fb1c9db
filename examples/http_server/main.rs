//! `http_server`: the real endpoint, `GET /v1/{project_id}/images/group`, on
//! top of the library (axum, hyper and tokio).
//!
//! ```text
//! http_server --data-dir DIR [--addr 127.0.0.1:8080] [--credentials FILE]
//!             [--token PROJECT:TOKEN ...] [--header-timeout SECS]
//!             [--body-timeout SECS] [--max-connections N] [--no-watch]
//!             [--no-auth]
//! ```
//!
//! * `--data-dir DIR`: one records file per project, `DIR/{project_id}.json`,
//!   in any of the record formats (JSON array, saved `GET /v1/{project_id}/images`
//!   page, NDJSON). A file that is not valid records, or whose name is not a
//!   project id, stops the server from starting (exit 1, the file named on
//!   stderr). Other files are ignored. Changes are picked up while serving
//!   (see `reload.rs`).
//! * `--addr`: where to listen; port 0 picks a free port. `listening on ADDR`
//!   is the first line on stdout (with the real port), printed once
//!   connections are accepted.
//! * `--credentials FILE`: access keys (for requests the official SDKs sign)
//!   and tokens, each with the projects it may read (see `credentials.rs` for
//!   the format). A malformed file stops the server (exit 1), naming the file
//!   and the entry.
//! * `--token PROJECT:TOKEN`: a token that may read `PROJECT`; repeatable.
//!   For quick local use only: any user of the machine can read a command
//!   line, so real tokens belong in the credentials file.
//! * `--no-auth`: serve every project to anyone, asking for nothing. The
//!   server refuses to start with none of `--credentials`, `--token` and
//!   `--no-auth`, so an open server is always a choice someone wrote down.
//! * `--header-timeout SECS` (10), `--body-timeout SECS` (10),
//!   `--max-connections N` (the descriptor limit less 64): see `serve.rs`.
//! * `--no-watch`: reload the data directory on SIGHUP only, not on every
//!   change (for file systems without change events).
//!
//! SIGINT and SIGTERM stop accepting connections, let the requests in flight
//! finish, and exit 0. SIGHUP reloads the data directory. `--help` prints the
//! usage and exits 0; a usage error prints it on stderr and exits 2.
//!
//! # Answers
//!
//! Every error has a JSON body with `error_code` and `error_msg`. The checks
//! run in this order, so a caller without valid credentials learns nothing
//! about which projects exist:
//!
//! | status | `error_code` | when |
//! |---|---|---|
//! | 413 | `APIG.0201` | a request body over 64 KiB |
//! | 408 | `APIG.0201` | a request body that takes longer than `--body-timeout` to arrive |
//! | 401 | `APIG.0301` | credentials are configured, and the request has no valid signature or token: no `Authorization` and no `X-Auth-Token`; two `Authorization`, two `X-Auth-Token` or two `X-Sdk-Date` headers, or both schemes at once; a malformed `Authorization`; an unknown access key or token; a signature that does not match; an `X-Sdk-Date` more than 15 minutes from the server's clock (the message says which) |
//! | 400 | `ModelArts.0104` | the project id is not 1 to 64 ASCII letters, digits and hyphens |
//! | 403 | `APIG.0302` | the access key or token may not read this project |
//! | 404 | `APIG.0101` | no records file for the project, or a path that names no API |
//! | 405 | `APIG.0101` | a method other than GET (or HEAD) on the endpoint; `Allow: GET, HEAD` |
//! | 400 | `ModelArts.0104` / `ModelArts.6303` | the query breaks a rule ([`QueryError`](image_groups::QueryError)) |
//! | 200 | | the page |
//!
//! `APIG.*` are the codes Huawei Cloud's API gateway answers with: `0101` for
//! an unknown API, `0201` for a request it cannot take, `0301` for
//! authentication ("Incorrect IAM authentication information") and `0302`
//! for authorization ("The IAM user is not authorized to access the API").
//! The signature check is `auth.rs`'s. The project id is checked after
//! percent-decoding and is only ever used as a key into the map of loaded
//! catalogs, never as a file path, so no dot-segment or percent-encoding
//! trick reaches another project's data: `..`, `%2e%2e` or `a%2Fb` are
//! malformed ids (400), and `/v1/a/../b/images/group` names no API (404).
//!
//! Answers are gzip-compressed when the request's `Accept-Encoding` allows
//! it: the SDKs ask for it on every request, and a page's groups repeat the
//! same keys and similar names, which gzip shrinks several times over (the
//! test requires more than four times for a 200-group page). HEAD answers
//! carry the headers of the GET answer and no body; error answers are
//! compressed like pages and keep their status.
//!
//! # Logs
//!
//! One line per request on stderr (tracing): method, path, project id,
//! status and latency; refusals say why. Never a header value, so never a
//! token, a signature or a key. `RUST_LOG` sets what is logged (`info` when
//! unset; `RUST_LOG=warn` keeps only problems, such as a records file that
//! failed to reload).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[path = "../support/flags.rs"]
mod flags;

mod api;
mod auth;
mod credentials;
mod reload;
mod serve;

use arc_swap::ArcSwap;
use flags::Arg;

const USAGE: &str = "usage: http_server --data-dir DIR [--addr 127.0.0.1:8080] \
[--credentials FILE] [--token PROJECT:TOKEN ...] [--header-timeout SECS] \
[--body-timeout SECS] [--max-connections N] [--no-watch] [--no-auth]";

/// The default of `--header-timeout` and `--body-timeout`: long enough for
/// any real client on a slow link, short enough that connections which make
/// no progress free their slot quickly.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest timeout accepted, in seconds: past an hour a timeout no
/// longer protects anything.
const MAX_TIMEOUT_SECS: u64 = 3600;

/// The most connections the default cap allows even with an unlimited
/// descriptor limit.
const MAX_DEFAULT_CONNECTIONS: u64 = 1 << 20;

/// ModelArts project ids: 1 to 64 ASCII letters, digits and hyphens.
pub(crate) fn is_project_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// The command line, checked.
struct Args {
    /// `--data-dir`: the records files.
    data_dir: PathBuf,
    /// `--addr`: where to listen.
    addr: SocketAddr,
    /// `--credentials`: the keys and tokens file.
    credentials_file: Option<PathBuf>,
    /// `--token` pairs: token, project.
    tokens: Vec<(String, String)>,
    /// `--header-timeout`.
    header_timeout: Duration,
    /// `--body-timeout`.
    body_timeout: Duration,
    /// `--max-connections`; `None` for the descriptor limit's default.
    max_connections: Option<usize>,
    /// False with `--no-watch`.
    watch: bool,
    /// `--no-auth`: no credentials asked for.
    no_auth: bool,
}

/// The flags (usage errors as messages; `Err("")` for `--help`).
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        data_dir: PathBuf::new(),
        addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
        credentials_file: None,
        tokens: Vec::new(),
        header_timeout: DEFAULT_TIMEOUT,
        body_timeout: DEFAULT_TIMEOUT,
        max_connections: None,
        watch: true,
        no_auth: false,
    };
    let mut data_dir = None;
    while let Some(arg) = args.next().map(Arg::new) {
        let mut value = || arg.value(&mut args);
        match arg.flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--data-dir" if data_dir.is_some() => return Err("--data-dir is given twice".into()),
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--addr" => {
                let text = value()?;
                parsed.addr = text.parse().map_err(|_| {
                    format!("--addr {text:?} is not an address like 127.0.0.1:8080")
                })?;
            }
            "--credentials" if parsed.credentials_file.is_some() => {
                return Err("--credentials is given twice".into())
            }
            "--credentials" => parsed.credentials_file = Some(PathBuf::from(value()?)),
            "--no-auth" => parsed.no_auth = true,
            "--token" => {
                let text = value()?;
                let (project, token) = text
                    .split_once(':')
                    .filter(|(project, token)| is_project_id(project) && !token.is_empty())
                    .ok_or_else(|| {
                        // The token itself is not repeated in the message.
                        "--token is not PROJECT:TOKEN with a valid project id".to_string()
                    })?;
                parsed.tokens.push((token.to_string(), project.to_string()));
            }
            "--header-timeout" => parsed.header_timeout = seconds(&arg.flag, &value()?)?,
            "--body-timeout" => parsed.body_timeout = seconds(&arg.flag, &value()?)?,
            "--max-connections" => {
                let text = value()?;
                let n = text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_DEFAULT_CONNECTIONS as usize).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "--max-connections {text:?} is not a number from 1 to {MAX_DEFAULT_CONNECTIONS}"
                        )
                    })?;
                parsed.max_connections = Some(n);
            }
            "--no-watch" => parsed.watch = false,
            _ => return Err(format!("unknown argument {:?}", arg.text)),
        }
    }
    parsed.data_dir = data_dir.ok_or("--data-dir is required")?;
    let credentials = parsed.credentials_file.is_some() || !parsed.tokens.is_empty();
    match (credentials, parsed.no_auth) {
        (false, false) => Err("give --credentials FILE (or --token PROJECT:TOKEN), \
             or --no-auth to serve every project to anyone"
            .into()),
        (true, true) => Err("--no-auth goes without --credentials and --token".into()),
        _ => Ok(parsed),
    }
}

/// A timeout flag's value: whole seconds, 1 to an hour.
fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .ok()
        .filter(|secs| (1..=MAX_TIMEOUT_SECS).contains(secs))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{flag} {text:?} is not whole seconds from 1 to {MAX_TIMEOUT_SECS}"))
}

/// The credentials file and the `--token` flags together.
fn load_credentials(args: &Args) -> Result<auth::Credentials, String> {
    let mut credentials = match &args.credentials_file {
        Some(path) => credentials::load(path)?,
        None => auth::Credentials::new(),
    };
    for (token, project) in &args.tokens {
        if credentials
            .add_token(token.as_bytes(), [project.clone()])
            .is_err()
        {
            return Err(format!(
                "--token {project}:...: the token is given more than once"
            ));
        }
    }
    Ok(credentials)
}

/// Logs to stderr, filtered by `RUST_LOG` (`info` when unset).
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// The connection cap: `--max-connections`, or the descriptor limit (raised
/// from soft to hard) less what the server keeps for itself.
fn max_connections(flag: Option<usize>) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(e) => {
            tracing::warn!("cannot read or raise the descriptor limit: {e}");
            None
        }
    };
    let room = limit.map(|limit| limit.saturating_sub(serve::RESERVED_DESCRIPTORS));
    match flag {
        Some(n) => {
            if room.is_some_and(|room| (n as u64) > room) {
                tracing::warn!(
                    max_connections = n,
                    descriptor_limit = limit,
                    "--max-connections is above the descriptor limit: accepts may fail (and are retried)"
                );
            }
            n
        }
        None => room.unwrap_or(1024).clamp(1, MAX_DEFAULT_CONNECTIONS) as usize,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(msg) if msg.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("http_server: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let credentials = match load_credentials(&args) {
        Ok(credentials) => credentials,
        Err(msg) => {
            eprintln!("http_server: {msg}");
            return ExitCode::from(1);
        }
    };
    let snapshot = match reload::load_all(&args.data_dir) {
        Ok(snapshot) => snapshot,
        Err(msg) => {
            eprintln!("http_server: {msg}");
            return ExitCode::from(1);
        }
    };
    let limits = serve::Limits {
        header_timeout: args.header_timeout,
        max_connections: max_connections(args.max_connections),
    };
    let shutdown = match serve::shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            eprintln!("http_server: cannot install the SIGINT and SIGTERM handlers: {e}");
            return ExitCode::from(1);
        }
    };
    tracing::info!(
        projects = snapshot.len(),
        access_control = !credentials.is_empty(),
        max_connections = limits.max_connections,
        header_timeout = ?limits.header_timeout,
        body_timeout = ?args.body_timeout,
        "loaded"
    );
    let store: reload::Store = Arc::new(ArcSwap::from_pointee(snapshot));
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("http_server: cannot listen on {}: {e}", args.addr);
            return ExitCode::from(1);
        }
    };
    let _reloader = reload::start(args.data_dir.clone(), store.clone(), args.watch);
    let app = api::router(
        Arc::new(api::AppState { store, credentials }),
        args.body_timeout,
    );
    let addr = listener.local_addr().unwrap_or(args.addr);
    // The listener is bound and listening: connections made from now on are
    // accepted (queued by the kernel until the accept loop takes them).
    println!("listening on {addr}");
    serve::serve(listener, app, limits, shutdown).await;
    ExitCode::SUCCESS
}
