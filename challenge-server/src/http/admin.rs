//! The operator's API (admin token required): create and close challenges, decide claims that
//! need review.

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
pub async fn decide_claim(
    State(s): State<Arc<HttpState>>,
    _: Admin,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<DecisionRequest>,
) -> ApiResult<Json<VerdictView>> {
    Ok(Json(claims::decide(&s.app, &id, &req).await?))
}
