//! The researcher CLI (`challenge-server client`, docs/CLI.md) as a process against a real
//! server on 127.0.0.1: every example of docs/CLI.md run in order (pin, challenges, show,
//! transcript download, claim commit, status, log verify, reveal, verify after the close, and
//! the documented errors with their exit status); a forged, forked or rolled-back checkpoint in
//! the state file caught; a claim file on disk (mode 0600, receipt null) before its commit, kept
//! when the server refuses it or is gone, and its commit resumed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::log::note::sign_checkpoint;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::{Schedule, passive};
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x3c; 32];

/// Runs `challenge-server client ARGS` in `home` (its working directory and `$HOME`, so the
/// default state file is `home/.config/challenge-server/client.json`).
async fn client(home: &Path, args: &[&str]) -> Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_challenge-server"))
            .arg("client")
            .args(&args)
            .current_dir(&home)
            .env("HOME", &home)
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A server with one challenge of known seed, every entry published.
struct Setup {
    server: challenge_server::RunningServer,
    clock: Clock,
    _dir: tempfile::TempDir,
    home: tempfile::TempDir,
    id: String,
    key: String,
    message: u64,
    secret: String,
}

async fn setup() -> Setup {
    setup_with(|_| {}).await
}

async fn setup_with(f: impl FnOnce(&mut challenge_server::Config)) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let mut config = config(dir.path());
    f(&mut config);
    let server = start(config, clock.clone()).await;
    let app = app(&server);
    let row = challenges::create(&app, spec(8, 10, 2, 30), Some(MasterSeed::from_bytes(SEED)))
        .await
        .unwrap();
    let seed = MasterSeed::from_bytes(SEED);
    let schedule = Schedule {
        messages: 8,
        interval_secs: 10,
        start_at: T0 + 10,
    };
    let p = passive::placements(&seed, &schedule, 2).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, p.index).unwrap());
    let http = Client::new(&server.url());
    clock.advance(90);
    http.wait_published(&row.id, 9).await;
    let (_, key) = http.get("/server-key").await;
    Setup {
        key: key["public_key"].as_str().unwrap().to_owned(),
        server,
        clock,
        _dir: dir,
        home,
        id: row.id,
        message: p.message,
        secret,
    }
}

