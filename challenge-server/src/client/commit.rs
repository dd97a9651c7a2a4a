//! `client claim commit|reveal|status`: the claim file on disk before the commit is sent, the
//! receipt checked and added atomically, the reveal rebuilt from the file.

use std::path::{Path, PathBuf};

use rand_core::CryptoRng;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::api::Api;
use super::audit::{check_grown, check_receipt};
use super::claim::{ClaimFlags, default_out, new_claim, reveal_of};
use super::cli::{CommitArgs, Done, unknown_challenge};
use super::error::{ClientError, ErrorKind};
use super::files::{create_private, read_local, replace_private};
use super::state::State;
use crate::api::{ChallengeView, ClaimView, ClaimsPage, CommitRequest, Receipt, VerdictView};
use crate::verify::PinnedKey;
use crate::verify::pinned::ClaimFile;

fn read_claim_file(path: &Path) -> Result<ClaimFile, ClientError> {
    let text = read_local(path)?;
    serde_json::from_str(&text)
        .map_err(|e| ClientError::usage(format!("{}: not a claim file: {e}", path.display())))
}

/// The claim file's key is the pinned one.
fn same_key(file: &ClaimFile, path: &Path, pinned: &PinnedKey) -> Result<(), ClientError> {
    let key = file.pinned_key(&path.display().to_string())?;
    if &key == pinned {
        Ok(())
    } else {
        Err(ClientError::usage(format!(
            "{} was made under another server key or origin than the one pinned in the state \
             file",
            path.display()
        ))
        .hint("use the state file of that server with --state FILE"))
    }
}

fn finding_text(path: Option<&Path>) -> Result<Option<Zeroizing<String>>, ClientError> {
    path.map(|p| read_local(p).map(Zeroizing::new)).transpose()
}

fn claim_json(file: &ClaimFile) -> Result<Vec<u8>, ClientError> {
    let text = Zeroizing::new(
        serde_json::to_string_pretty(file)
            .map_err(|e| ClientError::usage(format!("claim file: {e}")))?,
    );
    Ok(format!("{}\n", text.as_str()).into_bytes())
}

/// The commit of `file`'s commitment already in the server, if a lost answer hid it.
async fn find_commit(api: &Api, file: &ClaimFile) -> Result<Option<Receipt>, ClientError> {
    let mut from = Some(0u64);
    while let Some(f) = from {
        let page: ClaimsPage = api
            .get(&format!(
                "/challenges/{}/claims?from={f}&limit=1000",
                file.challenge
            ))
            .await?;
        if page.next_from.is_some_and(|n| n <= f) {
            return Err(ClientError::mismatch(
                "claims: a page that does not move forward",
            ));
        }
        if let Some(c) = page
            .claims
            .into_iter()
            .find(|c| c.commitment == file.commitment && c.claimant == file.claimant)
        {
            return Ok(Some(c.receipt));
        }
        from = page.next_from;
    }
    Ok(None)
}

/// A claim file to resume: made under the pinned key, its commit never answered.
fn resume_claim(path: &Path, pinned: &PinnedKey) -> Result<ClaimFile, ClientError> {
    let file = read_claim_file(path)?;
    same_key(&file, path, pinned)?;
    if file.receipt.is_some() {
        return Err(ClientError::usage(format!(
            "{} already holds its receipt: the commit was taken",
            path.display()
        ))
        .hint(format!(
            "reveal it with `challenge-server client claim reveal {}`",
            path.display()
        )));
    }
    Ok(file)
}

/// A new claim file from the flags, written (mode 0600, fsynced with its directory) once the
/// challenge is known to exist, before anything is sent about it.
async fn start_claim(
    api: &Api,
    pinned: &PinnedKey,
    args: &CommitArgs,
    rng: &mut impl CryptoRng,
) -> Result<(ClaimFile, PathBuf), ClientError> {
    let id = args.id.clone().unwrap_or_default();
    let flags = ClaimFlags {
        kind: args.kind.clone().unwrap_or_default(),
        message: args.message,
        secret: args.secret.clone(),
        session: args.session,
        party: args.party.clone(),
        key: args.key.clone(),
        private_key: args.private_key.clone(),
        finding: finding_text(args.finding_file.as_deref())?,
    };
    let claimant = args.claimant.as_deref().unwrap_or_default();
    let file = new_claim(&api.root, pinned, &id, claimant, &flags, rng)?;
    let path = args.out.clone().unwrap_or_else(|| default_out(&file));
    if path.exists() {
        return Err(
            ClientError::usage(format!("{} already exists", path.display())).hint(
                "choose another file with --out; an existing claim file is never overwritten",
            ),
        );
    }
    // The challenge exists (a typo costs no claim file).
    let _: ChallengeView = api
        .get(&format!("/challenges/{id}"))
        .await
        .map_err(|e| unknown_challenge(e, &id))?;
    create_private(&path, &claim_json(&file)?)?;
    Ok((file, path))
}

/// Sends the commit of `file` (kept at `path`), or on a resume first looks for the commit a
/// lost answer hid; a failure says the file is kept and how to go on.
async fn send_commit(
    api: &Api,
    file: &ClaimFile,
    path: &Path,
    resumed: bool,
) -> Result<Receipt, ClientError> {
    let kept = |e: ClientError| -> ClientError {
        let resume = format!(
            "your claim file {} is kept (no receipt yet); run `challenge-server client claim \
             commit --resume {}`",
            path.display(),
            path.display()
        );
        match e.kind {
            ErrorKind::RateLimited => {
                let wait = e.retry_after.unwrap_or(60);
                e.hint(format!("wait {wait} s; {resume}"))
            }
            ErrorKind::Connection => e.hint(resume),
            _ => e.hint(format!(
                "the server took no commit; your claim file {} is kept with no receipt",
                path.display()
            )),
        }
    };
    if resumed && let Some(receipt) = find_commit(api, file).await.map_err(kept)? {
        return Ok(receipt);
    }
    let request = CommitRequest {
        challenge: file.challenge.clone(),
        claimant: file.claimant.clone(),
        commitment: file.commitment.clone(),
    };
    api.post("/claims/commit", &request).await.map_err(kept)
}

