//! Claims: commit (rate-limited per claimant), reveal, read.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::HttpState;
use super::error::ApiResult;
use super::extract::JsonBody;
use crate::api::{ClaimView, CommitRequest, Receipt, RevealRequest, VerdictView};
use crate::{claims, store};

/// `POST /claims/commit`: rate-limited per claimant name; answers with the signed receipt once the commit is durable.
pub async fn commit(
    State(s): State<Arc<HttpState>>,
    JsonBody(req): JsonBody<CommitRequest>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    // Fields first, so that a malformed request costs no claimant's budget.
    claims::check_commit(&req)?;
    s.per_claimant.check(&req.claimant)?;
    let receipt = claims::commit(&s.app, &req).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// `POST /claims/{id}/reveal`: opens the commitment and answers with the verdict.
pub async fn reveal(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RevealRequest>,
) -> ApiResult<Json<VerdictView>> {
    Ok(Json(claims::reveal(&s.app, &id, &req).await?))
}

/// `GET /claims/{id}`.
pub async fn claim(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimView>> {
    let claim = claims::find(&s.app, &id).await?;
    let challenge = store::challenges::get(&s.app.store, &claim.challenge).await?;
    let closed = challenge.is_some_and(|c| !c.is_open());
    Ok(Json(claims::view(&s.app, &claim, closed)?))
}
