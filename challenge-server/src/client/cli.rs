//! `challenge-server client …`: the researcher's commands (docs/CLI.md). Each returns what it
//! did as text and as a `--json` document; errors say what to do next.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::CryptoRng;
use serde_json::Value;

use super::error::ClientError;
use super::state::{State, default_path};
use crate::fields::is_id;

/// Most transcript entries `client transcript --download` takes.
pub const MAX_TRANSCRIPT_ENTRIES: u64 = 10_000_000;
/// Most claim files one `client log verify` or `client verify` takes.
pub const MAX_CLAIM_FILES: usize = 1000;

/// `challenge-server client`: the researcher's client.
#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The client's state file (default `~/.config/challenge-server/client.json`).
    #[arg(long, global = true, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Print one JSON document (errors too) instead of text, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// The client's commands.
#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Pins the server's key (from the operator, never from the server) in the state file.
    Pin {
        /// The server's URL: its root or its API base (`…/api/v1`).
        #[arg(long)]
        server: String,
        /// The server key: 64 hex digits, or a file holding the `GET /server-key` document.
        #[arg(long)]
        server_key: String,
        /// The log origin (default with hex digits: the server's, if it serves that key).
        #[arg(long)]
        log_origin: Option<String>,
        /// Replace a state file pinned to another key or server.
        #[arg(long)]
        force: bool,
    },
    /// Lists the challenges.
    Challenges,
    /// Shows a challenge: rules, bounty, schedule, commitments, target-impl build.
    Show {
        /// Challenge id.
        id: String,
    },
    /// Downloads a challenge's whole published transcript, a page at a time.
    Transcript {
        /// Challenge id.
        id: String,
        /// Where to write it (the `GET …/transcript/download` document).
        #[arg(long, value_name = "FILE")]
        download: PathBuf,
    },
    /// Commit, reveal and follow claims.
    Claim {
        /// The claim command.
        #[command(subcommand)]
        command: ClaimCommand,
    },
    /// The transparency log.
    Log {
        /// The log command.
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Verifies a closed challenge from its revealed seed under the pinned key, with your
    /// claim files as held receipts.
    Verify {
        /// Challenge id.
        id: String,
        /// Your claim files (or receipts): each must be in the log.
        #[arg(long, num_args = 1..)]
        receipt: Vec<PathBuf>,
        /// Verify as of this Unix time (default: this machine's clock).
        #[arg(long)]
        now: Option<u64>,
    },
}

/// `client claim …`.
#[derive(Subcommand, Debug)]
pub enum ClaimCommand {
    /// Builds the claim text, draws the nonce, writes the claim file (mode 0600, fsynced)
    /// before sending the commit, then adds the verified receipt to it.
    Commit(Box<CommitArgs>),
    /// Reveals the claim of a claim file.
    Reveal {
        /// The claim file.
        file: PathBuf,
        /// For a finding: the finding's text, the file committed.
        #[arg(long, value_name = "FILE")]
        finding_file: Option<PathBuf>,
    },
    /// Shows a claim's status, verdict and log links.
    Status {
        /// The claim file.
        file: PathBuf,
    },
}

/// `client claim commit`. Its `Debug` leaves out the secret and the private key.
#[derive(Args)]
pub struct CommitArgs {
    /// Challenge id.
    #[arg(required_unless_present = "resume")]
    pub id: Option<String>,
    /// Your public claimant name (1 to 64 of `A-Z a-z 0-9 . _ - @`).
    #[arg(long, required_unless_present = "resume")]
    pub claimant: Option<String>,
    /// The kind of claim: `secret`, `key` or `finding`.
    #[arg(long, required_unless_present = "resume")]
    pub kind: Option<String>,
    /// `secret`: the transcript entry that carries it.
    #[arg(long)]
    pub message: Option<u64>,
    /// `secret`: the secret, 32 hex digits.
    #[arg(long)]
    pub secret: Option<String>,
    /// `secret` of a session, or `key`: the session number.
    #[arg(long)]
    pub session: Option<u64>,
    /// `key`: whose key (`alice`, `bob`).
    #[arg(long)]
    pub party: Option<String>,
    /// `key`: which key (`ed25519`, `x25519`).
    #[arg(long)]
    pub key: Option<String>,
    /// `key`: the private key, 64 hex digits.
    #[arg(long)]
    pub private_key: Option<String>,
    /// `finding`: a file with the finding's text.
    #[arg(long, value_name = "FILE")]
    pub finding_file: Option<PathBuf>,
    /// The claim file to write (default `claim-<challenge>-<commitment prefix>.json`; an
    /// existing file is never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Sends the commit of a claim file whose commit was never answered (receipt null).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["id", "claimant", "kind", "out"])]
    pub resume: Option<PathBuf>,
}

impl std::fmt::Debug for CommitArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitArgs")
            .field("id", &self.id)
            .field("claimant", &self.claimant)
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("session", &self.session)
            .field("party", &self.party)
            .field("key", &self.key)
            .field("finding_file", &self.finding_file)
            .field("out", &self.out)
            .field("resume", &self.resume)
            .finish_non_exhaustive()
    }
}

