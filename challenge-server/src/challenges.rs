//! Challenge operations: create (commitments first, before any traffic), produce and publish
//! transcript entries, close and reveal the seed, and the public views.

use std::collections::BTreeMap;

use target_impl::Device;
use target_impl::hazmat::sha256;

use crate::api::{
    ChallengeSummary, ChallengeView, PartyView, SecretCommitmentView, TranscriptEntryView,
};
use crate::keys::{Purpose, random_hex};
use crate::log::Event;
use crate::seed::MasterSeed;
use crate::server::App;
use crate::store::challenges::ChallengeRow;
use crate::store::transcript::EntryRow;
use crate::store::{self, Tx};
use crate::tracks::ChallengeSpec;
use crate::tracks::passive::{self, Parties};
use crate::{Error, TARGET_IMPL_DEPS_SHA256, TARGET_IMPL_SOURCE_SHA256, TARGET_IMPL_VERSION};

/// Length of a challenge or claim id in hex digits.
pub const ID_HEX_LEN: usize = 16;

/// Whether `id` has the form of an id (16 lowercase hex digits).
pub fn is_id(id: &str) -> bool {
    id.len() == ID_HEX_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Creates a challenge from `spec`. The seed is drawn from the OS unless given (tests, which
/// need to know a secret). Everything public is logged before any traffic.
pub async fn create(
    app: &App,
    spec: ChallengeSpec,
    seed: Option<MasterSeed>,
) -> Result<ChallengeRow, Error> {
    let now = app.clock.now();
    let spec = spec.validate(now)?;
    let seed = match seed {
        Some(seed) => seed,
        None => MasterSeed::generate()?,
    };
    let id = random_hex(ID_HEX_LEN / 2)?;
    let setup = passive::setup(&seed, &spec.schedule, spec.secrets)?;
    let parties = passive::parties(&seed)?;
    let (sealed_alice, sealed_bob) = seal_parties(app, &id, &parties)?;
    let rules_sha256 = sha256(&[spec.rules.as_bytes()]);
    let mut row = ChallengeRow {
        id: id.clone(),
        track: spec.track.name().to_owned(),
        title: spec.title,
        rules: spec.rules,
        rules_sha256,
        bounty: serde_json::to_string(&spec.bounty)?,
        schedule: spec.schedule,
        deadline: spec.deadline,
        close_on_win: spec.close_on_win,
        created_at: now,
        seed_commitment: seed.commitment(),
        sealed_seed: app
            .kek
            .seal(Purpose::MasterSeed { challenge: &id }, seed.expose())?,
        revealed_seed: None,
        alice_bundle: setup.alice_bundle,
        bob_bundle: setup.bob_bundle,
        target_impl_version: TARGET_IMPL_VERSION.to_owned(),
        target_impl_source_sha256: TARGET_IMPL_SOURCE_SHA256.to_owned(),
        target_impl_deps_sha256: Some(TARGET_IMPL_DEPS_SHA256.to_owned()),
        status: "open".to_owned(),
        closed_at: None,
        close_reason: None,
        next_entry: 0,
        sealed_alice,
        sealed_bob,
        created_log_index: 0,
    };
    let event = created_event(&row, &spec.bounty, &setup.secrets);
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    row.created_log_index = log.append(&mut tx, &event).await?;
    store::challenges::insert(&mut tx, &row, &setup.secrets).await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(challenge = %row.id, messages = row.schedule.messages, "challenge created");
    Ok(row)
}

fn created_event(
    row: &ChallengeRow,
    bounty: &BTreeMap<String, String>,
    secrets: &[passive::SecretPlacement],
) -> Event {
    Event::ChallengeCreated {
        challenge: row.id.clone(),
        track: row.track.clone(),
        title: row.title.clone(),
        rules_sha256: hex::encode(row.rules_sha256),
        bounty: bounty.clone(),
        schedule: row.schedule,
        deadline: row.deadline,
        close_on_win: row.close_on_win,
        seed_commitment: hex::encode(row.seed_commitment),
        secret_commitments: secret_views(secrets),
        alice_bundle_sha256: hex::encode(sha256(&[&row.alice_bundle])),
        bob_bundle_sha256: hex::encode(sha256(&[&row.bob_bundle])),
        target_impl: Box::new(row.target_identity()),
        time: row.created_at,
    }
}

fn secret_views(secrets: &[passive::SecretPlacement]) -> Vec<SecretCommitmentView> {
    secrets
        .iter()
        .map(|p| SecretCommitmentView {
            index: p.index,
            message: p.message,
            commitment: hex::encode(p.commitment),
        })
        .collect()
}

fn seal_parties(app: &App, id: &str, parties: &Parties) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let alice = app.kek.seal(
        Purpose::DeviceState {
            challenge: id,
            party: "alice",
        },
        &parties.alice.to_bytes(),
    )?;
    let bob = app.kek.seal(
        Purpose::DeviceState {
            challenge: id,
            party: "bob",
        },
        &parties.bob.to_bytes(),
    )?;
    Ok((alice, bob))
}

fn open_parties(app: &App, row: &ChallengeRow) -> Result<Parties, Error> {
    let alice = app.kek.open(
        Purpose::DeviceState {
            challenge: &row.id,
            party: "alice",
        },
        &row.sealed_alice,
    )?;
    let bob = app.kek.open(
        Purpose::DeviceState {
            challenge: &row.id,
            party: "bob",
        },
        &row.sealed_bob,
    )?;
    Ok(Parties {
        alice: Device::from_bytes(&alice)?,
        bob: Device::from_bytes(&bob)?,
    })
}

/// The challenge's master seed, unsealed.
pub fn open_seed(app: &App, row: &ChallengeRow) -> Result<MasterSeed, Error> {
    let seed = app
        .kek
        .open32(Purpose::MasterSeed { challenge: &row.id }, &row.sealed_seed)?;
    Ok(MasterSeed::from_bytes(*seed))
}

/// Produces and publishes every entry of challenge `id` whose time has come (with its
/// scheduled time, never the clock's); first publishes an entry stored but not yet published
/// (a restart after a kill between the two). Returns how many entries were published.
pub async fn run_due_steps(app: &App, id: &str) -> Result<u64, Error> {
    let mut published = 0;
    if let Some(stored) = store::transcript::unpublished(&app.store, id).await? {
        publish(app, id, &stored).await?;
        published += 1;
    }
    loop {
        let Some(row) = store::challenges::get(&app.store, id).await? else {
            return Err(Error::internal(format!("challenge {id} vanished")));
        };
        let k = row.next_entry;
        if !row.is_open() || k > row.schedule.messages || row.schedule.time_of(k) > app.clock.now()
        {
            return Ok(published);
        }
        let Some(entry) = produce(app, &row).await? else {
            continue;
        };
        publish(app, id, &entry).await?;
        published += 1;
    }
}

/// The first half of a step alone: produces and stores the next entry of challenge `id`
/// without publishing it, as a kill between the two halves leaves it (tests use this; the
/// scheduler always runs both halves through [`run_due_steps`]).
pub async fn store_next_entry(app: &App, id: &str) -> Result<Option<EntryRow>, Error> {
    let row = find(app, id, "id").await?;
    produce(app, &row).await
}

/// Plays entry `row.next_entry` and stores it (unpublished) with the parties' new sealed
/// states, in one transaction; `None` if the challenge closed or moved on meanwhile.
async fn produce(app: &App, row: &ChallengeRow) -> Result<Option<EntryRow>, Error> {
    let seed = open_seed(app, row)?;
    let placements = store::challenges::secrets(&app.store, &row.id).await?;
    let mut parties = open_parties(app, row)?;
    let k = row.next_entry;
    let (schedule, id) = (row.schedule, row.id.clone());
    let (step, parties) = tokio::task::spawn_blocking(move || {
        let step = if k == 0 {
            passive::bundle_step(&parties, &schedule)
        } else {
            passive::play_step(&mut parties, &seed, &schedule, &placements, k)
        };
        step.map(|s| (s, parties))
    })
    .await
    .map_err(Error::internal)??;
    let (sealed_alice, sealed_bob) = seal_parties(app, &id, &parties)?;
    let entry = EntryRow {
        index: step.index,
        sent_at: step.sent_at,
        direction: step.direction.name().to_owned(),
        kind: step.kind.name().to_owned(),
        bytes: step.bytes,
        published: false,
        log_index: None,
    };
    let mut tx = app.store.begin_write().await?;
    // Another writer (a close on a win, a second process) may have moved on meanwhile.
    let current = store::challenges::get_in(&mut tx, &id).await?;
    if !current.is_some_and(|c| c.is_open() && c.next_entry == k) {
        return Ok(None);
    }
    store::transcript::insert_stored(&mut tx, &id, &entry).await?;
    store::challenges::save_states(&mut tx, &id, k + 1, &sealed_alice, &sealed_bob).await?;
    tx.commit().await?;
    Ok(Some(entry))
}

/// Logs a stored entry and marks it published.
async fn publish(app: &App, id: &str, entry: &EntryRow) -> Result<(), Error> {
    let event = Event::Message {
        challenge: id.to_owned(),
        index: entry.index,
        time: entry.sent_at,
        direction: entry.direction.clone(),
        kind: entry.kind.clone(),
        sha256: hex::encode(sha256(&[&entry.bytes])),
    };
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    if !store::transcript::is_unpublished_in(&mut tx, id, entry.index).await? {
        return Ok(()); // published meanwhile by another writer
    }
    let log_index = log.append(&mut tx, &event).await?;
    store::transcript::mark_published(&mut tx, id, entry.index, log_index).await?;
    tx.commit().await?;
    log.committed();
    tracing::debug!(challenge = %id, entry = entry.index, log_index, "entry published");
    Ok(())
}

/// Closes challenge `id` if its deadline has passed.
pub async fn close_if_due(app: &App, id: &str) -> Result<bool, Error> {
    let Some(row) = store::challenges::get(&app.store, id).await? else {
        return Ok(false);
    };
    if !row.is_open() || app.clock.now() < row.deadline {
        return Ok(false);
    }
    close(app, id, "deadline").await?;
    Ok(true)
}

/// Closes challenge `id` now and reveals its seed (`reason`: `deadline`, `operator`).
pub async fn close(app: &App, id: &str, reason: &str) -> Result<(), Error> {
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let row = store::challenges::get_in(&mut tx, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field: "id",
            message: "no challenge with this id".to_owned(),
        })?;
    close_in(app, &mut log, &mut tx, &row, reason).await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(challenge = %id, reason, "challenge closed, seed revealed");
    Ok(())
}

