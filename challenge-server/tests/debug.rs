//! `Debug` output never shows a secret: the KEK, the server's signing seed, the configured admin
//! token hash, a master seed, a claim's secret and nonce are searched for in the `{:?}` and
//! `{:#?}` output of every type that holds one, as hex (either case) and as a decimal array of
//! any 8-byte window.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use challenge_server::api::RevealRequest;
use challenge_server::claims::ClaimBody;
use challenge_server::clock::Clock;
use challenge_server::http::HttpState;
use challenge_server::http::limits::RateLimiter;
use challenge_server::keys::Kek;
use challenge_server::seed::MasterSeed;
use common::*;
use zeroize::Zeroizing;

const ADMIN_HASH: &str = "5e1f0c3a9b7d2e4f6a8c0b1d3e5f7a9c2b4d6e8f0a1c3e5b7d9f2a4c6e8b0d1f";
const SEED: [u8; 32] = [
    0x91, 0x22, 0xb3, 0x44, 0xd5, 0x66, 0xf7, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90,
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x9e,
];
const CLAIM_SECRET: &str = "0badc0de1337beef0badc0de1337beef";
const CLAIM_NONCE: &str = "c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77";

/// The first 8-byte window of `secret` that `text` shows, if any.
fn leak(text: &str, secret: &[u8]) -> Option<String> {
    let lower = text.to_lowercase();
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for w in secret.windows(8) {
        let h = hex::encode(w);
        if lower.contains(&h) {
            return Some(format!("hex {h}"));
        }
        let decimal = w.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
        if squeezed.contains(&decimal) {
            return Some(format!("decimal [{decimal}]"));
        }
    }
    None
}

fn assert_hides(name: &str, value: &dyn std::fmt::Debug, secrets: &[(&str, Vec<u8>)]) {
    for text in [format!("{value:?}"), format!("{value:#?}")] {
        for (what, secret) in secrets {
            if let Some(found) = leak(&text, secret) {
                panic!("{name}'s Debug shows the {what} ({found}):\n{text}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.admin_token_sha256 = Some(ADMIN_HASH.to_owned());
    let server = start(config, Clock::manual(1_800_000_000)).await;
    let app = app(&server);
    let secrets = vec![
        ("KEK", hex::decode(KEK_HEX).unwrap()),
        ("server signing seed", app.server_key.seed().to_vec()),
        ("admin token hash", hex::decode(ADMIN_HASH).unwrap()),
        ("master seed", SEED.to_vec()),
        ("claimed secret", hex::decode(CLAIM_SECRET).unwrap()),
        ("claim nonce", hex::decode(CLAIM_NONCE).unwrap()),
    ];
    // The search finds what it looks for.
    assert!(leak(&format!("{:?}", KEK_HEX), &secrets[0].1).is_some());
    assert!(leak(&format!("{:#?}", SEED), &SEED).is_some());

    assert_hides("Config", &app.config, &secrets);
    assert_hides("App", &*app, &secrets);
    assert_hides("RunningServer", &server, &secrets);
    let state = HttpState {
        app: app.clone(),
        per_address: RateLimiter::new(1, 1),
        monitor: RateLimiter::new(1, 1),
        per_claimant: RateLimiter::new(1, 1),
        base_url: server.url(),
    };
    assert_hides("HttpState", &state, &secrets);
    assert_hides("Kek", &Kek::from_hex(KEK_HEX).unwrap(), &secrets);
    assert_hides("ServerKey", &app.server_key, &secrets);
    assert_hides("MasterSeed", &MasterSeed::from_bytes(SEED), &secrets);
    let seed = MasterSeed::from_bytes(SEED);
    assert_hides(
        "Parties",
        &challenge_server::tracks::passive::parties(&seed).unwrap(),
        &secrets,
    );
    let reveal = RevealRequest {
        kind: "secret".to_owned(),
        message: Some(3),
        secret: Some(CLAIM_SECRET.to_owned()),
        finding: None,
        session: None,
        party: None,
        key: None,
        private_key: None,
        nonce: CLAIM_NONCE.to_owned(),
    };
    assert_hides("RevealRequest", &reveal, &secrets);
    let body = ClaimBody::Secret {
        message: 3,
        secret: Zeroizing::new(hex::decode(CLAIM_SECRET).unwrap().try_into().unwrap()),
    };
    assert_hides("ClaimBody", &body, &secrets);
    server.stop().await.unwrap();
}
