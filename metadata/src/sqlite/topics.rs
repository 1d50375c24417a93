//! Creating, finding, altering and deleting topics.

use std::collections::BTreeMap;

use sqlx::SqlitePool;

use super::SqliteStore;
use super::rows::TopicRecord;
use crate::convert::config_to_json;
use crate::{MetadataError, NewTopic, Result, Topic, TopicId, validate};

const TOPIC_INSERT: &str = include_str!("../../queries/sqlite/topic_insert.sql");
const PARTITIONS_INSERT: &str = include_str!("../../queries/sqlite/partitions_insert.sql");
const TOPIC_BY_NAME: &str = include_str!("../../queries/sqlite/topic_by_name.sql");
const TOPIC_BY_ID: &str = include_str!("../../queries/sqlite/topic_by_id.sql");
const TOPICS_LIST: &str = include_str!("../../queries/sqlite/topics_list.sql");
const TOPIC_SEGMENTS_TO_COLLECT: &str =
    include_str!("../../queries/sqlite/topic_segments_to_collect.sql");
const TOPIC_DELETE_INDEX_ROWS: &str =
    include_str!("../../queries/sqlite/topic_delete_index_rows.sql");
const TOPIC_DELETE_PRODUCER_BATCHES: &str =
    include_str!("../../queries/sqlite/topic_delete_producer_batches.sql");
const TOPIC_DELETE_PARTITIONS: &str =
    include_str!("../../queries/sqlite/topic_delete_partitions.sql");
const TOPIC_DELETE: &str = include_str!("../../queries/sqlite/topic_delete.sql");
const TOPIC_SET_CONFIG: &str = include_str!("../../queries/sqlite/topic_set_config.sql");

/// Creates a topic and its empty partitions in one transaction.
pub(super) async fn create(store: &SqliteStore, topic: NewTopic) -> Result<Topic> {
    validate::new_topic(&topic)?;
    let config = config_to_json(&topic.config)?;
    let id = TopicId::new_v4();

    let mut write = store.begin_write().await?;
    let existing = sqlx::query(TOPIC_BY_NAME)
        .bind(&topic.name)
        .fetch_optional(&mut *write.tx)
        .await?;
    if existing.is_some() {
        return Err(MetadataError::TopicExists(topic.name));
    }
    sqlx::query(TOPIC_INSERT)
        .bind(id)
        .bind(&topic.name)
        .bind(topic.partitions)
        .bind(&config)
        .execute(&mut *write.tx)
        .await?;
    let created = sqlx::query(PARTITIONS_INSERT)
        .bind(id)
        .bind(topic.partitions)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    if created != u64::try_from(topic.partitions).unwrap_or(0) {
        return Err(MetadataError::Corrupt(format!(
            "created {created} partitions for topic {} instead of {}",
            topic.name, topic.partitions
        )));
    }
    write.commit().await?;
    tracing::info!(topic = %topic.name, topic_id = %id, partitions = topic.partitions, "created topic");
    Ok(Topic {
        id,
        name: topic.name,
        partitions: topic.partitions,
        config: topic.config,
    })
}

/// The topic with this name, if any.
pub(super) async fn by_name(pool: &SqlitePool, name: &str) -> Result<Option<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPIC_BY_NAME)
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()
}

/// The topic with this id, if any.
pub(super) async fn by_id(pool: &SqlitePool, id: TopicId) -> Result<Option<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPIC_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()
}

/// All topics, ordered by name.
pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPICS_LIST)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(TopicRecord::into_topic)
        .collect()
}

/// Deletes a topic with its partitions, index rows and producer histories
/// in one transaction (its committed group offsets go by `ON DELETE
/// CASCADE`); its segments become candidates of the segment collector.
pub(super) async fn delete(store: &SqliteStore, id: TopicId) -> Result<()> {
    let mut write = store.begin_write().await?;
    sqlx::query(TOPIC_SEGMENTS_TO_COLLECT)
        .bind(id)
        .execute(&mut *write.tx)
        .await?;
    let rows = sqlx::query(TOPIC_DELETE_INDEX_ROWS)
        .bind(id)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    sqlx::query(TOPIC_DELETE_PRODUCER_BATCHES)
        .bind(id)
        .execute(&mut *write.tx)
        .await?;
    super::transactions::delete_topic(&mut write.tx, id).await?;
    sqlx::query(TOPIC_DELETE_PARTITIONS)
        .bind(id)
        .execute(&mut *write.tx)
        .await?;
    let deleted = sqlx::query(TOPIC_DELETE)
        .bind(id)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    }
    write.commit().await?;
    tracing::info!(topic_id = %id, index_rows = rows, "deleted topic");
    Ok(())
}

/// Replaces a topic's configuration overrides.
pub(super) async fn set_config(
    store: &SqliteStore,
    id: TopicId,
    config: &BTreeMap<String, String>,
) -> Result<()> {
    let json = config_to_json(config)?;
    let mut write = store.begin_write().await?;
    let updated = sqlx::query(TOPIC_SET_CONFIG)
        .bind(id)
        .bind(&json)
        .execute(&mut *write.tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    }
    write.commit().await?;
    tracing::info!(topic_id = %id, "replaced topic config");
    Ok(())
}
