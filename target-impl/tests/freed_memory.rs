//! No secret is left in freed heap memory: a scanning global allocator (heap-probe) checks every
//! block freed during each operation, the old block of every `realloc` included, for every
//! secret the test knows (each state blob's secret fields, read with the parsers of
//! tests/common, and the ML-KEM private keys expanded from their seeds). Stack copies are out of
//! a heap probe's reach.
//!
//! The scenario runs twice from the same seeds: once to learn every secret it ever holds, once
//! armed. Run with `--nocapture` to see the table of freed blocks per operation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{T0, out, parse_device, rng};
use heap_probe::{MAX_TAGS, Report, ScanningAllocator};
use target_impl::{Device, MAX_SKIPPED_AGE_SECS, PeerId, Session, VerifiedBundle, hazmat};

#[global_allocator]
static PROBE: ScanningAllocator = ScanningAllocator;

/// Learns secrets (first pass) or measures (second pass).
struct Probe {
    measuring: bool,
    /// Secret kinds: a tag is an index here.
    kinds: Vec<String>,
    secrets: Vec<(u8, Vec<u8>)>,
    rows: Vec<(String, Report)>,
}

impl Probe {
    /// Runs one operation; in the measuring pass, armed.
    fn step<T>(&mut self, name: &str, op: impl FnOnce() -> T) -> T {
        if !self.measuring {
            return op();
        }
        heap_probe::arm();
        let value = op();
        let report = heap_probe::disarm();
        self.rows.push((name.to_string(), report));
        value
    }

    /// Records every secret `device` holds now (first pass only).
    fn learn(&mut self, device: &Device) {
        if self.measuring {
            return;
        }
        let blob = device.to_bytes();
        for (name, range) in parse_device(&blob).all_secrets() {
            let bytes = blob[range].to_vec();
            let kind = kind_of(&name);
            if kind.contains("kem seed") {
                // The expanded key is s ‖ pk ‖ H(pk) ‖ z: only s and z are secret.
                let (_, private) = hazmat::mlkem768_generate(&bytes.clone().try_into().unwrap());
                let s_len = hazmat::MLKEM_PRIVATE_KEY_LEN - hazmat::MLKEM_PUBLIC_KEY_LEN - 64;
                self.add(&format!("{kind} (expanded s)"), &private[..s_len]);
            }
            self.add(&kind, &bytes);
        }
    }

    fn add(&mut self, kind: &str, bytes: &[u8]) {
        let tag = match self.kinds.iter().position(|k| k == kind) {
            Some(i) => i,
            None => {
                self.kinds.push(kind.to_string());
                self.kinds.len() - 1
            }
        };
        assert!(tag < MAX_TAGS);
        if !self.secrets.iter().any(|(_, s)| s == bytes) {
            self.secrets.push((tag as u8, bytes.to_vec()));
        }
    }
}

