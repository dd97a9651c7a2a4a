//! The mitm track's core, on target-impl: an honest relay, tampering, the uniform refusal,
//! budgets, state restore, replay, and the claims it judges.

use rand_core::Rng;
use zeroize::Zeroizing;

use super::*;
use crate::targets::{self, IdentityKey};
use crate::tracks::Track;

const CHALLENGE: &str = "3f2a9c0d1e4b5a69";
const T0: u64 = 1_800_000_000;

fn seed() -> MasterSeed {
    MasterSeed::from_bytes([5; 32])
}

fn public(params: &[(&str, u64)]) -> Public {
    let fields = TrackFields(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect(),
    );
    Public {
        schedule: Schedule {
            messages: 1,
            interval_secs: 1,
            start_at: T0,
        },
        secrets: Vec::new(),
        params: Mitm
            .check_params(
                &fields,
                &Schedule {
                    messages: 1,
                    interval_secs: 1,
                    start_at: T0,
                },
            )
            .unwrap(),
    }
}

/// A session being driven, with every entry kept as storage would keep it.
struct Run {
    public: Public,
    state: SessionState,
    record: Record,
    entries: Vec<Vec<u8>>,
    opened: TrackFields,
    now: u64,
    s: u64,
}

/// Session `s`, opened by `alice.research` at `T0`.
fn opened(public: &Public, s: u64) -> Opened {
    Mitm.open(
        targets::real(),
        &seed(),
        public,
        CHALLENGE,
        s,
        "alice.research",
        T0,
    )
    .unwrap()
}

impl Run {
    fn open(public: Public, s: u64) -> Self {
        let opened = opened(&public, s);
        Self::from_opened(public, &opened)
    }

    /// A run from a copy of `opened`, which the caller keeps.
    fn from_opened(public: Public, opened: &Opened) -> Self {
        Self {
            public,
            state: opened.state.duplicate(),
            record: opened.record,
            entries: vec![opened.entry.clone()],
            opened: opened.public.clone(),
            now: T0,
            s: opened.state.session(),
        }
    }

    /// Runs a command one second after the last.
    fn try_cmd(&mut self, c: &Command) -> Result<Outcome, CommandError> {
        self.now += 1;
        let out = Mitm.command(
            targets::real(),
            &seed(),
            &self.public,
            &mut self.state,
            &mut self.record,
            self.now,
            c,
        )?;
        self.entries.push(out.entry.clone());
        Ok(out)
    }

    fn cmd(&mut self, c: &Command) -> Answer {
        self.try_cmd(c).unwrap().answer
    }

    fn bundle(&mut self) -> Vec<u8> {
        match self.cmd(&Command::FetchBundle {}) {
            Answer::Bundle(b) => b,
            other => panic!("{other:?}"),
        }
    }

    fn ask(&mut self, from: Bot) -> Vec<u8> {
        match self.cmd(&Command::Ask { from }) {
            Answer::Ciphertext(c) => c,
            other => panic!("{other:?}"),
        }
    }

    fn txt(&mut self, from: Bot, plaintext: &[u8], ttl: u32) -> Vec<u8> {
        let c = Command::Txt {
            from,
            plaintext: plaintext.to_vec(),
            content_type: 7,
            ttl,
        };
        match self.cmd(&c) {
            Answer::Ciphertext(c) => c,
            other => panic!("{other:?}"),
        }
    }

    fn deliver(&mut self, to: Bot, bytes: &[u8]) -> Answer {
        self.cmd(&Command::Deliver {
            to,
            bytes: bytes.to_vec(),
        })
    }

    fn accepted(&mut self, to: Bot, bytes: &[u8]) {
        match self.deliver(to, bytes) {
            Answer::Accepted { win: None } => {}
            other => panic!("{other:?}"),
        }
    }

    fn refused(&mut self, to: Bot, bytes: &[u8]) {
        match self.deliver(to, bytes) {
            Answer::Refused => {}
            other => panic!("{other:?}"),
        }
    }

    /// Fetches Bob's bundle and delivers it to Alice.
    fn started(mut self) -> Self {
        let bundle = self.bundle();
        self.accepted(Bot::Alice, &bundle);
        self
    }

    /// One honest round: Alice to Bob, Bob to Alice (so both send ratchet messages).
    fn exchange(&mut self) {
        for from in [Bot::Alice, Bot::Bob] {
            let c = self.ask(from);
            self.accepted(from.peer(), &c);
        }
    }

    /// What bot `to` would decrypt from `bytes` now, on a copy.
    fn peek(&mut self, to: Bot, bytes: &[u8]) -> Vec<u8> {
        let mut copy = self.state.bot_mut(to).device.duplicate();
        match copy.decrypt(to.peer().name(), bytes, self.now + 1).unwrap() {
            targets::Delivery::Message(m) => m.payload.to_vec(),
            other => panic!("{other:?}"),
        }
    }

    fn devices(&mut self) -> (Vec<u8>, Vec<u8>) {
        (
            self.state.alice.device.state().to_vec(),
            self.state.bob.device.state().to_vec(),
        )
    }

    /// A message Bob accepts that is not one of Alice's encryptions in the session: her keys,
    /// used outside it (as by a claimant who found them), make a forgery.
    fn forged_by_alice(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut alice = self.state.alice.device.duplicate();
        let message = targets::Outgoing {
            content_type: 1,
            ttl: 0,
            payload: plaintext,
        };
        alice
            .encrypt(
                "bob",
                &message,
                self.now,
                &mut seed().rng("elsewhere", 0).unwrap(),
            )
            .unwrap()
    }

