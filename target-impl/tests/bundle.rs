//! Prekey bundles: canonical round trip, every signature checked, identity keys bound to each
//! other, low-order X25519 keys refused when used, invalid ML-KEM keys and bad framing
//! refused. Bundles with chosen keys are built by hand with the `hazmat` primitives, and the
//! hand-built layout is checked against the library's own encoding first.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use common::*;
use rand_core::Rng;
use target_impl::hazmat;
use target_impl::{
    BUNDLE_LEN_WITHOUT_OPK, Device, Error, PrekeyBundle, PublicIdentity, VerifiedBundle,
};

const SIG_IDENTITY: &[u8] = b"ti-v1 sig identity-dh\0";
const SIG_SIGNED_PREKEY: &[u8] = b"ti-v1 sig signed-prekey\0";
const SIG_KEM_PREKEY: &[u8] = b"ti-v1 sig kem-prekey\0";

/// Offsets in an encoded bundle.
const IDENTITY_SIG: usize = 2 + 64;
const SPK_ID: usize = 2 + 128;
const SPK: usize = SPK_ID + 4;
const SPK_SIG: usize = SPK + 32;
const OPK_FLAG: usize = SPK_SIG + 64;

/// Low-order (or order-dividing-the-cofactor) X25519 public keys.
const LOW_ORDER: [[u8; 32]; 5] = {
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut p_minus_1 = [0xffu8; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    [
        [0u8; 32],
        one,
        hex32(b"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex32(b"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        p_minus_1,
    ]
};

const fn hex32(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not hex"),
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// An identity whose secrets the test holds.
struct HandIdentity {
    seed: [u8; 32],
    signing: [u8; 32],
    dh_private: [u8; 32],
    dh: [u8; 32],
}

impl HandIdentity {
    fn new(rng: &mut impl Rng) -> Self {
        let mut seed = [0u8; 32];
        let mut dh_private = [0u8; 32];
        rng.fill_bytes(&mut seed);
        rng.fill_bytes(&mut dh_private);
        Self {
            seed,
            signing: hazmat::ed25519_public_key(&seed),
            dh_private,
            dh: hazmat::x25519_public_key(&dh_private).unwrap(),
        }
    }

    fn sign(&self, label: &[u8], fields: &[&[u8]]) -> [u8; 64] {
        let mut m = label.to_vec();
        m.extend_from_slice(&self.signing);
        for f in fields {
            m.extend_from_slice(f);
        }
        hazmat::ed25519_sign(&self.seed, &m)
    }

    /// `signing ‖ dh ‖ signature`, with `dh` possibly not this identity's own key.
    fn public_with_dh(&self, dh: &[u8; 32]) -> Vec<u8> {
        let mut out = self.signing.to_vec();
        out.extend_from_slice(dh);
        out.extend_from_slice(&self.sign(SIG_IDENTITY, &[dh]));
        out
    }
}

/// The fields of a bundle, encoded in the layout of prekeys.rs.
#[derive(Clone)]
struct Fields {
    identity: Vec<u8>,
    spk_id: u32,
    spk: [u8; 32],
    spk_sig: [u8; 64],
    opk: Option<(u32, [u8; 32])>,
    kem_kind: u8,
    kem_id: u32,
    kem: Vec<u8>,
    kem_sig: [u8; 64],
}

impl Fields {
    /// A correctly signed bundle of `id`'s with the given signed prekey and ML-KEM key.
    fn signed(id: &HandIdentity, spk: [u8; 32], kem: Vec<u8>) -> Self {
        let (spk_id, kem_id, kem_kind) = (1u32, 2u32, 0u8);
        Self {
            identity: id.public_with_dh(&id.dh),
            spk_id,
            spk,
            spk_sig: id.sign(SIG_SIGNED_PREKEY, &[&spk_id.to_be_bytes(), &spk]),
            opk: None,
            kem_kind,
            kem_id,
            kem_sig: id.sign(SIG_KEM_PREKEY, &[&[kem_kind], &kem_id.to_be_bytes(), &kem]),
            kem,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![1u8, 0x01];
        out.extend_from_slice(&self.identity);
        out.extend_from_slice(&self.spk_id.to_be_bytes());
        out.extend_from_slice(&self.spk);
        out.extend_from_slice(&self.spk_sig);
        match self.opk {
            Some((id, key)) => {
                out.push(1);
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&key);
            }
            None => out.push(0),
        }
        out.push(self.kem_kind);
        out.extend_from_slice(&self.kem_id.to_be_bytes());
        out.extend_from_slice(&self.kem);
        out.extend_from_slice(&self.kem_sig);
        out
    }
}

/// A hand-made identity, its signed prekey private key and ML-KEM seed, and the bundle fields.
struct Hand {
    id: HandIdentity,
    spk_private: [u8; 32],
    kem_seed: [u8; 64],
    fields: Fields,
}

fn hand(seed: u64) -> Hand {
    let mut rng = rng(seed);
    let id = HandIdentity::new(&mut rng);
    let mut spk_private = [0u8; 32];
    rng.fill_bytes(&mut spk_private);
    let mut kem_seed = [0u8; 64];
    rng.fill_bytes(&mut kem_seed);
    let spk = hazmat::x25519_public_key(&spk_private).unwrap();
    let (kem, _) = hazmat::mlkem768_generate(&kem_seed);
    let fields = Fields::signed(&id, spk, kem.to_vec());
    Hand {
        id,
        spk_private,
        kem_seed,
        fields,
    }
}

/// The device state blob holding exactly the hand-made keys (layout of `Device::to_bytes`).
fn hand_device_blob(h: &Hand) -> Vec<u8> {
    let mut b = vec![1u8, 0x11];
    b.extend_from_slice(&h.id.seed);
    b.extend_from_slice(&h.id.dh_private);
    b.extend_from_slice(&3u32.to_be_bytes()); // next prekey id
    b.push(1);
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&h.spk_private);
    b.extend_from_slice(&0u16.to_be_bytes()); // one-time prekeys
    b.push(1);
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&h.kem_seed);
    b.extend_from_slice(&[0; 4]); // one-time KEM prekeys, replay cache
    b.extend_from_slice(&[0; 8]); // replay floor
    b.extend_from_slice(&[0; 4]); // known peers, sessions
    b
}

fn alice(seed: u64) -> (Device, rand_chacha::ChaCha20Rng) {
    let mut rng = rng(seed);
    (Device::generate(&mut rng).unwrap(), rng)
}

/// The premise of every hand-built bundle below: the layout and labels match the library.
/// A device restored from the hand-made secrets publishes exactly the hand-built bundle, and a
/// session set up with it works.
#[test]
fn hand_built_bundle_matches_the_library() {
    let h = hand(300);
    let blob = hand_device_blob(&h);
    let mut bob = Device::from_bytes(&blob).unwrap();
    assert_eq!(*bob.to_bytes(), blob[..]);
    let bytes = h.fields.to_bytes();
    assert_eq!(bytes.len(), BUNDLE_LEN_WITHOUT_OPK);
    assert_eq!(bob.prekey_bundle().unwrap().to_bytes(), bytes);

    let (mut a, mut rng) = alice(301);
    let bundle = VerifiedBundle::import(&bytes).unwrap();
    a.initiate(&bob_name(), &bundle, &mut rng).unwrap();
    let m = a
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"hi"), T0, &mut rng)
        .unwrap();
    assert_eq!(
        &bob.decrypt(&alice_name(), &m, T0).unwrap().payload[..],
        b"hi"
    );
}

