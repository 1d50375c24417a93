//! The [`MetadataStore`] trait: the one seam between agents and the database.

use async_trait::async_trait;

use crate::{
    CommitOutcome, IndexRow, NewTopic, PartitionOffsets, ProducerIdentity, Result, SegmentCommit,
    Topic, TopicId,
};

/// The metadata store. Every implementation passes the same contract suite
/// (`metadata/tests/contract.rs`).
#[async_trait]
pub trait MetadataStore: Send + Sync + std::fmt::Debug {
    /// Creates a topic with partitions `0..partitions`, each starting empty at
    /// offset 0. Fails with [`crate::MetadataError::TopicExists`] if the name
    /// is taken and [`crate::MetadataError::Invalid`] if `partitions < 1`.
    async fn create_topic(&self, topic: NewTopic) -> Result<Topic>;

    /// The topic with this name, if any.
    async fn topic_by_name(&self, name: &str) -> Result<Option<Topic>>;

    /// The topic with this id, if any.
    async fn topic_by_id(&self, id: TopicId) -> Result<Option<Topic>>;

    /// All topics, ordered by name.
    async fn list_topics(&self) -> Result<Vec<Topic>>;

    /// Deletes a topic, its partitions and its index rows. The segment files
    /// stay in object storage for garbage collection. Fails with
    /// [`crate::MetadataError::UnknownTopic`] if there is no such topic.
    async fn delete_topic(&self, id: TopicId) -> Result<()>;

    /// Commits a segment in one transaction: for each entry, in order, takes
    /// the partition's high watermark as base offset, advances it by
    /// `offset_count`, and inserts one index row. Returns one outcome per
    /// entry, in the same order. Idempotent by `segment_id`: committing a
    /// segment that is already committed changes nothing and returns the
    /// outcomes of the first commit.
    async fn commit_segment(&self, commit: &SegmentCommit) -> Result<Vec<CommitOutcome>>;

    /// The bounds of a partition, or `None` if it does not exist.
    async fn partition_offsets(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<PartitionOffsets>>;

    /// Index rows of a partition whose `last_offset >= from_offset`, ordered
    /// by `base_offset`, at most `limit` of them.
    async fn index_rows(
        &self,
        topic: TopicId,
        partition: i32,
        from_offset: i64,
        limit: u32,
    ) -> Result<Vec<IndexRow>>;

    /// The first index row (by offset) whose `max_timestamp >= timestamp`.
    async fn first_row_with_timestamp_at_least(
        &self,
        topic: TopicId,
        partition: i32,
        timestamp: i64,
    ) -> Result<Option<IndexRow>>;

    /// The index row holding the partition's largest timestamp (the first
    /// such row if several tie).
    async fn row_with_max_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<IndexRow>>;

    /// Hands out a producer id for InitProducerId. Without a transactional
    /// id: a fresh id with epoch 0. With one: the first call allocates a
    /// fresh id with epoch 0 and remembers it; later calls return the same id
    /// with the epoch bumped by one (a fresh id once the epoch would pass
    /// `i16::MAX - 1`), which fences the previous incarnation.
    async fn init_producer_id(&self, transactional_id: Option<&str>) -> Result<ProducerIdentity>;
}