/// Closes inside a running transaction: logs the close and the seed, and makes the claims
/// revealed so far public.
pub(crate) async fn close_in(
    app: &App,
    log: &mut crate::log::LogWriter<'_>,
    tx: &mut Tx,
    row: &ChallengeRow,
    reason: &str,
) -> Result<(), Error> {
    if !row.is_open() {
        return Err(Error::Conflict {
            field: "id",
            message: "the challenge is already closed".to_owned(),
        });
    }
    let seed = open_seed(app, row)?;
    let now = app.clock.now();
    log.append(
        tx,
        &Event::ChallengeClosed {
            challenge: row.id.clone(),
            reason: reason.to_owned(),
            time: now,
        },
    )
    .await?;
    log.append(
        tx,
        &Event::SeedRevealed {
            challenge: row.id.clone(),
            seed: hex::encode(seed.expose()),
            time: now,
        },
    )
    .await?;
    store::challenges::close(tx, &row.id, now, reason, seed.expose()).await?;
    // The claims revealed so far become public with the seed, in the same transaction.
    crate::claims::publish_reveals_in(&app.kek, tx, &row.id).await?;
    Ok(())
}

/// Loads a challenge or answers 404 naming `field`.
pub async fn find(app: &App, id: &str, field: &'static str) -> Result<ChallengeRow, Error> {
    if !is_id(id) {
        return Err(Error::invalid(
            field,
            "expected a challenge id: 16 lowercase hex digits",
        ));
    }
    store::challenges::get(&app.store, id)
        .await?
        .ok_or_else(|| Error::NotFound {
            field,
            message: "no challenge with this id".to_owned(),
        })
}

