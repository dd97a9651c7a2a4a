//! The seizure track's schedule builder and its protected-message rule.
//!
//! A schedule is a pure function of the published parameters (`schedule.messages`,
//! `params.seize_at`, `params.seized`), so the operator, the challenge page and `verify` know
//! before any traffic who sends each message and which messages are protected.
//!
//! Transcript entry 0 is Bob's bundle, entry `seize_at` is the seizure (the seized party's whole
//! device state), every other entry `1..=messages` is a message. The builder fixes:
//!
//! - message `seize_at - 1`: the peer's message to the seized party, the first of the peer's
//!   new chain (message `seize_at - 2` is the seized party's, or `seize_at - 1` is the initial
//!   message), so that at the seizure the seized party's sending step is pending;
//! - message `seize_at + 1`: the peer again, in the same chain (readable by design);
//! - messages `seize_at + 2` and `seize_at + 3`: the healing round trip, the seized party's
//!   first chain under a ratchet key drawn after the seizure, then the peer's reply;
//! - at least one message after them.
//!
//! Every other message follows a fixed pattern: senders alternate every two messages, Alice
//! first (Alice sends messages 1 and 2, Bob 3 and 4, ...).
//!
//! The rule ([`Plan::protection`]) is computed from a model of what the seized state holds
//! (DESIGN section 4, item 3): before the seizure every message key was deleted once used, the
//! chain and root keys are one-way past them, and the initial chain's PQXDH used one-time
//! prekeys that the responder deleted on receipt; after the seizure a chain is readable exactly
//! when its root key follows from the seized root key through DHs whose private half the seized
//! state holds (the seized party's current ratchet key), and protected once a DH of two keys
//! outside the state (the seized party's first ratchet key drawn after the seizure, and the
//! peer's) enters it.

use serde_json::{Value, json};

use super::super::conversation::{ALICE, BOB, Direction};
use super::super::{SecretPlacement, TrackFields};
use crate::Error;
use crate::seed::{MasterSeed, label};

/// Most messages (transcript entries after the bundle, the seizure entry included) in one
/// seizure schedule: the solver restores the seized state once per earlier message, and the
/// published protection list names every message.
pub const MAX_MESSAGES: u64 = 1_000;

/// Entries that must follow the seizure: the readable message, the healing round trip and at
/// least one more message.
pub const AFTER_SEIZURE: u64 = 4;

/// The seized party by default: Bob, the responder, so Alice's initial message is a message to
/// the seized party.
pub const DEFAULT_SEIZED: Party = Party::Bob;

/// One of the two parties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// Alice, the initiator.
    Alice,
    /// Bob, the responder.
    Bob,
}

impl Party {
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Party::Alice => ALICE,
            Party::Bob => BOB,
        }
    }

    /// The party named `name`.
    pub fn by_name(name: &str) -> Option<Self> {
        match name {
            ALICE => Some(Party::Alice),
            BOB => Some(Party::Bob),
            _ => None,
        }
    }

    /// The other party.
    pub fn peer(self) -> Self {
        match self {
            Party::Alice => Party::Bob,
            Party::Bob => Party::Alice,
        }
    }

    /// The direction of its messages.
    pub fn sending(self) -> Direction {
        match self {
            Party::Alice => Direction::AliceToBob,
            Party::Bob => Direction::BobToAlice,
        }
    }

    fn of(direction: Direction) -> Self {
        match direction {
            Direction::AliceToBob => Party::Alice,
            Direction::BobToAlice => Party::Bob,
        }
    }
}

/// The track's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Transcript index of the seizure entry.
    pub seize_at: u64,
    /// The party whose device is seized.
    pub seized: Party,
}

/// What a transcript entry after the bundle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A message in this direction.
    Message(Direction),
    /// The seizure entry.
    Seizure,
}

/// Where a message stands against the seizure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Sent before the seizure: protected by forward secrecy.
    BeforeSeizure,
    /// Sent after the seizure in a chain the seized state can read.
    ReadableByDesign,
    /// Sent after the seizure in a chain the ratchet healed: protected by post-compromise
    /// security.
    AfterHealing,
}

impl Window {
    /// Its name in the published fields.
    pub fn name(self) -> &'static str {
        match self {
            Window::BeforeSeizure => "before-seizure",
            Window::ReadableByDesign => "readable-by-design",
            Window::AfterHealing => "after-healing",
        }
    }
}

/// Whether a message is protected against an attacker holding the seized state and the
/// transcript, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protection {
    /// Whether it is protected.
    pub protected: bool,
    /// Why, in one sentence.
    pub why: &'static str,
}

