//! A seizure challenge end to end over HTTP on a real server: Bob's bundle, the traffic, the
//! seizure entry (Bob's whole device state), the healing round trip and the messages after
//! it, secrets in both windows, `/health`'s two counts (every readable message read from the
//! seized state, none of the protected ones), the close and `verify`; and every bad parameter
//! refused with its field named.
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
use common::seizure::{attack_after, attack_before, seizure_spec, transcript};
use common::*;
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;
const MESSAGES: u64 = 12;
const SEIZE_AT: u64 = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seizure_challenge_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let pinned = save_server_key(&client, &dir.path().join("server-key.json")).await;
    let row = challenges::create(
        &app(&server),
        seizure_spec(MESSAGES, SEIZE_AT, "bob"),
        Some(MasterSeed::from_bytes([0x5e; 32])),
    )
    .await
    .unwrap();
    let id = row.id.clone();

    // The published fields: the seizure's index, the seized party, every message's protection.
    let (_, c) = client.get(&format!("/challenges/{id}")).await;
    assert_eq!(c["track"], "seizure");
    assert_eq!(
        (c["seize_at"].as_u64(), c["seized"].as_str()),
        (Some(SEIZE_AT), Some("bob"))
    );
    let groups = c["protection"].as_array().unwrap();
    let readable: Vec<u64> = groups
        .iter()
        .filter(|g| g["protected"] == false)
        .flat_map(|g| {
            g["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_u64().unwrap())
        })
        .collect();
    assert_eq!(readable, [5]);
    println!(
        "protection: {}",
        serde_json::to_string_pretty(&c["protection"]).unwrap()
    );
    // Secrets: one in each window, only in protected messages to Bob.
    let secret_messages: Vec<u64> = c["secret_commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["message"].as_u64().unwrap())
        .collect();
    assert_eq!(secret_messages.len(), 2);
    assert!([1, 3].contains(&secret_messages[0]), "{secret_messages:?}");
    assert!(
        [7, 9, 10].contains(&secret_messages[1]),
        "{secret_messages:?}"
    );

    // Before the seizure: health checks the secrets from the seed, and the counts are zero.
    clock.advance(SEIZE_AT);
    client.wait_published(&id, SEIZE_AT).await;
    let (_, health) = client.get("/health").await;
    let h = &health["challenges"][0];
    assert_eq!(
        (h["solvable"].clone(), h["readable"].clone()),
        (json!(true), json!(0)),
        "{h}"
    );

    // The whole traffic: the seizure entry is Bob's device state, not a wire message.
    clock.advance(MESSAGES);
    let entries = transcript(&client, &id, MESSAGES + 1).await;
    let seizure = &entries[SEIZE_AT as usize];
    assert_eq!(
        (seizure.kind.as_str(), seizure.direction.as_str()),
        ("seizure", "bob-seized")
    );
    println!("seizure entry: {} bytes", seizure.bytes.len());
    assert!(seizure.bytes.len() > 500, "the whole device");
    assert!(target_impl::wire::WireMessage::decode(&seizure.bytes).is_err());
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(&kinds[..3], ["bundle", "initial", "ratchet"]);

    // /health: every readable message to Bob read from the seized state, no protected one.
    let (_, health) = client.get("/health").await;
    println!(
        "/health: {}",
        serde_json::to_string_pretty(&health).unwrap()
    );
    assert_eq!(health["status"], "ok", "{health}");
    let h = &health["challenges"][0];
    assert_eq!(h["solvable"], true, "{h}");
    assert_eq!(h["secrets_confirmed"], 2, "{h}");
    assert_eq!(h["readable"], 1, "{h}");
    assert_eq!(h["protected"], 5, "messages 1, 3, 7, 9, 10: {h}");

    // An attacker with the seized state alone reads nothing protected on target-impl.
    let real = challenge_server::targets::real();
    assert_eq!(attack_before(real, &entries), vec![]);
    assert_eq!(attack_after(real, &entries), vec![]);

    // Close and verify.
    clock.advance(60);
    client.wait_closed(&id).await;
    let report = verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!((report.entries, report.secrets), (MESSAGES + 1, 2));
    server.stop().await.unwrap();
}

fn field(v: &Value) -> &str {
    v["error"]["field"]
        .as_str()
        .or_else(|| v["field"].as_str())
        .unwrap_or_default()
}

/// Every bad `params` value of a seizure definition is refused with a 400 naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_seizure_params_are_refused_with_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path()), Clock::manual(T0)).await;
    let client = Client::new(&server.url());
    let admin = app(&server).create_admin_token().await.unwrap();
    let base = json!({"title": "t", "rules": "r", "track": "seizure",
        "bounty": {"forward-secrecy": "1"}, "secrets": 2,
        "schedule": {"messages": 12, "interval_secs": 1}, "params": {"seize_at": 4}});
    let (s, v) = client
        .post_raw("/admin/challenges", &base.to_string(), Some(&admin))
        .await;
    assert_eq!(s, 201, "{v}");
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "params.seize_at"),
        (json!({"seize_at": "4"}), "params.seize_at"),
        (json!({"seize_at": -4}), "params.seize_at"),
        (json!({"seize_at": 1}), "params.seize_at"),
        (json!({"seize_at": 3}), "params.seize_at"),
        (json!({"seize_at": 9}), "params.seize_at"),
        (json!({"seize_at": 2, "seized": "alice"}), "params.seize_at"),
        (json!({"seize_at": 4, "seized": "mallory"}), "params.seized"),
        (json!({"seize_at": 4, "seized": null}), "params.seized"),
        (
            json!({"seize_at": 4, "protection": [1]}),
            "params.protection",
        ),
        (json!({"seize_at": 4, "rounds": 1}), "params.rounds"),
    ];
    for (params, name) in &cases {
        let mut body = base.clone();
        body["params"] = params.clone();
        let (s, v) = client
            .post_raw("/admin/challenges", &body.to_string(), Some(&admin))
            .await;
        assert_eq!((s, field(&v)), (400, *name), "{params}: {v}");
    }
    let mut body = base.clone();
    body["secrets"] = json!(9);
    let (s, v) = client
        .post_raw("/admin/challenges", &body.to_string(), Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (400, "secrets"), "{v}");
    let mut body = base.clone();
    body["bounty"] = json!({"secret": "1"});
    let (s, v) = client
        .post_raw("/admin/challenges", &body.to_string(), Some(&admin))
        .await;
    assert_eq!((s, field(&v)), (400, "bounty.secret"), "{v}");
    server.stop().await.unwrap();
}
