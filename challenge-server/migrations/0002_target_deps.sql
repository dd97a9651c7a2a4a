-- The hash of the Cargo.lock entries reachable from target-impl, part of the published target
-- identity (docs/API.md, "target-impl identity"). NULL for a challenge created before it was
-- recorded.
ALTER TABLE challenges ADD COLUMN target_impl_deps_sha256 TEXT;
