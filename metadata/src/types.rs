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

/// The idempotence fields of a batch sent by an idempotent producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerBatch {
    /// `producerId` of the batch header.
    pub producer_id: i64,
    /// `producerEpoch` of the batch header.
    pub producer_epoch: i16,
    /// `baseSequence` of the batch header; the batch's last sequence is
    /// `base_sequence + offset_count - 1`, wrapping from `i32::MAX` to 0.
    pub base_sequence: i32,
}

/// One record batch in a segment file. Produce v3+ carries exactly one
/// batch per partition per request, so a batch is also one producer's
/// append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    /// Byte offset of the batch in the segment file.
    pub byte_offset: u64,
    /// Length of the batch in bytes.
    pub byte_len: u64,
    /// Offsets the batch takes (`lastOffsetDelta + 1`, at least 1).
    pub offset_count: i64,
    /// The batch's `maxTimestamp`.
    pub max_timestamp: i64,
    /// Set for batches of idempotent producers (`producerId >= 0`).
    pub producer: Option<ProducerBatch>,
    /// Whether the batch belongs to a transaction, and how.
    pub txn: BatchTxn,
}

/// The transactional role of a batch in a commit.
///
/// A [`BatchTxn::Data`] batch (transactional flag set, producer in
/// [`BatchEntry::producer`]) is appended only while its producer has an
/// ongoing transaction on the partition at the same epoch (one that
/// AddPartitionsToTxn opened), else it is refused as
/// [`BatchOutcome::InvalidTxnState`]; the first such batch sets the
/// transaction's first offset there, which holds the last stable offset
/// back. A [`BatchTxn::Marker`] (a control batch the coordinator wrote,
/// with [`BatchEntry::producer`] `None`: markers carry no sequence) ends
/// the producer's transaction on the partition: the ongoing transaction is
/// forgotten and, for an abort that appended data, its offsets up to the
/// marker are recorded as aborted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BatchTxn {
    /// A plain or idempotent batch.
    #[default]
    None,
    /// A transactional data batch.
    Data,
    /// A commit or abort marker (control batch).
    Marker {
        /// The producer whose transaction it ends.
        producer_id: i64,
        /// The epoch the coordinator wrote it with.
        producer_epoch: i16,
        /// Commit (true) or abort (false).
        commit: bool,
    },
}

/// One partition's batches in a segment file, as the agent wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitEntry {
    /// Topic of the partition.
    pub topic_id: TopicId,
    /// Partition number.
    pub partition: i32,
    /// The partition's batches in file order, end to end (each batch starts
    /// where the previous one ends). At least one.
    pub batches: Vec<BatchEntry>,
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

/// What a segment commit answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedSegment {
    /// One outcome per batch, per entry, in the order of the commit.
    pub outcomes: Vec<Vec<BatchOutcome>>,
    /// One per entry: the partition's log start offset as the commit found
    /// it (read in the same round trip), -1 for a partition that no longer
    /// exists. Produce v5+ answers it, as Kafka answers the log start of the
    /// partition it appended to.
    pub log_start_offsets: Vec<i64>,
}

/// What became of one batch of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Appended: the batch got offsets `base_offset..base_offset + offset_count`.
    Appended {
        /// First offset assigned.
        base_offset: i64,
    },
    /// The same producer batch (producer id, epoch, base and last sequence)
    /// was already committed; it was not indexed again and keeps the offset
    /// it got then.
    Duplicate {
        /// The base offset the batch got the first time.
        base_offset: i64,
    },
    /// The topic or partition no longer exists (deleted while the segment
    /// was uploading); nothing was indexed.
    UnknownPartition,
    /// The batch's sequence does not follow the producer's last one
    /// (OUT_OF_ORDER_SEQUENCE_NUMBER); nothing was indexed.
    OutOfOrderSequence,
    /// The batch's producer epoch is older than one already seen for this
    /// producer and partition (INVALID_PRODUCER_EPOCH); nothing was indexed.
    InvalidProducerEpoch,
    /// The batch's own fields are refused (INVALID_RECORD): a negative
    /// producer id, epoch or base sequence, or an offset count outside 1 to
    /// 2^31. Nothing was indexed; the other batches of the commit are
    /// judged as if it were not there.
    InvalidRecord,
    /// A transactional batch whose producer has no ongoing transaction on
    /// the partition at its epoch (INVALID_TXN_STATE, the answer of Kafka's
    /// KIP-890 verification): the partition was never added to the
    /// transaction, or the transaction ended. Nothing was indexed. (A
    /// producer whose transactional id has moved to a newer epoch gets
    /// [`BatchOutcome::InvalidProducerEpoch`] instead, as Kafka answers a
    /// fenced or timed-out producer.)
    InvalidTxnState,
}

/// A partition's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffsets {
    /// First offset still readable.
    pub log_start_offset: i64,
    /// Next offset to be assigned (the high watermark).
    pub high_watermark: i64,
    /// The first offset of the oldest transaction still open on the
    /// partition, or the high watermark if none is: read_committed
    /// consumers see nothing at or above it.
    pub last_stable_offset: i64,
    /// The last offset of the newest aborted transaction range ever
    /// recorded on the partition, -1 if none: a read of offsets above it
    /// needs no aborted-transaction lookup.
    pub last_aborted_offset: i64,
}

/// An idempotent producer's state on a partition: its newest batch there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerState {
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch in that batch.
    pub producer_epoch: i16,
    /// The sequence number of the batch's last record.
    pub last_sequence: i32,
    /// When the batch was committed, in ms since the epoch.
    pub last_written_ms: i64,
}

