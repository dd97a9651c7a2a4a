//! PQXDH session setup (Signal's PQXDH, revision 3, with the fixes of the 2024 analysis by
//! Bhargavan, Jacomme, Kiefer and Schmidt): every public key, prekey id and the KEM ciphertext
//! are hashed into a transcript hash `TH` that enters the KDF info and the associated data.

use crate::codec::{DecodeError, Decoded, Reader, Writer};
use crate::identity::{Identity, PUBLIC_IDENTITY_LEN, PublicIdentity};
use crate::keys::{Secret32, X25519Pair};
use crate::prekeys::{KemKind, KemPrekey, OneTimePrekey, SignedPrekey, VerifiedBundle};
use crate::{Error, VERSION, labels, suite};

/// Message type byte of an initial message (its prefix, followed by a ratchet message).
pub const INITIAL_TYPE: u8 = 0x02;

/// Associated data length: initiator identity keys ‖ responder identity keys ‖ TH.
pub(crate) const AD_LEN: usize = 32 * 5;

/// Prefix length without a one-time prekey id; with one it is 4 bytes longer.
pub const INITIAL_PREFIX_LEN_WITHOUT_OPK: usize =
    2 + PUBLIC_IDENTITY_LEN + 64 + 4 + 1 + 1 + 4 + 32 + suite::MLKEM_CIPHERTEXT_LEN;

/// The clear prefix of an initial message.
pub(crate) struct InitialPrefix {
    pub(crate) initiator: PublicIdentity,
    pub(crate) responder_signing: [u8; 32],
    pub(crate) responder_dh: [u8; 32],
    pub(crate) signed_prekey_id: u32,
    pub(crate) one_time_prekey_id: Option<u32>,
    pub(crate) kem_kind: KemKind,
    pub(crate) kem_prekey_id: u32,
    pub(crate) ephemeral: [u8; 32],
    pub(crate) kem_ciphertext: Box<[u8; suite::MLKEM_CIPHERTEXT_LEN]>,
}

impl InitialPrefix {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(INITIAL_PREFIX_LEN_WITHOUT_OPK + 4);
        out.put_u8(VERSION);
        out.put_u8(INITIAL_TYPE);
        self.initiator.write(&mut out);
        out.put(&self.responder_signing);
        out.put(&self.responder_dh);
        out.put_u32(self.signed_prekey_id);
        match self.one_time_prekey_id {
            Some(id) => {
                out.put_flag(true);
                out.put_u32(id);
            }
            None => out.put_flag(false),
        }
        out.put_u8(self.kem_kind.to_byte());
        out.put_u32(self.kem_prekey_id);
        out.put(&self.ephemeral);
        out.put(self.kem_ciphertext.as_slice());
        out
    }

    /// Reads a prefix from the front of an initial message; returns it and its length.
    pub(crate) fn decode(message: &[u8]) -> Result<(Self, usize), Error> {
        let mut r = Reader::new(message);
        let prefix = Self::read(&mut r).map_err(|_| Error::Malformed)?;
        Ok((prefix, message.len() - r.remaining()))
    }

    fn read(r: &mut Reader<'_>) -> Decoded<Self> {
        if r.u8()? != VERSION || r.u8()? != INITIAL_TYPE {
            return Err(DecodeError);
        }
        Ok(Self {
            initiator: PublicIdentity::read(r)?,
            responder_signing: r.array()?,
            responder_dh: r.array()?,
            signed_prekey_id: r.u32()?,
            one_time_prekey_id: if r.flag()? { Some(r.u32()?) } else { None },
            kem_kind: KemKind::from_byte(r.u8()?).ok_or(DecodeError)?,
            kem_prekey_id: r.u32()?,
            ephemeral: r.array()?,
            kem_ciphertext: r.boxed_array()?,
        })
    }
}

