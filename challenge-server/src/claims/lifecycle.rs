//! The claim lifecycle on the shared app: commit, reveal, the operator's decision, the rebuild
//! of the claim rows from the log, and the views of a stored claim.

use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use super::judge::{ClaimContext, judge};
use super::text::{check_commit, commitment, parse_reveal, receipt_text};
use crate::Error;
use crate::api::{ClaimView, CommitRequest, DecisionRequest, Receipt, RevealRequest, VerdictView};
use crate::challenges;
use crate::fields::{hex_field, is_id};
use crate::keys::{Purpose, ct_eq32, random_hex};
use crate::log::Event;
use crate::state::App;
use crate::store::claims::ClaimRow;
use crate::store::{self};
use crate::tracks::Judgement;

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
    app.metrics.commit();
    // The receipt's head (the tree right after this commit) is recorded before it is given out.
    app.log.served(log_index.saturating_add(1)).await?;
    tracing::info!(claim = %receipt.claim, challenge = %receipt.challenge, log_index, "claim committed");
    Ok(receipt)
}

/// Reveals a committed claim and judges it ([`super::judge()`]: a claim about a session must
/// name one opened before its commit).
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
    // The session the claim names, as the log has it: opened (and when) or not.
    let session_opened = match body.session() {
        Some(s) => store::sessions::get_in(&mut tx, &challenge.id, s)
            .await?
            .map(|row| row.open_log_index),
        None => None,
    };
    let context = ClaimContext {
        commit_index: claim.log_index,
        session_opened,
    };
    let judged = judge(track, target, &seed, &public, &body, &context)?;
    let mut superseded = false;
    let verdict = match judged.judgement {
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
                superseded = true;
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
    if superseded {
        app.metrics.verdict(kind, "valid-not-first", "automatic");
    }
    app.metrics.verdict(kind, verdict, "automatic");
    tracing::info!(claim = %claim.id, verdict, log_index, "claim revealed");
    Ok(VerdictView {
        claim: claim.id,
        verdict: verdict.to_owned(),
        log_index,
        reason: judged.refusal.map(|r| r.to_string()),
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
        "won" => "won",
        "valid-not-first" => "valid-not-first",
        "invalid" => "invalid",
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
    app.metrics.verdict(
        crate::metrics::kind_label(claim.kind.as_deref()),
        verdict,
        "operator",
    );
    tracing::info!(claim = %claim.id, verdict, log_index, "claim decided by the operator");
    Ok(VerdictView {
        claim: claim.id,
        verdict: verdict.to_owned(),
        log_index,
        reason: None,
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
