//! The read path against the write path: batches produced through the real
//! flusher into an in-memory object store and SQLite, read back through the
//! cache of the agent that wrote them and through a cold cache (ranged GETs).

use std::time::Duration;

use bytes::Bytes;

use kafka_protocol::records::{Compression, RecordBatchDecoder};
use object_store::memory::InMemory;

use super::*;
use crate::metrics::Metrics;
use crate::produce::{CommitRetry, FlushSettings, Flusher};
use crate::segment::batch::validate_produced;
use crate::test_support::batch;

const CACHE: usize = 64 << 20;

struct Log {
    topic: TopicId,
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    metrics: Arc<Metrics>,
    /// The cache the flusher fills, as on the agent that wrote the log.
    warm: Arc<SegmentCache>,
}

/// Reads partition 0 as a fetch does: its bounds first, then the batches.
async fn read_from(
    reader: &LogReader,
    topic: TopicId,
    offset: i64,
    max_bytes: usize,
    min_one: bool,
) -> Result<PartitionRead> {
    let bounds = reader.bounds_many(&[(topic, 0)]).await?[0].expect("partition 0 exists");
    reader
        .read(topic, 0, bounds, offset, max_bytes, min_one)
        .await
}

impl Log {
    fn reader(&self, cache: &Arc<SegmentCache>) -> LogReader {
        LogReader::new(self.store.clone(), self.storage.clone(), cache.clone())
    }

    fn cold_cache(&self) -> Arc<SegmentCache> {
        Arc::new(SegmentCache::new(CACHE, self.metrics.clone()))
    }
}

/// Flushes of `flush_bytes`, never by time, one at a time.
fn settings(flush_bytes: usize) -> FlushSettings {
    FlushSettings {
        interval: Duration::from_secs(3600),
        flush_bytes,
        max_pending_bytes: 64 << 20,
        max_inflight: 1,
        commit_retry: CommitRetry {
            attempt_timeout: Duration::from_secs(10),
            window: Duration::from_secs(60),
        },
    }
}

/// Writes each group of `segments` to partition 0 as one segment: the
/// flusher seals at `flush_bytes`, which each group reaches exactly, and
/// never by time.
async fn write_segments(segments: Vec<Vec<Bytes>>, flush_bytes: usize) -> Log {
    let (store, topic) = crate::test_support::store_with_topic().await;
    let metrics = Arc::new(Metrics::new().unwrap());
    let storage = ObjectStorage::new(Arc::new(InMemory::new()), metrics.clone());
    let warm = Arc::new(SegmentCache::new(CACHE, metrics.clone()));
    let (flusher, producer) = Flusher::start(
        settings(flush_bytes),
        store.clone(),
        storage.clone(),
        warm.clone(),
        Arc::new(crate::fetch::Watermarks::default()),
        metrics.clone(),
    );
    for segment in segments {
        let mut waiting = Vec::new();
        for b in segment {
            let header = validate_produced(&b).unwrap();
            waiting.push(producer.append(topic, 0, b, &header).await.unwrap());
        }
        for rx in waiting {
            rx.await.unwrap().unwrap();
        }
    }
    flusher.shutdown().await;
    Log {
        topic,
        store,
        storage,
        metrics,
        warm,
    }
}

/// Writes `flushes` segments to partition 0, each holding `batches` batches
/// of two records, whose timestamps are their offsets.
async fn write_log(flushes: usize, batches: usize) -> Log {
    let mut next = 0;
    let segments = (0..flushes)
        .map(|_| {
            (0..batches)
                .map(|_| {
                    next += 2;
                    batch(&["a", "b"], next - 2, Compression::None)
                })
                .collect()
        })
        .collect();
    let batch_len = batch(&["a", "b"], 0, Compression::None).len();
    write_segments(segments, batches * batch_len).await
}

fn gets_of(log: &Log) -> u64 {
    log.metrics
        .object_requests
        .with_label_values(&["get_range"])
        .get()
}

/// The records' offsets in a fetch answer, decoding its batches as a client
/// would, and the number of pieces it came in.
fn offsets(read: &PartitionRead) -> (Vec<i64>, usize) {
    let mut all: Bytes = read.records.concat().into();
    let mut offsets = Vec::new();
    while !all.is_empty() {
        let set = RecordBatchDecoder::decode(&mut all).unwrap();
        offsets.extend(set.records.iter().map(|r| r.offset));
    }
    (offsets, read.records.len())
}

