//! Growing a topic's partition count (Kafka's CreatePartitions).

use super::SqliteStore;
use super::rows::TopicRecord;
use crate::validate::MAX_PARTITIONS;
use crate::{MetadataError, Result, Topic, TopicId};

const TOPIC_BY_ID: &str = include_str!("../../queries/sqlite/topic_by_id.sql");
const TOPIC_ADD_PARTITIONS: &str = include_str!("../../queries/sqlite/topic_add_partitions.sql");
const TOPIC_SET_PARTITIONS: &str = include_str!("../../queries/sqlite/topic_set_partitions.sql");

/// See [`crate::MetadataStore::create_partitions`]. The write transaction
/// is the lock: nothing else writes the topic meanwhile. SQLite serves one
/// agent, which forgets its cached topic itself: nobody else to notify.
pub(super) async fn create(store: &SqliteStore, id: TopicId, count: i32) -> Result<Topic> {
    let mut write = store.begin_write().await?;
    let Some(topic) = sqlx::query_as::<_, TopicRecord>(TOPIC_BY_ID)
        .bind(id)
        .fetch_optional(&mut *write.tx)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()?
    else {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    };
    let current = topic.partitions;
    if count <= current {
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
    let added = sqlx::query(TOPIC_ADD_PARTITIONS)
        .bind(id)
        .bind(current)
        .bind(count)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    if added != u64::try_from(count - current).unwrap_or(0) {
        return Err(MetadataError::Corrupt(format!(
            "added {added} partitions to topic {} instead of {}",
            topic.name,
            count - current
        )));
    }
    sqlx::query(TOPIC_SET_PARTITIONS)
        .bind(id)
        .bind(count)
        .execute(&mut *write.tx)
        .await?;
    write.commit().await?;
    tracing::info!(topic = %topic.name, topic_id = %id, from = current, to = count, "added partitions");
    Ok(Topic {
        partitions: count,
        ..topic
    })
}
