//! A global allocator over [`System`] that, while armed, counts allocations and scans every
//! freed block (the old block of every `realloc` included) for registered secret byte patterns.
//!
//! Install it in one test or bench binary with `#[global_allocator]`. The hooks never allocate:
//! needles and hits live in fixed-size static storage behind a spin lock, counters are atomics.
//! `realloc` always moves (allocate, copy, scan and free the old block), so a secret left behind
//! by growth is found whatever the system allocator would have done in place.
//!
//! Needles are [`NEEDLE_LEN`]-byte windows: a registered secret is split into windows, so a
//! freed block holding half of a key is a hit too.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::alloc::{GlobalAlloc, Layout, System};

/// Length of one needle window, in bytes (16 random bytes never match by chance).
pub const NEEDLE_LEN: usize = 16;
/// Most needle windows registered at once.
pub const MAX_NEEDLES: usize = 16_384;
/// Number of distinct tags (secret kinds) whose hits are counted separately.
pub const MAX_TAGS: usize = 64;
/// Hits recorded in detail (further hits are only counted).
pub const MAX_HIT_RECORDS: usize = 32;

/// The allocator. All state is static: install one instance per binary.
pub struct ScanningAllocator;

/// One freed block that held a registered needle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hit {
    /// Tag of the first needle found.
    pub tag: u8,
    /// Size of the freed block.
    pub block_size: usize,
    /// Offset of that needle in the block.
    pub offset: usize,
    /// The block was the old block of a `realloc` (growth or shrink), not a `dealloc`.
    pub realloc: bool,
}

/// What the probe saw since it was last armed.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub allocations: u64,
    /// Bytes requested by those calls (a `realloc` counts its new size).
    pub allocated_bytes: u64,
    /// Blocks freed (`dealloc`, and the old block of each `realloc`).
    pub frees: u64,
    /// Freed blocks that held at least one needle.
    pub blocks_hit: u64,
    /// The most bytes live at once above the level at [`arm`] (blocks allocated while armed and
    /// not yet freed, less blocks from before it freed since): the operation's peak heap use.
    pub peak_live_bytes: u64,
    /// Per tag: freed blocks that held at least one needle of that tag.
    pub blocks_hit_by_tag: [u64; MAX_TAGS],
    /// The first hits, in order.
    pub hits: [Hit; MAX_HIT_RECORDS],
    /// How many of `hits` are filled.
    pub hit_records: usize,
}

impl Report {
    /// The recorded hits.
    pub fn hits(&self) -> &[Hit] {
        self.hits.get(..self.hit_records).unwrap_or_default()
    }
}

/// The needle table and hit records, guarded by [`LOCK`].
struct Table {
    needles: [[u8; NEEDLE_LEN]; MAX_NEEDLES],
    tags: [u8; MAX_NEEDLES],
    /// Chained by first byte: `heads[b]` is 1 + the index of the last needle starting with `b`
    /// (0 = none), `next[i]` likewise for the needle before it.
    heads: [u16; 256],
    next: [u16; MAX_NEEDLES],
    len: usize,
    blocks_hit_by_tag: [u64; MAX_TAGS],
    hits: [Hit; MAX_HIT_RECORDS],
    hit_records: usize,
    blocks_hit: u64,
}

struct Shared(UnsafeCell<Table>);

// SAFETY: the table is only reached through `with_table`, which holds `LOCK` (a spin lock) for
// the whole access, so no two threads ever access it at once.
unsafe impl Sync for Shared {}

const _: () = assert!(MAX_NEEDLES < u16::MAX as usize);

static TABLE: Shared = Shared(UnsafeCell::new(Table {
    needles: [[0; NEEDLE_LEN]; MAX_NEEDLES],
    tags: [0; MAX_NEEDLES],
    heads: [0; 256],
    next: [0; MAX_NEEDLES],
    len: 0,
    blocks_hit_by_tag: [0; MAX_TAGS],
    hits: [Hit {
        tag: 0,
        block_size: 0,
        offset: 0,
        realloc: false,
    }; MAX_HIT_RECORDS],
    hit_records: 0,
    blocks_hit: 0,
}));
static LOCK: AtomicBool = AtomicBool::new(false);
static ARMED: AtomicBool = AtomicBool::new(false);
static SCRUB: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

