//! Shared helpers of the integration tests: a real server on a random loopback port with a
//! temporary data directory, and a small JSON client.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use challenge_server::clock::Clock;
use challenge_server::tracks::{ChallengeSpec, ScheduleSpec};
use challenge_server::{App, Config, RunningServer};
use serde_json::Value;

/// A fixed key-encryption key for tests.
pub const KEK_HEX: &str = "8f1c2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";

/// A test configuration on `dir`.
pub fn config(dir: &Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.to_path_buf(),
        kek: Some(KEK_HEX.to_owned()),
        ..Config::default()
    };
    config.scheduler.tick_ms = 20;
    config
}

/// Starts an in-process server.
pub async fn start(config: Config, clock: Clock) -> RunningServer {
    let app = App::open(config, clock).await.unwrap();
    RunningServer::start(app).await.unwrap()
}

/// A challenge definition with a fast schedule.
pub fn spec(messages: u64, interval_secs: u64, secrets: u32, after_last: u64) -> ChallengeSpec {
    ChallengeSpec {
        title: "Test challenge".to_owned(),
        rules: "Find a secret.".to_owned(),
        track: "passive".to_owned(),
        bounty: [
            ("secret".to_owned(), "100 EUR".to_owned()),
            ("finding".to_owned(), "50 EUR".to_owned()),
        ]
        .into(),
        schedule: ScheduleSpec {
            messages,
            interval_secs,
            start_at: None,
            start_in_secs: Some(interval_secs),
        },
        deadline: None,
        deadline_after_last_secs: Some(after_last),
        close_on_win: false,
        secrets,
    }
}

/// A JSON client for one server.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: format!("{base}/api/v1"),
            http: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, &body.to_string(), None).await
    }

    pub async fn post_raw(&self, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits until the challenge has `n` published entries.
    pub async fn wait_published(&self, id: &str, n: u64) {
        for _ in 0..600 {
            let (_, c) = self.get(&format!("/challenges/{id}")).await;
            if c["published_entries"].as_u64() == Some(n) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("challenge {id} never reached {n} published entries");
    }

    /// Waits until the challenge is closed.
    pub async fn wait_closed(&self, id: &str) -> Value {
        for _ in 0..600 {
            let (_, c) = self.get(&format!("/challenges/{id}")).await;
            if c["status"] == "closed" {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("challenge {id} never closed");
    }
}

/// The claim text's commitment, computed the way docs/API.md tells a researcher to.
pub fn secret_commitment(
    challenge: &str,
    claimant: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> String {
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {challenge}\nclaimant: {claimant}\nkind: secret\nmessage: {message}\nsecret: {secret_hex}\nnonce: {nonce_hex}\n"
    );
    hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]))
}

/// Commits a secret claim; returns (status, receipt or error).
pub async fn commit_secret(
    client: &Client,
    challenge: &str,
    claimant: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> (u16, Value) {
    let commitment = secret_commitment(challenge, claimant, message, secret_hex, nonce_hex);
    client
        .post(
            "/claims/commit",
            &serde_json::json!({"challenge": challenge, "claimant": claimant, "commitment": commitment}),
        )
        .await
}

/// Reveals a secret claim.
pub async fn reveal_secret(
    client: &Client,
    claim: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> (u16, Value) {
    client
        .post(
            &format!("/claims/{claim}/reveal"),
            &serde_json::json!({"kind": "secret", "message": message, "secret": secret_hex, "nonce": nonce_hex}),
        )
        .await
}

/// An `Arc<App>` for library calls next to the running server.
pub fn app(server: &RunningServer) -> Arc<App> {
    server.app.clone()
}
