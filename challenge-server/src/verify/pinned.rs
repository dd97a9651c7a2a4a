//! What `verify` takes from the user and never from the server it checks: the pinned server key
//! with its log origin (`--server-key`, `--log-origin`), and the receipts the user holds
//! (`--receipt`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use target_impl::hazmat::sha256;

use super::{VerifyError, mismatch};
use crate::api::{Receipt, ServerKeyView};
use crate::log::note::verifier_key;

/// The server key and log origin the user pinned: from the challenge's creation, the
/// researcher client's saved state, or a claim file; never from the source being checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedKey {
    /// The Ed25519 public key that signs receipts and checkpoints.
    pub public: [u8; 32],
    /// The log origin (the checkpoint's first line and the signed-note key name).
    pub origin: String,
}

fn source_err(message: impl Into<String>) -> VerifyError {
    VerifyError::Source(message.into())
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn public_of(what: &str, hex_key: &str) -> Result<[u8; 32], VerifyError> {
    if !is_hex64(hex_key) {
        return Err(source_err(format!(
            "{what}: the server key is not 64 lowercase hex digits"
        )));
    }
    hex::decode(hex_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| source_err(format!("{what}: the server key is not 32 bytes of hex")))
}

/// The `server_key` field of a claim file: the 64 hex digits of the public key, or the whole
/// `GET /server-key` document.
fn claim_file_key(what: &str, value: &Value) -> Result<[u8; 32], VerifyError> {
    match value {
        Value::String(s) => public_of(what, s),
        Value::Object(o) => match o.get("public_key") {
            Some(Value::String(s)) => public_of(what, s),
            _ => Err(source_err(format!(
                "{what}: server_key has no public_key string"
            ))),
        },
        _ => Err(source_err(format!(
            "{what}: server_key is neither 64 hex digits nor a /server-key document"
        ))),
    }
}

impl PinnedKey {
    /// The key of a `GET /server-key` document, whose verifier key must agree with it.
    pub fn from_view(what: &str, view: &ServerKeyView) -> Result<Self, VerifyError> {
        let public = public_of(what, &view.public_key)?;
        if view.note_verifier_key != verifier_key(&view.log_origin, &public) {
            return Err(source_err(format!(
                "{what}: the note verifier key does not match the public key and origin"
            )));
        }
        Ok(Self {
            public,
            origin: view.log_origin.clone(),
        })
    }

    /// `--server-key ARG [--log-origin ORIGIN]`: `ARG` is the key as 64 hex digits (then the
    /// origin is required), or a JSON file holding the `GET /server-key` document or a claim
    /// file (then a given origin must be the file's).
    pub fn from_arg(arg: &str, origin: Option<&str>) -> Result<Self, VerifyError> {
        if is_hex64(arg) {
            let origin = origin.ok_or_else(|| {
                source_err("--server-key as hex digits needs --log-origin (or give a key file)")
            })?;
            return Ok(Self {
                public: public_of("--server-key", arg)?,
                origin: origin.to_owned(),
            });
        }
        let what = format!("--server-key {arg}");
        let text = std::fs::read_to_string(Path::new(arg))
            .map_err(|e| source_err(format!("{what}: {e}")))?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| source_err(format!("{what}: not JSON: {e}")))?;
        let pinned = if value.get("receipt").is_some() {
            let file = ClaimFile::deserialize(&value)
                .map_err(|e| source_err(format!("{what}: not a claim file: {e}")))?;
            Self {
                public: claim_file_key(&what, &file.server_key)?,
                origin: file.log_origin,
            }
        } else {
            let view = ServerKeyView::deserialize(&value).map_err(|e| {
                source_err(format!(
                    "{what}: not a /server-key document or claim file: {e}"
                ))
            })?;
            Self::from_view(&what, &view)?
        };
        if let Some(origin) = origin
            && origin != pinned.origin
        {
            return Err(source_err(format!(
                "--log-origin {origin:?} is not the origin {:?} of {arg}",
                pinned.origin
            )));
        }
        Ok(pinned)
    }
}

