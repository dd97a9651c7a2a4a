//! The sessions of request-driven tracks (DESIGN section 7, "Track interface"): opening one for
//! a claimant, running its commands, closing them with the challenge. The track decides every
//! answer ([`crate::tracks::Sessions`]); this module makes each durable before it is sent: a
//! command's record entry, the bots' new state (sealed) and the record's head are written in
//! one transaction, so an index is never run twice with other input.

use serde::Serialize;

use crate::Error;
use crate::api::SessionWinView;
use crate::challenges::{self, open_seed, target_of, track_of};
use crate::claims::is_claimant;
use crate::keys::{Purpose, ct_eq32, random_hex};
use crate::log::Event;
use crate::pow;
use crate::state::App;
use crate::store::sessions::{self as rows, SessionRow};
use crate::store::{self, Tx};
use crate::tracks::{Record, Sessions, TrackFields};

/// The label of the proof-of-work MAC key derived from the KEK.
const POW_KEY_LABEL: &str = "pow-token";

/// Seconds in the window of `sessions_per_claimant_per_hour`.
const HOUR_SECS: u64 = 3_600;

/// Longest page of record entries.
pub const MAX_ENTRIES_PAGE: u64 = 1_000;

/// A claimant's request to open a session.
#[derive(Clone, Debug, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// The claimant's name (as in claims).
    pub claimant: String,
    /// The proof-of-work, when the challenge asks for one.
    #[serde(default)]
    pub pow: Option<PowSolution>,
}

/// A solved proof-of-work token.
#[derive(Clone, Debug, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PowSolution {
    /// The token `GET …/sessions/pow` issued.
    pub token: String,
    /// The nonce found, hex.
    pub nonce: String,
}

/// A session just opened: its number, its bearer token (shown once), what is published about
/// it, and its record's head.
#[derive(Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OpenedView {
    /// Session number.
    pub session: u64,
    /// The bearer token every command of the session carries.
    pub token: String,
    /// The track's published fields of the session.
    pub fields: TrackFields,
    /// The record's head after the open, hex.
    pub head: String,
    /// Log index of the `session-opened` event.
    pub log_index: u64,
}

