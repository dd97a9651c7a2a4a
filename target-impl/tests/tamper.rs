//! Every single-byte flip, truncation and extension of a ratchet message and of an initial
//! message is refused, leaves the receiver's state byte-identical and releases no plaintext;
//! the original still decrypts afterwards. The class is computed, not accepted: `Malformed`
//! exactly when a framing check that reads no secret fails (version, type, header length,
//! padded body length, prefix decoding, and for an initial message the framing of the ratchet
//! message after its prefix), `Unauthentic` otherwise (`common::expected_refusal`).
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use target_impl::{Device, Error, PeerId};

/// 60 bytes: the body (17 + 60) pads to 128, so truncating exactly 64 bytes yields a body
/// length that passes framing (64) and must then fail authentication, not framing.
const SECRET: &[u8; 60] = b"PLAINTEXT-CANARY:attack at dawn, bring the 7 blue umbrellas!";

/// A violation, recorded so one run reports every failing mutation.
#[derive(Default)]
struct Findings {
    accepted: Vec<String>,
    wrong_class: Vec<String>,
    state_changed: Vec<String>,
    plaintext_left: Vec<String>,
}

impl Findings {
    fn check_class(&mut self, what: &str, mutated: &[u8], got: Result<(), Error>) {
        let want = expected_refusal(mutated);
        match got {
            Ok(()) => self.accepted.push(what.to_string()),
            Err(e) if e != want => self
                .wrong_class
                .push(format!("{what}: expected {want:?}, got {e:?}")),
            Err(_) => {}
        }
    }

    fn list(v: &[String]) -> String {
        let shown: Vec<&str> = v.iter().take(12).map(String::as_str).collect();
        format!(
            "{} [{}{}]",
            v.len(),
            shown.join("; "),
            if v.len() > 12 { "; ..." } else { "" }
        )
    }

    fn assert_refused_cleanly(&self) {
        assert!(
            self.accepted.is_empty()
                && self.state_changed.is_empty()
                && self.plaintext_left.is_empty(),
            "accepted: {}\nstate changed: {}\nplaintext left in buffer: {}",
            Self::list(&self.accepted),
            Self::list(&self.state_changed),
            Self::list(&self.plaintext_left),
        );
    }

    fn assert_classes(&self) {
        assert!(
            self.accepted.is_empty() && self.wrong_class.is_empty(),
            "accepted: {}\nwrong class: {}",
            Self::list(&self.accepted),
            Self::list(&self.wrong_class),
        );
    }
}

/// Tries every mutation of `original` on `receiver` twice: through `Device::decrypt`, and
/// through `Session::decrypt_in_place` on a copy (if the receiver has a session with `peer`).
fn tamper(receiver: &mut Device, peer: &PeerId, original: &[u8], now: u64) -> Findings {
    let mut f = Findings::default();
    let before = receiver.to_bytes();
    let has_session = receiver.session(peer).is_some();
    for (what, mutated) in mutations(original) {
        let got = receiver.decrypt(peer, &mutated, now).map(|_| ());
        f.check_class(&format!("device, {what}"), &mutated, got);
        if *receiver.to_bytes() != *before {
            f.state_changed.push(format!("device, {what}"));
            *receiver = Device::from_bytes(&before).unwrap();
        }
        if has_session {
            let mut buf = mutated.clone();
            let session = receiver.session_mut(peer).unwrap();
            let got = session.decrypt_in_place(&mut buf, now).map(|_| ());
            let failed = got.is_err();
            f.check_class(&format!("in place, {what}"), &mutated, got);
            if failed && contains_window(&buf, SECRET) {
                f.plaintext_left.push(format!("in place, {what}"));
            }
            if *receiver.to_bytes() != *before {
                f.state_changed.push(format!("in place, {what}"));
                *receiver = Device::from_bytes(&before).unwrap();
            }
        }
    }
    f
}

