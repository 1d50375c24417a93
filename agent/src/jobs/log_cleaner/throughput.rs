//! The cleaner's record work measured: one pass (map, then filter every
//! row) over 1,000,000 records of 10,000 keys, in memory, plain and
//! transactional. Ignored by default; run with
//! `cargo test --release -p floe-agent --lib cleaner_throughput -- --ignored --nocapture`.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use floe_metadata::AbortedTxn;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::filter::{CleanRules, FilterStats, map_row};
use super::key_map::KeyMap;
use super::txn::{AbortedRanges, MarkerClock, TxnScan};
use super::*;
use crate::segment::control::{Marker, marker_batch};

const RECORDS: i64 = 1_000_000;
const KEYS: i64 = 10_000;
const PER_BATCH: i64 = 100;
const BATCHES_PER_ROW: i64 = 10;
/// One transaction in this many aborts.
const ABORT_EVERY: i64 = 10;

/// A batch of `PER_BATCH` records from offset `base` (keys cycle through
/// `KEYS`, 100-byte values), of `producer` if transactional.
fn batch(base: i64, producer: Option<i64>) -> Bytes {
    let records: Vec<Record> = (base..base + PER_BATCH)
        .map(|o| Record {
            transactional: producer.is_some(),
            control: false,
            partition_leader_epoch: 0,
            producer_id: producer.unwrap_or(-1),
            producer_epoch: producer.map_or(-1, |_| 0),
            timestamp_type: TimestampType::Creation,
            offset: o,
            // Plain records keep offset - sequence constant too (the first
            // -1), so the encoder makes one batch of them, not one each.
            sequence: (o - base) as i32 - i32::from(producer.is_none()),
            timestamp: 1_000 + o,
            key: Some(Bytes::from(format!("key-{:05}", o % KEYS))),
            value: Some(Bytes::from(vec![b'v'; 100])),
            headers: Default::default(),
            delete_horizon: false,
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, &records, &options).expect("encode");
    buf.freeze()
}

/// The log as rows `(base offset, bytes)`, and its aborted ranges. A
/// transactional log is one transaction per batch, each of its own
/// producer, ended by its marker.
fn log(transactional: bool) -> (Vec<(i64, Bytes)>, Vec<AbortedTxn>) {
    let (mut rows, mut aborted) = (Vec::new(), Vec::new());
    let (mut offset, mut written, mut txn) = (0i64, 0i64, 0i64);
    while written < RECORDS {
        let base = offset;
        let mut row = BytesMut::new();
        for _ in 0..BATCHES_PER_ROW {
            if written == RECORDS {
                break;
            }
            let producer = transactional.then_some(txn);
            row.extend_from_slice(&batch(offset, producer));
            let first = offset;
            offset += PER_BATCH;
            written += PER_BATCH;
            if transactional {
                let commit = txn % ABORT_EVERY != 0;
                row.extend_from_slice(&marker_batch(
                    &Marker {
                        producer_id: txn,
                        producer_epoch: 0,
                        commit,
                        coordinator_epoch: 0,
                    },
                    2_000,
                ));
                if !commit {
                    aborted.push(AbortedTxn {
                        producer_id: txn,
                        first_offset: first,
                        last_offset: offset,
                    });
                }
                offset += 1;
                txn += 1;
            }
        }
        rows.push((base, row.freeze()));
    }
    (rows, aborted)
}

fn one_pass(transactional: bool) {
    let (rows, aborted) = log(transactional);
    let end = i64::MAX;
    let bytes: usize = rows.iter().map(|(_, r)| r.len()).sum();
    let aborted = AbortedRanges::new(aborted);
    let started = Instant::now();
    let mut map = KeyMap::new(key_map::DEFAULT_MAX_KEYS);
    let mut mapped = 0u64;
    for (base, data) in &rows {
        mapped += map_row(data, *base, 0..end, &aborted, &mut map)
            .expect("map")
            .1;
    }
    let rules = CleanRules {
        map: &map,
        clean_end: end,
        tombstones_below: 0,
        aborted: &aborted,
        markers: MarkerClock::default(),
    };
    let (mut stats, mut txns, mut kept_bytes) = (FilterStats::default(), TxnScan::default(), 0);
    for (base, data) in &rows {
        for k in filter::filter_row(data, *base, rules, &mut txns, &mut stats).expect("filter") {
            kept_bytes += k.bytes.len();
        }
    }
    let secs = started.elapsed().as_secs_f64();
    // The pass reads the log twice: once to map, once to filter.
    let read = 2.0 * bytes as f64;
    eprintln!(
        "{}: {} records ({mapped} mapped, {} removed, {} aborted) in {} rows, {:.1} MB, \
         one pass {secs:.3} s: {:.0} records/s, {:.1} MB/s read, {:.2} MB kept",
        if transactional {
            "transactional"
        } else {
            "plain"
        },
        RECORDS,
        stats.records_removed,
        stats.aborted_records_removed,
        rows.len(),
        bytes as f64 / 1e6,
        RECORDS as f64 / secs,
        read / 1e6 / secs,
        kept_bytes as f64 / 1e6,
    );
    assert_eq!(map.len(), KEYS as usize);
    assert_eq!(stats.records_removed as i64, RECORDS - KEYS);
}

#[test]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
fn cleaner_throughput() {
    one_pass(false);
    one_pass(true);
}
