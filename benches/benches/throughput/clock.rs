//! The clock of every benchmark: by default the benchmark thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), so that other processes on a shared machine, which take the
//! CPU away from the benchmark, do not inflate its figures; for this single-threaded,
//! CPU-bound code it equals wall time on an idle machine. `BENCH_CLOCK=wall` measures wall
//! time instead (criterion's usual clock).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::Criterion;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use rustix::time::{ClockId, clock_gettime};

/// Whether `BENCH_CLOCK=wall` was asked for (read once).
fn wall() -> bool {
    static WALL: OnceLock<bool> = OnceLock::new();
    *WALL.get_or_init(|| std::env::var("BENCH_CLOCK").is_ok_and(|v| v == "wall"))
}

/// The clock's name, for the run's log.
pub(crate) fn name() -> &'static str {
    if wall() {
        "wall time"
    } else {
        "thread CPU time"
    }
}

/// Criterion on this clock with the given warm-up and measurement times, without plots (the
/// report draws its own chart); every bench binary starts from it.
pub(crate) fn criterion(warm_up: Duration, measurement: Duration) -> Criterion<Clock> {
    eprintln!("clock: {}", name());
    Criterion::default()
        .with_measurement(Clock::new())
        .warm_up_time(warm_up)
        .measurement_time(measurement)
        .without_plots()
}

/// A reading of the clock.
#[derive(Clone, Copy)]
pub(crate) enum Stamp {
    Cpu(Duration),
    Wall(Instant),
}

fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// Reads the clock.
pub(crate) fn now() -> Stamp {
    if wall() {
        Stamp::Wall(Instant::now())
    } else {
        Stamp::Cpu(thread_cpu())
    }
}

/// Time since `start`.
pub(crate) fn since(start: Stamp) -> Duration {
    match start {
        Stamp::Cpu(t0) => thread_cpu().saturating_sub(t0),
        Stamp::Wall(t0) => t0.elapsed(),
    }
}

/// The criterion measurement over this clock (values in ns, formatted as durations).
pub(crate) struct Clock {
    formatter: WallTime,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self {
            formatter: WallTime,
        }
    }
}

impl Measurement for Clock {
    type Intermediate = Stamp;
    type Value = Duration;

    fn start(&self) -> Stamp {
        now()
    }
    fn end(&self, start: Stamp) -> Duration {
        since(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.formatter.formatter()
    }
}
