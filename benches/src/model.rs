//! What is measured and how each protocol operation's limit is computed.
//!
//! The limit of an operation is the sum of exactly the primitive calls that operation makes
//! (docs/PROTOCOL.md; `target-impl/src/session.rs`, `pqxdh.rs`, `prekeys.rs`, `device.rs`),
//! each priced by its own benchmark in the `limit` group, which calls the `hazmat` functions
//! with the lengths the protocol uses. Everything the protocol does beyond those calls
//! (framing, copies, allocation, state bookkeeping) is what `ours / limit` measures.
//!
//! The key schedule (docs/PROTOCOL.md 7.3) sets up one AES-256-GCM key per header key, once,
//! when the header key is made (`HEK(hk) = Expand(hk, L_HEADER_KEY, 32)`, then
//! `AeadKey::new`), and the message key is the body key: so a message costs one AES-GCM key
//! setup (its body) and no HKDF call, and header seals and opens use a key already set up.
//! The AEAD benchmarks are therefore split into the key setup (`aes256gcm_key_setup`) and the
//! seal or open under a set-up key (`aes256gcm_seal`, `aes256gcm_open`, `…_header`), each the
//! `hazmat` call the protocol makes.
//!
//! One shortcut of the implementation makes it cheaper than the sum of the public calls, so
//! `ours / limit` can come out below 1 for it: `KDF_CK` shares one HMAC key setup between its
//! two HMACs. The limit still counts the full calls: a second implementation built from
//! PROTOCOL.md would make exactly those.

use target_impl::hazmat::{
    AEAD_TAG_LEN, HASH_LEN, MLKEM_PUBLIC_KEY_LEN, MLKEM_SHARED_SECRET_LEN, X25519_LEN,
};
use target_impl::{BODY_PREAMBLE_LEN, INITIAL_PREFIX_LEN_WITHOUT_OPK, RANDOM_LEN, padded_len};

/// Payload sizes of the message benchmarks (100 B, 1 KiB, 16 KiB).
pub const PAYLOAD_SIZES: [usize; 3] = [100, 1024, 16 * 1024];
/// The large message: 1 MiB.
pub const BIG_PAYLOAD: usize = 1 << 20;
/// AES-256-GCM sizes the issue asks for as headline primitives.
pub const AEAD_HEADLINE_SIZES: [usize; 4] = [64, 1024, 16 * 1024, 1 << 20];
/// Payload of the first message of a session setup and of the out-of-order runs.
pub const SMALL_PAYLOAD: usize = 100;
/// Out of order: deliver message `skip + 1` first, then the `skip` messages before it.
pub const SKIPS: [u32; 2] = [10, 100];
/// Payload of the Megolm (group) reference.
pub const MEGOLM_PAYLOAD: usize = 1024;

/// Header plaintext: ratchet key (32), PN (4), N (4), extension length (1) (session.rs
/// `HEADER_BASE_LEN`; version 1 sends no extension).
pub const HEADER_PLAINTEXT_LEN: usize = X25519_LEN + 4 + 4 + 1;
/// Session associated data: four identity keys and the transcript hash (pqxdh.rs `AD_LEN`).
pub const SESSION_AD_LEN: usize = 5 * 32;
/// Clear bytes of a ratchet message: version, type, r, header ciphertext length.
pub const CLEAR_LEN: usize = 2 + RANDOM_LEN + 1;
/// AAD of a header seal/open: session AD ‖ clear bytes.
pub const HEADER_AAD_LEN: usize = SESSION_AD_LEN + CLEAR_LEN;
/// AAD of a body seal/open: session AD ‖ clear bytes ‖ encrypted header.
pub const BODY_AAD_LEN: usize = HEADER_AAD_LEN + HEADER_PLAINTEXT_LEN + AEAD_TAG_LEN;
/// HKDF-Expand info of a header key's AEAD key: `"ti-v1 header key\0"`.
pub const HEADER_KEY_INFO_LEN: usize = 17;
/// Output of that expand: the AES-256-GCM key `HEK(hk)`.
pub const HEADER_KEY_OKM_LEN: usize = 32;
/// Header keys a restored session sets up: the benchmarked session (Bob after his reply and
/// Alice's answer, `fixtures.rs` `Pair::new`) holds `HKs`, `HKr`, `NHKs` and `NHKr` and no
/// skipped chain.
pub const RESTORED_HEADER_KEYS: u32 = 4;
/// HKDF-Expand info of `KDF_RK`: `"ti-v1 root\0"`.
pub const ROOT_INFO_LEN: usize = 11;
/// Output of `KDF_RK`'s expand: root key, chain key, next header key.
pub const ROOT_OKM_LEN: usize = 96;
/// HKDF-Expand info of PQXDH: `"ti-v1 pqxdh kdf\0" ‖ TH`.
pub const PQXDH_INFO_LEN: usize = 16 + HASH_LEN;
/// Output of PQXDH's expand: root key, two header keys, the post-quantum reserve.
pub const PQXDH_OKM_LEN: usize = 128;
/// Ed25519 message of the identity signature: label (22) ‖ signing key ‖ DH key.
pub const SIG_IDENTITY_LEN: usize = 22 + 32 + 32;
/// Ed25519 message of a signed prekey: label (24) ‖ signing key ‖ id ‖ key.
pub const SIG_SIGNED_PREKEY_LEN: usize = 24 + 32 + 4 + 32;
/// Ed25519 message of an ML-KEM prekey: label (21) ‖ signing key ‖ kind ‖ id ‖ key.
pub const SIG_KEM_PREKEY_LEN: usize = 21 + 32 + 1 + 4 + MLKEM_PUBLIC_KEY_LEN;

