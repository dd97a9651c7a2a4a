//! `mitm_session`: an `arbitrary` sequence of commands (fetch-bundle, ask, txt, deliver of
//! genuine, mutated or random bytes, to either bot, and waits) against one mitm session on the
//! real target, through [`Sessions::command`] as the server runs it. Never a panic, never a
//! forgery (`Answer::Accepted { win: Some(_) }`: a win on the real target is a bug), every
//! public answer one of the documented JSON shapes, a refused command changes nothing, and
//! the record replays to the same head at the end.
//!
//! The session is opened once per thread, and that opening replayed once through
//! [`Sessions::replay`], which regenerates it from the seed. Every input then starts from a
//! duplicate of its state (`SessionState::duplicate`), and its record is replayed from that
//! opening ([`Mitm::replay_opened`]): every command runs again from its recorded entry, and
//! the bots' keys are not generated anew for each input.

use arbitrary::{Arbitrary, Unstructured};
use challenge_server::seed::MasterSeed;
use challenge_server::targets;
use challenge_server::tracks::mitm::{Answer, Bot, Command, CommandError, Mitm, Opened, Sessions};
use challenge_server::tracks::{Public, Schedule, Track, TrackFields};

/// The session's challenge id, claimant and open time.
pub const CHALLENGE: &str = "3f2a9c0d1e4b5a69";
/// The claimant who opens the session.
pub const CLAIMANT: &str = "fuzz";
/// The open time.
pub const T0: u64 = 1_800_000_000;
/// Most steps one input runs: each reaches the real protocol, so inputs stay fast.
pub const MAX_STEPS: usize = 48;
/// Most bytes of a random or mutated delivery, of a `txt` plaintext.
const MAX_BYTES: usize = 2048;
/// The budgets the session is opened with: small, so the fuzzer reaches every budget's end.
const BUDGETS: [(&str, u64); 5] = [
    ("asks", 10),
    ("txt", 12),
    ("deliver", 24),
    ("fetch_bundle", 3),
    ("idle_expiry_secs", 600),
];
/// The protocol's error classes, the `error` of a failed `ask` or `txt`.
const ERROR_CLASSES: [&str; 8] = [
    "Malformed",
    "Unauthentic",
    "BadSignature",
    "Replay",
    "TooManySkipped",
    "Expired",
    "CorruptState",
    "IdentityChanged",
];

/// One bot, as the input picks it.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Pick {
    /// Alice.
    Alice,
    /// Bob.
    Bob,
}

impl Pick {
    fn bot(self) -> Bot {
        match self {
            Pick::Alice => Bot::Alice,
            Pick::Bob => Bot::Bob,
        }
    }
}

/// What a `deliver` carries: bytes the session produced (a bundle or a ciphertext, by index
/// among those seen), such bytes changed, or bytes of the input's own.
#[derive(Arbitrary, Debug)]
pub enum Payload {
    /// A bundle or ciphertext as the server answered it.
    Genuine(u8),
    /// One byte of it XORed.
    Flipped {
        /// Which answer.
        which: u8,
        /// Which byte (modulo its length).
        at: u16,
        /// The XOR mask (0 counts as 1).
        mask: u8,
    },
    /// A prefix of it.
    Cut {
        /// Which answer.
        which: u8,
        /// Its length (modulo the answer's).
        len: u16,
    },
    /// It with bytes appended.
    Extended {
        /// Which answer.
        which: u8,
        /// The bytes.
        tail: Vec<u8>,
    },
    /// The input's bytes.
    Random(Vec<u8>),
}

/// One step of a scenario.
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// `fetch-bundle`.
    FetchBundle,
    /// `ask` from a bot.
    Ask(Pick),
    /// `txt` from a bot.
    Txt {
        /// The sender.
        from: Pick,
        /// The plaintext.
        plaintext: Vec<u8>,
        /// The content type.
        content_type: u8,
        /// The TTL.
        ttl: u32,
    },
    /// `deliver` to a bot.
    Deliver {
        /// The receiver.
        to: Pick,
        /// What.
        payload: Payload,
    },
    /// Time passes, in seconds, before the next command (past the idle expiry, every later
    /// command is refused).
    Wait(u16),
}

