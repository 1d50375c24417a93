//! The pending segment: batches accepted but not yet flushed, and the
//! producers waiting for their offsets.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use floe_metadata::{BatchTxn, ProducerBatch};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::segment::PartitionBatches;
use crate::segment::batch::BatchHeader;

/// Why appended data was not stored. Cloned to every producer of a flush.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlushError {
    /// The partition disappeared (topic deleted) before the commit.
    #[error("unknown topic or partition")]
    UnknownPartition,
    /// Upload or commit failed; nothing of the flush was stored.
    #[error("storage failed: {0}")]
    Storage(String),
    /// The agent is shutting down and accepts no more data.
    #[error("agent is shutting down")]
    ShuttingDown,
    /// The idempotent producer's sequence does not follow its last one.
    #[error("out of order sequence number")]
    OutOfOrderSequence,
    /// The idempotent producer's epoch is older than one already seen.
    #[error("invalid producer epoch")]
    InvalidProducerEpoch,
    /// The commit may or may not have happened: the store could not be
    /// asked in time, or the agent stopped first. Never reported as a
    /// failure: Kafka's answer for this is REQUEST_TIMED_OUT.
    #[error("commit outcome unknown")]
    OutcomeUnknown,
    /// The metadata store refused the batch's fields (the edge should have
    /// refused it first).
    #[error("invalid record")]
    InvalidRecord,
    /// A transactional batch whose producer has no open transaction on
    /// the partition at its epoch (INVALID_TXN_STATE).
    #[error("invalid transaction state")]
    InvalidTxnState,
}

/// Where an appended batch went in its partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// The offset given to the batch's first record.
    pub base_offset: i64,
    /// The partition's log start offset as the commit found it (Produce
    /// v5+ reports it, as Kafka does).
    pub log_start_offset: i64,
}

/// Where an appended batch went, or why it was not stored.
pub type AppendOutcome = Result<Appended, FlushError>;

/// When a batch is appended, and how far ahead of that its timestamps may
/// be (the topic's `message.timestamp.after.max.ms`): what the index keeps
/// of its timestamp depends on both ([`retention_timestamp`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendTime {
    /// Wall clock at the append, in ms since the epoch.
    pub now_ms: i64,
    /// Largest lead of a timestamp over `now_ms` that is believed.
    pub after_max_ms: i64,
}

/// The max timestamp the index keeps for a batch whose own is
/// `max_timestamp`, appended at `time`. Retention expires index rows by
/// this timestamp, so it must not be trusted blindly: a batch whose
/// records carry no timestamp (-1) or a negative one would be expired at
/// the first retention pass, and one from the far future never. A negative
/// timestamp becomes the append time (Kafka falls back on the segment's
/// time likewise), and a timestamp is believed at most `after_max_ms`
/// ahead of it. The edge refuses CreateTime batches beyond that window, so
/// the cap only matters if the window is widened later.
///
/// ListOffsets by timestamp looks for the batch whose header timestamp
/// reaches the one asked for within the row this timestamp selects: a row
/// made only of batches without timestamps is selected by its append time
/// but holds no match, and the lookup moves on to the next row.
pub fn retention_timestamp(max_timestamp: i64, time: AppendTime) -> i64 {
    if max_timestamp < 0 {
        time.now_ms
    } else {
        max_timestamp.min(time.now_ms.saturating_add(time.after_max_ms.max(0)))
    }
}

/// One produced batch waiting in the pending segment, with the producer
/// waiting for its offset.
#[derive(Debug)]
pub(super) struct PendingBatch {
    pub data: Bytes,
    pub offset_count: i64,
    pub max_timestamp: i64,
    pub producer: Option<ProducerBatch>,
    pub txn: BatchTxn,
    pub reply: oneshot::Sender<AppendOutcome>,
}

/// Everything appended since the last seal.
#[derive(Debug, Default)]
pub(super) struct PendingSegment {
    pub partitions: BTreeMap<(Uuid, i32), Vec<PendingBatch>>,
    pub bytes: usize,
    pub first_append: Option<Instant>,
    pub permit: Option<OwnedSemaphorePermit>,
}

/// The commit-side facts of one sealed batch.
#[derive(Debug)]
pub(super) struct SealedBatch {
    pub len: u64,
    pub offset_count: i64,
    pub max_timestamp: i64,
    pub producer: Option<ProducerBatch>,
    pub txn: BatchTxn,
    pub reply: oneshot::Sender<AppendOutcome>,
}

