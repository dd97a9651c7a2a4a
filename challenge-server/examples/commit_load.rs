//! Measures how many claim commits per second the server durably accepts over loopback: an
//! in-process server on a temporary data directory (SQLite, WAL, `synchronous = FULL`), one
//! challenge, and `CLIENTS` concurrent HTTP clients posting `TOTAL` distinct commits. Every
//! response counted is a 201 with a signed receipt, sent after the commit's transaction
//! committed. A bounded load: it stops by itself.
//!
//! `cargo run --release -p challenge-server --example commit_load [total] [clients]`

// An example that reports a measurement: a failed setup step may abort it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use challenge_server::clock::Clock;
use challenge_server::tracks::{ChallengeSpec, ScheduleSpec};
use challenge_server::{App, Config, RunningServer, challenges};

#[tokio::main]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    let clients: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);
    let dir = std::env::temp_dir().join(format!("commit-load-{}", std::process::id()));
    let mut config = Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.clone(),
        kek: Some("00".repeat(32)),
        ..Config::default()
    };
    config.limits.per_address_per_minute = u32::MAX;
    config.limits.per_address_burst = u32::MAX;
    config.limits.per_claimant_per_minute = u32::MAX;
    config.limits.per_claimant_burst = u32::MAX;
    let app = App::open(config, Clock::System).await.unwrap();
    let spec = ChallengeSpec {
        title: "load".to_owned(),
        rules: "load test".to_owned(),
        track: "passive".to_owned(),
        bounty: [("secret".to_owned(), "none".to_owned())].into(),
        schedule: ScheduleSpec {
            messages: 1,
            interval_secs: 3600,
            start_at: None,
            start_in_secs: None,
        },
        deadline: None,
        deadline_after_last_secs: None,
        close_on_win: false,
        secrets: 1,
        params: Default::default(),
        reveal_window_secs: None,
    };
    let id = challenges::create(&app, spec, None).await.unwrap().id;
    let server = RunningServer::start(app).await.unwrap();
    let url = format!("{}/api/v1/claims/commit", server.url());
    let http = reqwest::Client::new();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, id) = (http.clone(), url.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for i in (c..total).step_by(clients) {
                let commitment = hex::encode(target_impl::hazmat::sha256(&[&i.to_be_bytes()]));
                let body = serde_json::json!({
                    "challenge": id, "claimant": format!("client-{c}"), "commitment": commitment
                });
                let r = http.post(&url).json(&body).send().await.unwrap();
                assert_eq!(
                    r.status().as_u16(),
                    201,
                    "{}",
                    r.text().await.unwrap_or_default()
                );
                let receipt: serde_json::Value = r.json().await.unwrap();
                assert!(
                    receipt["signature"]
                        .as_str()
                        .is_some_and(|s| s.len() == 128)
                );
                ok += 1;
            }
            ok
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{accepted} claim commits in {secs:.2} s with {clients} concurrent clients: {:.0} commits/s \
         (each durable before its signed receipt; log size {})",
        accepted as f64 / secs,
        server.app.log.size().await
    );
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
