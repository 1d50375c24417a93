//! Committing a segment: the sequencer. One transaction assigns the offsets
//! of every partition in the segment file and indexes them.

use std::collections::HashMap;

use sqlx::SqliteConnection;

use super::SqliteStore;
use super::rows::OutcomeRecord;
use crate::convert::{stored_uuid, to_i64};
use crate::{CommitEntry, CommitOutcome, MetadataError, Result, SegmentCommit, TopicId, validate};

const SEGMENT_INSERT: &str = include_str!("../../queries/sqlite/segment_insert.sql");
const SEGMENT_OUTCOMES: &str = include_str!("../../queries/sqlite/segment_outcomes.sql");
const PARTITION_ADVANCE: &str = include_str!("../../queries/sqlite/partition_advance.sql");
const INDEX_ROW_INSERT: &str = include_str!("../../queries/sqlite/index_row_insert.sql");

/// Commits `commit` in one transaction, or returns the outcomes of its
/// earlier commit if its segment id is already committed.
pub(super) async fn commit_segment(
    store: &SqliteStore,
    commit: &SegmentCommit,
) -> Result<Vec<CommitOutcome>> {
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
        let outcomes = stored_outcomes(&mut write.tx, commit).await?;
        write.tx.rollback().await?;
        tracing::debug!(segment = %commit.segment_id, "segment already committed");
        return Ok(outcomes);
    }

    let mut outcomes = Vec::with_capacity(commit.entries.len());
    for entry in &commit.entries {
        outcomes.push(commit_entry(&mut write.tx, commit, entry).await?);
    }
    write.commit().await?;
    tracing::debug!(
        segment = %commit.segment_id,
        bytes = commit.size,
        partitions = commit.entries.len(),
        "committed segment"
    );
    Ok(outcomes)
}

/// Takes the entry's offsets from its partition and indexes them.
async fn commit_entry(
    conn: &mut SqliteConnection,
    commit: &SegmentCommit,
    entry: &CommitEntry,
) -> Result<CommitOutcome> {
    let base_offset: Option<i64> = sqlx::query_scalar(PARTITION_ADVANCE)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .bind(entry.offset_count)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(base_offset) = base_offset else {
        tracing::info!(
            segment = %commit.segment_id,
            topic_id = %entry.topic_id,
            partition = entry.partition,
            "partition gone before its segment was committed"
        );
        return Ok(CommitOutcome::UnknownPartition);
    };
    let last_offset = base_offset
        .checked_add(entry.offset_count - 1)
        .ok_or_else(|| {
            MetadataError::Corrupt(format!(
                "offsets of {}/{} overflow",
                entry.topic_id, entry.partition
            ))
        })?;
    sqlx::query(INDEX_ROW_INSERT)
        .bind(entry.topic_id)
        .bind(entry.partition)
        .bind(base_offset)
        .bind(last_offset)
        .bind(commit.segment_id)
        .bind(to_i64(entry.byte_offset, "byte offset")?)
        .bind(to_i64(entry.byte_len, "byte length")?)
        .bind(entry.max_timestamp)
        .execute(&mut *conn)
        .await?;
    Ok(CommitOutcome::Committed {
        base_offset,
        last_offset,
    })
}

/// The outcomes of an already committed segment, read back from its index
/// rows, in the order of `commit`'s entries. An entry without a row (its
/// partition was gone at the first commit, or deleted since) is
/// [`CommitOutcome::UnknownPartition`].
async fn stored_outcomes(
    conn: &mut SqliteConnection,
    commit: &SegmentCommit,
) -> Result<Vec<CommitOutcome>> {
    let records: Vec<OutcomeRecord> = sqlx::query_as(SEGMENT_OUTCOMES)
        .bind(commit.segment_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut stored: HashMap<(TopicId, i64), CommitOutcome> = HashMap::new();
    for record in records {
        let topic_id = stored_uuid(&record.topic_id, "topic id")?;
        stored.insert(
            (topic_id, record.partition),
            CommitOutcome::Committed {
                base_offset: record.base_offset,
                last_offset: record.last_offset,
            },
        );
    }
    Ok(commit
        .entries
        .iter()
        .map(|entry| {
            stored
                .get(&(entry.topic_id, i64::from(entry.partition)))
                .copied()
                .unwrap_or(CommitOutcome::UnknownPartition)
        })
        .collect())
}