/// Padded body length of a payload (target-impl's own rule).
pub fn body_len(payload: usize) -> usize {
    padded_len(BODY_PREAMBLE_LEN + payload)
}

/// PQXDH initial-message prefix length.
pub fn prefix_len(one_time_prekey: bool) -> usize {
    INITIAL_PREFIX_LEN_WITHOUT_OPK + if one_time_prekey { 4 } else { 0 }
}

/// SHA-256 input of the transcript hash TH: label (23) ‖ prefix ‖ signed prekey ‖ [one-time
/// prekey] ‖ ML-KEM prekey.
pub fn transcript_len(one_time_prekey: bool) -> usize {
    23 + prefix_len(one_time_prekey)
        + X25519_LEN
        + if one_time_prekey { X25519_LEN } else { 0 }
        + MLKEM_PUBLIC_KEY_LEN
}

/// PQXDH HKDF-Extract input: F (32 × 0xFF) ‖ DH1..DH3 [‖ DH4] ‖ ML-KEM shared secret.
pub fn pqxdh_ikm_len(one_time_prekey: bool) -> usize {
    32 + X25519_LEN * dh_count(one_time_prekey) + MLKEM_SHARED_SECRET_LEN
}

/// DHs of PQXDH on each side: 3, or 4 with a one-time X25519 prekey.
pub fn dh_count(one_time_prekey: bool) -> usize {
    if one_time_prekey { 4 } else { 3 }
}

/// Every AES-256-GCM body length benchmarked: the headline sizes and the padded body
/// of every payload size the protocol benchmarks use.
pub fn aead_sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = AEAD_HEADLINE_SIZES
        .into_iter()
        .chain(PAYLOAD_SIZES.into_iter().map(body_len))
        .chain([body_len(BIG_PAYLOAD), body_len(SMALL_PAYLOAD)])
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// Ids of the benchmarks, `group/function[/parameter]` as criterion names them.
pub mod id {
    /// A `limit` group id.
    pub fn limit(function: &str, param: Option<usize>) -> String {
        join("limit", function, param)
    }
    /// An `ours` group id.
    pub fn ours(function: &str, param: Option<usize>) -> String {
        join("ours", function, param)
    }
    /// A `peer` group id.
    pub fn peer(function: &str, param: Option<usize>) -> String {
        join("peer", function, param)
    }
    fn join(group: &str, function: &str, param: Option<usize>) -> String {
        match param {
            Some(p) => format!("{group}/{function}/{p}"),
            None => format!("{group}/{function}"),
        }
    }
    /// `one_time` / `no_one_time`: the PQXDH variant parameter.
    pub fn variant(one_time_prekey: bool) -> &'static str {
        if one_time_prekey {
            "one_time"
        } else {
            "no_one_time"
        }
    }
}

/// A primitive call at one protocol length: one benchmark of the `limit` group, a `hazmat`
/// function called as the protocol calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    /// `AeadKey::new`: one AES-256-GCM key setup (a body's message key, or a header key's
    /// `HEK`), with its drop.
    AeadSetup,
    /// `AeadKey::seal_in_place` (key already set up) of a body of this many bytes, AAD
    /// [`BODY_AAD_LEN`].
    Seal(usize),
    /// `AeadKey::open_in_place` (key already set up) of a body of this many bytes, AAD
    /// [`BODY_AAD_LEN`].
    Open(usize),
    /// Seal of the 41-byte header under a set-up key, AAD [`HEADER_AAD_LEN`].
    SealHeader,
    /// Open of the 41-byte header under a set-up key, AAD [`HEADER_AAD_LEN`].
    OpenHeader,
    /// `hkdf_expand` of a 32-byte key with `info` bytes of info into `okm` bytes.
    Expand {
        /// Info length.
        info: usize,
        /// Output length.
        okm: usize,
    },
    /// `hkdf_extract` with a 32-byte salt over this many bytes.
    Extract(usize),
    /// `hmac_sha256` with a 32-byte key over a 1-byte input (one half of `KDF_CK`).
    Hmac,
    /// `sha256` over this many bytes.
    Sha256(usize),
    /// `X25519PrivateKey::new` of a fresh private key: key generation (the parse computes the
    /// public key; the protocol keeps every key pair parsed).
    Keygen,
    /// `x25519_agree` with a parsed private key.
    Dh,
    /// `ed25519_public_key`.
    EdPublic,
    /// `ed25519_sign` over this many bytes.
    Sign(usize),
    /// `ed25519_verify` (strict) over this many bytes.
    Verify(usize),
    /// `mlkem768_generate`.
    KemGenerate,
    /// `mlkem768_encapsulate` (validates the key, then encapsulates).
    KemEncapsulate,
    /// `mlkem768_decapsulate`.
    KemDecapsulate,
    /// `mlkem768_validate_public_key`.
    KemValidate,
}

