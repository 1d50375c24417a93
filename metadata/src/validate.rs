//! Checks of requests made before anything is written, shared by every
//! implementation so they reject the same inputs.

use std::collections::HashSet;

use crate::convert::to_i64;
use crate::{BatchEntry, BatchTxn, MetadataError, NewTopic, Result, SegmentCommit};

/// Longest topic name Kafka accepts.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Checks a topic name as Kafka does: 1 to 249 characters of
/// `[a-zA-Z0-9._-]`, and neither `.` nor `..`. Public so the Kafka layer can
/// answer INVALID_TOPIC_EXCEPTION for a name no topic can have, as Kafka does
/// even where nothing would be created.
pub fn topic_name(name: &str) -> Result<()> {
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

/// Most partitions a topic may have. Kafka itself has no hard limit, but a
/// topic is created in one transaction and every partition is a row.
pub(crate) const MAX_PARTITIONS: i32 = 100_000;

/// Most offsets one batch may take: Kafka's `lastOffsetDelta` is an `i32`.
const MAX_OFFSET_COUNT: i64 = 1 << 31;

/// Checks a topic to create: a legal name and 1 to [`MAX_PARTITIONS`]
/// partitions.
pub(crate) fn new_topic(topic: &NewTopic) -> Result<()> {
    topic_name(&topic.name)?;
    if !(1..=MAX_PARTITIONS).contains(&topic.partitions) {
        return Err(MetadataError::Invalid(format!(
            "a topic needs 1 to {MAX_PARTITIONS} partitions, got {}",
            topic.partitions
        )));
    }
    Ok(())
}

/// Checks the shape of a segment commit before anything is written: every
/// entry has at least one batch, no partition appears twice, the batches of
/// an entry are in increasing byte order without overlapping, and every
/// size fits the databases' 64-bit signed integers. These are the agent's
/// own layout of the file: a failure is a bug, and fails the commit.
///
/// What a producer put in a batch's header is judged batch by batch
/// instead ([`batch_is_valid`]): one bad batch is refused on its own and
/// never fails the other batches of its segment.
pub(crate) fn segment_commit(commit: &SegmentCommit) -> Result<()> {
    to_i64(commit.size, "segment size")?;
    let mut seen = HashSet::with_capacity(commit.entries.len());
    for entry in &commit.entries {
        let partition = format!("{}/{}", entry.topic_id, entry.partition);
        if entry.batches.is_empty() {
            return Err(MetadataError::Invalid(format!(
                "entry for {partition} has no batch"
            )));
        }
        if !seen.insert((entry.topic_id, entry.partition)) {
            return Err(MetadataError::Invalid(format!(
                "partition {partition} appears twice in segment {}",
                commit.segment_id
            )));
        }
        let mut previous_end: Option<u64> = None;
        for batch in &entry.batches {
            let end = batch
                .byte_offset
                .checked_add(batch.byte_len)
                .ok_or_else(|| {
                    MetadataError::Invalid(format!(
                        "byte range of a batch of {partition} overflows"
                    ))
                })?;
            to_i64(end, "batch end")?;
            if previous_end.is_some_and(|previous| batch.byte_offset < previous) {
                return Err(MetadataError::Invalid(format!(
                    "batches of {partition} overlap or are out of byte order at byte {}",
                    batch.byte_offset
                )));
            }
            previous_end = Some(end);
        }
    }
    Ok(())
}

/// Whether the store takes a batch's own fields: it takes 1 to 2^31
/// offsets, and an idempotent producer's id, epoch and base sequence are
/// non-negative. A batch that fails is refused as
/// [`crate::BatchOutcome::InvalidRecord`]; the Postgres function
/// (`migrations/postgres/0006_commit_refuses_batches.sql`) applies the same
/// rule.
///
/// A transactional batch needs its producer; a marker takes one offset and
/// names a producer with a non-negative id and epoch but carries no
/// sequence (its [`BatchEntry::producer`] is `None`).
pub(crate) fn batch_is_valid(batch: &BatchEntry) -> bool {
    let txn_ok = match batch.txn {
        BatchTxn::None => true,
        BatchTxn::Data => batch.producer.is_some(),
        BatchTxn::Marker {
            producer_id,
            producer_epoch,
            ..
        } => {
            batch.producer.is_none()
                && batch.offset_count == 1
                && producer_id >= 0
                && producer_epoch >= 0
        }
    };
    txn_ok
        && (1..=MAX_OFFSET_COUNT).contains(&batch.offset_count)
        && batch.producer.is_none_or(|producer| {
            producer.producer_id >= 0 && producer.producer_epoch >= 0 && producer.base_sequence >= 0
        })
}

/// Longest advertised host or zone name accepted (DNS names are at most
/// 253 characters).
const MAX_ADDRESS_PART_LEN: usize = 255;

/// Checks a SCRAM credential before it is stored: a user of 1 to 255
/// bytes, a known mechanism, Kafka's iteration bounds, and key sizes of
/// the mechanism's hash.
pub(crate) fn scram_credential(c: &crate::ScramCredential) -> Result<()> {
    let invalid = |m: String| Err(MetadataError::Invalid(m));
    if c.user.is_empty() || c.user.len() > MAX_ADDRESS_PART_LEN {
        return invalid(format!(
            "user name must be 1 to {MAX_ADDRESS_PART_LEN} bytes long"
        ));
    }
    let key_len = match c.mechanism.as_str() {
        "SCRAM-SHA-256" => 32,
        "SCRAM-SHA-512" => 64,
        other => return invalid(format!("unknown scram mechanism {other}")),
    };
    if !(4096..=16384).contains(&c.iterations) {
        return invalid(format!(
            "scram iterations must be 4096 to 16384, got {}",
            c.iterations
        ));
    }
    if c.salt.is_empty() || c.salt.len() > 1024 {
        return invalid("scram salt must be 1 to 1024 bytes".into());
    }
    if c.stored_key.len() != key_len || c.server_key.len() != key_len {
        return invalid(format!("{} keys must be {key_len} bytes", c.mechanism));
    }
    Ok(())
}

/// Longest advertised-listeners string an agent registers.
const MAX_LISTENERS_LEN: usize = 4096;

/// Checks what an agent registers: a host and a zone (if any) of 1 to
/// [`MAX_ADDRESS_PART_LEN`] bytes, a port from 1 to 65535, and listeners
/// of at most [`MAX_LISTENERS_LEN`] bytes.
pub(crate) fn agent(host: &str, port: i32, zone: Option<&str>, listeners: &str) -> Result<()> {
    if listeners.len() > MAX_LISTENERS_LEN {
        return Err(MetadataError::Invalid(format!(
            "agent listeners must be at most {MAX_LISTENERS_LEN} bytes long, got {}",
            listeners.len()
        )));
    }
    for (what, value) in [("host", Some(host)), ("zone", zone)] {
        if let Some(value) = value
            && (value.is_empty() || value.len() > MAX_ADDRESS_PART_LEN)
        {
            return Err(MetadataError::Invalid(format!(
                "agent {what} must be 1 to {MAX_ADDRESS_PART_LEN} bytes long, got {}",
                value.len()
            )));
        }
    }
    if !(1..=65535).contains(&port) {
        return Err(MetadataError::Invalid(format!(
            "agent port must be 1 to 65535, got {port}"
        )));
    }
    Ok(())
}

/// The log start a DeleteRecords of `before_offset` asks for: `-1` is the
/// high watermark; `None` for any other negative offset or one above the
/// high watermark (OFFSET_OUT_OF_RANGE, as Kafka answers).
pub(crate) fn delete_records_target(before_offset: i64, high_watermark: i64) -> Option<i64> {
    let target = if before_offset == -1 {
        high_watermark
    } else {
        before_offset
    };
    (0..=high_watermark).contains(&target).then_some(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_addresses_are_checked() {
        assert!(agent("10.0.0.1", 9092, None, "").is_ok());
        assert!(agent("broker.example.com", 65535, Some("eu-west-1a"), "SSL://b:1").is_ok());
        for (host, port, zone) in [
            ("", 9092, None),
            ("h", 0, None),
            ("h", 65536, None),
            ("h", -1, None),
            ("h", 9092, Some("")),
            (&*"h".repeat(256), 9092, None),
        ] {
            assert!(
                matches!(agent(host, port, zone, ""), Err(MetadataError::Invalid(_))),
                "{host:?}:{port} in {zone:?} should be rejected"
            );
        }
    }

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
