//! The summary of a run: latency percentiles from the HDR histogram,
//! throughput, and the text and JSON forms printed at the end.

use std::io::Write;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::agent_metrics::AgentCost;
use crate::clock::secs;
use crate::stats::Totals;
use crate::{BenchArgs, BenchError};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct LatencySummary {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Highest value recorded.
    pub max: f64,
    /// Latencies recorded (0: this mode measures none).
    pub count: u64,
}

impl LatencySummary {
    /// Percentiles of a histogram of microseconds.
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| round3(us as f64 / 1_000.0);
        Self {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            count: h.len(),
        }
    }
}

/// Throughput and latency of one side of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Records in the measured window.
    pub records: u64,
    /// Key and value bytes of those records.
    pub bytes: u64,
    /// Length of the window: from its start to the last record counted.
    pub seconds: f64,
    /// `records / seconds`.
    pub records_per_sec: f64,
    /// `bytes / seconds / 10^6`.
    pub mb_per_sec: f64,
    /// Latency percentiles.
    pub latency_ms: LatencySummary,
}

impl Side {
    /// The side's numbers for a window that started at `window_start_ns`;
    /// `end_ns` is the window's end if no record was counted.
    pub fn from_totals(t: &Totals, window_start_ns: u64, end_ns: u64) -> Self {
        let end = if t.records > 0 { t.last_ns } else { end_ns };
        let seconds = secs(end.saturating_sub(window_start_ns));
        let per_sec = |v: u64| {
            if seconds > 0.0 {
                v as f64 / seconds
            } else {
                0.0
            }
        };
        Self {
            records: t.records,
            bytes: t.bytes,
            seconds: round3(seconds),
            records_per_sec: round3(per_sec(t.records)),
            mb_per_sec: round3(per_sec(t.bytes) / 1e6),
            latency_ms: LatencySummary::from_histogram(&t.latency),
        }
    }
}

/// The flags of a run, repeated in its JSON so results explain themselves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunConfig {
    /// `--record-size`.
    pub record_size: usize,
    /// `--duration` in seconds.
    pub duration: f64,
    /// `--warmup` in seconds.
    pub warmup: f64,
    /// `--rate` (records/s), if any.
    pub rate: Option<f64>,
    /// `--producers`.
    pub producers: usize,
    /// Partitions of the topic.
    pub partitions: usize,
    /// `--acks`.
    pub acks: &'static str,
    /// `--compression`.
    pub compression: &'static str,
    /// `--linger-ms`, if set.
    pub linger_ms: Option<u64>,
    /// `--batch-bytes`, if set.
    pub batch_bytes: Option<u64>,
    /// `--keys`, if set.
    pub keys: Option<u64>,
}

impl RunConfig {
    /// The flags of `args`, with the topic's actual partition count.
    pub fn new(args: &BenchArgs, partitions: usize) -> Self {
        Self {
            record_size: args.record_size,
            duration: args.duration,
            warmup: args.warmup,
            rate: args.rate,
            producers: args.producers,
            partitions,
            acks: args.acks.config_value(),
            compression: args.compression.config_value(),
            linger_ms: args.linger_ms,
            batch_bytes: args.batch_bytes,
            keys: args.keys,
        }
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// `produce`, `consume` or `e2e`.
    pub mode: &'static str,
    /// The topic.
    pub topic: String,
    /// The side that defines the mode: producers for produce, the consumer
    /// for consume and e2e.
    #[serde(flatten)]
    pub result: Side,
    /// What `latency_ms` measures.
    pub latency: &'static str,
    /// Records that failed delivery.
    pub failed: u64,
    /// With `--rate`: records due in the window that producers, running
    /// behind, never got to send.
    pub unsent: u64,
    /// e2e: the producers' side (latency from send to ack).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produce: Option<Side>,
    /// Cost ratios from the agent's metrics (`--agent-http`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentCost>,
    /// The flags of the run.
    pub config: RunConfig,
}

impl Summary {
    /// The human-readable summary.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} {}: {} records, {:.2} MB in {:.3} s\n",
            self.mode,
            self.topic,
            self.result.records,
            self.result.bytes as f64 / 1e6,
            self.result.seconds
        );
        out.push_str(&side_lines("", &self.result, self.latency));
        if let Some(p) = &self.produce {
            out.push_str(&format!(
                "  producers: {} records, {:.2} MB in {:.3} s\n",
                p.records,
                p.bytes as f64 / 1e6,
                p.seconds
            ));
            out.push_str(&side_lines("  ", p, "send to ack"));
        }
        if self.failed > 0 {
            out.push_str(&format!("  FAILED deliveries: {}\n", self.failed));
        }
        if self.unsent > 0 {
            out.push_str(&format!(
                "  behind schedule: {} records due in the window were never sent\n",
                self.unsent
            ));
        }
        if let Some(a) = &self.agent {
            out.push_str(&a.to_text());
        }
        out
    }
}

fn side_lines(indent: &str, s: &Side, latency: &str) -> String {
    let mut out = format!(
        "{indent}  throughput: {:.1} records/s, {:.2} MB/s\n",
        s.records_per_sec, s.mb_per_sec
    );
    let l = &s.latency_ms;
    if l.count > 0 {
        out.push_str(&format!(
            "{indent}  latency ({latency}, ms): p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}\n",
            l.p50, l.p90, l.p99, l.p999, l.max
        ));
    }
    out
}