/// Runs `f` with exclusive access to the table. Never allocates.
fn with_table<T>(f: impl FnOnce(&mut Table) -> T) -> T {
    while LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        core::hint::spin_loop();
    }
    // SAFETY: `LOCK` is held (acquired above, released below), so this is the only reference
    // to the table; `f` cannot re-enter `with_table` because the hooks never allocate inside it.
    let out = f(unsafe { &mut *TABLE.0.get() });
    LOCK.store(false, Ordering::Release);
    out
}

/// The error of [`add_needles`]: the table is full, or the probe is armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

/// Registers every [`NEEDLE_LEN`]-byte window of `secret` (windows at multiples of the length,
/// and the last one; shorter secrets are refused) under `tag`. Only while disarmed.
pub fn add_needles(tag: u8, secret: &[u8]) -> Result<(), Refused> {
    if ARMED.load(Ordering::SeqCst) || secret.len() < NEEDLE_LEN || usize::from(tag) >= MAX_TAGS {
        return Err(Refused);
    }
    let mut starts = (0..secret.len() - NEEDLE_LEN + 1).step_by(NEEDLE_LEN);
    let last = secret.len() - NEEDLE_LEN;
    with_table(|t| {
        let mut add = |start: usize| -> Result<(), Refused> {
            let window = secret.get(start..start + NEEDLE_LEN).ok_or(Refused)?;
            let i = t.len;
            let slot = t.needles.get_mut(i).ok_or(Refused)?;
            slot.copy_from_slice(window);
            let first = usize::from(*window.first().ok_or(Refused)?);
            let head = t.heads.get_mut(first).ok_or(Refused)?;
            *t.next.get_mut(i).ok_or(Refused)? = *head;
            *t.tags.get_mut(i).ok_or(Refused)? = tag;
            *head = u16::try_from(i + 1).map_err(|_| Refused)?;
            t.len += 1;
            Ok(())
        };
        let mut wrote_last = false;
        for start in starts.by_ref() {
            wrote_last |= start == last;
            add(start)?;
        }
        if !wrote_last {
            add(last)?;
        }
        Ok(())
    })
}

/// Forgets every needle (the table is wiped). Only while disarmed.
pub fn clear_needles() -> Result<(), Refused> {
    if ARMED.load(Ordering::SeqCst) {
        return Err(Refused);
    }
    with_table(|t| {
        t.needles = [[0; NEEDLE_LEN]; MAX_NEEDLES];
        t.heads = [0; 256];
        t.len = 0;
    });
    Ok(())
}

/// Whether every freed block is zeroed after it is scanned (armed or not), so bytes freed
/// before one measurement are never found again in a reused block during the next.
pub fn set_scrub(on: bool) {
    SCRUB.store(on, Ordering::SeqCst);
}

/// Resets counters and hits, then starts counting and scanning.
pub fn arm() {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ALLOCATED_BYTES.store(0, Ordering::SeqCst);
    FREES.store(0, Ordering::SeqCst);
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    with_table(|t| {
        t.blocks_hit_by_tag = [0; MAX_TAGS];
        t.hit_records = 0;
        t.blocks_hit = 0;
    });
    ARMED.store(true, Ordering::SeqCst);
}

/// Stops counting and scanning and returns what was seen since [`arm`].
pub fn disarm() -> Report {
    ARMED.store(false, Ordering::SeqCst);
    with_table(|t| Report {
        allocations: ALLOCATIONS.load(Ordering::SeqCst),
        allocated_bytes: ALLOCATED_BYTES.load(Ordering::SeqCst),
        frees: FREES.load(Ordering::SeqCst),
        blocks_hit: t.blocks_hit,
        peak_live_bytes: u64::try_from(PEAK.load(Ordering::SeqCst)).unwrap_or(0),
        blocks_hit_by_tag: t.blocks_hit_by_tag,
        hits: t.hits,
        hit_records: t.hit_records,
    })
}

