//! Claim files (DESIGN section 7): the claim text built through the grammar of
//! [`crate::claims::claim_text`] from the user's flags and a drawn nonce, and the reveal read
//! back from a claim file. Pure functions; the commands that send them are in [`super::cli`].

use std::path::PathBuf;

use rand_core::CryptoRng;
use serde_json::Value;
use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use super::error::ClientError;
use crate::api::RevealRequest;
use crate::claims::{self, ClaimBody, MAX_CLAIMANT_LEN, is_claimant, parse_reveal};
use crate::fields::is_id;
use crate::verify::PinnedKey;
use crate::verify::pinned::ClaimFile;

/// What the user claims, as given on the command line (`--kind` and that kind's flags).
#[derive(Clone, Default)]
pub struct ClaimFlags {
    /// `secret`, `key` or `finding`.
    pub kind: String,
    /// `--message N`: the transcript entry holding the secret.
    pub message: Option<u64>,
    /// `--secret HEX`.
    pub secret: Option<String>,
    /// `--session S`.
    pub session: Option<u64>,
    /// `--party NAME`.
    pub party: Option<String>,
    /// `--key ed25519|x25519`.
    pub key: Option<String>,
    /// `--private-key HEX`.
    pub private_key: Option<String>,
    /// The finding's text (read from `--finding-file`).
    pub finding: Option<Zeroizing<String>>,
}

