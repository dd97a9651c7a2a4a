//! Where `verify` reads from: a running server over HTTP, or a directory made by `export`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::VerifyError;
use crate::api::{
    ChallengeView, ClaimView, ClaimsPage, ConsistencyProofView, InclusionProofView, LogEntries,
    LogEntryView, ServerKeyView, SessionRecordView, TranscriptPage,
};
use crate::log::{Event, MAX_ENTRIES_PAGE, Parsed};

/// The files of an exported directory.
pub mod files {
    /// `GET /server-key`.
    pub const SERVER_KEY: &str = "server-key.json";
    /// `GET /challenges/{id}`.
    pub const CHALLENGE: &str = "challenge.json";
    /// The whole transcript.
    pub const TRANSCRIPT: &str = "transcript.json";
    /// `GET /challenges/{id}/claims`.
    pub const CLAIMS: &str = "claims.json";
    /// `GET /log/checkpoint`.
    pub const CHECKPOINT: &str = "checkpoint.txt";
    /// Every log entry up to the checkpoint's size.
    pub const LOG_ENTRIES: &str = "log-entries.json";
    /// Every session's whole record (a request-driven challenge; absent otherwise).
    pub const SESSIONS: &str = "sessions.json";
}

/// A place to read the published documents from.
#[derive(Debug)]
pub enum Source {
    /// A server's API: root URL such as `http://127.0.0.1:8080`.
    Http {
        /// HTTP client.
        client: reqwest::Client,
        /// Base URL without the trailing slash.
        base: String,
    },
    /// A directory written by [`export`].
    Dir(PathBuf),
}

impl Source {
    /// A server at `url`: its root (`http://host:port`) or its API base (`…/api/v1`).
    pub fn http(url: &str) -> Result<Self, VerifyError> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| VerifyError::Source(format!("HTTP client: {e}")))?;
        // The host root or the API base (`…/api/v1`, as docs/API.md's `$B`) alike.
        let base = url.trim_end_matches('/');
        let base = base.strip_suffix("/api/v1").unwrap_or(base);
        Ok(Source::Http {
            client,
            base: base.to_owned(),
        })
    }

    async fn get_text(&self, path: &str) -> Result<String, VerifyError> {
        let Source::Http { client, base } = self else {
            return Err(VerifyError::Source("not an HTTP source".to_owned()));
        };
        let url = format!("{base}/api/v1{path}");
        let response = client
            .get(&url)
            .send()
            .await
            .map_err(|e| VerifyError::Source(format!("GET {url}: {e}")))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| VerifyError::Source(format!("GET {url}: {e}")))?;
        if !status.is_success() {
            return Err(VerifyError::Source(format!("GET {url}: {status}: {text}")));
        }
        Ok(text)
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, VerifyError> {
        let text = self.get_text(path).await?;
        serde_json::from_str(&text)
            .map_err(|e| VerifyError::Mismatch(format!("GET {path}: not the documented JSON: {e}")))
    }

    fn read_file<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T, VerifyError> {
        let text = read_text(dir, name)?;
        serde_json::from_str(&text)
            .map_err(|e| VerifyError::Mismatch(format!("{name}: not the documented JSON: {e}")))
    }

    /// The server key.
    pub async fn server_key(&self) -> Result<ServerKeyView, VerifyError> {
        match self {
            Source::Http { .. } => self.get_json("/server-key").await,
            Source::Dir(dir) => Self::read_file(dir, files::SERVER_KEY),
        }
    }

    /// The server key the source serves, if it has one (an export may leave it out: `verify`
    /// takes the key from the user and only compares).
    pub async fn server_key_if_any(&self) -> Result<Option<ServerKeyView>, VerifyError> {
        match self {
            Source::Http { .. } => self.get_json("/server-key").await.map(Some),
            Source::Dir(dir) if !dir.join(files::SERVER_KEY).exists() => Ok(None),
            Source::Dir(dir) => Self::read_file(dir, files::SERVER_KEY).map(Some),
        }
    }

    /// The challenge.
    pub async fn challenge(&self, id: &str) -> Result<ChallengeView, VerifyError> {
        match self {
            Source::Http { .. } => self.get_json(&format!("/challenges/{id}")).await,
            Source::Dir(dir) => Self::read_file(dir, files::CHALLENGE),
        }
    }

    /// The whole transcript.
    pub async fn transcript(&self, id: &str) -> Result<TranscriptPage, VerifyError> {
        match self {
            Source::Http { .. } => {
                self.get_json(&format!("/challenges/{id}/transcript/download"))
                    .await
            }
            Source::Dir(dir) => Self::read_file(dir, files::TRANSCRIPT),
        }
    }

    /// The challenge's claims.
    pub async fn claims(&self, id: &str) -> Result<Vec<ClaimView>, VerifyError> {
        match self {
            Source::Http { .. } => {
                let (mut out, mut from) = (Vec::new(), Some(0));
                while let Some(f) = from {
                    let page: ClaimsPage = self
                        .get_json(&format!("/challenges/{id}/claims?from={f}&limit=1000"))
                        .await?;
                    if page.next_from.is_some_and(|n| n <= f) {
                        return Err(VerifyError::Mismatch(
                            "claims: a page that does not move forward".to_owned(),
                        ));
                    }
                    out.extend(page.claims);
                    from = page.next_from;
                }
                Ok(out)
            }
            Source::Dir(dir) => Self::read_file(dir, files::CLAIMS),
        }
    }

    /// The signed checkpoint.
    pub async fn checkpoint(&self) -> Result<String, VerifyError> {
        match self {
            Source::Http { .. } => self.get_text("/log/checkpoint").await,
            Source::Dir(dir) => read_text(dir, files::CHECKPOINT),
        }
    }

    /// Log entries `0..size`.
    pub async fn log_entries(&self, size: u64) -> Result<Vec<LogEntryView>, VerifyError> {
        match self {
            Source::Http { .. } => {
                let mut out = Vec::new();
                while (out.len() as u64) < size {
                    let from = out.len() as u64;
                    let limit = (size - from).min(MAX_ENTRIES_PAGE);
                    let page: LogEntries = self
                        .get_json(&format!("/log/entries?from={from}&limit={limit}"))
                        .await?;
                    if page.entries.is_empty() {
                        return Err(VerifyError::Mismatch(format!(
                            "the log serves no entry {from} below its checkpoint size {size}"
                        )));
                    }
                    out.extend(page.entries);
                }
                out.truncate(usize::try_from(size).unwrap_or(usize::MAX));
                Ok(out)
            }
            Source::Dir(dir) => Self::read_file(dir, files::LOG_ENTRIES),
        }
    }

    /// The whole records of sessions `numbers` of challenge `id` (public after the close).
    pub async fn sessions(
        &self,
        id: &str,
        numbers: &[u64],
    ) -> Result<Vec<SessionRecordView>, VerifyError> {
        match self {
            Source::Http { .. } => {
                let mut out = Vec::with_capacity(numbers.len());
                for s in numbers {
                    out.push(self.session_record(id, *s).await?);
                }
                Ok(out)
            }
            Source::Dir(dir) if !dir.join(files::SESSIONS).exists() => Ok(Vec::new()),
            Source::Dir(dir) => Self::read_file(dir, files::SESSIONS),
        }
    }

    async fn session_record(&self, id: &str, s: u64) -> Result<SessionRecordView, VerifyError> {
        let page = |from: u64| {
            format!(
                "/challenges/{id}/sessions/{s}/record?from={from}&limit={}",
                crate::sessions::MAX_ENTRIES_PAGE
            )
        };
        let mut record: SessionRecordView = self.get_json(&page(0)).await?;
        while (record.entries.len() as u64) < record.entries_total {
            let more: SessionRecordView = self.get_json(&page(record.entries.len() as u64)).await?;
            if more.wins != record.wins {
                return Err(VerifyError::Mismatch(format!(
                    "session {s}: the record's pages publish different wins"
                )));
            }
            if more.entries.is_empty() {
                return Err(VerifyError::Mismatch(format!(
                    "session {s}: the record serves {} of its {} entries",
                    record.entries.len(),
                    record.entries_total
                )));
            }
            record.entries.extend(more.entries);
        }
        Ok(record)
    }

    /// The server's inclusion proof (HTTP only; a directory's entries are checked whole).
    pub async fn inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Option<InclusionProofView>, VerifyError> {
        match self {
            Source::Http { .. } => self
                .get_json(&format!("/log/proof/inclusion?index={index}&size={size}"))
                .await
                .map(Some),
            Source::Dir(_) => Ok(None),
        }
    }

    /// The server's consistency proof (HTTP only).
    pub async fn consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Option<ConsistencyProofView>, VerifyError> {
        match self {
            Source::Http { .. } => self
                .get_json(&format!("/log/proof/consistency?from={from}&to={to}"))
                .await
                .map(Some),
            Source::Dir(_) => Ok(None),
        }
    }
}

