//! The protocol's derivations re-stated with the `hazmat` primitives, written from
//! docs/PROTOCOL.md: from the secrets in a state blob ([`crate::blob`]) and the recorded
//! draws they recompute what `target-impl` derived (every DH output, the KEM shared secret, TH,
//! the KDF outputs, AD, the root, chain, header and message keys, each AEAD key and nonce) and,
//! for `encrypt`, the whole wire message. The checker compares these with what `target-impl`
//! produced, so a vector is checked from two sides.
//!
//! These functions follow the successful path only: the decisions that refuse a message are
//! what the negative vectors check against `target-impl` itself.

use target_impl::hazmat;

use crate::blob::{DeviceBlob, SessionBlob};
use crate::model::{
    DecryptSteps, EncryptSteps, NumberedKey, Pqxdh, ReceiveRatchetStep, SendRatchetStep,
};
use crate::{Fail, Result, array, fail, hex, slice};

/// `ti-v1 sig identity-dh\0` (PROTOCOL.md 3).
pub const L_SIG_IDENTITY: &[u8] = b"ti-v1 sig identity-dh\0";
/// `ti-v1 sig signed-prekey\0`.
pub const L_SIG_SPK: &[u8] = b"ti-v1 sig signed-prekey\0";
/// `ti-v1 sig kem-prekey\0`.
pub const L_SIG_KEM: &[u8] = b"ti-v1 sig kem-prekey\0";
/// `ti-v1 pqxdh transcript\0`.
pub const L_TRANSCRIPT: &[u8] = b"ti-v1 pqxdh transcript\0";
/// `ti-v1 pqxdh kdf\0`.
pub const L_PQXDH_KDF: &[u8] = b"ti-v1 pqxdh kdf\0";
/// `ti-v1 root\0`.
pub const L_ROOT: &[u8] = b"ti-v1 root\0";
/// `ti-v1 header key\0`.
pub const L_HEADER_KEY: &[u8] = b"ti-v1 header key\0";

/// `KDF_RK(rk, dh)` → (root key, chain key, next header key).
pub fn kdf_rk(rk: &[u8; 32], dh: &[u8; 32]) -> Result<([u8; 32], [u8; 32], [u8; 32])> {
    let prk = hazmat::hkdf_extract(rk, dh);
    let mut okm = [0u8; 96];
    hazmat::hkdf_expand(prk.as_slice(), L_ROOT, &mut okm)?;
    Ok((
        array(slice(&okm, 0..32, "rk")?, "rk")?,
        array(slice(&okm, 32..64, "ck")?, "ck")?,
        array(slice(&okm, 64..96, "nhk")?, "nhk")?,
    ))
}

/// `KDF_CK(ck)` → (message key, next chain key).
pub fn kdf_ck(ck: &[u8; 32]) -> Result<([u8; 32], [u8; 32])> {
    Ok((
        *hazmat::hmac_sha256(ck, &[0x01])?,
        *hazmat::hmac_sha256(ck, &[0x02])?,
    ))
}

/// `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)`: a header key's AES-256-GCM key (PROTOCOL.md 7.3).
pub fn header_aead_key(hk: &[u8; 32]) -> Result<[u8; 32]> {
    let mut key = [0u8; 32];
    hazmat::hkdf_expand(hk, L_HEADER_KEY, &mut key)?;
    Ok(key)
}

/// `nonce(r) = r[0:12]`: the nonce of a message's header and of its body (PROTOCOL.md 7.3).
pub fn nonce(r: &[u8]) -> Result<[u8; 12]> {
    if r.len() != 16 {
        fail!("r is {} bytes", r.len());
    }
    array(slice(r, 0..12, "nonce")?, "nonce")
}

/// `padded_len` of PROTOCOL.md 8.2: buckets, then Padmé.
pub fn padded_len(n: usize) -> usize {
    for b in [64, 128, 256, 512, 1024] {
        if n <= b {
            return b;
        }
    }
    let e = n.ilog2();
    let s = e.ilog2() + 1;
    let mask = (1usize << (e - s)) - 1;
    (n + mask) & !mask
}

