//! The `repeated-body-nonce` weak target (src/targets/weak/repeated_body_nonce.rs) against a
//! known-plaintext attacker (tests/weak_target/attacker.rs) that reads only published bytes and
//! the public filler sentences: it wins on the weak target and finds nothing on target-impl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "weak_target/attacker.rs"]
mod attacker;
mod common;

use attacker::{Entry, Recovered, attack};
use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::seed::{MasterSeed, label};
use challenge_server::targets::{self, Delivery, OneTimePrekeys, Outgoing, Target};
use challenge_server::tracks::Schedule;
use challenge_server::tracks::passive::{self, Direction, FILLERS, SecretPlacement};
use common::*;

const FLAW: &str = "repeated-body-nonce";
/// A seed whose schedule (below) puts a secret in a run of sends together with a filler.
const SEED: [u8; 32] = [0x77; 32];
const MESSAGES: u64 = 14;
const SECRETS: u32 = 3;
const T0: u64 = 1_800_000_000;

/// What the attacker must read on the weak target: every secret whose message shares a run of
/// consecutive messages in one direction (one send run, so one `r`) with a filler, with the
/// messages that may carry it (its own, and the filler's if that is the run's only filler).
fn readable_on_weak(
    seed: &MasterSeed,
    messages: u64,
    placements: &[SecretPlacement],
) -> Vec<Recovered> {
    let directions: Vec<Direction> = (1..=messages)
        .map(|k| passive::direction(seed, k).unwrap())
        .collect();
    let run_of = |k: u64| -> Vec<u64> {
        let d = directions[(k - 1) as usize];
        let mut start = k;
        while start > 1 && directions[(start - 2) as usize] == d {
            start -= 1;
        }
        let mut end = k;
        while end < messages && directions[end as usize] == d {
            end += 1;
        }
        (start..=end).collect()
    };
    let mut out: Vec<Recovered> = placements
        .iter()
        .filter_map(|p| {
            let fillers: Vec<u64> = run_of(p.message)
                .into_iter()
                .filter(|&k| placements.iter().all(|q| q.message != k))
                .collect();
            let mut candidates = match fillers.as_slice() {
                [] => return None,
                [only] => vec![p.message, *only],
                _ => vec![p.message],
            };
            candidates.sort_unstable();
            Some(Recovered {
                secret_index: p.index,
                secret_hex: hex::encode(*passive::secret(seed, p.index).unwrap()),
                messages: candidates,
            })
        })
        .collect();
    out.sort();
    out
}

/// The passive conversation of `seed` played through the [`Target`] interface on `target`, as
/// the track plays it: every message decrypts to its payload; its published entries.
fn converse(target: &dyn Target, seed: &MasterSeed, schedule: &Schedule) -> Vec<Entry> {
    let placements = passive::placements(seed, schedule, SECRETS).unwrap();
    let mut alice = target
        .generate(
            &mut seed.rng(label::ALICE, 0).unwrap(),
            OneTimePrekeys::default(),
        )
        .unwrap();
    let mut bob = target
        .generate(
            &mut seed.rng(label::BOB, 0).unwrap(),
            OneTimePrekeys { x25519: 1, kem: 1 },
        )
        .unwrap();
    let mut entries = vec![Entry {
        index: 0,
        time: schedule.time_of(0),
        direction: Direction::BobToAlice.name().to_owned(),
        bytes: bob.bundle().unwrap(),
    }];
    for k in 1..=schedule.messages {
        let now = schedule.time_of(k);
        let mut rng = seed.rng(label::STEP, k).unwrap();
        if k == 1 {
            alice
                .initiate(
                    "bob",
                    &bob.bundle().unwrap(),
                    &bob.public_identity(),
                    &mut rng,
                )
                .unwrap();
        }
        let direction = passive::direction(seed, k).unwrap();
        let payload = passive::payload(seed, &placements, k).unwrap();
        let message = Outgoing {
            content_type: passive::CONTENT_TYPE,
            ttl: 0,
            payload: &payload,
        };
        let (sender, receiver, to, from) = match direction {
            Direction::AliceToBob => (&mut alice, &mut bob, "bob", "alice"),
            Direction::BobToAlice => (&mut bob, &mut alice, "alice", "bob"),
        };
        let bytes = sender.encrypt(to, &message, now, &mut rng).unwrap();
        let Delivery::Message(got) = receiver.decrypt(from, &bytes, now).unwrap() else {
            panic!("message {k}: an identity change");
        };
        assert_eq!(got.payload.as_slice(), payload.as_slice(), "message {k}");
        entries.push(Entry {
            index: k,
            time: now,
            direction: direction.name().to_owned(),
            bytes,
        });
    }
    entries
}

