use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::*;
use crate::jobs::log_cleaner::txn::delete_horizon;
use crate::segment::batch::BatchHeader;
use crate::segment::control::{Marker, marker_batch};

/// (key, value) of a record; `None` is null.
type Kv = (Option<&'static str>, Option<&'static str>);

/// One v2 batch of `records` at offsets `base..`, as an idempotent
/// producer (id 7, epoch 1) with sequences from `base` sends it.
fn batch(base: i64, records: &[Kv], compression: Compression, transactional: bool) -> Bytes {
    batch_of(7, base, records, compression, transactional)
}

/// [`batch`] of producer `producer_id`.
fn batch_of(
    producer_id: i64,
    base: i64,
    records: &[Kv],
    compression: Compression,
    transactional: bool,
) -> Bytes {
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Record {
            transactional,
            control: false,
            partition_leader_epoch: 0,
            producer_id,
            producer_epoch: 1,
            timestamp_type: TimestampType::Creation,
            offset: base + i as i64,
            sequence: (base + i as i64) as i32,
            timestamp: 1_000 + base + i as i64,
            key: k.map(|k| Bytes::from(k.as_bytes().to_vec())),
            value: v.map(|v| Bytes::from(v.as_bytes().to_vec())),
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

/// The row of the scenario: three batches, offsets 0..=7.
fn row() -> Bytes {
    let mut row = BytesMut::new();
    row.extend_from_slice(&batch(
        0,
        &[
            (Some("k1"), Some("v1")),
            (Some("k2"), Some("v2")),
            (Some("k3"), Some("v3")),
        ],
        Compression::Gzip,
        false,
    ));
    row.extend_from_slice(&batch(
        3,
        &[
            (Some("k1"), Some("v1b")),
            (Some("k2"), None),
            (Some("k4"), Some("v4")),
        ],
        Compression::None,
        false,
    ));
    row.extend_from_slice(&batch(
        6,
        &[(Some("k1"), Some("v1c")), (None, Some("keyless"))],
        Compression::Lz4,
        false,
    ));
    row.freeze()
}

/// What a consumer reads of kept batches: (offset, key, value) of every
/// record, and each batch's (base offset, last offset delta, producer id,
/// base sequence, compression).
#[allow(clippy::type_complexity)]
fn read(
    kept: &[KeptBatch],
) -> (
    Vec<(i64, Option<String>, Option<String>)>,
    Vec<(i64, i64, i64, Compression)>,
) {
    let (mut records, mut batches) = (Vec::new(), Vec::new());
    for k in kept {
        let mut bytes = k.bytes.clone();
        let set = RecordBatchDecoder::decode(&mut bytes).expect("a valid batch, CRC included");
        let header = BatchHeader::parse(&k.bytes).unwrap();
        batches.push((
            header.base_offset,
            i64::from(header.last_offset_delta),
            header.producer_id,
            set.compression,
        ));
        assert_eq!(
            (k.base_offset, k.last_offset),
            (
                header.base_offset,
                header.base_offset + i64::from(header.last_offset_delta)
            )
        );
        for r in set.records {
            let text = |b: Option<Bytes>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
            records.push((r.offset, text(r.key), text(r.value)));
        }
    }
    (records, batches)
}

static NO_ABORTS: AbortedRanges = AbortedRanges::EMPTY;

fn mapped(row: &Bytes, max_keys: usize) -> KeyMap {
    let mut map = KeyMap::new(max_keys);
    assert_eq!(
        map_row(row, 0, 0..i64::MAX, &NO_ABORTS, &mut map).unwrap(),
        (Mapped::All, 8)
    );
    map
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

#[test]
fn only_the_latest_record_of_each_key_stays_at_its_offset() {
    let row = row();
    let map = mapped(&row, 100);
    assert_eq!(map.len(), 4, "k1..k4; the keyless record is not mapped");
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        map: &map,
        clean_end: 8,
        tombstones_below: 0,
        aborted: &NO_ABORTS,
        markers: MarkerClock::default(),
    };
    let kept = filter_row(&row, 0, rules, &mut TxnScan::default(), &mut stats).unwrap();
    let (records, batches) = read(&kept);
    assert_eq!(
        records,
        vec![
            (2, s("k3"), s("v3")),
            (4, s("k2"), None),
            (5, s("k4"), s("v4")),
            (6, s("k1"), s("v1c")),
        ],
        "latest per key, tombstone kept, keyless gone, offsets unchanged"
    );
    assert_eq!(
        batches,
        vec![
            (0, 2, 7, Compression::Gzip),
            (3, 2, 7, Compression::None),
            (6, 1, 7, Compression::Lz4),
        ],
        "each batch keeps its offsets, producer and codec"
    );
    assert_eq!(
        stats,
        FilterStats {
            records_read: 8,
            records_removed: 4,
            tombstones_removed: 0,
            tombstones_waiting: 1,
            batches_rewritten: 3,
            batches_dropped: 0,
            ..FilterStats::default()
        }
    );
    // The sequence of a filtered batch is its original base sequence.
    let first = BatchHeader::parse(&kept[1].bytes).unwrap();
    assert_eq!((first.base_sequence, first.producer_epoch), (3, 1));
    // CreateTime: the max timestamp is that of the records kept.
    assert_eq!(kept[0].max_timestamp, 1_002);

    // Once the tombstone's retention passed, it goes too.
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        tombstones_below: 8,
        ..rules
    };
    let kept = filter_row(&row, 0, rules, &mut TxnScan::default(), &mut stats).unwrap();
    let (records, _) = read(&kept);
    assert_eq!(
        records.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![2, 5, 6]
    );
    assert_eq!((stats.tombstones_removed, stats.tombstones_waiting), (1, 0));
}

#[test]
fn batches_past_the_clean_end_stay_whole() {
    let row = row();
    let map = mapped(&row, 100);
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        map: &map,
        clean_end: 3,
        tombstones_below: 0,
        aborted: &NO_ABORTS,
        markers: MarkerClock::default(),
    };
    let kept = filter_row(&row, 0, rules, &mut TxnScan::default(), &mut stats).unwrap();
    assert_eq!(kept.len(), 3);
    assert_eq!(stats.batches_rewritten, 1);
    let b = batch(
        3,
        &[
            (Some("k1"), Some("v1b")),
            (Some("k2"), None),
            (Some("k4"), Some("v4")),
        ],
        Compression::None,
        false,
    );
    assert_eq!(kept[1].bytes, b, "the original bytes");
    let (records, _) = read(&kept);
    assert_eq!(records.len(), 1 + 3 + 2);

    // Batches reaching the end of what may be cleaned are not mapped.
    let mut map = KeyMap::new(10);
    assert_eq!(
        map_row(&row, 0, 0..6, &NO_ABORTS, &mut map).unwrap(),
        (Mapped::All, 6)
    );
    assert_eq!(map.latest(key_hash(b"k1")), Some(3), "not 6, past the end");
}

