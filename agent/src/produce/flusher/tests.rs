//! The flusher against failing stores: the real SQLite store and an
//! in-memory object store, wrapped by the fault injectors. Each test forces
//! the faults it needs, so none depends on chance or timing.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::{MetadataStore, TopicId};
use kafka_protocol::records::Compression;
use object_store::memory::InMemory;
use tokio::sync::oneshot;

use super::*;
use crate::faults::{Fault, FaultSpec, Faults, FaultyMetadataStore, FaultyObjectStore};
use crate::produce::{AppendOutcome, CommitRetry};
use crate::segment::batch::validate_produced;
use crate::test_support::batch;

struct Rig {
    topic: TopicId,
    /// The real store, beneath the faults: what is really committed.
    store: Arc<dyn MetadataStore>,
    faults: Arc<Faults>,
    metrics: Arc<Metrics>,
    flusher: Flusher,
    producer: Producer,
}

/// A flusher whose every batch of two records fills a segment, over stores
/// with `spec`'s faults, retrying commits for `window`.
async fn rig(spec: FaultSpec, window: Duration) -> Rig {
    let (store, topic) = crate::test_support::store_with_topic().await;
    let faults = Arc::new(Faults::new(spec));
    let metrics = Arc::new(Metrics::new().unwrap());
    let objects = Arc::new(FaultyObjectStore::new(
        Arc::new(InMemory::new()),
        faults.clone(),
    ));
    let settings = FlushSettings {
        interval: Duration::from_secs(3600),
        flush_bytes: two_records(0).len(),
        max_pending_bytes: 64 << 20,
        max_inflight: 4,
        commit_retry: CommitRetry {
            attempt_timeout: Duration::from_millis(300),
            window,
        },
    };
    let (flusher, producer) = Flusher::start(
        settings,
        Arc::new(FaultyMetadataStore::new(store.clone(), faults.clone())),
        ObjectStorage::new(objects, metrics.clone()),
        Arc::new(SegmentCache::new(64 << 20, metrics.clone())),
        Arc::new(crate::fetch::Watermarks::default()),
        metrics.clone(),
    );
    Rig {
        topic,
        store,
        faults,
        metrics,
        flusher,
        producer,
    }
}

/// The base offset of an append, or its error.
fn base(outcome: AppendOutcome) -> Result<i64, FlushError> {
    outcome.map(|appended| appended.base_offset)
}

fn two_records(ts: i64) -> Bytes {
    batch(&["a", "b"], ts, Compression::None)
}

impl Rig {
    /// Appends one batch and waits until the flusher sealed it into a
    /// segment of its own.
    async fn produce(&self, ts: i64) -> oneshot::Receiver<AppendOutcome> {
        let b = two_records(ts);
        let header = validate_produced(&b).unwrap();
        let rx = self
            .producer
            .append(self.topic, 0, b, &header)
            .await
            .unwrap();
        while self.producer.shared.pending.lock().unwrap().bytes > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        rx
    }

    /// Appends one batch of two records of idempotent producer 7 (epoch 0,
    /// first sequence `seq`) and waits until it is sealed.
    async fn produce_idempotent(&self, seq: i32) -> oneshot::Receiver<AppendOutcome> {
        let b = two_records(0);
        let mut header = validate_produced(&b).unwrap();
        header.producer_id = 7;
        header.producer_epoch = 0;
        header.base_sequence = seq;
        let rx = self
            .producer
            .append(self.topic, 0, b, &header)
            .await
            .unwrap();
        while self.producer.shared.pending.lock().unwrap().bytes > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        rx
    }

    /// The partition's high watermark in the real store.
    async fn high_watermark(&self) -> i64 {
        self.store
            .partition_offsets(self.topic, 0)
            .await
            .unwrap()
            .unwrap()
            .high_watermark
    }
}

