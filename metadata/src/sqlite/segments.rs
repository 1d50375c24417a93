//! Segments no longer referenced: found for the collector among the
//! candidates (segments of deleted topics), and forgotten once their objects
//! are deleted.

use std::time::Duration;

use super::SqliteStore;
use super::params::ids_json;
use crate::convert::{age_millis, stored_uuid};
use crate::{JobFence, Result, SegmentId, UnreferencedSegment};

const UNREFERENCED: &str = include_str!("../../queries/sqlite/segments_unreferenced.sql");
const FORGET_OUTCOMES: &str = include_str!("../../queries/sqlite/segment_outcomes_forget.sql");
const FORGET: &str = include_str!("../../queries/sqlite/segments_forget.sql");
const PRUNE_CANDIDATES: &str = include_str!("../../queries/sqlite/segment_candidates_prune.sql");

/// See [`crate::MetadataStore::unreferenced_segments`].
pub(super) async fn unreferenced(
    store: &SqliteStore,
    grace: Duration,
    limit: u32,
) -> Result<Vec<UnreferencedSegment>> {
    let rows: Vec<(Vec<u8>, String)> = sqlx::query_as(UNREFERENCED)
        .bind(age_millis(grace))
        .bind(i64::from(limit))
        .fetch_all(&store.pool)
        .await?;
    rows.into_iter()
        .map(|(id, object_key)| {
            Ok(UnreferencedSegment {
                id: stored_uuid(&id, "segment id")?,
                object_key,
            })
        })
        .collect()
}

/// See [`crate::MetadataStore::forget_segments`].
pub(super) async fn forget(
    store: &SqliteStore,
    ids: &[SegmentId],
    fence: &JobFence,
) -> Result<u64> {
    let ids = ids_json(ids)?;
    let mut write = store.begin_write().await?;
    super::leases::check_fence(&mut write.tx, fence).await?;
    sqlx::query(FORGET_OUTCOMES)
        .bind(&ids)
        .execute(&mut *write.tx)
        .await?;
    let forgotten = sqlx::query(FORGET)
        .bind(&ids)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    sqlx::query(PRUNE_CANDIDATES)
        .bind(&ids)
        .execute(&mut *write.tx)
        .await?;
    write.commit().await?;
    Ok(forgotten)
}
