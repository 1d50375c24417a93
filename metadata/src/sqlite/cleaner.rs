//! The log cleaner: its view of a compacted topic's partitions, and the swap
//! of a cleaned stretch of one partition, in one write transaction
//! (SQLite's single writer is the lock on every partition).

use super::SqliteStore;
use super::params::ids_json;
use crate::cleaner::validate_clean;
use crate::convert::{stored_u64, to_i64};
use crate::{
    CleanSwap, CleanerPartition, CleanerProgress, JobFence, MetadataError, Result, SegmentId,
    TopicId,
};

const PARTITIONS: &str = include_str!("../../queries/sqlite/cleaner_partitions.sql");
const PROGRESS: &str = include_str!("../../queries/sqlite/cleaner_progress_upsert.sql");
const OLD_ROW: &str = include_str!("../../queries/sqlite/compaction_old_row.sql");
const INSERT_SEGMENT: &str = include_str!("../../queries/sqlite/compaction_segment_insert.sql");
const DELETE_ROW: &str = include_str!("../../queries/sqlite/compaction_delete_row.sql");
const INSERT_ROW: &str = include_str!("../../queries/sqlite/index_row_insert.sql");
const RETIRE_CANDIDATES: &str =
    include_str!("../../queries/sqlite/compaction_retire_candidates.sql");
const RETIRE_INPUTS: &str = include_str!("../../queries/sqlite/compaction_retire_inputs.sql");
const PRUNE_ABORTED: &str = include_str!("../../queries/sqlite/cleaner_prune_aborted.sql");

type PartitionRecord = (
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
);

/// See [`crate::MetadataStore::cleaner_partitions`].
pub(super) async fn partitions(
    store: &SqliteStore,
    topic: TopicId,
) -> Result<Vec<CleanerPartition>> {
    let rows: Vec<PartitionRecord> = sqlx::query_as(PARTITIONS)
        .bind(topic)
        .fetch_all(&store.pool)
        .await?;
    rows.into_iter()
        .map(
            |(partition, start, hw, cleaned, below, pending, deadline, total, dirty, first)| {
                Ok(CleanerPartition {
                    partition: i32::try_from(partition)
                        .map_err(|_| MetadataError::Corrupt(format!("partition {partition}")))?,
                    log_start_offset: start,
                    high_watermark: hw,
                    total_bytes: stored_u64(total, "partition bytes")?,
                    dirty_bytes: stored_u64(dirty, "dirty bytes")?,
                    first_dirty_timestamp: first,
                    progress: CleanerProgress {
                        cleaned_offset: cleaned,
                        tombstones_removable_below: below,
                        pending_tombstones: pending.zip(deadline),
                    },
                })
            },
        )
        .collect()
}

/// See [`crate::MetadataStore::swap_cleaned`].
pub(super) async fn swap(store: &SqliteStore, swap: &CleanSwap, fence: &JobFence) -> Result<bool> {
    validate_clean(swap)?;
    let mut write = store.begin_write().await?;
    super::leases::check_fence(&mut write.tx, fence).await?;
    for r in &swap.old {
        let n: i64 = sqlx::query_scalar(OLD_ROW)
            .bind(r.topic_id)
            .bind(r.partition)
            .bind(r.base_offset)
            .bind(r.last_offset)
            .bind(r.segment_id)
            .bind(to_i64(r.byte_offset, "byte offset")?)
            .bind(to_i64(r.byte_len, "byte length")?)
            .fetch_one(&mut *write.tx)
            .await?;
        if n != 1 {
            write.tx.rollback().await?;
            return Ok(false);
        }
    }
    if let Some(segment) = &swap.segment {
        // Not compactable: cleaned segments are rewritten by the next
        // clean, not merged.
        sqlx::query(INSERT_SEGMENT)
            .bind(segment.id)
            .bind(&segment.object_key)
            .bind(to_i64(segment.size, "segment size")?)
            .bind(0)
            .bind(false)
            .execute(&mut *write.tx)
            .await?;
    }
    for r in &swap.old {
        sqlx::query(DELETE_ROW)
            .bind(swap.topic_id)
            .bind(swap.partition)
            .bind(r.base_offset)
            .execute(&mut *write.tx)
            .await?;
    }
    if let Some(segment) = &swap.segment {
        for n in &swap.new {
            sqlx::query(INSERT_ROW)
                .bind(swap.topic_id)
                .bind(swap.partition)
                .bind(n.base_offset)
                .bind(n.last_offset)
                .bind(segment.id)
                .bind(to_i64(n.byte_offset, "byte offset")?)
                .bind(to_i64(n.byte_len, "byte length")?)
                .bind(n.max_timestamp)
                .execute(&mut *write.tx)
                .await?;
        }
    }
    let mut inputs: Vec<SegmentId> = swap.old.iter().map(|r| r.segment_id).collect();
    inputs.sort_unstable();
    inputs.dedup();
    let inputs = ids_json(&inputs)?;
    for statement in [RETIRE_CANDIDATES, RETIRE_INPUTS] {
        sqlx::query(statement)
            .bind(&inputs)
            .execute(&mut *write.tx)
            .await?;
    }
    for offset in &swap.dropped_aborts {
        sqlx::query(PRUNE_ABORTED)
            .bind(swap.topic_id)
            .bind(swap.partition)
            .bind(offset)
            .execute(&mut *write.tx)
            .await?;
    }
    if let Some(p) = &swap.progress {
        sqlx::query(PROGRESS)
            .bind(swap.topic_id)
            .bind(swap.partition)
            .bind(p.cleaned_offset)
            .bind(p.tombstones_removable_below)
            .bind(p.pending_tombstones.map(|(offset, _)| offset))
            .bind(p.pending_tombstones.map(|(_, deadline)| deadline))
            .execute(&mut *write.tx)
            .await?;
    }
    write.commit().await?;
    Ok(true)
}
