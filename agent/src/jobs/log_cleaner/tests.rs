//! The log cleaner against the real write and read paths: keyed records
//! flushed by the flusher into an in-memory object store and SQLite,
//! cleaned by passes, then read back through a cold cache as a consumer
//! reads them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::BytesMut;
use floe_metadata::TopicId;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use object_store::memory::InMemory;

use super::*;
use crate::fetch::{LogReader, SegmentCache};
use crate::produce::{CommitRetry, FlushSettings, Flusher, Producer};
use crate::segment::batch::validate_produced;

/// The cleaner's clock in these tests (record timestamps are small; only
/// tombstone horizons read it).
static NOW: AtomicI64 = AtomicI64::new(1_000_000);

fn now() -> i64 {
    NOW.load(Ordering::SeqCst)
}

/// A record produced: key, value (`None`: a tombstone).
type Produced = (String, Option<String>);

struct Log {
    topic: TopicId,
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    metrics: Arc<Metrics>,
    producer: Producer,
    flusher: Option<Flusher>,
    /// Every record produced, by offset.
    produced: Vec<Produced>,
}

fn encode(records: &[(i64, &Produced)], compression: Compression) -> Bytes {
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (offset, (k, v)))| Record {
            transactional: false,
            control: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: i as i32 - 1,
            timestamp: offset * 10,
            key: Some(Bytes::from(k.clone())),
            value: v.clone().map(Bytes::from),
            headers: Default::default(),
            delete_horizon: false,
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode");
    buf.freeze()
}

async fn start(config: &[(&str, &str)]) -> Log {
    let (store, topic) = crate::test_support::store_with_topic().await;
    let overrides: BTreeMap<String, String> = config
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    store
        .set_topic_config(topic, &overrides)
        .await
        .expect("configs");
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let storage = ObjectStorage::new(Arc::new(InMemory::new()), metrics.clone());
    let settings = FlushSettings {
        interval: Duration::from_millis(20),
        flush_bytes: 16 << 10,
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
    Log {
        topic,
        store,
        storage,
        metrics,
        producer,
        flusher: Some(flusher),
        produced: Vec::new(),
    }
}

impl Log {
    /// Produces `records` in batches of `per_batch`, codecs taking turns,
    /// then waits for them to commit: one or more flushes.
    async fn produce(&mut self, records: &[Produced], per_batch: usize) {
        let codecs = [
            Compression::None,
            Compression::Zstd,
            Compression::Gzip,
            Compression::Lz4,
            Compression::Snappy,
        ];
        let mut waiting = Vec::new();
        for (n, chunk) in records.chunks(per_batch).enumerate() {
            let first = self.produced.len() as i64;
            let numbered: Vec<(i64, &Produced)> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| (first + i as i64, r))
                .collect();
            let b = encode(&numbered, codecs[n % codecs.len()]);
            self.produced.extend(chunk.iter().cloned());
            let header = validate_produced(&b).expect("valid batch");
            waiting.push(
                self.producer
                    .append(self.topic, 0, b, &header)
                    .await
                    .expect("append"),
            );
        }
        for rx in waiting {
            rx.await.expect("flushed").expect("committed");
        }
    }

    /// One cleaner pass under its lease.
    async fn clean(&self) -> PassReport {
        self.clean_with(key_map::DEFAULT_MAX_KEYS).await
    }

    /// One cleaner pass whose map holds `max_keys` keys.
    async fn clean_with(&self, max_keys: usize) -> PassReport {
        let fence = self
            .store
            .acquire_lease(
                "log_cleaner",
                "test",
                Duration::from_secs(60),
                Duration::ZERO,
            )
            .await
            .expect("lease")
            .expect("free");
        let cleaner = LogCleaner {
            store: self.store.clone(),
            storage: self.storage.clone(),
            metrics: self.metrics.clone(),
            broker: Arc::new(BrokerConfigs::new(&crate::config::Config::default())),
            now_ms: now,
            max_keys,
        };
        let report = cleaner
            .pass(fence.clone(), CancellationToken::new())
            .await
            .expect("pass");
        self.store
            .release_lease(&fence, true)
            .await
            .expect("release");
        report
    }

    /// What a consumer reads from `from`, through a cold cache: (offset,
    /// key, value) of every record at `from` or later.
    async fn consume(&self, from: i64) -> Vec<(i64, String, Option<String>)> {
        let cache = Arc::new(SegmentCache::new(16 << 20, self.metrics.clone()));
        let reader = LogReader::new(self.store.clone(), self.storage.clone(), cache);
        let bounds = reader
            .bounds_many(&[(self.topic, 0)])
            .await
            .expect("bounds")[0]
            .expect("partition 0");
        let mut out = Vec::new();
        let mut next = from;
        while next < bounds.high_watermark {
            let read = reader
                .read(self.topic, 0, bounds, next, 1 << 20, true)
                .await
                .expect("read");
            if read.records.is_empty() {
                break;
            }
            for piece in &read.records {
                let mut bytes = piece.clone();
                for set in RecordBatchDecoder::decode_all(&mut bytes).expect("batches") {
                    for r in set.records {
                        next = next.max(r.offset + 1);
                        if r.offset < from {
                            continue;
                        }
                        let text = |b: Bytes| String::from_utf8(b.to_vec()).expect("utf-8");
                        out.push((r.offset, text(r.key.expect("key")), r.value.map(text)));
                    }
                }
                // Past the last batch's offsets, records kept or not.
                let mut at = 0;
                while at < piece.len() {
                    let h = BatchHeader::parse(&piece[at..]).expect("batch");
                    next = next.max(h.base_offset + h.offset_count());
                    at += h.total_len;
                }
            }
        }
        out
    }

    /// The latest record of each key, without the tombstones below
    /// `tombstones_gone_below`.
    fn expected(&self, tombstones_gone_below: i64) -> Vec<(i64, String, Option<String>)> {
        let mut latest: BTreeMap<&str, (i64, &Option<String>)> = BTreeMap::new();
        for (offset, (k, v)) in self.produced.iter().enumerate() {
            latest.insert(k, (offset as i64, v));
        }
        let mut out: Vec<_> = latest
            .into_iter()
            .filter(|(_, (o, v))| !(*o < tombstones_gone_below && v.is_none()))
            .map(|(k, (o, v))| (o, k.to_string(), v.clone()))
            .collect();
        out.sort();
        out
    }
}

