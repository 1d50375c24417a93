use bytes::Bytes;
use kafka_protocol::records::Compression;
use uuid::Uuid;

use super::reader::read_footer;
use super::*;
use crate::test_support::batch;

fn sample() -> Vec<PartitionBatches> {
    let t1 = Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    let t2 = Uuid::from_u128(0x1112_1314_1516_1718_191a_1b1c_1d1e_1f20);
    let a = batch(&["alpha", "beta"], 1_700_000_000_000, Compression::None);
    let b = batch(&["gamma"], 1_700_000_000_500, Compression::None);
    let c = batch(
        &["delta", "epsilon", "zeta"],
        1_700_000_001_000,
        Compression::None,
    );
    vec![
        PartitionBatches {
            topic_id: t1,
            partition: 0,
            batches: vec![a, b],
            offset_count: 3,
            max_timestamp: 1_700_000_000_500,
        },
        PartitionBatches {
            topic_id: t2,
            partition: 3,
            batches: vec![c],
            offset_count: 3,
            max_timestamp: 1_700_000_001_002,
        },
    ]
}

#[test]
fn round_trips_through_the_footer() {
    let parts = sample();
    let seg = encode_segment(&parts);
    let entries = read_footer(&seg.data).unwrap();
    assert_eq!(entries, seg.entries);
    for (e, p) in entries.iter().zip(&parts) {
        let range = e.byte_offset as usize..(e.byte_offset + e.byte_len) as usize;
        let expected: Vec<u8> = p.batches.iter().flat_map(|b| b.to_vec()).collect();
        assert_eq!(&seg.data[range], &expected[..]);
        assert_eq!(e.batch_count as usize, p.batches.len());
        assert_eq!(e.offset_count, p.offset_count);
    }
}

/// Pins the on-disk format: a change to the encoding must be a conscious
/// format change (bump `VERSION`, update docs/segment-format.md, and
/// regenerate with `FLOE_BLESS=1 cargo test -p floe-agent golden`).
#[test]
fn golden_segment_v1() {
    let seg = encode_segment(&sample());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/segment/testdata/segment-v1.bin"
    );
    if std::env::var_os("FLOE_BLESS").is_some() {
        std::fs::write(path, &seg.data).unwrap();
    }
    let golden = std::fs::read(path).unwrap();
    assert_eq!(seg.data, Bytes::from(golden), "segment encoding changed");
    assert_eq!(read_footer(&seg.data).unwrap(), seg.entries);
}

#[test]
fn detects_corruption_anywhere() {
    let seg = encode_segment(&sample());
    for pos in (0..seg.data.len()).step_by(7) {
        let mut bad = seg.data.to_vec();
        bad[pos] ^= 0x40;
        assert!(read_footer(&bad).is_err(), "flip at {pos} went unnoticed");
    }
    assert_eq!(read_footer(&seg.data[..10]), Err(SegmentError::NotASegment));
}

#[test]
fn empty_segment_is_valid() {
    let seg = encode_segment(&[]);
    assert_eq!(read_footer(&seg.data).unwrap(), vec![]);
}