/// The padded body plaintext of PROTOCOL.md 8.1.
pub fn body_plaintext(content_type: u8, sent_at: u64, ttl: u32, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![content_type];
    body.extend_from_slice(&sent_at.to_be_bytes());
    body.extend_from_slice(&ttl.to_be_bytes());
    body.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    body.extend_from_slice(payload);
    body.resize(padded_len(17 + payload.len()), 0);
    body
}

fn x25519_pub(private: &[u8; 32]) -> Result<[u8; 32]> {
    Ok(hazmat::x25519_public_key(private)?)
}

fn dh(private: &[u8; 32], public: &[u8; 32]) -> Result<[u8; 32]> {
    Ok(*hazmat::x25519(private, public)?)
}

fn sign(seed: &[u8; 32], label: &[u8], fields: &[&[u8]]) -> [u8; 64] {
    let mut m = label.to_vec();
    m.extend_from_slice(&hazmat::ed25519_public_key(seed));
    for f in fields {
        m.extend_from_slice(f);
    }
    hazmat::ed25519_sign(seed, &m)
}

/// The 128-byte public identity of a device's identity secrets (PROTOCOL.md 4).
pub fn public_identity(signing_seed: &[u8; 32], dh_private: &[u8; 32]) -> Result<Vec<u8>> {
    let dh_pub = x25519_pub(dh_private)?;
    let mut out = hazmat::ed25519_public_key(signing_seed).to_vec();
    out.extend_from_slice(&dh_pub);
    out.extend_from_slice(&sign(signing_seed, L_SIG_IDENTITY, &[&dh_pub]));
    Ok(out)
}

/// The bundle a device publishes (PROTOCOL.md 5.6), rebuilt from its blob.
pub fn bundle_of(device: &DeviceBlob) -> Result<Vec<u8>> {
    let seed = &device.signing_seed;
    let mut out = vec![1u8, 1];
    out.extend_from_slice(&public_identity(seed, &device.dh_private)?);
    let (spk_id, spk_priv) = device
        .signed_prekeys
        .last()
        .ok_or_else(|| Fail("no signed prekey".into()))?;
    let spk = x25519_pub(spk_priv)?;
    out.extend_from_slice(&spk_id.to_be_bytes());
    out.extend_from_slice(&spk);
    out.extend_from_slice(&sign(seed, L_SIG_SPK, &[&spk_id.to_be_bytes(), &spk]));
    match device.one_time_prekeys.first() {
        Some((id, private)) => {
            out.push(1);
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&x25519_pub(private)?);
        }
        None => out.push(0),
    }
    let (kind, (kem_id, kem_seed)) = match device.one_time_kem.first() {
        Some(k) => (1u8, k),
        None => (
            0u8,
            device
                .last_resort_kem
                .last()
                .ok_or_else(|| Fail("no last-resort ML-KEM prekey".into()))?,
        ),
    };
    let (ek, _) = hazmat::mlkem768_generate(kem_seed);
    out.push(kind);
    out.extend_from_slice(&kem_id.to_be_bytes());
    out.extend_from_slice(&ek[..]);
    out.extend_from_slice(&sign(
        seed,
        L_SIG_KEM,
        &[&[kind], &kem_id.to_be_bytes(), &ek[..]],
    ));
    Ok(out)
}

/// The fields of an encoded bundle (framing only, PROTOCOL.md 5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// Public identity (128 bytes).
    pub identity: Vec<u8>,
    /// Signed prekey id.
    pub spk_id: u32,
    /// Signed prekey.
    pub spk: [u8; 32],
    /// One-time prekey.
    pub opk: Option<(u32, [u8; 32])>,
    /// ML-KEM kind byte.
    pub kem_kind: u8,
    /// ML-KEM prekey id.
    pub kem_id: u32,
    /// ML-KEM encapsulation key.
    pub kem: [u8; 1184],
}

