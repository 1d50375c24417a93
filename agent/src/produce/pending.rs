//! The pending segment: batches accepted but not yet flushed, and the
//! producers waiting for their offsets.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::segment::PartitionBatches;
use crate::segment::batch::ValidatedBatches;

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
}

/// The base offset given to an appended set of batches, or why not.
pub type AppendOutcome = Result<i64, FlushError>;

/// A producer waiting for the offset of its batches: they start
/// `offset_delta` offsets after the partition's base offset in the segment.
#[derive(Debug)]
pub(super) struct Waiter {
    pub offset_delta: i64,
    pub reply: oneshot::Sender<AppendOutcome>,
}

/// One partition's part of the pending segment.
#[derive(Debug, Default)]
pub(super) struct PendingPartition {
    pub batches: Vec<Bytes>,
    pub offset_count: i64,
    pub max_timestamp: i64,
    pub waiters: Vec<Waiter>,
}

/// Everything appended since the last seal.
#[derive(Debug, Default)]
pub(super) struct PendingSegment {
    pub partitions: BTreeMap<(Uuid, i32), PendingPartition>,
    pub bytes: usize,
    pub first_append: Option<Instant>,
    pub permit: Option<OwnedSemaphorePermit>,
}

/// A sealed pending segment, ready to encode and upload.
#[derive(Debug)]
pub(super) struct SealedSegment {
    pub partitions: Vec<PartitionBatches>,
    pub waiters: Vec<Vec<Waiter>>,
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
        let mut waiters = Vec::with_capacity(taken.partitions.len());
        for ((topic_id, partition), p) in taken.partitions {
            partitions.push(PartitionBatches {
                topic_id,
                partition,
                batches: p.batches,
                offset_count: p.offset_count,
                max_timestamp: p.max_timestamp,
            });
            waiters.push(p.waiters);
        }
        Some(SealedSegment {
            partitions,
            waiters,
            bytes: taken.bytes,
            permit: taken.permit,
        })
    }
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
    pub metrics: Arc<Metrics>,
}

/// The handle request handlers use to append produced batches.
#[derive(Debug, Clone)]
pub struct Producer {
    pub(super) shared: Arc<Shared>,
}

impl Producer {
    /// Appends one partition's validated batches to the pending segment and
    /// returns where the outcome will arrive. Waits while the memory budget
    /// for unflushed data is spent, which slows producers down to what the
    /// store absorbs.
    pub async fn append(
        &self,
        topic_id: Uuid,
        partition: i32,
        records: Bytes,
        info: ValidatedBatches,
    ) -> Result<oneshot::Receiver<AppendOutcome>, FlushError> {
        let s = &self.shared;
        let want = records.len().clamp(1, s.budget_total) as u32;
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
        let len = records.len();
        let p = pending.partitions.entry((topic_id, partition)).or_default();
        if p.batches.is_empty() {
            p.max_timestamp = info.max_timestamp;
        }
        p.waiters.push(Waiter {
            offset_delta: p.offset_count,
            reply: tx,
        });
        p.batches.push(records);
        p.offset_count += info.offset_count;
        p.max_timestamp = p.max_timestamp.max(info.max_timestamp);
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
