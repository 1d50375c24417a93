//! Builders shared by the contract tests.

use std::collections::BTreeMap;

use floe_metadata::{
    BatchEntry, BatchOutcome, CommitEntry, IndexRow, JobFence, MetadataStore, NewTopic,
    ProducerBatch, RetentionPolicy, SegmentCommit, Topic, TopicId,
};

/// Bytes each offset takes in the made-up segments.
pub const BYTES_PER_OFFSET: u64 = 100;

/// Bytes before the first batch of a made-up segment (its header).
pub const HEADER_BYTES: u64 = 64;

/// Takes the lease of `job` for a holder of its own, failing the test if
/// another holds it: the fence the job-only writes need.
pub async fn lease(store: &dyn MetadataStore, job: &str) -> anyhow::Result<JobFence> {
    store
        .acquire_lease(
            job,
            &format!("test-{job}"),
            std::time::Duration::from_secs(60),
            std::time::Duration::ZERO,
        )
        .await?
        .ok_or_else(|| anyhow::anyhow!("lease of {job} is held"))
}

/// Time retention of one partition (rows whose records are all older than
/// `older_than_ms` go), under a lease of the test's: the log start after it.
pub async fn retain_by_time(
    store: &dyn MetadataStore,
    topic: TopicId,
    partition: i32,
    older_than_ms: i64,
) -> anyhow::Result<Option<i64>> {
    let policy = RetentionPolicy {
        older_than_ms: Some(older_than_ms),
        max_bytes: None,
        max_rows: 1_000,
    };
    let fence = lease(store, "retention").await?;
    let retained = store
        .apply_retention(topic, partition, &policy, &fence)
        .await?;
    Ok(retained.map(|r| r.log_start_offset))
}

/// A topic to create, without config overrides.
pub fn new_topic(name: &str, partitions: i32) -> NewTopic {
    NewTopic {
        name: name.to_string(),
        partitions,
        config: BTreeMap::new(),
    }
}

/// Creates a topic, failing the test if it cannot.
pub async fn create(
    store: &dyn MetadataStore,
    name: &str,
    partitions: i32,
) -> anyhow::Result<Topic> {
    Ok(store.create_topic(new_topic(name, partitions)).await?)
}

/// A batch of a plain (not idempotent) producer; its byte range is set by
/// [`segment`].
pub fn batch(offset_count: i64, max_timestamp: i64) -> BatchEntry {
    BatchEntry {
        byte_offset: 0,
        byte_len: 0,
        offset_count,
        max_timestamp,
        producer: None,
        txn: floe_metadata::BatchTxn::None,
    }
}

/// A batch of `offset_count` records of idempotent producer `producer_id`
/// at `epoch`, starting at sequence `base_sequence`.
pub fn idempotent(
    producer_id: i64,
    epoch: i16,
    base_sequence: i32,
    offset_count: i64,
) -> BatchEntry {
    BatchEntry {
        producer: Some(ProducerBatch {
            producer_id,
            producer_epoch: epoch,
            base_sequence,
        }),
        ..batch(offset_count, 1_000)
    }
}

/// One partition's slice of a segment holding one plain batch.
pub fn entry(topic: TopicId, partition: i32, offset_count: i64, max_timestamp: i64) -> CommitEntry {
    entry_of(topic, partition, vec![batch(offset_count, max_timestamp)])
}

/// One partition's slice of a segment holding `batches`.
pub fn entry_of(topic: TopicId, partition: i32, batches: Vec<BatchEntry>) -> CommitEntry {
    CommitEntry {
        topic_id: topic,
        partition,
        batches,
    }
}

/// A segment with a fresh id holding the batches of `entries` back to back
/// after a [`HEADER_BYTES`] header, each [`BYTES_PER_OFFSET`] bytes per
/// offset.
pub fn segment(entries: Vec<CommitEntry>) -> SegmentCommit {
    let segment_id = uuid::Uuid::new_v4();
    let mut position = HEADER_BYTES;
    let entries: Vec<CommitEntry> = entries
        .into_iter()
        .map(|mut entry| {
            for batch in &mut entry.batches {
                batch.byte_offset = position;
                batch.byte_len = u64::try_from(batch.offset_count).unwrap_or(0) * BYTES_PER_OFFSET;
                position += batch.byte_len;
            }
            entry
        })
        .collect();
    SegmentCommit {
        segment_id,
        object_key: format!(
            "segments/{:02x}/{segment_id}.floe",
            segment_id.as_bytes()[0]
        ),
        size: position + 32,
        entries,
    }
}

/// A segment holding one entry of `batches` for `partition` of `topic`.
pub fn one_entry(topic: TopicId, partition: i32, batches: Vec<BatchEntry>) -> SegmentCommit {
    segment(vec![entry_of(topic, partition, batches)])
}

/// The outcome `Appended { base_offset }`.
pub fn appended(base_offset: i64) -> BatchOutcome {
    BatchOutcome::Appended { base_offset }
}

/// The outcome `Duplicate { base_offset }`.
pub fn duplicate(base_offset: i64) -> BatchOutcome {
    BatchOutcome::Duplicate { base_offset }
}

/// The outcomes of a commit whose entries each hold one batch.
pub fn each(outcomes: impl IntoIterator<Item = BatchOutcome>) -> Vec<Vec<BatchOutcome>> {
    outcomes.into_iter().map(|outcome| vec![outcome]).collect()
}

/// The high watermark of a partition that must exist.
pub async fn high_watermark(
    store: &dyn MetadataStore,
    topic: TopicId,
    partition: i32,
) -> anyhow::Result<i64> {
    let offsets = store
        .partition_offsets(topic, partition)
        .await?
        .ok_or_else(|| anyhow::anyhow!("partition {topic}/{partition} is missing"))?;
    Ok(offsets.high_watermark)
}

/// Every index row of a partition, read page by page.
pub async fn all_rows(
    store: &dyn MetadataStore,
    topic: TopicId,
    partition: i32,
) -> anyhow::Result<Vec<IndexRow>> {
    let mut rows = Vec::new();
    let mut from = 0;
    loop {
        let page = store.index_rows(topic, partition, from, 64).await?;
        let Some(last) = page.last() else {
            return Ok(rows);
        };
        from = last.last_offset + 1;
        rows.extend(page);
    }
}

/// The `(base_offset, last_offset)` of every index row of a partition.
pub async fn row_ranges(
    store: &dyn MetadataStore,
    topic: TopicId,
    partition: i32,
) -> anyhow::Result<Vec<(i64, i64)>> {
    Ok(all_rows(store, topic, partition)
        .await?
        .into_iter()
        .map(|row| (row.base_offset, row.last_offset))
        .collect())
}
