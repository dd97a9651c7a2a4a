//! The store of skipped message keys, bounded in keys, header-key generations and age.
//!
//! Keys are grouped by the header key of their chain; chains are kept oldest first and keys in
//! ascending counter order, which is also insertion order, so the oldest key is always the
//! first key of the first chain and eviction is O(1).

use std::collections::VecDeque;

use crate::keys::{HeaderKey, Secret32};

/// Most message keys one message may make the receiver skip (per chain it skips in).
pub const MAX_SKIP: u32 = 1000;
/// Most skipped message keys kept; when full the oldest is evicted (a lossy session never
/// wedges).
pub const MAX_SKIPPED_KEYS: usize = 2000;
/// Most header-key generations (chains) for which skipped keys are kept: each is one more
/// candidate in trial decryption. When exceeded, the oldest chain's keys are evicted.
pub const MAX_SKIPPED_CHAINS: usize = 4;
/// Skipped keys older than this (seconds since stored) are purged and never used.
pub const MAX_SKIPPED_AGE_SECS: u64 = 30 * 24 * 3600;

// Every count in the session blob fits its length field.
const _: () = assert!(MAX_SKIPPED_CHAINS <= u8::MAX as usize);
const _: () = assert!(MAX_SKIPPED_KEYS <= u16::MAX as usize);

#[derive(Clone, Debug)]
pub(crate) struct SkippedKey {
    pub(crate) n: u32,
    pub(crate) mk: Secret32,
    pub(crate) stored_at: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct SkippedChain {
    pub(crate) header_key: HeaderKey,
    pub(crate) keys: VecDeque<SkippedKey>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct SkippedKeys {
    chains: VecDeque<SkippedChain>,
    total: usize,
}

/// Where a stored key sits, found by [`SkippedKeys::find`]; removal is staged until the body
/// authenticates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SkippedSlot {
    chain: usize,
    key: usize,
}

pub(crate) fn is_live(stored_at: u64, now: u64) -> bool {
    now < stored_at.saturating_add(MAX_SKIPPED_AGE_SECS)
}

impl SkippedKeys {
    pub(crate) fn chains(&self) -> &VecDeque<SkippedChain> {
        &self.chains
    }

    pub(crate) fn len(&self) -> usize {
        self.total
    }

    /// Rebuilds a store from restored chains, checking every invariant the store keeps.
    pub(crate) fn from_chains(chains: VecDeque<SkippedChain>) -> Option<Self> {
        if chains.len() > MAX_SKIPPED_CHAINS {
            return None;
        }
        let mut total = 0usize;
        for (i, chain) in chains.iter().enumerate() {
            if chain.keys.is_empty()
                || chain
                    .keys
                    .iter()
                    .zip(chain.keys.iter().skip(1))
                    .any(|(a, b)| a.n >= b.n)
                || chains
                    .iter()
                    .skip(i + 1)
                    .any(|c| c.header_key.ct_eq(&chain.header_key))
            {
                return None;
            }
            total += chain.keys.len();
        }
        (total <= MAX_SKIPPED_KEYS).then_some(Self { chains, total })
    }

    /// The live key for `(header_key of chain index, n)`, if stored.
    pub(crate) fn find(&self, chain: usize, n: u32, now: u64) -> Option<(SkippedSlot, &Secret32)> {
        let keys = &self.chains.get(chain)?.keys;
        let key = keys.binary_search_by_key(&n, |k| k.n).ok()?;
        let entry = keys.get(key)?;
        is_live(entry.stored_at, now).then_some((SkippedSlot { chain, key }, &entry.mk))
    }

    /// Index of the chain whose header key is `header_key`.
    pub(crate) fn chain_index(&self, header_key: &HeaderKey) -> Option<usize> {
        self.chains
            .iter()
            .position(|c| c.header_key.ct_eq(header_key))
    }

    pub(crate) fn remove(&mut self, slot: SkippedSlot) {
        if let Some(chain) = self.chains.get_mut(slot.chain) {
            if chain.keys.remove(slot.key).is_some() {
                self.total -= 1;
            }
            if chain.keys.is_empty() {
                self.chains.remove(slot.chain);
            }
        }
    }

    /// Appends keys (ascending `n`, above any stored for that chain) skipped in the chain of
    /// `header_key`, then evicts to the caps: oldest chains beyond [`MAX_SKIPPED_CHAINS`], then
    /// oldest keys beyond [`MAX_SKIPPED_KEYS`].
    pub(crate) fn insert(&mut self, header_key: &HeaderKey, keys: Vec<(u32, Secret32)>, now: u64) {
        if keys.is_empty() {
            return;
        }
        let added = keys.len();
        let entries = keys.into_iter().map(|(n, mk)| SkippedKey {
            n,
            mk,
            stored_at: now,
        });
        match self.chains.back_mut() {
            Some(last) if last.header_key.ct_eq(header_key) => last.keys.extend(entries),
            _ => self.chains.push_back(SkippedChain {
                header_key: header_key.clone(),
                keys: entries.collect(),
            }),
        }
        self.total += added;
        while self.chains.len() > MAX_SKIPPED_CHAINS {
            if let Some(old) = self.chains.pop_front() {
                self.total -= old.keys.len();
            }
        }
        while self.total > MAX_SKIPPED_KEYS {
            let Some(first) = self.chains.front_mut() else {
                break;
            };
            if first.keys.pop_front().is_some() {
                self.total -= 1;
            }
            if first.keys.is_empty() {
                self.chains.pop_front();
            }
        }
    }

    /// Drops keys older than [`MAX_SKIPPED_AGE_SECS`]. Older keys sit in front, so this stops
    /// at the first live key of each chain.
    pub(crate) fn purge(&mut self, now: u64) {
        for chain in &mut self.chains {
            while chain
                .keys
                .front()
                .is_some_and(|k| !is_live(k.stored_at, now))
            {
                chain.keys.pop_front();
                self.total -= 1;
            }
        }
        self.chains.retain(|c| !c.keys.is_empty());
    }
}
