//! `claim_text`: the claims path's parsers. The input is a commit request's JSON and a reveal
//! request's JSON, split at the first NUL byte (without one, the whole input is tried as
//! both); each goes through serde and its check, and for every reveal that parses, the claim
//! text and commitment are recomputed and the text is read back through its grammar
//! (docs/API.md, "Claim commitment"): every line `name: value\n`, and a request rebuilt from
//! its lines parses to the same text.

use challenge_server::api::{CommitRequest, RevealRequest};
use challenge_server::claims::{
    CLAIM_LABEL, ClaimBody, check_commit, claim_text, commitment, is_claimant, parse_reveal,
};
use challenge_server::fields::is_id;
use target_impl::hazmat::sha256;

/// The challenge and claimant a reveal's text is computed for when the commit part does not
/// check (a reveal is judged against its stored commit, whose fields were checked).
const FALLBACK: (&str, &str) = ("3f2a9c0d1e4b5a69", "alice.research");

/// The target.
pub fn check(data: &[u8]) {
    let (commit, reveal) = match data.iter().position(|&b| b == 0) {
        Some(at) => (
            data.get(..at).unwrap_or_default(),
            data.get(at + 1..).unwrap_or_default(),
        ),
        None => (data, data),
    };
    let committer = check_commit_bytes(commit);
    let (challenge, claimant) = committer
        .as_ref()
        .map_or(FALLBACK, |c| (c.challenge.as_str(), c.claimant.as_str()));
    check_reveal_bytes(challenge, claimant, reveal);
}

/// A commit request that passes its check spells its commitment in the one form the check
/// reads, for a challenge id and a claimant name that pass their own checks.
fn check_commit_bytes(bytes: &[u8]) -> Option<CommitRequest> {
    let req: CommitRequest = serde_json::from_slice(bytes).ok()?;
    let checked = check_commit(&req).ok()?;
    assert_eq!(hex::encode(checked), req.commitment, "commitment spelling");
    assert!(is_id(&req.challenge) && is_claimant(&req.claimant));
    Some(req)
}

fn check_reveal_bytes(challenge: &str, claimant: &str, bytes: &[u8]) {
    let Ok(req) = serde_json::from_slice::<RevealRequest>(bytes) else {
        return;
    };
    let Ok((body, nonce)) = parse_reveal(&req) else {
        return;
    };
    assert_eq!(hex::encode(nonce), req.nonce, "nonce spelling");
    let text = claim_text(challenge, claimant, &body, &nonce);
    assert_eq!(
        commitment(challenge, claimant, &body, &nonce),
        sha256(&[text.as_bytes()]),
        "the commitment is the SHA-256 of the claim text"
    );
    let lines = read_lines(&text);
    assert_eq!(
        lines.first().map(|(n, v)| (n.as_str(), v.as_str())),
        Some(("challenge", challenge))
    );
    assert_eq!(
        lines.get(1).map(|(n, v)| (n.as_str(), v.as_str())),
        Some(("claimant", claimant))
    );
    assert_eq!(lines.get(2).map(|(n, _)| n.as_str()), Some("kind"));
    assert_eq!(lines.last().map(|(n, _)| n.as_str()), Some("nonce"));
    if let ClaimBody::Finding { text: finding } = &body {
        let want = hex::encode(sha256(&[finding.as_bytes()]));
        assert_eq!(value(&lines, "finding-sha256"), Some(want.as_str()));
        assert_eq!(lines.len(), 5, "a finding's text holds only its hash");
        return;
    }
    let rebuilt = rebuild(&lines);
    let reparsed = parse_reveal(&rebuilt);
    assert!(reparsed.is_ok(), "the text's own lines parse: {reparsed:?}");
    if let Ok((body2, nonce2)) = reparsed {
        assert_eq!(nonce2, nonce);
        assert_eq!(
            claim_text(challenge, claimant, &body2, &nonce2).as_str(),
            text.as_str(),
            "the claim text round-trips through its lines"
        );
    }
}

/// The claim text's lines after the label, each `name: value` with a name of `a-z 0-9 -`, a
/// value of printable ASCII without spaces, and a name that occurs once.
fn read_lines(text: &str) -> Vec<(String, String)> {
    let body = text
        .strip_prefix(CLAIM_LABEL)
        .and_then(|t| t.strip_prefix('\n'));
    assert!(body.is_some(), "the first line is the label");
    let body = body.unwrap_or_default();
    assert!(body.ends_with('\n'), "every line ends in a newline");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.split_terminator('\n') {
        let pair = line.split_once(": ");
        assert!(pair.is_some(), "a line without \": \": {line:?}");
        let (name, value) = pair.unwrap_or_default();
        assert!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "line name {name:?}"
        );
        assert!(
            !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic()),
            "the value of {name} has whitespace or is empty: {value:?}"
        );
        assert!(out.iter().all(|(n, _)| n != name), "{name} occurs twice");
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

fn value<'a>(lines: &'a [(String, String)], name: &str) -> Option<&'a str> {
    lines
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The reveal request a claim text's lines spell (a number line that does not parse is left
/// out, so the reparse names it).
fn rebuild(lines: &[(String, String)]) -> RevealRequest {
    let text = |name: &str| value(lines, name).map(str::to_owned);
    let number = |name: &str| value(lines, name).and_then(|v| v.parse::<u64>().ok());
    RevealRequest {
        kind: text("kind").unwrap_or_default(),
        message: number("message"),
        secret: text("secret"),
        finding: None,
        session: number("session"),
        party: text("party"),
        key: text("key"),
        private_key: text("private-key"),
        nonce: text("nonce").unwrap_or_default(),
    }
}
