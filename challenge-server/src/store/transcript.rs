//! Transcript entries: stored (unpublished) first, then published with their log index.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, Tx, db_int, from_db};
use crate::Error;

/// A transcript row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    /// Index.
    pub index: u64,
    /// Scheduled time.
    pub sent_at: u64,
    /// Direction name.
    pub direction: String,
    /// Kind name.
    pub kind: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Whether it is published.
    pub published: bool,
    /// Log index of its event, once published.
    pub log_index: Option<u64>,
}

impl EntryRow {
    fn from_row(r: &SqliteRow) -> Result<Self, Error> {
        Ok(Self {
            index: from_db(r.try_get("idx")?)?,
            sent_at: from_db(r.try_get("sent_at")?)?,
            direction: r.try_get("direction")?,
            kind: r.try_get("kind")?,
            bytes: r.try_get("bytes")?,
            published: r.try_get("published")?,
            log_index: r
                .try_get::<Option<i64>, _>("log_index")?
                .map(from_db)
                .transpose()?,
        })
    }
}

/// Stores an entry, unpublished.
pub async fn insert_stored(tx: &mut Tx, challenge: &str, e: &EntryRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO transcript (challenge_id, idx, sent_at, direction, kind, bytes, published, \
         log_index) VALUES ($1, $2, $3, $4, $5, $6, FALSE, NULL)",
    )
    .bind(challenge)
    .bind(db_int(e.index)?)
    .bind(db_int(e.sent_at)?)
    .bind(&e.direction)
    .bind(&e.kind)
    .bind(&e.bytes)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Marks a stored entry published under `log_index`.
pub async fn mark_published(
    tx: &mut Tx,
    challenge: &str,
    index: u64,
    log_index: u64,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE transcript SET published = TRUE, log_index = $1 \
         WHERE challenge_id = $2 AND idx = $3",
    )
    .bind(db_int(log_index)?)
    .bind(challenge)
    .bind(db_int(index)?)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether entry `index` is stored and still unpublished, read inside a write transaction.
pub async fn is_unpublished_in(tx: &mut Tx, challenge: &str, index: u64) -> Result<bool, Error> {
    let row = sqlx::query("SELECT published FROM transcript WHERE challenge_id = $1 AND idx = $2")
        .bind(challenge)
        .bind(db_int(index)?)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => !r.try_get::<bool, _>("published")?,
        None => false,
    })
}

/// The stored but unpublished entry of a challenge, if any (at most one: the scheduler
/// publishes each entry before it produces the next).
pub async fn unpublished(store: &Store, challenge: &str) -> Result<Option<EntryRow>, Error> {
    let row = sqlx::query(
        "SELECT * FROM transcript WHERE challenge_id = $1 AND published = FALSE \
         ORDER BY idx LIMIT 1",
    )
    .bind(challenge)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(EntryRow::from_row).transpose()
}

/// Published entries from `from`, at most `limit`.
pub async fn page(
    store: &Store,
    challenge: &str,
    from: u64,
    limit: u64,
) -> Result<Vec<EntryRow>, Error> {
    let rows = sqlx::query(
        "SELECT * FROM transcript WHERE challenge_id = $1 AND published = TRUE AND idx >= $2 \
         ORDER BY idx LIMIT $3",
    )
    .bind(challenge)
    .bind(db_int(from)?)
    .bind(db_int(limit)?)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(EntryRow::from_row).collect()
}

/// Number of published entries.
pub async fn published_count(store: &Store, challenge: &str) -> Result<u64, Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM transcript WHERE challenge_id = $1 AND published = TRUE",
    )
    .bind(challenge)
    .fetch_one(store.pool())
    .await?;
    from_db(row.try_get("n")?)
}
