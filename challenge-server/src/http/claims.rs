//! Claims: commit (rate-limited per claimant), reveal, read.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;

use super::HttpState;
use super::error::ApiResult;
use super::extract::JsonBody;
use crate::api::{ClaimView, CommitRequest, Receipt, RevealRequest, VerdictView};
use crate::claims;
use crate::metrics::Limit;

/// `POST /claims/commit`: rate-limited per (client address, claimant name), charged only for
/// a commit that would be accepted, so nobody spends another's budget by naming them in
/// refused commits; answers with the signed receipt once the commit is durable.
pub async fn commit(
    State(s): State<Arc<HttpState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<CommitRequest>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let key = (s.address_key(addr), req.claimant.clone());
    let receipt = claims::commit(&s.app, &req, || {
        s.per_claimant
            .check(key)
            .inspect_err(|_| s.app.metrics.refused(Limit::Claimant))
    })
    .await?;
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
    let (claim, closed) = claims::find(&s.app, &id).await?;
    Ok(Json(claims::view(&claim, closed)?))
}
