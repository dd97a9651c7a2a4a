//! What aws-lc-rs's X25519 key import costs per DH, and what keeping keys parsed saves
//! (issue 13): the old path (`hazmat::x25519` from bytes: import, which computes the public
//! key, then the agreement) and the new one (`hazmat::x25519_agree` with a kept
//! `X25519PrivateKey`) side by side in one run, on the throughput bench's clock.
//!
//! `cargo bench -p benches --bench x25519_parse`

#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use target_impl::hazmat;

#[path = "throughput/clock.rs"]
mod clock;

fn bench(c: &mut Criterion<clock::Clock>) {
    let mut g = c.benchmark_group("x25519_parse");
    let private = [0x11; 32];
    let parsed = hazmat::X25519PrivateKey::new(&private).expect("x25519 key");
    let peer = hazmat::x25519_public_key(&[0x22; 32]).expect("x25519 key");

    // The import alone: aws-lc's EVP_PKEY_new_raw_private_key computes the public key.
    g.bench_function("import", |b| {
        b.iter(|| hazmat::X25519PrivateKey::new(black_box(&private)))
    });
    // One DH, before: the key imported again for every DH.
    g.bench_function("dh_from_bytes", |b| {
        b.iter(|| hazmat::x25519(black_box(&private), black_box(&peer)))
    });
    // One DH, after: the kept parsed key.
    g.bench_function("dh_parsed", |b| {
        b.iter(|| hazmat::x25519_agree(black_box(&parsed), black_box(&peer)))
    });
    // A ratchet step's X25519 work (a fresh key pair, one DH), before and after.
    g.bench_function("keygen_and_dh_from_bytes", |b| {
        b.iter(|| {
            let public = hazmat::x25519_public_key(black_box(&private)).expect("public");
            (
                public,
                hazmat::x25519(black_box(&private), black_box(&peer)),
            )
        })
    });
    g.bench_function("keygen_and_dh_parsed", |b| {
        b.iter(|| {
            let key = hazmat::X25519PrivateKey::new(black_box(&private)).expect("key");
            let shared = hazmat::x25519_agree(&key, black_box(&peer));
            (*key.public_key(), shared)
        })
    });
    g.finish();
}

fn config() -> Criterion<clock::Clock> {
    clock::criterion(Duration::from_secs(1), Duration::from_secs(3))
}

criterion_group! {
    name = x25519;
    config = config();
    targets = bench
}
criterion_main!(x25519);
