//! The checker over the committed vector files: every positive vector replays through
//! target-impl byte for byte with every intermediate re-derived; every negative vector yields
//! its error class with the state unchanged (except Expired).
// The file loader is a helper outside `#[test]` functions: a missing or unreadable file is a
// failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use vectors::check::{ERROR_CLASSES, Report, check_file};
use vectors::model::VectorFile;

const FILES: [&str; 5] = [
    "bundles.json",
    "pqxdh.json",
    "conversations.json",
    "messages.json",
    "states.json",
];

fn load(name: &str) -> (String, VectorFile) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let file: VectorFile = serde_json::from_str(&text).unwrap();
    (text, file)
}

#[test]
fn every_vector_replays() {
    let mut total = Report::default();
    println!(
        "{:<20} {:>8} {:>8} {:>6}",
        "file", "positive", "negative", "steps"
    );
    for name in FILES {
        let (_, file) = load(name);
        let r = check_file(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!(
            "{name:<20} {:>8} {:>8} {:>6}",
            r.positive, r.negative, r.steps
        );
        total.positive += r.positive;
        total.negative += r.negative;
        total.steps += r.steps;
    }
    println!(
        "{:<20} {:>8} {:>8} {:>6}",
        "total", total.positive, total.negative, total.steps
    );
    assert!(total.negative >= 40, "at least 40 negative vectors");
}

#[test]
fn files_are_canonical() {
    // The model reads every field (unknown fields are refused) and writes the same bytes back.
    for name in FILES {
        let (text, file) = load(name);
        let mut again = serde_json::to_string_pretty(&file).unwrap();
        again.push('\n');
        assert!(
            again == text,
            "{name} is not in the generator's canonical form"
        );
        assert_eq!(file.schema, "../schema/protocol-vectors.schema.json");
    }
}

#[test]
fn negative_vectors_cover_every_error_class() {
    let mut seen = std::collections::BTreeSet::new();
    for name in FILES {
        let (_, file) = load(name);
        for v in &file.vectors {
            if v.expected != "ok" {
                seen.insert(v.expected.clone());
            }
        }
    }
    for class in ERROR_CLASSES {
        assert!(seen.contains(class), "no negative vector of class {class}");
    }
}

#[test]
fn hex_is_lowercase_everywhere() {
    for name in FILES {
        let (text, _) = load(name);
        let upper_hex = text
            .split('"')
            .filter(|s| s.len() >= 2 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .any(|s| s.bytes().any(|b| b.is_ascii_uppercase()));
        assert!(!upper_hex, "{name} has upper-case hex");
    }
}

#[test]
fn blob_model_matches_target_impl_encoding() {
    // vectors/src/blob.rs is written from PROTOCOL.md 10; every blob target-impl wrote must
    // parse and re-encode to the same bytes through it.
    use vectors::blob::{DeviceBlob, SessionBlob};
    let mut blobs = 0;
    for name in FILES {
        let (_, file) = load(name);
        for v in &file.vectors {
            for step in &v.steps {
                for blob in [&step.state_before, &step.state_after]
                    .into_iter()
                    .flatten()
                {
                    let bytes = vectors::unhex(blob).unwrap();
                    assert_eq!(
                        DeviceBlob::parse(&bytes).unwrap().encode(),
                        bytes,
                        "{}",
                        v.id
                    );
                    blobs += 1;
                }
                if step.op == "restore_session" && step.error.is_none() {
                    let bytes = vectors::unhex(step.input.blob.as_ref().unwrap()).unwrap();
                    assert_eq!(SessionBlob::parse(&bytes).unwrap().encode(), bytes);
                }
            }
        }
    }
    assert!(blobs > 100);
}

#[test]
fn padding_rule_matches_target_impl() {
    for n in (17..70_000).chain([1 << 20, (1 << 20) + 17, (4 << 20) + 17]) {
        assert_eq!(
            vectors::derive::padded_len(n),
            target_impl::padded_len(n),
            "{n}"
        );
    }
}

#[test]
fn replay_rng_reports_every_mismatch() {
    use rand_core::Rng;
    use vectors::rng::ReplayRng;
    let mut rng = ReplayRng::new(vec![vec![1; 16]]);
    let mut out = [0u8; 16];
    rng.fill_bytes(&mut out);
    assert_eq!(out, [1; 16]);
    assert!(rng.finish().is_ok());

    let mut rng = ReplayRng::new(vec![vec![1; 16]]);
    let mut out = [9u8; 32];
    rng.fill_bytes(&mut out);
    assert_eq!(out, [0; 32], "a mismatched draw is served as zeros");
    assert!(rng.finish().is_err(), "wrong length");

    let rng = ReplayRng::new(vec![vec![1; 16]]);
    assert!(rng.finish().is_err(), "a draw left over");

    let mut rng = ReplayRng::new(Vec::new());
    rng.fill_bytes(&mut out);
    assert!(rng.finish().is_err(), "a draw past the end");
}
