//! The OpenAPI 3.1 document of `/api/v1`, served at `GET /api/v1/openapi.json`: derived from
//! the request and response types (`ToSchema`) and the handlers' `#[utoipa::path]`
//! annotations, never written by hand. [`super::API_ROUTES`] is the route table both the
//! router and the drift test read.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{RefOr, Server};
use utoipa::{IntoResponses, OpenApi, PartialSchema, ToSchema};

use super::HttpState;
use super::error::ErrorBody;
use crate::api;
use crate::tracks::TrackFields;

/// The error responses every endpoint may answer besides its own: a rate-limit refusal, a
/// body above the cap, a timeout and a fault of the server, each with the error body.
#[derive(IntoResponses)]
#[allow(
    dead_code,
    reason = "never built: only its `IntoResponses` derive is read, by the document"
)]
pub enum CommonErrors {
    /// The client address's budget is spent; `Retry-After` says when to come back.
    #[response(status = 429, description = "rate limited (Retry-After)")]
    TooManyRequests(ErrorBody),
    /// The request took longer than the server's timeout.
    #[response(status = 408, description = "request timeout")]
    Timeout(ErrorBody),
    /// A fault of the server; its detail is in the server's log under `request_id`.
    #[response(status = 500, description = "server fault (with a request_id)")]
    Internal(ErrorBody),
}

/// A track's own fields: an open object, serialized in place among the common fields
/// (docs/API.md lists each track's).
impl PartialSchema for TrackFields {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "The track's own fields, in place among the common fields (docs/API.md lists each track's).",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for TrackFields {}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "challenge-server",
        description = "The crypto-challenge bounty service's JSON API (docs/API.md).",
        license(name = "see the repository"),
    ),
    paths(
        openapi_json,
        super::public::health,
        super::public::metrics,
        super::public::server_key,
        super::public::challenges,
        super::public::challenge,
        super::public::transcript,
        super::public::transcript_download,
        super::public::challenge_claims,
        super::public::hall_of_fame,
        super::sessions::open,
        super::sessions::pow,
        super::sessions::command,
        super::sessions::record,
        super::claims::commit,
        super::claims::claim,
        super::claims::reveal,
        super::log::checkpoint,
        super::log::entries,
        super::log::inclusion,
        super::log::consistency,
        super::admin::create_challenge,
        super::admin::close_challenge,
        super::admin::decide_claim,
    ),
    components(schemas(
        ErrorBody,
        api::ChallengeSummary,
        api::ChallengeView,
        api::ClaimView,
        api::Receipt,
        api::VerdictView,
        TrackFields,
    )),
    modifiers(&Servers),
)]
pub struct ApiDoc;

/// The bearer-token security scheme's name.
const BEARER: &str = "bearer";

/// Names the server relative to the document, so a client generated from it reaches the
/// server that served it, and declares the bearer tokens.
struct Servers;

impl utoipa::Modify for Servers {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.servers = Some(vec![Server::new("/")]);
        if let Some(components) = doc.components.as_mut() {
            components.add_security_scheme(
                BEARER,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "The operator's admin token (admin endpoints) or a session's token (its commands and record)",
                        ))
                        .build(),
                ),
            );
        }
    }
}

/// The document, built from the code.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /openapi.json`: this API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json", body = Object),
        CommonErrors,
    )
)]
pub async fn openapi_json(State(_): State<Arc<HttpState>>) -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::API_ROUTES;
    use super::document;

    /// Every (path, method) of the document's paths.
    fn documented() -> BTreeSet<(String, String)> {
        let doc = serde_json::to_value(document()).unwrap();
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "put", "delete", "patch", "head", "options"]
                    .contains(&method.as_str())
                {
                    out.insert((path.clone(), method.clone()));
                }
            }
        }
        out
    }

    /// The route table under `/api/v1` and the document's paths under it are the same set of
    /// (path, method), and `/metrics` is documented too.
    #[test]
    fn route_table_and_document_do_not_drift() {
        let routes: BTreeSet<(String, String)> = API_ROUTES
            .iter()
            .map(|(p, m)| (format!("/api/v1{p}"), (*m).to_owned()))
            .collect();
        assert_eq!(routes.len(), API_ROUTES.len(), "a route is declared twice");
        let mut documented = documented();
        assert!(
            documented.remove(&("/metrics".to_owned(), "get".to_owned())),
            "/metrics is not documented"
        );
        let missing: Vec<_> = routes.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&routes).collect();
        assert!(
            missing.is_empty(),
            "routes without a documented path: {missing:?}"
        );
        assert!(
            extra.is_empty(),
            "documented paths without a route: {extra:?}"
        );
    }

    /// The document is OpenAPI 3.1, every operation lists an error response with the error
    /// body, and every schema it refers to is among its components.
    #[test]
    fn document_is_complete() {
        let doc = serde_json::to_value(document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.contains_key("500") && responses.contains_key("429"),
                    "{method} {path} lacks the common errors"
                );
                assert!(op["summary"].is_string(), "{method} {path} has no summary");
            }
        }
        for (i, _) in text.match_indices("#/components/schemas/") {
            let rest = &text[i + "#/components/schemas/".len()..];
            let name = &rest[..rest.find('"').unwrap()];
            assert!(
                schemas.contains_key(name),
                "{name} is referred to but not defined"
            );
        }
    }

    /// Every request-body example of the document loads as its endpoint's request type, and
    /// the commit example is the commitment of the reveal example's claim (docs/API.md's worked
    /// example).
    #[test]
    fn request_examples_load_and_agree() {
        let doc = serde_json::to_value(document()).unwrap();
        let example = |path: &str| {
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["example"]
                .clone()
        };
        let commit: crate::api::CommitRequest =
            serde_json::from_value(example("/api/v1/claims/commit")).unwrap();
        let reveal: crate::api::RevealRequest =
            serde_json::from_value(example("/api/v1/claims/{id}/reveal")).unwrap();
        let _: crate::sessions::OpenRequest =
            serde_json::from_value(example("/api/v1/challenges/{id}/sessions")).unwrap();
        let text = format!(
            "challenge-server/v1/claim\nchallenge: {}\nclaimant: {}\nkind: {}\nmessage: {}\nsecret: {}\nnonce: {}\n",
            commit.challenge,
            commit.claimant,
            reveal.kind,
            reveal.message.unwrap(),
            reveal.secret.as_deref().unwrap(),
            reveal.nonce,
        );
        assert_eq!(
            hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()])),
            commit.commitment
        );
    }
}
