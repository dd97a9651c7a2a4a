//! The scheduler: every tick, each open challenge gets the entries whose time has come
//! (challenges::run_due_steps: stored, then published) and closes at its deadline. It reads the
//! database each tick, so challenges created by the CLI in another process are picked up, and
//! after a restart it continues at the first entry not yet produced. A step that fails stops
//! that challenge's traffic (logged, and shown by /health); whatever failed, the close check
//! runs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::state::App;
use crate::store;
use crate::{challenges, health};

/// Runs until `stop` turns true.
pub async fn run(app: Arc<App>, mut stop: watch::Receiver<bool>) {
    let tick = Duration::from_millis(app.config.scheduler.tick_ms.max(10));
    loop {
        tick_once(&app).await;
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

/// One pass over the open challenges, then the voids of those past their reveal deadline.
pub async fn tick_once(app: &App) {
    open_challenges(app).await;
    match store::challenges::due_for_voids(&app.store, app.clock.now()).await {
        Ok(ids) => {
            for id in ids {
                if let Err(e) = challenges::void_unrevealed(app, &id).await {
                    tracing::error!(challenge = %id, error = %e, "voiding unrevealed commits failed");
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "scheduler cannot list reveal deadlines"),
    }
}

async fn open_challenges(app: &App) {
    let ids = match store::challenges::open_ids(&app.store).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(error = %e, "scheduler cannot list challenges");
            return;
        }
    };
    for id in ids {
        if let Err(e) = challenges::run_due_steps(app, &id).await {
            tracing::error!(challenge = %id, error = %e, "scheduler step failed");
        }
        if let Err(e) = challenges::close_if_due(app, &id).await {
            tracing::error!(challenge = %id, error = %e, "scheduler close failed");
        }
        // The health solver follows each published entry (and is rebuilt once after a start).
        match store::challenges::get(&app.store, &id).await {
            Ok(Some(row)) => {
                match challenges::lag(app, &row) {
                    Ok(Some(lag)) => app.metrics.lag(&id, lag),
                    Ok(None) => app.metrics.forget(&id),
                    Err(e) => tracing::error!(challenge = %id, error = %e, "scheduler lag unknown"),
                }
                if let Err(e) = health::advance(app, &row).await {
                    tracing::error!(challenge = %id, error = %e, "health solver failed");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(challenge = %id, error = %e, "scheduler cannot read a challenge")
            }
        }
    }
}
