//! The track interface's boundary (DESIGN section 7): no module outside `src/tracks/` names a
//! particular track, so that a new track is its module and one line in `tracks::TRACKS`. Every
//! registered track's name is searched for, as a word and in any case, in every other source
//! file of the crate, comments included; and no file outside `src/tracks/` reaches into a
//! track's module.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn has_word(text: &str, word: &str) -> Option<usize> {
    let lower = text.to_lowercase();
    let word = word.to_lowercase();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = lower[from..].find(&word) {
        let start = from + at;
        let end = start + word.len();
        let before = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let after = lower[end..].chars().next().is_none_or(|c| !is_ident(c));
        if before && after {
            return Some(lower[..start].matches('\n').count() + 1);
        }
        from = end;
    }
    None
}

#[test]
fn no_module_outside_tracks_names_a_track() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let tracks_dir = src.join("tracks");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let outside: Vec<&PathBuf> = files
        .iter()
        .filter(|p| !p.starts_with(&tracks_dir))
        .collect();
    assert!(
        outside.len() > 20,
        "the source tree was not found: {}",
        src.display()
    );
    let names = challenge_server::tracks::names();
    assert!(!names.is_empty());
    let mut found = Vec::new();
    for path in outside {
        let text = std::fs::read_to_string(path).unwrap();
        for name in &names {
            if let Some(line) = has_word(&text, name) {
                found.push(format!(
                    "{}:{line} names the track {name:?}",
                    path.display()
                ));
            }
        }
        if let Some(line) = text.lines().position(|l| {
            l.contains("tracks::") && {
                let after = &l[l.find("tracks::").unwrap() + "tracks::".len()..];
                names.iter().any(|n| after.starts_with(n))
            }
        }) {
            found.push(format!(
                "{}:{} reaches into a track's module",
                path.display(),
                line + 1
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_word_search_finds_what_it_must() {
    assert_eq!(
        has_word("x\nuse crate::tracks::passive::Solver;", "passive"),
        Some(2)
    );
    assert_eq!(has_word("\"Passive\"", "passive"), Some(1));
    assert_eq!(has_word("impassive passives passive_x", "passive"), None);
}
