//! One game: its two bots and counters ([`GameState`]), its commands and answers, its opening,
//! and its replay from the seed and the recorded inputs.

use core::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::threshold;
use super::{
    MAX_COMMAND_LEN, MAX_DECRYPT_LEN, MAX_DEVICE_STATE_LEN, MAX_PLAINTEXT_LEN, Params,
    RECORD_LABEL, game_seed, label,
};
use crate::Error;
use crate::seed::{self, MasterSeed};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, Target, TargetDevice};
use crate::tracks::passive::CONTENT_TYPE;
use crate::tracks::sessions::IntegerParams as _;
use crate::tracks::{Public, Record, RecordEntry, TrackFields};

/// Version of [`GameState::to_bytes`].
const STATE_VERSION: u8 = 1;

/// The plaintext of the two messages that set the session up at the open.
const HELLO: &[u8] = b"hello";

/// One of a game's two bots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bot {
    /// The initiator.
    Alice,
    /// The responder.
    Bob,
}

impl Bot {
    /// Its name, and its peer id at the other bot.
    pub fn name(self) -> &'static str {
        match self {
            Bot::Alice => "alice",
            Bot::Bob => "bob",
        }
    }

    /// The other bot.
    pub fn peer(self) -> Self {
        match self {
            Bot::Alice => Bot::Bob,
            Bot::Bob => Bot::Alice,
        }
    }
}

/// Bytes as lowercase hex, the only form read.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(serde::de::Error::custom("expected lowercase hex digits"));
        }
        hex::decode(&text)
            .map_err(|_| serde::de::Error::custom("expected an even number of hex digits"))
    }
}

/// A command, as the claimant sends it: JSON with a `command` tag, bytes as lowercase hex.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Round `i`: bot `from` encrypts `m_b` to the other (`b` the round's bit).
    Challenge {
        /// The sender.
        from: Bot,
        /// The left message, at most [`MAX_PLAINTEXT_LEN`] bytes.
        #[serde(with = "hex_bytes")]
        m0: Vec<u8>,
        /// The right message, as long as `m0`.
        #[serde(with = "hex_bytes")]
        m1: Vec<u8>,
        /// The content type of both.
        content_type: u8,
        /// The TTL of both.
        ttl: u32,
    },
    /// Bot `from` encrypts the claimant's plaintext to the other (not delivered).
    Encrypt {
        /// The sender.
        from: Bot,
        /// At most [`MAX_PLAINTEXT_LEN`] bytes.
        #[serde(with = "hex_bytes")]
        plaintext: Vec<u8>,
        /// The content type.
        content_type: u8,
        /// The TTL.
        ttl: u32,
    },
    /// Bot `to` decrypts `bytes` (as from the other) on its live state.
    Decrypt {
        /// The receiver.
        to: Bot,
        /// At most [`MAX_DECRYPT_LEN`] bytes.
        #[serde(with = "hex_bytes")]
        bytes: Vec<u8>,
    },
    /// The claimant's guess of every round's bit, once: bit `i` is bit `7 - i mod 8` of byte
    /// `i / 8` (the first round the most significant bit), `ceil(n / 8)` bytes for `n` rounds
    /// played, the unused low bits of the last byte zero.
    Guess {
        /// The bits, hex.
        #[serde(with = "hex_bytes")]
        bits: Vec<u8>,
    },
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Challenge { from, m0, .. } => {
                write!(f, "Challenge {{ from: {from:?}, len: {} }}", m0.len())
            }
            Command::Encrypt {
                from, plaintext, ..
            } => {
                write!(f, "Encrypt {{ from: {from:?}, len: {} }}", plaintext.len())
            }
            Command::Decrypt { to, bytes } => {
                write!(f, "Decrypt {{ to: {to:?}, len: {} }}", bytes.len())
            }
            Command::Guess { bits } => write!(f, "Guess {{ bytes: {} }}", bits.len()),
        }
    }
}

