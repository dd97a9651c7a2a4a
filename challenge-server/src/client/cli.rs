//! `challenge-server client …`: the researcher's commands (docs/CLI.md). Each returns what it
//! did as text and as a `--json` document; errors say what to do next.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rand_core::CryptoRng;
use serde_json::{Value, json};
use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use super::api::Api;
use super::audit::{check_grown, check_receipt, latest};
use super::claim::{ClaimFlags, default_out, new_claim, reveal_of};
use super::error::{ClientError, ErrorKind};
use super::files::{create_private, read_local, replace_private};
use super::state::{State, default_path};
use crate::api::{
    ChallengeSummary, ChallengeView, ClaimView, ClaimsPage, CommitRequest, Receipt, ServerKeyView,
    TranscriptPage, VerdictView,
};
use crate::fields::is_id;
use crate::log::MAX_ENTRIES_PAGE;
use crate::verify::pinned::ClaimFile;
use crate::verify::{self, PinnedKey, Source};

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
struct Done {
    text: String,
    json: Value,
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

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_id(id: &str) -> Result<(), ClientError> {
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
fn unknown_challenge(e: ClientError, id: &str) -> ClientError {
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

async fn pin(
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

/// `t` relative to now, in words.
fn relative(t: u64) -> String {
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

fn bounty_text(bounty: &std::collections::BTreeMap<String, String>) -> String {
    bounty
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn challenges(state: &State) -> Result<Done, ClientError> {
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

async fn show(state: &State, id: &str) -> Result<Done, ClientError> {
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

/// A progress bar on a terminal's stderr; hidden for `--json` or when stderr is not a terminal.
fn progress(len: Option<u64>, quiet: bool, message: &'static str) -> ProgressBar {
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

async fn transcript(state: &State, id: &str, out: &Path, quiet: bool) -> Result<Done, ClientError> {
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

async fn commit(
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

async fn reveal(state: &State, path: &Path, finding: Option<&Path>) -> Result<Done, ClientError> {
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

async fn status(state: &State, path: &Path) -> Result<Done, ClientError> {
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

async fn log_verify(state_path: &Path, files: &[PathBuf]) -> Result<Done, ClientError> {
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

async fn verify_challenge(
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
