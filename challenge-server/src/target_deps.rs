//! The dependency listing behind `deps_sha256` (docs/API.md, "target-impl identity"): the
//! Cargo.lock entries reachable from target-impl, so that a bump of a backend it runs changes
//! the published identity and a server-only bump does not.
//!
//! Compiled twice: by build.rs (which hashes the listing into `TARGET_IMPL_DEPS_SHA256`) and in
//! the library (so its tests can feed it two lockfile texts). It only parses: the caller hashes.
//!
//! The listing: start from target-impl's `[dependencies]` (each non-optional one, and each
//! optional one that a feature in `features` enables); follow every `dependencies` edge of
//! Cargo.lock from there, transitively (Cargo.lock records a registry package's normal and build
//! dependencies, never its dev-dependencies); for each package reached other than target-impl,
//! one line `name version source checksum\n`, with `-` for a missing `source` or `checksum`;
//! lines sorted bytewise, duplicates removed, concatenated.

use std::collections::{BTreeSet, HashSet};

/// The canonical listing of the Cargo.lock packages that target-impl reaches.
///
/// `lock` is Cargo.lock's text, `manifest` target-impl/Cargo.toml's, `features` the target-impl
/// features the server enables.
#[allow(unreachable_pub)] // Public in the library; build.rs includes the file as a private module.
pub fn listing(lock: &str, manifest: &str, features: &[&str]) -> Result<String, String> {
    let lock: toml::Table = lock.parse().map_err(|e| format!("Cargo.lock: {e}"))?;
    let manifest: toml::Table = manifest
        .parse()
        .map_err(|e| format!("target-impl/Cargo.toml: {e}"))?;
    let packages = packages(&lock)?;
    let root_names = root_dependencies(&manifest, features)?;
    let root = find(&packages, "target-impl")?;
    let mut stack: Vec<&Package> = Vec::new();
    for dep in &root.dependencies {
        let name = dep.split(' ').next().unwrap_or_default();
        if root_names.contains(name) {
            stack.push(find(&packages, dep)?);
        }
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut lines: BTreeSet<String> = BTreeSet::new();
    while let Some(package) = stack.pop() {
        if !seen.insert(package.line.clone()) {
            continue;
        }
        lines.insert(package.line.clone());
        for dep in &package.dependencies {
            stack.push(find(&packages, dep)?);
        }
    }
    Ok(lines.into_iter().collect())
}

/// One `[[package]]` of Cargo.lock.
struct Package {
    name: String,
    version: String,
    source: Option<String>,
    /// Its listing line.
    line: String,
    /// Its `dependencies` entries as written: `name`, `name version` or
    /// `name version (source)`.
    dependencies: Vec<String>,
}

fn packages(lock: &toml::Table) -> Result<Vec<Package>, String> {
    let list = lock
        .get("package")
        .and_then(toml::Value::as_array)
        .ok_or("Cargo.lock: no [[package]]")?;
    let mut out = Vec::with_capacity(list.len());
    for entry in list {
        let text = |key: &str| entry.get(key).and_then(toml::Value::as_str);
        let name = text("name").ok_or("Cargo.lock: a package without a name")?;
        let version = text("version").ok_or("Cargo.lock: a package without a version")?;
        let source = text("source");
        let checksum = text("checksum");
        let dependencies = match entry.get("dependencies") {
            None => Vec::new(),
            Some(deps) => deps
                .as_array()
                .ok_or("Cargo.lock: `dependencies` is not an array")?
                .iter()
                .map(|d| d.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or("Cargo.lock: a dependency that is not a string")?,
        };
        out.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            source: source.map(str::to_owned),
            line: format!(
                "{name} {version} {} {}\n",
                source.unwrap_or("-"),
                checksum.unwrap_or("-")
            ),
            dependencies,
        });
    }
    Ok(out)
}

/// The package a `dependencies` entry names: by name, then version, then source, as Cargo
/// writes only as much as it needs to be unique.
fn find<'a>(packages: &'a [Package], entry: &str) -> Result<&'a Package, String> {
    let mut parts = entry.splitn(3, ' ');
    let name = parts.next().unwrap_or_default();
    let version = parts.next();
    let source = parts
        .next()
        .map(|s| s.trim_start_matches('(').trim_end_matches(')'));
    let mut matches = packages.iter().filter(|p| {
        p.name == name
            && version.is_none_or(|v| p.version == v)
            && source.is_none_or(|s| p.source.as_deref() == Some(s))
    });
    match (matches.next(), matches.next()) {
        (Some(p), None) => Ok(p),
        (None, _) => Err(format!("Cargo.lock: no package for `{entry}`")),
        (Some(_), Some(_)) => Err(format!("Cargo.lock: `{entry}` is ambiguous")),
    }
}

