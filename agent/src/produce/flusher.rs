//! The flusher: seals the pending segment when it is full or old enough,
//! uploads segments (several at once), and commits them strictly in the
//! order they were sealed, so a producer with requests in flight keeps its
//! order. A flush that fails fails the flushes sealed behind it too, rather
//! than let them commit ahead of its producers' retries, and the batches of
//! its idempotent producers that come later wait for those retries
//! (`ordering.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use floe_metadata::{
    BatchEntry, BatchOutcome, CommitEntry, CommittedSegment, MetadataStore, SegmentCommit,
};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span, warn};
use uuid::Uuid;

use super::commit::{CommitResult, CommitRetry, commit_until_known};
use super::ordering::FailedSequences;
use super::pending::{
    Appended, FlushError, PendingSegment, Producer, SealedBatch, SealedSegment, Shared,
};
use crate::fetch::{LEADER_EPOCH, SegmentCache, Watermarks};
use crate::metrics::Metrics;
use crate::segment::batch::patch_offsets;
use crate::segment::{FooterEntry, encode_segment};
use crate::storage::{ObjectStorage, SegmentKey};

/// When to flush and how much to keep in flight.
#[derive(Debug, Clone, Copy)]
pub struct FlushSettings {
    /// Longest time data waits in the pending segment. Zero means group
    /// commit: seal as soon as the previous flush has committed, so that
    /// segments are small at low load and large at high load (for stores
    /// that charge nothing per request).
    pub interval: Duration,
    /// Pending size that triggers a flush at once.
    pub flush_bytes: usize,
    /// Produce bytes allowed to wait for their commit.
    pub max_pending_bytes: usize,
    /// Segments uploading at once.
    pub max_inflight: usize,
    /// How commits are retried until their outcome is known.
    pub commit_retry: CommitRetry,
}

/// A segment after its upload, on its way to the commit.
#[derive(Debug)]
struct Uploaded {
    segment_id: Uuid,
    key: SegmentKey,
    /// The file as uploaded; cached once committed.
    data: Bytes,
    entries: Vec<FooterEntry>,
    sealed: SealedSegment,
    sealed_at: Instant,
    /// Position in seal order, from 1.
    seq: u64,
    upload: Result<(), String>,
}

/// The running flusher; [`Flusher::shutdown`] flushes what is pending and
/// answers every waiting producer before returning.
#[derive(Debug)]
pub struct Flusher {
    task: JoinHandle<()>,
    cancel: CancellationToken,
}

/// What the flusher needs from the rest of the agent.
#[derive(Debug, Clone)]
struct Deps {
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    cache: Arc<SegmentCache>,
    watermarks: Arc<Watermarks>,
    metrics: Arc<Metrics>,
    commit_retry: CommitRetry,
    /// Fires at shutdown: commits stop retrying soon after.
    shutdown: CancellationToken,
    /// Segments sealed so far; the last one's position in seal order.
    sealed: Arc<AtomicU64>,
}

impl Flusher {
    /// Starts the flusher and returns it with the producers' handle.
    /// `watermarks` hears of every partition a commit appended to, to wake
    /// long-polling fetches.
    pub fn start(
        settings: FlushSettings,
        store: Arc<dyn MetadataStore>,
        storage: ObjectStorage,
        cache: Arc<SegmentCache>,
        watermarks: Arc<Watermarks>,
        metrics: Arc<Metrics>,
    ) -> (Self, Producer) {
        let shared = Arc::new(Shared {
            pending: Mutex::new(PendingSegment::default()),
            wake: Notify::new(),
            budget: Arc::new(Semaphore::new(settings.max_pending_bytes)),
            budget_total: settings.max_pending_bytes,
            flush_bytes: settings.flush_bytes,
            closed: false.into(),
            inflight: 0.into(),
            metrics: metrics.clone(),
        });
        let cancel = CancellationToken::new();
        let deps = Deps {
            store,
            storage,
            cache,
            watermarks,
            metrics,
            commit_retry: settings.commit_retry,
            shutdown: cancel.clone(),
            sealed: Arc::new(AtomicU64::new(0)),
        };
        let task = tokio::spawn(run(settings, shared.clone(), deps, cancel.clone()));
        (Self { task, cancel }, Producer { shared })
    }

    /// Stops taking data, flushes what is pending, and waits until every
    /// producer has its answer.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        if let Err(e) = self.task.await {
            warn!(error = %e, "flusher task failed");
        }
    }
}

