//! Kill the server process (SIGKILL, not a task) in the middle of a challenge and start it
//! again on the same data directory: the transcript resumes exactly where it stopped, with no
//! gap and no duplicate, byte for byte what the seed gives; the challenge closes and verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use challenge_server::verify::{self, Source};
use challenge_server::{App, challenges};
use common::*;

const SEED: [u8; 32] = [0x42; 32];

fn spawn(dir: &std::path::Path) -> ServerProcess {
    ServerProcess::serve(dir, &[("CHALLENGE_SERVER_SCHEDULER__TICK_MS", "50")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_way_resumes_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    // The challenge is created through the library (known seed), then the process serves it.
    let id = {
        let app = App::open(config(dir.path()), Clock::System).await.unwrap();
        let row = challenges::create(&app, spec(8, 1, 1, 1), Some(MasterSeed::from_bytes(SEED)))
            .await
            .unwrap();
        app.store.close().await;
        row
    };

    let first = spawn(dir.path());
    let client = Client::new(&first.url);
    let keys = tempfile::tempdir().unwrap();
    let pinned = save_server_key(&client, &keys.path().join("key.json")).await;
    // Wait for a few entries, then kill the process outright.
    let mut seen = 0;
    for _ in 0..400 {
        let (_, c) = client.get(&format!("/challenges/{}", id.id)).await;
        seen = c["published_entries"].as_u64().unwrap_or(0);
        if seen >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        seen >= 3,
        "the first server published 3 entries (saw {seen})"
    );
    first.kill();
    // Steps fall due while it is down.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let second = spawn(dir.path());
    let url = second.url.clone();
    let client = Client::new(&url);
    let closed = client.wait_closed(&id.id).await;
    assert_eq!(closed["published_entries"], 9);
    let (_, whole) = client
        .get(&format!("/challenges/{}/transcript/download", id.id))
        .await;
    let seed = MasterSeed::from_bytes(SEED);
    let placements = passive::placements(&seed, &id.schedule, 1).unwrap();
    let expected = passive::replay(&seed, &id.schedule, &placements, 8).unwrap();
    let entries = whole["entries"].as_array().unwrap();
    assert_eq!(entries.len(), expected.len());
    for (i, (e, step)) in entries.iter().zip(&expected).enumerate() {
        assert_eq!(e["index"], i as u64, "no gap, no duplicate");
        assert_eq!(
            e["bytes"],
            hex::encode(&step.bytes),
            "entry {i} is the seed's"
        );
        assert_eq!(
            e["time"], step.sent_at,
            "entry {i} carries its scheduled time"
        );
    }
    // One message event per entry in the log, every proof checks.
    let report = verify::verify(
        &Source::http(&url).unwrap(),
        &id.id,
        &pinned,
        &[],
        Clock::System.now(),
    )
    .await
    .unwrap();
    assert_eq!(report.entries, 9);
    second.kill();
}

/// A kill between storing an entry and publishing it: the restart publishes the stored bytes
/// (it does not play the step again) and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_but_unpublished_entry_is_published_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000);
    let app = App::open(config(dir.path()), clock.clone()).await.unwrap();
    let id = challenges::create(&app, spec(3, 10, 1, 10), Some(MasterSeed::from_bytes(SEED)))
        .await
        .unwrap()
        .id;
    clock.advance(20);
    challenges::run_due_steps(&app, &id).await.unwrap(); // entries 0 and 1
    let stored = challenges::store_next_entry(&app, &id)
        .await
        .unwrap()
        .unwrap(); // entry 2, unpublished
    assert_eq!(stored.index, 2);
    let size = app.log.size().await;
    app.store.close().await;
    drop(app);

    let app = App::open(config(dir.path()), clock.clone()).await.unwrap();
    assert_eq!(
        app.log.size().await,
        size,
        "the stored entry was not logged"
    );
    clock.advance(20); // entry 3 falls due too
    assert_eq!(challenges::run_due_steps(&app, &id).await.unwrap(), 2);
    let rows = challenge_server::store::transcript::page(&app.store, &id, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        rows[2].bytes, stored.bytes,
        "the stored bytes were published"
    );
    assert_eq!(app.log.size().await, size + 2, "one message event each");
}

/// `challenge create --file c.toml` creates a challenge in the data directory.
#[test]
fn cli_creates_a_challenge_from_toml() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(
        &file,
        "title = \"From the CLI\"\nrules = \"Find it.\"\nsecrets = 2\n[bounty]\nsecret = \"1 BTC\"\n\
         [schedule]\nmessages = 5\ninterval_secs = 60\n",
    )
    .unwrap();
    let out = run_cli(
        &[
            "challenge",
            "create",
            "--file",
            file.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[("CHALLENGE_SERVER_KEK", KEK_HEX)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["title"], "From the CLI");
    assert_eq!(view["secret_commitments"].as_array().unwrap().len(), 2);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "title = \"x\"\nrules = \"r\"\n[bounty]\nsecret = \"1\"\n[schedule]\nmessages = 0\ninterval_secs = 1\n").unwrap();
    let out = run_cli(
        &[
            "challenge",
            "create",
            "--file",
            bad.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[("CHALLENGE_SERVER_KEK", KEK_HEX)],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("schedule.messages"));
}

/// Every connection of the pool (all of them at once, so none is reused) runs with
/// `synchronous = FULL` and the WAL journal: a receipt is only sent after its commit reached the
/// disk's write path, as the kill test above relies on. (Killing the process proves the order
/// of "stored, then answered"; it cannot prove survival of a power loss: see
/// docs/THREAT-MODEL.md.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_connection_is_synchronous_full_with_wal() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(config(dir.path()), Clock::manual(1_800_000_000))
        .await
        .unwrap();
    let pool = app.store.pool();
    let max = pool.options().get_max_connections();
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(
            tokio::time::timeout(Duration::from_secs(30), pool.acquire())
                .await
                .expect("a pooled connection within 30 s")
                .unwrap(),
        );
    }
    assert_eq!(pool.size(), max, "{max} distinct connections are open");
    for (i, conn) in held.iter_mut().enumerate() {
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(synchronous, 2, "connection {i}: synchronous = FULL (2)");
        assert_eq!(journal, "wal", "connection {i}: journal_mode");
    }
    drop(held);
    app.store.close().await;
}
