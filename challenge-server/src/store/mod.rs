//! Persistence: SQLite in the data directory (WAL, `synchronous = FULL`, so a committed
//! transaction survives a kill or a power cut), migrations embedded in the binary. Queries use
//! `$n` parameters and portable SQL, ready for PostgreSQL.

pub mod challenges;
pub mod claims;
pub mod keys;
pub mod log;
pub mod sessions;
pub mod transcript;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use crate::Error;

/// A write transaction.
pub type Tx = sqlx::Transaction<'static, Sqlite>;

/// The database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file and runs the embedded migrations.
    pub async fn open(path: &Path) -> Result<Self, Error> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool, for reads.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Begins a write transaction that takes the write lock at once (SQLite `BEGIN
    /// IMMEDIATE`), so that a transaction that reads then writes never fails on an upgrade,
    /// even with a second process (the CLI) writing.
    pub async fn begin_write(&self) -> Result<Tx, Error> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Closes the pool (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A `u64` as the database's signed 64-bit integer.
pub(crate) fn db_int(value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::internal("a value does not fit a database integer"))
}

/// A database integer as `u64`.
pub(crate) fn from_db(value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::internal("a negative integer in the database"))
}

/// A 32-byte database blob.
pub(crate) fn blob32(value: &[u8]) -> Result<[u8; 32], Error> {
    value
        .try_into()
        .map_err(|_| Error::internal("a 32-byte database field has another length"))
}
