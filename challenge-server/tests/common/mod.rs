//! Shared helpers of the integration tests: a real server on a random loopback port with a
//! temporary data directory, and a small JSON client.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod ind_cca;
pub mod mitm;
pub mod promtool;
pub mod seizure;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use challenge_server::clock::Clock;
use challenge_server::tracks::{ChallengeSpec, ScheduleSpec};
use challenge_server::{App, Config, RunningServer};
use serde_json::Value;

/// A fixed key-encryption key for tests.
pub const KEK_HEX: &str = "8f1c2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7";

/// A test configuration on `dir`.
pub fn config(dir: &Path) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".to_owned(),
        data_dir: dir.to_path_buf(),
        kek: Some(KEK_HEX.to_owned()),
        ..Config::default()
    };
    config.scheduler.tick_ms = 20;
    config
}

/// Starts an in-process server.
pub async fn start(config: Config, clock: Clock) -> RunningServer {
    let app = App::open(config, clock).await.unwrap();
    RunningServer::start(app).await.unwrap()
}

/// A challenge definition with a fast schedule.
pub fn spec(messages: u64, interval_secs: u64, secrets: u32, after_last: u64) -> ChallengeSpec {
    ChallengeSpec {
        title: "Test challenge".to_owned(),
        rules: "Find a secret.".to_owned(),
        track: "passive".to_owned(),
        bounty: [
            ("secret".to_owned(), "100 EUR".to_owned()),
            ("finding".to_owned(), "50 EUR".to_owned()),
        ]
        .into(),
        schedule: ScheduleSpec {
            messages,
            interval_secs,
            start_at: None,
            start_in_secs: Some(interval_secs),
        },
        deadline: None,
        deadline_after_last_secs: Some(after_last),
        close_on_win: false,
        secrets,
        params: Default::default(),
        reveal_window_secs: None,
    }
}

/// How long a spawned server may take to print its URL.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process that is killed and reaped when dropped, so a test that fails before it stops
/// its process (an assertion, a panic in a helper) never leaves it running with the test's
/// output pipes open.
pub struct KillOnDrop(Option<Child>);

impl KillOnDrop {
    pub fn new(child: Child) -> Self {
        Self(Some(child))
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }

    /// Kills the process outright (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            // Killing a child that already exited fails, and that is fine.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `challenge-server serve` process, killed when dropped.
pub struct ServerProcess {
    process: KillOnDrop,
    /// The URL it printed (`http://127.0.0.1:port`).
    pub url: String,
    /// What it printed (stdout and stderr) before the URL.
    pub before_url: Vec<String>,
    /// Every later line it prints (stdout and stderr), as they come.
    output: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Spawns `challenge-server` with `args` and `envs` (after the test KEK, so `envs` may
    /// override it), and waits at most [`STARTUP_TIMEOUT`] for its `listening on` line.
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Self {
        match Self::try_spawn(args, envs) {
            Ok(server) => server,
            Err(failure) => panic!("{failure}"),
        }
    }

    /// `challenge-server serve` on a random loopback port over `data_dir`, as [`Self::spawn`].
    pub fn serve(data_dir: &std::path::Path, envs: &[(&str, &str)]) -> Self {
        match Self::try_serve(data_dir, envs) {
            Ok(server) => server,
            Err(failure) => panic!("{failure}"),
        }
    }

    /// `challenge-server serve` on a random loopback port over `data_dir`, as [`Self::try_spawn`].
    pub fn try_serve(data_dir: &std::path::Path, envs: &[(&str, &str)]) -> Result<Self, String> {
        let data_dir = data_dir.to_str().ok_or("the data directory is not UTF-8")?;
        Self::try_spawn(
            &["serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir],
            envs,
        )
    }

    /// As [`Self::spawn`], but a server that exits before it listens gives its exit status
    /// and every line it printed.
    pub fn try_spawn(args: &[&str], envs: &[(&str, &str)]) -> Result<Self, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_challenge-server"));
        command
            .args(args)
            .env("CHALLENGE_SERVER_KEK", KEK_HEX)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut process = KillOnDrop::new(command.spawn().unwrap());
        let (tx, rx) = mpsc::channel();
        // Each pipe is drained to its end (so the server never blocks on a full pipe); stderr is
        // echoed for the test's output, both are handed over until start-up is done.
        let stdout = process.child().stdout.take().unwrap();
        let stderr = process.child().stderr.take().unwrap();
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = out_tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + STARTUP_TIMEOUT;
        let mut printed = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("challenge-server listening on ") {
                        let url = url.to_owned();
                        return Ok(Self {
                            process,
                            url,
                            before_url: printed,
                            output: rx,
                        });
                    }
                    printed.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the server did not print its URL within {STARTUP_TIMEOUT:?}; it printed:\n{}",
                        printed.join("\n")
                    ));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = process.child().wait().unwrap();
                    return Err(format!(
                        "the server exited ({status}) before printing its URL; it printed:\n{}",
                        printed.join("\n")
                    ));
                }
            }
        }
    }

    /// Kills the process outright (SIGKILL) and reaps it.
    pub fn kill(mut self) {
        self.process.kill();
    }

    /// Kills the process (SIGKILL) and returns every line it printed after its URL.
    pub fn kill_and_collect(mut self) -> Vec<String> {
        self.process.kill();
        // The pipes close with the process, so the readers end and the channel drains.
        self.output.iter().collect()
    }
}