impl Bundle {
    /// Decodes the framing of a bundle.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let mut r = crate::blob::Reader::new(bytes);
        if r.u8()? != 1 || r.u8()? != 1 {
            fail!("not a v1 bundle");
        }
        let identity = r.take(128)?.to_vec();
        let spk_id = r.u32()?;
        let spk = r.array()?;
        r.take(64)?;
        let opk = if r.flag()? {
            Some((r.u32()?, r.array()?))
        } else {
            None
        };
        let kem_kind = r.u8()?;
        let kem_id = r.u32()?;
        let kem = r.array()?;
        r.take(64)?;
        r.finish()?;
        Ok(Self {
            identity,
            spk_id,
            spk,
            opk,
            kem_kind,
            kem_id,
            kem,
        })
    }

    fn signing(&self) -> Result<[u8; 32]> {
        array(slice(&self.identity, 0..32, "signing key")?, "signing key")
    }

    fn dh(&self) -> Result<[u8; 32]> {
        array(slice(&self.identity, 32..64, "dh key")?, "dh key")
    }
}

/// The fields of an initial-message prefix (PROTOCOL.md 6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    /// The prefix bytes.
    pub bytes: Vec<u8>,
    /// Initiator public identity.
    pub initiator: Vec<u8>,
    /// Responder signing key.
    pub responder_signing: [u8; 32],
    /// Responder DH key.
    pub responder_dh: [u8; 32],
    /// Signed prekey id.
    pub spk_id: u32,
    /// One-time prekey id.
    pub opk_id: Option<u32>,
    /// ML-KEM kind.
    pub kem_kind: u8,
    /// ML-KEM prekey id.
    pub kem_id: u32,
    /// Ephemeral public key.
    pub ephemeral: [u8; 32],
    /// ML-KEM ciphertext.
    pub ciphertext: [u8; 1088],
}

impl Prefix {
    /// Decodes the prefix at the front of an initial message.
    pub fn parse(message: &[u8]) -> Result<Self> {
        let mut r = crate::blob::Reader::new(message);
        if r.u8()? != 1 || r.u8()? != 2 {
            fail!("not an initial message");
        }
        let initiator = r.take(128)?.to_vec();
        let responder_signing = r.array()?;
        let responder_dh = r.array()?;
        let spk_id = r.u32()?;
        let opk_id = if r.flag()? { Some(r.u32()?) } else { None };
        let kem_kind = r.u8()?;
        let kem_id = r.u32()?;
        let ephemeral = r.array()?;
        let ciphertext = r.array()?;
        let bytes = slice(message, 0..r.offset(), "prefix")?.to_vec();
        Ok(Self {
            bytes,
            initiator,
            responder_signing,
            responder_dh,
            spk_id,
            opk_id,
            kem_kind,
            kem_id,
            ephemeral,
            ciphertext,
        })
    }
}

/// Public inputs of `derive` (PROTOCOL.md 6.3) beyond the secrets.
struct Transcript<'a> {
    prefix: &'a [u8],
    spk: &'a [u8; 32],
    opk: Option<[u8; 32]>,
    kem: &'a [u8],
    initiator_keys: &'a [u8],
    responder_signing: &'a [u8; 32],
    responder_dh: &'a [u8; 32],
}

fn pqxdh_derive(
    t: &Transcript<'_>,
    dhs: &[[u8; 32]],
    ss: &[u8; 32],
    ephemeral: (Option<&[u8; 32]>, &[u8; 32], Option<&[u8; 32]>),
    ciphertext: &[u8],
) -> Result<Pqxdh> {
    let opk: &[u8] = t.opk.as_ref().map_or(&[], |k| &k[..]);
    let th = hazmat::sha256(&[L_TRANSCRIPT, t.prefix, t.spk, opk, t.kem]);
    let mut ikm = vec![0xffu8; 32];
    for d in dhs {
        ikm.extend_from_slice(d);
    }
    ikm.extend_from_slice(ss);
    let prk = hazmat::hkdf_extract(&[0u8; 32], &ikm);
    let mut info = L_PQXDH_KDF.to_vec();
    info.extend_from_slice(&th);
    let mut okm = [0u8; 128];
    hazmat::hkdf_expand(prk.as_slice(), &info, &mut okm)?;
    let mut ad = slice(t.initiator_keys, 0..64, "initiator keys")?.to_vec();
    ad.extend_from_slice(t.responder_signing);
    ad.extend_from_slice(t.responder_dh);
    ad.extend_from_slice(&th);
    let part = |i: usize| slice(&okm, i * 32..(i + 1) * 32, "okm").map(hex);
    let [dh1, dh2, dh3] = [0, 1, 2].map(|i| dhs.get(i).map(|d| hex(d)).unwrap_or_default());
    Ok(Pqxdh {
        ephemeral_private: ephemeral.0.map(|k| hex(k)),
        ephemeral_public: hex(ephemeral.1),
        kem_m: ephemeral.2.map(|m| hex(m)),
        dh1,
        dh2,
        dh3,
        dh4: dhs.get(3).map(|d| hex(d)),
        kem_ciphertext: hex(ciphertext),
        kem_shared_secret: hex(ss),
        prefix: hex(t.prefix),
        transcript_hash: hex(&th),
        ikm: hex(&ikm),
        prk: hex(prk.as_slice()),
        okm: hex(&okm),
        root_key: part(0)?,
        initiator_header_key: part(1)?,
        responder_header_key: part(2)?,
        pq_reserve: part(3)?,
        ad: hex(&ad),
        setup_id: hex(&hazmat::sha256(&[t.prefix])),
    })
}