/// What [`crate::MetadataStore::delete_records`] did to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedRecords {
    /// The records below the returned log start offset (the partition's new
    /// low watermark) are gone.
    LogStart(i64),
    /// The offset asked for is negative or above the high watermark
    /// (OFFSET_OUT_OF_RANGE); nothing changed.
    OutOfRange {
        /// The partition's high watermark.
        high_watermark: i64,
    },
    /// No such topic or partition.
    UnknownPartition,
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

/// An agent registered in the metadata store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    /// Broker id given to clients; unique, never reused.
    pub node_id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: i32,
    /// Availability zone, if the agent has one.
    pub zone: Option<String>,
    /// Advertised address of each listener, `NAME://host:port,…`; empty
    /// when the agent has only `host:port` (a PLAINTEXT listener).
    pub listeners: String,
}

/// A consumer group as its coordinator persists it after each rebalance, so
/// that another agent can take the group over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The group id.
    pub group_id: String,
    /// Generation; bumped by each completed rebalance. 0 for a group that
    /// never completed one.
    pub generation: i32,
    /// `protocol_type` of the members (`consumer` for consumers).
    pub protocol_type: Option<String>,
    /// The chosen protocol (assignor name), once chosen.
    pub protocol: Option<String>,
    /// Member id of the leader, once chosen.
    pub leader: Option<String>,
    /// The members and their assignments.
    pub members: Vec<GroupMember>,
}

/// One member of a [`GroupState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// Member id given by the coordinator.
    pub member_id: String,
    /// `group.instance.id` of a static member.
    pub group_instance_id: Option<String>,
    /// The member's client id.
    pub client_id: String,
    /// The member's host as the coordinator saw it.
    pub client_host: String,
    /// Session timeout asked by the member.
    pub session_timeout_ms: i32,
    /// Rebalance timeout asked by the member.
    pub rebalance_timeout_ms: i32,
    /// The member's metadata for the chosen protocol (its subscription).
    pub metadata: Vec<u8>,
    /// The assignment the leader gave it in the last SyncGroup.
    pub assignment: Vec<u8>,
}

/// A group's committed offset for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    /// Topic of the partition.
    pub topic_id: TopicId,
    /// Partition.
    pub partition: i32,
    /// The committed offset (the next record to consume).
    pub offset: i64,
    /// Leader epoch of the record before the offset, -1 if unknown.
    pub leader_epoch: i32,
    /// Client metadata; must round-trip exactly (`None` stays `None`).
    pub metadata: Option<String>,
    /// When it was committed, in ms since the epoch, by the committer's clock.
    pub commit_timestamp_ms: i64,
}

/// A committed segment that no index row points at any more: every batch
/// of it was deleted with its topic, or none of them was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreferencedSegment {
    /// The segment's id.
    pub id: SegmentId,
    /// Key of its object in the object store.
    pub object_key: String,
}

/// Proof that a background job holds its lease (see
/// [`crate::MetadataStore::acquire_lease`]). Every write the job makes
/// carries it, and the store refuses the write with
/// [`crate::MetadataError::LeaseLost`] unless this token still holds the
/// lease, checked in the write's own transaction: an agent that lost the
/// lease (paused, cut off, slow) never writes after another took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFence {
    /// The job's name, the lease's key.
    pub job: String,
    /// Grows whenever the lease changes hands or lapses.
    pub token: i64,
}

/// What [`crate::MetadataStore::apply_retention`] removes from a partition:
/// the index rows from the log start up to the first one either limit
/// keeps, and never more than `max_rows` of them in one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Rows all of whose records are older than this (ms since the epoch)
    /// go (`retention.ms`); `None` keeps them.
    pub older_than_ms: Option<i64>,
    /// Rows go, oldest first, while the rows after them hold at least this
    /// many bytes (`retention.bytes`); `None` keeps them.
    pub max_bytes: Option<i64>,
    /// Most rows one call deletes, so a large backlog goes over several
    /// short transactions.
    pub max_rows: u32,
}

/// What one [`crate::MetadataStore::apply_retention`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retained {
    /// The partition's log start offset after the call.
    pub log_start_offset: i64,
    /// Index rows deleted.
    pub rows_deleted: u64,
}

/// What one [`crate::MetadataStore::prune`] call deleted, in rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Rows of stored commit outcomes.
    pub outcomes: u64,
    /// Rows of idempotent producers' batch histories.
    pub producer_batches: u64,
}

/// A group's position on one partition, as [`crate::MetadataStore::group_lag`]
/// reports it: lag is `high_watermark - committed_offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionLag {
    /// Name of the topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The group's committed offset (the next record it will consume).
    pub committed_offset: i64,
    /// The partition's high watermark.
    pub high_watermark: i64,
}

/// A group as listed by [`crate::MetadataStore::list_groups`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// `protocol_type`, if the group ever had members.
    pub protocol_type: Option<String>,
    /// Whether the group has members in its stored state.
    pub has_members: bool,
}

/// A user's SCRAM credential for one mechanism (RFC 5802): what is stored
/// instead of the password. PLAIN checks a password against it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// The user name (the principal's name).
    pub user: String,
    /// `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// The salt of the salted password.
    pub salt: Vec<u8>,
    /// `H(ClientKey)`: what a client's proof is checked against.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`: signs the server's answer.
    pub server_key: Vec<u8>,
    /// PBKDF2 iterations (4096 to 16384, Kafka's bounds).
    pub iterations: i32,
}
