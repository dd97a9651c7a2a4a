//! Challenges, their secrets' placements, and their parties (bundle and sealed state).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, Tx, blob32, db_int, from_db};
use crate::Error;
use crate::tracks::{Schedule, SecretPlacement};

/// A challenge row.
#[derive(Clone, Debug)]
pub struct ChallengeRow {
    /// Id.
    pub id: String,
    /// Track name.
    pub track: String,
    /// Title.
    pub title: String,
    /// Rules.
    pub rules: String,
    /// SHA-256 of the rules.
    pub rules_sha256: [u8; 32],
    /// Bounty JSON object.
    pub bounty: String,
    /// Schedule.
    pub schedule: Schedule,
    /// Closing time.
    pub deadline: u64,
    /// The last time a reveal is taken (`None`: a challenge from before it was published).
    pub reveal_deadline: Option<u64>,
    /// When the unrevealed commits were voided, after the reveal deadline.
    pub voided_at: Option<u64>,
    /// Close on the first win.
    pub close_on_win: bool,
    /// Creation time.
    pub created_at: u64,
    /// Seed commitment.
    pub seed_commitment: [u8; 32],
    /// The sealed seed.
    pub sealed_seed: Vec<u8>,
    /// The seed, once revealed.
    pub revealed_seed: Option<[u8; 32]>,
    /// target-impl version.
    pub target_impl_version: String,
    /// target-impl source hash.
    pub target_impl_source_sha256: String,
    /// target-impl dependency hash (`None` for a challenge created before it was recorded).
    pub target_impl_deps_sha256: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Close time.
    pub closed_at: Option<u64>,
    /// Close reason.
    pub close_reason: Option<String>,
    /// The next transcript entry to produce.
    pub next_entry: u64,
    /// Log index of `challenge-created`.
    pub created_log_index: u64,
    /// The planted flaw of a weakened test target; `None` for target-impl itself.
    pub target_flaw: Option<String>,
    /// The track's own parameters (JSON object text), `None` for none.
    pub track_params: Option<String>,
    /// Why the scheduled traffic stopped, `None` while it runs.
    pub traffic_stopped: Option<String>,
}

/// A party of a challenge.
#[derive(Clone, Debug)]
pub struct PartyRow {
    /// Its name.
    pub name: String,
    /// Its bundle as published at creation.
    pub bundle: Vec<u8>,
    /// Its device state after entry `next_entry - 1`, sealed.
    pub sealed_state: Vec<u8>,
}

impl ChallengeRow {
    /// The published identity of the target that plays this challenge.
    pub fn target_identity(&self) -> crate::api::TargetIdentity {
        crate::api::TargetIdentity {
            crate_name: "target-impl".to_owned(),
            version: self.target_impl_version.clone(),
            source_sha256: self.target_impl_source_sha256.clone(),
            deps_sha256: self.target_impl_deps_sha256.clone(),
            flaw: self.target_flaw.clone(),
        }
    }

    /// Whether claims are still accepted and traffic still runs.
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }

    fn from_row(r: &SqliteRow) -> Result<Self, Error> {
        let revealed: Option<Vec<u8>> = r.try_get("revealed_seed")?;
        Ok(Self {
            id: r.try_get("id")?,
            track: r.try_get("track")?,
            title: r.try_get("title")?,
            rules: r.try_get("rules")?,
            rules_sha256: blob32(&r.try_get::<Vec<u8>, _>("rules_sha256")?)?,
            bounty: r.try_get("bounty")?,
            schedule: Schedule {
                messages: from_db(r.try_get("messages")?)?,
                interval_secs: from_db(r.try_get("interval_secs")?)?,
                start_at: from_db(r.try_get("start_at")?)?,
            },
            deadline: from_db(r.try_get("deadline")?)?,
            reveal_deadline: r
                .try_get::<Option<i64>, _>("reveal_deadline")?
                .map(from_db)
                .transpose()?,
            voided_at: r
                .try_get::<Option<i64>, _>("voided_at")?
                .map(from_db)
                .transpose()?,
            close_on_win: r.try_get("close_on_win")?,
            created_at: from_db(r.try_get("created_at")?)?,
            seed_commitment: blob32(&r.try_get::<Vec<u8>, _>("seed_commitment")?)?,
            sealed_seed: r.try_get("sealed_seed")?,
            revealed_seed: revealed.map(|s| blob32(&s)).transpose()?,
            target_impl_version: r.try_get("target_impl_version")?,
            target_impl_source_sha256: r.try_get("target_impl_source_sha256")?,
            target_impl_deps_sha256: r.try_get("target_impl_deps_sha256")?,
            status: r.try_get("status")?,
            closed_at: r
                .try_get::<Option<i64>, _>("closed_at")?
                .map(from_db)
                .transpose()?,
            close_reason: r.try_get("close_reason")?,
            next_entry: from_db(r.try_get("next_entry")?)?,
            created_log_index: from_db(r.try_get("created_log_index")?)?,
            target_flaw: r.try_get("target_flaw")?,
            track_params: r.try_get("track_params")?,
            traffic_stopped: r.try_get("traffic_stopped")?,
        })
    }
}

