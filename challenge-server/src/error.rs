//! The one error type of the server's operations. A client's mistake names the field and what
//! was expected (DESIGN section 7); an internal fault carries its detail for the log only.

use core::fmt;

/// Why an operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A request field is malformed or out of range (HTTP 400).
    Invalid {
        /// The field, as named in the request (`challenge`, `schedule.messages`, ...).
        field: String,
        /// What was expected.
        message: String,
    },
    /// The id in `field` names nothing (HTTP 404).
    NotFound {
        /// The field that held the id.
        field: &'static str,
        /// What was looked for.
        message: String,
    },
    /// The request is well formed but not allowed in the current state (HTTP 409): a reveal
    /// twice, a commit after the close, ...
    Conflict {
        /// The field the conflict is about.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The revealed claim does not open the committed hash (HTTP 422).
    Unprocessable {
        /// The field the problem is about.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Missing or wrong admin token (HTTP 401).
    Unauthorized,
    /// Missing or wrong session token (HTTP 401): the session is its opener's alone.
    SessionUnauthorized,
    /// The request body is larger than the cap (HTTP 413).
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The request took longer than the configured timeout (HTTP 408).
    Timeout,
    /// The endpoint exists but not with this method (HTTP 405).
    MethodNotAllowed,
    /// Too many requests (HTTP 429); retry after this many seconds.
    RateLimited {
        /// Seconds until a retry can succeed.
        retry_after: u64,
    },
    /// A fault of the server (HTTP 500); the detail goes to the log, never to the client.
    Internal(String),
}

impl Error {
    /// A malformed or out-of-range field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An internal fault with its detail (for the log).
    pub fn internal(detail: impl fmt::Display) -> Self {
        Error::Internal(detail.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid { field, message } => write!(f, "{field}: {message}"),
            Error::NotFound { field, message }
            | Error::Conflict { field, message }
            | Error::Unprocessable { field, message } => write!(f, "{field}: {message}"),
            Error::Unauthorized => f.write_str("missing or wrong admin token"),
            Error::SessionUnauthorized => f.write_str("missing or wrong session token"),
            Error::TooLarge { limit } => write!(f, "request body larger than {limit} bytes"),
            Error::Timeout => f.write_str("request timed out"),
            Error::MethodNotAllowed => f.write_str("method not allowed"),
            Error::RateLimited { retry_after } => {
                write!(f, "too many requests; retry after {retry_after} s")
            }
            Error::Internal(detail) => write!(f, "internal error: {detail}"),
        }
    }
}

impl std::error::Error for Error {}

/// How an internal error from the database begins (the metrics count them apart).
pub const DATABASE_PREFIX: &str = "database: ";

impl Error {
    /// Whether it is a database fault.
    pub fn is_database(&self) -> bool {
        matches!(self, Error::Internal(detail) if detail.starts_with(DATABASE_PREFIX))
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(format!("{DATABASE_PREFIX}{e}"))
    }
}

#[cfg(feature = "server")]
impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(format!("migration: {e}"))
    }
}

impl From<target_impl::Error> for Error {
    fn from(e: target_impl::Error) -> Self {
        Error::Internal(format!("target-impl: {e}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(format!("io: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Internal(format!("json: {e}"))
    }
}
