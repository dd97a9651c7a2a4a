//! Claims, commit then reveal (DESIGN section 4, "Claim"; docs/API.md, "Claim commitment").
//!
//! A commit is the SHA-256 of the claim text; its receipt, signed by the server key, is
//! returned only after the commit is durable. A reveal opens the commitment and is judged at
//! once: `won` (the valid claim with the lowest commit log index), `valid-not-first`,
//! `invalid`; a free-form finding goes to `needs-review` for the operator.

use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use crate::Error;
use crate::api::{ClaimView, CommitRequest, DecisionRequest, Receipt, RevealRequest, VerdictView};
use crate::challenges::{self, is_id};
pub use crate::fields::hex_field;
use crate::keys::{Purpose, ct_eq32, random_hex};
use crate::log::Event;
use crate::state::App;
use crate::store::claims::ClaimRow;
use crate::store::{self};
use crate::targets::IdentityKey;
pub use crate::tracks::ClaimBody;
use crate::tracks::{Judgement, SECRET_LEN};

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
        "key" => &["session", "party", "key", "private_key"],
        "finding" => &["finding"],
        _ => {
            return Err(Error::invalid(
                "kind",
                "expected \"secret\", \"key\" or \"finding\"",
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
    let body = match kind {
        "secret" => {
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
        "key" => {
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

/// Commits a claim: durable before the signed receipt is returned. `admit` is asked once the
/// commit is known to be acceptable (fields, challenge, deadline, no duplicate), so a rate limit
/// there is charged only for commits that would be accepted; its refusal changes nothing.
pub async fn commit(
    app: &App,
    req: &CommitRequest,
    admit: impl FnOnce() -> Result<(), Error>,
) -> Result<Receipt, Error> {
    let commitment = check_commit(req)?;
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let challenge = store::challenges::get_in(&mut tx, &req.challenge)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "challenge",
            message: "no challenge with this id".to_owned(),
        })?;
    if !challenge.is_open() {
        return Err(Error::Conflict {
            field: "challenge",
            message: "the challenge is closed; it takes no more claims".to_owned(),
        });
    }
    let time = app.clock.now();
    if time >= challenge.deadline {
        return Err(Error::Conflict {
            field: "challenge",
            message: "the challenge's deadline has passed; it takes no more claims".to_owned(),
        });
    }
    if store::claims::commitment_exists(&mut tx, &challenge.id, &commitment).await? {
        return Err(Error::Conflict {
            field: "commitment",
            message: "this commitment is already committed in this challenge".to_owned(),
        });
    }
    admit()?;
    let id = random_hex(challenges::ID_HEX_LEN / 2)?;
    let log_index = log
        .append(
            &mut tx,
            &Event::ClaimCommitted {
                challenge: challenge.id.clone(),
                claim: id.clone(),
                claimant: req.claimant.clone(),
                commitment: req.commitment.clone(),
                time,
            },
        )
        .await?;
    let mut receipt = Receipt {
        claim: id.clone(),
        challenge: challenge.id.clone(),
        claimant: req.claimant.clone(),
        commitment: req.commitment.clone(),
        log_index,
        time,
        signature: String::new(),
        checkpoint: log.checkpoint(app.log.origin(), &app.server_key)?,
    };
    let signature = app.server_key.sign(receipt_text(&receipt).as_bytes());
    receipt.signature = hex::encode(signature);
    store::claims::insert(
        &mut tx,
        &ClaimRow {
            id,
            challenge: challenge.id,
            claimant: req.claimant.clone(),
            commitment,
            committed_at: time,
            log_index,
            receipt_signature: signature.to_vec(),
            receipt_checkpoint: receipt.checkpoint.clone(),
            kind: None,
            sealed_reveal: None,
            reveal_json: None,
            verdict: None,
            verdict_log_index: None,
            decided_by: None,
        },
    )
    .await?;
    tx.commit().await?;
    log.committed();
    // The receipt's head (the tree right after this commit) is recorded before it is given out.
    app.log.served(log_index.saturating_add(1)).await?;
    tracing::info!(claim = %receipt.claim, challenge = %receipt.challenge, log_index, "claim committed");
    Ok(receipt)
}

/// Reveals a committed claim and judges it.
pub async fn reveal(app: &App, id: &str, req: &RevealRequest) -> Result<VerdictView, Error> {
    if !is_id(id) {
        return Err(Error::invalid(
            "id",
            "expected a claim id: 16 lowercase hex digits",
        ));
    }
    let (body, nonce) = parse_reveal(req)?;
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let claim = store::claims::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "id",
            message: "no committed claim with this id; commit first".to_owned(),
        })?;
    if claim.kind.is_some() {
        return Err(Error::Conflict {
            field: "id",
            message: "this claim is already revealed".to_owned(),
        });
    }
    let opened = commitment(&claim.challenge, &claim.claimant, &body, &nonce);
    if !ct_eq32(&opened, &claim.commitment) {
        return Err(Error::Unprocessable {
            field: "claim",
            message: "the revealed claim does not hash to the committed value (see docs/API.md, \
                      \"Claim commitment\": challenge, claimant, kind, message, secret or \
                      finding, nonce)"
                .to_owned(),
        });
    }
    let challenge = store::challenges::get_in(&mut tx, &claim.challenge)
        .await?
        .ok_or_else(|| Error::internal("a claim's challenge is missing"))?;
    let now = app.clock.now();
    if challenge.reveal_deadline.is_some_and(|d| now >= d) {
        return Err(Error::Conflict {
            field: "id",
            message: "the challenge's reveal deadline has passed: unrevealed commits are void"
                .to_owned(),
        });
    }
    let kind = body.kind();
    let public_json = serde_json::to_string(req)?;
    log.append(
        &mut tx,
        &Event::ClaimRevealed {
            challenge: challenge.id.clone(),
            claim: claim.id.clone(),
            kind: kind.to_owned(),
            reveal_sha256: hex::encode(sha256(&[public_json.as_bytes()])),
            time: now,
        },
    )
    .await?;
    let track = challenges::track_of(&challenge)?;
    let seed = challenges::open_seed(app, &challenge)?;
    let public = challenges::public_in(&mut tx, &challenge).await?;
    let target = challenges::target_of(&challenge)?;
    let verdict = match track.judge(target, &seed, &public, &body)? {
        Judgement::Invalid => "invalid",
        Judgement::NeedsReview => "needs-review",
        // Priority among valid claims of a kind: the lowest commit log index.
        Judgement::Valid => match store::claims::winner(&mut tx, &challenge.id, kind).await? {
            Some(w) if w.log_index < claim.log_index => "valid-not-first",
            Some(w) => {
                // This commit came first: the earlier winner is superseded.
                let index = log
                    .append(
                        &mut tx,
                        &verdict_event(&w, "valid-not-first", "automatic", now),
                    )
                    .await?;
                store::claims::set_verdict(&mut tx, &w.id, "valid-not-first", index, "automatic")
                    .await?;
                "won"
            }
            None => "won",
        },
    };
    let log_index = log
        .append(&mut tx, &verdict_event(&claim, verdict, "automatic", now))
        .await?;
    let sealed = app.kek.seal(
        Purpose::ClaimReveal { claim: &claim.id },
        &Zeroizing::new(serde_json::to_vec(req)?),
    )?;
    // Taken after the close, the reveal is public at once; before, it stays sealed alone until
    // the close publishes it.
    let public_json = if challenge.is_open() {
        None
    } else {
        log.append(
            &mut tx,
            &Event::RevealPublished {
                challenge: challenge.id.clone(),
                claim: claim.id.clone(),
                reveal: req.clone(),
            },
        )
        .await?;
        Some(public_json)
    };
    store::claims::set_reveal(
        &mut tx,
        &claim.id,
        &store::claims::Reveal {
            kind,
            sealed: &sealed,
            public_json: public_json.as_deref(),
            verdict,
            verdict_log_index: log_index,
            decided_by: "automatic",
        },
    )
    .await?;
    if verdict == "won" && challenge.close_on_win && challenge.is_open() {
        challenges::close_in(app, &mut log, &mut tx, &challenge, "won").await?;
    }
    tx.commit().await?;
    log.committed();
    tracing::info!(claim = %claim.id, verdict, log_index, "claim revealed");
    Ok(VerdictView {
        claim: claim.id,
        verdict: verdict.to_owned(),
        log_index,
    })
}

fn verdict_event(claim: &ClaimRow, verdict: &str, decided_by: &str, time: u64) -> Event {
    Event::Verdict {
        challenge: claim.challenge.clone(),
        claim: claim.id.clone(),
        verdict: verdict.to_owned(),
        decided_by: decided_by.to_owned(),
        time,
    }
}

/// The operator's decision on a `needs-review` claim.
pub async fn decide(app: &App, id: &str, req: &DecisionRequest) -> Result<VerdictView, Error> {
    if !is_id(id) {
        return Err(Error::invalid(
            "id",
            "expected a claim id: 16 lowercase hex digits",
        ));
    }
    let verdict = match req.verdict.as_str() {
        v @ ("won" | "valid-not-first" | "invalid") => v,
        _ => {
            return Err(Error::invalid(
                "verdict",
                "expected \"won\", \"valid-not-first\" or \"invalid\"",
            ));
        }
    };
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let claim = store::claims::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "id",
            message: "no claim with this id".to_owned(),
        })?;
    if claim.verdict.as_deref() != Some("needs-review") {
        return Err(Error::Conflict {
            field: "id",
            message: "this claim is not awaiting review".to_owned(),
        });
    }
    let log_index = log
        .append(
            &mut tx,
            &verdict_event(&claim, verdict, "operator", app.clock.now()),
        )
        .await?;
    store::claims::set_verdict(&mut tx, &claim.id, verdict, log_index, "operator").await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(claim = %claim.id, verdict, log_index, "claim decided by the operator");
    Ok(VerdictView {
        claim: claim.id,
        verdict: verdict.to_owned(),
        log_index,
    })
}

