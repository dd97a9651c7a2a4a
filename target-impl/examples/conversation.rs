//! Plays a short conversation between two devices from a fixed seed and prints every byte that
//! crosses the wire, then what each side decrypted.
//!
//! `cargo run -p target-impl --example conversation [seed-byte]`

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Error, Outgoing, PeerId, VerifiedBundle};

const START: u64 = 1_700_000_000;

fn main() -> Result<(), Error> {
    let seed_byte = std::env::args()
        .nth(1)
        .and_then(|s| s.parse::<u8>().ok())
        .unwrap_or(42);
    let mut rng = ChaCha20Rng::from_seed([seed_byte; 32]);
    let mut alice = Device::generate(&mut rng)?;
    let mut bob = Device::generate(&mut rng)?;
    bob.add_one_time_prekeys(1, &mut rng)?;
    bob.add_one_time_kem_prekeys(1, &mut rng)?;
    let (to_alice, to_bob) = (PeerId::new("alice")?, PeerId::new("bob")?);

    let bundle = bob.prekey_bundle()?.to_bytes();
    println!(
        "seed byte {seed_byte}; bob's prekey bundle: {} bytes",
        bundle.len()
    );
    println!("  {}", short_hex(&bundle));
    alice.initiate(&to_bob, &VerifiedBundle::import(&bundle)?, &mut rng)?;

    let script: [(&str, &str, u32); 6] = [
        (
            "alice",
            "Hi Bob, this is the first message; it carries the PQXDH prefix.",
            0,
        ),
        (
            "alice",
            "A second one before any reply: the prefix again.",
            0,
        ),
        ("bob", "Hello Alice. My reply starts a DH ratchet turn.", 0),
        ("alice", "This one self-destructs 30 s after sending.", 30),
        ("bob", "Got it.", 0),
        ("alice", "A longer message padded by Padme. ", 0),
    ];
    for (i, (from, text, ttl)) in script.into_iter().enumerate() {
        let now = START + 10 * i as u64;
        let payload = if i == 5 {
            text.repeat(40)
        } else {
            text.to_owned()
        };
        let message = Outgoing {
            content_type: 1,
            ttl,
            payload: payload.as_bytes(),
        };
        let (sender, receiver, peer_of_sender, peer_of_receiver) = if from == "alice" {
            (&mut alice, &mut bob, &to_bob, &to_alice)
        } else {
            (&mut bob, &mut alice, &to_alice, &to_bob)
        };
        let session = sender
            .session_mut(peer_of_sender)
            .ok_or(Error::Unauthentic)?;
        let wire = session.encrypt(&message, now, &mut rng)?;
        println!(
            "\n[{now}] {from} -> {} ({} payload bytes, {} on the wire, ttl {ttl})",
            if from == "alice" { "bob" } else { "alice" },
            payload.len(),
            wire.len()
        );
        println!("  {}", short_hex(&wire));
        let got = receiver.decrypt(peer_of_receiver, &wire, now + 1)?;
        println!(
            "  decrypted: {:?}{}",
            String::from_utf8_lossy(got.payload.get(..70).unwrap_or(&got.payload)),
            got.expires_at
                .map(|t| format!(" (delete at {t})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn short_hex(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().take(48).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 48 {
        format!("{hex}...")
    } else {
        hex
    }
}
