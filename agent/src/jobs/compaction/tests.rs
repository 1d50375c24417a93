//! Compaction against the real write and read paths: segments flushed by
//! the flusher into an in-memory object store and SQLite, merged by a pass,
//! then read back through a cold cache.

use std::time::Duration;

use floe_metadata::TopicId;
use kafka_protocol::records::Compression;
use object_store::memory::InMemory;

use super::*;
use crate::fetch::{LogReader, SegmentCache};
use crate::produce::{CommitRetry, FlushSettings, Flusher};
use crate::segment::batch::validate_produced;
use crate::test_support::batch;

struct Log {
    topic: TopicId,
    objects: Arc<InMemory>,
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    metrics: Arc<Metrics>,
}

/// Writes `flushes` segments to partition 0, each one flush of `batches`
/// batches of three records whose timestamps are their offsets times 10.
async fn write_log(flushes: usize, batches: usize) -> Log {
    let (store, topic) = crate::test_support::store_with_topic().await;
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let objects = Arc::new(InMemory::new());
    let storage = ObjectStorage::new(objects.clone(), metrics.clone());
    let one = batch(&["a", "b", "c"], 0, Compression::None).len();
    let settings = FlushSettings {
        interval: Duration::from_secs(3600),
        flush_bytes: batches * one,
        max_pending_bytes: 64 << 20,
        max_inflight: 1,
        commit_retry: CommitRetry {
            attempt_timeout: Duration::from_secs(10),
            window: Duration::from_secs(60),
        },
    };
    let cache = Arc::new(SegmentCache::new(1 << 20, metrics.clone()));
    let (flusher, producer) = Flusher::start(
        settings,
        store.clone(),
        storage.clone(),
        cache,
        Arc::new(crate::fetch::Watermarks::default()),
        metrics.clone(),
    );
    let mut offset = 0;
    for _ in 0..flushes {
        let mut waiting = Vec::new();
        for _ in 0..batches {
            let codec = if offset % 2 == 0 {
                Compression::None
            } else {
                Compression::Zstd
            };
            let b = batch(&["a", "b", "c"], offset * 10, codec);
            offset += 3;
            let header = validate_produced(&b).expect("valid batch");
            waiting.push(producer.append(topic, 0, b, &header).await.expect("append"));
        }
        for rx in waiting {
            rx.await.expect("flushed").expect("committed");
        }
    }
    flusher.shutdown().await;
    Log {
        topic,
        objects,
        store,
        storage,
        metrics,
    }
}

impl Log {
    /// Everything a consumer reads from offset 0, through a cold cache.
    async fn read_all(&self) -> Vec<u8> {
        let cache = Arc::new(SegmentCache::new(16 << 20, self.metrics.clone()));
        let reader = LogReader::new(self.store.clone(), self.storage.clone(), cache);
        let bounds = reader
            .bounds_many(&[(self.topic, 0)])
            .await
            .expect("bounds")[0]
            .expect("partition 0");
        let mut out = Vec::new();
        let mut next = 0;
        while next < bounds.high_watermark {
            let read = reader
                .read(self.topic, 0, bounds, next, 1000, true)
                .await
                .expect("read");
            for piece in &read.records {
                let mut at = 0;
                while at < piece.len() {
                    let h = crate::segment::batch::BatchHeader::parse(&piece[at..]).expect("batch");
                    next = h.base_offset + h.offset_count();
                    at += h.total_len;
                }
                out.extend_from_slice(piece);
            }
        }
        out
    }

    async fn offsets_for_timestamps(&self) -> Vec<Option<(i64, i64)>> {
        let cache = Arc::new(SegmentCache::new(16 << 20, self.metrics.clone()));
        let reader = LogReader::new(self.store.clone(), self.storage.clone(), cache);
        let mut out = Vec::new();
        for ts in [0, 5, 10, 31, 240, 599, 1000, 100_000] {
            let hit = reader
                .offset_for_timestamp(self.topic, 0, ts)
                .await
                .expect("lookup");
            out.push(hit.map(|h| (h.offset, h.timestamp)));
        }
        out
    }