impl core::fmt::Debug for OpenedView {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("OpenedView")
            .field("session", &self.session)
            .field("log_index", &self.log_index)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of a session token, the only form in which it is stored.
fn token_hash(token: &str) -> [u8; 32] {
    target_impl::hazmat::sha256(&[b"challenge-server/v1/session-token\n", token.as_bytes()])
}

fn sessions_of(track: &'static dyn crate::tracks::Track) -> Result<&'static dyn Sessions, Error> {
    track.sessions().ok_or_else(|| Error::NotFound {
        field: "id",
        message: format!(
            "the {} track has no sessions: its traffic is scheduled",
            track.name()
        ),
    })
}

/// A proof-of-work token for `claimant` to open a session of challenge `id`.
pub async fn issue_pow(app: &App, id: &str, claimant: &str) -> Result<pow::Issued, Error> {
    let row = challenges::find(app, id, "id").await?;
    let sessions = sessions_of(track_of(&row)?)?;
    if !is_claimant(claimant) {
        return Err(claimant_error());
    }
    let limits = sessions.limits(&challenges::public(app, &row).await?)?;
    let bits = u32::try_from(limits.pow_bits).unwrap_or(pow::MAX_POW_BITS);
    let key = app.kek.derive(POW_KEY_LABEL)?;
    Ok(pow::issue(&key, id, claimant, bits, app.clock.now()))
}

fn claimant_error() -> Error {
    Error::invalid("claimant", "expected 1 to 64 of A-Z a-z 0-9 . _ - @")
}

/// Opens the next session of challenge `id` for the claimant: checks the proof-of-work, the
/// challenge's cap and the claimant's hourly budget, and logs `session-opened`.
pub async fn open(app: &App, id: &str, req: &OpenRequest) -> Result<OpenedView, Error> {
    if !is_claimant(&req.claimant) {
        return Err(claimant_error());
    }
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let row = challenge_in(&mut tx, id).await?;
    let track = track_of(&row)?;
    let sessions = sessions_of(track)?;
    if !row.is_open() {
        return Err(Error::Conflict {
            field: "id",
            message: "the challenge is closed".to_owned(),
        });
    }
    let public = challenges::public_in(&mut tx, &row).await?;
    let limits = sessions.limits(&public)?;
    let now = app.clock.now();
    let pow_token_id = if limits.pow_bits > 0 {
        let solution = req.pow.as_ref().ok_or_else(|| {
            Error::invalid(
                "pow",
                format!(
                    "this challenge asks for a proof-of-work of {} bits: get a token from GET \
                     /challenges/{id}/sessions/pow?claimant=<name>",
                    limits.pow_bits
                ),
            )
        })?;
        let bits = u32::try_from(limits.pow_bits).unwrap_or(pow::MAX_POW_BITS);
        let key = app.kek.derive(POW_KEY_LABEL)?;
        let checked = pow::check(
            &key,
            id,
            &req.claimant,
            bits,
            &solution.token,
            &solution.nonce,
            now,
        )?;
        Some(checked.token_id)
    } else {
        None
    };
    let s = rows::count_in(&mut tx, id).await?;
    if s >= limits.max_sessions {
        return Err(Error::Conflict {
            field: "max_sessions",
            message: format!(
                "the challenge's {} sessions are all open",
                limits.max_sessions
            ),
        });
    }
    let recent = rows::opened_by_since(
        &mut tx,
        id,
        &req.claimant,
        now.saturating_sub(HOUR_SECS - 1),
    )
    .await?;
    if recent >= limits.per_claimant_per_hour {
        return Err(Error::Conflict {
            field: "sessions_per_claimant_per_hour",
            message: format!(
                "{} sessions opened by this claimant in the last hour, the most the challenge \
                 allows",
                recent
            ),
        });
    }
    let seed = open_seed(app, &row)?;
    let opened = sessions.open(target_of(&row)?, &seed, &public, id, s, &req.claimant, now)?;
    let head = hex::encode(opened.record.head);
    let log_index = log
        .append(
            &mut tx,
            &Event::SessionOpened {
                challenge: id.to_owned(),
                session: s,
                claimant: req.claimant.clone(),
                fields: opened.public.clone(),
                head: head.clone(),
                time: now,
            },
        )
        .await?;
    let token = random_hex(32)?;
    let session_row = SessionRow {
        challenge: id.to_owned(),
        session: s,
        claimant: req.claimant.clone(),
        token_sha256: token_hash(&token),
        opened_at: now,
        open_log_index: log_index,
        public_json: opened.public.to_json()?,
        sealed_state: seal_state(app, id, s, &opened.state)?,
        head: opened.record.head,
        entries: opened.record.len,
    };
    rows::insert(&mut tx, &session_row, pow_token_id.as_ref(), &opened.entry).await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(challenge = %id, session = s, log_index, "session opened");
    Ok(OpenedView {
        session: s,
        token,
        fields: opened.public,
        head,
        log_index,
    })
}

fn seal_state(app: &App, id: &str, s: u64, state: &[u8]) -> Result<Vec<u8>, Error> {
    app.kek.seal(
        Purpose::SessionState {
            challenge: id,
            session: s,
        },
        state,
    )
}

async fn challenge_in(
    tx: &mut Tx,
    id: &str,
) -> Result<crate::store::challenges::ChallengeRow, Error> {
    store::challenges::get_in(tx, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "id",
            message: format!("no challenge {id}"),
        })
}

/// Checks a session's bearer token in constant time.
fn authorize(row: &SessionRow, token: Option<&str>) -> Result<(), Error> {
    match token {
        Some(token) if ct_eq32(&token_hash(token), &row.token_sha256) => Ok(()),
        _ => Err(Error::SessionUnauthorized),
    }
}

async fn session_in(tx: &mut Tx, id: &str, s: u64) -> Result<SessionRow, Error> {
    rows::get_in(tx, id, s)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "session",
            message: format!("challenge {id} has no session {s}"),
        })
}