#[test]
fn bundle_round_trips() {
    let mut rng = rng(302);
    let mut bob = Device::generate(&mut rng).unwrap();
    for step in 0..3 {
        let bundle = bob.prekey_bundle().unwrap();
        let bytes = bundle.to_bytes();
        let decoded = PrekeyBundle::from_bytes(&bytes).unwrap();
        assert_eq!(decoded, bundle);
        assert_eq!(decoded.to_bytes(), bytes);
        assert_eq!(decoded.identity(), bob.public_identity());
        let verified = VerifiedBundle::import(&bytes).unwrap();
        assert_eq!(verified.bundle(), &bundle);
        assert_eq!(verified.bundle().to_bytes(), bytes);
        let with_opk = bundle.to_bytes().len() == BUNDLE_LEN_WITHOUT_OPK + 36;
        assert_eq!(with_opk, step >= 1);
        // Step 1 adds a one-time X25519 prekey, step 2 a one-time ML-KEM prekey.
        if step == 0 {
            bob.add_one_time_prekeys(1, &mut rng).unwrap();
        } else {
            bob.add_one_time_kem_prekeys(1, &mut rng).unwrap();
        }
    }
    let one_time_kem = bob.prekey_bundle().unwrap().to_bytes();
    assert_eq!(one_time_kem[OPK_FLAG + 37], 1, "KEM kind one-time");
}