use crate::segment::batch::BatchHeader;

/// Updates of `keys` keys, `rounds` times over, with a tombstone for every
/// key divisible by 7 in the last round.
fn updates(keys: usize, rounds: usize, tag: &str) -> Vec<Produced> {
    let mut out = Vec::new();
    for round in 0..rounds {
        for k in 0..keys {
            let value = if round + 1 == rounds && k % 7 == 0 {
                None
            } else {
                Some(format!("{tag}-{round}-{k}"))
            };
            out.push((format!("key-{k:03}"), value));
        }
    }
    out
}

#[tokio::test]
async fn cleaning_keeps_the_latest_value_of_each_key_at_its_offset() {
    let mut log = start(&[
        ("cleanup.policy", "compact"),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("delete.retention.ms", "1000"),
    ])
    .await;
    log.produce(&updates(50, 4, "a"), 7).await;
    let before = log.consume(0).await;
    assert_eq!(before.len(), 200, "everything before a clean");

    let report = log.clean().await;
    assert_eq!(report.done, 1);
    let after = log.consume(0).await;
    assert_eq!(after, log.expected(0), "latest per key, tombstones kept");
    assert!(after.iter().any(|(_, _, v)| v.is_none()));
    assert!(
        after.windows(2).all(|w| w[0].0 < w[1].0),
        "offsets increase"
    );
    assert!(after.first().is_some_and(|r| r.0 >= 150), "gaps before");
    let m = &log.metrics.log_cleaner;
    assert_eq!(m.records_removed.get(), 150);
    assert_eq!(m.partitions_cleaned.get(), 1);

    // Nothing new: the partition is not due.
    assert_eq!(log.clean().await.done, 0);
    // A read from inside a gap gets the next record kept.
    let from_gap = log.consume(10).await;
    assert_eq!(from_gap, after, "every kept record is at 150 or later");

    // ListOffsets by timestamp finds the first kept record at or after it
    // (timestamps are offsets times ten).
    let cache = Arc::new(SegmentCache::new(1 << 20, log.metrics.clone()));
    let reader = LogReader::new(log.store.clone(), log.storage.clone(), cache);
    let hit = reader
        .offset_for_timestamp(log.topic, 0, 0)
        .await
        .expect("lookup");
    assert_eq!(hit.map(|h| h.offset), Some(after[0].0));
    let hit = reader
        .offset_for_timestamp(log.topic, 0, 1_755)
        .await
        .expect("lookup");
    let first_after = after.iter().find(|r| r.0 * 10 >= 1_755).map(|r| r.0);
    assert_eq!(hit.map(|h| h.offset), first_after);

    // More updates of half the keys: cleaned against the new map, the old
    // values of those keys go, the others stay where they were.
    log.produce(&updates(25, 1, "b"), 5).await;
    assert_eq!(log.clean().await.done, 1);
    assert_eq!(log.consume(0).await, log.expected(0));

    // Past delete.retention.ms the tombstones the first clean kept go (those
    // below 200); the newer ones, first kept by the second clean while the
    // first horizon was pending, wait for the next horizon.
    NOW.fetch_add(1_001, Ordering::SeqCst);
    assert_eq!(log.clean().await.done, 1, "due for its tombstones");
    assert_eq!(log.consume(0).await, log.expected(200));
    let removed = log.metrics.log_cleaner.tombstones_removed.get();
    assert_eq!(removed, 4, "key-028, 035, 042, 049");
    assert_eq!(log.clean().await.done, 0, "not due before the next horizon");
    NOW.fetch_add(1_001, Ordering::SeqCst);
    assert_eq!(log.clean().await.done, 1);
    let cleaned = log.consume(0).await;
    assert_eq!(cleaned, log.expected(i64::MAX));
    assert!(cleaned.iter().all(|(_, _, v)| v.is_some()));
    NOW.fetch_add(10_000, Ordering::SeqCst);
    assert_eq!(log.clean().await.done, 0, "nothing left to do");
    assert_eq!(log.consume(0).await, cleaned, "a deleted key stays deleted");
    if let Some(f) = log.flusher.take() {
        f.shutdown().await;
    }
}