/// Runs one command of session `s` of challenge `id` for the holder of its token; answers
/// with the public answer's JSON once its entry and the new state are durable. A win awarded
/// by the command is logged as `session-win` in the same transaction.
pub async fn command(
    app: &App,
    id: &str,
    s: u64,
    token: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>, Error> {
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let row = challenge_in(&mut tx, id).await?;
    let sessions = sessions_of(track_of(&row)?)?;
    let session = session_in(&mut tx, id, s).await?;
    authorize(&session, token)?;
    if !row.is_open() {
        return Err(Error::Conflict {
            field: "id",
            message: "the challenge is closed: its sessions take no more commands".to_owned(),
        });
    }
    let target = target_of(&row)?;
    let state = app.kek.open(
        Purpose::SessionState {
            challenge: id,
            session: s,
        },
        &session.sealed_state,
    )?;
    let mut record = Record {
        head: session.head,
        len: session.entries,
    };
    let public = challenges::public_in(&mut tx, &row).await?;
    let seed = open_seed(app, &row)?;
    let now = app.clock.now();
    let k = record.len;
    let outcome = sessions.command(target, &seed, &public, &state, &mut record, now, body)?;
    let sealed = seal_state(app, id, s, &outcome.state)?;
    rows::record_command(&mut tx, id, s, k, &outcome.entry, &sealed, &record.head).await?;
    if let Some(win) = &outcome.win {
        let log_index = log
            .append(
                &mut tx,
                &Event::SessionWin {
                    challenge: id.to_owned(),
                    session: s,
                    k,
                    kind: win.kind.to_owned(),
                    claimant: session.claimant.clone(),
                    head: hex::encode(record.head),
                    time: now,
                },
            )
            .await?;
        let sealed_evidence = app.kek.seal(
            Purpose::SessionWin {
                challenge: id,
                session: s,
                k,
            },
            &win.evidence,
        )?;
        rows::insert_win(&mut tx, id, s, k, win.kind, log_index, &sealed_evidence).await?;
        tracing::info!(challenge = %id, session = s, k, log_index, kind = win.kind, "win awarded");
        if row.close_on_win {
            challenges::close_in(app, &mut log, &mut tx, &row, "won").await?;
        }
    }
    tx.commit().await?;
    log.committed();
    Ok(outcome.answer)
}

/// A page of a session's record, as [`record`] reads it.
#[derive(Debug)]
pub struct RecordPage {
    /// The session.
    pub session: SessionRow,
    /// The entries' bytes, from the page's first index.
    pub entries: Vec<Vec<u8>>,
    /// Every win awarded during the session with its evidence, unsealed: only once the
    /// challenge is closed.
    pub wins: Option<Vec<SessionWinView>>,
}

/// Session `s`'s record entries from `from`: for the holder of its token while the challenge
/// is open, for everyone once it is closed, and then with each win's evidence.
pub async fn record(
    app: &App,
    id: &str,
    s: u64,
    token: Option<&str>,
    from: u64,
    limit: u64,
) -> Result<RecordPage, Error> {
    let row = challenges::find(app, id, "id").await?;
    let session = rows::get(&app.store, id, s)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "session",
            message: format!("challenge {id} has no session {s}"),
        })?;
    if row.is_open() {
        authorize(&session, token)?;
    }
    if !(1..=MAX_ENTRIES_PAGE).contains(&limit) {
        return Err(Error::invalid(
            "limit",
            format!("expected 1 to {MAX_ENTRIES_PAGE}"),
        ));
    }
    let entries = rows::entries(&app.store, id, s, from, limit).await?;
    // The evidence stays sealed while the challenge is open: read with the challenge row
    // above, a close in between only leaves it out of this page.
    let wins = if row.is_open() {
        None
    } else {
        Some(wins_of(app, id, s).await?)
    };
    Ok(RecordPage {
        session,
        entries,
        wins,
    })
}

/// Session `s`'s wins with their evidence unsealed (after the close only; never logged).
async fn wins_of(app: &App, id: &str, s: u64) -> Result<Vec<SessionWinView>, Error> {
    let mut out = Vec::new();
    for win in rows::wins(&app.store, id, s).await? {
        let plain = app.kek.open(
            Purpose::SessionWin {
                challenge: id,
                session: s,
                k: win.k,
            },
            &win.sealed_evidence,
        )?;
        // The error's position only: its message could quote the evidence.
        let evidence: TrackFields = serde_json::from_slice(&plain).map_err(|e| {
            Error::internal(format!(
                "session {s}: win {}: the evidence does not parse (column {})",
                win.k,
                e.column()
            ))
        })?;
        out.push(SessionWinView {
            k: win.k,
            kind: win.kind,
            log_index: win.log_index,
            evidence,
        });
    }
    Ok(out)
}

/// At the close, inside its transaction: a `session-closed` event with each session's final
/// record length and head.
pub(crate) async fn close_in(
    log: &mut crate::log::LogWriter<'_>,
    tx: &mut Tx,
    id: &str,
    now: u64,
) -> Result<(), Error> {
    for session in rows::all_in(tx, id).await? {
        log.append(
            tx,
            &Event::SessionClosed {
                challenge: id.to_owned(),
                session: session.session,
                entries: session.entries,
                head: hex::encode(session.head),
                time: now,
            },
        )
        .await?;
    }
    Ok(())
}
