//! Health: the server's own solver decrypts each challenge's published traffic from the seed
//! and confirms that every committed secret published so far is really there (the challenge
//! is solvable as committed).
//!
//! Each challenge keeps its track's incremental solver in memory: the scheduler feeds it every
//! entry it publishes, and a `/health` request only reads its result (after feeding it any
//! entry published meanwhile, for instance by another process). A solver is built from the
//! stored transcript once per process, and requests for one challenge wait on the same solver,
//! so a burst of requests costs one computation.

use crate::Error;
use crate::api::{ChallengeHealth, HealthView};
use crate::challenges;
use crate::state::App;
use crate::store;
use crate::store::challenges::ChallengeRow;
use crate::tracks::Entry;

/// Published entries read from the store per step of a catch-up.
const FEED_PAGE: u64 = 256;

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
            let public = challenges::public(app, row).await?;
            let solver =
                challenges::track_of(row)?.solver(challenges::target_of(row)?, &seed, &public)?;
            app.health.count_built();
            solver
        }
    };
    loop {
        let rows =
            store::transcript::page(&app.store, &row.id, solver.next_index(), FEED_PAGE).await?;
        if rows.is_empty() {
            break;
        }
        let steps: Vec<Entry> = rows.into_iter().map(entry_of).collect();
        let n = steps.len() as u64;
        solver = tokio::task::spawn_blocking(move || {
            for step in &steps {
                solver.feed(step)?;
            }
            Ok::<_, Error>(solver)
        })
        .await
        .map_err(Error::internal)??;
        app.health.count_solved(n);
    }
    let mut report = solver.report();
    *guard = Some(solver);
    if let (None, Some(stopped)) = (&report.problem, &row.traffic_stopped) {
        report.problem = Some(format!("the scheduled traffic stopped at {stopped}"));
    }
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
        readable: report.readable,
        protected: report.protected,
    })
}

fn entry_of(e: store::transcript::EntryRow) -> Entry {
    Entry {
        index: e.index,
        sent_at: e.sent_at,
        direction: e.direction,
        kind: e.kind,
        bytes: e.bytes,
    }
}
