//! The operator's surfaces of a whole lifecycle, on the real binary: `GET /metrics` counts what
//! happened (requests by route template, the commit, the verdict, a claimant's rate-limit
//! refusal, the log's size) in a page `promtool check metrics` accepts, with no claimant name,
//! secret or nonce in any label; and `--log-format json` writes one JSON object a line, none
//! holding a secret, a salt, a nonce or the seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use challenge_server::{App, challenges};
use common::*;

const SEED: [u8; 32] = [0x5a; 32];
const NONCE: &str = "6e6f6e63652d6f662d7468652d6d6574726963732d746573742d2d2d2d2d2d21";
const CLAIMANT: &str = "researcher-with-a-name";

/// The page through `promtool check metrics` (ci/test.sh provides promtool).
fn check_with_promtool(page: &str) {
    if let Some(promtool) = promtool::find("the metrics page") {
        promtool::run(&promtool, &["check", "metrics"], page)
            .unwrap_or_else(|e| panic!("{e}\n--- page ---\n{page}"));
    }
}

/// The value of the sample `name` with exactly the labels `labels` (in any order), if present.
fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let matches = if labels.is_empty() {
                rest.is_empty()
            } else {
                let inner = rest.strip_prefix('{')?.strip_suffix('}')?;
                inner.matches("=\"").count() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| inner.contains(&format!("{k}=\"{v}\"")))
            };
            matches.then(|| value.parse().ok()).flatten()
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifecycle_is_counted_and_logged_without_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let row = {
        let app = App::open(config(dir.path()), Clock::System).await.unwrap();
        let row = challenges::create(&app, spec(3, 1, 1, 1), Some(MasterSeed::from_bytes(SEED)))
            .await
            .unwrap();
        app.store.close().await;
        row
    };
    let data_dir = dir.path().to_str().unwrap();
    let server = ServerProcess::spawn(
        &[
            "--log-format",
            "json",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data_dir,
        ],
        &[
            ("RUST_LOG", "debug"),
            ("CHALLENGE_SERVER_SCHEDULER__TICK_MS", "50"),
            ("CHALLENGE_SERVER_LIMITS__PER_CLAIMANT_BURST", "1"),
            ("CHALLENGE_SERVER_LIMITS__PER_CLAIMANT_PER_MINUTE", "1"),
        ],
    );
    let client = Client::new(&server.url);
    let seed = MasterSeed::from_bytes(SEED);
    let placement = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, 0).unwrap());
    client.wait_published(&row.id, placement.message + 1).await;

    let (status, receipt) = commit_secret(
        &client,
        &row.id,
        CLAIMANT,
        placement.message,
        &secret,
        NONCE,
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    // The claimant's budget (one commit) is spent: the next commit is refused and counted.
    let (status, refused) = commit_finding(&client, &row.id, CLAIMANT, "a finding", NONCE).await;
    assert_eq!(status, 429, "{refused}");
    let claim = receipt["claim"].as_str().unwrap();
    let (status, verdict) = reveal_secret(&client, claim, placement.message, &secret, NONCE).await;
    assert_eq!(
        (status, verdict["verdict"].as_str()),
        (200, Some("won")),
        "{verdict}"
    );
    let (status, _) = client.get("/claims/0123456789abcdef").await;
    assert_eq!(status, 404);
    let closed = client.wait_closed(&row.id).await;

    let response = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        challenge_server::metrics::CONTENT_TYPE
    );
    let page = response.text().await.unwrap();
    check_with_promtool(&page);
    let p = "challenge_server_";
    assert_eq!(
        sample(&page, &format!("{p}claim_commits_total"), &[]),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("{p}verdicts_total"),
            &[
                ("kind", "secret"),
                ("verdict", "won"),
                ("decided_by", "automatic")
            ]
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("{p}rate_limit_refusals_total"),
            &[("limit", "claimant")]
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("{p}http_requests_total"),
            &[
                ("route", "/api/v1/claims/commit"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        Some(1.0),
        "{page}"
    );
    // A claim id in the path is counted under its route's template, never as a label.
    assert_eq!(
        sample(
            &page,
            &format!("{p}http_requests_total"),
            &[
                ("route", "/api/v1/claims/{id}"),
                ("method", "GET"),
                ("status", "404")
            ]
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            &format!("{p}http_request_duration_seconds_count"),
            &[("route", "/api/v1/claims/commit"), ("method", "POST")]
        ),
        Some(2.0),
        "{page}"
    );
    let (_, log) = client.get("/log/entries?from=0&limit=1").await;
    let size = log["tree_size"].as_f64().unwrap();
    assert_eq!(
        sample(&page, &format!("{p}log_entries"), &[]),
        Some(size),
        "{page}"
    );
    assert_eq!(
        sample(&page, &format!("{p}database_errors_total"), &[]),
        Some(0.0)
    );
    // Closed: its scheduler lag series is gone.
    assert!(!page.contains(&row.id), "{page}");
    for needle in [CLAIMANT, &secret, NONCE, claim] {
        assert!(!page.contains(needle), "{needle} in the metrics page");
    }

    // The logs: JSON lines, and not one known secret among them.
    let seed_hex = closed["seed"].as_str().unwrap().to_owned();
    assert_eq!(seed_hex, hex::encode(SEED));
    let lines = server.kill_and_collect();
    let json: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(
        json.iter().any(|v| v["message"] == "claim committed"),
        "the commit is logged: {lines:?}"
    );
    assert!(
        json.iter()
            .all(|v| v["level"].is_string() && v["timestamp"].is_string())
    );
    let salt = hex::encode(seed.derive("secret-salt", 0).unwrap());
    let all = lines.join("\n");
    for (what, needle) in [
        ("the secret", secret.as_str()),
        ("the nonce", NONCE),
        ("the secret's salt", salt.as_str()),
        ("the seed", seed_hex.as_str()),
    ] {
        assert!(!all.contains(needle), "{what} is in the logs");
    }
}