/// The session every input starts from, opened once.
struct Fixture {
    public: Public,
    opened: Opened,
}

fn seed() -> MasterSeed {
    MasterSeed::from_bytes([0x6d; 32])
}

fn schedule() -> Schedule {
    Schedule {
        messages: 1,
        interval_secs: 1,
        start_at: T0,
    }
}

/// The published parameters of the fuzzed challenge.
pub fn public() -> Result<Public, challenge_server::Error> {
    let fields = TrackFields(
        BUDGETS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect(),
    );
    Ok(Public {
        schedule: schedule(),
        secrets: Vec::new(),
        params: Mitm.check_params(&fields, &schedule())?,
    })
}

/// Opens the session, and replays its record (the open alone) from the seed: the opening every
/// input's replay starts from is the one `verify` regenerates.
fn open() -> Result<Fixture, String> {
    let public = public().map_err(|e| e.to_string())?;
    let opened = Mitm
        .open(
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            0,
            CLAIMANT,
            T0,
        )
        .map_err(|e| e.to_string())?;
    Sessions::replay(
        &Mitm,
        targets::real(),
        &seed(),
        &public,
        CHALLENGE,
        0,
        std::slice::from_ref(&opened.entry),
        &opened.record.head,
    )?;
    Ok(Fixture { public, opened })
}

#[allow(
    clippy::expect_used,
    reason = "fixed-seed setup, reached by no input: if it fails, the target is broken"
)]
fn fixture() -> Fixture {
    open().expect("the fuzzed mitm session opens and replays")
}

thread_local! {
    // Per thread, not in a `static`: the bots' devices are `Send` but not `Sync`. libFuzzer
    // runs one thread; each test thread of the replay opens its own.
    static FIXTURE: Fixture = fixture();
}

/// The target: the bytes become up to [`MAX_STEPS`] steps.
pub fn check(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut steps = Vec::new();
    while steps.len() < MAX_STEPS && !u.is_empty() {
        match Step::arbitrary(&mut u) {
            Ok(step) => steps.push(step),
            Err(_) => break,
        }
    }
    run(&steps);
}

/// Runs `steps` on a fresh copy of the session and checks every property; returns what each
/// command was answered: `bundle`, `ciphertext`, `error:<class>`, `delivery:<accepted or
/// refused>`, or `refused:<field>` for a command refused before the bots.
pub fn run(steps: &[Step]) -> Vec<String> {
    FIXTURE.with(|fixture| run_on(fixture, steps))
}

