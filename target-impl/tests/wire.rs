//! Every wire type decodes canonically: decode(encode(x)) == x and encode(decode(b)) == b.
#![allow(clippy::indexing_slicing, clippy::panic)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::wire::WireMessage;
use target_impl::{Device, Error, Outgoing, PeerId, PublicIdentity, VerifiedBundle};

#[test]
fn every_wire_type_round_trips() {
    let mut rng = ChaCha20Rng::from_seed([9; 32]);
    let mut alice = Device::generate(&mut rng).unwrap();
    let mut bob = Device::generate(&mut rng).unwrap();
    bob.add_one_time_prekeys(1, &mut rng).unwrap();
    let bundle = bob.prekey_bundle().unwrap().to_bytes();
    let peer = PeerId::new("bob").unwrap();
    alice
        .initiate(&peer, &VerifiedBundle::import(&bundle).unwrap(), &mut rng)
        .unwrap();
    let session = alice.session_mut(&peer).unwrap();
    let mut samples = vec![bundle];
    for len in [0usize, 100, 1024, 5000] {
        let payload = vec![0x5a; len];
        let m = Outgoing {
            content_type: 3,
            ttl: 0,
            payload: &payload,
        };
        samples.push(session.encrypt(&m, 1, &mut rng).unwrap());
    }
    // A ratchet message: the tail of an initial message.
    let initial = samples[1].clone();
    let WireMessage::Initial(parsed) = WireMessage::decode(&initial).unwrap() else {
        panic!("an initial message decodes as one");
    };
    samples.push(parsed.ratchet.to_bytes());
    for bytes in &samples {
        let decoded = WireMessage::decode(bytes).unwrap();
        assert_eq!(&decoded.to_bytes(), bytes);
        let again = decoded.to_bytes();
        assert_eq!(WireMessage::decode(&again).unwrap(), decoded);
        // Framing that reads no key says Malformed for a trailing byte or a cut.
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(WireMessage::decode(&longer), Err(Error::Malformed));
        assert_eq!(
            WireMessage::decode(&bytes[..bytes.len() - 1]),
            Err(Error::Malformed)
        );
    }
}

#[test]
fn public_identity_decodes_only_with_a_valid_signature() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let device = Device::generate(&mut rng).unwrap();
    let bytes = device.public_identity().to_bytes();
    assert_eq!(
        &PublicIdentity::from_bytes(&bytes).unwrap(),
        device.public_identity()
    );
    let mut bad = bytes;
    bad[40] ^= 1; // the DH key
    assert_eq!(PublicIdentity::from_bytes(&bad), Err(Error::BadSignature));
}
