//! Builds a segment file from the batches of many partitions.

use bytes::{BufMut, Bytes, BytesMut};
use uuid::Uuid;

use super::format::{END_MAGIC, ENTRY_LEN, FooterEntry, HEADER_LEN, MAGIC, TRAILER_LEN, VERSION};

/// One partition's batches to put in a segment.
#[derive(Debug, Clone)]
pub struct PartitionBatches {
    /// Topic id.
    pub topic_id: Uuid,
    /// Partition.
    pub partition: i32,
    /// Validated record batches, in the order they must be given offsets.
    pub batches: Vec<Bytes>,
    /// Offsets the batches take.
    pub offset_count: i64,
    /// Largest batch `maxTimestamp`.
    pub max_timestamp: i64,
}

/// A finished segment file and its footer.
#[derive(Debug, Clone)]
pub struct EncodedSegment {
    /// The whole file.
    pub data: Bytes,
    /// The footer entries, in file order.
    pub entries: Vec<FooterEntry>,
}

/// Encodes a segment file. `partitions` must be sorted by
/// (topic id, partition) with no duplicates, which the pending segment
/// guarantees by keeping them in a `BTreeMap`.
pub fn encode_segment(partitions: &[PartitionBatches]) -> EncodedSegment {
    let body_len: usize = partitions
        .iter()
        .flat_map(|p| &p.batches)
        .map(Bytes::len)
        .sum();
    let footer_len = partitions.len() * ENTRY_LEN;
    let mut buf = BytesMut::with_capacity(HEADER_LEN + body_len + footer_len + TRAILER_LEN);
    buf.put_slice(MAGIC);
    buf.put_u16(VERSION);
    buf.put_u16(0);

    let mut entries = Vec::with_capacity(partitions.len());
    for p in partitions {
        let start = buf.len() as u64;
        for batch in &p.batches {
            buf.put_slice(batch);
        }
        entries.push(FooterEntry {
            topic_id: p.topic_id,
            partition: p.partition,
            byte_offset: start,
            byte_len: buf.len() as u64 - start,
            batch_count: p.batches.len() as u32,
            offset_count: p.offset_count,
            max_timestamp: p.max_timestamp,
        });
    }
    let data_crc = crc32c::crc32c(&buf);
    let footer_offset = buf.len();
    for e in &entries {
        buf.put_slice(e.topic_id.as_bytes());
        buf.put_i32(e.partition);
        buf.put_u64(e.byte_offset);
        buf.put_u64(e.byte_len);
        buf.put_u32(e.batch_count);
        buf.put_i64(e.offset_count);
        buf.put_i64(e.max_timestamp);
    }
    let footer_crc = crc32c::crc32c(&buf[footer_offset..]);
    buf.put_u64(footer_offset as u64);
    buf.put_u32(entries.len() as u32);
    buf.put_u32(footer_crc);
    buf.put_u32(data_crc);
    buf.put_slice(END_MAGIC);
    EncodedSegment {
        data: buf.freeze(),
        entries,
    }
}