/// The claim file of DESIGN section 7, written by the researcher client (`client claim commit`)
/// before it sends the commit, with `receipt` null, then rewritten with the receipt. Its
/// `Debug` leaves out the claim text and the nonce.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClaimFile {
    /// The server the claim was sent to.
    pub server_url: String,
    /// The log origin.
    pub log_origin: String,
    /// The server key: 64 hex digits, or the `GET /server-key` document.
    pub server_key: Value,
    /// Challenge id.
    pub challenge: String,
    /// Claimant name.
    pub claimant: String,
    /// The claim text whose SHA-256 is the commitment.
    pub claim_text: String,
    /// The nonce in the claim text.
    pub nonce: String,
    /// The commitment.
    pub commitment: String,
    /// The receipt as the API returned it; null until the commit is answered.
    pub receipt: Option<Receipt>,
}

impl std::fmt::Debug for ClaimFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimFile")
            .field("server_url", &self.server_url)
            .field("log_origin", &self.log_origin)
            .field("challenge", &self.challenge)
            .field("claimant", &self.claimant)
            .field("commitment", &self.commitment)
            .field("receipt", &self.receipt)
            .finish_non_exhaustive()
    }
}

impl ClaimFile {
    /// The key the claim file was made under.
    pub fn pinned_key(&self, what: &str) -> Result<PinnedKey, VerifyError> {
        Ok(PinnedKey {
            public: claim_file_key(what, &self.server_key)?,
            origin: self.log_origin.clone(),
        })
    }
}

/// A receipt the user holds, read from `--receipt FILE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldReceipt {
    /// The file it was read from (for messages).
    pub file: String,
    /// The receipt.
    pub receipt: Receipt,
    /// The key the claim file was made under, if it is a claim file.
    pub key: Option<PinnedKey>,
}

/// Reads a receipt file: the API's receipt JSON, or a claim file. A claim file must agree with
/// itself: its claim text hashes to its commitment, which, its claimant and challenge are its
/// receipt's.
pub fn read_receipt_file(path: &Path) -> Result<HeldReceipt, VerifyError> {
    let what = format!("--receipt {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| source_err(format!("{what}: {e}")))?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| source_err(format!("{what}: not JSON: {e}")))?;
    if value.get("receipt").is_none() {
        let receipt = Receipt::deserialize(&value)
            .map_err(|e| source_err(format!("{what}: not a receipt or claim file: {e}")))?;
        return Ok(HeldReceipt {
            file: path.display().to_string(),
            receipt,
            key: None,
        });
    }
    let file = ClaimFile::deserialize(&value)
        .map_err(|e| source_err(format!("{what}: not a claim file: {e}")))?;
    let Some(r) = &file.receipt else {
        return Err(source_err(format!(
            "{what}: the claim file has no receipt yet (its commit was never answered): run \
             `challenge-server client claim commit --resume {}`",
            path.display()
        )));
    };
    if hex::encode(sha256(&[file.claim_text.as_bytes()])) != file.commitment {
        return Err(source_err(format!(
            "{what}: its claim text does not hash to its commitment"
        )));
    }
    if !file
        .claim_text
        .lines()
        .any(|l| l == format!("nonce: {}", file.nonce))
    {
        return Err(source_err(format!(
            "{what}: its claim text does not hold its nonce"
        )));
    }
    if r.commitment != file.commitment
        || r.claimant != file.claimant
        || r.challenge != file.challenge
    {
        return Err(mismatch(format!(
            "receipt for claim {}: the receipt in {} is not for the file's challenge, claimant \
             and commitment",
            r.claim,
            path.display()
        )));
    }
    Ok(HeldReceipt {
        file: path.display().to_string(),
        key: Some(file.pinned_key(&what)?),
        receipt: r.clone(),
    })
}
