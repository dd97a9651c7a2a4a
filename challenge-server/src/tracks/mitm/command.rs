//! The commands a claimant sends a session, their answers, and how each runs on the bots.

use core::fmt;

use serde::{Deserialize, Serialize};
use target_impl::hazmat::sha256;
use zeroize::Zeroizing;

use super::record::{Record, RecordEntry};
use super::session::{SessionState, ask_payload};
use super::{MAX_COMMAND_LEN, MAX_DELIVER_LEN, MAX_TXT_LEN, Params, label, session_seed};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::{Delivery, Outgoing, ProtocolError};
use crate::tracks::Public;
use crate::tracks::passive::CONTENT_TYPE;
use crate::tracks::sessions::IntegerParams as _;

/// One of a session's two bots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bot {
    /// The initiator: she starts the session from (what she is given as) Bob's bundle.
    Alice,
    /// The responder, whose bundle `fetch-bundle` gives.
    Bob,
}

impl Bot {
    /// Its name: in commands, in claims (`party`), and its peer id at the other bot.
    pub fn name(self) -> &'static str {
        match self {
            Bot::Alice => "alice",
            Bot::Bob => "bob",
        }
    }

    /// The bot named `name`.
    pub fn by_name(name: &str) -> Option<Self> {
        [Bot::Alice, Bot::Bob]
            .into_iter()
            .find(|b| b.name() == name)
    }

    /// The other bot.
    pub fn peer(self) -> Self {
        match self {
            Bot::Alice => Bot::Bob,
            Bot::Bob => Bot::Alice,
        }
    }
}

/// A command, as the claimant sends it: JSON with a `command` tag, bytes as lowercase hex.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Bob's bundle, to the claimant.
    FetchBundle {},
    /// Bot `from` sends the next message of the conversation to the other.
    Ask {
        /// The sender.
        from: Bot,
    },
    /// Bot `from` encrypts the claimant's plaintext to the other.
    Txt {
        /// The sender.
        from: Bot,
        /// At most [`MAX_TXT_LEN`] bytes.
        #[serde(with = "hex_bytes")]
        plaintext: Vec<u8>,
        /// The content type.
        content_type: u8,
        /// The self-destruct TTL in seconds (0: never).
        ttl: u32,
    },
    /// The claimant delivers `bytes` to bot `to` (as from the other bot).
    Deliver {
        /// The receiver.
        to: Bot,
        /// At most [`MAX_DELIVER_LEN`] bytes.
        #[serde(with = "hex_bytes")]
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::FetchBundle {} => f.write_str("FetchBundle"),
            Command::Ask { from } => write!(f, "Ask {{ from: {from:?} }}"),
            Command::Txt {
                from,
                plaintext,
                content_type,
                ttl,
            } => write!(
                f,
                "Txt {{ from: {from:?}, len: {}, content_type: {content_type}, ttl: {ttl} }}",
                plaintext.len()
            ),
            Command::Deliver { to, bytes } => {
                write!(f, "Deliver {{ to: {to:?}, len: {} }}", bytes.len())
            }
        }
    }
}

/// The field a command that failed to parse is about: the first of its fields whose value does
/// not parse on its own (serde reads the `command` tag's variant from a buffer, so its error has
/// no path), else `command` itself (not an object, a bad tag, a missing or unknown field).
fn blame(bytes: &[u8]) -> &'static str {
    type Parses = fn(serde_json::Value) -> bool;
    const FIELDS: [(&str, Parses); 6] = [
        ("from", |v| Bot::deserialize(v).is_ok()),
        ("to", |v| Bot::deserialize(v).is_ok()),
        ("plaintext", |v| hex_bytes::deserialize(v).is_ok()),
        ("bytes", |v| hex_bytes::deserialize(v).is_ok()),
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

/// `bytes` as lowercase hex, written into a buffer of its final size: every bundle, message
/// and delivery is spelled so in its record entry and its answer, and `hex::encode`, which
/// pushes one `char` at a time, cost about five times as much in the fuzz target's
/// instrumented build (a quarter of its time).
fn lower_hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len().saturating_mul(2)];
    // The buffer has the length `encode_to_slice` checks, and its digits are ASCII.
    if hex::encode_to_slice(bytes, &mut out).is_err() {
        return hex::encode(bytes);
    }
    String::from_utf8(out).unwrap_or_else(|_| hex::encode(bytes))
}

/// Bytes as lowercase hex, the only form read, so that an input has one spelling.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::lower_hex(bytes))
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

