//! The release build cannot reach a weak target (DESIGN section 4 "Targets", section 7): the
//! feature `weak-targets` is in no normal build's feature set (`cargo tree -e features`), a
//! build of the binary without features carries no weak target (its bytes and every `--help`
//! are scanned), and no challenge definition can name a target or a flaw.
//!
//! The binary is the one `RELEASE_CHECK_BINARY` names, if set: ci/test.sh builds it without
//! features in the shared target directory as its first build and sets it, so CI pays no
//! second dependency build. Otherwise the test builds it into `target/release-check` (kept
//! between runs, so later runs only check that it is fresh); the first run takes minutes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use challenge_server::clock::Clock;
use challenge_server::tracks::ChallengeSpec;
use common::*;
use serde_json::json;

/// Every weakened target's flaw name (src/targets/weak/mod.rs).
const FLAWS: [&str; 6] = [
    "repeated-body-nonce",
    "small-identity-space",
    "unchecked-tag",
    "kept-message-keys",
    "no-dh-ratchet",
    "malleable-field",
];
/// The module of the weak targets, as its paths appear in a binary's symbols and debug info.
const WEAK_MODULE: &str = "targets::weak";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `cargo` in the workspace root, offline, with the lock file as it is.
fn cargo(args: &[&str]) -> Output {
    let started = Instant::now();
    let output = Command::new(env!("CARGO"))
        .args(args)
        .args(["--locked", "--offline"])
        .current_dir(workspace_root())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .unwrap();
    println!(
        "cargo {} ({:.1} s)",
        args.join(" "),
        started.elapsed().as_secs_f64()
    );
    assert!(
        output.status.success(),
        "cargo {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The features of `challenge-server` that `cargo tree -e features,normal -i challenge-server`
/// shows as enabled, with `selection` (`-p challenge-server`, `--workspace`, `--features ...`).
fn enabled_features(selection: &[&str]) -> Vec<String> {
    let mut args = vec![
        "tree",
        "-e",
        "features,normal",
        "-i",
        "challenge-server",
        "--prefix",
        "none",
    ];
    args.extend_from_slice(selection);
    let tree = String::from_utf8(cargo(&args).stdout).unwrap();
    assert!(
        tree.starts_with("challenge-server v"),
        "the inverted tree starts at challenge-server:\n{tree}"
    );
    let mut features: Vec<String> = tree
        .lines()
        .filter_map(|l| l.strip_prefix("challenge-server feature \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect();
    features.sort();
    features.dedup();
    features
}

#[test]
fn release_feature_tree_has_no_weak_targets() {
    for selection in [&["-p", "challenge-server"][..], &["--workspace"][..]] {
        let features = enabled_features(selection);
        assert_eq!(
            features,
            ["default", "server"],
            "the normal build of {selection:?} enables exactly challenge-server's default features"
        );
    }
    // The same command does show the feature when it is on, so its absence above means it.
    let with = enabled_features(&["-p", "challenge-server", "--features", "weak-targets"]);
    assert!(with.iter().any(|f| f == "weak-targets"), "{with:?}");
    println!(
        "checked: `cargo tree -e features,normal -i challenge-server` for -p challenge-server and --workspace enables only \"default\" and \"server\" (with --features weak-targets it shows {with:?})"
    );
}

/// The `Commands:` of a `--help` text.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

fn offending(text: &str) -> Vec<&'static str> {
    FLAWS
        .into_iter()
        .chain(["weak"])
        .filter(|needle| text.to_lowercase().contains(needle))
        .collect()
}

#[test]
fn release_binary_has_no_weak_target() {
    let started = Instant::now();
    let binary = match std::env::var_os("RELEASE_CHECK_BINARY") {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "RELEASE_CHECK_BINARY={} is not a file",
                path.display()
            );
            path
        }
        None => {
            let dir = workspace_root().join("target").join("release-check");
            cargo(&[
                "build",
                "-p",
                "challenge-server",
                "--bin",
                "challenge-server",
                "--target-dir",
                dir.to_str().unwrap(),
            ]);
            dir.join("debug").join("challenge-server")
        }
    };

    // Its bytes (code, strings, symbols, debug info).
    let bytes = std::fs::read(&binary).unwrap();
    for needle in FLAWS.into_iter().chain([WEAK_MODULE]) {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{} holds {needle:?}",
            binary.display()
        );
    }

    // Every command's help, recursively.
    let mut checked = Vec::new();
    let mut queue = vec![Vec::<String>::new()];
    while let Some(path) = queue.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let output = Command::new(&binary).args(&args).output().unwrap();
        assert!(output.status.success(), "challenge-server {args:?}");
        let help = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            offending(&help),
            Vec::<&str>::new(),
            "`challenge-server {}`:\n{help}",
            args.join(" ")
        );
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            queue.push(next);
        }
        checked.push(args.join(" "));
    }
    assert!(checked.len() >= 5, "the commands were found: {checked:?}");
    println!(
        "checked: {} ({} MB) holds none of {:?}; no weak target in {}: `challenge-server {}` ({:.1} s)",
        binary.display(),
        bytes.len() / 1_000_000,
        FLAWS.into_iter().chain([WEAK_MODULE]).collect::<Vec<_>>(),
        checked.len(),
        checked.join("`, `challenge-server "),
        started.elapsed().as_secs_f64()
    );
}