/// `client log …`.
#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Verifies the latest checkpoint under the pinned key, its consistency with the last one
    /// this client saw, and the inclusion of each claim file's receipt.
    Verify {
        /// Claim files (or receipts) whose commits must be in the log.
        files: Vec<PathBuf>,
    },
}

/// What a command did: its text and its `--json` document.
pub(super) struct Done {
    pub(super) text: String,
    pub(super) json: Value,
}

/// Runs a client command; `rng` draws claim nonces (the caller passes the OS RNG).
pub async fn run(args: ClientArgs, rng: &mut impl CryptoRng) -> ExitCode {
    let json = args.json;
    match execute(args, rng).await {
        Ok(done) => {
            if json {
                println!("{}", done.json);
            } else {
                println!("{}", done.text);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                println!("{}", e.to_json());
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.kind.exit_status())
        }
    }
}

use super::check::{log_verify, verify_challenge};
use super::commit::{commit, reveal, status};
use super::pin::pin;
use super::read::{challenges, show, transcript};

async fn execute(args: ClientArgs, rng: &mut impl CryptoRng) -> Result<Done, ClientError> {
    let state_path = match args.state {
        Some(path) => path,
        None => default_path()?,
    };
    let quiet = args.json;
    match args.command {
        ClientCommand::Pin {
            server,
            server_key,
            log_origin,
            force,
        } => pin(&state_path, &server, &server_key, log_origin, force).await,
        ClientCommand::Challenges => challenges(&State::load(&state_path)?).await,
        ClientCommand::Show { id } => show(&State::load(&state_path)?, &id).await,
        ClientCommand::Transcript { id, download } => {
            transcript(&State::load(&state_path)?, &id, &download, quiet).await
        }
        ClientCommand::Claim { command } => match command {
            ClaimCommand::Commit(commit_args) => commit(&state_path, *commit_args, rng).await,
            ClaimCommand::Reveal { file, finding_file } => {
                reveal(&State::load(&state_path)?, &file, finding_file.as_deref()).await
            }
            ClaimCommand::Status { file } => status(&State::load(&state_path)?, &file).await,
        },
        ClientCommand::Log {
            command: LogCommand::Verify { files },
        } => log_verify(&state_path, &files).await,
        ClientCommand::Verify { id, receipt, now } => {
            verify_challenge(&State::load(&state_path)?, &id, &receipt, now, quiet).await
        }
    }
}

pub(super) fn check_id(id: &str) -> Result<(), ClientError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(ClientError::usage(format!(
            "challenge {id:?}: expected a challenge id, 16 lowercase hex digits"
        ))
        .hint("list the challenges with `challenge-server client challenges`"))
    }
}

/// A 404 about a challenge, with what to do next.
pub(super) fn unknown_challenge(e: ClientError, id: &str) -> ClientError {
    if e.status == Some(404) {
        ClientError {
            message: format!("the server has no challenge {id}"),
            ..e
        }
        .hint("list the challenges with `challenge-server client challenges`")
    } else {
        e
    }
}

/// `t` relative to now, in words.
pub(super) fn relative(t: u64) -> String {
    let now = crate::clock::Clock::System.now();
    let (d, future) = if t >= now {
        (t - now, true)
    } else {
        (now - t, false)
    };
    let words = match d {
        0..=119 => format!("{d} s"),
        120..=7199 => format!("{} min", d / 60),
        7200..=172_799 => format!("{} h", d / 3600),
        _ => format!("{} days", d / 86400),
    };
    if future {
        format!("in {words}")
    } else {
        format!("{words} ago")
    }
}

/// A progress bar on a terminal's stderr; hidden for `--json` or when stderr is not a terminal.
pub(super) fn progress(len: Option<u64>, quiet: bool, message: &'static str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    match len {
        Some(len) => {
            let bar = ProgressBar::new(len).with_message(message);
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => {
            let bar = ProgressBar::new_spinner().with_message(message);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        client: ClientArgs,
    }

    #[test]
    fn the_parsed_command_line_never_debug_prints_a_secret() {
        let secret = "00112233445566778899aabbccddeeff";
        let cli = Cli::try_parse_from([
            "client",
            "claim",
            "commit",
            "3f2a9c0d1e4b5a69",
            "--claimant",
            "a",
            "--kind",
            "secret",
            "--message",
            "7",
            "--secret",
            secret,
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(
            debug.contains("3f2a9c0d1e4b5a69") && !debug.contains(secret),
            "{debug}"
        );
    }

    #[test]
    fn resume_takes_no_new_claim() {
        assert!(Cli::try_parse_from(["client", "claim", "commit", "--resume", "f.json"]).is_ok());
        assert!(
            Cli::try_parse_from([
                "client", "claim", "commit", "--resume", "f.json", "--out", "g"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["client", "claim", "commit", "3f2a9c0d1e4b5a69"]).is_err());
    }
}
