//! One type per page: what it shows, loaded through the same functions as its JSON endpoint.

use askama::Template;

use super::time::{relative, utc};
use crate::Error;
use crate::api::{
    ChallengeView, ClaimView, CommitRequest, ConsistencyProofView, InclusionProofView, Receipt,
    TranscriptEntryView,
};
use crate::claims::{self, ClaimBody};
use crate::http::extract::Params;
use crate::http::log::{consistency_proof, entries_page, inclusion_proof};
use crate::http::public::transcript_page;
use crate::log::Event;
use crate::state::App;
use crate::{challenges, store};

/// Entries per transcript page.
pub const TRANSCRIPT_PAGE: u64 = 50;
/// Entries per log page.
pub const LOG_PAGE: u64 = 50;
/// Hex digits of a byte string shown before the rest is folded away.
const FOLD_HEX: usize = 64;

/// A time as both readings.
#[derive(Debug)]
pub struct When {
    /// RFC 3339, UTC.
    pub utc: String,
    /// Relative to the server's clock.
    pub relative: String,
}

impl When {
    fn at(t: u64, now: u64) -> Self {
        Self {
            utc: utc(t),
            relative: relative(t, now),
        }
    }
}

/// Hex shown folded: the first [`FOLD_HEX`] digits, the rest behind a `<details>`.
#[derive(Debug)]
pub struct Folded {
    /// The first digits.
    pub head: String,
    /// The rest (empty if it all fits).
    pub rest: String,
    /// Length in bytes.
    pub bytes: usize,
}

impl Folded {
    fn new(hex: &str) -> Self {
        let cut = hex.len().min(FOLD_HEX);
        let (head, rest) = hex.split_at_checked(cut).unwrap_or((hex, ""));
        Self {
            head: head.to_owned(),
            rest: rest.to_owned(),
            bytes: hex.len() / 2,
        }
    }
}

/// `GET /`.
#[derive(Debug, Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    /// Open challenges first, then closed ones.
    pub challenges: Vec<ChallengeLine>,
}

/// One challenge on the index.
#[derive(Debug)]
pub struct ChallengeLine {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Track.
    pub track: String,
    /// `open` or `closed`.
    pub status: String,
    /// Bounty per kind.
    pub bounty: Vec<(String, String)>,
    /// Deadline.
    pub deadline: When,
    /// Entries published.
    pub published: u64,
    /// Claims won.
    pub wins: usize,
}

impl IndexPage {
    /// Every challenge.
    pub async fn load(app: &App) -> Result<Self, Error> {
        let now = app.clock.now();
        let mut challenges = Vec::new();
        for row in store::challenges::list(&app.store).await? {
            let s = challenges::summary(app, &row).await?;
            let wins = store::claims::for_challenge(&app.store, &row.id)
                .await?
                .iter()
                .filter(|c| c.verdict.as_deref() == Some("won"))
                .count();
            challenges.push(ChallengeLine {
                deadline: When::at(s.deadline, now),
                id: s.id,
                title: s.title,
                track: s.track,
                status: s.status,
                bounty: s.bounty.into_iter().collect(),
                published: s.published_entries,
                wins,
            });
        }
        challenges.sort_by_key(|c| c.status != "open");
        Ok(Self { challenges })
    }
}

/// `GET /challenges/{id}`.
#[derive(Debug, Template)]
#[template(path = "challenge.html")]
pub struct ChallengePage {
    /// The challenge, as `GET /api/v1/challenges/{id}` serves it.
    pub c: ChallengeView,
    /// Its deadline.
    pub deadline: When,
    /// Its reveal deadline.
    pub reveal_deadline: Option<When>,
    /// When it closed.
    pub closed: Option<When>,
    /// Each transcript entry's time: `start_at + k * interval_secs`.
    pub first_entry: When,
    /// The track's own fields, as `name: JSON value`.
    pub track_fields: Vec<(String, String)>,
    /// Each party: name, bundle SHA-256, bundle folded.
    pub parties: Vec<(String, String, Folded)>,
    /// Its claims.
    pub claims: Vec<ClaimView>,
    /// The URL the verify command names.
    pub base_url: String,
    /// The server key, hex.
    pub server_key: String,
    /// The log origin.
    pub log_origin: String,
}

impl ChallengePage {
    /// Challenge `id`.
    pub async fn load(app: &App, id: &str, base_url: &str) -> Result<Self, Error> {
        let row = challenges::find(app, id, "id").await?;
        let c = challenges::view(app, &row).await?;
        let now = app.clock.now();
        let mut claims = Vec::new();
        for claim in store::claims::for_challenge(&app.store, &row.id).await? {
            claims.push(claims::view(&claim, !row.is_open())?);
        }
        Ok(Self {
            deadline: When::at(c.deadline, now),
            reveal_deadline: c.reveal_deadline.map(|t| When::at(t, now)),
            closed: c.closed_at.map(|t| When::at(t, now)),
            first_entry: When::at(c.schedule.time_of(0), now),
            track_fields: c
                .track_fields
                .0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
            parties: c
                .parties
                .iter()
                .map(|(name, p)| {
                    (
                        name.clone(),
                        p.bundle_sha256.clone(),
                        Folded::new(&p.bundle),
                    )
                })
                .collect(),
            claims,
            base_url: base_url.to_owned(),
            server_key: hex::encode(app.server_key.public()),
            log_origin: app.log.origin().to_owned(),
            c,
        })
    }
}