impl Setup {
    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("$SERVER", self.server.url()),
            ("$SECRET", self.secret.clone()),
            ("$KEY", self.key.clone()),
            ("$C", self.id.clone()),
            ("$M", self.message.to_string()),
        ]
    }

    fn substitute(&self, line: &str) -> String {
        let mut out = line.to_owned();
        for (name, value) in self.vars() {
            out = out.replace(name, &value);
        }
        out
    }

    async fn close(&self) {
        self.clock.advance(200);
        Client::new(&self.server.url()).wait_closed(&self.id).await;
    }

    async fn pin(&self) {
        self.pin_in(self.home.path(), &self.server.url()).await;
    }

    async fn pin_in(&self, home: &Path, url: &str) {
        let out = client(home, &["pin", "--server", url, "--server-key", &self.key]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// `claim commit` of the known secret by `claimant` into `out`.
    fn commit_args(&self, claimant: &str, out: &str) -> Vec<String> {
        [
            "claim",
            "commit",
            &self.id,
            "--claimant",
            claimant,
            "--kind",
            "secret",
            "--message",
            &self.message.to_string(),
            "--secret",
            &self.secret,
            "--out",
            out,
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect()
    }

    fn state_path(&self) -> PathBuf {
        self.home
            .path()
            .join(".config/challenge-server/client.json")
    }
}

/// A documented command and what it prints: `(line, command, expected)`.
fn documented_commands() -> Vec<(usize, String, Option<String>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/CLI.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut in_sh = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        if let Some(command) = line.strip_prefix("challenge-server client ") {
            let expected = lines
                .get(i + 1)
                .and_then(|l| l.strip_prefix("# "))
                .map(str::to_owned);
            out.push((i + 1, command.to_owned(), expected));
        } else {
            assert!(
                line.starts_with("# ") || line.is_empty(),
                "docs/CLI.md line {}: a sh example that is not a client command: {line}",
                i + 1
            );
        }
    }
    out
}

/// README's researcher commands are docs/CLI.md's, so the test that runs those runs them.
#[test]
fn the_readme_commands_are_documented_and_run() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let documented: Vec<String> = documented_commands().into_iter().map(|c| c.1).collect();
    let mut found = 0;
    for line in readme.lines() {
        if let Some(command) = line.strip_prefix("challenge-server client ") {
            assert!(
                documented.iter().any(|d| d == command.trim_end()),
                "README.md: `{command}` is not an example of docs/CLI.md"
            );
            found += 1;
        }
    }
    assert_eq!(
        found, 3,
        "README's first screen shows the three commands a researcher needs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_command_runs_against_a_real_server() {
    let s = setup().await;
    let commands = documented_commands();
    assert!(commands.len() >= 14, "docs/CLI.md lost its examples");
    let home = s.home.path();
    let mut closed = false;
    for (line, command, expected) in &commands {
        let command = s.substitute(command);
        let args: Vec<&str> = command.split_whitespace().collect();
        if args[0] == "verify" && !closed {
            s.close().await;
            closed = true;
        }
        let out = client(home, &args).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        // The session, for the test's output (`--no-capture`).
        println!("$ challenge-server client {command}\n{stdout}{stderr}");
        let expected = s.substitute(expected.as_deref().unwrap_or(""));
        let (status, expected) = match expected.strip_prefix("exit status ") {
            Some(rest) => {
                let (n, what) = rest.split_once(": ").unwrap();
                (n.parse::<i32>().unwrap(), what.to_owned())
            }
            None => (0, expected.clone()),
        };
        let prefix = expected.split('…').next().unwrap().trim_end();
        let printed = if status == 0 { &stdout } else { &stderr };
        assert_eq!(
            out.status.code(),
            Some(status),
            "docs/CLI.md line {line}: `{command}`: stdout {stdout} stderr {stderr}"
        );
        assert!(
            printed.starts_with(prefix),
            "docs/CLI.md line {line}: `{command}` printed {printed:?}, the docs say {prefix:?}"
        );
        if status != 0 {
            assert!(
                stderr.contains("\n  next: ") || stderr.contains("expected"),
                "docs/CLI.md line {line}: the error says what to do next: {stderr}"
            );
        }
        // No progress bar or log line on a stream that is not a terminal.
        if status == 0 {
            assert_eq!(stderr, "", "docs/CLI.md line {line}: `{command}`");
        }
        match (args[0], args.get(1).copied()) {
            ("claim", Some("commit")) if status == 0 => {
                let path = home.join("my-claim.json");
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "the claim file is private");
                let file: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let nonce = file["nonce"].as_str().unwrap();
                assert_eq!(nonce.len(), 64);
                assert!(
                    !stdout.contains(nonce),
                    "claim commit never prints the nonce"
                );
                assert!(
                    stdout.contains("my-claim.json"),
                    "it prints the file's path"
                );
                assert!(file["receipt"]["signature"].is_string());
                assert_eq!(file["server_key"], s.key.as_str());
                assert_eq!(file["challenge"], s.id.as_str());
                // One definition of the claim file: verify reads it.
                challenge_server::verify::read_receipt_file(&path).unwrap();
            }
            ("claim", Some("reveal")) => assert!(stdout.contains("verdict won"), "{stdout}"),
            ("claim", Some("status")) if stdout.contains("): revealed") => {
                assert!(stdout.contains("verdict won"), "{stdout}");
                assert!(stdout.contains("/api/v1/log/proof/inclusion?index="));
            }
            ("log", _) => assert!(stdout.contains("receipts included: 1"), "{stdout}"),
            ("verify", _) => assert!(stdout.contains("held receipts in the log: 1"), "{stdout}"),
            ("transcript", _) => {
                let t: Value = serde_json::from_str(
                    &std::fs::read_to_string(home.join("transcript.json")).unwrap(),
                )
                .unwrap();
                assert_eq!(t["entries"].as_array().unwrap().len(), 9);
                assert!(t["next_from"].is_null());
            }
            _ => {}
        }
    }
    assert!(closed, "docs/CLI.md runs verify after the close");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(s.state_path()).unwrap()).unwrap();
    assert_eq!(state["server_key"], s.key.as_str());
    let mode = std::fs::metadata(s.state_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the state file is private");
    s.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_forked_or_rolled_back_checkpoint_in_the_state_file_is_caught() {
    let s = setup().await;
    s.pin().await;
    let home = s.home.path();
    let out = client(home, &["--json", "log", "verify"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ok: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    let size = ok["checkpoint_size"].as_u64().unwrap();
    assert!(size > 0 && ok["ok"] == true);
    let original = std::fs::read_to_string(s.state_path()).unwrap();
    let app = app(&s.server);
    let origin = app.config.log_origin.clone();
    let edit = |checkpoint: &str| {
        let mut state: Value = serde_json::from_str(&original).unwrap();
        state["checkpoint"] = Value::String(checkpoint.to_owned());
        std::fs::write(s.state_path(), state.to_string()).unwrap();
    };
    // Forged: a checkpoint whose signature is not the pinned key's.
    let state: Value = serde_json::from_str(&original).unwrap();
    let real = state["checkpoint"].as_str().unwrap().to_owned();
    let forged = real.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1);
    edit(&forged);
    let out = client(home, &["log", "verify"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not verify under the pinned key"),
        "{}",
        text(&out.stderr)
    );
    // Forked: signed by the server key, the same size, another root.
    edit(&sign_checkpoint(&origin, size, [9; 32], &app.server_key).unwrap());
    let out = client(home, &["log", "verify"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("a forked log"),
        "{}",
        text(&out.stderr)
    );
    // A smaller root of a larger tree: a later checkpoint the server rolled back from.
    edit(&sign_checkpoint(&origin, size + 5, [9; 32], &app.server_key).unwrap());
    let out = client(home, &["--json", "log", "verify"]).await;
    assert_eq!(out.status.code(), Some(1));
    let e: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(e["error"]["code"], "mismatch");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rolled-back")
    );
    // A smaller tree whose root is not a prefix: the consistency proof fails.
    edit(&sign_checkpoint(&origin, size - 1, [9; 32], &app.server_key).unwrap());
    let out = client(home, &["log", "verify"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not consistent"),
        "{}",
        text(&out.stderr)
    );
    // The real one passes again, and a failure never replaced it.
    std::fs::write(s.state_path(), &original).unwrap();
    let out = client(home, &["log", "verify"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A pinned key that is not the server's is refused, and the state file is kept.
    let url = s.server.url();
    let other = "ab".repeat(32);
    let before = std::fs::read_to_string(s.state_path()).unwrap();
    let out = client(
        home,
        &["pin", "--server", &url, "--server-key", &other, "--force"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("serves another key"));
    assert_eq!(std::fs::read_to_string(s.state_path()).unwrap(), before);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(s.state_path()).unwrap()).unwrap();
    assert_eq!(state["server_key"], s.key.as_str());
    // verify: an unknown challenge, and one still open.
    let out = client(home, &["verify", "0123456789abcdef"]).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no challenge 0123456789abcdef"));
    let out = client(home, &["verify", &s.id]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is still open"),
        "{}",
        text(&out.stderr)
    );
    let out = client(home, &["pin", "--server", &url, "--server-key", "nothex"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected 64 lowercase hex digits"));
    s.server.stop().await.unwrap();
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn claim_file(path: &Path) -> Value {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} is private", path.display());
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A loopback proxy to `upstream` that, while `cut` is set, passes a claim commit to the server
/// but drops the connection instead of its answer: the commit is taken, the receipt lost,
/// after the claim file was written.
async fn cutting_proxy(upstream: String, cut: Arc<AtomicBool>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let (upstream, cut) = (upstream.clone(), cut.clone());
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut from_client, mut to_client) = inbound.into_split();
                let (mut from_server, mut to_server) = outbound.into_split();
                let mute = Arc::new(AtomicBool::new(false));
                let muted = mute.clone();
                let back = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = from_server.read(&mut buf).await {
                        if n == 0 || muted.load(Ordering::SeqCst) {
                            return;
                        }
                        if to_client.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match from_client.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let lose = cut.load(Ordering::SeqCst)
                        && buf[..n].starts_with(b"POST /api/v1/claims/commit");
                    if lose {
                        mute.store(true, Ordering::SeqCst);
                    }
                    if to_server.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    if lose {
                        // The server takes the commit; its answer goes nowhere.
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        break;
                    }
                }
                back.abort();
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claim_file_is_written_before_the_commit_and_kept_when_it_fails() {
    // One commit at a time per claimant, so that a second one is rate-limited.
    let s = setup_with(|c| {
        c.limits.per_claimant_per_minute = 60;
        c.limits.per_claimant_burst = 1;
    })
    .await;
    s.pin().await;
    let home = s.home.path();

    // Unknown challenge, bad input: clear errors, no claim file.
    let mut args = s.commit_args("bob-lab", "unknown.json");
    args[2] = "0123456789abcdef".to_owned();
    let out = client(home, &strs(&args)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no challenge 0123456789abcdef"));
    assert!(
        text(&out.stderr).contains("client challenges"),
        "says what to do next"
    );
    assert!(
        !home.join("unknown.json").exists(),
        "a typo costs no claim file"
    );
    let mut args = s.commit_args("bob-lab", "bad.json");
    args[2] = "not-an-id".to_owned();
    let out = client(home, &strs(&args)).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected a challenge id"));
    let out = client(home, &strs(&s.commit_args("a b", "bad.json"))).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--claimant"));
    let mut args = s.commit_args("bob-lab", "bad.json");
    args.drain(7..9);
    let out = client(home, &strs(&args)).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--message"),
        "{}",
        text(&out.stderr)
    );
    assert!(!home.join("bad.json").exists());

    // The connection is lost once the commit is sent, before its answer: the file was written
    // first, with no receipt; `--resume` finds the commit the server took, with the same nonce.
    let cut = Arc::new(AtomicBool::new(true));
    let upstream = s.server.url().trim_start_matches("http://").to_owned();
    let proxy = cutting_proxy(upstream, cut.clone()).await;
    let carol = tempfile::tempdir().unwrap();
    s.pin_in(carol.path(), &proxy).await;
    let out = client(carol.path(), &strs(&s.commit_args("carol", "lost.json"))).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("was lost before the answer"), "{stderr}");
    assert!(
        stderr.contains("claim commit --resume lost.json"),
        "the error says how to go on: {stderr}"
    );
    let lost = carol.path().join("lost.json");
    let file = claim_file(&lost);
    assert!(file["receipt"].is_null());
    let nonce = file["nonce"].as_str().unwrap().to_owned();
    assert_eq!(nonce.len(), 64);
    let out = client(carol.path(), &["claim", "reveal", "lost.json"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--resume lost.json"));
    cut.store(false, Ordering::SeqCst);
    // The server took it: a second commit of the same commitment would be refused.
    let (_, claims) = Client::new(&s.server.url())
        .get(&format!("/challenges/{}/claims", s.id))
        .await;
    assert_eq!(claims["claims"][0]["commitment"], file["commitment"]);
    let out = client(carol.path(), &["claim", "commit", "--resume", "lost.json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains(&nonce),
        "never prints the nonce"
    );
    let file = claim_file(&lost);
    assert_eq!(
        file["nonce"],
        nonce.as_str(),
        "the nonce drawn before the commit"
    );
    assert!(file["receipt"]["claim"].is_string());
    let out = client(carol.path(), &["claim", "commit", "--resume", "lost.json"]).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "a file with its receipt is done"
    );
    let out = client(carol.path(), &["claim", "reveal", "lost.json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("verdict won"));

    // Rate limited: the retry time, the file kept, the commit resumed after it.
    let out = client(home, &strs(&s.commit_args("bob-lab", "first.json"))).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = client(home, &strs(&s.commit_args("bob-lab", "second.json"))).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("rate-limiting") && stderr.contains("wait "),
        "{stderr}"
    );
    assert!(stderr.contains("--resume second.json"), "{stderr}");
    assert!(claim_file(&home.join("second.json"))["receipt"].is_null());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let out = client(home, &["claim", "commit", "--resume", "second.json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(claim_file(&home.join("second.json"))["receipt"].is_object());
    let out = client(home, &["log", "verify", "first.json", "second.json"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("receipts included: 2"));

    // The server refuses the commit (the challenge is closed): the file is kept, no receipt.
    s.close().await;
    let args: Vec<String> = ["--json".to_owned()]
        .into_iter()
        .chain(s.commit_args("dave", "refused.json"))
        .collect();
    let out = client(home, &strs(&args)).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let e: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(e["error"]["code"], "refused");
    assert_eq!(e["error"]["status"], 409);
    assert!(
        e["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("refused.json is kept")
    );
    assert!(claim_file(&home.join("refused.json"))["receipt"].is_null());

    // The server is gone: a plain error, and nothing was written before knowing the challenge.
    let args = s.commit_args("erin", "gone.json");
    s.server.stop().await.unwrap();
    let out = client(home, &strs(&args)).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cannot reach the server"), "{stderr}");
    assert!(stderr.contains("next: check the server URL"), "{stderr}");
    assert!(!home.join("gone.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_is_committed_and_revealed_with_its_file_under_a_key_file() {
    let s = setup().await;
    let home = s.home.path();
    // The key as the saved `GET /server-key` document.
    let (_, doc) = Client::new(&s.server.url()).get("/server-key").await;
    std::fs::write(home.join("server-key.json"), doc.to_string()).unwrap();
    let url = s.server.url();
    let out = client(
        home,
        &["pin", "--server", &url, "--server-key", "server-key.json"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(home.join("finding.txt"), "The prekey ids are sequential.").unwrap();
    let out = client(
        home,
        &[
            "claim",
            "commit",
            &s.id,
            "--claimant",
            "carol",
            "--kind",
            "finding",
            "--finding-file",
            "finding.txt",
            "--out",
            "finding.json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = claim_file(&home.join("finding.json"));
    assert!(
        file["claim_text"]
            .as_str()
            .unwrap()
            .contains("finding-sha256: ")
    );
    assert!(!file["claim_text"].as_str().unwrap().contains("sequential"));
    let out = client(home, &["claim", "reveal", "finding.json"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--finding-file"));
    std::fs::write(home.join("other.txt"), "Something else.").unwrap();
    let out = client(
        home,
        &[
            "claim",
            "reveal",
            "finding.json",
            "--finding-file",
            "other.txt",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let out = client(
        home,
        &[
            "--json",
            "claim",
            "reveal",
            "finding.json",
            "--finding-file",
            "finding.txt",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verdict: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(verdict["verdict"], "needs-review");
    let out = client(home, &["--json", "claim", "status", "finding.json"]).await;
    let status: Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(status["verdict"], "needs-review");
    assert_eq!(status["kind"], "finding");
    assert!(status["links"]["verdict_inclusion"].is_string());
    // A second reveal is refused by the server: its words, exit status 3.
    let out = client(
        home,
        &[
            "claim",
            "reveal",
            "finding.json",
            "--finding-file",
            "finding.txt",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("the server refused (409)"),
        "{}",
        text(&out.stderr)
    );
    s.server.stop().await.unwrap();
}
