//! Leases of background jobs: take, renew, release, and the fence check
//! every write of a job runs in its own transaction.

use std::time::Duration;

use sqlx::{PgConnection, PgPool};

use crate::{JobFence, MetadataError, Result};

const ACQUIRE: &str = include_str!("../../queries/postgres/lease_acquire.sql");
const RELEASE: &str = include_str!("../../queries/postgres/lease_release.sql");
const CHECK: &str = include_str!("../../queries/postgres/lease_check.sql");

/// See [`crate::MetadataStore::acquire_lease`].
pub(super) async fn acquire(
    pool: &PgPool,
    job: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<JobFence>> {
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let token: Option<i64> = sqlx::query_scalar(ACQUIRE)
        .bind(job)
        .bind(holder)
        .bind(ttl_ms)
        .fetch_optional(pool)
        .await?;
    Ok(token.map(|token| JobFence {
        job: job.to_string(),
        token,
    }))
}

/// See [`crate::MetadataStore::release_lease`].
pub(super) async fn release(pool: &PgPool, fence: &JobFence) -> Result<()> {
    sqlx::query(RELEASE)
        .bind(&fence.job)
        .bind(fence.token)
        .execute(pool)
        .await?;
    Ok(())
}

/// Fails with [`MetadataError::LeaseLost`] unless `fence` still holds its
/// job's lease. Run inside the transaction of the write it guards: the row
/// stays locked (shared) until that transaction ends, so a takeover waits.
pub(crate) async fn check_fence(conn: &mut PgConnection, fence: &JobFence) -> Result<()> {
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