fn assert_import(bytes: &[u8], want: Error, what: &str) {
    assert_eq!(
        VerifiedBundle::import(bytes).map(|_| ()),
        Err(want),
        "{what}"
    );
}

/// A flip anywhere in a signature or in a signed field is `BadSignature`.
#[test]
fn every_signature_and_signed_field_is_checked() {
    let mut rng = rng(303);
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(1, &mut rng).unwrap();
    let good = bob.prekey_bundle().unwrap().to_bytes();
    VerifiedBundle::import(&good).unwrap();
    let kem_kind = OPK_FLAG + 37;
    let kem_id = kem_kind + 1;
    let kem = kem_id + 4;
    let kem_sig = kem + 1184;
    assert_eq!(kem_sig + 64, good.len());
    let regions: [(&str, std::ops::Range<usize>); 9] = [
        ("identity signing key", 2..34),
        ("identity DH key", 34..66),
        ("identity signature", IDENTITY_SIG..SPK_ID),
        ("signed prekey id", SPK_ID..SPK),
        ("signed prekey", SPK..SPK_SIG),
        ("signed prekey signature", SPK_SIG..OPK_FLAG),
        ("KEM prekey id", kem_id..kem),
        ("KEM prekey", kem..kem_sig),
        ("KEM prekey signature", kem_sig..good.len()),
    ];
    for (name, range) in regions {
        let picks = [
            range.start,
            range.start + 1,
            (range.start + range.end) / 2,
            range.end - 1,
        ];
        for at in picks {
            for bit in [0x01u8, 0x80] {
                let mut bad = good.clone();
                bad[at] ^= bit;
                assert_import(
                    &bad,
                    Error::BadSignature,
                    &format!("{name} byte {at} ^ {bit}"),
                );
            }
        }
    }
    // The KEM kind is signed: relabelling the last-resort key as one-time is refused.
    let mut bad = good.clone();
    bad[kem_kind] ^= 1;
    assert_import(&bad, Error::BadSignature, "KEM kind");
}

/// Each of the three signatures, replaced by a valid signature over something else.
#[test]
fn each_signature_is_bound_to_its_own_message() {
    let h = hand(304);
    let f = &h.fields;
    let other = HandIdentity::new(&mut rng(305));
    // Identity signature by another key.
    let mut bad = f.clone();
    bad.identity[64..].copy_from_slice(&other.sign(SIG_IDENTITY, &[&h.id.dh]));
    assert_import(&bad.to_bytes(), Error::BadSignature, "identity");
    // Signed-prekey signature under the KEM label.
    let mut bad = f.clone();
    bad.spk_sig =
        h.id.sign(SIG_KEM_PREKEY, &[&f.spk_id.to_be_bytes(), &f.spk]);
    assert_import(&bad.to_bytes(), Error::BadSignature, "signed prekey label");
    // KEM signature over another id.
    let mut bad = f.clone();
    bad.kem_sig =
        h.id.sign(SIG_KEM_PREKEY, &[&[0], &9u32.to_be_bytes(), &f.kem]);
    assert_import(&bad.to_bytes(), Error::BadSignature, "KEM prekey id");
    // Swapped signatures.
    let mut bad = f.clone();
    core::mem::swap(&mut bad.spk_sig, &mut bad.kem_sig);
    assert_import(&bad.to_bytes(), Error::BadSignature, "swapped");
    // And the untouched one imports.
    VerifiedBundle::import(&f.to_bytes()).unwrap();
}

/// One identity's signing key presented with another identity's DH key and that identity's
/// signature: the identity signature covers the signing key, so this is refused.
#[test]
fn identity_keys_from_two_identities_are_refused() {
    let mut rng = rng(306);
    let x = Device::generate(&mut rng).unwrap();
    let y = Device::generate(&mut rng).unwrap();
    let (xi, yi) = (
        x.public_identity().to_bytes(),
        y.public_identity().to_bytes(),
    );
    let mut mixed = xi;
    mixed[32..].copy_from_slice(&yi[32..]);
    let mut bundle = x.prekey_bundle().unwrap().to_bytes();
    bundle[2..130].copy_from_slice(&mixed);
    assert_import(
        &bundle,
        Error::BadSignature,
        "x signing + y dh + y signature",
    );
    assert_eq!(PublicIdentity::from_bytes(&mixed), Err(Error::BadSignature));
    // The other way round.
    let mut mixed = yi;
    mixed[32..].copy_from_slice(&xi[32..]);
    let mut bundle = y.prekey_bundle().unwrap().to_bytes();
    bundle[2..130].copy_from_slice(&mixed);
    assert_import(
        &bundle,
        Error::BadSignature,
        "y signing + x dh + x signature",
    );
}

