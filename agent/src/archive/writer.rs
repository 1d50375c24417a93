//! Writes one archive file: records of one partition, in offset order, as
//! a zstd-compressed Parquet file whose row groups hold about
//! [`ROW_GROUP_TARGET_BYTES`] of record data each.
//!
//! A row group is the unit both readers use: a scan engine reads whole row
//! groups, and Fetch re-encodes one row group per index row, so the size is
//! a compromise between few large reads for scans and a bounded amount of
//! memory per Fetch of the archive tier.

use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Int32Builder, Int64Builder};
use arrow_array::{ArrayRef, BinaryArray, ListArray, RecordBatch, StructArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;

use super::schema::{arrow_schema, header_element, header_fields};
use super::{ArchiveError, ArchivedRecord};

/// Record bytes (keys, values, headers) gathered before a row group is
/// closed: 4 MiB, so a GiB of records makes about 256 row groups (and as
/// many index rows once segments are dropped).
pub const ROW_GROUP_TARGET_BYTES: usize = 4 << 20;
/// The zstd level of the archive's pages: Kafka's default for producers.
const ZSTD_LEVEL: i32 = 3;

/// Where one row group of a written file lies and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowGroupSummary {
    /// Its first offset.
    pub base_offset: i64,
    /// Its last offset (inclusive).
    pub last_offset: i64,
    /// Largest record timestamp in it.
    pub max_timestamp: i64,
    /// Its records.
    pub records: u64,
    /// Byte offset of its first column chunk in the file.
    pub byte_offset: u64,
    /// Bytes of its column chunks (they lie end to end).
    pub byte_len: u64,
}

/// A finished archive file, ready to upload.
#[derive(Debug, Clone)]
pub struct ArchiveFile {
    /// The whole Parquet file.
    pub bytes: Bytes,
    /// Its row groups in offset order.
    pub row_groups: Vec<RowGroupSummary>,
    /// Record bytes it holds (keys, values, headers), before compression.
    pub record_bytes: u64,
}

impl ArchiveFile {
    /// Records in the file.
    pub fn records(&self) -> u64 {
        self.row_groups.iter().map(|g| g.records).sum()
    }
}

/// Builds one archive file from records pushed in offset order.
pub struct ArchiveWriter {
    writer: ArrowWriter<Vec<u8>>,
    pending: Vec<ArchivedRecord>,
    pending_bytes: usize,
    group_target: usize,
    groups: Vec<(i64, i64, i64, u64)>,
    record_bytes: u64,
}

impl std::fmt::Debug for ArchiveWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveWriter")
            .field("pending", &self.pending.len())
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

impl ArchiveWriter {
    /// A writer closing row groups at [`ROW_GROUP_TARGET_BYTES`].
    pub fn new() -> Result<Self, ArchiveError> {
        Self::with_row_group_bytes(ROW_GROUP_TARGET_BYTES)
    }

    /// A writer closing row groups once `group_target` record bytes are
    /// pending (tests use small ones).
    pub fn with_row_group_bytes(group_target: usize) -> Result<Self, ArchiveError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(ZSTD_LEVEL)?))
            // Row groups are closed by bytes (`flush`), never by count.
            .set_max_row_group_size(usize::MAX)
            .set_created_by("floe archive".into())
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), arrow_schema(), Some(props))?;
        Ok(Self {
            writer,
            pending: Vec::new(),
            pending_bytes: 0,
            group_target: group_target.max(1),
            groups: Vec::new(),
            record_bytes: 0,
        })
    }

    /// Adds the next record (offsets must ascend).
    pub fn push(&mut self, record: ArchivedRecord) -> Result<(), ArchiveError> {
        self.pending_bytes += record.payload_len();
        self.record_bytes += record.payload_len() as u64;
        self.pending.push(record);
        if self.pending_bytes >= self.group_target {
            self.close_group()?;
        }
        Ok(())
    }

    /// Whether no record was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.pending.is_empty()
    }

    fn close_group(&mut self) -> Result<(), ArchiveError> {
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else {
            return Ok(());
        };
        let summary = (
            first.offset,
            last.offset,
            self.pending
                .iter()
                .map(|r| r.timestamp)
                .max()
                .unwrap_or(i64::MIN),
            self.pending.len() as u64,
        );
        let batch = to_record_batch(&self.pending)?;
        self.writer.write(&batch)?;
        self.writer.flush()?;
        self.groups.push(summary);
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// Closes the last row group and the file.
    pub fn finish(mut self) -> Result<ArchiveFile, ArchiveError> {
        self.close_group()?;
        let bytes = Bytes::from(self.writer.into_inner()?);
        let metadata = ParquetMetaDataReader::new().parse_and_finish(&bytes)?;
        let row_groups = summaries(&metadata, &self.groups)?;
        Ok(ArchiveFile {
            bytes,
            row_groups,
            record_bytes: self.record_bytes,
        })
    }
}

