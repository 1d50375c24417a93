//! The orphan sweep's question about segment objects listed in the bucket:
//! which the store never heard of, and which it committed but nothing
//! references.

use sqlx::PgPool;

use crate::{JobFence, Result, SegmentId};

const UNKNOWN: &str = include_str!("../../queries/postgres/sweep_unknown.sql");
const UNREFERENCED: &str = include_str!("../../queries/postgres/sweep_unreferenced.sql");

/// See [`crate::MetadataStore::sweep_segments`].
pub(super) async fn sweep(
    pool: &PgPool,
    ids: &[SegmentId],
    fence: &JobFence,
) -> Result<Vec<SegmentId>> {
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    sqlx::query(UNREFERENCED)
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    let unknown: Vec<SegmentId> = sqlx::query_scalar(UNKNOWN)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(unknown)
}
