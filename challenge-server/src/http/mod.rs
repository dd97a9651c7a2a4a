//! The HTTP API under `/api/v1` (docs/API.md): routes, extractors and the abuse layers (rate
//! limit per address, body cap, request timeout). Handlers read like the sentence of what they
//! do and call [`crate::challenges`], [`crate::claims`] and [`crate::log`].

pub mod admin;
pub mod claims;
pub mod error;
pub mod extract;
pub mod limits;
pub mod log;
pub mod openapi;
pub mod public;
pub mod sessions;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

use self::error::ApiError;
use self::limits::{AddressKey, RateLimiter};
use crate::Error;
use crate::metrics::{self, Limit};
use crate::state::App;
use crate::web;

/// The handlers' state. Its `Debug` shows the app's (which redacts every secret) and nothing of
/// the limiters' keys (client addresses).
pub struct HttpState {
    /// The service.
    pub app: Arc<App>,
    /// Requests per client address.
    pub per_address: RateLimiter,
    /// Accepted claim commits per (client address, claimant name).
    pub per_claimant: RateLimiter<(AddressKey, String)>,
    /// Health probes per client address, apart from the general budget.
    pub monitor: RateLimiter,
    /// How the pages name the server.
    pub base_url: String,
}

/// Paths with the monitoring budget instead of the general one.
const MONITOR_PATHS: [&str; 2] = ["/api/v1/health", "/metrics"];

/// Declares the API's route table once: [`API_ROUTES`] (path under `/api/v1` and method, read
/// by the OpenAPI drift test) and the router built from the same lines.
macro_rules! api_routes {
    ($($path:literal => $method:ident($handler:path)),* $(,)?) => {
        /// Every route under `/api/v1`: its path template and its method (lower case).
        pub const API_ROUTES: &[(&str, &str)] = &[$(($path, stringify!($method))),*];

        fn api_router() -> Router<Arc<HttpState>> {
            Router::new()$(.route($path, $method($handler)))*
        }
    };
}

api_routes! {
    "/openapi.json" => get(openapi::openapi_json),
    "/health" => get(public::health),
    "/server-key" => get(public::server_key),
    "/challenges" => get(public::challenges),
    "/challenges/{id}" => get(public::challenge),
    "/challenges/{id}/transcript" => get(public::transcript),
    "/challenges/{id}/transcript/download" => get(public::transcript_download),
    "/challenges/{id}/claims" => get(public::challenge_claims),
    "/challenges/{id}/sessions" => post(sessions::open),
    "/challenges/{id}/sessions/pow" => get(sessions::pow),
    "/challenges/{id}/sessions/{session}/commands" => post(sessions::command),
    "/challenges/{id}/sessions/{session}/record" => get(sessions::record),
    "/hall-of-fame" => get(public::hall_of_fame),
    "/claims/commit" => post(claims::commit),
    "/claims/{id}" => get(claims::claim),
    "/claims/{id}/reveal" => post(claims::reveal),
    "/log/checkpoint" => get(log::checkpoint),
    "/log/entries" => get(log::entries),
    "/log/proof/inclusion" => get(log::inclusion),
    "/log/proof/consistency" => get(log::consistency),
    "/admin/challenges" => post(admin::create_challenge),
    "/admin/challenges/{id}/close" => post(admin::close_challenge),
    "/admin/claims/{id}/decision" => post(admin::decide_claim),
}

/// The whole router; `base_url` is how the pages name the server (its public URL, or the
/// address it listens on).
pub fn router(app: Arc<App>, base_url: String) -> Router {
    let limits = app.config.limits.clone();
    let state = Arc::new(HttpState {
        per_address: RateLimiter::new(limits.per_address_per_minute, limits.per_address_burst),
        per_claimant: RateLimiter::new(limits.per_claimant_per_minute, limits.per_claimant_burst),
        monitor: RateLimiter::new(limits.monitor_per_minute, limits.monitor_burst),
        base_url,
        app,
    });
    let api = api_router().route_layer(middleware::from_fn(tag_route));
    let timeout = Duration::from_millis(limits.request_timeout_ms.max(1));
    Router::new()
        .nest("/api/v1", api)
        .route("/metrics", get(public::metrics))
        .route("/", get(web::index))
        .route(web::STYLESHEET_PATH, get(web::stylesheet))
        .route("/challenges/{id}", get(web::challenge))
        .route("/challenges/{id}/transcript", get(web::transcript))
        .route("/claims", post(web::commit_form))
        .route("/claims/{id}", get(web::claim))
        .route("/how-to-claim", get(web::how_to_claim))
        .route("/hall-of-fame", get(web::hall_of_fame))
        .route("/log", get(web::log))
        .route("/log/proof", get(web::log_proof))
        .route_layer(middleware::from_fn(tag_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), per_address))
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                    ApiError(Error::Timeout)
                }))
                .timeout(timeout),
        )
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn_with_state(state.clone(), measure))
        .with_state(state)
}

impl HttpState {
    /// The rate-limit key of a client address.
    pub fn address_key(&self, addr: SocketAddr) -> AddressKey {
        AddressKey::new(addr.ip(), self.app.config.limits.ipv6_prefix_len)
    }
}

/// Charges the client address's budget (health probes: the monitoring budget), and refuses a
/// declared body above the cap before reading any of it.
async fn per_address(
    State(state): State<Arc<HttpState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let key = state.address_key(addr);
    let limiter = if MONITOR_PATHS.contains(&request.uri().path()) {
        &state.monitor
    } else {
        &state.per_address
    };
    if let Err(e) = limiter.check(key) {
        state
            .app
            .metrics
            .refused(if std::ptr::eq(limiter, &state.monitor) {
                Limit::Monitor
            } else {
                Limit::Address
            });
        return refusal(request.uri(), e);
    }
    let limit = state.app.config.limits.body_bytes;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return refusal(request.uri(), Error::TooLarge { limit });
    }
    next.run(request).await
}

/// The route template a request matched, carried on its response to [`measure`] (which runs
/// before routing, where no template is known yet).
#[derive(Clone, Debug)]
struct Route(MatchedPath);

async fn tag_route(path: MatchedPath, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.extensions_mut().insert(Route(path));
    response
}

/// Counts every answered request by route template, method and status, with its latency,
/// and the database faults among them (the outermost layer: rate-limit refusals, timeouts and
/// unmatched paths count too).
async fn measure(State(state): State<Arc<HttpState>>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<Route>()
        .map_or(metrics::UNMATCHED_ROUTE, |r| r.0.as_str());
    let m = &state.app.metrics;
    m.request(
        route,
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    if response
        .extensions()
        .get::<error::DatabaseFault>()
        .is_some()
    {
        m.database_error();
    }
    response
}

/// Whether a path is the API's (JSON errors) rather than a page's (HTML errors).
fn is_api(uri: &Uri) -> bool {
    uri.path() == "/api" || uri.path().starts_with("/api/") || uri.path() == "/metrics"
}

/// A refusal before any handler: JSON for the API, a page for the pages, same words.
fn refusal(uri: &Uri, e: Error) -> Response {
    if is_api(uri) {
        ApiError(e).into_response()
    } else {
        web::PageError(e).into_response()
    }
}

async fn not_found(uri: Uri) -> Response {
    if is_api(&uri) {
        ApiError(Error::NotFound {
            field: "path",
            message: "no such endpoint; see docs/API.md (everything is under /api/v1)".to_owned(),
        })
        .into_response()
    } else {
        web::not_found().await.into_response()
    }
}

async fn method_not_allowed(uri: Uri) -> Response {
    refusal(&uri, Error::MethodNotAllowed)
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}
