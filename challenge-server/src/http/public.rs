//! Public reads: health, server key, challenges, transcripts, a challenge's claims.

use super::error::ErrorBody;
use super::openapi::CommonErrors;
use crate::api;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use futures_util::StreamExt;

use super::HttpState;
use super::error::ApiResult;
use super::extract::Params;
use crate::api::{
    ChallengeSummary, ChallengeView, ClaimView, ClaimsPage, HealthView, ServerKeyView,
    TranscriptPage,
};
use crate::log::note::verifier_key;
use crate::state::App;
use crate::{Error, challenges, claims, health, store};

/// Largest transcript page.
pub const MAX_PAGE: u64 = 1000;

/// `GET /health`: the solver's verdict per challenge.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "public",
    summary = "Health of the service and of every challenge",
    responses(
        (status = 200, description = "healthy (status ok) or degraded", body = api::HealthView),
        CommonErrors,
    )
)]
pub async fn health(State(s): State<Arc<HttpState>>) -> ApiResult<Json<HealthView>> {
    Ok(Json(health::check(&s.app).await?))
}

/// `GET /metrics` (outside `/api/v1`, where scrapers look): the operator's counters, in the
/// OpenMetrics text format (docs/OPERATING.md, "Metrics").
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    summary = "Prometheus metrics (text exposition format)",
    responses(
        (status = 200, description = "the metrics page", body = String, content_type = "text/plain; version=0.0.4"),
        CommonErrors,
    )
)]
pub async fn metrics(State(s): State<Arc<HttpState>>) -> ApiResult<impl IntoResponse> {
    let page = s.app.metrics.render(s.app.log.size().await)?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], page))
}

/// `GET /hall-of-fame`: every claim whose verdict is `won`, by challenge and commit log index.
#[utoipa::path(
    get,
    path = "/api/v1/hall-of-fame",
    tag = "claims",
    summary = "Every won claim",
    responses(
        (status = 200, description = "won claims", body = Vec<api::ClaimView>),
        CommonErrors,
    )
)]
pub async fn hall_of_fame(State(s): State<Arc<HttpState>>) -> ApiResult<Json<Vec<ClaimView>>> {
    let mut out = Vec::new();
    for claim in store::claims::won(&s.app.store).await? {
        let (_, closed) = claims::find(&s.app, &claim.id).await?;
        out.push(claims::view(&claim, closed)?);
    }
    Ok(Json(out))
}

/// `GET /server-key`.
#[utoipa::path(
    get,
    path = "/api/v1/server-key",
    tag = "public",
    summary = "The server's signing key and log origin",
    responses(
        (status = 200, description = "the key", body = api::ServerKeyView, example = json!({"algorithm":"ed25519","public_key":"52cb…e9e4","log_origin":"localhost/challenge-server","note_verifier_key":"localhost/challenge-server+a55b67e4+AVLLz2KsXXD1…"})),
        CommonErrors,
    )
)]
pub async fn server_key(State(s): State<Arc<HttpState>>) -> Json<ServerKeyView> {
    let public = s.app.server_key.public();
    Json(ServerKeyView {
        algorithm: "ed25519".to_owned(),
        public_key: hex::encode(public),
        log_origin: s.app.log.origin().to_owned(),
        note_verifier_key: verifier_key(s.app.log.origin(), public),
    })
}

/// `GET /challenges`.
#[utoipa::path(
    get,
    path = "/api/v1/challenges",
    tag = "public",
    summary = "Every challenge, open and closed",
    responses(
        (status = 200, description = "the challenges", body = Vec<api::ChallengeSummary>, example = json!([{"id":"c10379acd6060eb9","title":"…","track":"…","status":"open","bounty":{"secret":"…"},"deadline":1795434886,"published_entries":2}])),
        CommonErrors,
    )
)]
pub async fn challenges(State(s): State<Arc<HttpState>>) -> ApiResult<Json<Vec<ChallengeSummary>>> {
    let mut out = Vec::new();
    for row in store::challenges::list(&s.app.store).await? {
        out.push(challenges::summary(&s.app, &row).await?);
    }
    Ok(Json(out))
}

