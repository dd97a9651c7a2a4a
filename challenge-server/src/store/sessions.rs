//! Sessions of request-driven tracks: the session rows (token hash, sealed bots' state, record
//! head), their record entries, and the wins awarded during them.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, Tx, blob32, db_int, from_db};
use crate::Error;

/// A session row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// Challenge id.
    pub challenge: String,
    /// Session number.
    pub session: u64,
    /// The claimant who opened it.
    pub claimant: String,
    /// SHA-256 of its bearer token.
    pub token_sha256: [u8; 32],
    /// When it opened.
    pub opened_at: u64,
    /// Log index of its `session-opened` event.
    pub open_log_index: u64,
    /// What was published at the open (JSON of the track's fields).
    pub public_json: String,
    /// The bots' state, sealed.
    pub sealed_state: Vec<u8>,
    /// The record's head.
    pub head: [u8; 32],
    /// The record's length.
    pub entries: u64,
}

impl SessionRow {
    fn from_row(r: &SqliteRow) -> Result<Self, Error> {
        Ok(Self {
            challenge: r.try_get("challenge_id")?,
            session: from_db(r.try_get("session")?)?,
            claimant: r.try_get("claimant")?,
            token_sha256: blob32(&r.try_get::<Vec<u8>, _>("token_sha256")?)?,
            opened_at: from_db(r.try_get("opened_at")?)?,
            open_log_index: from_db(r.try_get("open_log_index")?)?,
            public_json: r.try_get("public_json")?,
            sealed_state: r.try_get("sealed_state")?,
            head: blob32(&r.try_get::<Vec<u8>, _>("head")?)?,
            entries: from_db(r.try_get("entries")?)?,
        })
    }
}

/// Inserts a new session with its record's first entry; `pow_token_id` makes a proof-of-work
/// token open one session only (a second is a conflict).
pub async fn insert(
    tx: &mut Tx,
    row: &SessionRow,
    pow_token_id: Option<&[u8; 32]>,
    entry0: &[u8],
) -> Result<(), Error> {
    let result = sqlx::query(
        "INSERT INTO sessions (challenge_id, session, claimant, token_sha256, pow_token_id, \
         opened_at, open_log_index, public_json, sealed_state, head, entries) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.challenge)
    .bind(db_int(row.session)?)
    .bind(&row.claimant)
    .bind(row.token_sha256.as_slice())
    .bind(pow_token_id.map(|t| t.as_slice()))
    .bind(db_int(row.opened_at)?)
    .bind(db_int(row.open_log_index)?)
    .bind(&row.public_json)
    .bind(&row.sealed_state)
    .bind(row.head.as_slice())
    .bind(db_int(row.entries)?)
    .execute(&mut **tx)
    .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(Error::Conflict {
                field: "pow.token",
                message: "this proof-of-work token has opened a session already".to_owned(),
            });
        }
        other => {
            other?;
        }
    }
    insert_entry(tx, &row.challenge, row.session, 0, entry0).await
}

async fn insert_entry(
    tx: &mut Tx,
    challenge: &str,
    session: u64,
    k: u64,
    entry: &[u8],
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO session_entries (challenge_id, session, k, entry) VALUES ($1, $2, $3, $4)",
    )
    .bind(challenge)
    .bind(db_int(session)?)
    .bind(db_int(k)?)
    .bind(entry)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records command entry `k` with the state and head after it.
