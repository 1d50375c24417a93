//! What the store keeps of the archive tier: the Parquet files written per
//! partition range and the Iceberg snapshot each archive pass made.

use crate::convert::stored_u64;
use crate::{Result, SegmentId, TopicId};

/// One row group of an archived file, which becomes an index row when the
/// range's segments are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedRowGroup {
    /// Its first offset.
    pub base_offset: i64,
    /// Its last offset (inclusive).
    pub last_offset: i64,
    /// Byte offset of its column chunks in the file.
    pub byte_offset: u64,
    /// Bytes of its column chunks.
    pub byte_len: u64,
    /// Largest record timestamp in it.
    pub max_timestamp: i64,
}

/// One Parquet file holding a range of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFile {
    /// The file's id (its row in `segments` when segments are dropped).
    pub file_id: SegmentId,
    /// Its object key.
    pub object_key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The partition.
    pub partition: i32,
    /// First offset of the range.
    pub base_offset: i64,
    /// Last offset of the range (inclusive).
    pub last_offset: i64,
    /// Records in the file.
    pub records: u64,
    /// Its row groups in offset order, end to end over the range.
    pub row_groups: Vec<ArchivedRowGroup>,
}

/// One archive pass over a topic, committed in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveCommit {
    /// The topic.
    pub topic_id: TopicId,
    /// The id of the Iceberg snapshot the pass makes.
    pub snapshot_id: i64,
    /// Object key of the manifest listing the pass's files.
    pub manifest_key: String,
    /// Its size in bytes.
    pub manifest_length: u64,
    /// When the pass ran, ms since the epoch.
    pub committed_ms: i64,
    /// The files written, at most one range per partition, each starting
    /// where the partition's archived ranges end.
    pub files: Vec<ArchivedFile>,
    /// Whether the index rows of each range are replaced by rows pointing
    /// at the file's row groups (their segments become candidates of the
    /// collector).
    pub drop_segments: bool,
}

/// An Iceberg snapshot of a topic's archive, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveManifest {
    /// The snapshot's sequence number: 1 for the first pass, then +1.
    pub sequence_number: i64,
    /// The snapshot's id.
    pub snapshot_id: i64,
    /// Object key of its manifest.
    pub manifest_key: String,
    /// Size of the manifest in bytes.
    pub manifest_length: u64,
    /// Files it added.
    pub added_files: u64,
    /// Records it added.
    pub added_rows: u64,
    /// When it was committed, ms since the epoch.
    pub committed_ms: i64,
}

/// What [`crate::MetadataStore::commit_archive`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveOutcome {
    /// Recorded as the topic's snapshot with this sequence number.
    Committed {
        /// The snapshot's sequence number.
        sequence_number: i64,
    },
    /// Nothing recorded: the topic is gone.
    UnknownTopic,
    /// Nothing recorded: a range no longer matches the log (retention or
    /// DeleteRecords moved the log start into it, or it does not start
    /// where the partition's archive ends). The files are the caller's to
    /// delete.
    Conflict {
        /// The partition whose range did not match.
        partition: i32,
    },
}

/// A stored snapshot row, checked.
pub(crate) fn manifest_from_row(
    (sequence_number, snapshot_id, manifest_key, length, files, rows, committed_ms): (
        i64,
        i64,
        String,
        i64,
        i64,
        i64,
        i64,
    ),
) -> Result<ArchiveManifest> {
    Ok(ArchiveManifest {
        sequence_number,
        snapshot_id,
        manifest_key,
        manifest_length: stored_u64(length, "manifest length")?,
        added_files: stored_u64(files, "file count")?,
        added_rows: stored_u64(rows, "record count")?,
        committed_ms,
    })
}
