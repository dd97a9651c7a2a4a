//! The client's view of the server's API: JSON in and out, every refusal turned into a
//! [`ClientError`] in plain words (the server's field and message, a 429's retry time, a lost
//! connection), every answer read up to a named cap.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ClientError, ErrorKind};

/// Largest answer the client reads (a transcript page of 1000 entries fits many times).
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How long one request may take.
pub const REQUEST_TIMEOUT_SECS: u64 = 60;

/// A server's API.
#[derive(Clone, Debug)]
pub struct Api {
    http: reqwest::Client,
    /// The server's root URL, without a trailing slash or `/api/v1`.
    pub root: String,
}

/// The server's root from a URL given as its root or its API base (`…/api/v1`).
pub fn server_root(url: &str) -> Result<String, ClientError> {
    let root = url.trim_end_matches('/');
    let root = root.strip_suffix("/api/v1").unwrap_or(root);
    if !(root.starts_with("http://") || root.starts_with("https://")) {
        return Err(ClientError::usage(format!(
            "--server {url:?}: expected an http:// or https:// URL"
        )));
    }
    Ok(root.to_owned())
}

impl Api {
    /// The API of the server at `url`.
    pub fn new(url: &str) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(REQUEST_TIMEOUT_SECS))
            .build()
            .map_err(|e| ClientError::usage(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            root: server_root(url)?,
        })
    }

    /// The full URL of API path `path` (`/claims/…`).
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.root)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<String, ClientError> {
        let mut response = request.send().await.map_err(|e| {
            if e.is_connect() {
                ClientError::new(
                    ErrorKind::Connection,
                    format!("cannot reach the server at {url}: {}", plain(e)),
                )
                .hint("check the server URL and your connection, then run the command again")
            } else {
                ClientError::new(
                    ErrorKind::Connection,
                    format!(
                        "the connection to {url} was lost before the answer: {}",
                        plain(e)
                    ),
                )
                .hint("run the command again")
            }
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large(url));
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len().saturating_add(chunk.len()) > MAX_RESPONSE_BYTES {
                        return Err(too_large(url));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(ClientError::new(
                        ErrorKind::Connection,
                        format!("the connection to {url} was lost: {}", plain(e)),
                    )
                    .hint("run the command again"));
                }
            }
        }
        let text = String::from_utf8(body)
            .map_err(|_| ClientError::mismatch(format!("{url}: the answer is not UTF-8 text")))?;
        if status.is_success() {
            return Ok(text);
        }
        Err(refusal(status.as_u16(), retry_after, &text))
    }

    /// `GET path` as text.
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let url = self.url(path);
        self.send(self.http.get(&url), &url).await
    }

    /// `GET path` as JSON of type `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let text = self.get_text(path).await?;
        parse(&self.url(path), &text)
    }

    /// `POST path` with a JSON body.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.url(path);
        let text = self.send(self.http.post(&url).json(body), &url).await?;
        parse(&url, &text)
    }
}

fn parse<T: DeserializeOwned>(url: &str, text: &str) -> Result<T, ClientError> {
    serde_json::from_str(text).map_err(|e| {
        ClientError::mismatch(format!("{url}: the answer is not the documented JSON: {e}"))
    })
}

fn too_large(url: &str) -> ClientError {
    ClientError::mismatch(format!(
        "{url}: the answer is larger than {MAX_RESPONSE_BYTES} bytes"
    ))
}

/// The error's own words without reqwest's URL repeated.
fn plain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

/// A refusal of the server in plain words: its error document's field and message (docs/API.md,
/// "Conventions"), a 429's retry time, a 5xx's request id.
pub fn refusal(status: u16, retry_after: Option<u64>, body: &str) -> ClientError {
    let doc: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let error = doc.as_ref().and_then(|d| d.get("error"));
    let field = error.and_then(|e| e.get("field")).and_then(|f| f.as_str());
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .unwrap_or("no explanation given");
    let said = match field {
        Some(field) => format!("{field}: {message}"),
        None => message.to_owned(),
    };
    let mut e = match status {
        429 => {
            let wait = retry_after.unwrap_or(60);
            ClientError::new(
                ErrorKind::RateLimited,
                format!("the server is rate-limiting you ({said})"),
            )
            .hint(format!("wait {wait} s, then run the command again"))
        }
        s if s >= 500 => {
            let id = error
                .and_then(|e| e.get("request_id"))
                .and_then(|r| r.as_str())
                .or_else(|| {
                    doc.as_ref()
                        .and_then(|d| d.get("request_id"))
                        .and_then(|r| r.as_str())
                })
                .unwrap_or("none");
            ClientError::new(
                ErrorKind::Connection,
                format!("the server failed ({s}, request id {id}): {said}"),
            )
            .hint("run the command again later; if it keeps failing, tell the operator the request id")
        }
        404 => ClientError::new(ErrorKind::Refused, format!("not found: {said}")),
        s => ClientError::new(
            ErrorKind::Refused,
            format!("the server refused ({s}): {said}"),
        ),
    };
    e.status = Some(status);
    e.retry_after = if status == 429 { retry_after } else { None };
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_plain_words() {
        let e = refusal(
            429,
            Some(17),
            r#"{"error":{"status":429,"code":"rate_limited","field":null,"message":"too many"}}"#,
        );
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after, Some(17));
        assert!(e.hint.unwrap().contains("wait 17 s"));
        let e = refusal(
            400,
            None,
            r#"{"error":{"status":400,"code":"invalid","field":"commitment","message":"expected hex"}}"#,
        );
        assert_eq!(
            e.message,
            "the server refused (400): commitment: expected hex"
        );
        assert_eq!(e.kind.exit_status(), 3);
        let e = refusal(
            500,
            None,
            r#"{"error":{"request_id":"r-1","message":"internal"}}"#,
        );
        assert!(e.message.contains("request id r-1"), "{e}");
    }

    #[test]
    fn server_roots() {
        assert_eq!(server_root("http://h:1/api/v1/").unwrap(), "http://h:1");
        assert_eq!(server_root("http://h:1/").unwrap(), "http://h:1");
        assert!(server_root("h:1").is_err());
    }
}
