use bytes::Bytes;
use kafka_protocol::records::Compression;

use super::bomb::{self, CODECS, put_varint, raw_batch, record_head, zstd_bomb};
use super::*;
use crate::test_support::batch;

fn checks(timestamps: Option<RangeInclusive<i64>>) -> RecordChecks {
    RecordChecks {
        timestamps,
        limit: 64 << 20,
        require_keys: false,
    }
}

fn check(b: &Bytes, checks: &RecordChecks) -> Result<(), RecordsRefused> {
    let header = BatchHeader::parse(b).unwrap();
    check_records(b, &header, checks)
}

/// One uncompressed record with a value of `value` and the given deltas.
fn record(timestamp_delta: i64, offset_delta: i32, value: &[u8]) -> Vec<u8> {
    let mut r = record_head(timestamp_delta, offset_delta, value.len());
    r.extend_from_slice(value);
    r.push(0); // no headers
    r
}

#[test]
fn what_clients_send_passes_in_every_codec() {
    for c in CODECS {
        let b = batch(&["a", "bb", "", "dddd"], 1_000, c);
        check(&b, &checks(None)).unwrap_or_else(|e| panic!("{c:?}: {e}"));
        check(&b, &checks(Some(1_000..=1_003))).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }
}

/// Only the header's base and max timestamps were checked before: a record
/// older than the first one slipped past `message.timestamp.before.max.ms`.
#[test]
fn a_record_older_than_the_first_is_out_of_range() {
    let mut records = record(0, 0, b"a");
    records.extend(record(-600, 1, b"b"));
    records.extend(record(5, 2, b"c"));
    let b = raw_batch(0, &records, 3, 1_000, 1_005);
    assert!(matches!(
        check(&b, &checks(Some(900..=2_000))),
        Err(RecordsRefused::Timestamp {
            index: 1,
            timestamp: 400,
            low: 900,
            high: 2_000
        })
    ));
    check(&b, &checks(Some(400..=2_000))).unwrap();
    check(&b, &checks(None)).unwrap();
}

#[test]
fn records_without_timestamps_pass() {
    let b = batch(&["a", "b"], -1, Compression::Lz4);
    let header = BatchHeader::parse(&b).unwrap();
    assert_eq!(header.base_timestamp, -1);
    let mut records = record(0, 0, b"a");
    records.extend(record(0, 1, b"b"));
    let b = raw_batch(0, &records, 2, -1, -1);
    check(&b, &checks(Some(900..=2_000))).unwrap();
}

