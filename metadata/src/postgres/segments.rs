//! Segments no longer referenced: found for the collector among the
//! candidates (segments of deleted topics), and forgotten once their objects
//! are deleted.

use std::time::Duration;

use sqlx::PgPool;

use crate::convert::age_micros;
use crate::{JobFence, Result, SegmentId, UnreferencedSegment};

const UNREFERENCED: &str = include_str!("../../queries/postgres/segments_unreferenced.sql");
const FORGET_OUTCOMES: &str = include_str!("../../queries/postgres/segment_outcomes_forget.sql");
const FORGET: &str = include_str!("../../queries/postgres/segments_forget.sql");
const PRUNE_CANDIDATES: &str = include_str!("../../queries/postgres/segment_candidates_prune.sql");

/// See [`crate::MetadataStore::unreferenced_segments`].
pub(super) async fn unreferenced(
    pool: &PgPool,
    grace: Duration,
    limit: u32,
) -> Result<Vec<UnreferencedSegment>> {
    let rows: Vec<(SegmentId, String)> = sqlx::query_as(UNREFERENCED)
        .bind(age_micros(grace))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, object_key)| UnreferencedSegment { id, object_key })
        .collect())
}

/// See [`crate::MetadataStore::forget_segments`].
pub(super) async fn forget(pool: &PgPool, ids: &[SegmentId], fence: &JobFence) -> Result<u64> {
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    sqlx::query(FORGET_OUTCOMES)
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    let forgotten = sqlx::query(FORGET)
        .bind(ids)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(PRUNE_CANDIDATES)
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(forgotten)
}
