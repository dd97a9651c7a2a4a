//! Public reads: health, server key, challenges, transcripts, a challenge's claims.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

use super::HttpState;
use super::error::ApiResult;
use super::extract::Params;
use crate::api::{
    ChallengeSummary, ChallengeView, ClaimView, HealthView, ServerKeyView, TranscriptPage,
};
use crate::log::note::verifier_key;
use crate::{challenges, claims, health, store};

/// Largest transcript page.
pub const MAX_PAGE: u64 = 1000;

/// `GET /health`: the solver's verdict per challenge.
pub async fn health(State(s): State<Arc<HttpState>>) -> ApiResult<Json<HealthView>> {
    Ok(Json(health::check(&s.app).await?))
}

/// `GET /server-key`.
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
pub async fn challenges(State(s): State<Arc<HttpState>>) -> ApiResult<Json<Vec<ChallengeSummary>>> {
    let mut out = Vec::new();
    for row in store::challenges::list(&s.app.store).await? {
        out.push(challenges::summary(&s.app, &row).await?);
    }
    Ok(Json(out))
}

/// `GET /challenges/{id}`.
pub async fn challenge(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ChallengeView>> {
    let row = challenges::find(&s.app, &id, "id").await?;
    Ok(Json(challenges::view(&s.app, &row).await?))
}

/// `GET /challenges/{id}/transcript?from=&limit=`.
pub async fn transcript(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Json<TranscriptPage>> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX >> 1)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_PAGE)?;
    let row = challenges::find(&s.app, &id, "id").await?;
    Ok(Json(page(&s, &row.id, from, limit).await?))
}

async fn page(s: &HttpState, id: &str, from: u64, limit: u64) -> ApiResult<TranscriptPage> {
    let published = store::transcript::published_count(&s.app.store, id).await?;
    let rows = store::transcript::page(&s.app.store, id, from, limit).await?;
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

/// `GET /challenges/{id}/transcript/download`: every published entry in one document.
pub async fn transcript_download(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let row = challenges::find(&s.app, &id, "id").await?;
    let whole = page(&s, &row.id, 0, u64::MAX >> 1).await?;
    let disposition = format!("attachment; filename=\"transcript-{}.json\"", row.id);
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(whole)))
}

/// `GET /challenges/{id}/claims`: every claim with its receipt and verdict.
pub async fn challenge_claims(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ClaimView>>> {
    let row = challenges::find(&s.app, &id, "id").await?;
    let mut out = Vec::new();
    for claim in store::claims::for_challenge(&s.app.store, &row.id).await? {
        out.push(claims::view(&s.app, &claim, !row.is_open())?);
    }
    Ok(Json(out))
}
