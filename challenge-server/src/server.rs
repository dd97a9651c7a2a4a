//! The running service: state shared by the handlers and the scheduler, and start-up.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::health::HealthCache;
use crate::keys::{Kek, Purpose, ServerKey, token_hash};
use crate::log::TransparencyLog;
use crate::store::{self, Store};
use crate::{Error, http, scheduler};

/// Everything the handlers and the scheduler share. Its `Debug` shows no secret (the config's
/// and the keys' own `Debug` redact them).
pub struct App {
    /// Configuration.
    pub config: Config,
    /// The database.
    pub store: Store,
    /// The key-encryption key.
    pub kek: Kek,
    /// The server's signing key.
    pub server_key: ServerKey,
    /// The transparency log.
    pub log: TransparencyLog,
    /// The clock.
    pub clock: Clock,
    /// The health solver's cached results.
    pub health: HealthCache,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .field("store", &self.store)
            .field("kek", &self.kek)
            .field("server_key", &self.server_key)
            .field("log", &self.log)
            .field("clock", &self.clock)
            .field("health", &self.health)
            .finish()
    }
}

impl App {
    /// Opens the data directory: database (migrated), KEK, server key (created and stored
    /// sealed on first run), log; backfills the public reveals of closed challenges.
    pub async fn open(config: Config, clock: Clock) -> Result<Arc<Self>, Error> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = Store::open(&config.database_path()).await?;
        let kek = match &config.kek {
            Some(hex) => Kek::from_hex(hex)?,
            None => Kek::load_or_create(&config.kek_path(), config.create_kek)?,
        };
        let server_key = match store::keys::server_key(&store).await? {
            Some((sealed, public)) => {
                let key = ServerKey::from_seed(kek.open32(Purpose::ServerKey, &sealed)?);
                if key.public().as_slice() != public.as_slice() {
                    return Err(Error::internal(
                        "the stored server key does not match its public key",
                    ));
                }
                key
            }
            None => {
                let key = ServerKey::generate()?;
                let sealed = kek.seal(Purpose::ServerKey, key.seed())?;
                store::keys::insert_server_key(&store, &sealed, key.public(), clock.now()).await?;
                tracing::info!(public_key = %hex::encode(key.public()), "created the server signing key");
                key
            }
        };
        // A hash that cannot match any token would lock the operator out without a word.
        if let Some(configured) = &config.admin_token_sha256 {
            crate::claims::hex_field::<32>("admin_token_sha256", configured).map_err(|_| {
                Error::invalid(
                    "admin_token_sha256",
                    "expected 64 lowercase hex digits: the output of \
                     `printf 'challenge-server/v1/admin-token\\n%s' \"$TOKEN\" | sha256sum` \
                     (docs/OPERATING.md)",
                )
            })?;
        }
        if !signed_note::is_key_name_valid(&config.log_origin) {
            return Err(Error::invalid(
                "log_origin",
                "expected a name without spaces or '+'",
            ));
        }
        let log = TransparencyLog::load(&store, &config.log_origin).await?;
        // A database from before the reveals' public copies: give the closed challenges theirs,
        // so that no claims page needs the KEK (idempotent).
        crate::claims::backfill_public_reveals(&store, &kek).await?;
        Ok(Arc::new(Self {
            config,
            store,
            kek,
            server_key,
            log,
            clock,
            health: HealthCache::default(),
        }))
    }

    /// Creates a new admin token, stores its hash, and returns the token (shown once).
    pub async fn create_admin_token(&self) -> Result<String, Error> {
        let token = crate::keys::random_hex(32)?;
        store::keys::insert_admin_token(&self.store, &token_hash(&token), self.clock.now()).await?;
        Ok(token)
    }

    /// Whether `token` is a valid admin token (compared by hash, in constant time).
    pub async fn is_admin_token(&self, token: &str) -> Result<bool, Error> {
        let hash = token_hash(token);
        let mut ok = false;
        if let Some(configured) = &self.config.admin_token_sha256
            && let Ok(bytes) = crate::claims::hex_field::<32>("admin_token_sha256", configured)
        {
            ok |= crate::keys::ct_eq32(&bytes, &hash);
        }
        for stored in store::keys::admin_token_hashes(&self.store).await? {
            if let Ok(stored) = <[u8; 32]>::try_from(stored.as_slice()) {
                ok |= crate::keys::ct_eq32(&stored, &hash);
            }
        }
        Ok(ok)
    }
}

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
        let router = http::router(app.clone());
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
