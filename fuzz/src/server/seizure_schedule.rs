//! `seizure_schedule`: arbitrary seizure schedules (length, seizure index, seized party,
//! secrets, seed) through `challenge_server::tracks::seizure::check_schedule`, the check the
//! proptest of the schedule builder runs: the builder refuses only with a named field, and for
//! every schedule it accepts, the secrets sit only in protected messages and the health
//! solver, attacking from the published seized state on target-impl, reads every unprotected
//! message to the seized party and none of the protected ones.

use challenge_server::tracks::seizure::check_schedule;
use challenge_server::tracks::seizure::schedule::{Params, Party};

/// Longest schedule an input asks for: every message is played and attacked on target-impl,
/// so longer ones only slow the fuzzer without reaching new rules.
pub const MAX_MESSAGES: u64 = 24;

/// Input: `[messages, seize_at, seized (low bit: Alice), secrets, seed…]`.
pub fn check(data: &[u8]) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let messages = u64::from(byte(0)) % (MAX_MESSAGES + 1);
    let seize_at = u64::from(byte(1)) % (MAX_MESSAGES + 2);
    let seized = if byte(2) & 1 == 1 {
        Party::Alice
    } else {
        Party::Bob
    };
    let secrets = u32::from(byte(3) % 6);
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = byte(4 + i);
    }
    let params = Params { seize_at, seized };
    let checked = check_schedule(messages, params, secrets, seed);
    assert!(
        checked.is_ok(),
        "seizure schedule of {messages} messages, {params:?}, {secrets} secrets: {checked:?}"
    );
}
