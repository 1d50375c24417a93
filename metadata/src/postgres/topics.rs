//! Creating, finding, altering and deleting topics.

use std::collections::BTreeMap;

use sqlx::PgPool;

use super::rows::TopicRecord;
use crate::convert::config_to_json;
use crate::{MetadataError, NewTopic, Result, Topic, TopicId, validate};

const TOPIC_CREATE: &str = include_str!("../../queries/postgres/topic_create.sql");
const TOPIC_BY_NAME: &str = include_str!("../../queries/postgres/topic_by_name.sql");
const TOPIC_BY_ID: &str = include_str!("../../queries/postgres/topic_by_id.sql");
const TOPICS_LIST: &str = include_str!("../../queries/postgres/topics_list.sql");
const TOPIC_LOCK_PARTITIONS: &str =
    include_str!("../../queries/postgres/topic_lock_partitions.sql");
const TOPIC_SEGMENTS_TO_COLLECT: &str =
    include_str!("../../queries/postgres/topic_segments_to_collect.sql");
const TOPIC_DELETE_INDEX_ROWS: &str =
    include_str!("../../queries/postgres/topic_delete_index_rows.sql");
const TOPIC_DELETE_PRODUCER_BATCHES: &str =
    include_str!("../../queries/postgres/topic_delete_producer_batches.sql");
const TOPIC_DELETE_PARTITIONS: &str =
    include_str!("../../queries/postgres/topic_delete_partitions.sql");
const TOPIC_DELETE: &str = include_str!("../../queries/postgres/topic_delete.sql");
const TOPIC_NOTIFY: &str = include_str!("../../queries/postgres/topic_notify.sql");
const TOPIC_SET_CONFIG: &str = include_str!("../../queries/postgres/topic_set_config.sql");

/// Creates a topic and its empty partitions in one statement.
pub(super) async fn create(pool: &PgPool, topic: NewTopic) -> Result<Topic> {
    validate::new_topic(&topic)?;
    let config = config_to_json(&topic.config)?;
    let id = TopicId::new_v4();
    let created = sqlx::query(TOPIC_CREATE)
        .bind(id)
        .bind(&topic.name)
        .bind(topic.partitions)
        .bind(&config)
        .execute(pool)
        .await?
        .rows_affected();
    if created == 0 {
        return Err(MetadataError::TopicExists(topic.name));
    }
    if created != u64::try_from(topic.partitions).unwrap_or(0) {
        return Err(MetadataError::Corrupt(format!(
            "created {created} partitions for topic {} instead of {}",
            topic.name, topic.partitions
        )));
    }
    tracing::info!(topic = %topic.name, topic_id = %id, partitions = topic.partitions, "created topic");
    Ok(Topic {
        id,
        name: topic.name,
        partitions: topic.partitions,
        config: topic.config,
    })
}

/// The topic with this name, if any.
pub(super) async fn by_name(pool: &PgPool, name: &str) -> Result<Option<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPIC_BY_NAME)
        .bind(name)
        .fetch_optional(pool)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()
}

/// The topic with this id, if any.
pub(super) async fn by_id(pool: &PgPool, id: TopicId) -> Result<Option<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPIC_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(TopicRecord::into_topic)
        .transpose()
}

/// All topics, ordered by name.
pub(super) async fn list(pool: &PgPool) -> Result<Vec<Topic>> {
    sqlx::query_as::<_, TopicRecord>(TOPICS_LIST)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(TopicRecord::into_topic)
        .collect()
}

/// Deletes a topic with its partitions, index rows and producer histories
/// in one transaction (its committed group offsets go by `ON DELETE
/// CASCADE`, see `migrations/postgres/0004_groups.sql`); its segments become
/// candidates of the segment collector. The partitions are locked first, in the order
/// commits lock them. Listening agents hear of it once it commits.
pub(super) async fn delete(pool: &PgPool, id: TopicId) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(TOPIC_LOCK_PARTITIONS)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(TOPIC_NOTIFY).bind(id).execute(&mut *tx).await?;
    sqlx::query(TOPIC_SEGMENTS_TO_COLLECT)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(TOPIC_DELETE_INDEX_ROWS)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    super::transactions::delete_topic(&mut tx, id).await?;
    for statement in [TOPIC_DELETE_PRODUCER_BATCHES, TOPIC_DELETE_PARTITIONS] {
        sqlx::query(statement).bind(id).execute(&mut *tx).await?;
    }
    let deleted = sqlx::query(TOPIC_DELETE)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    }
    tx.commit().await?;
    tracing::info!(topic_id = %id, index_rows = rows, "deleted topic");
    Ok(())
}

/// Replaces a topic's configuration overrides in one transaction that also
/// tells listening agents (`floe_topics`, with the topic's name), so they
/// drop their cached copy once it commits.
pub(super) async fn set_config(
    pool: &PgPool,
    id: TopicId,
    config: &BTreeMap<String, String>,
) -> Result<()> {
    let json = config_to_json(config)?;
    let mut tx = pool.begin().await?;
    let updated = sqlx::query(TOPIC_SET_CONFIG)
        .bind(id)
        .bind(&json)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if updated == 0 {
        return Err(MetadataError::UnknownTopic(id.to_string()));
    }
    sqlx::query(TOPIC_NOTIFY).bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::info!(topic_id = %id, "replaced topic config");
    Ok(())
}