fn run_on(fixture: &Fixture, steps: &[Step]) -> Vec<String> {
    let Fixture { public, opened } = fixture;
    let target = targets::real();
    let seed = seed();
    let mut state = opened.state.duplicate();
    let mut record = opened.record;
    let mut entries = vec![opened.entry.clone()];
    // Every bundle and ciphertext answered, the material of genuine and mutated deliveries.
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut now = T0;
    let mut answers = Vec::new();
    for step in steps {
        let command = match step {
            Step::Wait(secs) => {
                now = now.saturating_add(u64::from(*secs));
                continue;
            }
            Step::FetchBundle => Command::FetchBundle {},
            Step::Ask(from) => Command::Ask { from: from.bot() },
            Step::Txt {
                from,
                plaintext,
                content_type,
                ttl,
            } => Command::Txt {
                from: from.bot(),
                plaintext: plaintext.iter().copied().take(MAX_BYTES).collect(),
                content_type: *content_type,
                ttl: *ttl,
            },
            Step::Deliver { to, payload } => Command::Deliver {
                to: to.bot(),
                bytes: payload_bytes(payload, &seen),
            },
        };
        now = now.saturating_add(1);
        let before = (record, state.entries(), state.last_at());
        match Mitm.command(
            target,
            &seed,
            public,
            &mut state,
            &mut record,
            now,
            &command,
        ) {
            Ok(outcome) => {
                assert!(
                    !matches!(outcome.answer, Answer::Accepted { win: Some(_) }),
                    "a forgery on the real target: {command:?}"
                );
                assert_eq!(record.len, before.0.len + 1, "one entry per command");
                assert_eq!(state.entries(), record.len);
                answers.push(check_public(&outcome.answer.public()));
                match outcome.answer {
                    Answer::Bundle(b) | Answer::Ciphertext(b) => seen.push(b),
                    _ => {}
                }
                entries.push(outcome.entry);
            }
            Err(e) => {
                assert!(
                    !matches!(e, CommandError::Internal(_)),
                    "a server fault on {command:?}: {e}"
                );
                answers.push(format!("refused:{}", e.field()));
                assert_eq!(
                    (record, state.entries(), state.last_at()),
                    before,
                    "a refused command changed the session: {command:?}"
                );
            }
        }
    }
    let replayed = Mitm.replay_opened(&seed, public, opened, &entries, &record.head);
    assert!(replayed.is_ok(), "the record replays: {:?}", replayed.err());
    if let Ok(report) = replayed {
        assert_eq!(report.head, record.head);
        assert_eq!(report.entries, entries.len() as u64);
        assert!(report.forgeries.is_empty(), "a replayed forgery");
    }
    answers
}

fn payload_bytes(payload: &Payload, seen: &[Vec<u8>]) -> Vec<u8> {
    let pick = |which: u8| -> Vec<u8> {
        if seen.is_empty() {
            return Vec::new();
        }
        seen.get(usize::from(which) % seen.len())
            .cloned()
            .unwrap_or_default()
    };
    match payload {
        Payload::Genuine(which) => pick(*which),
        Payload::Flipped { which, at, mask } => {
            let mut b = pick(*which);
            if !b.is_empty() {
                let i = usize::from(*at) % b.len();
                if let Some(x) = b.get_mut(i) {
                    *x ^= (*mask).max(1);
                }
            }
            b
        }
        Payload::Cut { which, len } => {
            let mut b = pick(*which);
            if !b.is_empty() {
                b.truncate(usize::from(*len) % b.len());
            }
            b
        }
        Payload::Extended { which, tail } => {
            let mut b = pick(*which);
            b.extend(tail.iter().copied().take(MAX_BYTES));
            b
        }
        Payload::Random(bytes) => bytes.iter().copied().take(MAX_BYTES).collect(),
    }
}

/// A public answer is one of the documented shapes: `{"bundle":<hex>}`,
/// `{"ciphertext":<hex>}`, `{"error":<class>}`, `{"delivery":"accepted"|"refused"}`; returns
/// its summary.
fn check_public(bytes: &[u8]) -> String {
    let value: Result<serde_json::Value, _> = serde_json::from_slice(bytes);
    let object = value.as_ref().ok().and_then(|v| v.as_object());
    assert!(
        object.is_some_and(|o| o.len() == 1),
        "an answer that is not a one-field object: {}",
        String::from_utf8_lossy(bytes)
    );
    let Some((name, v)) = object.and_then(|o| o.iter().next()) else {
        return String::new();
    };
    let text = v.as_str().unwrap_or_default();
    let ok = match name.as_str() {
        "bundle" | "ciphertext" => {
            !text.is_empty()
                && text.len() % 2 == 0
                && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
        "error" => ERROR_CLASSES.contains(&text),
        "delivery" => matches!(text, "accepted" | "refused"),
        _ => false,
    };
    assert!(
        ok,
        "an undocumented answer: {}",
        String::from_utf8_lossy(bytes)
    );
    match name.as_str() {
        "bundle" | "ciphertext" => name.clone(),
        _ => format!("{name}:{text}"),
    }
}
