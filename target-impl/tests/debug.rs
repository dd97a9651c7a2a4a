//! `Debug` output never shows a secret: every secret field of every state blob (located with
//! the blob layouts) is searched for in the `Debug` and pretty `Debug` output of every public
//! type, as lowercase hex, uppercase hex and a decimal array rendering of any 8-byte window.
//! Decrypted payloads are not shown either.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;

use common::*;
use target_impl::{Device, Error, PrekeyBundle, VerifiedBundle};

const PAYLOAD: &[u8] = b"PLAINTEXT-CANARY: the vault code is 4417-2290";

/// Every 8-byte sequence the text shows in a form a `Debug` impl might print bytes in.
struct Shown {
    /// All 16-character substrings of the lowercased text (catches both hex cases).
    hex: HashSet<String>,
    /// All runs of 8 comma-separated decimal numbers below 256, whitespace ignored (catches
    /// `[12, 34, ...` and the pretty one-per-line form).
    decimal: HashSet<[u8; 8]>,
    text: String,
}

impl Shown {
    fn new(text: &str) -> Self {
        let lower: Vec<char> = text.to_lowercase().chars().collect();
        let hex = lower
            .windows(16)
            .map(|w| w.iter().collect::<String>())
            .collect();
        let stripped: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut decimal = HashSet::new();
        for piece in stripped.split(|c: char| !(c.is_ascii_digit() || c == ',')) {
            let mut run: Vec<u8> = Vec::new();
            for token in piece.split(',') {
                match token.parse::<u8>() {
                    Ok(v) if !token.is_empty() => run.push(v),
                    _ => run.clear(),
                }
                if run.len() >= 8 {
                    decimal.insert(run[run.len() - 8..].try_into().unwrap());
                }
            }
        }
        Self {
            hex,
            decimal,
            text: text.to_string(),
        }
    }

    /// The first 8-byte window of `secret` the text shows, if any.
    fn leak(&self, secret: &[u8]) -> Option<String> {
        for w in secret.windows(8) {
            let h = hex::encode(w);
            if self.hex.contains(&h) {
                return Some(format!("hex {h}"));
            }
            let arr: [u8; 8] = w.try_into().unwrap();
            if self.decimal.contains(&arr) {
                return Some(format!("decimal {arr:?}"));
            }
        }
        None
    }
}

/// The detector is not blind: it finds a secret printed in each form.
#[test]
fn detector_finds_secrets_in_every_form() {
    let secret: Vec<u8> = (0u8..40)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    let inner = &secret[5..21];
    for text in [
        format!("X {{ k: {} }}", hex::encode(inner)),
        format!("X {{ k: {} }}", hex::encode_upper(inner)),
        format!("X {{ k: {inner:?} }}"),
        format!("X {{ k: {inner:#?} }}"),
        format!("{:#?}", (1u8, inner.to_vec())),
    ] {
        assert!(Shown::new(&text).leak(&secret).is_some(), "{text}");
    }
    let clean = Shown::new(&format!("{:?}", &secret[..7]));
    assert!(
        clean.leak(&secret).is_none(),
        "7 bytes are below the window"
    );
}

/// Devices and sessions with every kind of secret, and one of each public type.
struct Sample {
    devices: Vec<Device>,
    bundles: Vec<PrekeyBundle>,
    debug: Vec<String>,
}