/// The initiator's PQXDH (PROTOCOL.md 6.3) from its device blob, the bundle and the two draws
/// of `initiate`.
pub fn pqxdh_initiator(device: &DeviceBlob, bundle: &[u8], draws: &[Vec<u8>]) -> Result<Pqxdh> {
    let b = Bundle::parse(bundle)?;
    let [ek_draw, m_draw] = draws else {
        fail!("initiate draws {} strings, expected 2", draws.len());
    };
    let ek_priv: [u8; 32] = array(ek_draw, "ephemeral key")?;
    let m: [u8; 32] = array(m_draw, "m")?;
    let ek_pub = x25519_pub(&ek_priv)?;
    let (b_signing, b_dh) = (b.signing()?, b.dh()?);
    let mut dhs = vec![
        dh(&device.dh_private, &b.spk)?,
        dh(&ek_priv, &b_dh)?,
        dh(&ek_priv, &b.spk)?,
    ];
    if let Some((_, opk)) = &b.opk {
        dhs.push(dh(&ek_priv, opk)?);
    }
    let (ct, ss) = hazmat::mlkem768_encapsulate(&b.kem, &m)?;
    let initiator = public_identity(&device.signing_seed, &device.dh_private)?;
    let mut prefix = vec![1u8, 2];
    prefix.extend_from_slice(&initiator);
    prefix.extend_from_slice(&b_signing);
    prefix.extend_from_slice(&b_dh);
    prefix.extend_from_slice(&b.spk_id.to_be_bytes());
    match b.opk {
        Some((id, _)) => {
            prefix.push(1);
            prefix.extend_from_slice(&id.to_be_bytes());
        }
        None => prefix.push(0),
    }
    prefix.push(b.kem_kind);
    prefix.extend_from_slice(&b.kem_id.to_be_bytes());
    prefix.extend_from_slice(&ek_pub);
    prefix.extend_from_slice(&ct[..]);
    pqxdh_derive(
        &Transcript {
            prefix: &prefix,
            spk: &b.spk,
            opk: b.opk.map(|(_, k)| k),
            kem: &b.kem,
            initiator_keys: &initiator,
            responder_signing: &b_signing,
            responder_dh: &b_dh,
        },
        &dhs,
        &ss,
        (Some(&ek_priv), &ek_pub, Some(&m)),
        &ct[..],
    )
}

