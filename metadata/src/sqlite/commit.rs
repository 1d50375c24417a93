//! Committing a segment: the sequencer. One transaction checks every
//! batch of an idempotent producer, assigns the offsets of every partition
//! in the segment file, indexes them and records the outcomes.

use std::collections::{BTreeSet, HashMap, VecDeque};

use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::convert::{stored_epoch, to_i64};
use crate::outcomes::{StoredOutcome, regroup, to_stored};
use crate::sequencer::{EntryPlan, OngoingTxn, ProducerHistory, StoredBatch, plan_entry};
use crate::{
    BatchOutcome, BatchTxn, CommitEntry, CommittedSegment, MetadataError, Result, SegmentCommit,
    validate,
};

const SEGMENT_INSERT: &str = include_str!("../../queries/sqlite/segment_insert.sql");
const SEGMENT_OUTCOMES: &str = include_str!("../../queries/sqlite/segment_outcomes.sql");
const SEGMENT_OUTCOME_INSERT: &str =
    include_str!("../../queries/sqlite/segment_outcome_insert.sql");
const PARTITION_NEXT_OFFSET: &str = include_str!("../../queries/sqlite/partition_next_offset.sql");
const PARTITION_SET_NEXT_OFFSET: &str =
    include_str!("../../queries/sqlite/partition_set_next_offset.sql");
const PARTITION_LOG_START: &str = include_str!("../../queries/sqlite/partition_log_start.sql");
const INDEX_ROW_INSERT: &str = include_str!("../../queries/sqlite/index_row_insert.sql");
const PRODUCER_BATCHES_GET: &str = include_str!("../../queries/sqlite/producer_batches_get.sql");
const PRODUCER_BATCHES_CLEAR: &str =
    include_str!("../../queries/sqlite/producer_batches_clear.sql");
const PRODUCER_BATCH_INSERT: &str = include_str!("../../queries/sqlite/producer_batch_insert.sql");
const TXN_ONGOING_OF_PARTITION: &str =
    include_str!("../../queries/sqlite/txn_ongoing_of_partition.sql");
const TXN_ONGOING_SET_FIRST: &str = include_str!("../../queries/sqlite/txn_ongoing_set_first.sql");
const TXN_ONGOING_END: &str = include_str!("../../queries/sqlite/txn_ongoing_end.sql");
const TRANSACTIONAL_ID_NEWER_EPOCH: &str =
    include_str!("../../queries/sqlite/transactional_id_newer_epoch.sql");
const TXN_ABORTED_INSERT: &str = include_str!("../../queries/sqlite/txn_aborted_insert.sql");
const PARTITION_SET_LAST_ABORTED: &str =
    include_str!("../../queries/sqlite/partition_set_last_aborted.sql");

/// Commits `commit` in one transaction, or returns the outcomes of its
/// earlier commit if its segment id is already committed; with each entry's
/// partition log start either way.
pub(super) async fn commit_segment(
    store: &SqliteStore,
    commit: &SegmentCommit,
) -> Result<CommittedSegment> {
    validate::segment_commit(commit)?;
    let size = to_i64(commit.size, "segment size")?;

    let mut write = store.begin_write().await?;
    let inserted = sqlx::query(SEGMENT_INSERT)
        .bind(commit.segment_id)
        .bind(&commit.object_key)
        .bind(size)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    if inserted == 0 {
        // Already committed (a retry whose first answer was lost): change
        // nothing, answer as the first time.
        let stored: Vec<StoredOutcome> = sqlx::query_as(SEGMENT_OUTCOMES)
            .bind(commit.segment_id)
            .fetch_all(&mut *write.tx)
            .await?;
        let mut log_start_offsets = Vec::with_capacity(commit.entries.len());
        for entry in &commit.entries {
            let start: Option<i64> = sqlx::query_scalar(PARTITION_LOG_START)
                .bind(entry.topic_id)
                .bind(entry.partition)
                .fetch_optional(&mut *write.tx)
                .await?;
            log_start_offsets.push(start.unwrap_or(-1));
        }
        write.tx.rollback().await?;
        tracing::debug!(segment = %commit.segment_id, "segment already committed");
        return Ok(CommittedSegment {
            outcomes: regroup(stored, commit)?,
            log_start_offsets,
        });
    }

    let mut outcomes = Vec::with_capacity(commit.entries.len());
    let mut log_start_offsets = Vec::with_capacity(commit.entries.len());
    for (entry_index, entry) in commit.entries.iter().enumerate() {
        let (entry_outcomes, log_start) = commit_entry(&mut write.tx, commit, entry).await?;
        record_outcomes(&mut write.tx, commit, entry_index, &entry_outcomes).await?;
        outcomes.push(entry_outcomes);
        log_start_offsets.push(log_start);
    }
    write.commit().await?;
    tracing::debug!(
        segment = %commit.segment_id,
        bytes = commit.size,
        partitions = commit.entries.len(),
        "committed segment"
    );
    Ok(CommittedSegment {
        outcomes,
        log_start_offsets,
    })
}

