//! `http_server`: the real endpoint, `GET /v1/{project_id}/images/group`, on
//! top of the library (axum and tokio).
//!
//! ```text
//! http_server --data-dir DIR [--addr 127.0.0.1:8080] [--token PROJECT:TOKEN ...]
//! ```
//!
//! * `--data-dir DIR`: one records file per project, `DIR/{project_id}.json`,
//!   in any of the record formats (JSON array, saved `GET /v1/{project_id}/images`
//!   page, NDJSON). Each is loaded once into a [`Catalog`]; a file that is not
//!   valid records, or whose name is not a project id, stops the server from
//!   starting (exit 1, the file named on stderr). Other files are ignored.
//! * `--addr`: where to listen; port 0 picks a free port. `listening on ADDR`
//!   is printed (with the real port) once connections are accepted.
//! * `--token PROJECT:TOKEN`: a token that may read `PROJECT`; repeatable.
//!   Without any, no `X-Auth-Token` is asked for.
//!
//! Ctrl-C (SIGINT) stops accepting connections, lets the requests in flight
//! finish, and exits 0. `--help` prints the usage and exits 0; a usage error prints
//! it on stderr and exits 2.
//!
//! # Answers
//!
//! Every error has a JSON body with `error_code` and `error_msg`. The checks
//! run in this order, so a caller without a valid token learns nothing about
//! which projects exist:
//!
//! | status | `error_code` | when |
//! |---|---|---|
//! | 401 | `APIG.0301` | tokens are configured and `X-Auth-Token` is missing or unknown |
//! | 400 | `ModelArts.0104` | the project id is not 1 to 64 ASCII letters, digits and hyphens |
//! | 403 | `APIG.0302` | the token belongs to another project |
//! | 404 | `APIG.0101` | no records file for the project, or a path that names no API |
//! | 405 | `APIG.0101` | a method other than GET (or HEAD) on the endpoint; `Allow: GET, HEAD` |
//! | 400 | `ModelArts.0104` / `ModelArts.6303` | the query breaks a rule ([`QueryError`]) |
//! | 200 | | the page |
//!
//! `APIG.*` are the codes Huawei Cloud's API gateway answers with for
//! authentication, authorization and unknown APIs. The project id is checked
//! after percent-decoding and is only ever used as a key into the map of
//! loaded catalogs, never as a file path, so no dot-segment or
//! percent-encoding trick reaches another project's data: `..`, `%2e%2e` or
//! `a%2Fb` are malformed ids (400), and `/v1/a/../b/images/group` names no API
//! (404).
//!
//! The catalogs are read-only here, so they are shared as a plain
//! `Arc<HashMap<..>>`. A service that also applies updates would keep each
//! catalog behind a `RwLock`, or swap immutable `Arc<Catalog>` snapshots (see
//! the crate docs).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[path = "support/flags.rs"]
mod flags;

use axum::extract::rejection::PathRejection;
use axum::extract::{self, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use flags::Arg;
use image_groups::{parse_records_bytes, Catalog, GroupQuery};
use serde_json::json;

const USAGE: &str =
    "usage: http_server --data-dir DIR [--addr 127.0.0.1:8080] [--token PROJECT:TOKEN ...]";

/// What every request reads: one catalog per project, and who may read which.
struct AppState {
    projects: HashMap<String, Catalog>,
    /// Token to the project it may read; empty when no `--token` was given.
    tokens: HashMap<String, String>,
}

/// The endpoint and the JSON 404 for every other path.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/v1/{project_id}/images/group",
            get(images_group).fallback(method_not_allowed),
        )
        .fallback(no_such_api)
        .with_state(state)
}

/// A ModelArts-style error answer: the status and `{"error_code", "error_msg"}`.
fn error(status: StatusCode, code: &str, msg: impl Into<String>) -> Response {
    let body = json!({ "error_code": code, "error_msg": msg.into() });
    (status, Json(body)).into_response()
}

