//! Health: the server's own solver decrypts each challenge's published traffic from the seed
//! and confirms that every committed secret published so far is really there (the challenge
//! is solvable as committed). Results are cached per challenge until its transcript grows.

use std::collections::HashMap;

use tokio::sync::Mutex;

use crate::Error;
use crate::api::{ChallengeHealth, HealthView};
use crate::challenges;
use crate::server::App;
use crate::store;
use crate::tracks::passive::{self, Direction, Kind, Step};

/// Cached solver results: challenge id -> (published entries, result).
#[derive(Debug, Default)]
pub struct HealthCache(Mutex<HashMap<String, (u64, ChallengeHealth)>>);

/// Checks every challenge (cached where nothing was published since).
pub async fn check(app: &App) -> Result<HealthView, Error> {
    let mut out = Vec::new();
    for row in store::challenges::list(&app.store).await? {
        let published = store::transcript::published_count(&app.store, &row.id).await?;
        let cached = app.health.0.lock().await.get(&row.id).cloned();
        let mut health = match cached {
            Some((n, health)) if n == published => health,
            _ => {
                let health = solve(app, &row).await?;
                app.health
                    .0
                    .lock()
                    .await
                    .insert(row.id.clone(), (published, health.clone()));
                health
            }
        };
        health.status = row.status.clone();
        out.push(health);
    }
    let all_ok = out.iter().all(|c| c.solvable);
    Ok(HealthView {
        status: if all_ok { "ok" } else { "degraded" }.to_owned(),
        log_size: app.log.size().await,
        challenges: out,
    })
}

async fn solve(app: &App, row: &store::challenges::ChallengeRow) -> Result<ChallengeHealth, Error> {
    let seed = challenges::open_seed(app, row)?;
    let placements = store::challenges::secrets(&app.store, &row.id).await?;
    let entries = store::transcript::page(&app.store, &row.id, 0, u64::MAX >> 1).await?;
    let mut steps = Vec::with_capacity(entries.len());
    for e in entries {
        steps.push(Step {
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
        });
    }
    let schedule = row.schedule;
    let report =
        tokio::task::spawn_blocking(move || passive::solve(&seed, &schedule, &placements, &steps))
            .await
            .map_err(Error::internal)??;
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