/// What PQXDH yields to the ratchet.
pub(crate) struct SetupKeys {
    /// `SHA-256(prefix)`: names the setup (replay cache, matching repeated prefixes).
    pub(crate) setup_id: [u8; 32],
    pub(crate) ad: [u8; AD_LEN],
    pub(crate) root: Secret32,
    /// Header key of the initiator's first sending chain.
    pub(crate) initiator_header: Secret32,
    /// Header key of the responder's first sending chain.
    pub(crate) responder_header: Secret32,
    /// Reserved for a future post-quantum ratchet; stored, not yet used.
    pub(crate) pq_reserve: Secret32,
}

/// Public inputs to the transcript hash beyond the prefix itself.
struct Transcript<'a> {
    prefix: &'a [u8],
    signed_prekey: &'a [u8; 32],
    one_time_prekey: Option<&'a [u8; 32]>,
    kem_prekey: &'a [u8; suite::MLKEM_PUBLIC_KEY_LEN],
}

/// `setup_id` is `SHA-256(prefix)`, hashed once by whoever holds the prefix bytes.
fn derive(
    transcript: &Transcript<'_>,
    setup_id: [u8; 32],
    initiator: &PublicIdentity,
    responder_signing: &[u8; 32],
    responder_dh: &[u8; 32],
    dhs: &[&Secret32],
    kem_shared: &Secret32,
) -> Result<SetupKeys, Error> {
    let mut opk_part: &[u8] = &[];
    if let Some(opk) = transcript.one_time_prekey {
        opk_part = opk;
    }
    let th = suite::sha256(&[
        labels::PQXDH_TRANSCRIPT,
        transcript.prefix,
        transcript.signed_prekey,
        opk_part,
        transcript.kem_prekey.as_slice(),
    ]);
    let mut ikm = zeroize::Zeroizing::new(Vec::with_capacity(32 * 6));
    ikm.extend_from_slice(&labels::PQXDH_F);
    for dh in dhs {
        ikm.extend_from_slice(dh.expose());
    }
    ikm.extend_from_slice(kem_shared.expose());
    let prk = suite::hkdf_extract(&[0u8; 32], &ikm);
    let mut okm = zeroize::Zeroizing::new([0u8; 128]);
    suite::hkdf_expand_parts(
        prk.as_slice(),
        &[labels::PQXDH_KDF, &th],
        okm.as_mut_slice(),
    )?;
    let part = |i: usize| Secret32::from_slice(okm.get(i * 32..(i + 1) * 32).unwrap_or_default());
    let (Some(root), Some(initiator_header), Some(responder_header), Some(pq_reserve)) =
        (part(0), part(1), part(2), part(3))
    else {
        return Err(Error::Unauthentic);
    };
    let mut ad = [0u8; AD_LEN];
    for (chunk, src) in ad.chunks_exact_mut(32).zip([
        initiator.signing_key(),
        initiator.dh_key(),
        responder_signing,
        responder_dh,
        &th,
    ]) {
        chunk.copy_from_slice(src);
    }
    Ok(SetupKeys {
        setup_id,
        ad,
        root,
        initiator_header,
        responder_header,
        pq_reserve,
    })
}

/// What the initiator keeps: the prefix it repeats until the first reply, and the keys.
pub(crate) struct Initiated {
    pub(crate) prefix: Vec<u8>,
    pub(crate) keys: SetupKeys,
    /// The responder's signed prekey: its first ratchet public key.
    pub(crate) responder_ratchet: [u8; 32],
}

