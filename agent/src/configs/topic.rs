//! Every topic config of Apache Kafka 4.x (its `LogConfig`), and Floe's own
//! `floe.archive.*` configs of the archive tier: name, type,
//! Kafka's default, validator, the broker config that supplies the default
//! (Kafka's `ServerTopicConfigSynonyms`), and a one-line documentation.
//! What Floe does with each is in `docs/compatibility.md`.

use super::ConfigType;
use super::validate::Validator;

/// One topic config.
#[derive(Debug, Clone, Copy)]
pub struct TopicKey {
    /// Kafka's name.
    pub name: &'static str,
    /// Its type.
    pub kind: ConfigType,
    /// Kafka's default, as Kafka prints it.
    pub default: &'static str,
    /// Which values are valid.
    pub validator: Validator,
    /// The broker config whose value is the topic's default, if any.
    pub synonym: Option<&'static str>,
    /// What it means.
    pub doc: &'static str,
}

const MAX_LONG: &str = "9223372036854775807";

const fn key(
    name: &'static str,
    kind: ConfigType,
    default: &'static str,
    validator: Validator,
    synonym: Option<&'static str>,
    doc: &'static str,
) -> TopicKey {
    TopicKey {
        name,
        kind,
        default,
        validator,
        synonym,
        doc,
    }
}

use ConfigType::{Boolean, Double, Int, List, Long, String};
use Validator::{Any, AtLeast, Between, DoubleBetween, GzipLevel, ListOf, OneOf, Throttled};

