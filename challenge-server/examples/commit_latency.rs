//! Measures claim-commit latency over loopback, alone and under a concurrent read flood: an
//! in-process server on a temporary data directory (SQLite, WAL, `synchronous = FULL`), one
//! challenge with a published transcript, `COMMITS` sequential commits timed one by one, first
//! with no other traffic, then while `READERS` clients loop over the public reads (transcript
//! pages, the log checkpoint, log entries, health). Prints p50/p99 of each run. Bounded: it
//! stops after the commits.
//!
//! `cargo run --release -p challenge-server --example commit_latency [commits] [readers]`

// An example that reports a measurement: a failed setup step may abort it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use challenge_server::clock::Clock;
use challenge_server::tracks::{ChallengeSpec, ScheduleSpec};
use challenge_server::{App, Config, RunningServer, challenges};

async fn commits(http: &reqwest::Client, base: &str, id: &str, n: usize, tag: u8) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let commitment = hex::encode(target_impl::hazmat::sha256(&[&[tag], &i.to_be_bytes()]));
        let body =
            serde_json::json!({"challenge": id, "claimant": "bench", "commitment": commitment});
        let start = Instant::now();
        let r = http
            .post(format!("{base}/claims/commit"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let _ = r.bytes().await.unwrap();
        out.push(start.elapsed());
    }
    out.sort();
    out
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let readers: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(32);
    let dir = std::env::temp_dir().join(format!("commit-latency-{}", std::process::id()));
    let mut config = Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.clone(),
        kek: Some("00".repeat(32)),
        ..Config::default()
    };
    config.scheduler.tick_ms = 20;
    for l in [
        &mut config.limits.per_address_per_minute,
        &mut config.limits.per_address_burst,
        &mut config.limits.per_claimant_per_minute,
        &mut config.limits.per_claimant_burst,
        &mut config.limits.monitor_per_minute,
        &mut config.limits.monitor_burst,
    ] {
        *l = u32::MAX;
    }
    let clock = Clock::manual(1_800_000_000);
    let app = App::open(config, clock.clone()).await.unwrap();
    let spec = ChallengeSpec {
        title: "latency".to_owned(),
        rules: "latency test".to_owned(),
        track: "passive".to_owned(),
        bounty: [("secret".to_owned(), "none".to_owned())].into(),
        schedule: ScheduleSpec {
            messages: 200,
            interval_secs: 1,
            start_at: None,
            start_in_secs: Some(1),
        },
        deadline: None,
        deadline_after_last_secs: Some(86_400),
        close_on_win: false,
        secrets: 1,
        params: Default::default(),
        reveal_window_secs: None,
    };
    let id = challenges::create(&app, spec, None).await.unwrap().id;
    let server = RunningServer::start(app).await.unwrap();
    clock.advance(202);
    let base = format!("{}/api/v1", server.url());
    let http = reqwest::Client::new();
    while server.app.health.entries_solved() < 201 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let _ = commits(&http, &base, &id, 20, 0).await; // warm-up
    let quiet = commits(&http, &base, &id, n, 1).await;

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for r in 0..readers {
        let (http, base, id, stop, reads) = (
            http.clone(),
            base.clone(),
            id.clone(),
            stop.clone(),
            reads.clone(),
        );
        flood.push(tokio::spawn(async move {
            let paths = [
                format!("/challenges/{id}/transcript?from=0&limit=100"),
                "/log/checkpoint".to_owned(),
                "/log/entries?from=0&limit=100".to_owned(),
                "/health".to_owned(),
                format!("/challenges/{id}"),
            ];
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let r = http
                    .get(format!("{base}{}", paths[i % paths.len()]))
                    .send()
                    .await
                    .unwrap();
                let _ = r.bytes().await.unwrap();
                reads.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let flooded = commits(&http, &base, &id, n, 2).await;
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        t.await.unwrap();
    }
    println!("commit latency over loopback, {n} sequential commits each run (ms):");
    println!(
        "  no other traffic : p50 {:7.2}  p99 {:7.2}",
        pct(&quiet, 0.5),
        pct(&quiet, 0.99)
    );
    println!(
        "  {readers} readers flooding: p50 {:7.2}  p99 {:7.2}  ({:.0} reads/s alongside)",
        pct(&flooded, 0.5),
        pct(&flooded, 0.99),
        reads.load(Ordering::Relaxed) as f64 / secs
    );
    server.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