#[tokio::test]
async fn only_compacted_topics_are_cleaned() {
    let mut log = start(&[
        ("cleanup.policy", "delete"),
        ("min.cleanable.dirty.ratio", "0.01"),
    ])
    .await;
    log.produce(&updates(10, 3, "a"), 4).await;
    assert_eq!(log.clean().await, PassReport::default());
    assert_eq!(log.consume(0).await.len(), 30);
    // Nor those whose archive swaps their rows for Parquet.
    let archived: BTreeMap<String, String> = [
        ("cleanup.policy", "compact"),
        ("min.cleanable.dirty.ratio", "0.01"),
        ("floe.archive.enabled", "true"),
        ("floe.archive.drop.segments", "true"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    log.store
        .set_topic_config(log.topic, &archived)
        .await
        .expect("configs");
    assert_eq!(log.clean().await, PassReport::default());
    assert_eq!(log.consume(0).await.len(), 30);
    // Compacted without that archive, it is cleaned.
    let compacted: BTreeMap<String, String> = archived
        .into_iter()
        .filter(|(k, _)| k != "floe.archive.drop.segments")
        .collect();
    log.store
        .set_topic_config(log.topic, &compacted)
        .await
        .expect("configs");
    assert_eq!(log.clean().await.done, 1);
    assert_eq!(log.consume(0).await.len(), 10);
    if let Some(f) = log.flusher.take() {
        f.shutdown().await;
    }
}

/// A dirty section with more keys than the map holds is cleaned over
/// several passes, each up to where its map filled, to the same result.
#[tokio::test]
async fn a_small_map_cleans_over_several_passes() {
    let mut log = start(&[
        ("cleanup.policy", "compact"),
        ("min.cleanable.dirty.ratio", "0.01"),
    ])
    .await;
    log.produce(&updates(40, 3, "a"), 6).await;
    let mut passes = 0;
    while log.clean_with(15).await.done == 1 {
        passes += 1;
        assert!(passes < 100, "the cleaner progresses");
    }
    assert!(passes >= 3, "{passes} passes");
    assert_eq!(log.consume(0).await, log.expected(0));
    if let Some(f) = log.flusher.take() {
        f.shutdown().await;
    }
}

/// Segment compaction and the cleaner take turns on one partition: merged
/// rows get cleaned, and the flushes after a clean merge beside cleaned
/// rows (whose runs have gaps between them); a consumer reads the latest
/// record of each key throughout.
#[tokio::test]
async fn segment_compaction_and_cleaning_take_turns() {
    let mut log = start(&[
        ("cleanup.policy", "compact"),
        ("min.cleanable.dirty.ratio", "0.01"),
    ])
    .await;
    let merge = async |log: &Log| {
        let fence = log
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
        let job = crate::jobs::compaction::Compaction {
            store: log.store.clone(),
            storage: log.storage.clone(),
            metrics: log.metrics.clone(),
            target_bytes: 64 << 10,
        };
        let report = job
            .pass(fence.clone(), CancellationToken::new())
            .await
            .expect("merge");
        log.store
            .release_lease(&fence, true)
            .await
            .expect("release");
        report
    };
    for round in 0..3 {
        // Small flushes: one per produce call.
        for part in 0..10 {
            let records = updates(30, 1, &format!("r{round}p{part}"));
            log.produce(&records, 3).await;
        }
        let merged = merge(&log).await;
        assert!(merged.done > 0, "round {round}: small segments merged");
        // 300 records a round; a clean leaves one per key (30).
        let before_clean = if round == 0 { 300 } else { 330 };
        assert_eq!(log.consume(0).await.len(), before_clean);
        assert_eq!(log.clean().await.done, 1, "round {round}");
        assert_eq!(log.consume(0).await, log.expected(0), "round {round}");
    }
    if let Some(f) = log.flusher.take() {
        f.shutdown().await;
    }
}

/// `min.compaction.lag.ms` keeps young records uncleaned; below
/// `min.cleanable.dirty.ratio` a partition waits, unless a dirty record is
/// older than `max.compaction.lag.ms`. (Record timestamps here are decades
/// before the cleaner's clock.)
#[tokio::test]
async fn lag_and_ratio_decide_when_a_partition_is_due() {
    let set = async |log: &Log, config: &[(&str, &str)]| {
        let overrides: BTreeMap<String, String> = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        log.store
            .set_topic_config(log.topic, &overrides)
            .await
            .expect("configs");
    };
    let mut log = start(&[]).await;
    set(
        &log,
        &[
            ("cleanup.policy", "compact"),
            ("min.compaction.lag.ms", "1000000000000000"),
        ],
    )
    .await;
    log.produce(&updates(20, 3, "a"), 5).await;
    assert_eq!(log.clean().await.done, 0, "every record too young");
    assert_eq!(log.consume(0).await.len(), 60);

    set(
        &log,
        &[
            ("cleanup.policy", "compact"),
            ("min.cleanable.dirty.ratio", "0.99"),
        ],
    )
    .await;
    assert_eq!(log.clean().await.done, 1, "all dirty: ratio 1");
    assert_eq!(log.consume(0).await, log.expected(0));
    log.produce(&updates(2, 1, "b"), 2).await;
    assert_eq!(
        log.clean().await.done,
        0,
        "a little dirt is below the ratio"
    );
    assert_eq!(log.consume(0).await.len(), 22);

    set(
        &log,
        &[
            ("cleanup.policy", "compact"),
            ("min.cleanable.dirty.ratio", "0.99"),
            ("max.compaction.lag.ms", "1"),
        ],
    )
    .await;
    assert_eq!(log.clean().await.done, 1, "dirt older than the max lag");
    assert_eq!(log.consume(0).await, log.expected(0));
    assert_eq!(log.consume(0).await.len(), 20);
    if let Some(f) = log.flusher.take() {
        f.shutdown().await;
    }
}