/// Bob's state with three undelivered ratchet messages from Alice, each taking a different
/// path (returned in this order):
/// - `current`: next message of Bob's current receiving chain;
/// - `skipped`: a message whose key Bob stored when skipping it, in an older chain (its header
///   key is one of the skipped-chain candidates);
/// - `new_chain`: second message of a chain Bob has not seen (DH ratchet step plus a skip).
struct RatchetTargets {
    pair: Pair,
    current: Vec<u8>,
    skipped: Vec<u8>,
    new_chain: Vec<u8>,
}

fn ratchet_targets(seed: u64) -> RatchetTargets {
    let mut rng = rng(seed);
    let mut p = established(&mut rng, Prekeys::ALL);
    let m1 = p.a_send(SECRET, T0 + 1, &mut rng);
    let m2 = p.a_send(b"m2", T0 + 1, &mut rng);
    p.bob_gets(&m2, T0 + 2).unwrap();
    let r1 = p.b_send(b"r1", T0 + 3, &mut rng);
    p.alice_gets(&r1, T0 + 3).unwrap();
    let m3 = p.a_send(b"m3", T0 + 4, &mut rng);
    let m4 = p.a_send(SECRET, T0 + 4, &mut rng);
    p.bob_gets(&m3, T0 + 5).unwrap();
    let r2 = p.b_send(b"r2", T0 + 6, &mut rng);
    p.alice_gets(&r2, T0 + 6).unwrap();
    let _m6 = p.a_send(b"m6", T0 + 7, &mut rng);
    let m7 = p.a_send(SECRET, T0 + 7, &mut rng);
    // Every target is a plain ratchet message of the same framing.
    for m in [&m1, &m4, &m7] {
        assert!(ratchet_framing_ok(m));
        assert_eq!(m.len(), CLEAR_LEN + MIN_HEADER_CT_LEN + 128 + TAG_LEN);
    }
    RatchetTargets {
        pair: p,
        current: m4,
        skipped: m1,
        new_chain: m7,
    }
}

fn ratchet_case(pick: fn(&RatchetTargets) -> &Vec<u8>, check: fn(&Findings)) {
    let t = ratchet_targets(11);
    let mut bob = t.pair.bob.clone();
    let a = t.pair.a.clone();
    let original = pick(&t).clone();
    let findings = tamper(&mut bob, &a, &original, T0 + 10);
    check(&findings);
    // The original still decrypts, and only now does Bob's state change.
    let before = bob.to_bytes();
    let got = bob.decrypt(&a, &original, T0 + 10).unwrap();
    assert_eq!(&got.payload[..], SECRET);
    assert_ne!(*bob.to_bytes(), *before);
}

#[test]
fn ratchet_current_chain_mutations_refused_without_state_change_or_plaintext() {
    ratchet_case(|t| &t.current, Findings::assert_refused_cleanly);
}

#[test]
fn ratchet_current_chain_mutation_classes_follow_framing() {
    ratchet_case(|t| &t.current, Findings::assert_classes);
}

#[test]
fn ratchet_skipped_key_mutations_refused_without_state_change_or_plaintext() {
    ratchet_case(|t| &t.skipped, Findings::assert_refused_cleanly);
}

#[test]
fn ratchet_skipped_key_mutation_classes_follow_framing() {
    ratchet_case(|t| &t.skipped, Findings::assert_classes);
}

#[test]
fn ratchet_new_chain_mutations_refused_without_state_change_or_plaintext() {
    ratchet_case(|t| &t.new_chain, Findings::assert_refused_cleanly);
}

#[test]
fn ratchet_new_chain_mutation_classes_follow_framing() {
    ratchet_case(|t| &t.new_chain, Findings::assert_classes);
}

