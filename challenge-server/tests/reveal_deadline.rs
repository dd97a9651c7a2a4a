//! The reveal deadline (issue 15, item 1, in part): published at creation; reveals after it are
//! refused and change nothing; at it, every unrevealed commit is void by a logged `claim-void`
//! event, so a win with an unrevealed earlier commit becomes final; `verify` accepts the voids.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::{DEFAULT_REVEAL_WINDOW_SECS, passive};
use common::{Client, app, commit_secret, config, reveal_secret, spec, start};

#[tokio::test]
async fn unrevealed_commits_are_void_after_the_reveal_deadline_and_the_win_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(1_800_000_000);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let pinned = common::save_server_key(&client, &dir.path().join("pinned-key.json")).await;
    let seed = MasterSeed::from_bytes([3; 32]);
    let row = challenges::create(&app(&server), spec(3, 10, 1, 30), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    let (_, view) = client.get(&format!("/challenges/{id}")).await;
    let reveal_deadline = view["deadline"].as_u64().unwrap() + DEFAULT_REVEAL_WINDOW_SECS;
    assert_eq!(view["reveal_deadline"], reveal_deadline);
    clock.advance(40);
    client.wait_published(&id, 4).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());

    // Mallory commits first and never reveals; Alice commits the same secret second.
    let (_, mallory) = commit_secret(
        &client,
        &id,
        "mallory",
        p.message,
        &secret,
        &"01".repeat(32),
    )
    .await;
    let (_, alice) =
        commit_secret(&client, &id, "alice", p.message, &secret, &"02".repeat(32)).await;
    let (s, v) = reveal_secret(
        &client,
        alice["claim"].as_str().unwrap(),
        p.message,
        &secret,
        &"02".repeat(32),
    )
    .await;
    assert_eq!((s, v["verdict"].as_str()), (200, Some("won")));
    clock.advance(60);
    client.wait_closed(&id).await;

    // After the reveal deadline: Mallory's reveal is refused, nothing changes, her commit is void.
    clock.advance(reveal_deadline - 1_800_000_100);
    let mallory_id = mallory["claim"].as_str().unwrap();
    let (s, e) = reveal_secret(&client, mallory_id, p.message, &secret, &"01".repeat(32)).await;
    assert_eq!((s, e["error"]["field"].as_str()), (409, Some("id")), "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reveal deadline")
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let voided = loop {
        let (_, c) = client.get(&format!("/claims/{mallory_id}")).await;
        if c["verdict"] == "void" {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "never voided: {c}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(voided["reveal"].is_null() && voided["kind"].is_null());
    let (_, a) = client
        .get(&format!("/claims/{}", alice["claim"].as_str().unwrap()))
        .await;
    assert_eq!(a["verdict"], "won");

    let (_, entries) = client.get("/log/entries?from=0&limit=100").await;
    let voids: Vec<Event> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::event_of)
        .filter(|e| matches!(e, Event::ClaimVoid { .. }))
        .collect();
    assert_eq!(
        voids,
        [Event::ClaimVoid {
            challenge: id.clone(),
            claim: mallory_id.to_owned(),
            time: reveal_deadline
        }]
    );
    // Voided once: a later tick adds nothing.
    clock.advance(10);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (_, after) = client.get("/log/entries?from=0&limit=100").await;
    assert_eq!(
        after["entries"].as_array().unwrap().len(),
        entries["entries"].as_array().unwrap().len()
    );

    let report = common::verify_http(&server, &id, &pinned, clock.now())
        .await
        .unwrap();
    assert_eq!(report.claims, 2);
    server.stop().await.unwrap();
}
