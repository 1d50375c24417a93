//! The log cleaner: key-based compaction of topics whose `cleanup.policy`
//! has `compact`, as Kafka's `LogCleaner`. Each pass (under the
//! `log_cleaner` lease, `leased.rs`) weighs every partition of the
//! compacted topics by its dirty ratio (bytes written since its last clean
//! over all its bytes), and cleans the dirtiest of those due, one at a
//! time, at most [`MAX_PARTITIONS_PER_PASS`] (and at most 16 looked at). A
//! partition is due when its
//! dirty ratio reaches `min.cleanable.dirty.ratio`, when a dirty record is
//! older than `max.compaction.lag.ms`, or when tombstones' retention ended.
//!
//! Cleaning one partition:
//! 1. its rows from the log start are read; what may be cleaned ends at the
//!    last stable offset (the first offset of its oldest open transaction,
//!    or the high watermark), at the first row holding a record younger
//!    than `min.compaction.lag.ms`, and where the aborted ranges loaded fit
//!    ([`txn::MAX_ABORTED_RANGES`]);
//! 2. the dirty section (from the stored cleaned offset) is mapped: the
//!    latest offset of each key, in a bounded map (`log_cleaner/key_map.rs`),
//!    committed transactional records included, aborted ones and markers
//!    not; a section with more keys ends where the map filled, and the rest
//!    waits for the next pass;
//! 3. every row from the log start up to the map's end is filtered
//!    (`log_cleaner/filter.rs`): a record stays if it is the latest of its
//!    key; a tombstone stays until `delete.retention.ms` after the clean
//!    that first kept it; a record of an aborted transaction goes; a marker
//!    stays while its transaction has a batch in the log, then gets a
//!    delete horizon and goes after it (`log_cleaner/txn.rs`), its aborted
//!    range (if an abort) with it; offsets never change, a batch left
//!    empty goes;
//! 4. the kept batches are written as a new segment in the usual format,
//!    one index row per run of adjacent offsets, uploaded, and swapped for
//!    the old rows in one fenced store transaction that also records the
//!    progress ([`floe_metadata::MetadataStore::swap_cleaned`]); a swap
//!    whose rows changed meanwhile (retention, DeleteRecords, compaction)
//!    writes nothing and the partition waits for the next pass. Large
//!    partitions are swapped in several stretches of [`CHUNK_BYTES`], the
//!    progress with the last.
//!
//! Tombstones: a pass that keeps tombstones records a pending horizon
//! (the offset it cleaned up to, and now + `delete.retention.ms`); the first
//! pass after that time may remove the tombstones below that offset, and
//! sets the next horizon. Every pass rewrites from the log start, so by
//! the time a tombstone goes, every older record of its key went in an
//! earlier pass: a key deleted stays deleted.
//!
//! Left as they are: partitions holding rows of the Parquet archive tier (their records cannot be rewritten in place), and topics
//! whose archive drops segments (see [`archive_swaps_rows`]).

pub mod filter;
pub mod key_map;
pub mod txn;

use std::sync::Arc;

use bytes::Bytes;
use floe_metadata::{
    CleanSwap, CleanedSegment, CleanerPartition, CleanerProgress, CompactedRow, IndexRow, JobFence,
    MetadataError, MetadataStore, SegmentRow, Topic,
};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use uuid::Uuid;

use self::filter::{CleanRules, FilterError, FilterStats, KeptBatch, Mapped};
use self::key_map::KeyMap;
use self::txn::{AbortedRanges, MAX_ABORTED_RANGES, MarkerClock, TxnScan};
use super::compaction::plan::MAX_ROW_BYTES;
use super::leased::PassReport;
use crate::configs::{BrokerConfigs, CleanerConfig, CleanupPolicy, topic_value};
use crate::error::{AgentError, Result};
use crate::metrics::Metrics;
use crate::segment::format::HEADER_LEN;
use crate::segment::{PartitionBatches, encode_segment};
use crate::storage::{ObjectStorage, SegmentKey};