/// `GET /v1/{project_id}/images/group`.
async fn images_group(
    State(state): State<Arc<AppState>>,
    project_id: Result<extract::Path<String>, PathRejection>,
    headers: HeaderMap,
    RawQuery(raw_query): RawQuery,
) -> Response {
    // Authentication first: without a valid token, nothing else is told.
    let token_project = if state.tokens.is_empty() {
        None
    } else {
        let token = headers
            .get("x-auth-token")
            .and_then(|value| value.to_str().ok());
        match token.and_then(|token| state.tokens.get(token)) {
            Some(project) => Some(project.as_str()),
            None if token.is_none() => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "APIG.0301",
                    "Incorrect IAM authentication information: x-auth-token not found",
                )
            }
            None => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "APIG.0301",
                    "Incorrect IAM authentication information: unknown token",
                )
            }
        }
    };
    // The segment as decoded; a segment that is not UTF-8 after decoding is
    // as malformed as one with a bad character.
    let project_id = match project_id {
        Ok(extract::Path(id)) if is_project_id(&id) => id,
        Ok(extract::Path(id)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ModelArts.0104",
                format!(
                    "Invalid project_id {:?}: must be 1 to 64 ASCII letters, digits and hyphens",
                    shown(&id)
                ),
            )
        }
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "ModelArts.0104",
                "Invalid project_id: must be 1 to 64 ASCII letters, digits and hyphens",
            )
        }
    };
    if token_project.is_some_and(|allowed| allowed != project_id) {
        return error(
            StatusCode::FORBIDDEN,
            "APIG.0302",
            "The IAM user is not authorized to access the API: the token belongs to another project",
        );
    }
    let Some(catalog) = state.projects.get(&project_id) else {
        return error(
            StatusCode::NOT_FOUND,
            "APIG.0101",
            format!("Project {project_id} not found"),
        );
    };
    match GroupQuery::from_query_string(raw_query.as_deref().unwrap_or("")) {
        Ok(query) => Json(catalog.query(&query)).into_response(),
        Err(err) => {
            let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(err)).into_response()
        }
    }
}

/// ModelArts project ids: 1 to 64 ASCII letters, digits and hyphens.
fn is_project_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// An offending id as shown in a message: at most 64 characters.
fn shown(id: &str) -> String {
    id.chars().take(64).collect()
}

async fn method_not_allowed() -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "APIG.0101",
        "Method not allowed: this API answers GET only",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

async fn no_such_api() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "APIG.0101",
        "The API does not exist or has not been published",
    )
}

struct Args {
    data_dir: PathBuf,
    addr: SocketAddr,
    tokens: HashMap<String, String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut data_dir = None;
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 8080));
    let mut tokens = HashMap::new();
    while let Some(arg) = args.next().map(Arg::new) {
        let mut value = || arg.value(&mut args);
        match arg.flag.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--data-dir" => data_dir = Some(PathBuf::from(value()?)),
            "--addr" => {
                let text = value()?;
                addr = text.parse().map_err(|_| {
                    format!("--addr {text:?} is not an address like 127.0.0.1:8080")
                })?;
            }
            "--token" => {
                let text = value()?;
                let (project, token) = text
                    .split_once(':')
                    .filter(|(project, token)| is_project_id(project) && !token.is_empty())
                    .ok_or_else(|| {
                        format!("--token {text:?} is not PROJECT:TOKEN with a valid project id")
                    })?;
                if let Some(other) = tokens.insert(token.to_string(), project.to_string()) {
                    if other != project {
                        return Err(format!(
                            "--token: one token given for {other} and {project}"
                        ));
                    }
                }
            }
            _ => return Err(format!("unknown argument {:?}", arg.text)),
        }
    }
    let data_dir = data_dir.ok_or("--data-dir is required")?;
    Ok(Args {
        data_dir,
        addr,
        tokens,
    })
}

/// Loads every `DIR/{project_id}.json` into a catalog.
fn load_projects(dir: &Path) -> Result<HashMap<String, Catalog>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut projects = HashMap::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
            continue;
        }
        let project = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .filter(|stem| is_project_id(stem))
            .ok_or_else(|| {
                format!(
                    "{}: the file name is not a project id (1 to 64 ASCII letters, digits and hyphens)",
                    path.display()
                )
            })?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let records =
            parse_records_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        projects.insert(project.to_string(), Catalog::from_records(records));
    }
    Ok(projects)
}

async fn shutdown_signal() {
    // If the handler cannot be installed, run until killed.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
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
    let projects = match load_projects(&args.data_dir) {
        Ok(projects) => projects,
        Err(msg) => {
            eprintln!("http_server: {msg}");
            return ExitCode::from(1);
        }
    };
    let state = Arc::new(AppState {
        projects,
        tokens: args.tokens,
    });
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("http_server: cannot listen on {}: {e}", args.addr);
            return ExitCode::from(1);
        }
    };
    let addr = listener.local_addr().unwrap_or(args.addr);
    // The listener is bound and listening: connections made from now on are
    // accepted (queued by the kernel until `serve` takes them).
    println!("listening on {addr}");
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_server: {e}");
            ExitCode::from(1)
        }
    }
}
