//! Topic and broker configs, under Apache Kafka's names: one table of every
//! topic config Kafka 4.x has (`topic.rs`), the broker settings of this
//! agent (`broker.rs`), value validation as Kafka's `ConfigDef` does it
//! (`validate.rs`), and the entries DescribeConfigs reports, with their
//! sources and synonyms (`describe.rs`).
//!
//! Floe keeps a topic's overrides as a map of strings in the metadata store;
//! everything not overridden takes its value from the broker setting that is
//! its synonym (`retention.ms` ← `log.retention.ms`) or from Kafka's default.

mod broker;
mod cleanup;
mod describe;
mod group;
mod topic;
mod validate;

#[cfg(test)]
mod tests;

pub use broker::{BrokerConfigs, BrokerEntry, DYNAMIC_CONFIGS, is_dynamic, validate_dynamic};
pub use cleanup::{CleanerConfig, CleanupPolicy};
pub use describe::{
    DescribedConfig, Synonym, describe_broker, describe_broker_defaults, describe_topic,
    topic_value,
};
pub use group::{describe_client_metrics, describe_group};
pub use topic::{TOPIC_CONFIGS, TopicKey, topic_key};
pub use validate::{ConfigError, validate_topic_config, validate_topic_value};

/// Names of the topic configs the agent reads.
pub mod names {
    /// Time-based retention of a topic.
    pub const RETENTION_MS: &str = "retention.ms";
    /// Largest record batch a topic takes.
    pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
    /// `CreateTime` or `LogAppendTime`.
    pub const MESSAGE_TIMESTAMP_TYPE: &str = "message.timestamp.type";
    /// `delete`, `compact` or both.
    pub const CLEANUP_POLICY: &str = "cleanup.policy";
    /// Youngest age of a record the log cleaner may remove.
    pub const MIN_COMPACTION_LAG_MS: &str = "min.compaction.lag.ms";
    /// Oldest age of a dirty record before its partition must be cleaned.
    pub const MAX_COMPACTION_LAG_MS: &str = "max.compaction.lag.ms";
    /// How long tombstones outlive their first clean.
    pub const DELETE_RETENTION_MS: &str = "delete.retention.ms";
    /// Dirty share of a partition below which it is not cleaned.
    pub const MIN_CLEANABLE_DIRTY_RATIO: &str = "min.cleanable.dirty.ratio";
    /// Largest age of a CreateTime timestamp.
    pub const TIMESTAMP_BEFORE_MAX_MS: &str = "message.timestamp.before.max.ms";
    /// Largest lead of a CreateTime timestamp.
    pub const TIMESTAMP_AFTER_MAX_MS: &str = "message.timestamp.after.max.ms";
}

/// A config's type as DescribeConfigs reports it (`ConfigType` ids of
/// Kafka's `DescribeConfigsResponse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` or `false`.
    Boolean,
    /// Any string.
    String,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    Long,
    /// A floating-point number.
    Double,
    /// A comma-separated list.
    List,
    /// A secret: never reported.
    Password,
}

impl ConfigType {
    /// The id on the wire.
    pub fn id(self) -> i8 {
        match self {
            ConfigType::Boolean => 1,
            ConfigType::String => 2,
            ConfigType::Int => 3,
            ConfigType::Long => 5,
            ConfigType::Double => 6,
            ConfigType::List => 7,
            ConfigType::Password => 9,
        }
    }

    /// Kafka's name of the type, as its parse errors print it.
    pub fn kafka_name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Password => "PASSWORD",
        }
    }
}

/// Where a reported value comes from (Kafka's `ConfigSource` ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic.
    Topic,
    /// Set dynamically for one broker.
    DynamicBroker,
    /// Set dynamically as the cluster-wide broker default.
    DynamicDefaultBroker,
    /// Set in the broker's static settings (`floe serve` flags, file, env).
    StaticBroker,
    /// The built-in default.
    Default,
}

impl ConfigSource {
    /// The id on the wire.
    pub fn id(self) -> i8 {
        match self {
            ConfigSource::Topic => 1,
            ConfigSource::DynamicBroker => 2,
            ConfigSource::DynamicDefaultBroker => 3,
            ConfigSource::StaticBroker => 4,
            ConfigSource::Default => 5,
        }
    }
}

/// Kafka's `ConfigResource.Type` ids.
pub mod resource_type {
    /// A topic.
    pub const TOPIC: i8 = 2;
    /// A broker (by node id), or the cluster default (empty name).
    pub const BROKER: i8 = 4;
    /// A broker's loggers.
    pub const BROKER_LOGGER: i8 = 8;
    /// A client-metrics subscription.
    pub const CLIENT_METRICS: i8 = 16;
    /// A consumer group.
    pub const GROUP: i8 = 32;
}
