//! The segment file format: constants and the footer entry layout.
//!
//! ```text
//! header   "FLOESEG1" (8 bytes) · version u16 · flags u16          12 bytes
//! body     each partition's batches, end to end, partitions sorted by
//!          (topic id, partition)
//! footer   one 56-byte entry per partition:
//!          topic id (16) · partition i32 · byte offset u64 ·
//!          byte length u64 · batch count u32 · offset count i64 ·
//!          max timestamp i64
//! trailer  footer offset u64 · entry count u32 · footer crc32c u32 ·
//!          data crc32c u32 · "FEND" (4 bytes)                          24 bytes
//! ```
//!
//! All integers are big-endian, as in Kafka. The data CRC-32C covers the
//! header and the body, the footer CRC-32C covers the footer entries. The
//! full description is in `docs/segment-format.md`.

use uuid::Uuid;

/// Magic at the start of every segment file.
pub const MAGIC: &[u8; 8] = b"FLOESEG1";
/// Magic at the very end of every segment file.
pub const END_MAGIC: &[u8; 4] = b"FEND";
/// The only format version written and read.
pub const VERSION: u16 = 1;
/// Length of the header.
pub const HEADER_LEN: usize = 12;
/// Length of one footer entry.
pub const ENTRY_LEN: usize = 56;
/// Length of the trailer.
pub const TRAILER_LEN: usize = 24;

/// Where one partition's batches lie in a segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FooterEntry {
    /// Topic id.
    pub topic_id: Uuid,
    /// Partition.
    pub partition: i32,
    /// Offset in the file of the partition's first batch.
    pub byte_offset: u64,
    /// Length of the partition's batches.
    pub byte_len: u64,
    /// Number of batches.
    pub batch_count: u32,
    /// Offsets the batches take (sum of `lastOffsetDelta + 1`).
    pub offset_count: i64,
    /// Largest batch `maxTimestamp`.
    pub max_timestamp: i64,
}

/// Why a segment file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// The file is too short or its magic is wrong.
    #[error("not a floe segment file")]
    NotASegment,
    /// A version this build cannot read.
    #[error("unsupported segment version {0}")]
    UnsupportedVersion(u16),
    /// A checksum does not match.
    #[error("segment {0} checksum mismatch")]
    Checksum(&'static str),
    /// The footer points outside the file or is inconsistent.
    #[error("segment footer is inconsistent: {0}")]
    BadFooter(&'static str),
}
