//! Lists bound as one parameter: SQLite has no arrays, so a query reads a
//! JSON array with `json_each` (ids as hex, which `unhex` turns back into
//! the stored 16-byte blobs).

use uuid::Uuid;

use crate::{MetadataError, Result, TopicId};

/// `[[topic id in hex, partition], ...]`.
pub(super) fn partitions_json(partitions: &[(TopicId, i32)]) -> Result<String> {
    let partitions: Vec<(String, i32)> = partitions
        .iter()
        .map(|(topic, partition)| (topic.simple().to_string(), *partition))
        .collect();
    serde_json::to_string(&partitions).map_err(|e| unencodable("partitions", &e))
}

/// `[id in hex, ...]`.
pub(super) fn ids_json(ids: &[Uuid]) -> Result<String> {
    let ids: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    serde_json::to_string(&ids).map_err(|e| unencodable("ids", &e))
}

fn unencodable(what: &str, e: &serde_json::Error) -> MetadataError {
    MetadataError::Invalid(format!("{what} cannot be encoded: {e}"))
}
