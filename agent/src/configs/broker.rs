//! The broker configs of one agent: its `floe serve` settings under Kafka's
//! names where Kafka has one, `floe.*` names for Floe's own.
//!
//! Most are static (read-only): fixed when the agent starts
//! (STATIC_BROKER_CONFIG or DEFAULT_CONFIG). The few in [`DYNAMIC_CONFIGS`],
//! the broker defaults of topic configs, are also dynamic and cluster-wide:
//! set on the default BROKER resource (empty name), kept in the metadata
//! store, and read by every agent (DYNAMIC_DEFAULT_BROKER_CONFIG), where they
//! win over the static setting, as in Kafka.

use std::collections::BTreeMap;
use std::sync::RwLock;

use super::ConfigType;
use super::topic::TopicKey;
use super::validate::{ConfigError, Validator, check};
use crate::config::Config;

/// The broker configs that can be set at run time, cluster-wide: the
/// defaults of the topic configs the agent honours. Each is read where it
/// is used, on every request or job pass, so a change needs no restart.
pub const DYNAMIC_CONFIGS: &[TopicKey] = &[
    dynamic(
        "floe.archive.after.ms",
        ConfigType::Long,
        Validator::AtLeast(0),
    ),
    dynamic(
        "floe.archive.drop.segments",
        ConfigType::Boolean,
        Validator::Any,
    ),
    dynamic("floe.archive.enabled", ConfigType::Boolean, Validator::Any),
    dynamic(
        "log.cleanup.policy",
        ConfigType::List,
        Validator::ListOf(&["compact", "delete"]),
    ),
    dynamic(
        "log.message.timestamp.after.max.ms",
        ConfigType::Long,
        Validator::AtLeast(0),
    ),
    dynamic(
        "log.message.timestamp.before.max.ms",
        ConfigType::Long,
        Validator::AtLeast(0),
    ),
    dynamic("log.retention.bytes", ConfigType::Long, Validator::Any),
    dynamic("log.retention.ms", ConfigType::Long, Validator::AtLeast(-1)),
    dynamic("message.max.bytes", ConfigType::Int, Validator::AtLeast(0)),
];

const fn dynamic(name: &'static str, kind: ConfigType, validator: Validator) -> TopicKey {
    TopicKey {
        name,
        kind,
        default: "",
        validator,
        synonym: None,
        doc: "",
    }
}

/// Whether broker config `name` can be set at run time.
pub fn is_dynamic(name: &str) -> bool {
    DYNAMIC_CONFIGS.iter().any(|k| k.name == name)
}

/// Checks a dynamic broker config and returns the value to store: a name
/// that is not dynamic is refused as Kafka refuses it (the caller answers
/// INVALID_REQUEST for [`ConfigError::NotDynamic`]).
pub fn validate_dynamic(name: &str, value: &str) -> Result<String, ConfigError> {
    let key = DYNAMIC_CONFIGS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| ConfigError::NotDynamic(name.to_string()))?;
    let value = value.trim();
    check(key, value)?;
    Ok(value.to_string())
}

/// One broker config with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerEntry {
    /// Kafka's name, or `floe.*`.
    pub name: &'static str,
    /// Its type.
    pub kind: ConfigType,
    /// The value in force (`None`: not set).
    pub value: Option<String>,
    /// Floe's built-in default (`None`: there is none).
    pub default: Option<String>,
    /// What it means.
    pub doc: &'static str,
}

impl BrokerEntry {
    /// Whether the value was set, rather than left at the built-in default
    /// (STATIC_BROKER_CONFIG rather than DEFAULT_CONFIG).
    pub fn is_set(&self) -> bool {
        self.default.is_none() || self.value != self.default
    }
}

/// The broker configs of this agent, sorted by name, with the dynamic
/// cluster-wide ones last read from the metadata store.
#[derive(Debug)]
pub struct BrokerConfigs {
    entries: Vec<BrokerEntry>,
    dynamic: RwLock<BTreeMap<String, String>>,
}

