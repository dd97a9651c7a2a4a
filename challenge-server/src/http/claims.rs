//! Claims: commit (rate-limited per claimant), reveal, read.

use super::error::ErrorBody;
use super::openapi::CommonErrors;
use crate::api;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;

use super::HttpState;
use super::error::ApiResult;
use super::extract::JsonBody;
use crate::api::{ClaimView, CommitRequest, Receipt, RevealRequest, VerdictView};
use crate::metrics::Limit;
use crate::{Error, claims};

/// `POST /claims/commit`: rate-limited per (client address, claimant name), charged only for
/// a commit that would be accepted, so nobody spends another's budget by naming them in
/// refused commits; answers with the signed receipt once the commit is durable.
#[utoipa::path(
    post,
    path = "/api/v1/claims/commit",
    tag = "claims",
    summary = "Commit to a claim (the SHA-256 of its claim text)",
    request_body(content = api::CommitRequest, example = json!({"challenge":"3f2a9c0d1e4b5a69","claimant":"alice.research","commitment":"6194347caf4710b86fa37135bfcbac2c0fd2851829952d099c1a6edbbda72134"})),
    responses(
        (status = 201, description = "the signed receipt", body = api::Receipt),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn commit(
    State(s): State<Arc<HttpState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    JsonBody(req): JsonBody<CommitRequest>,
) -> ApiResult<(StatusCode, Json<Receipt>)> {
    let receipt = commit_charged(&s, addr, &req).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// Commits `req` for a client at `addr`, charging the (address, claimant) budget only if the
/// commit is accepted (shared with the pages' commit form).
pub async fn commit_charged(
    s: &HttpState,
    addr: SocketAddr,
    req: &CommitRequest,
) -> Result<Receipt, Error> {
    let key = (s.address_key(addr), req.claimant.clone());
    claims::commit(&s.app, req, || {
        s.per_claimant
            .check(key)
            .inspect_err(|_| s.app.metrics.refused(Limit::Claimant))
    })
    .await
}

/// `POST /claims/{id}/reveal`: opens the commitment and answers with the verdict.
#[utoipa::path(
    post,
    path = "/api/v1/claims/{id}/reveal",
    tag = "claims",
    summary = "Reveal a committed claim; the judge answers",
    params(("id" = String, Path, description = "claim id", example = "828a5f0c1d2e3b4a")),
    request_body(content = api::RevealRequest, example = json!({"kind":"secret","message":7,"secret":"00112233445566778899aabbccddeeff","nonce":"5c1e0a9b7d3f4e2a8b6c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"})),
    responses(
        (status = 200, description = "the verdict", body = api::VerdictView, example = json!({"claim":"828a…","verdict":"won","log_index":12})),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 404, description = "no such claim", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        (status = 422, description = "well-formed but refused; the message says why", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn reveal(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<RevealRequest>,
) -> ApiResult<Json<VerdictView>> {
    Ok(Json(claims::reveal(&s.app, &id, &req).await?))
}

/// `GET /claims/{id}`.
#[utoipa::path(
    get,
    path = "/api/v1/claims/{id}",
    tag = "claims",
    summary = "One claim: receipt, reveal, verdict",
    params(("id" = String, Path, description = "claim id", example = "828a5f0c1d2e3b4a")),
    responses(
        (status = 200, description = "the claim", body = api::ClaimView),
        (status = 404, description = "no such claim", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn claim(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
) -> ApiResult<Json<ClaimView>> {
    let (claim, closed) = claims::find(&s.app, &id).await?;
    Ok(Json(claims::view(&claim, closed)?))
}