    /// One compaction pass with a target of `target` bytes, under the
    /// compaction lease.
    async fn compact(&self, target: u64) -> PassReport {
        let fence = self
            .store
            .acquire_lease(
                "compaction",
                "test",
                Duration::from_secs(60),
                Duration::ZERO,
            )
            .await
            .expect("lease")
            .expect("free");
        let job = Compaction {
            store: self.store.clone(),
            storage: self.storage.clone(),
            metrics: self.metrics.clone(),
            target_bytes: target,
        };
        job.pass(fence, CancellationToken::new())
            .await
            .expect("pass")
    }

    async fn object_count(&self) -> usize {
        use futures::TryStreamExt;
        use object_store::ObjectStore;
        let listed: Vec<_> = self.objects.list(None).try_collect().await.expect("list");
        listed.len()
    }

    async fn row_count(&self) -> usize {
        self.store
            .index_rows(self.topic, 0, 0, 10_000)
            .await
            .expect("rows")
            .len()
    }
}

#[tokio::test]
async fn a_pass_merges_small_segments_and_readers_see_the_same_log() {
    let log = write_log(20, 3).await;
    assert_eq!(log.row_count().await, 20);
    let before = log.read_all().await;
    let by_time = log.offsets_for_timestamps().await;
    assert_eq!(
        by_time[3],
        Some((4, 31)),
        "the lookup finds a record inside a batch"
    );

    let report = log.compact(1 << 20).await;
    assert_eq!(report.done, 20);
    // One row in one level-1 segment; same bytes, offsets and timestamps.
    assert_eq!(log.row_count().await, 1);
    assert_eq!(log.read_all().await, before);
    assert_eq!(log.offsets_for_timestamps().await, by_time);
    let level1 = log
        .store
        .compaction_candidates(1, u64::MAX >> 1, 10)
        .await
        .expect("candidates");
    assert_eq!(level1.len(), 1);
    let c = &log.metrics.compaction;
    assert_eq!(c.input_segments.get(), 20);
    assert_eq!(c.output_segments.get(), 1);
    assert_eq!((c.rows_removed.get(), c.rows_added.get()), (20, 1));

    // The old segments wait for the collector (after its grace); nothing
    // more to merge on level 0, and one level-1 segment is no merge.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let unreferenced = log
        .store
        .unreferenced_segments(Duration::ZERO, 100)
        .await
        .expect("unreferenced");
    assert_eq!(unreferenced.len(), 20);
    let again = log.compact(1 << 20).await;
    assert_eq!(again.done, 0);
}

#[tokio::test]
async fn rows_are_cut_at_the_target_and_few_segments_wait() {
    let log = write_log(12, 4).await;
    let before = log.read_all().await;
    let one_segment = log
        .store
        .compaction_candidates(0, u64::MAX >> 1, 1)
        .await
        .expect("candidates")[0]
        .size;
    // A target of four segments: three merges of four, each cut in rows of
    // at most the target.
    let target = one_segment * 4;
    let report = log.compact(target).await;
    assert_eq!(report.done, 12);
    assert_eq!(log.row_count().await, 3);
    assert_eq!(log.read_all().await, before);

    // Fewer than FANOUT small segments below half the target are left alone.
    let few = write_log(3, 1).await;
    let report = few.compact(1 << 20).await;
    assert_eq!(report.done, 0);
    assert_eq!(few.row_count().await, 3);
}

#[tokio::test]
async fn a_pass_that_lost_its_lease_changes_nothing_and_leaves_no_object() {
    let log = write_log(10, 2).await;
    let before = log.read_all().await;
    assert_eq!(log.object_count().await, 10);
    let old = log
        .store
        .acquire_lease(
            "compaction",
            "paused",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await
        .expect("lease")
        .expect("free");
    // Another agent takes the lease over while this one is about to swap.
    log.store.release_lease(&old, false).await.expect("release");
    let _new = log
        .store
        .acquire_lease(
            "compaction",
            "other",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await
        .expect("lease")
        .expect("free again");
    let job = Compaction {
        store: log.store.clone(),
        storage: log.storage.clone(),
        metrics: log.metrics.clone(),
        target_bytes: 1 << 20,
    };
    let refused = job.pass(old, CancellationToken::new()).await;
    assert!(
        matches!(
            refused,
            Err(AgentError::Metadata(MetadataError::LeaseLost(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(log.row_count().await, 10, "no row swapped");
    assert_eq!(log.object_count().await, 10, "the merged file was deleted");
    assert_eq!(log.read_all().await, before);
    assert_eq!(log.metrics.compaction.output_segments.get(), 0);
}
