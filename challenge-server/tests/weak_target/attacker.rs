//! A known-plaintext attacker on published passive transcripts: it needs only the transcript's
//! bytes and the public filler sentences, no seed. Two messages that carry the same random value
//! `r` (docs/PROTOCOL.md 7.3, 7.6) under the same message key were sealed with the same AES-GCM
//! (key, nonce), so their body ciphertexts XOR to their body plaintexts' XOR (8.1); XORing in a
//! filler sentence (payload, then zero padding) leaves the other message's payload.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};

use target_impl::wire::WireMessage;
use target_impl::{BODY_PREAMBLE_LEN, RANDOM_LEN};

/// AES-256-GCM tag length (docs/PROTOCOL.md 2): the last bytes of a ratchet message.
const TAG_LEN: usize = 16;
/// Offset of the `u32` payload length in the body plaintext (docs/PROTOCOL.md 8.1).
const PAYLOAD_LEN_OFFSET: usize = 13;

/// One published transcript entry.
#[derive(Clone, Debug)]
pub struct Entry {
    pub index: u64,
    pub time: u64,
    pub direction: String,
    pub bytes: Vec<u8>,
}

impl Entry {
    /// The entries of a transcript page or download (`GET /challenges/{id}/transcript`).
    pub fn from_page(page: &serde_json::Value) -> Vec<Entry> {
        page["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| Entry {
                index: e["index"].as_u64().unwrap(),
                time: e["time"].as_u64().unwrap(),
                direction: e["direction"].as_str().unwrap().to_owned(),
                bytes: hex::decode(e["bytes"].as_str().unwrap()).unwrap(),
            })
            .collect()
    }
}

/// A secret read from the traffic.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recovered {
    /// `j` of `secret <j>: ...`.
    pub secret_index: u32,
    /// The 32 hex digits.
    pub secret_hex: String,
    /// The messages that may carry it, by index: one, unless its run of equal `r` holds only it
    /// and one filler (the XOR of two plaintexts does not say which of the two is which).
    pub messages: Vec<u64>,
}

/// The parts of a ratchet message the attacker reads (after any initial prefix).
struct Sealed<'a> {
    index: u64,
    random: [u8; RANDOM_LEN],
    body_ciphertext: &'a [u8],
}

fn sealed(entry: &Entry) -> Option<Sealed<'_>> {
    let ratchet = match WireMessage::decode(&entry.bytes).ok()? {
        WireMessage::Initial(m) => m.ratchet,
        WireMessage::Ratchet(m) => m,
        WireMessage::Bundle(_) => return None,
    };
    let (body_ciphertext, _tag) = ratchet
        .body
        .split_at_checked(ratchet.body.len().checked_sub(TAG_LEN)?)?;
    Some(Sealed {
        index: entry.index,
        random: ratchet.random,
        body_ciphertext,
    })
}

/// `secret <j>: <32 lowercase hex>` followed only by zero bytes (the body padding).
fn parse_secret(payload_and_padding: &[u8]) -> Option<(u32, String)> {
    let end = payload_and_padding
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload_and_padding.len());
    let (text, padding) = payload_and_padding.split_at(end);
    if padding.iter().any(|&b| b != 0) {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let (j, hex_part) = text.strip_prefix("secret ")?.split_once(": ")?;
    if j.is_empty() || !j.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if hex_part.len() != 32
        || !hex_part
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    Some((j.parse().ok()?, hex_part.to_owned()))
}

/// The payload bytes of the other message of a pair, if `filler` is this one's payload: the
/// XOR of their body ciphertexts with the filler (and its zero padding) XORed in, after the
/// preamble, provided the payload lengths in the two preambles agree with it.
fn other_payload(
    xor: &[u8],
    filler: &[u8],
    other_len: impl Fn(&[u8]) -> Option<usize>,
) -> Option<Vec<u8>> {
    let payloads = xor.get(BODY_PREAMBLE_LEN..)?;
    let guess: Vec<u8> = payloads
        .iter()
        .enumerate()
        .map(|(i, x)| x ^ filler.get(i).copied().unwrap_or(0))
        .collect();
    let len = other_len(&guess)?;
    let lengths = u32::try_from(len ^ filler.len()).ok()?.to_be_bytes();
    (xor.get(PAYLOAD_LEN_OFFSET..BODY_PREAMBLE_LEN)? == lengths).then_some(guess)
}

/// `bytes` is `text` followed only by zero bytes.
fn is_padded(bytes: &[u8], text: &[u8]) -> bool {
    bytes.len() >= text.len()
        && bytes.starts_with(text)
        && bytes.iter().skip(text.len()).all(|&b| b == 0)
}

/// Every secret that a pair of messages with the same `r` gives away when one of the two is a
/// filler from `fillers`, by secret index. Where the run of equal `r` has more than two
/// messages, a pair of two fillers shows which messages are fillers, which leaves the one that
/// carries the secret.
pub fn attack(entries: &[Entry], fillers: &[&str]) -> Vec<Recovered> {
    let messages: Vec<Sealed<'_>> = entries.iter().filter_map(sealed).collect();
    // (secret index, hex) -> messages that may carry it.
    let mut secrets: BTreeMap<(u32, String), BTreeSet<u64>> = BTreeMap::new();
    let mut known_fillers = BTreeSet::new();
    for this in &messages {
        for other in &messages {
            if this.index == other.index || this.random != other.random {
                continue;
            }
            // Same key and nonce: the keystreams cancel.
            let xor: Vec<u8> = this
                .body_ciphertext
                .iter()
                .zip(other.body_ciphertext)
                .map(|(a, b)| a ^ b)
                .collect();
            for filler in fillers.iter().map(|f| f.as_bytes()) {
                // If `this` is that filler, `other` may be a secret ...
                let secret_len =
                    |g: &[u8]| parse_secret(g).map(|(j, h)| format!("secret {j}: {h}").len());
                if let Some(guess) = other_payload(&xor, filler, secret_len)
                    && let Some(found) = parse_secret(&guess)
                {
                    secrets.entry(found).or_default().insert(other.index);
                }
                // ... or a filler too, and then both are fillers.
                let filler_len = |g: &[u8]| {
                    fillers
                        .iter()
                        .find(|f| is_padded(g, f.as_bytes()))
                        .map(|f| f.len())
                };
                if other_payload(&xor, filler, filler_len).is_some() {
                    known_fillers.insert(this.index);
                    known_fillers.insert(other.index);
                }
            }
        }
    }
    secrets
        .into_iter()
        .map(|((secret_index, secret_hex), messages)| Recovered {
            secret_index,
            secret_hex,
            messages: messages.difference(&known_fillers).copied().collect(),
        })
        .collect()
}