/// How long one CLI command of a test may run.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `challenge-server` with `args` and `envs` to completion, killed (and the test failed)
/// after [`CLI_TIMEOUT`].
pub fn run_cli(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_challenge-server"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let mut process = KillOnDrop::new(command.spawn().unwrap());
    let mut stdout = process.child().stdout.take().unwrap();
    let mut stderr = process.child().stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf)
    });
    let deadline = std::time::Instant::now() + CLI_TIMEOUT;
    let status = loop {
        if let Some(status) = process.child().try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`challenge-server {}` did not finish within {CLI_TIMEOUT:?}",
            args.join(" ")
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: out.join().unwrap().unwrap(),
        stderr: err.join().unwrap().unwrap(),
    }
}

/// How long one HTTP request of a test may take before it fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A JSON client for one server.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self {
            base: format!("{base}/api/v1"),
            http: reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.get_with_token(path, None).await
    }

    /// A GET with `Authorization: Bearer <token>`.
    pub async fn get_with_token(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, &body.to_string(), None).await
    }

    pub async fn post_raw(&self, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Waits until the challenge has `n` published entries.
    pub async fn wait_published(&self, id: &str, n: u64) {
        for _ in 0..600 {
            let (_, c) = self.get(&format!("/challenges/{id}")).await;
            if c["published_entries"].as_u64() == Some(n) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("challenge {id} never reached {n} published entries");
    }

    /// Waits until the challenge is closed.
    pub async fn wait_closed(&self, id: &str) -> Value {
        for _ in 0..600 {
            let (_, c) = self.get(&format!("/challenges/{id}")).await;
            if c["status"] == "closed" {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("challenge {id} never closed");
    }
}

/// The claim text's commitment, computed the way docs/API.md tells a researcher to.
pub fn secret_commitment(
    challenge: &str,
    claimant: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> String {
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {challenge}\nclaimant: {claimant}\nkind: secret\nmessage: {message}\nsecret: {secret_hex}\nnonce: {nonce_hex}\n"
    );
    hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]))
}

/// Commits a secret claim; returns (status, receipt or error).
pub async fn commit_secret(
    client: &Client,
    challenge: &str,
    claimant: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> (u16, Value) {
    let commitment = secret_commitment(challenge, claimant, message, secret_hex, nonce_hex);
    client
        .post(
            "/claims/commit",
            &serde_json::json!({"challenge": challenge, "claimant": claimant, "commitment": commitment}),
        )
        .await
}

/// Commits a finding claim; returns (status, receipt or error).
pub async fn commit_finding(
    client: &Client,
    challenge: &str,
    claimant: &str,
    finding: &str,
    nonce_hex: &str,
) -> (u16, Value) {
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {challenge}\nclaimant: {claimant}\nkind: finding\nfinding-sha256: {}\nnonce: {nonce_hex}\n",
        hex::encode(target_impl::hazmat::sha256(&[finding.as_bytes()]))
    );
    let commitment = hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]));
    client
        .post(
            "/claims/commit",
            &serde_json::json!({"challenge": challenge, "claimant": claimant, "commitment": commitment}),
        )
        .await
}

/// Reveals a secret claim.
pub async fn reveal_secret(
    client: &Client,
    claim: &str,
    message: u64,
    secret_hex: &str,
    nonce_hex: &str,
) -> (u16, Value) {
    client
        .post(
            &format!("/claims/{claim}/reveal"),
            &serde_json::json!({"kind": "secret", "message": message, "secret": secret_hex, "nonce": nonce_hex}),
        )
        .await
}

/// An `Arc<App>` for library calls next to the running server.
pub fn app(server: &RunningServer) -> Arc<App> {
    server.app.clone()
}

/// The server key a researcher saves at a challenge's creation (`GET /server-key`), written to
/// `path` for `verify --server-key`, and pinned for the library.
pub async fn save_server_key(client: &Client, path: &Path) -> challenge_server::verify::PinnedKey {
    let (status, key) = client.get("/server-key").await;
    assert_eq!(status, 200);
    std::fs::write(path, key.to_string()).unwrap();
    challenge_server::verify::PinnedKey::from_arg(path.to_str().unwrap(), None).unwrap()
}

/// The event of an entry of `GET /log/entries`, parsed as `verify` parses it.
pub fn event_of(entry: &Value) -> challenge_server::log::Event {
    let data = hex::decode(entry["data"].as_str().unwrap()).unwrap();
    challenge_server::log::Event::parse(&data).unwrap()
}

/// A copy of the export directory `from` in `to`, its file `name` edited by `f`: a tampered
/// export, for `verify` to refuse.
pub fn edit_export(from: &Path, to: &Path, name: &str, f: impl FnOnce(&mut Value)) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(to.join(name)).unwrap()).unwrap();
    f(&mut value);
    std::fs::write(to.join(name), serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

/// `verify` of challenge `id` over the server's HTTP API, under `pinned`, holding no receipts.
pub async fn verify_http(
    server: &RunningServer,
    id: &str,
    pinned: &challenge_server::verify::PinnedKey,
    now: u64,
) -> Result<challenge_server::verify::Report, challenge_server::verify::VerifyError> {
    let source = challenge_server::verify::Source::http(&server.url()).unwrap();
    challenge_server::verify::verify(&source, id, pinned, &[], now).await
}
