//! Abuse over real HTTP: nobody spends another claimant's commit budget, health probes keep
//! their own budget, and a declared oversized body is refused before it is read.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use common::*;
use serde_json::json;

const T0: u64 = 1_800_000_000;

/// A client whose connections come from `local` (any 127.0.0.0/8 address works on loopback).
fn client_from(base: &str, local: &str) -> Client {
    Client {
        base: format!("{base}/api/v1"),
        http: reqwest::Client::builder()
            .local_address(Some(local.parse().unwrap()))
            .build()
            .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_commits_and_other_addresses_do_not_spend_a_claimants_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.limits.per_claimant_burst = 2;
    config.limits.per_claimant_per_minute = 1;
    let server = start(config, Clock::manual(T0)).await;
    let app = app(&server);
    let id = challenges::create(&app, spec(3, 10, 1, 10), None)
        .await
        .unwrap()
        .id;
    let victim = Client::new(&server.url());
    let attacker = client_from(&server.url(), "127.0.0.2");

    // Commits under the victim's name to a challenge that does not exist: each a 404, from
    // the victim's own address and from another.
    for (i, client) in [&victim, &attacker].iter().cycle().take(20).enumerate() {
        let (s, v) = commit_secret(
            client,
            "0123456789abcdef",
            "victim",
            1,
            &"00".repeat(16),
            &hex::encode([i as u8; 32]),
        )
        .await;
        assert_eq!(s, 404, "{v}");
    }
    // Accepted commits under the victim's name from another address spend that address's
    // budget only.
    let mut attacker_statuses = Vec::new();
    for i in 0..4u8 {
        let (s, _) = commit_secret(
            &attacker,
            &id,
            "victim",
            1,
            &"00".repeat(16),
            &hex::encode([100 + i; 32]),
        )
        .await;
        attacker_statuses.push(s);
    }
    assert_eq!(attacker_statuses, [201, 201, 429, 429]);
    // The victim's real commits still go through, up to the victim's own burst.
    let mut statuses = Vec::new();
    for i in 0..3u8 {
        let (s, _) = commit_secret(
            &victim,
            &id,
            "victim",
            1,
            &"11".repeat(16),
            &hex::encode([200 + i; 32]),
        )
        .await;
        statuses.push(s);
    }
    assert_eq!(statuses, [201, 201, 429]);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_probe_is_answered_while_its_address_budget_is_spent() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.limits.per_address_burst = 3;
    config.limits.per_address_per_minute = 1;
    config.limits.monitor_burst = 2;
    config.limits.monitor_per_minute = 1;
    let server = start(config, Clock::manual(T0)).await;
    let client = Client::new(&server.url());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(client.get("/server-key").await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
    let mut probes = Vec::new();
    for _ in 0..3 {
        probes.push(client.get("/health").await.0);
    }
    assert_eq!(
        probes,
        [200, 200, 429],
        "health has a small budget of its own"
    );
    assert_eq!(client.get("/server-key").await.0, 429);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_oversized_body_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path()), Clock::manual(T0)).await;
    let addr = server.addr;
    let (status, body) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(
            b"POST /api/v1/claims/commit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000000\r\n\r\n{\"challenge\":",
        )
        .unwrap();
        // Far below the 10 s request timeout: the answer must not wait for the body.
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = vec![0u8; 2048];
        let n = s.read(&mut buf).expect("an answer before the body arrives");
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        (text.split(' ').nth(1).unwrap_or_default().to_owned(), text)
    })
    .await
    .unwrap();
    assert_eq!(status, "413", "{body}");
    assert!(body.contains("\"too_large\""), "{body}");
    // A body within the cap is still read and judged.
    let client = Client::new(&server.url());
    let (s, v) = client
        .post("/claims/commit", &json!({"challenge": "x"}))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (400, Some("claimant")));
    server.stop().await.unwrap();
}
