//! Every TOML and JSON example in docs/*.md is loaded as what it documents, so that a
//! documented example cannot rot. A fence names what it is after its language
//! (docs/API.md, "Conventions"):
//!
//! - ```` ```toml challenge ````, ```` ```json challenge ````: a challenge definition, parsed as
//!   `challenge create --file` and `POST /admin/challenges` parse it, and validated;
//! - ```` ```toml config ````: a server configuration, loaded by the config loader;
//! - ```` ```json event ````: a log event;
//! - ```` ```json response ````: a response body, not an input: it must only be JSON;
//! - ```` ```yaml prometheus ````: a Prometheus configuration, checked by `promtool check config`.
//!
//! A `toml` or `json` fence with no such word fails the test. JSON request bodies in `sh`
//! fences (`curl … -d '…'` or `-d "…"`) are loaded as the request type of their endpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use challenge_server::Config;
use challenge_server::api::{CommitRequest, DecisionRequest, RevealRequest};
use challenge_server::http::extract::parse_json;
use challenge_server::log::Event;
use challenge_server::tracks::ChallengeSpec;

/// A time at which every documented schedule is in the future.
const NOW: u64 = 1_700_000_000;

struct Fence {
    file: String,
    line: usize,
    info: String,
    text: String,
}

fn fences() -> Vec<Fence> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut open: Option<(usize, String, String, Vec<String>)> = None;
        for (i, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            match &mut open {
                None => {
                    if let Some(info) = trimmed.strip_prefix("```") {
                        open = Some((i + 1, indent.to_owned(), info.trim().to_owned(), Vec::new()));
                    }
                }
                Some((start, fence_indent, info, body)) => {
                    if trimmed == "```" {
                        out.push(Fence {
                            file: file.clone(),
                            line: *start,
                            info: info.clone(),
                            text: body.join("\n") + "\n",
                        });
                        open = None;
                    } else {
                        body.push(
                            line.strip_prefix(fence_indent.as_str())
                                .unwrap_or(line)
                                .to_owned(),
                        );
                    }
                }
            }
        }
        assert!(open.is_none(), "{file}: a fence is not closed");
    }
    out
}

fn load_challenge(spec: Result<ChallengeSpec, challenge_server::Error>) -> Result<(), String> {
    let spec = spec.map_err(|e| e.to_string())?;
    spec.validate(NOW).map(|_| ()).map_err(|e| e.to_string())
}

/// Loads one fence as what its info string says; `Ok(false)` for a fence that is no TOML or
/// JSON example.
fn load(fence: &Fence) -> Result<bool, String> {
    let mut words = fence.info.split_whitespace();
    let lang = words.next().unwrap_or_default();
    let kind = words.next();
    match (lang, kind) {
        ("toml", Some("challenge")) => load_challenge(ChallengeSpec::from_toml(&fence.text)),
        ("toml", Some("config")) => Config::from_toml_and_env(&fence.text, [])
            .map(|_| ())
            .map_err(|e| e.to_string()),
        ("json", Some("challenge")) => load_challenge(parse_json(fence.text.as_bytes())),
        ("json", Some("event")) => Event::parse(fence.text.trim_end().as_bytes())
            .map(|_| ())
            .map_err(|e| e.to_string()),
        ("json", Some("response")) => serde_json::from_str::<serde_json::Value>(&fence.text)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        ("toml" | "json", other) => Err(format!(
            "unmarked or unknown example kind {other:?}: say what it documents \
             (challenge, config, event, response)"
        )),
        // promtool reads a whole configuration file, not standard input.
        ("yaml", Some("prometheus")) => {
            let Some(promtool) = common::promtool::find("the documented scrape configuration")
            else {
                return Ok(false);
            };
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let path = dir.path().join("prometheus.yml");
            std::fs::write(&path, &fence.text).map_err(|e| e.to_string())?;
            let path = path.to_str().ok_or("a temporary path that is not UTF-8")?;
            common::promtool::run(&promtool, &["check", "config", path], "")
        }
        ("yaml", other) => Err(format!(
            "unmarked or unknown example kind {other:?}: say what it documents (prometheus)"
        )),
        ("sh", _) => {
            load_curl_bodies(&fence.text)?;
            return Ok(false);
        }
        _ => return Ok(false),
    }
    .map(|()| true)
}