/// Initiator side. Draws the ephemeral X25519 key (32 bytes), then the ML-KEM encapsulation
/// randomness `m` (32 bytes).
pub(crate) fn initiate<R: rand_core::CryptoRng + ?Sized>(
    identity: &Identity,
    bundle: &VerifiedBundle,
    rng: &mut R,
) -> Result<Initiated, Error> {
    let b = bundle.bundle();
    let ephemeral = X25519Pair::generate(rng)?;
    let mut m = zeroize::Zeroizing::new([0u8; suite::MLKEM_ENCAPS_SEED_LEN]);
    rng.fill_bytes(m.as_mut_slice());

    let dh1 = identity.dh().dh(&b.signed_prekey)?;
    let dh2 = ephemeral.dh(b.identity.dh_key())?;
    let dh3 = ephemeral.dh(&b.signed_prekey)?;
    let dh4 = match &b.one_time_prekey {
        Some((_, opk)) => Some(ephemeral.dh(opk)?),
        None => None,
    };
    let (ciphertext, shared) = suite::mlkem768_encapsulate(&b.kem_prekey, &m)?;
    let kem_shared = Secret32::new(*shared);

    let prefix = InitialPrefix {
        initiator: identity.public().clone(),
        responder_signing: *b.identity.signing_key(),
        responder_dh: *b.identity.dh_key(),
        signed_prekey_id: b.signed_prekey_id,
        one_time_prekey_id: b.one_time_prekey.map(|(id, _)| id),
        kem_kind: b.kem_kind,
        kem_prekey_id: b.kem_prekey_id,
        ephemeral: *ephemeral.public(),
        kem_ciphertext: ciphertext,
    }
    .encode();
    let mut dhs = vec![&dh1, &dh2, &dh3];
    if let Some(dh4) = &dh4 {
        dhs.push(dh4);
    }
    let keys = derive(
        &Transcript {
            prefix: &prefix,
            signed_prekey: &b.signed_prekey,
            one_time_prekey: b.one_time_prekey.as_ref().map(|(_, k)| k),
            kem_prekey: &b.kem_prekey,
        },
        suite::sha256(&[&prefix]),
        identity.public(),
        b.identity.signing_key(),
        b.identity.dh_key(),
        &dhs,
        &kem_shared,
    )?;
    Ok(Initiated {
        prefix,
        keys,
        responder_ratchet: b.signed_prekey,
    })
}

/// The responder's prekeys that an initial message names, looked up by the device.
pub(crate) struct ResponderKeys<'a> {
    pub(crate) identity: &'a Identity,
    pub(crate) signed_prekey: &'a SignedPrekey,
    pub(crate) one_time_prekey: Option<&'a OneTimePrekey>,
    pub(crate) kem_prekey: &'a KemPrekey,
}

/// Responder side: every failure is [`Error::Unauthentic`] (the first ratchet message, checked
/// by the caller, is what authenticates the setup; ML-KEM's implicit rejection fails there).
/// `setup_id` is `SHA-256(prefix_bytes)`, which the device has hashed already (to look the
/// setup up among its sessions).
pub(crate) fn respond(
    keys: &ResponderKeys<'_>,
    prefix: &InitialPrefix,
    prefix_bytes: &[u8],
    setup_id: [u8; 32],
) -> Result<SetupKeys, Error> {
    prefix.initiator.verify()?;
    let spk = &keys.signed_prekey.pair;
    let dh1 = spk.dh(prefix.initiator.dh_key())?;
    let dh2 = keys.identity.dh().dh(&prefix.ephemeral)?;
    let dh3 = spk.dh(&prefix.ephemeral)?;
    let dh4 = match keys.one_time_prekey {
        Some(opk) => Some(opk.pair.dh(&prefix.ephemeral)?),
        None => None,
    };
    let kem_shared = keys.kem_prekey.decapsulate(&prefix.kem_ciphertext);
    let mut dhs = vec![&dh1, &dh2, &dh3];
    if let Some(dh4) = &dh4 {
        dhs.push(dh4);
    }
    let own = keys.identity.public();
    derive(
        &Transcript {
            prefix: prefix_bytes,
            signed_prekey: spk.public(),
            one_time_prekey: keys.one_time_prekey.map(|k| k.pair.public()),
            kem_prekey: &keys.kem_prekey.public,
        },
        setup_id,
        &prefix.initiator,
        own.signing_key(),
        own.dh_key(),
        &dhs,
        &kem_shared,
    )
}
