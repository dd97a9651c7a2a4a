//! The checks and bindings of session setup (docs/PROTOCOL.md 6.3, 6.4, the initial-message table
//! of 11.2), each tested with only that one check failing.
//!
//! An initial message is built here from PROTOCOL.md with the `hazmat` primitives (`Spec`),
//! independently of the library's setup code: from the same draws it must equal, byte for byte,
//! what the initiator's device sends, and the responder must accept it. Each negative test then
//! changes one input of that construction and re-derives everything else (transcript hash,
//! keys, AD, both seals), so that the one check it names is the only one that fails. Removing
//! a check makes its negative test accept; removing a binding (a field left out of TH, the KDF
//! info or the AD) makes the positive construction differ from the device's bytes.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;
use target_impl::{Device, Error, VerifiedBundle, hazmat, padded_len};

const L_TRANSCRIPT: &[u8] = b"ti-v1 pqxdh transcript\0";
const L_PQXDH_KDF: &[u8] = b"ti-v1 pqxdh kdf\0";
const L_ROOT: &[u8] = b"ti-v1 root\0";
const L_HEADER_KEY: &[u8] = b"ti-v1 header key\0";
const L_SIG_IDENTITY: &[u8] = b"ti-v1 sig identity-dh\0";

/// An order-8 point of Curve25519 (every DH with it is all-zero).
const LOW_ORDER: [u8; 32] = [
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
];

/// The public fields of a bundle (PROTOCOL.md 5.6).
#[derive(Clone)]
struct BundleFields {
    signing: [u8; 32],
    dh: [u8; 32],
    spk_id: u32,
    spk: [u8; 32],
    opk: Option<(u32, [u8; 32])>,
    kem_kind: u8,
    kem_id: u32,
    ek: Vec<u8>,
}

fn bundle_fields(b: &[u8]) -> BundleFields {
    let u32_at = |at: usize| u32::from_be_bytes(b[at..at + 4].try_into().unwrap());
    let a32 = |at: usize| -> [u8; 32] { b[at..at + 32].try_into().unwrap() };
    let (opk, o) = if b[230] == 1 {
        (Some((u32_at(231), a32(235))), 267)
    } else {
        (None, 231)
    };
    BundleFields {
        signing: a32(2),
        dh: a32(34),
        spk_id: u32_at(130),
        spk: a32(134),
        opk,
        kem_kind: b[o],
        kem_id: u32_at(o + 1),
        ek: b[o + 5..o + 1189].to_vec(),
    }
}

fn dh(private: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    // An all-zero result is what a low-order key gives; the construction keeps it so that a
    // receiver without the all-zero check would derive the same keys.
    hazmat::x25519(private, public).map_or([0; 32], |s| *s)
}

fn expand(prk: &[u8], info: &[&[u8]], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    hazmat::hkdf_expand(prk, &info.concat(), &mut out).unwrap();
    out
}

/// AES-256-GCM under `key` with the message's nonce `r[0:12]` (7.3).
fn seal(key: &[u8], r: &[u8; 16], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let key: &[u8; 32] = key.try_into().unwrap();
    hazmat::aes256gcm_seal(key, r[..12].try_into().unwrap(), aad, plain).unwrap()
}

/// KDF_RK (7.2): new root key, chain key, next header key.
fn kdf_rk(rk: &[u8], dh_out: &[u8; 32]) -> ([u8; 32], [u8; 32], [u8; 32]) {
    let prk = hazmat::hkdf_extract(rk, dh_out);
    let okm = expand(prk.as_slice(), &[L_ROOT], 96);
    (
        okm[..32].try_into().unwrap(),
        okm[32..64].try_into().unwrap(),
        okm[64..].try_into().unwrap(),
    )
}