/// The `-d` bodies of `curl` commands, loaded as their endpoint's request type.
fn load_curl_bodies(script: &str) -> Result<(), String> {
    // Join continued lines, so a command is one line.
    let joined = script.replace("\\\n", " ");
    for command in joined.lines().filter(|l| l.contains("curl ")) {
        let Some((_, rest)) = command.split_once(" -d ") else {
            continue;
        };
        let rest = rest.trim_start();
        let body = if let Some(single) = rest.strip_prefix('\'') {
            single.split('\'').next().unwrap_or_default().to_owned()
        } else if let Some(double) = rest.strip_prefix('"') {
            // A double-quoted shell word: `\"` is a quote; `$VAR` stays as text.
            let mut out = String::new();
            let mut chars = double.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.extend(chars.next()),
                    '"' => break,
                    c => out.push(c),
                }
            }
            out
        } else {
            return Err(format!("a -d body that is not quoted: {command}"));
        };
        let bytes = body.as_bytes();
        let loaded = if command.contains("/admin/challenges") {
            load_challenge(parse_json(bytes))
        } else if command.contains("/decision") {
            parse_json::<DecisionRequest>(bytes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if command.contains("/claims/commit") {
            parse_json::<CommitRequest>(bytes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if command.contains("/commands") {
            // A command of some track (the example's challenge names it).
            let parsed: Vec<_> = challenge_server::tracks::TRACKS
                .iter()
                .filter_map(|t| t.sessions())
                .map(|s| s.parse(bytes))
                .collect();
            if parsed.iter().any(|r| r.is_ok()) {
                Ok(())
            } else {
                Err(format!("{parsed:?}"))
            }
        } else if command.contains("/sessions") {
            parse_json::<challenge_server::sessions::OpenRequest>(bytes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else if command.contains("/reveal") {
            parse_json::<RevealRequest>(bytes)
                .map(|_| ())
                .map_err(|e| e.to_string())
        } else {
            Err(format!(
                "a body for an endpoint this test does not know: {command}"
            ))
        };
        loaded.map_err(|e| format!("{body}: {e}"))?;
    }
    Ok(())
}

#[test]
fn every_documented_example_loads() {
    let fences = fences();
    let mut failures = Vec::new();
    let mut loaded = 0;
    for fence in &fences {
        match load(fence) {
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(e) => failures.push(format!(
                "docs/{}:{} ```{}: {e}",
                fence.file, fence.line, fence.info
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "examples that do not load:\n{}",
        failures.join("\n")
    );
    // The challenge definition, the configuration, an event and the responses at least.
    assert!(loaded >= 5, "only {loaded} examples found");
}

#[test]
fn an_unmarked_or_broken_example_is_caught() {
    let fence = |info: &str, text: &str| Fence {
        file: "x.md".to_owned(),
        line: 1,
        info: info.to_owned(),
        text: text.to_owned(),
    };
    assert!(load(&fence("json", "{}")).is_err(), "unmarked");
    assert!(load(&fence("toml config", "listen = 5\n")).is_err());
    assert!(load(&fence("json response", "{")).is_err());
    let misplaced = "title = \"t\"\nrules = \"r\"\n[bounty]\nsecret = \"1\"\n[schedule]\nmessages = 2\ninterval_secs = 1\ndeadline_after_last_secs = 5\n";
    assert!(
        load(&fence("toml challenge", misplaced)).is_err(),
        "a key after [schedule] is schedule's"
    );
    assert!(
        load_curl_bodies("curl -s -X POST $B/admin/claims/$K/decision -d '[\"won\"]'").is_err()
    );
}

/// docs/API.md's registry of log events is the one the code writes and reads: the same types,
/// in the same order, at the same versions.
#[test]
fn the_documented_event_registry_is_the_codes() {
    let api =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/API.md"))
            .unwrap();
    let header = api
        .lines()
        .position(|l| l.starts_with("| `type` | `v` |"))
        .expect("the registry table");
    let documented: Vec<(String, u32)> = api
        .lines()
        .skip(header + 2)
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let mut cells = l.split(" | ");
            let name = cells
                .next()
                .unwrap()
                .trim_start_matches("| ")
                .trim_matches('`');
            (name.to_owned(), cells.next().unwrap().parse().unwrap())
        })
        .collect();
    let code: Vec<(String, u32)> = Event::REGISTRY
        .iter()
        .map(|(name, v)| ((*name).to_owned(), *v))
        .collect();
    assert_eq!(documented, code);
}
