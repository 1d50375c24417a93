//! Reads a partition's log: index rows from the metadata store, bytes from
//! the cache or the object store, whole batches with patched base offsets.
//!
//! Bytes are patched once, when they enter the cache (see
//! [`SegmentCache`]), so a fetch serves slices of the cached data: no record
//! byte is copied between the cache and the socket.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use floe_metadata::{IndexRow, MetadataStore, PartitionOffsets, TopicId};
use tracing::warn;

use super::SegmentCache;
use super::timestamp::{MAX_SCAN_BYTES, TimestampHit, find_record};
use crate::archive::reader::read_row_group;
use crate::error::{AgentError, Result};
use crate::segment::batch::{BatchHeader, BatchIter, patch_run};
use crate::storage::{ObjectStorage, SegmentKey};

/// Index rows fetched per metadata query while filling a response.
const ROWS_PER_QUERY: u32 = 32;

/// Index rows a timestamp lookup searches, one after the other, for a batch
/// whose own timestamps reach the one asked for (see
/// [`LogReader::offset_for_timestamp`]).
const MAX_ROWS_SEARCHED: usize = 64;
/// How old index rows may get before they are read again, unless told
/// (half the default `segment_gc_grace_ms`).
const DEFAULT_MAX_ROW_AGE: Duration = Duration::from_secs(30 * 60);
/// The leader epoch written into served batches; Floe has no leader
/// elections, every partition is always at epoch 0.
pub const LEADER_EPOCH: i32 = 0;

/// What a fetch of one partition returns.
#[derive(Debug, Clone)]
pub struct PartitionRead {
    /// Whole batches with their real offsets, end to end, in pieces: each a
    /// slice of one index row's cached bytes.
    pub records: Vec<Bytes>,
    /// The partition's high watermark when read.
    pub high_watermark: i64,
    /// The partition's log start offset when read.
    pub log_start_offset: i64,
}

/// The read side of the log, shared by Fetch and ListOffsets.
///
/// Index rows are the one thing read from the store that compaction can
/// replace; the replaced segment's object lives `segment_gc_grace_ms`
/// after the swap. A reader keeps no rows between calls, and within a call
/// it reads rows again once they are [`LogReader::with_max_row_age`] old
/// (half the grace on an agent), so it never asks for an object that may
/// be gone.
#[derive(Debug, Clone)]
pub struct LogReader {
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    cache: Arc<SegmentCache>,
    max_row_age: Duration,
}

impl LogReader {
    /// A reader over `store` and `storage`, going through `cache`.
    pub fn new(
        store: Arc<dyn MetadataStore>,
        storage: ObjectStorage,
        cache: Arc<SegmentCache>,
    ) -> Self {
        Self {
            store,
            storage,
            cache,
            max_row_age: DEFAULT_MAX_ROW_AGE,
        }
    }

    /// Index rows older than `age` are read again before their bytes are:
    /// half of `segment_gc_grace_ms`, so a row's object is still there.
    pub fn with_max_row_age(mut self, age: Duration) -> Self {
        self.max_row_age = age;
        self
    }

    /// The bounds of many partitions in one store round trip, in the order
    /// asked; `None` for partitions that do not exist.
    pub async fn bounds_many(
        &self,
        partitions: &[(TopicId, i32)],
    ) -> Result<Vec<Option<PartitionOffsets>>> {
        Ok(self.store.partitions_offsets(partitions).await?)
    }

    /// The row's batches as served: with their real base offsets. A row
    /// of the archive tier (its key a Parquet file) is one row group,
    /// read by ranged GETs and encoded as batches (`archive/reader.rs`).
    async fn row_bytes(&self, row: &IndexRow) -> Result<Bytes> {
        let key = SegmentKey::from_stored(row.object_key.clone());
        let range: Range<u64> = row.byte_offset..row.byte_offset + row.byte_len;
        if let Some(hit) = self.cache.get(&key, range.clone()) {
            return Ok(hit);
        }
        if key.is_archive() {
            // The archive tier: the row is one row group of a Parquet file,
            // encoded again as batches that already carry their offsets.
            let offsets = row.base_offset..=row.last_offset;
            let data = read_row_group(&self.storage, &key, range.clone(), offsets).await?;
            if range.is_empty() {
                // A row of no records: one empty batch, nothing to cache.
                return Ok(data);
            }
            return Ok(self.cache.insert_range(&key, range, data));
        }
        let fetched = self.storage.get_range(&key, range.clone()).await?;
        // The object store's buffer is usually ours alone: patched in place.
        let mut data = fetched
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        patch_run(&mut data, row.base_offset, LEADER_EPOCH)?;
        let data = data.freeze();
        // Served from the cache's tracked buffer, so bytes a slow client
        // pins after eviction count against the cache budget.
        Ok(self.cache.insert_range(&key, range, data))
    }