/// The framing predicate is not vacuous: some mutations pass framing (and so must be
/// `Unauthentic`), others fail it, including a truncation that lands on a padded length.
#[test]
fn framing_predicate_splits_the_mutations() {
    let t = ratchet_targets(11);
    let muts = mutations(&t.current);
    let passing = muts.iter().filter(|(_, m)| framing_ok(m)).count();
    assert!(passing > 100 && passing < muts.len() - 100, "{passing}");
    let cut = &t.current[..t.current.len() - 64];
    assert!(framing_ok(cut), "body 128 -> 64 is a padded length");
    let mut hl = t.current.clone();
    hl[CLEAR_LEN - 1] += 1;
    assert!(!framing_ok(&hl));
}

/// Bob (fresh: no session with Alice) and Alice's first two initial messages.
struct InitialTargets {
    fresh_bob: Device,
    /// Bob after accepting `first`.
    bob_with_session: Device,
    a: PeerId,
    first: Vec<u8>,
    second: Vec<u8>,
}

fn initial_targets(seed: u64, prekeys: Prekeys) -> InitialTargets {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, prekeys);
    let fresh_bob = p.bob.clone();
    let first = p.a_send(SECRET, T0, &mut rng);
    let second = p.a_send(SECRET, T0, &mut rng);
    let prefix = initial_prefix_len(&first).unwrap();
    assert_eq!(first[OPK_FLAG_OFFSET], u8::from(prekeys.opk));
    assert!(ratchet_framing_ok(&first[prefix..]));
    assert_eq!(first[..prefix], second[..prefix], "the prefix repeats");
    p.bob_gets(&first, T0).unwrap();
    InitialTargets {
        fresh_bob,
        bob_with_session: p.bob,
        a: p.a,
        first,
        second,
    }
}

fn initial_fresh_case(prekeys: Prekeys, check: fn(&Findings)) {
    let t = initial_targets(21, prekeys);
    let mut bob = t.fresh_bob.clone();
    let findings = tamper(&mut bob, &t.a, &t.first, T0 + 1);
    check(&findings);
    let got = bob.decrypt(&t.a, &t.first, T0 + 1).unwrap();
    assert_eq!(&got.payload[..], SECRET);
}

fn initial_session_case(check: fn(&Findings)) {
    let t = initial_targets(22, Prekeys::ALL);
    let mut bob = t.bob_with_session.clone();
    let findings = tamper(&mut bob, &t.a, &t.second, T0 + 1);
    check(&findings);
    let got = bob.decrypt(&t.a, &t.second, T0 + 1).unwrap();
    assert_eq!(&got.payload[..], SECRET);
}

#[test]
fn initial_message_with_one_time_prekeys_mutations_refused_without_state_change() {
    initial_fresh_case(Prekeys::ALL, Findings::assert_refused_cleanly);
}

#[test]
fn initial_message_with_one_time_prekeys_mutation_classes_follow_framing() {
    initial_fresh_case(Prekeys::ALL, Findings::assert_classes);
}

#[test]
fn initial_message_last_resort_only_mutations_refused_without_state_change() {
    initial_fresh_case(Prekeys::NONE, Findings::assert_refused_cleanly);
}

#[test]
fn initial_message_last_resort_only_mutation_classes_follow_framing() {
    initial_fresh_case(Prekeys::NONE, Findings::assert_classes);
}

/// The initiator's second prefixed message to a responder that already has the session goes
/// through `Session::decrypt_in_place` (prefix matched by hash): no plaintext, no change.
#[test]
fn repeated_prefix_message_mutations_refused_without_state_change_or_plaintext() {
    initial_session_case(Findings::assert_refused_cleanly);
}

#[test]
fn repeated_prefix_message_mutation_classes_follow_framing() {
    initial_session_case(Findings::assert_classes);
}

/// Offset of the last byte of the ephemeral key in an initial message.
fn ephemeral_last_byte(m: &[u8]) -> usize {
    ephemeral_offset(m) + 31
}

