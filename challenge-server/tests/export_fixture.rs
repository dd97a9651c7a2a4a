//! `verify` on a challenge exported before the track and target interfaces were built
//! (tests/fixtures/README.md): the redesign must keep every published byte, so this export, made
//! by the code before it, must keep verifying, through the library and through the binary, and
//! one changed byte must still be caught.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::PathBuf;

use challenge_server::verify::{self, PinnedKey, Source};
use common::run_cli;

/// A verifier's time after everything in the export (which has no reveal deadline).
const LATER: u64 = 2_000_000_000;

fn fixture() -> (PathBuf, String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/passive-export");
    let id = std::fs::read_to_string(dir.join("CHALLENGE_ID")).unwrap();
    (dir, id.trim().to_owned())
}

/// The export's server key stands for the one the researcher saved at the challenge's creation.
fn pinned_key_file() -> String {
    let (dir, _) = fixture();
    dir.join("server-key.json").to_str().unwrap().to_owned()
}

fn pinned() -> PinnedKey {
    PinnedKey::from_arg(&pinned_key_file(), None).unwrap()
}

#[tokio::test]
async fn an_export_from_before_the_track_interface_verifies() {
    let (dir, id) = fixture();
    let report = verify::verify(&Source::Dir(dir.clone()), &id, &pinned(), &[], LATER)
        .await
        .unwrap_or_else(|e| panic!("the committed export no longer verifies: {e}"));
    assert_eq!((report.entries, report.secrets, report.claims), (9, 2, 4));
    let out = tokio::task::spawn_blocking(move || {
        run_cli(
            &[
                "verify",
                "--dir",
                dir.to_str().unwrap(),
                "--server-key",
                &pinned_key_file(),
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("OK"));
}

#[tokio::test]
async fn a_changed_byte_of_the_export_is_caught() {
    let (dir, id) = fixture();
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    let path = copy.path().join("transcript.json");
    let text = std::fs::read_to_string(&path).unwrap();
    // One hex digit inside the first published message, changed.
    let key = "\"bytes\": \"";
    let digit = text.find(key).unwrap() + key.len() + 40;
    let mut bytes = text.into_bytes();
    bytes[digit] = if bytes[digit] == b'0' { b'1' } else { b'0' };
    std::fs::write(&path, bytes).unwrap();
    assert!(
        verify::verify(
            &Source::Dir(copy.path().to_path_buf()),
            &id,
            &pinned(),
            &[],
            LATER
        )
        .await
        .is_err()
    );
}

/// Every log event and every document of the old export, parsed by today's types and written
/// again, gives the same bytes (an event then with its version after its fields): the track's
/// fields, now carried through the interface, are written where they were.
#[test]
fn the_old_export_reads_and_writes_back_byte_for_byte() {
    use challenge_server::api::{ChallengeView, ClaimView, LogEntryView, TranscriptPage};
    use challenge_server::log::Event;
    let (dir, _) = fixture();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let entries: Vec<LogEntryView> = serde_json::from_str(&read("log-entries.json")).unwrap();
    assert!(entries.len() >= 9 + 1 + 4 + 2, "{} entries", entries.len());
    let mut created = 0;
    for entry in &entries {
        let data = hex::decode(&entry.data).unwrap();
        let event = Event::parse(&data).unwrap();
        created += usize::from(matches!(event, Event::ChallengeCreated(_)));
        // Written today, an entry ends with its version, which entries of then did not carry.
        let old = String::from_utf8(data).unwrap();
        let versioned = format!(
            "{},\"v\":{}}}",
            old.strip_suffix('}').unwrap(),
            event.version()
        );
        assert_eq!(
            String::from_utf8(event.to_bytes().unwrap()).unwrap(),
            versioned,
            "log entry {}",
            entry.index
        );
    }
    assert_eq!(created, 1);
    let challenge: ChallengeView = serde_json::from_str(&read("challenge.json")).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&challenge).unwrap().trim_end(),
        read("challenge.json").trim_end()
    );
    let transcript: TranscriptPage = serde_json::from_str(&read("transcript.json")).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&transcript)
            .unwrap()
            .trim_end(),
        read("transcript.json").trim_end()
    );
    let claims: Vec<ClaimView> = serde_json::from_str(&read("claims.json")).unwrap();
    assert_eq!(
        serde_json::to_string_pretty(&claims).unwrap().trim_end(),
        read("claims.json").trim_end()
    );
}