    fn replay(&self) -> Result<ReplayReport, String> {
        Sessions::replay(
            &Mitm,
            targets::real(),
            &seed(),
            &self.public,
            CHALLENGE,
            self.s,
            &self.entries,
            &self.record.head,
        )
    }
}

/// A ratchet message with one byte of its sealed header flipped, and one with a byte of its
/// body ciphertext flipped (docs/PROTOCOL.md 7.6: the sealed header starts at offset 19, the
/// body tag is the last 16 bytes).
fn flipped(message: &[u8]) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(message[1], 0x03, "a ratchet message");
    let mut header = message.to_vec();
    header[24] ^= 0x10;
    let mut body = message.to_vec();
    body[message.len() - 20] ^= 1;
    (header, body)
}

/// The session's secret, restated from docs/API.md "Derivation" alone.
fn documented_secret(s: u64) -> ([u8; 16], u64) {
    let sub = MasterSeed::from_bytes(*seed().derive("mitm/session", s).unwrap());
    let secret: [u8; 16] = sub.derive("secret", 0).unwrap()[..16].try_into().unwrap();
    let pos = sub.derive("secret-position", 0).unwrap();
    let at = u64::from_be_bytes(pos[..8].try_into().unwrap()) % 10;
    (secret, at)
}

fn filler(s: u64, a: u64) -> &'static str {
    let sub = MasterSeed::from_bytes(*seed().derive("mitm/session", s).unwrap());
    let f = sub.derive("filler", a).unwrap();
    crate::tracks::passive::FILLERS[(u64::from_be_bytes(f[..8].try_into().unwrap()) % 12) as usize]
}

fn judge(public: &Public, claim: &ClaimBody) -> Judgement {
    Mitm.judge(targets::real(), &seed(), public, claim).unwrap()
}

#[test]
fn an_honest_relay_carries_the_secret_in_one_ask() {
    let public = public(&[("asks", 20)]);
    let mut run = Run::open(public.clone(), 3).started();
    let (secret, at) = documented_secret(3);
    let salt = MasterSeed::from_bytes(*seed().derive("mitm/session", 3).unwrap())
        .derive("secret-salt", 0)
        .unwrap();
    assert_eq!(
        run.opened.get("secret_commitment"),
        Some(&serde_json::Value::from(hex::encode(
            crate::tracks::passive::secret_commitment(&salt, &secret)
        )))
    );
    assert_eq!(
        run.opened.get("bob_identity"),
        Some(&serde_json::Value::from(hex::encode(
            run.state.bob.device.public_identity()
        )))
    );
    // Ten asks each way, alternating and in runs; Alice first (Bob can only answer).
    let senders = "ABABAAABBBABAABBABBA";
    let mut secrets_seen = 0;
    for (a, who) in senders.chars().enumerate() {
        let from = if who == 'A' { Bot::Alice } else { Bot::Bob };
        let ciphertext = run.ask(from);
        let plaintext = run.peek(from.peer(), &ciphertext);
        if a as u64 == at {
            assert_eq!(
                plaintext,
                format!("secret 0: {}", hex::encode(secret)).as_bytes()
            );
            secrets_seen += 1;
        } else {
            assert_eq!(plaintext, filler(3, a as u64).as_bytes(), "ask {a}");
            assert!(!plaintext.starts_with(b"secret"));
        }
        run.accepted(from.peer(), &ciphertext);
    }
    assert_eq!(secrets_seen, 1);
    assert_eq!(run.record.len, 1 + 2 + 40);
    let claim = |session, secret| ClaimBody::SessionSecret {
        session,
        secret: Zeroizing::new(secret),
    };
    assert_eq!(judge(&public, &claim(3, secret)), Judgement::Valid);
    assert_eq!(judge(&public, &claim(4, secret)), Judgement::Invalid);
    let mut wrong = secret;
    wrong[15] ^= 1;
    assert_eq!(judge(&public, &claim(3, wrong)), Judgement::Invalid);
    assert_eq!(judge(&public, &claim(10_000, secret)), Judgement::Invalid);
    let report = run.replay().unwrap();
    assert_eq!(report.secret_entry, Some(3 + 2 * at));
    assert!(report.forgeries.is_empty());
}

#[test]
fn tampering_is_refused_with_the_bots_unchanged() {
    let public = public(&[]);
    let mut other = Run::open(public.clone(), 1).started();
    let foreign_bundle = other.bundle();
    let foreign = other.ask(Bot::Alice);
    let mut run = Run::open(public, 0);
    let bundle = run.bundle();
    // A bundle under another identity (another session's Bob), then a flipped byte of the
    // real one: Alice refuses both, unchanged, then takes the real one.
    let mut flipped_bundle = bundle.clone();
    flipped_bundle[bundle.len() / 2] ^= 1;
    for bad in [&foreign_bundle, &flipped_bundle] {
        let before = run.devices();
        run.refused(Bot::Alice, bad);
        assert_eq!(run.devices(), before);
    }
    run.accepted(Bot::Alice, &bundle);
    run.exchange();
    let mut last = None;
    for round in 0..3 {
        for from in [Bot::Alice, Bot::Bob] {
            let genuine = run.ask(from);
            let (header, body) = flipped(&genuine);
            let mut bad = vec![header, body, foreign.clone()];
            bad.extend(last.clone());
            for b in &bad {
                let before = run.devices();
                run.refused(from.peer(), b);
                assert_eq!(run.devices(), before, "round {round}, from {from:?}");
            }
            run.accepted(from.peer(), &genuine);
            // A replay of what was just accepted.
            let before = run.devices();
            run.refused(from.peer(), &genuine);
            assert_eq!(run.devices(), before);
            last = Some(genuine);
        }
    }
    run.replay().unwrap();
}