/// X25519 ignores bit 7 of the last byte of a public key, so this flip leaves every DH output
/// unchanged; only hashing the prefix into the key derivation (and the setup id) catches it.
#[test]
fn ephemeral_top_bit_flip_is_refused() {
    for prekeys in [Prekeys::ALL, Prekeys::NONE] {
        let t = initial_targets(23, prekeys);
        let at = ephemeral_last_byte(&t.first);
        assert_eq!(t.first[at] & 0x80, 0, "X25519 public keys are canonical");
        let mut flipped = t.first.clone();
        flipped[at] ^= 0x80;
        assert!(framing_ok(&flipped));

        let mut bob = t.fresh_bob.clone();
        let before = bob.to_bytes();
        assert_eq!(
            bob.decrypt(&t.a, &flipped, T0).map(|_| ()),
            Err(Error::Unauthentic)
        );
        assert_eq!(*bob.to_bytes(), *before);
        assert_eq!(
            bob.one_time_prekey_counts(),
            t.fresh_bob.one_time_prekey_counts()
        );

        let mut bob = t.bob_with_session.clone();
        let before = bob.to_bytes();
        let mut second = t.second.clone();
        second[at] ^= 0x80;
        let mut buf = second.clone();
        let got = bob
            .session_mut(&t.a)
            .unwrap()
            .decrypt_in_place(&mut buf, T0)
            .map(|_| ());
        assert_eq!(got, Err(Error::Unauthentic));
        assert!(!contains_window(&buf, SECRET));
        assert_eq!(
            bob.decrypt(&t.a, &second, T0).map(|_| ()),
            Err(Error::Unauthentic)
        );
        assert_eq!(*bob.to_bytes(), *before);
    }
}

/// The premise of the test above, shown with the primitive: the flipped key gives the same
/// shared secret.
#[cfg(feature = "hazmat")]
#[test]
fn x25519_ignores_the_top_bit() {
    use target_impl::hazmat;
    let t = initial_targets(23, Prekeys::ALL);
    let at = ephemeral_last_byte(&t.first);
    let eph: [u8; 32] = t.first[at - 31..=at].try_into().unwrap();
    let mut flipped = eph;
    flipped[31] ^= 0x80;
    let private = [0x42u8; 32];
    assert_eq!(
        *hazmat::x25519(&private, &eph).unwrap(),
        *hazmat::x25519(&private, &flipped).unwrap()
    );
}

/// The kept parsed key (`x25519_agree`, what the protocol calls) gives the DH and public key of
/// the from-bytes functions, and refuses the same low-order peer keys.
#[cfg(feature = "hazmat")]
#[test]
fn x25519_parsed_key_matches_the_from_bytes_functions() {
    use target_impl::hazmat;
    let private = [0x42u8; 32];
    let key = hazmat::X25519PrivateKey::new(&private).unwrap();
    assert_eq!(
        *key.public_key(),
        hazmat::x25519_public_key(&private).unwrap()
    );
    let peer = hazmat::x25519_public_key(&[0x24u8; 32]).unwrap();
    assert_eq!(
        *hazmat::x25519_agree(&key, &peer).unwrap(),
        *hazmat::x25519(&private, &peer).unwrap()
    );
    let clone = key.clone();
    assert_eq!(
        *hazmat::x25519_agree(&clone, &peer).unwrap(),
        *hazmat::x25519_agree(&key, &peer).unwrap()
    );
    let mut one = [0u8; 32];
    one[0] = 1;
    for low_order in [[0u8; 32], one] {
        assert!(hazmat::x25519_agree(&key, &low_order).is_err());
        assert!(hazmat::x25519(&private, &low_order).is_err());
    }
}

