//! Sessions of request-driven tracks: open (with the proof-of-work a challenge may ask), run a
//! command with the session's bearer token, read its record.

use super::error::ErrorBody;
use super::openapi::CommonErrors;
use crate::api;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::HttpState;
use super::error::ApiResult;
use super::extract::{JsonBody, Params, SessionPath};
use crate::Error;
use crate::api::{RecordEntryView, SessionRecordView};
use crate::pow::Issued;
use crate::sessions::{self, MAX_ENTRIES_PAGE, OpenRequest, OpenedView};

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// `GET /challenges/{id}/sessions/pow?claimant=`: a proof-of-work token for the claimant.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}/sessions/pow",
    tag = "sessions",
    summary = "Issue a proof-of-work token for opening a session",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9"), ("claimant" = String, Query, description = "the claimant's name")),
    responses(
        (status = 200, description = "the token", body = Issued),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn pow(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<Issued>> {
    params.only(&["claimant"])?;
    let claimant = params
        .get("claimant")
        .ok_or_else(|| Error::invalid("claimant", "required"))?;
    Ok(Json(sessions::issue_pow(&s.app, &id, claimant).await?))
}

/// `POST /challenges/{id}/sessions`: opens the next session for the claimant.
#[utoipa::path(
    post,
    path = "/api/v1/challenges/{id}/sessions",
    tag = "sessions",
    summary = "Open a session (oracle tracks)",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9")),
    request_body(content = OpenRequest, description = "the claimant and, when asked, a proof-of-work", example = json!({"claimant":"alice"})),
    responses(
        (status = 201, description = "the session opened; its token is shown once", body = OpenedView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        (status = 422, description = "well-formed but refused; the message says why", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn open(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<OpenRequest>,
) -> ApiResult<(StatusCode, Json<OpenedView>)> {
    Ok((
        StatusCode::CREATED,
        Json(sessions::open(&s.app, &id, &req).await?),
    ))
}

/// `POST /challenges/{id}/sessions/{session}/commands`: one command; the answer is sent once its
/// record entry and the bots' state are durable.
#[utoipa::path(
    post,
    path = "/api/v1/challenges/{id}/sessions/{session}/commands",
    tag = "sessions",
    summary = "Send a command to a session (the track's own JSON, bearer token)",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9"), ("session" = u64, Path, description = "session number")),
    request_body(content = Object, description = "the track's command (docs/API.md lists each track's)", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the track's answer", body = Object, content_type = "application/json"),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 401, description = "missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "no such challenge or session", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        (status = 422, description = "well-formed but refused; the message says why", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn command(
    State(s): State<Arc<HttpState>>,
    SessionPath { id, session }: SessionPath,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let answer = sessions::command(&s.app, &id, session, bearer(&headers), &body).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

/// `GET /challenges/{id}/sessions/{session}/record?from=&limit=`: the session's record, to its
/// token's holder while the challenge is open and to everyone after the close, then with each
/// win's evidence.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}/sessions/{session}/record",
    tag = "sessions",
    summary = "A page of a session's record (its token's holder; everyone after the close)",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9"), ("session" = u64, Path, description = "session number"), ("from" = Option<u64>, Query, description = "first index (default 0)"), ("limit" = Option<u64>, Query, description = "page size (default 100)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the page", body = api::SessionRecordView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 401, description = "missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "no such challenge or session", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn record(
    State(s): State<Arc<HttpState>>,
    SessionPath { id, session }: SessionPath,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<SessionRecordView>> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_ENTRIES_PAGE)?;
    let page = sessions::record(&s.app, &id, session, bearer(&headers), from, limit).await?;
    Ok(Json(SessionRecordView {
        session: page.session.session,
        claimant: page.session.claimant,
        entries_total: page.session.entries,
        head: hex::encode(page.session.head),
        entries: (from..)
            .zip(page.entries)
            .map(|(k, data)| RecordEntryView {
                k,
                data: hex::encode(data),
            })
            .collect(),
        wins: page.wins,
    }))
}
