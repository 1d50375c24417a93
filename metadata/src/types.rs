//! Values stored in and returned by the metadata store.

use std::collections::BTreeMap;

/// A topic's unique id. Kafka calls it the topic UUID (KIP-516); a topic that
/// is deleted and created again under the same name gets a new id, so no
/// reader can mix the two.
pub type TopicId = uuid::Uuid;

/// A segment file's unique id; it names the object and keys its commit.
pub type SegmentId = uuid::Uuid;

/// A topic as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// Unique id.
    pub id: TopicId,
    /// Name, unique among live topics.
    pub name: String,
    /// Number of partitions, numbered `0..partitions`.
    pub partitions: i32,
    /// Topic-level configuration overrides (`retention.ms`, ...).
    pub config: BTreeMap<String, String>,
}

/// What [`crate::MetadataStore::create_topic`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Name of the topic.
    pub name: String,
    /// Number of partitions (at least 1).
    pub partitions: i32,
    /// Configuration overrides.
    pub config: BTreeMap<String, String>,
}

/// One partition's slice of a segment file, as the agent wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitEntry {
    /// Topic of the partition.
    pub topic_id: TopicId,
    /// Partition number.
    pub partition: i32,
    /// Byte offset of the partition's first batch in the segment file.
    pub byte_offset: u64,
    /// Length in bytes of the partition's batches (contiguous in the file).
    pub byte_len: u64,
    /// Number of offsets the batches take (sum of `lastOffsetDelta + 1`).
    pub offset_count: i64,
    /// Largest batch `maxTimestamp` among the batches.
    pub max_timestamp: i64,
}

/// A whole segment file to commit in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentCommit {
    /// Unique id of the segment; committing the same id twice is a no-op
    /// that returns the first outcome.
    pub segment_id: SegmentId,
    /// Object key of the uploaded file.
    pub object_key: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// One entry per partition in the file, at most one per partition.
    pub entries: Vec<CommitEntry>,
}

/// The result of committing one [`CommitEntry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOutcome {
    /// The entry got offsets `base_offset..=last_offset`.
    Committed {
        /// First offset assigned.
        base_offset: i64,
        /// Last offset assigned.
        last_offset: i64,
    },
    /// The topic or partition no longer exists (deleted while the segment
    /// was uploading); nothing was indexed for this entry.
    UnknownPartition,
}

/// A partition's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffsets {
    /// First offset still readable.
    pub log_start_offset: i64,
    /// Next offset to be assigned (the high watermark).
    pub high_watermark: i64,
}

/// One row of the batch index: where a contiguous run of one partition's
/// offsets lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRow {
    /// First offset in the run.
    pub base_offset: i64,
    /// Last offset in the run (inclusive).
    pub last_offset: i64,
    /// Segment holding the bytes.
    pub segment_id: SegmentId,
    /// Object key of the segment.
    pub object_key: String,
    /// Byte offset of the run in the segment.
    pub byte_offset: u64,
    /// Byte length of the run.
    pub byte_len: u64,
    /// Largest batch timestamp in the run.
    pub max_timestamp: i64,
}

/// A producer id and epoch handed out by InitProducerId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdentity {
    /// The producer id.
    pub producer_id: i64,
    /// The producer epoch.
    pub epoch: i16,
}
