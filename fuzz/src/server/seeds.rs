//! Seed inputs of the server's targets, built from the request types themselves (the worked
//! example of docs/API.md, every claim kind, each field a reveal may wrongly carry) and from
//! step sequences serialized the way `arbitrary` reads them back; `examples/seed_corpus.rs`
//! writes them to `fuzz/seeds/<target>/` and the regression test replays them.

use challenge_server::api::{CommitRequest, RevealRequest};

use crate::corpus::{Seed, seed};

/// Every seed of every server target.
pub fn all() -> Vec<Seed> {
    let mut out = Vec::new();
    claims(&mut out);
    sessions(&mut out);
    games(&mut out);
    schedules(&mut out);
    out
}

/// Seizure schedules of `seizure_schedule`: `[messages, seize_at, seized, secrets, seed…]`.
fn schedules(out: &mut Vec<Seed>) {
    // The demo schedule of docs/THREAT-MODEL.md (12 messages, Bob seized at 4, 2 secrets).
    out.push(seed("seizure_schedule", "demo", [12, 4, 0, 2, 7]));
    out.push(seed("seizure_schedule", "alice_seized", [14, 5, 1, 4, 9]));
    out.push(seed("seizure_schedule", "too_short", [6, 4, 0, 1, 0]));
    out.push(seed(
        "seizure_schedule",
        "seized_before_a_chain",
        [12, 3, 0, 1, 0],
    ));
}

const NONCE: &str = "5c1e0a9b7d3f4e2a8b6c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c";

fn reveal(kind: &str) -> RevealRequest {
    RevealRequest {
        kind: kind.to_owned(),
        message: None,
        secret: None,
        finding: None,
        session: None,
        party: None,
        key: None,
        private_key: None,
        nonce: NONCE.to_owned(),
    }
}

fn claims(out: &mut Vec<Seed>) {
    let commit = CommitRequest {
        challenge: "3f2a9c0d1e4b5a69".to_owned(),
        claimant: "alice.research".to_owned(),
        commitment: "6194347caf4710b86fa37135bfcbac2c0fd2851829952d099c1a6edbbda72134".to_owned(),
    };
    let commit = serde_json::to_vec(&commit).unwrap_or_default();
    let secret = RevealRequest {
        message: Some(7),
        secret: Some("00112233445566778899aabbccddeeff".to_owned()),
        ..reveal("secret")
    };
    let session_secret = RevealRequest {
        session: Some(3),
        secret: Some("ffeeddccbbaa99887766554433221100".to_owned()),
        ..reveal("secret")
    };
    let key = RevealRequest {
        session: Some(0),
        party: Some("bob".to_owned()),
        key: Some("x25519".to_owned()),
        private_key: Some("11".repeat(32)),
        ..reveal("key")
    };
    let finding = RevealRequest {
        finding: Some("The prekey ids are sequential.".to_owned()),
        ..reveal("finding")
    };
    let mixed = RevealRequest {
        finding: Some("a field of another kind".to_owned()),
        ..secret.clone()
    };
    let reveals = [
        ("secret", secret),
        ("session_secret", session_secret),
        ("key", key),
        ("finding", finding),
        ("secret_with_finding", mixed),
        ("unknown_kind", reveal("forgery")),
    ];
    out.push(seed("claim_text", "commit", commit.clone()));
    for (name, r) in reveals {
        let r = serde_json::to_vec(&r).unwrap_or_default();
        let mut pair = commit.clone();
        pair.push(0);
        pair.extend_from_slice(&r);
        out.push(seed("claim_text", format!("reveal_{name}"), r));
        out.push(seed(
            "claim_text",
            format!("commit_and_reveal_{name}"),
            pair,
        ));
    }
}

/// The little-endian `u32` from which `arbitrary`'s derived enums pick variant `v` of `count`
/// (`(x * count) >> 32`).
fn variant(v: u64, count: u64) -> Vec<u8> {
    let x = (v << 32).div_ceil(count);
    u32::try_from(x).unwrap_or(u32::MAX).to_le_bytes().to_vec()
}

