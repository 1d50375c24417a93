//! What a run observed, as plain data: the input of [`crate::check`].
//!
//! Producers add acknowledgements and failures, consumers add reads and
//! committed offsets, the stall watch adds the longest stall per partition.
//! Nothing here talks to a cluster, so the checks run on synthetic histories
//! in unit tests exactly as on real ones.

use std::collections::BTreeMap;
use std::time::Duration;

/// Identifies one produced record: the producer's number and the record's
/// sequence number within that producer, in send order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId {
    /// Which producer sent it (0-based).
    pub producer: u32,
    /// Its place in that producer's send order (0-based).
    pub seq: u64,
}

/// A record the cluster acknowledged: it must be read, once, at `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    /// The record.
    pub id: RecordId,
    /// The partition the acknowledgement names.
    pub partition: i32,
    /// The offset the acknowledgement names.
    pub offset: i64,
}

/// A record that was sent but not acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// The record.
    pub id: RecordId,
    /// Whether the error says the record was certainly not stored. A
    /// definite failure must never be read; any other failure (a timeout,
    /// a lost connection, no report at all) may be read, but at most once.
    pub definite: bool,
}

/// The value of a record as read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// A value this run wrote.
    Ours(RecordId),
    /// Anything else (another run's records, or another writer's).
    Foreign,
}

/// One record handed to a consumer. The same offset may be read again after
/// a rebalance or a restart (at-least-once delivery); that is not a
/// duplicate, a value stored at two offsets is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// Partition read.
    pub partition: i32,
    /// Offset read.
    pub offset: i64,
    /// What the offset held.
    pub value: Value,
}

/// An offset commit the group coordinator accepted, in the order accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commit {
    /// Which consumer committed (0-based).
    pub consumer: u32,
    /// Partition committed.
    pub partition: i32,
    /// The committed offset (the next record to read).
    pub offset: i64,
}

/// A partition's log bounds at the end of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    /// First offset still in the log.
    pub low: i64,
    /// One past the last offset written.
    pub high: i64,
}

/// Everything a run observed.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Partition ids of the topic.
    pub partitions: Vec<i32>,
    /// Acknowledged records.
    pub acks: Vec<Ack>,
    /// Sent records without an acknowledgement.
    pub failures: Vec<Failure>,
    /// Records consumers read, in the order each consumer read them.
    pub reads: Vec<Read>,
    /// Accepted offset commits, in the order they were accepted.
    pub commits: Vec<Commit>,
    /// Log bounds per partition after the drain (missing if unknown).
    pub watermarks: BTreeMap<i32, Watermarks>,
    /// Longest time each partition had unread acknowledged records while no
    /// consumer read anything from it.
    pub longest_stall: BTreeMap<i32, Duration>,
    /// Fatal producer errors (an idempotent producer that had to give up).
    pub producer_fatal: Vec<String>,
}

/// Prefix of every value this checker writes, then the run id, producer
/// and sequence number: `floe-verify:<run>:<producer>:<seq>`.
const VALUE_PREFIX: &str = "floe-verify";

/// The value written for `id` in run `run`.
pub fn encode_value(run: u64, id: RecordId) -> String {
    format!("{VALUE_PREFIX}:{run:016x}:{}:{}", id.producer, id.seq)
}

/// Reads back a value written by [`encode_value`] in run `run`; anything
/// else is [`Value::Foreign`].
pub fn decode_value(run: u64, bytes: &[u8]) -> Value {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Value::Foreign;
    };
    let mut parts = text.split(':');
    let (Some(prefix), Some(r), Some(p), Some(s), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Value::Foreign;
    };
    if prefix != VALUE_PREFIX || u64::from_str_radix(r, 16).ok() != Some(run) {
        return Value::Foreign;
    }
    match (p.parse(), s.parse()) {
        (Ok(producer), Ok(seq)) => Value::Ours(RecordId { producer, seq }),
        _ => Value::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_other_runs_are_foreign() {
        let id = RecordId {
            producer: 3,
            seq: 123_456,
        };
        let v = encode_value(0xabc, id);
        assert_eq!(decode_value(0xabc, v.as_bytes()), Value::Ours(id));
        assert_eq!(decode_value(0xabd, v.as_bytes()), Value::Foreign);
        assert_eq!(decode_value(0xabc, b"hello"), Value::Foreign);
        assert_eq!(decode_value(0xabc, &[0xff, 0xfe]), Value::Foreign);
        let extra = format!("{v}:1");
        assert_eq!(decode_value(0xabc, extra.as_bytes()), Value::Foreign);
    }
}
