//! The stall watch: how long each partition had acknowledged records that
//! no consumer had read, while nothing at all was read from it.
//!
//! Pure bookkeeping over instants the caller passes, so it is tested
//! without clocks or clusters. Producers report acks, consumers report
//! reads, a ticker calls [`StallWatch::tick`].

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Per-partition progress.
#[derive(Debug, Clone, Copy, Default)]
struct Partition {
    /// Highest acknowledged offset.
    acked_max: Option<i64>,
    /// Highest offset read.
    read_max: Option<i64>,
    /// When the last new offset was read.
    last_read: Option<Instant>,
    /// Since when acknowledged records have been waiting unread.
    waiting_since: Option<Instant>,
    /// Longest wait without a read so far.
    longest: Duration,
}

impl Partition {
    fn outstanding(&self) -> bool {
        match (self.acked_max, self.read_max) {
            (Some(acked), Some(read)) => acked > read,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Tracks stalls of every partition.
#[derive(Debug, Default)]
pub struct StallWatch {
    partitions: BTreeMap<i32, Partition>,
}

impl StallWatch {
    /// A record acknowledged at `offset` of `partition`, at `now`.
    pub fn acked(&mut self, partition: i32, offset: i64, now: Instant) {
        let p = self.partitions.entry(partition).or_default();
        p.acked_max = Some(p.acked_max.map_or(offset, |m| m.max(offset)));
        if p.outstanding() && p.waiting_since.is_none() {
            p.waiting_since = Some(now);
        }
    }

    /// A record read at `offset` of `partition`, at `now`.
    pub fn read(&mut self, partition: i32, offset: i64, now: Instant) {
        let p = self.partitions.entry(partition).or_default();
        if p.read_max.is_some_and(|m| m >= offset) {
            return;
        }
        if let Some(since) = p.waiting_since {
            p.longest = p.longest.max(now.saturating_duration_since(since));
        }
        p.read_max = Some(offset);
        p.last_read = Some(now);
        p.waiting_since = if p.outstanding() { Some(now) } else { None };
    }

    /// Updates the longest stalls as of `now`.
    pub fn tick(&mut self, now: Instant) {
        for p in self.partitions.values_mut() {
            if let Some(since) = p.waiting_since {
                let start = p.last_read.map_or(since, |read| read.max(since));
                p.longest = p.longest.max(now.saturating_duration_since(start));
            }
        }
    }

    /// The current stall of the worst partition as of `now`.
    pub fn current_worst(&self, now: Instant) -> Duration {
        self.partitions
            .values()
            .filter_map(|p| p.waiting_since.map(|s| now.saturating_duration_since(s)))
            .max()
            .unwrap_or_default()
    }

    /// The longest stall of each partition seen.
    pub fn longest(&self) -> BTreeMap<i32, Duration> {
        self.partitions
            .iter()
            .map(|(id, p)| (*id, p.longest))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stall_lasts_from_the_ack_or_the_last_read_until_the_next_read() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut w = StallWatch::default();
        w.acked(0, 0, s(0));
        w.tick(s(2));
        w.read(0, 0, s(3));
        // The wait ended with the read at 3 s; caught up, idle time does
        // not count.
        w.tick(s(50));
        assert_eq!(w.longest()[&0], Duration::from_secs(3));
        w.acked(0, 1, s(60));
        w.acked(0, 2, s(61));
        w.read(0, 1, s(70));
        // Offset 2 still waits; the clock restarts at the read of 1, and the
        // 10 s wait before it counted even without a tick.
        assert_eq!(w.longest()[&0], Duration::from_secs(10));
        w.tick(s(75));
        assert_eq!(w.current_worst(s(75)), Duration::from_secs(5));
        w.tick(s(90));
        assert_eq!(w.longest()[&0], Duration::from_secs(20));
        w.read(0, 2, s(91));
        w.tick(s(200));
        assert_eq!(w.longest()[&0], Duration::from_secs(21));
        assert_eq!(w.current_worst(s(200)), Duration::ZERO);
    }

    #[test]
    fn rereading_old_offsets_is_no_progress() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut w = StallWatch::default();
        w.acked(1, 5, s(0));
        w.read(1, 3, s(1));
        w.read(1, 2, s(9));
        w.tick(s(10));
        assert_eq!(w.longest()[&1], Duration::from_secs(9));
    }
}