#[test]
fn a_batch_of_only_old_values_is_dropped() {
    let mut row =
        BytesMut::from(&batch(0, &[(Some("a"), Some("1"))], Compression::Zstd, false)[..]);
    row.extend_from_slice(&batch(
        1,
        &[(Some("a"), Some("2"))],
        Compression::Snappy,
        false,
    ));
    let row = row.freeze();
    let mut map = KeyMap::new(10);
    map_row(&row, 0, 0..i64::MAX, &NO_ABORTS, &mut map).unwrap();
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        map: &map,
        clean_end: 2,
        tombstones_below: 0,
        aborted: &NO_ABORTS,
        markers: MarkerClock::default(),
    };
    let kept = filter_row(&row, 0, rules, &mut TxnScan::default(), &mut stats).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].base_offset, stats.batches_dropped), (1, 1));
}

#[test]
fn the_map_takes_whole_batches_and_stops_when_full() {
    let row = row();
    let mut small = KeyMap::new(2);
    assert!(matches!(
        map_row(&row, 0, 0..i64::MAX, &NO_ABORTS, &mut small),
        Err(FilterError::TooManyKeys(0))
    ));
    let mut map = KeyMap::new(4);
    assert_eq!(
        map_row(&row, 0, 0..i64::MAX, &NO_ABORTS, &mut map).unwrap(),
        (Mapped::FullAt(3), 3)
    );
    assert_eq!(map.len(), 3);
    // Mapping from the middle of the row skips the batches before it.
    let mut map = KeyMap::new(100);
    assert_eq!(
        map_row(&row, 0, 3..i64::MAX, &NO_ABORTS, &mut map).unwrap(),
        (Mapped::All, 5)
    );
    assert_eq!(map.latest(key_hash(b"k3")), None);
    assert_eq!(map.latest(key_hash(b"k1")), Some(6));
}

