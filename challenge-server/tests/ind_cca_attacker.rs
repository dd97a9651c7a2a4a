//! An automated attacker against the `ind-cca` track, over HTTP only: on `malleable-field` it
//! re-encodes each challenge ciphertext (its unauthenticated trailing byte flipped), which the
//! decryption oracle decrypts to `m_b`, and so guesses every round's bit; the judge awards
//! `ind-cca`. The same attacker on target-impl gets `refused` for every re-encoding, guesses
//! at random, and loses. `verify` passes on both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::RunningServer;
use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::log::Event;
use challenge_server::targets::weak;
use challenge_server::targets::{self, Target};
use challenge_server::tracks::ind_cca::threshold;
use common::ind_cca::{challenge, decrypt, guess, ind_cca_spec};
use common::mitm::Session;
use common::{Client, app, config, event_of, save_server_key, start};
use serde_json::{Value, json};

const T0: u64 = 1_800_000_000;
const EVE: &str = "eve";
/// Rounds the attacker plays: enough that all correct wins at the default games cap.
const ROUNDS: u64 = 40;

struct Arena {
    dir: tempfile::TempDir,
    clock: Clock,
    server: RunningServer,
    client: Client,
    id: String,
}

impl Arena {
    async fn on(target: &'static dyn Target) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(T0);
        let server = start(config(dir.path()), clock.clone()).await;
        let client = Client::new(&server.url());
        let spec = ind_cca_spec(json!({"rounds": ROUNDS}));
        let id = challenges::create_on(&app(&server), spec, None, target)
            .await
            .unwrap()
            .id;
        Self {
            dir,
            clock,
            server,
            client,
            id,
        }
    }

    async fn events(&self) -> Vec<Event> {
        let (status, page) = self.client.get("/log/entries?from=0&limit=1000").await;
        assert_eq!(status, 200, "{page}");
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(event_of)
            .collect()
    }

    async fn close_and_verify(&self) -> challenge_server::verify::Report {
        challenges::close(&app(&self.server), &self.id, "operator")
            .await
            .unwrap();
        let pinned = save_server_key(&self.client, &self.dir.path().join("key.json")).await;
        common::verify_http(&self.server, &self.id, &pinned, self.clock.now())
            .await
            .unwrap_or_else(|e| panic!("verify after the close: {e}"))
    }
}

/// The attack: per round a challenge of `m0 = 00…`, `m1 = ff…`, alternating directions, its
/// last byte flipped and submitted to the receiver's decryption oracle; a plaintext tells the
/// bit, a refusal leaves a coin (here, the round's parity). Returns the judgement and how many
/// re-encodings were decrypted.
async fn attack(session: &Session<'_>) -> (Value, u64) {
    let mut bits = Vec::new();
    let mut learned = 0;
    for i in 0..ROUNDS {
        let (from, to) = if i % 2 == 0 {
            ("alice", "bob")
        } else {
            ("bob", "alice")
        };
        let answer = session.ok(challenge(from, &[0; 16], &[0xff; 16])).await;
        assert_eq!(answer["round"], i, "{answer}");
        let mut c = hex::decode(answer["ciphertext"].as_str().unwrap()).unwrap();
        *c.last_mut().unwrap() ^= 0x01;
        let answer = session.ok(decrypt(to, &c)).await;
        match answer.get("plaintext").and_then(Value::as_str) {
            Some(p) => {
                learned += 1;
                bits.push(p == hex::encode([0xff; 16]));
            }
            None => {
                assert_eq!(answer, json!({"decryption": "refused"}));
                bits.push(i % 3 == 0);
            }
        }
    }
    (session.ok(guess(&bits)).await, learned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_encoded_challenges_win_ind_cca_on_malleable_field() {
    let arena = Arena::on(weak::by_name(weak::MALLEABLE_FIELD).unwrap()).await;
    let (session, opened) = Session::open(&arena.client, &arena.id, EVE).await;
    let g = opened["session"].as_u64().unwrap();
    let (judged, learned) = attack(&session).await;
    assert_eq!(learned, ROUNDS);
    let min = threshold::min_correct(ROUNDS, 1_000).unwrap();
    assert_eq!(
        judged,
        json!({"rounds": ROUNDS, "correct": ROUNDS, "min_correct": min, "won": true})
    );
    let win = arena.events().await.into_iter().find_map(|e| match e {
        Event::SessionWin {
            session, kind, k, ..
        } if session == g => Some((kind, k)),
        _ => None,
    });
    assert_eq!(win, Some(("ind-cca".to_owned(), 2 * ROUNDS + 1)));
    // The game is over: no more commands.
    let (status, e) = session.run(guess(&[true])).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (409, Some("session"))
    );
    let report = arena.close_and_verify().await;
    assert_eq!(report.session_wins, 1, "{report:?}");
    let (status, page) = arena
        .client
        .get(&format!("/challenges/{}/sessions/{g}/record", arena.id))
        .await;
    assert_eq!(status, 200);
    let evidence = &page["wins"][0]["evidence"];
    assert_eq!(evidence["correct"], ROUNDS, "{page}");
    assert_eq!(evidence["games_cap"], 1_000, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_attack_loses_on_target_impl() {
    let arena = Arena::on(targets::real()).await;
    let (session, opened) = Session::open(&arena.client, &arena.id, EVE).await;
    let g = opened["session"].as_u64().unwrap();
    let (judged, learned) = attack(&session).await;
    assert_eq!(learned, 0, "every re-encoding is refused");
    assert_eq!(judged["won"], false, "{judged}");
    let correct = judged["correct"].as_u64().unwrap();
    assert!(
        !threshold::wins(correct, ROUNDS, 1_000).unwrap(),
        "{judged}"
    );
    assert!(
        !arena
            .events()
            .await
            .iter()
            .any(|e| matches!(e, Event::SessionWin { session, .. } if *session == g))
    );
    let report = arena.close_and_verify().await;
    assert_eq!(report.session_wins, 0, "{report:?}");
}