/// `GET /challenges/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}",
    tag = "public",
    summary = "One challenge: rules, commitments, parties, target identity",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9")),
    responses(
        (status = 200, description = "the challenge", body = api::ChallengeView),
        (status = 404, description = "no such challenge", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn challenge(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ChallengeView>> {
    let row = challenges::find(&s.app, &id, "id").await?;
    Ok(Json(challenges::view(&s.app, &row).await?))
}

/// `GET /challenges/{id}/transcript?from=&limit=`.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}/transcript",
    tag = "public",
    summary = "A page of the published transcript",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9"), ("from" = Option<u64>, Query, description = "first index (default 0)"), ("limit" = Option<u64>, Query, description = "page size (default 100)")),
    responses(
        (status = 200, description = "the page", body = api::TranscriptPage),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn transcript(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<TranscriptPage>> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX >> 1)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_PAGE)?;
    let row = challenges::find(&s.app, &id, "id").await?;
    Ok(Json(transcript_page(&s.app, &row.id, from, limit).await?))
}

/// Up to `limit` published entries of challenge `id` from `from` (shared with the HTML
/// transcript browser).
pub async fn transcript_page(
    app: &App,
    id: &str,
    from: u64,
    limit: u64,
) -> Result<TranscriptPage, Error> {
    let published = store::transcript::published_count(&app.store, id).await?;
    let rows = store::transcript::page(&app.store, id, from, limit).await?;
    let next_from = rows
        .last()
        .map(|r| r.index + 1)
        .filter(|next| *next < published);
    Ok(TranscriptPage {
        challenge: id.to_owned(),
        published_entries: published,
        entries: rows.iter().map(challenges::entry_view).collect(),
        next_from,
    })
}

/// Entries read from the store per chunk of the download.
const DOWNLOAD_PAGE: u64 = 256;

/// `GET /challenges/{id}/transcript/download`: every entry published when the request came,
/// in one document of the transcript page's shape, streamed a page of entries at a time from
/// the store instead of built whole in memory.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}/transcript/download",
    tag = "public",
    summary = "The whole published transcript as one JSON file",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9")),
    responses(
        (status = 200, description = "the whole transcript (Content-Disposition: attachment)", body = api::TranscriptPage),
        (status = 404, description = "no such challenge", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn transcript_download(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let row = challenges::find(&s.app, &id, "id").await?;
    let published = store::transcript::published_count(&s.app.store, &row.id).await?;
    let head = serde_json::to_vec(&TranscriptPage {
        challenge: row.id.clone(),
        published_entries: published,
        entries: Vec::new(),
        next_from: None,
    })
    .map_err(Error::from)?;
    // `{"challenge":…,"published_entries":N,"entries":[` and `],"next_from":null}`.
    let split = find(&head, b"[]").ok_or_else(|| Error::internal("page shape"))? + 1;
    let (open, close) = head
        .split_at_checked(split)
        .map(|(a, b)| (a.to_vec(), b.to_vec()))
        .ok_or_else(|| Error::internal("page shape"))?;
    let app = s.app.clone();
    let challenge = row.id.clone();
    let chunks = futures_util::stream::unfold(Some((0u64, true)), move |state| {
        let (app, challenge, close) = (app.clone(), challenge.clone(), close.clone());
        async move {
            let (from, first) = state?;
            if from >= published {
                return Some((Ok::<_, Error>(close), None));
            }
            let limit = DOWNLOAD_PAGE.min(published - from);
            let rows = match store::transcript::page(&app.store, &challenge, from, limit).await {
                Ok(rows) if !rows.is_empty() => rows,
                Ok(_) => return Some((Ok(close), None)),
                Err(e) => {
                    tracing::error!(challenge, error = %e, "transcript download failed");
                    return Some((Err(e), None));
                }
            };
            let mut chunk = Vec::new();
            let next = rows.last().map_or(published, |r| r.index + 1);
            for (i, r) in rows.iter().enumerate() {
                if !(first && i == 0) {
                    chunk.push(b',');
                }
                if let Err(e) = serde_json::to_writer(&mut chunk, &challenges::entry_view(r)) {
                    return Some((Err(Error::from(e)), None));
                }
            }
            Some((Ok(chunk), Some((next, false))))
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, Error>(open) }).chain(chunks);
    let disposition = format!("attachment; filename=\"transcript-{}.json\"", row.id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(body),
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `GET /challenges/{id}/claims?from=&limit=`: claims with their receipts and verdicts, a
/// page at a time by commit log index.
#[utoipa::path(
    get,
    path = "/api/v1/challenges/{id}/claims",
    tag = "claims",
    summary = "A page of a challenge's claims by commit log index",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9"), ("from" = Option<u64>, Query, description = "first index (default 0)"), ("limit" = Option<u64>, Query, description = "page size (default 100)")),
    responses(
        (status = 200, description = "the page", body = api::ClaimsPage),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn challenge_claims(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<ClaimsPage>> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX >> 1)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_PAGE)?;
    let row = challenges::find(&s.app, &id, "id").await?;
    let mut rows = store::claims::page(&s.app.store, &row.id, from, limit + 1).await?;
    let next_from = if rows.len() as u64 > limit {
        rows.pop();
        rows.last().map(|c| c.log_index + 1)
    } else {
        None
    };
    let mut out = Vec::with_capacity(rows.len());
    for claim in &rows {
        out.push(claims::view(claim, !row.is_open())?);
    }
    Ok(Json(ClaimsPage {
        challenge: row.id,
        claims: out,
        next_from,
    }))
}