/// The package names of target-impl's normal dependencies that the build enables.
fn root_dependencies(manifest: &toml::Table, features: &[&str]) -> Result<HashSet<String>, String> {
    let deps = manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .ok_or("target-impl/Cargo.toml: no [dependencies]")?;
    let table = manifest.get("features").and_then(toml::Value::as_table);
    // Dependency keys that the enabled features turn on, following features that enable
    // features.
    let mut enabled: HashSet<String> = HashSet::new();
    let mut pending: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
    let mut visited: HashSet<String> = HashSet::new();
    while let Some(feature) = pending.pop() {
        if !visited.insert(feature.clone()) {
            continue;
        }
        if let Some(dep) = feature.strip_prefix("dep:") {
            enabled.insert(dep.to_owned());
            continue;
        }
        if let Some((dep, _)) = feature.split_once('/') {
            // `dep/feature` enables the dependency; `dep?/feature` does not.
            if !dep.ends_with('?') {
                enabled.insert(dep.to_owned());
            }
            continue;
        }
        match table.and_then(|t| t.get(&feature)) {
            Some(values) => {
                let values = values
                    .as_array()
                    .ok_or_else(|| format!("target-impl feature `{feature}` is not an array"))?;
                pending.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            // A feature name that is no feature is an optional dependency's implicit one.
            None => {
                enabled.insert(feature);
            }
        }
    }
    let mut names = HashSet::new();
    for (key, spec) in deps {
        let optional = spec
            .get("optional")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        if optional && !enabled.contains(key) {
            continue;
        }
        let package = spec
            .get("package")
            .and_then(toml::Value::as_str)
            .unwrap_or(key);
        names.insert(package.to_owned());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = include_str!("../../Cargo.lock");
    const MANIFEST: &str = include_str!("../../target-impl/Cargo.toml");

    /// `lock` with the `checksum` of package `name` replaced, as a version bump would.
    fn bumped(lock: &str, name: &str) -> String {
        let start = lock
            .find(&format!("\nname = \"{name}\"\n"))
            .unwrap_or_else(|| panic!("{name} is in Cargo.lock"));
        let at = start + lock[start..].find("checksum = \"").unwrap() + "checksum = \"".len();
        format!("{}{}{}", &lock[..at], "0".repeat(64), &lock[at + 64..])
    }

    #[test]
    fn the_built_hash_is_the_listing_of_the_lockfile() {
        let listing = listing(LOCK, MANIFEST, &["hazmat"]).unwrap();
        let hash = hex::encode(target_impl::hazmat::sha256(&[listing.as_bytes()]));
        assert_eq!(hash, crate::TARGET_IMPL_DEPS_SHA256);
        // The backends are in it, the server's own stack and target-impl's dev-dependencies
        // are not.
        for name in [
            "aws-lc-rs ",
            "libcrux-ml-kem ",
            "ed25519-dalek ",
            "hkdf ",
            "sha2 ",
        ] {
            assert!(listing.lines().any(|l| l.starts_with(name)), "{name}is in");
        }
        for name in [
            "axum ",
            "sqlx ",
            "tokio ",
            "proptest ",
            "aes-gcm ",
            "arbitrary ",
        ] {
            assert!(
                !listing.lines().any(|l| l.starts_with(name)),
                "{name}is not"
            );
        }
        let lines: Vec<&str> = listing.lines().collect();
        assert!(
            lines.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicate"
        );
        assert!(!listing.contains("target-impl"));
    }

    #[test]
    fn only_a_change_reachable_from_target_impl_changes_the_listing() {
        let base = listing(LOCK, MANIFEST, &["hazmat"]).unwrap();
        for server_only in ["axum", "sqlx-core", "tokio", "proptest", "aes-gcm"] {
            assert!(
                listing(&bumped(LOCK, server_only), MANIFEST, &["hazmat"]).unwrap() == base,
                "{server_only} is not reachable from target-impl"
            );
        }
        // Direct, transitive, and a build dependency of a dependency.
        for reachable in [
            "libcrux-ml-kem",
            "hkdf",
            "libcrux-sha3",
            "aws-lc-sys",
            "cmake",
        ] {
            assert!(
                listing(&bumped(LOCK, reachable), MANIFEST, &["hazmat"]).unwrap() != base,
                "{reachable} is reachable from target-impl"
            );
        }
        // An optional dependency counts once a feature enables it.
        let with = listing(LOCK, MANIFEST, &["hazmat", "arbitrary"]).unwrap();
        assert!(with.lines().any(|l| l.starts_with("arbitrary ")));
        assert!(listing(&bumped(LOCK, "arbitrary"), MANIFEST, &["arbitrary"]).unwrap() != with);
    }

    #[test]
    fn a_lockfile_that_does_not_resolve_is_an_error() {
        assert!(listing("version = 4\n", MANIFEST, &[]).is_err());
        let dangling =
            "[[package]]\nname = \"target-impl\"\nversion = \"0.1.0\"\ndependencies = [\"sha2\"]\n";
        let err = listing(dangling, MANIFEST, &[]).unwrap_err();
        assert!(err.contains("sha2"), "{err}");
    }
}