/// The field a command that failed to parse is about (as the mitm commands name it): the first
/// field whose value does not parse on its own, else `command`.
fn blame(bytes: &[u8]) -> &'static str {
    type Parses = fn(serde_json::Value) -> bool;
    const FIELDS: [(&str, Parses); 9] = [
        ("from", |v| Bot::deserialize(v).is_ok()),
        ("to", |v| Bot::deserialize(v).is_ok()),
        ("m0", |v| hex_bytes::deserialize(v).is_ok()),
        ("m1", |v| hex_bytes::deserialize(v).is_ok()),
        ("plaintext", |v| hex_bytes::deserialize(v).is_ok()),
        ("bytes", |v| hex_bytes::deserialize(v).is_ok()),
        ("bits", |v| hex_bytes::deserialize(v).is_ok()),
        ("content_type", |v| u8::deserialize(v).is_ok()),
        ("ttl", |v| u32::deserialize(v).is_ok()),
    ];
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(bytes) else {
        return "command";
    };
    FIELDS
        .iter()
        .find(|(name, parses)| fields.get(*name).is_some_and(|v| !parses(v.clone())))
        .map_or("command", |(name, _)| name)
}

impl Command {
    /// A command from its JSON (at most [`MAX_COMMAND_LEN`] bytes), its lengths checked
    /// against their caps; errors name the field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_COMMAND_LEN {
            return Err(Error::invalid(
                "command",
                format!("expected at most {MAX_COMMAND_LEN} bytes of JSON"),
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let command = Self::deserialize(&mut de)
            .and_then(|c| de.end().map(|()| c))
            .map_err(|e| {
                Error::invalid(
                    blame(bytes),
                    format!(
                        "expected a command (challenge, encrypt, decrypt, guess) with its \
                         fields: {e}"
                    ),
                )
            })?;
        command.check()?;
        Ok(command)
    }

    /// Its name, the `command` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Challenge { .. } => "challenge",
            Command::Encrypt { .. } => "encrypt",
            Command::Decrypt { .. } => "decrypt",
            Command::Guess { .. } => "guess",
        }
    }

    fn check(&self) -> Result<(), Error> {
        let too_long = |field: &str, cap: usize| {
            Err(Error::invalid(
                field,
                format!("expected at most {cap} bytes"),
            ))
        };
        match self {
            Command::Challenge { m0, .. } if m0.len() > MAX_PLAINTEXT_LEN => {
                too_long("m0", MAX_PLAINTEXT_LEN)
            }
            Command::Challenge { m0, m1, .. } if m1.len() != m0.len() => Err(Error::invalid(
                "m1",
                format!("expected as many bytes as m0 ({})", m0.len()),
            )),
            Command::Encrypt { plaintext, .. } if plaintext.len() > MAX_PLAINTEXT_LEN => {
                too_long("plaintext", MAX_PLAINTEXT_LEN)
            }
            Command::Decrypt { bytes, .. } if bytes.len() > MAX_DECRYPT_LEN => {
                too_long("bytes", MAX_DECRYPT_LEN)
            }
            _ => Ok(()),
        }
    }

    /// The command a record entry ran: its `command` and `input` put back together.
    fn from_entry(entry: &RecordEntry) -> Result<Self, String> {
        let serde_json::Value::Object(mut fields) = entry.input.clone() else {
            return Err("not an object".to_owned());
        };
        if fields.contains_key("command") {
            return Err("a field named command".to_owned());
        }
        fields.insert(
            "command".to_owned(),
            serde_json::Value::String(entry.command.clone()),
        );
        let bytes =
            serde_json::to_vec(&serde_json::Value::Object(fields)).map_err(|e| e.to_string())?;
        Self::from_json(&bytes).map_err(|e| e.to_string())
    }
}