/// The byte range of row group `index`: from its first column chunk to the
/// end of its last (column chunks of a row group lie end to end).
pub fn row_group_range(metadata: &ParquetMetaData, index: usize) -> Option<(u64, u64)> {
    let group = metadata.row_groups().get(index)?;
    let mut start = u64::MAX;
    let mut end = 0u64;
    for column in group.columns() {
        let (at, len) = column.byte_range();
        start = start.min(at);
        end = end.max(at + len);
    }
    (start < end).then(|| (start, end - start))
}

fn summaries(
    metadata: &ParquetMetaData,
    groups: &[(i64, i64, i64, u64)],
) -> Result<Vec<RowGroupSummary>, ArchiveError> {
    if metadata.num_row_groups() != groups.len() {
        return Err(ArchiveError::Inconsistent {
            key: "(new file)".into(),
            what: format!(
                "{} row groups written, {} in the footer",
                groups.len(),
                metadata.num_row_groups()
            ),
        });
    }
    groups
        .iter()
        .enumerate()
        .map(|(i, &(base_offset, last_offset, max_timestamp, records))| {
            let (byte_offset, byte_len) =
                row_group_range(metadata, i).ok_or_else(|| ArchiveError::Inconsistent {
                    key: "(new file)".into(),
                    what: format!("row group {i} has no column chunks"),
                })?;
            Ok(RowGroupSummary {
                base_offset,
                last_offset,
                max_timestamp,
                records,
                byte_offset,
                byte_len,
            })
        })
        .collect()
}

/// Records as one Arrow batch of the archive schema.
pub fn to_record_batch(records: &[ArchivedRecord]) -> Result<RecordBatch, ArchiveError> {
    let n = records.len();
    let mut partition = Int32Builder::with_capacity(n);
    let mut offset = Int64Builder::with_capacity(n);
    let mut timestamp = Int64Builder::with_capacity(n);
    let mut timestamp_type = Int32Builder::with_capacity(n);
    let mut key = BinaryBuilder::new();
    let mut value = BinaryBuilder::new();
    let mut header_key = BinaryBuilder::new();
    let mut header_value = BinaryBuilder::new();
    let mut list_offsets = Vec::with_capacity(n + 1);
    list_offsets.push(0i32);
    let mut headers_total = 0i32;
    for r in records {
        partition.append_value(r.partition);
        offset.append_value(r.offset);
        timestamp.append_value(r.timestamp);
        timestamp_type.append_value(r.timestamp_type.code());
        key.append_option(r.key.as_deref());
        value.append_option(r.value.as_deref());
        for (k, v) in &r.headers {
            header_key.append_value(k);
            header_value.append_option(v.as_deref());
        }
        let count = i32::try_from(r.headers.len()).map_err(|_| ArchiveError::Records {
            offset: r.offset,
            what: "too many headers".into(),
        })?;
        headers_total = headers_total
            .checked_add(count)
            .ok_or_else(|| ArchiveError::Records {
                offset: r.offset,
                what: "too many headers in one row group".into(),
            })?;
        list_offsets.push(headers_total);
    }
    let header_key: BinaryArray = header_key.finish();
    let header_value: BinaryArray = header_value.finish();
    let headers_struct = StructArray::try_new(
        header_fields(),
        vec![
            Arc::new(header_key) as ArrayRef,
            Arc::new(header_value) as ArrayRef,
        ],
        None,
    )?;
    let headers = ListArray::try_new(
        header_element(),
        OffsetBuffer::new(ScalarBuffer::from(list_offsets)),
        Arc::new(headers_struct),
        None,
    )?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(partition.finish()),
        Arc::new(offset.finish()),
        Arc::new(timestamp.finish()),
        Arc::new(timestamp_type.finish()),
        Arc::new(key.finish()),
        Arc::new(value.finish()),
        Arc::new(headers),
    ];
    Ok(RecordBatch::try_new(arrow_schema(), columns)?)
}
