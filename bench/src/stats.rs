//! Counters and the latency histogram that bench threads update while a
//! run goes on, and the progress reporter reads every second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use hdrhistogram::Histogram;

/// Highest latency the histogram tells apart: one hour, in microseconds.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Live statistics of one side (producers or consumer) of a run.
#[derive(Debug)]
pub struct LiveStats {
    /// Records seen, warm-up included (progress, e2e drain).
    total_records: AtomicU64,
    /// Bytes seen, warm-up included.
    total_bytes: AtomicU64,
    /// Records inside the measured window.
    records: AtomicU64,
    /// Bytes (key + value) inside the measured window.
    bytes: AtomicU64,
    /// Bench-clock time of the last record counted in the window.
    last_ns: AtomicU64,
    /// Records that failed (delivery errors).
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// Latencies in microseconds of the records in the window.
    latency: Mutex<Histogram<u64>>,
}

impl Default for LiveStats {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveStats {
    /// Empty statistics.
    pub fn new() -> Self {
        // Constant bounds, valid for `new_with_bounds`: this cannot fail.
        #[allow(clippy::expect_used)]
        let histogram = Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
            .expect("constant histogram bounds are valid");
        Self {
            total_records: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
            records: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            first_error: Mutex::new(None),
            latency: Mutex::new(histogram),
        }
    }

    /// Counts a record of `bytes` seen at `now_ns`; `measured` tells whether
    /// it belongs to the measured window, `latency_us` is its latency if
    /// one applies.
    pub fn record(&self, bytes: u64, now_ns: u64, measured: bool, latency_us: Option<u64>) {
        self.total_records.fetch_add(1, Ordering::Relaxed);
        self.total_bytes.fetch_add(bytes, Ordering::Relaxed);
        if !measured {
            return;
        }
        self.records.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.last_ns.fetch_max(now_ns, Ordering::Relaxed);
        if let Some(us) = latency_us {
            self.histogram().saturating_record(us.max(1));
        }
    }

    /// Counts a failed record.
    pub fn fail(&self, error: impl FnOnce() -> String) {
        if self.failed.fetch_add(1, Ordering::Relaxed) == 0 {
            let mut first = self
                .first_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            first.get_or_insert_with(error);
        }
    }

    /// Records seen so far, warm-up included.
    pub fn total_records(&self) -> u64 {
        self.total_records.load(Ordering::Relaxed)
    }

    /// Records that failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The first failure, if any.
    pub fn first_error(&self) -> Option<String> {
        self.first_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Counters for a progress line.
    pub fn progress(&self) -> Progress {
        Progress {
            records: self.total_records(),
            bytes: self.total_bytes.load(Ordering::Relaxed),
            p99_us: {
                let h = self.histogram();
                (!h.is_empty()).then(|| h.value_at_quantile(0.99))
            },
        }
    }

    /// The final counts of the measured window.
    pub fn finish(&self) -> Totals {
        Totals {
            records: self.records.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            last_ns: self.last_ns.load(Ordering::Relaxed),
            failed: self.failed(),
            latency: self.histogram().clone(),
        }
    }

    fn histogram(&self) -> MutexGuard<'_, Histogram<u64>> {
        self.latency.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a progress line shows of one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Records so far, warm-up included.
    pub records: u64,
    /// Bytes so far, warm-up included.
    pub bytes: u64,
    /// p99 latency of the measured records so far, in µs.
    pub p99_us: Option<u64>,
}

/// Final counts of the measured window of one side.
#[derive(Debug, Clone)]
pub struct Totals {
    /// Records in the window.
    pub records: u64,
    /// Bytes (key + value) in the window.
    pub bytes: u64,
    /// Bench-clock time of the last record in the window.
    pub last_ns: u64,
    /// Records that failed.
    pub failed: u64,
    /// Latencies in µs.
    pub latency: Histogram<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_measured_records_reach_the_totals() {
        let s = LiveStats::new();
        s.record(100, 5, false, Some(1_000));
        s.record(200, 9, true, Some(2_000));
        s.record(300, 7, true, None);
        let p = s.progress();
        assert_eq!((p.records, p.bytes), (3, 600));
        let t = s.finish();
        assert_eq!((t.records, t.bytes, t.last_ns), (2, 500, 9));
        assert_eq!(t.latency.len(), 1);
        assert_eq!(p.p99_us.map(|v| v / 10), Some(200));
    }

    #[test]
    fn keeps_the_first_error() {
        let s = LiveStats::new();
        s.fail(|| "first".to_string());
        s.fail(|| "second".to_string());
        assert_eq!(s.failed(), 2);
        assert_eq!(s.first_error().as_deref(), Some("first"));
    }
}