/// The public view of a challenge.
pub async fn view(app: &App, row: &ChallengeRow) -> Result<ChallengeView, Error> {
    let secrets = store::challenges::secrets(&app.store, &row.id).await?;
    let party = |bundle: &[u8]| PartyView {
        bundle: hex::encode(bundle),
        bundle_sha256: hex::encode(sha256(&[bundle])),
    };
    Ok(ChallengeView {
        id: row.id.clone(),
        title: row.title.clone(),
        track: row.track.clone(),
        status: row.status.clone(),
        rules: row.rules.clone(),
        rules_sha256: hex::encode(row.rules_sha256),
        bounty: serde_json::from_str(&row.bounty)?,
        schedule: row.schedule,
        deadline: row.deadline,
        close_on_win: row.close_on_win,
        created_at: row.created_at,
        seed_commitment: hex::encode(row.seed_commitment),
        secret_commitments: secret_views(&secrets),
        parties: BTreeMap::from([
            ("alice".to_owned(), party(&row.alice_bundle)),
            ("bob".to_owned(), party(&row.bob_bundle)),
        ]),
        target_impl: row.target_identity(),
        published_entries: store::transcript::published_count(&app.store, &row.id).await?,
        created_log_index: row.created_log_index,
        closed_at: row.closed_at,
        close_reason: row.close_reason.clone(),
        seed: row.revealed_seed.map(hex::encode),
    })
}

/// The summary line of a challenge.
pub async fn summary(app: &App, row: &ChallengeRow) -> Result<ChallengeSummary, Error> {
    Ok(ChallengeSummary {
        id: row.id.clone(),
        title: row.title.clone(),
        track: row.track.clone(),
        status: row.status.clone(),
        bounty: serde_json::from_str(&row.bounty)?,
        deadline: row.deadline,
        published_entries: store::transcript::published_count(&app.store, &row.id).await?,
    })
}

/// A transcript row as the API shows it.
pub fn entry_view(e: &EntryRow) -> TranscriptEntryView {
    TranscriptEntryView {
        index: e.index,
        time: e.sent_at,
        direction: e.direction.clone(),
        kind: e.kind.clone(),
        length: e.bytes.len() as u64,
        sha256: hex::encode(sha256(&[&e.bytes])),
        bytes: hex::encode(&e.bytes),
        log_index: e.log_index.unwrap_or_default(),
    }
}
