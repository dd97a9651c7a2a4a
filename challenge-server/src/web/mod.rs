//! The public pages (DESIGN section 4, "Parts"): server-rendered HTML that needs no
//! JavaScript, one stylesheet and nothing fetched from elsewhere. Each page shows what a JSON
//! endpoint under `/api/v1` serves (named on the page), through the same lifecycle functions,
//! so the two cannot disagree; errors are pages with the API's own words
//! ([`crate::http::error::Described`]).
//!
//! Templates live in `challenge-server/templates/` and are compiled with the crate (askama):
//! a field a template names that its page does not have fails the build.

mod pages;
mod time;

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Error;
use crate::http::HttpState;
use crate::http::error::Described;
use crate::http::extract::Params;
pub use pages::*;

/// The stylesheet every page links, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("../../templates/style.css");
/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/static/style.css";

/// An error on its way to a browser: the API's status and words, as a page.
#[derive(Debug)]
pub struct PageError(pub Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let d = Described::of(self.0);
        let page = ErrorPage {
            status: d.status.as_u16(),
            reason: d.status.canonical_reason().unwrap_or("Error"),
            code: d.code,
            field: d.field.clone(),
            message: d.message.clone(),
            request_id: d.request_id.clone(),
            retry_after: d.retry_after,
        };
        let response = match page.render() {
            Ok(html) => (d.status, html_headers(), html).into_response(),
            Err(_) => (d.status, d.message.clone()).into_response(),
        };
        d.finish(response)
    }
}

/// A page's result.
pub type PageResult = Result<Response, PageError>;

fn html_headers() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "text/html; charset=utf-8")]
}

fn html(page: &impl Template) -> PageResult {
    let body = page
        .render()
        .map_err(|e| Error::internal(format!("template: {e}")))?;
    Ok((StatusCode::OK, html_headers(), body).into_response())
}

fn params(
    query: Result<Query<HashMap<String, String>>, impl std::fmt::Debug>,
) -> Result<Params, Error> {
    query
        .map(|Query(map)| Params::from(map))
        .map_err(|_| Error::invalid("query", "malformed query string"))
}

/// `GET /static/style.css`.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// `GET /`: the challenges.
pub async fn index(State(s): State<Arc<HttpState>>) -> PageResult {
    html(&IndexPage::load(&s.app).await?)
}

/// `GET /challenges/{id}`.
pub async fn challenge(State(s): State<Arc<HttpState>>, Path(id): Path<String>) -> PageResult {
    html(&ChallengePage::load(&s.app, &id, &s.base_url).await?)
}

/// `GET /challenges/{id}/transcript?from=`.
pub async fn transcript(
    State(s): State<Arc<HttpState>>,
    Path(id): Path<String>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    html(&TranscriptBrowser::load(&s.app, &id, &params(query)?).await?)
}

/// `GET /claims/{id}`.
pub async fn claim(State(s): State<Arc<HttpState>>, Path(id): Path<String>) -> PageResult {
    html(&ClaimPage::load(&s.app, &id).await?)
}

/// `GET /how-to-claim`: the claim text, a worked example, the CLI, and a form that takes a
/// commitment computed on the claimant's machine (never the secret).
pub async fn how_to_claim(State(s): State<Arc<HttpState>>) -> PageResult {
    html(&HowToClaimPage::load(&s.app, &s.base_url).await?)
}

/// `POST /claims` (a form): commits a precomputed commitment and shows the receipt to keep.
pub async fn commit_form(
    State(s): State<Arc<HttpState>>,
    axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<std::net::SocketAddr>,
    form: Result<Form<CommitForm>, axum::extract::rejection::FormRejection>,
) -> PageResult {
    let Form(form) = form.map_err(|_| {
        Error::invalid(
            "body",
            "expected the form's fields challenge, claimant and commitment",
        )
    })?;
    let receipt = crate::http::claims::commit_charged(&s, addr, &form.request()).await?;
    let mut response = html(&ReceiptPage::new(receipt)?)?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `GET /hall-of-fame`: every won claim.
pub async fn hall_of_fame(State(s): State<Arc<HttpState>>) -> PageResult {
    html(&HallOfFamePage::load(&s.app).await?)
}

/// `GET /log?from=`: the latest checkpoint and the entries, decoded.
pub async fn log(
    State(s): State<Arc<HttpState>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    html(&LogPage::load(&s.app, &params(query)?).await?)
}

/// `GET /log/proof?index=&size=` or `?from=&to=`: an inclusion or a consistency proof.
pub async fn log_proof(
    State(s): State<Arc<HttpState>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    html(&ProofPage::load(&s.app, &params(query)?).await?)
}

/// Any other path outside `/api/v1`: a 404 page with the API's words.
pub async fn not_found() -> PageError {
    PageError(Error::NotFound {
        field: "path",
        message: "no such page; the pages start at / and the API at /api/v1 (docs/API.md)"
            .to_owned(),
    })
}
