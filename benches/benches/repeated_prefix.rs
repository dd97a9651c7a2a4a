//! The responder's cost of an initial message whose prefix repeats (the initiator prefixes
//! every message until its first reply), through `Device::decrypt`: the path issue 13's
//! "hash the prefix once" shortens. Build it at two commits and run both for a before/after.
//!
//! `cargo bench -p benches --bench repeated_prefix`

#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Outgoing, PeerId, VerifiedBundle};

#[path = "throughput/clock.rs"]
mod clock;

const NOW: u64 = 1_700_000_000;

fn bench(c: &mut Criterion<clock::Clock>) {
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let mut alice = Device::generate(&mut rng).expect("generate");
    let mut bob = Device::generate(&mut rng).expect("generate");
    let to_alice = PeerId::new("alice").expect("peer id");
    let to_bob = PeerId::new("bob").expect("peer id");
    let bundle = bob.prekey_bundle().expect("bundle").to_bytes();
    let bundle = VerifiedBundle::import(&bundle).expect("import");
    alice
        .initiate(&to_bob, &bundle, &mut rng)
        .expect("initiate");
    let payload = [7u8; 100];
    let message = Outgoing {
        content_type: 1,
        ttl: 0,
        payload: &payload,
    };
    let send = |alice: &mut Device, rng: &mut ChaCha20Rng| {
        alice
            .session_mut(&to_bob)
            .expect("session")
            .encrypt(&message, NOW, rng)
            .expect("encrypt")
    };
    let first = send(&mut alice, &mut rng);
    bob.decrypt(&to_alice, &first, NOW).expect("accept");

    let mut g = c.benchmark_group("repeated_prefix");
    g.bench_function("device_decrypt/100", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let wire = send(&mut alice, &mut rng);
                let start = clock::now();
                let got = bob.decrypt(&to_alice, black_box(&wire), NOW);
                total += clock::since(start);
                black_box(got.expect("decrypt"));
            }
            total
        })
    });
    g.finish();
}

fn config() -> Criterion<clock::Clock> {
    clock::criterion(Duration::from_secs(1), Duration::from_secs(3))
}

criterion_group! {
    name = repeated_prefix;
    config = config();
    targets = bench
}
criterion_main!(repeated_prefix);
