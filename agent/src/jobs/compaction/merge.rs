//! Merging, pure code over bytes: the live rows of small segments copied,
//! as they are, into one new segment in the existing format. No batch is
//! decoded or re-encoded; each row's batches are walked only to check that
//! they fill its byte range and take exactly its offsets, so a wrong index
//! row is caught before anything is swapped.

use std::collections::HashMap;

use bytes::Bytes;
use floe_metadata::{PartitionSwap, SegmentId};

use crate::segment::batch::BatchHeader;
use crate::segment::{EncodedSegment, PartitionBatches, encode_segment};

/// Why a merge was refused. The inputs are left as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// A row names a segment that was not read.
    #[error("segment {0} of an index row was not read")]
    MissingInput(SegmentId),
    /// A row's byte range lies outside its segment.
    #[error("index row at offset {0} lies outside its segment")]
    OutOfBounds(i64),
    /// A row's bytes are not whole batches taking exactly its offsets.
    #[error("index row at offset {0} does not match its batches: {1}")]
    Mismatch(i64, String),
    /// The new file does not have the layout the plan computed.
    #[error("merged segment layout differs from the plan")]
    Layout,
}

/// Builds the new segment of `layout` (from [`super::plan::lay_out`]) out
/// of the whole input files in `inputs`: each partition's old rows' bytes
/// back to back, in offset order. The footer counts each partition's
/// batches and offsets; its max timestamp is the rows' one.
pub fn merge(
    layout: &[PartitionSwap],
    inputs: &HashMap<SegmentId, Bytes>,
) -> Result<EncodedSegment, MergeError> {
    let mut partitions = Vec::with_capacity(layout.len());
    for p in layout {
        let mut batches = Vec::new();
        let (mut offset_count, mut max_timestamp) = (0i64, i64::MIN);
        for row in &p.old {
            let file = inputs
                .get(&row.segment_id)
                .ok_or(MergeError::MissingInput(row.segment_id))?;
            let start = usize::try_from(row.byte_offset).ok();
            let end = start.zip(usize::try_from(row.byte_len).ok());
            let range = end
                .and_then(|(s, len)| Some(s..s.checked_add(len)?))
                .filter(|r| r.end <= file.len())
                .ok_or(MergeError::OutOfBounds(row.base_offset))?;
            let bytes = file.slice(range);
            split_row(&bytes, row.base_offset, row.last_offset, &mut batches)?;
            offset_count += row.last_offset - row.base_offset + 1;
            max_timestamp = max_timestamp.max(row.max_timestamp);
        }
        partitions.push(PartitionBatches {
            topic_id: p.topic_id,
            partition: p.partition,
            batches,
            offset_count,
            max_timestamp,
        });
    }
    let mut encoded = encode_segment(&partitions);
    for (entry, p) in encoded.entries.iter_mut().zip(layout) {
        let first = p.new.first().map(|n| n.byte_offset);
        let len: u64 = p.new.iter().map(|n| n.byte_len).sum();
        if first != Some(entry.byte_offset) || len != entry.byte_len {
            return Err(MergeError::Layout);
        }
    }
    Ok(encoded)
}

/// Checks that `bytes` are whole batches taking exactly the offsets
/// `base..=last`, and appends each batch (a slice of `bytes`, no copy) to
/// `batches`, so the footer counts real batches.
fn split_row(
    bytes: &Bytes,
    base: i64,
    last: i64,
    batches: &mut Vec<Bytes>,
) -> Result<(), MergeError> {
    let (mut at, mut next) = (0usize, base);
    while at < bytes.len() {
        let header = BatchHeader::parse(&bytes[at..])
            .map_err(|e| MergeError::Mismatch(base, e.to_string()))?;
        batches.push(bytes.slice(at..at + header.total_len));
        next += header.offset_count();
        at += header.total_len;
    }
    if next != last + 1 {
        return Err(MergeError::Mismatch(
            base,
            format!("batches take offsets up to {}", next - 1),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
