use proptest::prelude::*;
use serde_json::json;
use zeroize::Zeroizing;

use super::schedule::{Params, Party, Plan, Slot, Window, placements};
use super::solver::{Solver, placements_protected};
use super::*;
use crate::targets;
use crate::tracks::{SecretPlacement, Track};

fn schedule(messages: u64) -> Schedule {
    Schedule {
        messages,
        interval_secs: 10,
        start_at: 1_700_000_000,
    }
}

fn public_of(seed: &MasterSeed, messages: u64, params: Params, secrets: u32) -> Public {
    let plan = Plan::build(messages, params).unwrap();
    Public {
        schedule: schedule(messages),
        secrets: placements(seed, &plan, secrets).unwrap(),
        params: plan.fields(),
    }
}

/// Plays every entry on target-impl and feeds the solver; returns its report.
fn solve_all(seed: &MasterSeed, public: &Public) -> (Vec<Entry>, SolveReport) {
    let entries = replay_on(targets::real(), seed, public, public.schedule.messages).unwrap();
    let mut solver = Solver::on(targets::real(), seed.clone(), public.clone()).unwrap();
    for e in &entries {
        solver.feed(e).unwrap();
    }
    (entries, solver.report())
}

fn counts(plan: &Plan) -> (u64, u64) {
    let to_seized = |protected: bool| {
        (1..=plan.messages)
            .filter(|&k| {
                plan.is_to_seized(k) && plan.protection(k).is_some_and(|p| p.protected == protected)
            })
            .count() as u64
    };
    (to_seized(false), to_seized(true))
}

/// The demo schedule of docs/THREAT-MODEL.md: its table, as the rule computes it.
#[test]
fn demo_schedule_table() {
    let plan = Plan::build(
        12,
        Params {
            seize_at: 4,
            seized: Party::Bob,
        },
    )
    .unwrap();
    let mut rows = Vec::new();
    for k in 1..=12 {
        match plan.slot(k).unwrap() {
            Slot::Seizure => rows.push(format!("{k} | bob-seized | seizure | - | -")),
            Slot::Message(d) => {
                let p = plan.protection(k).unwrap();
                rows.push(format!(
                    "{k} | {} | {} | {} | {}",
                    d.name(),
                    plan.window(k).unwrap().name(),
                    if p.protected { "yes" } else { "no" },
                    p.why
                ));
            }
        }
    }
    println!("{}", rows.join("\n"));
    let dirs: Vec<&str> = (1..=12)
        .map(|k| match plan.slot(k).unwrap() {
            Slot::Seizure => "seizure",
            Slot::Message(d) => d.name(),
        })
        .collect();
    assert_eq!(
        dirs,
        [
            "alice-to-bob",
            "bob-to-alice",
            "alice-to-bob",
            "seizure",
            "alice-to-bob",
            "bob-to-alice",
            "alice-to-bob",
            "bob-to-alice",
            "alice-to-bob",
            "alice-to-bob",
            "bob-to-alice",
            "bob-to-alice"
        ]
    );
    assert_eq!(plan.window(5), Some(Window::ReadableByDesign));
    assert!(!plan.protection(5).unwrap().protected);
    for k in [1, 2, 3, 6, 7, 8, 9, 10, 11, 12] {
        assert!(plan.protection(k).unwrap().protected, "message {k}");
    }
    assert_eq!(plan.eligible(Window::BeforeSeizure), [1, 3]);
    assert_eq!(plan.eligible(Window::AfterHealing), [7, 9, 10]);
}

/// The demo definition is the schedule of the table above, and validates.
#[test]
fn the_demo_definition_validates() {
    let spec = demo_spec().validate(1_700_000_000).unwrap();
    assert_eq!(spec.track.name(), "seizure");
    let plan = Plan::from_fields(&spec.params, spec.schedule.messages).unwrap();
    assert_eq!(
        plan.params,
        Params {
            seize_at: 4,
            seized: Party::Bob
        }
    );
    assert_eq!(spec.params, plan.fields());
}

#[test]
fn a_seizure_challenge_is_solvable_and_the_seized_state_reads_only_what_it_should() {
    for (seized, seize_at, messages) in [
        (Party::Bob, 2, 8),
        (Party::Bob, 4, 12),
        (Party::Alice, 5, 11),
    ] {
        let seed = MasterSeed::from_bytes([seize_at as u8; 32]);
        let params = Params { seize_at, seized };
        let public = public_of(&seed, messages, params, 2);
        let plan = Plan::build(messages, params).unwrap();
        assert!(placements_protected(&plan, &public.secrets));
        let (entries, report) = solve_all(&seed, &public);
        assert_eq!(report.problem, None, "{seized:?} at {seize_at}");
        assert_eq!(report.secrets_confirmed, 2);
        let (readable, protected) = counts(&plan);
        assert!(readable >= 1);
        assert_eq!(
            (report.readable, report.protected),
            (Some(readable), Some(protected))
        );
        let seizure = &entries[seize_at as usize];
        assert_eq!(seizure.kind, "seizure");
        assert_eq!(seizure.direction, seizure_direction(seized));
        assert!(target_impl::wire::WireMessage::decode(&seizure.bytes).is_err());
        // verify's replay regenerates and accepts the transcript, and refuses a changed byte.
        let report = Seizure
            .replay(targets::real(), &seed, &public, &entries)
            .unwrap();
        assert_eq!(report.readable, Some(readable));
        let mut bad = entries.clone();
        let n = bad[seize_at as usize].bytes.len();
        bad[seize_at as usize].bytes[n - 1] ^= 1;
        assert!(
            Seizure
                .replay(targets::real(), &seed, &public, &bad)
                .is_err()
        );
    }
}

