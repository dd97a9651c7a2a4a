//! An automated man in the middle against the `mitm` track, over HTTP only: each judge awards
//! its win on the weak target built for it, and the same attacker wins nothing on target-impl.
//!
//! - `secret` on `repeated-body-nonce`: within one send run every body has the same AES-GCM
//!   (key, nonce), so a `txt` of a known plaintext gives the keystream of Alice's asks.
//! - `forgery` on `unchecked-tag`: a payload bit of Bob's message flipped on the wire.
//! - `key` on `small-identity-space`: Bob's published identity searched over its 2^20 seeds.
//! - A bundle of a device of the attacker's own delivered to Alice: refused on every target,
//!   since she pins Bob's published identity, and the honest relay goes on afterwards.
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
use challenge_server::targets::weak::{self, recover_small_identity};
use challenge_server::targets::{self, OneTimePrekeys, Target};
use challenge_server::tracks::mitm::SECRET_ASKS;
use challenge_server::tracks::passive::FILLERS;
use common::mitm::{Session, mitm_spec};
use common::{Client, app, config, event_of, save_server_key, start};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use serde_json::{Value, json};
use target_impl::wire::WireMessage;
use target_impl::{BODY_PREAMBLE_LEN, padded_len};

const T0: u64 = 1_800_000_000;
const EVE: &str = "eve";
/// AES-256-GCM's tag: the last bytes of a sealed body.
const TAG_LEN: usize = 16;
/// Offset of the `u32` payload length in a body plaintext (docs/PROTOCOL.md 8.1).
const PAYLOAD_LEN_OFFSET: usize = 13;
/// The secret's payload: `secret 0: ` and 32 hex digits.
const SECRET_PAYLOAD_LEN: usize = 42;

/// A server with one mitm challenge on a target, and what the attacker knows of it.
struct Arena {
    dir: tempfile::TempDir,
    clock: Clock,
    server: RunningServer,
    client: Client,
    id: String,
}

impl Arena {
    /// A mitm challenge on `target`, with room for the asks of the relay after an attack.
    async fn on(target: &'static dyn Target) -> Self {
        Self::closing_on_win(target, false).await
    }

    async fn closing_on_win(target: &'static dyn Target, close_on_win: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Clock::manual(T0);
        let server = start(config(dir.path()), clock.clone()).await;
        let client = Client::new(&server.url());
        let mut spec = mitm_spec(json!({"asks": 40}));
        spec.close_on_win = close_on_win;
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

    /// Closes the challenge and runs `verify` over HTTP under the key saved now, which must
    /// pass: every session replayed, every claim and win re-judged from the seed.
    async fn close_and_verify(&self) -> challenge_server::verify::Report {
        challenges::close(&app(&self.server), &self.id, "operator")
            .await
            .unwrap();
        let pinned = save_server_key(&self.client, &self.dir.path().join("key.json")).await;
        common::verify_http(&self.server, &self.id, &pinned, self.clock.now())
            .await
            .unwrap_or_else(|e| panic!("verify after the close: {e}"))
    }

    async fn open(&self) -> (Session<'_>, Value) {
        Session::open(&self.client, &self.id, EVE).await
    }

    /// Every log event, parsed as `verify` parses it.
    async fn events(&self) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let (status, page) = self
                .client
                .get(&format!("/log/entries?from={}&limit=1000", events.len()))
                .await;
            assert_eq!(status, 200, "{page}");
            let entries = page["entries"].as_array().unwrap();
            if entries.is_empty() {
                return events;
            }
            events.extend(entries.iter().map(event_of));
        }
    }

    /// Whether the log holds a `session-win` of `kind` for session `s` of this challenge.
    async fn session_win_logged(&self, s: u64, kind: &str) -> bool {
        self.events().await.iter().any(|e| {
            matches!(e, Event::SessionWin { challenge, session, kind: k, .. }
                if *challenge == self.id && *session == s && k == kind)
        })
    }

    /// Commits the claim whose kind-specific lines are `lines` (docs/API.md "Claim
    /// commitment"), then reveals it with `reveal` (and the nonce): the verdict.
    async fn claim(&self, lines: &str, mut reveal: Value) -> String {
        let nonce = hex::encode(rand_bytes::<32>(0xc1));
        let text = format!(
            "challenge-server/v1/claim\nchallenge: {}\nclaimant: {EVE}\n{lines}nonce: {nonce}\n",
            self.id
        );
        let commitment = hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]));
        let (status, receipt) = self
            .client
            .post(
                "/claims/commit",
                &json!({"challenge": self.id, "claimant": EVE, "commitment": commitment}),
            )
            .await;
        assert_eq!(status, 201, "{receipt}");
        reveal["nonce"] = json!(nonce);
        let claim = receipt["claim"].as_str().unwrap();
        let (status, verdict) = self
            .client
            .post(&format!("/claims/{claim}/reveal"), &reveal)
            .await;
        assert_eq!(status, 200, "{verdict}");
        verdict["verdict"].as_str().unwrap().to_owned()
    }
}