const WHY_INITIAL_CHAIN: &str = "forward secrecy: received before the seizure in the chain PQXDH \
    started; its message key is deleted, and PQXDH's one-time prekeys were deleted on receipt";
const WHY_RECEIVED: &str = "forward secrecy: received before the seizure; its message key is \
    deleted and the chain and root keys are one-way past it";
const WHY_SENT: &str = "forward secrecy: sent by the seized party before the seizure; its \
    sending chain key is one-way past it";
const WHY_PEER_CHAIN_HELD: &str = "readable by design: the peer's chain continues from the \
    receiving chain key in the seized state";
const WHY_PEER_CHAIN_SEIZED_KEY: &str = "readable by design: the peer's new chain's DH uses the \
    seized party's ratchet private key, held in the seized state";
const WHY_OWN_CHAIN_HELD: &str = "readable by design: the seized party's chain continues from \
    the sending chain key in the seized state";
const WHY_OWN_NEW_CHAIN: &str = "post-compromise: the seized party's chain under a ratchet key \
    drawn after the seizure, in a DH with the peer's key";
const WHY_HEALED: &str = "post-compromise: its chain's root key follows a DH of two keys \
    outside the seized state (a ratchet key the seized party drew after the seizure)";

/// A checked schedule: who sends each message, where the seizure is, and which messages are
/// protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The parameters.
    pub params: Params,
    /// `schedule.messages`: entries `1..=messages` (the seizure entry among them).
    pub messages: u64,
    slots: Vec<Slot>,
    rule: Vec<Option<(Protection, Window)>>,
}

/// A parameter or schedule the builder refuses: the field and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    /// The field (`params.seize_at`, `schedule.messages`, ...).
    pub field: String,
    /// What was expected.
    pub message: String,
}

impl From<ScheduleError> for Error {
    fn from(e: ScheduleError) -> Self {
        Error::invalid(e.field, e.message)
    }
}

fn refuse(field: &str, message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field: field.to_owned(),
        message: message.into(),
    }
}

impl Plan {
    /// The schedule of `messages` entries with `params`, or why there is none.
    pub fn build(messages: u64, params: Params) -> Result<Self, ScheduleError> {
        if messages > MAX_MESSAGES {
            return Err(refuse(
                "schedule.messages",
                format!("expected at most {MAX_MESSAGES} for the seizure track"),
            ));
        }
        let Params { seize_at, seized } = params;
        let first = match seized {
            // Bob is seized after Alice's initial message (2) or after the first message of
            // a later chain of hers (4 on): message 1 is hers, so 3 would follow no new chain.
            Party::Bob if seize_at == 3 => {
                return Err(refuse(
                    "params.seize_at",
                    "expected 2 or at least 4 when bob is seized: the seizure follows the first \
                     message of a new chain of alice's, and message 1 is hers",
                ));
            }
            Party::Bob => 2,
            Party::Alice => 3,
        };
        if seize_at < first {
            return Err(refuse(
                "params.seize_at",
                format!(
                    "expected at least {first} when {} is seized: the seizure follows the first \
                     message of a new chain of the peer's",
                    seized.name()
                ),
            ));
        }
        if messages.saturating_sub(AFTER_SEIZURE) < seize_at {
            return Err(refuse(
                "params.seize_at",
                format!(
                    "expected at most schedule.messages - {AFTER_SEIZURE} ({}): after the \
                     seizure come a message of the peer's, a healing round trip (the seized \
                     party, then the peer) and at least one more message",
                    messages.saturating_sub(AFTER_SEIZURE)
                ),
            ));
        }
        let (s, p) = (seized.sending(), seized.peer().sending());
        let slots: Vec<Slot> = (1..=messages)
            .map(|k| {
                if k == seize_at {
                    Slot::Seizure
                } else if k == seize_at - 1 || k == seize_at + 1 || k == seize_at + 3 {
                    Slot::Message(p)
                } else if (seize_at >= 3 && k == seize_at - 2) || k == seize_at + 2 {
                    Slot::Message(s)
                } else if k == 1 || ((k - 1) / 2) % 2 == 0 {
                    Slot::Message(Direction::AliceToBob)
                } else {
                    Slot::Message(Direction::BobToAlice)
                }
            })
            .collect();
        let rule = rule(&slots, seize_at, seized);
        let plan = Self {
            params,
            messages,
            slots,
            rule,
        };
        plan.check()?;
        Ok(plan)
    }

