//! The configs of GROUP and CLIENT_METRICS resources, as a Kafka 4.x broker
//! describes them for any name: KIP-848's consumer-group settings, share
//! and streams groups' settings, and KIP-714's client-metrics subscription
//! fields, each at Kafka's default (source DEFAULT_CONFIG), a group config
//! with the broker config it defaults to as its synonym.
//!
//! Floe serves the classic group protocol only (its settings are the
//! `group.*` broker configs of [`super::BrokerConfigs`]) and no client
//! telemetry, so none of these governs anything on Floe: they are reported
//! read-only, and altering them is refused. Listing them keeps tools that
//! describe a group's or a subscription's configs working, with Kafka's
//! values.

use super::describe::{DescribedConfig, Synonym};
use super::{ConfigSource, ConfigType};

/// One config with a fixed value.
#[derive(Debug, Clone, Copy)]
struct Fixed {
    name: &'static str,
    default: &'static str,
    kind: ConfigType,
    /// The broker config it defaults to, if any.
    synonym: Option<&'static str>,
    doc: &'static str,
}

const fn fixed(
    name: &'static str,
    default: &'static str,
    kind: ConfigType,
    synonym: Option<&'static str>,
    doc: &'static str,
) -> Fixed {
    Fixed {
        name,
        default,
        kind,
        synonym,
        doc,
    }
}

use ConfigType::{Boolean, Int, List, String as Str};

/// A group's configs in Kafka 4.4, sorted by name.
const GROUP_CONFIGS: &[Fixed] = &[
    fixed(
        "consumer.assignment.interval.ms",
        "1000",
        Int,
        Some("group.consumer.assignment.interval.ms"),
        "How often a KIP-848 consumer group's assignment is recomputed.",
    ),
    fixed(
        "consumer.heartbeat.interval.ms",
        "5000",
        Int,
        Some("group.consumer.heartbeat.interval.ms"),
        "The heartbeat interval of a KIP-848 consumer group's members.",
    ),
    fixed(
        "consumer.session.timeout.ms",
        "45000",
        Int,
        Some("group.consumer.session.timeout.ms"),
        "The session timeout of a KIP-848 consumer group's members.",
    ),
    fixed(
        "errors.deadletterqueue.copy.record.enable",
        "false",
        Boolean,
        Some("errors.deadletterqueue.copy.record.enable"),
        "Whether a streams group's dead-letter queue copies the failed record.",
    ),
    fixed(
        "errors.deadletterqueue.topic.name",
        "",
        Str,
        Some("errors.deadletterqueue.topic.name"),
        "The dead-letter queue topic of a streams group.",
    ),
    fixed(
        "share.assignment.interval.ms",
        "1000",
        Int,
        Some("group.share.assignment.interval.ms"),
        "How often a share group's assignment is recomputed.",
    ),
    fixed(
        "share.auto.offset.reset",
        "latest",
        Str,
        Some("share.auto.offset.reset"),
        "Where a share group starts reading a partition it has no offset for.",
    ),
    fixed(
        "share.delivery.count.limit",
        "5",
        Int,
        Some("group.share.delivery.count.limit"),
        "How often a share group delivers a record before giving up on it.",
    ),
    fixed(
        "share.heartbeat.interval.ms",
        "5000",
        Int,
        Some("group.share.heartbeat.interval.ms"),
        "The heartbeat interval of a share group's members.",
    ),
    fixed(
        "share.isolation.level",
        "read_uncommitted",
        Str,
        Some("share.isolation.level"),
        "Which records a share group reads of a transactional topic.",
    ),
    fixed(
        "share.partition.max.record.locks",
        "2000",
        Int,
        Some("group.share.partition.max.record.locks"),
        "How many records of a partition a share group holds locked at once.",
    ),
    fixed(
        "share.record.lock.duration.ms",
        "30000",
        Int,
        Some("group.share.record.lock.duration.ms"),
        "How long a share group's member holds a record it was given.",
    ),
    fixed(
        "share.renew.acknowledge.enable",
        "true",
        Boolean,
        Some("share.renew.acknowledge.enable"),
        "Whether a share group's members may renew a record's lock.",
    ),
    fixed(
        "share.session.timeout.ms",
        "45000",
        Int,
        Some("group.share.session.timeout.ms"),
        "The session timeout of a share group's members.",
    ),
    fixed(
        "streams.assignment.interval.ms",
        "1000",
        Int,
        Some("group.streams.assignment.interval.ms"),
        "How often a streams group's assignment is recomputed.",
    ),
    fixed(
        "streams.assignor.name",
        "sticky",
        Str,
        Some("group.streams.assignors"),
        "The task assignor of a streams group.",
    ),
    fixed(
        "streams.heartbeat.interval.ms",
        "5000",
        Int,
        Some("group.streams.heartbeat.interval.ms"),
        "The heartbeat interval of a streams group's members.",
    ),
    fixed(
        "streams.initial.rebalance.delay.ms",
        "3000",
        Int,
        Some("group.streams.initial.rebalance.delay.ms"),
        "How long a new streams group waits for members before its first assignment.",
    ),
    fixed(
        "streams.num.standby.replicas",
        "0",
        Int,
        Some("group.streams.num.standby.replicas"),
        "How many standby replicas of each task a streams group keeps.",
    ),
    fixed(
        "streams.rack.aware.assignment.tags",
        "",
        List,
        Some("group.streams.rack.aware.assignment.tags"),
        "The client tags a streams group spreads standby tasks over.",
    ),
    fixed(
        "streams.session.timeout.ms",
        "45000",
        Int,
        Some("group.streams.session.timeout.ms"),
        "The session timeout of a streams group's members.",
    ),
];

/// A client-metrics subscription's configs in Kafka 4.4, sorted by name.
const CLIENT_METRICS_CONFIGS: &[Fixed] = &[
    fixed(
        "interval.ms",
        "300000",
        Int,
        None,
        "How often subscribed clients push their metrics.",
    ),
    fixed(
        "match",
        "",
        List,
        None,
        "Which clients the subscription selects.",
    ),
    fixed(
        "metrics",
        "",
        List,
        None,
        "Which metrics the subscribed clients push.",
    ),
];

fn describe(configs: &[Fixed]) -> Vec<DescribedConfig> {
    configs
        .iter()
        .map(|c| DescribedConfig {
            name: c.name.to_string(),
            value: Some(c.default.to_string()),
            source: ConfigSource::Default,
            read_only: true,
            sensitive: false,
            kind: c.kind,
            doc: c.doc,
            synonyms: c
                .synonym
                .map(|name| Synonym {
                    name: name.to_string(),
                    value: Some(c.default.to_string()),
                    source: ConfigSource::Default,
                })
                .into_iter()
                .collect(),
        })
        .collect()
}

/// The configs of a GROUP resource (whatever group it names).
pub fn describe_group() -> Vec<DescribedConfig> {
    describe(GROUP_CONFIGS)
}

/// The configs of a CLIENT_METRICS resource (whatever subscription it names).
pub fn describe_client_metrics() -> Vec<DescribedConfig> {
    describe(CLIENT_METRICS_CONFIGS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for table in [GROUP_CONFIGS, CLIENT_METRICS_CONFIGS] {
            assert!(table.windows(2).all(|w| w[0].name < w[1].name));
        }
        let group = describe_group();
        assert_eq!(group.len(), 21);
        assert!(group.iter().all(|c| c.read_only && c.synonyms.len() == 1));
        assert!(
            describe_client_metrics()
                .iter()
                .all(|c| c.synonyms.is_empty())
        );
    }
}
