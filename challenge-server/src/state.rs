//! The state shared by the HTTP handlers, the scheduler and the CLI: configuration, database,
//! keys, log, clock and the health solvers' cache. It imports no handler and no lifecycle
//! module (challenges, claims, health, scheduler), which all import it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;
use crate::clock::Clock;
use crate::config::Config;
use crate::fields::hex_field;
use crate::keys::{Kek, Purpose, ServerKey, token_hash};
use crate::log::{Event, SizeRecord, TransparencyLog};
use crate::metrics::Metrics;
use crate::store::{self, Store};
use crate::tracks::Solver;

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
    /// The operator's metrics (`GET /metrics`).
    pub metrics: Metrics,
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
            .finish_non_exhaustive()
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
            hex_field::<32>("admin_token_sha256", configured).map_err(|_| {
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
        let record = SizeRecord::open(&config.log_size_path())?;
        let log = TransparencyLog::load(&store, &config.log_origin, record).await?;
        check_log_size(&config, &log, &store, &clock).await?;
        // A database from before the reveals' public copies: give the closed challenges theirs,
        // so that no claims page needs the KEK (idempotent).
        store::claims::backfill_public_reveals(&store, &kek).await?;
        Ok(Arc::new(Self {
            config,
            store,
            kek,
            server_key,
            log,
            clock,
            health: HealthCache::default(),
            metrics: Metrics::new()?,
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
            && let Ok(bytes) = hex_field::<32>("admin_token_sha256", configured)
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

/// Refuses a log shorter than the largest size ever signed, unless the operator accepts the
/// rollback, which is then logged with the lost range.
async fn check_log_size(
    config: &Config,
    log: &TransparencyLog,
    store: &Store,
    clock: &Clock,
) -> Result<(), Error> {
    let (size, signed_size) = (log.size().await, log.largest_served().await);
    if size >= signed_size {
        return Ok(());
    }
    if !config.accept_log_rollback {
        return Err(Error::invalid(
            "accept_log_rollback",
            format!(
                "the database's log has {size} entries but this server has signed tree heads of \
                 up to {signed_size} (recorded in {}): the database was restored from an older \
                 backup or replaced. Receipts and checkpoints already given out name the lost \
                 entries. To start anyway, set accept_log_rollback = true (environment \
                 CHALLENGE_SERVER_ACCEPT_LOG_ROLLBACK=true) once: the loss is then logged as a \
                 log-rolled-back event (docs/OPERATING.md)",
                config.log_size_path().display()
            ),
        ));
    }
    let (mut writer, mut tx) = log.begin(store).await?;
    writer
        .append(
            &mut tx,
            &Event::LogRolledBack {
                signed_size,
                size,
                time: clock.now(),
            },
        )
        .await?;
    tx.commit().await?;
    writer.committed();
    log.reset_served().await?;
    tracing::warn!(
        size,
        signed_size,
        "started on a rolled-back log; the loss is logged"
    );
    Ok(())
}

/// One challenge's health solver, built on first use.
pub type SolverSlot = Arc<tokio::sync::Mutex<Option<Box<dyn Solver>>>>;

/// The health solvers by challenge id, and how much work they did.
#[derive(Debug, Default)]
pub struct HealthCache {
    solvers: std::sync::Mutex<HashMap<String, SolverSlot>>,
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

    /// Counts `n` entries solved.
    pub fn count_solved(&self, n: u64) {
        self.entries_solved.fetch_add(n, Ordering::SeqCst);
    }

    /// Counts a solver built.
    pub fn count_built(&self) {
        self.solvers_built.fetch_add(1, Ordering::SeqCst);
    }

    /// Challenge `id`'s slot.
    pub fn slot(&self, id: &str) -> SolverSlot {
        let mut solvers = self
            .solvers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        solvers.entry(id.to_owned()).or_default().clone()
    }
}
