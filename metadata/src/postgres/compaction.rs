//! Compaction: the segments it may merge, their rows, and the swap of the
//! merged rows for one row per run in the new segment, in one transaction.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::compaction::validate_swap;
use crate::convert::{stored_u64, to_i64};
use crate::{
    CompactionCandidate, CompactionSwap, JobFence, Result, SegmentId, SegmentRow, SwapOutcome,
    TopicId,
};

const CANDIDATES: &str = include_str!("../../queries/postgres/compaction_candidates.sql");
const SEGMENT_ROWS: &str = include_str!("../../queries/postgres/compaction_segment_rows.sql");
const LOCK: &str = include_str!("../../queries/postgres/compaction_lock.sql");
const OLD_ROWS: &str = include_str!("../../queries/postgres/compaction_old_rows.sql");
const INSERT_SEGMENT: &str = include_str!("../../queries/postgres/compaction_segment_insert.sql");
const DELETE_ROWS: &str = include_str!("../../queries/postgres/compaction_delete_rows.sql");
const INSERT_ROWS: &str = include_str!("../../queries/postgres/compaction_insert_rows.sql");
const RETIRE_INPUTS: &str = include_str!("../../queries/postgres/compaction_retire_inputs.sql");

/// See [`crate::MetadataStore::compaction_candidates`].
pub(super) async fn candidates(
    pool: &PgPool,
    level: i32,
    max_size: u64,
    limit: u32,
) -> Result<Vec<CompactionCandidate>> {
    let rows: Vec<(SegmentId, String, i64, i32)> = sqlx::query_as(CANDIDATES)
        .bind(level)
        .bind(to_i64(max_size, "size bound")?)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(id, object_key, size, level)| {
            Ok(CompactionCandidate {
                id,
                object_key,
                size: stored_u64(size, "segment size")?,
                level,
            })
        })
        .collect()
}

type RowRecord = (TopicId, i32, i64, i64, SegmentId, i64, i64, i64);

/// See [`crate::MetadataStore::segment_rows`].
pub(super) async fn segment_rows(
    pool: &PgPool,
    segments: &[SegmentId],
    limit: u32,
) -> Result<Vec<SegmentRow>> {
    let rows: Vec<RowRecord> = sqlx::query_as(SEGMENT_ROWS)
        .bind(segments)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(
            |(topic_id, partition, base, last, segment_id, at, len, ts)| {
                Ok(SegmentRow {
                    topic_id,
                    partition,
                    base_offset: base,
                    last_offset: last,
                    segment_id,
                    byte_offset: stored_u64(at, "byte offset")?,
                    byte_len: stored_u64(len, "byte length")?,
                    max_timestamp: ts,
                })
            },
        )
        .collect()
}

/// See [`crate::MetadataStore::swap_compacted`].
pub(super) async fn swap(
    pool: &PgPool,
    swap: &CompactionSwap,
    fence: &JobFence,
) -> Result<SwapOutcome> {
    validate_swap(swap)?;
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    let topics: Vec<TopicId> = swap.partitions.iter().map(|p| p.topic_id).collect();
    let numbers: Vec<i32> = swap.partitions.iter().map(|p| p.partition).collect();
    sqlx::query(LOCK)
        .bind(&topics)
        .bind(&numbers)
        .fetch_all(&mut *tx)
        .await?;

    let old: Vec<&SegmentRow> = swap.partitions.iter().flat_map(|p| &p.old).collect();
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
    let still: HashMap<(TopicId, i32), i64> = still
        .into_iter()
        .map(|(topic, partition, n)| ((topic, partition), n))
        .collect();

    let mut outcome = SwapOutcome::default();
    let mut gone: Vec<&SegmentRow> = Vec::new();
    let mut added = Vec::new();
    for p in &swap.partitions {
        let key = (p.topic_id, p.partition);
        let unchanged = still.get(&key).copied() == Some(p.old.len() as i64);
        if unchanged {
            outcome.swapped.push(key);
            gone.extend(&p.old);
            added.extend(p.new.iter().map(|n| (key, n)));
        } else {
            outcome.skipped.push(key);
        }
    }
    if !outcome.committed() {
        tx.rollback().await?;
        return Ok(outcome);
    }

    sqlx::query(INSERT_SEGMENT)
        .bind(swap.segment_id)
        .bind(&swap.object_key)
        .bind(to_i64(swap.size, "segment size")?)
        .bind(swap.level)
        .bind(swap.compactable)
        .execute(&mut *tx)
        .await?;
    outcome.rows_removed = sqlx::query(DELETE_ROWS)
        .bind(gone.iter().map(|r| r.topic_id).collect::<Vec<_>>())
        .bind(gone.iter().map(|r| r.partition).collect::<Vec<_>>())
        .bind(gone.iter().map(|r| r.base_offset).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    outcome.rows_added = sqlx::query(INSERT_ROWS)
        .bind(added.iter().map(|((t, _), _)| *t).collect::<Vec<_>>())
        .bind(added.iter().map(|((_, p), _)| *p).collect::<Vec<_>>())
        .bind(added.iter().map(|(_, n)| n.base_offset).collect::<Vec<_>>())
        .bind(added.iter().map(|(_, n)| n.last_offset).collect::<Vec<_>>())
        .bind(swap.segment_id)
        .bind(byte_values(added.iter().map(|(_, n)| n.byte_offset))?)
        .bind(byte_values(added.iter().map(|(_, n)| n.byte_len))?)
        .bind(
            added
                .iter()
                .map(|(_, n)| n.max_timestamp)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(RETIRE_INPUTS)
        .bind(&swap.inputs)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

fn byte_values(values: impl Iterator<Item = u64>) -> Result<Vec<i64>> {
    values.map(|v| to_i64(v, "byte position")).collect()
}
