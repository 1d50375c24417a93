//! Growing a topic's partition count (Kafka's CreatePartitions).

use sqlx::PgPool;

use super::rows::TopicRecord;
use crate::validate::MAX_PARTITIONS;
use crate::{MetadataError, Result, Topic, TopicId};

const TOPIC_LOCK_PARTITIONS: &str =
    include_str!("../../queries/postgres/topic_lock_partitions.sql");
const TOPIC_LOCK: &str = include_str!("../../queries/postgres/topic_lock.sql");
const TOPIC_ADD_PARTITIONS: &str = include_str!("../../queries/postgres/topic_add_partitions.sql");
const TOPIC_BY_ID: &str = include_str!("../../queries/postgres/topic_by_id.sql");
const TOPIC_NOTIFY: &str = include_str!("../../queries/postgres/topic_notify.sql");

/// See [`crate::MetadataStore::create_partitions`]. The existing partitions
/// are locked first, then the topic row, in the order a deletion locks
/// them: a deletion running at the same time either finishes first (and
/// the topic is unknown here) or waits and then deletes the new partitions
/// too.
pub(super) async fn create(pool: &PgPool, id: TopicId, count: i32) -> Result<Topic> {
    let mut tx = pool.begin().await?;
    sqlx::query(TOPIC_LOCK_PARTITIONS)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let Some(current): Option<i32> = sqlx::query_scalar(TOPIC_LOCK)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    };
    if count <= current {
        let topic = read(&mut tx, id).await?;
        return Err(MetadataError::PartitionsNotIncreased {
            topic: topic.name,
            current,
            requested: count,
        });
    }
    if count > MAX_PARTITIONS {
        return Err(MetadataError::Invalid(format!(
            "a topic may have at most {MAX_PARTITIONS} partitions, {count} asked"
        )));
    }
    let updated = sqlx::query(TOPIC_ADD_PARTITIONS)
        .bind(id)
        .bind(current)
        .bind(count)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated != 1 {
        return Err(MetadataError::Corrupt(format!(
            "growing topic {id} from {current} to {count} partitions updated {updated} topics"
        )));
    }
    sqlx::query(TOPIC_NOTIFY).bind(id).execute(&mut *tx).await?;
    let topic = read(&mut tx, id).await?;
    tx.commit().await?;
    tracing::info!(topic = %topic.name, topic_id = %id, from = current, to = count, "added partitions");
    Ok(topic)
}

/// The topic as the transaction sees it.
async fn read(tx: &mut sqlx::PgConnection, id: TopicId) -> Result<Topic> {
    sqlx::query_as::<_, TopicRecord>(TOPIC_BY_ID)
        .bind(id)
        .fetch_optional(tx)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()?
        .ok_or_else(|| MetadataError::UnknownTopic(id.to_string()))
}