impl Primitive {
    /// The benchmark id.
    pub fn id(self) -> String {
        use Primitive::*;
        match self {
            AeadSetup => id::limit("aes256gcm_key_setup", None),
            Seal(len) => id::limit("aes256gcm_seal", Some(len)),
            Open(len) => id::limit("aes256gcm_open", Some(len)),
            SealHeader => id::limit("aes256gcm_seal_header", Some(HEADER_PLAINTEXT_LEN)),
            OpenHeader => id::limit("aes256gcm_open_header", Some(HEADER_PLAINTEXT_LEN)),
            Expand { okm, .. } => id::limit("hkdf_expand", Some(okm)),
            Extract(len) => id::limit("hkdf_extract", Some(len)),
            Hmac => id::limit("hmac_sha256", Some(1)),
            Sha256(len) => id::limit("sha256", Some(len)),
            Keygen => id::limit("x25519_keygen", None),
            Dh => id::limit("x25519_dh", None),
            EdPublic => id::limit("ed25519_public_key", None),
            Sign(len) => id::limit("ed25519_sign", Some(len)),
            Verify(len) => id::limit("ed25519_verify", Some(len)),
            KemGenerate => id::limit("mlkem768_generate", None),
            KemEncapsulate => id::limit("mlkem768_encapsulate", None),
            KemDecapsulate => id::limit("mlkem768_decapsulate", None),
            KemValidate => id::limit("mlkem768_validate_public_key", None),
        }
    }

    /// Every primitive the `limit` group benchmarks, in its order.
    pub fn all() -> Vec<Primitive> {
        use Primitive::*;
        let mut all = Vec::new();
        for len in aead_sizes() {
            all.extend([Seal(len), Open(len)]);
        }
        all.extend([AeadSetup, SealHeader, OpenHeader]);
        all.extend([
            Expand {
                info: HEADER_KEY_INFO_LEN,
                okm: HEADER_KEY_OKM_LEN,
            },
            Expand {
                info: ROOT_INFO_LEN,
                okm: ROOT_OKM_LEN,
            },
            Expand {
                info: PQXDH_INFO_LEN,
                okm: PQXDH_OKM_LEN,
            },
            Extract(X25519_LEN),
            Extract(pqxdh_ikm_len(false)),
            Extract(pqxdh_ikm_len(true)),
            Hmac,
        ]);
        for otk in [false, true] {
            all.extend([Sha256(prefix_len(otk)), Sha256(transcript_len(otk))]);
        }
        all.extend([Keygen, Dh, EdPublic]);
        for len in [SIG_IDENTITY_LEN, SIG_SIGNED_PREKEY_LEN, SIG_KEM_PREKEY_LEN] {
            all.extend([Sign(len), Verify(len)]);
        }
        all.extend([KemGenerate, KemEncapsulate, KemDecapsulate, KemValidate]);
        all
    }
}

/// Shorthands for the primitive ids used in the formulas below.
mod prim {
    use super::*;

    pub(super) fn aead_setup() -> String {
        Primitive::AeadSetup.id()
    }
    pub(super) fn seal(len: usize) -> String {
        Primitive::Seal(len).id()
    }
    pub(super) fn open(len: usize) -> String {
        Primitive::Open(len).id()
    }
    pub(super) fn seal_header() -> String {
        Primitive::SealHeader.id()
    }
    pub(super) fn open_header() -> String {
        Primitive::OpenHeader.id()
    }
    pub(super) fn expand(okm: usize) -> String {
        let info = match okm {
            ROOT_OKM_LEN => ROOT_INFO_LEN,
            PQXDH_OKM_LEN => PQXDH_INFO_LEN,
            _ => HEADER_KEY_INFO_LEN,
        };
        Primitive::Expand { info, okm }.id()
    }
    pub(super) fn extract(ikm: usize) -> String {
        Primitive::Extract(ikm).id()
    }
    pub(super) fn hmac() -> String {
        Primitive::Hmac.id()
    }
    pub(super) fn sha256(len: usize) -> String {
        Primitive::Sha256(len).id()
    }
    pub(super) fn keygen() -> String {
        Primitive::Keygen.id()
    }
    pub(super) fn dh() -> String {
        Primitive::Dh.id()
    }
    pub(super) fn ed_public() -> String {
        Primitive::EdPublic.id()
    }
    pub(super) fn sign(len: usize) -> String {
        Primitive::Sign(len).id()
    }
    pub(super) fn verify(len: usize) -> String {
        Primitive::Verify(len).id()
    }
    pub(super) fn kem_generate() -> String {
        Primitive::KemGenerate.id()
    }
    pub(super) fn kem_encapsulate() -> String {
        Primitive::KemEncapsulate.id()
    }
    pub(super) fn kem_decapsulate() -> String {
        Primitive::KemDecapsulate.id()
    }
    pub(super) fn kem_validate() -> String {
        Primitive::KemValidate.id()
    }
}

/// A linear combination of benchmark medians: `Σ count × time(id)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sum(pub Vec<(String, u32)>);

impl Sum {
    /// One benchmark, once.
    pub fn one(id: String) -> Self {
        Self(vec![(id, 1)])
    }

