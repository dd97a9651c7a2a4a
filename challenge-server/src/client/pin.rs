//! `client pin`: the key comes from the user and is compared with the one the server serves,
//! never taken from it.

use std::path::Path;

use serde_json::json;

use super::api::Api;
use super::audit::{check_grown, latest};
use super::cli::Done;
use super::error::ClientError;
use super::state::State;
use crate::api::ServerKeyView;
use crate::verify::PinnedKey;

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key the user gives to `pin`: hex digits (the origin the user's or the server's) or a
/// `/server-key` document file.
fn given_key(
    arg: &str,
    origin: Option<&str>,
    served: &ServerKeyView,
) -> Result<PinnedKey, ClientError> {
    if is_hex64(arg) {
        let public = hex::decode(arg)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| ClientError::usage("--server-key: not 32 bytes of hex"))?;
        return Ok(PinnedKey {
            public,
            origin: origin.unwrap_or(&served.log_origin).to_owned(),
        });
    }
    if !Path::new(arg).is_file() {
        return Err(ClientError::usage(format!(
            "--server-key {arg:?}: expected 64 lowercase hex digits, or a file holding the \
             server's /server-key document"
        ))
        .hint("use the key the operator published (docs/CLI.md, \"Pin the server key\")"));
    }
    PinnedKey::from_arg(arg, origin).map_err(|e| ClientError::usage(e.to_string()))
}

pub(super) async fn pin(
    path: &Path,
    server: &str,
    key_arg: &str,
    origin: Option<String>,
    force: bool,
) -> Result<Done, ClientError> {
    let api = Api::new(server)?;
    let served: ServerKeyView = api.get("/server-key").await?;
    let pinned = given_key(key_arg, origin.as_deref(), &served)?;
    let served_key = PinnedKey::from_view("the server's /server-key", &served)?;
    if served_key.public != pinned.public {
        return Err(ClientError::mismatch(format!(
            "the server at {} serves another key ({}) than the one you gave ({}): not pinned",
            api.root, served.public_key, hex::encode(pinned.public)
        ))
        .hint("check the key with the operator through another channel; never pin the key a server serves"));
    }
    if served_key.origin != pinned.origin {
        return Err(ClientError::mismatch(format!(
            "the server's log origin is {:?}, not {:?}: not pinned",
            served_key.origin, pinned.origin
        )));
    }
    let mut state = State {
        server_url: api.root.clone(),
        server_key: hex::encode(pinned.public),
        log_origin: pinned.origin.clone(),
        checkpoint: None,
    };
    let (text, head) = latest(&api, &pinned).await?;
    if path.exists() {
        let old = State::load(path)?;
        let same = old.server_key == state.server_key
            && old.log_origin == state.log_origin
            && old.server_url == state.server_url;
        if !same && !force {
            return Err(ClientError::usage(format!(
                "{} already pins key {} (origin {}) for {}",
                path.display(),
                old.server_key,
                old.log_origin,
                old.server_url
            ))
            .hint("give --force to replace it, or --state FILE for a second server"));
        }
        if same && let Some(seen) = old.seen(path)? {
            check_grown(&api, seen, head, "the checkpoint you saw last").await?;
        }
    }
    state.checkpoint = Some(text);
    state.save(path)?;
    Ok(Done {
        text: format!(
            "pinned server key {} (log origin {}) for {} in {}; log checkpoint of size {} verified",
            state.server_key,
            state.log_origin,
            state.server_url,
            path.display(),
            head.size
        ),
        json: json!({"state": path.display().to_string(), "server_url": state.server_url,
            "server_key": state.server_key, "log_origin": state.log_origin,
            "checkpoint_size": head.size}),
    })
}
