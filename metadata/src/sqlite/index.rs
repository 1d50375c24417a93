//! Reading partition bounds and the batch index.

use sqlx::SqlitePool;

use super::params::partitions_json;
use super::rows::IndexRecord;
use crate::convert::offsets_by_position;
use crate::{IndexRow, PartitionOffsets, Result, TopicId};

const PARTITION_OFFSETS: &str = include_str!("../../queries/sqlite/partition_offsets.sql");
const PARTITIONS_OFFSETS: &str = include_str!("../../queries/sqlite/partitions_offsets.sql");
const INDEX_ROWS_FROM: &str = include_str!("../../queries/sqlite/index_rows_from.sql");
const FIRST_TIMESTAMP_AT_LEAST: &str =
    include_str!("../../queries/sqlite/index_row_first_timestamp_at_least.sql");
const MAX_TIMESTAMP: &str = include_str!("../../queries/sqlite/index_row_max_timestamp.sql");

/// The bounds of a partition, or `None` if it does not exist.
pub(super) async fn partition_offsets(
    pool: &SqlitePool,
    topic: TopicId,
    partition: i32,
) -> Result<Option<PartitionOffsets>> {
    let bounds: Option<(i64, i64, i64, i64)> = sqlx::query_as(PARTITION_OFFSETS)
        .bind(topic)
        .bind(partition)
        .fetch_optional(pool)
        .await?;
    Ok(bounds.map(
        |(log_start_offset, high_watermark, last_stable_offset, last_aborted_offset)| {
            PartitionOffsets {
                log_start_offset,
                high_watermark,
                last_stable_offset,
                last_aborted_offset,
            }
        },
    ))
}

/// The offsets of many partitions, in the order asked.
pub(super) async fn partitions_offsets(
    pool: &SqlitePool,
    partitions: &[(TopicId, i32)],
) -> Result<Vec<Option<PartitionOffsets>>> {
    if partitions.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(PARTITIONS_OFFSETS)
        .bind(partitions_json(partitions)?)
        .fetch_all(pool)
        .await?;
    offsets_by_position(partitions.len(), found, 0)
}

/// Up to `limit` index rows with `last_offset >= from_offset`, in order.
pub(super) async fn rows_from(
    pool: &SqlitePool,
    topic: TopicId,
    partition: i32,
    from_offset: i64,
    limit: u32,
) -> Result<Vec<IndexRow>> {
    sqlx::query_as::<_, IndexRecord>(INDEX_ROWS_FROM)
        .bind(topic)
        .bind(partition)
        .bind(from_offset)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(IndexRecord::into_index_row)
        .collect()
}

/// The first index row (by offset) starting at `from_offset` or later whose
/// `max_timestamp >= timestamp`.
pub(super) async fn first_row_with_timestamp_at_least(
    pool: &SqlitePool,
    topic: TopicId,
    partition: i32,
    timestamp: i64,
    from_offset: i64,
) -> Result<Option<IndexRow>> {
    sqlx::query_as::<_, IndexRecord>(FIRST_TIMESTAMP_AT_LEAST)
        .bind(topic)
        .bind(partition)
        .bind(timestamp)
        .bind(from_offset)
        .fetch_optional(pool)
        .await?
        .map(IndexRecord::into_index_row)
        .transpose()
}

/// The index row holding the partition's largest timestamp, the first by
/// offset among ties.
pub(super) async fn row_with_max_timestamp(
    pool: &SqlitePool,
    topic: TopicId,
    partition: i32,
) -> Result<Option<IndexRow>> {
    sqlx::query_as::<_, IndexRecord>(MAX_TIMESTAMP)
        .bind(topic)
        .bind(partition)
        .fetch_optional(pool)
        .await?
        .map(IndexRecord::into_index_row)
        .transpose()
}