/// A secret's kind: its name without the peer and the numbers.
fn kind_of(name: &str) -> String {
    let name = name.rsplit(": ").next().unwrap_or(name);
    name.split(' ')
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every operation the test covers, in one conversation.
fn scenario(p: &mut Probe) {
    let (a, b) = (PeerId::new("alice").unwrap(), PeerId::new("bob").unwrap());
    let mut r = rng(41);

    let mut bob = p.step("Device::generate", || Device::generate(&mut r).unwrap());
    p.step("Device::add_one_time_prekeys (40)", || {
        bob.add_one_time_prekeys(40, &mut r).unwrap()
    });
    p.step("Device::add_one_time_kem_prekeys (3)", || {
        bob.add_one_time_kem_prekeys(3, &mut r).unwrap()
    });
    p.learn(&bob);
    let blob = p.step("Device::to_bytes", || bob.to_bytes());
    let restored = p.step("Device::from_bytes", || Device::from_bytes(&blob).unwrap());
    p.step("drop(Device)", || drop(restored));
    drop(blob);

    let mut alice = Device::generate(&mut r).unwrap();
    p.learn(&alice);
    let bundle = VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    p.step("Device::initiate", || {
        alice.initiate(&b, &bundle, &mut r).unwrap()
    });
    p.learn(&alice);
    let m0 = p.step("Session::encrypt (initial message)", || {
        alice
            .session_mut(&b)
            .unwrap()
            .encrypt(&out(b"hello bob"), T0, &mut r)
            .unwrap()
    });
    p.learn(&alice);
    let got = p.step("Device::decrypt (accept)", || {
        bob.decrypt(&a, &m0, T0).unwrap()
    });
    drop(got);
    p.learn(&bob);
    let r0 = p.step("Session::encrypt", || {
        bob.session_mut(&a)
            .unwrap()
            .encrypt(&out(b"hello alice"), T0, &mut r)
            .unwrap()
    });
    p.learn(&bob);
    let got = p.step("Device::decrypt (DH step)", || {
        alice.decrypt(&b, &r0, T0).unwrap()
    });
    drop(got);
    p.learn(&alice);

    let mut lost = Vec::new();
    for i in 0..=500 {
        let m = alice
            .session_mut(&b)
            .unwrap()
            .encrypt(&out(b"lost"), T0, &mut r)
            .unwrap();
        lost.push(m);
        if i == 0 {
            p.learn(&alice);
        }
    }
    let last = lost.pop().unwrap();
    p.learn(&alice);
    let got = p.step("Device::decrypt (skips 500 keys)", || {
        bob.decrypt(&a, &last, T0).unwrap()
    });
    drop(got);
    p.learn(&bob);
    for (name, i) in [
        ("Device::decrypt (stored key, middle)", 250),
        ("Device::decrypt (stored key, first)", 0),
        ("Device::decrypt (stored key, last)", 499),
    ] {
        let got = p.step(name, || bob.decrypt(&a, &lost[i], T0).unwrap());
        drop(got);
    }

    let session_blob = p.step("Session::to_bytes", || bob.session(&a).unwrap().to_bytes());
    let session = p.step("Session::from_bytes", || {
        Session::from_bytes(&session_blob).unwrap()
    });
    p.step("drop(Session)", || drop(session));
    drop(session_blob);
    let blob = p.step("Device::to_bytes (with sessions)", || bob.to_bytes());
    let restored = p.step("Device::from_bytes (with sessions)", || {
        Device::from_bytes(&blob).unwrap()
    });
    p.step("drop(Device) (with sessions)", || drop(restored));
    drop(blob);
    let late = alice
        .session_mut(&b)
        .unwrap()
        .encrypt(&out(b"late"), T0 + MAX_SKIPPED_AGE_SECS, &mut r)
        .unwrap();
    let got = p.step("Device::decrypt (purges old skipped keys)", || {
        bob.decrypt(&a, &late, T0 + MAX_SKIPPED_AGE_SECS).unwrap()
    });
    drop(got);
    p.learn(&bob);
    for round in 0..2 {
        p.step("Device::rotate_signed_prekey", || {
            bob.rotate_signed_prekey(&mut r).unwrap()
        });
        p.step("Device::rotate_last_resort_kem_prekey", || {
            bob.rotate_last_resort_kem_prekey(&mut r).unwrap()
        });
        p.learn(&bob);
        let _ = round;
    }
    p.step("drop(Device) (responder)", || drop(bob));
    p.step("drop(Device) (initiator)", || drop(alice));
}

#[test]
fn no_secret_is_left_in_freed_heap_memory() {
    heap_probe::set_scrub(true);
    let mut p = Probe {
        measuring: false,
        kinds: Vec::new(),
        secrets: Vec::new(),
        rows: Vec::new(),
    };
    scenario(&mut p);
    heap_probe::clear_needles().unwrap();
    for (tag, secret) in &p.secrets {
        heap_probe::add_needles(*tag, secret).unwrap();
    }
    p.measuring = true;
    scenario(&mut p);

    let mut failures = Vec::new();
    println!(
        "{:<40} {:>7} {:>7} {:>7}  secrets found",
        "operation", "allocs", "frees", "hit"
    );
    for (name, report) in &p.rows {
        let found: Vec<String> = report
            .blocks_hit_by_tag
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(tag, n)| format!("{} in {n}", p.kinds[tag]))
            .collect();
        println!(
            "{name:<40} {:>7} {:>7} {:>7}  {}",
            report.allocations,
            report.frees,
            report.blocks_hit,
            found.join(", ")
        );
        if report.blocks_hit > 0 {
            failures.push(format!(
                "{name}: {} ({:?})",
                found.join(", "),
                report.hits()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "freed blocks still hold secrets:\n{}",
        failures.join("\n")
    );
}