/// A sealed pending segment, ready to encode and upload.
#[derive(Debug)]
pub(super) struct SealedSegment {
    /// What goes into the file, sorted by (topic id, partition).
    pub partitions: Vec<PartitionBatches>,
    /// The same batches' commit facts, in the same order.
    pub batches: Vec<Vec<SealedBatch>>,
    pub bytes: usize,
    pub permit: Option<OwnedSemaphorePermit>,
}

impl PendingSegment {
    /// Takes the contents, leaving an empty segment behind.
    pub fn seal(&mut self) -> Option<SealedSegment> {
        if self.partitions.is_empty() {
            return None;
        }
        let taken = std::mem::take(self);
        let mut partitions = Vec::with_capacity(taken.partitions.len());
        let mut sealed = Vec::with_capacity(taken.partitions.len());
        for ((topic_id, partition), pending) in taken.partitions {
            let mut data = Vec::with_capacity(pending.len());
            let mut facts = Vec::with_capacity(pending.len());
            let (mut offset_count, mut max_timestamp) = (0, i64::MIN);
            for b in pending {
                offset_count += b.offset_count;
                max_timestamp = max_timestamp.max(b.max_timestamp);
                facts.push(SealedBatch {
                    len: b.data.len() as u64,
                    offset_count: b.offset_count,
                    max_timestamp: b.max_timestamp,
                    producer: b.producer,
                    txn: b.txn,
                    reply: b.reply,
                });
                data.push(b.data);
            }
            partitions.push(PartitionBatches {
                topic_id,
                partition,
                batches: data,
                offset_count,
                max_timestamp,
            });
            sealed.push(facts);
        }
        Some(SealedSegment {
            partitions,
            batches: sealed,
            bytes: taken.bytes,
            permit: taken.permit,
        })
    }
}

/// What the commit needs of a batch, besides its bytes.
#[derive(Debug, Clone, Copy)]
struct BatchFacts {
    offset_count: i64,
    max_timestamp: i64,
    producer: Option<ProducerBatch>,
    txn: BatchTxn,
}

/// State shared by the producers (request handlers) and the flusher.
#[derive(Debug)]
pub(super) struct Shared {
    pub pending: Mutex<PendingSegment>,
    /// Wakes the flusher: first data in an empty segment, or segment full.
    pub wake: Notify,
    /// Bytes allowed to wait for a commit; producers block when it is spent.
    pub budget: Arc<Semaphore>,
    pub budget_total: usize,
    pub flush_bytes: usize,
    pub closed: AtomicBool,
    /// Sealed segments not yet committed (or failed).
    pub inflight: AtomicUsize,
    pub metrics: Arc<Metrics>,
}

/// The handle request handlers use to append produced batches.
#[derive(Debug, Clone)]
pub struct Producer {
    pub(super) shared: Arc<Shared>,
}

impl Producer {
    /// [`Producer::append_at`] now, believing timestamps up to Kafka's
    /// default `message.timestamp.after.max.ms` ahead.
    pub async fn append(
        &self,
        topic_id: Uuid,
        partition: i32,
        batch: Bytes,
        header: &BatchHeader,
    ) -> Result<oneshot::Receiver<AppendOutcome>, FlushError> {
        let time = AppendTime {
            now_ms: crate::wall_clock::now_ms(),
            after_max_ms: crate::segment::batch::TimestampLimits::default().after_max_ms,
        };
        self.append_at(topic_id, partition, batch, header, time)
            .await
    }

    /// Appends one partition's validated batch to the pending segment and
    /// returns where its outcome will arrive. Waits while the memory budget
    /// for unflushed data is spent, which slows producers down to what the
    /// store absorbs. The index will keep the batch's
    /// [`retention_timestamp`] at `time`.
    pub async fn append_at(
        &self,
        topic_id: Uuid,
        partition: i32,
        batch: Bytes,
        header: &BatchHeader,
        time: AppendTime,
    ) -> Result<oneshot::Receiver<AppendOutcome>, FlushError> {
        // The edge refused negative epochs and sequences of idempotent
        // batches (validate_produced); the store would refuse them alone.
        let producer = (header.producer_id >= 0).then_some(ProducerBatch {
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            base_sequence: header.base_sequence,
        });
        let txn = if header.is_transactional() {
            BatchTxn::Data
        } else {
            BatchTxn::None
        };
        let facts = BatchFacts {
            offset_count: header.offset_count(),
            max_timestamp: retention_timestamp(header.max_timestamp, time),
            producer,
            txn,
        };
        self.push(topic_id, partition, batch, facts).await
    }

