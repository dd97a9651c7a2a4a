//! The OpenAPI document checked from outside against a real server: fetched from
//! `/api/v1/openapi.json`, validated by openapi-spec-validator, a Python client generated from
//! it by openapi-python-client, and that client alone walks a challenge's lifecycle (list, read,
//! transcript, commit, reveal, verdict). The tools come from ci/openapi.sh (pinned, in a venv),
//! whose bin directory `OPENAPI_TOOLS` names; under CI a missing tool fails the test, elsewhere
//! it is skipped loudly.
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

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x0a; 32];

/// The venv's bin directory, or `None` (skipped loudly; a failure under CI).
fn tools() -> Option<PathBuf> {
    let dir = std::env::var_os("OPENAPI_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/openapi/bin");
            local
                .join("openapi-spec-validator")
                .exists()
                .then_some(local)
        });
    let found = dir.filter(|d| {
        ["python", "openapi-spec-validator", "openapi-python-client"]
            .iter()
            .all(|t| d.join(t).exists())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the OpenAPI tools are missing under CI: ci/test.sh installs them with ci/openapi.sh \
             and sets OPENAPI_TOOLS"
        );
        eprintln!(
            "WARNING: SKIPPED: openapi-spec-validator / openapi-python-client not found (run \
             ci/openapi.sh and set OPENAPI_TOOLS to the directory it prints): the OpenAPI \
             document was NOT validated and NO generated client was run"
        );
    }
    found
}

fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_client_walks_the_lifecycle() {
    let Some(tools) = tools() else { return };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let client = Client::new(&server.url());
    let app = app(&server);

    // A challenge from a known seed, so the test knows a secret to claim.
    let row = challenges::create(&app, spec(4, 10, 1, 30), Some(MasterSeed::from_bytes(SEED)))
        .await
        .unwrap();
    let seed = MasterSeed::from_bytes(SEED);
    let placement = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, placement.index).unwrap());
    clock.advance(60);
    client.wait_published(&row.id, 5).await;

    // The document, as the server serves it.
    let (status, doc) = client.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let spec_file = dir.path().join("openapi.json");
    std::fs::write(&spec_file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();

    let out = run(
        "openapi-spec-validator",
        Command::new(tools.join("openapi-spec-validator")).arg(&spec_file),
    );
    assert!(out.contains("OK"), "{out}");

    let generated = dir.path().join("generated");
    std::fs::create_dir(&generated).unwrap();
    run(
        "openapi-python-client generate",
        Command::new(tools.join("openapi-python-client"))
            .arg("generate")
            .arg("--path")
            .arg(&spec_file)
            .arg("--config")
            .arg(repo.join("ci/openapi/client-config.yaml"))
            .arg("--meta")
            .arg("none")
            .arg("--output-path")
            .arg(generated.join("challenge_server_client")),
    );

    let out = run(
        "ci/openapi/lifecycle.py",
        Command::new(tools.join("python"))
            .arg(repo.join("ci/openapi/lifecycle.py"))
            .arg(server.url())
            .arg(&row.id)
            .arg(placement.message.to_string())
            .arg(&secret)
            .arg("openapi-client")
            .env("PYTHONPATH", &generated),
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(seen["reveal_verdict"], "won", "{seen}");
    assert_eq!(seen["claim_verdict"], "won", "{seen}");
    assert_eq!(seen["entries"], 5, "{seen}");
    // The server saw the same claim.
    let (_, claim) = client
        .get(&format!("/claims/{}", seen["claim"].as_str().unwrap()))
        .await;
    assert_eq!(claim["verdict"], "won");
    assert_eq!(claim["claimant"], "openapi-client");
}