/// The input of a record entry: the command's fields, in the order of [`Command`].
#[derive(Serialize)]
#[serde(untagged)]
enum Input<'a> {
    Open {
        claimant: &'a str,
    },
    Challenge {
        from: Bot,
        m0: String,
        m1: String,
        content_type: u8,
        ttl: u32,
    },
    Encrypt {
        from: Bot,
        plaintext: String,
        content_type: u8,
        ttl: u32,
    },
    Decrypt {
        to: Bot,
        bytes: String,
    },
    Guess {
        bits: String,
    },
}

impl<'a> Input<'a> {
    fn of(command: &'a Command) -> Self {
        match command {
            Command::Challenge {
                from,
                m0,
                m1,
                content_type,
                ttl,
            } => Input::Challenge {
                from: *from,
                m0: hex::encode(m0),
                m1: hex::encode(m1),
                content_type: *content_type,
                ttl: *ttl,
            },
            Command::Encrypt {
                from,
                plaintext,
                content_type,
                ttl,
            } => Input::Encrypt {
                from: *from,
                plaintext: hex::encode(plaintext),
                content_type: *content_type,
                ttl: *ttl,
            },
            Command::Decrypt { to, bytes } => Input::Decrypt {
                to: *to,
                bytes: hex::encode(bytes),
            },
            Command::Guess { bits } => Input::Guess {
                bits: hex::encode(bits),
            },
        }
    }
}

/// The public answer, in the record and to the claimant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The open: the bots' public identities, hex.
    Opened {
        /// Alice's.
        alice_identity: String,
        /// Bob's.
        bob_identity: String,
    },
    /// `challenge`: round `round`'s ciphertext, hex.
    Challenge {
        /// The round (0 first).
        round: u64,
        /// The ciphertext.
        ciphertext: String,
    },
    /// `encrypt`: the ciphertext, hex.
    Ciphertext {
        /// The ciphertext.
        ciphertext: String,
    },
    /// `challenge` or `encrypt` that the bot could not encrypt (the protocol's error class).
    Failed {
        /// The class.
        error: &'static str,
    },
    /// `decrypt`: the message.
    Plaintext {
        /// Its plaintext, hex.
        plaintext: String,
        /// Its content type.
        content_type: u8,
        /// Its authenticated send time.
        sent_at: u64,
        /// Its TTL.
        ttl: u32,
    },
    /// `decrypt`: `refused` (every refusal alike) or `challenge` (the pending challenge
    /// ciphertext, now delivered).
    Decryption {
        /// `refused` or `challenge`.
        decryption: &'static str,
    },
    /// `guess`: the judgement.
    Judged {
        /// Rounds played.
        rounds: u64,
        /// Correct guesses.
        correct: u64,
        /// The fewest correct guesses that win at these rounds (none: too few rounds).
        min_correct: Option<u64>,
        /// Whether the guesses win.
        won: bool,
    },
}

/// The evidence of an `ind-cca` win: the judgement and the round bits it was judged against.
#[derive(Serialize)]
struct Evidence {
    rounds: u64,
    correct: u64,
    min_correct: Option<u64>,
    games_cap: u64,
    round_bits: String,
}

/// A command's result, for [`super::IndCca`]'s [`crate::tracks::Sessions`].
#[derive(Debug)]
pub struct Outcome {
    /// The public answer.
    pub answer: Answer,
    /// The record entry's bytes (already chained into the record).
    pub entry: Vec<u8>,
    /// The evidence of the win the command judged, if it won.
    pub win: Option<Zeroizing<Vec<u8>>>,
}

/// A game between commands: both bots' devices, the pending challenge ciphertext of each
/// direction and every counter. Stored sealed ([`GameState::to_bytes`]).
pub struct GameState {
    game: u64,
    entries: u64,
    last_at: u64,
    rounds: u64,
    oracle_calls: u64,
    over: bool,
    alice: Box<dyn TargetDevice>,
    bob: Box<dyn TargetDevice>,
    /// The challenge ciphertext from Alice not yet delivered to Bob.
    to_bob: Option<Vec<u8>>,
    /// The challenge ciphertext from Bob not yet delivered to Alice.
    to_alice: Option<Vec<u8>>,
}

