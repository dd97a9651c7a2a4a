//! Challenge operations: create (commitments first, before any traffic), produce and publish
//! transcript entries, close and reveal the seed, and the public views.

use std::collections::BTreeMap;

use target_impl::hazmat::sha256;

use crate::Error;
use crate::api::{
    ChallengeSummary, ChallengeView, PartyView, SecretCommitmentView, TranscriptEntryView,
};
use crate::keys::{Purpose, random_hex};
use crate::log::{CreatedEvent, Event};
use crate::seed::MasterSeed;
use crate::state::App;
use crate::store::challenges::{ChallengeRow, PartyRow};
use crate::store::transcript::EntryRow;
use crate::store::{self, Tx};
use crate::targets::{self, Target};
use crate::tracks::{
    self, ChallengeSpec, Parties, Party, Public, SecretPlacement, Track, TrackFields, TrackSpec,
};

pub use crate::fields::{ID_HEX_LEN, is_id};

/// Creates a challenge from `spec` on target-impl. The seed is drawn from the OS unless given
/// (tests, which need to know a secret). Everything public is logged before any traffic.
pub async fn create(
    app: &App,
    spec: ChallengeSpec,
    seed: Option<MasterSeed>,
) -> Result<ChallengeRow, Error> {
    create_on(app, spec, seed, targets::real()).await
}

/// Creates a challenge from `spec` played on `target` (target-impl, or in the server's tests a
/// weakened copy: `targets::by_flaw`).
pub async fn create_on(
    app: &App,
    spec: ChallengeSpec,
    seed: Option<MasterSeed>,
    target: &'static dyn Target,
) -> Result<ChallengeRow, Error> {
    let now = app.clock.now();
    let spec = spec.validate(now)?;
    let seed = match seed {
        Some(seed) => seed,
        None => MasterSeed::generate()?,
    };
    let id = random_hex(ID_HEX_LEN / 2)?;
    let track_spec = TrackSpec {
        schedule: spec.schedule,
        secrets: spec.secrets,
        params: spec.params.clone(),
    };
    let setup = spec.track.setup(target, &seed, &track_spec)?;
    let sealed = seal_parties(app, &id, &setup.parties)?;
    let parties: Vec<PartyRow> = setup
        .bundles
        .iter()
        .zip(sealed)
        .map(|((name, bundle), (_, sealed_state))| PartyRow {
            name: name.clone(),
            bundle: bundle.clone(),
            sealed_state,
        })
        .collect();
    let identity = target.identity();
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
        reveal_deadline: Some(spec.reveal_deadline),
        voided_at: None,
        close_on_win: spec.close_on_win,
        created_at: now,
        seed_commitment: seed.commitment(),
        sealed_seed: app
            .kek
            .seal(Purpose::MasterSeed { challenge: &id }, seed.expose())?,
        revealed_seed: None,
        target_impl_version: identity.version,
        target_impl_source_sha256: identity.source_sha256,
        target_impl_deps_sha256: identity.deps_sha256,
        status: "open".to_owned(),
        closed_at: None,
        close_reason: None,
        next_entry: 0,
        created_log_index: 0,
        target_flaw: identity.flaw,
        track_params: if spec.params.is_empty() {
            None
        } else {
            Some(spec.params.to_json()?)
        },
        traffic_stopped: None,
    };
    let event = created_event(&row, &spec.bounty, &setup.secrets, setup.event_fields);
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    row.created_log_index = log.append(&mut tx, &event).await?;
    store::challenges::insert(&mut tx, &row, &setup.secrets, &parties).await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(challenge = %row.id, messages = row.schedule.messages, "challenge created");
    Ok(row)
}

/// The `challenge-created` event: the common fields, with the track's own in their place.
pub fn created_event(
    row: &ChallengeRow,
    bounty: &BTreeMap<String, String>,
    secrets: &[SecretPlacement],
    track_fields: TrackFields,
) -> Event {
    Event::ChallengeCreated(Box::new(CreatedEvent {
        challenge: row.id.clone(),
        track: row.track.clone(),
        title: row.title.clone(),
        rules_sha256: hex::encode(row.rules_sha256),
        bounty: bounty.clone(),
        schedule: row.schedule,
        deadline: row.deadline,
        reveal_deadline: row.reveal_deadline,
        close_on_win: row.close_on_win,
        seed_commitment: hex::encode(row.seed_commitment),
        secret_commitments: secret_views(secrets),
        track_fields,
        target_impl: row.target_identity(),
        time: row.created_at,
    }))
}