/// The responder's PQXDH (PROTOCOL.md 6.4 steps 3–9) from its device blob and the initial
/// message.
pub fn pqxdh_responder(device: &DeviceBlob, message: &[u8]) -> Result<Pqxdh> {
    let p = Prefix::parse(message)?;
    let (_, spk_priv) = device
        .signed_prekeys
        .iter()
        .find(|(id, _)| *id == p.spk_id)
        .ok_or_else(|| Fail("signed prekey not held".into()))?;
    let opk_priv = match p.opk_id {
        Some(id) => Some(
            device
                .one_time_prekeys
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, k)| *k)
                .ok_or_else(|| Fail("one-time prekey not held".into()))?,
        ),
        None => None,
    };
    let kem_list = if p.kem_kind == 1 {
        &device.one_time_kem
    } else {
        &device.last_resort_kem
    };
    let (_, kem_seed) = kem_list
        .iter()
        .find(|(id, _)| *id == p.kem_id)
        .ok_or_else(|| Fail("ML-KEM prekey not held".into()))?;
    let (ek, dk) = hazmat::mlkem768_generate(kem_seed);
    let initiator_dh: [u8; 32] = array(slice(&p.initiator, 32..64, "IK_I.dh")?, "IK_I.dh")?;
    let mut dhs = vec![
        dh(spk_priv, &initiator_dh)?,
        dh(&device.dh_private, &p.ephemeral)?,
        dh(spk_priv, &p.ephemeral)?,
    ];
    let opk = match &opk_priv {
        Some(k) => {
            dhs.push(dh(k, &p.ephemeral)?);
            Some(x25519_pub(k)?)
        }
        None => None,
    };
    let ss = hazmat::mlkem768_decapsulate(&dk, &p.ciphertext);
    pqxdh_derive(
        &Transcript {
            prefix: &p.bytes,
            spk: &x25519_pub(spk_priv)?,
            opk,
            kem: &ek[..],
            initiator_keys: &p.initiator,
            responder_signing: &hazmat::ed25519_public_key(&device.signing_seed),
            responder_dh: &x25519_pub(&device.dh_private)?,
        },
        &dhs,
        &ss,
        (None, &p.ephemeral, None),
        &p.ciphertext,
    )
}

/// An `encrypt` (PROTOCOL.md 7.5) from the session blob and the step's draws: the wire
/// message and its intermediates.
pub fn encrypt(
    s: &SessionBlob,
    draws: &[Vec<u8>],
    content_type: u8,
    ttl: u32,
    payload: &[u8],
    now: u64,
) -> Result<(Vec<u8>, EncryptSteps)> {
    let none = || Fail("state lacks a key the encrypt needs".into());
    let (step, ck, hk, ratchet_pub, pn, n, r) = if s.pending {
        let [key_draw, r] = draws else {
            fail!(
                "a pending encrypt draws 2 strings, recorded {}",
                draws.len()
            );
        };
        let private: [u8; 32] = array(key_draw, "ratchet key")?;
        let public = x25519_pub(&private)?;
        let shared = dh(&private, &s.dhr.ok_or_else(none)?)?;
        let (rk, ck, nhk) = kdf_rk(&s.rk, &shared)?;
        let step = SendRatchetStep {
            ratchet_private: hex(&private),
            ratchet_public: hex(&public),
            dh: hex(&shared),
            root_key: hex(&rk),
            chain_key: hex(&ck),
            next_header_key: hex(&nhk),
        };
        (Some(step), ck, s.nhks, public, s.ns, 0, r)
    } else {
        let [r] = draws else {
            fail!("an encrypt draws 1 string, recorded {}", draws.len());
        };
        let public = x25519_pub(&s.dhs.ok_or_else(none)?)?;
        (
            None,
            s.cks.ok_or_else(none)?,
            s.hks.ok_or_else(none)?,
            public,
            s.pn,
            s.ns,
            r,
        )
    };
    if r.len() != 16 {
        fail!("r is {} bytes", r.len());
    }
    let (mk, ck_next) = kdf_ck(&ck)?;
    let mut clear = vec![1u8, 3];
    clear.extend_from_slice(r);
    clear.push(57);
    let mut header = ratchet_pub.to_vec();
    header.extend_from_slice(&pn.to_be_bytes());
    header.extend_from_slice(&n.to_be_bytes());
    header.push(0);
    let (hkey, hnonce) = (header_aead_key(&hk)?, nonce(r)?);
    let mut header_aad = s.ad.clone();
    header_aad.extend_from_slice(&clear);
    let sealed_header = hazmat::aes256gcm_seal(&hkey, &hnonce, &header_aad, &header)?;
    let body = body_plaintext(content_type, now, ttl, payload);
    let (bkey, bnonce) = (mk, hnonce);
    let mut body_aad = header_aad.clone();
    body_aad.extend_from_slice(&sealed_header);
    let sealed_body = hazmat::aes256gcm_seal(&bkey, &bnonce, &body_aad, &body)?;
    let mut wire = s.initial_prefix.clone().unwrap_or_default();
    wire.extend_from_slice(&clear);
    wire.extend_from_slice(&sealed_header);
    wire.extend_from_slice(&sealed_body);
    Ok((
        wire,
        EncryptSteps {
            ratchet_step: step,
            chain_key: hex(&ck),
            message_key: hex(&mk),
            next_chain_key: hex(&ck_next),
            header_key: hex(&hk),
            r: hex(r),
            pn,
            n,
            header_plaintext: hex(&header),
            header_aad: hex(&header_aad),
            header_aead_key: hex(&hkey),
            header_nonce: hex(&hnonce),
            body_plaintext: hex(&body),
            body_aad: hex(&body_aad),
            body_aead_key: hex(&bkey),
            body_nonce: hex(&bnonce),
        },
    ))
}

