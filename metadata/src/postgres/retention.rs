//! Retention of one partition, by time and by size: the index rows from the
//! log start up to the first one the policy keeps go (a bounded number per
//! call), the log start advances past them, and their segments become candidates of the segment collector.

use sqlx::{PgConnection, PgPool};

use crate::{JobFence, Retained, RetentionPolicy, TopicId};
use crate::{MetadataError, Result};

const LOCK: &str = include_str!("../../queries/postgres/retention_lock.sql");
const FIRST_KEPT: &str = include_str!("../../queries/postgres/retention_first_kept.sql");
const CANDIDATES: &str = include_str!("../../queries/postgres/records_delete_candidates.sql");
const DELETE_ROWS: &str = include_str!("../../queries/postgres/records_delete_rows.sql");
const FIRST_KEPT_BY_SIZE: &str =
    include_str!("../../queries/postgres/retention_first_kept_by_size.sql");
const ROW_CAP: &str = include_str!("../../queries/postgres/retention_row_cap.sql");
const ADVANCE_START: &str = include_str!("../../queries/postgres/retention_advance_start.sql");

/// See [`crate::MetadataStore::apply_retention`].
pub(super) async fn apply(
    pool: &PgPool,
    topic: TopicId,
    partition: i32,
    policy: &RetentionPolicy,
    fence: &JobFence,
) -> Result<Option<Retained>> {
    no_limit_refused(policy)?;
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    let Some(high_watermark): Option<i64> = sqlx::query_scalar(LOCK)
        .bind(topic)
        .bind(partition)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(None);
    };
    // A row goes when either limit lets it go (as Kafka deletes a segment
    // that breaches retention.ms or retention.bytes).
    let mut start = 0;
    if let Some(older_than_ms) = policy.older_than_ms {
        let kept: Option<i64> = sqlx::query_scalar(FIRST_KEPT)
            .bind(topic)
            .bind(partition)
            .bind(older_than_ms)
            .fetch_optional(&mut *tx)
            .await?;
        start = start.max(kept.unwrap_or(high_watermark));
    }
    if let Some(max_bytes) = policy.max_bytes {
        let kept: Option<i64> = sqlx::query_scalar(FIRST_KEPT_BY_SIZE)
            .bind(topic)
            .bind(partition)
            .bind(max_bytes)
            .fetch_optional(&mut *tx)
            .await?;
        start = start.max(kept.unwrap_or(high_watermark));
    }
    let cap: Option<i64> = sqlx::query_scalar(ROW_CAP)
        .bind(topic)
        .bind(partition)
        .bind(i64::from(policy.max_rows))
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(cap) = cap {
        start = start.min(cap);
    }
    let (log_start_offset, rows_deleted) =
        advance_log_start(&mut tx, topic, partition, start).await?;
    tx.commit().await?;
    Ok(Some(Retained {
        log_start_offset,
        rows_deleted,
    }))
}

/// Advances the log start of a partition (whose retention lock the
/// transaction holds) to `start`, never back: the index rows wholly below it
/// go and their segments become candidates of the segment collector. Time
/// retention and DeleteRecords both end here. Returns the log start now and
/// the number of index rows deleted.
pub(super) async fn advance_log_start(
    conn: &mut PgConnection,
    topic: TopicId,
    partition: i32,
    start: i64,
) -> Result<(i64, u64)> {
    sqlx::query(CANDIDATES)
        .bind(topic)
        .bind(partition)
        .bind(start)
        .execute(&mut *conn)
        .await?;
    let deleted = sqlx::query(DELETE_ROWS)
        .bind(topic)
        .bind(partition)
        .bind(start)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let log_start = sqlx::query_scalar(ADVANCE_START)
        .bind(topic)
        .bind(partition)
        .bind(start)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(crate::transactions::ops::ABORTED_BELOW)
        .bind(topic)
        .bind(partition)
        .bind(log_start)
        .execute(&mut *conn)
        .await?;
    Ok((log_start, deleted))
}

/// A policy without a limit would delete every row: refused.
fn no_limit_refused(policy: &RetentionPolicy) -> Result<()> {
    if policy.older_than_ms.is_none() && policy.max_bytes.is_none() {
        return Err(MetadataError::Invalid(
            "a retention policy needs a time or a size limit".into(),
        ));
    }
    Ok(())
}