impl BrokerConfigs {
    /// The configs of an agent started with `config`. Its node id, given
    /// when it registers (again after a lapse), is added when described.
    pub fn new(config: &Config) -> Self {
        let d = Config::default();
        let mut entries = Vec::new();
        let mut add = |name, kind, value: Option<String>, default: Option<String>, doc| {
            entries.push(BrokerEntry {
                name,
                kind,
                value,
                default,
                doc,
            });
        };
        macro_rules! setting {
            ($name:literal, $kind:ident, $field:ident, $doc:literal) => {
                add(
                    $name,
                    ConfigType::$kind,
                    Some(config.$field.to_string()),
                    Some(d.$field.to_string()),
                    $doc,
                )
            };
        }
        let (host, port) = config
            .advertised()
            .unwrap_or_else(|_| (config.kafka_listen.ip().to_string(), 0));
        add(
            "listeners",
            ConfigType::String,
            Some(format!("PLAINTEXT://{}", config.kafka_listen)),
            None,
            "The address the Kafka listener binds (floe serve --kafka-listen).",
        );
        add(
            "advertised.listeners",
            ConfigType::String,
            Some(format!("PLAINTEXT://{host}:{port}")),
            None,
            "The address given to clients (floe serve --advertised-addr).",
        );
        add(
            "broker.rack",
            ConfigType::String,
            config.zone.clone(),
            d.zone.clone(),
            "The availability zone of this agent, reported as its rack (floe serve --zone).",
        );
        setting!(
            "auto.create.topics.enable",
            Boolean,
            auto_create_topics,
            "Create unknown topics on first Metadata or Produce."
        );
        setting!(
            "num.partitions",
            Int,
            default_partitions,
            "Partitions of auto-created topics and of CreateTopics asking for the default."
        );
        setting!(
            "message.max.bytes",
            Int,
            message_max_bytes,
            "The largest record batch size allowed, for topics without a max.message.bytes."
        );
        setting!(
            "socket.request.max.bytes",
            Int,
            max_frame_bytes,
            "The largest request frame accepted; a larger one closes the connection."
        );
        setting!(
            "queued.max.request.bytes",
            Long,
            queued_max_request_bytes,
            "Memory shared by all connections for request frames being read."
        );
        setting!(
            "max.connections",
            Int,
            max_connections,
            "Open Kafka connections at most."
        );
        setting!(
            "max.connections.per.ip",
            Int,
            max_connections_per_ip,
            "Open Kafka connections from one client address at most."
        );
        setting!(
            "quota.window.num",
            Int,
            quota_window_num,
            "The number of samples a client's rate is measured over for its quota."
        );
        setting!(
            "quota.window.size.seconds",
            Int,
            quota_window_size_seconds,
            "The time span of each quota sample."
        );
        setting!(
            "connections.max.idle.ms",
            Long,
            connections_max_idle_ms,
            "A connection idle for this long is closed."
        );
        add(
            "log.cleanup.policy",
            ConfigType::List,
            Some("delete".to_string()),
            Some("delete".to_string()),
            "Cleanup policy of topics without a cleanup.policy: delete (retention), compact (the log cleaner) or both; set cluster-wide as a dynamic default.",
        );
        setting!(
            "log.retention.ms",
            Long,
            default_retention_ms,
            "Retention of topics without a retention.ms; -1 keeps every record (Floe's default)."
        );
        setting!(
            "log.retention.bytes",
            Long,
            default_retention_bytes,
            "Size retention per partition of topics without a retention.bytes; -1 keeps every record."
        );
        setting!(
            "log.retention.check.interval.ms",
            Long,
            retention_check_interval_ms,
            "How often retention (by time and by size) runs."
        );
        setting!(
            "log.message.timestamp.before.max.ms",
            Long,
            message_timestamp_before_max_ms,
            "Largest age of a CreateTime timestamp, for topics without message.timestamp.before.max.ms."
        );
        setting!(
            "log.message.timestamp.after.max.ms",
            Long,
            message_timestamp_after_max_ms,
            "Largest lead of a CreateTime timestamp, for topics without message.timestamp.after.max.ms."
        );
        setting!(
            "producer.id.expiration.ms",
            Int,
            producer_id_expiration_ms,
            "How long an idempotent producer that writes nothing keeps its state."
        );
        setting!(
            "producer.id.expiration.check.interval.ms",
            Int,
            producer_id_expiration_check_interval_ms,
            "How often expired producer state is pruned."
        );
        setting!(
            "transaction.max.timeout.ms",
            Int,
            transaction_max_timeout_ms,
            "Largest transaction.timeout.ms a transactional producer may ask."
        );
        setting!(
            "transactional.id.expiration.ms",
            Int,
            transactional_id_expiration_ms,
            "How long a transactional id without an open transaction is remembered."
        );
        setting!(
            "transaction.abort.timed.out.transaction.cleanup.interval.ms",
            Int,
            transaction_check_interval_ms,
            "How often transactions past their timeout are aborted."
        );
        add(
            "floe.flush.interval.ms",
            ConfigType::Long,
            Some(config.effective_flush_interval_ms().to_string()),
            Some(d.effective_flush_interval_ms().to_string()),
            "Longest time a produced batch waits before its segment is flushed (0 for local stores, 100 for S3 unless set).",
        );
        setting!(
            "floe.flush.bytes",
            Long,
            flush_bytes,
            "Size at which the pending segment is flushed at once."
        );
        setting!(
            "floe.max.pending.bytes",
            Long,
            max_pending_bytes,
            "Produced bytes held awaiting commit before producers are slowed down."
        );
        setting!(
            "floe.max.inflight.flushes",
            Int,
            max_inflight_flushes,
            "Segments uploaded at once."
        );
        setting!(
            "floe.archive.enabled",
            Boolean,
            archive_enabled,
            "Archive topics without a floe.archive.enabled of their own to Parquet."
        );
        setting!(
            "floe.archive.after.ms",
            Long,
            archive_after_ms,
            "Age of records archived, for topics without a floe.archive.after.ms."
        );
        setting!(
            "floe.archive.drop.segments",
            Boolean,
            archive_drop_segments,
            "Drop archived segments, for topics without a floe.archive.drop.segments."
        );
        setting!(
            "floe.archive.interval.ms",
            Long,
            archive_interval_ms,
            "How often the archive job looks for ranges to archive."
        );
        setting!(
            "floe.cache.bytes",
            Long,
            cache_bytes,
            "Bytes of segment data kept in memory for reads."
        );
        setting!(
            "floe.cluster.id",
            String,
            cluster_id,
            "Cluster id reported to clients."
        );
        setting!(
            "floe.heartbeat.interval.ms",
            Long,
            heartbeat_interval_ms,
            "Time between this agent's heartbeats in the metadata store."
        );
        setting!(
            "floe.agent.timeout.ms",
            Long,
            agent_timeout_ms,
            "An agent whose last heartbeat is older is no longer given to clients."
        );
        setting!(
            "floe.commit.poll.interval.ms",
            Long,
            commit_poll_interval_ms,
            "Fallback wake-up of long-polling fetches."
        );
        setting!(
            "floe.group.lag.interval.ms",
            Long,
            group_lag_interval_ms,
            "How often consumer-lag metrics are refreshed."
        );
        setting!(
            "floe.segment.gc.interval.ms",
            Long,
            segment_gc_interval_ms,
            "How often unreferenced segments are looked for."
        );
        setting!(
            "floe.segment.gc.grace.ms",
            Long,
            segment_gc_grace_ms,
            "Least age of a segment's commit before it may be deleted."
        );
        setting!(
            "floe.commit.retry.window.ms",
            Long,
            commit_retry_window_ms,
            "How long a commit whose outcome is unknown is retried."
        );
        setting!(
            "floe.shutdown.drain.ms",
            Long,
            shutdown_drain_ms,
            "How long a stopping agent keeps serving after it left the registry."
        );
        setting!(
            "floe.frame.read.timeout.ms",
            Long,
            frame_read_timeout_ms,
            "Longest time one request frame may take to arrive."
        );
        setting!(
            "floe.response.write.timeout.ms",
            Long,
            response_write_timeout_ms,
            "A response write that makes no progress for this long closes the connection."
        );
        setting!(
            "floe.max.queued.response.bytes",
            Long,
            max_queued_response_bytes,
            "Bytes of answers waiting for one client above which its requests are not read."
        );
        entries.sort_by(|a, b| a.name.cmp(b.name));
        Self {
            entries,
            dynamic: RwLock::default(),
        }
    }

