//! The mitm track over HTTP on the real target: a claimant opens a session and relays an
//! honest conversation; a tampered delivery is refused; the session is its token's alone; the
//! budgets, the proof-of-work and the record are as published; the close logs each session's
//! final record.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::pow;
use challenge_server::verify::{self, Source, VerifyError};
use challenge_server::{App, RunningServer, challenges};
use common::mitm::{Session, mitm_spec};
use common::{Client, app, config, start};
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;

/// A server with a mitm challenge of `params` on the real target.
async fn mitm_challenge(
    params: Value,
) -> (
    tempfile::TempDir,
    Clock,
    RunningServer,
    Client,
    std::sync::Arc<App>,
    String,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let id = challenges::create(&app, mitm_spec(params), None)
        .await
        .unwrap()
        .id;
    (dir, clock, server, client, app, id)
}

#[tokio::test]
async fn an_honest_relay_over_http_and_a_tampered_delivery() {
    let (dir, clock, server, client, app, id) = mitm_challenge(json!({})).await;

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
    assert_eq!(e["error"]["field"], "to", "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("carol"),
        "{e}"
    );
    // Each bad field is named; what is not one field's fault is the command's.
    for (command, field) in [
        (
            json!({"command": "deliver", "to": "bob", "bytes": "0g"}),
            "bytes",
        ),
        (json!({"command": "ask", "from": 1}), "from"),
        (
            json!({"command": "txt", "from": "bob", "plaintext": "00", "content_type": 256, "ttl": 0}),
            "content_type",
        ),
        (
            json!({"command": "txt", "from": "bob", "plaintext": "00", "content_type": 1, "ttl": -1}),
            "ttl",
        ),
        (json!({"command": "deliver", "to": "bob"}), "command"),
        (
            json!({"command": "ask", "from": "bob", "extra": 1}),
            "command",
        ),
        (json!({"command": "shout"}), "command"),
    ] {
        let (status, e) = session.run(command.clone()).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (400, Some(field)),
            "{command}: {e}"
        );
    }
    // A session number that is not one is a 400 naming it, in the API's error JSON.
    for path in [
        format!("/challenges/{id}/sessions/x/record"),
        format!("/challenges/{id}/sessions/01/record"),
        format!("/challenges/{id}/sessions/+1/record"),
        format!("/challenges/{id}/sessions/99999999999999999999/record"),
    ] {
        let (status, e) = client.get(&path).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (400, Some("session")),
            "{path}: {e}"
        );
    }

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

    // verify replays the session from the seed and the recorded inputs, over HTTP and from an
    // export; one changed byte of the record fails it.
    let key_file = dir.path().join("server-key.json");
    let pinned = common::save_server_key(&client, &key_file).await;
    let report = common::verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!(
        (report.sessions, report.session_wins, report.entries),
        (1, 0, 0)
    );
    let export = dir.path().join("export");
    verify::export(&Source::http(&server.url()).unwrap(), &id, &export)
        .await
        .unwrap();
    verify::verify(&Source::Dir(export.clone()), &id, &pinned, &[], clock.now())
        .await
        .unwrap();
    let path = export.join("sessions.json");
    let mut records: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let data = records[0]["entries"][5]["data"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bytes = hex::decode(&data).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    records[0]["entries"][5]["data"] = Value::String(hex::encode(bytes));
    std::fs::write(&path, records.to_string()).unwrap();
    match verify::verify(&Source::Dir(export), &id, &pinned, &[], clock.now()).await {
        Err(VerifyError::Mismatch(m)) => assert!(m.starts_with("session 0:"), "{m}"),
        other => panic!("a changed record byte passed: {other:?}"),
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_budgets_and_the_proof_of_work_are_enforced() {
    let (_dir, _clock, server, client, _app, id) = mitm_challenge(
        json!({"pow_bits": 8, "sessions_per_claimant_per_hour": 1, "fetch_bundle": 1}),
    )
    .await;
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

/// A refused delivery looks the same whatever check failed: the same status and body, and the
/// same writes (one record entry whose answer is the refusal, a state of the same size).
#[tokio::test]
async fn every_refused_delivery_is_answered_and_stored_alike() {
    let (_dir, clock, server, client, app, id) = mitm_challenge(json!({})).await;
    let (session, _) = Session::open(&client, &id, "eve").await;
    let bundle = session.ok(json!({"command": "fetch-bundle"})).await;
    assert_eq!(
        session
            .deliver("alice", bundle["bundle"].as_str().unwrap())
            .await,
        "accepted"
    );
    let first = session.ask("alice").await;
    assert_eq!(session.deliver("bob", &first).await, "accepted");

    // The short-lived message comes first in Alice's chain, so that refusing it as expired
    // (which consumes its key, as target-impl does) stores a state of the same size.
    let short_lived = session
        .ok(json!({"command": "txt", "from": "alice", "plaintext": "0102", "content_type": 1, "ttl": 1}))
        .await["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let genuine = hex::decode(session.ask("alice").await).unwrap();
    let mut header = genuine.clone();
    header[1] ^= 1;
    let mut body = genuine.clone();
    *body.last_mut().unwrap() ^= 1;
    clock.advance(5);
    let writes = |n: u64| {
        let app = app.clone();
        let id = id.clone();
        async move {
            let state: Vec<u8> =
                sqlx::query_scalar("SELECT sealed_state FROM sessions WHERE challenge_id = $1")
                    .bind(&id)
                    .fetch_one(app.store.pool())
                    .await
                    .unwrap();
            let entry: Vec<u8> = sqlx::query_scalar(
                "SELECT entry FROM session_entries WHERE challenge_id = $1 AND k = $2",
            )
            .bind(&id)
            .bind(n as i64)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
            let entry: Value = serde_json::from_slice(&entry).unwrap();
            (
                state.len(),
                entry["command"].clone(),
                entry["answer"].clone(),
            )
        }
    };
    let mut seen = Vec::new();
    for (what, bytes) in [
        ("a flipped header byte", hex::encode(&header)),
        ("a flipped body byte", hex::encode(&body)),
        ("a replay", first.clone()),
        ("an expired message", short_lived),
    ] {
        let (status, answer) = client
            .post_raw(
                &session.path,
                &json!({"command": "deliver", "to": "bob", "bytes": bytes}).to_string(),
                Some(&session.token),
            )
            .await;
        let (_, page) = client
            .get_with_token(
                &format!("/challenges/{id}/sessions/0/record?limit=1"),
                Some(&session.token),
            )
            .await;
        let k = page["entries_total"].as_u64().unwrap() - 1;
        seen.push((what, status, answer, writes(k).await));
    }
    for (what, status, answer, stored) in &seen[1..] {
        assert_eq!(
            (status, answer, stored),
            (&seen[0].1, &seen[0].2, &seen[0].3),
            "{what} is answered or stored unlike {}",
            seen[0].0
        );
    }
    assert_eq!(seen[0].2, json!({"delivery": "refused"}));
    // The genuine message still goes through after every refusal.
    assert_eq!(
        session.deliver("bob", &hex::encode(genuine)).await,
        "accepted"
    );
    server.stop().await.unwrap();
}

/// A session outlives a restart: its state, record and token are durable, the conversation
/// continues where it stopped, and `verify` replays the whole record after the close.
#[tokio::test]
async fn a_session_continues_after_a_restart() {
    let (dir, clock, server, client, _app, id) = mitm_challenge(json!({})).await;
    let (_, opened) = client
        .post(
            &format!("/challenges/{id}/sessions"),
            &json!({"claimant": "eve"}),
        )
        .await;
    let token = opened["token"].as_str().unwrap().to_owned();
    let path = format!("/challenges/{id}/sessions/0/commands");
    {
        let session = Session {
            client: &client,
            path: path.clone(),
            token: token.clone(),
        };
        let bundle = session.ok(json!({"command": "fetch-bundle"})).await;
        assert_eq!(
            session
                .deliver("alice", bundle["bundle"].as_str().unwrap())
                .await,
            "accepted"
        );
        let m = session.ask("alice").await;
        assert_eq!(session.deliver("bob", &m).await, "accepted");
    }
    server.stop().await.unwrap();

    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let session = Session {
        client: &client,
        path,
        token,
    };
    let reply = session.ask("bob").await;
    assert_eq!(session.deliver("alice", &reply).await, "accepted");
    let m = session.ask("alice").await;
    assert_eq!(session.deliver("bob", &m).await, "accepted");
    challenges::close(&app(&server), &id, "operator")
        .await
        .unwrap();
    let pinned = common::save_server_key(&client, &dir.path().join("key.json")).await;
    let report = common::verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!(report.sessions, 1);
    server.stop().await.unwrap();
}

/// Commits the claim of `eve` whose kind-specific lines are `lines` (docs/API.md "Claim
/// commitment") under nonce `[nonce; 32]`: its id and its commit's log index.
async fn commit_claim(client: &Client, id: &str, lines: &str, nonce: u8) -> (String, u64) {
    let nonce = hex::encode([nonce; 32]);
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {id}\nclaimant: eve\n{lines}nonce: {nonce}\n"
    );
    let commitment = hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]));
    let (status, receipt) = client
        .post(
            "/claims/commit",
            &json!({"challenge": id, "claimant": "eve", "commitment": commitment}),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    (
        receipt["claim"].as_str().unwrap().to_owned(),
        receipt["log_index"].as_u64().unwrap(),
    )
}

/// Reveals claim `claim` with `reveal` and the nonce `[nonce; 32]`: the answer.
async fn reveal_claim(client: &Client, claim: &str, mut reveal: Value, nonce: u8) -> Value {
    reveal["nonce"] = json!(hex::encode([nonce; 32]));
    let (status, verdict) = client
        .post(&format!("/claims/{claim}/reveal"), &reveal)
        .await;
    assert_eq!(status, 200, "{verdict}");
    verdict
}

/// A `secret` or `key` claim must name a session opened before its commit: session 0's true
/// secret committed before session 0 opened, and session 7's (never opened), are `invalid`
/// with the reason, however true; the same secret committed after the open wins. `verify`
/// re-judges them alike from the log, and the claim rows rebuilt from the log say the same.
#[tokio::test]
async fn a_claim_must_name_a_session_opened_before_its_commit() {
    use challenge_server::claims::rebuild_from_log;
    use challenge_server::seed::MasterSeed;
    use challenge_server::tracks::{mitm::session_seed, passive};

    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    // The test knows the seed, so it knows every session's secret before the session opens.
    let seed = MasterSeed::from_bytes([0x5a; 32]);
    let id = challenges::create(&app, mitm_spec(json!({})), Some(seed.clone()))
        .await
        .unwrap()
        .id;
    let secret =
        |s: u64| hex::encode(*passive::secret(&session_seed(&seed, s).unwrap(), 0).unwrap());
    let secret_claim = |s: u64| {
        (
            format!("kind: secret\nsession: {s}\nsecret: {}\n", secret(s)),
            json!({"kind": "secret", "session": s, "secret": secret(s)}),
        )
    };

    let (lines, reveal) = secret_claim(0);
    let (early, early_index) = commit_claim(&client, &id, &lines, 1).await;
    let (_session, opened) = Session::open(&client, &id, "eve").await;
    assert_eq!(opened["session"], 0);
    let opened_index = opened["log_index"].as_u64().unwrap();
    assert!(early_index < opened_index);
    let (late, _) = commit_claim(&client, &id, &lines, 2).await;
    let (never_lines, never_reveal) = secret_claim(7);
    let (never, _) = commit_claim(&client, &id, &never_lines, 3).await;
    let private = hex::encode([0x11; 32]);
    let key_reveal = json!({"kind": "key", "session": 7, "party": "bob", "key": "ed25519", "private_key": private});
    let (key, _) = commit_claim(
        &client,
        &id,
        &format!("kind: key\nsession: 7\nparty: bob\nkey: ed25519\nprivate-key: {private}\n"),
        4,
    )
    .await;

    let verdict = reveal_claim(&client, &early, reveal.clone(), 1).await;
    assert_eq!(verdict["verdict"], "invalid", "{verdict}");
    assert_eq!(
        verdict["reason"].as_str().unwrap(),
        format!(
            "session 0 was not opened before the claim's commit (opened at log entry \
             {opened_index}, committed at {early_index})"
        )
    );
    for (claim, reveal, nonce) in [(&never, never_reveal, 3), (&key, key_reveal, 4)] {
        let verdict = reveal_claim(&client, claim, reveal, nonce).await;
        assert_eq!(verdict["verdict"], "invalid", "{verdict}");
        assert_eq!(
            verdict["reason"],
            "session 7 was not opened before the claim's commit (it was never opened)"
        );
    }
    let verdict = reveal_claim(&client, &late, reveal, 2).await;
    assert_eq!(verdict["verdict"], "won", "{verdict}");
    assert!(verdict.get("reason").is_none(), "{verdict}");

    // The rows rebuilt from the log are the ones the reveals wrote.
    let claims = format!("/challenges/{id}/claims");
    let (_, before) = client.get(&claims).await;
    rebuild_from_log(&app).await.unwrap();
    let (_, after) = client.get(&claims).await;
    assert_eq!(before, after);
    let verdicts: Vec<(&str, &str)> = after["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap(), c["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (early.as_str(), "invalid"),
            (late.as_str(), "won"),
            (never.as_str(), "invalid"),
            (key.as_str(), "invalid")
        ]
    );

    // verify re-judges every claim from the log and the seed, and agrees.
    challenges::close(&app, &id, "operator").await.unwrap();
    let pinned = common::save_server_key(&client, &dir.path().join("key.json")).await;
    let report = common::verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!((report.claims, report.sessions), (4, 1), "{report:?}");
    server.stop().await.unwrap();
}
