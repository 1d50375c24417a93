//! Time-based retention of one partition: the index rows from the log start
//! whose records are all older than a cut-off go, the log start advances past
//! them, and their segments become candidates of the segment collector.

use super::SqliteStore;

use crate::Result;
use crate::TopicId;

const LOCK: &str = include_str!("../../queries/sqlite/retention_lock.sql");
const FIRST_KEPT: &str = include_str!("../../queries/sqlite/retention_first_kept.sql");
const SEGMENTS_TO_COLLECT: &str =
    include_str!("../../queries/sqlite/retention_segments_to_collect.sql");
const DELETE_ROWS: &str = include_str!("../../queries/sqlite/retention_delete_rows.sql");
const ADVANCE_START: &str = include_str!("../../queries/sqlite/retention_advance_start.sql");

/// See [`crate::MetadataStore::apply_retention`].
pub(super) async fn apply(
    store: &SqliteStore,
    topic: TopicId,
    partition: i32,
    older_than_ms: i64,
) -> Result<Option<i64>> {
    let mut write = store.begin_write().await?;
    let Some(high_watermark): Option<i64> = sqlx::query_scalar(LOCK)
        .bind(topic)
        .bind(partition)
        .fetch_optional(&mut *write.tx)
        .await?
    else {
        return Ok(None);
    };
    let first_kept: Option<i64> = sqlx::query_scalar(FIRST_KEPT)
        .bind(topic)
        .bind(partition)
        .bind(older_than_ms)
        .fetch_optional(&mut *write.tx)
        .await?;
    let start = first_kept.unwrap_or(high_watermark);
    for statement in [SEGMENTS_TO_COLLECT, DELETE_ROWS] {
        sqlx::query(statement)
            .bind(topic)
            .bind(partition)
            .bind(start)
            .execute(&mut *write.tx)
            .await?;
    }
    let start: i64 = sqlx::query_scalar(ADVANCE_START)
        .bind(topic)
        .bind(partition)
        .bind(start)
        .fetch_one(&mut *write.tx)
        .await?;
    write.commit().await?;
    Ok(Some(start))
}
