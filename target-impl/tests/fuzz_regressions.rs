//! Replays the fuzz targets' regression inputs (`fuzz/regressions/<target>/*`, each a crash a
//! fuzzer once found) and their seed corpora through the very harness bodies the libFuzzer
//! binaries run, included here from `fuzz/src/protocol.rs` (the replay loop from
//! `fuzz/src/corpus.rs`) so the workspace's `cargo test` checks them without building
//! libFuzzer. Requires `--features hazmat,arbitrary`. The server's targets
//! (`harness::SERVER_TARGETS`) are replayed by challenge-server's own test, so this one depends
//! on nothing above target-impl.
#![cfg(all(feature = "hazmat", feature = "arbitrary"))]

#[allow(unreachable_pub, missing_docs)]
#[path = "../../fuzz/src/corpus.rs"]
mod corpus;
#[allow(unreachable_pub, missing_docs)]
#[path = "../../fuzz/src/protocol.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions")
}

fn check_named(target: &str) -> Option<harness::Check> {
    harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, check)| *check)
}

#[test]
fn regressions_replay() {
    let mut inputs = Vec::new();
    let dir = regressions_dir();
    let mut targets: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    targets.sort();
    for target_dir in targets {
        let target = target_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if harness::SERVER_TARGETS.contains(&target.as_str()) {
            continue;
        }
        let check = check_named(&target)
            .unwrap_or_else(|| panic!("fuzz/regressions/{target}: no fuzz target of that name"));
        inputs.extend(corpus::regression_inputs(&target_dir, check).unwrap());
    }
    let count = corpus::replay(inputs);
    println!("replayed {count} regression inputs");
}

#[test]
fn seed_corpora_pass() {
    let seeds = harness::seeds::all();
    for (target, _) in harness::TARGETS {
        assert!(
            seeds.iter().any(|s| s.target == target),
            "no seed for {target}"
        );
    }
    let count = corpus::replay(corpus::seed_inputs(seeds, &harness::TARGETS).unwrap());
    println!("replayed {count} seeds");
}

/// The seeds reach the outcomes they are named for, so the fuzzers start from every branch.
#[test]
fn seeds_reach_their_branches() {
    use target_impl::Error;
    let world = harness::fixture::world();
    let fields = harness::blob::SessionFields::parse(&world.session_blob).unwrap();
    assert!(fields.skipped.len() > 1, "Bob's session holds skipped keys");
    for (m, clock) in &world.to_session {
        let now = harness::fixture::session_clock(*clock);
        let got = world.session.clone().decrypt(&m.bytes, now).map(|_| ());
        let expected = match m.name {
            n if n.ends_with("_replayed") || n.ends_with("_aged_out") => Err(Error::Replay),
            n if n.contains("expired") => Err(Error::Expired),
            _ => Ok(()),
        };
        assert_eq!(got, expected, "{}", m.name);
    }
    for m in &world.initial {
        let got = world
            .responder
            .clone()
            .decrypt(&world.alice, &m.bytes, harness::fixture::HANDSHAKE_NOW)
            .map(|_| ());
        let expected = if m.name.contains("expired") {
            Err(Error::Expired)
        } else {
            Ok(())
        };
        assert_eq!(got, expected, "{}", m.name);
    }
}

/// `fuzz/fuzz_targets/*.rs`, the harness's target list with the server's and
/// `fuzz/regressions/*` name the same targets, so no target escapes the replay.
#[test]
fn every_fuzz_target_is_replayed() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut binaries: Vec<String> = std::fs::read_dir(fuzz.join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    binaries.sort();
    let mut harnessed: Vec<String> = harness::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .chain(harness::SERVER_TARGETS.iter().map(|n| n.to_string()))
        .collect();
    harnessed.sort();
    assert_eq!(binaries, harnessed);
    for t in &harnessed {
        assert!(
            regressions_dir().join(t).is_dir(),
            "fuzz/regressions/{t} is missing"
        );
    }
}