#[tokio::test]
async fn failed_put_fails_its_producers_and_commits_nothing() {
    let rig = rig(FaultSpec::default(), Duration::from_secs(60)).await;
    rig.faults.force(Fault::PutError, 1);
    let failed = rig.produce(0).await.await.unwrap();
    assert!(matches!(failed, Err(FlushError::Storage(_))), "{failed:?}");
    assert_eq!(rig.high_watermark().await, 0);
    // The failure was the flush's alone: the next one commits.
    assert_eq!(base(rig.produce(2).await.await.unwrap()), Ok(0));
    assert_eq!(rig.high_watermark().await, 2);
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn producers_hear_the_log_start_the_commit_found() {
    let rig = rig(FaultSpec::default(), Duration::from_secs(60)).await;
    let first = rig.produce(0).await.await.unwrap();
    assert_eq!(
        first,
        Ok(Appended {
            base_offset: 0,
            log_start_offset: 0
        })
    );
    rig.store.delete_records(rig.topic, 0, 1).await.unwrap();
    let second = rig.produce(0).await.await.unwrap();
    assert_eq!(
        second,
        Ok(Appended {
            base_offset: 2,
            log_start_offset: 1
        })
    );
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn failed_commits_are_retried_until_they_succeed() {
    let rig = rig(FaultSpec::default(), Duration::from_secs(60)).await;
    rig.faults.force(Fault::CommitError, 2);
    rig.faults.force(Fault::CommitHang, 1);
    assert_eq!(base(rig.produce(0).await.await.unwrap()), Ok(0));
    assert_eq!(rig.high_watermark().await, 2);
    assert_eq!(rig.metrics.commit_retries.get(), 3);
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_committed_once() {
    let rig = rig(FaultSpec::default(), Duration::from_secs(60)).await;
    rig.faults.force(Fault::CommitLost, 2);
    assert_eq!(base(rig.produce(0).await.await.unwrap()), Ok(0));
    assert_eq!(base(rig.produce(0).await.await.unwrap()), Ok(2));
    // Each segment was committed by its first attempt; the retries found
    // it committed and answered the same offsets, appending nothing.
    assert_eq!(rig.high_watermark().await, 4);
    assert_eq!(rig.faults.injected(Fault::CommitLost), 2);
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn a_commit_still_unknown_is_never_reported_as_failed() {
    // No retry window: the first lost answer leaves the outcome unknown.
    let rig = rig(FaultSpec::default(), Duration::ZERO).await;
    rig.faults.force(Fault::CommitLost, 1);
    let unknown = rig.produce(0).await.await.unwrap();
    // It was committed: the producer hears "timed out", not "failed".
    assert_eq!(unknown, Err(FlushError::OutcomeUnknown));
    assert_eq!(rig.high_watermark().await, 2);
    assert_eq!(rig.metrics.commits_unknown.get(), 1);
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn flushes_sealed_behind_a_failed_one_fail_rather_than_commit_ahead() {
    let rig = rig(FaultSpec::default(), Duration::ZERO).await;
    assert_eq!(base(rig.produce(0).await.await.unwrap()), Ok(0));
    // Two more segments sealed while uploads are held back; the first of
    // them fails to commit.
    rig.faults.pause_puts(true);
    let second = rig.produce(2).await;
    let third = rig.produce(4).await;
    rig.faults.force(Fault::CommitError, 1);
    rig.faults.pause_puts(false);
    assert_eq!(second.await.unwrap(), Err(FlushError::OutcomeUnknown));
    let behind = third.await.unwrap();
    assert!(matches!(behind, Err(FlushError::Storage(_))), "{behind:?}");
    // Neither was committed (the fault struck before the store), and a
    // segment sealed after the failure commits next to the first one.
    assert_eq!(rig.high_watermark().await, 2);
    assert_eq!(base(rig.produce(6).await.await.unwrap()), Ok(2));
    assert_eq!(rig.high_watermark().await, 4);
    rig.flusher.shutdown().await;
}

/// A producer pipelines two requests; the flush of the first fails after the
/// second was sealed into a flush of its own (so it is not behind the failed
/// one). Committed, the second would leave a gap: OUT_OF_ORDER_SEQUENCE,
/// which makes librdkafka bump its epoch and renumber messages that may be
/// stored already. It fails with the first instead, and the producer's
/// retries, in order, commit both.
#[tokio::test]
async fn a_batch_behind_a_failed_one_of_its_producer_fails_with_it() {
    let rig = rig(FaultSpec::default(), Duration::from_secs(60)).await;
    assert_eq!(base(rig.produce_idempotent(0).await.await.unwrap()), Ok(0));
    rig.faults.pause_puts(true);
    rig.faults.force(Fault::PutError, 1);
    let first = rig.produce_idempotent(2).await;
    rig.faults.pause_puts(false);
    let failed = first.await.unwrap();
    assert!(matches!(failed, Err(FlushError::Storage(_))), "{failed:?}");
    // Sent before the client heard of the failure.
    let second = rig.produce_idempotent(4).await.await.unwrap();
    assert!(
        matches!(second, Err(FlushError::Storage(_))),
        "a gap would be OUT_OF_ORDER: {second:?}"
    );
    assert_eq!(rig.high_watermark().await, 2);
    // The retries, in order.
    assert_eq!(base(rig.produce_idempotent(2).await.await.unwrap()), Ok(2));
    assert_eq!(base(rig.produce_idempotent(4).await.await.unwrap()), Ok(4));
    assert_eq!(rig.high_watermark().await, 6);
    rig.flusher.shutdown().await;
}

#[tokio::test]
async fn a_slow_store_keeps_every_answer_in_order() {
    let spec = FaultSpec::parse("latency_ms=5,seed=11").unwrap();
    let rig = rig(spec, Duration::from_secs(60)).await;
    let mut waiting = Vec::new();
    for i in 0..20 {
        waiting.push(rig.produce(i * 2).await);
    }
    for (i, rx) in waiting.into_iter().enumerate() {
        assert_eq!(base(rx.await.unwrap()), Ok(i as i64 * 2));
    }
    assert_eq!(rig.high_watermark().await, 40);
    rig.flusher.shutdown().await;
}