/// The secrets' public commitments.
pub fn secret_views(secrets: &[SecretPlacement]) -> Vec<SecretCommitmentView> {
    secrets
        .iter()
        .map(|p| SecretCommitmentView {
            index: p.index,
            message: p.message,
            commitment: hex::encode(p.commitment),
        })
        .collect()
}

fn seal_parties(app: &App, id: &str, parties: &Parties) -> Result<Vec<(String, Vec<u8>)>, Error> {
    parties
        .0
        .iter()
        .map(|p| {
            let sealed = app.kek.seal(
                Purpose::DeviceState {
                    challenge: id,
                    party: &p.name,
                },
                &p.device.state(),
            )?;
            Ok((p.name.clone(), sealed))
        })
        .collect()
}

fn open_parties(app: &App, row: &ChallengeRow, rows: &[PartyRow]) -> Result<Parties, Error> {
    let target = target_of(row)?;
    let mut parties = Vec::with_capacity(rows.len());
    for p in rows {
        let state = app.kek.open(
            Purpose::DeviceState {
                challenge: &row.id,
                party: &p.name,
            },
            &p.sealed_state,
        )?;
        parties.push(Party {
            name: p.name.clone(),
            device: target.restore(&state)?,
        });
    }
    Ok(Parties(parties))
}

/// The track a challenge plays.
pub fn track_of(row: &ChallengeRow) -> Result<&'static dyn Track, Error> {
    tracks::by_name(&row.track)
        .ok_or_else(|| Error::internal(format!("challenge {} has an unknown track", row.id)))
}

/// The target a challenge plays on.
pub fn target_of(row: &ChallengeRow) -> Result<&'static dyn Target, Error> {
    targets::by_flaw(row.target_flaw.as_deref())
}

fn public_of_parts(row: &ChallengeRow, secrets: Vec<SecretPlacement>) -> Result<Public, Error> {
    Ok(Public {
        schedule: row.schedule,
        secrets,
        params: match &row.track_params {
            Some(json) => TrackFields::from_json(json)?,
            None => TrackFields::default(),
        },
    })
}

/// What challenge `row` published about its game, for its track.
pub async fn public(app: &App, row: &ChallengeRow) -> Result<Public, Error> {
    public_of_parts(row, store::challenges::secrets(&app.store, &row.id).await?)
}

