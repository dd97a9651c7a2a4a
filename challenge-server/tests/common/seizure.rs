//! Helpers of the seizure tests: the definition, the published transcript, an attacker that
//! holds only the published transcript and the seized device state, and its claims.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use challenge_server::targets::{Delivery, Outgoing, Target};
use challenge_server::tracks::{ChallengeSpec, ScheduleSpec, TrackFields};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::{Value, json};

use super::Client;

/// A seizure challenge of `messages` entries, `party` seized at `seize_at`, two secrets.
pub fn seizure_spec(messages: u64, seize_at: u64, party: &str) -> ChallengeSpec {
    ChallengeSpec {
        title: "Seizure test".to_owned(),
        rules: "Read a message from the seized state.".to_owned(),
        track: "seizure".to_owned(),
        bounty: [
            ("forward-secrecy".to_owned(), "100 EUR".to_owned()),
            ("post-compromise".to_owned(), "100 EUR".to_owned()),
        ]
        .into(),
        schedule: ScheduleSpec {
            messages,
            interval_secs: 1,
            start_at: None,
            start_in_secs: Some(1),
        },
        deadline: None,
        deadline_after_last_secs: Some(30),
        reveal_window_secs: None,
        close_on_win: false,
        secrets: 2,
        params: TrackFields(vec![
            ("seize_at".to_owned(), json!(seize_at)),
            ("seized".to_owned(), json!(party)),
        ]),
    }
}

/// One published entry.
#[derive(Clone, Debug)]
pub struct Published {
    pub index: u64,
    pub time: u64,
    pub direction: String,
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// The whole published transcript, once `n` entries are out.
pub async fn transcript(client: &Client, id: &str, n: u64) -> Vec<Published> {
    client.wait_published(id, n).await;
    let (status, page) = client
        .get(&format!("/challenges/{id}/transcript?from=0&limit=1000"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Published {
            index: e["index"].as_u64().unwrap(),
            time: e["time"].as_u64().unwrap(),
            direction: e["direction"].as_str().unwrap().to_owned(),
            kind: e["kind"].as_str().unwrap().to_owned(),
            bytes: hex::decode(e["bytes"].as_str().unwrap()).unwrap(),
        })
        .collect()
}

/// A secret an attacker read: the claim it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Read {
    pub kind: &'static str,
    pub message: u64,
    pub secret_hex: String,
}

fn secret_of(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?;
    let rest = text.strip_prefix("secret ")?;
    let (_, hex_part) = rest.split_once(": ")?;
    (hex_part.len() == 32).then(|| hex_part.to_owned())
}

/// The forward-secrecy attacker: restores the seized state (its only secret input) once per
/// earlier message to the seized party and tries it, through the peer's session and, for an
/// initial message, a PQXDH re-run under a new peer name.
pub fn attack_before(target: &dyn Target, transcript: &[Published]) -> Vec<Read> {
    let (seizure, seized, peer) = seizure_of(transcript);
    let to_seized = format!("{peer}-to-{seized}");
    let mut out = Vec::new();
    for e in transcript
        .iter()
        .filter(|e| e.index < seizure.index && e.direction == to_seized)
    {
        for name in [peer.as_str(), "someone-else"] {
            let mut device = target.restore(&seizure.bytes).unwrap();
            if let Ok(Delivery::Message(m)) = device.decrypt(name, &e.bytes, e.time)
                && let Some(secret_hex) = secret_of(&m.payload)
            {
                out.push(Read {
                    kind: "forward-secrecy",
                    message: e.index,
                    secret_hex,
                });
                break;
            }
        }
    }
    out
}

/// The post-compromise attacker: a copy restored from the seized state follows the transcript
/// after the seizure, decrypting the peer's messages and encrypting a dummy whenever the
/// seized party sent one, with randomness of its own.
pub fn attack_after(target: &dyn Target, transcript: &[Published]) -> Vec<Read> {
    let (seizure, seized, peer) = seizure_of(transcript);
    let to_seized = format!("{peer}-to-{seized}");
    let mut device = target.restore(&seizure.bytes).unwrap();
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let mut out = Vec::new();
    for e in transcript.iter().filter(|e| e.index > seizure.index) {
        if e.direction == to_seized {
            if let Ok(Delivery::Message(m)) = device.decrypt(&peer, &e.bytes, e.time)
                && let Some(secret_hex) = secret_of(&m.payload)
            {
                out.push(Read {
                    kind: "post-compromise",
                    message: e.index,
                    secret_hex,
                });
            }
        } else {
            let dummy = Outgoing {
                content_type: 1,
                ttl: 0,
                payload: b"dummy",
            };
            device.encrypt(&peer, &dummy, e.time, &mut rng).unwrap();
        }
    }
    out
}

/// The seizure entry, the seized party and its peer.
fn seizure_of(transcript: &[Published]) -> (&Published, String, String) {
    let seizure = transcript.iter().find(|e| e.kind == "seizure").unwrap();
    let seized = seizure
        .direction
        .strip_suffix("-seized")
        .unwrap()
        .to_owned();
    let peer = if seized == "bob" { "alice" } else { "bob" }.to_owned();
    (seizure, seized, peer)
}

/// Commits `read` for `claimant` under nonce `[nonce; 32]`, then reveals it: the verdict.
pub async fn claim(client: &Client, id: &str, claimant: &str, read: &Read, nonce: u8) -> Value {
    let nonce = hex::encode([nonce; 32]);
    let text = format!(
        "challenge-server/v1/claim\nchallenge: {id}\nclaimant: {claimant}\nkind: {}\nmessage: {}\nsecret: {}\nnonce: {nonce}\n",
        read.kind, read.message, read.secret_hex
    );
    let commitment = hex::encode(target_impl::hazmat::sha256(&[text.as_bytes()]));
    let (status, receipt) = client
        .post(
            "/claims/commit",
            &json!({"challenge": id, "claimant": claimant, "commitment": commitment}),
        )
        .await;
    assert_eq!(status, 201, "{receipt}");
    let claim = receipt["claim"].as_str().unwrap();
    let (status, verdict) = client
        .post(
            &format!("/claims/{claim}/reveal"),
            &json!({"kind": read.kind, "message": read.message, "secret": read.secret_hex,
                    "nonce": nonce}),
        )
        .await;
    assert_eq!(status, 200, "{verdict}");
    verdict
}
