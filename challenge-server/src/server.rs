//! Start-up: binds the listener and starts the HTTP service and the scheduler on the shared
//! [`App`] state (crate::state), and stops them.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use crate::state::App;
use crate::{Error, http, scheduler};

/// A server listening and its scheduler running.
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The shared state.
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    http: JoinHandle<Result<(), std::io::Error>>,
    scheduler: JoinHandle<()>,
}

impl RunningServer {
    /// Binds `app.config.listen` and starts serving and scheduling.
    pub async fn start(app: Arc<App>) -> Result<Self, Error> {
        let listener = tokio::net::TcpListener::bind(&app.config.listen)
            .await
            .map_err(|e| {
                Error::invalid(
                    "listen",
                    format!("cannot listen on {}: {e}", app.config.listen),
                )
            })?;
        let addr = listener.local_addr()?;
        let (shutdown, mut stop_http) = watch::channel(false);
        let base_url = app
            .config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let router = http::router(app.clone(), base_url);
        let http = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stop_http.wait_for(|stop| *stop).await;
            })
            .await
        });
        let scheduler = tokio::spawn(scheduler::run(app.clone(), shutdown.subscribe()));
        tracing::info!(%addr, "listening");
        Ok(Self {
            addr,
            app,
            shutdown,
            http,
            scheduler,
        })
    }

    /// The base URL, `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and scheduling, and closes the database.
    pub async fn stop(self) -> Result<(), Error> {
        let _ = self.shutdown.send(true);
        let _ = self.scheduler.await;
        self.http
            .await
            .map_err(Error::internal)?
            .map_err(Error::internal)?;
        self.app.store.close().await;
        Ok(())
    }

    /// Runs until the process receives Ctrl-C or SIGTERM, then stops.
    pub async fn run_until_signal(self) -> Result<(), Error> {
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