#[test]
fn malformed_records_are_refused() {
    let two = |a: Vec<u8>, b: Vec<u8>| [a, b].concat();
    let cases: Vec<(&str, Bytes)> = vec![
        (
            "offset deltas out of order",
            raw_batch(0, &two(record(0, 1, b"a"), record(0, 0, b"b")), 2, 0, 0),
        ),
        (
            "a repeated offset delta",
            raw_batch(0, &two(record(0, 0, b"a"), record(0, 0, b"b")), 2, 0, 0),
        ),
        (
            "fewer records than the count",
            raw_batch(0, &record(0, 0, b"a"), 2, 0, 0),
        ),
        (
            "bytes after the last record",
            raw_batch(0, &[record(0, 0, b"a"), vec![7]].concat(), 1, 0, 0),
        ),
        ("a value past the record", {
            let mut r = record_head(0, 0, 1);
            r.extend_from_slice(b"abc");
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("a record longer than its fields", {
            let mut r = Vec::new();
            let mut fields = vec![0u8];
            put_varint(&mut fields, 0);
            put_varint(&mut fields, 0);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, 0);
            put_varint(&mut r, fields.len() as i64 + 2);
            r.extend(fields);
            r.extend([0, 0]);
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("a negative header count", {
            let mut fields = vec![0u8];
            put_varint(&mut fields, 0);
            put_varint(&mut fields, 0);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -3);
            let mut r = Vec::new();
            put_varint(&mut r, fields.len() as i64);
            r.extend(fields);
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("a header count the record cannot hold", {
            let mut fields = vec![0u8];
            put_varint(&mut fields, 0);
            put_varint(&mut fields, 0);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, i64::from(i32::MAX));
            let mut r = Vec::new();
            put_varint(&mut r, fields.len() as i64);
            r.extend(fields);
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("a null header key", {
            let mut fields = vec![0u8];
            put_varint(&mut fields, 0);
            put_varint(&mut fields, 0);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, 1);
            put_varint(&mut fields, -1);
            put_varint(&mut fields, -1);
            let mut r = Vec::new();
            put_varint(&mut r, fields.len() as i64);
            r.extend(fields);
            raw_batch(0, &r, 1, 0, 0)
        }),
        (
            "zstd garbage",
            raw_batch(bomb::ZSTD, &[1, 2, 3, 4, 5], 1, 0, 0),
        ),
        ("unknown codec", raw_batch(7, &[0u8; 8], 1, 0, 0)),
    ];
    for (what, b) in cases {
        let refused = check(&b, &checks(None));
        assert!(
            matches!(
                refused,
                Err(RecordsRefused::Scan(
                    ScanError::Invalid(_) | ScanError::Corrupt(_)
                ))
            ),
            "{what}: {refused:?}"
        );
    }
}

/// A bomb is refused once it passes the limit, having decompressed no more.
#[test]
fn a_bomb_is_refused_at_the_limit() {
    let b = zstd_bomb(1024, 1 << 20, 0, 0);
    let refused = check(
        &b,
        &RecordChecks {
            timestamps: None,
            limit: 4 << 20,
            require_keys: false,
        },
    );
    assert!(
        matches!(refused, Err(RecordsRefused::Scan(ScanError::TooLarge(_)))),
        "{refused:?}"
    );
}

/// One uncompressed record with key `key` (`None`: null) and value `value`.
fn keyed_record(offset_delta: i32, key: Option<&[u8]>, value: &[u8]) -> Vec<u8> {
    let mut fields = vec![0u8]; // attributes
    put_varint(&mut fields, 0);
    put_varint(&mut fields, i64::from(offset_delta));
    match key {
        Some(k) => {
            put_varint(&mut fields, k.len() as i64);
            fields.extend_from_slice(k);
        }
        None => put_varint(&mut fields, -1),
    }
    put_varint(&mut fields, value.len() as i64);
    fields.extend_from_slice(value);
    put_varint(&mut fields, 0); // no headers
    let mut out = Vec::new();
    put_varint(&mut out, fields.len() as i64);
    out.extend_from_slice(&fields);
    out
}

/// A compacted topic refuses keyless records, naming each one; other topics
/// take them.
#[test]
fn keyless_records_are_named_when_keys_are_required() {
    let mut records = keyed_record(0, Some(b"k"), b"a");
    records.extend(keyed_record(1, None, b"b"));
    records.extend(keyed_record(2, Some(b""), b"c"));
    records.extend(keyed_record(3, None, b"d"));
    let b = raw_batch(0, &records, 4, 1_000, 1_000);
    check(&b, &checks(None)).unwrap();
    let strict = RecordChecks {
        require_keys: true,
        ..checks(None)
    };
    assert_eq!(
        check(&b, &strict),
        Err(RecordsRefused::MissingKeys {
            indexes: vec![1, 3],
            count: 2
        })
    );
    // Keyed records in every codec pass the strict check.
    for c in CODECS {
        let keyed = batch(&["a", "bb"], 1_000, c);
        check(&keyed, &strict).unwrap_or_else(|e| panic!("{c:?}: {e}"));
    }
}

/// `next_key` reads the key and skips the rest, record after record.
#[test]
fn keys_are_read_and_the_rest_skipped() {
    let mut records = keyed_record(0, Some(b"k"), b"a long value");
    records.extend(keyed_record(1, None, b"b"));
    records.extend(keyed_record(2, Some(b"kk"), b""));
    let b = raw_batch(0, &records, 3, 1_000, 1_000);
    let header = BatchHeader::parse(&b).unwrap();
    let mut r = Records::open(&b, &header, 1 << 20).unwrap();
    assert_eq!(r.next_key().unwrap(), (0, Some(b"k".to_vec())));
    assert_eq!(r.next_key().unwrap(), (1, None));
    assert_eq!(r.next_key().unwrap(), (2, Some(b"kk".to_vec())));
    r.finish().unwrap();
}
