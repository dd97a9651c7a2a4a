//! Claims: commits with their receipts, sealed reveals (and their public copies once the
//! challenge is closed), verdicts.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, Tx, blob32, db_int, from_db};
use crate::Error;
use crate::api::RevealRequest;
use crate::keys::{Kek, Purpose};

/// A claim row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRow {
    /// Id.
    pub id: String,
    /// Challenge id.
    pub challenge: String,
    /// Claimant name.
    pub claimant: String,
    /// Committed hash.
    pub commitment: [u8; 32],
    /// Commit time.
    pub committed_at: u64,
    /// Log index of the commit.
    pub log_index: u64,
    /// Receipt signature.
    pub receipt_signature: Vec<u8>,
    /// Signed checkpoint right after the commit.
    pub receipt_checkpoint: String,
    /// Revealed kind.
    pub kind: Option<String>,
    /// The sealed reveal.
    pub sealed_reveal: Option<Vec<u8>>,
    /// The reveal's JSON in the clear, public: set only once the challenge is closed (at the
    /// close, or with a reveal taken after it), `None` before.
    pub reveal_json: Option<String>,
    /// Verdict.
    pub verdict: Option<String>,
    /// Log index of the latest verdict event.
    pub verdict_log_index: Option<u64>,
    /// `automatic` or `operator`.
    pub decided_by: Option<String>,
}

impl ClaimRow {
    fn from_row(r: &SqliteRow) -> Result<Self, Error> {
        Ok(Self {
            id: r.try_get("id")?,
            challenge: r.try_get("challenge_id")?,
            claimant: r.try_get("claimant")?,
            commitment: blob32(&r.try_get::<Vec<u8>, _>("commitment")?)?,
            committed_at: from_db(r.try_get("committed_at")?)?,
            log_index: from_db(r.try_get("log_index")?)?,
            receipt_signature: r.try_get("receipt_signature")?,
            receipt_checkpoint: r.try_get("receipt_checkpoint")?,
            kind: r.try_get("kind")?,
            sealed_reveal: r.try_get("sealed_reveal")?,
            reveal_json: r.try_get("reveal_json")?,
            verdict: r.try_get("verdict")?,
            verdict_log_index: r
                .try_get::<Option<i64>, _>("verdict_log_index")?
                .map(from_db)
                .transpose()?,
            decided_by: r.try_get("decided_by")?,
        })
    }
}