/// Inserts a new challenge, its secrets' placements and its parties.
pub async fn insert(
    tx: &mut Tx,
    row: &ChallengeRow,
    secrets: &[SecretPlacement],
    parties: &[PartyRow],
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO challenges (id, track, title, rules, rules_sha256, bounty, messages, \
         interval_secs, start_at, deadline, close_on_win, created_at, seed_commitment, \
         sealed_seed, revealed_seed, target_impl_version, target_impl_source_sha256, status, \
         closed_at, close_reason, next_entry, created_log_index, target_impl_deps_sha256, \
         target_flaw, track_params, reveal_deadline) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13, $14, NULL, $15, $16, $17, NULL, NULL, $18, $19, $20, $21, $22, $23)",
    )
    .bind(&row.id)
    .bind(&row.track)
    .bind(&row.title)
    .bind(&row.rules)
    .bind(row.rules_sha256.as_slice())
    .bind(&row.bounty)
    .bind(db_int(row.schedule.messages)?)
    .bind(db_int(row.schedule.interval_secs)?)
    .bind(db_int(row.schedule.start_at)?)
    .bind(db_int(row.deadline)?)
    .bind(row.close_on_win)
    .bind(db_int(row.created_at)?)
    .bind(row.seed_commitment.as_slice())
    .bind(&row.sealed_seed)
    .bind(&row.target_impl_version)
    .bind(&row.target_impl_source_sha256)
    .bind(&row.status)
    .bind(db_int(row.next_entry)?)
    .bind(db_int(row.created_log_index)?)
    .bind(&row.target_impl_deps_sha256)
    .bind(&row.target_flaw)
    .bind(&row.track_params)
    .bind(row.reveal_deadline.map(db_int).transpose()?)
    .execute(&mut **tx)
    .await?;
    for p in secrets {
        sqlx::query(
            "INSERT INTO challenge_secrets (challenge_id, idx, message_index, commitment) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&row.id)
        .bind(i64::from(p.index))
        .bind(db_int(p.message)?)
        .bind(p.commitment.as_slice())
        .execute(&mut **tx)
        .await?;
    }
    for (position, p) in (0i64..).zip(parties) {
        sqlx::query(
            "INSERT INTO challenge_parties (challenge_id, position, name, bundle, sealed_state) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&row.id)
        .bind(position)
        .bind(&p.name)
        .bind(&p.bundle)
        .bind(&p.sealed_state)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const PARTIES_QUERY: &str = "SELECT name, bundle, sealed_state FROM challenge_parties \
                             WHERE challenge_id = $1 ORDER BY position";

fn party_rows(rows: &[SqliteRow]) -> Result<Vec<PartyRow>, Error> {
    rows.iter()
        .map(|r| {
            Ok(PartyRow {
                name: r.try_get("name")?,
                bundle: r.try_get("bundle")?,
                sealed_state: r.try_get("sealed_state")?,
            })
        })
        .collect()
}

/// A challenge's parties, in their published order.
pub async fn parties(store: &Store, id: &str) -> Result<Vec<PartyRow>, Error> {
    let rows = sqlx::query(PARTIES_QUERY)
        .bind(id)
        .fetch_all(store.pool())
        .await?;
    party_rows(&rows)
}

/// A challenge's parties, read inside a write transaction.
pub async fn parties_in(tx: &mut Tx, id: &str) -> Result<Vec<PartyRow>, Error> {
    let rows = sqlx::query(PARTIES_QUERY)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    party_rows(&rows)
}

/// One challenge.
pub async fn get(store: &Store, id: &str) -> Result<Option<ChallengeRow>, Error> {
    let row = sqlx::query("SELECT * FROM challenges WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.as_ref().map(ChallengeRow::from_row).transpose()
}

/// One challenge, read inside a write transaction.
pub async fn get_in(tx: &mut Tx, id: &str) -> Result<Option<ChallengeRow>, Error> {
    let row = sqlx::query("SELECT * FROM challenges WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(ChallengeRow::from_row).transpose()
}

/// Every challenge, newest first.
pub async fn list(store: &Store) -> Result<Vec<ChallengeRow>, Error> {
    let rows = sqlx::query("SELECT * FROM challenges ORDER BY created_at DESC, id")
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(ChallengeRow::from_row).collect()
}

/// Ids of the open challenges.
pub async fn open_ids(store: &Store) -> Result<Vec<String>, Error> {
    let rows = sqlx::query("SELECT id FROM challenges WHERE status = 'open' ORDER BY id")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.into_iter().map(|r| r.get("id")).collect())
}

const SECRETS_QUERY: &str = "SELECT idx, message_index, commitment FROM challenge_secrets \
                             WHERE challenge_id = $1 ORDER BY idx";

/// A challenge's secrets' placements, by index.
pub async fn secrets(store: &Store, id: &str) -> Result<Vec<SecretPlacement>, Error> {
    let rows = sqlx::query(SECRETS_QUERY)
        .bind(id)
        .fetch_all(store.pool())
        .await?;
    placements(&rows)
}

/// A challenge's secrets' placements, read inside a write transaction.
pub async fn secrets_in(tx: &mut Tx, id: &str) -> Result<Vec<SecretPlacement>, Error> {
    let rows = sqlx::query(SECRETS_QUERY)
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    placements(&rows)
}

fn placements(rows: &[SqliteRow]) -> Result<Vec<SecretPlacement>, Error> {
    rows.iter()
        .map(|r| {
            Ok(SecretPlacement {
                index: u32::try_from(r.try_get::<i64, _>("idx")?)
                    .map_err(|_| Error::internal("secret index out of range"))?,
                message: from_db(r.try_get("message_index")?)?,
                commitment: blob32(&r.try_get::<Vec<u8>, _>("commitment")?)?,
            })
        })
        .collect()
}

/// Records the parties' sealed states after entry `next_entry - 1`.
pub async fn save_states(
    tx: &mut Tx,
    id: &str,
    next_entry: u64,
    sealed: &[(String, Vec<u8>)],
) -> Result<(), Error> {
    sqlx::query("UPDATE challenges SET next_entry = $1 WHERE id = $2")
        .bind(db_int(next_entry)?)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for (name, state) in sealed {
        sqlx::query(
            "UPDATE challenge_parties SET sealed_state = $1 WHERE challenge_id = $2 AND name = $3",
        )
        .bind(state)
        .bind(id)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Ids of the closed challenges whose reveal deadline has come by `now` and whose unrevealed
/// commits are not voided yet.
pub async fn due_for_voids(store: &Store, now: u64) -> Result<Vec<String>, Error> {
    let rows = sqlx::query(
        "SELECT id FROM challenges WHERE status <> 'open' AND reveal_deadline IS NOT NULL \
         AND reveal_deadline <= $1 AND voided_at IS NULL ORDER BY id",
    )
    .bind(db_int(now)?)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.get("id")).collect())
}

/// Records when challenge `id`'s unrevealed commits were voided.
pub async fn set_voided(tx: &mut Tx, id: &str, now: u64) -> Result<(), Error> {
    sqlx::query("UPDATE challenges SET voided_at = $1 WHERE id = $2")
        .bind(db_int(now)?)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records that challenge `id`'s traffic stopped, and why.
pub async fn stop_traffic(tx: &mut Tx, id: &str, reason: &str) -> Result<(), Error> {
    sqlx::query("UPDATE challenges SET traffic_stopped = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Closes a challenge and records its revealed seed.
pub async fn close(
    tx: &mut Tx,
    id: &str,
    now: u64,
    reason: &str,
    seed: &[u8; 32],
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE challenges SET status = 'closed', closed_at = $1, close_reason = $2, \
         revealed_seed = $3 WHERE id = $4",
    )
    .bind(db_int(now)?)
    .bind(reason)
    .bind(seed.as_slice())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
