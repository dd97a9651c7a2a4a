//! A first conversation: setup, reordering, replay, DH turns, state round trip.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Error, Outgoing, PeerId, VerifiedBundle};

const T0: u64 = 1_700_000_000;

#[test]
fn conversation_with_turns_and_reordering() {
    let mut rng = ChaCha20Rng::from_seed([1; 32]);
    let mut alice = Device::generate(&mut rng).unwrap();
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(2, &mut rng).unwrap();
    bob.add_one_time_kem_prekeys(2, &mut rng).unwrap();
    let (a, b) = (PeerId::new("alice").unwrap(), PeerId::new("bob").unwrap());
    let bundle = VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    alice.initiate(&b, &bundle, &mut rng).unwrap();
    let msg = |p: &'static [u8]| Outgoing {
        content_type: 1,
        ttl: 0,
        payload: p,
    };
    let m0 = alice
        .session_mut(&b)
        .unwrap()
        .encrypt(&msg(b"m0"), T0, &mut rng)
        .unwrap();
    let m1 = alice
        .session_mut(&b)
        .unwrap()
        .encrypt(&msg(b"m1"), T0, &mut rng)
        .unwrap();
    assert_eq!(&bob.decrypt(&a, &m1, T0).unwrap().payload[..], b"m1");
    assert_eq!(&bob.decrypt(&a, &m0, T0).unwrap().payload[..], b"m0");
    assert_eq!(bob.decrypt(&a, &m0, T0), Err(Error::Replay));
    assert_eq!(bob.one_time_prekey_counts(), (1, 1));
    for round in 0..5u8 {
        let r = bob
            .session_mut(&a)
            .unwrap()
            .encrypt(&msg(b"reply"), T0, &mut rng)
            .unwrap();
        assert_eq!(
            &alice.decrypt(&b, &r, T0).unwrap().payload[..],
            b"reply",
            "{round}"
        );
        let q = alice
            .session_mut(&b)
            .unwrap()
            .encrypt(&msg(b"again"), T0, &mut rng)
            .unwrap();
        assert_eq!(&bob.decrypt(&a, &q, T0).unwrap().payload[..], b"again");
    }
    let blob = bob.to_bytes();
    let restored = Device::from_bytes(&blob).unwrap();
    assert_eq!(*restored.to_bytes(), *blob);
}
