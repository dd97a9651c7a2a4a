//! The games (DESIGN section 4, "Tracks"). This issue builds the first, [`passive`]; a
//! challenge names its track, and each track brings its own steps, solver and judge.

pub mod passive;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// Most messages in one challenge's schedule.
pub const MAX_MESSAGES: u64 = 10_000;
/// Longest interval between two messages, in seconds (one day).
pub const MAX_INTERVAL_SECS: u64 = 86_400;
/// Latest time (Unix seconds) a schedule or deadline may name: the database stores times as
/// SQLite's signed 64-bit integers.
pub const MAX_TIME: u64 = i64::MAX as u64;
/// Most secrets in one challenge.
pub const MAX_SECRETS: u32 = 16;
/// Longest title, in bytes.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest rules text, in bytes.
pub const MAX_RULES_LEN: usize = 8_000;
/// Most kinds of win with a bounty, and the longest bounty text.
pub const MAX_BOUNTIES: usize = 8;
/// Longest bounty text, in bytes.
pub const MAX_BOUNTY_LEN: usize = 200;

/// A track: which game a challenge plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Track {
    /// Two simulated parties converse on a schedule; every byte is published (Telegram 2013).
    Passive,
}

impl Track {
    /// The track's name in the API and the database.
    pub fn name(self) -> &'static str {
        match self {
            Track::Passive => "passive",
        }
    }

    /// Parses a track name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "passive" => Some(Track::Passive),
            _ => None,
        }
    }

    /// The kinds of win this track judges, with the bounty keys an operator may set.
    pub fn win_kinds(self) -> &'static [&'static str] {
        match self {
            Track::Passive => &["secret", "finding"],
        }
    }
}

/// A challenge as the operator writes it (TOML file or admin API JSON).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeSpec {
    /// Short title.
    pub title: String,
    /// The rules text; its SHA-256 is published.
    pub rules: String,
    /// The track; `passive` by default.
    #[serde(default = "default_track")]
    pub track: String,
    /// Bounty per kind of win (`secret`, `finding`), free text such as "1000 USD".
    pub bounty: BTreeMap<String, String>,
    /// The traffic schedule.
    pub schedule: ScheduleSpec,
    /// Closing time (Unix seconds); default: the last message's time plus
    /// `deadline_after_last_secs`.
    #[serde(default)]
    pub deadline: Option<u64>,
    /// Seconds from the last message to the close, if `deadline` is not given (default 60).
    #[serde(default)]
    pub deadline_after_last_secs: Option<u64>,
    /// Close (and reveal the seed) as soon as a claim wins.
    #[serde(default)]
    pub close_on_win: bool,
    /// How many secrets to hide (default 1).
    #[serde(default = "default_secrets")]
    pub secrets: u32,
}

fn default_track() -> String {
    "passive".to_owned()
}

fn default_secrets() -> u32 {
    1
}

/// The schedule as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Number of messages.
    pub messages: u64,
    /// Seconds between two messages.
    pub interval_secs: u64,
    /// Time of the first transcript entry (Bob's bundle), Unix seconds.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// Seconds from creation to the first transcript entry, if `start_at` is not given
    /// (default: `interval_secs`).
    #[serde(default)]
    pub start_in_secs: Option<u64>,
}

/// A resolved schedule: entry 0 (Bob's bundle) at `start_at`, message `k` at
/// `start_at + k * interval_secs` for `k` in `1..=messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Number of messages (transcript entries 1..=messages).
    pub messages: u64,
    /// Seconds between entries.
    pub interval_secs: u64,
    /// Time of entry 0.
    pub start_at: u64,
}

impl Schedule {
    /// The scheduled time of transcript entry `index`.
    pub fn time_of(&self, index: u64) -> u64 {
        self.start_at
            .saturating_add(index.saturating_mul(self.interval_secs))
    }

    /// Number of transcript entries (the bundle and every message).
    pub fn entries(&self) -> u64 {
        self.messages.saturating_add(1)
    }

    /// Time of the last message.
    pub fn last_time(&self) -> u64 {
        self.time_of(self.messages)
    }
}

/// A checked challenge definition.
#[derive(Clone, Debug)]
pub struct ValidSpec {
    /// Title.
    pub title: String,
    /// Rules text.
    pub rules: String,
    /// Track.
    pub track: Track,
    /// Bounty per kind of win.
    pub bounty: BTreeMap<String, String>,
    /// Schedule.
    pub schedule: Schedule,
    /// Closing time.
    pub deadline: u64,
    /// Close on the first win.
    pub close_on_win: bool,
    /// Number of secrets.
    pub secrets: u32,
}