/// `GET /challenges/{id}/transcript?from=`.
#[derive(Debug, Template)]
#[template(path = "transcript.html")]
pub struct TranscriptBrowser {
    /// Challenge id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Entries published.
    pub published: u64,
    /// This page's entries, with their bytes folded.
    pub entries: Vec<(TranscriptEntryView, String, Folded)>,
    /// The previous page's `from`.
    pub previous: Option<u64>,
    /// The next page's `from`.
    pub next: Option<u64>,
}

impl TranscriptBrowser {
    /// A page of challenge `id`'s transcript.
    pub async fn load(app: &App, id: &str, params: &Params) -> Result<Self, Error> {
        params.only(&["from"])?;
        let from = params.u64("from", Some(0), 0..=u64::MAX >> 1)?;
        let row = challenges::find(app, id, "id").await?;
        let page = transcript_page(app, &row.id, from, TRANSCRIPT_PAGE).await?;
        Ok(Self {
            id: row.id,
            title: row.title,
            published: page.published_entries,
            entries: page
                .entries
                .into_iter()
                .map(|e| {
                    let folded = Folded::new(&e.bytes);
                    (e.clone(), utc(e.time), folded)
                })
                .collect(),
            previous: (from > 0).then(|| from.saturating_sub(TRANSCRIPT_PAGE)),
            next: page.next_from,
        })
    }
}

/// `GET /claims/{id}`.
#[derive(Debug, Template)]
#[template(path = "claim.html")]
pub struct ClaimPage {
    /// The claim, as `GET /api/v1/claims/{id}` serves it.
    pub c: ClaimView,
    /// When it was committed.
    pub committed: When,
    /// The receipt, as JSON to keep.
    pub receipt_json: String,
    /// The revealed claim, once public, as JSON.
    pub reveal_json: Option<String>,
}

impl ClaimPage {
    /// Claim `id`.
    pub async fn load(app: &App, id: &str) -> Result<Self, Error> {
        let (claim, closed) = claims::find(app, id).await?;
        let c = claims::view(&claim, closed)?;
        Ok(Self {
            committed: When::at(c.committed_at, app.clock.now()),
            receipt_json: serde_json::to_string_pretty(&c.receipt)?,
            reveal_json: c
                .reveal
                .as_ref()
                .map(serde_json::to_string_pretty)
                .transpose()?,
            c,
        })
    }
}

/// The fields of the commit form.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitForm {
    /// Challenge id.
    pub challenge: String,
    /// The claimant's name.
    pub claimant: String,
    /// The commitment, computed on the claimant's machine.
    pub commitment: String,
}

impl CommitForm {
    /// As the API's request.
    pub fn request(&self) -> CommitRequest {
        CommitRequest {
            challenge: self.challenge.trim().to_owned(),
            claimant: self.claimant.trim().to_owned(),
            commitment: self.commitment.trim().to_owned(),
        }
    }
}

/// `GET /how-to-claim`.
#[derive(Debug, Template)]
#[template(path = "how_to_claim.html")]
pub struct HowToClaimPage {
    /// A worked example's claim text (a made-up secret and nonce).
    pub example_text: String,
    /// Its commitment.
    pub example_commitment: String,
    /// The open challenges, for the form.
    pub open: Vec<(String, String)>,
    /// The server's URL.
    pub base_url: String,
}

/// The worked example's challenge id, claimant, message, secret and nonce (all made up).
pub const EXAMPLE: (&str, &str, u64, [u8; 16], [u8; 32]) =
    ("0123456789abcdef", "alice", 7, [0xab; 16], [0x11; 32]);

impl HowToClaimPage {
    /// The page, with the open challenges in the form.
    pub async fn load(app: &App, base_url: &str) -> Result<Self, Error> {
        let (challenge, claimant, message, secret, nonce) = EXAMPLE;
        let body = ClaimBody::Secret {
            message,
            secret: zeroize::Zeroizing::new(secret),
        };
        let text = claims::claim_text(challenge, claimant, &body, &nonce);
        let open = store::challenges::list(&app.store)
            .await?
            .into_iter()
            .filter(|r| r.is_open())
            .map(|r| (r.id, r.title))
            .collect();
        Ok(Self {
            example_text: text.as_str().to_owned(),
            example_commitment: hex::encode(claims::commitment(challenge, claimant, &body, &nonce)),
            open,
            base_url: base_url.to_owned(),
        })
    }
}

/// The page a form commit answers with: the receipt to keep.
#[derive(Debug, Template)]
#[template(path = "receipt.html")]
pub struct ReceiptPage {
    /// The receipt.
    pub r: Receipt,
    /// As JSON, to save.
    pub json: String,
}