fn rand_bytes<const N: usize>(seed: u8) -> [u8; N] {
    let mut out = [0u8; N];
    ChaCha20Rng::from_seed([seed; 32]).fill_bytes(&mut out);
    out
}

/// The sealed body of a ratchet or initial message: body ciphertext, then its tag.
fn sealed_body(message: &[u8]) -> Vec<u8> {
    match WireMessage::decode(message).unwrap() {
        WireMessage::Initial(m) => m.ratchet.body.to_vec(),
        WireMessage::Ratchet(m) => m.body.to_vec(),
        WireMessage::Bundle(_) => panic!("a bundle, not a message"),
    }
}

/// The body plaintext (docs/PROTOCOL.md 8.1) a bot seals for `payload`.
fn body_plaintext(content_type: u8, sent_at: u64, ttl: u32, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![content_type];
    body.extend_from_slice(&sent_at.to_be_bytes());
    body.extend_from_slice(&ttl.to_be_bytes());
    body.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    body.extend_from_slice(payload);
    body.resize(padded_len(BODY_PREAMBLE_LEN + payload.len()), 0);
    body
}

/// The payload of a body plaintext, if it is one: its length in range, its padding zero.
fn payload_of(body: &[u8]) -> Option<Vec<u8>> {
    let len = body.get(PAYLOAD_LEN_OFFSET..BODY_PREAMBLE_LEN)?;
    let len = usize::try_from(u32::from_be_bytes(len.try_into().ok()?)).ok()?;
    let end = BODY_PREAMBLE_LEN.checked_add(len)?;
    let (payload, padding) = body.get(BODY_PREAMBLE_LEN..)?.split_at_checked(len)?;
    (padded_len(end) == body.len() && padding.iter().all(|&b| b == 0)).then(|| payload.to_vec())
}