#[test]
fn every_refusal_is_the_same_answer_and_the_same_writes() {
    let mut run = Run::open(public(&[("asks", 20)]), 0).started();
    run.exchange();
    let expiring = run.txt(Bot::Alice, b"gone in a second", 1);
    let accepted = run.ask(Bot::Alice);
    run.accepted(Bot::Bob, &accepted);
    let fresh = run.ask(Bot::Alice);
    let (header, body) = flipped(&fresh);
    let base = run.state.to_bytes();
    let base_record = run.record;
    let before = run.devices();
    let mut outcomes = Vec::new();
    for (name, bytes) in [
        ("header", header),
        ("body", body),
        ("replay", accepted),
        ("expired", expiring),
    ] {
        let mut state = SessionState::from_bytes(targets::real(), &base).unwrap();
        let mut record = base_record;
        let out = Mitm
            .command(
                targets::real(),
                &seed(),
                &run.public,
                &mut state,
                &mut record,
                run.now + 5,
                &Command::Deliver {
                    to: Bot::Bob,
                    bytes,
                },
            )
            .unwrap();
        assert_eq!(out.answer.public(), br#"{"delivery":"refused"}"#, "{name}");
        let mut entry = RecordEntry::from_bytes(&out.entry).unwrap();
        entry.input["bytes"] = serde_json::Value::Null;
        let devices = (
            state.alice.device.state().to_vec(),
            state.bob.device.state().to_vec(),
        );
        if name != "expired" {
            assert_eq!(devices, before, "{name}: a refusal changes no device");
        } else {
            assert_eq!(devices.0, before.0);
            assert_ne!(devices.1, before.1, "an expired message's key is destroyed");
        }
        let counters = (
            state.entries,
            state.last_at,
            state.used,
            state.alice.started,
            state.bob.started,
            state.alice.sent.clone(),
            state.bob.accepted.clone(),
            record.len,
        );
        outcomes.push((entry, counters));
    }
    for o in &outcomes[1..] {
        assert_eq!(*o, outcomes[0]);
    }
}

#[test]
fn budgets_and_fields_are_checked_before_the_bots_and_record_nothing() {
    let mut run = Run::open(public(&[]), 0);
    let refused = |run: &mut Run, c: &Command| {
        let (state, record, now) = (run.state.to_bytes(), run.record, run.now);
        let err = run.try_cmd(c).unwrap_err();
        assert_eq!(*run.state.to_bytes(), *state, "{err}");
        assert_eq!(run.record, record, "{err}");
        run.now = now;
        err
    };
    let err = refused(&mut run, &Command::Ask { from: Bot::Alice });
    assert_eq!(err, CommandError::NoSession { bot: Bot::Alice });
    let mut run = run.started();
    let err = refused(&mut run, &Command::Ask { from: Bot::Bob });
    assert_eq!(err, CommandError::NoSession { bot: Bot::Bob });
    assert_eq!(err.field(), "from");
    for _ in 0..10 {
        run.ask(Bot::Alice);
    }
    let err = refused(&mut run, &Command::Ask { from: Bot::Alice });
    assert_eq!(
        err,
        CommandError::Budget {
            budget: "asks",
            limit: 10
        }
    );
    match Error::from(err) {
        Error::Conflict { field, message } => {
            assert_eq!(field, "asks");
            assert!(message.contains("asks"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let long = Command::Txt {
        from: Bot::Alice,
        plaintext: vec![b'x'; MAX_TXT_LEN + 1],
        content_type: 1,
        ttl: 0,
    };
    assert_eq!(refused(&mut run, &long).field(), "plaintext");
    run.txt(Bot::Alice, &[b'x'; MAX_TXT_LEN], u32::MAX);
    let huge = Command::Deliver {
        to: Bot::Bob,
        bytes: vec![0; MAX_DELIVER_LEN + 1],
    };
    assert_eq!(refused(&mut run, &huge).field(), "bytes");
    // Idle for the expiry time: expired, whatever the command.
    run.now += 3_600 - 1;
    let err = refused(&mut run, &Command::FetchBundle {});
    assert!(matches!(err, CommandError::Expired { .. }), "{err}");
    assert!(!Error::from(err).to_string().is_empty());
    // The other budgets.
    let public = public(&[("fetch_bundle", 1), ("txt", 0), ("deliver", 1)]);
    let mut run = Run::open(public, 0).started();
    let short = Command::Txt {
        from: Bot::Alice,
        plaintext: b"x".to_vec(),
        content_type: 1,
        ttl: 0,
    };
    let small = Command::Deliver {
        to: Bot::Bob,
        bytes: vec![1],
    };
    assert_eq!(
        refused(&mut run, &Command::FetchBundle {}).field(),
        "fetch_bundle"
    );
    assert_eq!(refused(&mut run, &short).field(), "txt");
    assert_eq!(refused(&mut run, &small).field(), "deliver");
}

#[test]
fn a_restored_state_gives_identical_later_answers() {
    let mut run = Run::open(public(&[]), 2).started();
    for from in [Bot::Alice, Bot::Bob, Bot::Alice] {
        let c = run.ask(from);
        run.accepted(from.peer(), &c);
    }
    let pending = run.ask(Bot::Bob);
    let bytes = run.state.to_bytes();
    let restored = SessionState::from_bytes(targets::real(), &bytes).unwrap();
    assert_eq!(*restored.to_bytes(), *bytes);
    let twin_of = |run: &Run, state: SessionState| Run {
        public: run.public.clone(),
        state,
        record: run.record,
        entries: run.entries.clone(),
        opened: run.opened.clone(),
        now: run.now,
        s: run.s,
    };
    let mut twin = twin_of(&run, restored);
    // A duplicate is the restored state, and what runs on it leaves the original unchanged.
    let mut copy = twin_of(&run, run.state.duplicate());
    assert_eq!(*copy.state.to_bytes(), *bytes);
    let mut scratch = twin_of(&run, run.state.duplicate());
    scratch.accepted(Bot::Alice, &pending);
    scratch.txt(Bot::Alice, b"on the copy only", 0);
    assert_eq!(*run.state.to_bytes(), *bytes);
    assert_ne!(*scratch.state.to_bytes(), *bytes);
    let script = [
        Command::Deliver {
            to: Bot::Alice,
            bytes: pending,
        },
        Command::Txt {
            from: Bot::Alice,
            plaintext: b"hello".to_vec(),
            content_type: 2,
            ttl: 60,
        },
        Command::Ask { from: Bot::Bob },
        Command::FetchBundle {},
    ];
    for c in &script {
        let a = run.try_cmd(c).unwrap();
        let b = twin.try_cmd(c).unwrap();
        let d = copy.try_cmd(c).unwrap();
        assert_eq!(a.entry, b.entry, "{c:?}");
        assert_eq!(a.entry, d.entry, "{c:?}");
    }
    assert_eq!(run.record, twin.record);
    assert_eq!(run.record, copy.record);
    assert_eq!(*run.state.to_bytes(), *copy.state.to_bytes());
    // Damaged state bytes are typed errors, never a panic.
    for cut in [0, 1, 9, 60, bytes.len() / 2, bytes.len() - 1] {
        assert!(SessionState::from_bytes(targets::real(), &bytes[..cut]).is_err());
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert_eq!(
        SessionState::from_bytes(targets::real(), &longer).unwrap_err(),
        StateError::Trailing
    );
    let mut version = bytes.to_vec();
    version[0] = 2;
    assert_eq!(
        SessionState::from_bytes(targets::real(), &version).unwrap_err(),
        StateError::Version
    );
    let mut rng = seed().rng("garbage", 0).unwrap();
    for len in [0usize, 1, 57, 58, 200, 5_000] {
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        if let Some(b) = junk.first_mut() {
            *b = 1;
        }
        assert!(SessionState::from_bytes(targets::real(), &junk).is_err());
    }
}

#[test]
fn replay_reproduces_the_record_and_catches_any_changed_byte() {
    let mut run = Run::open(public(&[]), 4).started();
    let first = run.ask(Bot::Alice);
    let mut flipped = first.clone();
    flipped[6] ^= 1;
    run.refused(Bot::Bob, &flipped);
    run.accepted(Bot::Bob, &first);
    run.txt(Bot::Bob, b"chosen plaintext", 0);
    let forged = run.forged_by_alice(b"forged");
    let out = run
        .try_cmd(&Command::Deliver {
            to: Bot::Bob,
            bytes: forged,
        })
        .unwrap();
    let Answer::Accepted { win: Some(forgery) } = &out.answer else {
        panic!("{:?}", out.answer);
    };
    assert_eq!(
        (forgery.to, forgery.plaintext.as_slice()),
        (Bot::Bob, &b"forged"[..])
    );
    assert_eq!(out.answer.public(), br#"{"delivery":"accepted"}"#);
    assert!(!format!("{:?}", out.answer).contains("forged"));
    let (secret, _) = documented_secret(4);
    let shown = format!("{:?}", run.state);
    assert!(!shown.contains(&hex::encode(secret)) && shown.starts_with("SessionState {"));
    let text = String::from_utf8(out.entry.clone()).unwrap();
    assert!(!text.contains(&hex::encode(b"forged")) && !text.contains("forged"));
    assert!(
        text.ends_with(r#""answer":{"delivery":"accepted"}}"#),
        "{text}"
    );
    let forged_at = run.record.len - 1;
    let forged_head = run.record.head;
    run.ask(Bot::Alice);
    run.cmd(&Command::FetchBundle {});

    let report = run.replay().unwrap();
    assert_eq!(report.entries, run.entries.len() as u64);
    assert_eq!(report.head, run.record.head);
    assert_eq!(report.forgeries.len(), 1);
    assert_eq!(report.forgeries[0].k, forged_at);
    assert_eq!(report.forgeries[0].head, forged_head);
    assert_eq!(report.forgeries[0].forgery.plaintext.as_slice(), b"forged");

    // Entry bytes are pinned: the open, then each command.
    let open = String::from_utf8(run.entries[0].clone()).unwrap();
    assert!(
        open.starts_with(&format!(
            r#"{{"k":0,"now":{T0},"command":"open","input":{{"claimant":"alice.research"}},"answer":{{"alice_identity":""#
        )),
        "{open}"
    );
    assert!(
        String::from_utf8(run.entries[1].clone())
            .unwrap()
            .starts_with(&format!(
                r#"{{"k":1,"now":{},"command":"fetch-bundle","input":{{}},"answer":{{"bundle":""#,
                T0 + 1
            ))
    );
    let refused = String::from_utf8(run.entries[4].clone()).unwrap();
    assert_eq!(
        refused,
        format!(
            r#"{{"k":4,"now":{},"command":"deliver","input":{{"to":"bob","bytes":"{}"}},"answer":{{"delivery":"refused"}}}}"#,
            T0 + 4,
            hex::encode(&flipped)
        )
    );
    let mut head = Record::new(CHALLENGE, 4);
    assert_eq!(
        head.head,
        target_impl::hazmat::sha256(&[
            b"challenge-server/v1/mitm-record\n",
            CHALLENGE.as_bytes(),
            b"\n",
            &4u64.to_be_bytes()
        ])
    );
    for e in &run.entries {
        let before = head.head;
        head.append(e);
        assert_eq!(
            head.head,
            target_impl::hazmat::sha256(&[&before, &target_impl::hazmat::sha256(&[e])])
        );
    }
    assert_eq!(head, run.record);

    // One changed byte anywhere: at the start, in the middle (the refused delivery's input
    // included, which only the head catches) and at the end of every entry.
    for i in 0..run.entries.len() {
        let n = run.entries[i].len();
        for at in [0, n / 2, n - 1] {
            let mut damaged = run.entries.clone();
            damaged[i][at] ^= 1;
            let err = Sessions::replay(
                &Mitm,
                targets::real(),
                &seed(),
                &run.public,
                CHALLENGE,
                run.s,
                &damaged,
                &run.record.head,
            )
            .unwrap_err();
            assert!(err.contains("record"), "{err}");
        }
    }
    let mut short = run.entries.clone();
    short.pop();
    assert!(
        Sessions::replay(
            &Mitm,
            targets::real(),
            &seed(),
            &run.public,
            CHALLENGE,
            4,
            &short,
            &run.record.head
        )
        .is_err()
    );
    assert!(
        Sessions::replay(
            &Mitm,
            targets::real(),
            &seed(),
            &run.public,
            CHALLENGE,
            5,
            &run.entries,
            &run.record.head
        )
        .is_err()
    );
    assert!(
        Sessions::replay(
            &Mitm,
            targets::real(),
            &seed(),
            &run.public,
            CHALLENGE,
            4,
            &[],
            &run.record.head
        )
        .is_err()
    );
}

#[test]
fn key_claims_check_the_derived_identity_keys() {
    let public = public(&[]);
    let sub = MasterSeed::from_bytes(*seed().derive("mitm/session", 6).unwrap());
    for (bot, label) in [(Bot::Alice, "party/alice"), (Bot::Bob, "party/bob")] {
        // Device::generate draws the Ed25519 seed, then the X25519 scalar.
        let mut stream = sub.rng(label, 0).unwrap();
        let (mut ed, mut x) = ([0u8; 32], [0u8; 32]);
        stream.fill_bytes(&mut ed);
        stream.fill_bytes(&mut x);
        for (key, private) in [(IdentityKey::Ed25519, ed), (IdentityKey::X25519, x)] {
            let claim = |session, party: &str, private: [u8; 32]| ClaimBody::Key {
                session,
                party: party.to_owned(),
                key,
                private: Zeroizing::new(private),
            };
            assert_eq!(
                judge(&public, &claim(6, bot.name(), private)),
                Judgement::Valid
            );
            let mut wrong = private;
            wrong[1] ^= 1;
            assert_eq!(
                judge(&public, &claim(6, bot.name(), wrong)),
                Judgement::Invalid
            );
            assert_eq!(
                judge(&public, &claim(6, bot.peer().name(), private)),
                Judgement::Invalid
            );
            assert_eq!(
                judge(&public, &claim(7, bot.name(), private)),
                Judgement::Invalid
            );
            assert_eq!(
                judge(&public, &claim(6, "carol", private)),
                Judgement::Invalid
            );
        }
    }
    // The published identities are those keys' (the open's own bots).
    let run = Run::open(public.clone(), 6);
    let mut stream = sub.rng("party/bob", 0).unwrap();
    let mut ed = [0u8; 32];
    stream.fill_bytes(&mut ed);
    let identity = hex::decode(run.opened.get("bob_identity").unwrap().as_str().unwrap()).unwrap();
    assert!(targets::real().check_identity_key(&identity, IdentityKey::Ed25519, &ed));
    let finding = ClaimBody::Finding {
        text: Zeroizing::new("x".to_owned()),
    };
    assert_eq!(judge(&public, &finding), Judgement::NeedsReview);
}

#[test]
fn key_and_session_secret_claims_have_their_own_lines() {
    use crate::api::RevealRequest;
    use crate::claims::{claim_text, parse_reveal};
    let nonce = "00".repeat(31) + "aa";
    let reveal = |json: &str| {
        let req: RevealRequest = serde_json::from_str(json).unwrap();
        parse_reveal(&req)
    };
    let private = "11".repeat(32);
    let (body, n) = reveal(&format!(
        r#"{{"kind":"key","session":12,"party":"bob","key":"x25519","private_key":"{private}","nonce":"{nonce}"}}"#
    ))
    .unwrap();
    assert_eq!(body.kind(), "key");
    assert_eq!(
        claim_text(CHALLENGE, "carol", &body, &n).as_str(),
        format!(
            "challenge-server/v1/claim\nchallenge: {CHALLENGE}\nclaimant: carol\nkind: key\n\
             session: 12\nparty: bob\nkey: x25519\nprivate-key: {private}\nnonce: {nonce}\n"
        )
    );
    assert!(!format!("{body:?}").contains(&private));
    let secret = "ab".repeat(16);
    let (body, n) = reveal(&format!(
        r#"{{"kind":"secret","session":3,"secret":"{secret}","nonce":"{nonce}"}}"#
    ))
    .unwrap();
    assert_eq!(
        claim_text(CHALLENGE, "carol", &body, &n).as_str(),
        format!(
            "challenge-server/v1/claim\nchallenge: {CHALLENGE}\nclaimant: carol\nkind: secret\n\
             session: 3\nsecret: {secret}\nnonce: {nonce}\n"
        )
    );
    let field = |json: String| match reveal(json.as_str()) {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("{json}: {other:?}"),
    };
    assert_eq!(
        field(format!(
            r#"{{"kind":"secret","session":3,"message":1,"secret":"{secret}","nonce":"{nonce}"}}"#
        )),
        "message"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","party":"bob","key":"x25519","private_key":"{private}","nonce":"{nonce}"}}"#
        )),
        "session"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","session":1,"key":"x25519","private_key":"{private}","nonce":"{nonce}"}}"#
        )),
        "party"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","session":1,"party":"bob","key":"rsa","private_key":"{private}","nonce":"{nonce}"}}"#
        )),
        "key"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","session":1,"party":"bob","key":"x25519","nonce":"{nonce}"}}"#
        )),
        "private_key"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","session":1,"party":"Bob","key":"x25519","private_key":"{private}","nonce":"{nonce}"}}"#
        )),
        "party"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"key","session":1,"party":"bob","key":"x25519","private_key":"{private}","secret":"{secret}","nonce":"{nonce}"}}"#
        )),
        "secret"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"finding","finding":"f","session":1,"nonce":"{nonce}"}}"#
        )),
        "session"
    );
    assert_eq!(
        field(format!(
            r#"{{"kind":"secret","secret":"{secret}","nonce":"{nonce}"}}"#
        )),
        "message"
    );
    // A transcript message's secret is judged by the track that publishes one.
    let passive_claim = ClaimBody::Secret {
        message: 1,
        secret: Zeroizing::new([0; 16]),
    };
    assert_eq!(judge(&public(&[]), &passive_claim), Judgement::Invalid);
}