impl ReceiptPage {
    /// For `receipt`.
    pub fn new(r: Receipt) -> Result<Self, Error> {
        Ok(Self {
            json: serde_json::to_string_pretty(&r)?,
            r,
        })
    }
}

/// `GET /hall-of-fame`.
#[derive(Debug, Template)]
#[template(path = "hall_of_fame.html")]
pub struct HallOfFamePage {
    /// Each won claim with its challenge's title.
    pub wins: Vec<(ClaimView, String)>,
}

impl HallOfFamePage {
    /// Every won claim.
    pub async fn load(app: &App) -> Result<Self, Error> {
        let mut wins = Vec::new();
        for claim in store::claims::won(&app.store).await? {
            let row = challenges::find(app, &claim.challenge, "challenge").await?;
            wins.push((claims::view(&claim, !row.is_open())?, row.title));
        }
        Ok(Self { wins })
    }
}

/// `GET /log?from=`.
#[derive(Debug, Template)]
#[template(path = "log.html")]
pub struct LogPage {
    /// The latest checkpoint, a signed note.
    pub checkpoint: String,
    /// The tree size.
    pub size: u64,
    /// This page's entries: index, event type, its challenge, the event JSON, leaf hash.
    pub entries: Vec<LogLine>,
    /// The previous page's `from`.
    pub previous: Option<u64>,
    /// The next page's `from`.
    pub next: Option<u64>,
}

/// One log entry, decoded.
#[derive(Debug)]
pub struct LogLine {
    /// Index.
    pub index: u64,
    /// The event type (`?` if it does not parse).
    pub kind: String,
    /// Its challenge, if it names one.
    pub challenge: Option<String>,
    /// The entry's JSON text.
    pub json: String,
    /// The RFC 6962 leaf hash.
    pub leaf_hash: String,
}

impl LogPage {
    /// The page `params` asks for; without `from`, the latest entries.
    pub async fn load(app: &App, params: &Params) -> Result<Self, Error> {
        params.only(&["from"])?;
        let (size, checkpoint) = app.log.checkpoint(&app.server_key).await?;
        let latest = size.saturating_sub(LOG_PAGE);
        let from = params.u64("from", Some(latest), 0..=u64::MAX >> 1)?;
        let page = entries_page(
            app,
            &Params::from(
                [
                    ("from".to_owned(), from.to_string()),
                    ("limit".to_owned(), LOG_PAGE.to_string()),
                ]
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>(),
            ),
        )
        .await?;
        let mut entries = Vec::with_capacity(page.entries.len());
        for e in page.entries {
            let bytes = hex::decode(&e.data).unwrap_or_default();
            let event = Event::parse(&bytes).ok();
            entries.push(LogLine {
                index: e.index,
                kind: event
                    .as_ref()
                    .map_or_else(|| "?".to_owned(), |ev| ev.type_name().to_owned()),
                challenge: event
                    .as_ref()
                    .and_then(|ev| ev.challenge().map(str::to_owned)),
                json: String::from_utf8_lossy(&bytes).into_owned(),
                leaf_hash: e.leaf_hash,
            });
        }
        let next = from.saturating_add(LOG_PAGE);
        Ok(Self {
            checkpoint,
            size,
            entries,
            previous: (from > 0).then(|| from.saturating_sub(LOG_PAGE)),
            next: (next < page.tree_size).then_some(next),
        })
    }
}

/// `GET /log/proof`.
#[derive(Debug, Template)]
#[template(path = "proof.html")]
pub struct ProofPage {
    /// An inclusion proof, if asked for by `index`.
    pub inclusion: Option<InclusionProofView>,
    /// A consistency proof, if asked for by `from`.
    pub consistency: Option<ConsistencyProofView>,
    /// The query of the matching JSON endpoint.
    pub api_path: String,
}

impl ProofPage {
    /// The proof `params` asks for: `index` (and `size`) or `from` (and `to`).
    pub async fn load(app: &App, params: &Params) -> Result<Self, Error> {
        if params.get("index").is_some() {
            let p = inclusion_proof(app, params).await?;
            Ok(Self {
                api_path: format!(
                    "/api/v1/log/proof/inclusion?index={}&size={}",
                    p.index, p.tree_size
                ),
                inclusion: Some(p),
                consistency: None,
            })
        } else if params.get("from").is_some() {
            let p = consistency_proof(app, params).await?;
            Ok(Self {
                api_path: format!("/api/v1/log/proof/consistency?from={}&to={}", p.from, p.to),
                inclusion: None,
                consistency: Some(p),
            })
        } else {
            Err(Error::invalid(
                "index",
                "expected index (and size) for an inclusion proof, or from (and to) for a \
                 consistency proof",
            ))
        }
    }
}

/// An error, as a page.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// HTTP status.
    pub status: u16,
    /// Its reason phrase.
    pub reason: &'static str,
    /// The API's error code.
    pub code: &'static str,
    /// The field at fault.
    pub field: Option<String>,
    /// The API's message.
    pub message: String,
    /// The request id of an internal fault.
    pub request_id: Option<String>,
    /// Seconds to wait.
    pub retry_after: Option<u64>,
}
