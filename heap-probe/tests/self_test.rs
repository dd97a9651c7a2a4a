//! The probe finds what it must, so that a clean freed-memory report means something: a freed
//! block holding a secret is a hit (whole or one window of it), the old block of a growing
//! `Vec` is a hit, a block wiped before it is freed is not, and counting follows the calls.
// A panic is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::hint::black_box;

use heap_probe::{NEEDLE_LEN, Report, ScanningAllocator};

#[global_allocator]
static PROBE: ScanningAllocator = ScanningAllocator;

const SECRET: [u8; 32] = *b"0123456789abcdef-secret-bytes-32";

fn measure(op: impl FnOnce()) -> Report {
    heap_probe::arm();
    op();
    heap_probe::disarm()
}

// One test function: the allocator's state is global to the binary.
#[test]
fn finds_left_secrets_and_only_those() {
    heap_probe::set_scrub(true);
    heap_probe::add_needles(3, &SECRET).unwrap();
    assert_eq!(
        heap_probe::add_needles(3, &SECRET[..NEEDLE_LEN - 1]),
        Err(heap_probe::Refused)
    );

    // Dropped as it is: one hit, tag 3, at the secret's offset, by dealloc.
    let r = measure(|| {
        let mut v = vec![0u8; 100];
        v[40..72].copy_from_slice(&SECRET);
        drop(black_box(v));
    });
    assert_eq!((r.allocations, r.frees, r.blocks_hit), (1, 1, 1));
    assert_eq!(r.blocks_hit_by_tag[3], 1);
    assert_eq!(r.hits()[0].block_size, 100);
    assert_eq!(r.hits()[0].offset, 40);
    assert!(!r.hits()[0].realloc);

    // Half of the secret (its second window) is a hit too.
    let r = measure(|| drop(black_box(SECRET[16..].to_vec())));
    assert_eq!(r.blocks_hit, 1);

    // Wiped before the free: no hit.
    let r = measure(|| {
        let mut v = SECRET.to_vec();
        v.fill(0);
        drop(black_box(v));
    });
    assert_eq!((r.frees, r.blocks_hit), (1, 0));

    // Growth by push: the old block keeps the secret even if the final one is wiped.
    let r = measure(|| {
        let mut v = Vec::with_capacity(32);
        v.extend_from_slice(&SECRET);
        v.push(0);
        v.fill(0);
        drop(black_box(v));
    });
    assert_eq!(r.blocks_hit, 1);
    assert!(r.hits()[0].realloc, "the old block of the growth");

    // Exact capacity up front, wiped: clean.
    let r = measure(|| {
        let mut v = Vec::with_capacity(33);
        v.extend_from_slice(&SECRET);
        v.push(0);
        v.fill(0);
        drop(black_box(v));
    });
    assert_eq!((r.allocations, r.blocks_hit), (1, 0));

    // Peak live bytes: two blocks alive at once, then freed.
    let r = measure(|| {
        let a = black_box(vec![1u8; 1000]);
        let b = black_box(vec![2u8; 3000]);
        drop(a);
        drop(b);
        drop(black_box(vec![3u8; 500]));
    });
    assert_eq!(r.peak_live_bytes, 4000);

    // Forgotten needles are not found; needles cannot change while armed.
    heap_probe::clear_needles().unwrap();
    let r = measure(|| {
        assert_eq!(
            heap_probe::add_needles(1, &SECRET),
            Err(heap_probe::Refused)
        );
        drop(black_box(SECRET.to_vec()));
    });
    assert_eq!(r.blocks_hit, 0);
}