/// Partitions one pass cleans at most; the others are its backlog.
pub const MAX_PARTITIONS_PER_PASS: u64 = 4;
/// Partitions one pass looks at most: one with nothing to clean yet (its
/// dirty records too young, rows of the archive tier) costs a read of its
/// rows, and must not keep the others waiting.
const MAX_ATTEMPTS_PER_PASS: usize = 16;
/// Input bytes one swap covers at most: the memory of a stretch being
/// cleaned is about this plus its output.
pub const CHUNK_BYTES: u64 = 64 << 20;
/// Index rows a clean reads at most; a longer partition is cleaned up to
/// there, and the rest at the next passes.
const MAX_ROWS: usize = 100_000;
/// Index rows read per store call.
const ROWS_PER_QUERY: u32 = 1_000;

/// What the cleaner needs, cloned into each pass.
#[derive(Debug, Clone)]
pub struct LogCleaner {
    /// Where the index rows and the cleaner's progress are.
    pub store: Arc<dyn MetadataStore>,
    /// Where the segments are.
    pub storage: ObjectStorage,
    /// Where the cleaner's work is counted.
    pub metrics: Arc<Metrics>,
    /// The broker defaults of topic configs.
    pub broker: Arc<BrokerConfigs>,
    /// The wall clock, in ms since the epoch (record timestamps and
    /// tombstone horizons are compared with it).
    pub now_ms: fn() -> i64,
    /// Keys the map of one clean holds at most.
    pub max_keys: usize,
}

/// A partition due for cleaning.
#[derive(Debug, Clone)]
struct Due {
    ratio: f64,
    topic: Topic,
    config: CleanerConfig,
    partition: CleanerPartition,
}

/// A stretch of a partition's rows, filtered, to swap in.
#[derive(Debug)]
struct Stretch<'a> {
    /// The rows it replaces.
    rows: &'a [&'a IndexRow],
    /// The batches kept, each with the max timestamp of its old row.
    kept: Vec<(KeptBatch, i64)>,
    /// Where the dirty section starts after this clean.
    cleaned_offset: i64,
    /// The progress to record (with the last stretch of a clean).
    progress: Option<CleanerProgress>,
    /// The abort markers dropped, whose aborted ranges go.
    dropped_aborts: Vec<i64>,
}

/// Why a partition's clean stopped without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cleaned {
    /// Every swap of the pass was made.
    Done,
    /// Nothing to do, or a row changed meanwhile: the next pass looks again.
    Skipped,
}