    /// Reads batches from `offset` on, at most `max_bytes` of them, except
    /// that with `min_one` the first batch is returned whatever its size (so
    /// a consumer always progresses, as Kafka does since KIP-74). An offset
    /// inside a batch returns that whole batch; clients skip the records
    /// before the offset they asked for. `bounds` are the partition's, as
    /// just read from the store: nothing above their high watermark is
    /// served.
    pub async fn read(
        &self,
        topic: TopicId,
        partition: i32,
        bounds: PartitionOffsets,
        offset: i64,
        max_bytes: usize,
        min_one: bool,
    ) -> Result<PartitionRead> {
        self.read_until(
            topic,
            partition,
            bounds,
            offset,
            max_bytes,
            min_one,
            bounds.high_watermark,
        )
        .await
    }

    /// [`LogReader::read`], serving no batch that starts at or above `stop`
    /// (at most the high watermark): a read_committed fetch passes the last
    /// stable offset. Offsets up to the high watermark are in range.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_until(
        &self,
        topic: TopicId,
        partition: i32,
        bounds: PartitionOffsets,
        offset: i64,
        max_bytes: usize,
        min_one: bool,
        stop: i64,
    ) -> Result<PartitionRead> {
        let PartitionOffsets {
            log_start_offset,
            high_watermark,
            ..
        } = bounds;
        if offset < log_start_offset || offset > high_watermark {
            return Err(AgentError::OffsetOutOfRange);
        }
        let stop = stop.min(high_watermark);
        let mut out = Vec::new();
        let mut out_len = 0usize;
        let mut next = offset;
        'rows: while next < stop {
            let rows = self
                .store
                .index_rows(topic, partition, next, ROWS_PER_QUERY)
                .await?;
            let read_at = Instant::now();
            if rows.is_empty() {
                // Nothing at all from here although the bounds promised
                // records: retention moved the log start past `next` since
                // the bounds were read. Kafka's answer is out of range, never
                // the records after the gap.
                if out.is_empty() && next == offset {
                    match self.store.partition_offsets(topic, partition).await? {
                        None => return Err(AgentError::UnknownTopicOrPartition),
                        Some(now) if next < now.log_start_offset => {
                            return Err(AgentError::OffsetOutOfRange);
                        }
                        Some(_) => {}
                    }
                }
                break;
            }
            for (i, row) in rows.iter().enumerate() {
                // Rows this old may point at a compacted segment whose
                // object is about to go: read them again from `next` (the
                // first row of a query is always used, so reads progress).
                if i > 0 && read_at.elapsed() > self.max_row_age {
                    continue 'rows;
                }
                // Rows committed after the watermark was read are left for
                // the next fetch: no record is served above the high
                // watermark reported with it.
                if row.base_offset >= stop {
                    break 'rows;
                }
                let data = self.row_bytes(row).await?;
                // The batches served from this row: data[start..end].
                let (mut start, mut end) = (0, 0);
                let mut base = row.base_offset;
                let mut full = false;
                while end < data.len() {
                    let header = BatchHeader::parse(&data[end..])?;
                    // Served bytes carry real base offsets. A row of the
                    // archive tier may have gaps before a batch (offsets of
                    // markers, aborted or compacted records), so its
                    // batches' offsets are read, not counted.
                    let batch_base = base.max(header.base_offset);
                    base = batch_base + header.offset_count();
                    if base <= next {
                        // Wholly before the offset asked for.
                        end += header.total_len;
                        start = end;
                        continue;
                    }
                    if batch_base >= stop {
                        // A read_committed fetch stops at the first batch
                        // of a transaction still open.
                        full = true;
                        break;
                    }
                    let taken = out_len + end - start;
                    if taken + header.total_len > max_bytes && !(taken == 0 && min_one) {
                        full = true;
                        break;
                    }
                    end += header.total_len;
                    next = base;
                }
                if end > start {
                    out_len += end - start;
                    out.push(data.slice(start..end));
                }
                if full {
                    break 'rows;
                }
                next = next.max(row.last_offset + 1);
            }
        }
        Ok(PartitionRead {
            records: out,
            high_watermark,
            log_start_offset,
        })
    }

    /// The first record whose timestamp is at least `timestamp`, if any.
    ///
    /// The index selects a row by its max timestamp, which for batches
    /// without timestamps is their append time: a row may hold no batch
    /// whose own timestamps reach `timestamp`, and the search moves on to
    /// the next row. After [`MAX_ROWS_SEARCHED`] such rows it answers the
    /// next candidate row's base offset, never after the record asked for.
    pub async fn offset_for_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
        timestamp: i64,
    ) -> Result<Option<TimestampHit>> {
        let mut from_offset = 0;
        for _ in 0..MAX_ROWS_SEARCHED {
            let Some(row) = self
                .store
                .first_row_with_timestamp_at_least(topic, partition, timestamp, from_offset)
                .await?
            else {
                return Ok(None);
            };
            let hit = self
                .find_in_row(
                    &row,
                    move |h| h.max_timestamp >= timestamp,
                    move |ts| ts >= timestamp,
                )
                .await?;
            if hit.is_some() {
                return Ok(hit);
            }
            from_offset = row.last_offset + 1;
        }
        let next = self
            .store
            .first_row_with_timestamp_at_least(topic, partition, timestamp, from_offset)
            .await?;
        Ok(next.map(|row| TimestampHit {
            offset: row.base_offset,
            timestamp: row.max_timestamp,
        }))
    }

    /// The first record holding the partition's largest timestamp, if any.
    pub async fn max_timestamp(
        &self,
        topic: TopicId,
        partition: i32,
    ) -> Result<Option<TimestampHit>> {
        let Some(row) = self.store.row_with_max_timestamp(topic, partition).await? else {
            return Ok(None);
        };
        let max = row.max_timestamp;
        self.find_in_row(&row, move |h| h.max_timestamp == max, move |ts| ts == max)
            .await
    }

    /// Finds the first batch of `row` matching `batch_matches` (its header
    /// is all the index and the cache need to pick it), and in it the first
    /// record whose timestamp matches. Only that one batch is decompressed,
    /// streamed and within [`MAX_SCAN_BYTES`] (see [`find_record`]), on a
    /// blocking thread since it is CPU work.
    ///
    /// A batch that cannot be searched within the bound, whose records do
    /// not decode, or where no record matches though its header does,
    /// answers with its own base offset (and the max timestamp its header
    /// matched on): never after the record asked for, so a consumer seeking
    /// there reads a few records too many and misses none.
    async fn find_in_row(
        &self,
        row: &IndexRow,
        batch_matches: impl Fn(&BatchHeader) -> bool,
        record_matches: impl Fn(i64) -> bool + Send + 'static,
    ) -> Result<Option<TimestampHit>> {
        let data = self.row_bytes(row).await?;
        let mut base = row.base_offset;
        for item in BatchIter::new(data) {
            let (header, batch) = item?;
            let batch_base = base.max(header.base_offset);
            base = batch_base + header.offset_count();
            if !batch_matches(&header) {
                continue;
            }
            let scan = tokio::task::spawn_blocking(move || {
                find_record(&batch, &header, batch_base, MAX_SCAN_BYTES, record_matches)
            })
            .await
            .map_err(|e| AgentError::Corrupt(format!("timestamp scan failed: {e}")))?;
            let fallback = TimestampHit {
                offset: batch_base,
                timestamp: header.max_timestamp,
            };
            let hit = match scan {
                Ok(Some(hit)) => hit,
                Ok(None) => {
                    warn!(
                        offset = batch_base,
                        "no record of the batch matches its header's max timestamp; answering its base offset"
                    );
                    fallback
                }
                Err(e) => {
                    warn!(offset = batch_base, error = %e, "batch not searchable; answering its base offset");
                    fallback
                }
            };
            return Ok(Some(hit));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
