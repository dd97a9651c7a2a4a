//! An initiator's first message built from PROTOCOL.md 6.2–6.3 and 7.4–7.5 with the hazmat
//! primitives, every input exposed, so that a negative vector can change one input and
//! re-derive everything else (TH, keys, AD, both seals): only the check it names then fails.

use target_impl::hazmat;
use vectors::derive;

const L_TRANSCRIPT: &[u8] = b"ti-v1 pqxdh transcript\0";
const L_PQXDH_KDF: &[u8] = b"ti-v1 pqxdh kdf\0";

/// The public fields of a bundle (5.6).
#[derive(Clone)]
pub(crate) struct BundleFields {
    pub(crate) signing: [u8; 32],
    pub(crate) dh: [u8; 32],
    pub(crate) spk_id: u32,
    pub(crate) spk: [u8; 32],
    pub(crate) opk: Option<(u32, [u8; 32])>,
    pub(crate) kem_kind: u8,
    pub(crate) kem_id: u32,
    pub(crate) ek: Vec<u8>,
}

pub(crate) fn bundle_fields(b: &[u8]) -> BundleFields {
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

/// DH whose all-zero result (a low-order key) is kept, so that a receiver without the
/// all-zero check would derive the same keys.
pub(crate) fn dh(private: &[u8; 32], public: &[u8; 32]) -> [u8; 32] {
    hazmat::x25519(private, public).map_or([0; 32], |s| *s)
}

/// Everything the initiator's first message is made of.
#[derive(Clone)]
pub(crate) struct Spec {
    pub(crate) initiator: [u8; 128],
    pub(crate) initiator_dh_private: [u8; 32],
    pub(crate) bundle: BundleFields,
    pub(crate) responder_signing: [u8; 32],
    pub(crate) responder_dh: [u8; 32],
    pub(crate) spk_id: u32,
    pub(crate) opk_id: Option<u32>,
    pub(crate) kem_kind: u8,
    pub(crate) kem_id: u32,
    pub(crate) ephemeral: [u8; 32],
    pub(crate) m: [u8; 32],
    pub(crate) ratchet: [u8; 32],
    pub(crate) r: [u8; 16],
    pub(crate) body: Vec<u8>,
    /// Sent instead of `pub(ephemeral)`; a low-order one makes its DHs all-zero.
    pub(crate) ephemeral_public: Option<[u8; 32]>,
    /// Used for DH1 instead of the initiator's identity key.
    pub(crate) dh1_private: Option<[u8; 32]>,
    /// Replaces TH in the KDF info only.
    pub(crate) kdf_th: Option<[u8; 32]>,
    /// Hashed into TH in place of the sent prefix, or of the signed prekey.
    pub(crate) th_prefix: Option<Vec<u8>>,
    pub(crate) th_spk: Option<[u8; 32]>,
    /// The four identity keys of the AD, if not the sent ones.
    pub(crate) ad_keys: Option<[[u8; 32]; 4]>,
}

impl Spec {
    pub(crate) fn new(
        initiator: [u8; 128],
        initiator_dh_private: [u8; 32],
        bundle: &[u8],
        draws: [&[u8]; 4],
        body: Vec<u8>,
    ) -> Self {
        let f = bundle_fields(bundle);
        Self {
            initiator,
            initiator_dh_private,
            responder_signing: f.signing,
            responder_dh: f.dh,
            spk_id: f.spk_id,
            opk_id: f.opk.map(|(id, _)| id),
            kem_kind: f.kem_kind,
            kem_id: f.kem_id,
            bundle: f,
            ephemeral: draws[0].try_into().unwrap(),
            m: draws[1].try_into().unwrap(),
            ratchet: draws[2].try_into().unwrap(),
            r: draws[3].try_into().unwrap(),
            body,
            ephemeral_public: None,
            dh1_private: None,
            kdf_th: None,
            th_prefix: None,
            th_spk: None,
            ad_keys: None,
        }
    }

    pub(crate) fn real_ad_keys(&self) -> [[u8; 32]; 4] {
        [
            self.initiator[..32].try_into().unwrap(),
            self.initiator[32..64].try_into().unwrap(),
            self.responder_signing,
            self.responder_dh,
        ]
    }

    fn ek(&self) -> &[u8; 1184] {
        self.bundle.ek.as_slice().try_into().unwrap()
    }

    pub(crate) fn prefix(&self) -> Vec<u8> {
        let ephemeral_public = self
            .ephemeral_public
            .unwrap_or_else(|| hazmat::x25519_public_key(&self.ephemeral).unwrap());
        let (ct, _) = hazmat::mlkem768_encapsulate(self.ek(), &self.m).unwrap();
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

    pub(crate) fn build(&self) -> Vec<u8> {
        let b = &self.bundle;
        let prefix = self.prefix();
        let (_, ss) = hazmat::mlkem768_encapsulate(self.ek(), &self.m).unwrap();
        let eph = |peer: &[u8; 32]| match self.ephemeral_public {
            Some(p) => {
                hazmat::x25519(&self.ephemeral, &p).map_or([0; 32], |_| dh(&self.ephemeral, peer))
            }
            None => dh(&self.ephemeral, peer),
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
            th_input.extend_from_slice(opk);
        }
        th_input.extend_from_slice(&b.ek);
        let th = hazmat::sha256(&[&th_input]);
        let prk = hazmat::hkdf_extract(&[0u8; 32], &ikm);
        let mut okm = [0u8; 128];
        hazmat::hkdf_expand(
            prk.as_slice(),
            &[L_PQXDH_KDF, self.kdf_th.as_ref().unwrap_or(&th)].concat(),
            &mut okm,
        )
        .unwrap();
        let rk0: [u8; 32] = okm[..32].try_into().unwrap();
        let hk_i: [u8; 32] = okm[32..64].try_into().unwrap();
        let mut ad = self.ad_keys.unwrap_or(self.real_ad_keys()).concat();
        ad.extend_from_slice(&th);
        let ratchet_public = hazmat::x25519_public_key(&self.ratchet).unwrap();
        let (_, ck, _) = derive::kdf_rk(&rk0, &dh(&self.ratchet, &b.spk)).unwrap();
        let (mk, _) = derive::kdf_ck(&ck).unwrap();
        let mut header = ratchet_public.to_vec();
        header.extend_from_slice(&[0; 9]);
        [
            prefix,
            super::seal_message(&ad, &hk_i, &mk, &self.r, &header, &self.body),
        ]
        .concat()
    }
}
