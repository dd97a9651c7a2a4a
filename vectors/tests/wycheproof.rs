//! Every Wycheproof case of the six primitives of suite v1 passes or is skipped with a named
//! reason (`cargo run -p vectors --bin wycheproof` prints the same table).

#[test]
fn wycheproof_cases_pass_or_are_skipped_with_a_reason() {
    let tallies = vectors::wycheproof_runner::run_all().unwrap();
    print!("{}", vectors::wycheproof_runner::render(&tallies));
    let names: Vec<_> = tallies.iter().map(|t| t.primitive).collect();
    assert_eq!(
        names,
        [
            "AES-256-GCM",
            "X25519",
            "Ed25519",
            "HKDF-SHA-256",
            "HMAC-SHA-256",
            "ML-KEM-768"
        ]
    );
    for t in &tallies {
        assert!(t.failures.is_empty(), "{}: {:?}", t.primitive, t.failures);
        assert!(t.passed > 0, "{} ran no case", t.primitive);
        assert!(t.skipped.keys().all(|reason| !reason.is_empty()));
    }
}