fn body(payload: &[u8], sent_at: u64) -> Vec<u8> {
    let mut b = vec![1u8];
    b.extend_from_slice(&sent_at.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    b.extend_from_slice(payload);
    b.resize(padded_len(17 + payload.len()), 0);
    b
}

/// One ratchet message (7.5, 7.6) sealed under `hk` and `mk` with `ad`.
fn ratchet_message(
    ad: &[u8],
    hk: &[u8],
    mk: &[u8],
    r: &[u8; 16],
    header_plain: &[u8],
    body_plain: &[u8],
) -> Vec<u8> {
    let mut clear = vec![1u8, 3];
    clear.extend_from_slice(r);
    clear.push((header_plain.len() + 16) as u8);
    // The header key's AEAD key HEK(hk) = Expand(hk, L_HEADER_KEY, 32); the message key is
    // the body key (7.3).
    let hek = expand(hk, &[L_HEADER_KEY], 32);
    let h = seal(&hek, r, &[ad, &clear].concat(), header_plain);
    let b = seal(mk, r, &[ad, &clear, &h].concat(), body_plain);
    [clear, h, b].concat()
}

/// Everything an initiator's first message is made of (6.2, 6.3, 7.4, 7.5), every input
/// exposed so that a test can change one.
#[derive(Clone)]
struct Spec {
    /// The initiator's public identity as sent (signing key ‖ DH key ‖ signature).
    initiator: [u8; 128],
    initiator_dh_private: [u8; 32],
    bundle: BundleFields,
    /// Prefix fields as sent (normally the bundle's).
    responder_signing: [u8; 32],
    responder_dh: [u8; 32],
    spk_id: u32,
    opk_id: Option<u32>,
    kem_kind: u8,
    kem_id: u32,
    /// Draws: ephemeral key, ML-KEM `m`, first ratchet key, `r`.
    ephemeral: [u8; 32],
    m: [u8; 32],
    ratchet: [u8; 32],
    r: [u8; 16],
    /// Sent instead of `pub(ephemeral)` if set (then the DHs with it are computed as all-zero
    /// only if it is of low order).
    ephemeral_public: Option<[u8; 32]>,
    /// Used instead of the DH1 the initiator computes (a party without the identity's key).
    dh1_private: Option<[u8; 32]>,
    /// Replaces the transcript hash in the KDF info only.
    kdf_th: Option<[u8; 32]>,
    /// Public values hashed into TH after the prefix (normally the bundle's keys).
    th_spk: Option<[u8; 32]>,
    th_opk: Option<[u8; 32]>,
    th_ek: Option<Vec<u8>>,
    /// Bytes hashed into TH in place of the sent prefix.
    th_prefix: Option<Vec<u8>>,
    /// The four identity keys of the AD, if not the sent ones, and its TH.
    ad_keys: Option<[[u8; 32]; 4]>,
    ad_th: Option<[u8; 32]>,
    payload: Vec<u8>,
    sent_at: u64,
}

impl Spec {
    fn prefix(&self) -> Vec<u8> {
        let ephemeral_public = self
            .ephemeral_public
            .unwrap_or_else(|| hazmat::x25519_public_key(&self.ephemeral).unwrap());
        let ek: &[u8; 1184] = self.bundle.ek.as_slice().try_into().unwrap();
        let (ct, _) = hazmat::mlkem768_encapsulate(ek, &self.m).unwrap();
        let mut p = vec![1u8, 2];
        p.extend_from_slice(&self.initiator);
        p.extend_from_slice(&self.responder_signing);
        p.extend_from_slice(&self.responder_dh);
        p.extend_from_slice(&self.spk_id.to_be_bytes());
        match self.opk_id {
            Some(id) => {
                p.push(1);
                p.extend_from_slice(&id.to_be_bytes());
            }
            None => p.push(0),
        }
        p.push(self.kem_kind);
        p.extend_from_slice(&self.kem_id.to_be_bytes());
        p.extend_from_slice(&ephemeral_public);
        p.extend_from_slice(ct.as_slice());
        p
    }

    /// The initial message: prefix ‖ the first ratchet message (N = 0, PN = 0).
    fn build(&self) -> Vec<u8> {
        let b = &self.bundle;
        let prefix = self.prefix();
        let ek: &[u8; 1184] = b.ek.as_slice().try_into().unwrap();
        let (_, ss) = hazmat::mlkem768_encapsulate(ek, &self.m).unwrap();
        let eph = |peer: &[u8; 32]| match self.ephemeral_public {
            Some(p) if p == LOW_ORDER || p == [0; 32] => [0; 32],
            _ => dh(&self.ephemeral, peer),
        };
        let dh1 = dh(
            self.dh1_private
                .as_ref()
                .unwrap_or(&self.initiator_dh_private),
            &b.spk,
        );
        let mut ikm = vec![0xffu8; 32];
        ikm.extend_from_slice(&dh1);
        ikm.extend_from_slice(&eph(&b.dh));
        ikm.extend_from_slice(&eph(&b.spk));
        if let Some((_, opk)) = &b.opk {
            ikm.extend_from_slice(&eph(opk));
        }
        ikm.extend_from_slice(ss.as_slice());
        let mut th_input = L_TRANSCRIPT.to_vec();
        th_input.extend_from_slice(self.th_prefix.as_ref().unwrap_or(&prefix));
        th_input.extend_from_slice(self.th_spk.as_ref().unwrap_or(&b.spk));
        if let Some((_, opk)) = &b.opk {
            th_input.extend_from_slice(self.th_opk.as_ref().unwrap_or(opk));
        }
        th_input.extend_from_slice(self.th_ek.as_ref().unwrap_or(&b.ek));
        let th = hazmat::sha256(&[&th_input]);
        let prk = hazmat::hkdf_extract(&[0u8; 32], &ikm);
        let okm = expand(
            prk.as_slice(),
            &[L_PQXDH_KDF, self.kdf_th.as_ref().unwrap_or(&th)],
            128,
        );
        let (rk0, hk_i) = (&okm[..32], &okm[32..64]);
        let keys = self.ad_keys.unwrap_or([
            self.initiator[..32].try_into().unwrap(),
            self.initiator[32..64].try_into().unwrap(),
            self.responder_signing,
            self.responder_dh,
        ]);
        let mut ad = keys.concat();
        ad.extend_from_slice(self.ad_th.as_ref().unwrap_or(&th));
        // The initiator's first sending step (7.5, pending): a new ratchet key against SPK.
        let ratchet_public = hazmat::x25519_public_key(&self.ratchet).unwrap();
        let (_, ck, _) = kdf_rk(rk0, &dh(&self.ratchet, &b.spk));
        let mk = hazmat::hmac_sha256(&ck, &[1]).unwrap();
        let mut header = ratchet_public.to_vec();
        header.extend_from_slice(&[0; 9]);
        let msg = ratchet_message(
            &ad,
            hk_i,
            mk.as_slice(),
            &self.r,
            &header,
            &body(&self.payload, self.sent_at),
        );
        [prefix, msg].concat()
    }
}

/// A responder and an initiator, and the construction of the initiator's first message from
/// the draws its device made.
struct Setup {
    alice: Device,
    bob: Device,
    spec: Spec,
    /// What Alice's device sent.
    sent: Vec<u8>,
}

fn setup(seed: u64, prekeys: Prekeys) -> Setup {
    let mut rng = rng(seed);
    let mut alice = Device::generate(&mut rng).unwrap();
    let mut bob = Device::generate(&mut rng).unwrap();
    if prekeys.opk {
        bob.add_one_time_prekeys(2, &mut rng).unwrap();
    }
    if prekeys.one_time_kem {
        bob.add_one_time_kem_prekeys(2, &mut rng).unwrap();
    }
    let bundle_bytes = bob.prekey_bundle().unwrap().to_bytes();
    let bundle = VerifiedBundle::import(&bundle_bytes).unwrap();
    // The same stream as the device's draws: ephemeral (32), m (32), ratchet key (32), r (16).
    let mut shadow: ChaCha20Rng = rng.clone();
    let mut draw = |n: usize| {
        let mut v = vec![0u8; n];
        shadow.fill_bytes(&mut v);
        v
    };
    let (ephemeral, m, ratchet, r) = (draw(32), draw(32), draw(32), draw(16));
    alice.initiate(&bob_name(), &bundle, &mut rng).unwrap();
    let sent = alice
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"hello bob"), T0, &mut rng)
        .unwrap();
    let info = parse_device(&alice.to_bytes());
    let alice_blob = alice.to_bytes();
    let dh_range = info
        .secrets
        .iter()
        .find(|(n, _)| n == "identity dh private")
        .unwrap()
        .1
        .clone();
    let f = bundle_fields(&bundle_bytes);
    let spec = Spec {
        initiator: alice.public_identity().to_bytes(),
        initiator_dh_private: alice_blob[dh_range].try_into().unwrap(),
        responder_signing: f.signing,
        responder_dh: f.dh,
        spk_id: f.spk_id,
        opk_id: f.opk.map(|(id, _)| id),
        kem_kind: f.kem_kind,
        kem_id: f.kem_id,
        bundle: f,
        ephemeral: ephemeral.try_into().unwrap(),
        m: m.try_into().unwrap(),
        ratchet: ratchet.try_into().unwrap(),
        r: r.try_into().unwrap(),
        ephemeral_public: None,
        dh1_private: None,
        kdf_th: None,
        th_spk: None,
        th_opk: None,
        th_ek: None,
        th_prefix: None,
        ad_keys: None,
        ad_th: None,
        payload: b"hello bob".to_vec(),
        sent_at: T0,
    };
    Setup {
        alice,
        bob,
        spec,
        sent,
    }
}

