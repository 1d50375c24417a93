//! The latency cases: sequential commits touching 1, 100 and 1,000
//! partitions, of a plain and of an idempotent producer, after a warm-up.

use std::time::Instant;

use anyhow::Result;
use floe_metadata::MetadataStore;
use hdrhistogram::Histogram;

use crate::cases::{Backend, producer_name};
use crate::options::Options;
use crate::results::{LatencyRun, Results};
use crate::stats::{histogram, micros};
use crate::workload::{SegmentSeries, create_topic, ensure_appended};

/// Partitions touched by each latency case.
const LATENCY_PARTITIONS: [i32; 3] = [1, 100, 1_000];

/// Runs every latency case once on `store` and adds the runs to `results`.
pub async fn run_cases(
    backend: Backend,
    store: &dyn MetadataStore,
    options: &Options,
    results: &mut Results,
) -> Result<()> {
    for partitions in LATENCY_PARTITIONS {
        for idempotent in [false, true] {
            let (warmup, commits) = commit_counts(backend, partitions, options.quick);
            let histogram = latency(store, partitions, idempotent, warmup, commits).await?;
            let run = LatencyRun::new(commits, &histogram);
            eprintln!(
                "  {} latency {partitions:>5} partitions {}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                backend.name(),
                producer_name(idempotent),
                run.p50,
                run.p99,
                run.max
            );
            results.add_latency(backend, partitions, idempotent, run);
        }
    }
    Ok(())
}

/// Warm-up and measured commits of a latency case. (SQLite's large
/// commits take a quarter of a second: fewer of them.)
fn commit_counts(backend: Backend, partitions: i32, quick: bool) -> (usize, usize) {
    let commits = match (backend, partitions) {
        (_, 1) => 2_000,
        (Backend::Sqlite, 100) => 200,
        (Backend::Sqlite, _) => 50,
        (_, 100) => 500,
        (_, _) => 200,
    };
    let commits = if quick { commits / 10 } else { commits };
    (commits / 10, commits)
}

/// Commits `warmup + commits` segments touching partitions
/// `0..partitions` of a new topic, one after the other, and returns the
/// latencies of the last `commits`.
async fn latency(
    store: &dyn MetadataStore,
    partitions: i32,
    idempotent: bool,
    warmup: usize,
    commits: usize,
) -> Result<Histogram<u64>> {
    let name = format!("latency-{partitions}-{}", producer_name(idempotent));
    let topic = create_topic(store, &name, partitions).await?;
    let producer_id = if idempotent {
        Some(store.init_producer_id(None).await?.producer_id)
    } else {
        None
    };
    let mut segments = SegmentSeries::new(&topic, producer_id);
    let mut histogram = histogram()?;
    for i in 0..warmup + commits {
        let commit = segments.next_segment()?;
        let start = Instant::now();
        let outcomes = store.commit_segment(&commit).await?;
        let elapsed = start.elapsed();
        ensure_appended(&outcomes)?;
        if i >= warmup {
            histogram.record(micros(elapsed))?;
        }
    }
    Ok(histogram)
}
