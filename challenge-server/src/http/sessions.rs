//! Sessions of request-driven tracks: open (with the proof-of-work a challenge may ask), run a
//! command with the session's bearer token, read its record.

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