impl fmt::Debug for GameState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GameState")
            .field("game", &self.game)
            .field("entries", &self.entries)
            .field("rounds", &self.rounds)
            .field("oracle_calls", &self.oracle_calls)
            .field("over", &self.over)
            .finish_non_exhaustive()
    }
}

impl GameState {
    /// The game's number.
    pub fn game(&self) -> u64 {
        self.game
    }

    /// Entries in its record.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Whether its guess was judged.
    pub fn over(&self) -> bool {
        self.over
    }

    /// A copy, each device duplicated.
    pub fn duplicate(&self) -> Self {
        Self {
            game: self.game,
            entries: self.entries,
            last_at: self.last_at,
            rounds: self.rounds,
            oracle_calls: self.oracle_calls,
            over: self.over,
            alice: self.alice.duplicate(),
            bob: self.bob.duplicate(),
            to_bob: self.to_bob.clone(),
            to_alice: self.to_alice.clone(),
        }
    }

    /// The state's bytes: version 1, `u64be` game, entries, last time, rounds, oracle calls,
    /// an over flag; per bot (Alice, Bob) a `u32be`-length-prefixed device state; per
    /// direction (to Bob, to Alice) a flag and, if set, a length-prefixed pending ciphertext.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![STATE_VERSION]);
        for v in [
            self.game,
            self.entries,
            self.last_at,
            self.rounds,
            self.oracle_calls,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.push(u8::from(self.over));
        for device in [&self.alice, &self.bob] {
            put_lv(&mut out, &device.state());
        }
        for pending in [&self.to_bob, &self.to_alice] {
            match pending {
                None => out.push(0),
                Some(bytes) => {
                    out.push(1);
                    put_lv(&mut out, bytes);
                }
            }
        }
        out
    }

    /// A state from [`Self::to_bytes`], its devices restored by `target`; every length is
    /// checked against its cap.
    pub fn from_bytes(target: &dyn Target, bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader(bytes);
        if r.take(1)? != [STATE_VERSION] {
            return Err("unknown game state version".to_owned());
        }
        let (game, entries, last_at, rounds, oracle_calls) =
            (r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?);
        let over = r.flag()?;
        let mut device = || -> Result<Box<dyn TargetDevice>, String> {
            let state = r.lv(MAX_DEVICE_STATE_LEN)?;
            target.restore(state).map_err(|e| format!("device: {e}"))
        };
        let alice = device()?;
        let bob = device()?;
        let mut pending = || -> Result<Option<Vec<u8>>, String> {
            Ok(if r.flag()? {
                Some(r.lv(MAX_DECRYPT_LEN)?.to_vec())
            } else {
                None
            })
        };
        let to_bob = pending()?;
        let to_alice = pending()?;
        if !r.0.is_empty() {
            return Err("game state has trailing bytes".to_owned());
        }
        Ok(Self {
            game,
            entries,
            last_at,
            rounds,
            oracle_calls,
            over,
            alice,
            bob,
            to_bob,
            to_alice,
        })
    }

    fn device(&mut self, bot: Bot) -> &mut Box<dyn TargetDevice> {
        match bot {
            Bot::Alice => &mut self.alice,
            Bot::Bob => &mut self.bob,
        }
    }

    /// The pending challenge ciphertext to `to`.
    fn pending(&mut self, to: Bot) -> &mut Option<Vec<u8>> {
        match to {
            Bot::Alice => &mut self.to_alice,
            Bot::Bob => &mut self.to_bob,
        }
    }

    /// Delivers the pending challenge ciphertext to `to`, if any, at `now`: the receiver
    /// decrypts it, and its plaintext is dropped (a refusal, such as an expired TTL, too).
    fn deliver_pending(&mut self, to: Bot, now: u64) {
        if let Some(bytes) = self.pending(to).take() {
            let _ = self.device(to).decrypt(to.peer().name(), &bytes, now);
        }
    }
}

