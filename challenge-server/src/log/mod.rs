//! The transparency log: an RFC 6962 Merkle tree of every public event (DESIGN section 4),
//! computed with `tlog_tiles` (the C2SP tlog-tiles port of Go's sumdb tlog) over stored hashes
//! kept in the database and cached in memory; tree heads are C2SP checkpoints signed as C2SP
//! signed notes ([`note`]).
//!
//! Every append happens inside a database transaction through a [`LogWriter`], which holds the
//! log's lock until the caller commits: appends are serialized, and the in-memory tree only
//! keeps what was committed. The log itself comes with the `server` feature; the event types
//! and the proof checks are pure.

pub mod event;
pub mod note;
#[cfg(feature = "server")]
pub mod record;

use tlog_tiles::{Hash, HashReader};
#[cfg(feature = "server")]
use tokio::sync::{Mutex, MutexGuard};

use crate::Error;
#[cfg(feature = "server")]
use crate::keys::ServerKey;
#[cfg(feature = "server")]
use crate::store::{self, Store, Tx};

pub use event::{CreatedEvent, Event, EventError, Parsed};
#[cfg(feature = "server")]
pub use record::SizeRecord;

/// Longest range of entries served at once.
pub const MAX_ENTRIES_PAGE: u64 = 1000;

/// The stored hashes of the committed tree.
#[derive(Debug, Default)]
struct Tree {
    hashes: Vec<Hash>,
    size: u64,
}

impl HashReader for Tree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl Tree {
    fn root(&self, size: u64) -> Result<[u8; 32], Error> {
        if size > self.size {
            return Err(Error::internal("tree size beyond the log"));
        }
        tlog_tiles::tree_hash(size, self)
            .map(|h| h.0)
            .map_err(|e| Error::internal(format!("tree hash: {e}")))
    }
}

/// The log.
#[cfg(feature = "server")]
#[derive(Debug)]
pub struct TransparencyLog {
    tree: Mutex<Tree>,
    origin: String,
    record: SizeRecord,
}

/// An inclusion proof: the audit path of entry `index` in the tree of `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The leaf hash.
    pub leaf_hash: [u8; 32],
    /// The root of the tree of that size.
    pub root: [u8; 32],
    /// The audit path.
    pub proof: Vec<[u8; 32]>,
}

/// A consistency proof between two sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Root at the older size.
    pub from_root: [u8; 32],
    /// Root at the newer size.
    pub to_root: [u8; 32],
    /// The proof.
    pub proof: Vec<[u8; 32]>,
}

#[cfg(feature = "server")]
impl TransparencyLog {
    /// Loads the stored hashes; `record` keeps the largest size ever signed.
    pub async fn load(store: &Store, origin: &str, record: SizeRecord) -> Result<Self, Error> {
        let hashes: Vec<Hash> = store::log::all_hashes(store)
            .await?
            .into_iter()
            .map(Hash)
            .collect();
        let size = store::log::size(store).await?;
        if tlog_tiles::stored_hash_count(size) != hashes.len() as u64 {
            return Err(Error::internal(
                "the log's stored hashes do not match its entries",
            ));
        }
        Ok(Self {
            tree: Mutex::new(Tree { hashes, size }),
            origin: origin.to_owned(),
            record,
        })
    }

    /// The origin line of the checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Takes the log's lock and begins a write transaction; brings the cached tree up to date
    /// if another process appended.
    pub async fn begin(&self, store: &Store) -> Result<(LogWriter<'_>, Tx), Error> {
        let mut tree = self.tree.lock().await;
        let mut tx = store.begin_write().await?;
        let size = store::log::size_in(&mut tx).await?;
        if size < tree.size {
            return Err(Error::internal(
                "the database holds fewer log entries than served",
            ));
        }
        if size > tree.size {
            let more = store::log::hashes_from(&mut tx, tree.hashes.len() as u64).await?;
            tree.hashes.extend(more.into_iter().map(Hash));
            tree.size = size;
            if tlog_tiles::stored_hash_count(size) != tree.hashes.len() as u64 {
                return Err(Error::internal(
                    "the log's stored hashes do not match its entries",
                ));
            }
        }
        let base = (tree.size, tree.hashes.len());
        Ok((
            LogWriter {
                tree,
                base,
                committed: false,
            },
            tx,
        ))
    }

    /// The committed size.
    pub async fn size(&self) -> u64 {
        self.tree.lock().await.size
    }

    /// The signed checkpoint of the current tree, its size recorded first ([`Self::served`]).
    pub async fn checkpoint(&self, key: &ServerKey) -> Result<(u64, String), Error> {
        let (size, root) = {
            let tree = self.tree.lock().await;
            (tree.size, tree.root(tree.size)?)
        };
        let text = note::sign_checkpoint(&self.origin, size, root, key)?;
        self.served(size).await?;
        Ok((size, text))
    }

    /// The checkpoint of the tree of `size` (`size <= current`), signed: the same bytes it had
    /// when first signed (Ed25519 signatures are deterministic), for a receipt rebuilt from the
    /// log.
    pub async fn checkpoint_at(&self, size: u64, key: &ServerKey) -> Result<String, Error> {
        let root = self.tree.lock().await.root(size)?;
        note::sign_checkpoint(&self.origin, size, root, key)
    }

    /// Records, durably, that a head of `size` is about to be served (a checkpoint, a
    /// receipt): the server then refuses to start on a shorter log.
    pub async fn served(&self, size: u64) -> Result<(), Error> {
        self.record.raise(size).await
    }

