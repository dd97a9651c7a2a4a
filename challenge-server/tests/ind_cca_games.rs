//! The ind-cca track's games over HTTP: opening one (its published fields and record), every
//! command's answer, the per-game budgets, and every bad input refused with the field named.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::targets;
use common::ind_cca::{challenge, decrypt, guess, ind_cca_spec};
use common::mitm::Session;
use common::{Client, app, config, start};
use serde_json::json;

const T0: u64 = 1_800_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_over_http_and_every_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let spec = ind_cca_spec(json!({"rounds": 3, "oracle_calls": 5, "max_games": 2}));
    let id = challenges::create_on(&app(&server), spec, None, targets::real())
        .await
        .unwrap()
        .id;
    let (status, c) = client.get(&format!("/challenges/{id}")).await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["track"], "ind-cca", "{c}");

    let (game, opened) = Session::open(&client, &id, "eve").await;
    assert_eq!(opened["session"], 0);
    for field in ["alice_identity", "bob_identity"] {
        assert!(opened["fields"][field].is_string(), "{opened}");
    }
    // Bad inputs, each refused with its field named, nothing recorded.
    let refusals = [
        (
            json!({"command": "challenge", "from": "carol", "m0": "", "m1": "", "content_type": 1, "ttl": 0}),
            400,
            "from",
        ),
        (
            json!({"command": "challenge", "from": "bob", "m0": "00", "m1": "", "content_type": 1, "ttl": 0}),
            400,
            "m1",
        ),
        (
            json!({"command": "challenge", "from": "bob", "m0": "0", "m1": "0", "content_type": 1, "ttl": 0}),
            400,
            "m0",
        ),
        (
            json!({"command": "challenge", "from": "bob", "m0": "00", "m1": "00", "content_type": -1, "ttl": 0}),
            400,
            "content_type",
        ),
        (
            json!({"command": "encrypt", "from": "bob", "plaintext": "XY", "content_type": 1, "ttl": 0}),
            400,
            "plaintext",
        ),
        (
            json!({"command": "encrypt", "from": "bob", "plaintext": "00".repeat(1025), "content_type": 1, "ttl": 0}),
            400,
            "plaintext",
        ),
        (
            json!({"command": "encrypt", "from": "bob", "plaintext": "00", "content_type": 1, "ttl": "x"}),
            400,
            "ttl",
        ),
        (
            json!({"command": "decrypt", "to": "mallory", "bytes": "00"}),
            400,
            "to",
        ),
        // Over the HTTP body cap (16 KiB by default), before the track's own cap on `bytes`.
        (
            json!({"command": "decrypt", "to": "bob", "bytes": "00".repeat(16 * 1024 + 1)}),
            413,
            "body",
        ),
        (json!({"command": "guess", "bits": []}), 400, "bits"),
        (json!({"command": "guess", "bits": ""}), 409, "bits"),
        (json!({"command": "fetch-bundle"}), 400, "command"),
        (
            json!({"command": "decrypt", "to": "bob", "bytes": "00", "extra": 1}),
            400,
            "command",
        ),
    ];
    for (command, status, field) in refusals {
        let (got, e) = game.run(command.clone()).await;
        assert_eq!(
            (got, e["error"]["field"].as_str()),
            (status, Some(field)),
            "{command}: {e}"
        );
    }
    let (status, e) = client
        .post_raw(&game.path, "{\"command\":", Some(&game.token))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("command"))
    );
    let (status, _) = client
        .post_raw(&game.path, &decrypt("bob", b"x").to_string(), Some("wrong"))
        .await;
    assert_eq!(status, 401);

    // The commands and their answers.
    let a = game.ok(challenge("alice", b"left", b"rite")).await;
    assert_eq!(a["round"], 0, "{a}");
    let c0 = hex::decode(a["ciphertext"].as_str().unwrap()).unwrap();
    assert_eq!(
        game.ok(decrypt("bob", &c0)).await,
        json!({"decryption": "challenge"})
    );
    assert_eq!(
        game.ok(decrypt("bob", &c0)).await,
        json!({"decryption": "refused"}),
        "a replay"
    );
    let e = game
        .ok(json!({"command": "encrypt", "from": "bob", "plaintext": "6869", "content_type": 7, "ttl": 60}))
        .await;
    let c = hex::decode(e["ciphertext"].as_str().unwrap()).unwrap();
    let d = game.ok(decrypt("alice", &c)).await;
    assert_eq!(
        (
            d["plaintext"].as_str(),
            d["content_type"].as_u64(),
            d["ttl"].as_u64()
        ),
        (Some("6869"), Some(7), Some(60)),
        "{d}"
    );
    assert_eq!(
        game.ok(decrypt("alice", b"garbage")).await,
        json!({"decryption": "refused"})
    );
    // oracle_calls = 5: spent.
    let (status, e) = game.run(decrypt("alice", b"more")).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("oracle_calls")),
        "{e}"
    );
    game.ok(challenge("bob", b"", b"")).await;
    game.ok(challenge("alice", b"x", b"y")).await;
    let (status, e) = game.run(challenge("alice", b"x", b"y")).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("rounds")),
        "{e}"
    );
    let (status, e) = game.run(guess(&[true; 9])).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (400, Some("bits")),
        "{e}"
    );
    let judged = game.ok(guess(&[true, false, true])).await;
    assert_eq!(judged["rounds"], 3, "{judged}");
    assert_eq!(judged["won"], false, "{judged}");
    assert_eq!(
        judged["min_correct"],
        json!(null),
        "three rounds can never win"
    );
    let (status, e) = game.run(guess(&[true, false, true])).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("session")),
        "{e}"
    );

    // The record, to the token's holder.
    let (status, page) = client
        .get_with_token(
            &format!("/challenges/{id}/sessions/0/record"),
            Some(&game.token),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["entries_total"], 10, "{page}");
    // max_games = 2: the third is refused.
    Session::open(&client, &id, "eve").await;
    let (status, e) = client
        .post(
            &format!("/challenges/{id}/sessions"),
            &json!({"claimant": "eve"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("max_sessions")),
        "{e}"
    );
    // A definition's bad parameter is named.
    let bad = ind_cca_spec(json!({"rounds": 50_001}));
    match challenges::create_on(&app(&server), bad, None, targets::real()).await {
        Err(challenge_server::Error::Invalid { field, .. }) => assert_eq!(field, "params.rounds"),
        other => panic!("{other:?}"),
    }
}
