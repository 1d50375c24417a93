//! Reads one row group of an archive file and encodes it as record
//! batches: what Fetch and ListOffsets get for an index row that points at
//! the archive tier.
//!
//! Two or three ranged GETs: the footer (the last [`FOOTER_PREFETCH`]
//! bytes, and the rest of the metadata if it is larger), then the row
//! group's column chunks, nothing else of the file. Decoding and encoding
//! run on a blocking thread; memory is one row group's worth (about
//! [`super::writer::ROW_GROUP_TARGET_BYTES`] of records).

use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::file::reader::{ChunkReader, Length};

use super::ArchiveError;
use super::encode::BatchEncoder;
use super::writer::row_group_range;
use crate::error::{AgentError, Result};
use crate::storage::{ObjectStorage, SegmentKey};

/// Bytes read from the end of a file to get its footer in one request;
/// an archive file's metadata is a few KiB.
pub const FOOTER_PREFETCH: u64 = 64 << 10;
/// Rows decoded at a time from a row group.
const DECODE_ROWS: usize = 8_192;
/// The Parquet footer: metadata length and magic.
const FOOTER_LEN: usize = 8;

/// The file's metadata, read from its footer.
pub async fn read_metadata(storage: &ObjectStorage, key: &SegmentKey) -> Result<ParquetMetaData> {
    let (tail, size) = storage.get_suffix(key, FOOTER_PREFETCH).await?;
    let inconsistent = |what: String| ArchiveError::Inconsistent {
        key: key.to_string(),
        what,
    };
    if tail.len() < FOOTER_LEN {
        return Err(inconsistent("shorter than a parquet footer".into()).into());
    }
    let mut footer = [0u8; FOOTER_LEN];
    footer.copy_from_slice(&tail[tail.len() - FOOTER_LEN..]);
    let metadata_len = FooterTail::try_new(&footer)
        .map_err(ArchiveError::from)?
        .metadata_length() as u64;
    let needed = metadata_len + FOOTER_LEN as u64;
    if needed > size {
        return Err(inconsistent(format!(
            "metadata of {metadata_len} bytes in a file of {size}"
        ))
        .into());
    }
    let metadata = if needed <= tail.len() as u64 {
        let start = tail.len() - needed as usize;
        tail.slice(start..tail.len() - FOOTER_LEN)
    } else {
        storage
            .get_range(key, size - needed..size - FOOTER_LEN as u64)
            .await?
    };
    Ok(ParquetMetaDataReader::decode_metadata(&metadata).map_err(ArchiveError::from)?)
}

/// The records of the row group at `range` of the archive file `key`, as
/// record batches with their real offsets, laid end to end, ending in an
/// empty batch over the offsets of `offsets` (the index row's) after its
/// last record. An empty `range` is the row of a file that holds no
/// record (its range had only markers and aborted transactions): one
/// empty batch over `offsets`, nothing read.
pub async fn read_row_group(
    storage: &ObjectStorage,
    key: &SegmentKey,
    range: Range<u64>,
    offsets: RangeInclusive<i64>,
) -> Result<Bytes> {
    if range.is_empty() {
        return Ok(BatchEncoder::new().finish_through(*offsets.start(), *offsets.end()));
    }
    let metadata = read_metadata(storage, key).await?;
    let len = range.end - range.start;
    let index = (0..metadata.num_row_groups())
        .find(|&i| row_group_range(&metadata, i) == Some((range.start, len)))
        .ok_or_else(|| ArchiveError::Inconsistent {
            key: key.to_string(),
            what: format!("no row group at bytes {range:?}"),
        })?;
    let data = storage.get_range(key, range.clone()).await?;
    let key_text = key.to_string();
    tokio::task::spawn_blocking(move || {
        encode_row_group(metadata, index, range.start, data, offsets)
    })
    .await
    .map_err(|e| AgentError::Corrupt(format!("archive decoding of {key_text} failed: {e}")))?
    .map_err(AgentError::from)
}

/// Decodes row group `index`, whose bytes `data` start at `base` in the
/// file, into record batches covering `offsets`.
pub fn encode_row_group(
    metadata: ParquetMetaData,
    index: usize,
    base: u64,
    data: Bytes,
    offsets: RangeInclusive<i64>,
) -> Result<Bytes, ArchiveError> {
    let file_len = metadata
        .row_groups()
        .iter()
        .flat_map(|g| g.columns())
        .map(|c| {
            let (at, len) = c.byte_range();
            at + len
        })
        .max()
        .unwrap_or(0);
    let chunk = RowGroupBytes {
        base,
        data,
        file_len,
    };
    let arrow = ArrowReaderMetadata::try_new(Arc::new(metadata), ArrowReaderOptions::new())?;
    let rows = ParquetRecordBatchReaderBuilder::new_with_metadata(chunk, arrow)
        .with_row_groups(vec![index])
        .with_batch_size(DECODE_ROWS)
        .build()?;
    let mut encoder = BatchEncoder::new();
    for batch in rows {
        encoder.push_rows(&batch?)?;
    }
    Ok(encoder.finish_through(*offsets.start(), *offsets.end()))
}

/// The bytes of one row group, readable at their offsets in the file.
struct RowGroupBytes {
    base: u64,
    data: Bytes,
    file_len: u64,
}

impl RowGroupBytes {
    fn slice(&self, start: u64, len: usize) -> parquet::errors::Result<Bytes> {
        let from = start
            .checked_sub(self.base)
            .and_then(|f| usize::try_from(f).ok())
            .filter(|&f| f.checked_add(len).is_some_and(|end| end <= self.data.len()))
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!(
                    "bytes {start}+{len} outside the row group read"
                ))
            })?;
        Ok(self.data.slice(from..from + len))
    }
}

impl Length for RowGroupBytes {
    fn len(&self) -> u64 {
        self.file_len.max(self.base + self.data.len() as u64)
    }
}

impl ChunkReader for RowGroupBytes {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let end = self.base + self.data.len() as u64;
        let len = usize::try_from(end.saturating_sub(start)).unwrap_or(0);
        Ok(self.slice(start, len)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.slice(start, length)
    }
}
