//! Sessions of request-driven tracks: open (with the proof-of-work a challenge may ask), run a
//! command with the session's bearer token, read its record.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::HttpState;
use super::error::ApiResult;
use super::extract::{JsonBody, Params};
use crate::Error;
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
    Path((id, session)): Path<(String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let answer = sessions::command(&s.app, &id, session, bearer(&headers), &body).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], answer).into_response())
}

/// One record entry: its index and its bytes, hex.
#[derive(Debug, Serialize)]
pub struct RecordEntryView {
    /// Index in the record (0: the open).
    pub k: u64,
    /// The entry's bytes (compact JSON), hex.
    pub data: String,
}

/// A page of a session's record.
#[derive(Debug, Serialize)]
pub struct RecordPage {
    /// Session number.
    pub session: u64,
    /// Its claimant.
    pub claimant: String,
    /// Entries in the whole record.
    pub entries_total: u64,
    /// The record's head, hex.
    pub head: String,
    /// The page.
    pub entries: Vec<RecordEntryView>,
}

/// `GET /challenges/{id}/sessions/{session}/record?from=&limit=`: the session's record, to its
/// token's holder while the challenge is open and to everyone after the close.
pub async fn record(
    State(s): State<Arc<HttpState>>,
    Path((id, session)): Path<(String, u64)>,
    headers: HeaderMap,
    params: Params,
) -> ApiResult<Json<RecordPage>> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_ENTRIES_PAGE)?;
    let (row, entries) =
        sessions::record(&s.app, &id, session, bearer(&headers), from, limit).await?;
    Ok(Json(RecordPage {
        session: row.session,
        claimant: row.claimant,
        entries_total: row.entries,
        head: hex::encode(row.head),
        entries: (from..)
            .zip(entries)
            .map(|(k, data)| RecordEntryView {
                k,
                data: hex::encode(data),
            })
            .collect(),
    }))
}
