//! The client's local state file: the server and the key the user pinned, and the last
//! checkpoint the client saw (as a transparency-log client keeps it), so that a later
//! `log verify` proves the log only grew.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ClientError;
use super::files::{read_local, replace_private};
use crate::log::note::{VerifiedCheckpoint, open_checkpoint};
use crate::verify::PinnedKey;

/// The state file's contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The server's root URL.
    pub server_url: String,
    /// The pinned Ed25519 key, 64 hex digits, as the user gave it.
    pub server_key: String,
    /// The log origin.
    pub log_origin: String,
    /// The last signed checkpoint this client saw and verified.
    #[serde(default)]
    pub checkpoint: Option<String>,
}

/// The default state file: `$XDG_CONFIG_HOME/challenge-server/client.json`, else
/// `~/.config/challenge-server/client.json`.
pub fn default_path() -> Result<PathBuf, ClientError> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => match std::env::var_os("HOME") {
            Some(home) if !home.is_empty() => PathBuf::from(home).join(".config"),
            _ => {
                return Err(
                    ClientError::usage("no home directory to keep the client's state in")
                        .hint("give --state FILE"),
                );
            }
        },
    };
    Ok(base.join("challenge-server").join("client.json"))
}

impl State {
    /// Reads the state file at `path`.
    pub fn load(path: &Path) -> Result<Self, ClientError> {
        if !path.exists() {
            return Err(ClientError::usage(format!(
                "no pinned key: {} does not exist",
                path.display()
            ))
            .hint(
                "run `challenge-server client pin --server URL --server-key HEX|FILE` with the \
                 key the operator published",
            ));
        }
        let text = read_local(path)?;
        let state: State = serde_json::from_str(&text).map_err(|e| {
            ClientError::usage(format!("{}: not a client state file: {e}", path.display()))
                .hint("pin again with `challenge-server client pin … --force`")
        })?;
        state.pinned().map_err(|e| {
            ClientError::usage(format!("{}: {}", path.display(), e.message))
                .hint("pin again with `challenge-server client pin … --force`")
        })?;
        Ok(state)
    }

    /// Writes the state file atomically (mode 0600), creating its directory.
    pub fn save(&self, path: &Path) -> Result<(), ClientError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                ClientError::usage(format!("{}: cannot create: {e}", dir.display()))
            })?;
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| ClientError::usage(format!("state: {e}")))?;
        replace_private(path, format!("{text}\n").as_bytes())
    }

    /// The pinned key and origin.
    pub fn pinned(&self) -> Result<PinnedKey, ClientError> {
        PinnedKey::from_arg(&self.server_key, Some(&self.log_origin)).map_err(ClientError::from)
    }

    /// The last checkpoint seen, verified under the pinned key: a forged or edited one is a
    /// mismatch naming the file.
    pub fn seen(&self, path: &Path) -> Result<Option<VerifiedCheckpoint>, ClientError> {
        let Some(text) = &self.checkpoint else {
            return Ok(None);
        };
        let pinned = self.pinned()?;
        open_checkpoint(text, &pinned.origin, &pinned.public)
            .map(Some)
            .ok_or_else(|| {
                ClientError::mismatch(format!(
                    "the checkpoint saved in {} does not verify under the pinned key (the file \
                     was edited, or a checkpoint of another log was saved in it)",
                    path.display()
                ))
                .hint("if you edited it, pin again; else keep the file as evidence")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_state_file_says_to_pin() {
        let dir = tempfile::tempdir().unwrap();
        let e = State::load(&dir.path().join("client.json")).unwrap_err();
        assert!(e.message.starts_with("no pinned key"), "{e}");
        assert!(e.hint.unwrap().contains("client pin"));
    }

    #[test]
    fn state_round_trips_and_a_forged_checkpoint_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("client.json");
        let state = State {
            server_url: "http://127.0.0.1:1".to_owned(),
            server_key: "11".repeat(32),
            log_origin: "localhost/challenge-server".to_owned(),
            checkpoint: Some("localhost/challenge-server\n1\nAAAA\n\n— x y\n".to_owned()),
        };
        state.save(&path).unwrap();
        let loaded = State::load(&path).unwrap();
        assert_eq!(loaded, state);
        let e = loaded.seen(&path).unwrap_err();
        assert!(
            e.message.contains("does not verify under the pinned key"),
            "{e}"
        );
    }
}