impl Command {
    /// A command from its JSON (at most [`MAX_COMMAND_LEN`] bytes); errors name the field.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CommandError> {
        if bytes.len() > MAX_COMMAND_LEN {
            return Err(CommandError::Field {
                field: "command",
                message: format!("expected at most {MAX_COMMAND_LEN} bytes of JSON"),
            });
        }
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let command = Self::deserialize(&mut de).and_then(|c| de.end().map(|()| c));
        command.map_err(|e| CommandError::Field {
            field: blame(bytes),
            message: format!(
                "expected a command (fetch-bundle, ask, txt, deliver) with its fields: {e}"
            ),
        })
    }

    /// Its name, the `command` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Command::FetchBundle {} => "fetch-bundle",
            Command::Ask { .. } => "ask",
            Command::Txt { .. } => "txt",
            Command::Deliver { .. } => "deliver",
        }
    }

    /// The command a record entry ran: its `command` and `input` put back together.
    pub fn from_entry(entry: &RecordEntry) -> Result<Self, String> {
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
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
    }

    /// Checks what only the command itself decides.
    fn check(&self) -> Result<(), CommandError> {
        match self {
            Command::Txt { plaintext, .. } if plaintext.len() > MAX_TXT_LEN => {
                Err(CommandError::Field {
                    field: "plaintext",
                    message: format!("expected at most {MAX_TXT_LEN} bytes"),
                })
            }
            Command::Deliver { bytes, .. } if bytes.len() > MAX_DELIVER_LEN => {
                Err(CommandError::Field {
                    field: "bytes",
                    message: format!("expected at most {MAX_DELIVER_LEN} bytes"),
                })
            }
            _ => Ok(()),
        }
    }
}

/// A message a bot accepted that is not one of its peer's encryptions in the session, or that
/// it had accepted before: the `forgery` win, awarded when it happens. Its plaintext is kept
/// sealed and shown after the close; it never prints.
#[derive(Clone)]
pub struct Forgery {
    /// The bot that accepted it.
    pub to: Bot,
    /// Its content type.
    pub content_type: u8,
    /// Its authenticated send time.
    pub sent_at: u64,
    /// Its TTL.
    pub ttl: u32,
    /// The plaintext the bot accepted.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Forgery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forgery")
            .field("to", &self.to)
            .field("len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// What a command yields. The claimant sees only [`Answer::public`]; a forgery is reported
/// beside an `accepted` to the caller, never in the answer or the record.
#[derive(Clone, Debug)]
pub enum Answer {
    /// `fetch-bundle`: Bob's bundle.
    Bundle(Vec<u8>),
    /// `ask`, `txt`: the message the bot sent.
    Ciphertext(Vec<u8>),
    /// `ask`, `txt` that the bot could not encrypt (the protocol's error class).
    Failed(ProtocolError),
    /// `deliver`: accepted; `win` if the acceptance is a forgery.
    Accepted {
        /// The forgery it awards, if any.
        win: Option<Forgery>,
    },
    /// `deliver`: refused, whatever check failed.
    Refused,
}

/// The public answer's JSON, in the record and to the claimant.
#[derive(Serialize)]
#[serde(untagged)]
enum PublicAnswer<'a> {
    Opened {
        alice_identity: String,
        bob_identity: String,
        secret_commitment: String,
    },
    Bundle {
        bundle: String,
    },
    Ciphertext {
        ciphertext: String,
    },
    Failed {
        error: &'a str,
    },
    Delivery {
        delivery: &'a str,
    },
}

impl Answer {
    fn to_public(&self) -> PublicAnswer<'static> {
        match self {
            Answer::Bundle(b) => PublicAnswer::Bundle {
                bundle: lower_hex(b),
            },
            Answer::Ciphertext(c) => PublicAnswer::Ciphertext {
                ciphertext: lower_hex(c),
            },
            Answer::Failed(e) => PublicAnswer::Failed { error: e.name() },
            Answer::Accepted { .. } => PublicAnswer::Delivery {
                delivery: "accepted",
            },
            Answer::Refused => PublicAnswer::Delivery {
                delivery: "refused",
            },
        }
    }

    /// What the claimant is answered, as compact JSON: `{"bundle":<hex>}`,
    /// `{"ciphertext":<hex>}`, `{"error":<class>}`, `{"delivery":"accepted"}` or
    /// `{"delivery":"refused"}`.
    pub fn public(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_public()).unwrap_or_default()
    }
}

/// A command's result: its answer and its record entry (already chained into the record).
#[derive(Debug)]
pub struct Outcome {
    /// The answer.
    pub answer: Answer,
    /// The record entry's bytes, to be stored with the new state before the answer is sent.
    pub entry: Vec<u8>,
}

