//! Configuration: a TOML file, then environment overrides (docs/OPERATING.md).
//!
//! Every key can be overridden by `CHALLENGE_SERVER_<KEY>`, nested keys joined by `__`:
//! `CHALLENGE_SERVER_LISTEN=0.0.0.0:8080`, `CHALLENGE_SERVER_LIMITS__BODY_BYTES=8192`. A value
//! that parses as a TOML value (number, boolean, array) is taken as one, anything else as a
//! string. `CHALLENGE_SERVER_KEK` gives the key-encryption key itself, as 64 hex characters.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Error;

/// The environment variable prefix.
pub const ENV_PREFIX: &str = "CHALLENGE_SERVER_";

/// The whole configuration. Its `Debug` shows neither the KEK nor the admin token hash.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The URL under which clients reach the server, if not `http://<listen>`.
    pub public_url: Option<String>,
    /// Directory of the SQLite database (and, by default, the KEK file).
    pub data_dir: PathBuf,
    /// The key-encryption key as 64 hex characters (best given by environment).
    pub kek: Option<String>,
    /// File holding the KEK as 64 hex characters; default `<data_dir>/kek.hex`.
    pub kek_file: Option<PathBuf>,
    /// Create the KEK file if it does not exist.
    pub create_kek: bool,
    /// Where the largest log size ever signed is recorded; default `<KEK file>.log-size`,
    /// beside the KEK and so outside the data directory when the KEK is (docs/OPERATING.md).
    pub log_size_file: Option<PathBuf>,
    /// Start on a log shorter than the largest size ever signed (a restored backup): the loss
    /// is logged as a `log-rolled-back` event. Off by default: the server refuses to start.
    pub accept_log_rollback: bool,
    /// The transparency log's origin line and signed-note key name.
    pub log_origin: String,
    /// SHA-256 (hex) of an admin token accepted in addition to those in the database.
    pub admin_token_sha256: Option<String>,
    /// Abuse limits.
    pub limits: Limits,
    /// Scheduler settings.
    pub scheduler: SchedulerConfig,
}

/// Rate limits, body caps and timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Longest a request may take, in milliseconds.
    pub request_timeout_ms: u64,
    /// Requests per minute from one address (sustained).
    pub per_address_per_minute: u32,
    /// Requests one address may send at once before the rate applies.
    pub per_address_burst: u32,
    /// Claim commits per minute from one claimant name (sustained).
    pub per_claimant_per_minute: u32,
    /// Claim commits one claimant may send at once.
    pub per_claimant_burst: u32,
    /// IPv6 clients are rate-limited by this prefix of their address (IPv4: the whole address).
    #[serde(deserialize_with = "ipv6_prefix_len")]
    pub ipv6_prefix_len: u8,
    /// `/health` requests per minute from one address: a budget of their own, so that a
    /// monitoring probe is answered while its address's general budget is spent.
    pub monitor_per_minute: u32,
    /// `/health` requests one address may send at once.
    pub monitor_burst: u32,
}

fn ipv6_prefix_len<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let value = u8::deserialize(d)?;
    if value > 128 {
        return Err(serde::de::Error::custom(
            "limits.ipv6_prefix_len: expected a prefix length from 0 to 128",
        ));
    }
    Ok(value)
}

