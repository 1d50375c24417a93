use bytes::Bytes;
use kafka_protocol::records::Compression;

use super::*;
use crate::segment::records::bomb::{self, CODECS, raw_batch, record_head, zstd_bomb};
use crate::test_support::{batch, encode_batch};

fn find(
    b: &Bytes,
    base_offset: i64,
    limit: u64,
    matches: impl Fn(i64) -> bool,
) -> Result<Option<TimestampHit>, ScanError> {
    let header = BatchHeader::parse(b).unwrap();
    find_record(b, &header, base_offset, limit, matches)
}

#[test]
fn finds_the_first_matching_record_in_every_codec() {
    for c in CODECS {
        let b = batch(&["a", "b", "c", "d"], 1_000, c);
        assert_eq!(
            find(&b, 40, MAX_SCAN_BYTES, |ts| ts >= 1_002).unwrap(),
            Some(TimestampHit {
                offset: 42,
                timestamp: 1_002
            }),
            "{c:?}"
        );
        assert_eq!(
            find(&b, 40, MAX_SCAN_BYTES, |ts| ts == 1_003)
                .unwrap()
                .map(|h| h.offset),
            Some(43),
            "{c:?}"
        );
        assert_eq!(
            find(&b, 40, MAX_SCAN_BYTES, |ts| ts >= 5_000).unwrap(),
            None,
            "{c:?}"
        );
    }
}

#[test]
fn log_append_time_gives_every_record_the_max_timestamp() {
    let b = batch(&["a", "b", "c"], 1_000, Compression::None);
    let mut flagged = b.to_vec();
    flagged[22] |= 0x08; // the timestamp type bit of the attributes
    let flagged = Bytes::from(flagged);
    assert_eq!(
        find(&flagged, 0, MAX_SCAN_BYTES, |ts| ts >= 1_001).unwrap(),
        Some(TimestampHit {
            offset: 0,
            timestamp: 1_002
        })
    );
}

/// The limit cuts the scan whatever the codec: 16 MiB of records, the
/// match in the last one, found with room and refused with a 4 MiB budget.
#[test]
fn the_byte_limit_holds_in_every_codec() {
    let value = Bytes::from(vec![0u8; 1 << 20]);
    for c in CODECS {
        let records = (0..16).map(|_| (Bytes::from_static(b"k"), value.clone()));
        let b = encode_batch(records, 0, c);
        assert_eq!(
            find(&b, 0, u64::MAX, |ts| ts >= 15)
                .unwrap()
                .map(|h| h.offset),
            Some(15),
            "{c:?}"
        );
        assert!(
            matches!(
                find(&b, 0, 4 << 20, |ts| ts >= 15),
                Err(ScanError::TooLarge(_))
            ),
            "{c:?}"
        );
    }
}

/// A real bomb: 1 GiB of records in a few KiB of zstd, whose header claims
/// a timestamp none of its records has. The scan stops at the limit.
#[test]
fn a_zstd_bomb_stops_at_the_limit() {
    let b = zstd_bomb(1024, 1 << 20, 0, 1 << 40);
    assert!(b.len() < 64 * 1024, "compressed to {} bytes", b.len());
    assert!(matches!(
        find(&b, 0, MAX_SCAN_BYTES, |ts| ts >= 1 << 40),
        Err(ScanError::TooLarge(MAX_SCAN_BYTES))
    ));
}

#[test]
fn an_exact_fit_is_not_too_large() {
    let mut records = record_head(0, 0, 3);
    records.extend_from_slice(b"abc\0");
    let b = raw_batch(0, &records, 1, 7, 7);
    let len = records.len() as u64;
    assert_eq!(
        find(&b, 0, len, |ts| ts >= 7).unwrap().map(|h| h.offset),
        Some(0)
    );
    assert!(matches!(
        find(&b, 0, len - 1, |ts| ts >= 7),
        Err(ScanError::TooLarge(_))
    ));
}

/// A snappy block announcing 4 GiB is refused before anything is
/// allocated for it, framed (snappy-java) or raw.
#[test]
fn a_snappy_block_announcing_gigabytes_is_refused() {
    let mut block = Vec::new();
    block.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]); // 2^32 - 1
    block.extend_from_slice(&[0u8; 16]);
    let mut framed = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
    framed.extend_from_slice(&(block.len() as u32).to_be_bytes());
    framed.extend_from_slice(&block);
    for records in [framed, block] {
        let b = raw_batch(2, &records, 1, 0, 0);
        assert!(matches!(
            find(&b, 0, MAX_SCAN_BYTES, |_| true),
            Err(ScanError::TooLarge(_))
        ));
    }
}

#[test]
fn malformed_records_are_refused_not_panics() {
    let cases: Vec<(&str, Bytes)> = vec![
        ("zeros", raw_batch(0, &[0u8; 64], 3, 0, 0)),
        ("truncated", raw_batch(0, &record_head(0, 0, 100), 1, 0, 0)),
        ("offset delta past the batch", {
            let mut r = record_head(0, 5, 0);
            r.push(0);
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("negative offset delta", {
            let mut r = record_head(0, -1, 0);
            r.push(0);
            raw_batch(0, &r, 1, 0, 0)
        }),
        ("overlong varint", raw_batch(0, &[0xff; 16], 1, 0, 0)),
        ("unknown codec", raw_batch(7, &[0u8; 8], 1, 0, 0)),
        (
            "gzip garbage",
            raw_batch(1, &[0x1f, 0x8b, 8, 0, 1, 2, 3], 1, 0, 0),
        ),
        (
            "zstd garbage",
            raw_batch(bomb::ZSTD, &[1, 2, 3, 4, 5], 1, 0, 0),
        ),
        (
            "lz4 garbage",
            raw_batch(3, &[4, 0x22, 0x4d, 0x18, 9, 9], 1, 0, 0),
        ),
        ("timestamp overflow", {
            let mut r = record_head(i64::MAX, 0, 0);
            r.push(0);
            raw_batch(0, &r, 1, 10, 10)
        }),
    ];
    for (what, b) in cases {
        assert!(
            matches!(
                find(&b, 0, MAX_SCAN_BYTES, |_| true),
                Err(ScanError::Corrupt(_) | ScanError::Invalid(_))
            ),
            "{what}"
        );
    }
}
