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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ErrorDetail {
    status: u16,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

/// What a client is told of an [`Error`], the same words for the API's JSON and the pages'
/// HTML: status, code, field, message, `Retry-After`, and the request id of an internal fault
/// (its detail goes to the log under that id only).
#[derive(Debug)]
pub struct Described {
    /// The status.
    pub status: StatusCode,
    /// The error code.
    pub code: &'static str,
    /// The field at fault.
    pub field: Option<String>,
    /// What was expected, in words.
    pub message: String,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
    /// The request id of an internal fault.
    pub request_id: Option<String>,
    /// Whether it is a database fault (for the metrics).
    pub database: bool,
}

impl Described {
    /// Describes `e`; an internal fault is logged here with its request id.
    pub fn of(e: Error) -> Self {
        let database = e.is_database();
        let (status, code, field, message, retry_after) = match e {
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
                let request_id =
                    crate::keys::random_hex(8).unwrap_or_else(|_| "unknown".to_owned());
                tracing::error!(request_id, detail, "internal error");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    field: None,
                    message: "internal error; quote the request id to the operator".to_owned(),
                    retry_after: None,
                    request_id: Some(request_id),
                    database,
                };
            }
        };
        Self {
            status,
            code,
            field,
            message,
            retry_after,
            request_id: None,
            database,
        }
    }

    /// Sets `Retry-After` and the database mark on a response made of it.
    pub fn finish(&self, mut response: Response) -> Response {
        if let Some(secs) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if self.database {
            response.extensions_mut().insert(DatabaseFault);
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let d = Described::of(self.0);
        let body = ErrorBody {
            error: ErrorDetail {
                status: d.status.as_u16(),
                code: d.code,
                field: d.field.clone(),
                message: d.message.clone(),
                request_id: d.request_id.clone(),
            },
        };
        d.finish((d.status, Json(body)).into_response())
    }
}

/// Marks a response that failed on a database error, for the metrics layer.
#[derive(Clone, Copy, Debug)]
pub struct DatabaseFault;

/// A handler's result.
pub type ApiResult<T> = Result<T, ApiError>;
