//! Builders shared by the contract tests.

use std::collections::BTreeMap;

use floe_metadata::{
    CommitEntry, CommitOutcome, MetadataStore, NewTopic, SegmentCommit, Topic, TopicId,
};

/// Bytes each offset takes in the made-up segments.
pub const BYTES_PER_OFFSET: u64 = 100;

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

/// One partition's slice of a segment; its byte range is set by [`segment`].
pub fn entry(topic: TopicId, partition: i32, offset_count: i64, max_timestamp: i64) -> CommitEntry {
    CommitEntry {
        topic_id: topic,
        partition,
        byte_offset: 0,
        byte_len: 0,
        offset_count,
        max_timestamp,
    }
}

/// A segment with a fresh id holding `entries` back to back after a 64-byte
/// header, each [`BYTES_PER_OFFSET`] bytes per offset.
pub fn segment(entries: Vec<CommitEntry>) -> SegmentCommit {
    let segment_id = uuid::Uuid::new_v4();
    let mut position = 64;
    let entries: Vec<CommitEntry> = entries
        .into_iter()
        .map(|mut entry| {
            entry.byte_offset = position;
            entry.byte_len = u64::try_from(entry.offset_count).unwrap_or(0) * BYTES_PER_OFFSET;
            position += entry.byte_len;
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

/// The outcome `Committed { base_offset, last_offset }`.
pub fn committed(base_offset: i64, last_offset: i64) -> CommitOutcome {
    CommitOutcome::Committed {
        base_offset,
        last_offset,
    }
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
