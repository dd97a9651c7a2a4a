//! Rate limits: a token bucket per key (a client address, or a client address and a claimant
//! name). A refused request gets 429 with `Retry-After`.
//!
//! The buckets live in a fixed-capacity map that forgets the least recently used key when full,
//! so each check is O(1) whatever the number of clients. IPv6 clients are keyed by their
//! network prefix (default /64): one subscriber's 2^64 addresses are one client.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Instant;

use hashlink::LruCache;

use crate::Error;

/// Most keys remembered by default; past it, the least recently used key is forgotten (its
/// next request starts with a full bucket).
pub const MAX_KEYS: usize = 100_000;

/// A client as the limiter sees it: an IPv4 address, or an IPv6 address masked to the
/// configured prefix (IPv4-mapped IPv6 addresses count as IPv4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    /// The key of `ip` with IPv6 addresses masked to their first `ipv6_prefix_len` bits.
    pub fn new(ip: IpAddr, ipv6_prefix_len: u8) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => AddressKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let bits = u32::from(ipv6_prefix_len.min(128));
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                AddressKey(IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask)))
            }
        }
    }
}

/// Token buckets by key, at most `capacity` keys.
#[derive(Debug)]
pub struct RateLimiter<K: Hash + Eq = AddressKey> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<LruCache<K, (f64, Instant)>>,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `per_minute` sustained, `burst` at once, [`MAX_KEYS`] keys.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_capacity(per_minute, burst, MAX_KEYS)
    }

    /// As [`RateLimiter::new`], remembering at most `capacity` keys.
    pub fn with_capacity(per_minute: u32, burst: u32, capacity: usize) -> Self {
        Self {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(LruCache::new(capacity.max(1))),
        }
    }

    /// Number of keys remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<K, (f64, Instant)>> {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes one token for `key`, or says how many seconds until one is available.
    pub fn check(&self, key: K) -> Result<(), Error> {
        let now = Instant::now();
        let mut buckets = self.lock();
        let (mut tokens, last) = buckets.get(&key).copied().unwrap_or((self.burst, now));
        tokens =
            (tokens + now.duration_since(last).as_secs_f64() * self.per_second).min(self.burst);
        let result = if tokens >= 1.0 {
            tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - tokens) / self.per_second).ceil().max(1.0);
            Err(Error::RateLimited {
                retry_after: wait as u64,
            })
        };
        // O(1): replaces the key's bucket, or evicts the least recently used key when full.
        buckets.insert(key, (tokens, now));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_with_retry_after() {
        let limiter = RateLimiter::new(60, 2);
        assert!(limiter.check("a").is_ok());
        assert!(limiter.check("a").is_ok());
        match limiter.check("a") {
            Err(Error::RateLimited { retry_after }) => assert_eq!(retry_after, 1),
            other => panic!("{other:?}"),
        }
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn addresses_in_one_ipv6_64_share_a_bucket() {
        let key = |s: &str, prefix| AddressKey::new(s.parse().unwrap(), prefix);
        let limiter = RateLimiter::new(1, 2);
        assert!(limiter.check(key("2001:db8:1:2::1", 64)).is_ok());
        assert!(
            limiter
                .check(key("2001:db8:1:2:ffff:ffff:ffff:fffe", 64))
                .is_ok()
        );
        assert!(limiter.check(key("2001:db8:1:2:abcd::9", 64)).is_err());
        assert!(
            limiter.check(key("2001:db8:1:3::1", 64)).is_ok(),
            "another /64"
        );
        // IPv4: the full address; IPv4-mapped IPv6 is the same client as its IPv4 address.
        assert_eq!(key("192.0.2.7", 64), key("::ffff:192.0.2.7", 64));
        assert_ne!(key("192.0.2.7", 64), key("192.0.2.8", 64));
        // The prefix is configurable, /128 being the full address.
        assert_ne!(key("2001:db8::1", 128), key("2001:db8::2", 128));
        assert_eq!(key("2001:db8:1:2::1", 48), key("2001:db8:1:ffff::1", 48));
        assert_eq!(key("2001:db8::1", 0), key("fe80::1", 0));
    }

    #[test]
    fn the_map_never_exceeds_its_cap() {
        let cap = 1_000;
        let limiter = RateLimiter::with_capacity(1, 1, cap);
        for i in 0..100_000u32 {
            let _ = limiter.check(i);
            assert!(limiter.len() <= cap, "{} keys after {i}", limiter.len());
        }
        assert_eq!(limiter.len(), cap);
        // The most recent keys are the ones remembered: a recent client stays limited.
        assert!(limiter.check(99_999).is_err());
    }
}