/// Step sequences spelled as `arbitrary` reads them (enum variants as [`variant`], integers
/// little-endian); they use only fixed-size fields, so each byte string is exactly the steps
/// named.
fn sessions(out: &mut Vec<Seed>) {
    // Step: 0 fetch-bundle, 1 ask, 2 txt, 3 deliver, 4 wait; Pick: 0 Alice, 1 Bob; Payload:
    // 0 genuine, 1 flipped, 2 cut (of 5).
    let step = |v: u64| variant(v, 5);
    let bot = |v: u64| variant(v, 2);
    let payload = |v: u64| variant(v, 5);
    let fetch = step(0);
    let ask = |b: u64| [step(1), bot(b)].concat();
    let deliver_genuine = |b: u64, which: u8| [step(3), bot(b), payload(0), vec![which]].concat();
    let deliver_flipped = |b: u64, which: u8, at: u16, mask: u8| {
        [
            step(3),
            bot(b),
            payload(1),
            vec![which],
            at.to_le_bytes().to_vec(),
            vec![mask],
        ]
        .concat()
    };
    let deliver_cut = |b: u64, which: u8, len: u16| {
        [
            step(3),
            bot(b),
            payload(2),
            vec![which],
            len.to_le_bytes().to_vec(),
        ]
        .concat()
    };
    let wait = |secs: u16| [step(4), secs.to_le_bytes().to_vec()].concat();
    // An honest relay: the bundle to Alice, her first message to Bob, his answer to her.
    let relay = [
        fetch.clone(),
        deliver_genuine(0, 0),
        ask(0),
        deliver_genuine(1, 1),
        ask(1),
        deliver_genuine(0, 2),
    ]
    .concat();
    out.push(seed("mitm_session", "honest_relay", relay.clone()));
    out.push(seed(
        "mitm_session",
        "relay_then_replay",
        [relay.clone(), deliver_genuine(1, 1)].concat(),
    ));
    out.push(seed(
        "mitm_session",
        "relay_then_flipped",
        [relay.clone(), ask(0), deliver_flipped(1, 3, 40, 0x80)].concat(),
    ));
    out.push(seed(
        "mitm_session",
        "flipped_bundle",
        [fetch.clone(), deliver_flipped(0, 0, 100, 1), ask(0)].concat(),
    ));
    out.push(seed(
        "mitm_session",
        "cut_message",
        [
            fetch.clone(),
            deliver_genuine(0, 0),
            ask(0),
            deliver_cut(1, 1, 30),
        ]
        .concat(),
    ));
    out.push(seed(
        "mitm_session",
        "ask_before_session",
        [ask(0), ask(1), fetch.clone()].concat(),
    ));
    out.push(seed(
        "mitm_session",
        "idle_expiry",
        [relay, wait(700), ask(0)].concat(),
    ));
    out.push(seed(
        "mitm_session",
        "budget_spent",
        [fetch.clone(), fetch.clone(), fetch.clone(), fetch].concat(),
    ));
}

/// Step sequences of `ind_cca_game`, spelled as [`sessions`] spells the mitm ones.
fn games(out: &mut Vec<Seed>) {
    // Step: 0 challenge, 1 encrypt, 2 decrypt, 3 guess, 4 raw, 5 wait; Pick: 0 Alice, 1 Bob;
    // Payload: 0 genuine, 1 flipped, 2 cut (of 5).
    let step = |v: u64| variant(v, 6);
    let bot = |v: u64| variant(v, 2);
    let payload = |v: u64| variant(v, 5);
    let challenge = |b: u64| [step(0), bot(b), vec![16, 1], 0u32.to_le_bytes().to_vec()].concat();
    let exact = |b: u64, which: u8| [step(2), bot(b), payload(0), vec![which]].concat();
    let flipped = |b: u64, which: u8, at: u16| {
        [
            step(2),
            bot(b),
            payload(1),
            vec![which],
            at.to_le_bytes().to_vec(),
            vec![1],
        ]
        .concat()
    };
    let guess = |byte: u8, fits: bool| [step(3), vec![byte, u8::from(fits)]].concat();
    let wait = |secs: u16| [step(5), secs.to_le_bytes().to_vec()].concat();
    let rounds = [
        challenge(0),
        exact(1, 0),
        flipped(1, 0, 500),
        challenge(1),
        flipped(0, 1, 7),
        exact(0, 1),
    ]
    .concat();
    out.push(seed(
        "ind_cca_game",
        "two_rounds_and_a_guess",
        [rounds.clone(), guess(0x55, true)].concat(),
    ));
    out.push(seed(
        "ind_cca_game",
        "a_guess_of_the_wrong_length",
        [rounds.clone(), guess(0, false), guess(0xff, true)].concat(),
    ));
    out.push(seed("ind_cca_game", "guess_before_a_round", guess(0, true)));
    out.push(seed(
        "ind_cca_game",
        "idle_expiry",
        [challenge(0), wait(700), exact(1, 0)].concat(),
    ));
    out.push(seed(
        "ind_cca_game",
        "rounds_spent",
        [
            (0..41).flat_map(|i| challenge(i % 2)).collect::<Vec<u8>>(),
            guess(0xa5, true),
        ]
        .concat(),
    ));
}
