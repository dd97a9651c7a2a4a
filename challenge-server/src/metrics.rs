//! The operator's metrics, scraped at `GET /metrics` in the Prometheus text format
//! (docs/OPERATING.md, "Metrics"). One explicit registry per [`App`](crate::state::App), never
//! a global recorder, so two servers in one process (the tests) count apart.
//!
//! No label carries a secret, a claimant's evidence or an unbounded value: routes are the
//! router's path templates (`/api/v1/claims/{id}`, never the id), methods and statuses come
//! from fixed sets, kinds and verdicts from the tracks' and the lifecycle's `&'static str`s,
//! and the only per-object label is the challenge id, which only the operator creates.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

use prometheus::core::Collector;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use crate::Error;

/// The label of a request the router matched to no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Most challenges with a scheduler-lag series; past it, the lag of further challenges is not
/// exported (their ids are logged by the scheduler instead).
pub const MAX_LAG_SERIES: usize = 1_000;

/// The content type of the metrics page.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A claim kind as a label: one of the registered tracks' kinds, else `other`.
pub fn kind_label(kind: Option<&str>) -> &'static str {
    crate::tracks::TRACKS
        .iter()
        .flat_map(|t| t.win_kinds().iter().copied())
        .find(|k| Some(*k) == kind)
        .unwrap_or("other")
}

/// Which rate limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Requests per client address.
    Address,
    /// Health probes per client address.
    Monitor,
    /// Accepted claim commits per (address, claimant).
    Claimant,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Limit::Address => "address",
            Limit::Monitor => "monitor",
            Limit::Claimant => "claimant",
        }
    }
}

/// Every series the server exports, and the registry that renders them.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    commits: IntCounter,
    verdicts: IntCounterVec,
    refusals: IntCounterVec,
    lag: IntGaugeVec,
    /// The challenges with a lag series.
    lag_series: Mutex<BTreeSet<String>>,
    log_entries: IntGauge,
    database_errors: IntCounter,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The method's name if it is one the API serves or a client commonly sends, else `other`
/// (a method is any token a client makes up).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    KNOWN
        .iter()
        .copied()
        .find(|m| *m == method)
        .unwrap_or("other")
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, c: C) -> Result<C, Error> {
    registry
        .register(Box::new(c.clone()))
        .map_err(|e| Error::internal(format!("metrics: {e}")))?;
    Ok(c)
}

fn metrics_error(e: prometheus::Error) -> Error {
    Error::internal(format!("metrics: {e}"))
}

