//! The scheduler never fails silently (issue 15, item 4): a step that fails stops that
//! challenge's traffic, logs a `traffic-stopped` event, shows in /health, and the challenge still
//! closes at its deadline; `verify` then names the stop.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::seed::MasterSeed;
use challenge_server::verify::VerifyError;
use common::{Client, app, config, spec, start};

#[tokio::test]
async fn a_failed_step_stops_the_traffic_visibly_and_the_close_still_comes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let pinned = common::save_server_key(&client, &dir.path().join("pinned-key.json")).await;
    let row = challenges::create(
        &app(&server),
        spec(6, 10, 1, 30),
        Some(MasterSeed::from_bytes([5; 32])),
    )
    .await
    .unwrap();
    let id = row.id.clone();
    clock.advance(20); // entries 0 and 1
    client.wait_published(&id, 2).await;

    // Bob's sealed state is damaged (a disk fault, a bad restore): it no longer opens.
    sqlx::query("UPDATE challenge_parties SET sealed_state = x'00' WHERE challenge_id = $1 AND name = 'bob'")
        .bind(&id)
        .execute(app(&server).store.pool())
        .await
        .unwrap();
    clock.advance(30);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let health = loop {
        let (_, health) = client.get("/health").await;
        if health["status"] == "degraded" {
            break health;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "health never showed the stop: {health}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let problem = health["challenges"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("traffic stopped at entry 2"), "{problem}");
    let (_, view) = client.get(&format!("/challenges/{id}")).await;
    assert_eq!(
        view["published_entries"], 2,
        "nothing after the failed step"
    );

    // The stop is logged once, with the entry that failed.
    let (_, entries) = client.get("/log/entries?from=0&limit=100").await;
    let events: Vec<Event> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::event_of)
        .collect();
    let stops: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::TrafficStopped { .. }))
        .collect();
    assert_eq!(stops.len(), 1, "{stops:?}");
    assert!(matches!(stops[0], Event::TrafficStopped { index: 2, .. }));

    // The close is not skipped.
    clock.advance(60);
    let closed = client.wait_closed(&id).await;
    assert_eq!(closed["close_reason"], "deadline");

    // verify names the stop.
    match common::verify_http(&server, &id, &pinned, clock.now()).await {
        Err(VerifyError::Mismatch(m)) => {
            assert!(m.contains("traffic stopped at transcript entry 2"), "{m}")
        }
        other => panic!("a stopped challenge verified: {other:?}"),
    }
    server.stop().await.unwrap();
}
