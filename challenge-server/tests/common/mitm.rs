//! What the tests of the mitm track share: a challenge definition, and a session driven over
//! HTTP with its bearer token.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use challenge_server::tracks::ChallengeSpec;
use serde_json::{Value, json};

use super::{Client, spec};

/// A mitm challenge with a bounty for each of its judged kinds and `params` as its track's own.
pub fn mitm_spec(params: Value) -> ChallengeSpec {
    let mut spec = spec(1, 3_600, 0, 3_600);
    spec.track = "mitm".to_owned();
    spec.bounty = [
        ("secret".to_owned(), "100 EUR".to_owned()),
        ("forgery".to_owned(), "100 EUR".to_owned()),
        ("key".to_owned(), "100 EUR".to_owned()),
    ]
    .into();
    spec.params = serde_json::from_value(params).unwrap();
    spec
}

/// An open session: its commands' path and its bearer token.
pub struct Session<'a> {
    pub client: &'a Client,
    pub path: String,
    pub token: String,
}

impl<'a> Session<'a> {
    /// Opens a session of challenge `id` for `claimant` (no proof-of-work): the session and
    /// the open's answer (`session`, `token`, `fields`, ...).
    pub async fn open(client: &'a Client, id: &str, claimant: &str) -> (Self, Value) {
        let (status, opened) = client
            .post(
                &format!("/challenges/{id}/sessions"),
                &json!({"claimant": claimant}),
            )
            .await;
        assert_eq!(status, 201, "{opened}");
        let s = opened["session"].as_u64().unwrap();
        let session = Session {
            client,
            path: format!("/challenges/{id}/sessions/{s}/commands"),
            token: opened["token"].as_str().unwrap().to_owned(),
        };
        (session, opened)
    }

    pub async fn run(&self, command: Value) -> (u16, Value) {
        self.client
            .post_raw(&self.path, &command.to_string(), Some(&self.token))
            .await
    }

    pub async fn ok(&self, command: Value) -> Value {
        let (status, answer) = self.run(command).await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    pub async fn deliver(&self, to: &str, bytes: &str) -> Value {
        self.ok(json!({"command": "deliver", "to": to, "bytes": bytes}))
            .await["delivery"]
            .clone()
    }

    pub async fn ask(&self, from: &str) -> String {
        let answer = self.ok(json!({"command": "ask", "from": from})).await;
        answer["ciphertext"].as_str().unwrap().to_owned()
    }

    pub async fn txt(&self, from: &str, plaintext: &[u8], content_type: u8, ttl: u32) -> String {
        let answer = self
            .ok(json!({
                "command": "txt",
                "from": from,
                "plaintext": hex::encode(plaintext),
                "content_type": content_type,
                "ttl": ttl,
            }))
            .await;
        answer["ciphertext"].as_str().unwrap().to_owned()
    }

    pub async fn fetch_bundle(&self) -> String {
        let answer = self.ok(json!({"command": "fetch-bundle"})).await;
        answer["bundle"].as_str().unwrap().to_owned()
    }
}
