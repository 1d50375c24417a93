//! The made-up topics and segments the benchmark commits: one batch per
//! partition, back to back in one segment, as an agent's upload would hold.

use std::collections::BTreeMap;

use anyhow::{Result, ensure};
use floe_metadata::{
    BatchEntry, BatchOutcome, CommitEntry, MetadataStore, NewTopic, ProducerBatch, SegmentCommit,
    Topic, TopicId,
};

/// Records per batch; also the offsets each batch takes.
pub const OFFSETS_PER_BATCH: i64 = 10;
/// Bytes per batch in the made-up segments.
const BYTES_PER_BATCH: u64 = 1_000;
/// Bytes before the first batch (the segment header).
const HEADER_BYTES: u64 = 12;

pub async fn create_topic(store: &dyn MetadataStore, name: &str, partitions: i32) -> Result<Topic> {
    Ok(store
        .create_topic(NewTopic {
            name: name.to_string(),
            partitions,
            config: BTreeMap::new(),
        })
        .await?)
}

/// A segment holding one batch for each of `partitions` of `topic`, back to
/// back; with `producer`, batches of that idempotent producer at epoch 0
/// starting at `base_sequence` on every partition.
pub fn segment(
    topic: TopicId,
    partitions: impl IntoIterator<Item = i32>,
    producer: Option<(i64, i32)>,
) -> SegmentCommit {
    let segment_id = uuid::Uuid::now_v7();
    let mut position = HEADER_BYTES;
    let entries: Vec<CommitEntry> = partitions
        .into_iter()
        .map(|partition| {
            let batch = BatchEntry {
                byte_offset: position,
                byte_len: BYTES_PER_BATCH,
                offset_count: OFFSETS_PER_BATCH,
                max_timestamp: 1_700_000_000_000,
                producer: producer.map(|(producer_id, base_sequence)| ProducerBatch {
                    producer_id,
                    producer_epoch: 0,
                    base_sequence,
                }),
                txn: floe_metadata::BatchTxn::None,
            };
            position += BYTES_PER_BATCH;
            CommitEntry {
                topic_id: topic,
                partition,
                batches: vec![batch],
            }
        })
        .collect();
    SegmentCommit {
        segment_id,
        object_key: format!("segments/{segment_id}.floe"),
        size: position + 64,
        entries,
    }
}

/// Fails unless every batch was appended.
pub fn ensure_appended(outcomes: &[Vec<BatchOutcome>]) -> Result<()> {
    for outcome in outcomes.iter().flatten() {
        ensure!(
            matches!(outcome, BatchOutcome::Appended { .. }),
            "a batch was not appended: {outcome:?}"
        );
    }
    Ok(())
}

/// Successive segments touching every partition of one topic, for the
/// sequential cases: of a plain producer, or of one idempotent producer
/// whose sequences follow on from each segment to the next (so that every
/// batch is accepted).
#[derive(Debug)]
pub struct SegmentSeries {
    topic: TopicId,
    partitions: i32,
    producer: Option<i64>,
    made: i64,
}

impl SegmentSeries {
    /// Segments of `producer` (idempotent), or of a plain producer.
    pub fn new(topic: &Topic, producer: Option<i64>) -> SegmentSeries {
        SegmentSeries {
            topic: topic.id,
            partitions: topic.partitions,
            producer,
            made: 0,
        }
    }

    /// The next segment; fails once the sequences no longer fit an `i32`.
    pub fn next_segment(&mut self) -> Result<SegmentCommit> {
        let sequence = i32::try_from(self.made * OFFSETS_PER_BATCH)?;
        self.made += 1;
        Ok(segment(
            self.topic,
            0..self.partitions,
            self.producer.map(|id| (id, sequence)),
        ))
    }
}
