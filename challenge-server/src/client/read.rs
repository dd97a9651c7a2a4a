//! `client challenges`, `client show`, `client transcript --download`.

use std::path::Path;

use serde_json::{Value, json};
use target_impl::hazmat::sha256;

use super::api::Api;
use super::cli::{Done, MAX_TRANSCRIPT_ENTRIES, check_id, progress, relative, unknown_challenge};
use super::error::ClientError;
use super::files::replace_private;
use super::state::State;
use crate::api::{ChallengeSummary, ChallengeView, TranscriptPage};
use crate::log::MAX_ENTRIES_PAGE;

fn bounty_text(bounty: &std::collections::BTreeMap<String, String>) -> String {
    bounty
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) async fn challenges(state: &State) -> Result<Done, ClientError> {
    let api = Api::new(&state.server_url)?;
    let list: Vec<ChallengeSummary> = api.get("/challenges").await?;
    let mut text = String::new();
    for c in &list {
        text.push_str(&format!(
            "{}  {:6}  {}  deadline {} ({})  entries {}  bounty {}  {}\n",
            c.id,
            c.status,
            c.track,
            c.deadline,
            relative(c.deadline),
            c.published_entries,
            bounty_text(&c.bounty),
            c.title
        ));
    }
    if list.is_empty() {
        text.push_str("no challenges\n");
    }
    Ok(Done {
        text: text.trim_end().to_owned(),
        json: serde_json::to_value(&list).unwrap_or(Value::Null),
    })
}

pub(super) async fn show(state: &State, id: &str) -> Result<Done, ClientError> {
    check_id(id)?;
    let api = Api::new(&state.server_url)?;
    let c: ChallengeView = api
        .get(&format!("/challenges/{id}"))
        .await
        .map_err(|e| unknown_challenge(e, id))?;
    let mut text = format!(
        "{} ({}), track {}, {}\nbounty: {}\ndeadline: {} ({})\nrules (SHA-256 {}):\n  {}\n\
         schedule: {} messages every {} s from {}\npublished entries: {}\nseed commitment: {}\n",
        c.title,
        c.id,
        c.track,
        c.status,
        bounty_text(&c.bounty),
        c.deadline,
        relative(c.deadline),
        c.rules_sha256,
        c.rules.replace('\n', "\n  "),
        c.schedule.messages,
        c.schedule.interval_secs,
        c.schedule.start_at,
        c.published_entries,
        c.seed_commitment,
    );
    if let Some(d) = c.reveal_deadline {
        text.push_str(&format!("reveal deadline: {d} ({})\n", relative(d)));
    }
    for s in &c.secret_commitments {
        text.push_str(&format!(
            "secret {} in message {}: commitment {}\n",
            s.index, s.message, s.commitment
        ));
    }
    text.push_str(&format!(
        "target-impl {} (source SHA-256 {}, flaw {})\n",
        c.target_impl.version,
        c.target_impl.source_sha256,
        c.target_impl.flaw.as_deref().unwrap_or("none")
    ));
    if let Some(seed) = &c.seed {
        text.push_str(&format!(
            "closed at {} ({}); seed {seed}\n",
            c.closed_at.unwrap_or_default(),
            c.close_reason.as_deref().unwrap_or("?")
        ));
    }
    Ok(Done {
        text: text.trim_end().to_owned(),
        json: serde_json::to_value(&c).unwrap_or(Value::Null),
    })
}

pub(super) async fn transcript(
    state: &State,
    id: &str,
    out: &Path,
    quiet: bool,
) -> Result<Done, ClientError> {
    check_id(id)?;
    let api = Api::new(&state.server_url)?;
    let c: ChallengeView = api
        .get(&format!("/challenges/{id}"))
        .await
        .map_err(|e| unknown_challenge(e, id))?;
    let bar = progress(Some(c.published_entries), quiet, "transcript");
    let mut entries = Vec::new();
    let mut from = Some(0u64);
    while let Some(f) = from {
        let page: TranscriptPage = api
            .get(&format!(
                "/challenges/{id}/transcript?from={f}&limit={MAX_ENTRIES_PAGE}"
            ))
            .await?;
        if page.next_from.is_some_and(|n| n <= f)
            || page.entries.first().is_some_and(|e| e.index != f)
        {
            return Err(ClientError::mismatch(format!(
                "transcript: the page from {f} does not start there or move forward"
            )));
        }
        if (entries.len() as u64).saturating_add(page.entries.len() as u64) > MAX_TRANSCRIPT_ENTRIES
        {
            return Err(ClientError::mismatch(format!(
                "transcript: more than {MAX_TRANSCRIPT_ENTRIES} entries"
            )));
        }
        for e in &page.entries {
            let bytes = hex::decode(&e.bytes).map_err(|_| {
                ClientError::mismatch(format!("transcript entry {}: bytes are not hex", e.index))
            })?;
            if e.length != bytes.len() as u64 || e.sha256 != hex::encode(sha256(&[&bytes])) {
                return Err(ClientError::mismatch(format!(
                    "transcript entry {}: its length or sha256 is not its bytes'",
                    e.index
                )));
            }
        }
        bar.set_length(page.published_entries.max(c.published_entries));
        bar.inc(page.entries.len() as u64);
        entries.extend(page.entries);
        from = page.next_from;
    }
    bar.finish_and_clear();
    let whole = TranscriptPage {
        challenge: id.to_owned(),
        published_entries: entries.len() as u64,
        entries,
        next_from: None,
    };
    let text = serde_json::to_string_pretty(&whole)
        .map_err(|e| ClientError::usage(format!("transcript: {e}")))?;
    replace_private(out, format!("{text}\n").as_bytes())?;
    Ok(Done {
        text: format!(
            "wrote {} transcript entries of challenge {id} to {}",
            whole.published_entries,
            out.display()
        ),
        json: json!({"challenge": id, "entries": whole.published_entries, "file": out.display().to_string()}),
    })
}
