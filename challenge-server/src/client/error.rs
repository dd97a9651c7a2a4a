//! The client's one error type: what went wrong in plain words, what to do next, and the exit
//! status and JSON code a script reads.

use core::fmt;

/// What kind of failure, which decides the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A check of the server's signatures, proofs or documents failed (exit status 1).
    Mismatch,
    /// A bad argument or a missing or unreadable local file (exit status 2).
    Usage,
    /// The server refused the request: a 4xx other than 429 (exit status 3).
    Refused,
    /// The server asked to slow down: a 429 (exit status 4).
    RateLimited,
    /// The server could not be reached, or failed (5xx) (exit status 5).
    Connection,
}

impl ErrorKind {
    /// The process exit status.
    pub fn exit_status(self) -> u8 {
        match self {
            ErrorKind::Mismatch => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Refused => 3,
            ErrorKind::RateLimited => 4,
            ErrorKind::Connection => 5,
        }
    }

    /// The `code` of the `--json` error document.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Mismatch => "mismatch",
            ErrorKind::Usage => "usage",
            ErrorKind::Refused => "refused",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Connection => "connection",
        }
    }
}

/// A failed client command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientError {
    /// The kind (exit status).
    pub kind: ErrorKind,
    /// What went wrong.
    pub message: String,
    /// What to do next, if anything helps.
    pub hint: Option<String>,
    /// The HTTP status, for an answer of the server.
    pub status: Option<u16>,
    /// Seconds to wait before a retry (a 429).
    pub retry_after: Option<u64>,
}

impl ClientError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            status: None,
            retry_after: None,
        }
    }

    /// A bad argument or local file.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A failed check.
    pub fn mismatch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Mismatch, message)
    }

    /// The same error with what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The `--json` document of the error.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {
            "code": self.kind.code(),
            "message": self.message,
            "hint": self.hint,
            "status": self.status,
            "retry_after": self.retry_after,
        }})
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  next: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ClientError {}

impl From<crate::verify::VerifyError> for ClientError {
    fn from(e: crate::verify::VerifyError) -> Self {
        match e {
            crate::verify::VerifyError::Mismatch(m) => ClientError::mismatch(m),
            crate::verify::VerifyError::Source(m) => ClientError::usage(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_says_what_to_do_next_and_has_its_exit_status() {
        let e = ClientError::usage("no pinned key").hint("run `challenge-server client pin …`");
        assert_eq!(
            e.to_string(),
            "no pinned key\n  next: run `challenge-server client pin …`"
        );
        assert_eq!(e.kind.exit_status(), 2);
        assert_eq!(e.to_json()["error"]["code"], "usage");
        assert_eq!(ErrorKind::Mismatch.exit_status(), 1);
    }
}
