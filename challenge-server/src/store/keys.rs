//! The server's sealed signing key and the admin tokens' hashes.

use sqlx::Row;

use super::{Store, db_int};
use crate::Error;

/// The sealed server key, if one was created.
pub async fn server_key(store: &Store) -> Result<Option<(Vec<u8>, Vec<u8>)>, Error> {
    let row = sqlx::query("SELECT sealed_seed, public_key FROM server_keys WHERE id = 1")
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| (r.get("sealed_seed"), r.get("public_key"))))
}

/// Stores the sealed server key (first run).
pub async fn insert_server_key(
    store: &Store,
    sealed_seed: &[u8],
    public_key: &[u8],
    now: u64,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO server_keys (id, sealed_seed, public_key, created_at) VALUES (1, $1, $2, $3)",
    )
    .bind(sealed_seed)
    .bind(public_key)
    .bind(db_int(now)?)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Stores an admin token's hash.
pub async fn insert_admin_token(store: &Store, hash: &[u8; 32], now: u64) -> Result<(), Error> {
    sqlx::query("INSERT INTO admin_tokens (token_hash, created_at) VALUES ($1, $2)")
        .bind(hash.as_slice())
        .bind(db_int(now)?)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Every stored admin token hash.
pub async fn admin_token_hashes(store: &Store) -> Result<Vec<Vec<u8>>, Error> {
    let rows = sqlx::query("SELECT token_hash FROM admin_tokens")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.into_iter().map(|r| r.get("token_hash")).collect())
}
