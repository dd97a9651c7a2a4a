//! The public pages on a real server: each page shows its key content (the same values the
//! JSON API serves), escapes what the operator or a claimant wrote, links nothing outside the
//! server and carries no script; the commit form takes a precomputed commitment and answers
//! with the receipt; errors are pages with the API's own words (404, 400, 429).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::challenges;
use challenge_server::clock::Clock;
use challenge_server::seed::MasterSeed;
use challenge_server::tracks::passive;
use common::*;
use serde_json::json;

const T0: u64 = 1_800_000_000;
const SEED: [u8; 32] = [0x71; 32];
const TITLE: &str = "Bob's <b>bold</b> & co";

/// A page's status, content type and body.
async fn page(base: &str, path: &str) -> (u16, String, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = r.status().as_u16();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, r.text().await.unwrap())
}

/// A 200 HTML page, checked for what every page must be: no script, nothing fetched or linked
/// outside this server, the one stylesheet, a language.
async fn html(base: &str, path: &str) -> String {
    let (status, kind, body) = page(base, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(kind, "text/html; charset=utf-8", "{path}");
    well_formed(path, &body);
    body
}

fn well_formed(path: &str, body: &str) {
    assert!(body.starts_with("<!doctype html>"), "{path}");
    assert!(body.contains("<html lang=\"en\">"), "{path}");
    assert!(
        body.contains("<link rel=\"stylesheet\" href=\"/static/style.css\">"),
        "{path}"
    );
    assert!(
        !body.to_lowercase().contains("<script"),
        "{path} has a script"
    );
    for attr in ["href=\"", "src=\"", "action=\""] {
        for (i, _) in body.match_indices(attr) {
            let value = &body[i + attr.len()..];
            assert!(
                value.starts_with('/') || value.starts_with('#'),
                "{path} links outside the server: {}",
                &value[..value.len().min(60)]
            );
        }
    }
}

/// `text` as it appears in an HTML text node (askama's escaping).
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_shows_its_content_without_javascript() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::manual(T0);
    let server = start(config(dir.path()), clock.clone()).await;
    let base = server.url();
    let client = Client::new(&base);
    let seed = MasterSeed::from_bytes(SEED);
    let mut spec = spec(3, 10, 1, 3600);
    spec.title = TITLE.to_owned();
    let row = challenges::create(&app(&server), spec, Some(seed.clone()))
        .await
        .unwrap();
    let id = row.id.clone();
    clock.advance(40);
    client.wait_published(&id, 4).await;
    let (_, view) = client.get(&format!("/challenges/{id}")).await;

    // The index: title (escaped), track, bounty, deadline in UTC and relative, status, entries.
    let index = html(&base, "/").await;
    assert!(index.contains(&escaped(TITLE)), "{index}");
    assert!(!index.contains(TITLE));
    for needle in [
        &format!("href=\"/challenges/{id}\""),
        "passive",
        "secret: 100 EUR",
        "finding: 50 EUR",
        "2027-01-15T",
        "open",
        "<td>4</td>",
    ] {
        assert!(index.contains(needle), "index lacks {needle}: {index}");
    }

    // The challenge page: every commitment and identity the API publishes, and how to verify.
    let challenge = html(&base, &format!("/challenges/{id}")).await;
    let key = hex::encode(app(&server).server_key.public());
    for needle in [
        view["rules_sha256"].as_str().unwrap(),
        view["seed_commitment"].as_str().unwrap(),
        view["secret_commitments"][0]["commitment"]
            .as_str()
            .unwrap(),
        view["target_impl"]["source_sha256"].as_str().unwrap(),
        view["parties"]["bob"]["bundle_sha256"].as_str().unwrap(),
        &format!("challenge-server verify --url {base} --challenge {id}"),
        &format!("--server-key {key}"),
        "Find a secret.",
        "3 messages, one every 10 s",
    ] {
        assert!(challenge.contains(needle), "challenge page lacks {needle}");
    }

    // The transcript browser: each entry's hash, size and log index, the bytes folded.
    let transcript = html(&base, &format!("/challenges/{id}/transcript")).await;
    let (_, entries) = client.get(&format!("/challenges/{id}/transcript")).await;
    for e in entries["entries"].as_array().unwrap() {
        for needle in [
            e["sha256"].as_str().unwrap().to_owned(),
            format!("href=\"/log/proof?index={}\"", e["log_index"]),
            format!("{} B", e["length"]),
        ] {
            assert!(transcript.contains(&needle), "transcript lacks {needle}");
        }
    }
    assert!(transcript.contains("<details><summary>bytes"));

    // How to claim: the worked example's commitment is what the documented recipe gives.
    let how = html(&base, "/how-to-claim").await;
    let example = secret_commitment(
        "0123456789abcdef",
        "alice",
        7,
        &"ab".repeat(16),
        &"11".repeat(32),
    );
    assert!(how.contains(&example), "{how}");
    assert!(how.contains("<form method=\"post\" action=\"/claims\">"));
    assert!(how.contains("challenge-server client claim commit $CHALLENGE"));
    assert!(how.contains(&format!("<option value=\"{id}\">")));

    // The form: a bad commitment gets a 400 page with the API's words, and commits nothing.
    let form = reqwest::Client::new();
    let bad = form
        .post(format!("{base}/claims"))
        .form(&[
            ("challenge", id.as_str()),
            ("claimant", "mallory"),
            ("commitment", "xyz"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = bad.text().await.unwrap();
    well_formed("/claims (refused)", &bad);
    let (status, api) = client
        .post(
            "/claims/commit",
            &json!({"challenge": id, "claimant": "mallory", "commitment": "xyz"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        bad.contains(&escaped(api["error"]["message"].as_str().unwrap())),
        "{bad}"
    );
    assert!(bad.contains("<code>commitment</code>"), "{bad}");
    let (_, claims) = client.get(&format!("/challenges/{id}/claims")).await;
    assert!(claims["claims"].as_array().unwrap().is_empty());
    // A form with a missing field is refused alike.
    let missing = form
        .post(format!("{base}/claims"))
        .form(&[("challenge", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);

    // A precomputed commitment through the form: 201 with the receipt to keep.
    let p = passive::placements(&seed, &row.schedule, 1).unwrap()[0];
    let secret = hex::encode(*passive::secret(&seed, 0).unwrap());
    let nonce = "42".repeat(32);
    let commitment = secret_commitment(&id, "alice", p.message, &secret, &nonce);
    let taken = form
        .post(format!("{base}/claims"))
        .form(&[
            ("challenge", id.as_str()),
            ("claimant", "alice"),
            ("commitment", commitment.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(taken.status(), 201);
    let taken = taken.text().await.unwrap();
    well_formed("/claims", &taken);
    let (_, claims) = client.get(&format!("/challenges/{id}/claims")).await;
    let claim = claims["claims"][0].clone();
    let claim_id = claim["id"].as_str().unwrap();
    assert_eq!(claim["commitment"], commitment.as_str());
    assert!(taken.contains(claim["receipt"]["signature"].as_str().unwrap()));
    assert!(taken.contains("Save this receipt"));

    let (status, verdict) = reveal_secret(&client, claim_id, p.message, &secret, &nonce).await;
    assert_eq!((status, verdict["verdict"].as_str()), (200, Some("won")));
    clock.advance(3_700);
    let closed = client.wait_closed(&id).await;

    // The claim page: receipt, verdict, log links.
    let claim_page = html(&base, &format!("/claims/{claim_id}")).await;
    for needle in [
        "<strong>won</strong>",
        claim["receipt"]["signature"].as_str().unwrap(),
        &format!("href=\"/log/proof?index={}\"", claim["log_index"]),
        &commitment,
    ] {
        assert!(claim_page.contains(needle), "claim page lacks {needle}");
    }
    // Closed: the seed is on the challenge page, the winner in the hall of fame.
    let challenge = html(&base, &format!("/challenges/{id}")).await;
    assert!(challenge.contains(closed["seed"].as_str().unwrap()));
    assert!(challenge.contains("reason: deadline"));
    let fame = html(&base, "/hall-of-fame").await;
    assert!(
        fame.contains("<td>alice</td>") && fame.contains(claim_id),
        "{fame}"
    );

    // The log explorer: the checkpoint, decoded events, proofs.
    let log = html(&base, "/log").await;
    assert!(log.contains(&app(&server).log.origin().to_owned()), "{log}");
    for kind in [
        "challenge-created",
        "claim-committed",
        "verdict",
        "seed-revealed",
    ] {
        assert!(
            log.contains(&format!("<td>{kind}</td>")),
            "log lacks {kind}"
        );
    }
    let (_, inclusion) = client.get("/log/proof/inclusion?index=0").await;
    let proof = html(&base, "/log/proof?index=0").await;
    assert!(proof.contains("Inclusion of entry 0"));
    assert!(proof.contains(inclusion["root"].as_str().unwrap()));
    let size = inclusion["tree_size"].as_u64().unwrap();
    let (_, consistency) = client
        .get(&format!("/log/proof/consistency?from=1&to={size}"))
        .await;
    let proof = html(&base, &format!("/log/proof?from=1&to={size}")).await;
    assert!(proof.contains(consistency["to_root"].as_str().unwrap()));
    let (status, _, body) = page(&base, "/log/proof").await;
    assert_eq!(status, 400);
    assert!(body.contains("expected index (and size)"));

    // Errors: a page for a page, JSON for the API, with the same words.
    let (status, kind, body) = page(&base, "/no-such-page").await;
    assert_eq!((status, kind.as_str()), (404, "text/html; charset=utf-8"));
    well_formed("/no-such-page", &body);
    assert!(body.contains("404 Not Found") && body.contains("no such page"));
    let (status, kind, _) = page(&base, "/api/v1/no-such-endpoint").await;
    assert_eq!((status, kind.as_str()), (404, "application/json"));
    let (status, _, body) = page(&base, "/claims/0123456789abcdef").await;
    let (_, api) = client.get("/claims/0123456789abcdef").await;
    assert_eq!(status, 404);
    assert!(body.contains(&escaped(api["error"]["message"].as_str().unwrap())));
    let (status, _, body) = page(&base, &format!("/challenges/{id}/transcript?from=x")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<code>from</code>"));
    let stylesheet = reqwest::get(format!("{base}/static/style.css"))
        .await
        .unwrap();
    assert_eq!(
        stylesheet.headers()["content-type"],
        "text/css; charset=utf-8"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_browser_gets_a_page_with_the_apis_words() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.limits.per_address_per_minute = 1;
    config.limits.per_address_burst = 2;
    let server = start(config, Clock::manual(T0)).await;
    let base = server.url();
    let mut last = (0, String::new(), String::new());
    for _ in 0..3 {
        last = page(&base, "/").await;
    }
    let (status, kind, body) = last;
    assert_eq!((status, kind.as_str()), (429, "text/html; charset=utf-8"));
    well_formed("/ (429)", &body);
    assert!(body.contains("too many requests; retry after"), "{body}");
    let (status, kind, _) = page(&base, "/api/v1/challenges").await;
    assert_eq!((status, kind.as_str()), (429, "application/json"));
}