/// Refused by `initiate` (a low-order key's DH output is refused) with Alice unchanged.
fn assert_initiate_refused(bytes: &[u8], seed: u64, what: &str) {
    let bundle = VerifiedBundle::import(bytes).unwrap_or_else(|e| panic!("{what}: import {e:?}"));
    let (mut a, mut rng) = alice(seed);
    let before = a.to_bytes();
    assert_eq!(
        a.initiate(&bob_name(), &bundle, &mut rng),
        Err(Error::Unauthentic),
        "{what}"
    );
    assert!(a.session(&bob_name()).is_none());
    assert_eq!(*a.to_bytes(), *before);
}

#[test]
fn low_order_signed_prekey_imports_but_initiate_refuses() {
    let h = hand(307);
    let kem = h.fields.kem.clone();
    for (i, point) in LOW_ORDER.iter().enumerate() {
        let f = Fields::signed(&h.id, *point, kem.clone());
        assert_initiate_refused(&f.to_bytes(), 310 + i as u64, &format!("point {i}"));
    }
}

#[test]
fn low_order_identity_dh_key_imports_but_initiate_refuses() {
    let h = hand(308);
    for (i, point) in LOW_ORDER.iter().enumerate() {
        let mut f = h.fields.clone();
        f.identity = h.id.public_with_dh(point);
        assert_initiate_refused(&f.to_bytes(), 320 + i as u64, &format!("point {i}"));
    }
}

/// The one-time prekey is not signed (as in PQXDH): a server may substitute one, so a
/// low-order one must be refused when used.
#[test]
fn low_order_one_time_prekey_is_refused_by_initiate() {
    let mut rng = rng(309);
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(1, &mut rng).unwrap();
    let good = bob.prekey_bundle().unwrap().to_bytes();
    assert_eq!(good[OPK_FLAG], 1);
    for (i, point) in LOW_ORDER.iter().enumerate() {
        let mut bad = good.clone();
        bad[OPK_FLAG + 5..OPK_FLAG + 37].copy_from_slice(point);
        assert_initiate_refused(&bad, 330 + i as u64, &format!("point {i}"));
    }
}

/// An ML-KEM key failing the FIPS 203 modulus check, correctly signed, is `Malformed`.
#[test]
fn invalid_mlkem_key_correctly_signed_is_malformed() {
    let h = hand(340);
    for (name, fill) in [
        ("first 384 bytes 0xff", 0..384),
        ("all coefficient bytes 0xff", 0..1152),
        ("one coefficient 0xfff", 1149..1152),
    ] {
        let mut kem = h.fields.kem.clone();
        kem[fill].fill(0xff);
        assert!(!hazmat::mlkem768_validate_public_key(
            kem.as_slice().try_into().unwrap()
        ));
        let f = Fields::signed(&h.id, h.fields.spk, kem);
        assert_import(&f.to_bytes(), Error::Malformed, name);
    }
}

#[test]
fn bad_framing_is_malformed() {
    let mut rng = rng(341);
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(1, &mut rng).unwrap();
    let good = bob.prekey_bundle().unwrap().to_bytes();
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for len in 0..good.len() {
        cases.push((format!("truncated to {len}"), good[..len].to_vec()));
    }
    for extra in [&[0u8][..], &[0xff], &[0; 36]] {
        let mut x = good.clone();
        x.extend_from_slice(extra);
        cases.push((format!("{} trailing bytes", extra.len()), x));
    }
    for (at, value, what) in [
        (0, 0u8, "version 0"),
        (0, 2, "version 2"),
        (0, 0x81, "version 0x81"),
        (1, 0x00, "type 0"),
        (1, 0x02, "type initial"),
        (1, 0x03, "type ratchet"),
        (OPK_FLAG, 2, "one-time prekey flag 2"),
        (
            OPK_FLAG,
            0,
            "one-time prekey flag cleared (36 trailing bytes)",
        ),
        (OPK_FLAG + 37, 2, "KEM kind 2"),
        (OPK_FLAG + 37, 0xff, "KEM kind 0xff"),
    ] {
        let mut x = good.clone();
        x[at] = value;
        cases.push((what.to_string(), x));
    }
    for (what, bytes) in cases {
        assert_eq!(
            PrekeyBundle::from_bytes(&bytes).map(|_| ()),
            Err(Error::Malformed),
            "{what}"
        );
        assert_import(&bytes, Error::Malformed, &what);
    }
}
