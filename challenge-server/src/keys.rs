//! Keys the server holds: the key-encryption key (KEK) from the config, which seals every secret
//! at rest with AES-256-GCM; the server's Ed25519 signing key (receipts and log checkpoints),
//! created on first run and stored sealed; the admin token, stored as its SHA-256 only.
//!
//! The primitives are target-impl's own (`hazmat`), so the tree has one AES-GCM and one Ed25519.

use std::path::Path;

use subtle::ConstantTimeEq;
use target_impl::hazmat;
use zeroize::Zeroizing;

use crate::Error;

/// Format byte of a sealed blob: `0x01 || nonce (12) || ciphertext || tag (16)`.
const SEAL_VERSION: u8 = 1;
const SEAL_AAD_LABEL: &[u8] = b"challenge-server/v1/seal\n";

/// 32 bytes from the operating system's generator.
pub fn random_secret() -> Result<Zeroizing<[u8; 32]>, Error> {
    let mut out = Zeroizing::new([0u8; 32]);
    getrandom::fill(out.as_mut_slice()).map_err(|e| Error::internal(format!("getrandom: {e}")))?;
    Ok(out)
}

/// `n` public random bytes (ids, nonces) as lowercase hex.
pub fn random_hex(n: usize) -> Result<String, Error> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("getrandom: {e}")))?;
    Ok(hex::encode(bytes))
}

/// What a sealed blob is, bound into its associated data so that one blob cannot stand in for
/// another.
#[derive(Clone, Copy, Debug)]
pub enum Purpose<'a> {
    /// The server's Ed25519 seed.
    ServerKey,
    /// A challenge's master seed.
    MasterSeed {
        /// The challenge id.
        challenge: &'a str,
    },
    /// A party's device state blob after a step.
    DeviceState {
        /// The challenge id.
        challenge: &'a str,
        /// `alice` or `bob`.
        party: &'a str,
    },
    /// A revealed claim, sealed until the challenge closes.
    ClaimReveal {
        /// The claim id.
        claim: &'a str,
    },
    /// A session's bots' state after its latest command.
    SessionState {
        /// The challenge id.
        challenge: &'a str,
        /// The session number.
        session: u64,
    },
    /// The evidence of a win awarded during a session (a forgery's plaintext), sealed until
    /// the close.
    SessionWin {
        /// The challenge id.
        challenge: &'a str,
        /// The session number.
        session: u64,
        /// The command index.
        k: u64,
    },
}

impl Purpose<'_> {
    fn aad(&self) -> Vec<u8> {
        let context = match self {
            Purpose::ServerKey => "server-key".to_owned(),
            Purpose::MasterSeed { challenge } => format!("master-seed\n{challenge}"),
            Purpose::DeviceState { challenge, party } => {
                format!("device-state\n{challenge}\n{party}")
            }
            Purpose::ClaimReveal { claim } => format!("claim-reveal\n{claim}"),
            Purpose::SessionState { challenge, session } => {
                format!("session-state\n{challenge}\n{session}")
            }
            Purpose::SessionWin {
                challenge,
                session,
                k,
            } => format!("session-win\n{challenge}\n{session}\n{k}"),
        };
        [SEAL_AAD_LABEL, context.as_bytes()].concat()
    }
}

/// The key-encryption key. Never stored in the database; never printed.
pub struct Kek(Zeroizing<[u8; 32]>);

impl core::fmt::Debug for Kek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// A key for `label` derived from the KEK (HMAC-SHA-256 under it), for what must survive a
    /// restart without being stored: the proof-of-work tokens' MAC key.
    pub fn derive(&self, label: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
        hazmat::hmac_sha256(
            self.0.as_slice(),
            &[
                b"challenge-server/v1/kek-derive\n".as_slice(),
                label.as_bytes(),
            ]
            .concat(),
        )
        .map_err(|_| Error::internal("key derivation failed"))
    }

    /// A KEK from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Parses 64 lowercase hex characters (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(
            hex::decode(text.trim())
                .map_err(|_| Error::internal("the KEK is not 64 hex characters"))?,
        );
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::internal("the KEK is not 32 bytes"))?;
        Ok(Self::from_bytes(array))
    }

    /// Reads the KEK from `path`, or, if the file does not exist and `create` is set, makes a
    /// new one there (mode 0600).
    pub fn load_or_create(path: &Path, create: bool) -> Result<Self, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&Zeroizing::new(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = random_secret()?;
                let text = Zeroizing::new(hex::encode(key.as_slice()) + "\n");
                write_private(path, text.as_bytes())?;
                tracing::warn!(
                    path = %path.display(),
                    "created a new key-encryption key; back it up apart from the database"
                );
                Ok(Self(key))
            }
            Err(e) => Err(Error::internal(format!(
                "cannot read the KEK file {}: {e}",
                path.display()
            ))),
        }
    }

    /// Seals `plaintext` for `purpose` under a fresh random nonce.
    pub fn seal(&self, purpose: Purpose<'_>, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; hazmat::AEAD_NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| Error::internal(format!("getrandom: {e}")))?;
        let sealed = hazmat::aes256gcm_seal(&self.0, &nonce, &purpose.aad(), plaintext)
            .map_err(|_| Error::internal("sealing failed"))?;
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a blob made by [`Kek::seal`] for the same purpose.
    pub fn open(&self, purpose: Purpose<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let wrong = || {
            Error::internal(format!(
                "cannot open a sealed {purpose:?}: wrong KEK or corrupt data"
            ))
        };
        let (&version, rest) = sealed.split_first().ok_or_else(wrong)?;
        if version != SEAL_VERSION || rest.len() < hazmat::AEAD_NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, ciphertext) = rest.split_at(hazmat::AEAD_NONCE_LEN);
        let nonce: &[u8; hazmat::AEAD_NONCE_LEN] = nonce.try_into().map_err(|_| wrong())?;
        hazmat::aes256gcm_open(&self.0, nonce, &purpose.aad(), ciphertext).map_err(|_| wrong())
    }

    /// Opens a sealed 32-byte secret.
    pub fn open32(
        &self,
        purpose: Purpose<'_>,
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, Error> {
        let bytes = self.open(purpose, sealed)?;
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::internal("a sealed 32-byte secret has the wrong length"))?;
        Ok(Zeroizing::new(array))
    }
}

/// Writes `bytes` to a new file readable by its owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The server's Ed25519 signing key.
pub struct ServerKey {
    seed: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl core::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ServerKey({})", hex::encode(self.public))
    }
}

impl ServerKey {
    /// A key from its 32-byte seed.
    pub fn from_seed(seed: Zeroizing<[u8; 32]>) -> Self {
        let public = hazmat::ed25519_public_key(&seed);
        Self { seed, public }
    }

    /// A new random key.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::from_seed(random_secret()?))
    }

    /// The seed, to seal it.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public key.
    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }

    /// An Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        hazmat::ed25519_sign(&self.seed, message)
    }
}

/// Strict Ed25519 verification (target-impl's `verify_strict`).
pub fn verify_signature(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    hazmat::ed25519_verify(public, message, signature).is_ok()
}

/// SHA-256 of an admin token, the only form in which it is stored.
pub fn token_hash(token: &str) -> [u8; 32] {
    hazmat::sha256(&[b"challenge-server/v1/admin-token\n", token.as_bytes()])
}

/// Constant-time comparison of two 32-byte values.
pub fn ct_eq32(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}
