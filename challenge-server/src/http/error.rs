//! Errors as HTTP responses (DESIGN section 7): a client's mistake gets its 4xx status and a
//! JSON body naming the field and what was expected; an internal fault gets a generic 500 with
//! a request id, and the detail goes to the log under that id only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::Error;

/// An [`Error`] on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

/// The JSON error body: `{"error": {...}}`.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Serialize)]
struct ErrorDetail {
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field, message, retry_after) = match self.0 {
            Error::Invalid { field, message } => (
                StatusCode::BAD_REQUEST,
                "invalid",
                Some(field),
                message,
                None,
            ),
            Error::NotFound { field, message } => (
                StatusCode::NOT_FOUND,
                "not_found",
                Some(field.to_owned()),
                message,
                None,
            ),
            Error::Conflict { field, message } => (
                StatusCode::CONFLICT,
                "conflict",
                Some(field.to_owned()),
                message,
                None,
            ),
            Error::Unprocessable { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "does_not_open",
                Some(field.to_owned()),
                message,
                None,
            ),
            Error::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization".to_owned()),
                "expected the header `Authorization: Bearer <admin token>`".to_owned(),
                None,
            ),
            Error::SessionUnauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                Some("authorization".to_owned()),
                "expected the header `Authorization: Bearer <session token>` with the token \
                 the session's open returned"
                    .to_owned(),
                None,
            ),
            Error::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                Some("body".to_owned()),
                format!("expected a request body of at most {limit} bytes"),
                None,
            ),
            Error::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                None,
                "the request took too long".to_owned(),
                None,
            ),
            Error::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                Some("method".to_owned()),
                "this endpoint does not take this method; see docs/API.md".to_owned(),
                None,
            ),
            Error::RateLimited { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                None,
                format!("too many requests; retry after {retry_after} s"),
                Some(retry_after),
            ),
            Error::Internal(detail) => {
                let database = detail.starts_with(crate::error::DATABASE_PREFIX);
                let request_id =
                    crate::keys::random_hex(8).unwrap_or_else(|_| "unknown".to_owned());
                tracing::error!(request_id, detail, "internal error");
                let body = ErrorBody {
                    error: ErrorDetail {
                        status: 500,
                        code: "internal",
                        field: None,
                        message: "internal error; quote the request id to the operator".to_owned(),
                        request_id: Some(request_id),
                    },
                };
                let mut response = (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
                if database {
                    response.extensions_mut().insert(DatabaseFault);
                }
                return response;
            }
        };
        let body = ErrorBody {
            error: ErrorDetail {
                status: status.as_u16(),
                code,
                field,
                message,
                request_id: None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Marks a response that failed on a database error, for the metrics layer.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseFault;

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;
