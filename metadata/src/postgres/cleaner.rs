//! The log cleaner: its view of a compacted topic's partitions, and the swap
//! of a cleaned stretch of one partition, in one transaction holding the
//! partition's lock (as commits, retention and compaction take it).

use sqlx::PgPool;

use crate::cleaner::validate_clean;
use crate::convert::{stored_u64, to_i64};
use crate::{
    CleanSwap, CleanerPartition, CleanerProgress, JobFence, Result, SegmentId, SegmentRow, TopicId,
};

const PARTITIONS: &str = include_str!("../../queries/postgres/cleaner_partitions.sql");
const PROGRESS: &str = include_str!("../../queries/postgres/cleaner_progress_upsert.sql");
const LOCK: &str = include_str!("../../queries/postgres/compaction_lock.sql");
const OLD_ROWS: &str = include_str!("../../queries/postgres/compaction_old_rows.sql");
const INSERT_SEGMENT: &str = include_str!("../../queries/postgres/compaction_segment_insert.sql");
const DELETE_ROWS: &str = include_str!("../../queries/postgres/compaction_delete_rows.sql");
const INSERT_ROWS: &str = include_str!("../../queries/postgres/compaction_insert_rows.sql");
const RETIRE_INPUTS: &str = include_str!("../../queries/postgres/compaction_retire_inputs.sql");
const PRUNE_ABORTED: &str = include_str!("../../queries/postgres/cleaner_prune_aborted.sql");

type PartitionRecord = (
    i32,
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
pub(super) async fn partitions(pool: &PgPool, topic: TopicId) -> Result<Vec<CleanerPartition>> {
    let rows: Vec<PartitionRecord> = sqlx::query_as(PARTITIONS)
        .bind(topic)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(
            |(partition, start, hw, cleaned, below, pending, deadline, total, dirty, first)| {
                Ok(CleanerPartition {
                    partition,
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
pub(super) async fn swap(pool: &PgPool, swap: &CleanSwap, fence: &JobFence) -> Result<bool> {
    validate_clean(swap)?;
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    sqlx::query(LOCK)
        .bind(vec![swap.topic_id])
        .bind(vec![swap.partition])
        .fetch_all(&mut *tx)
        .await?;
    let old: &[SegmentRow] = &swap.old;
    let still: Vec<(TopicId, i32, i64)> = sqlx::query_as(OLD_ROWS)
        .bind(old.iter().map(|r| r.topic_id).collect::<Vec<_>>())
        .bind(old.iter().map(|r| r.partition).collect::<Vec<_>>())
        .bind(old.iter().map(|r| r.base_offset).collect::<Vec<_>>())
        .bind(old.iter().map(|r| r.last_offset).collect::<Vec<_>>())
        .bind(old.iter().map(|r| r.segment_id).collect::<Vec<_>>())
        .bind(byte_values(old.iter().map(|r| r.byte_offset))?)
        .bind(byte_values(old.iter().map(|r| r.byte_len))?)
        .fetch_all(&mut *tx)
        .await?;
    let unchanged = still.first().map(|(_, _, n)| *n) == Some(old.len() as i64);
    if !unchanged {
        tx.rollback().await?;
        return Ok(false);
    }
    let n = old.len();
    sqlx::query(DELETE_ROWS)
        .bind(vec![swap.topic_id; n])
        .bind(vec![swap.partition; n])
        .bind(old.iter().map(|r| r.base_offset).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    if let Some(segment) = &swap.segment {
        // Not compactable: cleaned segments are rewritten by the next
        // clean, not merged.
        sqlx::query(INSERT_SEGMENT)
            .bind(segment.id)
            .bind(&segment.object_key)
            .bind(to_i64(segment.size, "segment size")?)
            .bind(0i32)
            .bind(false)
            .execute(&mut *tx)
            .await?;
        let n = swap.new.len();
        sqlx::query(INSERT_ROWS)
            .bind(vec![swap.topic_id; n])
            .bind(vec![swap.partition; n])
            .bind(swap.new.iter().map(|r| r.base_offset).collect::<Vec<_>>())
            .bind(swap.new.iter().map(|r| r.last_offset).collect::<Vec<_>>())
            .bind(segment.id)
            .bind(byte_values(swap.new.iter().map(|r| r.byte_offset))?)
            .bind(byte_values(swap.new.iter().map(|r| r.byte_len))?)
            .bind(swap.new.iter().map(|r| r.max_timestamp).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
    }
    let mut inputs: Vec<SegmentId> = old.iter().map(|r| r.segment_id).collect();
    inputs.sort_unstable();
    inputs.dedup();
    sqlx::query(RETIRE_INPUTS)
        .bind(&inputs)
        .execute(&mut *tx)
        .await?;
    if !swap.dropped_aborts.is_empty() {
        sqlx::query(PRUNE_ABORTED)
            .bind(swap.topic_id)
            .bind(swap.partition)
            .bind(&swap.dropped_aborts)
            .execute(&mut *tx)
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
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

fn byte_values(values: impl Iterator<Item = u64>) -> Result<Vec<i64>> {
    values.map(|v| to_i64(v, "byte position")).collect()
}
