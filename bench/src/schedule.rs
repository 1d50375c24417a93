//! Open-loop send schedule for `--rate`.
//!
//! The i-th record of a producer is due at `start + i / rate`, whatever
//! happened to the records before it. Latency is then measured from that
//! intended time: a producer held up by a stall sends late, and the wait
//! counts against the system, as it would for a real application whose
//! events keep arriving (no coordinated omission).

/// When each record of one producer is due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSchedule {
    start_ns: u64,
    interval_ns: f64,
}

impl RateSchedule {
    /// Records at `rate` per second from `start_ns`; `None` for a rate that
    /// is not a positive number.
    pub fn new(rate: f64, start_ns: u64) -> Option<Self> {
        (rate.is_finite() && rate > 0.0).then(|| Self {
            start_ns,
            interval_ns: 1e9 / rate,
        })
    }

    /// Each producer's share of a total rate.
    pub fn per_producer(total_rate: f64, producers: usize, start_ns: u64) -> Option<Self> {
        // Producer counts are small: the conversion is exact.
        Self::new(total_rate / producers.max(1) as f64, start_ns)
    }

    /// Intended send time of record `i`, in nanoseconds on the bench clock.
    pub fn due_ns(&self, i: u64) -> u64 {
        // Rounding to the nanosecond; computed from i, so no error builds up.
        let offset = (i as f64 * self.interval_ns).round();
        self.start_ns.saturating_add(offset as u64)
    }

    /// How many records are due before `end_ns` (records 0..n).
    pub fn due_before(&self, end_ns: u64) -> u64 {
        if end_ns <= self.start_ns {
            return 0;
        }
        let span = (end_ns - self.start_ns) as f64;
        let n = (span / self.interval_ns).ceil() as u64;
        // Correct the float estimate at the boundary.
        if n > 0 && self.due_ns(n - 1) >= end_ns {
            n - 1
        } else if self.due_ns(n) < end_ns {
            n + 1
        } else {
            n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_evenly_spaced_from_the_start() {
        let s = RateSchedule::new(1_000.0, 5_000).expect("valid rate");
        assert_eq!(s.due_ns(0), 5_000);
        assert_eq!(s.due_ns(1), 1_005_000);
        assert_eq!(s.due_ns(1_000), 1_000_005_000);
    }

    #[test]
    fn no_drift_over_many_records() {
        // 3 records per second: 1/3 s is not a whole number of ns.
        let s = RateSchedule::new(3.0, 0).expect("valid rate");
        assert_eq!(s.due_ns(3), 1_000_000_000);
        assert_eq!(s.due_ns(3_000_000), 1_000_000_000_000_000);
    }

    #[test]
    fn rate_is_split_between_producers() {
        let s = RateSchedule::per_producer(10_000.0, 4, 0).expect("valid rate");
        assert_eq!(s.due_ns(1), 400_000);
        assert_eq!(s.due_before(1_000_000_000), 2_500);
    }

    #[test]
    fn counts_records_due_in_a_window() {
        let s = RateSchedule::new(10.0, 0).expect("valid rate");
        assert_eq!(s.due_before(0), 0);
        assert_eq!(s.due_before(1), 1);
        assert_eq!(s.due_before(100_000_000), 1);
        assert_eq!(s.due_before(100_000_001), 2);
        assert_eq!(s.due_before(1_000_000_000), 10);
    }

    #[test]
    fn rejects_non_positive_rates() {
        assert!(RateSchedule::new(0.0, 0).is_none());
        assert!(RateSchedule::new(-1.0, 0).is_none());
        assert!(RateSchedule::new(f64::NAN, 0).is_none());
    }
}
