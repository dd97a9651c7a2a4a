//! Writes the seed corpus of every target to `<dir>/<target>/<name>` (default `fuzz/seeds`),
//! replacing what was there: `cargo run --release --example seed_corpus [dir]`.
//!
//! The seeds come from the fixed-seed conversation in `src/fixture.rs` and fixed-seed random
//! bytes (`src/seeds.rs`), and from the server's request types and step sequences
//! (`src/server/seeds.rs`), so every run writes the same files.

use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let mut seeds = target_impl_fuzz::seeds::all();
    seeds.extend(target_impl_fuzz::server::seeds::all());
    let targets = target_impl_fuzz::TARGETS
        .iter()
        .chain(&target_impl_fuzz::server::TARGETS)
        .map(|(name, _)| *name);
    for target in targets {
        let sub = dir.join(target);
        if sub.exists() {
            std::fs::remove_dir_all(&sub)?;
        }
        std::fs::create_dir_all(&sub)?;
        let mine: Vec<_> = seeds.iter().filter(|s| s.target == target).collect();
        for s in &mine {
            std::fs::write(sub.join(&s.name), &s.bytes)?;
        }
        println!(
            "{:<20} {:>3} seeds in {}",
            target,
            mine.len(),
            sub.display()
        );
    }
    Ok(())
}
