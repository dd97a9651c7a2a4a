//! The `challenge-server` command: `serve` (with `--demo`), `challenge create|close`,
//! `admin-token`, `export` and `verify`. docs/OPERATING.md describes each.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use challenge_server::clock::Clock;
use challenge_server::tracks::ChallengeSpec;
use challenge_server::verify::{self, PinnedKey, Source, VerifyError};
use challenge_server::{App, Config, Error, RunningServer, challenges, store};
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "challenge-server",
    version,
    about = "The crypto-challenge bounty service"
)]
struct Cli {
    /// TOML configuration file (environment variables CHALLENGE_SERVER_* override it).
    #[arg(long, global = true, env = "CHALLENGE_SERVER_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (overrides the configuration).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// How log lines are written to stderr: `text` for people, `json` (one object a line) for
    /// a log pipeline. No line holds a secret, a nonce or a claimant's evidence.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serves the API and runs the scheduler until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on (overrides the configuration; port 0 picks a free one).
        #[arg(long)]
        listen: Option<String>,
        /// On a data directory without challenges, create a demo challenge with a fast schedule.
        #[arg(long)]
        demo: bool,
    },
    /// Manages challenges in the data directory.
    Challenge {
        #[command(subcommand)]
        command: ChallengeCommand,
    },
    /// Creates a new admin token, stores its hash, prints the token once.
    AdminToken,
    /// Rebuilds every claim row of the database from the log's events (the rows are a cache
    /// of the log), and prints what it did.
    RebuildClaims,
    /// Downloads everything `verify` needs about a challenge into a directory.
    Export {
        /// The server's URL: its root (`http://host:port`) or its API base (`…/api/v1`).
        #[arg(long)]
        url: String,
        /// Challenge id.
        #[arg(long)]
        challenge: String,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Checks a closed challenge from its revealed seed; exits non-zero at the first mismatch.
    Verify {
        /// The server's URL: its root (`http://host:port`) or its API base (`…/api/v1`).
        #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
        url: Option<String>,
        /// An exported directory instead of a server.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Challenge id (default with --dir: the exported one).
        #[arg(long, required_unless_present = "dir")]
        challenge: Option<String>,
        /// The server key, pinned: 64 hex digits, or a JSON file with the `GET /server-key`
        /// document saved at the challenge's creation, or a claim file. Never taken from the
        /// server or directory being checked.
        #[arg(long)]
        server_key: String,
        /// The log origin (needed when --server-key is hex digits; else it must be the file's).
        #[arg(long)]
        log_origin: Option<String>,
        /// Receipts you hold: the API's receipt JSON or claim files; each must be in the log.
        #[arg(long, num_args = 1..)]
        receipt: Vec<PathBuf>,
        /// Verify as of this time (Unix seconds; default: this machine's clock): past the
        /// reveal deadline, every commit must be revealed or void.
        #[arg(long)]
        now: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
enum ChallengeCommand {
    /// Creates a challenge from a TOML definition (docs/OPERATING.md).
    Create {
        /// The definition.
        #[arg(long)]
        file: PathBuf,
    },
    /// Lists the challenges.
    List,
    /// Closes a challenge now and reveals its seed.
    Close {
        /// Challenge id.
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        );
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Verify {
            url,
            dir,
            challenge,
            server_key,
            log_origin,
            receipt,
            now,
        } => {
            let args = VerifyArgs {
                server_key,
                log_origin,
                receipts: receipt,
                now: now.unwrap_or_else(|| Clock::System.now()),
            };
            return verify_command(url, dir, challenge, &args).await;
        }
        Command::Export {
            url,
            challenge,
            out,
        } => export_command(&url, &challenge, &out).await,
        command => match load_config(cli.config.as_deref(), cli.data_dir) {
            Ok(config) => local_command(config, command).await,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(path: Option<&Path>, data_dir: Option<PathBuf>) -> Result<Config, Error> {
    let mut config = Config::load(path)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    Ok(config)
}

async fn local_command(mut config: Config, command: Command) -> Result<(), Error> {
    match command {
        Command::Serve { listen, demo } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config, demo).await
        }
        Command::Challenge { command } => challenge_command(config, command).await,
        Command::RebuildClaims => {
            let app = App::open(config, Clock::System).await?;
            let report = challenge_server::claims::rebuild_from_log(&app).await?;
            println!(
                "rebuilt {} claims from {} log entries ({} revealed before the reveal events \
                 existed, kept as stored)",
                report.claims, report.log_entries, report.kept
            );
            app.store.close().await;
            Ok(())
        }
        Command::AdminToken => {
            let app = App::open(config, Clock::System).await?;
            println!("{}", app.create_admin_token().await?);
            Ok(())
        }
        Command::Verify { .. } | Command::Export { .. } => Ok(()),
    }
}

async fn serve(config: Config, demo: bool) -> Result<(), Error> {
    let app = App::open(config, Clock::System).await?;
    let first_run = store::keys::admin_token_hashes(&app.store)
        .await?
        .is_empty()
        && app.config.admin_token_sha256.is_none();
    let demo_challenge = if demo && store::challenges::list(&app.store).await?.is_empty() {
        Some(challenges::create(&app, challenge_server::tracks::demo_spec(), None).await?)
    } else {
        None
    };
    let stored = store::keys::admin_token_hashes(&app.store).await?.len();
    println!(
        "{}",
        admin_credentials(stored, app.config.admin_token_sha256.is_some())
    );
    let server = RunningServer::start(app.clone()).await?;
    let url = app
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| server.url());
    println!("challenge-server listening on {}", server.url());
    if first_run {
        println!(
            "admin token (shown once; only its hash is stored): {}",
            app.create_admin_token().await?
        );
    }
    for row in store::challenges::list(&app.store).await? {
        let label = if demo_challenge.as_ref().is_some_and(|d| d.id == row.id) {
            "demo challenge"
        } else {
            "challenge"
        };
        println!(
            "{label} {} ({}): {url}/api/v1/challenges/{}",
            row.id, row.status, row.id
        );
    }
    println!("transcript: {url}/api/v1/challenges/<id>/transcript   health: {url}/api/v1/health");
    server.run_until_signal().await
}

/// Which admin credentials `serve` accepts (never a token or its hash), so that an operator
/// whose configured hash is wrong learns where to look.
fn admin_credentials(stored: usize, configured: bool) -> String {
    match (stored, configured) {
        (0, false) => {
            "admin credentials: none configured; a first admin token is printed below".to_owned()
        }
        (0, true) => "admin credentials: admin_token_sha256 from the configuration".to_owned(),
        (n, false) => format!("admin credentials: {n} token(s) in the database"),
        (n, true) => format!(
            "admin credentials: admin_token_sha256 from the configuration and {n} token(s) in \
             the database"
        ),
    }
}

async fn challenge_command(config: Config, command: ChallengeCommand) -> Result<(), Error> {
    let app = App::open(config, Clock::System).await?;
    match command {
        ChallengeCommand::Create { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Error::invalid("file", format!("cannot read {}: {e}", file.display()))
            })?;
            let spec = ChallengeSpec::from_toml(&text)?;
            let row = challenges::create(&app, spec, None).await?;
            let view = challenges::view(&app, &row).await?;
            println!("{}", serde_json::to_string_pretty(&view)?);
        }
        ChallengeCommand::List => {
            for row in store::challenges::list(&app.store).await? {
                println!(
                    "{}  {:6}  deadline {}  {}",
                    row.id, row.status, row.deadline, row.title
                );
            }
        }
        ChallengeCommand::Close { id } => {
            let row = challenges::find(&app, &id, "id").await?;
            challenges::close(&app, &row.id, "operator").await?;
            println!("closed {}; seed revealed", row.id);
        }
    }
    app.store.close().await;
    Ok(())
}