/// Seals the pending segment, numbering it in seal order.
fn seal(shared: &Shared, deps: &Deps) -> Option<(SealedSegment, u64)> {
    let mut pending = shared.pending.lock().ok()?;
    let sealed = pending.seal()?;
    // Numbered under the lock, so numbers follow seal order.
    let seq = deps.sealed.fetch_add(1, Ordering::AcqRel) + 1;
    Some((sealed, seq))
}

/// What the flusher loop sees of the pending segment.
fn peek(shared: &Shared) -> (Option<Instant>, usize) {
    shared
        .pending
        .lock()
        .map(|p| (p.first_append, p.bytes))
        .unwrap_or((None, 0))
}

async fn run(settings: FlushSettings, shared: Arc<Shared>, deps: Deps, cancel: CancellationToken) {
    let (tx, rx) = mpsc::channel::<JoinHandle<Uploaded>>(settings.max_inflight);
    let committer = tokio::spawn(commit_in_order(rx, deps.clone(), shared.clone()));
    loop {
        let (first_append, bytes) = peek(&shared);
        let due = first_append.map(|t| t + settings.interval);
        let ready = match due {
            Some(_) if bytes >= settings.flush_bytes => true,
            Some(_) if settings.interval.is_zero() => shared.inflight.load(Ordering::Acquire) == 0,
            Some(due) => Instant::now() >= due,
            None => false,
        };
        // In group-commit mode the next wake-up is the end of a flush.
        let due = due.filter(|_| !settings.interval.is_zero());
        if !ready {
            if cancel.is_cancelled() {
                break;
            }
            tokio::select! {
                _ = shared.wake.notified() => {}
                _ = sleep_until_opt(due) => {}
                _ = cancel.cancelled() => {}
            }
            continue;
        }
        if let Some((sealed, seq)) = seal(&shared, &deps) {
            shared.inflight.fetch_add(1, Ordering::AcqRel);
            let upload = tokio::spawn(upload(sealed, seq, deps.clone()));
            if tx.send(upload).await.is_err() {
                break;
            }
        }
    }
    // Shutting down: refuse new data, then flush what is left.
    shared.closed.store(true, Ordering::Release);
    if let Some((sealed, seq)) = seal(&shared, &deps) {
        shared.inflight.fetch_add(1, Ordering::AcqRel);
        let _ = tx
            .send(tokio::spawn(upload(sealed, seq, deps.clone())))
            .await;
    }
    drop(tx);
    if let Err(e) = committer.await {
        warn!(error = %e, "committer task failed");
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Encodes and uploads one sealed segment; never fails, the outcome travels
/// to the committer with the waiters. One attempt: the object store's own
/// client is the layer that retries requests (see `storage.rs`).
async fn upload(mut sealed: SealedSegment, seq: u64, deps: Deps) -> Uploaded {
    let sealed_at = Instant::now();
    let segment_id = Uuid::now_v7();
    let key = SegmentKey::for_segment(segment_id);
    let span = info_span!("flush", segment = %segment_id, bytes = sealed.bytes,
        partitions = sealed.partitions.len());
    async move {
        let encoded = encode_segment(&sealed.partitions);
        // The file holds the bytes now: free the request frames at once
        // rather than keep both copies until the commit.
        sealed.partitions = Vec::new();
        let upload = deps
            .storage
            .put_segment(&key, encoded.data.clone())
            .await
            .map_err(|e| {
                warn!(error = %e, "segment upload failed");
                e.to_string()
            });
        Uploaded {
            segment_id,
            key,
            data: encoded.data,
            entries: encoded.entries,
            sealed,
            sealed_at,
            seq,
            upload,
        }
    }
    .instrument(span)
    .await
}

/// Commits uploaded segments one by one, in the order they were sealed.
async fn commit_in_order(
    mut rx: mpsc::Receiver<JoinHandle<Uploaded>>,
    deps: Deps,
    shared: Arc<Shared>,
) {
    // Every segment sealed up to this one fails without a commit: a flush
    // before them failed, and committing them would put their batches ahead
    // of the failed flush's, which their producers will send again.
    let mut failed_through = 0;
    let mut failed = FailedSequences::default();
    while let Some(handle) = rx.recv().await {
        match handle.await {
            Ok(uploaded) => {
                let span = info_span!("commit", segment = %uploaded.segment_id,
                    bytes = uploaded.sealed.bytes, partitions = uploaded.entries.len());
                let behind_failure = uploaded.seq <= failed_through;
                let ok = commit(uploaded, behind_failure, &deps, &mut failed)
                    .instrument(span)
                    .await;
                if !ok {
                    failed_through = failed_through.max(deps.sealed.load(Ordering::Acquire));
                }
            }
            // The upload task panicked: its waiters were dropped with it and
            // their producers get a storage error from the closed channel.
            Err(e) => warn!(error = %e, "upload task failed"),
        }
        // The flush is over: in group-commit mode the next one may start.
        shared.inflight.fetch_sub(1, Ordering::AcqRel);
        shared.wake.notify_one();
    }
}

/// Commits one uploaded segment (unless it is `behind_failure`) and answers
/// its producers. Returns whether it was committed. Batches that `failed`
/// holds back are left out of the commit and fail; the batches of a flush
/// that failed are remembered there.
async fn commit(
    uploaded: Uploaded,
    behind_failure: bool,
    deps: &Deps,
    failed: &mut FailedSequences,
) -> bool {
    let Uploaded {
        segment_id,
        key,
        data,
        entries,
        sealed,
        sealed_at,
        upload,
        ..
    } = uploaded;
    let SealedSegment {
        batches,
        bytes,
        permit,
        ..
    } = sealed;
    let size = data.len() as u64;
    // Which batches go into the commit: all but those held back behind a
    // failed batch of their producer.
    let mut admitted: Vec<Vec<bool>> = batches.iter().map(|b| vec![true; b.len()]).collect();
    let outcome = match upload {
        _ if behind_failure => Err(FlushError::Storage(
            "an earlier flush failed; not committed ahead of it".into(),
        )),
        Err(e) => Err(FlushError::Storage(format!("upload of {key} failed: {e}"))),
        Ok(()) => {
            let now = Instant::now();
            for ((entry, batches), admitted) in entries.iter().zip(&batches).zip(&mut admitted) {
                for (batch, admitted) in batches.iter().zip(admitted.iter_mut()) {
                    *admitted = batch
                        .producer
                        .as_ref()
                        .is_none_or(|p| failed.admits(entry.topic_id, entry.partition, p, now));
                }
            }
            // Every batch held back leaves an empty commit: it is still
            // made, so the collector deletes the file.
            let commit = SegmentCommit {
                segment_id,
                object_key: key.as_str().to_string(),
                size,
                entries: entries
                    .iter()
                    .zip(&batches)
                    .zip(&admitted)
                    .filter_map(|((e, b), a)| commit_entry(e, b, a))
                    .collect(),
            };
            match commit_until_known(
                &*deps.store,
                &commit,
                deps.commit_retry,
                &deps.shutdown,
                &deps.metrics,
            )
            .await
            {
                CommitResult::Committed(committed) => Ok(spread(committed, &admitted)),
                CommitResult::Refused(e) => {
                    Err(FlushError::Storage(format!("commit refused: {e}")))
                }
                CommitResult::Unknown(e) => {
                    deps.metrics.commits_unknown.inc();
                    warn!(error = %e, "commit outcome unknown; producers told their request timed out");
                    Err(FlushError::OutcomeUnknown)
                }
            }
        }
    };
    let committed = outcome.is_ok();
    match &outcome {
        Ok(spread) => {
            // Cached before the wake-up below, so tailing reads never miss.
            deps.cache.insert_segment(
                &key,
                served_form(data, &entries, &batches, &spread.outcomes),
            );
            deps.metrics.flushes.inc();
            deps.metrics.flush_bytes.observe(size as f64);
            deps.metrics
                .flush_seconds
                .observe(sealed_at.elapsed().as_secs_f64());
        }
        Err(e) => {
            deps.metrics.flush_failures.inc();
            warn!(error = %e, "flush failed; producers get a retriable error");
            if *e != FlushError::OutcomeUnknown {
                let now = Instant::now();
                for (entry, batches) in entries.iter().zip(&batches) {
                    for p in batches.iter().filter_map(|b| b.producer.as_ref()) {
                        failed.failed(entry.topic_id, entry.partition, p, now);
                    }
                }
            }
        }
    }
    if let Ok(spread) = &outcome {
        let moved = entries
            .iter()
            .zip(&spread.outcomes)
            .filter_map(|(entry, outcomes)| {
                outcomes
                    .iter()
                    .any(|o| matches!(o, Some(BatchOutcome::Appended { .. })))
                    .then_some((entry.topic_id, entry.partition))
            });
        deps.watermarks.advanced(moved);
    }
    answer(batches, outcome);
    deps.metrics.pending_bytes.sub(bytes as i64);
    drop(permit);
    committed
}

/// The committed file as fetches serve it: every appended batch with its
/// base offset and leader epoch written in (neither is covered by the CRC).
/// The buffer is patched in place when the upload kept no reference to it,
/// as is usual; otherwise it is copied once. Batches refused or found to be
/// duplicates are left as they are: no index row points at them.
fn served_form(
    data: Bytes,
    entries: &[FooterEntry],
    batches: &[Vec<SealedBatch>],
    outcomes: &[Vec<Option<BatchOutcome>>],
) -> Bytes {
    let mut file = data
        .try_into_mut()
        .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
    for ((entry, batches), outcomes) in entries.iter().zip(batches).zip(outcomes) {
        let mut at = entry.byte_offset as usize;
        for (batch, outcome) in batches.iter().zip(outcomes) {
            let len = batch.len as usize;
            if let (Some(BatchOutcome::Appended { base_offset }), Some(bytes)) =
                (outcome, file.get_mut(at..at + len))
            {
                patch_offsets(bytes, *base_offset, LEADER_EPOCH);
            }
            at += len;
        }
    }
    file.freeze()
}

/// The commit entry of one partition, of its `admitted` batches (`None` if
/// there is none): their byte ranges follow from the partition's range in
/// the file and the lengths of the batches before them.
fn commit_entry(
    entry: &FooterEntry,
    batches: &[SealedBatch],
    admitted: &[bool],
) -> Option<CommitEntry> {
    let mut at = entry.byte_offset;
    let batches: Vec<BatchEntry> = batches
        .iter()
        .zip(admitted)
        .filter_map(|(b, admitted)| {
            let e = BatchEntry {
                byte_offset: at,
                byte_len: b.len,
                offset_count: b.offset_count,
                max_timestamp: b.max_timestamp,
                producer: b.producer,
                txn: b.txn,
            };
            at += b.len;
            admitted.then_some(e)
        })
        .collect();
    (!batches.is_empty()).then_some(CommitEntry {
        topic_id: entry.topic_id,
        partition: entry.partition,
        batches,
    })
}

/// A commit's answer laid over every batch of the segment.
#[derive(Debug)]
struct Spread {
    /// One per batch, per partition of the file: `None` for a batch held
    /// back from the commit.
    outcomes: Vec<Vec<Option<BatchOutcome>>>,
    /// One per partition of the file: its log start offset (-1 when
    /// nothing of it was committed).
    log_start_offsets: Vec<i64>,
}

/// The store's outcomes, one per committed batch, spread back over every
/// batch of the segment: `None` for a batch held back from the commit.
fn spread(committed: CommittedSegment, admitted: &[Vec<bool>]) -> Spread {
    let mut outcomes = committed.outcomes.into_iter();
    let mut log_starts = committed.log_start_offsets.into_iter();
    let mut spread = Spread {
        outcomes: Vec::with_capacity(admitted.len()),
        log_start_offsets: Vec::with_capacity(admitted.len()),
    };
    for admitted in admitted {
        let (mut entry, log_start) = if admitted.iter().any(|a| *a) {
            (
                outcomes.next().unwrap_or_default().into_iter(),
                log_starts.next().unwrap_or(-1),
            )
        } else {
            (Vec::new().into_iter(), -1)
        };
        spread.outcomes.push(
            admitted
                .iter()
                .map(|a| if *a { entry.next() } else { None })
                .collect(),
        );
        spread.log_start_offsets.push(log_start);
    }
    spread
}

/// Sends every waiting producer its base offset and the partition's log
/// start, or the flush's error.
fn answer(batches: Vec<Vec<SealedBatch>>, outcome: Result<Spread, FlushError>) {
    for (i, partition_batches) in batches.into_iter().enumerate() {
        for (j, batch) in partition_batches.into_iter().enumerate() {
            let result = match &outcome {
                Err(e) => Err(e.clone()),
                Ok(spread) => match spread
                    .outcomes
                    .get(i)
                    .and_then(|o| o.get(j))
                    .copied()
                    .flatten()
                {
                    Some(BatchOutcome::Appended { base_offset })
                    | Some(BatchOutcome::Duplicate { base_offset }) => Ok(Appended {
                        base_offset,
                        log_start_offset: spread.log_start_offsets.get(i).copied().unwrap_or(-1),
                    }),
                    Some(BatchOutcome::UnknownPartition) => Err(FlushError::UnknownPartition),
                    Some(BatchOutcome::OutOfOrderSequence) => Err(FlushError::OutOfOrderSequence),
                    Some(BatchOutcome::InvalidProducerEpoch) => {
                        Err(FlushError::InvalidProducerEpoch)
                    }
                    Some(BatchOutcome::InvalidRecord) => Err(FlushError::InvalidRecord),
                    Some(BatchOutcome::InvalidTxnState) => Err(FlushError::InvalidTxnState),
                    None => Err(FlushError::Storage(
                        "an earlier batch of this producer failed; not stored ahead of it".into(),
                    )),
                },
            };
            // A producer that went away (connection closed) is not an error.
            let _ = batch.reply.send(result);
        }
    }
}

#[cfg(test)]
mod tests;
