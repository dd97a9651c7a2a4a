//! Every bad input gets a clear 4xx naming the field, and changes nothing: malformed JSON,
//! wrong encodings and lengths, unknown ids, out-of-order calls, oversized bodies, slow
//! requests, missing admin tokens, and rate limits (429 with Retry-After).
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
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;

fn field(v: &Value) -> &str {
    v["error"]["field"].as_str().unwrap_or("<none>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inputs_are_4xx_naming_the_field_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.limits.per_claimant_burst = 3;
    config.limits.per_claimant_per_minute = 1;
    config.limits.request_timeout_ms = 400;
    let clock = Clock::manual(T0);
    let server = start(config, clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let admin = app.create_admin_token().await.unwrap();
    let id = challenges::create(&app, spec(3, 10, 1, 10), None)
        .await
        .unwrap()
        .id;
    let (_, receipt) =
        commit_secret(&client, &id, "alice", 1, &"00".repeat(16), &"11".repeat(32)).await;
    let claim = receipt["claim"].as_str().unwrap().to_owned();
    let log_size = app.log.size().await;

    let good = |c: &str, n: &str, m: &str| {
        json!({"challenge": c, "claimant": n, "commitment": m}).to_string()
    };
    let h = "ab".repeat(32);
    let commits: Vec<(String, u16, &str)> = vec![
        ("{".to_owned(), 400, "body"),
        ("[]".to_owned(), 400, "body"),
        (good(&id, "a", &h) + " trailing", 400, "body"),
        (
            r#"{"claimant":"a","commitment":"00"}"#.to_owned(),
            400,
            "challenge",
        ),
        (
            r#"{"challenge":5,"claimant":"a","commitment":"00"}"#.to_owned(),
            400,
            "challenge",
        ),
        (
            format!(r#"{{"challenge":"{id}","claimant":"a","commitment":"{h}","extra":1}}"#),
            400,
            "extra",
        ),
        (good("ZZZZ", "a", &h), 400, "challenge"),
        (good(&id, "", &h), 400, "claimant"),
        (good(&id, "a b", &h), 400, "claimant"),
        (good(&id, &"n".repeat(65), &h), 400, "claimant"),
        (good(&id, "a", &h.to_uppercase()), 400, "commitment"),
        (good(&id, "a", &"ab".repeat(31)), 400, "commitment"),
        (good(&id, "a", "xyz"), 400, "commitment"),
        (good("0123456789abcdef", "a", &h), 404, "challenge"),
        (
            good(&id, "a", receipt["commitment"].as_str().unwrap()),
            409,
            "commitment",
        ),
    ];
    for (body, status, name) in &commits {
        let (s, v) = client.post_raw("/claims/commit", body, None).await;
        assert_eq!((s, field(&v)), (*status, *name), "commit {body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    // Wrong content type.
    let r = client
        .http
        .post(format!("{}/claims/commit", client.base))
        .body(good(&id, "a", &h))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(field(&r.json().await.unwrap()), "content-type");

    let nonce = "11".repeat(32);
    let reveals: Vec<(String, Value, u16, &str)> = vec![
        (
            "nothex".to_owned(),
            json!({"kind":"secret","message":1,"secret":"00".repeat(16),"nonce":nonce}),
            400,
            "id",
        ),
        (
            "0123456789abcdef".to_owned(),
            json!({"kind":"secret","message":1,"secret":"00".repeat(16),"nonce":nonce}),
            404,
            "id",
        ),
        (
            claim.clone(),
            json!({"kind":"guess","nonce":nonce}),
            400,
            "kind",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","secret":"00".repeat(16),"nonce":nonce}),
            400,
            "message",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":1,"nonce":nonce}),
            400,
            "secret",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":1,"secret":"00".repeat(15),"nonce":nonce}),
            400,
            "secret",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":-1,"secret":"00".repeat(16),"nonce":nonce}),
            400,
            "message",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":1,"secret":"00".repeat(16),"nonce":"11"}),
            400,
            "nonce",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":1,"secret":"00".repeat(16),"finding":"x","nonce":nonce}),
            400,
            "finding",
        ),
        (
            claim.clone(),
            json!({"kind":"finding","finding":"","nonce":nonce}),
            400,
            "finding",
        ),
        (
            claim.clone(),
            json!({"kind":"secret","message":2,"secret":"00".repeat(16),"nonce":nonce}),
            422,
            "claim",
        ),
    ];
    for (claim_id, body, status, name) in &reveals {
        let (s, v) = client
            .post(&format!("/claims/{claim_id}/reveal"), body)
            .await;
        assert_eq!((s, field(&v)), (*status, *name), "reveal {body}: {v}");
    }

    let gets: Vec<(String, u16, &str)> = vec![
        (format!("/challenges/{id}/transcript?from=abc"), 400, "from"),
        (format!("/challenges/{id}/transcript?limit=0"), 400, "limit"),
        (
            format!("/challenges/{id}/transcript?limit=5000"),
            400,
            "limit",
        ),
        (format!("/challenges/{id}/transcript?form=1"), 400, "form"),
        ("/challenges/0123456789abcdef".to_owned(), 404, "id"),
        ("/challenges/NOT-AN-ID".to_owned(), 400, "id"),
        ("/claims/0123456789abcdef".to_owned(), 404, "id"),
        (
            format!("/log/proof/inclusion?index={log_size}"),
            400,
            "index",
        ),
        ("/log/proof/inclusion".to_owned(), 400, "index"),
        (
            format!("/log/proof/inclusion?index=0&size={}", log_size + 1),
            400,
            "size",
        ),
        ("/log/proof/consistency?from=0".to_owned(), 400, "from"),
        (
            format!("/log/proof/consistency?from=2&to={}", log_size + 1),
            400,
            "to",
        ),
        ("/log/entries?limit=-1".to_owned(), 400, "limit"),
        ("/nope".to_owned(), 404, "path"),
    ];
    for (path, status, name) in &gets {
        let (s, v) = client.get(path).await;
        assert_eq!((s, field(&v)), (*status, *name), "GET {path}: {v}");
    }
    let r = client
        .http
        .delete(format!("{}/health", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);

    // Admin: token required, checked by hash; bad definitions name their field.
    let spec_json = json!({"title":"t","rules":"r","bounty":{"secret":"1"},"schedule":{"messages":0,"interval_secs":1}});
    let (s, v) = client
        .post_raw("/admin/challenges", &spec_json.to_string(), None)
        .await;
    assert_eq!((s, field(&v)), (401, "authorization"));
    let (s, _) = client
        .post_raw(
            "/admin/challenges",
            &spec_json.to_string(),
            Some("not-the-token"),
        )
        .await;
    assert_eq!(s, 401);
    let (s, v) = client
        .post_raw("/admin/challenges", &spec_json.to_string(), Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (400, "schedule.messages"));
    let mut bad = spec_json.clone();
    bad["schedule"]["messages"] = json!(2);
    bad["bounty"] = json!({"jackpot": "1"});
    let (s, v) = client
        .post_raw("/admin/challenges", &bad.to_string(), Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (400, "bounty.jackpot"));
    bad["bounty"] = json!({"secret": "1"});
    bad["deadline"] = json!(5);
    let (s, v) = client
        .post_raw("/admin/challenges", &bad.to_string(), Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (400, "deadline"));
    let (s, v) = client
        .post_raw(
            &format!("/admin/claims/{claim}/decision"),
            r#"{"verdict":"won"}"#,
            Some(&admin),
        )
        .await;
    assert_eq!(
        (s, field(&v)),
        (409, "id"),
        "only needs-review claims are decided"
    );
    let (s, v) = client
        .post_raw(
            &format!("/admin/claims/{claim}/decision"),
            r#"{"verdict":"maybe"}"#,
            Some(&admin),
        )
        .await;
    assert_eq!((s, field(&v)), (400, "verdict"));

    // Body cap.
    let big =
        json!({"challenge": id, "claimant": "a", "commitment": "a".repeat(20_000)}).to_string();
    let (s, v) = client.post_raw("/claims/commit", &big, None).await;
    assert_eq!((s, field(&v)), (413, "body"));

    // Nothing changed.
    assert_eq!(app.log.size().await, log_size);
    let (_, claims) = client.get(&format!("/challenges/{id}/claims")).await;
    assert_eq!(claims["claims"].as_array().unwrap().len(), 1);
    assert!(claims["claims"][0]["verdict"].is_null());

    // A request that never finishes its body times out with 408.
    let addr = server.addr;
    let (status, body) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"POST /api/v1/claims/commit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 2048];
        let n = s.read(&mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        (text.split(' ').nth(1).unwrap_or_default().to_owned(), text)
    })
    .await
    .unwrap();
    assert_eq!(status, "408", "{body}");
    assert!(body.contains("\"timeout\""));

    // Per-claimant rate limit: 429 with Retry-After; other claimants are not affected.
    let mut limited = None;
    for i in 0..5u8 {
        let (s, v) = commit_secret(
            &client,
            &id,
            "spammer",
            1,
            &"00".repeat(16),
            &hex::encode([i; 32]),
        )
        .await;
        if s == 429 {
            limited = Some(v);
            break;
        }
        assert_eq!(s, 201);
    }
    assert_eq!(limited.unwrap()["error"]["code"], "rate_limited");
    let r = client
        .http
        .post(format!("{}/claims/commit", client.base))
        .header("content-type", "application/json")
        .body(good(&id, "spammer", &"cd".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(
        r.headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let (s, _) = commit_secret(
        &client,
        &id,
        "someone-else",
        1,
        &"00".repeat(16),
        &"22".repeat(32),
    )
    .await;
    assert_eq!(s, 201);

    // Out of order: claims after the close are refused; reveals of earlier commits still work.
    challenges::close(&app, &id, "operator").await.unwrap();
    let (s, v) = commit_secret(&client, &id, "late", 1, &"00".repeat(16), &"33".repeat(32)).await;
    assert_eq!((s, field(&v)), (409, "challenge"));
    let (s, v) = client
        .post_raw(&format!("/admin/challenges/{id}/close"), "", Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (409, "id"));
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_address_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.limits.per_address_burst = 5;
    config.limits.per_address_per_minute = 1;
    let server = start(config, Clock::manual(T0)).await;
    let client = Client::new(&server.url());
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(client.get("/server-key").await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
    let r = client
        .http
        .get(format!("{}/log/checkpoint", client.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    server.stop().await.unwrap();
}

/// Times past what the database holds (`i64::MAX`) are a 400 naming the field, not a 500; a
/// JSON array where the API documents an object is a 400 naming the body on every endpoint,
/// even when its elements would fill the fields in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_times_and_array_bodies_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path()), Clock::manual(T0)).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let admin = app.create_admin_token().await.unwrap();
    let id = challenges::create(&app, spec(3, 10, 1, 10), None)
        .await
        .unwrap()
        .id;
    let (_, receipt) =
        commit_secret(&client, &id, "alice", 1, &"00".repeat(16), &"11".repeat(32)).await;
    let claim = receipt["claim"].as_str().unwrap().to_owned();
    let log_size = app.log.size().await;

    let base = json!({"title":"t","rules":"r","bounty":{"secret":"1"},"schedule":{"messages":2,"interval_secs":1}});
    let huge = (i64::MAX as u64) + 1;
    let mut cases = Vec::new();
    let mut b = base.clone();
    b["deadline"] = json!(huge);
    cases.push((b, "deadline"));
    let mut b = base.clone();
    b["deadline"] = json!(u64::MAX);
    cases.push((b, "deadline"));
    let mut b = base.clone();
    b["schedule"]["start_at"] = json!(huge);
    cases.push((b, "schedule.start_at"));
    let mut b = base.clone();
    b["schedule"]["start_at"] = json!(i64::MAX as u64 - 1);
    cases.push((b, "schedule.start_at"));
    let mut b = base.clone();
    b["schedule"]["start_at"] = json!(i64::MAX as u64 - 100);
    b["deadline_after_last_secs"] = json!(1000);
    cases.push((b, "deadline_after_last_secs"));
    for (body, name) in &cases {
        let (s, v) = client
            .post_raw("/admin/challenges", &body.to_string(), Some(&admin))
            .await;
        assert_eq!((s, field(&v)), (400, *name), "admin create {body}: {v}");
    }

    let commitment = "ab".repeat(32);
    let posts: Vec<(String, String, Option<&str>)> = vec![
        (
            "/claims/commit".to_owned(),
            json!([id, "bob", commitment]).to_string(),
            None,
        ),
        (
            format!("/claims/{claim}/reveal"),
            json!(["secret", 1, "00".repeat(16), null, "11".repeat(32)]).to_string(),
            None,
        ),
        (
            format!("/admin/claims/{claim}/decision"),
            json!(["won"]).to_string(),
            Some(&admin),
        ),
        (
            "/admin/challenges".to_owned(),
            json!(["t", "r", "passive", {"secret":"1"}, {"messages":2,"interval_secs":1}])
                .to_string(),
            Some(&admin),
        ),
    ];
    for (path, body, token) in &posts {
        let (s, v) = client.post_raw(path, body, *token).await;
        assert_eq!((s, field(&v)), (400, "body"), "POST {path} {body}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("object")),
            "{v}"
        );
    }
    assert_eq!(app.log.size().await, log_size, "nothing was logged");
    let (_, c) = client.get(&format!("/challenges/{id}/claims")).await;
    assert_eq!(c["claims"].as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
}
