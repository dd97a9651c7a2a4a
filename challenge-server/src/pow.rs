//! Hashcash proof-of-work for opening an oracle session (DESIGN section 4, "Abuse"), when a
//! challenge asks for one (`pow_bits` > 0).
//!
//! The server issues a token bound to the challenge, the claimant, the number of bits and the
//! time, without storing it: `token = u64be(issued_at) ‖ HMAC-SHA-256(key, "challenge-server/
//! v1/pow-token\n" ‖ challenge ‖ "\n" ‖ claimant ‖ "\n" ‖ u64be(issued_at) ‖ u32be(bits))`,
//! the key derived from the key-encryption key. The claimant finds a nonce (at most
//! [`MAX_NONCE_LEN`] bytes) such that `SHA-256("challenge-server/v1/pow\n" ‖ token ‖ claimant ‖
//! "\n" ‖ nonce)` starts with `bits` zero bits. Checking costs one HMAC and one hash; a token
//! is good for [`TOKEN_TTL_SECS`], and the caller makes it single-use by storing
//! [`Checked::token_id`] with the session it opened.

use subtle::ConstantTimeEq;
use target_impl::hazmat::{hmac_sha256, sha256};

use crate::fields::hex_field;

/// The largest difficulty a challenge may publish (2^32 hashes is hours of one core's work).
pub const MAX_POW_BITS: u32 = 32;
/// How long an issued token can be solved and spent.
pub const TOKEN_TTL_SECS: u64 = 600;
/// Longest nonce, in bytes.
pub const MAX_NONCE_LEN: usize = 64;
/// Length of a token: the issue time and the MAC.
pub const TOKEN_LEN: usize = 8 + 32;

const TOKEN_LABEL: &[u8] = b"challenge-server/v1/pow-token\n";
const WORK_LABEL: &[u8] = b"challenge-server/v1/pow\n";

/// An issued token, as `GET …/sessions/pow` returns it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Issued {
    /// The token, hex.
    pub token: String,
    /// Leading zero bits the work hash needs.
    pub bits: u32,
    /// The last second the token is accepted.
    pub expires_at: u64,
}

/// Why a proof-of-work is refused: each names what the claimant must fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowError {
    /// The token is not hex of [`TOKEN_LEN`] bytes.
    MalformedToken,
    /// The nonce is not hex of at most [`MAX_NONCE_LEN`] bytes.
    MalformedNonce,
    /// The token was not issued by this server for this challenge, claimant and difficulty.
    NotIssued,
    /// The token is older than [`TOKEN_TTL_SECS`] (or from the future).
    Expired,
    /// The work hash has fewer leading zero bits than asked.
    NotEnoughWork,
}

impl PowError {
    /// The request field at fault.
    pub fn field(self) -> &'static str {
        match self {
            PowError::MalformedNonce | PowError::NotEnoughWork => "pow.nonce",
            PowError::MalformedToken | PowError::NotIssued | PowError::Expired => "pow.token",
        }
    }
}

impl core::fmt::Display for PowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PowError::MalformedToken => "expected the 80 hex digits of an issued token",
            PowError::MalformedNonce => "expected 0 to 64 bytes of lowercase hex",
            PowError::NotIssued => {
                "not a token this server issued for this challenge, claimant and difficulty"
            }
            PowError::Expired => "the token has expired: ask for a new one",
            PowError::NotEnoughWork => "the work hash has too few leading zero bits",
        })
    }
}

impl From<PowError> for crate::Error {
    fn from(e: PowError) -> Self {
        crate::Error::invalid(e.field(), e.to_string())
    }
}

/// A proof-of-work that checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked {
    /// SHA-256 of the token: stored with the session it opens, so that a token opens one.
    pub token_id: [u8; 32],
}

fn mac(
    key: &[u8; 32],
    challenge: &str,
    claimant: &str,
    bits: u32,
    issued_at: u64,
) -> Option<[u8; 32]> {
    let message = [
        TOKEN_LABEL,
        challenge.as_bytes(),
        b"\n",
        claimant.as_bytes(),
        b"\n",
        &issued_at.to_be_bytes(),
        &bits.to_be_bytes(),
    ]
    .concat();
    hmac_sha256(key, &message).ok().map(|m| *m)
}

/// A token for `claimant` to open a session of `challenge` at difficulty `bits`.
pub fn issue(key: &[u8; 32], challenge: &str, claimant: &str, bits: u32, now: u64) -> Issued {
    let mut token = now.to_be_bytes().to_vec();
    token.extend_from_slice(&mac(key, challenge, claimant, bits, now).unwrap_or_default());
    Issued {
        token: hex::encode(token),
        bits,
        expires_at: now.saturating_add(TOKEN_TTL_SECS),
    }
}

/// The work hash of a token and nonce for `claimant`.
pub fn work_hash(token: &[u8], claimant: &str, nonce: &[u8]) -> [u8; 32] {
    sha256(&[WORK_LABEL, token, claimant.as_bytes(), b"\n", nonce])
}

/// Leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// Checks a claimant's proof-of-work (`token` and `nonce` as hex) at `now`.
pub fn check(
    key: &[u8; 32],
    challenge: &str,
    claimant: &str,
    bits: u32,
    token: &str,
    nonce: &str,
    now: u64,
) -> Result<Checked, PowError> {
    let token = hex_field::<TOKEN_LEN>("pow.token", token).map_err(|_| PowError::MalformedToken)?;
    let nonce = match hex::decode(nonce) {
        Ok(n) if n.len() <= MAX_NONCE_LEN && nonce.bytes().all(|b| !b.is_ascii_uppercase()) => n,
        _ => return Err(PowError::MalformedNonce),
    };
    let (issued_at, tag) = token.split_at(8);
    let issued_at = u64::from_be_bytes(issued_at.try_into().map_err(|_| PowError::MalformedToken)?);
    let expected = mac(key, challenge, claimant, bits, issued_at).ok_or(PowError::NotIssued)?;
    if !bool::from(expected.as_slice().ct_eq(tag)) {
        return Err(PowError::NotIssued);
    }
    if issued_at > now || now > issued_at.saturating_add(TOKEN_TTL_SECS) {
        return Err(PowError::Expired);
    }
    if leading_zero_bits(&work_hash(&token, claimant, &nonce)) < bits {
        return Err(PowError::NotEnoughWork);
    }
    Ok(Checked {
        token_id: sha256(&[&token]),
    })
}

/// Finds a nonce for an issued token (tests and the researcher CLI): an 8-byte counter.
pub fn solve(issued: &Issued, claimant: &str) -> Option<String> {
    let token = hex::decode(&issued.token).ok()?;
    (0u64..).find_map(|n| {
        let nonce = n.to_be_bytes();
        (leading_zero_bits(&work_hash(&token, claimant, &nonce)) >= issued.bits)
            .then(|| hex::encode(nonce))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [9; 32];
    const NOW: u64 = 1_800_000_000;

    #[test]
    fn a_solved_token_checks_once_per_claimant_and_challenge() {
        let issued = issue(&KEY, "c1", "alice", 12, NOW);
        assert_eq!(issued.expires_at, NOW + TOKEN_TTL_SECS);
        let nonce = solve(&issued, "alice").unwrap();
        let ok = check(&KEY, "c1", "alice", 12, &issued.token, &nonce, NOW + 5).unwrap();
        assert_eq!(ok.token_id, sha256(&[&hex::decode(&issued.token).unwrap()]));
        let token = &issued.token;
        for (e, result) in [
            (
                PowError::NotIssued,
                check(&KEY, "c2", "alice", 12, token, &nonce, NOW),
            ),
            (
                PowError::NotIssued,
                check(&KEY, "c1", "bob", 12, token, &nonce, NOW),
            ),
            (
                PowError::NotIssued,
                check(&KEY, "c1", "alice", 8, token, &nonce, NOW),
            ),
            (
                PowError::NotIssued,
                check(&[8; 32], "c1", "alice", 12, token, &nonce, NOW),
            ),
            (
                PowError::Expired,
                check(
                    &KEY,
                    "c1",
                    "alice",
                    12,
                    token,
                    &nonce,
                    NOW + TOKEN_TTL_SECS + 1,
                ),
            ),
            (
                PowError::Expired,
                check(&KEY, "c1", "alice", 12, token, &nonce, NOW - 1),
            ),
            (
                PowError::MalformedToken,
                check(&KEY, "c1", "alice", 12, "00", &nonce, NOW),
            ),
            (
                PowError::MalformedNonce,
                check(&KEY, "c1", "alice", 12, token, &"00".repeat(65), NOW),
            ),
            (
                PowError::MalformedNonce,
                check(&KEY, "c1", "alice", 12, token, "0G", NOW),
            ),
        ] {
            assert_eq!(result, Err(e));
        }
    }

    #[test]
    fn too_little_work_is_refused() {
        let issued = issue(&KEY, "c1", "alice", 16, NOW);
        let token = hex::decode(&issued.token).unwrap();
        // A nonce whose hash has fewer than 16 leading zero bits.
        let weak = (0u64..)
            .map(u64::to_be_bytes)
            .find(|n| leading_zero_bits(&work_hash(&token, "alice", n)) < 16)
            .unwrap();
        assert_eq!(
            check(
                &KEY,
                "c1",
                "alice",
                16,
                &issued.token,
                &hex::encode(weak),
                NOW
            ),
            Err(PowError::NotEnoughWork)
        );
        // No work at all is asked at 0 bits.
        let free = issue(&KEY, "c1", "alice", 0, NOW);
        assert!(check(&KEY, "c1", "alice", 0, &free.token, "", NOW).is_ok());
    }

    #[test]
    fn leading_zero_bits_counts_across_bytes() {
        let mut h = [0u8; 32];
        assert_eq!(leading_zero_bits(&h), 256);
        h[1] = 0x10;
        assert_eq!(leading_zero_bits(&h), 11);
        h[0] = 0x80;
        assert_eq!(leading_zero_bits(&h), 0);
    }
}