#[test]
fn claims_are_judged_in_their_window() {
    let seed = MasterSeed::from_bytes([5; 32]);
    let params = Params {
        seize_at: 4,
        seized: Party::Bob,
    };
    let public = public_of(&seed, 12, params, 2);
    let claim = |property, p: &SecretPlacement| ClaimBody::PropertySecret {
        property,
        message: p.message,
        secret: conversation::secret(&seed, p.index).unwrap(),
    };
    let (before, after) = (&public.secrets[0], &public.secrets[1]);
    let judge = |c: &ClaimBody| Seizure.judge(targets::real(), &seed, &public, c).unwrap();
    assert_eq!(
        judge(&claim(SecurityProperty::ForwardSecrecy, before)),
        Judgement::Valid
    );
    assert_eq!(
        judge(&claim(SecurityProperty::PostCompromise, after)),
        Judgement::Valid
    );
    assert_eq!(
        judge(&claim(SecurityProperty::PostCompromise, before)),
        Judgement::Invalid
    );
    assert_eq!(
        judge(&claim(SecurityProperty::ForwardSecrecy, after)),
        Judgement::Invalid
    );
    let wrong = ClaimBody::PropertySecret {
        property: SecurityProperty::ForwardSecrecy,
        message: before.message,
        secret: Zeroizing::new([0; 16]),
    };
    assert_eq!(judge(&wrong), Judgement::Invalid);
    let plain = ClaimBody::Secret {
        message: before.message,
        secret: conversation::secret(&seed, before.index).unwrap(),
    };
    assert_eq!(judge(&plain), Judgement::Invalid);
}

/// Every bad parameter is refused, naming its field.
#[test]
fn bad_params_name_their_field() {
    let check = |fields: serde_json::Value, messages: u64, field: &str| {
        let fields: TrackFields = serde_json::from_value(fields).unwrap();
        match Seizure.check_params(&fields, &schedule(messages)) {
            Err(Error::Invalid {
                field: got,
                message,
            }) => {
                assert_eq!(got, field, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("{fields:?}: {other:?}"),
        }
    };
    check(json!({}), 12, "params.seize_at");
    check(json!({"seize_at": "4"}), 12, "params.seize_at");
    check(json!({"seize_at": -1}), 12, "params.seize_at");
    check(json!({"seize_at": 1}), 12, "params.seize_at");
    check(json!({"seize_at": 3}), 12, "params.seize_at");
    check(json!({"seize_at": 9}), 12, "params.seize_at");
    check(
        json!({"seize_at": 2, "seized": "alice"}),
        12,
        "params.seize_at",
    );
    check(
        json!({"seize_at": 4, "seized": "carol"}),
        12,
        "params.seized",
    );
    check(json!({"seize_at": 4, "seized": 1}), 12, "params.seized");
    check(json!({"seize_at": 4, "rounds": 1}), 12, "params.rounds");
    check(
        json!({"seize_at": 4, "protection": []}),
        12,
        "params.protection",
    );
    check(json!({"seize_at": 4}), 1_001, "schedule.messages");
    // The published fields are accepted back as they are (verify checks them so).
    let ok: TrackFields = serde_json::from_value(json!({"seize_at": 8})).unwrap();
    let published = Seizure.check_params(&ok, &schedule(12)).unwrap();
    assert_eq!(published.get("seized"), Some(&json!("bob")));
    assert_eq!(
        Seizure.check_params(&published, &schedule(12)).unwrap(),
        published
    );
    // Too many secrets for the schedule's windows: the setup names `secrets`.
    let spec = TrackSpec {
        schedule: schedule(12),
        secrets: 6,
        params: published,
    };
    match Seizure.setup(targets::real(), &MasterSeed::from_bytes([1; 32]), &spec) {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "secrets"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// Every valid schedule the builder makes puts secrets only in protected messages to the
/// seized party, both windows have room, and the solver confirms it on target-impl: it reads
/// every readable message to the seized party and none of the protected ones.
fn valid_params() -> impl Strategy<Value = (u64, Params, u32, [u8; 32])> {
    (any::<bool>(), 2u64..12, 0u64..6, 1u32..5, any::<[u8; 32]>()).prop_map(
        |(alice, seize_at, extra, secrets, seed)| {
            let seized = if alice { Party::Alice } else { Party::Bob };
            let seize_at = match (seized, seize_at) {
                (Party::Bob, 3) => 4,
                (Party::Alice, s) if s < 3 => 3,
                (_, s) => s,
            };
            (
                seize_at + 4 + extra,
                Params { seize_at, seized },
                secrets,
                seed,
            )
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn schedules_put_secrets_only_in_protected_messages(
        (messages, params, secrets, seed) in valid_params()
    ) {
        let checked = check_schedule(messages, params, secrets, seed);
        prop_assert!(matches!(checked, Ok(Some(_))), "{checked:?}");
    }

    #[test]
    fn the_builder_never_panics_and_refuses_with_a_field(
        messages in 0u64..40, seize_at in 0u64..45, alice in any::<bool>()
    ) {
        let seized = if alice { Party::Alice } else { Party::Bob };
        match Plan::build(messages, Params { seize_at, seized }) {
            Ok(plan) => {
                prop_assert!(plan.window(seize_at + 1) == Some(Window::ReadableByDesign));
                prop_assert!(!plan.eligible(Window::AfterHealing).is_empty());
            }
            Err(e) => prop_assert_eq!(e.field, "params.seize_at"),
        }
    }
}