    /// The schedule a track's published fields describe (the fields [`Self::fields`] wrote,
    /// or the operator's `[params]`). Errors name the field.
    pub fn from_fields(fields: &TrackFields, messages: u64) -> Result<Self, ScheduleError> {
        let mut seize_at = None;
        let mut seized = DEFAULT_SEIZED;
        let mut protection = None;
        for (name, value) in &fields.0 {
            match name.as_str() {
                "seize_at" => {
                    seize_at = Some(value.as_u64().ok_or_else(|| {
                        refuse(
                            "params.seize_at",
                            "expected a transcript index (an integer)",
                        )
                    })?);
                }
                "seized" => {
                    seized = value
                        .as_str()
                        .and_then(Party::by_name)
                        .ok_or_else(|| refuse("params.seized", "expected \"alice\" or \"bob\""))?;
                }
                "protection" => protection = Some(value),
                other => {
                    return Err(refuse(
                        &format!("params.{other}"),
                        "unknown parameter; the seizure track takes seize_at and seized",
                    ));
                }
            }
        }
        let seize_at =
            seize_at.ok_or_else(|| refuse("params.seize_at", "required: the seizure's index"))?;
        let plan = Self::build(messages, Params { seize_at, seized })?;
        if let Some(given) = protection
            && *given != plan.protection_field()
        {
            return Err(refuse(
                "params.protection",
                "computed by the server from the schedule; leave it out",
            ));
        }
        Ok(plan)
    }

    /// The published fields, in the order of their names (as a log event keeps them):
    /// `protection` (every message grouped by its window, protection and reason), `seize_at`
    /// and `seized`.
    pub fn fields(&self) -> TrackFields {
        TrackFields(vec![
            ("protection".to_owned(), self.protection_field()),
            ("seize_at".to_owned(), json!(self.params.seize_at)),
            ("seized".to_owned(), json!(self.params.seized.name())),
        ])
    }

    fn protection_field(&self) -> Value {
        let mut groups: Vec<(Window, Protection, Vec<u64>)> = Vec::new();
        for k in 1..=self.messages {
            let Some((p, w)) = self.rule_of(k) else {
                continue;
            };
            match groups.iter_mut().find(|(gw, gp, _)| *gw == w && *gp == p) {
                Some((_, _, list)) => list.push(k),
                None => groups.push((w, p, vec![k])),
            }
        }
        Value::Array(
            groups
                .into_iter()
                .map(|(w, p, list)| {
                    json!({"window": w.name(), "protected": p.protected, "why": p.why,
                           "messages": list})
                })
                .collect(),
        )
    }

    /// Entry `k` (1-based) after the bundle.
    pub fn slot(&self, k: u64) -> Option<Slot> {
        let i = usize::try_from(k.checked_sub(1)?).ok()?;
        self.slots.get(i).copied()
    }

    fn rule_of(&self, k: u64) -> Option<(Protection, Window)> {
        let i = usize::try_from(k.checked_sub(1)?).ok()?;
        self.rule.get(i).copied().flatten()
    }

    /// Message `k`'s protection (`None` for the bundle, the seizure entry, or past the end).
    pub fn protection(&self, k: u64) -> Option<Protection> {
        self.rule_of(k).map(|(p, _)| p)
    }

    /// Message `k`'s window.
    pub fn window(&self, k: u64) -> Option<Window> {
        self.rule_of(k).map(|(_, w)| w)
    }

    /// Whether message `k` is sent to the seized party.
    pub fn is_to_seized(&self, k: u64) -> bool {
        self.slot(k) == Some(Slot::Message(self.params.seized.peer().sending()))
    }

    /// The messages a secret may go in, in `window`: the protected messages to the seized party
    /// (only those can the solver try from the seized state).
    pub fn eligible(&self, window: Window) -> Vec<u64> {
        (1..=self.messages)
            .filter(|&k| {
                self.is_to_seized(k)
                    && self
                        .rule_of(k)
                        .is_some_and(|(p, w)| p.protected && w == window)
            })
            .collect()
    }

    /// The schedule has what the game needs: the seized party's sending step pending at the
    /// seizure, a readable message, the healing round trip and one more message after it.
    fn check(&self) -> Result<(), ScheduleError> {
        let s = self.params.seize_at;
        let pending = self.is_to_seized(s - 1);
        let readable = self.window(s + 1) == Some(Window::ReadableByDesign);
        let healed = self.slot(s + 2) == Some(Slot::Message(self.params.seized.sending()))
            && self.protection(s + 2).is_some_and(|p| p.protected)
            && self.is_to_seized(s + 3)
            && self.window(s + 3) == Some(Window::AfterHealing);
        let more = self.messages > s + 3;
        if pending && readable && healed && more {
            Ok(())
        } else {
            Err(refuse(
                "params.seize_at",
                "the schedule has no healing round trip after the seizure",
            ))
        }
    }
}

