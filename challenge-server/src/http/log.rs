//! The transparency log over HTTP: signed checkpoint, entries, inclusion and consistency proofs.

use super::error::ErrorBody;
use super::openapi::CommonErrors;
use crate::api;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::HttpState;
use super::error::ApiResult;
use super::extract::Params;
use crate::api::{ConsistencyProofView, InclusionProofView, LogEntries, LogEntryView};
use crate::log::{MAX_ENTRIES_PAGE, leaf_hash};
use crate::state::App;
use crate::{Error, store};

/// `GET /log/checkpoint`: the current tree head, a C2SP checkpoint as a signed note.
#[utoipa::path(
    get,
    path = "/api/v1/log/checkpoint",
    tag = "log",
    summary = "The latest signed checkpoint (C2SP tlog-checkpoint signed note)",
    responses(
        (status = 200, description = "the signed note", body = String, content_type = "text/plain"),
        CommonErrors,
    )
)]
pub async fn checkpoint(State(s): State<Arc<HttpState>>) -> ApiResult<impl IntoResponse> {
    let (_, note) = s.app.log.checkpoint(&s.app.server_key).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note))
}

/// `GET /log/entries?from=&limit=`.
#[utoipa::path(
    get,
    path = "/api/v1/log/entries",
    tag = "log",
    summary = "A page of log entries, decoded",
    params(("from" = Option<u64>, Query, description = "first index (default 0)"), ("limit" = Option<u64>, Query, description = "page size (default 100)")),
    responses(
        (status = 200, description = "the page", body = api::LogEntries),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn entries(
    State(s): State<Arc<HttpState>>,
    params: Params,
) -> ApiResult<Json<LogEntries>> {
    Ok(Json(entries_page(&s.app, &params).await?))
}

/// The entries page `params` asks for (shared with the HTML log explorer).
pub async fn entries_page(app: &App, params: &Params) -> Result<LogEntries, Error> {
    params.only(&["from", "limit"])?;
    let from = params.u64("from", Some(0), 0..=u64::MAX >> 1)?;
    let limit = params.u64("limit", Some(100), 1..=MAX_ENTRIES_PAGE)?;
    let tree_size = app.log.size().await;
    let to = from.saturating_add(limit).min(tree_size);
    let rows = store::log::entries(&app.store, from, to).await?;
    Ok(LogEntries {
        tree_size,
        entries: rows
            .into_iter()
            .map(|(index, data)| LogEntryView {
                index,
                leaf_hash: hex::encode(leaf_hash(&data)),
                data: hex::encode(&data),
            })
            .collect(),
    })
}

/// `GET /log/proof/inclusion?index=&size=`.
#[utoipa::path(
    get,
    path = "/api/v1/log/proof/inclusion",
    tag = "log",
    summary = "An inclusion proof of one entry in a tree size",
    params(("index" = u64, Query, description = "the entry's index"), ("size" = Option<u64>, Query, description = "the tree size (default: the current)")),
    responses(
        (status = 200, description = "the proof", body = api::InclusionProofView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn inclusion(
    State(s): State<Arc<HttpState>>,
    params: Params,
) -> ApiResult<Json<InclusionProofView>> {
    Ok(Json(inclusion_proof(&s.app, &params).await?))
}

/// The inclusion proof `params` asks for (shared with the HTML log explorer).
pub async fn inclusion_proof(app: &App, params: &Params) -> Result<InclusionProofView, Error> {
    params.only(&["index", "size"])?;
    let current = app.log.size().await;
    let size = params.u64("size", Some(current), 1..=current.max(1))?;
    let index = params.u64("index", None, 0..=size.saturating_sub(1))?;
    let data = store::log::entries(&app.store, index, index + 1)
        .await?
        .pop()
        .map(|(_, data)| data)
        .ok_or_else(|| Error::invalid("index", "no such entry"))?;
    let proof = app.log.inclusion(index, size, &data).await?;
    Ok(InclusionProofView {
        index,
        tree_size: size,
        leaf_hash: hex::encode(proof.leaf_hash),
        root: hex::encode(proof.root),
        proof: proof.proof.iter().map(hex::encode).collect(),
    })
}

/// `GET /log/proof/consistency?from=&to=`.
#[utoipa::path(
    get,
    path = "/api/v1/log/proof/consistency",
    tag = "log",
    summary = "A consistency proof between two tree sizes",
    params(("from" = u64, Query, description = "the older tree size"), ("to" = Option<u64>, Query, description = "the newer tree size (default: the current)")),
    responses(
        (status = 200, description = "the proof", body = api::ConsistencyProofView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn consistency(
    State(s): State<Arc<HttpState>>,
    params: Params,
) -> ApiResult<Json<ConsistencyProofView>> {
    Ok(Json(consistency_proof(&s.app, &params).await?))
}

/// The consistency proof `params` asks for (shared with the HTML log explorer).
pub async fn consistency_proof(app: &App, params: &Params) -> Result<ConsistencyProofView, Error> {
    params.only(&["from", "to"])?;
    let current = app.log.size().await;
    let to = params.u64("to", Some(current), 1..=current.max(1))?;
    let from = params.u64("from", None, 1..=to)?;
    let proof = app.log.consistency(from, to).await?;
    Ok(ConsistencyProofView {
        from,
        to,
        from_root: hex::encode(proof.from_root),
        to_root: hex::encode(proof.to_root),
        proof: proof.proof.iter().map(hex::encode).collect(),
    })
}
