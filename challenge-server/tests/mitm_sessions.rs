//! The mitm track over HTTP on the real target: a claimant opens a session and relays an
//! honest conversation; a tampered delivery is refused; the session is its token's alone; the
//! budgets, the proof-of-work and the record are as published; the close logs each session's
//! final record.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::pow;
use common::mitm::{Session, mitm_spec};
use common::{Client, app, config, start};
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;

#[tokio::test]
async fn an_honest_relay_over_http_and_a_tampered_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let id = challenges::create(&app, mitm_spec(json!({})), None)
        .await
        .unwrap()
        .id;

    let (status, opened) = client
        .post(
            &format!("/challenges/{id}/sessions"),
            &json!({"claimant": "eve"}),
        )
        .await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(opened["session"], 0);
    for field in ["alice_identity", "bob_identity", "secret_commitment"] {
        assert!(opened["fields"][field].is_string(), "{opened}");
    }
    let session = Session {
        client: &client,
        path: format!("/challenges/{id}/sessions/0/commands"),
        token: opened["token"].as_str().unwrap().to_owned(),
    };

    // The wire: Bob's bundle to Alice, then messages each way.
    let bundle = session.ok(json!({"command": "fetch-bundle"})).await;
    let bundle = bundle["bundle"].as_str().unwrap();
    assert_eq!(session.deliver("alice", bundle).await, "accepted");
    for _ in 0..3 {
        let m = session.ask("alice").await;
        assert_eq!(session.deliver("bob", &m).await, "accepted");
        let reply = session.ask("bob").await;
        // A flipped byte of the body is refused, and the genuine message still goes through.
        let mut tampered = hex::decode(&reply).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            session.deliver("alice", &hex::encode(tampered)).await,
            "refused"
        );
        assert_eq!(session.deliver("alice", &reply).await, "accepted");
        // A replay is refused the same way.
        assert_eq!(session.deliver("alice", &reply).await, "refused");
    }

    // Only the token's holder drives or reads the session while the challenge is open.
    let intruder = Session {
        client: &client,
        path: session.path.clone(),
        token: "00".repeat(32),
    };
    let (status, e) = intruder
        .run(json!({"command": "ask", "from": "alice"}))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (401, Some("authorization"))
    );
    let record = format!("/challenges/{id}/sessions/0/record");
    assert_eq!(client.get(&record).await.0, 401);

    // A malformed command is a 400 naming the field, and records nothing.
    let (status, e) = session
        .run(json!({"command": "deliver", "to": "carol", "bytes": "00"}))
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["field"], "command", "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("carol"),
        "{e}"
    );

    // The record: the open, then every command that reached the bots (1 + 1 + 1 + 3 * 6).
    let (status, page) = client
        .get_with_token(&format!("{record}?limit=1000"), Some(&session.token))
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["entries_total"], 21);
    let first: Value =
        serde_json::from_slice(&hex::decode(page["entries"][0]["data"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(first["command"], "open");

    // The close logs the session's final record, and the record is public.
    challenges::close(&app, &id, "operator").await.unwrap();
    let (_, log) = client.get("/log/entries?from=0&limit=100").await;
    let events: Vec<Event> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::event_of)
        .collect();
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SessionOpened { session: 0, claimant, .. } if claimant == "eve"
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::SessionClosed { session: 0, entries: 21, head, .. } if *head == page["head"]
    )));
    let (status, public) = client.get(&record).await;
    assert_eq!((status, public["entries_total"].as_u64()), (200, Some(21)));
    let (status, _) = session.run(json!({"command": "fetch-bundle"})).await;
    assert_eq!(status, 409, "a closed challenge takes no command");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_budgets_and_the_proof_of_work_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let id = challenges::create(
        &app,
        mitm_spec(json!({"pow_bits": 8, "sessions_per_claimant_per_hour": 1, "fetch_bundle": 1})),
        None,
    )
    .await
    .unwrap()
    .id;
    let open = |body: Value| {
        let client = &client;
        let path = format!("/challenges/{id}/sessions");
        async move { client.post(&path, &body).await }
    };
    let (status, e) = open(json!({"claimant": "eve"})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("pow")),
        "{e}"
    );

    let (status, issued) = client
        .get(&format!("/challenges/{id}/sessions/pow?claimant=eve"))
        .await;
    assert_eq!(status, 200, "{issued}");
    let issued: pow::Issued = serde_json::from_value(issued).unwrap();
    assert_eq!(issued.bits, 8);
    let nonce = pow::solve(&issued, "eve").unwrap();
    // Another claimant cannot spend eve's token.
    let (status, e) =
        open(json!({"claimant": "mallory", "pow": {"token": issued.token, "nonce": nonce}})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("pow.token")),
        "{e}"
    );
    let (status, opened) =
        open(json!({"claimant": "eve", "pow": {"token": issued.token, "nonce": nonce}})).await;
    assert_eq!(status, 201, "{opened}");
    // The token opens one session; the hourly budget is spent too.
    let (status, e) =
        open(json!({"claimant": "eve", "pow": {"token": issued.token, "nonce": nonce}})).await;
    assert_eq!(status, 409, "{e}");
    let fresh: pow::Issued = serde_json::from_value(
        client
            .get(&format!("/challenges/{id}/sessions/pow?claimant=eve"))
            .await
            .1,
    )
    .unwrap();
    let nonce = pow::solve(&fresh, "eve").unwrap();
    let (status, e) =
        open(json!({"claimant": "eve", "pow": {"token": fresh.token, "nonce": nonce}})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("sessions_per_claimant_per_hour")),
        "{e}"
    );

    // A spent command budget is a 409 naming it.
    let session = Session {
        client: &client,
        path: format!("/challenges/{id}/sessions/0/commands"),
        token: opened["token"].as_str().unwrap().to_owned(),
    };
    session.ok(json!({"command": "fetch-bundle"})).await;
    let (status, e) = session.run(json!({"command": "fetch-bundle"})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("fetch_bundle")),
        "{e}"
    );
    server.stop().await.unwrap();
}
