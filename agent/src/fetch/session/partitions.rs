//! The partitions of one session: what the client last asked of each, what
//! the agent last told it, and the order they are read in.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A partition, by topic name (Fetch v7–v12 name topics).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    /// Topic name, owned (never a slice of the request frame, which a
    /// session would otherwise keep alive).
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
}

/// What the client asks of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Offset to read from.
    pub fetch_offset: i64,
    /// Most record bytes for this partition.
    pub max_bytes: i32,
}

/// What reading one partition found, which decides whether an incremental
/// answer includes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// Record bytes were read.
    pub has_records: bool,
    /// High watermark answered (-1 with an error).
    pub high_watermark: i64,
    /// Log start offset answered (-1 with an error).
    pub log_start_offset: i64,
    /// The partition is answered with an error code.
    pub error: bool,
}

/// One session's partitions in read order: a sequence number per
/// partition, and a partition that returned records moves to the end, so
/// that the others get their turn when `max_bytes` cuts an answer short.
#[derive(Debug, Default)]
pub(crate) struct Partitions {
    by_key: HashMap<PartitionKey, Cached>,
    order: BTreeMap<u64, PartitionKey>,
    next_seq: u64,
}

/// What a session remembers of one partition.
#[derive(Debug, Clone, Copy)]
struct Cached {
    seq: u64,
    wanted: Wanted,
    /// Last high watermark answered; -1 when unknown or after an error.
    high_watermark: i64,
    /// Last log start offset answered; -1 when unknown.
    log_start_offset: i64,
}

impl Partitions {
    pub(crate) fn len(&self) -> usize {
        self.by_key.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Adds a partition, or updates what the client asks of it in place.
    pub(crate) fn upsert(&mut self, key: PartitionKey, wanted: Wanted) {
        if let Some(c) = self.by_key.get_mut(&key) {
            c.wanted = wanted;
            return;
        }
        let seq = self.bump();
        self.order.insert(seq, key.clone());
        self.by_key.insert(
            key,
            Cached {
                seq,
                wanted,
                high_watermark: -1,
                log_start_offset: -1,
            },
        );
    }

    pub(crate) fn remove(&mut self, key: &PartitionKey) {
        if let Some(c) = self.by_key.remove(key) {
            self.order.remove(&c.seq);
        }
    }

    fn bump(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Moves a partition to the end of the read order.
    pub(crate) fn move_to_back(&mut self, key: &PartitionKey) {
        let seq = self.bump();
        if let Some(c) = self.by_key.get_mut(key) {
            self.order.remove(&c.seq);
            c.seq = seq;
            self.order.insert(seq, key.clone());
        }
    }

    /// The partitions and what is asked of them, in read order.
    pub(crate) fn snapshot(&self) -> Vec<(PartitionKey, Wanted)> {
        self.order
            .values()
            .filter_map(|k| self.by_key.get(k).map(|c| (k.clone(), c.wanted)))
            .collect()
    }

    /// Remembers what an answer said of a partition; true if an
    /// incremental answer must include it: records, a moved high watermark
    /// or log start offset, or an error (Kafka's
    /// `CachedPartition.maybeUpdateResponseData`).
    pub(crate) fn note(&mut self, key: &PartitionKey, found: &Found) -> bool {
        let Some(c) = self.by_key.get_mut(key) else {
            return true;
        };
        let mut respond = found.has_records;
        if c.high_watermark != found.high_watermark {
            respond = true;
            c.high_watermark = found.high_watermark;
        }
        if c.log_start_offset != found.log_start_offset {
            respond = true;
            c.log_start_offset = found.log_start_offset;
        }
        if found.error {
            // Answered again next time too, until the error is gone.
            respond = true;
            c.high_watermark = -1;
        }
        respond
    }
}