fn put_lv(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every length is capped far below 4 GiB.
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, rest) = self.0.split_at_checked(n).ok_or("game state truncated")?;
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b: [u8; 8] = self
            .take(8)?
            .try_into()
            .map_err(|_| "game state truncated")?;
        Ok(u64::from_be_bytes(b))
    }

    fn flag(&mut self) -> Result<bool, String> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err("game state flag out of range".to_owned()),
        }
    }

    fn lv(&mut self, cap: usize) -> Result<&'a [u8], String> {
        let b: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| "game state truncated")?;
        let len = usize::try_from(u32::from_be_bytes(b)).map_err(|_| "game state: too long")?;
        if len > cap {
            return Err("game state: a field over its cap".to_owned());
        }
        self.take(len)
    }
}

/// A record entry's bytes ([`crate::tracks::record`]).
fn entry<I: Serialize>(
    k: u64,
    now: u64,
    command: &str,
    input: &I,
    answer: &Answer,
) -> Result<Vec<u8>, Error> {
    #[derive(Serialize)]
    struct Entry<'a, I> {
        k: u64,
        now: u64,
        command: &'a str,
        input: &'a I,
        answer: &'a Answer,
    }
    Ok(serde_json::to_vec(&Entry {
        k,
        now,
        command,
        input,
        answer,
    })?)
}

/// A game just opened.
pub struct Opened {
    /// Its state.
    pub state: GameState,
    /// Its published fields: `session`, `alice_identity`, `bob_identity`.
    pub public: TrackFields,
    /// Its record after entry 0.
    pub record: Record,
    /// Entry 0's bytes.
    pub entry: Vec<u8>,
}

/// Bot `bot` of the game whose own seed is `sub`: Alice from `party/alice`, Bob from
/// `party/bob` with one one-time X25519 and one one-time ML-KEM prekey.
fn bot(target: &dyn Target, sub: &MasterSeed, bot: Bot) -> Result<Box<dyn TargetDevice>, Error> {
    match bot {
        Bot::Alice => target.generate(
            &mut sub.rng(seed::label::ALICE, 0)?,
            OneTimePrekeys::default(),
        ),
        Bot::Bob => target.generate(
            &mut sub.rng(seed::label::BOB, 0)?,
            OneTimePrekeys { x25519: 1, kem: 1 },
        ),
    }
}

