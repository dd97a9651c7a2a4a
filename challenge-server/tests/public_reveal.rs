//! The public copy of a reveal (`claims.reveal_json`, migrations/0003_public_reveal.sql): the
//! close writes it for the claims revealed before it, a reveal after the close writes it at
//! once, and the claims pages of a closed challenge read it, never the sealed reveal (so they
//! need no KEK); the start-up backfills it for an older database; before the close it stays
//! NULL and the reveal hidden. Real servers on 127.0.0.1 over a temporary data directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use challenge_server::{App, RunningServer, challenges};
use common::*;
use serde_json::{Value, json};
use sqlx::Row;

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x3c; 32];
const FINDING: &str = "The prekey ids are sequential.";

fn nonce(b: u8) -> String {
    hex::encode([b; 32])
}

/// A challenge with its transcript published and, committed in this order: `alice` (a right
/// secret, revealed), `carol` (a finding, revealed), `dave` (a wrong secret, left unrevealed
/// for now), `erin` (committed, never revealed). Returns the challenge id, the claim ids in
/// that order and the reveal bodies of alice, carol and dave.
async fn setup(server: &RunningServer, clock: &Clock) -> (String, Vec<String>, Vec<Value>) {
    let client = Client::new(&server.url());
    let seed = MasterSeed::from_bytes(SEED);
    let row = challenges::create(&app(server), spec(3, 10, 1, 3600), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    clock.advance(40);
    client.wait_published(&id, 4).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());
    let wrong = "ab".repeat(16);

    let (s, alice) = commit_secret(&client, &id, "alice", p.message, &secret, &nonce(1)).await;
    assert_eq!(s, 201, "{alice}");
    let (s, carol) = commit_finding(&client, &id, "carol", FINDING, &nonce(2)).await;
    assert_eq!(s, 201, "{carol}");
    let (s, dave) = commit_secret(&client, &id, "dave", p.message, &wrong, &nonce(3)).await;
    assert_eq!(s, 201, "{dave}");
    let (s, erin) = commit_secret(&client, &id, "erin", p.message, &secret, &nonce(4)).await;
    assert_eq!(s, 201, "{erin}");
    let ids: Vec<String> = [&alice, &carol, &dave, &erin]
        .iter()
        .map(|r| r["claim"].as_str().unwrap().to_owned())
        .collect();

    let bodies = vec![
        json!({"kind": "secret", "message": p.message, "secret": secret, "nonce": nonce(1)}),
        json!({"kind": "finding", "finding": FINDING, "nonce": nonce(2)}),
        json!({"kind": "secret", "message": p.message, "secret": wrong, "nonce": nonce(3)}),
    ];
    for (claim, body, verdict) in [
        (&ids[0], &bodies[0], "won"),
        (&ids[1], &bodies[1], "needs-review"),
    ] {
        let (s, v) = client.post(&format!("/claims/{claim}/reveal"), body).await;
        assert_eq!((s, v["verdict"].as_str()), (200, Some(verdict)), "{v}");
    }
    (id, ids, bodies)
}

/// The raw body of a GET.
async fn get_text(client: &Client, path: &str) -> (u16, String) {
    let r = client
        .http
        .get(format!("{}{path}", client.base))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The stored public copies, by claim id order of `ids`.
async fn public_copies(app: &Arc<App>, ids: &[String]) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for id in ids {
        let row = sqlx::query("SELECT reveal_json FROM claims WHERE id = $1")
            .bind(id)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        out.push(row.get("reveal_json"));
    }
    out
}

/// Overwrites every sealed reveal with a byte that opens under no key.
async fn spoil_sealed_reveals(app: &Arc<App>) {
    let done =
        sqlx::query("UPDATE claims SET sealed_reveal = X'00' WHERE sealed_reveal IS NOT NULL")
            .execute(app.store.pool())
            .await
            .unwrap();
    assert!(done.rows_affected() > 0);
}

/// Asserts the claims page and each claim's own page show exactly `bodies` as the reveals of
/// the first claims, and nothing for the others; returns the raw claims page.
async fn assert_reveals_shown(
    client: &Client,
    id: &str,
    ids: &[String],
    bodies: &[Value],
) -> String {
    let (s, page) = get_text(client, &format!("/challenges/{id}/claims")).await;
    assert_eq!(s, 200, "{page}");
    let page_json: Value = serde_json::from_str(&page).unwrap();
    let claims = page_json["claims"].as_array().unwrap();
    assert_eq!(claims.len(), ids.len());
    for (i, claim_id) in ids.iter().enumerate() {
        assert_eq!(claims[i]["id"], claim_id.as_str());
        let expected = bodies.get(i).cloned().unwrap_or(Value::Null);
        assert_eq!(
            claims[i]["reveal"], expected,
            "claim {i} on the claims page"
        );
        let (s, one) = client.get(&format!("/claims/{claim_id}")).await;
        assert_eq!(s, 200, "{one}");
        assert_eq!(
            one, claims[i],
            "GET /claims/{claim_id} is its claims page entry"
        );
    }
    page
}

/// The claims pages of `server` show `bodies` as revealed, exactly as in `reference`.
async fn assert_pages_are(
    server: &RunningServer,
    id: &str,
    ids: &[String],
    bodies: &[Value],
    reference: &str,
) {
    let client = Client::new(&server.url());
    assert_eq!(
        assert_reveals_shown(&client, id, ids, bodies).await,
        reference
    );
}

