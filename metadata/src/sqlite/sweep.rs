//! The orphan sweep's question about segment objects listed in the bucket:
//! which the store never heard of, and which it committed but nothing
//! references.

use super::SqliteStore;
use super::params::ids_json;
use crate::{JobFence, Result, SegmentId};

const UNKNOWN: &str = include_str!("../../queries/sqlite/sweep_unknown.sql");
const UNREFERENCED: &str = include_str!("../../queries/sqlite/sweep_unreferenced.sql");

/// See [`crate::MetadataStore::sweep_segments`].
pub(super) async fn sweep(
    store: &SqliteStore,
    ids: &[SegmentId],
    fence: &JobFence,
) -> Result<Vec<SegmentId>> {
    let ids = ids_json(ids)?;
    let mut write = store.begin_write().await?;
    super::leases::check_fence(&mut write.tx, fence).await?;
    sqlx::query(UNREFERENCED)
        .bind(&ids)
        .execute(&mut *write.tx)
        .await?;
    let unknown: Vec<String> = sqlx::query_scalar(UNKNOWN)
        .bind(&ids)
        .fetch_all(&mut *write.tx)
        .await?;
    write.commit().await?;
    unknown
        .iter()
        .map(|hex| {
            uuid::Uuid::try_parse(hex)
                .map_err(|e| crate::MetadataError::Corrupt(format!("segment id {hex}: {e}")))
        })
        .collect()
}
