//! One progress line per second on stderr while a run goes on, so stdout
//! keeps only the summary.

use std::time::Duration;

use crate::clock::{Plan, secs};
use crate::stats::{LiveStats, Progress};

/// How often the watcher checks whether the run is over.
const TICK: Duration = Duration::from_millis(50);
const SECOND_NS: u64 = 1_000_000_000;

/// Prints a line per second for each side until `done` returns true.
pub fn watch(plan: &Plan, sides: &[(&str, &LiveStats)], mut done: impl FnMut() -> bool) {
    let mut last: Vec<Progress> = sides.iter().map(|(_, s)| s.progress()).collect();
    let mut last_ns = plan.clock.now_ns();
    let mut next_ns = SECOND_NS;
    while !done() {
        std::thread::sleep(TICK);
        let now = plan.clock.now_ns();
        if now < next_ns {
            continue;
        }
        next_ns = (now / SECOND_NS + 1) * SECOND_NS;
        let current: Vec<Progress> = sides.iter().map(|(_, s)| s.progress()).collect();
        // The phase the interval started in.
        let phase = if last_ns < plan.measure_from_ns {
            Phase::Warmup
        } else if last_ns < plan.end_ns {
            Phase::Measuring
        } else {
            Phase::Draining
        };
        let rows: Vec<Row<'_>> = sides
            .iter()
            .zip(current.iter().zip(&last))
            .map(|((label, _), (cur, prev))| Row::between(label, prev, cur, now - last_ns))
            .collect();
        eprintln!("{}", format_line(secs(now), phase, &rows));
        last = current;
        last_ns = now;
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the measured window.
    Warmup,
    /// In the measured window.
    Measuring,
    /// After sending stopped: waiting for the last acks or records.
    Draining,
}

/// One side's numbers over the last interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'a> {
    /// `produce` or `consume`.
    pub label: &'a str,
    /// Records per second.
    pub records_per_sec: f64,
    /// 10^6 bytes per second.
    pub mb_per_sec: f64,
    /// p99 latency of the window so far, in ms.
    pub p99_ms: Option<f64>,
}

impl<'a> Row<'a> {
    /// Rates between two readings `span_ns` apart.
    pub fn between(label: &'a str, prev: &Progress, cur: &Progress, span_ns: u64) -> Self {
        let s = secs(span_ns.max(1));
        Self {
            label,
            records_per_sec: cur.records.saturating_sub(prev.records) as f64 / s,
            mb_per_sec: cur.bytes.saturating_sub(prev.bytes) as f64 / s / 1e6,
            p99_ms: cur.p99_us.map(|us| us as f64 / 1_000.0),
        }
    }
}

/// `  3.0s  produce 10000 rec/s 10.24 MB/s p99 4.123 ms | …  [warm-up]`.
pub fn format_line(elapsed_s: f64, phase: Phase, rows: &[Row<'_>]) -> String {
    let sides: Vec<String> = rows
        .iter()
        .map(|r| {
            let p99 = r.p99_ms.map_or("-".to_string(), |ms| format!("{ms:.3} ms"));
            format!(
                "{} {:>9.0} rec/s {:>8.2} MB/s p99 {}",
                r.label, r.records_per_sec, r.mb_per_sec, p99
            )
        })
        .collect();
    let tag = match phase {
        Phase::Warmup => "  [warm-up]",
        Phase::Measuring => "",
        Phase::Draining => "  [draining]",
    };
    format!("{elapsed_s:>6.1}s  {}{tag}", sides.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_over_the_interval() {
        let prev = Progress {
            records: 1_000,
            bytes: 1_024_000,
            p99_us: None,
        };
        let cur = Progress {
            records: 6_000,
            bytes: 6_144_000,
            p99_us: Some(4_123),
        };
        let r = Row::between("produce", &prev, &cur, 500_000_000);
        assert_eq!(r.records_per_sec, 10_000.0);
        assert_eq!(r.mb_per_sec, 10.24);
        assert_eq!(r.p99_ms, Some(4.123));
    }

    #[test]
    fn line_shows_each_side_and_the_phase() {
        let rows = [
            Row {
                label: "produce",
                records_per_sec: 10_000.0,
                mb_per_sec: 10.24,
                p99_ms: Some(4.123),
            },
            Row {
                label: "consume",
                records_per_sec: 9_999.6,
                mb_per_sec: 10.2,
                p99_ms: None,
            },
        ];
        let line = format_line(3.0, Phase::Warmup, &rows);
        assert_eq!(
            line,
            "   3.0s  produce     10000 rec/s    10.24 MB/s p99 4.123 ms | \
             consume     10000 rec/s    10.20 MB/s p99 -  [warm-up]"
        );
        assert!(!format_line(4.0, Phase::Measuring, &rows).contains('['));
    }
}