/// Checks, sequences and indexes the batches of one entry; returns their
/// outcomes and the partition's log start offset (-1: gone).
async fn commit_entry(
    conn: &mut SqliteConnection,
    commit: &SegmentCommit,
    entry: &CommitEntry,
) -> Result<(Vec<BatchOutcome>, i64)> {
    let bounds: Option<(i64, i64)> = sqlx::query_as(PARTITION_NEXT_OFFSET)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((next_offset, log_start)) = bounds else {
        tracing::info!(
            segment = %commit.segment_id,
            topic_id = %entry.topic_id,
            partition = entry.partition,
            "partition gone before its segment was committed"
        );
        // Refused batches are refused whatever their partition, as the
        // Postgres function does.
        let outcomes = entry
            .batches
            .iter()
            .map(|batch| {
                if validate::batch_is_valid(batch) {
                    BatchOutcome::UnknownPartition
                } else {
                    BatchOutcome::InvalidRecord
                }
            })
            .collect();
        return Ok((outcomes, -1));
    };

    let producers: BTreeSet<i64> = entry
        .batches
        .iter()
        .filter_map(|batch| batch.producer.map(|producer| producer.producer_id))
        .collect();
    let mut histories = HashMap::with_capacity(producers.len());
    for producer_id in producers {
        if let Some(history) = load_history(conn, entry, producer_id).await? {
            histories.insert(producer_id, history);
        }
    }

    // Open transactions are read only for an entry with transactional
    // batches or markers: a plain commit reads nothing more.
    let transactional = entry
        .batches
        .iter()
        .any(|batch| batch.txn != BatchTxn::None);
    let mut ongoing = if transactional {
        load_ongoing(conn, entry).await?
    } else {
        HashMap::new()
    };
    let mut plan = plan_entry(entry, next_offset, &mut histories, &mut ongoing)?;
    if transactional {
        fenced_epochs(conn, entry, &mut plan.outcomes).await?;
    }
    for row in &plan.rows {
        sqlx::query(INDEX_ROW_INSERT)
            .bind(entry.topic_id)
            .bind(entry.partition)
            .bind(row.base_offset)
            .bind(row.last_offset)
            .bind(commit.segment_id)
            .bind(to_i64(row.byte_offset, "byte offset")?)
            .bind(to_i64(row.byte_len, "byte length")?)
            .bind(row.max_timestamp)
            .execute(&mut *conn)
            .await?;
    }
    if plan.next_offset != next_offset {
        sqlx::query(PARTITION_SET_NEXT_OFFSET)
            .bind(entry.topic_id)
            .bind(entry.partition)
            .bind(plan.next_offset)
            .execute(&mut *conn)
            .await?;
    }
    for producer_id in &plan.changed {
        if let Some(history) = histories.get(producer_id) {
            save_history(conn, entry, *producer_id, history).await?;
        }
    }
    if transactional {
        save_txn_effects(conn, entry, &plan).await?;
    }
    Ok((plan.outcomes, log_start))
}

/// Turns the refusal of a transactional batch whose producer's
/// transactional id has moved to a newer epoch into
/// [`BatchOutcome::InvalidProducerEpoch`], Kafka's answer to a fenced or
/// timed-out producer.
async fn fenced_epochs(
    conn: &mut SqliteConnection,
    entry: &CommitEntry,
    outcomes: &mut [BatchOutcome],
) -> Result<()> {
    for (outcome, batch) in outcomes.iter_mut().zip(&entry.batches) {
        if let (BatchOutcome::InvalidTxnState, Some(producer)) = (*outcome, batch.producer) {
            let newer: i64 = sqlx::query_scalar(TRANSACTIONAL_ID_NEWER_EPOCH)
                .bind(producer.producer_id)
                .bind(i64::from(producer.producer_epoch))
                .fetch_one(&mut *conn)
                .await?;
            if newer > 0 {
                *outcome = BatchOutcome::InvalidProducerEpoch;
            }
        }
    }
    Ok(())
}

