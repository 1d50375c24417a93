use std::collections::HashMap;

use bytes::Bytes;
use floe_metadata::SegmentRow;
use kafka_protocol::records::Compression;
use uuid::Uuid;

use super::super::plan::lay_out;
use super::{MergeError, merge};
use crate::segment::batch::{BatchIter, patch_run};
use crate::segment::reader::read_footer;
use crate::segment::{PartitionBatches, encode_segment};
use crate::test_support::batch;

const TOPIC: Uuid = Uuid::from_u128(0xABCD);

/// A flushed segment holding, for each partition, its batches; and the
/// index rows a commit would give it (one per partition) from `bases`.
fn flushed(parts: &[(i32, Vec<Bytes>, i64)]) -> (Uuid, Bytes, Vec<SegmentRow>) {
    let id = Uuid::now_v7();
    let partitions: Vec<PartitionBatches> = parts
        .iter()
        .map(|(partition, batches, _)| PartitionBatches {
            topic_id: TOPIC,
            partition: *partition,
            batches: batches.clone(),
            offset_count: batches.iter().map(offsets).sum(),
            max_timestamp: 0,
        })
        .collect();
    let encoded = encode_segment(&partitions);
    let rows = encoded
        .entries
        .iter()
        .zip(parts)
        .map(|(entry, (partition, _, base))| SegmentRow {
            topic_id: TOPIC,
            partition: *partition,
            base_offset: *base,
            last_offset: base + entry.offset_count - 1,
            segment_id: id,
            byte_offset: entry.byte_offset,
            byte_len: entry.byte_len,
            max_timestamp: *base,
        })
        .collect();
    (id, encoded.data, rows)
}

fn offsets(batch: &Bytes) -> i64 {
    BatchIter::new(batch.clone())
        .map(|b| b.map(|(h, _)| h.offset_count()).unwrap_or(0))
        .sum()
}

/// The batches of a row's bytes as a reader serves them: patched from
/// `base`.
fn served(bytes: &[u8], base: i64) -> Vec<u8> {
    let mut data = bytes.to_vec();
    patch_run(&mut data, base, 0).expect("patch");
    data
}

#[test]
fn merged_rows_serve_the_same_bytes_and_offsets() {
    let b = |v: &[&str], ts| batch(v, ts, Compression::None);
    let z = |v: &[&str], ts| batch(v, ts, Compression::Lz4);
    let (s1, f1, r1) = flushed(&[
        (0, vec![b(&["a", "b"], 10)], 0),
        (1, vec![z(&["x"], 20)], 0),
    ]);
    let (s2, f2, r2) = flushed(&[
        (0, vec![z(&["c"], 30), b(&["d", "e", "f"], 40)], 2),
        (1, vec![b(&["y", "z"], 50)], 1),
    ]);
    let mut rows: Vec<SegmentRow> = r1.iter().chain(&r2).copied().collect();
    rows.sort();
    let layout = lay_out(&rows, u64::MAX);
    let inputs = HashMap::from([(s1, f1.clone()), (s2, f2.clone())]);
    let merged = merge(&layout, &inputs).expect("merge");

    // A valid segment whose footer counts the real batches and offsets.
    let footer = read_footer(&merged.data).expect("a valid segment");
    assert_eq!(footer, merged.entries);
    assert_eq!(
        footer
            .iter()
            .map(|e| (e.partition, e.batch_count, e.offset_count))
            .collect::<Vec<_>>(),
        vec![(0, 3, 6), (1, 2, 3)]
    );
    // One new row per partition, serving exactly what the old rows served.
    for p in &layout {
        assert_eq!(p.new.len(), 1);
        let new = p.new[0];
        let at = new.byte_offset as usize;
        let got = served(
            &merged.data[at..at + new.byte_len as usize],
            new.base_offset,
        );
        let mut want = Vec::new();
        for old in &p.old {
            let file = if old.segment_id == s1 { &f1 } else { &f2 };
            let at = old.byte_offset as usize;
            want.extend(served(
                &file[at..at + old.byte_len as usize],
                old.base_offset,
            ));
        }
        assert_eq!(got, want, "partition {}", p.partition);
        assert_eq!(
            (new.base_offset, new.last_offset),
            (0, p.old.last().map_or(0, |r| r.last_offset))
        );
    }
}

#[test]
fn a_row_that_does_not_match_its_batches_is_refused() {
    let (s1, f1, rows) = flushed(&[(0, vec![batch(&["a", "b"], 1, Compression::None)], 0)]);
    let inputs = HashMap::from([(s1, f1)]);
    let mut wrong = rows.clone();
    wrong[0].last_offset = 2; // claims three offsets, the batch takes two
    assert!(matches!(
        merge(&lay_out(&wrong, u64::MAX), &inputs),
        Err(MergeError::Mismatch(0, _))
    ));
    let mut outside = rows.clone();
    outside[0].byte_offset = 1 << 40;
    assert_eq!(
        merge(&lay_out(&outside, u64::MAX), &inputs).err(),
        Some(MergeError::OutOfBounds(0))
    );
    let mut cut = rows.clone();
    cut[0].byte_len -= 1;
    assert!(merge(&lay_out(&cut, u64::MAX), &inputs).is_err());
    assert_eq!(
        merge(&lay_out(&rows, u64::MAX), &HashMap::new()).err(),
        Some(MergeError::MissingInput(s1))
    );
}
