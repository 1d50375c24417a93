//! Time-based retention (`retention.ms`): every interval, each partition's
//! index rows whose records are all older than the topic's retention go,
//! from the log start up to the first row that is not, and the log start
//! offset advances past them, as Kafka deletes whole old segments. Their
//! segments become candidates of the segment collector, which deletes the
//! objects once nothing points at them.
//!
//! Each agent handles the partitions rendezvous hashing gives it among the
//! live agents, so a pass costs one metadata transaction per partition for
//! the whole cluster; while membership changes a partition may be handled
//! twice or skipped once, which is harmless.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::{MetadataStore, Topic};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::periodic;
use crate::cluster::registry::Registry;
use crate::cluster::routing::{partition_key, pick};
use crate::configs::BrokerConfigs;

/// The topic config key, as Kafka names it.
const RETENTION_MS: &str = "retention.ms";
/// The broker config that is its default.
const LOG_RETENTION_MS: &str = "log.retention.ms";

/// How retention runs.
#[derive(Debug, Clone, Copy)]
pub struct RetentionSettings {
    /// Time between passes (Kafka's `log.retention.check.interval.ms`).
    pub interval: Duration,
    /// Wall clock in ms since the epoch (record timestamps are compared
    /// with it).
    pub now_ms: fn() -> i64,
}

/// Runs passes every `settings.interval` until `stop`.
/// The retention of topics that set none of their own comes from
/// `broker`'s `log.retention.ms` (dynamic or static), read each pass.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    registry: Arc<Registry>,
    broker: Arc<BrokerConfigs>,
    settings: RetentionSettings,
    stop: CancellationToken,
) {
    let mut ticks = periodic::Ticks::new(settings.interval);
    while ticks.next(&stop).await {
        let default_ms = default_retention_ms(&broker);
        let run = apply_all(&*store, &registry, settings, default_ms, &stop);
        periodic::pass("retention", run).await;
    }
}

/// The broker's `log.retention.ms`, negative (keep everything) if unreadable.
fn default_retention_ms(broker: &BrokerConfigs) -> i64 {
    let value = broker
        .dynamic_value(LOG_RETENTION_MS)
        .or_else(|| broker.get(LOG_RETENTION_MS).and_then(|e| e.value.clone()));
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

/// The retention of `topic` in ms, negative for none.
fn retention_ms(topic: &Topic, default_ms: i64) -> i64 {
    match topic
        .config
        .get(RETENTION_MS)
        .map(|v| v.trim().parse::<i64>())
    {
        Some(Ok(ms)) => ms,
        Some(Err(_)) => {
            warn!(topic = %topic.name, "unreadable retention.ms; keeping every record");
            -1
        }
        None => default_ms,
    }
}

async fn apply_all(
    store: &dyn MetadataStore,
    registry: &Registry,
    settings: RetentionSettings,
    default_ms: i64,
    stop: &CancellationToken,
) -> crate::error::Result<()> {
    let topics = store.list_topics().await?;
    let me = registry.me().node_id;
    let live = registry.live();
    let agents: Vec<_> = live.iter().collect();
    for topic in topics {
        let retention = retention_ms(&topic, default_ms);
        if retention < 0 {
            continue;
        }
        let cutoff = (settings.now_ms)().saturating_sub(retention);
        for partition in 0..topic.partitions {
            if stop.is_cancelled() {
                return Ok(());
            }
            let key = partition_key(topic.id, partition);
            if pick(&agents, &key).map(|a| a.node_id) != Some(me) {
                continue;
            }
            let start = store.apply_retention(topic.id, partition, cutoff).await?;
            debug!(topic = %topic.name, partition, log_start = ?start, "retention applied");
        }
    }
    Ok(())
}
