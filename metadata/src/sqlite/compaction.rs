//! Compaction: the segments it may merge, their rows, and the swap of the
//! merged rows for one row per run in the new segment, in one write
//! transaction (SQLite's single writer is the lock on every partition).

use super::SqliteStore;
use super::params::ids_json;
use crate::compaction::validate_swap;
use crate::convert::{stored_u64, stored_uuid, to_i64};
use crate::{
    CompactionCandidate, CompactionSwap, JobFence, Result, SegmentId, SegmentRow, SwapOutcome,
};

const CANDIDATES: &str = include_str!("../../queries/sqlite/compaction_candidates.sql");
const SEGMENT_ROWS: &str = include_str!("../../queries/sqlite/compaction_segment_rows.sql");
const OLD_ROW: &str = include_str!("../../queries/sqlite/compaction_old_row.sql");
const INSERT_SEGMENT: &str = include_str!("../../queries/sqlite/compaction_segment_insert.sql");
const DELETE_ROW: &str = include_str!("../../queries/sqlite/compaction_delete_row.sql");
const INSERT_ROW: &str = include_str!("../../queries/sqlite/index_row_insert.sql");
const RETIRE_CANDIDATES: &str =
    include_str!("../../queries/sqlite/compaction_retire_candidates.sql");
const RETIRE_INPUTS: &str = include_str!("../../queries/sqlite/compaction_retire_inputs.sql");

/// See [`crate::MetadataStore::compaction_candidates`].
pub(super) async fn candidates(
    store: &SqliteStore,
    level: i32,
    max_size: u64,
    limit: u32,
) -> Result<Vec<CompactionCandidate>> {
    let rows: Vec<(Vec<u8>, String, i64, i64)> = sqlx::query_as(CANDIDATES)
        .bind(level)
        .bind(to_i64(max_size, "size bound")?)
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await?;
    rows.into_iter()
        .map(|(id, object_key, size, stored_level)| {
            Ok(CompactionCandidate {
                id: stored_uuid(&id, "segment id")?,
                object_key,
                size: stored_u64(size, "segment size")?,
                level: i32::try_from(stored_level).map_err(|_| {
                    crate::MetadataError::Corrupt(format!("segment level {stored_level}"))
                })?,
            })
        })
        .collect()
}

type RowRecord = (Vec<u8>, i64, i64, i64, Vec<u8>, i64, i64, i64);

/// See [`crate::MetadataStore::segment_rows`].
pub(super) async fn segment_rows(
    store: &SqliteStore,
    segments: &[SegmentId],
    limit: u32,
) -> Result<Vec<SegmentRow>> {
    let rows: Vec<RowRecord> = sqlx::query_as(SEGMENT_ROWS)
        .bind(ids_json(segments)?)
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await?;
    rows.into_iter()
        .map(|(topic, partition, base, last, segment, at, len, ts)| {
            Ok(SegmentRow {
                topic_id: stored_uuid(&topic, "topic id")?,
                partition: i32::try_from(partition)
                    .map_err(|_| crate::MetadataError::Corrupt(format!("partition {partition}")))?,
                base_offset: base,
                last_offset: last,
                segment_id: stored_uuid(&segment, "segment id")?,
                byte_offset: stored_u64(at, "byte offset")?,
                byte_len: stored_u64(len, "byte length")?,
                max_timestamp: ts,
            })
        })
        .collect()
}

/// See [`crate::MetadataStore::swap_compacted`].
pub(super) async fn swap(
    store: &SqliteStore,
    swap: &CompactionSwap,
    fence: &JobFence,
) -> Result<SwapOutcome> {
    validate_swap(swap)?;
    let mut write = store.begin_write().await?;
    super::leases::check_fence(&mut write.tx, fence).await?;
    let mut outcome = SwapOutcome::default();
    let mut swapped = Vec::new();
    for p in &swap.partitions {
        let mut unchanged = true;
        for r in &p.old {
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
                unchanged = false;
                break;
            }
        }
        if unchanged {
            outcome.swapped.push((p.topic_id, p.partition));
            swapped.push(p);
        } else {
            outcome.skipped.push((p.topic_id, p.partition));
        }
    }
    if swapped.is_empty() {
        write.tx.rollback().await?;
        return Ok(outcome);
    }

    sqlx::query(INSERT_SEGMENT)
        .bind(swap.segment_id)
        .bind(&swap.object_key)
        .bind(to_i64(swap.size, "segment size")?)
        .bind(swap.level)
        .bind(swap.compactable)
        .execute(&mut *write.tx)
        .await?;
    for p in swapped {
        for r in &p.old {
            outcome.rows_removed += sqlx::query(DELETE_ROW)
                .bind(p.topic_id)
                .bind(p.partition)
                .bind(r.base_offset)
                .execute(&mut *write.tx)
                .await?
                .rows_affected();
        }
        for n in &p.new {
            outcome.rows_added += sqlx::query(INSERT_ROW)
                .bind(p.topic_id)
                .bind(p.partition)
                .bind(n.base_offset)
                .bind(n.last_offset)
                .bind(swap.segment_id)
                .bind(to_i64(n.byte_offset, "byte offset")?)
                .bind(to_i64(n.byte_len, "byte length")?)
                .bind(n.max_timestamp)
                .execute(&mut *write.tx)
                .await?
                .rows_affected();
        }
    }
    let inputs = ids_json(&swap.inputs)?;
    for statement in [RETIRE_CANDIDATES, RETIRE_INPUTS] {
        sqlx::query(statement)
            .bind(&inputs)
            .execute(&mut *write.tx)
            .await?;
    }
    write.commit().await?;
    Ok(outcome)
}