/// What a rebuild from the log did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// Log entries read.
    pub log_entries: u64,
    /// Claims written from their events.
    pub claims: u64,
    /// Claims revealed before the reveal events existed, left as stored.
    pub kept: u64,
}

/// Rebuilds every claim row from the log's events (the rows are a cache of the log): the
/// commit from `claim-committed` (its receipt signed again, the same bytes), the kind from
/// `claim-revealed`, the public reveal from `reveal-published`, the verdict from the latest
/// `verdict` or `claim-void`. Only the sealed reveals, which are secret and never logged, are
/// kept from the rows. A claim revealed before the reveal events existed is left as it is.
pub async fn rebuild_from_log(app: &App) -> Result<RebuildReport, Error> {
    let size = app.log.size().await;
    let mut rows: Vec<ClaimRow> = Vec::new();
    let mut report = RebuildReport {
        log_entries: size,
        ..RebuildReport::default()
    };
    let mut from = 0;
    while from < size {
        let to = size.min(from.saturating_add(crate::log::MAX_ENTRIES_PAGE));
        for (index, data) in store::log::entries(&app.store, from, to).await? {
            let event = Event::parse(&data)?;
            let find =
                |rows: &mut Vec<ClaimRow>, claim: &str| rows.iter().position(|r| r.id == claim);
            match event {
                Event::ClaimCommitted {
                    challenge,
                    claim,
                    claimant,
                    commitment,
                    time,
                } => {
                    let mut receipt = Receipt {
                        claim: claim.clone(),
                        challenge: challenge.clone(),
                        claimant: claimant.clone(),
                        commitment: commitment.clone(),
                        log_index: index,
                        time,
                        signature: String::new(),
                        checkpoint: app
                            .log
                            .checkpoint_at(index.saturating_add(1), &app.server_key)
                            .await?,
                    };
                    let signature = app.server_key.sign(receipt_text(&receipt).as_bytes());
                    receipt.signature = hex::encode(signature);
                    rows.push(ClaimRow {
                        id: claim,
                        challenge,
                        claimant,
                        commitment: hex_field::<32>("commitment", &commitment)?,
                        committed_at: time,
                        log_index: index,
                        receipt_signature: signature.to_vec(),
                        receipt_checkpoint: receipt.checkpoint,
                        kind: None,
                        sealed_reveal: None,
                        reveal_json: None,
                        verdict: None,
                        verdict_log_index: None,
                        decided_by: None,
                    });
                }
                Event::ClaimRevealed { claim, kind, .. } => {
                    if let Some(i) = find(&mut rows, &claim)
                        && let Some(row) = rows.get_mut(i)
                    {
                        row.kind = Some(kind);
                    }
                }
                Event::RevealPublished { claim, reveal, .. } => {
                    if let Some(i) = find(&mut rows, &claim)
                        && let Some(row) = rows.get_mut(i)
                    {
                        row.reveal_json = Some(serde_json::to_string(&reveal)?);
                    }
                }
                Event::Verdict {
                    claim,
                    verdict,
                    decided_by,
                    ..
                } => {
                    if let Some(i) = find(&mut rows, &claim)
                        && let Some(row) = rows.get_mut(i)
                    {
                        row.verdict = Some(verdict);
                        row.verdict_log_index = Some(index);
                        row.decided_by = Some(decided_by);
                    }
                }
                Event::ClaimVoid { claim, .. } => {
                    if let Some(i) = find(&mut rows, &claim)
                        && let Some(row) = rows.get_mut(i)
                    {
                        row.verdict = Some("void".to_owned());
                        row.verdict_log_index = Some(index);
                        row.decided_by = Some("automatic".to_owned());
                    }
                }
                _ => {}
            }
        }
        from = to;
    }
    let mut tx = app.store.begin_write().await?;
    if store::log::size_in(&mut tx).await? != size {
        return Err(Error::Conflict {
            field: "log",
            message: "the log grew during the rebuild; run it again".to_owned(),
        });
    }
    for row in &rows {
        // A verdict other than a void with no reveal event: revealed before the events existed.
        if row.kind.is_none() && row.verdict.as_deref().is_some_and(|v| v != "void") {
            report.kept += 1;
            continue;
        }
        store::claims::upsert_rebuilt(&mut tx, row).await?;
        report.claims += 1;
    }
    tx.commit().await?;
    tracing::info!(
        claims = report.claims,
        kept = report.kept,
        "claims rebuilt from the log"
    );
    Ok(report)
}