/// Length of the initial-message prefix at the front of `message` (0 for a ratchet message).
pub fn prefix_len(message: &[u8]) -> Result<usize> {
    if message.get(1) == Some(&2) {
        Ok(Prefix::parse(message)?.bytes.len())
    } else {
        Ok(0)
    }
}

fn walk(ck: &[u8; 32], from: u32, until: u32) -> Result<(Vec<NumberedKey>, [u8; 32], [u8; 32])> {
    let mut keys = Vec::new();
    let mut ck = *ck;
    for n in from..until {
        let (mk, next) = kdf_ck(&ck)?;
        keys.push(NumberedKey {
            n,
            message_key: hex(&mk),
        });
        ck = next;
    }
    let (mk, next) = kdf_ck(&ck)?;
    Ok((keys, mk, next))
}

/// A successful `decrypt` (PROTOCOL.md 7.7) of `message` (an initial message's prefix is
/// skipped) by the session blob: which header key opened it and every key derived.
pub fn decrypt(s: &SessionBlob, message: &[u8]) -> Result<DecryptSteps> {
    let m = message.get(prefix_len(message)?..).unwrap_or_default();
    let r = slice(m, 2..18, "r")?;
    let hlen = usize::from(*m.get(18).ok_or_else(|| Fail("short message".into()))?);
    let clear = slice(m, 0..19, "clear")?;
    let sealed_header = slice(m, 19..19 + hlen, "header")?;
    let head = slice(m, 0..19 + hlen, "head")?;
    let sealed_body = slice(m, 19 + hlen..m.len(), "body")?;

    let mut candidates: Vec<(&str, Option<u32>, [u8; 32])> = Vec::new();
    if let Some(hkr) = s.hkr {
        candidates.push(("current", None, hkr));
    }
    if s.hkr != Some(s.nhkr) {
        candidates.push(("next", None, s.nhkr));
    }
    for (i, chain) in s.skipped.iter().enumerate() {
        if !candidates.iter().any(|(_, _, k)| *k == chain.header_key) {
            candidates.push(("skipped", Some(i as u32), chain.header_key));
        }
    }
    let mut header_aad = s.ad.clone();
    header_aad.extend_from_slice(clear);
    let mut found = None;
    for (name, index, key) in candidates {
        let (hkey, hnonce) = (header_aead_key(&key)?, nonce(r)?);
        if let Ok(plain) = hazmat::aes256gcm_open(&hkey, &hnonce, &header_aad, sealed_header) {
            let e = usize::from(*plain.get(40).unwrap_or(&0xff));
            if e <= 64 && plain.len() == 41 + e {
                found = Some((name, index, key, hkey, hnonce, plain.to_vec()));
                break;
            }
        }
    }
    let Some((name, index, key, hkey, hnonce, header)) = found else {
        fail!("no candidate header key opens the header");
    };
    let ratchet_key: [u8; 32] = array(slice(&header, 0..32, "dh")?, "dh")?;
    let pn = u32::from_be_bytes(array(slice(&header, 32..36, "pn")?, "pn")?);
    let n = u32::from_be_bytes(array(slice(&header, 36..40, "n")?, "n")?);

    let stored = |hk: &[u8; 32], n: u32| -> Result<[u8; 32]> {
        s.skipped
            .iter()
            .find(|c| c.header_key == *hk)
            .and_then(|c| c.keys.iter().find(|k| k.n == n))
            .map(|k| k.mk)
            .ok_or_else(|| Fail(format!("skipped key {n} not stored")))
    };
    let mut closed_chain_keys = Vec::new();
    let mut ratchet_step = None;
    let mut skipped_keys = Vec::new();
    let mut next_chain_key = None;
    let mk = match name {
        "current" if n < s.nr => stored(&key, n)?,
        "current" => {
            let ckr = s.ckr.ok_or_else(|| Fail("no CKr".into()))?;
            let (keys, mk, next) = walk(&ckr, s.nr, n)?;
            skipped_keys = keys;
            next_chain_key = Some(hex(&next));
            mk
        }
        "next" => {
            if let Some(ckr) = s.ckr
                && pn > s.nr
            {
                let (mut keys, last, _) = walk(&ckr, s.nr, pn - 1)?;
                keys.push(NumberedKey {
                    n: pn - 1,
                    message_key: hex(&last),
                });
                closed_chain_keys = keys;
            }
            let dhs = s.dhs.ok_or_else(|| Fail("no DHs".into()))?;
            let shared = dh(&dhs, &ratchet_key)?;
            let (rk, ck, nhk) = kdf_rk(&s.rk, &shared)?;
            ratchet_step = Some(ReceiveRatchetStep {
                dh: hex(&shared),
                root_key: hex(&rk),
                chain_key: hex(&ck),
                next_header_key: hex(&nhk),
            });
            let (keys, mk, next) = walk(&ck, 0, n)?;
            skipped_keys = keys;
            next_chain_key = Some(hex(&next));
            mk
        }
        _ => stored(&key, n)?,
    };
    let (bkey, bnonce) = (mk, nonce(r)?);
    let mut body_aad = s.ad.clone();
    body_aad.extend_from_slice(head);
    let body = hazmat::aes256gcm_open(&bkey, &bnonce, &body_aad, sealed_body)
        .map_err(|_| Fail("body does not open under the derived message key".into()))?;
    Ok(DecryptSteps {
        candidate: name.to_string(),
        skipped_chain: index,
        header_key: hex(&key),
        header_aead_key: hex(&hkey),
        header_nonce: hex(&hnonce),
        header_plaintext: hex(&header),
        pn,
        n,
        closed_chain_keys,
        ratchet_step,
        skipped_keys,
        message_key: hex(&mk),
        next_chain_key,
        body_aead_key: hex(&bkey),
        body_nonce: hex(&bnonce),
        body_plaintext: hex(&body),
    })
}