/// Opens game `g`: both bots from the game's seed, each pinned to the other's identity, and
/// the session set up in both directions with the randomness of entry 0 (Alice starts from
/// Bob's bundle and sends `hello`, Bob decrypts it and answers `hello`, Alice decrypts that).
#[allow(clippy::too_many_arguments)]
pub(super) fn open(
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    challenge: &str,
    g: u64,
    claimant: &str,
    now: u64,
) -> Result<Opened, Error> {
    let params = Params::from_fields(&public.params)?;
    if g >= params.max_games {
        return Err(Error::Conflict {
            field: "session",
            message: format!("this challenge takes at most {} games", params.max_games),
        });
    }
    if !crate::claims::is_claimant(claimant) {
        return Err(Error::invalid(
            "claimant",
            "expected 1 to 64 characters of A-Z a-z 0-9 . _ - @",
        ));
    }
    let sub = game_seed(seed, g)?;
    let mut alice = bot(target, &sub, Bot::Alice)?;
    let mut bob = bot(target, &sub, Bot::Bob)?;
    let (alice_identity, bob_identity) = (alice.public_identity(), bob.public_identity());
    alice.pin_identity(Bot::Bob.name(), &bob_identity)?;
    bob.pin_identity(Bot::Alice.name(), &alice_identity)?;
    let mut rng = sub.rng(label::COMMAND, 0)?;
    alice.initiate(Bot::Bob.name(), &bob.bundle()?, &bob_identity, &mut rng)?;
    let hello = Outgoing {
        content_type: CONTENT_TYPE,
        ttl: 0,
        payload: HELLO,
    };
    let first = alice.encrypt(Bot::Bob.name(), &hello, now, &mut rng)?;
    let Delivery::Message(_) = bob.decrypt(Bot::Alice.name(), &first, now)? else {
        return Err(Error::internal("the game's first message is refused"));
    };
    let reply = bob.encrypt(Bot::Alice.name(), &hello, now, &mut rng)?;
    let Delivery::Message(_) = alice.decrypt(Bot::Bob.name(), &reply, now)? else {
        return Err(Error::internal("the game's second message is refused"));
    };
    let answer = Answer::Opened {
        alice_identity: hex::encode(&alice_identity),
        bob_identity: hex::encode(&bob_identity),
    };
    let bytes = entry(0, now, "open", &Input::Open { claimant }, &answer)?;
    let mut record = Record::start(RECORD_LABEL, challenge, g);
    record.append(&bytes);
    let fields = TrackFields(vec![
        ("session".to_owned(), serde_json::Value::from(g)),
        (
            "alice_identity".to_owned(),
            serde_json::Value::from(hex::encode(&alice_identity)),
        ),
        (
            "bob_identity".to_owned(),
            serde_json::Value::from(hex::encode(&bob_identity)),
        ),
    ]);
    Ok(Opened {
        state: GameState {
            game: g,
            entries: 1,
            last_at: now,
            rounds: 0,
            oracle_calls: 0,
            over: false,
            alice,
            bob,
            to_bob: None,
            to_alice: None,
        },
        public: fields,
        record,
        entry: bytes,
    })
}

/// Round `i`'s bit: `derive("bit", i)` under the game's seed, modulo 2.
pub fn round_bit(sub: &MasterSeed, i: u64) -> Result<bool, Error> {
    Ok(sub.derive_index(label::BIT, i, 2)? == 1)
}

/// Bit `i` of a guess (module documentation of [`Command::Guess`]).
fn guess_bit(bits: &[u8], i: u64) -> bool {
    let byte = usize::try_from(i / 8)
        .ok()
        .and_then(|at| bits.get(at))
        .copied()
        .unwrap_or(0);
    (byte >> (7 - i % 8)) & 1 == 1
}

