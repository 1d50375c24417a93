//! Leases of background jobs: take, renew, release, and the fence check
//! every write of a job runs in its own transaction.

use std::time::Duration;

use sqlx::SqliteConnection;

use super::SqliteStore;

use crate::{JobFence, MetadataError, Result};

const ACQUIRE: &str = include_str!("../../queries/sqlite/lease_acquire.sql");
const RELEASE: &str = include_str!("../../queries/sqlite/lease_release.sql");
const CHECK: &str = include_str!("../../queries/sqlite/lease_check.sql");

/// See [`crate::MetadataStore::acquire_lease`].
pub(super) async fn acquire(
    store: &SqliteStore,
    job: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<JobFence>> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let mut write = store.begin_write().await?;
    let token: Option<i64> = sqlx::query_scalar(ACQUIRE)
        .bind(job)
        .bind(holder)
        .bind(ttl_ms)
        .fetch_optional(&mut *write.tx)
        .await?;
    write.commit().await?;
    Ok(token.map(|token| JobFence {
        job: job.to_string(),
        token,
    }))
}

/// See [`crate::MetadataStore::release_lease`].
pub(super) async fn release(store: &SqliteStore, fence: &JobFence) -> Result<()> {
    let mut write = store.begin_write().await?;
    sqlx::query(RELEASE)
        .bind(&fence.job)
        .bind(fence.token)
        .execute(&mut *write.tx)
        .await?;
    write.commit().await
}

/// Fails with [`MetadataError::LeaseLost`] unless `fence` still holds its
/// job's lease. Run inside the write transaction it guards, which holds
/// SQLite's one write lock, so no takeover comes before it commits.
pub(crate) async fn check_fence(conn: &mut SqliteConnection, fence: &JobFence) -> Result<()> {
    let held: Option<i64> = sqlx::query_scalar(CHECK)
        .bind(&fence.job)
        .bind(fence.token)
        .fetch_optional(conn)
        .await?;
    match held {
        Some(_) => Ok(()),
        None => Err(MetadataError::LeaseLost(fence.job.clone())),
    }
}