    /// Appends the markers ending one transaction (control batches the
    /// coordinator built; each [`BatchTxn::Marker`] says whose transaction
    /// and how) to the pending segment in one step, so they land in one
    /// segment and one commit, where they get their offsets like any batch.
    /// One receiver per marker, in order.
    pub async fn append_markers(
        &self,
        markers: Vec<(Uuid, i32, Bytes, BatchTxn)>,
        now_ms: i64,
    ) -> Result<Vec<oneshot::Receiver<AppendOutcome>>, FlushError> {
        let s = &self.shared;
        let len: usize = markers.iter().map(|(_, _, batch, _)| batch.len()).sum();
        let want = len.clamp(1, s.budget_total) as u32;
        let permit = s
            .budget
            .clone()
            .acquire_many_owned(want)
            .await
            .map_err(|_| FlushError::ShuttingDown)?;
        let mut replies = Vec::with_capacity(markers.len());
        let mut pending = s.pending.lock().map_err(|_| FlushError::ShuttingDown)?;
        if s.closed.load(Ordering::Acquire) {
            return Err(FlushError::ShuttingDown);
        }
        for (topic_id, partition, batch, txn) in markers {
            let (tx, rx) = oneshot::channel();
            pending
                .partitions
                .entry((topic_id, partition))
                .or_default()
                .push(PendingBatch {
                    data: batch,
                    offset_count: 1,
                    max_timestamp: now_ms,
                    producer: None,
                    txn,
                    reply: tx,
                });
            replies.push(rx);
        }
        let was_empty = pending.first_append.is_none();
        if was_empty {
            pending.first_append = Some(Instant::now());
        }
        let before = pending.bytes;
        pending.bytes += len;
        match &mut pending.permit {
            Some(held) => held.merge(permit),
            None => pending.permit = Some(permit),
        }
        let crossed = before < s.flush_bytes && pending.bytes >= s.flush_bytes;
        drop(pending);
        s.metrics.pending_bytes.add(len as i64);
        if was_empty || crossed {
            s.wake.notify_one();
        }
        Ok(replies)
    }

    async fn push(
        &self,
        topic_id: Uuid,
        partition: i32,
        batch: Bytes,
        facts: BatchFacts,
    ) -> Result<oneshot::Receiver<AppendOutcome>, FlushError> {
        let s = &self.shared;
        let want = batch.len().clamp(1, s.budget_total) as u32;
        let permit = s
            .budget
            .clone()
            .acquire_many_owned(want)
            .await
            .map_err(|_| FlushError::ShuttingDown)?;
        let (tx, rx) = oneshot::channel();
        let mut pending = s.pending.lock().map_err(|_| FlushError::ShuttingDown)?;
        if s.closed.load(Ordering::Acquire) {
            return Err(FlushError::ShuttingDown);
        }
        let len = batch.len();
        pending
            .partitions
            .entry((topic_id, partition))
            .or_default()
            .push(PendingBatch {
                data: batch,
                offset_count: facts.offset_count,
                max_timestamp: facts.max_timestamp,
                producer: facts.producer,
                txn: facts.txn,
                reply: tx,
            });
        let was_empty = pending.first_append.is_none();
        if was_empty {
            pending.first_append = Some(Instant::now());
        }
        let before = pending.bytes;
        pending.bytes += len;
        match &mut pending.permit {
            Some(held) => held.merge(permit),
            None => pending.permit = Some(permit),
        }
        let crossed = before < s.flush_bytes && pending.bytes >= s.flush_bytes;
        drop(pending);
        s.metrics.pending_bytes.add(len as i64);
        if was_empty || crossed {
            s.wake.notify_one();
        }
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_does_not_trust_missing_or_future_timestamps() {
        let time = AppendTime {
            now_ms: 1_000_000,
            after_max_ms: 3_600_000,
        };
        assert_eq!(retention_timestamp(999_000, time), 999_000);
        assert_eq!(retention_timestamp(0, time), 0);
        assert_eq!(retention_timestamp(-1, time), 1_000_000);
        assert_eq!(retention_timestamp(i64::MIN, time), 1_000_000);
        assert_eq!(retention_timestamp(4_600_000, time), 4_600_000);
        assert_eq!(retention_timestamp(4_600_001, time), 4_600_000);
        assert_eq!(retention_timestamp(i64::MAX, time), 4_600_000);
        let unlimited = AppendTime {
            after_max_ms: i64::MAX,
            ..time
        };
        assert_eq!(retention_timestamp(i64::MAX - 1, unlimited), i64::MAX - 1);
    }
}