/// [`public`], read inside a write transaction.
pub async fn public_in(tx: &mut Tx, row: &ChallengeRow) -> Result<Public, Error> {
    public_of_parts(row, store::challenges::secrets_in(tx, &row.id).await?)
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
        if !row.is_open()
            || row.traffic_stopped.is_some()
            || k >= track_of(&row)?.due(&row.schedule, app.clock.now().saturating_add(1))
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

/// How long the oldest due entry of challenge `row` has waited at `now`, in seconds (0: every
/// due entry is published); `None` once it is closed.
pub fn lag(app: &App, row: &ChallengeRow) -> Result<Option<u64>, Error> {
    if !row.is_open() {
        return Ok(None);
    }
    let now = app.clock.now();
    let due = track_of(row)?.due(&row.schedule, now.saturating_add(1));
    Ok(Some(if row.next_entry < due {
        now.saturating_sub(row.schedule.time_of(row.next_entry))
    } else {
        0
    }))
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
    let public = public(app, row).await?;
    let rows = store::challenges::parties(&app.store, &row.id).await?;
    let k = row.next_entry;
    let id = row.id.clone();
    // Everything from here to the new entry is a function of the sealed state and the seed:
    // a failure would fail again, so it stops the traffic (logged) instead of being retried.
    let played = match (
        track_of(row),
        open_seed(app, row),
        open_parties(app, row, &rows),
    ) {
        (Ok(track), Ok(seed), Ok(mut parties)) => tokio::task::spawn_blocking(move || {
            track
                .step(&seed, &public, k, &mut parties)
                .map(|s| (s, parties))
        })
        .await
        .map_err(Error::internal)?,
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(e),
    };
    let (step, parties) = match played {
        Ok(played) => played,
        Err(e) => {
            stop_traffic(app, row, k, &e).await?;
            return Ok(None);
        }
    };
    let sealed = seal_parties(app, &id, &parties)?;
    let entry = EntryRow {
        index: step.index,
        sent_at: step.sent_at,
        direction: step.direction,
        kind: step.kind,
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
    store::challenges::save_states(&mut tx, &id, k + 1, &sealed).await?;
    tx.commit().await?;
    Ok(Some(entry))
}

/// Stops challenge `row`'s traffic at entry `k` after `error`: logs a `traffic-stopped` event
/// and records it, in one transaction, unless the challenge closed or moved on meanwhile.
async fn stop_traffic(app: &App, row: &ChallengeRow, k: u64, error: &Error) -> Result<(), Error> {
    let reason = error.to_string();
    tracing::error!(challenge = %row.id, entry = k, error = %reason, "step failed: the challenge's traffic stops");
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let current = store::challenges::get_in(&mut tx, &row.id).await?;
    if !current.is_some_and(|c| c.is_open() && c.next_entry == k && c.traffic_stopped.is_none()) {
        return Ok(());
    }
    log.append(
        &mut tx,
        &Event::TrafficStopped {
            challenge: row.id.clone(),
            index: k,
            reason: reason.clone(),
            time: app.clock.now(),
        },
    )
    .await?;
    store::challenges::stop_traffic(&mut tx, &row.id, &format!("entry {k}: {reason}")).await?;
    tx.commit().await?;
    log.committed();
    Ok(())
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
/// Entries whose time has come are published first, so that an early close (by the operator,
/// or with a lagging scheduler) withholds nothing that was due.
pub async fn close(app: &App, id: &str, reason: &str) -> Result<(), Error> {
    if is_id(id) && store::challenges::get(&app.store, id).await?.is_some() {
        run_due_steps(app, id).await?;
    }
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
    // Each session's final record, before the close that ends it.
    crate::sessions::close_in(log, tx, &row.id, now).await?;
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
    for (claim, reveal) in store::claims::publish_reveals_in(&app.kek, tx, &row.id).await? {
        log.append(
            tx,
            &Event::RevealPublished {
                challenge: row.id.clone(),
                claim,
                reveal,
            },
        )
        .await?;
    }
    Ok(())
}

/// After challenge `id`'s reveal deadline: every commit not revealed becomes void, each with a
/// logged `claim-void` event, in one transaction. Returns how many.
pub async fn void_unrevealed(app: &App, id: &str) -> Result<usize, Error> {
    let (mut log, mut tx) = app.log.begin(&app.store).await?;
    let Some(row) = store::challenges::get_in(&mut tx, id).await? else {
        return Ok(0);
    };
    let now = app.clock.now();
    if row.is_open() || row.voided_at.is_some() || row.reveal_deadline.is_none_or(|d| now < d) {
        return Ok(0);
    }
    let unrevealed = store::claims::unrevealed_in(&mut tx, id).await?;
    for claim in &unrevealed {
        let index = log
            .append(
                &mut tx,
                &Event::ClaimVoid {
                    challenge: id.to_owned(),
                    claim: claim.id.clone(),
                    time: now,
                },
            )
            .await?;
        store::claims::set_verdict(&mut tx, &claim.id, "void", index, "automatic").await?;
    }
    store::challenges::set_voided(&mut tx, id, now).await?;
    tx.commit().await?;
    log.committed();
    tracing::info!(challenge = %id, voided = unrevealed.len(), "reveal deadline: unrevealed commits voided");
    Ok(unrevealed.len())
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
    let parties = store::challenges::parties(&app.store, &row.id).await?;
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
        reveal_deadline: row.reveal_deadline,
        close_on_win: row.close_on_win,
        created_at: row.created_at,
        seed_commitment: hex::encode(row.seed_commitment),
        secret_commitments: secret_views(&secrets),
        parties: parties
            .into_iter()
            .map(|p| {
                let view = PartyView {
                    bundle: hex::encode(&p.bundle),
                    bundle_sha256: hex::encode(sha256(&[&p.bundle])),
                };
                (p.name, view)
            })
            .collect(),
        track_fields: public_of_parts(row, Vec::new())?.params,
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