    /// Adds `count` calls of `id`, merging with an existing term.
    pub fn add(mut self, id: String, count: u32) -> Self {
        match self.0.iter_mut().find(|(i, _)| *i == id) {
            Some((_, c)) => *c += count,
            None => self.0.push((id, count)),
        }
        self
    }

    /// Adds every term of `other`, `times` times.
    pub fn plus(mut self, other: &Sum, times: u32) -> Self {
        for (id, count) in &other.0 {
            self = self.add(id.clone(), count * times);
        }
        self
    }

    /// The formula as text: `2×limit/hmac_sha256/1 + …`.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(|(id, c)| {
                let short = id.strip_prefix("limit/").unwrap_or(id);
                if *c == 1 {
                    short.to_owned()
                } else {
                    format!("{c}×{short}")
                }
            })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// `KDF_CK` (session.rs `kdf_ck`): HMAC-SHA-256(ck, 0x01) → message key and
/// HMAC-SHA-256(ck, 0x02) → next chain key.
///
/// limit = 2 × hmac_sha256(32-byte key, 1 byte)
pub fn kdf_ck() -> Sum {
    Sum::default().add(prim::hmac(), 2)
}

/// A new header key's AES-256-GCM key, set up once (keys.rs `HeaderKey::new`):
/// `HEK(hk) = HKDF-Expand(hk, "ti-v1 header key\0", 32)`, then the key setup.
///
/// limit = hkdf_expand(hk, 17, 32) + aes256gcm key setup
pub fn header_key() -> Sum {
    Sum::default()
        .add(prim::expand(HEADER_KEY_OKM_LEN), 1)
        .add(prim::aead_setup(), 1)
}

/// `KDF_RK` (session.rs `kdf_rk`): HKDF-Extract(salt = root key, DH output) then
/// HKDF-Expand(·, "ti-v1 root\0", 96) → root key, chain key, next header key, whose AEAD key
/// is set up at once.
///
/// limit = hkdf_extract(32, 32) + hkdf_expand(·, 11, 96) + header key setup
pub fn kdf_rk() -> Sum {
    Sum::default()
        .add(prim::extract(X25519_LEN), 1)
        .add(prim::expand(ROOT_OKM_LEN), 1)
        .plus(&header_key(), 1)
}

/// Sending one message in an existing sending chain (session.rs `encrypt`, no DH step).
///
/// limit = KDF_CK
///       + aes256gcm_seal(41 B header, AAD 179)           (HEK(hk) set up with the chain)
///       + aes256gcm key setup (the message key) + aes256gcm_seal(padded body, AAD 236)
pub fn send(payload: usize) -> Sum {
    kdf_ck()
        .add(prim::seal_header(), 1)
        .add(prim::aead_setup(), 1)
        .add(prim::seal(body_len(payload)), 1)
}

/// Receiving one message in order (session.rs `open`) with `candidates` header keys tried.
/// Every candidate is always tried (trial decryption hides which one matched): in a
/// steady session those are the current and the next receiving header key, so 2; the
/// responder's first message has only the next one, so 1.
///
/// limit = candidates × aes256gcm_open(41 B header, AAD 179)   (each HEK set up with its chain)
///       + KDF_CK + aes256gcm key setup (the message key) + aes256gcm_open(padded body, AAD 236)
pub fn receive(payload: usize, candidates: u32) -> Sum {
    Sum::default()
        .add(prim::open_header(), candidates)
        .add(prim::aead_setup(), 1)
        .plus(&kdf_ck(), 1)
        .add(prim::open(body_len(payload)), 1)
}

/// Header keys tried per message in a steady session.
pub const STEADY_CANDIDATES: u32 = 2;

/// The sending half of a DH ratchet turn (session.rs `stage_send_step`, on the first
/// `encrypt` after receiving the peer's new ratchet key).
///
/// limit = x25519 key generation + x25519 + KDF_RK
pub fn send_step() -> Sum {
    Sum::default()
        .add(prim::keygen(), 1)
        .add(prim::dh(), 1)
        .plus(&kdf_rk(), 1)
}

/// The receiving half of a DH ratchet turn (session.rs `plan`, candidate `Next`).
///
/// limit = x25519 + KDF_RK
pub fn receive_step() -> Sum {
    Sum::default().add(prim::dh(), 1).plus(&kdf_rk(), 1)
}

/// The PQXDH key derivation both sides make (pqxdh.rs `derive`): the transcript hash TH, the
/// setup id SHA-256(prefix), HKDF-Extract(zero salt, F ‖ DHs ‖ ML-KEM secret) and
/// HKDF-Expand(·, "ti-v1 pqxdh kdf\0" ‖ TH, 128); the new session sets up the AEAD keys of
/// its two header keys (session.rs `Session::initiator`, `Session::responder`).
///
/// limit = sha256(TH input) + sha256(prefix) + hkdf_extract(32, ikm) + hkdf_expand(·, 48, 128)
///       + 2 × header key setup
pub fn pqxdh_derive(one_time_prekey: bool) -> Sum {
    Sum::default()
        .add(prim::sha256(transcript_len(one_time_prekey)), 1)
        .add(prim::sha256(prefix_len(one_time_prekey)), 1)
        .add(prim::extract(pqxdh_ikm_len(one_time_prekey)), 1)
        .add(prim::expand(PQXDH_OKM_LEN), 1)
        .plus(&header_key(), 2)
}

