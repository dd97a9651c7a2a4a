//! Weakened copies of target-impl, one planted flaw each (feature `weak-targets`, the server's
//! tests only), so that the server's attackers and judges can be shown to win on them (and to
//! lose on [`super::real`]). No primitive is written here: each one wraps the real target-impl
//! [`target_impl::Device`] and plants its flaw around it, in how the device's state or
//! randomness is handled. One module per flaw:
//!
//! - `repeated-body-nonce` ([`RepeatedBodyNonce`]): the body AEAD (key, nonce) repeats within
//!   a chain.

mod repeated_body_nonce;

pub use repeated_body_nonce::{RepeatedBodyNonce, StateError, WEAK_STATE_VERSION, WeakDevice};

use super::Target;

/// The flaw name of [`RepeatedBodyNonce`].
pub const REPEATED_BODY_NONCE: &str = "repeated-body-nonce";

/// Every weakened target's flaw name.
pub const FLAWS: [&str; 1] = [REPEATED_BODY_NONCE];

/// The weakened target named `name`, if this build has it.
pub fn by_name(name: &str) -> Option<&'static dyn Target> {
    match name {
        REPEATED_BODY_NONCE => Some(&RepeatedBodyNonce),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::TargetIdentity;

    #[test]
    fn weak_targets_name_their_flaws_and_are_found_by_name() {
        assert_eq!(FLAWS, ["repeated-body-nonce"]);
        for flaw in FLAWS {
            let target = by_name(flaw).unwrap();
            assert_eq!(target.identity().flaw.as_deref(), Some(flaw));
            assert_eq!(
                target.identity().source_sha256,
                TargetIdentity::built().source_sha256
            );
            assert_eq!(
                crate::targets::by_flaw(Some(flaw))
                    .unwrap()
                    .identity()
                    .flaw
                    .as_deref(),
                Some(flaw)
            );
        }
        assert!(by_name("no-such-flaw").is_none());
        assert!(crate::targets::real().identity().flaw.is_none());
    }
}
