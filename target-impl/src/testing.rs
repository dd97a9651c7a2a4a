//! The interaction model (placeholder until written below).