/// The scheduler.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// How often the scheduler looks for due steps, in milliseconds.
    pub tick_ms: u64,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// Shows whether a secret is set, never its value.
        fn set(value: &Option<String>) -> &'static str {
            if value.is_some() { "Some(..)" } else { "None" }
        }
        let Self {
            listen,
            public_url,
            data_dir,
            kek,
            kek_file,
            create_kek,
            log_size_file,
            accept_log_rollback,
            log_origin,
            admin_token_sha256,
            limits,
            scheduler,
        } = self;
        f.debug_struct("Config")
            .field("listen", listen)
            .field("public_url", public_url)
            .field("data_dir", data_dir)
            .field("kek", &format_args!("{}", set(kek)))
            .field("kek_file", kek_file)
            .field("create_kek", create_kek)
            .field("log_size_file", log_size_file)
            .field("accept_log_rollback", accept_log_rollback)
            .field("log_origin", log_origin)
            .field(
                "admin_token_sha256",
                &format_args!("{}", set(admin_token_sha256)),
            )
            .field("limits", limits)
            .field("scheduler", scheduler)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            data_dir: PathBuf::from("challenge-server-data"),
            kek: None,
            kek_file: None,
            create_kek: true,
            log_size_file: None,
            accept_log_rollback: false,
            log_origin: "localhost/challenge-server".to_owned(),
            admin_token_sha256: None,
            limits: Limits::default(),
            scheduler: SchedulerConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 16 * 1024,
            request_timeout_ms: 10_000,
            per_address_per_minute: 1200,
            per_address_burst: 200,
            per_claimant_per_minute: 20,
            per_claimant_burst: 10,
            ipv6_prefix_len: 64,
            monitor_per_minute: 60,
            monitor_burst: 10,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self { tick_ms: 200 }
    }
}

impl Config {
    /// Loads `path` (if given) and applies the environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, Error> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                Error::invalid("config", format!("cannot read {}: {e}", path.display()))
            })?,
            None => String::new(),
        };
        Self::from_toml_and_env(&text, std::env::vars())
    }

    /// Parses `text` and applies overrides from `vars` (name, value).
    pub fn from_toml_and_env(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        let mut table: toml::Table = text
            .parse()
            .map_err(|e| Error::invalid("config", format!("{e}")))?;
        for (name, value) in vars {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path: Vec<String> = key
                .to_ascii_lowercase()
                .split("__")
                .map(str::to_owned)
                .collect();
            let value = if STRING_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                toml::Value::String(value)
            } else {
                parse_env_value(&value)
            };
            set_path(&mut table, &path, value, &name)?;
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| Error::invalid("config", e.message().to_owned()))
    }

    /// Where the KEK file lives.
    pub fn kek_path(&self) -> PathBuf {
        self.kek_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("kek.hex"))
    }

    /// Where the largest signed log size is recorded.
    pub fn log_size_path(&self) -> PathBuf {
        self.log_size_file.clone().unwrap_or_else(|| {
            let mut name = self.kek_path().into_os_string();
            name.push(".log-size");
            PathBuf::from(name)
        })
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("challenge-server.sqlite")
    }
}

/// Keys whose environment value is always taken as a string (a hex KEK may look like a number).
const STRING_KEYS: [&str; 8] = [
    "listen",
    "public_url",
    "data_dir",
    "kek",
    "kek_file",
    "log_size_file",
    "log_origin",
    "admin_token_sha256",
];

fn parse_env_value(value: &str) -> toml::Value {
    format!("v = {value}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()))
}

fn set_path(
    table: &mut toml::Table,
    path: &[String],
    value: toml::Value,
    var: &str,
) -> Result<(), Error> {
    match path {
        [] => Err(Error::invalid(var, "empty configuration key")),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(inner) => set_path(inner, rest, value, var),
                _ => Err(Error::invalid(var, "names a key that is not a table")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file() {
        let config = Config::from_toml_and_env(
            "listen = \"127.0.0.1:1\"\n[limits]\nbody_bytes = 10\n",
            [
                (
                    "CHALLENGE_SERVER_LISTEN".to_owned(),
                    "127.0.0.1:2".to_owned(),
                ),
                (
                    "CHALLENGE_SERVER_LIMITS__BODY_BYTES".to_owned(),
                    "20".to_owned(),
                ),
                ("CHALLENGE_SERVER_KEK".to_owned(), "00ff".to_owned()),
                ("OTHER".to_owned(), "x".to_owned()),
            ],
        )
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:2");
        assert_eq!(config.limits.body_bytes, 20);
        assert_eq!(config.kek.as_deref(), Some("00ff"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Config::from_toml_and_env("lisen = \"x\"", []).is_err());
    }
}