impl Setup {
    /// The construction reproduces the device's message and the responder accepts it.
    fn assert_construction_matches(&self) {
        let built = self.spec.build();
        assert_eq!(
            built, self.sent,
            "the construction from PROTOCOL.md differs from the initiator's message"
        );
        let mut bob = self.bob.clone();
        let got = bob.decrypt(&alice_name(), &built, T0).unwrap();
        assert_eq!(&got.payload[..], b"hello bob");
    }

    /// `spec` refused with `want`, the responder unchanged.
    fn assert_refused(&self, spec: &Spec, want: Error, what: &str) {
        let mut bob = self.bob.clone();
        let before = bob.to_bytes();
        assert_eq!(
            bob.decrypt(&alice_name(), &spec.build(), T0).map(|_| ()),
            Err(want),
            "{what}"
        );
        assert_eq!(*bob.to_bytes(), *before, "{what}: state changed");
    }
}

fn each_prekey_kind() -> [Prekeys; 2] {
    [Prekeys::NONE, Prekeys::ALL]
}

// ---------------------------------------------------------------------------------------------
// The construction itself: the device's bytes, accepted by the responder.

#[test]
fn construction_from_the_spec_is_the_initiators_message() {
    for (i, prekeys) in [
        Prekeys::NONE,
        Prekeys::ALL,
        Prekeys {
            opk: true,
            one_time_kem: false,
        },
        Prekeys {
            opk: false,
            one_time_kem: true,
        },
    ]
    .into_iter()
    .enumerate()
    {
        setup(1000 + i as u64, prekeys).assert_construction_matches();
    }
}