/// Initiator: PQXDH (pqxdh.rs `initiate`) and its first message (a DH step and a send).
///
/// limit = x25519 key generation (ephemeral) + (3 | 4) × x25519
///       + mlkem768_encapsulate (validate + encapsulate, as the code calls it)
///       + PQXDH derive + send step + send(payload)
pub fn pqxdh_initiator(one_time_prekey: bool, payload: usize) -> Sum {
    Sum::default()
        .add(prim::keygen(), 1)
        .add(prim::dh(), dh_count(one_time_prekey) as u32)
        .add(prim::kem_encapsulate(), 1)
        .plus(&pqxdh_derive(one_time_prekey), 1)
        .plus(&send_step(), 1)
        .plus(&send(payload), 1)
}

/// Responder: PQXDH (pqxdh.rs `respond`) and the first message, which authenticates it
/// (device.rs `accept`): one candidate header key, a receive step, the body.
///
/// limit = ed25519_verify(initiator identity, 86 B) + (3 | 4) × x25519 + mlkem768_decapsulate
///       + PQXDH derive + receive step + receive(payload, 1 candidate)
pub fn pqxdh_responder(one_time_prekey: bool, payload: usize) -> Sum {
    Sum::default()
        .add(prim::verify(SIG_IDENTITY_LEN), 1)
        .add(prim::dh(), dh_count(one_time_prekey) as u32)
        .add(prim::kem_decapsulate(), 1)
        .plus(&pqxdh_derive(one_time_prekey), 1)
        .plus(&receive_step(), 1)
        .plus(&receive(payload, 1), 1)
}

/// Bundle creation: a new device (identity, signed prekey, last-resort ML-KEM prekey) and its
/// encoded bundle (device.rs `generate`, identity.rs, prekeys.rs).
///
/// limit = ed25519_public_key + ed25519_sign(86) + ed25519_sign(92) + ed25519_sign(1242)
///       + 2 × x25519 key generation + mlkem768_generate
pub fn bundle_create() -> Sum {
    Sum::default()
        .add(prim::ed_public(), 1)
        .add(prim::sign(SIG_IDENTITY_LEN), 1)
        .add(prim::sign(SIG_SIGNED_PREKEY_LEN), 1)
        .add(prim::sign(SIG_KEM_PREKEY_LEN), 1)
        .add(prim::keygen(), 2)
        .add(prim::kem_generate(), 1)
}

/// Bundle import (prekeys.rs `verify`): three strict signature checks, then the FIPS 203
/// modulus check of the ML-KEM key.
///
/// limit = ed25519_verify(86) + ed25519_verify(92) + ed25519_verify(1242)
///       + mlkem768_validate_public_key
pub fn bundle_import() -> Sum {
    Sum::default()
        .add(prim::verify(SIG_IDENTITY_LEN), 1)
        .add(prim::verify(SIG_SIGNED_PREKEY_LEN), 1)
        .add(prim::verify(SIG_KEM_PREKEY_LEN), 1)
        .add(prim::kem_validate(), 1)
}

/// Session restore: recomputing the ratchet public key from its private key (keys.rs
/// `X25519Pair::from_private`) and setting up the AEAD key of every header key it holds
/// ([`RESTORED_HEADER_KEYS`] in the benchmarked session).
///
/// limit = x25519 key generation + 4 × header key setup
pub fn session_restore() -> Sum {
    Sum::one(prim::keygen()).plus(&header_key(), RESTORED_HEADER_KEYS)
}

/// Where an operation's row goes in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Bundles and PQXDH.
    Setup,
    /// Messages in a running session.
    Messages,
    /// Out-of-order delivery.
    OutOfOrder,
    /// State blobs.
    State,
    /// Peer-only reference rows.
    Reference,
}

impl Section {
    /// Every section in report order.
    pub const ALL: [Section; 5] = [
        Section::Setup,
        Section::Messages,
        Section::OutOfOrder,
        Section::State,
        Section::Reference,
    ];

