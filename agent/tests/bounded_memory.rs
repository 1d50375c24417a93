//! Memory bounded by construction, measured: this test binary counts every
//! allocation (a global allocator of its own), and checks that client bytes
//! cannot make the agent allocate by a number they announce.
//!
//! - A request announcing a huge array of a large element type is refused
//!   after allocating little: the vendored kafka-protocol preallocates by
//!   the bytes left and at most 64 KiB, not by the announced count.
//! - ListOffsets by timestamp over a stored decompression bomb (1 GiB of
//!   records in a few KiB of zstd) reads at most its byte limit, streaming,
//!   and answers the batch's base offset.
//!
//! The counts are process-wide, so the measured sections run one at a time.

use std::alloc::System;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use floe_agent::fetch::{LogReader, SegmentCache, TimestampHit, Watermarks};
use floe_agent::kafka::codec::{self, CodecError};
use floe_agent::metrics::Metrics;
use floe_agent::produce::{COMMIT_ATTEMPT_TIMEOUT, CommitRetry, FlushSettings, Flusher};
use floe_agent::segment::batch::validate_produced;
use floe_agent::storage::ObjectStorage;
use floe_metadata::{MetadataStore, NewTopic, SqliteStore};
use object_store::memory::InMemory;
use stats_alloc::{Region, StatsAlloc};

#[allow(dead_code)]
#[path = "../src/segment/records/bomb.rs"]
mod bomb;

#[global_allocator]
static GLOBAL: StatsAlloc<System> = StatsAlloc::system();

/// One measured section at a time: the counts are global.
static MEASURING: Mutex<()> = Mutex::new(());

/// Bytes requested from the allocator while `f` runs (reallocations that
/// grow count by their growth).
fn bytes_allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let region = Region::new(&GLOBAL);
    let out = f();
    let change = region.change();
    let grown = usize::try_from(change.bytes_reallocated).unwrap_or(0);
    (out, change.bytes_allocated + grown)
}

/// A Produce v7 request (plain i32 array lengths) whose topic array
/// announces one element per byte left, then bytes that fail to decode as
/// the first topic: 1 MiB of frame. Each announced element is a
/// `TopicProduceData` of about a hundred bytes in memory, so preallocating
/// by the count alone takes about 100 MiB.
fn forged_produce(flexible: bool) -> Bytes {
    let filler = 1 << 20;
    let mut frame = BytesMut::with_capacity(filler + 64);
    frame.put_i16(0); // Produce
    frame.put_i16(if flexible { 9 } else { 7 });
    frame.put_i32(1); // correlation id
    frame.put_i16(-1); // null client id
    if flexible {
        frame.put_u8(0); // header tagged fields
        frame.put_u8(0); // null transactional id (compact)
    } else {
        frame.put_i16(-1); // null transactional id
    }
    frame.put_i16(-1); // acks
    frame.put_i32(30_000); // timeout
    let count = filler as u32 - 8;
    if flexible {
        // Compact array: count + 1 as an unsigned varint.
        let mut v = count + 1;
        while v >= 0x80 {
            frame.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        frame.put_u8(v as u8);
    } else {
        frame.put_i32(count as i32);
    }
    // 0xff..: a topic name of length -1 (or a huge compact one), refused.
    frame.put_bytes(0xff, filler);
    frame.freeze()
}

#[test]
fn a_forged_array_is_refused_without_a_big_allocation() {
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    for flexible in [false, true] {
        let frame = forged_produce(flexible);
        let (result, allocated) = bytes_allocated_by(|| {
            let req = codec::parse_request(frame.clone())?;
            codec::decode_served_body(&req)
        });
        eprintln!("forged Produce (flexible: {flexible}): {allocated} bytes allocated");
        assert!(
            matches!(result, Err(CodecError::Malformed { .. })),
            "{result:?}"
        );
        assert!(
            allocated < 1 << 20,
            "decoding a 1 MiB frame allocated {allocated} bytes (flexible: {flexible})"
        );
    }
}

/// Writes `batches` to partition 0 of a new topic through the real flusher,
/// and returns a reader over the log with the cache the flusher filled.
async fn log_of(batches: &[Bytes]) -> (LogReader, floe_metadata::TopicId) {
    let store: Arc<dyn MetadataStore> = Arc::new(
        SqliteStore::connect("sqlite::memory:")
            .await
            .expect("in-memory sqlite"),
    );
    let topic = store
        .create_topic(NewTopic {
            name: "t".into(),
            partitions: 1,
            config: Default::default(),
        })
        .await
        .expect("create topic")
        .id;
    let metrics = Arc::new(Metrics::new().expect("metrics"));
    let storage = ObjectStorage::new(Arc::new(InMemory::new()), metrics.clone());
    let cache = Arc::new(SegmentCache::new(64 << 20, metrics.clone()));
    let settings = FlushSettings {
        interval: Duration::from_secs(3600),
        flush_bytes: batches.iter().map(Bytes::len).sum(),
        max_pending_bytes: 64 << 20,
        max_inflight: 1,
        commit_retry: CommitRetry {
            attempt_timeout: COMMIT_ATTEMPT_TIMEOUT,
            window: Duration::from_secs(60),
        },
    };
    let (flusher, producer) = Flusher::start(
        settings,
        store.clone(),
        storage.clone(),
        cache.clone(),
        Arc::new(Watermarks::default()),
        metrics,
    );
    let mut waiting = Vec::new();
    for b in batches {
        let header = validate_produced(b).expect("a valid batch");
        waiting.push(
            producer
                .append(topic, 0, b.clone(), &header)
                .await
                .expect("append"),
        );
    }
    for rx in waiting {
        rx.await.expect("flushed").expect("committed");
    }
    flusher.shutdown().await;
    (LogReader::new(store, storage, cache), topic)
}

#[test]
fn a_timestamp_lookup_over_a_bomb_allocates_little() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // 1 GiB of records whose header claims a timestamp none of them has.
    let claimed = 1 << 40;
    let bomb = bomb::zstd_bomb(1024, 1 << 20, 0, claimed);
    assert!(bomb.len() < 64 * 1024, "{} bytes compressed", bomb.len());
    let (reader, topic) = runtime.block_on(log_of(&[bomb]));

    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let (hit, allocated) =
        bytes_allocated_by(|| runtime.block_on(reader.offset_for_timestamp(topic, 0, 5_000)));
    eprintln!("timestamp lookup over a 1 GiB bomb: {allocated} bytes allocated");
    assert!(
        allocated < 32 << 20,
        "a lookup over a 1 GiB bomb allocated {allocated} bytes"
    );
    assert_eq!(
        hit.unwrap(),
        Some(TimestampHit {
            offset: 0,
            timestamp: claimed
        }),
        "the bomb's base offset, with the timestamp its header claims"
    );
}