    /// Takes the dynamic configs last read from the store.
    pub fn set_dynamic(&self, configs: BTreeMap<String, String>) {
        if let Ok(mut dynamic) = self.dynamic.write() {
            *dynamic = configs;
        }
    }

    /// The dynamic configs in force.
    pub fn dynamic(&self) -> BTreeMap<String, String> {
        self.dynamic.read().map(|d| d.clone()).unwrap_or_default()
    }

    /// The dynamic value of `name`, if one is set.
    pub fn dynamic_value(&self, name: &str) -> Option<String> {
        self.dynamic.read().ok()?.get(name).cloned()
    }

    /// Every entry with this agent's `node.id` and `broker.id`, sorted by
    /// name.
    pub fn with_node_id(&self, node_id: i32) -> Vec<BrokerEntry> {
        let mut entries = self.entries.clone();
        for (name, doc) in [
            ("broker.id", "The broker id of this agent (its node id)."),
            (
                "node.id",
                "The node id of this agent, given by the metadata store when it registers.",
            ),
        ] {
            entries.push(BrokerEntry {
                name,
                kind: ConfigType::Int,
                value: Some(node_id.to_string()),
                default: None,
                doc,
            });
        }
        entries.sort_by(|a, b| a.name.cmp(b.name));
        entries
    }

    /// Every entry, sorted by name.
    pub fn entries(&self) -> &[BrokerEntry] {
        &self.entries
    }

    /// The entry named `name`, if this agent has that setting.
    pub fn get(&self, name: &str) -> Option<&BrokerEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}