/// A command refused before it reaches the bots: nothing changed, nothing recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The session's budget of this command (`asks`, `txt`, `deliver`, `fetch_bundle`) is spent.
    Budget {
        /// The budget's name, as published.
        budget: &'static str,
        /// Its size.
        limit: u64,
    },
    /// The bot cannot send yet: Alice before she was given a bundle she accepted, Bob before
    /// he accepted a message.
    NoSession {
        /// The bot.
        bot: Bot,
    },
    /// A field is malformed or out of range.
    Field {
        /// The field.
        field: &'static str,
        /// What was expected.
        message: String,
    },
    /// The session had no command for its idle expiry time.
    Expired {
        /// When it expired.
        at: u64,
    },
    /// A fault of the server (a state that does not match its record, a failed derivation).
    Internal(String),
}

impl CommandError {
    /// The request field it is about.
    pub fn field(&self) -> &'static str {
        match self {
            CommandError::Budget { budget, .. } => budget,
            CommandError::NoSession { .. } => "from",
            CommandError::Field { field, .. } => field,
            CommandError::Expired { .. } => "session",
            CommandError::Internal(_) => "",
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Budget { budget, limit } => {
                write!(f, "{budget}: the session's budget of {limit} is spent")
            }
            CommandError::NoSession { bot: Bot::Alice } => {
                f.write_str("from: alice has no session yet (deliver her a bundle of bob's first)")
            }
            CommandError::NoSession { bot: Bot::Bob } => {
                f.write_str("from: bob has no session yet (deliver him a message of alice's first)")
            }
            CommandError::Field { field, message } => write!(f, "{field}: {message}"),
            CommandError::Expired { at } => write!(f, "session: expired at {at}, idle"),
            CommandError::Internal(detail) => write!(f, "internal: {detail}"),
        }
    }
}

impl From<CommandError> for Error {
    fn from(e: CommandError) -> Self {
        let field = e.field();
        match e {
            CommandError::Field { field, message } => Error::invalid(field, message),
            CommandError::Internal(detail) => Error::internal(detail),
            other => Error::Conflict {
                field,
                message: other.to_string(),
            },
        }
    }
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError::Internal(e.to_string())
    }
}

/// The input of a record entry: the command's fields, in the order of [`Command`].
#[derive(Serialize)]
#[serde(untagged)]
enum Input<'a> {
    Open {
        claimant: &'a str,
    },
    FetchBundle {},
    Ask {
        from: Bot,
    },
    Txt {
        from: Bot,
        plaintext: String,
        content_type: u8,
        ttl: u32,
    },
    Deliver {
        to: Bot,
        bytes: String,
    },
}

impl<'a> Input<'a> {
    fn of(command: &'a Command) -> Self {
        match command {
            Command::FetchBundle {} => Input::FetchBundle {},
            Command::Ask { from } => Input::Ask { from: *from },
            Command::Txt {
                from,
                plaintext,
                content_type,
                ttl,
            } => Input::Txt {
                from: *from,
                plaintext: lower_hex(plaintext),
                content_type: *content_type,
                ttl: *ttl,
            },
            Command::Deliver { to, bytes } => Input::Deliver {
                to: *to,
                bytes: lower_hex(bytes),
            },
        }
    }
}

/// A record entry's bytes (module documentation of [`super::record`]).
fn entry(
    k: u64,
    now: u64,
    command: &str,
    input: &Input<'_>,
    answer: &PublicAnswer<'_>,
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        k: u64,
        now: u64,
        command: &'a str,
        input: &'a Input<'a>,
        answer: &'a PublicAnswer<'a>,
    }
    serde_json::to_vec(&Entry {
        k,
        now,
        command,
        input,
        answer,
    })
}

/// Entry 0 of a session's record: the open, by `claimant` at `now`, answered with the bots'
/// public identities and the secret's commitment.
pub(super) fn open_entry(
    now: u64,
    claimant: &str,
    alice_identity: &[u8],
    bob_identity: &[u8],
    commitment: &[u8; 32],
) -> Result<Vec<u8>, serde_json::Error> {
    entry(
        0,
        now,
        "open",
        &Input::Open { claimant },
        &PublicAnswer::Opened {
            alice_identity: hex::encode(alice_identity),
            bob_identity: hex::encode(bob_identity),
            secret_commitment: hex::encode(commitment),
        },
    )
}