impl ChallengeSpec {
    /// Parses a TOML definition, as `challenge create --file` reads it (docs/OPERATING.md).
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| Error::invalid("file", e.to_string()))
    }

    /// Checks every field (errors name it) and resolves times against `now`.
    pub fn validate(self, now: u64) -> Result<ValidSpec, Error> {
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.len() > MAX_TITLE_LEN || title.contains(['\n', '\r']) {
            return Err(Error::invalid(
                "title",
                format!("expected one line of 1 to {MAX_TITLE_LEN} bytes"),
            ));
        }
        if self.rules.trim().is_empty() || self.rules.len() > MAX_RULES_LEN {
            return Err(Error::invalid(
                "rules",
                format!("expected 1 to {MAX_RULES_LEN} bytes of text"),
            ));
        }
        let track = Track::parse(&self.track)
            .ok_or_else(|| Error::invalid("track", "expected \"passive\""))?;
        if self.bounty.is_empty() || self.bounty.len() > MAX_BOUNTIES {
            return Err(Error::invalid(
                "bounty",
                "expected a bounty for at least one kind of win",
            ));
        }
        for (kind, text) in &self.bounty {
            if !track.win_kinds().contains(&kind.as_str()) {
                return Err(Error::invalid(
                    format!("bounty.{kind}"),
                    format!(
                        "unknown kind of win; expected one of {:?}",
                        track.win_kinds()
                    ),
                ));
            }
            if text.trim().is_empty() || text.len() > MAX_BOUNTY_LEN || text.contains('\n') {
                return Err(Error::invalid(
                    format!("bounty.{kind}"),
                    format!("expected one line of 1 to {MAX_BOUNTY_LEN} bytes"),
                ));
            }
        }
        let s = &self.schedule;
        if !(1..=MAX_MESSAGES).contains(&s.messages) {
            return Err(Error::invalid(
                "schedule.messages",
                format!("expected 1 to {MAX_MESSAGES}"),
            ));
        }
        if !(1..=MAX_INTERVAL_SECS).contains(&s.interval_secs) {
            return Err(Error::invalid(
                "schedule.interval_secs",
                format!("expected 1 to {MAX_INTERVAL_SECS}"),
            ));
        }
        let start_at = match (s.start_at, s.start_in_secs) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "schedule.start_at",
                    "give start_at or start_in_secs, not both",
                ));
            }
            (Some(at), None) if at < now => {
                return Err(Error::invalid(
                    "schedule.start_at",
                    "expected a time not in the past",
                ));
            }
            (Some(at), None) => at,
            (None, Some(secs)) if secs > MAX_INTERVAL_SECS * 365 => {
                return Err(Error::invalid("schedule.start_in_secs", "too far ahead"));
            }
            (None, Some(secs)) => now + secs,
            (None, None) => now + s.interval_secs,
        };
        let schedule = Schedule {
            messages: s.messages,
            interval_secs: s.interval_secs,
            start_at,
        };
        if schedule.last_time() > MAX_TIME {
            return Err(Error::invalid(
                "schedule.start_at",
                format!("expected the last message at or before {MAX_TIME} (Unix seconds)"),
            ));
        }
        let deadline = match (self.deadline, self.deadline_after_last_secs) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "deadline",
                    "give deadline or deadline_after_last_secs, not both",
                ));
            }
            (Some(d), None) if d < schedule.last_time() => {
                return Err(Error::invalid(
                    "deadline",
                    format!(
                        "expected a time at or after the last message ({})",
                        schedule.last_time()
                    ),
                ));
            }
            (Some(d), None) if d > MAX_TIME => {
                return Err(Error::invalid(
                    "deadline",
                    format!("expected a time at or before {MAX_TIME} (Unix seconds)"),
                ));
            }
            (Some(d), None) => d,
            (None, after) => {
                let d = schedule
                    .last_time()
                    .saturating_add(after.unwrap_or(60).min(MAX_INTERVAL_SECS * 365));
                if d > MAX_TIME {
                    return Err(Error::invalid(
                        "deadline_after_last_secs",
                        format!("expected a close at or before {MAX_TIME} (Unix seconds)"),
                    ));
                }
                d
            }
        };
        let max_secrets = MAX_SECRETS.min(u32::try_from(s.messages).unwrap_or(u32::MAX));
        if !(1..=max_secrets).contains(&self.secrets) {
            return Err(Error::invalid(
                "secrets",
                format!("expected 1 to {max_secrets} (at most one per message)"),
            ));
        }
        Ok(ValidSpec {
            title,
            rules: self.rules,
            track,
            bounty: self.bounty,
            schedule,
            deadline,
            close_on_win: self.close_on_win,
            secrets: self.secrets,
        })
    }
}
