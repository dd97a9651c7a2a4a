//! Heap figures, in their own binary so that the counting allocator never runs under the
//! throughput benchmarks (it would distort every column): heap allocations and bytes per
//! message on the one-way path (`Session::encrypt`, `Session::decrypt`) and on the in-place
//! path (`Session::encrypt_in_place`, `Session::decrypt_in_place`), for a DH ratchet turn, the
//! state blob sizes, and the peak heap use of decrypting a 1 MiB message.
//!
//! Allocation counts do not depend on the machine's load: the figures are exact for the build.
//! `ci/bench.sh` runs this after the throughput run (`--bench`) and writes
//! `bench-report/alloc.json`, which the report reads; `cargo test --bench alloc` runs it once
//! with few messages, so that it cannot rot.

// A benchmark step that fails must stop the run loudly: the fixtures use `expect` for that.
#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use heap_probe::{Report, ScanningAllocator};
use serde_json::{Value, json};

// The throughput binary's session fixtures (and the clock they name); its timing helpers go
// unused here.
#[allow(dead_code)]
#[path = "throughput/clock.rs"]
mod clock;
#[allow(dead_code)]
#[path = "throughput/fixtures.rs"]
mod fixtures;

use fixtures::{Devices, NOW, Pair, outgoing, payload, rng};

#[global_allocator]
static PROBE: ScanningAllocator = ScanningAllocator;

/// What one `op` allocated (averaged over `n` runs) and its peak heap use (the largest of one run).
struct PerOp {
    allocations: f64,
    bytes: f64,
    peak: u64,
}

fn measure(n: usize, mut op: impl FnMut()) -> PerOp {
    let (mut allocations, mut bytes, mut peak) = (0, 0, 0);
    for _ in 0..n {
        heap_probe::arm();
        op();
        let r: Report = heap_probe::disarm();
        allocations += r.allocations;
        bytes += r.allocated_bytes;
        peak = peak.max(r.peak_live_bytes);
    }
    PerOp {
        allocations: allocations as f64 / n as f64,
        bytes: bytes as f64 / n as f64,
        peak,
    }
}

fn row(name: &str, size: usize, p: &PerOp) -> Value {
    json!({
        "operation": name,
        "payload_bytes": size,
        "allocations_per_message": p.allocations,
        "bytes_per_message": p.bytes,
        "peak_live_bytes": p.peak,
    })
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // Messages per figure: counts are exact, so a handful is enough; more only averages the
    // rare growth of a reused buffer.
    let n = if full { 64 } else { 2 };
    let mut rows = Vec::new();
    for size in [1usize << 10, 16 << 10, 1 << 20] {
        let body = payload(size);
        let mut pair = Pair::new();
        // Encrypt alone: the output buffer is the one allocation a caller must expect.
        let mut sent = Vec::with_capacity(n);
        let p = measure(n, || sent.push(pair.alice_sends(&body)));
        rows.push(row("encrypt", size, &p));
        // Encrypt in place: the payload written into the outgoing buffer, sealed where it is;
        // the buffer is the one allocation (the application's write is part of the figure).
        let mut alice = pair.alice.clone();
        let mut rng_in_place = rng(42);
        let p = measure(n, || {
            let mut buf = alice.outgoing_buffer(size).expect("buffer");
            buf.payload_mut().copy_from_slice(&body);
            let sealed = alice
                .encrypt_in_place(buf, 1, 0, NOW, &mut rng_in_place)
                .expect("encrypt");
            black_box(sealed.as_bytes().len());
        });
        rows.push(row("encrypt_in_place", size, &p));
        // Decrypt in place: the payload borrows the received buffer.
        let mut wires = sent.clone();
        let mut bob = pair.bob.clone();
        let mut it = wires.iter_mut();
        let p = measure(n, || {
            let w = it.next().expect("a prepared message");
            let got = bob.decrypt_in_place(w, NOW).expect("decrypt");
            black_box(got.payload.len());
        });
        rows.push(row("decrypt_in_place", size, &p));
        // Decrypt into an owned payload.
        let mut bob = pair.bob.clone();
        let mut it = sent.iter();
        let p = measure(n, || {
            let w = it.next().expect("a prepared message");
            black_box(bob.decrypt(w, NOW).expect("decrypt"));
        });
        rows.push(row("decrypt", size, &p));
    }
    // A DH ratchet turn: each message answers the previous one (ping-pong, 1 KiB).
    let body = payload(1 << 10);
    let mut pair = Pair::new();
    let mut rng_turns = rng(40);
    let mut bob_turn = true;
    let p = measure(n, || {
        let (from, to) = if bob_turn {
            (&mut pair.bob, &mut pair.alice)
        } else {
            (&mut pair.alice, &mut pair.bob)
        };
        let mut wire = from
            .encrypt(&outgoing(&body), NOW, &mut rng_turns)
            .expect("encrypt");
        black_box(
            to.decrypt_in_place(&mut wire, NOW)
                .expect("decrypt")
                .payload
                .len(),
        );
        bob_turn = !bob_turn;
    });
    rows.push(row("ping_pong_turn_in_place", 1 << 10, &p));

    // State blobs: a session in the steady state, and the device holding it.
    let mut r = rng(41);
    let mut d = Devices::new(false, &mut r);
    let first = d.initial_message(&payload(16), &mut r);
    d.bob.decrypt(&d.to_alice, &first, NOW).expect("first");
    let session_blob = d
        .bob
        .session(&d.to_alice)
        .expect("session")
        .to_bytes()
        .len();
    let device_blob = d.bob.to_bytes().len();
    let fresh_device_blob = Devices::new(false, &mut r).bob.to_bytes().len();
    let out = json!({
        "messages_per_figure": n,
        "rows": rows,
        "state": {
            "session_blob_bytes": session_blob,
            "device_blob_bytes_one_session": device_blob,
            "device_blob_bytes_fresh": fresh_device_blob,
        },
    });
    let text = serde_json::to_string_pretty(&out).expect("json");
    match std::env::var_os("ALLOC_REPORT") {
        Some(path) if full => std::fs::write(&path, text + "\n").expect("write the report"),
        _ => println!("{text}"),
    }
}