#[test]
fn garbage_commands_are_errors_naming_their_field() {
    // Each is refused, naming the one field whose value is bad, or `command` when the fault is
    // not one field's (not JSON, not an object, a bad tag, a missing or unknown field).
    let cases: &[(&[u8], &str)] = &[
        (b"", "command"),
        (b"null", "command"),
        (b"[]", "command"),
        (b"{}", "command"),
        (b"\xff\xfe", "command"),
        (br#"{"command":"launch"}"#, "command"),
        (br#"{"command":"ask"}"#, "command"),
        (br#"{"command":"ask","from":"carol"}"#, "from"),
        (br#"{"command":"ask","from":"alice","extra":1}"#, "command"),
        (br#"{"command":"fetch-bundle","to":"bob"}"#, "command"),
        (
            br#"{"command":"deliver","to":"bob","bytes":"ABCD"}"#,
            "bytes",
        ),
        (
            br#"{"command":"deliver","to":"bob","bytes":"abc"}"#,
            "bytes",
        ),
        (br#"{"command":"deliver","to":"bob","bytes":7}"#, "bytes"),
        (br#"{"command":"deliver","to":"carol","bytes":"00"}"#, "to"),
        (
            br#"{"command":"txt","from":"bob","plaintext":"00","content_type":256,"ttl":0}"#,
            "content_type",
        ),
        (
            br#"{"command":"txt","from":"bob","plaintext":"00","content_type":1,"ttl":-1}"#,
            "ttl",
        ),
        (
            br#"{"command":"txt","from":"bob","plaintext":"0","content_type":1,"ttl":0}"#,
            "plaintext",
        ),
        (br#"{"command":"ask","from":"alice"} trailing"#, "command"),
        (
            br#"{"command":"ask","from":"alice","command":"ask"}"#,
            "command",
        ),
    ];
    for (c, field) in cases {
        let err = Command::from_json(c).unwrap_err();
        assert_eq!(err.field(), *field, "{}", String::from_utf8_lossy(c));
    }
    let big = vec![b' '; MAX_COMMAND_LEN + 1];
    assert!(Command::from_json(&big).is_err());
    let mut rng = seed().rng("garbage", 1).unwrap();
    for len in 0..200 {
        let mut junk = vec![0u8; len];
        rng.fill_bytes(&mut junk);
        assert!(Command::from_json(&junk).is_err());
        assert!(RecordEntry::from_bytes(&junk).is_err());
    }
    assert_eq!(
        Command::from_json(br#"{"command":"fetch-bundle"}"#).unwrap(),
        Command::FetchBundle {}
    );
    assert_eq!(
        Command::from_json(br#"{"to":"alice","bytes":"00ff","command":"deliver"}"#).unwrap(),
        Command::Deliver {
            to: Bot::Alice,
            bytes: vec![0, 0xff]
        }
    );
    let txt = Command::from_json(
        br#"{"command":"txt","from":"bob","plaintext":"6869","content_type":255,"ttl":4294967295}"#,
    )
    .unwrap();
    assert_eq!(
        format!("{txt:?}"),
        "Txt { from: Bob, len: 2, content_type: 255, ttl: 4294967295 }"
    );
}

#[test]
fn params_are_checked_and_published_in_full() {
    let schedule = Schedule {
        messages: 1,
        interval_secs: 1,
        start_at: T0,
    };
    let published = Mitm
        .check_params(&TrackFields::default(), &schedule)
        .unwrap();
    assert_eq!(
        serde_json::to_string(&published).unwrap(),
        r#"{"asks":10,"txt":1000,"deliver":10000,"fetch_bundle":100,"sessions_per_claimant_per_hour":20,"idle_expiry_secs":3600,"pow_bits":0,"max_sessions":10000}"#
    );
    let field = |json: &str| {
        let fields: TrackFields = serde_json::from_str(json).unwrap();
        match Mitm.check_params(&fields, &schedule) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{json}: {other:?}"),
        }
    };
    assert_eq!(field(r#"{"asks":9}"#), "params.asks");
    assert_eq!(field(r#"{"asks":1001}"#), "params.asks");
    assert_eq!(field(r#"{"pow_bits":33}"#), "params.pow_bits");
    assert_eq!(field(r#"{"deliver":-1}"#), "params.deliver");
    assert_eq!(field(r#"{"txt":"5"}"#), "params.txt");
    assert_eq!(field(r#"{"max_sessions":0}"#), "params.max_sessions");
    assert_eq!(field(r#"{"rounds":3}"#), "params.rounds");
    assert_eq!(field(r#"{"txt":5,"txt":6}"#), "params.txt");
    let fields: TrackFields = serde_json::from_str(r#"{"pow_bits":20,"asks":12}"#).unwrap();
    let p = Params::from_fields(&Mitm.check_params(&fields, &schedule).unwrap()).unwrap();
    assert_eq!((p.asks, p.pow_bits, p.txt), (12, 20, 1000));
    let public_fields = Mitm.check_params(&fields, &schedule).unwrap();
    let limits = Mitm
        .limits(&Public {
            schedule,
            secrets: Vec::new(),
            params: public_fields,
        })
        .unwrap();
    assert_eq!(
        (
            limits.pow_bits,
            limits.max_sessions,
            limits.per_claimant_per_hour,
            limits.idle_expiry_secs
        ),
        (20, 10_000, 20, 3_600)
    );
    // No parties, no secrets at creation; nothing scheduled, nothing to solve.
    let spec = TrackSpec {
        schedule,
        secrets: 1,
        params: published.clone(),
    };
    let setup = Mitm.setup(targets::real(), &seed(), &spec).unwrap();
    assert!(setup.parties.0.is_empty() && setup.secrets.is_empty() && setup.bundles.is_empty());
    let public = public(&[]);
    assert!(
        Mitm.step(&seed(), &public, 0, &mut Parties::default())
            .is_err()
    );
    let report = Track::replay(&Mitm, targets::real(), &seed(), &public, &[]).unwrap();
    assert_eq!(report.problem, None);
    assert!(Mitm.sessions().is_some());
    assert!(crate::tracks::passive::Passive.sessions().is_none());
    // A session past the cap does not open.
    let public = public_with_cap();
    assert!(
        Mitm.open(targets::real(), &seed(), &public, CHALLENGE, 2, "carol", T0)
            .is_err()
    );
    assert!(
        Mitm.open(
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            1,
            "not a name",
            T0
        )
        .is_err()
    );
}

fn public_with_cap() -> Public {
    public(&[("max_sessions", 2)])
}

/// A bundle is judged only against Bob's published identity: without its unsigned one-time
/// X25519 prekey (docs/PROTOCOL.md, "Prekey bundle": a flag after the signed prekey's
/// signature, then 36 bytes) Alice takes it, and the conversation goes on without a forgery.
#[test]
fn a_bundle_without_its_one_time_prekey_is_accepted() {
    let mut run = Run::open(public(&[]), 8);
    let bundle = run.bundle();
    let identity_len = run.state.bob.device.public_identity().len();
    let flag = 2 + identity_len + 4 + 32 + 64;
    assert_eq!(bundle[flag], 1, "Bob's bundle has a one-time prekey");
    let mut stripped = bundle[..flag].to_vec();
    stripped.push(0);
    stripped.extend_from_slice(&bundle[flag + 1 + 36..]);
    run.accepted(Bot::Alice, &stripped);
    run.exchange();
    run.exchange();
    assert!(run.replay().unwrap().forgeries.is_empty());
}

/// target-impl whose receiving devices never keep what a decryption changed: a replay is
/// accepted again (a planted flaw, to see the judge award a second acceptance).
#[derive(Debug)]
struct Forgetful;

struct ForgetfulDevice(Box<dyn crate::targets::TargetDevice>);

impl crate::targets::Target for Forgetful {
    fn identity(&self) -> crate::api::TargetIdentity {
        crate::api::TargetIdentity {
            flaw: Some("forgetful".to_owned()),
            ..crate::api::TargetIdentity::built()
        }
    }

    fn generate(
        &self,
        rng: &mut dyn rand_core::CryptoRng,
        one_time: targets::OneTimePrekeys,
    ) -> Result<Box<dyn crate::targets::TargetDevice>, Error> {
        Ok(Box::new(ForgetfulDevice(
            targets::real().generate(rng, one_time)?,
        )))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn crate::targets::TargetDevice>, Error> {
        Ok(Box::new(ForgetfulDevice(targets::real().restore(state)?)))
    }

    fn check_identity_key(&self, public: &[u8], key: IdentityKey, private: &[u8; 32]) -> bool {
        targets::real().check_identity_key(public, key, private)
    }
}

impl crate::targets::TargetDevice for ForgetfulDevice {
    fn bundle(&self) -> Result<Vec<u8>, Error> {
        self.0.bundle()
    }

    fn public_identity(&self) -> Vec<u8> {
        self.0.public_identity()
    }

    fn initiate(
        &mut self,
        peer: &str,
        bundle: &[u8],
        expected: &[u8],
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<(), targets::ProtocolError> {
        self.0.initiate(peer, bundle, expected, rng)
    }

    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), targets::ProtocolError> {
        self.0.pin_identity(peer, identity)
    }

    fn encrypt(
        &mut self,
        peer: &str,
        message: &targets::Outgoing<'_>,
        now: u64,
        rng: &mut dyn rand_core::CryptoRng,
    ) -> Result<Vec<u8>, targets::ProtocolError> {
        self.0.encrypt(peer, message, now, rng)
    }

    fn decrypt(
        &mut self,
        peer: &str,
        bytes: &[u8],
        now: u64,
    ) -> Result<targets::Delivery, targets::ProtocolError> {
        // THE FLAW: the decryption runs on a copy, which is dropped.
        self.0.duplicate().decrypt(peer, bytes, now)
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        self.0.state()
    }

    fn duplicate(&self) -> Box<dyn crate::targets::TargetDevice> {
        Box::new(ForgetfulDevice(self.0.duplicate()))
    }
}

#[test]
fn a_second_acceptance_is_a_forgery_and_replays_as_one() {
    let public = public(&[]);
    let mut opened = Mitm
        .open(&Forgetful, &seed(), &public, CHALLENGE, 9, "carol", T0)
        .unwrap();
    let (state, record) = (&mut opened.state, &mut opened.record);
    let mut entries = vec![opened.entry.clone()];
    let mut now = T0;
    let mut run = |c: Command| {
        now += 1;
        let out = Mitm
            .command(&Forgetful, &seed(), &public, state, record, now, &c)
            .unwrap();
        entries.push(out.entry.clone());
        out.answer
    };
    let Answer::Bundle(bundle) = run(Command::FetchBundle {}) else {
        panic!()
    };
    assert!(matches!(
        run(Command::Deliver {
            to: Bot::Alice,
            bytes: bundle
        }),
        Answer::Accepted { win: None }
    ));
    let Answer::Ciphertext(message) = run(Command::Ask { from: Bot::Alice }) else {
        panic!()
    };
    let deliver = Command::Deliver {
        to: Bot::Bob,
        bytes: message,
    };
    assert!(matches!(
        run(deliver.clone()),
        Answer::Accepted { win: None }
    ));
    let Answer::Accepted { win: Some(forgery) } = run(deliver) else {
        panic!("the second acceptance of the same message is a forgery")
    };
    assert_eq!(forgery.to, Bot::Bob);
    let report = Sessions::replay(
        &Mitm,
        &Forgetful,
        &seed(),
        &public,
        CHALLENGE,
        9,
        &entries,
        &opened.record.head,
    )
    .unwrap();
    assert_eq!(report.forgeries.len(), 1);
    assert_eq!(report.forgeries[0].k, 5);
    assert_eq!(report.forgeries[0].forgery.plaintext, forgery.plaintext);
    // The same record on target-impl: its replay differs at the second delivery.
    let err = Sessions::replay(
        &Mitm,
        targets::real(),
        &seed(),
        &public,
        CHALLENGE,
        9,
        &entries,
        &opened.record.head,
    )
    .unwrap_err();
    assert!(err.starts_with("record entry 5"), "{err}");
}

/// A report's entries, head, secret entry and forgeries (entry, head, bot, plaintext).
type ReportValues = (
    u64,
    [u8; 32],
    Option<u64>,
    Vec<(u64, [u8; 32], Bot, Vec<u8>)>,
);

/// What a report says, as comparable values (a forgery does not print its plaintext).
fn report_values(r: &ReplayReport) -> ReportValues {
    let wins = r
        .forgeries
        .iter()
        .map(|f| (f.k, f.head, f.forgery.to, f.forgery.plaintext.to_vec()))
        .collect();
    (r.entries, r.head, r.secret_entry, wins)
}

/// A replay from the opening the caller kept gives the report of the replay that regenerates
/// the open, and the same error for any changed byte after entry 0, a missing entry or another
/// head; a changed entry 0, another session's opening, or an empty record is an error too.
#[test]
fn a_replay_from_the_kept_opening_is_the_replay() {
    // Room for the ten asks that carry the secret and one more.
    let public = public(&[("asks", 11)]);
    let opened = opened(&public, 6);
    let mut run = Run::from_opened(public.clone(), &opened).started();
    for _ in 0..5 {
        run.exchange();
    }
    let (_, body) = flipped(&run.ask(Bot::Alice));
    run.refused(Bot::Bob, &body);
    run.txt(Bot::Bob, b"chosen", 30);
    let forged = run.forged_by_alice(b"forged");
    assert!(matches!(
        run.deliver(Bot::Bob, &forged),
        Answer::Accepted { win: Some(_) }
    ));
    let kept = |entries: &[Vec<u8>], head: &[u8; 32]| {
        Mitm.replay_opened(&seed(), &public, &opened, entries, head)
    };
    let full = run.replay().unwrap();
    let fast = kept(&run.entries, &run.record.head).unwrap();
    assert!(full.secret_entry.is_some() && full.forgeries.len() == 1);
    assert_eq!(report_values(&fast), report_values(&full));
    // The kept opening is unchanged: a second replay from it gives the same report.
    let again = kept(&run.entries, &run.record.head).unwrap();
    assert_eq!(report_values(&again), report_values(&full));

    let regenerating = |entries: &[Vec<u8>], head: &[u8; 32]| {
        Sessions::replay(
            &Mitm,
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            6,
            entries,
            head,
        )
    };
    for i in 0..run.entries.len() {
        let n = run.entries[i].len();
        for at in [0, n / 2, n - 1] {
            let mut damaged = run.entries.clone();
            damaged[i][at] ^= 1;
            let slow = regenerating(&damaged, &run.record.head).unwrap_err();
            let fast = kept(&damaged, &run.record.head).unwrap_err();
            if i == 0 {
                assert!(fast.starts_with("record entry 0"), "{fast}");
            } else {
                assert_eq!(fast, slow);
            }
        }
    }
    let mut short = run.entries.clone();
    short.pop();
    assert_eq!(
        kept(&short, &run.record.head).unwrap_err(),
        regenerating(&short, &run.record.head).unwrap_err()
    );
    let other_head = [0x42; 32];
    assert_eq!(
        kept(&run.entries, &other_head).unwrap_err(),
        regenerating(&run.entries, &other_head).unwrap_err()
    );
    assert!(kept(&[], &run.record.head).is_err());
    let other = Run::open(public.clone(), 7).started();
    assert!(kept(&other.entries, &other.record.head).is_err());
}
