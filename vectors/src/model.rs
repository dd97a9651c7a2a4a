//! The shape of the vector files under `vectors/data/` (JSON Schema:
//! `vectors/schema/protocol-vectors.schema.json`; documented in `vectors/README.md`). Every
//! byte string is lowercase hex; every integer is a JSON number (the `u64` times are kept below
//! 2^53, so every JSON reader holds them exactly).

use serde::{Deserialize, Serialize};

/// One vector file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// Relative path of the JSON Schema this file follows.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// What the file covers.
    pub title: String,
    /// Where the data comes from (generator, seeds) and what it is checked against.
    pub source: String,
    /// Protocol and document version the vectors follow.
    pub protocol: String,
    /// The vectors.
    pub vectors: Vec<Vector>,
}

/// One vector: a script of steps, run in order from the states it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// Unique id within the file.
    pub id: String,
    /// What the vector shows.
    pub description: String,
    /// `"ok"` for a positive vector; for a negative vector the error class its last step must
    /// produce.
    pub expected: String,
    /// For a negative vector: what was changed relative to a genuine input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<String>,
    /// The ChaCha20 seed (32 bytes) the generator drew from; informational only: every draw is
    /// recorded in the steps.
    pub seed: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One operation by one device (or a stateless one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The operation (see `vectors/README.md`, "Operations").
    pub op: String,
    /// The device that performs it (a label of the script, not protocol data); absent for the
    /// stateless `import_bundle`, `restore_device` and `restore_session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The actor's device state blob before the step; absent for `generate` and the stateless
    /// operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_before: Option<String>,
    /// The operation's arguments.
    pub input: Input,
    /// Every byte string drawn from the RNG during the step, in order.
    pub draws: Vec<String>,
    /// `null` on success, else the error class.
    pub error: Option<String>,
    /// What the operation returns on success (`null` when it returns nothing or failed).
    pub output: Option<Output>,
    /// The actor's device state blob after the step (equal to `state_before` when the step
    /// failed, except for `Expired`); absent for the stateless operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_after: Option<String>,
    /// Values derived along the way (positive steps of the protocol operations), else `null`.
    pub intermediates: Option<Intermediates>,
}

/// Arguments; each operation uses the fields listed in `vectors/README.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Peer id (1..64 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Encoded prekey bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// Number of one-time prekeys to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Content type of the message to encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<u8>,
    /// TTL of the message to encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
    /// Payload to encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// A received message (initial or ratchet) to decrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The caller's time, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<u64>,
    /// A state blob to restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
}

/// Results; each operation fills the fields listed in `vectors/README.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// `generate`: the 128-byte public identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_identity: Option<String>,
    /// `prekey_bundle`: the encoded bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<String>,
    /// `import_bundle`: the decoded, verified fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_fields: Option<BundleFields>,
    /// `encrypt`: the wire message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `decrypt`: the decrypted message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypted: Option<Decrypted>,
}

/// A decrypted message (`Message` of `Device.decrypt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decrypted {
    /// Content type.
    pub content_type: u8,
    /// Sender's time.
    pub sent_at: u64,
    /// TTL.
    pub ttl: u32,
    /// `sent_at + ttl` if the message expires; `null` if it never does.
    pub expires_at: Option<u64>,
    /// The payload.
    pub payload: String,
}

/// A verified bundle's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFields {
    /// The 128-byte public identity.
    pub identity: String,
    /// Signed prekey id.
    pub signed_prekey_id: u32,
    /// Signed prekey (X25519 public key).
    pub signed_prekey: String,
    /// One-time prekey id, if present.
    pub one_time_prekey_id: Option<u32>,
    /// One-time prekey, if present.
    pub one_time_prekey: Option<String>,
    /// ML-KEM prekey kind: 0 last-resort, 1 one-time.
    pub kem_kind: u8,
    /// ML-KEM prekey id.
    pub kem_prekey_id: u32,
    /// ML-KEM encapsulation key (1184 bytes).
    pub kem_prekey: String,
}

/// Intermediates of one step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intermediates {
    /// PQXDH (on `initiate`, and on the `decrypt` that accepts an initial message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pqxdh: Option<Pqxdh>,
    /// The ratchet part of an `encrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypt: Option<EncryptSteps>,
    /// The ratchet part of a `decrypt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypt: Option<DecryptSteps>,
}

