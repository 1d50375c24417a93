//! Rows as SQLite returns them, and their checked conversion to the public
//! types. Columns are read as raw values (bytes, integers, text) so a bad
//! stored value becomes [`crate::MetadataError::Corrupt`], not a panic.

use crate::convert::{config_from_json, stored_node_id, stored_u64, stored_uuid};
use crate::{AgentRecord, IndexRow, MetadataError, Result, Topic};

/// A row of `topics`.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TopicRecord {
    id: Vec<u8>,
    name: String,
    partitions: i64,
    config: String,
}

impl TopicRecord {
    /// The stored topic, checked.
    pub(super) fn into_topic(self) -> Result<Topic> {
        let id = stored_uuid(&self.id, "topic id")?;
        let partitions = i32::try_from(self.partitions)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                MetadataError::Corrupt(format!(
                    "topic {} has {} partitions",
                    self.name, self.partitions
                ))
            })?;
        let config = config_from_json(&self.config, &self.name)?;
        Ok(Topic {
            id,
            name: self.name,
            partitions,
            config,
        })
    }
}

/// A row of `index_rows` joined with its segment's object key.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct IndexRecord {
    base_offset: i64,
    last_offset: i64,
    segment_id: Vec<u8>,
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
            segment_id: stored_uuid(&self.segment_id, "segment id")?,
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
    node_id: i64,
    host: String,
    port: i64,
    zone: Option<String>,
    listeners: String,
}

impl AgentRow {
    /// The stored agent, checked.
    pub(super) fn into_agent(self) -> Result<AgentRecord> {
        let port = i32::try_from(self.port).map_err(|_| {
            MetadataError::Corrupt(format!("agent port {} out of range", self.port))
        })?;
        Ok(AgentRecord {
            node_id: stored_node_id(self.node_id)?,
            host: self.host,
            port,
            zone: self.zone,
            listeners: self.listeners,
        })
    }
}
