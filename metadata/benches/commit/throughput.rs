//! The throughput cases: commits per second of 10-partition segments with
//! 1, 4 and 16 concurrent committers spread over up to 4 stores, on the
//! same partitions every time (`hot`) or on random ones (`spread`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use floe_metadata::{MetadataStore, Topic};
use hdrhistogram::Histogram;

use crate::cases::{Backend, Scenario};
use crate::committers::{self, COMMITTERS};
use crate::options::Options;
use crate::random::Spread;
use crate::results::{Results, ThroughputRun};
use crate::workload::{create_topic, ensure_appended, segment};

/// Partitions touched by each throughput commit.
pub const THROUGHPUT_PARTITIONS: usize = 10;
/// Partitions of the topic the `spread` commits pick from.
pub const SPREAD_TOPIC_PARTITIONS: i32 = 1_000;

/// Runs every throughput case once over `stores` (handles on one fresh
/// database) and adds the runs to `results`.
pub async fn run_cases(
    backend: Backend,
    stores: &[Arc<dyn MetadataStore>],
    options: &Options,
    results: &mut Results,
) -> Result<()> {
    let store = &*stores[0];
    let hot = create_topic(store, "hot", THROUGHPUT_PARTITIONS as i32).await?;
    let spread = create_topic(store, "spread", SPREAD_TOPIC_PARTITIONS).await?;
    for scenario in [Scenario::Hot, Scenario::Spread] {
        let topic = match scenario {
            Scenario::Hot => &hot,
            Scenario::Spread => &spread,
        };
        for committers in COMMITTERS {
            let used = &stores[..committers.min(stores.len())];
            let measure = Duration::from_secs_f64(options.seconds);
            let histogram = throughput(used, topic, scenario, committers, measure).await?;
            let run = ThroughputRun::new(used.len(), &histogram, measure);
            eprintln!(
                "  {} throughput {} {committers:>2} committers: {:.0} commits/s",
                backend.name(),
                scenario.name(),
                run.per_second
            );
            results.add_throughput(backend, scenario, committers, run);
        }
    }
    Ok(())
}

/// Runs `committers` tasks committing 10-partition segments of `topic` as
/// fast as they can over `stores` (round robin) for a warm-up and then
/// `measure`; returns the latencies of the commits that completed within
/// `measure`.
async fn throughput(
    stores: &[Arc<dyn MetadataStore>],
    topic: &Topic,
    scenario: Scenario,
    committers: usize,
    measure: Duration,
) -> Result<Histogram<u64>> {
    committers::measure(committers, measure, |committer| {
        let store = Arc::clone(&stores[committer % stores.len()]);
        let topic = topic.clone();
        let mut random = Spread::new(committer as u64 + 1);
        move || {
            let partitions = match scenario {
                Scenario::Hot => (0..topic.partitions).collect(),
                Scenario::Spread => random.partitions(THROUGHPUT_PARTITIONS, topic.partitions),
            };
            let commit = segment(topic.id, partitions, None);
            let store = Arc::clone(&store);
            async move {
                let outcomes = store.commit_segment(&commit).await?;
                ensure_appended(&outcomes)
            }
        }
    })
    .await
}