/// The commit (or abort) marker of `producer_id`, as a row of its own.
fn marker(producer_id: i64, commit: bool) -> Bytes {
    marker_batch(
        &Marker {
            producer_id,
            producer_epoch: 1,
            commit,
            coordinator_epoch: 0,
        },
        5_000,
    )
}

/// Filters `rows` (each `(first offset, bytes)`, from the log start) as
/// one pass does, row after row with one [`TxnScan`]; returns what was
/// kept, as rows of one batch each, and the abort markers dropped.
fn pass(
    rows: &[(i64, Bytes)],
    rules: CleanRules<'_>,
    stats: &mut FilterStats,
) -> (Vec<(i64, Bytes)>, Vec<i64>) {
    let mut txns = TxnScan::default();
    let mut kept = Vec::new();
    for (base, data) in rows {
        for k in filter_row(data, *base, rules, &mut txns, stats).unwrap() {
            kept.push((k.base_offset, k.bytes));
        }
    }
    (kept, txns.take_dropped_aborts())
}

/// The offsets of the kept rows' batches.
fn offsets(rows: &[(i64, Bytes)]) -> Vec<i64> {
    rows.iter().map(|(o, _)| *o).collect()
}

/// A log with transactions, producer 1 plain, 10 and 12 committed, 11
/// aborted, 13 open past the last stable offset (9):
/// 0-1 plain k1=a0 k2=b0, 2 txn(10) k1=a1, 3-4 txn(11) k1=x k3=x,
/// 5 commit(10), 6 abort(11), 7 txn(12) k2=b2, 8 commit(12),
/// 9 txn(13) k1=open.
fn transactional_log() -> Vec<(i64, Bytes)> {
    let none = Compression::None;
    let plain = batch_of(
        1,
        0,
        &[(Some("k1"), Some("a0")), (Some("k2"), Some("b0"))],
        Compression::Snappy,
        false,
    );
    // One row holding several batches, as a flushed segment does.
    let mut mixed = BytesMut::new();
    mixed.extend_from_slice(&batch_of(10, 2, &[(Some("k1"), Some("a1"))], none, true));
    mixed.extend_from_slice(&batch_of(
        11,
        3,
        &[(Some("k1"), Some("x")), (Some("k3"), Some("x"))],
        none,
        true,
    ));
    mixed.extend_from_slice(&marker(10, true));
    vec![
        (0, plain),
        (2, mixed.freeze()),
        (6, marker(11, false)),
        (7, batch_of(12, 7, &[(Some("k2"), Some("b2"))], none, true)),
        (8, marker(12, true)),
        (
            9,
            batch_of(13, 9, &[(Some("k1"), Some("open"))], none, true),
        ),
    ]
}

#[test]
fn aborted_records_go_and_committed_ones_are_compacted_below_the_stable_offset() {
    let log = transactional_log();
    let aborted = AbortedRanges::new([floe_metadata::AbortedTxn {
        producer_id: 11,
        first_offset: 3,
        last_offset: 6,
    }]);
    // The clean ends at the last stable offset, 9: the open transaction's
    // k1 is not mapped, and the aborted k1 and k3 are not either.
    let mut map = KeyMap::new(100);
    for (base, data) in &log {
        map_row(data, *base, 0..9, &aborted, &mut map).unwrap();
    }
    assert_eq!(map.len(), 2, "k1 and k2");
    assert_eq!(map.latest(key_hash(b"k1")), Some(2), "the committed a1");
    assert_eq!(map.latest(key_hash(b"k2")), Some(7));
    assert_eq!(map.latest(key_hash(b"k3")), None, "only aborted");

    let rules = CleanRules {
        map: &map,
        clean_end: 9,
        tombstones_below: 0,
        aborted: &aborted,
        markers: MarkerClock {
            now_ms: 10_000,
            delete_retention_ms: 500,
        },
    };
    let mut stats = FilterStats::default();
    let (kept, dropped) = pass(&log, rules, &mut stats);
    // The plain k1 and k2 lost to committed values; the aborted batch
    // went; the committed markers stay as they are (their transactions
    // keep a batch), the abort marker gets its delete horizon; the open
    // transaction is untouched.
    assert_eq!(offsets(&kept), vec![2, 5, 6, 7, 8, 9]);
    assert_eq!(
        kept[0].1,
        batch_of(10, 2, &[(Some("k1"), Some("a1"))], Compression::None, true)
    );
    assert_eq!(kept[1].1, marker(10, true), "the original bytes");
    assert_eq!(kept[3].1, log[3].1);
    assert_eq!(kept[4].1, marker(12, true));
    assert_eq!(kept[5].1, log[5].1, "past the stable offset: whole");
    let abort = BatchHeader::parse(&kept[2].1).unwrap();
    assert_eq!(delete_horizon(&abort), Some(10_500));
    assert!(dropped.is_empty());
    assert_eq!(
        (
            stats.records_removed,
            stats.aborted_records_removed,
            stats.batches_dropped,
            stats.markers_waiting,
        ),
        (4, 2, 2, 1)
    );
    // The committed batch stays transactional, with its producer.
    let header = BatchHeader::parse(&kept[0].1).unwrap();
    assert!(header.is_transactional() && !header.is_control());
    assert_eq!(header.producer_id, 10);
}

