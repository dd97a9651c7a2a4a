//! The claim texts and the checks of commit and reveal requests (docs/API.md, "Claim
//! commitment"): pure functions of the request, shared by the lifecycle ([`super`]), `verify`
//! and the tracks, and built without the server feature for fuzz/.

use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use crate::Error;
use crate::api::{CommitRequest, Receipt, RevealRequest};
use crate::fields::{hex_field, is_id};
use crate::targets::IdentityKey;
use crate::tracks::{ClaimBody, SECRET_LEN, SecurityProperty};

/// Longest claimant name.
pub const MAX_CLAIMANT_LEN: usize = 64;
/// Longest free-form finding, in bytes.
pub const MAX_FINDING_LEN: usize = 8_000;

/// The first line of a claim text.
pub const CLAIM_LABEL: &str = "challenge-server/v1/claim";
/// The first line of a receipt text.
pub const RECEIPT_LABEL: &str = "challenge-server/v1/receipt";

/// The exact text whose SHA-256 is the commitment (docs/API.md, "Claim commitment"): lines
/// ending in `\n`.
pub fn claim_text(
    challenge: &str,
    claimant: &str,
    body: &ClaimBody,
    nonce: &[u8; 32],
) -> Zeroizing<String> {
    // Zeroized: the secret lines hold the claim's secret or private key.
    let specific = Zeroizing::new(match body {
        ClaimBody::Secret { message, secret } => {
            format!(
                "kind: secret\nmessage: {message}\nsecret: {}\n",
                hex::encode(**secret)
            )
        }
        ClaimBody::SessionSecret { session, secret } => {
            format!(
                "kind: secret\nsession: {session}\nsecret: {}\n",
                hex::encode(**secret)
            )
        }
        ClaimBody::Key {
            session,
            party,
            key,
            private,
        } => format!(
            "kind: key\nsession: {session}\nparty: {party}\nkey: {}\nprivate-key: {}\n",
            key.name(),
            Zeroizing::new(hex::encode(**private)).as_str()
        ),
        ClaimBody::PropertySecret {
            property,
            message,
            secret,
        } => format!(
            "kind: {}\nmessage: {message}\nsecret: {}\n",
            property.name(),
            hex::encode(**secret)
        ),
        ClaimBody::Finding { text } => format!(
            "kind: finding\nfinding-sha256: {}\n",
            hex::encode(sha256(&[text.as_bytes()]))
        ),
    });
    Zeroizing::new(format!(
        "{CLAIM_LABEL}\nchallenge: {challenge}\nclaimant: {claimant}\n{}nonce: {}\n",
        specific.as_str(),
        hex::encode(nonce)
    ))
}

/// The commitment to a claim.
pub fn commitment(challenge: &str, claimant: &str, body: &ClaimBody, nonce: &[u8; 32]) -> [u8; 32] {
    sha256(&[claim_text(challenge, claimant, body, nonce).as_bytes()])
}

/// The exact text the receipt signature covers (docs/API.md, "Receipt").
pub fn receipt_text(r: &Receipt) -> String {
    format!(
        "{RECEIPT_LABEL}\nclaim: {}\nchallenge: {}\nclaimant: {}\ncommitment: {}\nlog-index: {}\ntime: {}\n",
        r.claim, r.challenge, r.claimant, r.commitment, r.log_index, r.time
    )
}

