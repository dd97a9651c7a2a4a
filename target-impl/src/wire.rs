//! Decoded views of every wire type, for tools that inspect traffic (fuzzing, vectors, the
//! challenge server's transcript). Decoding checks framing only (no key is read) and is
//! canonical: whatever decodes re-encodes to the same bytes.

use crate::pqxdh::{INITIAL_TYPE, InitialPrefix};
use crate::session::{CLEAR_LEN, RATCHET_TYPE, frame_body_start};
use crate::{BUNDLE_TYPE, Error, KemKind, PrekeyBundle, PublicIdentity, RANDOM_LEN};

/// Any message a device sends or publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireMessage<'a> {
    /// A prekey bundle.
    Bundle(PrekeyBundle),
    /// An initial message: PQXDH prefix and the first ratchet message.
    Initial(InitialMessage<'a>),
    /// A ratchet message.
    Ratchet(RatchetMessage<'a>),
}

impl<'a> WireMessage<'a> {
    /// Decodes by the type byte (the second byte); [`Error::Malformed`] on any framing error.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        match bytes.get(1) {
            Some(&BUNDLE_TYPE) => PrekeyBundle::from_bytes(bytes).map(WireMessage::Bundle),
            Some(&INITIAL_TYPE) => InitialMessage::decode(bytes).map(WireMessage::Initial),
            Some(&RATCHET_TYPE) => RatchetMessage::decode(bytes).map(WireMessage::Ratchet),
            _ => Err(Error::Malformed),
        }
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            WireMessage::Bundle(b) => b.to_bytes(),
            WireMessage::Initial(m) => m.to_bytes(),
            WireMessage::Ratchet(m) => m.to_bytes(),
        }
    }
}

/// The clear fields of an initial message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage<'a> {
    /// The initiator's identity (its signature is checked by the responder, not here).
    pub initiator: PublicIdentity,
    /// The responder's identity signing key.
    pub responder_signing_key: [u8; 32],
    /// The responder's identity DH key.
    pub responder_dh_key: [u8; 32],
    /// Id of the responder's signed prekey used.
    pub signed_prekey_id: u32,
    /// Id of the responder's one-time X25519 prekey used, if any.
    pub one_time_prekey_id: Option<u32>,
    /// Kind of the responder's ML-KEM prekey used.
    pub kem_kind: KemKind,
    /// Id of the responder's ML-KEM prekey used.
    pub kem_prekey_id: u32,
    /// The initiator's ephemeral X25519 key.
    pub ephemeral_key: [u8; 32],
    /// The ML-KEM-768 ciphertext.
    pub kem_ciphertext: Box<[u8; 1088]>,
    /// The first ratchet message.
    pub ratchet: RatchetMessage<'a>,
}

impl<'a> InitialMessage<'a> {
    /// Decodes the prefix and the ratchet message that must follow it.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        let (prefix, len) = InitialPrefix::decode(bytes)?;
        let ratchet = RatchetMessage::decode(bytes.get(len..).ok_or(Error::Malformed)?)?;
        Ok(Self {
            initiator: prefix.initiator,
            responder_signing_key: prefix.responder_signing,
            responder_dh_key: prefix.responder_dh,
            signed_prekey_id: prefix.signed_prekey_id,
            one_time_prekey_id: prefix.one_time_prekey_id,
            kem_kind: prefix.kem_kind,
            kem_prekey_id: prefix.kem_prekey_id,
            ephemeral_key: prefix.ephemeral,
            kem_ciphertext: prefix.kem_ciphertext,
            ratchet,
        })
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = InitialPrefix {
            initiator: self.initiator.clone(),
            responder_signing: self.responder_signing_key,
            responder_dh: self.responder_dh_key,
            signed_prekey_id: self.signed_prekey_id,
            one_time_prekey_id: self.one_time_prekey_id,
            kem_kind: self.kem_kind,
            kem_prekey_id: self.kem_prekey_id,
            ephemeral: self.ephemeral_key,
            kem_ciphertext: self.kem_ciphertext.clone(),
        }
        .encode();
        out.extend_from_slice(&self.ratchet.to_bytes());
        out
    }
}

/// The framing of a ratchet message: everything but the random value is ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatchetMessage<'a> {
    /// Protocol version.
    pub version: u8,
    /// The per-message random value.
    pub random: [u8; RANDOM_LEN],
    /// Encrypted header with its tag.
    pub header: &'a [u8],
    /// Encrypted, padded body with its tag.
    pub body: &'a [u8],
}

impl<'a> RatchetMessage<'a> {
    /// Checks the framing exactly as decryption does before reading any key.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, Error> {
        let body_start = frame_body_start(bytes)?;
        let (head, body) = bytes.split_at_checked(body_start).ok_or(Error::Malformed)?;
        let (clear, header) = head.split_at_checked(CLEAR_LEN).ok_or(Error::Malformed)?;
        let random = clear
            .get(2..2 + RANDOM_LEN)
            .and_then(|r| r.try_into().ok())
            .ok_or(Error::Malformed)?;
        Ok(Self {
            version: *clear.first().ok_or(Error::Malformed)?,
            random,
            header,
            body,
        })
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(CLEAR_LEN + self.header.len() + self.body.len());
        out.push(self.version);
        out.push(RATCHET_TYPE);
        out.extend_from_slice(&self.random);
        out.push(u8::try_from(self.header.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.header);
        out.extend_from_slice(self.body);
        out
    }
}
