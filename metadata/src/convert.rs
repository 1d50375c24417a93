//! Conversions between the public types and what the databases store, with
//! the checks that turn a bad stored value into [`MetadataError::Corrupt`]
//! instead of a panic.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::{MetadataError, PartitionOffsets, Result};

/// A caller's unsigned size as the database's signed integer.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| MetadataError::Invalid(format!("{what} {value} does not fit in 63 bits")))
}

/// A stored signed integer that must be a non-negative size.
pub(crate) fn stored_u64(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| MetadataError::Corrupt(format!("negative {what} {value}")))
}

/// A stored epoch, which must fit Kafka's 16 bits.
pub(crate) fn stored_epoch(value: i64) -> Result<i16> {
    i16::try_from(value)
        .ok()
        .filter(|epoch| *epoch >= 0)
        .ok_or_else(|| MetadataError::Corrupt(format!("producer epoch {value} out of range")))
}

/// A stored 16-byte uuid.
pub(crate) fn stored_uuid(bytes: &[u8], what: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::from_slice(bytes).map_err(|_| {
        MetadataError::Corrupt(format!(
            "{what} is {} bytes, not a 16-byte uuid",
            bytes.len()
        ))
    })
}

/// A topic's configuration as the JSON object stored in the database.
pub(crate) fn config_to_json(config: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(config)
        .map_err(|e| MetadataError::Invalid(format!("topic config cannot be encoded: {e}")))
}

/// A topic's configuration from its stored JSON object.
pub(crate) fn config_from_json(json: &str, topic: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(json)
        .map_err(|e| MetadataError::Corrupt(format!("config of topic {topic} is not valid: {e}")))
}

/// The longest age a liveness query looks back; longer ones are cut to it,
/// so the database's time arithmetic cannot overflow.
const MAX_AGE: Duration = Duration::from_secs(1_000 * 365 * 24 * 60 * 60);

/// An age in whole microseconds (Postgres intervals), at most [`MAX_AGE`].
pub(crate) fn age_micros(age: Duration) -> i64 {
    i64::try_from(age.min(MAX_AGE).as_micros()).unwrap_or(i64::MAX)
}

/// An age in whole milliseconds (SQLite times), at most [`MAX_AGE`].
pub(crate) fn age_millis(age: Duration) -> i64 {
    i64::try_from(age.min(MAX_AGE).as_millis()).unwrap_or(i64::MAX)
}

/// A stored node id, which must be a positive Kafka broker id.
pub(crate) fn stored_node_id(value: i64) -> Result<i32> {
    i32::try_from(value)
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| MetadataError::Corrupt(format!("agent node id {value} out of range")))
}

/// Puts `(position, log start, high watermark, last stable offset, last
/// aborted offset)` answers of a many-partition lookup in the order asked,
/// `None` where nothing was found.
pub(crate) fn offsets_by_position(
    asked: usize,
    found: impl IntoIterator<Item = (i64, i64, i64, i64, i64)>,
    first_position: i64,
) -> Result<Vec<Option<PartitionOffsets>>> {
    let mut out = vec![None; asked];
    for (position, log_start_offset, high_watermark, last_stable_offset, last_aborted_offset) in
        found
    {
        let slot = usize::try_from(position - first_position)
            .ok()
            .and_then(|i| out.get_mut(i))
            .ok_or_else(|| {
                MetadataError::Corrupt(format!("answer for partition #{position} not asked"))
            })?;
        *slot = Some(PartitionOffsets {
            log_start_offset,
            high_watermark,
            last_stable_offset,
            last_aborted_offset,
        });
    }
    Ok(out)
}