    /// Heading in the report.
    pub fn title(self) -> &'static str {
        match self {
            Section::Setup => "Session setup",
            Section::Messages => "Messages",
            Section::OutOfOrder => "Out of order",
            Section::State => "State",
            Section::Reference => "Reference (peer only)",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Stable key in report.json.
    pub key: String,
    /// What the row measures, for people.
    pub title: String,
    /// A short name for the chart.
    pub label: String,
    /// Report section.
    pub section: Section,
    /// Our time: usually one benchmark, a sum for combined rows.
    pub ours: Option<Sum>,
    /// vodozemac doing the same job.
    pub peer: Option<Sum>,
    /// The primitives' limit.
    pub limit: Option<Sum>,
    /// Messages per operation (for messages/s); 0 when the operation sends none.
    pub messages: u64,
    /// Payload bytes per message (for bytes/s).
    pub payload: u64,
}

fn size_name(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// Every row of the report, in order.
pub fn operations() -> Vec<Operation> {
    let mut ops = Vec::new();
    let op = |key: String, label: String, title: String, section: Section| Operation {
        key,
        label,
        title,
        section,
        ours: None,
        peer: None,
        limit: None,
        messages: 0,
        payload: 0,
    };

    // Setup.
    ops.push(Operation {
        ours: Some(Sum::one(id::ours("bundle_create", None))),
        limit: Some(bundle_create()),
        ..op(
            "bundle_create".into(),
            "bundle creation".into(),
            "bundle creation (new device: identity, signed prekey, ML-KEM prekey; encode)".into(),
            Section::Setup,
        )
    });
    ops.push(Operation {
        ours: Some(Sum::one(id::ours("bundle_import", None))),
        limit: Some(bundle_import()),
        ..op(
            "bundle_import".into(),
            "bundle import".into(),
            "bundle import (decode, 3 signatures, ML-KEM key check)".into(),
            Section::Setup,
        )
    });
    let olm_out = Sum::one(id::peer("olm_outbound", None));
    let olm_in = Sum::one(id::peer("olm_inbound", None));
    for otk in [true, false] {
        let v = id::variant(otk);
        let short = if otk {
            "one-time prekeys"
        } else {
            "no one-time prekeys"
        };
        let with = if otk {
            "one-time X25519 + ML-KEM prekeys"
        } else {
            "no one-time X25519 prekey, last-resort ML-KEM prekey"
        };
        let init = Sum::one(id::ours(&format!("pqxdh_initiator_{v}"), None));
        let resp = Sum::one(id::ours(&format!("pqxdh_responder_{v}"), None));
        ops.push(Operation {
            ours: Some(init.clone()),
            peer: Some(olm_out.clone()),
            limit: Some(pqxdh_initiator(otk, SMALL_PAYLOAD)),
            messages: 1,
            payload: SMALL_PAYLOAD as u64,
            ..op(
                format!("pqxdh_initiator_{v}"),
                format!("PQXDH initiator + 1st message, {short}"),
                format!("PQXDH initiator + first message, {with} (peer: Olm outbound + encrypt)"),
                Section::Setup,
            )
        });
        ops.push(Operation {
            ours: Some(resp.clone()),
            peer: Some(olm_in.clone()),
            limit: Some(pqxdh_responder(otk, SMALL_PAYLOAD)),
            messages: 1,
            payload: SMALL_PAYLOAD as u64,
            ..op(
                format!("pqxdh_responder_{v}"),
                format!("PQXDH responder + 1st message, {short}"),
                format!("PQXDH responder + first message, {with} (peer: Olm inbound)"),
                Section::Setup,
            )
        });
        ops.push(Operation {
            ours: Some(init.plus(&resp, 1)),
            peer: Some(olm_out.clone().plus(&olm_in, 1)),
            limit: Some(
                pqxdh_initiator(otk, SMALL_PAYLOAD).plus(&pqxdh_responder(otk, SMALL_PAYLOAD), 1),
            ),
            messages: 1,
            payload: SMALL_PAYLOAD as u64,
            ..op(
                format!("pqxdh_total_{v}"),
                format!("PQXDH initiator + responder, {short}"),
                format!("PQXDH initiator + responder with the first message, {with}"),
                Section::Setup,
            )
        });
    }

    // Messages.
    for p in PAYLOAD_SIZES {
        let s = size_name(p);
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("encrypt", Some(p)))),
            peer: Some(Sum::one(id::peer("olm_encrypt", Some(p)))),
            limit: Some(send(p)),
            messages: 1,
            payload: p as u64,
            ..op(
                format!("encrypt/{p}"),
                format!("encrypt {s}"),
                format!("ratchet encrypt {s}"),
                Section::Messages,
            )
        });
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("decrypt", Some(p)))),
            peer: Some(Sum::one(id::peer("olm_decrypt", Some(p)))),
            limit: Some(receive(p, STEADY_CANDIDATES)),
            messages: 1,
            payload: p as u64,
            ..op(
                format!("decrypt/{p}"),
                format!("decrypt {s}"),
                format!("decrypt in order {s} (in place)"),
                Section::Messages,
            )
        });
    }
    for p in PAYLOAD_SIZES.into_iter().chain([BIG_PAYLOAD]) {
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("one_way", Some(p)))),
            peer: Some(Sum::one(id::peer("olm_one_way", Some(p)))),
            limit: Some(send(p).plus(&receive(p, STEADY_CANDIDATES), 1)),
            messages: 1,
            payload: p as u64,
            ..op(
                format!("one_way/{p}"),
                format!("one-way {} enc+dec", size_name(p)),
                format!("one-way {} encrypt+decrypt (no DH turn)", size_name(p)),
                Section::Messages,
            )
        });
    }
    for p in [1024, BIG_PAYLOAD] {
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("one_way_in_place", Some(p)))),
            peer: Some(Sum::one(id::peer("olm_one_way", Some(p)))),
            limit: Some(send(p).plus(&receive(p, STEADY_CANDIDATES), 1)),
            messages: 1,
            payload: p as u64,
            ..op(
                format!("one_way_in_place/{p}"),
                format!("in-place {} enc+dec", size_name(p)),
                format!(
                    "one-way {} on the in-place path: payload written into the outgoing buffer (the application's part, untimed), encrypt_in_place + decrypt_in_place",
                    size_name(p)
                ),
                Section::Messages,
            )
        });
    }
    for p in PAYLOAD_SIZES {
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("ping_pong", Some(p)))),
            peer: Some(Sum::one(id::peer("olm_ping_pong", Some(p)))),
            limit: Some(
                send_step()
                    .plus(&send(p), 1)
                    .plus(&receive_step(), 1)
                    .plus(&receive(p, STEADY_CANDIDATES), 1),
            ),
            messages: 1,
            payload: p as u64,
            ..op(
                format!("ping_pong/{p}"),
                format!("ping-pong {} enc+dec", size_name(p)),
                format!(
                    "ping-pong {} encrypt+decrypt (a DH turn every message)",
                    size_name(p)
                ),
                Section::Messages,
            )
        });
    }

    // Out of order.
    for skip in SKIPS {
        let n = skip + 1;
        ops.push(Operation {
            ours: Some(Sum::one(id::ours("out_of_order", Some(skip as usize)))),
            limit: Some(Sum::default().plus(&receive(SMALL_PAYLOAD, STEADY_CANDIDATES), n)),
            messages: u64::from(n),
            payload: SMALL_PAYLOAD as u64,
            ..op(
                format!("out_of_order/{skip}"),
                format!("out of order: {n} messages, {skip} skipped"),
                format!(
                    "decrypt message {n} first, then the {skip} it skipped ({} each, total)",
                    size_name(SMALL_PAYLOAD)
                ),
                Section::OutOfOrder,
            )
        });
        ops.push(Operation {
            ours: Some(Sum::default().add(id::ours("decrypt", Some(SMALL_PAYLOAD)), n)),
            limit: Some(Sum::default().plus(&receive(SMALL_PAYLOAD, STEADY_CANDIDATES), n)),
            messages: u64::from(n),
            payload: SMALL_PAYLOAD as u64,
            ..op(
                format!("in_order/{n}"),
                format!("in order: {n} messages"),
                format!(
                    "the same {n} messages in order ({n} × decrypt {})",
                    size_name(SMALL_PAYLOAD)
                ),
                Section::OutOfOrder,
            )
        });
    }

    // State.
    ops.push(Operation {
        ours: Some(Sum::one(id::ours("session_to_bytes", None))),
        ..op(
            "session_to_bytes".into(),
            "session serialize".into(),
            "session state serialize".into(),
            Section::State,
        )
    });
    ops.push(Operation {
        ours: Some(Sum::one(id::ours("session_from_bytes", None))),
        limit: Some(session_restore()),
        ..op(
            "session_from_bytes".into(),
            "session restore".into(),
            "session state restore".into(),
            Section::State,
        )
    });

    // Reference.
    ops.push(Operation {
        peer: Some(Sum::one(id::peer(
            "megolm_encrypt_decrypt",
            Some(MEGOLM_PAYLOAD),
        ))),
        messages: 1,
        payload: MEGOLM_PAYLOAD as u64,
        ..op(
            format!("megolm/{MEGOLM_PAYLOAD}"),
            format!("Megolm {} enc+dec (peer only)", size_name(MEGOLM_PAYLOAD)),
            format!(
                "Megolm group message {} encrypt+decrypt (ours: groups not yet built)",
                size_name(MEGOLM_PAYLOAD)
            ),
            Section::Reference,
        )
    });
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_matches_target_impl() {
        assert_eq!(HEADER_AAD_LEN, 179);
        assert_eq!(BODY_AAD_LEN, 236);
        assert_eq!(body_len(1024), 1088);
        assert_eq!(body_len(BIG_PAYLOAD), (1 << 20) + (1 << 15));
        assert_eq!(prefix_len(false), 1324);
        assert_eq!(transcript_len(true), 2599);
        assert_eq!(pqxdh_ikm_len(true), 192);
        assert_eq!(SIG_KEM_PREKEY_LEN, 1242);
    }

    /// The lengths the formulas assume are the lengths target-impl produces.
    #[test]
    fn geometry_matches_real_messages() {
        // A real clock: the replay floor starts at 0, so a reusable-only initial message dated 0
        // is refused (docs/PROTOCOL.md 6.4).
        const NOW: u64 = 1_700_000_000;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        use target_impl::{Device, Outgoing, PeerId, VerifiedBundle};

        let ratchet_len = |payload: usize| {
            CLEAR_LEN + HEADER_PLAINTEXT_LEN + AEAD_TAG_LEN + body_len(payload) + AEAD_TAG_LEN
        };
        for one_time in [false, true] {
            let mut rng = ChaCha20Rng::from_seed([5; 32]);
            let mut alice = Device::generate(&mut rng).unwrap();
            let mut bob = Device::generate(&mut rng).unwrap();
            if one_time {
                bob.add_one_time_prekeys(1, &mut rng).unwrap();
                bob.add_one_time_kem_prekeys(1, &mut rng).unwrap();
            }
            let bundle = VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
            let (to_alice, to_bob) = (PeerId::new("a").unwrap(), PeerId::new("b").unwrap());
            alice.initiate(&to_bob, &bundle, &mut rng).unwrap();
            fn send(payload: &[u8]) -> Outgoing<'_> {
                Outgoing {
                    content_type: 1,
                    ttl: 0,
                    payload,
                }
            }
            let first =
                alice
                    .session_mut(&to_bob)
                    .unwrap()
                    .encrypt(&send(&[1; 100]), NOW, &mut rng);
            let first = first.unwrap();
            assert_eq!(first.len(), prefix_len(one_time) + ratchet_len(100));
            bob.decrypt(&to_alice, &first, NOW).unwrap();
            for payload in PAYLOAD_SIZES {
                let reply = bob.session_mut(&to_alice).unwrap();
                let wire = reply
                    .encrypt(&send(&vec![2; payload]), 0, &mut rng)
                    .unwrap();
                assert_eq!(wire.len(), ratchet_len(payload));
            }
        }
    }

    #[test]
    fn one_way_formula_counts_every_call() {
        let f = send(1024).plus(&receive(1024, STEADY_CANDIDATES), 1);
        let count = |id: String| f.0.iter().find(|(i, _)| *i == id).map(|(_, c)| *c);
        assert_eq!(count(prim::hmac()), Some(4));
        // No HKDF per message; one AES-GCM key setup per body, none for headers.
        assert!(
            f.0.iter().all(|(id, _)| !id.contains("hkdf")),
            "{}",
            f.render()
        );
        assert_eq!(count(prim::aead_setup()), Some(2));
        assert_eq!(count(prim::seal_header()), Some(1));
        assert_eq!(count(prim::open_header()), Some(2));
        assert_eq!(count(prim::seal(1088)), Some(1));
        assert_eq!(count(prim::open(1088)), Some(1));
    }

    #[test]
    fn a_dh_turn_sets_up_one_header_key_per_side() {
        let f = send_step().plus(&receive_step(), 1);
        let count = |id: String| f.0.iter().find(|(i, _)| *i == id).map(|(_, c)| *c);
        assert_eq!(count(prim::expand(HEADER_KEY_OKM_LEN)), Some(2));
        assert_eq!(count(prim::aead_setup()), Some(2));
    }

    /// The restored session of the `session_from_bytes` benchmark holds
    /// [`RESTORED_HEADER_KEYS`] header keys: the fixture's exchange replayed here, and its blob
    /// read (docs/PROTOCOL.md 10.1).
    #[test]
    fn restored_session_holds_the_modelled_header_keys() {
        const NOW: u64 = 1_700_000_000;
        use rand_chacha::ChaCha20Rng;
        use rand_core::SeedableRng;
        use target_impl::{Device, Outgoing, PeerId, VerifiedBundle};

        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let mut alice = Device::generate(&mut rng).unwrap();
        let mut bob = Device::generate(&mut rng).unwrap();
        bob.add_one_time_prekeys(1, &mut rng).unwrap();
        bob.add_one_time_kem_prekeys(1, &mut rng).unwrap();
        let bundle = VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
        let (to_alice, to_bob) = (PeerId::new("a").unwrap(), PeerId::new("b").unwrap());
        alice.initiate(&to_bob, &bundle, &mut rng).unwrap();
        let hello = Outgoing {
            content_type: 1,
            ttl: 0,
            payload: &[1; 16],
        };
        let wire = alice
            .session_mut(&to_bob)
            .unwrap()
            .encrypt(&hello, NOW, &mut rng);
        bob.decrypt(&to_alice, &wire.unwrap(), NOW).unwrap();
        let wire = bob
            .session_mut(&to_alice)
            .unwrap()
            .encrypt(&hello, NOW, &mut rng);
        alice.decrypt(&to_bob, &wire.unwrap(), NOW).unwrap();
        let wire = alice
            .session_mut(&to_bob)
            .unwrap()
            .encrypt(&hello, NOW, &mut rng);
        bob.decrypt(&to_alice, &wire.unwrap(), NOW).unwrap();
        let blob = bob.session(&to_alice).unwrap().to_bytes();

        // 10.1: header, AD, setup_id, prefix flag (a responder holds none), PQ_RESERVE.
        let mut at = 4 + 160 + 32;
        assert_eq!(blob[at], 0);
        at += 1 + 32;
        let optional = |at: &mut usize| {
            let present = blob[*at] == 1;
            *at += 1 + if present { 32 } else { 0 };
            present
        };
        optional(&mut at); // DHs
        optional(&mut at); // DHr
        at += 32; // RK
        optional(&mut at); // CKs
        optional(&mut at); // CKr
        let hks = optional(&mut at);
        let hkr = optional(&mut at);
        at += 32 + 32 + 4 + 4 + 4 + 1; // NHKs, NHKr, Ns, Nr, PN, pending
        let chains = u32::from(blob[at]);
        let header_keys = u32::from(hks) + u32::from(hkr) + 2 + chains;
        assert_eq!(header_keys, RESTORED_HEADER_KEYS);
    }

    #[test]
    fn every_limit_term_is_benchmarked() {
        let benched: Vec<String> = Primitive::all().into_iter().map(Primitive::id).collect();
        for op in operations() {
            for (id, _) in op.limit.iter().flat_map(|s| s.0.iter()) {
                assert!(benched.contains(id), "{}: {id} is not benchmarked", op.key);
            }
        }
    }
}
