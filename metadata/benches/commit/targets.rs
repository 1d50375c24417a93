//! The targets of the issue, checked on the Postgres medians (plain
//! producer), with the hot-row reference beside the throughput target so
//! that a miss can be read against what the machine managed.

use std::fmt::Write as _;

use serde_json::Value;

use crate::cases::{Backend, Scenario};
use crate::results::{LatencyRun, Results};
use crate::stats::{median_of, round3};

const TARGET_P50_1_MS: f64 = 1.0;
const TARGET_P99_1000_MS: f64 = 20.0;
const TARGET_HOT_16_PER_S: f64 = 1_500.0;

/// Writes each target, its value and whether it was met; returns them for
/// the JSON line.
pub fn check(table: &mut String, results: &Results) -> Vec<Value> {
    let latency_of = |partitions: i32, quantile: fn(&LatencyRun) -> f64| {
        results
            .latency
            .get(&(Backend::Postgres, partitions, false))
            .map(|runs| median_of(runs, quantile))
    };
    let hot_16 = hot_16_per_second(results, Backend::Postgres);
    let targets = [
        (
            format!("postgres 1-partition commit p50 <= {TARGET_P50_1_MS} ms"),
            latency_of(1, |run| run.p50).map(|p50| (p50, p50 <= TARGET_P50_1_MS)),
        ),
        (
            format!("postgres 1,000-partition commit p99 <= {TARGET_P99_1000_MS} ms"),
            latency_of(1_000, |run| run.p99).map(|p99| (p99, p99 <= TARGET_P99_1000_MS)),
        ),
        (
            format!("postgres hot, 16 committers >= {TARGET_HOT_16_PER_S} commits/s"),
            hot_16.map(|rate| (rate, rate >= TARGET_HOT_16_PER_S)),
        ),
    ];
    let _ = writeln!(table, "\nTargets (plain producer, medians):");
    let mut rows = Vec::new();
    for (target, got) in targets {
        let (value, met) = match got {
            Some((value, met)) => (value, Some(met)),
            None => (f64::NAN, None),
        };
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        let _ = writeln!(table, "  {target}: {value:.3} ({verdict})");
        rows.push(serde_json::json!({
            "target": target, "value": round3(value), "met": met,
        }));
    }
    if let (Some(hot), Some(reference)) = (hot_16, hot_16_per_second(results, Backend::Reference)) {
        let _ = writeln!(
            table,
            "  (the smallest durable hot-row transaction reached {reference:.0}/s with 16 \
             committers during the runs: the hot case ran at {:.0}% of it)",
            100.0 * hot / reference
        );
    }
    rows
}

/// The median rate of `backend` in the `hot` case with 16 committers.
fn hot_16_per_second(results: &Results, backend: Backend) -> Option<f64> {
    results
        .throughput
        .get(&(backend, Scenario::Hot, 16))
        .map(|runs| median_of(runs, |run| run.per_second))
}
