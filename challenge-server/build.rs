//! Computes the identity of the target-impl source that this server is built with, published in
//! every challenge (docs/API.md, "target-impl identity"):
//!
//! - `TARGET_IMPL_VERSION`: the `version` of target-impl/Cargo.toml;
//! - `TARGET_IMPL_SOURCE_SHA256`: the SHA-256 of the `sha256sum` listing of every file under
//!   target-impl/src, paths relative to target-impl, sorted bytewise; the same value as
//!   `cd target-impl && find src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`;
//! - `TARGET_IMPL_DEPS_SHA256`: the SHA-256 of the listing of the Cargo.lock packages reachable
//!   from target-impl with the features this crate enables ([`target_deps`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[path = "src/target_deps.rs"]
mod target_deps;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let target_impl = crate_dir.join("..").join("target-impl");
    println!("cargo:rerun-if-changed=../target-impl/src");
    println!("cargo:rerun-if-changed=../target-impl/Cargo.toml");
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-changed=Cargo.toml");
    // `sqlx::migrate!` embeds migrations/ at compile time but does not tell Cargo (on stable), so
    // an added migration would otherwise not rebuild the crate.
    println!("cargo:rerun-if-changed=migrations");

    let mut files = Vec::new();
    collect(&target_impl, Path::new("src"), &mut files)?;
    files.sort();
    let mut listing = String::new();
    for rel in &files {
        let bytes = std::fs::read(target_impl.join(rel))?;
        writeln!(listing, "{}  {rel}", hex(&Sha256::digest(&bytes)))?;
    }
    println!(
        "cargo:rustc-env=TARGET_IMPL_SOURCE_SHA256={}",
        hex(&Sha256::digest(listing.as_bytes()))
    );

    let manifest = std::fs::read_to_string(target_impl.join("Cargo.toml"))?;
    let version = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .ok_or("no version in target-impl/Cargo.toml")?;
    println!("cargo:rustc-env=TARGET_IMPL_VERSION={version}");

    let lock = std::fs::read_to_string(crate_dir.join("..").join("Cargo.lock"))?;
    let own: toml::Table = std::fs::read_to_string(crate_dir.join("Cargo.toml"))?.parse()?;
    let features: Vec<&str> = own
        .get("dependencies")
        .and_then(|d| d.get("target-impl"))
        .and_then(|t| t.get("features"))
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let listing = target_deps::listing(&lock, &manifest, &features)?;
    println!(
        "cargo:rustc-env=TARGET_IMPL_DEPS_SHA256={}",
        hex(&Sha256::digest(listing.as_bytes()))
    );
    Ok(())
}

/// Every file under `base/rel`, as paths relative to `base` with `/` separators.
fn collect(base: &Path, rel: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(base.join(rel))? {
        let entry = entry?;
        let rel = rel.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            collect(base, &rel, out)?;
        } else {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
