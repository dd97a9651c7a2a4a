//! The message body: `content type ‖ sent-at ‖ TTL ‖ payload length ‖ payload ‖ zero padding`,
//! padded to a fixed bucket for short messages and by Padmé above the largest bucket.

/// Body preamble: content type (1), sent-at (8), TTL (4), payload length (4).
pub const BODY_PREAMBLE_LEN: usize = 1 + 8 + 4 + 4;

/// Padded body lengths for short messages (preamble included).
pub const PADDING_BUCKETS: [usize; 5] = [64, 128, 256, 512, 1024];

/// Largest payload one message carries (larger data goes as an attachment stream, later).
pub const MAX_PAYLOAD_LEN: usize = 4 << 20;

/// Padded body length for a body of `len` bytes (preamble + payload): the smallest bucket that
/// holds it, else Padmé (Nikitin et al., PETS 2019): keep the top `floor(log2 E) + 1` bits of
/// the length, where `E = floor(log2 len)`, rounding up. Above 1024 bytes the overhead is at
/// most 6.25 % (E ≤ 15) and at most 3.2 % from 64 KiB on.
pub const fn padded_len(len: usize) -> usize {
    let [b0, b1, b2, b3, b4] = PADDING_BUCKETS;
    if len <= b0 {
        b0
    } else if len <= b1 {
        b1
    } else if len <= b2 {
        b2
    } else if len <= b3 {
        b3
    } else if len <= b4 {
        b4
    } else {
        padme(len)
    }
}

const fn padme(len: usize) -> usize {
    // len > 1024 here, so e ≥ 10 and s ≥ 4.
    let e = (usize::BITS - 1 - len.leading_zeros()) as usize;
    let s = (usize::BITS - 1 - e.leading_zeros()) as usize + 1;
    let mask = (1usize << (e - s)) - 1;
    (len + mask) & !mask
}

/// Largest padded body.
pub const MAX_PADDED_BODY_LEN: usize = padded_len(BODY_PREAMBLE_LEN + MAX_PAYLOAD_LEN);

/// Whether `len` is a length the padding rule can produce (a framing check on the wire).
pub(crate) fn is_padded_len(len: usize) -> bool {
    (BODY_PREAMBLE_LEN..=MAX_PADDED_BODY_LEN).contains(&len) && padded_len(len) == len
}

/// Body metadata, authenticated with the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyMeta {
    pub(crate) content_type: u8,
    pub(crate) sent_at: u64,
    pub(crate) ttl: u32,
    pub(crate) payload_len: u32,
}

impl BodyMeta {
    pub(crate) fn to_bytes(self) -> [u8; BODY_PREAMBLE_LEN] {
        let mut out = [0u8; BODY_PREAMBLE_LEN];
        out[0] = self.content_type;
        out[1..9].copy_from_slice(&self.sent_at.to_be_bytes());
        out[9..13].copy_from_slice(&self.ttl.to_be_bytes());
        out[13..17].copy_from_slice(&self.payload_len.to_be_bytes());
        out
    }

    /// Parses an authenticated, decrypted body: the payload length must be at most
    /// [`MAX_PAYLOAD_LEN`], its padded length must be the body's length, and every padding byte
    /// must be zero.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let (pre, rest) = body.split_first_chunk::<BODY_PREAMBLE_LEN>()?;
        let [
            content_type,
            s0,
            s1,
            s2,
            s3,
            s4,
            s5,
            s6,
            s7,
            t0,
            t1,
            t2,
            t3,
            l0,
            l1,
            l2,
            l3,
        ] = *pre;
        let meta = Self {
            content_type,
            sent_at: u64::from_be_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
            ttl: u32::from_be_bytes([t0, t1, t2, t3]),
            payload_len: u32::from_be_bytes([l0, l1, l2, l3]),
        };
        let payload_len = usize::try_from(meta.payload_len).ok()?;
        if payload_len > MAX_PAYLOAD_LEN {
            return None;
        }
        let padding = rest.get(payload_len..)?;
        if padded_len(BODY_PREAMBLE_LEN + payload_len) != body.len()
            || padding.iter().fold(0u8, |acc, &b| acc | b) != 0
        {
            return None;
        }
        Some(meta)
    }

    /// `sent_at + ttl` if the message expires; `None` for TTL 0 (or a sum past `u64`, which no
    /// `now` reaches).
    pub(crate) fn expires_at(self) -> Option<u64> {
        if self.ttl == 0 {
            None
        } else {
            self.sent_at.checked_add(u64::from(self.ttl))
        }
    }

    /// DESIGN section 7: expired when `now >= sent_at + ttl`, TTL 0 never expires.
    pub(crate) fn is_expired(self, now: u64) -> bool {
        self.expires_at().is_some_and(|at| now >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_then_padme() {
        assert_eq!(padded_len(17), 64);
        assert_eq!(padded_len(64), 64);
        assert_eq!(padded_len(65), 128);
        assert_eq!(padded_len(1024), 1024);
        assert_eq!(padded_len(1025), 1088);
        assert_eq!(padded_len(1041), 1088);
        assert_eq!(padded_len((1 << 20) + 17), (1 << 20) + (1 << 15));
    }

    #[test]
    fn padme_overhead_bounded_and_idempotent() {
        let mut len = 1025;
        while len < MAX_PADDED_BODY_LEN {
            let p = padded_len(len);
            assert!(p >= len);
            assert!((p - len) * 100 <= len * 12, "{len} -> {p}");
            assert_eq!(padded_len(p), p);
            assert!(is_padded_len(p));
            len += len / 7 + 1;
        }
        let at_1mib = padded_len(1 << 20 | 1);
        assert!((at_1mib - (1 << 20)) * 1000 <= 32 * (1 << 20));
    }

    #[test]
    fn expiry_boundary() {
        let meta = BodyMeta {
            content_type: 1,
            sent_at: 100,
            ttl: 30,
            payload_len: 0,
        };
        assert!(!meta.is_expired(129));
        assert!(meta.is_expired(130));
        assert!(meta.is_expired(131));
        let never = BodyMeta { ttl: 0, ..meta };
        assert!(!never.is_expired(u64::MAX));
        let overflow = BodyMeta {
            sent_at: u64::MAX,
            ttl: 1,
            ..meta
        };
        assert!(!overflow.is_expired(u64::MAX));
    }
}