fn sample() -> Sample {
    let mut rng = rng(600);
    let mut p = new_pair(&mut rng, Prekeys::ALL);
    p.bob.add_one_time_prekeys(3, &mut rng).unwrap();
    let _m0 = p.a_send(PAYLOAD, T0, &mut rng);
    let _m1 = p.a_send(PAYLOAD, T0, &mut rng);
    let m2 = p.a_send(PAYLOAD, T0, &mut rng);
    let got = p.bob_gets(&m2, T0).unwrap();
    assert_eq!(&got.payload[..], PAYLOAD);
    let mut in_place = p.b_send(PAYLOAD, T0, &mut rng);
    let mut debug = vec![format!("{got:?}"), format!("{got:#?}")];
    {
        let session = p.alice.session_mut(&p.b).unwrap();
        let received = session.decrypt_in_place(&mut in_place, T0).unwrap();
        assert_eq!(received.payload, PAYLOAD);
        debug.push(format!("{received:?}"));
        debug.push(format!("{received:#?}"));
    }
    // Bob now has skipped keys (m0, m1), both sides have every chain.
    assert_eq!(skipped_of(&p.bob, &p.a).len(), 2);
    let a3 = p.a_send(PAYLOAD, T0, &mut rng);
    p.bob_gets(&a3, T0).unwrap();

    let bundle = p.bob.prekey_bundle().unwrap();
    let verified = VerifiedBundle::import(&bundle.to_bytes()).unwrap();
    for e in [
        Error::Malformed,
        Error::Unauthentic,
        Error::BadSignature,
        Error::Replay,
        Error::TooManySkipped,
        Error::Expired,
        Error::CorruptState,
    ] {
        debug.push(format!("{e:?} {e}"));
    }
    for d in [&p.alice, &p.bob] {
        debug.push(format!("{d:?}"));
        debug.push(format!("{d:#?}"));
        debug.push(format!("{:?}", d.public_identity()));
        debug.push(format!("{:#?}", d.public_identity()));
    }
    for s in [p.alice.session(&p.b).unwrap(), p.bob.session(&p.a).unwrap()] {
        debug.push(format!("{s:?}"));
        debug.push(format!("{s:#?}"));
    }
    debug.push(format!("{bundle:?}"));
    debug.push(format!("{bundle:#?}"));
    debug.push(format!("{verified:?}"));
    debug.push(format!("{verified:#?}"));
    debug.push(format!("{:?} {:?}", p.a, p.b));
    Sample {
        devices: vec![p.alice, p.bob],
        bundles: vec![bundle],
        debug,
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let s = sample();
    let shown = Shown::new(&s.debug.join("\n"));
    let mut checked = 0;
    for d in &s.devices {
        let blob = d.to_bytes();
        let info = parse_device(&blob);
        let secrets = info.all_secrets();
        assert!(secrets.len() >= 10, "{}", secrets.len());
        for (name, range) in secrets {
            checked += range.len();
            if let Some(how) = shown.leak(&blob[range]) {
                panic!("{name} appears in Debug output as {how}:\n{}", shown.text);
            }
        }
    }
    assert!(checked > 1000, "{checked}");
    // Public values are shown (the check above is not vacuous on hex rendering).
    let identity = s.devices[1].public_identity();
    assert!(shown.leak(identity.signing_key()).is_some());
    assert!(s.bundles[0].identity() == identity);
}

/// The expanded ML-KEM private keys (derived from the stored seeds) are secret too.
#[cfg(feature = "hazmat")]
#[test]
fn debug_output_shows_no_expanded_mlkem_key() {
    let s = sample();
    let shown = Shown::new(&s.debug.join("\n"));
    for d in &s.devices {
        let blob = d.to_bytes();
        for (name, range) in parse_device(&blob).secrets {
            if !name.contains("kem seed") {
                continue;
            }
            let seed: [u8; 64] = blob[range].try_into().unwrap();
            let (_, private) = target_impl::hazmat::mlkem768_generate(&seed);
            assert!(shown.leak(&private[..]).is_none(), "{name} expanded");
        }
    }
}

#[test]
fn debug_output_shows_no_payload() {
    let s = sample();
    let all = s.debug.join("\n");
    let shown = Shown::new(&all);
    assert!(!all.contains("PLAINTEXT-CANARY"), "{all}");
    assert!(!all.contains("vault code"), "{all}");
    assert!(shown.leak(PAYLOAD).is_none(), "{all}");
    assert!(!all.contains(&String::from_utf8_lossy(&PAYLOAD[..10]).to_string()));
}

/// The parsed X25519 private key of `hazmat` shows its public key, never the private one.
#[cfg(feature = "hazmat")]
#[test]
fn debug_output_shows_no_parsed_x25519_private_key() {
    use target_impl::hazmat;
    let private = [0x5au8, 0x13, 0xc7, 0x80, 0x2e, 0x99, 0x41, 0x0d].repeat(4);
    let private: [u8; 32] = private.try_into().unwrap();
    let key = hazmat::X25519PrivateKey::new(&private).unwrap();
    let shown = Shown::new(&format!("{key:?} {key:#?}"));
    assert!(shown.leak(&private).is_none(), "{}", shown.text);
    assert!(shown.leak(key.public_key()).is_some(), "{}", shown.text);
}