// ---------------------------------------------------------------------------------------------
// `accept` steps 2–7 (11.2 initial-message rows 5–10), one failing at a time.

#[test]
fn responder_identity_named_in_the_prefix_must_be_own() {
    for prekeys in each_prekey_kind() {
        let s = setup(1010, prekeys);
        s.assert_construction_matches();
        // The prefix names another responder key; TH is over that prefix and the AD holds the
        // responder's real keys, so step 2 is the only check that fails.
        let real = [
            s.spec.initiator[..32].try_into().unwrap(),
            s.spec.initiator[32..64].try_into().unwrap(),
            s.spec.responder_signing,
            s.spec.responder_dh,
        ];
        let mut spec = s.spec.clone();
        spec.responder_signing[0] ^= 1;
        spec.ad_keys = Some(real);
        s.assert_refused(&spec, Error::Unauthentic, "responder signing key");
        let mut spec = s.spec.clone();
        spec.responder_dh[0] ^= 1;
        spec.ad_keys = Some(real);
        s.assert_refused(&spec, Error::Unauthentic, "responder DH key");
    }
}

#[test]
fn signed_prekey_id_must_be_held() {
    for prekeys in each_prekey_kind() {
        let s = setup(1011, prekeys);
        let mut spec = s.spec.clone();
        spec.spk_id = 9;
        s.assert_refused(&spec, Error::Unauthentic, "signed prekey id 9");
    }
}

#[test]
fn one_time_prekey_id_must_be_held() {
    let s = setup(1012, Prekeys::ALL);
    let mut spec = s.spec.clone();
    spec.opk_id = Some(spec.opk_id.unwrap() + 1000);
    s.assert_refused(&spec, Error::Unauthentic, "one-time prekey id not held");
}

#[test]
fn kem_prekey_of_that_kind_and_id_must_be_held() {
    let s = setup(1013, Prekeys::ALL);
    assert_eq!(s.spec.kem_kind, 1);
    // The one-time ML-KEM key's id named as a last-resort key.
    let mut spec = s.spec.clone();
    spec.kem_kind = 0;
    s.assert_refused(&spec, Error::Unauthentic, "one-time id as last-resort");
    let mut spec = s.spec.clone();
    spec.kem_id += 1000;
    s.assert_refused(&spec, Error::Unauthentic, "one-time id not held");
    let s = setup(1014, Prekeys::NONE);
    assert_eq!(s.spec.kem_kind, 0);
    let mut spec = s.spec.clone();
    spec.kem_kind = 1;
    s.assert_refused(&spec, Error::Unauthentic, "last-resort id as one-time");
}

