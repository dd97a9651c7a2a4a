//! Extractors whose rejections are API errors naming the field: a JSON body (the serde path of
//! the first bad field), query parameters, the admin token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::HttpState;
use super::error::ApiError;
use crate::Error;

/// A JSON request body of type `T`, always an object; unknown fields, wrong types and missing
/// fields are 400s that name the field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<HttpState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<HttpState>) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim() == "application/json")
            });
        if !is_json {
            return Err(Error::invalid(
                "content-type",
                "expected `Content-Type: application/json`",
            )
            .into());
        }
        let limit = state.app.config.limits.body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError(Error::TooLarge { limit })
            } else {
                ApiError(Error::invalid("body", "the request body could not be read"))
            }
        })?;
        parse_json(&bytes).map(JsonBody).map_err(ApiError)
    }
}

/// Every body the API takes is a JSON object: serde's derived structs would also fill their
/// fields from an array in order, a form the API does not document.
fn require_object(bytes: &[u8]) -> Result<(), Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => Ok(()),
        Some(_) => Err(Error::invalid("body", "expected a JSON object")),
    }
}

/// Parses a JSON object, naming the first bad field by its path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    require_object(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let field = match message.strip_prefix("missing field `") {
            // A missing field is reported at its parent; name the field itself.
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                if path == "." {
                    name.to_owned()
                } else {
                    format!("{path}.{name}")
                }
            }
            None if path == "." || path == "?" => "body".to_owned(),
            None => path,
        };
        let message = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("malformed JSON: {inner}")
            }
            _ => strip_position(&inner.to_string()),
        };
        Error::invalid(field, message)
    })?;
    de.end()
        .map_err(|e| Error::invalid("body", format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// serde_json's messages end in " at line L column C"; the field path says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message).to_owned(),
        None => message.to_owned(),
    }
}

/// The path of one session, `/challenges/{id}/sessions/{session}/…`: a session number that is
/// not a decimal integer in its one spelling (no sign, no leading zero) is a 400 naming
/// `session` in the API's error JSON, not the router's plain-text rejection.
#[derive(Debug)]
pub struct SessionPath {
    /// The challenge.
    pub id: String,
    /// The session number.
    pub session: u64,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path((id, session)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::invalid("path", "malformed path"))?;
        let number = session
            .parse::<u64>()
            .ok()
            .filter(|n| n.to_string() == session)
            .ok_or_else(|| {
                Error::invalid(
                    "session",
                    "expected a session number: a decimal integer below 2^64, no sign or leading zero",
                )
            })?;
        Ok(SessionPath {
            id,
            session: number,
        })
    }
}

/// Query parameters, checked one by one.
#[derive(Debug)]
pub struct Params(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::invalid("query", "malformed query string"))?;
        Ok(Params(map))
    }
}

impl From<HashMap<String, String>> for Params {
    fn from(map: HashMap<String, String>) -> Self {
        Params(map)
    }
}

impl Params {
    /// A parameter's text, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Refuses any parameter not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), Error> {
        match self.0.keys().find(|k| !known.contains(&k.as_str())) {
            Some(unknown) => Err(Error::invalid(
                unknown.clone(),
                format!("unknown query parameter; expected one of {known:?}"),
            )),
            None => Ok(()),
        }
    }

    /// An unsigned integer parameter in `range`, or `default` if absent.
    pub fn u64(
        &self,
        name: &str,
        default: Option<u64>,
        range: core::ops::RangeInclusive<u64>,
    ) -> Result<u64, Error> {
        let expected = || {
            Error::invalid(
                name,
                format!(
                    "expected an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        };
        match self.0.get(name) {
            None => default.ok_or_else(|| Error::invalid(name, "required")),
            Some(text) => {
                let value: u64 = text.parse().map_err(|_| expected())?;
                if range.contains(&value) {
                    Ok(value)
                } else {
                    Err(expected())
                }
            }
        }
    }
}

/// A request that carried a valid admin token (`Authorization: Bearer <token>`).
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<Arc<HttpState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<HttpState>,
    ) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError(Error::Unauthorized))?;
        if state.app.is_admin_token(token.trim()).await? {
            Ok(Admin)
        } else {
            tracing::warn!("admin request with a wrong token");
            Err(ApiError(Error::Unauthorized))
        }
    }
}
