//! `client log verify` and `client verify`: the log only grew since the client last saw it and
//! holds every receipt; the closed challenge re-derived from its seed.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::api::Api;
use super::audit::{check_grown, check_receipt, latest};
use super::cli::{Done, MAX_CLAIM_FILES, check_id, progress, relative, unknown_challenge};
use super::error::ClientError;
use super::state::State;
use crate::api::ChallengeView;
use crate::verify::{self, Source};

pub(super) async fn log_verify(state_path: &Path, files: &[PathBuf]) -> Result<Done, ClientError> {
    if files.len() > MAX_CLAIM_FILES {
        return Err(ClientError::usage(format!(
            "more than {MAX_CLAIM_FILES} claim files"
        )));
    }
    let mut state = State::load(state_path)?;
    let pinned = state.pinned()?;
    let api = Api::new(&state.server_url)?;
    let seen = state.seen(state_path)?;
    let (text, head) = latest(&api, &pinned).await?;
    if let Some(seen) = seen {
        check_grown(
            &api,
            seen,
            head,
            &format!("the checkpoint saved in {}", state_path.display()),
        )
        .await?;
    }
    let mut receipts = Vec::with_capacity(files.len());
    for path in files {
        let held = verify::read_receipt_file(path)?;
        if let Some(key) = &held.key
            && key != &pinned
        {
            return Err(ClientError::mismatch(format!(
                "{}: made under another server key or origin than the pinned one",
                path.display()
            )));
        }
        let r = &held.receipt;
        let receipt_head =
            check_receipt(&api, &pinned, r, &r.challenge, &r.claimant, &r.commitment).await?;
        check_grown(
            &api,
            receipt_head,
            head,
            &format!("the receipt in {}", path.display()),
        )
        .await?;
        receipts.push(
            json!({"file": path.display().to_string(), "claim": r.claim, "log_index": r.log_index}),
        );
    }
    state.checkpoint = Some(text);
    state.save(state_path)?;
    let before = seen.map_or("no checkpoint seen before".to_owned(), |s| {
        format!("consistent with the size {} seen before", s.size)
    });
    Ok(Done {
        text: format!(
            "OK: log checkpoint of size {} verified under the pinned key; {before}; receipts \
             included: {}",
            head.size,
            receipts.len()
        ),
        json: json!({"ok": true, "checkpoint_size": head.size,
            "previous_size": seen.map(|s| s.size), "receipts": receipts}),
    })
}

pub(super) async fn verify_challenge(
    state: &State,
    id: &str,
    files: &[PathBuf],
    now: Option<u64>,
    quiet: bool,
) -> Result<Done, ClientError> {
    check_id(id)?;
    if files.len() > MAX_CLAIM_FILES {
        return Err(ClientError::usage(format!(
            "more than {MAX_CLAIM_FILES} claim files"
        )));
    }
    let pinned = state.pinned()?;
    let held = files
        .iter()
        .map(|p| verify::read_receipt_file(p))
        .collect::<Result<Vec<_>, _>>()?;
    let api = Api::new(&state.server_url)?;
    let c: ChallengeView = api
        .get(&format!("/challenges/{id}"))
        .await
        .map_err(|e| unknown_challenge(e, id))?;
    if c.seed.is_none() {
        return Err(ClientError::usage(format!(
            "challenge {id} is still open: verify needs the seed revealed at the close (deadline \
             {}, {})",
            c.deadline,
            relative(c.deadline)
        ))
        .hint("run `challenge-server client verify` again after the close"));
    }
    let source = Source::http(&state.server_url)?;
    let bar = progress(
        None,
        quiet,
        "verifying: regenerating the transcript, checking the log",
    );
    let now = now.unwrap_or_else(|| crate::clock::Clock::System.now());
    let result = verify::verify(&source, id, &pinned, &held, now).await;
    bar.finish_and_clear();
    let report = result.map_err(ClientError::from)?;
    Ok(Done {
        text: report.summary(id),
        json: json!({"ok": true, "challenge": id, "entries": report.entries,
            "secrets": report.secrets, "claims": report.claims,
            "held_receipts": report.held_receipts, "log_size": report.log_size,
            "checkpoints": report.checkpoints, "unrevealed": report.unrevealed,
            "sessions": report.sessions}),
    })
}
