//! Committing a segment: the whole segment goes to `floe_commit_segment` as
//! one array per batch field, in a single round trip.

use sqlx::PgPool;

use crate::convert::to_i64;
use crate::outcomes::{OutcomeArrays, regroup};
use crate::{BatchOutcome, BatchTxn, MetadataError, Result, SegmentCommit, TopicId, validate};

/// The row `commit_segment.sql` answers: the outcomes, and the log start of
/// each entry's partition.
#[derive(Debug, sqlx::FromRow)]
struct CommitRow {
    #[sqlx(flatten)]
    stored: OutcomeArrays,
    log_start_offsets: Vec<i64>,
}

const COMMIT_SEGMENT: &str = include_str!("../../queries/postgres/commit_segment.sql");
const COMMIT_TXN_SEGMENT: &str = include_str!("../../queries/postgres/commit_txn_segment.sql");

/// `p_txn_kinds` of `floe_commit_txn_segment`, by [`BatchTxn`].
fn txn_kind(txn: BatchTxn) -> i16 {
    match txn {
        BatchTxn::None => 0,
        BatchTxn::Data => 1,
        BatchTxn::Marker { commit: true, .. } => 2,
        BatchTxn::Marker { commit: false, .. } => 3,
    }
}

/// The batches of a commit as the function's parallel arrays.
#[derive(Debug, Default)]
struct BatchArrays {
    entry_indexes: Vec<i32>,
    topic_ids: Vec<TopicId>,
    partitions: Vec<i32>,
    byte_offsets: Vec<i64>,
    byte_lens: Vec<i64>,
    offset_counts: Vec<i64>,
    max_timestamps: Vec<i64>,
    producer_ids: Vec<Option<i64>>,
    producer_epochs: Vec<i16>,
    base_sequences: Vec<i32>,
    /// Per batch, its [`txn_kind`].
    txn_kinds: Vec<i16>,
    /// Whether any batch is transactional or a marker.
    transactional: bool,
    /// One per entry: its topic and partition, for the log starts.
    entry_topic_ids: Vec<TopicId>,
    entry_partitions: Vec<i32>,
}

impl BatchArrays {
    /// Flattens the entries of a validated commit, entry by entry.
    fn new(commit: &SegmentCommit) -> Result<BatchArrays> {
        let mut arrays = BatchArrays::default();
        for (entry_index, entry) in commit.entries.iter().enumerate() {
            let entry_index = i32::try_from(entry_index).map_err(|_| {
                MetadataError::Invalid(format!(
                    "segment {} has too many entries",
                    commit.segment_id
                ))
            })?;
            arrays.entry_topic_ids.push(entry.topic_id);
            arrays.entry_partitions.push(entry.partition);
            for batch in &entry.batches {
                arrays.entry_indexes.push(entry_index);
                arrays.topic_ids.push(entry.topic_id);
                arrays.partitions.push(entry.partition);
                arrays
                    .byte_offsets
                    .push(to_i64(batch.byte_offset, "byte offset")?);
                arrays
                    .byte_lens
                    .push(to_i64(batch.byte_len, "byte length")?);
                arrays.offset_counts.push(batch.offset_count);
                arrays.max_timestamps.push(batch.max_timestamp);
                // A marker's producer goes in the producer columns, which
                // floe_commit_txn_segment reads as the transaction's.
                let (producer_id, producer_epoch) = match batch.txn {
                    BatchTxn::Marker {
                        producer_id,
                        producer_epoch,
                        ..
                    } => (Some(producer_id), producer_epoch),
                    _ => (
                        batch.producer.map(|producer| producer.producer_id),
                        batch.producer.map_or(0, |producer| producer.producer_epoch),
                    ),
                };
                arrays.producer_ids.push(producer_id);
                arrays.producer_epochs.push(producer_epoch);
                arrays.txn_kinds.push(txn_kind(batch.txn));
                arrays.transactional |= batch.txn != BatchTxn::None;
                arrays
                    .base_sequences
                    .push(batch.producer.map_or(0, |producer| producer.base_sequence));
            }
        }
        Ok(arrays)
    }
}

/// What a commit returns to the store.
#[derive(Debug)]
pub(super) struct Committed {
    /// One outcome per batch, per entry.
    pub(super) outcomes: Vec<Vec<BatchOutcome>>,
    /// One per entry: its partition's log start offset (-1: gone).
    pub(super) log_start_offsets: Vec<i64>,
    /// Whether listeners should be woken: the segment may have been
    /// committed by this call and something was appended.
    pub(super) notify: bool,
}

/// Commits `commit` in one statement, or returns the outcomes of its
/// earlier commit if its segment id is already committed.
pub(super) async fn commit_segment(pool: &PgPool, commit: &SegmentCommit) -> Result<Committed> {
    validate::segment_commit(commit)?;
    let size = to_i64(commit.size, "segment size")?;
    let arrays = BatchArrays::new(commit)?;
    // One attempt, no retry here: the flusher is the one layer that retries
    // a commit (keyed by its segment id) until its outcome is known.
    // A segment without transactional batches or markers goes straight to
    // floe_commit_segment: plain commits pay nothing for transactions.
    let query = if arrays.transactional {
        COMMIT_TXN_SEGMENT
    } else {
        COMMIT_SEGMENT
    };
    let mut statement = sqlx::query_as(query)
        .bind(commit.segment_id)
        .bind(&commit.object_key)
        .bind(size)
        .bind(&arrays.entry_indexes)
        .bind(&arrays.topic_ids)
        .bind(&arrays.partitions)
        .bind(&arrays.byte_offsets)
        .bind(&arrays.byte_lens)
        .bind(&arrays.offset_counts)
        .bind(&arrays.max_timestamps)
        .bind(&arrays.producer_ids)
        .bind(&arrays.producer_epochs)
        .bind(&arrays.base_sequences)
        .bind(&arrays.entry_topic_ids)
        .bind(&arrays.entry_partitions);
    if arrays.transactional {
        statement = statement.bind(&arrays.txn_kinds);
    }
    let row: CommitRow = statement.fetch_one(pool).await?;
    let CommitRow {
        stored,
        log_start_offsets,
    } = row;
    if log_start_offsets.len() != commit.entries.len() {
        return Err(MetadataError::Corrupt(format!(
            "commit answered {} log starts for {} entries",
            log_start_offsets.len(),
            commit.entries.len()
        )));
    }
    let fresh = stored.committed;
    let outcomes = regroup(stored.into_rows()?, commit)?;
    // A retry finds the segment committed and notifies nobody: when the
    // first attempt's answer was lost, listeners learn of it when they poll.
    let notify = fresh
        && outcomes
            .iter()
            .flatten()
            .any(|outcome| matches!(outcome, BatchOutcome::Appended { .. }));
    tracing::debug!(
        segment = %commit.segment_id,
        bytes = commit.size,
        partitions = commit.entries.len(),
        fresh,
        "committed segment"
    );
    Ok(Committed {
        outcomes,
        log_start_offsets,
        notify,
    })
}