/// Runs `input` on the session at `now` (module documentation of [`super`]): first every
/// check that reads only public state, then the bots, with the randomness of
/// `rng("command", k)` under the session's seed, `k` the new entry's index.
pub(super) fn run(
    seed: &MasterSeed,
    public: &Public,
    state: &mut SessionState,
    record: &mut Record,
    now: u64,
    input: &Command,
) -> Result<Outcome, CommandError> {
    let params = Params::from_fields(&public.params)?;
    if record.len != state.entries {
        return Err(CommandError::Internal(format!(
            "session {}: the state has {} entries, the record {}",
            state.session, state.entries, record.len
        )));
    }
    let expires = state.last_at.saturating_add(params.idle_expiry_secs);
    if now >= expires {
        return Err(CommandError::Expired { at: expires });
    }
    input.check()?;
    let (budget, used) = match input {
        Command::FetchBundle {} => ("fetch_bundle", state.used.fetch_bundle),
        Command::Ask { .. } => ("asks", state.used.asks),
        Command::Txt { .. } => ("txt", state.used.txt),
        Command::Deliver { .. } => ("deliver", state.used.deliver),
    };
    let limit = params.budget(budget);
    if used >= limit {
        return Err(CommandError::Budget { budget, limit });
    }
    if let Command::Ask { from } | Command::Txt { from, .. } = input
        && !state.bot_mut(*from).started
    {
        return Err(CommandError::NoSession { bot: *from });
    }
    let sub = session_seed(seed, state.session)?;
    let k = record.len;
    let mut rng = sub.rng(label::COMMAND, k)?;
    let answer = match input {
        Command::FetchBundle {} => {
            let bundle = state.bob.device.bundle()?;
            state.used.fetch_bundle += 1;
            Answer::Bundle(bundle)
        }
        Command::Ask { from } => {
            let payload = ask_payload(&sub, state.used.asks)?;
            state.used.asks += 1;
            let message = Outgoing {
                content_type: CONTENT_TYPE,
                ttl: 0,
                payload: &payload,
            };
            send(state, *from, &message, now, &mut rng)
        }
        Command::Txt {
            from,
            plaintext,
            content_type,
            ttl,
        } => {
            state.used.txt += 1;
            let message = Outgoing {
                content_type: *content_type,
                ttl: *ttl,
                payload: plaintext,
            };
            send(state, *from, &message, now, &mut rng)
        }
        Command::Deliver { to, bytes } => {
            state.used.deliver += 1;
            deliver(state, *to, bytes, now, &mut rng)
        }
    };
    let bytes = entry(k, now, input.name(), &Input::of(input), &answer.to_public())
        .map_err(|e| CommandError::Internal(e.to_string()))?;
    record.append(&bytes);
    state.entries = record.len;
    state.last_at = now;
    Ok(Outcome {
        answer,
        entry: bytes,
    })
}

fn send(
    state: &mut SessionState,
    from: Bot,
    message: &Outgoing<'_>,
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Answer {
    let sender = state.bot_mut(from);
    match sender.device.encrypt(from.peer().name(), message, now, rng) {
        Ok(bytes) => {
            sender.sent.insert(sha256(&[&bytes]));
            Answer::Ciphertext(bytes)
        }
        Err(e) => Answer::Failed(e),
    }
}

/// The validity oracle. Alice before her session takes the bytes as Bob's bundle, judged only
/// against Bob's published identity (so dropping its one-time prekeys is no forgery); every
/// other delivery is a decryption at `now`. Every refusal is the same answer, the device
/// changed exactly as the target changes it (only an expired message's key is gone).
fn deliver(
    state: &mut SessionState,
    to: Bot,
    bytes: &[u8],
    now: u64,
    rng: &mut dyn rand_core::CryptoRng,
) -> Answer {
    let (receiver, sender) = state.pair_mut(to);
    let from = to.peer().name();
    if to == Bot::Alice && !receiver.started {
        let expected = sender.device.public_identity();
        return match receiver.device.initiate(from, bytes, &expected, rng) {
            Ok(()) => {
                receiver.started = true;
                Answer::Accepted { win: None }
            }
            Err(_) => Answer::Refused,
        };
    }
    match receiver.device.decrypt(from, bytes, now) {
        Ok(Delivery::Message(m)) => {
            let digest = sha256(&[bytes]);
            let first = receiver.accepted.insert(digest);
            let forged = !first || !sender.sent.contains(&digest);
            receiver.started = true;
            Answer::Accepted {
                win: forged.then(|| Forgery {
                    to,
                    content_type: m.content_type,
                    sent_at: m.sent_at,
                    ttl: m.ttl,
                    plaintext: m.payload,
                }),
            }
        }
        Ok(Delivery::IdentityChanged { .. }) | Err(_) => Answer::Refused,
    }
}