/// Prints the summary: text on stdout, or with `json` text on stderr and
/// the JSON object as the last line of stdout.
pub fn print(summary: &Summary, json: bool) -> Result<(), BenchError> {
    let text = summary.to_text();
    if json {
        eprint!("{text}");
        let line = serde_json::to_string(summary)?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    } else {
        let mut out = std::io::stdout().lock();
        write!(out, "{text}")?;
        out.flush()?;
    }
    Ok(())
}

/// Rounds to three decimals, enough for ms latencies and MB/s.
pub fn round3(v: f64) -> f64 {
    (v * 1_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent_metrics::AgentCost;

    fn histogram(values_us: &[u64]) -> Histogram<u64> {
        let mut h = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("bounds");
        for v in values_us {
            h.record(*v).expect("in range");
        }
        h
    }

    fn sample_summary(agent: Option<AgentCost>) -> Summary {
        let totals = Totals {
            records: 20_000,
            bytes: 20_480_000,
            last_ns: 3_000_000_000,
            failed: 0,
            latency: histogram(&(1..=1000).collect::<Vec<_>>()),
        };
        Summary {
            mode: "produce",
            topic: "b1".to_string(),
            result: Side::from_totals(&totals, 1_000_000_000, 3_000_000_000),
            latency: "send to ack",
            failed: 0,
            unsent: 0,
            produce: None,
            agent,
            config: RunConfig {
                record_size: 1024,
                duration: 2.0,
                warmup: 1.0,
                rate: Some(10_000.0),
                producers: 1,
                partitions: 4,
                acks: "all",
                compression: "none",
                linger_ms: None,
                batch_bytes: None,
                keys: None,
            },
        }
    }

    #[test]
    fn percentiles_are_in_milliseconds() {
        let l = LatencySummary::from_histogram(&histogram(&(1..=10_000).collect::<Vec<_>>()));
        assert_eq!(l.count, 10_000);
        assert!((l.p50 - 5.0).abs() < 0.01, "{l:?}");
        assert!((l.p90 - 9.0).abs() < 0.01, "{l:?}");
        assert!((l.p99 - 9.9).abs() < 0.01, "{l:?}");
        assert!((l.p999 - 9.99).abs() < 0.01, "{l:?}");
        assert!((l.max - 10.0).abs() < 0.01, "{l:?}");
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(
            LatencySummary::from_histogram(&histogram(&[])),
            LatencySummary::default()
        );
    }

    #[test]
    fn throughput_uses_the_window_up_to_the_last_record() {
        let s = sample_summary(None);
        assert_eq!(s.result.seconds, 2.0);
        assert_eq!(s.result.records_per_sec, 10_000.0);
        assert_eq!(s.result.mb_per_sec, 10.24);
    }

    #[test]
    fn window_without_records_spans_to_its_end() {
        let t = Totals {
            records: 0,
            bytes: 0,
            last_ns: 0,
            failed: 0,
            latency: histogram(&[]),
        };
        let s = Side::from_totals(&t, 0, 5_000_000_000);
        assert_eq!(
            (s.seconds, s.records_per_sec, s.mb_per_sec),
            (5.0, 0.0, 0.0)
        );
    }

    #[test]
    fn json_has_the_fields_scripts_read() {
        let v = serde_json::to_value(sample_summary(None)).expect("serializes");
        for key in [
            "records",
            "bytes",
            "seconds",
            "records_per_sec",
            "mb_per_sec",
        ] {
            assert!(v[key].is_number(), "{key} in {v}");
        }
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_ms"][key].is_number(), "latency_ms.{key} in {v}");
        }
        assert_eq!(v["mode"], "produce");
        assert_eq!(v["config"]["partitions"], 4);
        assert!(v.get("agent").is_none());
        assert!(v.get("produce").is_none());
        let line = serde_json::to_string(&sample_summary(None)).expect("serializes");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn json_carries_agent_cost_when_scraped() {
        let cost = AgentCost {
            produce_bytes: 1 << 30,
            fetch_bytes: 0,
            puts: 12,
            gets: 0,
            cpu_seconds: Some(4.0),
            puts_per_gib: Some(12.0),
            gets_per_gib: None,
            mib_per_cpu_second: Some(256.0),
            served_mib_per_cpu_second: None,
        };
        let v = serde_json::to_value(sample_summary(Some(cost))).expect("serializes");
        assert_eq!(v["agent"]["puts_per_gib"], 12.0);
        assert!(v["agent"]["gets_per_gib"].is_null());
        assert_eq!(v["agent"]["mib_per_cpu_second"], 256.0);
    }

    #[test]
    fn text_names_every_number() {
        let text = sample_summary(None).to_text();
        assert!(text.starts_with("produce b1: 20000 records, 20.48 MB in 2.000 s\n"));
        assert!(text.contains("10000.0 records/s, 10.24 MB/s"));
        assert!(text.contains("latency (send to ack, ms): p50 0.500"));
        assert!(!text.contains("FAILED"));
    }
}