pub(super) async fn commit(
    state_path: &Path,
    args: CommitArgs,
    rng: &mut impl CryptoRng,
) -> Result<Done, ClientError> {
    let mut state = State::load(state_path)?;
    let pinned = state.pinned()?;
    let api = Api::new(&state.server_url)?;
    let (mut file, path, resumed) = match &args.resume {
        Some(path) => (resume_claim(path, &pinned)?, path.clone(), true),
        None => {
            let (file, path) = start_claim(&api, &pinned, &args, rng).await?;
            (file, path, false)
        }
    };
    let receipt = send_commit(&api, &file, &path, resumed).await?;
    let head = check_receipt(
        &api,
        &pinned,
        &receipt,
        &file.challenge,
        &file.claimant,
        &file.commitment,
    )
    .await
    .map_err(|e| {
        e.hint(format!(
            "the server's receipt does not check, so your claim file {} is kept without it; \
             report it to the operator (`claim commit --resume {}` fetches it again)",
            path.display(),
            path.display()
        ))
    })?;
    file.receipt = Some(receipt.clone());
    replace_private(&path, &claim_json(&file)?)?;
    // The receipt's tree comes after every checkpoint this client saw before the commit.
    if let Some(seen) = state.seen(state_path)? {
        check_grown(&api, seen, head, "the checkpoint you saw last")
            .await
            .map_err(|e| {
                e.hint(format!(
                    "your claim file {} holds the receipt; keep it and the state file as evidence",
                    path.display()
                ))
            })?;
    }
    state.checkpoint = Some(receipt.checkpoint.clone());
    state.save(state_path)?;
    Ok(Done {
        text: format!(
            "committed claim {} to challenge {} (log entry {}); claim file: {}",
            receipt.claim,
            file.challenge,
            receipt.log_index,
            path.display()
        ),
        json: json!({"file": path.display().to_string(), "claim": receipt.claim,
            "challenge": file.challenge, "log_index": receipt.log_index,
            "commitment": file.commitment}),
    })
}

fn receipt_of<'a>(file: &'a ClaimFile, path: &Path) -> Result<&'a Receipt, ClientError> {
    file.receipt.as_ref().ok_or_else(|| {
        ClientError::usage(format!(
            "{} has no receipt: its commit was never answered",
            path.display()
        ))
        .hint(format!(
            "run `challenge-server client claim commit --resume {}`",
            path.display()
        ))
    })
}

pub(super) async fn reveal(
    state: &State,
    path: &Path,
    finding: Option<&Path>,
) -> Result<Done, ClientError> {
    let pinned = state.pinned()?;
    let file = read_claim_file(path)?;
    same_key(&file, path, &pinned)?;
    let receipt = receipt_of(&file, path)?;
    let request = reveal_of(&file, finding_text(finding)?)?;
    let api = Api::new(&state.server_url)?;
    let verdict: VerdictView = api
        .post(&format!("/claims/{}/reveal", receipt.claim), &request)
        .await?;
    let reason = verdict
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    Ok(Done {
        text: format!(
            "revealed claim {}: verdict {} (log entry {}){reason}",
            verdict.claim, verdict.verdict, verdict.log_index
        ),
        json: serde_json::to_value(&verdict).unwrap_or(Value::Null),
    })
}

pub(super) async fn status(state: &State, path: &Path) -> Result<Done, ClientError> {
    let file = read_claim_file(path)?;
    let receipt = receipt_of(&file, path)?;
    let api = Api::new(&state.server_url)?;
    let claim: ClaimView = api.get(&format!("/claims/{}", receipt.claim)).await?;
    let inclusion = |i: u64| api.url(&format!("/log/proof/inclusion?index={i}"));
    let mut text = format!(
        "claim {} (challenge {}, claimant {}): {}",
        claim.id, claim.challenge, claim.claimant, claim.status
    );
    match (&claim.verdict, claim.verdict_log_index) {
        (Some(v), Some(i)) => text.push_str(&format!(
            ", verdict {v} (log entry {i}, {})",
            claim.decided_by.as_deref().unwrap_or("automatic")
        )),
        _ => text.push_str(", not revealed yet"),
    }
    text.push_str(&format!(
        "\n  claim: {}\n  commit: log entry {}, inclusion proof {}",
        api.url(&format!("/claims/{}", claim.id)),
        claim.log_index,
        inclusion(claim.log_index)
    ));
    if let Some(i) = claim.verdict_log_index {
        text.push_str(&format!("\n  verdict: inclusion proof {}", inclusion(i)));
    }
    Ok(Done {
        text,
        json: json!({"claim": claim.id, "challenge": claim.challenge, "status": claim.status,
            "kind": claim.kind, "verdict": claim.verdict, "verdict_log_index": claim.verdict_log_index,
            "decided_by": claim.decided_by, "log_index": claim.log_index,
            "links": {"claim": api.url(&format!("/claims/{}", claim.id)),
                "commit_inclusion": inclusion(claim.log_index),
                "verdict_inclusion": claim.verdict_log_index.map(inclusion)}}),
    })
}
