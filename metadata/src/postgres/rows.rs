//! Rows as Postgres returns them, and their checked conversion to the
//! public types, so a bad stored value becomes
//! [`crate::MetadataError::Corrupt`], not a panic.

use crate::convert::{config_from_json, stored_node_id, stored_u64};
use crate::{AgentRecord, IndexRow, MetadataError, Result, SegmentId, Topic, TopicId};

/// A row of `topics`, its config as JSON text.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TopicRecord {
    id: TopicId,
    name: String,
    partitions: i32,
    config: String,
}

impl TopicRecord {
    /// The stored topic, checked.
    pub(super) fn into_topic(self) -> Result<Topic> {
        if self.partitions < 1 {
            return Err(MetadataError::Corrupt(format!(
                "topic {} has {} partitions",
                self.name, self.partitions
            )));
        }
        let config = config_from_json(&self.config, &self.name)?;
        Ok(Topic {
            id: self.id,
            name: self.name,
            partitions: self.partitions,
            config,
        })
    }
}

/// A row of `index_rows` joined with its segment's object key.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct IndexRecord {
    base_offset: i64,
    last_offset: i64,
    segment_id: SegmentId,
    object_key: String,
    byte_offset: i64,
    byte_len: i64,
    max_timestamp: i64,
}

impl IndexRecord {
    /// The stored index row, checked.
    pub(super) fn into_index_row(self) -> Result<IndexRow> {
        Ok(IndexRow {
            base_offset: self.base_offset,
            last_offset: self.last_offset,
            segment_id: self.segment_id,
            object_key: self.object_key,
            byte_offset: stored_u64(self.byte_offset, "byte offset")?,
            byte_len: stored_u64(self.byte_len, "byte length")?,
            max_timestamp: self.max_timestamp,
        })
    }
}

/// A row of `agents`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct AgentRow {
    node_id: i32,
    host: String,
    port: i32,
    zone: Option<String>,
    listeners: String,
}

impl AgentRow {
    /// The stored agent, checked.
    pub(super) fn into_agent(self) -> Result<AgentRecord> {
        Ok(AgentRecord {
            node_id: stored_node_id(i64::from(self.node_id))?,
            host: self.host,
            port: self.port,
            zone: self.zone,
            listeners: self.listeners,
        })
    }
}