#[tokio::test]
async fn warm_and_cold_reads_serve_the_same_patched_batches() {
    let log = write_log(3, 4).await;
    let warm = read_from(&log.reader(&log.warm), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    let cold_cache = log.cold_cache();
    let cold = read_from(&log.reader(&cold_cache), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    assert_eq!(warm.high_watermark, 24);
    let (warm_offsets, pieces) = offsets(&warm);
    assert_eq!(warm_offsets, (0..24).collect::<Vec<_>>());
    assert_eq!(pieces, 3, "one piece per segment's index row");
    assert_eq!(
        warm.records, cold.records,
        "byte for byte, wherever read from"
    );
    assert_eq!(gets_of(&log), 3, "the cold read fetched each row once");
    // Read again: now from the cold reader's cache, no new GET.
    let gets = gets_of(&log);
    read_from(&log.reader(&cold_cache), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    let after = gets_of(&log);
    assert_eq!(gets, after);
}

#[tokio::test]
async fn rows_older_than_the_bound_are_read_again_and_nothing_is_skipped() {
    let log = write_log(5, 2).await;
    let fresh = read_from(&log.reader(&log.warm), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    // Every row but the first of each query is too old at once: the reader
    // asks the store again for each, and still serves the whole log.
    let stale = log.reader(&log.warm).with_max_row_age(Duration::ZERO);
    let again = read_from(&stale, log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    assert_eq!(offsets(&again).0, (0..20).collect::<Vec<_>>());
    assert_eq!(again.records, fresh.records);
}

#[tokio::test]
async fn pieces_are_slices_of_the_cache() {
    let log = write_log(1, 4).await;
    let read = read_from(&log.reader(&log.warm), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    let again = read_from(&log.reader(&log.warm), log.topic, 0, usize::MAX, true)
        .await
        .unwrap();
    assert_eq!(read.records.len(), 1);
    assert_eq!(
        read.records[0].as_ptr(),
        again.records[0].as_ptr(),
        "both answers point into the same cached buffer"
    );
}

#[tokio::test]
async fn limits_whole_batches_to_max_bytes_but_always_serves_one() {
    let log = write_log(2, 4).await;
    let reader = log.reader(&log.warm);
    let one_batch = batch(&["a", "b"], 0, Compression::None).len();
    let read = read_from(&reader, log.topic, 0, one_batch * 3 - 1, true)
        .await
        .unwrap();
    assert_eq!(
        offsets(&read).0,
        (0..4).collect::<Vec<_>>(),
        "two whole batches fit"
    );
    let read = read_from(&reader, log.topic, 0, 1, true).await.unwrap();
    assert_eq!(
        offsets(&read).0,
        vec![0, 1],
        "the first batch whatever its size"
    );
    let read = read_from(&reader, log.topic, 0, 1, false).await.unwrap();
    assert!(
        read.records.is_empty(),
        "not first in the response: nothing"
    );
    // Across the two segments' rows: the last batch of one and the first
    // of the next, in two pieces.
    let read = read_from(&reader, log.topic, 6, one_batch * 2, true)
        .await
        .unwrap();
    assert_eq!(offsets(&read), (vec![6, 7, 8, 9], 2));
}

#[tokio::test]
async fn an_offset_inside_a_batch_returns_that_whole_batch() {
    let log = write_log(1, 4).await;
    let read = read_from(&log.reader(&log.warm), log.topic, 5, usize::MAX, true)
        .await
        .unwrap();
    assert_eq!(offsets(&read).0, vec![4, 5, 6, 7]);
    let at_end = read_from(&log.reader(&log.warm), log.topic, 8, usize::MAX, true)
        .await
        .unwrap();
    assert!(at_end.records.is_empty());
    assert!(matches!(
        read_from(&log.reader(&log.warm), log.topic, 9, usize::MAX, true).await,
        Err(AgentError::OffsetOutOfRange)
    ));
}

#[tokio::test]
async fn a_read_racing_retention_is_out_of_range_not_later_data() {
    // Three segments of two batches: rows [0, 3], [4, 7], [8, 11], whose
    // records carry their offsets as timestamps.
    let log = write_log(3, 2).await;
    let reader = log.reader(&log.warm);
    let stale = reader.bounds_many(&[(log.topic, 0)]).await.unwrap()[0].unwrap();
    assert_eq!(stale.log_start_offset, 0);
    // Retention expires the first two rows after the fetch read the bounds.
    let fence = log
        .store
        .acquire_lease(
            "retention",
            "test",
            std::time::Duration::from_secs(60),
            std::time::Duration::ZERO,
        )
        .await
        .unwrap()
        .unwrap();
    let policy = floe_metadata::RetentionPolicy {
        older_than_ms: Some(8),
        max_bytes: None,
        max_rows: 100,
    };
    let retained = log
        .store
        .apply_retention(log.topic, 0, &policy, &fence)
        .await
        .unwrap();
    assert_eq!(retained.map(|r| r.log_start_offset), Some(8));
    let read = reader.read(log.topic, 0, stale, 4, 1 << 20, true).await;
    assert!(
        matches!(read, Err(AgentError::OffsetOutOfRange)),
        "a fetch below the new log start must not be served later records: {:?}",
        read.map(|r| offsets(&r).0)
    );
    // At the new log start the records are there.
    let fresh = reader.bounds_many(&[(log.topic, 0)]).await.unwrap()[0].unwrap();
    let read = reader
        .read(log.topic, 0, fresh, 8, 1 << 20, true)
        .await
        .unwrap();
    assert_eq!(offsets(&read).0, vec![8, 9, 10, 11]);
}

/// Writes `batches` to partition 0 in one segment.
async fn write_batches(batches: &[Bytes]) -> Log {
    write_segments(vec![batches.to_vec()], batches.iter().map(Bytes::len).sum()).await
}

/// Timestamp lookups decode records: exact offsets in a compressed batch,
/// read through a cold cache (patched on the way in).
#[tokio::test]
async fn timestamp_lookups_find_the_exact_record() {
    let log = write_batches(&[
        batch(&["a", "b"], 1_000, Compression::Zstd),
        batch(&["c", "d", "e"], 2_000, Compression::Lz4),
    ])
    .await;
    let cold = log.cold_cache();
    let reader = log.reader(&cold);
    let hit = |offset, timestamp| Some(TimestampHit { offset, timestamp });
    let by_ts = |ts| reader.offset_for_timestamp(log.topic, 0, ts);
    assert_eq!(by_ts(0).await.unwrap(), hit(0, 1_000));
    assert_eq!(by_ts(1_001).await.unwrap(), hit(1, 1_001));
    assert_eq!(by_ts(1_002).await.unwrap(), hit(2, 2_000));
    assert_eq!(by_ts(2_001).await.unwrap(), hit(3, 2_001));
    assert_eq!(by_ts(2_003).await.unwrap(), None);
    assert_eq!(
        reader.max_timestamp(log.topic, 0).await.unwrap(),
        hit(4, 2_002)
    );
}

/// A decompression bomb (1 GiB of records in a few KiB of zstd, its header
/// claiming a timestamp no record has) is searched within the byte limit
/// and answered with its base offset; the batch before it still answers
/// exactly. Before the limit, the whole gigabyte was decompressed into
/// memory and the lookup answered "no such record".
#[tokio::test]
async fn a_bomb_answers_its_base_offset() {
    let claimed = 1 << 40;
    let log = write_batches(&[
        batch(&["a", "b"], 1_000, Compression::Gzip),
        crate::segment::records::bomb::zstd_bomb(1024, 1 << 20, 0, claimed),
    ])
    .await;
    let reader = log.reader(&log.warm);
    assert_eq!(
        reader
            .offset_for_timestamp(log.topic, 0, 5_000)
            .await
            .unwrap(),
        Some(TimestampHit {
            offset: 2,
            timestamp: claimed
        })
    );
    assert_eq!(
        reader.max_timestamp(log.topic, 0).await.unwrap(),
        Some(TimestampHit {
            offset: 2,
            timestamp: claimed
        })
    );
    assert_eq!(
        reader
            .offset_for_timestamp(log.topic, 0, 1_001)
            .await
            .unwrap()
            .map(|h| h.offset),
        Some(1)
    );
}

/// Batches without timestamps are indexed at their append time, so a lookup
/// of an older timestamp first selects their rows, where no batch matches:
/// it moves on to the next row, which holds the record. Past the rows it
/// may search, it answers the next candidate row's base offset (no later
/// than the record).
#[tokio::test]
async fn timestamp_lookups_pass_over_rows_without_timestamps() {
    let untimed = || batch(&["a"], -1, Compression::None);
    let log = write_segments(
        vec![
            vec![untimed()],
            vec![untimed()],
            vec![batch(&["b"], 5_000, Compression::None)],
        ],
        1,
    )
    .await;
    let reader = log.reader(&log.warm);
    assert_eq!(
        reader
            .offset_for_timestamp(log.topic, 0, 4_000)
            .await
            .unwrap(),
        Some(TimestampHit {
            offset: 2,
            timestamp: 5_000
        })
    );

    let mut segments: Vec<Vec<Bytes>> = (0..MAX_ROWS_SEARCHED + 2)
        .map(|_| vec![untimed()])
        .collect();
    segments.push(vec![batch(&["b"], 5_000, Compression::None)]);
    let log = write_segments(segments, 1).await;
    let reader = log.reader(&log.warm);
    let hit = reader
        .offset_for_timestamp(log.topic, 0, 4_000)
        .await
        .unwrap();
    assert_eq!(hit.map(|h| h.offset), Some(MAX_ROWS_SEARCHED as i64));
}

/// Swaps partition 0's rows for one archive row group over 0..=19 holding
/// only the records at `kept` (the others as if aborted or markers), as
/// the archive job does with `floe.archive.drop.segments=true`.
async fn archive_with_gaps(log: &Log, kept: &[i64]) {
    use crate::archive::writer::ArchiveWriter;
    use crate::archive::{ArchivedRecord, TimestampType};
    use floe_metadata::{ArchiveCommit, ArchiveOutcome, ArchivedFile, ArchivedRowGroup};

    let mut writer = ArchiveWriter::new().unwrap();
    for &offset in kept {
        writer
            .push(ArchivedRecord {
                partition: 0,
                offset,
                timestamp: 1_000 + offset,
                // A LogAppendTime record between CreateTime ones splits the
                // row group into several batches.
                timestamp_type: if offset == 9 {
                    TimestampType::LogAppendTime
                } else {
                    TimestampType::CreateTime
                },
                key: None,
                value: Some(offset.to_string().into_bytes()),
                headers: Vec::new(),
            })
            .unwrap();
    }
    let file = writer.finish().unwrap();
    let group = &file.row_groups[0];
    let id = uuid::Uuid::new_v4();
    let key = SegmentKey::for_archive_file("t", 0, 0, 19, id);
    log.storage
        .put_segment(&key, file.bytes.clone())
        .await
        .unwrap();
    let fence = log
        .store
        .acquire_lease("archive", "test", Duration::from_secs(60), Duration::ZERO)
        .await
        .unwrap()
        .expect("lease");
    let commit = ArchiveCommit {
        topic_id: log.topic,
        snapshot_id: 1,
        manifest_key: "archive/t/metadata/m.avro".into(),
        manifest_length: 0,
        committed_ms: 0,
        files: vec![ArchivedFile {
            file_id: id,
            object_key: key.as_str().to_string(),
            size: file.bytes.len() as u64,
            partition: 0,
            base_offset: 0,
            last_offset: 19,
            records: file.records(),
            row_groups: vec![ArchivedRowGroup {
                base_offset: 0,
                last_offset: 19,
                byte_offset: group.byte_offset,
                byte_len: group.byte_len,
                max_timestamp: group.max_timestamp,
            }],
        }],
        drop_segments: true,
    };
    let outcome = log.store.commit_archive(&commit, &fence).await.unwrap();
    assert!(matches!(outcome, ArchiveOutcome::Committed { .. }));
}

#[tokio::test]
async fn archived_rows_with_gaps_serve_every_record_from_any_offset() {
    // Offsets 0..=19 in segments, then archived with gaps before, between
    // and after the records kept.
    let log = write_log(1, 10).await;
    let kept = [3, 4, 5, 9, 14, 15];
    archive_with_gaps(&log, &kept).await;
    let reader = log.reader(&log.cold_cache());
    for from in 0..20 {
        let read = read_from(&reader, log.topic, from, 1 << 20, true)
            .await
            .unwrap();
        let (served, _) = offsets(&read);
        let wanted: Vec<i64> = kept.iter().copied().filter(|&o| o >= from).collect();
        let seen: Vec<i64> = served.into_iter().filter(|&o| o >= from).collect();
        assert_eq!(seen, wanted, "records served from offset {from}");
        // The last batch is empty and ends at the row's last offset: a
        // consumer's position reaches the high watermark.
        let last = BatchIter::new(read.records.concat().into())
            .last()
            .expect("a batch")
            .unwrap()
            .0;
        assert_eq!(last.base_offset + last.offset_count(), 20);
    }
}