impl LogCleaner {
    /// One bounded pass. Reports the partitions cleaned and, as backlog,
    /// those due but left for the next pass.
    pub async fn pass(self, fence: JobFence, stop: CancellationToken) -> Result<PassReport> {
        let now = (self.now_ms)();
        let mut due = Vec::new();
        let mut max_ratio = 0.0f64;
        for topic in self.store.list_topics().await? {
            if !CleanupPolicy::of(&topic.config, &self.broker).compact {
                continue;
            }
            if archive_swaps_rows(&topic, &self.broker) {
                // The archive job would swap rows it read before a clean
                // for Parquet holding the records the clean removed.
                debug!(topic = %topic.name, "archive drops its segments: not cleaned");
                continue;
            }
            let config = CleanerConfig::of(&topic.config, &self.broker);
            for partition in self.store.cleaner_partitions(topic.id).await? {
                let ratio = dirty_ratio(&partition);
                max_ratio = max_ratio.max(ratio);
                if is_due(&partition, &config, now) {
                    due.push(Due {
                        ratio,
                        topic: topic.clone(),
                        config,
                        partition,
                    });
                }
            }
        }
        self.metrics.log_cleaner.max_dirty_ratio.set(max_ratio);
        due.sort_by(|a, b| b.ratio.total_cmp(&a.ratio));
        let mut report = PassReport::default();
        for (i, d) in due.iter().enumerate() {
            if stop.is_cancelled()
                || report.done == MAX_PARTITIONS_PER_PASS
                || i == MAX_ATTEMPTS_PER_PASS
            {
                report.backlog = (due.len() - i) as u64;
                break;
            }
            match self.clean(d, &fence, now).await {
                Ok(Cleaned::Done) => {
                    report.done += 1;
                    self.metrics.log_cleaner.partitions_cleaned.inc();
                }
                Ok(Cleaned::Skipped) => {}
                Err(AgentError::Corrupt(what)) => {
                    // One partition's unreadable batch must not stop the
                    // others: it is left as it is.
                    warn!(topic = %d.topic.name, partition = d.partition.partition, %what, "partition not cleaned");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Cleans one partition (see the module's steps).
    async fn clean(&self, due: &Due, fence: &JobFence, now: i64) -> Result<Cleaned> {
        let (topic, p, config) = (&due.topic, &due.partition, &due.config);
        let mut progress = p.progress;
        if let Some((offset, deadline)) = progress.pending_tombstones
            && now >= deadline
        {
            progress.tombstones_removable_below = progress.tombstones_removable_below.max(offset);
            progress.pending_tombstones = None;
        }
        // Read before the rows: every transaction with a record below it
        // has ended, and its aborted range (read below) is stored.
        let stable = self
            .store
            .partition_offsets(topic.id, p.partition)
            .await?
            .map_or(p.log_start_offset, |o| o.last_stable_offset);
        let rows = self.read_rows(topic, p).await?;
        if rows
            .iter()
            .any(|r| SegmentKey::from_stored(r.object_key.clone()).is_archive())
        {
            debug!(topic = %topic.name, partition = p.partition, "rows of the archive tier: not cleaned");
            return Ok(Cleaned::Skipped);
        }
        // What may be cleaned: up to the last stable offset (at most the
        // high watermark), the rows read, the first row with a record
        // younger than min.compaction.lag.ms, and the aborted ranges loaded.
        let young = now.saturating_sub(config.min_lag_ms);
        let mut end = p.high_watermark.min(stable);
        if rows.len() >= MAX_ROWS
            && let Some(last) = rows.last()
        {
            end = end.min(last.last_offset + 1);
        }
        if let Some(first_young) = rows.iter().find(|r| r.max_timestamp > young) {
            end = end.min(first_young.base_offset);
        }
        let aborted = match self.aborted_ranges(topic, p, &mut end).await? {
            Some(aborted) => Arc::new(aborted),
            None => {
                warn!(topic = %topic.name, partition = p.partition, "too many open aborted ranges at one offset: not cleaned");
                return Ok(Cleaned::Skipped);
            }
        };

        // The map of the dirty section.
        let from = progress.cleaned_offset;
        let mut map = KeyMap::new(self.max_keys);
        let mut map_end = end;
        for row in rows
            .iter()
            .filter(|r| r.last_offset >= from && r.base_offset < end)
        {
            let data = self.row_bytes(row).await?;
            self.metrics.log_cleaner.bytes_read.inc_by(row.byte_len);
            let (base, aborted) = (row.base_offset, aborted.clone());
            let (back, mapped) = tokio::task::spawn_blocking(move || {
                let mapped = filter::map_row(&data, base, from..end, &aborted, &mut map);
                (map, mapped)
            })
            .await
            .map_err(|e| AgentError::Corrupt(format!("key mapping failed: {e}")))?;
            map = back;
            match mapped.map_err(|e| corrupt(topic, p, e))? {
                (Mapped::All, _) => {}
                (Mapped::FullAt(offset), _) => {
                    map_end = offset;
                    break;
                }
            }
        }
        let tombstones_due = progress.tombstones_removable_below
            > p.progress.tombstones_removable_below
            || progress.pending_tombstones != p.progress.pending_tombstones;
        if map_end <= from && !tombstones_due {
            return Ok(Cleaned::Skipped);
        }

        // Filter every row up to the map's end, a stretch at a time.
        let map = Arc::new(map);
        let rules_below = progress.tombstones_removable_below;
        let targets: Vec<&IndexRow> = rows.iter().filter(|r| r.base_offset < map_end).collect();
        let chunks = chunk(&targets);
        if chunks.is_empty() {
            // Nothing may be cleaned yet (every row too young): the
            // tombstone horizon waits with the rest.
            return Ok(Cleaned::Skipped);
        }
        let mut stats = FilterStats::default();
        let markers = MarkerClock {
            now_ms: now,
            delete_retention_ms: config.delete_retention_ms,
        };
        // The pass's transactions, from the log start on, row after row.
        let mut txns = TxnScan::default();
        for (i, stretch) in chunks.iter().enumerate() {
            let mut kept: Vec<(KeptBatch, i64)> = Vec::new();
            for row in stretch.iter() {
                let data = self.row_bytes(row).await?;
                self.metrics.log_cleaner.bytes_read.inc_by(row.byte_len);
                let (map, aborted, base) = (map.clone(), aborted.clone(), row.base_offset);
                let filtered = tokio::task::spawn_blocking(move || {
                    let rules = CleanRules {
                        map: &map,
                        clean_end: map_end,
                        tombstones_below: rules_below,
                        aborted: &aborted,
                        markers,
                    };
                    let mut stats = FilterStats::default();
                    filter::filter_row(&data, base, rules, &mut txns, &mut stats)
                        .map(|k| (k, stats, txns))
                })
                .await
                .map_err(|e| AgentError::Corrupt(format!("filtering failed: {e}")))?;
                let (batches, row_stats, back) = filtered.map_err(|e| corrupt(topic, p, e))?;
                txns = back;
                add_stats(&mut stats, &row_stats);
                kept.extend(batches.into_iter().map(|b| (b, row.max_timestamp)));
            }
            let last = i + 1 == chunks.len();
            let record = last.then(|| CleanerProgress {
                cleaned_offset: map_end.max(p.progress.cleaned_offset),
                tombstones_removable_below: progress.tombstones_removable_below,
                // Waiting markers need a pass after their horizon too:
                // this one (now + delete.retention.ms) is theirs or later.
                pending_tombstones: progress
                    .pending_tombstones
                    .or((stats.tombstones_waiting + stats.markers_waiting > 0)
                        .then(|| (map_end, now.saturating_add(config.delete_retention_ms)))),
            });
            let cleaned = Stretch {
                rows: stretch,
                kept,
                cleaned_offset: map_end,
                progress: record,
                dropped_aborts: txns.take_dropped_aborts(),
            };
            if !self.swap(topic, p, cleaned, fence).await? {
                debug!(topic = %topic.name, partition = p.partition, "rows changed during the clean; next pass");
                return Ok(Cleaned::Skipped);
            }
        }
        let m = &self.metrics.log_cleaner;
        m.records_removed.inc_by(stats.records_removed);
        m.tombstones_removed.inc_by(stats.tombstones_removed);
        m.aborted_records_removed
            .inc_by(stats.aborted_records_removed);
        m.markers_removed.inc_by(stats.markers_removed);
        info!(
            topic = %topic.name,
            partition = p.partition,
            cleaned_offset = map_end,
            keys = map.len(),
            records_removed = stats.records_removed,
            tombstones_removed = stats.tombstones_removed,
            aborted_records_removed = stats.aborted_records_removed,
            markers_removed = stats.markers_removed,
            batches_rewritten = stats.batches_rewritten,
            batches_dropped = stats.batches_dropped,
            "cleaned partition"
        );
        Ok(Cleaned::Done)
    }

    /// Writes the kept batches of a stretch as a new segment (none if
    /// nothing was kept) and swaps it for the stretch's rows. `false` if
    /// a row changed meanwhile (the new object is deleted).
    async fn swap(
        &self,
        topic: &Topic,
        p: &CleanerPartition,
        stretch: Stretch<'_>,
        fence: &JobFence,
    ) -> Result<bool> {
        let (new, segment) = lay_out(topic, p.partition, stretch.kept, stretch.cleaned_offset);
        let segment = match segment {
            Some(data) => {
                let id = Uuid::now_v7();
                let key = SegmentKey::for_segment(id);
                let size = data.len() as u64;
                self.storage.put_segment(&key, data).await?;
                self.metrics.log_cleaner.bytes_written.inc_by(size);
                Some(CleanedSegment {
                    id,
                    object_key: key.as_str().to_string(),
                    size,
                })
            }
            None => None,
        };
        let swap = CleanSwap {
            topic_id: topic.id,
            partition: p.partition,
            segment,
            old: stretch
                .rows
                .iter()
                .map(|r| SegmentRow {
                    topic_id: topic.id,
                    partition: p.partition,
                    base_offset: r.base_offset,
                    last_offset: r.last_offset,
                    segment_id: r.segment_id,
                    byte_offset: r.byte_offset,
                    byte_len: r.byte_len,
                    max_timestamp: r.max_timestamp,
                })
                .collect(),
            new,
            progress: stretch.progress,
            dropped_aborts: stretch.dropped_aborts,
        };
        let drop_new = async |swap: &CleanSwap| {
            if let Some(s) = &swap.segment {
                let key = SegmentKey::from_stored(s.object_key.clone());
                if let Err(e) = self.storage.delete_segment(&key).await {
                    warn!(key = %key, error = %e, "cannot delete an unused cleaned segment");
                }
            }
        };
        match self.store.swap_cleaned(&swap, fence).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                drop_new(&swap).await;
                Ok(false)
            }
            Err(lost @ MetadataError::LeaseLost(_)) => {
                // Refused before writing anything: nothing points at it.
                drop_new(&swap).await;
                Err(lost.into())
            }
            // Any other error leaves the outcome unknown: the object stays,
            // for the orphan sweep if the swap did not happen.
            Err(e) => Err(e.into()),
        }
    }

    /// The aborted ranges overlapping the partition's offsets from its log
    /// start to `end` (exclusive), at most [`MAX_ABORTED_RANGES`] and those
    /// open across the last loaded: with more, `end` comes down to just
    /// past the last loaded, so that every range reaching below `end` is
    /// there. `None` if even those do not fit (the partition is left).
    async fn aborted_ranges(
        &self,
        topic: &Topic,
        p: &CleanerPartition,
        end: &mut i64,
    ) -> Result<Option<AbortedRanges>> {
        let (from, to) = (p.log_start_offset, *end - 1);
        if to < from {
            return Ok(Some(AbortedRanges::default()));
        }
        let (id, partition) = (topic.id, p.partition);
        let mut ranges = self
            .store
            .aborted_transactions(id, partition, from, to, MAX_ABORTED_RANGES)
            .await?;
        if ranges.len() == MAX_ABORTED_RANGES as usize
            && let Some(last) = ranges.last().map(|r| r.last_offset)
        {
            // Ranges ending past `last` that began at or before it.
            let across = self
                .store
                .aborted_transactions(id, partition, last + 1, last, MAX_ABORTED_RANGES)
                .await?;
            if across.len() == MAX_ABORTED_RANGES as usize {
                return Ok(None);
            }
            ranges.extend(across);
            *end = (*end).min(last + 1);
        }
        Ok(Some(AbortedRanges::new(ranges)))
    }

    /// The partition's rows from its log start, below its high watermark,
    /// at most [`MAX_ROWS`].
    async fn read_rows(&self, topic: &Topic, p: &CleanerPartition) -> Result<Vec<IndexRow>> {
        let mut rows: Vec<IndexRow> = Vec::new();
        let mut from = p.log_start_offset;
        while rows.len() < MAX_ROWS {
            let page = self
                .store
                .index_rows(topic.id, p.partition, from, ROWS_PER_QUERY)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            from = last.last_offset + 1;
            let full = page.len() == ROWS_PER_QUERY as usize;
            rows.extend(
                page.into_iter()
                    .filter(|r| r.last_offset < p.high_watermark)
                    .take(MAX_ROWS - rows.len()),
            );
            if !full || from >= p.high_watermark {
                break;
            }
        }
        Ok(rows)
    }

    /// A row's bytes as stored (base offsets as produced: the filter
    /// counts offsets from the row's base).
    async fn row_bytes(&self, row: &IndexRow) -> Result<Bytes> {
        let key = SegmentKey::from_stored(row.object_key.clone());
        let range = row.byte_offset..row.byte_offset + row.byte_len;
        self.storage.get_range(&key, range).await
    }
}

/// Whether the archive job swaps `topic`'s index rows for Parquet row
/// groups (`floe.archive.enabled` and `floe.archive.drop.segments`). Its
/// commit checks that rows still cover a range, not that they are the rows
/// it read, so a clean between its read and its commit would be undone:
/// such topics are not cleaned.
fn archive_swaps_rows(topic: &Topic, broker: &BrokerConfigs) -> bool {
    let flag = |name| {
        topic_value(name, &topic.config, broker)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    flag("floe.archive.enabled") && flag("floe.archive.drop.segments")
}

/// The dirty share of a partition's bytes.
fn dirty_ratio(p: &CleanerPartition) -> f64 {
    if p.total_bytes == 0 {
        0.0
    } else {
        p.dirty_bytes as f64 / p.total_bytes as f64
    }
}

/// Whether a partition is due: tombstones whose retention ended, a dirty
/// ratio at `min.cleanable.dirty.ratio`, or a dirty record older than
/// `max.compaction.lag.ms`.
fn is_due(p: &CleanerPartition, config: &CleanerConfig, now: i64) -> bool {
    if p.progress
        .pending_tombstones
        .is_some_and(|(_, deadline)| now >= deadline)
    {
        return true;
    }
    if p.dirty_bytes == 0 {
        return false;
    }
    dirty_ratio(p) >= config.min_dirty_ratio
        || p.first_dirty_timestamp
            .is_some_and(|ts| now.saturating_sub(ts) >= config.max_lag_ms)
}

/// The rows to rewrite in stretches of at most [`CHUNK_BYTES`] (a longer
/// row alone).
fn chunk<'a>(rows: &[&'a IndexRow]) -> Vec<Vec<&'a IndexRow>> {
    let mut chunks: Vec<Vec<&IndexRow>> = Vec::new();
    let mut bytes = 0u64;
    for row in rows {
        match chunks.last_mut() {
            Some(c) if bytes.saturating_add(row.byte_len) <= CHUNK_BYTES => {
                bytes += row.byte_len;
                c.push(row);
            }
            _ => {
                bytes = row.byte_len;
                chunks.push(vec![row]);
            }
        }
    }
    chunks
}

/// The new segment of kept batches (each with the max timestamp of the row
/// it came from) and its rows: one per run of adjacent offsets, cut at
/// [`MAX_ROW_BYTES`] and at `cleaned_offset`, so that the rows from there
/// on are the dirty section the next pass weighs. A row's max timestamp is its batches', bounded by
/// their old rows' (which held the append time for batches without
/// timestamps, and capped future ones).
fn lay_out(
    topic: &Topic,
    partition: i32,
    kept: Vec<(KeptBatch, i64)>,
    cleaned_offset: i64,
) -> (Vec<CompactedRow>, Option<Bytes>) {
    if kept.is_empty() {
        return (Vec::new(), None);
    }
    let mut rows: Vec<CompactedRow> = Vec::new();
    let mut position = HEADER_LEN as u64;
    let (mut offsets, mut max_timestamp) = (0i64, i64::MIN);
    let mut batches = Vec::with_capacity(kept.len());
    for (batch, row_ts) in kept {
        let len = batch.bytes.len() as u64;
        let ts = if batch.max_timestamp < 0 {
            row_ts
        } else {
            batch.max_timestamp.min(row_ts)
        };
        match rows.last_mut() {
            Some(run)
                if run.last_offset + 1 == batch.base_offset
                    && batch.base_offset != cleaned_offset
                    && run.byte_len + len <= MAX_ROW_BYTES =>
            {
                run.last_offset = batch.last_offset;
                run.byte_len += len;
                run.max_timestamp = run.max_timestamp.max(ts);
            }
            _ => rows.push(CompactedRow {
                base_offset: batch.base_offset,
                last_offset: batch.last_offset,
                byte_offset: position,
                byte_len: len,
                max_timestamp: ts,
            }),
        }
        position += len;
        offsets += batch.last_offset - batch.base_offset + 1;
        max_timestamp = max_timestamp.max(ts);
        batches.push(batch.bytes);
    }
    let segment = encode_segment(&[PartitionBatches {
        topic_id: topic.id,
        partition,
        batches,
        offset_count: offsets,
        max_timestamp,
    }]);
    (rows, Some(segment.data))
}

fn add_stats(total: &mut FilterStats, more: &FilterStats) {
    total.records_read += more.records_read;
    total.records_removed += more.records_removed;
    total.tombstones_removed += more.tombstones_removed;
    total.tombstones_waiting += more.tombstones_waiting;
    total.batches_rewritten += more.batches_rewritten;
    total.batches_dropped += more.batches_dropped;
    total.aborted_records_removed += more.aborted_records_removed;
    total.markers_removed += more.markers_removed;
    total.markers_waiting += more.markers_waiting;
}

fn corrupt(topic: &Topic, p: &CleanerPartition, e: FilterError) -> AgentError {
    AgentError::Corrupt(format!("{}-{}: {e}", topic.name, p.partition))
}

#[cfg(test)]
#[path = "log_cleaner/tests.rs"]
mod tests;

#[cfg(test)]
#[path = "log_cleaner/throughput.rs"]
mod throughput;
