use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::*;
use crate::segment::batch::BatchHeader;

/// (key, value) of a record; `None` is null.
type Kv = (Option<&'static str>, Option<&'static str>);

/// One v2 batch of `records` at offsets `base..`, as an idempotent
/// producer (id 7, epoch 1) with sequences from `base` sends it.
fn batch(base: i64, records: &[Kv], compression: Compression, transactional: bool) -> Bytes {
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, (k, v))| Record {
            transactional,
            control: false,
            partition_leader_epoch: 0,
            producer_id: 7,
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

fn mapped(row: &Bytes, max_keys: usize) -> KeyMap {
    let mut map = KeyMap::new(max_keys);
    assert_eq!(map_row(row, 0, 0, &mut map).unwrap(), (Mapped::All, 8));
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
    };
    let kept = filter_row(&row, 0, rules, &mut stats).unwrap();
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
    let kept = filter_row(&row, 0, rules, &mut stats).unwrap();
    let (records, _) = read(&kept);
    assert_eq!(
        records.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![2, 5, 6]
    );
    assert_eq!((stats.tombstones_removed, stats.tombstones_waiting), (1, 0));
}

#[test]
fn batches_past_the_clean_end_and_transactions_stay_whole() {
    let row = row();
    let map = mapped(&row, 100);
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        map: &map,
        clean_end: 3,
        tombstones_below: 0,
    };
    let kept = filter_row(&row, 0, rules, &mut stats).unwrap();
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

    // A transactional batch is kept whole, and its keys are not mapped.
    let txn = batch(0, &[(Some("k1"), Some("t"))], Compression::None, true);
    let mut map = KeyMap::new(10);
    assert_eq!(map_row(&txn, 0, 0, &mut map).unwrap(), (Mapped::All, 0));
    assert!(map.is_empty());
    let rules = CleanRules {
        map: &map,
        clean_end: 100,
        tombstones_below: 100,
    };
    let kept = filter_row(&txn, 0, rules, &mut FilterStats::default()).unwrap();
    assert_eq!(kept[0].bytes, txn);
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
    map_row(&row, 0, 0, &mut map).unwrap();
    let mut stats = FilterStats::default();
    let rules = CleanRules {
        map: &map,
        clean_end: 2,
        tombstones_below: 0,
    };
    let kept = filter_row(&row, 0, rules, &mut stats).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].base_offset, stats.batches_dropped), (1, 1));
}

#[test]
fn the_map_takes_whole_batches_and_stops_when_full() {
    let row = row();
    let mut small = KeyMap::new(2);
    assert!(matches!(
        map_row(&row, 0, 0, &mut small),
        Err(FilterError::TooManyKeys(0))
    ));
    let mut map = KeyMap::new(4);
    assert_eq!(
        map_row(&row, 0, 0, &mut map).unwrap(),
        (Mapped::FullAt(3), 3)
    );
    assert_eq!(map.len(), 3);
    // Mapping from the middle of the row skips the batches before it.
    let mut map = KeyMap::new(100);
    assert_eq!(map_row(&row, 0, 3, &mut map).unwrap(), (Mapped::All, 5));
    assert_eq!(map.latest(key_hash(b"k3")), None);
    assert_eq!(map.latest(key_hash(b"k1")), Some(6));
}
