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
    /// Boxed so the key never moves: chains are popped and removed from a `VecDeque`, which
    /// leaves a bitwise copy of the moved value in its buffer.
    pub(crate) header_key: Box<HeaderKey>,
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
        let times = chains
            .iter()
            .flat_map(|c| c.keys.iter().map(|k| k.stored_at));
        if times.clone().zip(times.skip(1)).any(|(a, b)| a > b) {
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
            if remove_zeroized(&mut chain.keys, slot.key) {
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
        // Stored times never decrease in insertion order, even if the caller's clock steps
        // back, so the oldest keys are always in front and purging stops at the first live key.
        let stored_at = now.max(self.newest_stored_at());
        // Keys are cloned into a buffer of exact capacity, never moved: `keys` then zeroizes each
        // key in its own slot as it is dropped, and no grown buffer is freed with keys in it.
        let entries = keys.iter().map(|(n, mk)| SkippedKey {
            n: *n,
            mk: mk.clone(),
            stored_at,
        });
        match self.chains.back_mut() {
            Some(last) if last.header_key.ct_eq(header_key) => {
                grow_zeroizing(&mut last.keys, added);
                last.keys.extend(entries);
            }
            _ => {
                let mut fresh = VecDeque::with_capacity(added);
                fresh.extend(entries);
                self.chains.push_back(SkippedChain {
                    header_key: Box::new(header_key.clone()),
                    keys: fresh,
                });
            }
        }
        drop(keys);
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
            if pop_front_zeroized(&mut first.keys) {
                self.total -= 1;
            }
            if first.keys.is_empty() {
                self.chains.pop_front();
            }
        }
    }

    fn newest_stored_at(&self) -> u64 {
        self.chains
            .back()
            .and_then(|c| c.keys.back())
            .map_or(0, |k| k.stored_at)
    }

    /// Drops keys older than [`MAX_SKIPPED_AGE_SECS`]. Stored times never decrease in
    /// insertion order, so this pops from the front and stops at the first live key.
    pub(crate) fn purge(&mut self, now: u64) {
        while let Some(first) = self.chains.front_mut() {
            while first
                .keys
                .front()
                .is_some_and(|k| !is_live(k.stored_at, now))
            {
                pop_front_zeroized(&mut first.keys);
                self.total -= 1;
            }
            if !first.keys.is_empty() {
                break;
            }
            self.chains.pop_front();
        }
    }
}

/// Makes room for `extra` more keys. A `VecDeque` that grows moves its keys and frees the old
/// buffer with them still in it; here the keys are cloned into the new buffer and the old one
/// is dropped, which zeroizes every key in place (slots outside the live range hold only keys
/// already zeroized by [`pop_front_zeroized`] and [`remove_zeroized`]).
fn grow_zeroizing(keys: &mut VecDeque<SkippedKey>, extra: usize) {
    if keys.capacity() - keys.len() >= extra {
        return;
    }
    let mut grown = VecDeque::with_capacity(keys.len() + extra);
    grown.extend(keys.iter().cloned());
    *keys = grown;
}

/// `pop_front` that leaves no copy of the key in the vacated slot.
fn pop_front_zeroized(keys: &mut VecDeque<SkippedKey>) -> bool {
    if let Some(first) = keys.front_mut() {
        zeroize::Zeroize::zeroize(&mut first.mk);
    }
    keys.pop_front().is_some()
}

/// `remove` that leaves no copy of any key in the buffer: the removed key is zeroized first, and
/// the slot that the shift vacated (it holds a stale copy of a neighbour, just past the back or
/// just before the front) is overwritten with a zero key pushed and popped at each end.
fn remove_zeroized(keys: &mut VecDeque<SkippedKey>, index: usize) -> bool {
    let Some(target) = keys.get_mut(index) else {
        return false;
    };
    zeroize::Zeroize::zeroize(&mut target.mk);
    if keys.remove(index).is_none() {
        return false;
    }
    let blank = || SkippedKey {
        n: 0,
        mk: Secret32::new([0; 32]),
        stored_at: 0,
    };
    // Whichever side shifted, both ends are blanked. One slot is free after the removal, so
    // neither push reallocates.
    keys.push_back(blank());
    keys.pop_back();
    keys.push_front(blank());
    keys.pop_front();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Secret32 {
        Secret32::new([b; 32])
    }

    #[test]
    fn clock_stepping_back_keeps_times_monotone_and_purge_exact() {
        let hk = HeaderKey::new(key(1)).unwrap();
        let mut store = SkippedKeys::default();
        store.insert(&hk, vec![(0, key(2))], 1_000);
        store.insert(&hk, vec![(1, key(3))], 10); // the caller's clock went back
        let times: Vec<u64> = store.chains()[0].keys.iter().map(|k| k.stored_at).collect();
        assert_eq!(times, [1_000, 1_000]);
        store.purge(1_000 + MAX_SKIPPED_AGE_SECS - 1);
        assert_eq!(store.len(), 2);
        store.purge(1_000 + MAX_SKIPPED_AGE_SECS);
        assert_eq!(store.len(), 0);
        assert!(store.chains().is_empty());
    }

    #[test]
    fn restore_refuses_decreasing_times_and_duplicate_chains() {
        let chain = |hk: u8, times: &[u64]| SkippedChain {
            header_key: Box::new(HeaderKey::new(key(hk)).unwrap()),
            keys: times
                .iter()
                .enumerate()
                .map(|(n, &stored_at)| SkippedKey {
                    n: n as u32,
                    mk: key(9),
                    stored_at,
                })
                .collect(),
        };
        assert!(SkippedKeys::from_chains([chain(1, &[5, 6]), chain(2, &[6])].into()).is_some());
        assert!(SkippedKeys::from_chains([chain(1, &[5, 6]), chain(2, &[4])].into()).is_none());
        assert!(SkippedKeys::from_chains([chain(1, &[5]), chain(1, &[6])].into()).is_none());
        assert!(SkippedKeys::from_chains([chain(1, &[])].into()).is_none());
    }

    #[test]
    fn eviction_drops_oldest_chain_then_oldest_keys() {
        let mut store = SkippedKeys::default();
        for c in 0..=MAX_SKIPPED_CHAINS as u8 {
            store.insert(&HeaderKey::new(key(c)).unwrap(), vec![(0, key(c))], 0);
        }
        assert_eq!(store.chains().len(), MAX_SKIPPED_CHAINS);
        assert!(
            store.chains()[0]
                .header_key
                .ct_eq(&HeaderKey::new(key(1)).unwrap())
        );
        let last = HeaderKey::new(key(200)).unwrap();
        let many = (0..MAX_SKIPPED_KEYS as u32).map(|n| (n, key(7))).collect();
        store.insert(&last, many, 0);
        assert_eq!(store.len(), MAX_SKIPPED_KEYS);
        assert_eq!(store.chains().len(), 1);
    }
}