    /// The largest size ever served.
    pub async fn largest_served(&self) -> u64 {
        self.record.recorded().await
    }

    /// After an accepted rollback: the record starts again from the log's size.
    pub async fn reset_served(&self) -> Result<(), Error> {
        let size = self.size().await;
        self.record.reset(size).await
    }

    /// The inclusion proof of entry `index` in the tree of `size` (`index < size <= current`).
    pub async fn inclusion(
        &self,
        index: u64,
        size: u64,
        leaf: &[u8],
    ) -> Result<InclusionProof, Error> {
        let tree = self.tree.lock().await;
        if index >= size || size > tree.size {
            return Err(Error::invalid(
                "size",
                "expected index < size <= the log size",
            ));
        }
        let proof = tlog_tiles::prove_record(size, index, &*tree)
            .map_err(|e| Error::internal(format!("inclusion proof: {e}")))?;
        Ok(InclusionProof {
            leaf_hash: tlog_tiles::record_hash(leaf).0,
            root: tree.root(size)?,
            proof: proof.into_iter().map(|h| h.0).collect(),
        })
    }

    /// The consistency proof from `from` to `to` (`1 <= from <= to <= current`).
    pub async fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, Error> {
        let tree = self.tree.lock().await;
        if from == 0 || from > to || to > tree.size {
            return Err(Error::invalid(
                "from",
                "expected 1 <= from <= to <= the log size",
            ));
        }
        let proof = tlog_tiles::prove_tree(to, from, &*tree)
            .map_err(|e| Error::internal(format!("consistency proof: {e}")))?;
        Ok(ConsistencyProof {
            from_root: tree.root(from)?,
            to_root: tree.root(to)?,
            proof: proof.into_iter().map(|h| h.0).collect(),
        })
    }
}

/// The log's lock during one write transaction. Appended entries enter the cached tree at
/// once (later appends in the same transaction build on them) and leave it again unless
/// [`LogWriter::committed`] is called after the transaction committed.
#[cfg(feature = "server")]
#[derive(Debug)]
pub struct LogWriter<'a> {
    tree: MutexGuard<'a, Tree>,
    base: (u64, usize),
    committed: bool,
}

#[cfg(feature = "server")]
impl LogWriter<'_> {
    /// Appends `event` in `tx`; returns its index.
    pub async fn append(&mut self, tx: &mut Tx, event: &Event) -> Result<u64, Error> {
        let data = event.to_bytes()?;
        let index = self.tree.size;
        let hashes = tlog_tiles::stored_hashes(index, &data, &*self.tree)
            .map_err(|e| Error::internal(format!("log append: {e}")))?;
        let first = tlog_tiles::stored_hash_index(0, index);
        if first != self.tree.hashes.len() as u64 {
            return Err(Error::internal("the log's stored hashes are out of step"));
        }
        let raw: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
        store::log::insert(tx, index, &data, first, &raw).await?;
        self.tree.hashes.extend(hashes);
        self.tree.size = index + 1;
        Ok(index)
    }

    /// The size including this transaction's appends.
    pub fn size(&self) -> u64 {
        self.tree.size
    }

    /// The signed checkpoint of the tree including this transaction's appends.
    pub fn checkpoint(&self, origin: &str, key: &ServerKey) -> Result<String, Error> {
        note::sign_checkpoint(origin, self.tree.size, self.tree.root(self.tree.size)?, key)
    }

    /// Keeps the appends: call right after the transaction committed.
    pub fn committed(mut self) {
        self.committed = true;
    }
}

#[cfg(feature = "server")]
impl Drop for LogWriter<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let (size, len) = self.base;
            self.tree.size = size;
            self.tree.hashes.truncate(len);
        }
    }
}

/// The RFC 6962 leaf hash of an entry.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    tlog_tiles::record_hash(data).0
}

/// Checks an inclusion proof (for `verify`).
pub fn check_inclusion(
    proof: &[[u8; 32]],
    size: u64,
    root: [u8; 32],
    index: u64,
    leaf_hash: [u8; 32],
) -> bool {
    index < size
        && proof.len() <= 64
        && tlog_tiles::check_record(
            &proof.iter().copied().map(Hash).collect(),
            size,
            Hash(root),
            index,
            Hash(leaf_hash),
        )
        .is_ok()
}

/// Checks a consistency proof (for `verify`).
pub fn check_consistency(
    proof: &[[u8; 32]],
    from: u64,
    from_root: [u8; 32],
    to: u64,
    to_root: [u8; 32],
) -> bool {
    (1..=to).contains(&from)
        && proof.len() <= 128
        && tlog_tiles::check_tree(
            &proof.iter().copied().map(Hash).collect(),
            to,
            Hash(to_root),
            from,
            Hash(from_root),
        )
        .is_ok()
}

/// The roots of every prefix size that `sizes` asks for, computed from the entries themselves
/// (for `verify`): `entries` must be the whole log in order.
pub fn roots_of(entries: &[Vec<u8>], sizes: &[u64]) -> Result<Vec<[u8; 32]>, Error> {
    let mut tree = Tree::default();
    for (index, data) in (0u64..).zip(entries) {
        let hashes = tlog_tiles::stored_hashes(index, data, &tree)
            .map_err(|e| Error::internal(format!("log replay: {e}")))?;
        tree.hashes.extend(hashes);
        tree.size = index + 1;
    }
    sizes.iter().map(|&s| tree.root(s)).collect()
}
