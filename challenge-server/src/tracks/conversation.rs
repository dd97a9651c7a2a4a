//! The two-party conversation the scheduled tracks play (`passive`, `seizure`): the parties
//! derived from the challenge seed, the committed secrets and the filler sentences, the
//! transcript entry of a wire message ([`Step`]), one message played on the parties
//! ([`play_message`]) and the health solver's check of one published message
//! ([`solve_message`]). Each track decides who sends which message and where the secrets go.
//!
//! Everything here is a function of the seed; the server, its health solver and `verify` run the
//! same code, so a restart or a verifier regenerates identical bytes.

use core::fmt;

use target_impl::wire::WireMessage;
use zeroize::Zeroizing;

use super::{Entry, Parties, Party, Schedule};
pub use super::{SECRET_LEN, SecretPlacement};
use crate::Error;
use crate::keys::ct_eq32;
use crate::seed::{MasterSeed, label};
use crate::targets::{self, OneTimePrekeys, Outgoing, Target};

/// Alice's party name (her peer id at Bob, and her state's sealing label).
pub const ALICE: &str = "alice";
/// Bob's party name.
pub const BOB: &str = "bob";

/// Content type of every message (text).
pub const CONTENT_TYPE: u8 = 1;
const SECRET_COMMITMENT_LABEL: &[u8] = b"challenge-server/v1/secret-commitment\n";

/// Filler sentences of the messages that carry no secret (public: anyone may know them, as
/// the known plaintext they are). Each fits the same 64-byte padding bucket as a secret
/// message, so sizes do not single out the designated messages.
pub const FILLERS: [&str; 12] = [
    "Are we still on for Thursday?",
    "Yes, same place as last time.",
    "I sent the draft; tell me what you think.",
    "Running ten minutes late, sorry.",
    "Did you get the documents I mentioned?",
    "Not yet. I will check again tonight.",
    "The weather here is awful today.",
    "Call me when you land.",
    "Let us keep this between us for now.",
    "Thanks, that helps a lot.",
    "Can you bring the charger?",
    "See you tomorrow.",
];

/// Who sent a transcript entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Alice to Bob.
    AliceToBob,
    /// Bob to Alice.
    BobToAlice,
}

impl Direction {
    /// The name used in the API.
    pub fn name(self) -> &'static str {
        match self {
            Direction::AliceToBob => "alice-to-bob",
            Direction::BobToAlice => "bob-to-alice",
        }
    }

    /// The sender's and the receiver's names.
    pub fn parties(self) -> (&'static str, &'static str) {
        match self {
            Direction::AliceToBob => (ALICE, BOB),
            Direction::BobToAlice => (BOB, ALICE),
        }
    }

    /// The direction from party `from` to its peer (`None` for a name that is neither).
    pub fn from_party(from: &str) -> Option<Self> {
        match from {
            ALICE => Some(Direction::AliceToBob),
            BOB => Some(Direction::BobToAlice),
            _ => None,
        }
    }
}

/// What a transcript entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A prekey bundle.
    Bundle,
    /// An initial message (PQXDH prefix and a ratchet message).
    Initial,
    /// A ratchet message.
    Ratchet,
}

impl Kind {
    /// The name used in the API.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bundle => "bundle",
            Kind::Initial => "initial",
            Kind::Ratchet => "ratchet",
        }
    }

    /// The kind of a wire message's bytes.
    pub fn of(bytes: &[u8]) -> Result<Self, Error> {
        Ok(match WireMessage::decode(bytes)? {
            WireMessage::Bundle(_) => Kind::Bundle,
            WireMessage::Initial(_) => Kind::Initial,
            WireMessage::Ratchet(_) => Kind::Ratchet,
        })
    }
}

/// One transcript entry: exactly the bytes that crossed the wire, with their time.
#[derive(Clone, PartialEq, Eq)]
pub struct Step {
    /// Index in the transcript (0: Bob's bundle).
    pub index: u64,
    /// Scheduled time (also the sender's and the receiver's `now`).
    pub sent_at: u64,
    /// Sender and receiver.
    pub direction: Direction,
    /// Wire type.
    pub kind: Kind,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("index", &self.index)
            .field("sent_at", &self.sent_at)
            .field("direction", &self.direction)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Step {
    /// The transcript entry, as the lifecycle stores and publishes it.
    pub fn entry(&self) -> Entry {
        Entry {
            index: self.index,
            sent_at: self.sent_at,
            direction: self.direction.name().to_owned(),
            kind: self.kind.name().to_owned(),
            bytes: self.bytes.clone(),
        }
    }

    /// A published entry read back; `None` if its direction or kind is not one this track
    /// publishes.
    pub fn from_entry(e: &Entry) -> Option<Self> {
        Some(Self {
            index: e.index,
            sent_at: e.sent_at,
            direction: match e.direction.as_str() {
                "alice-to-bob" => Direction::AliceToBob,
                "bob-to-alice" => Direction::BobToAlice,
                _ => return None,
            },
            kind: match e.kind.as_str() {
                "bundle" => Kind::Bundle,
                "initial" => Kind::Initial,
                "ratchet" => Kind::Ratchet,
                _ => return None,
            },
            bytes: e.bytes.clone(),
        })
    }
}

/// The two parties as target-impl devices (tests look inside their states).
pub struct RealParties {
    /// Alice, the initiator.
    pub alice: target_impl::Device,
    /// Bob, the responder, whose bundle is entry 0.
    pub bob: target_impl::Device,
}

impl fmt::Debug for RealParties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parties(..)")
    }
}

