//! What `cleanup.policy` and the log cleaner's topic configs say for one
//! topic, read as Kafka reads them: the topic's override, else the broker
//! synonym, else Kafka's default. A value that does not parse (a topic
//! created before values were checked) counts as Kafka's default.

use std::collections::BTreeMap;

use super::{BrokerConfigs, names, topic_value};
use crate::configs::validate::list_items;

/// Which cleanups `cleanup.policy` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// `delete`: retention by time and size drops old records.
    pub delete: bool,
    /// `compact`: the log cleaner keeps the latest record of each key.
    pub compact: bool,
}

impl CleanupPolicy {
    /// The policy of a topic with `overrides`.
    pub fn of(overrides: &BTreeMap<String, String>, broker: &BrokerConfigs) -> Self {
        let value = topic_value(names::CLEANUP_POLICY, overrides, broker)
            .unwrap_or_else(|| "delete".to_string());
        Self::parse(&value)
    }

    /// The policy a `cleanup.policy` value names (`delete` when it names
    /// neither, as an unreadable value keeps Kafka's default).
    pub fn parse(value: &str) -> Self {
        let (mut delete, mut compact) = (false, false);
        for item in list_items(value) {
            match item {
                "delete" => delete = true,
                "compact" => compact = true,
                _ => {}
            }
        }
        if !delete && !compact {
            delete = true;
        }
        Self { delete, compact }
    }
}

/// The log cleaner's topic configs for one compacted topic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanerConfig {
    /// `min.compaction.lag.ms`: records younger than this stay uncleaned.
    pub min_lag_ms: i64,
    /// `max.compaction.lag.ms`: a dirty record older than this makes the
    /// partition due whatever its dirty ratio.
    pub max_lag_ms: i64,
    /// `delete.retention.ms`: how long a tombstone outlives the clean that
    /// first kept it.
    pub delete_retention_ms: i64,
    /// `min.cleanable.dirty.ratio`: the dirty share of a partition's bytes
    /// below which it is not cleaned.
    pub min_dirty_ratio: f64,
}

impl CleanerConfig {
    /// Kafka's defaults.
    pub const DEFAULT: Self = Self {
        min_lag_ms: 0,
        max_lag_ms: i64::MAX,
        delete_retention_ms: 86_400_000,
        min_dirty_ratio: 0.5,
    };

    /// The configs in force for a topic with `overrides`.
    pub fn of(overrides: &BTreeMap<String, String>, broker: &BrokerConfigs) -> Self {
        let d = Self::DEFAULT;
        let long = |name: &str, default: i64| {
            topic_value(name, overrides, broker)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|v| *v >= 0)
                .unwrap_or(default)
        };
        let ratio = topic_value(names::MIN_CLEANABLE_DIRTY_RATIO, overrides, broker)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r))
            .unwrap_or(d.min_dirty_ratio);
        Self {
            min_lag_ms: long(names::MIN_COMPACTION_LAG_MS, d.min_lag_ms),
            max_lag_ms: long(names::MAX_COMPACTION_LAG_MS, d.max_lag_ms).max(1),
            delete_retention_ms: long(names::DELETE_RETENTION_MS, d.delete_retention_ms),
            min_dirty_ratio: ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_lists() {
        let p = CleanupPolicy::parse;
        assert_eq!(
            p("delete"),
            CleanupPolicy {
                delete: true,
                compact: false
            }
        );
        assert_eq!(
            p("compact"),
            CleanupPolicy {
                delete: false,
                compact: true
            }
        );
        assert_eq!(
            p(" compact , delete"),
            CleanupPolicy {
                delete: true,
                compact: true
            }
        );
        assert_eq!(
            p("shred"),
            CleanupPolicy {
                delete: true,
                compact: false
            }
        );
    }

    /// `log.cleanup.policy` set cluster-wide applies to topics without
    /// their own, as in Kafka.
    #[test]
    fn the_broker_default_applies_without_an_override() {
        let broker = BrokerConfigs::new(&crate::config::Config::default());
        let none = BTreeMap::new();
        let policy = |b: &BrokerConfigs, o: &BTreeMap<String, String>| CleanupPolicy::of(o, b);
        assert_eq!(
            policy(&broker, &none),
            CleanupPolicy {
                delete: true,
                compact: false
            }
        );
        broker.set_dynamic(BTreeMap::from([(
            "log.cleanup.policy".to_string(),
            "compact".to_string(),
        )]));
        assert_eq!(
            policy(&broker, &none),
            CleanupPolicy {
                delete: false,
                compact: true
            }
        );
        let own = BTreeMap::from([("cleanup.policy".to_string(), "delete".to_string())]);
        assert!(!policy(&broker, &own).compact, "the topic's own wins");
        assert!(crate::configs::validate_dynamic("log.cleanup.policy", "compact,delete").is_ok());
        assert!(crate::configs::validate_dynamic("log.cleanup.policy", "shred").is_err());
    }

    #[test]
    fn cleaner_configs_take_overrides_and_kafka_defaults() {
        let broker = BrokerConfigs::new(&crate::config::Config::default());
        assert_eq!(
            CleanerConfig::of(&BTreeMap::new(), &broker),
            CleanerConfig::DEFAULT
        );
        let overrides = BTreeMap::from([
            ("min.compaction.lag.ms".to_string(), "5".to_string()),
            ("max.compaction.lag.ms".to_string(), "60000".to_string()),
            ("delete.retention.ms".to_string(), "100".to_string()),
            ("min.cleanable.dirty.ratio".to_string(), "0.01".to_string()),
        ]);
        let c = CleanerConfig::of(&overrides, &broker);
        assert_eq!(
            (
                c.min_lag_ms,
                c.max_lag_ms,
                c.delete_retention_ms,
                c.min_dirty_ratio
            ),
            (5, 60_000, 100, 0.01)
        );
    }
}
