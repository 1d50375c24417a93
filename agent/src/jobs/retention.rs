//! Retention by time (`retention.ms`) and by size (`retention.bytes`, per
//! partition), as Kafka's log cleaner applies `cleanup.policy=delete`:
//! each pass, for every partition, the index rows from the log start go up
//! to the first row both limits keep (a row goes when either limit lets it
//! go), and the log start offset advances past them, as Kafka deletes whole
//! old segments. Their segments become candidates of the segment collector,
//! which deletes the objects once nothing points at them.
//!
//! Topics whose `cleanup.policy` is `compact` alone are left to the log
//! cleaner (`log_cleaner.rs`): as in Kafka, only `delete` (alone or with
//! `compact`) lets retention drop records.
//!
//! One agent at a time runs it, under the `retention` lease
//! (`leased.rs`); each store call deletes at most [`ROWS_PER_CALL`] rows
//! in its own short transaction, and a pass makes at most
//! [`CALLS_PER_PASS`] calls: a large backlog goes over several passes.

use std::sync::Arc;

use floe_metadata::{JobFence, MetadataStore, RetentionPolicy, Topic};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::leased::PassReport;
use crate::configs::{BrokerConfigs, CleanupPolicy};

/// The topic config keys, as Kafka names them.
const RETENTION_MS: &str = "retention.ms";
const RETENTION_BYTES: &str = "retention.bytes";
/// The broker configs that are their defaults.
const LOG_RETENTION_MS: &str = "log.retention.ms";
const LOG_RETENTION_BYTES: &str = "log.retention.bytes";

/// Index rows one store call deletes at most.
const ROWS_PER_CALL: u32 = 5_000;
/// Store calls one pass makes at most.
const CALLS_PER_PASS: u64 = 10_000;

/// One pass over every partition of every topic. Returns the partitions
/// handled and, as backlog, those left for the next pass (the pass ran out
/// of calls, or a partition still had rows to delete).
/// The limits of topics that set none of their own come from `broker`'s
/// `log.retention.ms` and `log.retention.bytes` (dynamic or static), read
/// each pass; `now_ms` is the wall clock record timestamps are compared
/// with.
pub async fn pass(
    store: Arc<dyn MetadataStore>,
    broker: Arc<BrokerConfigs>,
    now_ms: fn() -> i64,
    fence: JobFence,
    stop: CancellationToken,
) -> crate::error::Result<PassReport> {
    let defaults = Defaults {
        ms: broker_default(&broker, LOG_RETENTION_MS),
        bytes: broker_default(&broker, LOG_RETENTION_BYTES),
    };
    let topics = store.list_topics().await?;
    let mut report = PassReport::default();
    let mut calls = 0;
    for topic in &topics {
        // `cleanup.policy=compact` alone: the log cleaner removes records,
        // never retention (Kafka). `compact,delete` takes both.
        if !CleanupPolicy::of(&topic.config, &broker).delete {
            continue;
        }
        let Some(policy) = policy(topic, defaults, now_ms()) else {
            continue;
        };
        for partition in 0..topic.partitions {
            if stop.is_cancelled() || calls >= CALLS_PER_PASS {
                report.backlog += 1;
                continue;
            }
            loop {
                calls += 1;
                let retained = store
                    .apply_retention(topic.id, partition, &policy, &fence)
                    .await?;
                debug!(topic = %topic.name, partition, ?retained, "retention applied");
                let more = retained.is_some_and(|r| r.rows_deleted >= u64::from(ROWS_PER_CALL));
                if !more {
                    report.done += 1;
                    break;
                }
                if stop.is_cancelled() || calls >= CALLS_PER_PASS {
                    report.backlog += 1;
                    break;
                }
            }
        }
    }
    Ok(report)
}

/// The broker-wide limits, negative for none.
#[derive(Debug, Clone, Copy)]
struct Defaults {
    ms: i64,
    bytes: i64,
}

/// A broker default, negative (keep everything) if unreadable.
fn broker_default(broker: &BrokerConfigs, name: &str) -> i64 {
    let value = broker
        .dynamic_value(name)
        .or_else(|| broker.get(name).and_then(|e| e.value.clone()));
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
}

/// What retention removes from `topic`'s partitions at `now_ms`; `None`
/// when it keeps everything.
fn policy(topic: &Topic, defaults: Defaults, now_ms: i64) -> Option<RetentionPolicy> {
    let ms = limit(topic, RETENTION_MS, defaults.ms);
    let bytes = limit(topic, RETENTION_BYTES, defaults.bytes);
    if ms.is_none() && bytes.is_none() {
        return None;
    }
    Some(RetentionPolicy {
        older_than_ms: ms.map(|ms| now_ms.saturating_sub(ms)),
        max_bytes: bytes,
        max_rows: ROWS_PER_CALL,
    })
}

/// A topic's limit `key` (its own, else the broker's), `None` when
/// negative: no limit.
fn limit(topic: &Topic, key: &str, default: i64) -> Option<i64> {
    let value = match topic.config.get(key).map(|v| v.trim().parse::<i64>()) {
        Some(Ok(value)) => value,
        Some(Err(_)) => {
            warn!(topic = %topic.name, key, "unreadable retention limit; keeping every record");
            -1
        }
        None => default,
    };
    (value >= 0).then_some(value)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn topic(config: &[(&str, &str)]) -> Topic {
        Topic {
            id: uuid::Uuid::nil(),
            name: "t".into(),
            partitions: 1,
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    const NONE: Defaults = Defaults { ms: -1, bytes: -1 };

    #[test]
    fn topic_limits_beat_broker_defaults_and_negative_means_none() {
        assert_eq!(policy(&topic(&[]), NONE, 1_000), None);
        let p = policy(&topic(&[("retention.ms", "100")]), NONE, 1_000).unwrap();
        assert_eq!((p.older_than_ms, p.max_bytes), (Some(900), None));
        let p = policy(&topic(&[("retention.bytes", "4096")]), NONE, 1_000).unwrap();
        assert_eq!((p.older_than_ms, p.max_bytes), (None, Some(4096)));
        let defaults = Defaults { ms: 10, bytes: 20 };
        let p = policy(&topic(&[]), defaults, 1_000).unwrap();
        assert_eq!((p.older_than_ms, p.max_bytes), (Some(990), Some(20)));
        let own = topic(&[("retention.ms", "-1"), ("retention.bytes", "-1")]);
        assert_eq!(policy(&own, defaults, 1_000), None, "-1 overrides");
        let bad = topic(&[("retention.ms", "soon")]);
        assert_eq!(policy(&bad, NONE, 1_000), None, "unreadable keeps all");
    }
}