/// With the feature (the tests' builds), the list above is the weak module's.
#[cfg(feature = "weak-targets")]
#[test]
fn release_check_knows_every_weak_flaw() {
    assert_eq!(FLAWS, challenge_server::targets::weak::FLAWS);
}

/// A definition that names a target or a flaw.
fn spec_json(field: &str) -> serde_json::Value {
    json!({
        "title": "t",
        "rules": "r",
        "bounty": {"secret": "1"},
        "schedule": {"messages": 2, "interval_secs": 1},
        field: FLAWS[0],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_spec_refuses_a_target_or_flaw_field() {
    let toml_ok = "title = \"t\"\nrules = \"r\"\nbounty = { secret = \"1\" }\n\
                   [schedule]\nmessages = 2\ninterval_secs = 1\n";
    ChallengeSpec::from_toml(toml_ok).unwrap();
    serde_json::from_value::<ChallengeSpec>(spec_json("title")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let server = start(config(dir.path()), Clock::manual(1_800_000_000)).await;
    let client = Client::new(&server.url());
    let admin = server.app.create_admin_token().await.unwrap();
    let mut refused = Vec::new();
    for field in ["target", "flaw", "target_impl"] {
        // The CLI's TOML file (`challenge create --file`).
        let toml = toml_ok.replace(
            "[schedule]",
            &format!("{field} = \"{}\"\n[schedule]", FLAWS[0]),
        );
        let e = ChallengeSpec::from_toml(&toml).unwrap_err();
        assert!(e.to_string().contains(field), "{field}: {e}");
        // The admin API's JSON, as parsed and over HTTP.
        assert!(serde_json::from_value::<ChallengeSpec>(spec_json(field)).is_err());
        let (status, body) = client
            .post_raw(
                "/admin/challenges",
                &spec_json(field).to_string(),
                Some(&admin),
            )
            .await;
        assert_eq!(status, 400, "{field}: {body}");
        refused.push(field);
    }
    // Nor as a track parameter: the passive track takes none.
    let toml = format!("{toml_ok}[params]\nflaw = \"{}\"\n", FLAWS[0]);
    let e = ChallengeSpec::from_toml(&toml)
        .unwrap()
        .validate(1_800_000_000)
        .unwrap_err();
    assert!(e.to_string().contains("params.flaw"), "{e}");
    let mut body = spec_json("title");
    body["params"] = json!({"flaw": FLAWS[0]});
    let (status, body) = client
        .post_raw("/admin/challenges", &body.to_string(), Some(&admin))
        .await;
    assert_eq!(status, 400, "{body}");
    refused.push("params.flaw");
    let (_, list) = client.get("/challenges").await;
    assert_eq!(list, json!([]), "nothing was created");
    // The control: the same definition without the field is accepted.
    let (status, body) = client
        .post_raw(
            "/admin/challenges",
            &spec_json("title").to_string(),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["target_impl"]["flaw"].is_null());
    println!(
        "checked: the TOML definition, its JSON parse and POST /admin/challenges refuse each of {refused:?}"
    );
}