/// PQXDH intermediates (PROTOCOL.md 6.3). The responder side has no `ephemeral_private`
/// and no `kem_m`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pqxdh {
    /// Ephemeral X25519 private key (draw 1 of `initiate`).
    pub ephemeral_private: Option<String>,
    /// Ephemeral public key.
    pub ephemeral_public: String,
    /// ML-KEM encapsulation randomness `m` (draw 2 of `initiate`).
    pub kem_m: Option<String>,
    /// DH(IK_I, SPK_R).
    pub dh1: String,
    /// DH(EK_I, IK_R).
    pub dh2: String,
    /// DH(EK_I, SPK_R).
    pub dh3: String,
    /// DH(EK_I, OPK_R), if a one-time prekey was used.
    pub dh4: Option<String>,
    /// ML-KEM ciphertext.
    pub kem_ciphertext: String,
    /// ML-KEM shared secret.
    pub kem_shared_secret: String,
    /// The initial-message prefix.
    pub prefix: String,
    /// TH = SHA256(L_TRANSCRIPT ‖ prefix ‖ SPK ‖ [OPK] ‖ PQPK).
    pub transcript_hash: String,
    /// IKM = F ‖ DH1 ‖ DH2 ‖ DH3 ‖ [DH4] ‖ SS.
    pub ikm: String,
    /// PRK = Extract(00×32, IKM).
    pub prk: String,
    /// OKM = Expand(PRK, L_PQXDH_KDF ‖ TH, 128).
    pub okm: String,
    /// RK0 = OKM[0:32].
    pub root_key: String,
    /// HK_I = OKM[32:64].
    pub initiator_header_key: String,
    /// HK_R = OKM[64:96].
    pub responder_header_key: String,
    /// OKM[96:128].
    pub pq_reserve: String,
    /// AD (160 bytes).
    pub ad: String,
    /// SHA256(prefix).
    pub setup_id: String,
}

/// The sending half of a DH ratchet step, made by an `encrypt` while `pending`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendRatchetStep {
    /// New ratchet private key (draw 1).
    pub ratchet_private: String,
    /// Its public key.
    pub ratchet_public: String,
    /// DH(new private, DHr).
    pub dh: String,
    /// KDF_RK output: new root key.
    pub root_key: String,
    /// KDF_RK output: new sending chain key.
    pub chain_key: String,
    /// KDF_RK output: new next sending header key.
    pub next_header_key: String,
}

/// The receiving half of a DH ratchet step, made by a `decrypt` under the `NEXT` header key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRatchetStep {
    /// DH(DHs, header ratchet key).
    pub dh: String,
    /// KDF_RK output: new root key.
    pub root_key: String,
    /// KDF_RK output: new receiving chain key (before walking to `n`).
    pub chain_key: String,
    /// KDF_RK output: new next receiving header key.
    pub next_header_key: String,
}

/// A message key derived for message `n` of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberedKey {
    /// Message number.
    pub n: u32,
    /// Message key.
    pub message_key: String,
}

/// Intermediates of an `encrypt` (PROTOCOL.md 7.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptSteps {
    /// Present when the encrypt performed the sending half of a DH ratchet step.
    pub ratchet_step: Option<SendRatchetStep>,
    /// Chain key used (`CKs`, or the step's new chain key).
    pub chain_key: String,
    /// Message key `HMAC(ck, 0x01)`.
    pub message_key: String,
    /// Next chain key `HMAC(ck, 0x02)`.
    pub next_chain_key: String,
    /// Header key used (`HKs`, or `NHKs` on a step).
    pub header_key: String,
    /// The message's random value `r` (the last draw).
    pub r: String,
    /// PN sent.
    pub pn: u32,
    /// N sent.
    pub n: u32,
    /// Header plaintext (41 bytes).
    pub header_plaintext: String,
    /// Header AAD `AD ‖ clear` (179 bytes).
    pub header_aad: String,
    /// Header AEAD key `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)` (PROTOCOL.md 7.3).
    pub header_aead_key: String,
    /// Header nonce `r[0:12]`.
    pub header_nonce: String,
    /// Body plaintext, padded (PROTOCOL.md 8).
    pub body_plaintext: String,
    /// Body AAD `AD ‖ clear ‖ sealed header`.
    pub body_aad: String,
    /// Body AEAD key: the message key itself.
    pub body_aead_key: String,
    /// Body nonce `r[0:12]` (the header's nonce).
    pub body_nonce: String,
}

/// Intermediates of a `decrypt` (PROTOCOL.md 7.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptSteps {
    /// Which candidate header key opened the header: `current`, `next` or `skipped`.
    pub candidate: String,
    /// For `skipped`: the index of the chain in the store (oldest first), else `null`.
    pub skipped_chain: Option<u32>,
    /// The header key that opened the header.
    pub header_key: String,
    /// Header AEAD key.
    pub header_aead_key: String,
    /// Header nonce.
    pub header_nonce: String,
    /// Header plaintext.
    pub header_plaintext: String,
    /// PN in the header.
    pub pn: u32,
    /// N in the header.
    pub n: u32,
    /// `next`: keys of the chain being closed (`Nr .. PN−1`), stored as skipped.
    pub closed_chain_keys: Vec<NumberedKey>,
    /// `next`: the receiving half of the DH ratchet step.
    pub ratchet_step: Option<ReceiveRatchetStep>,
    /// `current`/`next`: keys skipped in the chain of this message, stored.
    pub skipped_keys: Vec<NumberedKey>,
    /// The message key.
    pub message_key: String,
    /// `current`/`next`: the receiving chain key after this message; `skipped`: `null`.
    pub next_chain_key: Option<String>,
    /// Body AEAD key.
    pub body_aead_key: String,
    /// Body nonce.
    pub body_nonce: String,
    /// Body plaintext, padded.
    pub body_plaintext: String,
}
