//! Deleting a partition's records below an offset (Kafka's DeleteRecords):
//! the log start advances, as time-based retention advances it
//! (`retention.rs`), but to an offset the client names.

use super::SqliteStore;
use crate::{DeletedRecords, Result, TopicId};

const LOCK: &str = include_str!("../../queries/sqlite/retention_lock.sql");

/// See [`crate::MetadataStore::delete_records`].
pub(super) async fn delete(
    store: &SqliteStore,
    topic: TopicId,
    partition: i32,
    before_offset: i64,
) -> Result<DeletedRecords> {
    let mut write = store.begin_write().await?;
    let Some(high_watermark): Option<i64> = sqlx::query_scalar(LOCK)
        .bind(topic)
        .bind(partition)
        .fetch_optional(&mut *write.tx)
        .await?
    else {
        return Ok(DeletedRecords::UnknownPartition);
    };
    let Some(start) = crate::validate::delete_records_target(before_offset, high_watermark) else {
        return Ok(DeletedRecords::OutOfRange { high_watermark });
    };
    let start = super::retention::advance_log_start(&mut write.tx, topic, partition, start)
        .await?
        .0;
    write.commit().await?;
    Ok(DeletedRecords::LogStart(start))
}
