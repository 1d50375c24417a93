//! The bench's time base: a monotonic instant tied to the wall clock once,
//! so times are plain `u64` nanoseconds (cheap to pass through librdkafka
//! as a delivery opaque) and send stamps are Unix microseconds that another
//! process can read.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Start of a run; every time in the bench is measured from it.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_unix_us: u64,
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Self {
        let start_unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        Self {
            start: Instant::now(),
            start_unix_us,
        }
    }

    /// Nanoseconds since the start.
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The Unix time in microseconds of `ns` after the start.
    pub fn unix_us_at(&self, ns: u64) -> u64 {
        self.start_unix_us.saturating_add(ns / 1_000)
    }

    /// Blocks until `ns` after the start (returns at once if it has passed).
    pub fn sleep_until(&self, ns: u64) {
        let now = self.now_ns();
        if ns > now {
            std::thread::sleep(Duration::from_nanos(ns - now));
        }
    }
}

/// Nanoseconds in a duration, saturating.
pub fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Seconds in a span of nanoseconds.
pub fn secs(ns: u64) -> f64 {
    // Precision of f64 is ample for spans of a bench.
    ns as f64 / 1e9
}

/// The phases of a run on its clock: warm-up from 0, the measured window
/// from `measure_from_ns` to `end_ns`.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The run's clock, started when the plan is made.
    pub clock: Clock,
    /// Start of the measured window.
    pub measure_from_ns: u64,
    /// End of sending (and of the window).
    pub end_ns: u64,
}

impl Plan {
    /// A plan starting now.
    pub fn start(warmup: Duration, measured: Duration) -> Self {
        let measure_from_ns = ns(warmup);
        Self {
            clock: Clock::start(),
            measure_from_ns,
            end_ns: measure_from_ns.saturating_add(ns(measured)),
        }
    }

    /// Whether `t_ns` falls in the measured window.
    pub fn in_window(&self, t_ns: u64) -> bool {
        (self.measure_from_ns..self.end_ns).contains(&t_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_follows_the_warm_up() {
        let p = Plan::start(Duration::from_secs(2), Duration::from_millis(500));
        assert_eq!(
            (p.measure_from_ns, p.end_ns),
            (2_000_000_000, 2_500_000_000)
        );
        assert!(!p.in_window(1_999_999_999));
        assert!(p.in_window(2_000_000_000));
        assert!(!p.in_window(2_500_000_000));
    }

    #[test]
    fn unix_time_follows_the_monotonic_clock() {
        let c = Clock::start();
        let base = c.unix_us_at(0);
        assert_eq!(c.unix_us_at(1_500_000), base + 1_500);
        let before = c.now_ns();
        c.sleep_until(before + 1_000_000);
        assert!(c.now_ns() >= before + 1_000_000);
    }
}
