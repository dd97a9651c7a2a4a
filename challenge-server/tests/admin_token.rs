//! `admin_token_sha256` as docs/OPERATING.md tells an operator to compute it: the documented
//! shell command's hash makes the server accept the token; a malformed value stops `serve` at
//! start-up naming the setting; `serve` says which admin credentials it accepts, never a token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

const TOKEN: &str = "operator-chosen token 42";

/// The command of docs/OPERATING.md ("Configuration"), run by `sh` exactly as written there.
fn documented_hash(token: &str) -> String {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/OPERATING.md"))
            .unwrap();
    let command = docs
        .lines()
        .find(|l| l.contains("challenge-server/v1/admin-token") && l.contains("sha256sum"))
        .expect("docs/OPERATING.md documents the admin token hash command")
        .trim()
        .trim_start_matches("$ ")
        .to_owned();
    let out = std::process::Command::new("sh")
        .args(["-c", &command])
        .env("TOKEN", token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_hash_admits_the_token() {
    let hash = documented_hash(TOKEN);
    assert_eq!(
        hash,
        hex::encode(challenge_server::keys::token_hash(TOKEN)),
        "the documented command computes the server's hash"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::serve(
        dir.path(),
        &[("CHALLENGE_SERVER_ADMIN_TOKEN_SHA256", &hash)],
    );
    let said = server.before_url.join("\n");
    assert!(
        said.contains("admin credentials: admin_token_sha256 from the configuration"),
        "{said}"
    );
    assert!(!said.contains(TOKEN));
    let client = Client::new(&server.url);
    let body = r#"{"title":"t","rules":"r","bounty":{"secret":"1"},"schedule":{"messages":2,"interval_secs":60}}"#;
    let (status, v) = client
        .post_raw("/admin/challenges", body, Some(TOKEN))
        .await;
    assert_eq!(status, 201, "{v}");
    let (status, _) = client
        .post_raw("/admin/challenges", body, Some("another token"))
        .await;
    assert_eq!(status, 401);
    server.kill();
}

#[test]
fn a_malformed_hash_stops_serve() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "not hex",
        "abcd",
        &"AB".repeat(32),
        &format!("sha256:{}", "ab".repeat(32)),
    ] {
        let failure =
            ServerProcess::try_serve(dir.path(), &[("CHALLENGE_SERVER_ADMIN_TOKEN_SHA256", bad)])
                .err()
                .unwrap_or_else(|| panic!("serve started with admin_token_sha256 = {bad:?}"));
        assert!(failure.contains("exited"), "{failure}");
        assert!(failure.contains("admin_token_sha256"), "{failure}");
        assert!(failure.contains("64 lowercase hex"), "{failure}");
    }
}

#[test]
fn serve_says_a_first_token_was_made() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::serve(dir.path(), &[]);
    let said = server.before_url.join("\n");
    assert!(
        said.contains("admin credentials: none configured; a first admin token is printed below"),
        "{said}"
    );
    server.kill();
}