/// Inserts a committed claim.
pub async fn insert(tx: &mut Tx, c: &ClaimRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO claims (id, challenge_id, claimant, commitment, committed_at, log_index, \
         receipt_signature, receipt_checkpoint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&c.id)
    .bind(&c.challenge)
    .bind(&c.claimant)
    .bind(c.commitment.as_slice())
    .bind(db_int(c.committed_at)?)
    .bind(db_int(c.log_index)?)
    .bind(&c.receipt_signature)
    .bind(&c.receipt_checkpoint)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a claim rebuilt from the log: inserted, or every column replaced but its sealed
/// reveal (which is secret, so never in the log).
pub async fn upsert_rebuilt(tx: &mut Tx, c: &ClaimRow) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO claims (id, challenge_id, claimant, commitment, committed_at, log_index, \
         receipt_signature, receipt_checkpoint, kind, reveal_json, verdict, verdict_log_index, \
         decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET challenge_id = excluded.challenge_id, \
         claimant = excluded.claimant, commitment = excluded.commitment, \
         committed_at = excluded.committed_at, log_index = excluded.log_index, \
         receipt_signature = excluded.receipt_signature, \
         receipt_checkpoint = excluded.receipt_checkpoint, kind = excluded.kind, \
         reveal_json = excluded.reveal_json, verdict = excluded.verdict, \
         verdict_log_index = excluded.verdict_log_index, decided_by = excluded.decided_by",
    )
    .bind(&c.id)
    .bind(&c.challenge)
    .bind(&c.claimant)
    .bind(c.commitment.as_slice())
    .bind(db_int(c.committed_at)?)
    .bind(db_int(c.log_index)?)
    .bind(&c.receipt_signature)
    .bind(&c.receipt_checkpoint)
    .bind(&c.kind)
    .bind(&c.reveal_json)
    .bind(&c.verdict)
    .bind(c.verdict_log_index.map(db_int).transpose()?)
    .bind(&c.decided_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every claim, by id (the rebuild's comparison).
pub async fn all(store: &Store) -> Result<Vec<ClaimRow>, Error> {
    let rows = sqlx::query("SELECT * FROM claims ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// Whether a challenge already has a claim with this commitment.
pub async fn commitment_exists(
    tx: &mut Tx,
    challenge: &str,
    commitment: &[u8; 32],
) -> Result<bool, Error> {
    let row = sqlx::query("SELECT id FROM claims WHERE challenge_id = $1 AND commitment = $2")
        .bind(challenge)
        .bind(commitment.as_slice())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}

/// One claim.
pub async fn get(store: &Store, id: &str) -> Result<Option<ClaimRow>, Error> {
    let row = sqlx::query("SELECT * FROM claims WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(ClaimRow::from_row).transpose()
}

/// One claim and whether its challenge is closed, read together (one statement, one
/// snapshot), so a close between two reads never pairs a claim read before the close with a
/// challenge read after it.
pub async fn get_with_closed(store: &Store, id: &str) -> Result<Option<(ClaimRow, bool)>, Error> {
    let row = sqlx::query(
        "SELECT k.*, c.status AS challenge_status FROM claims k \
         JOIN challenges c ON c.id = k.challenge_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref()
        .map(|r| {
            let status: String = r.try_get("challenge_status")?;
            Ok((ClaimRow::from_row(r)?, status != "open"))
        })
        .transpose()
}

/// One claim, read inside a write transaction.
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<ClaimRow>, Error> {
    let row = sqlx::query("SELECT * FROM claims WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(ClaimRow::from_row).transpose()
}

/// A challenge's claims by log index.
pub async fn for_challenge(store: &Store, challenge: &str) -> Result<Vec<ClaimRow>, Error> {
    let rows = sqlx::query("SELECT * FROM claims WHERE challenge_id = $1 ORDER BY log_index")
        .bind(challenge)
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// Every claim whose verdict is `won`, by challenge and commit log index (the hall of fame).
pub async fn won(store: &Store) -> Result<Vec<ClaimRow>, Error> {
    let rows =
        sqlx::query("SELECT * FROM claims WHERE verdict = 'won' ORDER BY challenge_id, log_index")
            .fetch_all(store.pool())
            .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// At most `limit` claims of a challenge whose commit log index is at least `from`, by log index.
pub async fn page(
    store: &Store,
    challenge: &str,
    from: u64,
    limit: u64,
) -> Result<Vec<ClaimRow>, Error> {
    let rows = sqlx::query(
        "SELECT * FROM claims WHERE challenge_id = $1 AND log_index >= $2 \
         ORDER BY log_index LIMIT $3",
    )
    .bind(challenge)
    .bind(db_int(from)?)
    .bind(db_int(limit)?)
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// The current winner of a kind of win in a challenge, if any.
pub async fn winner(tx: &mut Tx, challenge: &str, kind: &str) -> Result<Option<ClaimRow>, Error> {
    let row = sqlx::query(
        "SELECT * FROM claims WHERE challenge_id = $1 AND kind = $2 AND verdict = 'won' \
         ORDER BY log_index LIMIT 1",
    )
    .bind(challenge)
    .bind(kind)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(ClaimRow::from_row).transpose()
}

/// The claims of a challenge never revealed, by log index.
pub async fn unrevealed_in(tx: &mut Tx, challenge: &str) -> Result<Vec<ClaimRow>, Error> {
    let rows = sqlx::query(
        "SELECT * FROM claims WHERE challenge_id = $1 AND kind IS NULL AND verdict IS NULL \
         ORDER BY log_index",
    )
    .bind(challenge)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// A reveal to record: its kind, sealed content, public copy and verdict.
#[derive(Clone, Copy, Debug)]
pub struct Reveal<'a> {
    /// Revealed kind.
    pub kind: &'a str,
    /// The sealed reveal.
    pub sealed: &'a [u8],
    /// The public copy: only for a reveal taken after the close, `None` before.
    pub public_json: Option<&'a str>,
    /// Verdict.
    pub verdict: &'a str,
    /// Log index of the verdict event.
    pub verdict_log_index: u64,
    /// `automatic` or `operator`.
    pub decided_by: &'a str,
}

/// Records a reveal and its verdict.
pub async fn set_reveal(tx: &mut Tx, id: &str, reveal: &Reveal<'_>) -> Result<(), Error> {
    sqlx::query(
        "UPDATE claims SET kind = $1, sealed_reveal = $2, reveal_json = $3, verdict = $4, \
         verdict_log_index = $5, decided_by = $6 WHERE id = $7",
    )
    .bind(reveal.kind)
    .bind(reveal.sealed)
    .bind(reveal.public_json)
    .bind(reveal.verdict)
    .bind(db_int(reveal.verdict_log_index)?)
    .bind(reveal.decided_by)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The revealed claims of a challenge that have no public copy yet, by log index.
pub async fn unpublished_reveals_in(tx: &mut Tx, challenge: &str) -> Result<Vec<ClaimRow>, Error> {
    let rows = sqlx::query(
        "SELECT * FROM claims WHERE challenge_id = $1 AND sealed_reveal IS NOT NULL \
         AND reveal_json IS NULL ORDER BY log_index",
    )
    .bind(challenge)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(ClaimRow::from_row).collect()
}

/// Records the public copy of a claim's reveal.
pub async fn set_reveal_json(tx: &mut Tx, id: &str, json: &str) -> Result<(), Error> {
    sqlx::query("UPDATE claims SET reveal_json = $1 WHERE id = $2")
        .bind(json)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ids of the closed challenges with a revealed claim that has no public copy (a database
/// written before the copy existed).
pub async fn closed_without_public_reveals(store: &Store) -> Result<Vec<String>, Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT c.id FROM challenges c JOIN claims k ON k.challenge_id = c.id \
         WHERE c.status <> 'open' AND k.sealed_reveal IS NOT NULL AND k.reveal_json IS NULL \
         ORDER BY c.id",
    )
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(Error::from))
        .collect()
}

/// Changes a verdict (operator decision, or a win superseded by an earlier commit).
pub async fn set_verdict(
    tx: &mut Tx,
    id: &str,
    verdict: &str,
    verdict_log_index: u64,
    decided_by: &str,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE claims SET verdict = $1, verdict_log_index = $2, decided_by = $3 WHERE id = $4",
    )
    .bind(verdict)
    .bind(db_int(verdict_log_index)?)
    .bind(decided_by)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes public, inside the transaction, the reveal of every claim of `challenge` revealed
/// without a public copy: the close does this (in its transaction) for the claims revealed
/// before it, and the start-up backfill for a database written before the copy existed.
/// Returns the reveals made public, by claim id, in commit order.
pub async fn publish_reveals_in(
    kek: &Kek,
    tx: &mut Tx,
    challenge: &str,
) -> Result<Vec<(String, RevealRequest)>, Error> {
    let claims = unpublished_reveals_in(tx, challenge).await?;
    let mut published = Vec::with_capacity(claims.len());
    for claim in claims {
        let Some(sealed) = &claim.sealed_reveal else {
            continue;
        };
        let bytes = kek.open(Purpose::ClaimReveal { claim: &claim.id }, sealed)?;
        // Re-encoded from the parsed request: what `view` has always shown.
        let reveal: RevealRequest = serde_json::from_slice(&bytes)?;
        set_reveal_json(tx, &claim.id, &serde_json::to_string(&reveal)?).await?;
        published.push((claim.id, reveal));
    }
    Ok(published)
}

/// At start-up: makes public the reveals of the closed challenges whose revealed claims lack
/// their public copy (a database written before it existed), one transaction per challenge.
/// Idempotent: a second run finds nothing to do. Returns how many reveals were made public.
pub async fn backfill_public_reveals(store: &Store, kek: &Kek) -> Result<usize, Error> {
    let mut published = 0;
    for id in closed_without_public_reveals(store).await? {
        let mut tx = store.begin_write().await?;
        // Re-checked inside the write lock: a challenge is never reopened, so still closed.
        published += publish_reveals_in(kek, &mut tx, &id).await?.len();
        tx.commit().await?;
        tracing::info!(challenge = %id, "made the revealed claims of a closed challenge public");
    }
    Ok(published)
}
