//! Replays the server's fuzz targets' regression inputs (`fuzz/regressions/{claim_text,
//! mitm_session,ind_cca_game,seizure_schedule}/*`, each a failure a fuzzer once found) and their seed corpora through the very
//! harness bodies the libFuzzer binaries run, included here from `fuzz/src/server/mod.rs` (the
//! replay loop from `fuzz/src/corpus.rs`), so `cargo test` checks them without building
//! libFuzzer (target-impl's own test replays the protocol's targets).

#[allow(unreachable_pub, missing_docs)]
#[path = "../../fuzz/src/corpus.rs"]
mod corpus;
#[allow(unreachable_pub, missing_docs)]
#[path = "../../fuzz/src/server/mod.rs"]
mod harness;

use std::path::{Path, PathBuf};

use harness::mitm_session::{Payload, Pick, Step};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn regressions_replay() {
    let mut inputs = Vec::new();
    for (target, check) in harness::TARGETS {
        let dir = fuzz_dir().join("regressions").join(target);
        let found = corpus::regression_inputs(&dir, check);
        inputs.extend(found.unwrap_or_else(|e| panic!("{}: {e}", dir.display())));
    }
    let count = corpus::replay(inputs);
    println!("replayed {count} regression inputs");
}

#[test]
fn seed_corpora_pass() {
    let seeds = harness::seeds::all();
    for (target, _) in harness::TARGETS {
        let mine = seeds.iter().filter(|s| s.target == target).count();
        assert!(mine > 1, "seeds for {target}");
    }
    let count = corpus::replay(corpus::seed_inputs(seeds, &harness::TARGETS).unwrap());
    println!("replayed {count} seeds");
}

/// Every server target has its libFuzzer binary and its regressions folder.
#[test]
fn every_server_target_is_built_and_replayed() {
    for (target, _) in harness::TARGETS {
        let binary = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let source = std::fs::read_to_string(&binary).unwrap();
        assert!(
            source.contains(&format!("target_impl_fuzz::server::{target}::check")),
            "{} runs the harness body",
            binary.display()
        );
        assert!(
            fuzz_dir().join("regressions").join(target).is_dir(),
            "fuzz/regressions/{target} is missing"
        );
    }
}

/// The step seeds spell the steps they are named for: the honest relay's deliveries are all
/// accepted, so the fuzzer starts from a live session and not from refusals.
#[test]
fn session_seeds_spell_their_steps() {
    let seeds = harness::seeds::all();
    let relay = seeds
        .iter()
        .find(|s| s.target == "mitm_session" && s.name == "honest_relay")
        .unwrap();
    let mut u = arbitrary::Unstructured::new(&relay.bytes);
    let mut steps = Vec::new();
    while !u.is_empty() {
        steps.push(<Step as arbitrary::Arbitrary>::arbitrary(&mut u).unwrap());
    }
    let spelled: Vec<String> = steps.iter().map(|s| format!("{s:?}")).collect();
    assert_eq!(
        spelled,
        [
            "FetchBundle",
            "Deliver { to: Alice, payload: Genuine(0) }",
            "Ask(Alice)",
            "Deliver { to: Bob, payload: Genuine(1) }",
            "Ask(Bob)",
            "Deliver { to: Alice, payload: Genuine(2) }",
        ]
    );
    let answers = harness::mitm_session::run(&steps);
    assert_eq!(
        answers,
        [
            "bundle",
            "delivery:accepted",
            "ciphertext",
            "delivery:accepted",
            "ciphertext",
            "delivery:accepted",
        ]
    );
}

/// A forged delivery is what the target exists to catch: a flipped ciphertext is refused and
/// the session goes on.
#[test]
fn a_flipped_message_is_refused() {
    let steps = [
        Step::FetchBundle,
        Step::Deliver {
            to: Pick::Alice,
            payload: Payload::Genuine(0),
        },
        Step::Ask(Pick::Alice),
        Step::Deliver {
            to: Pick::Bob,
            payload: Payload::Flipped {
                which: 1,
                at: 50,
                mask: 0x10,
            },
        },
        Step::Deliver {
            to: Pick::Bob,
            payload: Payload::Genuine(1),
        },
    ];
    assert_eq!(
        harness::mitm_session::run(&steps)[3..],
        ["delivery:refused", "delivery:accepted"]
    );
}

/// The ind-cca game's harness: a re-encoded challenge ciphertext is refused on target-impl, the
/// exact one is the challenge, and a guess of too few rounds is judged and loses.
#[test]
fn an_ind_cca_game_answers_as_documented() {
    use harness::ind_cca_game::{Payload as P, Pick as B, Step as S};
    let steps = [
        S::Challenge(B::Alice, 16, 1, 0),
        S::Decrypt(B::Bob, P::Flipped(0, 500, 1)),
        S::Decrypt(B::Bob, P::Genuine(0)),
        S::Guess(0, false),
        S::Guess(0, true),
        S::Challenge(B::Bob, 1, 1, 0),
    ];
    assert_eq!(
        harness::ind_cca_game::run(&steps),
        [
            "ciphertext",
            "decryption:refused",
            "decryption:challenge",
            "refused:bits",
            "won:false",
            "refused:session",
        ]
    );
}