/// The parties on target-impl as they are before entry 0 ([`parties_on`]).
pub fn parties(seed: &MasterSeed) -> Result<RealParties, Error> {
    let parties = parties_on(targets::real(), seed)?;
    Ok(RealParties {
        alice: target_impl::Device::from_bytes(&parties.get(ALICE)?.state())?,
        bob: target_impl::Device::from_bytes(&parties.get(BOB)?.state())?,
    })
}

/// The parties on `target` as they are before entry 0: Alice from `derive("party/alice")`,
/// Bob from `derive("party/bob")` with one one-time X25519 and one one-time ML-KEM prekey.
pub fn parties_on(target: &dyn Target, seed: &MasterSeed) -> Result<Parties, Error> {
    let mut rng = seed.rng(label::ALICE, 0)?;
    let alice = target.generate(&mut rng, OneTimePrekeys::default())?;
    let mut rng = seed.rng(label::BOB, 0)?;
    let bob = target.generate(&mut rng, OneTimePrekeys { x25519: 1, kem: 1 })?;
    Ok(Parties(vec![
        Party {
            name: ALICE.to_owned(),
            device: alice,
        },
        Party {
            name: BOB.to_owned(),
            device: bob,
        },
    ]))
}

/// Secret `index`.
pub fn secret(seed: &MasterSeed, index: u32) -> Result<Zeroizing<[u8; SECRET_LEN]>, Error> {
    let full = seed.derive(label::SECRET, u64::from(index))?;
    let mut out = Zeroizing::new([0u8; SECRET_LEN]);
    out.copy_from_slice(full.get(..SECRET_LEN).unwrap_or(&[0; SECRET_LEN]));
    Ok(out)
}

/// The salted commitment to `secret` under `salt`.
pub fn secret_commitment(salt: &[u8; 32], secret: &[u8; SECRET_LEN]) -> [u8; 32] {
    target_impl::hazmat::sha256(&[SECRET_COMMITMENT_LABEL, salt, secret])
}

/// The plaintext of message `k`: `secret <j>: <32 hex digits>` if it carries secret `j`, else
/// a filler sentence chosen by `derive("filler", k)`.
pub fn payload(
    seed: &MasterSeed,
    placements: &[SecretPlacement],
    k: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(p) = placements.iter().find(|p| p.message == k) {
        let secret = secret(seed, p.index)?;
        let text = Zeroizing::new(format!("secret {}: {}", p.index, hex::encode(*secret)));
        return Ok(Zeroizing::new(text.as_bytes().to_vec()));
    }
    let which = seed.derive_index(label::FILLER, k, FILLERS.len() as u64)?;
    let filler = FILLERS
        .get(usize::try_from(which).unwrap_or(0))
        .copied()
        .unwrap_or_default();
    Ok(Zeroizing::new(filler.as_bytes().to_vec()))
}

/// Transcript entry 0: Bob's bundle, as Alice fetches it.
pub fn bundle_step(parties: &Parties, schedule: &Schedule) -> Result<Step, Error> {
    Ok(Step {
        index: 0,
        sent_at: schedule.time_of(0),
        direction: Direction::BobToAlice,
        kind: Kind::Bundle,
        bytes: parties.get(BOB)?.bundle()?,
    })
}

