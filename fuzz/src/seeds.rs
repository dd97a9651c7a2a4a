//! Seed inputs for every target, computed from the fixed-seed world ([`fixture`](super::fixture))
//! and fixed-seed random bytes; `examples/seed_corpus.rs` writes them to `fuzz/seeds/<target>/`
//! and the regression test replays them. Nothing here is hand-edited bytes.

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use super::fixture::{SEED, World, world};
use crate::corpus::{Seed, seed};

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let world = world();
    let mut out = Vec::new();
    wire(world, &mut out);
    for b in &world.bundles {
        out.push(seed("bundle_import", b.name, b.bytes.to_vec()));
    }
    for m in &world.initial {
        out.push(seed("handshake", m.name, m.bytes.to_vec()));
    }
    if let Some(b0) = world.to_alice.first() {
        out.push(seed(
            "handshake",
            "ratchet_without_session",
            b0.bytes.to_vec(),
        ));
    }
    for (m, clock) in &world.to_session {
        let mut bytes = vec![*clock];
        bytes.extend_from_slice(&m.bytes);
        out.push(seed("session_decrypt", m.name, bytes));
    }
    for b in &world.blobs {
        out.push(seed("state_restore", b.name, b.bytes.to_vec()));
    }
    aead(&mut out);
    interaction(&mut out);
    out
}

fn wire(world: &World, out: &mut Vec<Seed>) {
    let samples = world
        .bundles
        .iter()
        .chain(&world.initial)
        .chain(world.to_session.iter().map(|(m, _)| m))
        .chain(&world.to_alice);
    let mut seen: Vec<&[u8]> = Vec::new();
    for s in samples {
        if !seen.contains(&s.bytes.as_slice()) {
            seen.push(&s.bytes);
            out.push(seed("wire_decode", s.name, s.bytes.to_vec()));
        }
    }
}

/// (AAD length, plaintext length, tamper field): empty, one byte, a header's and a body's
/// sizes as the protocol seals them (AD ‖ clear part ‖ header as AAD), a block boundary.
const AEAD_SHAPES: [(u8, usize, u8); 8] = [
    (0, 0, 0),
    (0, 1, 1),
    (1, 0, 2),
    (16, 15, 3),
    (179, 41, 0),
    (236, 64, 1),
    (236, 1024, 2),
    (255, 4096, 3),
];

fn aead(out: &mut Vec<Seed>) {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    for (aad_len, pt_len, field) in AEAD_SHAPES {
        let mut bytes = vec![0u8; 32 + 12];
        rng.fill_bytes(&mut bytes);
        bytes.extend_from_slice(&[aad_len, field, 0, 7, 0x01]);
        let mut rest = vec![0u8; usize::from(aad_len) + pt_len];
        rng.fill_bytes(&mut rest);
        bytes.extend_from_slice(&rest);
        out.push(seed(
            "aead_differential",
            format!("aad{aad_len}_pt{pt_len}"),
            bytes,
        ));
    }
}

/// Random byte strings of growing length: the runner reads a 32-byte seed, then events until
/// the bytes run out, so these are conversations of a few to a few hundred events.
const INTERACTION_LENS: [usize; 10] = [32, 48, 96, 160, 256, 384, 512, 768, 1024, 2048];

fn interaction(out: &mut Vec<Seed>) {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    for len in INTERACTION_LENS {
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        out.push(seed("session_interaction", format!("random_{len}"), bytes));
    }
}