pub async fn record_command(
    tx: &mut Tx,
    challenge: &str,
    session: u64,
    k: u64,
    entry: &[u8],
    sealed_state: &[u8],
    head: &[u8; 32],
) -> Result<(), Error> {
    insert_entry(tx, challenge, session, k, entry).await?;
    sqlx::query(
        "UPDATE sessions SET sealed_state = $1, head = $2, entries = $3 \
         WHERE challenge_id = $4 AND session = $5",
    )
    .bind(sealed_state)
    .bind(head.as_slice())
    .bind(db_int(k.saturating_add(1))?)
    .bind(challenge)
    .bind(db_int(session)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records a win awarded at command `k`, its evidence sealed.
pub async fn insert_win(
    tx: &mut Tx,
    challenge: &str,
    session: u64,
    k: u64,
    kind: &str,
    log_index: u64,
    sealed_evidence: &[u8],
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO session_wins (challenge_id, session, k, kind, log_index, sealed_evidence) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(challenge)
    .bind(db_int(session)?)
    .bind(db_int(k)?)
    .bind(kind)
    .bind(db_int(log_index)?)
    .bind(sealed_evidence)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Session `session` of `challenge`, read inside a write transaction (commands on one session
/// are serialized by it).
pub async fn get_in(
    tx: &mut Tx,
    challenge: &str,
    session: u64,
) -> Result<Option<SessionRow>, Error> {
    let row = sqlx::query("SELECT * FROM sessions WHERE challenge_id = $1 AND session = $2")
        .bind(challenge)
        .bind(db_int(session)?)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(SessionRow::from_row).transpose()
}

/// Every session of `challenge`, by number.
pub async fn all_in(tx: &mut Tx, challenge: &str) -> Result<Vec<SessionRow>, Error> {
    let rows = sqlx::query("SELECT * FROM sessions WHERE challenge_id = $1 ORDER BY session")
        .bind(challenge)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(SessionRow::from_row).collect()
}

/// How many sessions `challenge` has (the next session's number).
pub async fn count_in(tx: &mut Tx, challenge: &str) -> Result<u64, Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE challenge_id = $1")
        .bind(challenge)
        .fetch_one(&mut **tx)
        .await?;
    from_db(n)
}

/// How many sessions `claimant` opened on `challenge` at or after `since`.
pub async fn opened_by_since(
    tx: &mut Tx,
    challenge: &str,
    claimant: &str,
    since: u64,
) -> Result<u64, Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE challenge_id = $1 AND claimant = $2 \
         AND opened_at >= $3",
    )
    .bind(challenge)
    .bind(claimant)
    .bind(db_int(since)?)
    .fetch_one(&mut **tx)
    .await?;
    from_db(n)
}

/// Session `session`'s record entries `from..`, at most `limit`.
pub async fn entries(
    store: &Store,
    challenge: &str,
    session: u64,
    from: u64,
    limit: u64,
) -> Result<Vec<Vec<u8>>, Error> {
    let rows = sqlx::query(
        "SELECT entry FROM session_entries WHERE challenge_id = $1 AND session = $2 \
         AND k >= $3 ORDER BY k LIMIT $4",
    )
    .bind(challenge)
    .bind(db_int(session)?)
    .bind(db_int(from)?)
    .bind(db_int(limit)?)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("entry").map_err(Error::from))
        .collect()
}

/// Session `session` of `challenge`.
pub async fn get(
    store: &Store,
    challenge: &str,
    session: u64,
) -> Result<Option<SessionRow>, Error> {
    let row = sqlx::query("SELECT * FROM sessions WHERE challenge_id = $1 AND session = $2")
        .bind(challenge)
        .bind(db_int(session)?)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(SessionRow::from_row).transpose()
}

/// A win awarded during a session, its evidence still sealed.
#[derive(Clone, PartialEq, Eq)]
pub struct WinRow {
    /// The command index that won.
    pub k: u64,
    /// The kind of win.
    pub kind: String,
    /// Log index of its `session-win` event.
    pub log_index: u64,
    /// The evidence, sealed under the KEK (`Purpose::SessionWin`).
    pub sealed_evidence: Vec<u8>,
}

impl core::fmt::Debug for WinRow {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WinRow")
            .field("k", &self.k)
            .field("kind", &self.kind)
            .field("log_index", &self.log_index)
            .finish_non_exhaustive()
    }
}

/// The wins awarded during session `session` of `challenge`, by command index.
pub async fn wins(store: &Store, challenge: &str, session: u64) -> Result<Vec<WinRow>, Error> {
    let rows = sqlx::query(
        "SELECT k, kind, log_index, sealed_evidence FROM session_wins \
         WHERE challenge_id = $1 AND session = $2 ORDER BY k",
    )
    .bind(challenge)
    .bind(db_int(session)?)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WinRow {
                k: from_db(r.try_get("k")?)?,
                kind: r.try_get("kind")?,
                log_index: from_db(r.try_get("log_index")?)?,
                sealed_evidence: r.try_get("sealed_evidence")?,
            })
        })
        .collect()
}
