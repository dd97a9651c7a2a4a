//! `ind_cca_game`: an `arbitrary` sequence of queries (challenges, encryptions, decryptions of
//! genuine, re-encoded or random bytes, to either bot, guesses, waits and raw JSON) against one
//! game of the ind-cca track on the real target, through the track-neutral
//! [`Sessions::command`] as the server runs it. Never a panic or a server fault, every answer
//! one of the documented JSON shapes, a refused query changes nothing, a judged win only from
//! at least `min_correct` correct guesses (and exactly when the judge says so), and the record
//! replays to the same head and the same wins at the end.

use arbitrary::{Arbitrary, Unstructured};
use challenge_server::seed::MasterSeed;
use challenge_server::targets;
use challenge_server::tracks::ind_cca::{IndCca, threshold};
use challenge_server::tracks::{Opened, Public, Schedule, Sessions, Track, TrackFields};
use serde_json::{Value, json};

/// The game's challenge id.
pub const CHALLENGE: &str = "5b1c9e0d2f4a6b78";
/// The claimant who opens the game.
pub const CLAIMANT: &str = "fuzz";
/// The open time.
pub const T0: u64 = 1_800_000_000;
/// Most steps one input runs.
pub const MAX_STEPS: usize = 48;
/// The games cap the judge divides by.
const GAMES: u64 = 1_000;
/// The budgets the game is opened with: small, so the fuzzer reaches every budget's end.
const BUDGETS: [(&str, u64); 4] = [
    ("rounds", 40),
    ("oracle_calls", 40),
    ("idle_expiry_secs", 600),
    ("max_games", GAMES),
];
/// Most bytes of a plaintext or a random decryption.
const MAX_BYTES: usize = 1100;

/// One bot, as the input picks it.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Pick {
    /// Alice.
    Alice,
    /// Bob.
    Bob,
}

impl Pick {
    fn name(self) -> &'static str {
        match self {
            Pick::Alice => "alice",
            Pick::Bob => "bob",
        }
    }
}

/// What a `decrypt` carries: a ciphertext the game answered (by index), changed or not, or
/// bytes of the input's own.
#[derive(Arbitrary, Debug)]
pub enum Payload {
    /// A ciphertext as answered.
    Genuine(u8),
    /// One byte of it XORed (the mask 0 counts as 1).
    Flipped(u8, u16, u8),
    /// A prefix of it.
    Cut(u8, u16),
    /// It with bytes appended.
    Extended(u8, Vec<u8>),
    /// The input's bytes.
    Random(Vec<u8>),
}

/// One step of a scenario.
#[derive(Arbitrary, Debug)]
pub enum Step {
    /// A `challenge` of two messages of `len % 64` bytes (zeros, ones).
    Challenge(Pick, u8, u8, u32),
    /// An `encrypt`.
    Encrypt(Pick, Vec<u8>, u8, u32),
    /// A `decrypt`.
    Decrypt(Pick, Payload),
    /// A `guess` whose every byte is this one, one bit per round played (or a byte too many,
    /// if the flag is false).
    Guess(u8, bool),
    /// Raw command bytes.
    Raw(Vec<u8>),
    /// Time passes.
    Wait(u16),
}

struct Fixture {
    public: Public,
    opened: Opened,
}

fn seed() -> MasterSeed {
    MasterSeed::from_bytes([0x1c; 32])
}

/// The published parameters of the fuzzed challenge.
pub fn public() -> Result<Public, challenge_server::Error> {
    let schedule = Schedule {
        messages: 1,
        interval_secs: 1,
        start_at: T0,
    };
    let fields = TrackFields(
        BUDGETS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect(),
    );
    Ok(Public {
        schedule,
        secrets: Vec::new(),
        params: IndCca.check_params(&fields, &schedule)?,
    })
}

fn open() -> Result<Fixture, String> {
    let public = public().map_err(|e| e.to_string())?;
    let opened = Sessions::open(
        &IndCca,
        targets::real(),
        &seed(),
        &public,
        CHALLENGE,
        0,
        CLAIMANT,
        T0,
    )
    .map_err(|e| e.to_string())?;
    Ok(Fixture { public, opened })
}

