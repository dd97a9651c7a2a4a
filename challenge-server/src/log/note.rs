//! Tree heads as C2SP tlog-checkpoint texts signed as C2SP signed notes (the `signed_note` and
//! `tlog_tiles` crates), with the server's Ed25519 key through target-impl's primitives.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use signed_note::{Note, VerifierList};
use tlog_tiles::{Checkpoint, Hash};

use crate::Error;
use crate::keys::{ServerKey, verify_signature};

/// The signed-note algorithm byte of Ed25519.
const ALG_ED25519: u8 = 1;

/// The signed-note key id of `public` under `name`.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    let mut encoded = vec![ALG_ED25519];
    encoded.extend_from_slice(public);
    signed_note::key_id(name, &encoded)
}

/// The verifier key string `<name>+<id>+<base64(0x01 || public)>`.
pub fn verifier_key(name: &str, public: &[u8; 32]) -> String {
    let mut encoded = vec![ALG_ED25519];
    encoded.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        key_id(name, public),
        BASE64.encode(&encoded)
    )
}

struct NoteSigner<'a> {
    name: &'a str,
    key: &'a ServerKey,
}

impl signed_note::Signer for NoteSigner<'_> {
    fn name(&self) -> &str {
        self.name
    }

    fn key_id(&self) -> u32 {
        key_id(self.name, self.key.public())
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(self.key.sign(msg).to_vec())
    }
}

struct NoteVerifier {
    name: String,
    public: [u8; 32],
}

impl signed_note::Verifier for NoteVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        key_id(&self.name, &self.public)
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        sig.try_into()
            .is_ok_and(|sig: &[u8; 64]| verify_signature(&self.public, msg, sig))
    }
}

/// The signed checkpoint of a tree of `size` entries with root `root`.
pub fn sign_checkpoint(
    origin: &str,
    size: u64,
    root: [u8; 32],
    key: &ServerKey,
) -> Result<String, Error> {
    let checkpoint = Checkpoint::new(origin, size, Hash(root), "")
        .map_err(|_| Error::internal("the log origin is not a valid checkpoint origin"))?;
    let mut note = Note::new(&checkpoint.to_bytes(), &[])
        .map_err(|e| Error::internal(format!("checkpoint note: {e}")))?;
    let signer = NoteSigner { name: origin, key };
    note.add_sigs(&[&signer])
        .map_err(|e| Error::internal(format!("checkpoint signature: {e}")))?;
    String::from_utf8(note.to_bytes()).map_err(|_| Error::internal("checkpoint is not UTF-8"))
}

/// A checkpoint whose signature verified: its size and root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
}

/// Verifies a signed checkpoint under `origin`'s key `public`; `None` if the note does not
/// parse, is not signed by that key, or is for another origin.
pub fn open_checkpoint(text: &str, origin: &str, public: &[u8; 32]) -> Option<VerifiedCheckpoint> {
    let note = Note::from_bytes(text.as_bytes()).ok()?;
    let verifiers = VerifierList::new(vec![Box::new(NoteVerifier {
        name: origin.to_owned(),
        public: *public,
    })]);
    note.verify(&verifiers).ok()?;
    let checkpoint = Checkpoint::from_bytes(note.text()).ok()?;
    if checkpoint.origin() != origin || !checkpoint.extension().is_empty() {
        return None;
    }
    Some(VerifiedCheckpoint {
        size: checkpoint.size(),
        root: checkpoint.hash().0,
    })
}