#[test]
fn initiator_identity_signature_must_verify() {
    for prekeys in each_prekey_kind() {
        let s = setup(1015, prekeys);
        s.assert_construction_matches();
        // The signature is not in the AD, and TH is over the prefix as sent: only the
        // signature check fails.
        let mut spec = s.spec.clone();
        spec.initiator[100] ^= 1;
        s.assert_refused(&spec, Error::Unauthentic, "identity signature bit");
        // A valid signature over another DH key.
        let mut spec = s.spec.clone();
        let other = Device::generate(&mut rng(1016)).unwrap();
        spec.initiator[64..].copy_from_slice(&other.public_identity().signature()[..]);
        s.assert_refused(&spec, Error::Unauthentic, "another identity's signature");
    }
}

#[test]
fn initiator_identity_signature_covers_both_keys() {
    // The identity message is L_SIG_IDENTITY ‖ signing ‖ dh: a signature over the DH key
    // alone (no label, no signing key) is refused.
    let s = setup(1017, Prekeys::NONE);
    let alice_blob = s.alice.to_bytes();
    let info = parse_device(&alice_blob);
    let seed_range = info.secrets[0].1.clone();
    let seed: [u8; 32] = alice_blob[seed_range].try_into().unwrap();
    let signing = &s.spec.initiator[..32];
    let dh_pub = &s.spec.initiator[32..64];
    let resigned = hazmat::ed25519_sign(&seed, &[L_SIG_IDENTITY, signing, dh_pub].concat());
    assert_eq!(&resigned[..], &s.spec.initiator[64..], "identity message");
    for (what, msg) in [
        ("over the DH key only", dh_pub.to_vec()),
        ("without the label", [signing, dh_pub].concat()),
    ] {
        let mut spec = s.spec.clone();
        spec.initiator[64..].copy_from_slice(&hazmat::ed25519_sign(&seed, &msg));
        s.assert_refused(&spec, Error::Unauthentic, what);
    }
}

#[test]
fn initiator_identity_is_authenticated_by_dh1() {
    // Someone with Alice's public identity but not her DH key: every other input is theirs.
    for prekeys in each_prekey_kind() {
        let s = setup(1018, prekeys);
        let mut spec = s.spec.clone();
        spec.dh1_private = Some([0x42; 32]);
        s.assert_refused(&spec, Error::Unauthentic, "DH1 without the identity key");
    }
}

