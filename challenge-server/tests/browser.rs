//! The public pages in a real browser: Debian's Chromium, driven headless by playwright-core
//! (`ci/browser/check-pages.mjs`, installed by `ci/browser.sh`), loads every page of a closed,
//! won challenge with JavaScript disabled, checks its status and the key content of its
//! rendered text, that it carries no script and fits a phone's width, screenshots it into
//! `ci/artifacts/pages/`, and runs axe-core on it: no serious or critical violation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use common::*;
use serde_json::json;

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x2b; 32];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether the browser tools are installed; under CI their absence fails the test.
fn tools() -> bool {
    let chromium = Path::new("/usr/bin/chromium").exists()
        || std::env::var_os("CHROMIUM").is_some_and(|p| Path::new(&p).exists());
    let modules = repo()
        .join("ci/browser/node_modules/playwright-core")
        .is_dir()
        && repo().join("ci/browser/node_modules/axe-core").is_dir();
    let node = Command::new("node").arg("--version").output().is_ok();
    let ready = chromium && modules && node;
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser tools are missing under CI (chromium {chromium}, node {node}, \
             ci/browser/node_modules {modules}): ci/test.sh runs ci/browser.sh first"
        );
        eprintln!(
            "WARNING: the pages were NOT checked in a browser: run ci/browser.sh first \
             (chromium {chromium}, node {node}, ci/browser/node_modules {modules})"
        );
    }
    ready
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_loads_without_javascript_and_passes_axe() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let base = server.url();
    let client = Client::new(&base);
    let seed = MasterSeed::from_bytes(SEED);
    let row = challenges::create(&app(&server), spec(4, 10, 1, 3600), Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    clock.advance(50);
    client.wait_published(&id, 5).await;
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, 0).unwrap());
    let nonce = "5e".repeat(32);
    let (_, receipt) =
        commit_secret(&client, &id, "alice.research", p.message, &secret, &nonce).await;
    let claim = receipt["claim"].as_str().unwrap().to_owned();
    let (_, verdict) = reveal_secret(&client, &claim, p.message, &secret, &nonce).await;
    assert_eq!(verdict["verdict"], "won");
    clock.advance(3_700);
    let closed = client.wait_closed(&id).await;
    let (_, entries) = client.get(&format!("/challenges/{id}/transcript")).await;
    let first_hash = entries["entries"][0]["sha256"].as_str().unwrap().to_owned();
    let origin = app(&server).log.origin().to_owned();

    let pages = json!({
        "base": base,
        "pages": [
            {"name": "index", "path": "/", "status": 200,
             "expect": ["Challenges", "Test challenge", "secret: 100 EUR", "closed"]},
            {"name": "challenge", "path": format!("/challenges/{id}"), "status": 200,
             "expect": [closed["seed"].as_str().unwrap(), closed["rules_sha256"].as_str().unwrap(),
                        "Verify this challenge yourself", "challenge-server verify --url"]},
            {"name": "transcript", "path": format!("/challenges/{id}/transcript"), "status": 200,
             "expect": [first_hash, "alice-to-bob"]},
            {"name": "claim", "path": format!("/claims/{claim}"), "status": 200,
             "expect": ["alice.research", "won", "Receipt"]},
            {"name": "how-to-claim", "path": "/how-to-claim", "status": 200,
             "expect": ["challenge-server/v1/claim", "challenge-server client claim commit"]},
            {"name": "hall-of-fame", "path": "/hall-of-fame", "status": 200,
             "expect": ["alice.research", claim]},
            {"name": "log", "path": "/log", "status": 200,
             "expect": [origin, "claim-committed", "seed-revealed"]},
            {"name": "log-proof", "path": "/log/proof?index=0", "status": 200,
             "expect": ["Inclusion of entry 0", "Audit path"]},
            {"name": "not-found", "path": "/no-such-page", "status": 404,
             "expect": ["404 Not Found", "no such page"]},
        ]
    });
    let spec_file = dir.path().join("pages.json");
    std::fs::write(&spec_file, pages.to_string()).unwrap();
    let out_dir = repo().join("ci/artifacts/pages");
    // The browser runs in its own process while this runtime keeps serving.
    let script = repo().join("ci/browser/check-pages.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(spec_file)
            .arg(&out_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // README shows the challenge page's screenshot (ci/refresh-screenshot.sh copies it).
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("](docs/challenge-page.png)"));
    assert!(
        std::fs::read(repo().join("docs/challenge-page.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    for name in ["index", "challenge", "claim", "log"] {
        let shot = repo().join(format!("ci/artifacts/pages/{name}.png"));
        let bytes = std::fs::read(&shot).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{}", shot.display());
    }
}
