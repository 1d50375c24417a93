//! Forgetting what is kept only for a while: stored commit outcomes and the
//! histories of idempotent producers gone quiet, in one write transaction.

use std::time::Duration;

use super::SqliteStore;
use crate::convert::age_millis;
use crate::{JobFence, Pruned, Result};

const OUTCOMES: &str = include_str!("../../queries/sqlite/segment_outcomes_prune.sql");
const PRODUCERS: &str = include_str!("../../queries/sqlite/producers_expire.sql");

/// See [`crate::MetadataStore::prune`].
pub(super) async fn prune(
    store: &SqliteStore,
    outcomes_after: Duration,
    producers_after: Duration,
    limit: u32,
    fence: &JobFence,
) -> Result<Pruned> {
    let mut write = store.begin_write().await?;
    super::leases::check_fence(&mut write.tx, fence).await?;
    let outcomes = sqlx::query(OUTCOMES)
        .bind(age_millis(outcomes_after))
        .bind(i64::from(limit))
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    let producer_batches = sqlx::query(PRODUCERS)
        .bind(age_millis(producers_after))
        .bind(i64::from(limit))
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    write.commit().await?;
    Ok(Pruned {
        outcomes,
        producer_batches,
    })
}