/// Runs `input` on the game at `now`: first every check that reads only public state (an
/// error changes and records nothing), then the bots, with the randomness of
/// `rng("command", k)` under the game's seed.
pub(super) fn run(
    seed: &MasterSeed,
    public: &Public,
    state: &mut GameState,
    record: &mut Record,
    now: u64,
    input: &Command,
) -> Result<Outcome, Error> {
    let params = Params::from_fields(&public.params)?;
    if record.len != state.entries {
        return Err(Error::internal(format!(
            "game {}: the state has {} entries, the record {}",
            state.game, state.entries, record.len
        )));
    }
    if state.over {
        return Err(Error::Conflict {
            field: "session",
            message: "the game is over: its guess was judged".to_owned(),
        });
    }
    let expires = state.last_at.saturating_add(params.idle_expiry_secs);
    if now >= expires {
        return Err(Error::Conflict {
            field: "session",
            message: format!("session: expired at {expires}, idle"),
        });
    }
    match input {
        Command::Challenge { .. } if state.rounds >= params.rounds => {
            return Err(budget("rounds", params.rounds));
        }
        Command::Encrypt { .. } | Command::Decrypt { .. }
            if state.oracle_calls >= params.oracle_calls =>
        {
            return Err(budget("oracle_calls", params.oracle_calls));
        }
        Command::Guess { .. } if state.rounds == 0 => {
            return Err(Error::Conflict {
                field: "bits",
                message: "no round played yet: nothing to guess".to_owned(),
            });
        }
        Command::Guess { bits } => check_bits(bits, state.rounds)?,
        _ => {}
    }
    let sub = game_seed(seed, state.game)?;
    let k = record.len;
    let mut rng = sub.rng(label::COMMAND, k)?;
    let mut win = None;
    let answer = match input {
        Command::Challenge {
            from,
            m0,
            m1,
            content_type,
            ttl,
        } => {
            let round = state.rounds;
            state.rounds += 1;
            let to = from.peer();
            state.deliver_pending(to, now);
            let message = Outgoing {
                content_type: *content_type,
                ttl: *ttl,
                payload: if round_bit(&sub, round)? { m1 } else { m0 },
            };
            match state
                .device(*from)
                .encrypt(to.name(), &message, now, &mut rng)
            {
                Ok(c) => {
                    let ciphertext = hex::encode(&c);
                    *state.pending(to) = Some(c);
                    Answer::Challenge { round, ciphertext }
                }
                Err(e) => Answer::Failed { error: e.name() },
            }
        }
        Command::Encrypt {
            from,
            plaintext,
            content_type,
            ttl,
        } => {
            state.oracle_calls += 1;
            let message = Outgoing {
                content_type: *content_type,
                ttl: *ttl,
                payload: plaintext,
            };
            match state
                .device(*from)
                .encrypt(from.peer().name(), &message, now, &mut rng)
            {
                Ok(c) => Answer::Ciphertext {
                    ciphertext: hex::encode(&c),
                },
                Err(e) => Answer::Failed { error: e.name() },
            }
        }
        Command::Decrypt { to, bytes } => {
            state.oracle_calls += 1;
            decrypt(state, *to, bytes, now)
        }
        Command::Guess { bits } => {
            state.deliver_pending(Bot::Alice, now);
            state.deliver_pending(Bot::Bob, now);
            state.over = true;
            let rounds = state.rounds;
            let mut correct = 0u64;
            let mut actual = vec![0u8; usize::try_from(rounds.div_ceil(8)).unwrap_or(0)];
            for i in 0..rounds {
                let b = round_bit(&sub, i)?;
                if b == guess_bit(bits, i) {
                    correct += 1;
                }
                if b && let Some(byte) = usize::try_from(i / 8)
                    .ok()
                    .and_then(|at| actual.get_mut(at))
                {
                    *byte |= 0x80 >> (i % 8);
                }
            }
            let judged = |e: threshold::ThresholdError| Error::internal(format!("judge: {e}"));
            let min_correct = threshold::min_correct(rounds, params.max_games).map_err(judged)?;
            let won = threshold::wins(correct, rounds, params.max_games).map_err(judged)?;
            if won {
                win = Some(Zeroizing::new(serde_json::to_vec(&Evidence {
                    rounds,
                    correct,
                    min_correct,
                    games_cap: params.max_games,
                    round_bits: hex::encode(&actual),
                })?));
            }
            Answer::Judged {
                rounds,
                correct,
                min_correct,
                won,
            }
        }
    };
    let bytes = entry(k, now, input.name(), &Input::of(input), &answer)?;
    record.append(&bytes);
    state.entries = record.len;
    state.last_at = now;
    Ok(Outcome {
        answer,
        entry: bytes,
        win,
    })
}

fn budget(name: &'static str, limit: u64) -> Error {
    Error::Conflict {
        field: name,
        message: format!("{name}: the game's budget of {limit} is spent"),
    }
}

/// A guess has one bit per round played, no more.
fn check_bits(bits: &[u8], rounds: u64) -> Result<(), Error> {
    let want = rounds.div_ceil(8);
    let spare = (want * 8 - rounds) as u32;
    let last_ok = bits
        .last()
        .is_none_or(|b| spare == 0 || b & ((1u8 << spare) - 1) == 0);
    if bits.len() as u64 != want || !last_ok {
        return Err(Error::invalid(
            "bits",
            format!(
                "expected {want} bytes (hex): one bit per round played ({rounds}), first round \
                 the most significant bit, the unused low bits zero"
            ),
        ));
    }
    Ok(())
}

