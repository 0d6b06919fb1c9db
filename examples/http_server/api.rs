//! The routes, the request handler and the error answers (the table in the
//! crate docs), with the compression, body-timeout and trace layers.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{self, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use image_groups::GroupQuery;
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tower_http::CompressionLevel;
use tracing::{field, Level};

use crate::auth;
use crate::reload::Store;

/// The largest request body read: the endpoint takes none, but a signature
/// covers the body, so a small one is read and hashed; a larger one is
/// refused (413) before anything is buffered past this.
pub const MAX_BODY: usize = 64 * 1024;

/// What every request reads: the loaded projects, and who may read which.
pub struct AppState {
    /// The current snapshot of the data directory.
    pub store: Store,
    /// Keys and tokens; empty for an open server.
    pub credentials: auth::Credentials,
}

/// The endpoint and the JSON 404 for every other path, with the layers.
pub fn router(state: Arc<AppState>, body_timeout: Duration) -> Router {
    let trace = TraceLayer::new_for_http()
        // The path, never the headers (tokens, signatures) nor the query.
        .make_span_with(|request: &Request<Body>| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
                project_id = field::Empty,
            )
        })
        .on_request(())
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(tower_http::LatencyUnit::Micros),
        )
        .on_failure(DefaultOnFailure::new().level(Level::ERROR));
    Router::new()
        .route(
            "/v1/{project_id}/images/group",
            get(images_group).fallback(method_not_allowed),
        )
        .fallback(no_such_api)
        .with_state(state)
        // The fastest level: a page of JSON names compresses about tenfold
        // at any level, and the official SDK asks for gzip on every
        // request, so the level's cost is paid on every answer.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(trace)
}

/// A ModelArts-style error answer: the status and `{"error_code", "error_msg"}`.
fn error(status: StatusCode, code: &str, msg: impl Into<String>) -> Response {
    let body = json!({ "error_code": code, "error_msg": msg.into() });
    (status, Json(body)).into_response()
}

/// Seconds since the Unix epoch now (0 if the clock is before it, which
/// only makes every signature's date out of range).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `GET /v1/{project_id}/images/group`.
async fn images_group(
    State(state): State<Arc<AppState>>,
    project_id: Result<extract::Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(err) => return body_error(&err),
    };
    // Authentication first: without valid credentials, nothing else is told.
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    let signed = auth::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let caller = match auth::authenticate(&signed, &state.credentials, unix_now()) {
        Ok(caller) => caller,
        Err(err) => {
            tracing::info!(reason = ?err, "authentication refused");
            return error(StatusCode::UNAUTHORIZED, "APIG.0301", err.to_string());
        }
    };
    // The segment as decoded; a segment that is not UTF-8 after decoding is
    // as malformed as one with a bad character.
    let project_id = match project_id {
        Ok(extract::Path(id)) if crate::is_project_id(&id) => id,
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
    tracing::Span::current().record("project_id", field::display(&project_id));
    if !caller.may_read(&project_id) {
        let whose = match caller.caller {
            auth::Caller::Token => "the token",
            _ => "the access key",
        };
        return error(
            StatusCode::FORBIDDEN,
            "APIG.0302",
            format!("The IAM user is not authorized to access the API: {whose} may not read this project"),
        );
    }
    let snapshot = state.store.load_full();
    let Some(catalog) = snapshot.catalog(&project_id) else {
        return error(
            StatusCode::NOT_FOUND,
            "APIG.0101",
            format!("Project {project_id} not found"),
        );
    };
    match GroupQuery::from_query_string(parts.uri.query().unwrap_or("")) {
        Ok(query) => Json(catalog.query(&query)).into_response(),
        Err(err) => {
            let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(err)).into_response()
        }
    }
}

/// The answer to a body that could not be read: too large (413) or too slow
/// (408, the body timeout); anything else is the client's connection failing
/// mid-body, also answered 408 (it will most likely not be read).
fn body_error(err: &axum::Error) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "APIG.0201",
                format!("Request entity too large: the body is over {MAX_BODY} bytes"),
            );
        }
        source = e.source();
    }
    error(
        StatusCode::REQUEST_TIMEOUT,
        "APIG.0201",
        "API request error: the request body did not arrive in time",
    )
}

/// An offending id as shown in a message: at most 64 characters.
fn shown(id: &str) -> String {
    id.chars().take(64).collect()
}

/// Another method on the endpoint: 405 with `Allow`, as the gateway answers
/// a method the API does not define (`APIG.0101`).
async fn method_not_allowed() -> Response {
    let mut response = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "APIG.0101",
        "Method not allowed: this API answers GET and HEAD only",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// Any other path: the gateway's 404 for an API that does not exist. It
/// needs no credentials, as it tells nothing about any project.
async fn no_such_api() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "APIG.0101",
        "The API does not exist or has not been published",
    )
}