/// Plays message `k` (1-based), sent in `direction`, on `parties`: the sender encrypts at the scheduled time with the
/// randomness of `derive("step", k)` (Alice first starts the session from Bob's bundle with the
/// same stream, against Bob's published identity), and the receiver decrypts it at the same
/// time and must get the payload back.
pub fn play_message(
    parties: &mut Parties,
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    k: u64,
    direction: Direction,
) -> Result<Step, Error> {
    if k == 0 || k > schedule.messages {
        return Err(Error::internal(format!("no message {k} in the schedule")));
    }
    let now = schedule.time_of(k);
    let mut rng = seed.rng(label::STEP, k)?;
    if k == 1 {
        let bob = parties.get(BOB)?;
        let (bundle, identity) = (bob.bundle()?, bob.public_identity());
        parties
            .get_mut(ALICE)?
            .initiate(BOB, &bundle, &identity, &mut rng)?;
    }
    let payload = payload(seed, placements, k)?;
    let outgoing = Outgoing {
        content_type: CONTENT_TYPE,
        ttl: 0,
        payload: &payload,
    };
    let (from, to) = direction.parties();
    let (sender, receiver) = parties.pair_mut(from, to)?;
    let bytes = sender.encrypt(to, &outgoing, now, &mut rng)?;
    let received = match receiver.decrypt(from, &bytes, now)? {
        targets::Delivery::Message(m) => m,
        targets::Delivery::IdentityChanged { .. } => {
            return Err(Error::internal("the receiver saw another identity"));
        }
    };
    if received.payload.as_slice() != payload.as_slice() {
        return Err(Error::internal("the receiver decrypted another payload"));
    }
    Ok(Step {
        index: k,
        sent_at: now,
        direction,
        kind: Kind::of(&bytes)?,
        bytes,
    })
}

/// What the health solver found in one published message ([`solve_message`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Solved {
    /// The receiver read it; `secret` if it held its committed secret.
    Read {
        /// Whether it carried a secret that opened its commitment.
        secret: bool,
    },
    /// It is not what the seed makes of it.
    Problem(String),
}

/// The health solver's check of one published message `entry`, scheduled in direction
/// `expected`: from the seed, the sender's copy re-encrypts it (its own state is not in what
/// it published, and decryption of later replies needs it advanced), the receiver decrypts the
/// published bytes, and a designated message must hold its secret as committed. The parties
/// advance only when it reads.
pub fn solve_message(
    parties: &mut Parties,
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    entry: &Step,
    expected: Direction,
) -> Result<Solved, Error> {
    let mut shadow = parties.duplicate();
    play_message(
        &mut shadow,
        seed,
        schedule,
        placements,
        entry.index,
        expected,
    )?;
    let (from, to) = entry.direction.parties();
    let sender_after = shadow.into_device(from)?;
    let message = match parties
        .get_mut(to)?
        .decrypt(from, &entry.bytes, entry.sent_at)
    {
        Ok(targets::Delivery::Message(m)) => m,
        Ok(targets::Delivery::IdentityChanged { .. }) => {
            return Ok(Solved::Problem(format!(
                "entry {} authenticates under another identity",
                entry.index
            )));
        }
        Err(e) => {
            return Ok(Solved::Problem(format!(
                "entry {} does not decrypt: {e}",
                entry.index
            )));
        }
    };
    *parties.get_mut(from)? = sender_after;
    match placements.iter().find(|p| p.message == entry.index) {
        Some(p) if !payload_opens(seed, p, &message.payload)? => Ok(Solved::Problem(format!(
            "message {} does not hold secret {} as committed",
            entry.index, p.index
        ))),
        Some(_) => Ok(Solved::Read { secret: true }),
        None => Ok(Solved::Read { secret: false }),
    }
}

/// Whether a decrypted payload holds secret `p.index` and the secret opens `p.commitment`.
pub fn payload_opens(
    seed: &MasterSeed,
    p: &SecretPlacement,
    payload: &[u8],
) -> Result<bool, Error> {
    let prefix = format!("secret {}: ", p.index);
    let Some(hex_part) = payload.strip_prefix(prefix.as_bytes()) else {
        return Ok(false);
    };
    let Ok(found) = hex::decode(hex_part).map(Zeroizing::new) else {
        return Ok(false);
    };
    let Ok(found): Result<[u8; SECRET_LEN], _> = found.as_slice().try_into() else {
        return Ok(false);
    };
    let found = Zeroizing::new(found);
    let salt = seed.derive(label::SECRET_SALT, u64::from(p.index))?;
    Ok(ct_eq32(&secret_commitment(&salt, &found), &p.commitment))
}

/// Judges a secret claim: whether `secret` is the secret carried by message `message`.
pub fn judge(
    seed: &MasterSeed,
    placements: &[SecretPlacement],
    message: u64,
    secret: &[u8; SECRET_LEN],
) -> Result<bool, Error> {
    let Some(p) = placements.iter().find(|p| p.message == message) else {
        return Ok(false);
    };
    let salt = seed.derive(label::SECRET_SALT, u64::from(p.index))?;
    Ok(ct_eq32(&secret_commitment(&salt, secret), &p.commitment))
}