impl Metrics {
    /// Every series at zero.
    pub fn new() -> Result<Self, Error> {
        let registry = Registry::new_custom(Some("challenge_server".to_owned()), None)
            .map_err(metrics_error)?;
        let r = &registry;
        let counters = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).map_err(metrics_error)
        };
        let requests = register(
            r,
            counters(
                "http_requests_total",
                "HTTP requests answered, by route template, method and status.",
                &["route", "method", "status"],
            )?,
        )?;
        let latency = register(
            r,
            HistogramVec::new(
                HistogramOpts::new(
                    "http_request_duration_seconds",
                    "Time from a request's arrival to its response, by route template and method.",
                )
                .buckets(prometheus::exponential_buckets(0.000_5, 2.0, 16).map_err(metrics_error)?),
                &["route", "method"],
            )
            .map_err(metrics_error)?,
        )?;
        let commits = register(
            r,
            IntCounter::new(
                "claim_commits_total",
                "Claim commits accepted (each with a signed receipt).",
            )
            .map_err(metrics_error)?,
        )?;
        let verdicts = register(
            r,
            counters(
                "verdicts_total",
                "Verdicts logged, by kind of win, verdict and who decided.",
                &["kind", "verdict", "decided_by"],
            )?,
        )?;
        let refusals = register(
            r,
            counters(
                "rate_limit_refusals_total",
                "Requests refused by a rate limit (429), by limit.",
                &["limit"],
            )?,
        )?;
        let lag = register(
            r,
            IntGaugeVec::new(
                Opts::new(
                    "scheduler_lag_seconds",
                    "How long the oldest due transcript entry of an open challenge has waited \
                     (0: on time).",
                ),
                &["challenge"],
            )
            .map_err(metrics_error)?,
        )?;
        let log_entries = register(
            r,
            IntGauge::new("log_entries", "Entries in the transparency log.")
                .map_err(metrics_error)?,
        )?;
        let database_errors = register(
            r,
            IntCounter::new(
                "database_errors_total",
                "Requests that failed on a database error.",
            )
            .map_err(metrics_error)?,
        )?;
        Ok(Self {
            registry,
            requests,
            latency,
            commits,
            verdicts,
            refusals,
            lag,
            lag_series: Mutex::new(BTreeSet::new()),
            log_entries,
            database_errors,
        })
    }

    /// A request answered: `route` is the matched path template ([`UNMATCHED_ROUTE`] for none).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let method = method_label(method);
        let status = status.to_string();
        if let Ok(c) = self
            .requests
            .get_metric_with_label_values(&[route, method, &status])
        {
            c.inc();
        }
        if let Ok(h) = self.latency.get_metric_with_label_values(&[route, method]) {
            h.observe(seconds);
        }
    }

    /// A claim commit accepted.
    pub fn commit(&self) {
        self.commits.inc();
    }

    /// A verdict logged.
    pub fn verdict(&self, kind: &'static str, verdict: &'static str, decided_by: &'static str) {
        if let Ok(c) = self
            .verdicts
            .get_metric_with_label_values(&[kind, verdict, decided_by])
        {
            c.inc();
        }
    }

    /// A request refused by `limit`.
    pub fn refused(&self, limit: Limit) {
        if let Ok(c) = self.refusals.get_metric_with_label_values(&[limit.name()]) {
            c.inc();
        }
    }

    /// Challenge `id`'s scheduler lag after a tick. A new challenge gets a series only while
    /// fewer than [`MAX_LAG_SERIES`] exist.
    pub fn lag(&self, id: &str, seconds: u64) {
        let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
        {
            let Ok(mut ids) = self.lag_series.lock() else {
                return;
            };
            if !ids.contains(id) {
                if ids.len() >= MAX_LAG_SERIES {
                    return;
                }
                ids.insert(id.to_owned());
            }
        }
        if let Ok(g) = self.lag.get_metric_with_label_values(&[id]) {
            g.set(seconds);
        }
    }

    /// Drops challenge `id`'s lag series (it closed).
    pub fn forget(&self, id: &str) {
        if let Ok(mut ids) = self.lag_series.lock()
            && ids.remove(id)
        {
            let _ = self.lag.remove_label_values(&[id]);
        }
    }

    /// A request failed on a database error.
    pub fn database_error(&self) {
        self.database_errors.inc();
    }

    /// The page, with the log's size as of now.
    pub fn render(&self, log_entries: u64) -> Result<String, Error> {
        self.log_entries
            .set(i64::try_from(log_entries).unwrap_or(i64::MAX));
        let mut out = String::new();
        TextEncoder::new()
            .encode_utf8(&self.registry.gather(), &mut out)
            .map_err(metrics_error)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lag_series_lives_while_its_challenge_is_open_and_the_family_is_capped() {
        let m = Metrics::new().unwrap();
        m.lag("c1", 7);
        m.lag("c1", 3);
        let page = m.render(5).unwrap();
        assert!(
            page.contains("challenge_server_scheduler_lag_seconds{challenge=\"c1\"} 3"),
            "{page}"
        );
        assert!(page.contains("challenge_server_log_entries 5"), "{page}");
        m.forget("c1");
        assert!(!m.render(5).unwrap().contains("c1"));
        for i in 0..MAX_LAG_SERIES + 5 {
            m.lag(&format!("x{i}"), 1);
        }
        let page = m.render(0).unwrap();
        assert_eq!(
            page.matches("challenge_server_scheduler_lag_seconds{")
                .count(),
            MAX_LAG_SERIES
        );
        // A known series still moves at the cap.
        m.lag("x0", 9);
        assert!(
            m.render(0)
                .unwrap()
                .contains("challenge_server_scheduler_lag_seconds{challenge=\"x0\"} 9")
        );
    }

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(kind_label(Some("secret")), "secret");
        assert_eq!(kind_label(Some("made-up")), "other");
        assert_eq!(kind_label(None), "other");
    }
}