/// The secret of `secret 0: <32 lowercase hex>`.
fn secret_of(payload: &[u8]) -> Option<String> {
    let hex_part = std::str::from_utf8(payload)
        .ok()?
        .strip_prefix("secret 0: ")?;
    (hex_part.len() == 32
        && hex_part
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then(|| hex_part.to_owned())
}

/// Delivers Bob's genuine bundle to Alice.
async fn connect(session: &Session<'_>) {
    let bundle = session.fetch_bundle().await;
    assert_eq!(session.deliver("alice", &bundle).await, "accepted");
}

/// The honest relay: a message each way, each accepted.
async fn relay_still_works(session: &Session<'_>) {
    for (from, to) in [("alice", "bob"), ("bob", "alice")] {
        let m = session.ask(from).await;
        assert_eq!(session.deliver(to, &m).await, "accepted", "{from} to {to}");
    }
}

/// Bob's genuine bundle to Alice, then the honest relay.
async fn relay_still_works_after_connect(session: &Session<'_>) {
    connect(session).await;
    relay_still_works(session).await;
}

/// Keystream reuse: Alice's first [`SECRET_ASKS`] asks, then a `txt` of a known plaintext as
/// long as the longest ask's bucket, all in one send run; the known body XOR its ciphertext is
/// the keystream, which read each ask's body. The payload of every ask whose body reads.
async fn read_asks(session: &Session<'_>, now: u64) -> Vec<Option<Vec<u8>>> {
    connect(session).await;
    let mut asks = Vec::new();
    for _ in 0..SECRET_ASKS {
        asks.push(hex::decode(session.ask("alice").await).unwrap());
    }
    let longest = FILLERS
        .iter()
        .map(|f| f.len())
        .chain([SECRET_PAYLOAD_LEN])
        .max()
        .unwrap();
    let known: Vec<u8> = b"known plaintext "
        .iter()
        .copied()
        .cycle()
        .take(padded_len(BODY_PREAMBLE_LEN + longest) - BODY_PREAMBLE_LEN)
        .collect();
    let txt = hex::decode(session.txt("alice", &known, 0, 0).await).unwrap();
    let keystream: Vec<u8> = sealed_body(&txt)
        .iter()
        .zip(body_plaintext(0, now, 0, &known))
        .map(|(c, p)| c ^ p)
        .collect();
    asks.iter()
        .map(|ask| {
            let sealed = sealed_body(ask);
            let ciphertext = &sealed[..sealed.len() - TAG_LEN];
            if ciphertext.len() > keystream.len() {
                return None;
            }
            let body: Vec<u8> = ciphertext
                .iter()
                .zip(&keystream)
                .map(|(c, k)| c ^ k)
                .collect();
            payload_of(&body)
        })
        .collect()
}

/// A forgery: Bob's message with the first bit of its payload flipped, delivered to Alice (it
/// is a ratchet message of her session, as the first one from Alice to Bob is not). The
/// answer, and Bob's genuine message.
async fn forge(session: &Session<'_>) -> (String, String) {
    connect(session).await;
    let first = session.ask("alice").await;
    assert_eq!(session.deliver("bob", &first).await, "accepted");
    let genuine = session.ask("bob").await;
    let mut tampered = hex::decode(&genuine).unwrap();
    let body_at = tampered.len() - sealed_body(&tampered).len();
    tampered[body_at + BODY_PREAMBLE_LEN] ^= 1;
    let answer = session.deliver("alice", &hex::encode(tampered)).await;
    (answer.as_str().unwrap().to_owned(), genuine)
}

/// Bob's private Ed25519 seed, searched from his published identity over the 2^20 seeds (on
/// a blocking thread: the whole space takes seconds); a key of the attacker's own if the
/// search finds nothing.
async fn search_bob_key(opened: &Value) -> ([u8; 32], bool) {
    let identity = hex::decode(opened["fields"]["bob_identity"].as_str().unwrap()).unwrap();
    let found = tokio::task::spawn_blocking(move || recover_small_identity(&identity))
        .await
        .unwrap();
    match found {
        Some((signing, _dh)) => (*signing, true),
        None => (rand_bytes::<32>(0x4b), false),
    }
}

/// A `key` claim of Bob's Ed25519 key in session `s`: the verdict.
async fn claim_bob_key(arena: &Arena, s: u64, private: &[u8; 32]) -> String {
    let private = hex::encode(private);
    arena
        .claim(
            &format!("kind: key\nsession: {s}\nparty: bob\nkey: ed25519\nprivate-key: {private}\n"),
            json!({"kind": "key", "session": s, "party": "bob", "key": "ed25519", "private_key": private}),
        )
        .await
}

/// Bundle substitution: a bundle of a target-impl device of the attacker's own delivered to
/// Alice before Bob's. Its answer; then Bob's genuine bundle and the honest relay must work.
async fn substitute_bundle(session: &Session<'_>) -> String {
    let mut rng = ChaCha20Rng::from_seed([0x5e; 32]);
    let own = targets::real()
        .generate(&mut rng, OneTimePrekeys { x25519: 1, kem: 1 })
        .unwrap();
    let answer = session
        .deliver("alice", &hex::encode(own.bundle().unwrap()))
        .await;
    connect(session).await;
    relay_still_works(session).await;
    answer.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keystream_reuse_wins_the_secret_on_repeated_body_nonce() {
    let arena = Arena::on(weak::by_name(weak::REPEATED_BODY_NONCE).unwrap()).await;
    let (session, opened) = arena.open().await;
    let s = opened["session"].as_u64().unwrap();
    let read = read_asks(&session, arena.clock.now()).await;
    let payloads: Vec<Vec<u8>> = read
        .into_iter()
        .map(|p| p.expect("every ask reads"))
        .collect();
    let secrets: Vec<String> = payloads.iter().filter_map(|p| secret_of(p)).collect();
    assert_eq!(secrets.len(), 1, "one ask carries the secret");
    for p in payloads.iter().filter(|p| secret_of(p).is_none()) {
        assert!(
            FILLERS.iter().any(|f| f.as_bytes() == p.as_slice()),
            "every other ask is a filler: {:?}",
            String::from_utf8_lossy(p)
        );
    }
    let secret = &secrets[0];
    let verdict = arena
        .claim(
            &format!("kind: secret\nsession: {s}\nsecret: {secret}\n"),
            json!({"kind": "secret", "session": s, "secret": secret}),
        )
        .await;
    assert_eq!(verdict, "won");
    // A wrong secret of the same session is judged invalid.
    let wrong = format!(
        "{}{}",
        &secret[..31],
        if secret.ends_with('0') { "1" } else { "0" }
    );
    let verdict = arena
        .claim(
            &format!("kind: secret\nsession: {s}\nsecret: {wrong}\n"),
            json!({"kind": "secret", "session": s, "secret": wrong}),
        )
        .await;
    assert_eq!(verdict, "invalid");

    let (session, _) = arena.open().await;
    assert_eq!(substitute_bundle(&session).await, "refused");
    let report = arena.close_and_verify().await;
    assert!((report.claims, report.session_wins) == (2, 0), "{report:?}");
    arena.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flipped_body_bit_wins_a_forgery_on_unchecked_tag() {
    let arena = Arena::on(weak::by_name(weak::UNCHECKED_TAG).unwrap()).await;
    let (session, opened) = arena.open().await;
    let s = opened["session"].as_u64().unwrap();
    assert!(!arena.session_win_logged(s, "forgery").await);
    let (answer, _genuine) = forge(&session).await;
    assert_eq!(answer, "accepted");
    assert!(
        arena.session_win_logged(s, "forgery").await,
        "the forgery is logged as a session-win"
    );
    relay_still_works(&session).await;

    let (session, _) = arena.open().await;
    assert_eq!(substitute_bundle(&session).await, "refused");
    let report = arena.close_and_verify().await;
    assert!(report.session_wins == 1, "{report:?}");
    arena.server.stop().await.unwrap();
}

/// The forgery's evidence (what Alice accepted) stays sealed while the challenge is open: no
/// answer carries it, not even the record its token's holder reads. After the close the
/// record shows it to everyone, on every page; `export` carries it, and `verify` compares it
/// with what the replay's Alice accepted: changed or left out, it is a mismatch naming the
/// session and the command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forgerys_evidence_is_published_at_the_close_and_verified() {
    use challenge_server::verify::{self, PinnedKey, Source, VerifyError};
    let arena = Arena::on(weak::by_name(weak::UNCHECKED_TAG).unwrap()).await;
    let (session, opened) = arena.open().await;
    let s = opened["session"].as_u64().unwrap();
    assert_eq!(forge(&session).await.0, "accepted");
    let (log_index, k) = arena
        .events()
        .await
        .iter()
        .enumerate()
        .find_map(|(n, e)| match e {
            Event::SessionWin { session, k, .. } if *session == s => Some((n as u64, *k)),
            _ => None,
        })
        .unwrap();
    let record = format!("/challenges/{}/sessions/{s}/record", arena.id);
    let (status, page) = arena
        .client
        .get_with_token(&record, Some(&session.token))
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.get("wins").is_none(), "no evidence while open: {page}");
    assert_eq!(arena.client.get(&record).await.0, 401);
    let mut answers_while_open = vec![page.to_string()];
    for path in [
        format!("/challenges/{}", arena.id),
        format!("/challenges/{}/claims", arena.id),
        "/log/entries?from=0&limit=1000".to_owned(),
    ] {
        let (status, body) = arena.client.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        answers_while_open.push(body.to_string());
    }

    let report = arena.close_and_verify().await;
    assert_eq!(report.session_wins, 1, "{report:?}");
    let (status, page) = arena.client.get(&record).await;
    assert_eq!(status, 200, "{page}");
    let wins = page["wins"].as_array().unwrap();
    assert_eq!(wins.len(), 1, "{page}");
    assert_eq!(
        (
            wins[0]["k"].as_u64(),
            wins[0]["kind"].as_str(),
            wins[0]["log_index"].as_u64()
        ),
        (Some(k), Some("forgery"), Some(log_index)),
        "{page}"
    );
    let evidence = &wins[0]["evidence"];
    assert_eq!(evidence["to"], "alice", "{page}");
    let plaintext = evidence["plaintext"].as_str().unwrap().to_owned();
    // Bob's ask with its first payload bit flipped, as the attacker sent it.
    let mut asked = hex::decode(&plaintext).unwrap();
    asked[0] ^= 1;
    assert!(
        FILLERS.iter().any(|f| f.as_bytes() == asked.as_slice()) || secret_of(&asked).is_some(),
        "the evidence is Bob's ask, flipped: {:?}",
        String::from_utf8_lossy(&asked)
    );
    for answer in &answers_while_open {
        assert!(
            !answer.contains(&plaintext),
            "the evidence leaked: {answer}"
        );
    }
    let (_, later) = arena.client.get(&format!("{record}?from=3&limit=2")).await;
    assert_eq!(later["wins"], page["wins"], "every page carries the wins");

    // The export carries it; verify compares it with the replay's.
    let key_file = arena.dir.path().join("key.json");
    let pinned = PinnedKey::from_arg(key_file.to_str().unwrap(), None).unwrap();
    let export = arena.dir.path().join("export");
    verify::export(
        &Source::http(&arena.server.url()).unwrap(),
        &arena.id,
        &export,
    )
    .await
    .unwrap();
    let run = |dir: std::path::PathBuf| {
        let (id, pinned, now) = (arena.id.clone(), pinned.clone(), arena.clock.now());
        async move { verify::verify(&Source::Dir(dir), &id, &pinned, &[], now).await }
    };
    run(export.clone()).await.unwrap();
    let changed = format!("session {s}: the evidence published for the forgery win at command {k}");
    let missing = format!(
        "session {s}: the forgery win at command {k} (log entry {log_index}) has no published \
         evidence"
    );
    let mut other = hex::decode(&plaintext).unwrap();
    *other.last_mut().unwrap() ^= 0x80;
    let tampers: [(&str, Tamper<'_>, &str); 4] = [
        (
            "plaintext",
            Box::new(|v| v[0]["wins"][0]["evidence"]["plaintext"] = json!(hex::encode(&other))),
            &changed,
        ),
        (
            "bot",
            Box::new(|v| v[0]["wins"][0]["evidence"]["to"] = json!("bob")),
            &changed,
        ),
        ("emptied", Box::new(|v| v[0]["wins"] = json!([])), &missing),
        (
            "removed",
            Box::new(|v| {
                v[0].as_object_mut().unwrap().remove("wins");
            }),
            &missing,
        ),
    ];
    for (name, tamper, reason) in tampers {
        let dir = arena.dir.path().join(format!("export-{name}"));
        common::edit_export(&export, &dir, "sessions.json", tamper);
        match run(dir.clone()).await {
            Err(VerifyError::Mismatch(m)) => assert!(m.contains(reason), "{name}: {m}"),
            other => panic!("{name}: the tampered evidence passed: {other:?}"),
        }
        if name == "plaintext" {
            let args = [
                "verify",
                "--dir",
                dir.to_str().unwrap(),
                "--server-key",
                key_file.to_str().unwrap(),
                "--now",
                &arena.clock.now().to_string(),
            ]
            .map(str::to_owned);
            let out = tokio::task::spawn_blocking(move || {
                common::run_cli(&args.each_ref().map(String::as_str), &[])
            })
            .await
            .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && stderr.contains(reason), "{stderr}");
        }
    }
    arena.server.stop().await.unwrap();
}

/// An edit of an exported document.
type Tamper<'a> = Box<dyn Fn(&mut Value) + 'a>;

/// On a challenge that closes on a win, the forgery closes it at once, in the transaction that
/// awards it: the session's final record is logged, and the bots take no more commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgery_closes_a_challenge_that_closes_on_a_win() {
    let arena = Arena::closing_on_win(weak::by_name(weak::UNCHECKED_TAG).unwrap(), true).await;
    let (session, _) = arena.open().await;
    assert_eq!(forge(&session).await.0, "accepted");
    let (_, c) = arena.client.get(&format!("/challenges/{}", arena.id)).await;
    assert_eq!(
        (c["status"].as_str(), c["close_reason"].as_str()),
        (Some("closed"), Some("won")),
        "{c}"
    );
    let events = arena.events().await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SessionClosed { session: 0, .. })),
        "the session's final record is logged at the close"
    );
    let (status, _) = session
        .run(json!({"command": "ask", "from": "alice"}))
        .await;
    assert_eq!(status, 409);
    arena.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_searched_identity_wins_the_key_on_small_identity_space() {
    let arena = Arena::on(weak::by_name(weak::SMALL_IDENTITY_SPACE).unwrap()).await;
    let (session, opened) = arena.open().await;
    let s = opened["session"].as_u64().unwrap();
    let (private, found) = search_bob_key(&opened).await;
    assert!(found, "Bob's identity is in the small space");
    assert_eq!(claim_bob_key(&arena, s, &private).await, "won");
    // The same key named as Alice's is not hers.
    let private_hex = hex::encode(private);
    let verdict = arena
        .claim(
            &format!(
                "kind: key\nsession: {s}\nparty: alice\nkey: ed25519\nprivate-key: {private_hex}\n"
            ),
            json!({"kind": "key", "session": s, "party": "alice", "key": "ed25519", "private_key": private_hex}),
        )
        .await;
    assert_eq!(verdict, "invalid");
    relay_still_works_after_connect(&session).await;

    let (session, _) = arena.open().await;
    assert_eq!(substitute_bundle(&session).await, "refused");
    let report = arena.close_and_verify().await;
    assert!(report.session_wins == 0, "{report:?}");
    arena.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_attacker_wins_nothing_on_target_impl() {
    let arena = Arena::on(targets::real()).await;

    // Keystream reuse reads no ask.
    let (session, opened) = arena.open().await;
    let read = read_asks(&session, arena.clock.now()).await;
    assert_eq!(
        read,
        vec![None; SECRET_ASKS as usize],
        "no plaintext recovered"
    );
    relay_still_works(&session).await;

    // The flipped bit is refused, no win is logged, and the genuine message still goes through.
    let s = opened["session"].as_u64().unwrap();
    let (session, opened) = arena.open().await;
    let forged_in = opened["session"].as_u64().unwrap();
    let (answer, genuine) = forge(&session).await;
    assert_eq!(answer, "refused");
    assert_eq!(session.deliver("alice", &genuine).await, "accepted");
    relay_still_works(&session).await;
    assert!(!arena.session_win_logged(forged_in, "forgery").await);
    assert!(!arena.session_win_logged(s, "forgery").await);

    // The search finds nothing; whatever key is claimed is not Bob's.
    let (session, opened) = arena.open().await;
    let s = opened["session"].as_u64().unwrap();
    let (private, found) = search_bob_key(&opened).await;
    assert!(!found, "a target-impl identity is outside the small space");
    assert_eq!(claim_bob_key(&arena, s, &private).await, "invalid");
    relay_still_works_after_connect(&session).await;

    // Alice refuses another identity's bundle.
    let (session, _) = arena.open().await;
    assert_eq!(substitute_bundle(&session).await, "refused");
    // No session of the challenge won anything at delivery time.
    let events = arena.events().await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::SessionWin { challenge, .. } if *challenge == arena.id)),
        "no session-win on target-impl"
    );
    let report = arena.close_and_verify().await;
    assert!(report.session_wins == 0, "{report:?}");
    arena.server.stop().await.unwrap();
}
