//! Automated attackers over HTTP that use only the published transcript and the seized device
//! state (tests/common/seizure.rs): on `kept-message-keys` (no forward secrecy) one wins
//! `forward-secrecy`, on `no-dh-ratchet` (no post-compromise security) one wins
//! `post-compromise`, each by commit and reveal; the same attackers on target-impl recover
//! nothing; `verify` passes on every challenge.
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
use challenge_server::targets::{self, Target};
use common::seizure::{Read, attack_after, attack_before, claim, seizure_spec, transcript};
use common::*;

const T0: u64 = 1_800_000_000;

/// Plays a seizure challenge of `messages` entries, Bob seized at `seize_at`, on the target
/// `flaw` and on target-impl from the same seed; `attack` runs on both transcripts. On the
/// weak one its first read wins `kind`; on target-impl it reads nothing. `verify` passes on
/// both.
async fn wins_on_weak_only(
    flaw: &str,
    messages: u64,
    seize_at: u64,
    kind: &str,
    attack: fn(&dyn Target, &[common::seizure::Published]) -> Vec<Read>,
) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let pinned = save_server_key(&client, &dir.path().join("server-key.json")).await;
    let seed = [0x3c; 32];
    let weak = targets::by_flaw(Some(flaw)).unwrap();
    let on_weak = challenges::create_on(
        &app(&server),
        seizure_spec(messages, seize_at, "bob"),
        Some(MasterSeed::from_bytes(seed)),
        weak,
    )
    .await
    .unwrap();
    let on_real = challenges::create(
        &app(&server),
        seizure_spec(messages, seize_at, "bob"),
        Some(MasterSeed::from_bytes(seed)),
    )
    .await
    .unwrap();
    clock.advance(messages + 1);
    let weak_entries = transcript(&client, &on_weak.id, messages + 1).await;
    let real_entries = transcript(&client, &on_real.id, messages + 1).await;

    // The attacker holds the published bytes and the target's code, nothing else.
    let reads = attack(weak, &weak_entries);
    println!("{flaw}: read {reads:?}");
    let read = reads.first().expect("a secret read on the weak target");
    assert_eq!(read.kind, kind);
    let verdict = claim(&client, &on_weak.id, "eve", read, 1).await;
    assert_eq!(verdict["verdict"], "won", "{verdict}");
    // The claim of the other window's kind for the same message is invalid.
    let wrong = Read {
        kind: if kind == "forward-secrecy" {
            "post-compromise"
        } else {
            "forward-secrecy"
        },
        ..read.clone()
    };
    let verdict = claim(&client, &on_weak.id, "mallory", &wrong, 2).await;
    assert_eq!(verdict["verdict"], "invalid", "{verdict}");

    // The same attacker on target-impl, the same seed: nothing.
    assert_eq!(attack(targets::real(), &real_entries), vec![]);

    // The health solver sees the weak target lose its own game, and the real one hold.
    let (_, health) = client.get("/health").await;
    for c in health["challenges"].as_array().unwrap() {
        if c["id"] == on_weak.id.as_str() {
            let problem = c["problem"].as_str().unwrap_or_default();
            assert!(problem.contains("protected but was read"), "{c}");
        } else {
            assert_eq!(c["solvable"], true, "{c}");
        }
    }

    // Both close, and verify passes on both (the weak target's loss is not unfairness).
    clock.advance(60);
    for id in [&on_weak.id, &on_real.id] {
        client.wait_closed(id).await;
        let report = verify_http(&server, id, &pinned, clock.now())
            .await
            .unwrap();
        assert_eq!(report.entries, messages + 1);
    }
    println!(
        "checked: {kind} won on {flaw} (message {}), nothing read on target-impl",
        read.message
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_message_keys_loses_forward_secrecy_and_target_impl_does_not() {
    wins_on_weak_only("kept-message-keys", 8, 2, "forward-secrecy", attack_before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_dh_ratchet_loses_post_compromise_security_and_target_impl_does_not() {
    wins_on_weak_only("no-dh-ratchet", 12, 4, "post-compromise", attack_after).await;
}