/// The receipt of a stored claim.
pub fn receipt(claim: &ClaimRow) -> Receipt {
    Receipt {
        claim: claim.id.clone(),
        challenge: claim.challenge.clone(),
        claimant: claim.claimant.clone(),
        commitment: hex::encode(claim.commitment),
        log_index: claim.log_index,
        time: claim.committed_at,
        signature: hex::encode(&claim.receipt_signature),
        checkpoint: claim.receipt_checkpoint.clone(),
    }
}

/// The public view of a claim; the revealed content only once the challenge is closed, from
/// its public copy (never unsealed here: the claims pages of a closed challenge need no KEK).
pub fn view(claim: &ClaimRow, challenge_closed: bool) -> Result<ClaimView, Error> {
    let reveal = match (&claim.reveal_json, challenge_closed) {
        (Some(json), true) => Some(serde_json::from_str(json)?),
        (None, true) if claim.sealed_reveal.is_some() => {
            // The close and the start-up backfill leave no revealed claim of a closed
            // challenge without its copy.
            return Err(Error::internal(format!(
                "claim {} of a closed challenge is revealed but has no public reveal",
                claim.id
            )));
        }
        _ => None,
    };
    Ok(ClaimView {
        id: claim.id.clone(),
        challenge: claim.challenge.clone(),
        claimant: claim.claimant.clone(),
        commitment: hex::encode(claim.commitment),
        log_index: claim.log_index,
        committed_at: claim.committed_at,
        receipt: receipt(claim),
        status: if claim.kind.is_some() {
            "revealed"
        } else {
            "committed"
        }
        .to_owned(),
        kind: claim.kind.clone(),
        verdict: claim.verdict.clone(),
        verdict_log_index: claim.verdict_log_index,
        decided_by: claim.decided_by.clone(),
        reveal,
    })
}

/// Loads a claim, with whether its challenge is closed, or answers 404.
pub async fn find(app: &App, id: &str) -> Result<(ClaimRow, bool), Error> {
    if !is_id(id) {
        return Err(Error::invalid(
            "id",
            "expected a claim id: 16 lowercase hex digits",
        ));
    }
    store::claims::get_with_closed(&app.store, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "id",
            message: "no claim with this id".to_owned(),
        })
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

    #[test]
    fn field_checks() {
        assert!(is_claimant("alice.research@lab-1_x"));
        assert!(!is_claimant("a b") && !is_claimant("") && !is_claimant(&"a".repeat(65)));
        assert!(hex_field::<2>("f", "abcd").is_ok());
        assert!(hex_field::<2>("f", "ABCD").is_err() && hex_field::<2>("f", "abc").is_err());
    }
}