/// The decryption oracle: the pending challenge ciphertext to `to` (exact bytes) is delivered
/// and answered `challenge`; anything else is decrypted on `to`'s live state, its plaintext
/// answered or `refused` (every refusal alike).
fn decrypt(state: &mut GameState, to: Bot, bytes: &[u8], now: u64) -> Answer {
    if state.pending(to).as_deref() == Some(bytes) {
        state.deliver_pending(to, now);
        return Answer::Decryption {
            decryption: "challenge",
        };
    }
    match state.device(to).decrypt(to.peer().name(), bytes, now) {
        Ok(Delivery::Message(m)) => Answer::Plaintext {
            plaintext: hex::encode(m.payload.as_slice()),
            content_type: m.content_type,
            sent_at: m.sent_at,
            ttl: m.ttl,
        },
        Ok(Delivery::IdentityChanged { .. }) | Err(_) => Answer::Decryption {
            decryption: "refused",
        },
    }
}

/// A win a replay re-judged.
#[derive(Debug)]
pub(super) struct ReplayedWin {
    /// The entry.
    pub(super) k: u64,
    /// The head after it.
    pub(super) head: [u8; 32],
    /// Its evidence.
    pub(super) evidence: Zeroizing<Vec<u8>>,
}

/// Replays game `g` of `challenge` from the seed and the recorded entries: entry 0 opens the
/// game again with its claimant and time, every later one runs its command again at its time,
/// each regenerated entry must equal the recorded bytes, and the chain must end at `head`.
#[allow(clippy::too_many_arguments)]
pub(super) fn replay(
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    challenge: &str,
    g: u64,
    entries: &[Vec<u8>],
    head: &[u8; 32],
) -> Result<(u64, [u8; 32], Vec<ReplayedWin>), String> {
    let params = Params::from_fields(&public.params).map_err(|e| format!("params: {e}"))?;
    if entries.len() as u64 > params.max_entries() {
        return Err(format!(
            "record: {} entries, more than the budgets allow",
            entries.len()
        ));
    }
    let (first, rest) = entries
        .split_first()
        .ok_or("record: no entry 0 (the open)")?;
    let open_entry = RecordEntry::from_bytes(first).map_err(|e| format!("record entry 0: {e}"))?;
    let claimant = match (open_entry.command.as_str(), &open_entry.input) {
        ("open", serde_json::Value::Object(input)) => input
            .get("claimant")
            .and_then(|c| c.as_str())
            .ok_or("record entry 0: no claimant")?
            .to_owned(),
        _ => return Err("record entry 0: not the open".to_owned()),
    };
    let Opened {
        mut state,
        mut record,
        entry,
        ..
    } = open(
        target,
        seed,
        public,
        challenge,
        g,
        &claimant,
        open_entry.now,
    )
    .map_err(|e| format!("record entry 0: open: {e}"))?;
    if entry != *first {
        return Err("record entry 0: differs from the regeneration".to_owned());
    }
    let mut wins = Vec::new();
    for (k, bytes) in (1u64..).zip(rest) {
        let e = RecordEntry::from_bytes(bytes).map_err(|err| format!("record entry {k}: {err}"))?;
        let input =
            Command::from_entry(&e).map_err(|err| format!("record entry {k}: input: {err}"))?;
        let outcome = run(seed, public, &mut state, &mut record, e.now, &input)
            .map_err(|err| format!("record entry {k}: the command is refused: {err}"))?;
        if outcome.entry != *bytes {
            return Err(format!("record entry {k}: differs from the regeneration"));
        }
        if let Some(evidence) = outcome.win {
            wins.push(ReplayedWin {
                k,
                head: record.head,
                evidence,
            });
        }
    }
    if record.head != *head {
        return Err(format!(
            "record: the head of its {} entries is {}, not the logged {}",
            record.len,
            hex::encode(record.head),
            hex::encode(head)
        ));
    }
    Ok((record.len, record.head, wins))
}
