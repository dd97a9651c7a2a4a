//! The ind-cca game's core on target-impl: an honest game, the oracle's refusals, budgets,
//! state restore and replay.

use super::game::{self, Answer, Command};
use super::*;
use crate::targets;
use crate::tracks::{Sessions, Track};

const CHALLENGE: &str = "3f2a9c0d1e4b5a69";
const T0: u64 = 1_800_000_000;

fn seed() -> MasterSeed {
    MasterSeed::from_bytes([7; 32])
}

fn public(params: &[(&str, u64)]) -> Public {
    let fields = TrackFields(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect(),
    );
    let schedule = Schedule {
        messages: 1,
        interval_secs: 1,
        start_at: T0,
    };
    Public {
        schedule,
        secrets: Vec::new(),
        params: IndCca.check_params(&fields, &schedule).unwrap(),
    }
}

fn cmd(text: &str) -> Command {
    Command::from_json(text.as_bytes()).unwrap()
}

#[test]
fn a_game_plays_refuses_and_replays() {
    let public = public(&[("rounds", 30)]);
    let mut opened =
        game::open(targets::real(), &seed(), &public, CHALLENGE, 0, "carol", T0).unwrap();
    let mut entries = vec![opened.entry.clone()];
    let mut now = T0;
    let mut run = |c: &Command| {
        now += 1;
        let out = game::run(
            &seed(),
            &public,
            &mut opened.state,
            &mut opened.record,
            now,
            c,
        )
        .unwrap();
        entries.push(out.entry.clone());
        out
    };
    let sub = game_seed(&seed(), 0).unwrap();
    let mut bits = vec![0u8; 4];
    for i in 0..30u64 {
        let from = if i % 3 == 0 { "bob" } else { "alice" };
        let out = run(&cmd(&format!(
            r#"{{"command":"challenge","from":"{from}","m0":"00","m1":"01","content_type":1,"ttl":0}}"#
        )));
        let Answer::Challenge { round, ciphertext } = out.answer else {
            panic!()
        };
        assert_eq!(round, i);
        let to = if from == "bob" { "alice" } else { "bob" };
        // A changed byte of the tag is refused; the exact bytes are the challenge.
        let mut c = hex::decode(&ciphertext).unwrap();
        *c.last_mut().unwrap() ^= 1;
        let refused = run(&cmd(&format!(
            r#"{{"command":"decrypt","to":"{to}","bytes":"{}"}}"#,
            hex::encode(&c)
        )));
        assert_eq!(
            refused.answer,
            Answer::Decryption {
                decryption: "refused"
            }
        );
        if i % 2 == 0 {
            let exact = run(&cmd(&format!(
                r#"{{"command":"decrypt","to":"{to}","bytes":"{ciphertext}"}}"#
            )));
            assert_eq!(
                exact.answer,
                Answer::Decryption {
                    decryption: "challenge"
                }
            );
        }
        if round_bit(&sub, i).unwrap() {
            bits[(i / 8) as usize] |= 0x80 >> (i % 8);
        }
    }
    // The encryption oracle's ciphertext decrypts, in both directions.
    for (from, to) in [("alice", "bob"), ("bob", "alice")] {
        let Answer::Ciphertext { ciphertext } = run(&cmd(&format!(
            r#"{{"command":"encrypt","from":"{from}","plaintext":"6869","content_type":2,"ttl":9}}"#
        )))
        .answer
        else {
            panic!()
        };
        let out = run(&cmd(&format!(
            r#"{{"command":"decrypt","to":"{to}","bytes":"{ciphertext}"}}"#
        )));
        assert!(
            matches!(&out.answer, Answer::Plaintext { plaintext, content_type: 2, ttl: 9, .. } if plaintext == "6869"),
            "{:?}",
            out.answer
        );
    }
    // Knowing every bit wins (30 rounds at G = 1000: 30 correct is above min_correct).
    let out = run(&cmd(&format!(
        r#"{{"command":"guess","bits":"{}"}}"#,
        hex::encode(&bits)
    )));
    let Answer::Judged {
        rounds: 30,
        correct: 30,
        won: true,
        ..
    } = out.answer
    else {
        panic!("{:?}", out.answer)
    };
    assert!(out.win.is_some());
    let over = game::run(
        &seed(),
        &public,
        &mut opened.state,
        &mut opened.record,
        T0 + 999,
        &cmd(r#"{"command":"guess","bits":"00"}"#),
    );
    assert!(matches!(
        over,
        Err(Error::Conflict {
            field: "session",
            ..
        })
    ));
    let report = Sessions::replay(
        &IndCca,
        targets::real(),
        &seed(),
        &public,
        CHALLENGE,
        0,
        &entries,
        &opened.record.head,
    )
    .unwrap();
    assert_eq!(report.wins.len(), 1);
    assert_eq!(report.wins[0].kind, "ind-cca");
    let mut damaged = entries.clone();
    let n = damaged[3].len();
    damaged[3][n / 2] ^= 1;
    assert!(
        Sessions::replay(
            &IndCca,
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            0,
            &damaged,
            &opened.record.head
        )
        .is_err()
    );
}

#[test]
fn bad_commands_name_their_field() {
    for (text, field) in [
        (
            r#"{"command":"challenge","from":"carol","m0":"","m1":"","content_type":1,"ttl":0}"#,
            "from",
        ),
        (
            r#"{"command":"challenge","from":"bob","m0":"0","m1":"","content_type":1,"ttl":0}"#,
            "m0",
        ),
        (
            r#"{"command":"challenge","from":"bob","m0":"00","m1":"","content_type":1,"ttl":0}"#,
            "m1",
        ),
        (
            r#"{"command":"challenge","from":"bob","m0":"00","m1":"00","content_type":300,"ttl":0}"#,
            "content_type",
        ),
        (
            r#"{"command":"encrypt","from":"bob","plaintext":"0G","content_type":1,"ttl":0}"#,
            "plaintext",
        ),
        (
            r#"{"command":"encrypt","from":"bob","plaintext":"00","content_type":1,"ttl":-1}"#,
            "ttl",
        ),
        (r#"{"command":"decrypt","to":"eve","bytes":"00"}"#, "to"),
        (
            r#"{"command":"decrypt","to":"bob","bytes":"ABCD"}"#,
            "bytes",
        ),
        (r#"{"command":"guess","bits":7}"#, "bits"),
        (r#"{"command":"shout"}"#, "command"),
        (r#"[1]"#, "command"),
    ] {
        match Command::from_json(text.as_bytes()) {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    let long = format!(
        r#"{{"command":"encrypt","from":"bob","plaintext":"{}","content_type":1,"ttl":0}}"#,
        "00".repeat(MAX_PLAINTEXT_LEN + 1)
    );
    assert!(
        matches!(Command::from_json(long.as_bytes()), Err(Error::Invalid { field, .. }) if field == "plaintext")
    );
    // Budgets and the guess's length.
    let public = public(&[("rounds", 2), ("oracle_calls", 1)]);
    let mut opened =
        game::open(targets::real(), &seed(), &public, CHALLENGE, 1, "carol", T0).unwrap();
    let mut run = |c: &str| {
        game::run(
            &seed(),
            &public,
            &mut opened.state,
            &mut opened.record,
            T0 + 1,
            &cmd(c),
        )
    };
    let guess_early = run(r#"{"command":"guess","bits":""}"#);
    assert!(matches!(
        guess_early,
        Err(Error::Conflict { field: "bits", .. })
    ));
    let ch =
        r#"{"command":"challenge","from":"alice","m0":"00","m1":"01","content_type":1,"ttl":0}"#;
    run(ch).unwrap();
    run(ch).unwrap();
    assert!(matches!(
        run(ch),
        Err(Error::Conflict {
            field: "rounds",
            ..
        })
    ));
    run(r#"{"command":"decrypt","to":"bob","bytes":"00"}"#).unwrap();
    assert!(matches!(
        run(r#"{"command":"decrypt","to":"bob","bytes":"00"}"#),
        Err(Error::Conflict {
            field: "oracle_calls",
            ..
        })
    ));
    for bad in ["", "0000", "01"] {
        let r = run(&format!(r#"{{"command":"guess","bits":"{bad}"}}"#));
        assert!(
            matches!(r, Err(Error::Invalid { ref field, .. }) if field == "bits"),
            "{bad}: {r:?}"
        );
    }
    let Answer::Judged {
        rounds: 2,
        won: false,
        min_correct: None,
        ..
    } = run(r#"{"command":"guess","bits":"c0"}"#).unwrap().answer
    else {
        panic!()
    };
}

#[test]
fn the_state_restores_and_params_are_checked() {
    let public = public(&[]);
    let opened = game::open(targets::real(), &seed(), &public, CHALLENGE, 2, "carol", T0).unwrap();
    let bytes = opened.state.to_bytes();
    let restored = GameState::from_bytes(targets::real(), &bytes).unwrap();
    assert_eq!(*restored.to_bytes(), *bytes);
    assert_eq!(*opened.state.duplicate().to_bytes(), *bytes);
    for n in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        assert!(GameState::from_bytes(targets::real(), &bytes[..n]).is_err());
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(GameState::from_bytes(targets::real(), &longer).is_err());
    let p = Params::from_fields(&public.params).unwrap();
    assert_eq!(p, Params::default());
    assert!(
        p.rounds
            > threshold::rounds_for_advantage(1, 20, p.max_games)
                .unwrap()
                .unwrap()
    );
    match IndCca.check_params(
        &TrackFields(vec![("rounds".into(), serde_json::json!(0))]),
        &public.schedule,
    ) {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "params.rounds"),
        other => panic!("{other:?}"),
    }
    assert!(
        game::open(
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            1_000,
            "carol",
            T0
        )
        .is_err()
    );
    assert!(
        game::open(
            targets::real(),
            &seed(),
            &public,
            CHALLENGE,
            3,
            "no spaces",
            T0
        )
        .is_err()
    );
}