/// The command-line flag of a request field.
fn flag_of(field: &str) -> String {
    match field {
        "finding" => "--finding-file".to_owned(),
        "challenge" => "ID".to_owned(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

/// A grammar error on a field, worded for the command line.
fn field_error(e: &crate::Error) -> ClientError {
    match e {
        crate::Error::Invalid { field, message } => {
            ClientError::usage(format!("{}: {message}", flag_of(field)))
        }
        other => ClientError::usage(other.to_string()),
    }
}

impl ClaimFlags {
    /// The reveal request these flags make with `nonce` (hex).
    fn reveal(&self, nonce: &str) -> RevealRequest {
        RevealRequest {
            kind: self.kind.clone(),
            message: self.message,
            secret: self.secret.clone(),
            finding: self.finding.as_ref().map(|f| f.to_string()),
            session: self.session,
            party: self.party.clone(),
            key: self.key.clone(),
            private_key: self.private_key.clone(),
            nonce: nonce.to_owned(),
        }
    }
}

/// A new claim file: the claim text of `flags` for `challenge` and `claimant` with a nonce
/// drawn from `rng`, its commitment, and no receipt yet. Every field is checked as the server
/// checks it, and an error names the flag.
pub fn new_claim(
    server_url: &str,
    pinned: &PinnedKey,
    challenge: &str,
    claimant: &str,
    flags: &ClaimFlags,
    rng: &mut impl CryptoRng,
) -> Result<ClaimFile, ClientError> {
    if !is_id(challenge) {
        return Err(ClientError::usage(format!(
            "challenge {challenge:?}: expected a challenge id, 16 lowercase hex digits"
        ))
        .hint("list the challenges with `challenge-server client challenges`"));
    }
    if !is_claimant(claimant) {
        return Err(ClientError::usage(format!(
            "--claimant {claimant:?}: expected 1 to {MAX_CLAIMANT_LEN} characters of A-Z a-z \
             0-9 . _ - @"
        )));
    }
    let mut nonce = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(nonce.as_mut_slice());
    let nonce_hex = Zeroizing::new(hex::encode(*nonce));
    let (body, nonce) = parse_reveal(&flags.reveal(&nonce_hex)).map_err(|e| field_error(&e))?;
    let text = claims::claim_text(challenge, claimant, &body, &nonce);
    Ok(ClaimFile {
        server_url: server_url.to_owned(),
        log_origin: pinned.origin.clone(),
        server_key: Value::String(hex::encode(pinned.public)),
        challenge: challenge.to_owned(),
        claimant: claimant.to_owned(),
        commitment: hex::encode(sha256(&[text.as_bytes()])),
        claim_text: text.to_string(),
        nonce: nonce_hex.to_string(),
        receipt: None,
    })
}

/// The default claim file name: `claim-<challenge>-<first 16 hex digits of the commitment>.json`
/// (the claim id is only known once the server answers).
pub fn default_out(file: &ClaimFile) -> PathBuf {
    let short = file.commitment.get(..16).unwrap_or(&file.commitment);
    PathBuf::from(format!("claim-{}-{short}.json", file.challenge))
}

/// The reveal of a claim file: its claim text's fields (a finding's text given by the user,
/// since the file holds only its hash), checked by rebuilding the claim text through the
/// grammar: the reveal is exactly what was committed.
pub fn reveal_of(
    file: &ClaimFile,
    finding: Option<Zeroizing<String>>,
) -> Result<RevealRequest, ClientError> {
    let mut flags = ClaimFlags::default();
    let mut nonce = None;
    let mut finding_sha256 = None;
    for line in file.claim_text.lines().skip(3) {
        let (name, value) = line.split_once(": ").ok_or_else(|| {
            ClientError::usage("the claim file's claim text is not in the claim grammar")
        })?;
        let number = |v: &str| {
            v.parse::<u64>().map_err(|_| {
                ClientError::usage(format!("the claim file's {name} line is not a number"))
            })
        };
        match name {
            "kind" => flags.kind = value.to_owned(),
            "message" => flags.message = Some(number(value)?),
            "session" => flags.session = Some(number(value)?),
            "secret" => flags.secret = Some(value.to_owned()),
            "party" => flags.party = Some(value.to_owned()),
            "key" => flags.key = Some(value.to_owned()),
            "private-key" => flags.private_key = Some(value.to_owned()),
            "finding-sha256" => finding_sha256 = Some(value.to_owned()),
            "nonce" => nonce = Some(Zeroizing::new(value.to_owned())),
            other => {
                return Err(ClientError::usage(format!(
                    "the claim file's claim text has an unknown line {other:?}"
                )));
            }
        }
    }
    if let Some(expected) = finding_sha256 {
        let text = finding.ok_or_else(|| {
            ClientError::usage("this claim is a finding: its text is not in the claim file")
                .hint("give the finding's text with --finding-file FILE (the file you committed)")
        })?;
        if hex::encode(sha256(&[text.as_bytes()])) != expected {
            return Err(ClientError::usage(
                "--finding-file: its SHA-256 is not the finding-sha256 of the claim text",
            )
            .hint("give the exact file you committed"));
        }
        flags.finding = Some(text);
    }
    let nonce = nonce.ok_or_else(|| ClientError::usage("the claim text has no nonce line"))?;
    let request = flags.reveal(&nonce);
    let (body, nonce) = parse_reveal(&request).map_err(|e| field_error(&e))?;
    let rebuilt = claims::claim_text(&file.challenge, &file.claimant, &body, &nonce);
    if rebuilt.as_str() != file.claim_text
        || hex::encode(sha256(&[rebuilt.as_bytes()])) != file.commitment
    {
        return Err(ClientError::usage(
            "the claim file's claim text is not what its fields rebuild, or does not hash to its \
             commitment: the file was edited",
        ));
    }
    Ok(request)
}

/// A claim body's public description (no secret, no nonce).
pub fn describe(body: &ClaimBody) -> String {
    match body {
        ClaimBody::Secret { message, .. } => format!("the secret of transcript entry {message}"),
        ClaimBody::SessionSecret { session, .. } => format!("the secret of session {session}"),
        ClaimBody::Key {
            session,
            party,
            key,
            ..
        } => format!("{party}'s {} key in session {session}", key.name()),
        ClaimBody::PropertySecret {
            property, message, ..
        } => format!(
            "the secret of transcript entry {message} ({})",
            property.name()
        ),
        ClaimBody::Finding { .. } => "a finding".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};

    use super::*;

    fn pinned() -> PinnedKey {
        PinnedKey {
            public: [7; 32],
            origin: "localhost/challenge-server".to_owned(),
        }
    }

    fn secret_flags() -> ClaimFlags {
        ClaimFlags {
            kind: "secret".to_owned(),
            message: Some(7),
            secret: Some("00112233445566778899aabbccddeeff".to_owned()),
            ..ClaimFlags::default()
        }
    }

    #[test]
    fn a_claim_is_built_through_the_grammar_and_revealed_from_its_file() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let file = new_claim(
            "http://127.0.0.1:1",
            &pinned(),
            "3f2a9c0d1e4b5a69",
            "alice.research",
            &secret_flags(),
            &mut rng,
        )
        .unwrap();
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let mut nonce = [0u8; 32];
        rng.fill_bytes(&mut nonce);
        assert_eq!(file.nonce, hex::encode(nonce));
        let (body, _) = parse_reveal(&secret_flags().reveal(&file.nonce)).unwrap();
        assert_eq!(
            file.commitment,
            hex::encode(claims::commitment(
                "3f2a9c0d1e4b5a69",
                "alice.research",
                &body,
                &nonce
            ))
        );
        assert!(file.receipt.is_none());
        let reveal = reveal_of(&file, None).unwrap();
        assert_eq!(reveal, secret_flags().reveal(&file.nonce));
        assert!(
            default_out(&file)
                .to_str()
                .unwrap()
                .starts_with("claim-3f2a9c0d1e4b5a69-")
        );
        // Debug never shows the nonce or the claim text.
        let debug = format!("{file:?}");
        assert!(!debug.contains(&file.nonce) && !debug.contains("secret: 0011"));
    }

    #[test]
    fn bad_flags_are_named() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let mut bad = secret_flags();
        bad.secret = Some("XYZ".to_owned());
        let e = new_claim("u", &pinned(), "3f2a9c0d1e4b5a69", "a", &bad, &mut rng).unwrap_err();
        assert!(
            e.message.starts_with("--secret: expected 32 lowercase hex"),
            "{e}"
        );
        let mut bad = secret_flags();
        bad.message = None;
        let e = new_claim("u", &pinned(), "3f2a9c0d1e4b5a69", "a", &bad, &mut rng).unwrap_err();
        assert!(e.message.starts_with("--message"), "{e}");
        let e = new_claim("u", &pinned(), "nope", "a", &secret_flags(), &mut rng).unwrap_err();
        assert!(e.message.contains("challenge id"), "{e}");
        let e = new_claim(
            "u",
            &pinned(),
            "3f2a9c0d1e4b5a69",
            "a b",
            &secret_flags(),
            &mut rng,
        )
        .unwrap_err();
        assert!(e.message.starts_with("--claimant"), "{e}");
    }

    #[test]
    fn a_finding_is_revealed_with_its_text_only() {
        let mut rng = ChaCha20Rng::from_seed([2; 32]);
        let text = Zeroizing::new("The prekey ids are sequential.".to_owned());
        let flags = ClaimFlags {
            kind: "finding".to_owned(),
            finding: Some(text.clone()),
            ..ClaimFlags::default()
        };
        let file = new_claim(
            "u",
            &pinned(),
            "3f2a9c0d1e4b5a69",
            "carol",
            &flags,
            &mut rng,
        )
        .unwrap();
        assert!(!file.claim_text.contains("sequential"));
        assert!(
            reveal_of(&file, None)
                .unwrap_err()
                .hint
                .unwrap()
                .contains("--finding-file")
        );
        let other = Zeroizing::new("another text".to_owned());
        assert!(reveal_of(&file, Some(other)).is_err());
        assert_eq!(
            reveal_of(&file, Some(text)).unwrap().finding.as_deref(),
            Some("The prekey ids are sequential.")
        );
        let mut edited = file.clone();
        edited.claim_text = edited.claim_text.replace("carol", "mallory");
        assert!(reveal_of(&edited, None).is_err());
    }
}
