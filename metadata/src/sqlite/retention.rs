//! Time-based retention of one partition: the index rows from the log start
//! whose records are all older than a cut-off go, the log start advances past
//! them, and their segments become candidates of the segment collector.

use sqlx::SqliteConnection;

use super::SqliteStore;

use crate::Result;
use crate::TopicId;

const LOCK: &str = include_str!("../../queries/sqlite/retention_lock.sql");
const FIRST_KEPT: &str = include_str!("../../queries/sqlite/retention_first_kept.sql");
const CANDIDATES: &str = include_str!("../../queries/sqlite/records_delete_candidates.sql");
const DELETE_ROWS: &str = include_str!("../../queries/sqlite/records_delete_rows.sql");
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
    let start = advance_log_start(&mut write.tx, topic, partition, start).await?;
    write.commit().await?;
    Ok(Some(start))
}

/// Advances the log start of a partition (whose retention lock the
/// transaction holds) to `start`, never back: the index rows wholly below it
/// go and their segments become candidates of the segment collector. Time
/// retention and DeleteRecords both end here. Returns the log start now.
pub(super) async fn advance_log_start(
    conn: &mut SqliteConnection,
    topic: TopicId,
    partition: i32,
    start: i64,
) -> Result<i64> {
    for statement in [CANDIDATES, DELETE_ROWS] {
        sqlx::query(statement)
            .bind(topic)
            .bind(partition)
            .bind(start)
            .execute(&mut *conn)
            .await?;
    }
    Ok(sqlx::query_scalar(ADVANCE_START)
        .bind(topic)
        .bind(partition)
        .bind(start)
        .fetch_one(&mut *conn)
        .await?)
}
