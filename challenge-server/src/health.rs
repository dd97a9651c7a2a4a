//! Health: the server's own solver decrypts each challenge's published traffic from the seed
//! and confirms that every committed secret published so far is really there (the challenge
//! is solvable as committed).
//!
//! Each challenge keeps its track's incremental solver in memory: the scheduler feeds it every
//! entry it publishes, and a `/health` request only reads its result (after feeding it any
//! entry published meanwhile, for instance by another process). A solver is built from the
//! stored transcript once per process, and requests for one challenge wait on the same solver,
//! so a burst of requests costs one computation.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

use crate::Error;
use crate::api::{ChallengeHealth, HealthView};
use crate::challenges;
use crate::server::App;
use crate::store;
use crate::store::challenges::ChallengeRow;
use crate::tracks::passive::{Direction, Kind, Solver, Step};

/// Published entries read from the store per step of a catch-up.
const FEED_PAGE: u64 = 256;

type Slot = Arc<Mutex<Option<Solver>>>;

/// The solvers by challenge id, and how much work they did.
#[derive(Debug, Default)]
pub struct HealthCache {
    solvers: std::sync::Mutex<HashMap<String, Slot>>,
    entries_solved: AtomicU64,
    solvers_built: AtomicU64,
}

impl HealthCache {
    /// Published entries solved since start-up, all challenges together: each entry once.
    pub fn entries_solved(&self) -> u64 {
        self.entries_solved.load(Ordering::SeqCst)
    }

    /// Solvers built since start-up (one per challenge, unless one failed).
    pub fn solvers_built(&self) -> u64 {
        self.solvers_built.load(Ordering::SeqCst)
    }

    fn slot(&self, id: &str) -> Slot {
        let mut solvers = self
            .solvers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        solvers.entry(id.to_owned()).or_default().clone()
    }
}

/// Checks every challenge.
pub async fn check(app: &App) -> Result<HealthView, Error> {
    let mut out = Vec::new();
    for row in store::challenges::list(&app.store).await? {
        out.push(advance(app, &row).await?);
    }
    let all_ok = out.iter().all(|c| c.solvable);
    Ok(HealthView {
        status: if all_ok { "ok" } else { "degraded" }.to_owned(),
        log_size: app.log.size().await,
        challenges: out,
    })
}

/// Feeds challenge `row`'s solver every entry published since it last looked, and returns its
/// result. A failure drops the solver, to be rebuilt from the transcript on the next call.
pub async fn advance(app: &App, row: &ChallengeRow) -> Result<ChallengeHealth, Error> {
    let slot = app.health.slot(&row.id);
    let mut guard = slot.lock().await;
    let mut solver = match guard.take() {
        Some(solver) => solver,
        None => {
            let seed = challenges::open_seed(app, row)?;
            let placements = store::challenges::secrets(&app.store, &row.id).await?;
            app.health.solvers_built.fetch_add(1, Ordering::SeqCst);
            Solver::new(seed, row.schedule, placements)?
        }
    };
    loop {
        let rows =
            store::transcript::page(&app.store, &row.id, solver.next_index(), FEED_PAGE).await?;
        if rows.is_empty() {
            break;
        }
        let steps: Vec<Step> = rows.into_iter().map(step_of).collect();
        let n = steps.len() as u64;
        solver = tokio::task::spawn_blocking(move || {
            for step in &steps {
                solver.feed(step)?;
            }
            Ok::<_, Error>(solver)
        })
        .await
        .map_err(Error::internal)??;
        app.health.entries_solved.fetch_add(n, Ordering::SeqCst);
    }
    let report = solver.report();
    *guard = Some(solver);
    if let Some(problem) = &report.problem {
        tracing::error!(challenge = %row.id, problem, "health solver: challenge not solvable as committed");
    }
    Ok(ChallengeHealth {
        id: row.id.clone(),
        status: row.status.clone(),
        solvable: report.problem.is_none(),
        entries_checked: report.entries_checked,
        secrets_confirmed: report.secrets_confirmed,
        secrets_pending: report.secrets_pending,
        problem: report.problem,
    })
}

fn step_of(e: store::transcript::EntryRow) -> Step {
    Step {
        index: e.index,
        sent_at: e.sent_at,
        direction: match e.direction.as_str() {
            "alice-to-bob" => Direction::AliceToBob,
            _ => Direction::BobToAlice,
        },
        kind: match e.kind.as_str() {
            "bundle" => Kind::Bundle,
            "initial" => Kind::Initial,
            _ => Kind::Ratchet,
        },
        bytes: e.bytes,
    }
}
