//! `session_interaction`: target-impl's interaction model (`target_impl::testing`), the same
//! `Arbitrary` events, runner and exact-outcome checks as its proptest
//! (`target-impl/tests/interaction.rs`), so a violation found here is one there.

/// The target: the bytes become a scenario (a seed and events); any broken invariant fails.
pub fn check(data: &[u8]) {
    let result = target_impl::testing::run_bytes(data);
    assert!(
        result.is_ok(),
        "{}",
        result.err().map(|v| v.to_string()).unwrap_or_default()
    );
}