async fn export_command(url: &str, challenge: &str, out: &Path) -> Result<(), Error> {
    let source = Source::http(url).map_err(Error::internal)?;
    verify::export(&source, challenge, out)
        .await
        .map_err(Error::internal)?;
    println!("exported challenge {challenge} to {}", out.display());
    Ok(())
}

/// What `verify` takes from the user rather than from the source.
struct VerifyArgs {
    server_key: String,
    log_origin: Option<String>,
    receipts: Vec<PathBuf>,
    now: u64,
}

async fn verify_command(
    url: Option<String>,
    dir: Option<PathBuf>,
    challenge: Option<String>,
    args: &VerifyArgs,
) -> ExitCode {
    let pinned = match PinnedKey::from_arg(&args.server_key, args.log_origin.as_deref()) {
        Ok(pinned) => pinned,
        Err(e) => return fail(&e),
    };
    let mut held = Vec::with_capacity(args.receipts.len());
    for path in &args.receipts {
        match verify::read_receipt_file(path) {
            Ok(r) => held.push(r),
            Err(e) => return fail(&e),
        }
    }
    let (source, id) = match (url, dir) {
        (Some(url), _) => match Source::http(&url) {
            Ok(source) => (source, challenge.unwrap_or_default()),
            Err(e) => return fail(&e),
        },
        (None, Some(dir)) => {
            let source = Source::Dir(dir);
            let id = match challenge {
                Some(id) => id,
                None => match source.challenge("").await {
                    Ok(c) => c.id,
                    Err(e) => return fail(&e),
                },
            };
            (source, id)
        }
        (None, None) => return fail(&VerifyError::Source("give --url or --dir".to_owned())),
    };
    match verify::verify(&source, &id, &pinned, &held, args.now).await {
        Ok(report) => {
            let finality = match (report.unrevealed, report.reveal_deadline) {
                (0, _) => "every verdict final".to_owned(),
                (n, Some(deadline)) => format!(
                    "{n} commits unrevealed until the reveal deadline {deadline}: the wins after \
                     them are provisional"
                ),
                (n, None) => format!(
                    "{n} commits unrevealed and no reveal deadline: the wins after them stay \
                     provisional"
                ),
            };
            println!(
                "OK: challenge {id}: transcript entries regenerated byte for byte: {}; secrets \
                 found as committed: {}; claims rebuilt from the log and checked (receipt, \
                 reveal, verdict): {}; sessions replayed from their records: {} (wins re-judged: \
                 {}); held receipts in the log: {}; log entries: {}; tree heads consistent: {}; \
                 {finality}",
                report.entries,
                report.secrets,
                report.claims,
                report.sessions,
                report.session_wins,
                report.held_receipts,
                report.log_size,
                report.checkpoints
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &VerifyError) -> ExitCode {
    eprintln!("verify: {e}");
    ExitCode::FAILURE
}
