//! A seed reproduces a whole conversation byte for byte: device generation, bundle, PQXDH, a
//! 20-message conversation with DH turns and out-of-order delivery, and the final state blobs.
//! A different seed changes every one of those bytes.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use target_impl::{Device, PeerId, VerifiedBundle};

/// Everything a run produces.
#[derive(PartialEq, Eq)]
struct Transcript {
    bundle: Vec<u8>,
    wire: Vec<Vec<u8>>,
    alice_state: Vec<u8>,
    bob_state: Vec<u8>,
}

/// Who sends, and in which order the receiver gets that burst (indices into the burst).
const SCRIPT: &[(bool, &[usize])] = &[
    (true, &[1, 0, 2]),  // initial messages, reordered
    (false, &[0, 1]),    // Bob's first chain
    (true, &[2, 0, 1]),  // Alice's second chain, reordered
    (false, &[1, 0]),    // reordered
    (true, &[0]),        //
    (false, &[0, 2, 1]), //
    (true, &[1, 0]),     // 16 so far
    (false, &[0]),       //
    (true, &[0, 2, 1]),  // 20
];

fn run(seed: u64) -> Transcript {
    let mut rng = rng(seed);
    let mut alice = Device::generate(&mut rng).unwrap();
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(2, &mut rng).unwrap();
    bob.add_one_time_kem_prekeys(2, &mut rng).unwrap();
    let (a, b) = (PeerId::new("alice").unwrap(), PeerId::new("bob").unwrap());
    let bundle = bob.prekey_bundle().unwrap().to_bytes();
    alice
        .initiate(&b, &VerifiedBundle::import(&bundle).unwrap(), &mut rng)
        .unwrap();

    let mut wire = Vec::new();
    let mut count = 0u64;
    for (turn, &(from_alice, order)) in SCRIPT.iter().enumerate() {
        let (sender, receiver, to, from) = if from_alice {
            (&mut alice, &mut bob, &b, &a)
        } else {
            (&mut bob, &mut alice, &a, &b)
        };
        let burst: Vec<(Vec<u8>, Vec<u8>)> = (0..order.len())
            .map(|i| {
                let payload = format!("turn {turn} message {i}").into_bytes();
                let now = T0 + count;
                count += 1;
                let m = sender
                    .session_mut(to)
                    .unwrap()
                    .encrypt(&out(&payload), now, &mut rng)
                    .unwrap();
                (payload, m)
            })
            .collect();
        for &i in order {
            let (payload, m) = &burst[i];
            let got = receiver.decrypt(from, m, T0 + count).unwrap();
            assert_eq!(&got.payload[..], &payload[..]);
        }
        wire.extend(burst.into_iter().map(|(_, m)| m));
    }
    assert_eq!(wire.len(), 20);
    Transcript {
        bundle,
        wire,
        alice_state: alice.to_bytes().to_vec(),
        bob_state: bob.to_bytes().to_vec(),
    }
}

#[test]
fn same_seed_same_bytes() {
    let x = run(700);
    let y = run(700);
    assert!(x.bundle == y.bundle, "bundle");
    for (i, (m, n)) in x.wire.iter().zip(&y.wire).enumerate() {
        assert!(m == n, "wire message {i}");
    }
    assert!(x.alice_state == y.alice_state, "Alice's state");
    assert!(x.bob_state == y.bob_state, "Bob's state");
    assert!(x == y);
}

#[test]
fn different_seed_different_bytes() {
    let x = run(700);
    let y = run(701);
    assert_ne!(x.bundle, y.bundle);
    for (i, (m, n)) in x.wire.iter().zip(&y.wire).enumerate() {
        assert_eq!(m.len(), n.len(), "same framing, message {i}");
        assert_ne!(m, n, "wire message {i}");
        // Not just somewhere: the random value and the ciphertexts all differ.
        let differ = m.iter().zip(n).filter(|(p, q)| p != q).count();
        assert!(
            differ > m.len() / 2,
            "message {i}: only {differ} bytes differ"
        );
    }
    assert_ne!(x.alice_state, y.alice_state);
    assert_ne!(x.bob_state, y.bob_state);
}
