//! Health over real HTTP: each published entry is solved once, however many requests arrive,
//! and the result stays right across a restart and as new entries publish.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use common::*;

const T0: u64 = 1_800_000_000;

/// The solver run from scratch over the first `n` entries, as `/health` must report it.
fn expected(
    seed: &MasterSeed,
    row: &challenge_server::store::challenges::ChallengeRow,
    placements: &[passive::SecretPlacement],
    n: u64,
) -> passive::SolveReport {
    let steps = passive::replay(seed, &row.schedule, placements, n - 1).unwrap();
    passive::solve(seed, &row.schedule, placements, &steps).unwrap()
}

async fn burst(client: &Client, id: &str) -> serde_json::Value {
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.get("/health").await }));
    }
    let mut last = None;
    for t in tasks {
        let (s, v) = t.await.unwrap();
        assert_eq!(s, 200, "{v}");
        let c = v["challenges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone();
        if let Some(prev) = &last {
            assert_eq!(prev, &c);
        }
        last = Some(c);
    }
    last.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_solves_each_entry_once_across_bursts_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.limits.monitor_burst = 1000;
    let clock = Clock::manual(T0);
    let server = start(cfg.clone(), clock.clone()).await;
    let client = Client::new(&server.url());
    let seed = MasterSeed::from_bytes([7; 32]);
    let row = challenges::create(&server.app, spec(8, 10, 3, 10), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    let placements = challenge_server::store::challenges::secrets(&server.app.store, &id)
        .await
        .unwrap();
    let check = |c: &serde_json::Value, n: u64| {
        let want = expected(&seed, &row, &placements, n);
        assert_eq!(c["solvable"], true, "{c}");
        assert_eq!(c["entries_checked"], want.entries_checked);
        assert_eq!(c["secrets_confirmed"], want.secrets_confirmed);
        assert_eq!(c["secrets_pending"], want.secrets_pending);
    };

    clock.advance(10 * 4);
    client.wait_published(&id, 4).await;
    let c = burst(&client, &id).await;
    check(&c, 4);
    clock.advance(10 * 2);
    client.wait_published(&id, 6).await;
    let c = burst(&client, &id).await;
    check(&c, 6);
    assert_eq!(
        server.app.health.entries_solved(),
        6,
        "each published entry solved once, whatever the number of requests"
    );
    server.stop().await.unwrap();

    // A restart rebuilds the solver once from the stored transcript, then follows new entries.
    let server = start(cfg, clock.clone()).await;
    let client = Client::new(&server.url());
    let c = burst(&client, &id).await;
    check(&c, 6);
    clock.advance(10 * 3);
    client.wait_published(&id, 9).await;
    let c = burst(&client, &id).await;
    check(&c, 9);
    assert_eq!(c["secrets_confirmed"], 3);
    assert_eq!(server.app.health.entries_solved(), 9);
    assert_eq!(server.app.health.solvers_built(), 1);
    server.stop().await.unwrap();
}
