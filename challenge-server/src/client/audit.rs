//! The transparency-log checks of the client, built on the verifier's own functions
//! ([`crate::log::check_inclusion`], [`crate::log::check_consistency`],
//! [`crate::log::note::open_checkpoint`], [`crate::verify::receipt_signed`]): a receipt is signed
//! under the pinned key, its checkpoint is the tree right after its commit and includes the
//! commit's event, and every checkpoint the client sees is consistent with the last one.

use super::api::Api;
use super::error::ClientError;
use crate::api::{ConsistencyProofView, InclusionProofView, LogEntries, Receipt};
use crate::log::note::{VerifiedCheckpoint, open_checkpoint};
use crate::log::{self, Event};
use crate::verify::{PinnedKey, receipt_signed};

fn hex32(what: &str, value: &str) -> Result<[u8; 32], ClientError> {
    hex::decode(value)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| ClientError::mismatch(format!("{what}: not 32 bytes of hex")))
}

fn path_of(what: &str, proof: &[String]) -> Result<Vec<[u8; 32]>, ClientError> {
    proof.iter().map(|h| hex32(what, h)).collect()
}

/// The server's latest checkpoint, verified under the pinned key, with its text.
pub async fn latest(
    api: &Api,
    pinned: &PinnedKey,
) -> Result<(String, VerifiedCheckpoint), ClientError> {
    let text = api.get_text("/log/checkpoint").await?;
    let head = open_checkpoint(&text, &pinned.origin, &pinned.public).ok_or_else(|| {
        ClientError::mismatch(
            "the server's log checkpoint does not verify under the pinned key and origin",
        )
        .hint("keep its answer as evidence; if the operator announced a new key, pin it with `client pin --force`")
    })?;
    Ok((text, head))
}

/// `new` extends `old`: the same tree, or a larger one with a consistency proof that checks. A
/// smaller tree is a rollback, a different root of the same size or a failing proof a fork.
pub async fn check_grown(
    api: &Api,
    old: VerifiedCheckpoint,
    new: VerifiedCheckpoint,
    what: &str,
) -> Result<(), ClientError> {
    if new.size < old.size {
        return Err(ClientError::mismatch(format!(
            "the log shrank: the server's checkpoint has {} entries, {what} had {} (a rolled-back \
             log)",
            new.size, old.size
        ))
        .hint("keep the state file and your claim files as evidence"));
    }
    if new.size == old.size {
        return if new.root == old.root {
            Ok(())
        } else {
            Err(ClientError::mismatch(format!(
                "the server's checkpoint of size {} has another root than {what} (a forked log)",
                new.size
            ))
            .hint("keep the state file and your claim files as evidence"))
        };
    }
    let proof: ConsistencyProofView = api
        .get(&format!(
            "/log/proof/consistency?from={}&to={}",
            old.size, new.size
        ))
        .await?;
    let path = path_of("consistency proof", &proof.proof)?;
    if log::check_consistency(&path, old.size, old.root, new.size, new.root) {
        Ok(())
    } else {
        Err(ClientError::mismatch(format!(
            "the log of size {} is not consistent with {what} (size {}): a forked log",
            new.size, old.size
        ))
        .hint("keep the state file and your claim files as evidence"))
    }
}

/// A receipt for the claim `file` holds: signed under the pinned key, for that challenge,
/// claimant and commitment, its checkpoint the tree right after its commit, and the log's entry
/// at its index the `claim-committed` event, included in that checkpoint. Returns the
/// checkpoint.
pub async fn check_receipt(
    api: &Api,
    pinned: &PinnedKey,
    r: &Receipt,
    challenge: &str,
    claimant: &str,
    commitment: &str,
) -> Result<VerifiedCheckpoint, ClientError> {
    let claim = &r.claim;
    if r.challenge != challenge || r.claimant != claimant || r.commitment != commitment {
        return Err(ClientError::mismatch(format!(
            "receipt for claim {claim}: not for this claim's challenge, claimant and commitment"
        )));
    }
    if !receipt_signed(r, pinned) {
        return Err(ClientError::mismatch(format!(
            "receipt for claim {claim}: its signature does not verify under the pinned key"
        )));
    }
    let head = open_checkpoint(&r.checkpoint, &pinned.origin, &pinned.public).ok_or_else(|| {
        ClientError::mismatch(format!(
            "receipt for claim {claim}: its checkpoint does not verify under the pinned key"
        ))
    })?;
    if head.size != r.log_index.saturating_add(1) {
        return Err(ClientError::mismatch(format!(
            "receipt for claim {claim}: its checkpoint has size {}, not {} (the tree right after \
             its commit at log entry {})",
            head.size,
            r.log_index.saturating_add(1),
            r.log_index
        )));
    }
    let page: LogEntries = api
        .get(&format!("/log/entries?from={}&limit=1", r.log_index))
        .await?;
    let entry = page
        .entries
        .first()
        .filter(|e| e.index == r.log_index)
        .ok_or_else(|| {
            ClientError::mismatch(format!(
                "receipt for claim {claim}: the log serves no entry {}",
                r.log_index
            ))
        })?;
    let data = hex::decode(&entry.data).map_err(|_| {
        ClientError::mismatch(format!("log entry {}: data is not hex", r.log_index))
    })?;
    let expected = Event::ClaimCommitted {
        challenge: r.challenge.clone(),
        claim: claim.clone(),
        claimant: r.claimant.clone(),
        commitment: r.commitment.clone(),
        time: r.time,
    };
    if Event::parse(&data).ok().as_ref() != Some(&expected) {
        return Err(ClientError::mismatch(format!(
            "receipt for claim {claim}: log entry {} is not its commit",
            r.log_index
        )));
    }
    let proof: InclusionProofView = api
        .get(&format!(
            "/log/proof/inclusion?index={}&size={}",
            r.log_index, head.size
        ))
        .await?;
    let path = path_of("inclusion proof", &proof.proof)?;
    if !log::check_inclusion(
        &path,
        head.size,
        head.root,
        r.log_index,
        log::leaf_hash(&data),
    ) {
        return Err(ClientError::mismatch(format!(
            "receipt for claim {claim}: its commit (log entry {}) is not included in its \
             checkpoint",
            r.log_index
        )));
    }
    Ok(head)
}
