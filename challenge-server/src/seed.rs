//! A challenge's 256-bit master seed and everything derived from it (docs/API.md, "Derivation"):
//!
//! ```text
//! prk           = HKDF-Extract(salt = "challenge-server/v1/seed", ikm = seed)
//! derive(l, i)  = HKDF-Expand(prk, info = l || 0x00 || u64be(i), 32)
//! commitment    = SHA-256("challenge-server/v1/seed-commitment\n" || seed)
//! ```
//!
//! Every label is listed in [`label`]; a step's randomness is a ChaCha20 stream keyed by
//! `derive("step", index)`, so the server, a restart and `verify` draw identical bytes.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::hazmat;
use zeroize::Zeroizing;

use crate::Error;

/// The KDF labels, one per use of the seed.
pub mod label {
    /// Randomness of party Alice's device generation.
    pub const ALICE: &str = "party/alice";
    /// Randomness of party Bob's device generation and one-time prekeys.
    pub const BOB: &str = "party/bob";
    /// Randomness of transcript step `i` (session setup, encryption).
    pub const STEP: &str = "step";
    /// Which party sends message `i`.
    pub const DIRECTION: &str = "direction";
    /// Which filler sentence message `i` carries.
    pub const FILLER: &str = "filler";
    /// Secret `j` (its first 16 bytes).
    pub const SECRET: &str = "secret";
    /// The salt of secret `j`'s commitment.
    pub const SECRET_SALT: &str = "secret-salt";
    /// The message that carries secret `j`.
    pub const SECRET_POSITION: &str = "secret-position";
}

const EXTRACT_SALT: &[u8] = b"challenge-server/v1/seed";
const COMMITMENT_LABEL: &[u8] = b"challenge-server/v1/seed-commitment\n";

/// A master seed; zeroized on drop, never printed.
#[derive(Clone)]
pub struct MasterSeed(Zeroizing<[u8; 32]>);

impl core::fmt::Debug for MasterSeed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("MasterSeed(..)")
    }
}

impl MasterSeed {
    /// A fresh seed from the operating system.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(crate::keys::random_secret()?))
    }

    /// A seed from its bytes (tests, `verify` after the reveal).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The seed's bytes: for sealing, and for publication at the reveal only.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The published commitment to the seed.
    pub fn commitment(&self) -> [u8; 32] {
        hazmat::sha256(&[COMMITMENT_LABEL, self.0.as_slice()])
    }

    /// `derive(label, index)`: 32 bytes.
    pub fn derive(&self, label: &str, index: u64) -> Result<Zeroizing<[u8; 32]>, Error> {
        let prk = hazmat::hkdf_extract(EXTRACT_SALT, self.0.as_slice());
        let mut info = Vec::with_capacity(label.len() + 9);
        info.extend_from_slice(label.as_bytes());
        info.push(0);
        info.extend_from_slice(&index.to_be_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        hazmat::hkdf_expand(prk.as_slice(), &info, out.as_mut_slice())
            .map_err(|_| Error::internal("seed derivation failed"))?;
        Ok(out)
    }

    /// A deterministic random stream for `(label, index)`: ChaCha20 keyed by `derive`.
    pub fn rng(&self, label: &str, index: u64) -> Result<ChaCha20Rng, Error> {
        Ok(ChaCha20Rng::from_seed(*self.derive(label, index)?))
    }

    /// `derive(label, index)`'s first 8 bytes (big-endian) modulo `modulus`: the bias, below
    /// 2^-40 for the moduli used, does not matter, as the results are public.
    pub fn derive_index(&self, label: &str, index: u64, modulus: u64) -> Result<u64, Error> {
        let bytes = self.derive(label, index)?;
        let mut wide = [0u8; 8];
        wide.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
        Ok(u64::from_be_bytes(wide) % modulus.max(1))
    }
}

/// Whether `commitment` commits to `seed` (for `verify`).
pub fn check_commitment(seed: &[u8; 32], commitment: &[u8; 32]) -> bool {
    MasterSeed::from_bytes(*seed).commitment() == *commitment
}