/// A challenge set up by [`setup`] and closed with its first two claims revealed, and its claims
/// pages as they show them then.
async fn closed_with_two_reveals(
    dir: &std::path::Path,
    clock: &Clock,
) -> (RunningServer, String, Vec<String>, Vec<Value>, String) {
    let server = start(config(dir), clock.clone()).await;
    let (id, ids, mut bodies) = setup(&server, clock).await;
    bodies.truncate(2);
    challenges::close(&app(&server), &id, "operator")
        .await
        .unwrap();
    let client = Client::new(&server.url());
    let reference = assert_reveals_shown(&client, &id, &ids, &bodies).await;
    (server, id, ids, bodies, reference)
}

/// (a) After the close the claims pages show the reveals from their public copies: with every
/// sealed reveal spoiled, the pages are byte for byte what they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_claims_pages_need_no_sealed_reveal() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let (id, ids, bodies) = setup(&server, &clock).await;

    challenges::close(&app, &id, "operator").await.unwrap();
    // A reveal of a claim committed before the close is still taken after it.
    let (s, v) = client
        .post(&format!("/claims/{}/reveal", ids[2]), &bodies[2])
        .await;
    assert_eq!((s, v["verdict"].as_str()), (200, Some("invalid")), "{v}");
    let copies = public_copies(&app, &ids).await;
    for (i, body) in bodies.iter().enumerate() {
        let copy: Value = serde_json::from_str(copies[i].as_deref().unwrap()).unwrap();
        assert_eq!(&copy, body, "the public copy of claim {i}");
    }
    assert_eq!(
        copies[3], None,
        "an unrevealed claim has nothing to publish"
    );
    let before = assert_reveals_shown(&client, &id, &ids, &bodies).await;

    spoil_sealed_reveals(&app).await;
    let after = assert_reveals_shown(&client, &id, &ids, &bodies).await;
    assert_eq!(after, before, "the claims page is byte for byte the same");
    server.stop().await.unwrap();
}

/// (b) An older database (closed challenge, revealed claims without their public copies: the
/// column NULL, then the column not there at all, as before migration 0003) gets them at
/// start-up, and the pages show the reveals; a second start-up changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_backfills_the_public_reveals_of_closed_challenges() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (server, id, ids, bodies, reference) = closed_with_two_reveals(dir.path(), &clock).await;
    let cleared = sqlx::query("UPDATE claims SET reveal_json = NULL")
        .execute(app(&server).store.pool())
        .await
        .unwrap();
    assert_eq!(cleared.rows_affected(), 4);
    server.stop().await.unwrap();

    // The column NULL.
    let server = start(config(dir.path()), clock.clone()).await;
    let app_1 = app(&server);
    let copies = public_copies(&app_1, &ids).await;
    assert!(copies[0].is_some() && copies[1].is_some(), "backfilled");
    assert_eq!((copies[2].as_deref(), copies[3].as_deref()), (None, None));
    spoil_sealed_reveals(&app_1).await;
    assert_pages_are(&server, &id, &ids, &bodies, &reference).await;
    server.stop().await.unwrap();

    // Idempotent: a second start-up has nothing to do (the sealed reveals, spoiled, are not
    // opened again) and the pages are the same.
    let server = start(config(dir.path()), clock.clone()).await;
    assert_eq!(public_copies(&app(&server), &ids).await, copies);
    assert_pages_are(&server, &id, &ids, &bodies, &reference).await;
    server.stop().await.unwrap();
}

/// (b, continued) A database from before migration 0003, without the column: the migration
/// adds it at start-up and the backfill fills it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_migrates_and_backfills_a_database_without_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let (server, id, ids, bodies, reference) = closed_with_two_reveals(dir.path(), &clock).await;
    server.stop().await.unwrap();

    // Back to the schema of migrations 0001 and 0002.
    let path = config(dir.path()).database_path();
    let pool =
        sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap();
    sqlx::query("ALTER TABLE claims DROP COLUMN reveal_json")
        .execute(&pool)
        .await
        .unwrap();
    let done = sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 3")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;

    let server = start(config(dir.path()), clock.clone()).await;
    let app = app(&server);
    let copies = public_copies(&app, &ids).await;
    assert!(copies[0].is_some() && copies[1].is_some(), "backfilled");
    spoil_sealed_reveals(&app).await;
    assert_pages_are(&server, &id, &ids, &bodies, &reference).await;
    server.stop().await.unwrap();
}

/// (c) Before the close nothing of a reveal is in the public column, not even after a restart
/// (the backfill is for closed challenges only), and the pages hide the reveals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_close_the_public_column_stays_null() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let (id, ids, _) = setup(&server, &clock).await;
    let app_1 = app(&server);
    assert_eq!(public_copies(&app_1, &ids).await, vec![None; 4]);
    let client = Client::new(&server.url());
    assert_reveals_shown(&client, &id, &ids, &[]).await;
    server.stop().await.unwrap();

    let server = start(config(dir.path()), clock.clone()).await;
    let app_2 = app(&server);
    assert_eq!(public_copies(&app_2, &ids).await, vec![None; 4]);
    let revealed = sqlx::query(
        "SELECT COUNT(*) AS n FROM claims WHERE sealed_reveal IS NOT NULL AND reveal_json IS NULL",
    )
    .fetch_one(app_2.store.pool())
    .await
    .unwrap();
    assert_eq!(revealed.get::<i64, _>("n"), 2, "revealed, sealed only");
    let client = Client::new(&server.url());
    assert_reveals_shown(&client, &id, &ids, &[]).await;
    server.stop().await.unwrap();
}
