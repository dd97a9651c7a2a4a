//! The transparency log's entries and stored hashes.

use sqlx::Row;

use super::{Store, Tx, blob32, db_int, from_db};
use crate::Error;

/// Appends entry `index` and the stored hashes that it completes, from `first_hash_index` on.
pub async fn insert(
    tx: &mut Tx,
    index: u64,
    data: &[u8],
    first_hash_index: u64,
    hashes: &[[u8; 32]],
) -> Result<(), Error> {
    sqlx::query("INSERT INTO log_entries (idx, data) VALUES ($1, $2)")
        .bind(db_int(index)?)
        .bind(data)
        .execute(&mut **tx)
        .await?;
    for (i, hash) in (first_hash_index..).zip(hashes) {
        sqlx::query("INSERT INTO log_hashes (idx, hash) VALUES ($1, $2)")
            .bind(db_int(i)?)
            .bind(hash.as_slice())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Number of entries, read inside a write transaction.
pub async fn size_in(tx: &mut Tx) -> Result<u64, Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM log_entries")
        .fetch_one(&mut **tx)
        .await?;
    from_db(row.try_get("n")?)
}

/// Stored hashes from index `from` on, read inside a write transaction.
pub async fn hashes_from(tx: &mut Tx, from: u64) -> Result<Vec<[u8; 32]>, Error> {
    let rows = sqlx::query("SELECT hash FROM log_hashes WHERE idx >= $1 ORDER BY idx")
        .bind(db_int(from)?)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|r| blob32(&r.try_get::<Vec<u8>, _>("hash")?))
        .collect()
}

/// Every stored hash (startup).
pub async fn all_hashes(store: &Store) -> Result<Vec<[u8; 32]>, Error> {
    let rows = sqlx::query("SELECT hash FROM log_hashes ORDER BY idx")
        .fetch_all(store.pool())
        .await?;
    rows.iter()
        .map(|r| blob32(&r.try_get::<Vec<u8>, _>("hash")?))
        .collect()
}

/// Number of entries.
pub async fn size(store: &Store) -> Result<u64, Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM log_entries")
        .fetch_one(store.pool())
        .await?;
    from_db(row.try_get("n")?)
}

/// Entries `from..to`.
pub async fn entries(store: &Store, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>, Error> {
    let rows =
        sqlx::query("SELECT idx, data FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx")
            .bind(db_int(from)?)
            .bind(db_int(to)?)
            .fetch_all(store.pool())
            .await?;
    rows.iter()
        .map(|r| Ok((from_db(r.try_get("idx")?)?, r.try_get("data")?)))
        .collect()
}