#[test]
fn weak_attacker_reads_a_conversation_driven_through_the_target_trait() {
    let seed = MasterSeed::from_bytes(SEED);
    let schedule = Schedule {
        messages: MESSAGES,
        interval_secs: 1,
        start_at: 1_800_000_000,
    };
    let placements = passive::placements(&seed, &schedule, SECRETS).unwrap();
    let readable = readable_on_weak(&seed, MESSAGES, &placements);
    assert!(
        readable.iter().any(|r| r.messages.len() == 1),
        "the seed puts a secret in a run with two fillers: {readable:?}"
    );

    let weak = targets::by_flaw(Some(FLAW)).unwrap();
    let recovered = attack(&converse(weak, &seed, &schedule), &FILLERS);
    println!("weak target: {recovered:?}");
    assert_eq!(recovered, readable);

    let real = targets::by_flaw(None).unwrap();
    let recovered = attack(&converse(real, &seed, &schedule), &FILLERS);
    assert_eq!(recovered, vec![], "nothing on target-impl");
}

/// The whole transcript of challenge `id`, over HTTP, once it is all published.
async fn published_transcript(client: &Client, id: &str) -> Vec<Entry> {
    client.wait_published(id, MESSAGES + 1).await;
    let (status, page) = client
        .get(&format!("/challenges/{id}/transcript?from=0&limit=1000"))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page["next_from"].is_null());
    let entries = Entry::from_page(&page);
    assert_eq!(entries.len() as u64, MESSAGES + 1);
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_target_challenge_is_won_over_http_and_the_real_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);
    let weak = targets::by_flaw(Some(FLAW)).unwrap();
    let on_weak = challenges::create_on(
        &app,
        spec(MESSAGES, 1, SECRETS, 60),
        Some(MasterSeed::from_bytes(SEED)),
        weak,
    )
    .await
    .unwrap();
    let on_real = challenges::create(
        &app,
        spec(MESSAGES, 1, SECRETS, 60),
        Some(MasterSeed::from_bytes(SEED)),
    )
    .await
    .unwrap();
    let seed = MasterSeed::from_bytes(SEED);
    let schedule = on_weak.schedule;
    assert_eq!(schedule.messages, MESSAGES);
    let placements = passive::placements(&seed, &schedule, SECRETS).unwrap();
    let readable = readable_on_weak(&seed, MESSAGES, &placements);

    // The published challenge names its weak target.
    let (_, c) = client.get(&format!("/challenges/{}", on_weak.id)).await;
    assert_eq!(c["target_impl"]["flaw"], FLAW);
    assert_eq!(
        c["target_impl"]["source_sha256"],
        challenge_server::TARGET_IMPL_SOURCE_SHA256
    );
    let (_, c) = client.get(&format!("/challenges/{}", on_real.id)).await;
    assert!(c["target_impl"]["flaw"].is_null());

    clock.advance(schedule.last_time() - T0);
    let weak_transcript = published_transcript(&client, &on_weak.id).await;
    let real_transcript = published_transcript(&client, &on_real.id).await;
    assert_eq!(
        weak_transcript[0].bytes, real_transcript[0].bytes,
        "the same seed: the same parties"
    );

    // Both are solvable as committed (the health solver reads every secret with the seed).
    let (_, health) = client.get("/health").await;
    assert_eq!(health["status"], "ok", "{health}");
    for c in health["challenges"].as_array().unwrap() {
        assert_eq!(c["solvable"], true, "{c}");
        assert_eq!(c["secrets_confirmed"], SECRETS, "{c}");
    }

    // The attacker reads the weak transcript, from its bytes and the fillers alone.
    let recovered = attack(&weak_transcript, &FILLERS);
    println!("recovered on the weak target: {recovered:?}");
    assert_eq!(recovered, readable);
    let found = recovered
        .iter()
        .find(|r| r.messages.len() == 1)
        .expect("a secret whose message the attacker pins down");
    let message = found.messages[0];
    let nonce = hex::encode([7u8; 32]);
    let (status, receipt) = commit_secret(
        &client,
        &on_weak.id,
        "eve",
        message,
        &found.secret_hex,
        &nonce,
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let (status, verdict) = reveal_secret(
        &client,
        receipt["claim"].as_str().unwrap(),
        message,
        &found.secret_hex,
        &nonce,
    )
    .await;
    assert_eq!(
        (status, verdict["verdict"].as_str()),
        (200, Some("won")),
        "{verdict}"
    );

    // On target-impl, the same seed and schedule give it nothing.
    assert_eq!(attack(&real_transcript, &FILLERS), vec![]);
    println!(
        "checked: secret {} of message {message} won on {FLAW}; nothing read on target-impl",
        found.secret_index
    );
}
