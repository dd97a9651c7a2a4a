//! Drives the interaction model (`target_impl::testing`) with proptest and with hand-written
//! scenarios. Requires `--features arbitrary`.
#![cfg(feature = "arbitrary")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use arbitrary::{Arbitrary, Unstructured};
use proptest::prelude::*;
use target_impl::testing::{
    Event, Options, Party, Region, Report, Sabotage, Scenario, Size, Step, Ttl, run, run_with,
};

use Party::{A, B};

fn send(from: Party) -> Event {
    Event::Send {
        from,
        size: Size::Small(11),
        ttl: Ttl::Never,
        content_type: 1,
    }
}

fn send_sized(from: Party, size: Size, ttl: Ttl) -> Event {
    Event::Send {
        from,
        size,
        ttl,
        content_type: 7,
    }
}

fn next(to: Party) -> Event {
    Event::DeliverNext { to }
}

fn deliver(to: Party, index: u16) -> Event {
    Event::Deliver { to, index }
}

fn scenario(seed: u8, events: Vec<Event>) -> Scenario {
    Scenario {
        seed: [seed; 32],
        events,
    }
}

fn unbounded() -> Options {
    Options {
        max_events: usize::MAX,
        ..Options::default()
    }
}

fn must_pass(s: &Scenario, options: &Options) -> Report {
    match run_with(s, options) {
        Ok(report) => report,
        Err(v) => panic!("{v}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random interactions (the same runner the fuzz target calls) never break an invariant.
    #[test]
    fn random_interactions(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let scenario = Scenario::arbitrary_take_rest(Unstructured::new(&bytes))
            .expect("a scenario from any bytes");
        let result = run(&scenario);
        prop_assert!(result.is_ok(), "{}", result.err().map(|v| v.to_string()).unwrap_or_default());
    }
}

/// A long conversation that turns the ratchet every message, with restores on both sides and
/// every size class.
#[test]
fn long_ping_pong() {
    let sizes = [
        Size::Small(3),
        Size::Kib(200),
        Size::FewKib(255),
        Size::Small(0),
    ];
    let mut events = Vec::new();
    for round in 0..120u16 {
        let size = sizes[usize::from(round) % sizes.len()];
        events.push(send_sized(A, size, Ttl::Long));
        events.push(next(B));
        events.push(send_sized(B, size, Ttl::Never));
        events.push(next(A));
        events.push(Event::Advance(Step::Mins(7)));
        if round % 10 == 3 {
            events.push(Event::Restore(A));
        }
        if round % 10 == 7 {
            events.push(Event::Restore(B));
        }
    }
    let report = must_pass(&scenario(1, events), &unbounded());
    assert_eq!(report.sent, 240);
    assert_eq!(report.delivered, 240);
    assert_eq!(report.initial_sent, 1);
    assert_eq!(report.dh_turns, 240);
    assert_eq!(report.restores, 24);
    assert_eq!(report.flushed, 0);
}

/// Drops, out-of-order delivery across a DH turn, a duplicate; the report is exact, so a
/// runner that miscounted (or a library that decrypted too much or too little) fails here.
#[test]
fn out_of_order_with_drops_exact_report() {
    let events = vec![
        // Alice's first chain: 0..=5, all initial messages.
        send(A),
        send(A),
        send(A),
        send(A),
        send(A),
        send(A),
        Event::Drop { to: B, index: 1 }, // message 1 is lost: [0, 2, 3, 4, 5]
        deliver(B, 3),                   // message 4 first: Bob accepts, skips 0..=3
        deliver(B, 0),                   // message 0 from the skipped keys: [2, 3, 5]
        Event::Duplicate { to: B, index: 0 }, // message 0 again: Replay
        send(B),
        send(B),
        deliver(A, 1), // Bob's n=1 first, Alice skips n=0
        send(A),       // Alice's second chain (pn 6)
        send(A),
        deliver(B, 4), // Alice's second-chain n=1: Bob skips 5 in the old chain and 0 in the new
        Event::Reorder {
            to: B,
            first: 0,
            second: 2,
        }, // [5, 3, 2, A2.0]
        Event::Restore(B),
        // The flush delivers 5, 3, 2 and A2.0 from skipped keys, then Bob's n=0.
    ];
    let report = must_pass(&scenario(2, events), &Options::default());
    assert_eq!(
        report,
        Report {
            events: 18,
            sent: 10,
            initial_sent: 6,
            sends_without_session: 0,
            delivered: 9,
            dropped: 1,
            replays_refused: 1,
            stale_refused: 0,
            too_many_skipped: 0,
            tampers_refused: 0,
            expired: 0,
            keys_lost: 0,
            restores: 1,
            dh_turns: 3,
            flushed: 5,
        }
    );
}

/// Self-destruct: delivered at `sent_at + ttl` or later is Expired (even as Bob's very first
/// message, which still sets up his session), and again is Replay.
#[test]
fn expiry() {
    let events = vec![
        send(B), // no session yet: nothing happens
        send_sized(A, Size::Small(5), Ttl::Short),
        send_sized(A, Size::Kib(5), Ttl::Long),
        send_sized(A, Size::FewKib(5), Ttl::Never),
        Event::Advance(Step::Secs(30)),
        next(B), // the short one, exactly at its deadline: Expired
        Event::Duplicate { to: B, index: 0 }, // Replay
        next(B), // the long one: fine
        send_sized(B, Size::Small(9), Ttl::Short),
        Event::Advance(Step::Secs(29)),
        send_sized(B, Size::Small(9), Ttl::Short),
        Event::Advance(Step::Secs(1)),
        deliver(A, 1),                        // the second: 1 s old, fine
        deliver(A, 0),                        // the first: 30 s old, Expired (from a skipped key)
        Event::Duplicate { to: A, index: 0 }, // Replay
        send(A),                              // Alice's second chain, no prefix any more
        Event::Advance(Step::Hours(48)),
        Event::Advance(Step::Hours(48)), // four days on, the TTL-0 message still opens
        send_sized(A, Size::Small(1), Ttl::Long),
        next(B),
    ];
    let report = must_pass(&scenario(3, events), &Options::default());
    assert_eq!(report.sends_without_session, 1);
    assert_eq!(report.expired, 2);
    assert_eq!(report.replays_refused, 2);
    assert_eq!(report.sent, 7);
    assert_eq!(report.delivered, 5);
    assert_eq!(report.initial_sent, 3);
}

/// Skipped keys older than 30 days are unusable (Replay while their chain's header key is
/// held) and purged at the next commit (then Unauthentic: no header key opens the message).
#[test]
fn skipped_keys_age_out() {
    let mut events = vec![send(A), send(A), send(A), deliver(B, 2)];
    events.extend([send(B), next(A), send(A), deliver(B, 2)]);
    events.extend((0..16).map(|_| Event::Advance(Step::Hours(48))));
    events.extend([
        deliver(B, 0), // message 0: dead key, chain still held: Replay
        send(A),
        deliver(B, 1), // Alice's second-chain n=1: the commit purges Bob's first chain
        deliver(B, 0), // message 1: Unauthentic
    ]);
    let report = must_pass(&scenario(4, events), &Options::default());
    assert_eq!(report.replays_refused, 1);
    assert_eq!(report.stale_refused, 1);
    assert_eq!(report.keys_lost, 2);
    assert_eq!(report.delivered, 4);
}

/// Keys of at most `MAX_SKIPPED_CHAINS` chains are kept: holding back one message per turn,
/// the two oldest chains are evicted after six turns.
#[test]
fn skipped_chain_cap_evicts_oldest() {
    let mut events = Vec::new();
    for k in 1..=6u16 {
        events.extend([send(A), send(A), deliver(B, k), send(B), next(A)]);
    }
    let report = must_pass(&scenario(5, events), &Options::default());
    assert_eq!(report.stale_refused, 2);
    assert_eq!(report.keys_lost, 2);
    assert_eq!(report.delivered, 16);
    assert_eq!(report.flushed, 6);
}

/// A message that skips more than `MAX_SKIP` keys is TooManySkipped (here before Bob has a
/// session), and everything else still arrives.
#[test]
fn skip_cap() {
    let mut events: Vec<Event> = (0..250)
        .map(|_| Event::SendMany {
            from: A,
            count: 3,
            size: Size::Small(0),
            ttl: Ttl::Never,
        })
        .collect();
    events.extend([send(A), send(A)]); // n = 0..=1001
    events.extend([
        deliver(B, 1001),                        // skips 1001: TooManySkipped
        deliver(B, 1000),                        // skips 1000: fine
        Event::Duplicate { to: B, index: 1001 }, // n = 1001 again: now fine
    ]);
    let report = must_pass(&scenario(6, events), &Options::default());
    assert_eq!(report.sent, 1002);
    assert_eq!(report.too_many_skipped, 1);
    assert_eq!(report.delivered, 1002);
}

/// Every tampered byte is refused without a trace: in the prefix, clear part, header and body,
/// to Bob before and after he has a session, and to Alice.
#[test]
fn tampering_is_refused_and_harmless() {
    let regions = [
        Region::Prefix,
        Region::Clear,
        Region::Header,
        Region::Body,
        Region::Anywhere,
    ];
    let tamper_all = |to: Party, events: &mut Vec<Event>| {
        for (i, region) in regions.iter().enumerate() {
            for position in [0u16, 1, 23, 100, 1000, u16::MAX] {
                events.push(Event::Tamper {
                    to,
                    index: 0,
                    region: *region,
                    position,
                    mask: (i as u8).wrapping_mul(37),
                });
            }
        }
    };
    let mut events = vec![send(A), send(A)];
    tamper_all(B, &mut events); // Bob has no session yet
    events.push(next(B));
    tamper_all(B, &mut events); // an initial message to Bob's session
    events.push(next(B));
    events.push(send_sized(B, Size::Kib(0), Ttl::Short));
    tamper_all(A, &mut events);
    events.push(next(A));
    events.push(send_sized(A, Size::FewKib(3), Ttl::Never));
    tamper_all(B, &mut events); // a ratchet message
    events.push(next(B));
    let report = must_pass(&scenario(7, events), &unbounded());
    assert_eq!(report.tampers_refused, 4 * 30);
    assert_eq!(report.delivered, 4);
}

/// The runner catches a library that returns the wrong payload (simulated by a model that
/// expects another one).
#[test]
fn runner_detects_wrong_payload() {
    let s = scenario(8, vec![send(A), next(B)]);
    must_pass(&s, &Options::default());
    let sabotaged = Options {
        sabotage: Some(Sabotage::CorruptExpectedPayload),
        ..Options::default()
    };
    let violation = run_with(&s, &sabotaged).unwrap_err();
    assert!(violation.at.starts_with("event 1"), "{violation}");
    assert!(violation.what.contains("decrypted to"), "{violation}");
}

/// The runner catches a library that refuses a message the model deems fresh (simulated by a
/// model that forgets a delivery, so the library's correct Replay contradicts it).
#[test]
fn runner_detects_unexpected_refusal() {
    let s = scenario(
        9,
        vec![
            send(A),
            next(B),
            send(A),
            next(B),
            Event::Duplicate { to: B, index: 1 },
        ],
    );
    let report = must_pass(&s, &Options::default());
    assert_eq!(report.replays_refused, 1);
    let sabotaged = Options {
        sabotage: Some(Sabotage::ForgetDelivery { nth: 1 }),
        ..Options::default()
    };
    let violation = run_with(&s, &sabotaged).unwrap_err();
    assert!(violation.at.starts_with("event 4"), "{violation}");
    assert!(
        violation.what.contains("refused with Replay"),
        "{violation}"
    );
}

/// A scenario is a pure function of its bytes: the same bytes, the same report.
#[test]
fn deterministic() {
    let bytes: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let s = Scenario::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
    assert_eq!(run(&s).unwrap(), run(&s).unwrap());
}
