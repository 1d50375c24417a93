//! What each run of each case measured, kept until the report takes the
//! medians.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::cases::{Backend, Scenario};
use crate::stats::millis;

/// One run of a latency case, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct LatencyRun {
    pub commits: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl LatencyRun {
    /// The run of `commits` measured commits whose latencies (in
    /// microseconds) are in `histogram`.
    pub fn new(commits: usize, histogram: &Histogram<u64>) -> LatencyRun {
        LatencyRun {
            commits,
            p50: millis(histogram.value_at_quantile(0.5)),
            p99: millis(histogram.value_at_quantile(0.99)),
            max: millis(histogram.max()),
        }
    }
}

/// One run of a throughput case.
#[derive(Debug, Clone, Copy)]
pub struct ThroughputRun {
    pub stores: usize,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
}

impl ThroughputRun {
    /// The run over `stores` stores (or pools) whose commits completed in
    /// the `measure` window have their latencies in `histogram`.
    pub fn new(stores: usize, histogram: &Histogram<u64>, measure: Duration) -> ThroughputRun {
        ThroughputRun {
            stores,
            per_second: histogram.len() as f64 / measure.as_secs_f64(),
            p50: millis(histogram.value_at_quantile(0.5)),
            p99: millis(histogram.value_at_quantile(0.99)),
        }
    }
}

/// Every run of every case, by (backend, partitions, idempotent) and
/// (backend, scenario, committers).
#[derive(Debug, Default)]
pub struct Results {
    pub latency: BTreeMap<(Backend, i32, bool), Vec<LatencyRun>>,
    pub throughput: BTreeMap<(Backend, Scenario, usize), Vec<ThroughputRun>>,
}

impl Results {
    pub fn add_latency(
        &mut self,
        backend: Backend,
        partitions: i32,
        idempotent: bool,
        run: LatencyRun,
    ) {
        self.latency
            .entry((backend, partitions, idempotent))
            .or_default()
            .push(run);
    }

    pub fn add_throughput(
        &mut self,
        backend: Backend,
        scenario: Scenario,
        committers: usize,
        run: ThroughputRun,
    ) {
        self.throughput
            .entry((backend, scenario, committers))
            .or_default()
            .push(run);
    }
}