/// Whether `name` is a valid claimant name: 1 to 64 of `A-Z a-z 0-9 . _ - @`.
pub fn is_claimant(name: &str) -> bool {
    (1..=MAX_CLAIMANT_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

/// Longest party name in a `key` claim.
pub const MAX_PARTY_LEN: usize = 16;

/// Checks a reveal request's fields and returns what it claims and its nonce. Each kind takes
/// its own fields; a missing one, or one of another kind, is an error naming it.
pub fn parse_reveal(req: &RevealRequest) -> Result<(ClaimBody, [u8; 32]), Error> {
    let kind = req.kind.as_str();
    let given: [(&str, bool); 7] = [
        ("message", req.message.is_some()),
        ("secret", req.secret.is_some()),
        ("finding", req.finding.is_some()),
        ("session", req.session.is_some()),
        ("party", req.party.is_some()),
        ("key", req.key.is_some()),
        ("private_key", req.private_key.is_some()),
    ];
    let allowed: &[&str] = match kind {
        // A transcript's secret names its message, a session's secret its session.
        "secret" if req.session.is_some() => &["secret", "session"],
        "secret" => &["message", "secret"],
        _ if SecurityProperty::by_name(kind).is_some() => &["message", "secret"],
        "key" => &["session", "party", "key", "private_key"],
        "finding" => &["finding"],
        _ => {
            return Err(Error::invalid(
                "kind",
                "expected \"secret\", \"key\", \"forward-secrecy\", \"post-compromise\" or \"finding\"",
            ));
        }
    };
    if let Some((field, _)) = given
        .iter()
        .find(|(field, present)| *present && !allowed.contains(field))
    {
        return Err(Error::invalid(
            *field,
            format!("not allowed for kind {kind:?}"),
        ));
    }
    let required = |field: &str| Error::invalid(field, format!("required for kind {kind:?}"));
    let body = match (kind, SecurityProperty::by_name(kind)) {
        (_, Some(property)) => ClaimBody::PropertySecret {
            property,
            message: req.message.ok_or_else(|| required("message"))?,
            secret: Zeroizing::new(hex_field::<SECRET_LEN>(
                "secret",
                req.secret.as_deref().ok_or_else(|| required("secret"))?,
            )?),
        },
        ("secret", None) => {
            let secret = req.secret.as_deref().ok_or_else(|| required("secret"))?;
            let secret = Zeroizing::new(hex_field::<SECRET_LEN>("secret", secret)?);
            match req.session {
                Some(session) => ClaimBody::SessionSecret { session, secret },
                None => ClaimBody::Secret {
                    message: req.message.ok_or_else(|| {
                        Error::invalid(
                            "message",
                            "required for kind \"secret\" (or session, for a session's secret)",
                        )
                    })?,
                    secret,
                },
            }
        }
        ("key", None) => {
            let session = req.session.ok_or_else(|| required("session"))?;
            let party = req.party.as_deref().ok_or_else(|| required("party"))?;
            if party.is_empty()
                || party.len() > MAX_PARTY_LEN
                || !party.bytes().all(|b| b.is_ascii_lowercase())
            {
                return Err(Error::invalid(
                    "party",
                    format!("expected a party name: 1 to {MAX_PARTY_LEN} of a-z"),
                ));
            }
            let key = req.key.as_deref().ok_or_else(|| required("key"))?;
            let key = IdentityKey::by_name(key)
                .ok_or_else(|| Error::invalid("key", "expected \"ed25519\" or \"x25519\""))?;
            let private = req
                .private_key
                .as_deref()
                .ok_or_else(|| required("private_key"))?;
            ClaimBody::Key {
                session,
                party: party.to_owned(),
                key,
                private: Zeroizing::new(hex_field::<32>("private_key", private)?),
            }
        }
        _ => {
            let text = req.finding.as_deref().ok_or_else(|| required("finding"))?;
            if text.trim().is_empty() || text.len() > MAX_FINDING_LEN {
                return Err(Error::invalid(
                    "finding",
                    format!("expected 1 to {MAX_FINDING_LEN} bytes of text"),
                ));
            }
            ClaimBody::Finding {
                text: Zeroizing::new(text.to_owned()),
            }
        }
    };
    Ok((body, hex_field::<32>("nonce", &req.nonce)?))
}

/// Checks a commit request's fields; returns the commitment.
pub fn check_commit(req: &CommitRequest) -> Result<[u8; 32], Error> {
    if !is_id(&req.challenge) {
        return Err(Error::invalid(
            "challenge",
            "expected a challenge id: 16 lowercase hex digits",
        ));
    }
    if !is_claimant(&req.claimant) {
        return Err(Error::invalid(
            "claimant",
            format!("expected 1 to {MAX_CLAIMANT_LEN} characters of A-Z a-z 0-9 . _ - @"),
        ));
    }
    hex_field::<32>("commitment", &req.commitment)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of docs/API.md, "Claim commitment".
    #[test]
    fn commitment_matches_the_documented_example() {
        let secret: [u8; SECRET_LEN] =
            hex_field("secret", "00112233445566778899aabbccddeeff").unwrap();
        let nonce = hex_field::<32>(
            "nonce",
            "5c1e0a9b7d3f4e2a8b6c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c",
        )
        .unwrap();
        let body = ClaimBody::Secret {
            message: 7,
            secret: Zeroizing::new(secret),
        };
        assert_eq!(
            hex::encode(commitment(
                "3f2a9c0d1e4b5a69",
                "alice.research",
                &body,
                &nonce
            )),
            "6194347caf4710b86fa37135bfcbac2c0fd2851829952d099c1a6edbbda72134"
        );
        let finding = ClaimBody::Finding {
            text: Zeroizing::new("The prekey ids are sequential.".to_owned()),
        };
        let mut nonce = [0u8; 32];
        nonce[31] = 0xaa;
        assert_eq!(
            hex::encode(commitment("3f2a9c0d1e4b5a69", "carol", &finding, &nonce)),
            "0b8764349a91d4918cd197e4a9b0ebb1174672900ea04c1f4401ab6ca4367004"
        );
    }

    /// The security-property kinds name a message and a secret, with their kind on the `kind`
    /// line; their reveals take exactly those fields.
    #[test]
    fn property_claims_have_their_kind_line_and_fields() {
        let reveal = |json: &str| -> Result<(ClaimBody, [u8; 32]), Error> {
            parse_reveal(&serde_json::from_str(json).unwrap())
        };
        let nonce = "11".repeat(32);
        let secret = "00112233445566778899aabbccddeeff";
        for (kind, property) in [
            ("forward-secrecy", SecurityProperty::ForwardSecrecy),
            ("post-compromise", SecurityProperty::PostCompromise),
        ] {
            let (body, n) = reveal(&format!(
                r#"{{"kind":"{kind}","message":3,"secret":"{secret}","nonce":"{nonce}"}}"#
            ))
            .unwrap();
            assert_eq!(body.kind(), kind);
            assert!(matches!(
                &body,
                ClaimBody::PropertySecret { property: p, message: 3, .. } if *p == property
            ));
            let text = claim_text("3f2a9c0d1e4b5a69", "eve", &body, &n);
            assert_eq!(
                text.as_str(),
                format!(
                    "challenge-server/v1/claim\nchallenge: 3f2a9c0d1e4b5a69\nclaimant: eve\n\
                     kind: {kind}\nmessage: 3\nsecret: {secret}\nnonce: {nonce}\n"
                )
            );
            let field = |json: String| match reveal(&json) {
                Err(Error::Invalid { field, .. }) => field,
                other => panic!("{json}: {other:?}"),
            };
            assert_eq!(
                field(format!(
                    r#"{{"kind":"{kind}","secret":"{secret}","nonce":"{nonce}"}}"#
                )),
                "message"
            );
            assert_eq!(
                field(format!(
                    r#"{{"kind":"{kind}","message":3,"nonce":"{nonce}"}}"#
                )),
                "secret"
            );
            assert_eq!(
                field(format!(
                    r#"{{"kind":"{kind}","message":3,"session":1,"secret":"{secret}","nonce":"{nonce}"}}"#
                )),
                "session"
            );
        }
    }

    #[test]
    fn field_checks() {
        assert!(is_claimant("alice.research@lab-1_x"));
        assert!(!is_claimant("a b") && !is_claimant("") && !is_claimant(&"a".repeat(65)));
        assert!(hex_field::<2>("f", "abcd").is_ok());
        assert!(hex_field::<2>("f", "ABCD").is_err() && hex_field::<2>("f", "abc").is_err());
    }
}