/// Scans `block` for every needle; counts the block once per tag found. Never allocates.
fn scan(block: &[u8], realloc: bool) {
    with_table(|t| {
        if t.len == 0 || block.len() < NEEDLE_LEN {
            return;
        }
        let mut found = [false; MAX_TAGS];
        let mut first: Option<Hit> = None;
        for (offset, window) in block.windows(NEEDLE_LEN).enumerate() {
            let Some(&b) = window.first() else { continue };
            let mut link = t.heads.get(usize::from(b)).copied().unwrap_or(0);
            while let Some(i) = usize::from(link).checked_sub(1) {
                if t.needles.get(i).is_some_and(|n| n.as_slice() == window) {
                    let tag = t.tags.get(i).copied().unwrap_or(0);
                    if let Some(f) = found.get_mut(usize::from(tag)) {
                        *f = true;
                    }
                    first.get_or_insert(Hit {
                        tag,
                        block_size: block.len(),
                        offset,
                        realloc,
                    });
                }
                link = t.next.get(i).copied().unwrap_or(0);
            }
        }
        let Some(hit) = first else { return };
        t.blocks_hit += 1;
        for (count, f) in t.blocks_hit_by_tag.iter_mut().zip(found) {
            *count += u64::from(f);
        }
        if let Some(slot) = t.hits.get_mut(t.hit_records) {
            *slot = hit;
            t.hit_records += 1;
        }
    });
}

fn count_allocation(size: usize) {
    if ARMED.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(size as u64, Ordering::Relaxed);
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let live = LIVE.fetch_add(size, Ordering::Relaxed).saturating_add(size);
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

/// Scans (if armed) and scrubs (if asked) a block about to be freed.
///
/// # Safety
/// `ptr` must be valid for reads and writes of `size` bytes and not used by anyone else.
unsafe fn inspect_freed(ptr: *mut u8, size: usize, realloc: bool) {
    let armed = ARMED.load(Ordering::Relaxed);
    if armed {
        FREES.fetch_add(1, Ordering::Relaxed);
        LIVE.fetch_sub(i64::try_from(size).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
    if armed || SCRUB.load(Ordering::Relaxed) {
        // SAFETY: the caller guarantees `ptr` is valid for `size` bytes and exclusively ours
        // (a block being freed); the slice is dropped before the block is released.
        let block = unsafe { core::slice::from_raw_parts_mut(ptr, size) };
        if armed {
            scan(block, realloc);
        }
        if SCRUB.load(Ordering::Relaxed) {
            // Volatile-free zeroing is fine: the block is handed to `System` right after, and
            // the only purpose is that a later measurement never sees these bytes again.
            block.fill(0);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's layout, so the `GlobalAlloc`
// contract holds as it does for `System`; the extra work reads and writes only blocks the caller
// owns and never allocates (no re-entrancy into the allocator).
unsafe impl GlobalAlloc for ScanningAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` is a live block of `layout`, now given up.
        unsafe { inspect_freed(ptr, layout.size(), false) };
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation(new_size);
        // SAFETY: the caller guarantees `new_size`, rounded up to `layout.align()`, does not
        // overflow `isize` and is non-zero, so this layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has non-zero size (the caller's `realloc` contract).
        let new = unsafe { System.alloc(new_layout) };
        if new.is_null() {
            return new;
        }
        // SAFETY: `ptr` is valid for `layout.size()` bytes, `new` for `new_size`; they are
        // distinct blocks, so the copy of the shorter length does not overlap.
        unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        // SAFETY: the old block is live with `layout` and, moved from, is now given up.
        unsafe { inspect_freed(ptr, layout.size(), true) };
        // SAFETY: `ptr` was allocated by `System` (every block here is) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        new
    }
}