/// The responder's fresh session (PROTOCOL.md 7.4, `RatchetInitBobHE`) after accepting the
/// prefix of `message` with the PQXDH outputs `p`.
pub fn responder_session(device: &DeviceBlob, message: &[u8], p: &Pqxdh) -> Result<SessionBlob> {
    let prefix = Prefix::parse(message)?;
    let (_, spk_priv) = device
        .signed_prekeys
        .iter()
        .find(|(id, _)| *id == prefix.spk_id)
        .ok_or_else(|| Fail("signed prekey not held".into()))?;
    let key = |h: &str| -> Result<[u8; 32]> { array(&crate::unhex(h)?, "key") };
    Ok(SessionBlob {
        initiator: false,
        ad: crate::unhex(&p.ad)?,
        setup_id: key(&p.setup_id)?,
        initial_prefix: None,
        pq_reserve: key(&p.pq_reserve)?,
        dhs: Some(*spk_priv),
        dhr: None,
        rk: key(&p.root_key)?,
        cks: None,
        ckr: None,
        hks: None,
        hkr: None,
        nhks: key(&p.responder_header_key)?,
        nhkr: key(&p.initiator_header_key)?,
        ns: 0,
        nr: 0,
        pn: 0,
        pending: false,
        skipped: Vec::new(),
    })
}
