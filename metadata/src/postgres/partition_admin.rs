//! What admin APIs read of a partition: its size in segment objects
//! (DescribeLogDirs) and its idempotent producers (DescribeProducers).

use sqlx::PgPool;

use crate::{ProducerState, Result, TopicId};

const SIZES: &str = include_str!("../../queries/postgres/partition_sizes.sql");
const PRODUCERS: &str = include_str!("../../queries/postgres/partition_producers.sql");

/// See [`crate::MetadataStore::partition_sizes`].
pub(super) async fn sizes(pool: &PgPool, topic: TopicId) -> Result<Vec<(i32, i64)>> {
    Ok(sqlx::query_as::<_, (i32, i64)>(SIZES)
        .bind(topic)
        .fetch_all(pool)
        .await?)
}

/// See [`crate::MetadataStore::partition_producers`].
pub(super) async fn producers(
    pool: &PgPool,
    topic: TopicId,
    partition: i32,
) -> Result<Vec<ProducerState>> {
    let rows = sqlx::query_as::<_, (i64, i16, i32, i64)>(PRODUCERS)
        .bind(topic)
        .bind(partition)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(producer_id, producer_epoch, last_sequence, last_written_ms)| ProducerState {
                producer_id,
                producer_epoch,
                last_sequence,
                last_written_ms,
            },
        )
        .collect())
}