/// The framing rules restated in tests/common agree with the library's framing-only decoder
/// (`wire::WireMessage::decode`, "checks framing only, no key is read") on every mutation: the
/// expected class above is `Malformed` exactly when that decoder refuses the bytes.
#[test]
fn framing_rules_agree_with_the_wire_decoder() {
    use target_impl::wire::WireMessage;
    let r = ratchet_targets(11);
    let i = initial_targets(21, Prekeys::ALL);
    let j = initial_targets(21, Prekeys::NONE);
    for original in [&r.current, &r.skipped, &r.new_chain, &i.first, &j.first] {
        for (what, m) in mutations(original) {
            let decodes = WireMessage::decode(&m).is_ok();
            assert_eq!(framing_ok(&m), decodes, "{what}");
        }
    }
}

/// Framing comes before every key check, also when both fail (two alterations: one prefix
/// field that only a key check catches, plus the framing of the ratchet message after the
/// prefix). A message that is not well framed is `Malformed` whatever session, prefix or
/// prekeys it claims; `Device::decrypt` already does this for a ratchet message from a peer
/// without a session ("framing first", device.rs).
#[test]
fn framing_failure_takes_precedence_over_key_failure() {
    let t = initial_targets(24, Prekeys::ALL);
    let prefix = initial_prefix_len(&t.first).unwrap();
    let key_fields = [
        ("initiator signing key", 2),
        ("initiator identity signature", 2 + 64),
        ("responder signing key", 2 + 128),
        ("responder DH key", 2 + 160),
        ("signed prekey id", OPK_FLAG_OFFSET - 1),
        ("one-time prekey id", OPK_FLAG_OFFSET + 4),
        ("KEM kind", OPK_FLAG_OFFSET + 5),
        ("KEM prekey id", OPK_FLAG_OFFSET + 9),
        ("ephemeral key", ephemeral_offset(&t.first)),
        ("KEM ciphertext", prefix - 1),
    ];
    type Breaker = fn(&mut Vec<u8>, usize);
    let framing_breaks: [(&str, Breaker); 4] = [
        ("inner version 2", |m, at| m[at] = 2),
        ("inner header length 0", |m, at| m[at + CLEAR_LEN - 1] = 0),
        ("last byte cut", |m, _| {
            m.pop();
        }),
        ("one byte appended", |m, _| m.push(0)),
    ];
    let mut wrong = Vec::new();
    for (key_what, key_at) in key_fields {
        for (frame_what, brk) in framing_breaks {
            let what = format!("{key_what} + {frame_what}");
            for (path, original) in [("fresh device", &t.first), ("session", &t.second)] {
                let mut m = original.clone();
                m[key_at] ^= 0x01;
                brk(&mut m, prefix);
                assert_eq!(expected_refusal(&m), Error::Malformed, "{what}");
                let mut bob = if path == "fresh device" {
                    t.fresh_bob.clone()
                } else {
                    t.bob_with_session.clone()
                };
                let before = bob.to_bytes();
                let got = bob.decrypt(&t.a, &m, T0).map(|_| ());
                if got != Err(Error::Malformed) {
                    wrong.push(format!("{path}, {what}, Device::decrypt: {got:?}"));
                }
                if let Some(session) = bob.session_mut(&t.a) {
                    let mut buf = m.clone();
                    let got = session.decrypt_in_place(&mut buf, T0).map(|_| ());
                    if got != Err(Error::Malformed) {
                        wrong.push(format!("{path}, {what}, decrypt_in_place: {got:?}"));
                    }
                }
                assert_eq!(*bob.to_bytes(), *before);
            }
        }
    }
    // A ratchet message to a peer without a session: Unauthentic if well framed, else
    // Malformed.
    let ratchet = t.second[prefix..].to_vec();
    let mut cut = ratchet.clone();
    cut.pop();
    for (m, want) in [(&ratchet, Error::Unauthentic), (&cut, Error::Malformed)] {
        assert_eq!(expected_refusal(m), want);
        let got = t.fresh_bob.clone().decrypt(&t.a, m, T0).map(|_| ());
        if got != Err(want) {
            wrong.push(format!(
                "ratchet message, no session, {} bytes: {got:?}",
                m.len()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cases not Malformed:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
