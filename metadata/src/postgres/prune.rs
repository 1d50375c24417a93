//! Forgetting what is kept only for a while: stored commit outcomes and the
//! histories of idempotent producers gone quiet: two bounded statements in
//! one transaction, with the fence check of the prune job's lease.

use std::time::Duration;

use sqlx::PgPool;

use crate::convert::age_micros;
use crate::{JobFence, Pruned, Result};

const OUTCOMES: &str = include_str!("../../queries/postgres/segment_outcomes_prune.sql");
const PRODUCERS: &str = include_str!("../../queries/postgres/producers_expire.sql");

/// See [`crate::MetadataStore::prune`].
pub(super) async fn prune(
    pool: &PgPool,
    outcomes_after: Duration,
    producers_after: Duration,
    limit: u32,
    fence: &JobFence,
) -> Result<Pruned> {
    let count = |rows: i64| u64::try_from(rows).unwrap_or(0);
    let mut tx = pool.begin().await?;
    super::leases::check_fence(&mut tx, fence).await?;
    let (outcomes,): (i64,) = sqlx::query_as(OUTCOMES)
        .bind(age_micros(outcomes_after))
        .bind(i64::from(limit))
        .fetch_one(&mut *tx)
        .await?;
    let (producer_batches,): (i64,) = sqlx::query_as(PRODUCERS)
        .bind(age_micros(producers_after))
        .bind(i64::from(limit))
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Pruned {
        outcomes: count(outcomes),
        producer_batches: count(producer_batches),
    })
}