/// The topic configs, sorted by name.
pub const TOPIC_CONFIGS: &[TopicKey] = &[
    key(
        "cleanup.policy",
        List,
        "delete",
        ListOf(&["compact", "delete"]),
        Some("log.cleanup.policy"),
        "The retention policy of old log segments: \"delete\" discards them by time or size, \"compact\" keeps the latest value of each key.",
    ),
    key(
        "compression.gzip.level",
        Int,
        "-1",
        GzipLevel,
        Some("compression.gzip.level"),
        "The compression level to use if compression.type is set to gzip.",
    ),
    key(
        "compression.lz4.level",
        Int,
        "9",
        Between(1, 17),
        Some("compression.lz4.level"),
        "The compression level to use if compression.type is set to lz4.",
    ),
    key(
        "compression.type",
        String,
        "producer",
        OneOf(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        Some("compression.type"),
        "The final compression type of the topic; \"producer\" keeps the codec the producer set.",
    ),
    key(
        "compression.zstd.level",
        Int,
        "3",
        Between(-131072, 22),
        Some("compression.zstd.level"),
        "The compression level to use if compression.type is set to zstd.",
    ),
    key(
        "delete.retention.ms",
        Long,
        "86400000",
        AtLeast(0),
        Some("log.cleaner.delete.retention.ms"),
        "How long delete tombstones are kept for compacted topics.",
    ),
    key(
        "file.delete.delay.ms",
        Long,
        "60000",
        AtLeast(0),
        Some("log.segment.delete.delay.ms"),
        "The time to wait before deleting a file from the filesystem.",
    ),
    key(
        "floe.archive.after.ms",
        Long,
        "604800000",
        AtLeast(0),
        Some("floe.archive.after.ms"),
        "Floe: records older than this (by timestamp) are archived to Parquet once floe.archive.enabled is true.",
    ),
    key(
        "floe.archive.drop.segments",
        Boolean,
        "false",
        Any,
        Some("floe.archive.drop.segments"),
        "Floe: once a range is archived, its segment files are dropped and Fetch serves it from the Parquet archive.",
    ),
    key(
        "floe.archive.enabled",
        Boolean,
        "false",
        Any,
        Some("floe.archive.enabled"),
        "Floe: whether old ranges of the topic are archived as Parquet with Iceberg metadata.",
    ),
    key(
        "flush.messages",
        Long,
        MAX_LONG,
        AtLeast(1),
        Some("log.flush.interval.messages"),
        "The number of messages written to a partition between forced fsyncs of the log.",
    ),
    key(
        "flush.ms",
        Long,
        MAX_LONG,
        AtLeast(0),
        Some("log.flush.interval.ms"),
        "The time between forced fsyncs of the log.",
    ),
    key(
        "follower.replication.throttled.replicas",
        List,
        "",
        Throttled,
        None,
        "Replicas whose log replication is throttled on the follower side, as partitionId:brokerId pairs or *.",
    ),
    key(
        "index.interval.bytes",
        Int,
        "4096",
        AtLeast(0),
        Some("log.index.interval.bytes"),
        "How frequently Kafka adds an entry to its offset index.",
    ),
    key(
        "leader.replication.throttled.replicas",
        List,
        "",
        Throttled,
        None,
        "Replicas whose log replication is throttled on the leader side, as partitionId:brokerId pairs or *.",
    ),
    key(
        "local.retention.bytes",
        Long,
        "-2",
        AtLeast(-2),
        Some("log.local.retention.bytes"),
        "The most bytes a partition keeps locally before deleting old segments (tiered storage); -2 means retention.bytes.",
    ),
    key(
        "local.retention.ms",
        Long,
        "-2",
        AtLeast(-2),
        Some("log.local.retention.ms"),
        "How long a local segment is kept before it is deleted (tiered storage); -2 means retention.ms.",
    ),
    key(
        "max.compaction.lag.ms",
        Long,
        MAX_LONG,
        AtLeast(1),
        Some("log.cleaner.max.compaction.lag.ms"),
        "The longest time a message stays ineligible for compaction in the log.",
    ),
    key(
        "max.message.bytes",
        Int,
        "1048588",
        AtLeast(0),
        Some("message.max.bytes"),
        "The largest record batch size allowed by Kafka (after compression if compression is enabled).",
    ),
    key(
        "message.timestamp.after.max.ms",
        Long,
        "3600000",
        AtLeast(0),
        Some("log.message.timestamp.after.max.ms"),
        "The largest difference allowed between a message's timestamp and a later broker timestamp (CreateTime only).",
    ),
    key(
        "message.timestamp.before.max.ms",
        Long,
        MAX_LONG,
        AtLeast(0),
        Some("log.message.timestamp.before.max.ms"),
        "The largest difference allowed between the broker's timestamp and an earlier message timestamp (CreateTime only).",
    ),
    key(
        "message.timestamp.type",
        String,
        "CreateTime",
        OneOf(&["CreateTime", "LogAppendTime"]),
        Some("log.message.timestamp.type"),
        "Whether a message's timestamp is its create time or its log append time.",
    ),
    key(
        "min.cleanable.dirty.ratio",
        Double,
        "0.5",
        DoubleBetween(0.0, 1.0),
        Some("log.cleaner.min.cleanable.ratio"),
        "How frequently the log compactor attempts to clean the log.",
    ),
    key(
        "min.compaction.lag.ms",
        Long,
        "0",
        AtLeast(0),
        Some("log.cleaner.min.compaction.lag.ms"),
        "The shortest time a message stays uncompacted in the log.",
    ),
    key(
        "min.insync.replicas",
        Int,
        "1",
        AtLeast(1),
        Some("min.insync.replicas"),
        "The least number of replicas that must acknowledge a write with acks=all.",
    ),
    key(
        "preallocate",
        Boolean,
        "false",
        Any,
        Some("log.preallocate"),
        "Whether to preallocate the file on disk when creating a new log segment.",
    ),
    key(
        "remote.log.copy.disable",
        Boolean,
        "false",
        Any,
        None,
        "Whether to stop copying log segments to remote storage (tiered storage).",
    ),
    key(
        "remote.log.delete.on.disable",
        Boolean,
        "false",
        Any,
        None,
        "Whether to delete remote data when tiered storage is turned off for the topic.",
    ),
    key(
        "remote.storage.enable",
        Boolean,
        "false",
        Any,
        None,
        "Whether tiered storage is enabled for the topic.",
    ),
    key(
        "retention.bytes",
        Long,
        "-1",
        Any,
        Some("log.retention.bytes"),
        "The most bytes a partition grows to before old log segments are discarded; -1 means no limit.",
    ),
    key(
        "retention.ms",
        Long,
        "604800000",
        AtLeast(-1),
        Some("log.retention.ms"),
        "The longest time a log is retained before old log segments are discarded; -1 means no limit.",
    ),
    key(
        "segment.bytes",
        Int,
        "1073741824",
        AtLeast(1_048_576),
        Some("log.segment.bytes"),
        "The segment file size of the log.",
    ),
    key(
        "segment.index.bytes",
        Int,
        "10485760",
        AtLeast(4),
        Some("log.index.size.max.bytes"),
        "The size of the index that maps offsets to file positions.",
    ),
    key(
        "segment.jitter.ms",
        Long,
        "0",
        AtLeast(0),
        Some("log.roll.jitter.ms"),
        "The most random jitter subtracted from the scheduled segment roll time.",
    ),
    key(
        "segment.ms",
        Long,
        "604800000",
        AtLeast(1),
        Some("log.roll.ms"),
        "The period after which the log rolls a segment even if it is not full.",
    ),
    key(
        "unclean.leader.election.enable",
        Boolean,
        "false",
        Any,
        Some("unclean.leader.election.enable"),
        "Whether replicas not in the ISR may be elected leader as a last resort, at the risk of data loss.",
    ),
];

/// The topic config named `name`, if Kafka has one.
pub fn topic_key(name: &str) -> Option<&'static TopicKey> {
    TOPIC_CONFIGS.iter().find(|k| k.name == name)
}