/// The protected-message rule over `slots` (module documentation): a model of which chains
/// the seized state can read.
fn rule(slots: &[Slot], seize_at: u64, seized: Party) -> Vec<Option<(Protection, Window)>> {
    let mut out = Vec::with_capacity(slots.len());
    let mut last_sender: Option<Party> = None;
    // Whether the initiator has received anything yet: until then its messages are in the
    // chain PQXDH started.
    let mut initial_chain = true;
    // After the seizure: what follows from the seized state.
    let mut root_known = true;
    let mut own_key_known = true;
    let mut own_chain_known = true;
    let mut peer_chain_known = true;
    for (i, slot) in slots.iter().enumerate() {
        let k = i as u64 + 1;
        let Slot::Message(direction) = *slot else {
            out.push(None);
            continue;
        };
        let sender = Party::of(direction);
        let new_chain = last_sender != Some(sender);
        if sender == Party::Bob {
            initial_chain = false;
        }
        let entry = if k < seize_at {
            let why = if sender == seized {
                WHY_SENT
            } else if initial_chain {
                WHY_INITIAL_CHAIN
            } else {
                WHY_RECEIVED
            };
            (
                Protection {
                    protected: true,
                    why,
                },
                Window::BeforeSeizure,
            )
        } else if sender == seized {
            if new_chain {
                // A sending step: a ratchet key drawn after the seizure, in a DH with the
                // peer's key, neither private half in the state.
                root_known = false;
                own_key_known = false;
                own_chain_known = false;
            }
            let why = if own_chain_known {
                WHY_OWN_CHAIN_HELD
            } else {
                WHY_OWN_NEW_CHAIN
            };
            verdict(own_chain_known, why)
        } else {
            let why = if new_chain {
                // The peer's sending step: DH(peer's new key, seized party's current key).
                peer_chain_known = root_known && own_key_known;
                root_known = peer_chain_known;
                WHY_PEER_CHAIN_SEIZED_KEY
            } else {
                WHY_PEER_CHAIN_HELD
            };
            verdict(
                peer_chain_known,
                if peer_chain_known { why } else { WHY_HEALED },
            )
        };
        out.push(Some(entry));
        last_sender = Some(sender);
    }
    out
}

fn verdict(known: bool, why: &'static str) -> (Protection, Window) {
    if known {
        (
            Protection {
                protected: false,
                why,
            },
            Window::ReadableByDesign,
        )
    } else {
        (
            Protection {
                protected: true,
                why,
            },
            Window::AfterHealing,
        )
    }
}

/// Where each secret goes: secret `j` in the protected messages to the seized party before the
/// seizure (`j` even) or after healing (`j` odd), at `derive_index("secret-position", j, n)`
/// of that window's `n` messages, moved to the window's next free message (cyclically) if
/// taken. Refuses more secrets than the windows hold (field `secrets`).
pub fn placements(
    seed: &MasterSeed,
    plan: &Plan,
    count: u32,
) -> Result<Vec<SecretPlacement>, Error> {
    let before = plan.eligible(Window::BeforeSeizure);
    let after = plan.eligible(Window::AfterHealing);
    let room = capacity(before.len(), after.len());
    if count as usize > room {
        return Err(Error::invalid(
            "secrets",
            format!(
                "expected at most {room} for this schedule: secrets alternate between the {} \
                 protected messages to the seized party before the seizure and the {} after \
                 healing",
                before.len(),
                after.len()
            ),
        ));
    }
    let mut out: Vec<SecretPlacement> = Vec::with_capacity(count as usize);
    for index in 0..count {
        let window = if index % 2 == 0 { &before } else { &after };
        let n = window.len();
        let mut at = usize::try_from(seed.derive_index(
            label::SECRET_POSITION,
            u64::from(index),
            n as u64,
        )?)
        .unwrap_or(0);
        let mut message = None;
        for _ in 0..n {
            let candidate = window.get(at).copied();
            if let Some(m) = candidate
                && out.iter().all(|p| p.message != m)
            {
                message = Some(m);
                break;
            }
            at = (at + 1) % n.max(1);
        }
        let message = message.ok_or_else(|| Error::internal("no free message for a secret"))?;
        let salt = seed.derive(label::SECRET_SALT, u64::from(index))?;
        out.push(SecretPlacement {
            index,
            message,
            commitment: super::super::conversation::secret_commitment(
                &salt,
                &*super::super::conversation::secret(seed, index)?,
            ),
        });
    }
    Ok(out)
}

/// The most secrets windows of `before` and `after` messages hold, alternating from `before`.
pub fn capacity(before: usize, after: usize) -> usize {
    (before.min(after) * 2 + usize::from(before > after)).min(super::super::MAX_SECRETS as usize)
}
