//! Checks of requests made before anything is written, shared by every
//! implementation so they reject the same inputs.

use std::collections::HashSet;

use crate::{MetadataError, NewTopic, Result, SegmentCommit};

/// Longest topic name Kafka accepts.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Checks a topic name as Kafka does: 1 to 249 characters of
/// `[a-zA-Z0-9._-]`, and neither `.` nor `..`.
pub(crate) fn topic_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_TOPIC_NAME_LEN {
        return Err(MetadataError::Invalid(format!(
            "topic name must be 1 to {MAX_TOPIC_NAME_LEN} characters long, got {}",
            name.len()
        )));
    }
    if name == "." || name == ".." {
        return Err(MetadataError::Invalid(format!(
            "topic name cannot be {name:?}"
        )));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !name.chars().all(legal) {
        return Err(MetadataError::Invalid(format!(
            "topic name {name:?} may only contain ASCII letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Checks a topic to create: a legal name and at least one partition.
pub(crate) fn new_topic(topic: &NewTopic) -> Result<()> {
    topic_name(&topic.name)?;
    if topic.partitions < 1 {
        return Err(MetadataError::Invalid(format!(
            "a topic needs at least one partition, got {}",
            topic.partitions
        )));
    }
    Ok(())
}

/// Checks a segment commit: every entry takes at least one offset, no
/// partition appears twice, and every size fits the database's 64-bit
/// signed integers.
pub(crate) fn segment_commit(commit: &SegmentCommit) -> Result<()> {
    crate::convert::to_i64(commit.size, "segment size")?;
    let mut seen = HashSet::with_capacity(commit.entries.len());
    for entry in &commit.entries {
        if entry.offset_count < 1 {
            return Err(MetadataError::Invalid(format!(
                "entry for {}/{} takes {} offsets; at least 1 is required",
                entry.topic_id, entry.partition, entry.offset_count
            )));
        }
        if !seen.insert((entry.topic_id, entry.partition)) {
            return Err(MetadataError::Invalid(format!(
                "partition {}/{} appears twice in segment {}",
                entry.topic_id, entry.partition, commit.segment_id
            )));
        }
        crate::convert::to_i64(entry.byte_offset, "byte offset")?;
        crate::convert::to_i64(entry.byte_len, "byte length")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        for good in ["a", "orders", "Orders.v2_eu-west", "...", &"x".repeat(249)] {
            assert!(topic_name(good).is_ok(), "{good:?} should be accepted");
        }
        for bad in ["", ".", "..", "a b", "é", "a/b", &"x".repeat(250)] {
            assert!(
                matches!(topic_name(bad), Err(MetadataError::Invalid(_))),
                "{bad:?} should be rejected"
            );
        }
    }
}