#[allow(
    clippy::expect_used,
    reason = "fixed-seed setup, reached by no input: if it fails, the target is broken"
)]
fn fixture() -> Fixture {
    open().expect("the fuzzed ind-cca game opens")
}

thread_local! {
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

/// Runs `steps` on a fresh copy of the game and checks every property; returns each answer's
/// summary (its first field's name, `decryption:<value>`, `won:<bool>`, or `refused:<field>`).
pub fn run(steps: &[Step]) -> Vec<String> {
    FIXTURE.with(|fixture| run_on(fixture, steps))
}

fn pick(seen: &[Vec<u8>], which: u8) -> Vec<u8> {
    if seen.is_empty() {
        return Vec::new();
    }
    seen.get(usize::from(which) % seen.len())
        .cloned()
        .unwrap_or_default()
}

fn payload_bytes(payload: &Payload, seen: &[Vec<u8>]) -> Vec<u8> {
    match payload {
        Payload::Genuine(w) => pick(seen, *w),
        Payload::Flipped(w, at, mask) => {
            let mut b = pick(seen, *w);
            if !b.is_empty() {
                let i = usize::from(*at) % b.len();
                if let Some(x) = b.get_mut(i) {
                    *x ^= (*mask).max(1);
                }
            }
            b
        }
        Payload::Cut(w, len) => {
            let mut b = pick(seen, *w);
            if !b.is_empty() {
                b.truncate(usize::from(*len) % b.len());
            }
            b
        }
        Payload::Extended(w, tail) => {
            let mut b = pick(seen, *w);
            b.extend(tail.iter().copied().take(MAX_BYTES));
            b
        }
        Payload::Random(bytes) => bytes.iter().copied().take(MAX_BYTES).collect(),
    }
}

/// A guess of `rounds` bits, every byte `byte`: `ceil(rounds / 8)` bytes, the unused low bits
/// of the last one cleared.
fn fitted(byte: u8, rounds: u64) -> Vec<u8> {
    let len = usize::try_from(rounds.div_ceil(8)).unwrap_or(0);
    let mut out = vec![byte; len];
    let spare = (8 - rounds % 8) % 8;
    if let Some(last) = out.last_mut() {
        *last &= 0xffu8 << spare;
    }
    out
}

fn run_on(fixture: &Fixture, steps: &[Step]) -> Vec<String> {
    let Fixture { public, opened } = fixture;
    let target = targets::real();
    let seed = seed();
    let mut state = opened.state.clone();
    let mut record = opened.record;
    let mut entries = vec![opened.entry.clone()];
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut rounds = 0u64;
    let mut wins = 0usize;
    let mut now = T0;
    let mut answers = Vec::new();
    for step in steps {
        let command = match step {
            Step::Wait(secs) => {
                now = now.saturating_add(u64::from(*secs));
                continue;
            }
            Step::Challenge(from, len, content_type, ttl) => {
                let n = usize::from(*len % 64);
                json!({"command": "challenge", "from": from.name(), "m0": hex::encode(vec![0u8; n]),
                       "m1": hex::encode(vec![0xffu8; n]), "content_type": content_type, "ttl": ttl})
                .to_string()
                .into_bytes()
            }
            Step::Encrypt(from, plaintext, content_type, ttl) => {
                let p: Vec<u8> = plaintext.iter().copied().take(MAX_BYTES).collect();
                json!({"command": "encrypt", "from": from.name(), "plaintext": hex::encode(p),
                       "content_type": content_type, "ttl": ttl})
                .to_string()
                .into_bytes()
            }
            Step::Decrypt(to, payload) => json!({"command": "decrypt", "to": to.name(),
                       "bytes": hex::encode(payload_bytes(payload, &seen))})
            .to_string()
            .into_bytes(),
            Step::Guess(byte, exact) => {
                let bits = fitted(*byte, rounds.saturating_add(if *exact { 0 } else { 8 }));
                json!({"command": "guess", "bits": hex::encode(bits)})
                    .to_string()
                    .into_bytes()
            }
            Step::Raw(bytes) => bytes.clone(),
        };
        now = now.saturating_add(1);
        let before = record;
        match IndCca.command(target, &seed, public, &state, &mut record, now, &command) {
            Ok(outcome) => {
                assert_eq!(record.len, before.len + 1, "one entry per command");
                let answer: Value = serde_json::from_slice(&outcome.answer).unwrap_or_default();
                answers.push(check_answer(&answer, outcome.win.is_some()));
                if let Some(c) = answer.get("ciphertext").and_then(Value::as_str) {
                    seen.push(hex::decode(c).unwrap_or_default());
                }
                if answer.get("round").is_some() {
                    rounds += 1;
                }
                wins += usize::from(outcome.win.is_some());
                state = outcome.state;
                entries.push(outcome.entry);
            }
            Err(e) => {
                assert!(
                    !matches!(e, challenge_server::Error::Internal(_)),
                    "a server fault: {e}"
                );
                assert_eq!(record, before, "a refused command changed the record");
                let field = match &e {
                    challenge_server::Error::Invalid { field, .. } => field.clone(),
                    challenge_server::Error::Conflict { field, .. } => (*field).to_owned(),
                    other => format!("{other:?}"),
                };
                answers.push(format!("refused:{field}"));
            }
        }
    }
    let replayed = Sessions::replay(
        &IndCca,
        target,
        &seed,
        public,
        CHALLENGE,
        0,
        &entries,
        &record.head,
    );
    assert!(replayed.is_ok(), "the record replays: {:?}", replayed.err());
    if let Ok(report) = replayed {
        assert_eq!(report.head, record.head);
        assert_eq!(report.wins.len(), wins, "the replay judges the same wins");
    }
    answers
}

/// An answer is one of the documented shapes; a judgement wins exactly when the judge says,
/// and never below `min_correct`. Returns its summary.
fn check_answer(answer: &Value, awarded: bool) -> String {
    let object = answer.as_object();
    assert!(
        object.is_some(),
        "an answer that is not an object: {answer}"
    );
    let hex_ok = |v: &Value| {
        v.as_str().is_some_and(|t| {
            t.len() % 2 == 0 && t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    };
    if let Some(c) = answer.get("ciphertext") {
        assert!(hex_ok(c), "{answer}");
        return "ciphertext".to_owned();
    }
    if let Some(p) = answer.get("plaintext") {
        assert!(hex_ok(p), "{answer}");
        return "plaintext".to_owned();
    }
    if let Some(d) = answer.get("decryption").and_then(Value::as_str) {
        assert!(matches!(d, "refused" | "challenge"), "{answer}");
        return format!("decryption:{d}");
    }
    if let Some(e) = answer.get("error").and_then(Value::as_str) {
        return format!("error:{e}");
    }
    let judged = (
        answer.get("rounds").and_then(Value::as_u64),
        answer.get("correct").and_then(Value::as_u64),
        answer.get("won").and_then(Value::as_bool),
    );
    assert!(
        matches!(judged, (Some(_), Some(_), Some(_))),
        "an undocumented answer: {answer}"
    );
    let (Some(rounds), Some(correct), Some(won)) = judged else {
        return String::new();
    };
    let min = threshold::min_correct(rounds, GAMES).unwrap_or_default();
    assert_eq!(
        answer.get("min_correct").and_then(Value::as_u64),
        min,
        "{answer}"
    );
    assert_eq!(
        won, awarded,
        "a win is awarded exactly when judged: {answer}"
    );
    if won {
        assert!(
            min.is_some_and(|m| correct >= m),
            "a win below min_correct: {answer}"
        );
    }
    assert_eq!(
        threshold::wins(correct, rounds, GAMES).ok(),
        Some(won),
        "{answer}"
    );
    format!("won:{won}")
}