#[test]
fn markers_go_in_two_phases_once_their_transaction_left_the_log() {
    let aborted = AbortedRanges::new([floe_metadata::AbortedTxn {
        producer_id: 11,
        first_offset: 3,
        last_offset: 6,
    }]);
    let log = transactional_log();
    // A later plain k1 (offset 10) and k2 (11) make every transaction's
    // data old; producer 13 committed meanwhile (marker at 12).
    let mut log: Vec<(i64, Bytes)> = log;
    log.push((
        10,
        batch_of(
            1,
            10,
            &[(Some("k1"), Some("a2")), (Some("k2"), Some("b3"))],
            Compression::None,
            false,
        ),
    ));
    log.push((12, marker(13, true)));
    let mut map = KeyMap::new(100);
    for (base, data) in &log {
        map_row(data, *base, 0..13, &aborted, &mut map).unwrap();
    }
    let clock = |now_ms| MarkerClock {
        now_ms,
        delete_retention_ms: 500,
    };
    let rules = CleanRules {
        map: &map,
        clean_end: 13,
        tombstones_below: 0,
        aborted: &aborted,
        markers: clock(10_000),
    };

    // Pass 1: every transaction's data goes; with no data of theirs left,
    // each marker gets a horizon, now + delete.retention.ms, and stays.
    let mut stats = FilterStats::default();
    let (log, dropped) = pass(&log, rules, &mut stats);
    assert_eq!(offsets(&log), vec![5, 6, 8, 10, 12]);
    assert_eq!((stats.markers_waiting, stats.markers_removed), (4, 0));
    assert!(dropped.is_empty());
    for (offset, bytes) in &log {
        let header = BatchHeader::parse(bytes).unwrap();
        if header.is_control() {
            assert_eq!(delete_horizon(&header), Some(10_500), "marker at {offset}");
            crate::segment::batch::verify_crc(bytes, &header).unwrap();
        }
    }

    // Pass 2, before the horizon: nothing changes.
    let before = CleanRules {
        markers: clock(10_499),
        ..rules
    };
    let (same, dropped) = pass(&log, before, &mut FilterStats::default());
    assert_eq!(same, log);
    assert!(dropped.is_empty());

    // Pass 3, at the horizon: the markers go, the abort's range with it.
    let after = CleanRules {
        markers: clock(10_500),
        ..rules
    };
    let mut stats = FilterStats::default();
    let (log, dropped) = pass(&log, after, &mut stats);
    assert_eq!(offsets(&log), vec![10]);
    assert_eq!(dropped, vec![6], "the abort marker's offset");
    assert_eq!(stats.markers_removed, 4);
}

#[test]
fn a_marker_past_the_clean_end_or_of_data_past_it_stays() {
    let aborted = AbortedRanges::EMPTY;
    // Producer 10's data at 0, its marker at 1; the clean ends at 1: the
    // marker is whole; then at 2, with the data kept (its key is not in
    // the map: nothing newer): kept as it is.
    let log = vec![
        (
            0,
            batch_of(10, 0, &[(Some("k"), Some("v"))], Compression::None, true),
        ),
        (1, marker(10, true)),
    ];
    let map = KeyMap::new(10);
    for end in [1, 2] {
        let rules = CleanRules {
            map: &map,
            clean_end: end,
            tombstones_below: 0,
            aborted: &aborted,
            markers: MarkerClock {
                now_ms: i64::MAX,
                delete_retention_ms: 0,
            },
        };
        let (kept, _) = pass(&log, rules, &mut FilterStats::default());
        assert_eq!(kept, log, "clean end {end}");
    }
}