fn read_text(dir: &Path, name: &str) -> Result<String, VerifyError> {
    std::fs::read_to_string(dir.join(name))
        .map_err(|e| VerifyError::Source(format!("{}: {e}", dir.join(name).display())))
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), VerifyError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| VerifyError::Source(format!("{name}: {e}")))?;
    std::fs::write(dir.join(name), text + "\n")
        .map_err(|e| VerifyError::Source(format!("{}: {e}", dir.join(name).display())))
}

/// Writes everything `verify` needs about challenge `id` from `source` into `dir`.
pub async fn export(source: &Source, id: &str, dir: &Path) -> Result<(), VerifyError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| VerifyError::Source(format!("{}: {e}", dir.display())))?;
    write_json(dir, files::SERVER_KEY, &source.server_key().await?)?;
    write_json(dir, files::CHALLENGE, &source.challenge(id).await?)?;
    write_json(dir, files::TRANSCRIPT, &source.transcript(id).await?)?;
    write_json(dir, files::CLAIMS, &source.claims(id).await?)?;
    let checkpoint = source.checkpoint().await?;
    let size = checkpoint
        .lines()
        .nth(1)
        .and_then(|l| l.parse::<u64>().ok())
        .ok_or_else(|| VerifyError::Mismatch("the checkpoint has no tree size line".to_owned()))?;
    std::fs::write(dir.join(files::CHECKPOINT), &checkpoint)
        .map_err(|e| VerifyError::Source(format!("{}: {e}", files::CHECKPOINT)))?;
    let entries = source.log_entries(size).await?;
    let sessions = sessions_opened(&entries, id);
    write_json(dir, files::LOG_ENTRIES, &entries)?;
    if !sessions.is_empty() {
        write_json(dir, files::SESSIONS, &source.sessions(id, &sessions).await?)?;
    }
    Ok(())
}

/// The sessions challenge `id`'s `session-opened` events name, in log order.
pub fn sessions_opened(entries: &[LogEntryView], id: &str) -> Vec<u64> {
    entries
        .iter()
        .filter_map(|e| hex::decode(&e.data).ok())
        .filter_map(|data| match Event::parse_for(&data, id) {
            Ok(Parsed::Event(event)) => match *event {
                Event::SessionOpened { session, .. } => Some(session),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
