//! The operator's API (admin token required): create and close challenges, decide claims that
//! need review.

use super::error::ErrorBody;
use super::openapi::CommonErrors;
use crate::api;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::HttpState;
use super::error::ApiResult;
use super::extract::{Admin, JsonBody};
use crate::api::{ChallengeView, DecisionRequest, VerdictView};
use crate::tracks::ChallengeSpec;
use crate::{challenges, claims};

/// `POST /admin/challenges`: creates a challenge from its definition.
#[utoipa::path(
    post,
    path = "/api/v1/admin/challenges",
    tag = "admin",
    summary = "Create a challenge (operator token)",
    request_body(content = Object, description = "the challenge definition (docs/API.md, \"Creating a challenge\")", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "the challenge created", body = api::ChallengeView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 401, description = "missing or wrong bearer token", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_challenge(
    State(s): State<Arc<HttpState>>,
    _: Admin,
    JsonBody(spec): JsonBody<ChallengeSpec>,
) -> ApiResult<(StatusCode, Json<ChallengeView>)> {
    let row = challenges::create(&s.app, spec, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(challenges::view(&s.app, &row).await?),
    ))
}

/// `POST /admin/challenges/{id}/close`: closes now and reveals the seed.
#[utoipa::path(
    post,
    path = "/api/v1/admin/challenges/{id}/close",
    tag = "admin",
    summary = "Close a challenge now and reveal its seed (operator token)",
    params(("id" = String, Path, description = "challenge id", example = "c10379acd6060eb9")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the challenge closed", body = api::ChallengeView),
        (status = 401, description = "missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "no such challenge", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn close_challenge(
    State(s): State<Arc<HttpState>>,
    _: Admin,
    Path(id): Path<String>,
) -> ApiResult<Json<ChallengeView>> {
    let row = challenges::find(&s.app, &id, "id").await?;
    challenges::close(&s.app, &row.id, "operator").await?;
    let row = challenges::find(&s.app, &id, "id").await?;
    Ok(Json(challenges::view(&s.app, &row).await?))
}

/// `POST /admin/claims/{id}/decision`: the verdict on a `needs-review` claim.
#[utoipa::path(
    post,
    path = "/api/v1/admin/claims/{id}/decision",
    tag = "admin",
    summary = "Decide a finding claim (operator token)",
    params(("id" = String, Path, description = "claim id", example = "828a5f0c1d2e3b4a")),
    request_body(content = api::DecisionRequest),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the verdict", body = api::VerdictView),
        (status = 400, description = "a field is invalid; `field` names it", body = ErrorBody),
        (status = 401, description = "missing or wrong bearer token", body = ErrorBody),
        (status = 404, description = "no such claim", body = ErrorBody),
        (status = 413, description = "body above the cap", body = ErrorBody),
        (status = 409, description = "conflicts with the current state; the message says which", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn decide_claim(
    State(s): State<Arc<HttpState>>,
    _: Admin,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<DecisionRequest>,
) -> ApiResult<Json<VerdictView>> {
    Ok(Json(claims::decide(&s.app, &id, &req).await?))
}