#[test]
fn all_zero_dh_from_a_low_order_ephemeral_is_refused() {
    for prekeys in each_prekey_kind() {
        let s = setup(1019, prekeys);
        for point in [LOW_ORDER, [0; 32]] {
            assert!(
                hazmat::x25519(&[1; 32], &point).is_err(),
                "a low-order point"
            );
            let mut spec = s.spec.clone();
            spec.ephemeral_public = Some(point);
            s.assert_refused(&spec, Error::Unauthentic, "low-order ephemeral");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bindings: the transcript hash, the KDF info and the AD (6.3).

#[test]
fn transcript_hash_covers_the_whole_prefix() {
    let s = setup(1020, Prekeys::ALL);
    s.assert_construction_matches();
    let prefix = s.spec.prefix();
    for at in [2, 130, 194, 198, 203, prefix.len() - 1] {
        let mut spec = s.spec.clone();
        let mut hashed = prefix.clone();
        hashed[at] ^= 1;
        spec.th_prefix = Some(hashed);
        s.assert_refused(
            &spec,
            Error::Unauthentic,
            &format!("TH over a prefix changed at {at}"),
        );
    }
}

#[test]
fn transcript_hash_covers_the_prekey_public_keys() {
    let s = setup(1021, Prekeys::ALL);
    s.assert_construction_matches();
    let mut spec = s.spec.clone();
    spec.th_spk = Some([7; 32]);
    s.assert_refused(&spec, Error::Unauthentic, "TH over another signed prekey");
    let mut spec = s.spec.clone();
    spec.th_opk = Some([7; 32]);
    s.assert_refused(&spec, Error::Unauthentic, "TH over another one-time prekey");
    let mut spec = s.spec.clone();
    let mut ek = spec.bundle.ek.clone();
    ek[1183] ^= 1;
    spec.th_ek = Some(ek);
    s.assert_refused(&spec, Error::Unauthentic, "TH over another ML-KEM key");
}

#[test]
fn kdf_info_carries_the_transcript_hash() {
    let s = setup(1022, Prekeys::NONE);
    s.assert_construction_matches();
    let mut spec = s.spec.clone();
    spec.kdf_th = Some([0; 32]);
    s.assert_refused(&spec, Error::Unauthentic, "KDF info without TH");
}

#[test]
fn ad_binds_both_identities_and_the_transcript_hash() {
    for prekeys in each_prekey_kind() {
        let s = setup(1023, prekeys);
        s.assert_construction_matches();
        let real: [[u8; 32]; 4] = [
            s.spec.initiator[..32].try_into().unwrap(),
            s.spec.initiator[32..64].try_into().unwrap(),
            s.spec.responder_signing,
            s.spec.responder_dh,
        ];
        for (i, what) in [
            "initiator signing key",
            "initiator DH key",
            "responder signing key",
            "responder DH key",
        ]
        .into_iter()
        .enumerate()
        {
            let mut keys = real;
            keys[i][5] ^= 1;
            let mut spec = s.spec.clone();
            spec.ad_keys = Some(keys);
            s.assert_refused(&spec, Error::Unauthentic, &format!("AD: {what}"));
        }
        let mut spec = s.spec.clone();
        spec.ad_th = Some([0; 32]);
        s.assert_refused(&spec, Error::Unauthentic, "AD: transcript hash");
    }
}

/// The initiator's side: Bob's reply authenticates under the AD Alice derived from the bundle,
/// so a reply sealed under an AD naming anyone else (or another TH) is refused; Bob's genuine
/// reply, re-sealed here from Bob's keys, is accepted.
#[test]
fn initiator_checks_the_reply_under_its_ad() {
    let s = setup(1024, Prekeys::NONE);
    let mut bob = s.bob.clone();
    bob.decrypt(&alice_name(), &s.sent, T0).unwrap();
    let blob = bob.to_bytes();
    let info = parse_device(&blob);
    let sess = info.session(b"alice");
    let secret = |name: &str| -> Vec<u8> {
        let (_, r) = sess.secrets.iter().find(|(n, _)| n == name).unwrap();
        blob[r.clone()].to_vec()
    };
    // Bob's reply (7.5 with a pending step): a new ratchet key against Alice's ratchet key.
    let alice_ratchet = hazmat::x25519_public_key(&s.spec.ratchet).unwrap();
    let session_blob = bob.session(&alice_name()).unwrap().to_bytes();
    let ad: Vec<u8> = session_blob[4..164].to_vec();
    let rk = secret("rk");
    let nhks = secret("nhks");
    let b1 = [0x33u8; 32];
    let (_, ck, _) = kdf_rk(&rk, &dh(&b1, &alice_ratchet));
    let mk = hazmat::hmac_sha256(&ck, &[1]).unwrap();
    let mut header = hazmat::x25519_public_key(&b1).unwrap().to_vec();
    header.extend_from_slice(&[0; 9]);
    let r = [0x44u8; 16];
    let reply = |ad: &[u8]| {
        ratchet_message(
            ad,
            &nhks,
            mk.as_slice(),
            &r,
            &header,
            &body(b"reply", T0 + 1),
        )
    };
    let mut alice = s.alice.clone();
    let before = alice.to_bytes();
    for (at, what) in [
        (0, "initiator signing key"),
        (32, "initiator DH key"),
        (64, "responder signing key"),
        (96, "responder DH key"),
        (128, "transcript hash"),
    ] {
        let mut other = ad.clone();
        other[at + 3] ^= 1;
        assert_eq!(
            alice
                .decrypt(&bob_name(), &reply(&other), T0 + 1)
                .map(|_| ()),
            Err(Error::Unauthentic),
            "reply under an AD with another {what}"
        );
        assert_eq!(*alice.to_bytes(), *before);
    }
    let got = alice.decrypt(&bob_name(), &reply(&ad), T0 + 1).unwrap();
    assert_eq!(&got.payload[..], b"reply");
}

/// The initiator's side of the bundle bindings: Alice's AD names the identity the bundle
/// carries, which `import` verified, and the session reports it.
#[test]
fn initiator_session_names_the_verified_bundle_identity() {
    let s = setup(1025, Prekeys::NONE);
    let session = s.alice.session(&bob_name()).unwrap();
    let bob_id = s.bob.public_identity();
    assert_eq!(
        session.peer_identity_keys(),
        (*bob_id.signing_key(), *bob_id.dh_key())
    );
    let mut bob = s.bob.clone();
    bob.decrypt(&alice_name(), &s.sent, T0).unwrap();
    let alice_id = s.alice.public_identity();
    assert_eq!(
        bob.session(&alice_name()).unwrap().peer_identity_keys(),
        (*alice_id.signing_key(), *alice_id.dh_key())
    );
}