/// The open transactions on the entry's partition, by producer.
async fn load_ongoing(
    conn: &mut SqliteConnection,
    entry: &CommitEntry,
) -> Result<HashMap<i64, OngoingTxn>> {
    let rows: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(TXN_ONGOING_OF_PARTITION)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|(producer_id, epoch, first_offset)| {
            Ok((
                producer_id,
                OngoingTxn {
                    epoch: stored_epoch(epoch)?,
                    first_offset,
                },
            ))
        })
        .collect()
}

/// Writes what the entry's transactional batches and markers did: first
/// offsets of transactions, ended transactions and aborted ranges.
async fn save_txn_effects(
    conn: &mut SqliteConnection,
    entry: &CommitEntry,
    plan: &EntryPlan,
) -> Result<()> {
    for producer_id in &plan.txn_started {
        let first = plan
            .outcomes
            .iter()
            .zip(&entry.batches)
            .find_map(|(outcome, batch)| match (outcome, batch.producer) {
                (BatchOutcome::Appended { base_offset }, Some(producer))
                    if batch.txn == BatchTxn::Data && producer.producer_id == *producer_id =>
                {
                    Some(*base_offset)
                }
                _ => None,
            });
        if let Some(first) = first {
            sqlx::query(TXN_ONGOING_SET_FIRST)
                .bind(entry.topic_id)
                .bind(entry.partition)
                .bind(producer_id)
                .bind(first)
                .execute(&mut *conn)
                .await?;
        }
    }
    for ended in &plan.txn_ended {
        sqlx::query(TXN_ONGOING_END)
            .bind(entry.topic_id)
            .bind(entry.partition)
            .bind(ended.producer_id)
            .execute(&mut *conn)
            .await?;
        if let (false, Some(first_offset)) = (ended.commit, ended.first_offset) {
            sqlx::query(TXN_ABORTED_INSERT)
                .bind(entry.topic_id)
                .bind(entry.partition)
                .bind(ended.producer_id)
                .bind(first_offset)
                .bind(ended.marker_offset)
                .execute(&mut *conn)
                .await?;
            sqlx::query(PARTITION_SET_LAST_ABORTED)
                .bind(entry.topic_id)
                .bind(entry.partition)
                .bind(ended.marker_offset)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// The stored history of a producer on the entry's partition, if any.
async fn load_history(
    conn: &mut SqliteConnection,
    entry: &CommitEntry,
    producer_id: i64,
) -> Result<Option<ProducerHistory>> {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(PRODUCER_BATCHES_GET)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .bind(producer_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut history: Option<ProducerHistory> = None;
    for (epoch, base_sequence, last_sequence, base_offset) in rows {
        let epoch = stored_epoch(epoch)?;
        let batch = StoredBatch {
            base_sequence: stored_sequence(base_sequence)?,
            last_sequence: stored_sequence(last_sequence)?,
            base_offset,
        };
        history
            .get_or_insert_with(|| ProducerHistory {
                epoch,
                batches: VecDeque::new(),
            })
            .batches
            .push_back(batch);
    }
    Ok(history)
}

/// Replaces the stored history of a producer on the entry's partition.
async fn save_history(
    conn: &mut SqliteConnection,
    entry: &CommitEntry,
    producer_id: i64,
    history: &ProducerHistory,
) -> Result<()> {
    sqlx::query(PRODUCER_BATCHES_CLEAR)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .bind(producer_id)
        .execute(&mut *conn)
        .await?;
    for batch in &history.batches {
        sqlx::query(PRODUCER_BATCH_INSERT)
            .bind(entry.topic_id)
            .bind(entry.partition)
            .bind(producer_id)
            .bind(history.epoch)
            .bind(batch.base_sequence)
            .bind(batch.last_sequence)
            .bind(batch.base_offset)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Stores what each batch of an entry became, for retries.
async fn record_outcomes(
    conn: &mut SqliteConnection,
    commit: &SegmentCommit,
    entry_index: usize,
    outcomes: &[BatchOutcome],
) -> Result<()> {
    let entry_index = to_i64(entry_index as u64, "entry index")?;
    for (batch_index, outcome) in outcomes.iter().enumerate() {
        let (kind, base_offset) = to_stored(*outcome);
        sqlx::query(SEGMENT_OUTCOME_INSERT)
            .bind(commit.segment_id)
            .bind(entry_index)
            .bind(to_i64(batch_index as u64, "batch index")?)
            .bind(kind)
            .bind(base_offset)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A stored sequence number, which must be a non-negative `i32`.
fn stored_sequence(value: i64) -> Result<i32> {
    i32::try_from(value)
        .ok()
        .filter(|sequence| *sequence >= 0)
        .ok_or_else(|| MetadataError::Corrupt(format!("producer sequence {value} out of range")))
}
