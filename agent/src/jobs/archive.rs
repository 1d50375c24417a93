//! The archive job: ranges of topics with `floe.archive.enabled=true` whose
//! records are all older than `floe.archive.after.ms` are rewritten as
//! Parquet files (one per partition range) under `archive/<topic>/data/`,
//! and each pass that wrote any commits one Iceberg snapshot of the topic's
//! table (`archive/<topic>/metadata/`).
//!
//! A pass, per topic: finish publishing the last snapshot if a crash cut
//! it short; per partition, take the index rows after the partition's
//! archived ranges, from the first whole row, while their max timestamp is
//! older than the cut-off and wholly below the last stable offset, up to
//! [`MAX_FILE_BYTES`] of stored batches; decode their committed records
//! into a Parquet file and upload it (markers and the records of aborted
//! transactions are left out, see `archive/decode.rs`; a range holding
//! none makes a file of no rows, so the partition's archive moves on); then upload the
//! pass's manifest and record everything in one fenced store transaction
//! (with `floe.archive.drop.segments=true` that transaction also swaps the
//! ranges' index rows for rows pointing at the files' row groups, and the
//! segments become the collector's, and the aborted ranges whose markers
//! the files leave out are forgotten); then publish the snapshot. A range
//! that no longer matches the log (retention ran in between) commits
//! nothing and its files are deleted again.
//!
//! One agent at a time runs it, under the `archive` lease (`leased.rs`); a
//! pass archives at most [`MAX_PASS_BYTES`] of stored batches and stops at
//! once when the agent stops.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use floe_metadata::{
    ArchiveCommit, ArchiveOutcome, ArchivedFile, ArchivedRowGroup, IndexRow, JobFence,
    MetadataStore, Topic, TopicId,
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::leased::PassReport;
use crate::archive::decode::{AbortedRanges, add_batches};
use crate::archive::iceberg::DataFile;
use crate::archive::table::ArchiveTable;
use crate::archive::writer::{ArchiveFile, ArchiveWriter};
use crate::configs::BrokerConfigs;
use crate::configs::topic_value;
use crate::error::{AgentError, Result};
use crate::fetch::LEADER_EPOCH;
use crate::metrics::Metrics;
use crate::segment::batch::patch_run;
use crate::storage::{ObjectStorage, SegmentKey};

/// The job's name and lease.
pub const JOB: &str = "archive";
/// Stored batch bytes one pass archives at most, over all topics.
pub const MAX_PASS_BYTES: u64 = 256 << 20;
/// Stored batch bytes one archive file holds at most.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Index rows read per store query.
const ROWS_PER_QUERY: u32 = 64;
/// Aborted transactions read per store query while archiving a row.
const ABORTED_PER_QUERY: u32 = 1_024;
/// The topic configs the job reads.
const ENABLED: &str = "floe.archive.enabled";
const AFTER_MS: &str = "floe.archive.after.ms";
const DROP_SEGMENTS: &str = "floe.archive.drop.segments";
/// `floe.archive.after.ms` when its value cannot be read: 7 days.
const DEFAULT_AFTER_MS: i64 = 604_800_000;

/// What the archive job needs, cloned into each pass.
#[derive(Debug, Clone)]
pub struct Archiver {
    /// The metadata store.
    pub store: Arc<dyn MetadataStore>,
    /// The object store (segments are read, the archive written).
    pub storage: ObjectStorage,
    /// Where archived bytes, records and files are counted.
    pub metrics: Arc<Metrics>,
    /// Broker defaults of the `floe.archive.*` configs.
    pub broker: Arc<BrokerConfigs>,
    /// The object store's root as an absolute URI, for Iceberg's file
    /// locations (see [`crate::storage::root_uri`]).
    pub root_uri: String,
    /// Wall clock in ms since the epoch.
    pub now_ms: fn() -> i64,
}

/// A topic's archive settings in force.
#[derive(Debug, Clone, Copy)]
struct Policy {
    after_ms: i64,
    drop_segments: bool,
}

fn policy(topic: &Topic, broker: &BrokerConfigs) -> Option<Policy> {
    let value = |name| topic_value(name, &topic.config, broker).unwrap_or_default();
    let flag = |name| value(name).trim().eq_ignore_ascii_case("true");
    if !flag(ENABLED) {
        return None;
    }
    let after_ms = value(AFTER_MS).trim().parse().unwrap_or_else(|_| {
        warn!(topic = %topic.name, "unreadable floe.archive.after.ms; using 7 days");
        DEFAULT_AFTER_MS
    });
    Some(Policy {
        after_ms,
        drop_segments: flag(DROP_SEGMENTS),
    })
}

/// One partition's range picked for a file.
struct Range {
    partition: i32,
    from: i64,
    rows: Vec<IndexRow>,
    /// More eligible rows remain after it.
    more: bool,
    /// The partition's newest aborted range's marker offset when picked:
    /// rows after it hold no aborted transaction and need no lookup.
    last_aborted_offset: i64,
}

impl Archiver {
    /// One pass over every topic with archiving enabled. Reports the files
    /// written and the partitions left with eligible rows.
    pub async fn pass(self, fence: JobFence, stop: CancellationToken) -> Result<PassReport> {
        let mut report = PassReport::default();
        let mut budget = MAX_PASS_BYTES;
        for topic in self.store.list_topics().await? {
            if stop.is_cancelled() {
                break;
            }
            let Some(policy) = policy(&topic, &self.broker) else {
                continue;
            };
            let done = self
                .archive_topic(&topic, policy, &mut budget, &fence, &stop)
                .await?;
            report.done += done.done;
            report.backlog += done.backlog;
        }
        Ok(report)
    }

    async fn archive_topic(
        &self,
        topic: &Topic,
        policy: Policy,
        budget: &mut u64,
        fence: &JobFence,
        stop: &CancellationToken,
    ) -> Result<PassReport> {
        let table = ArchiveTable::new(self.storage.clone(), &self.root_uri, &topic.name, topic.id);
        let manifests = self.store.archive_manifests(topic.id).await?;
        if let Some(last) = manifests.last()
            && !table.is_published(last.sequence_number).await?
        {
            table.publish(&manifests).await?;
        }
        let cutoff = (self.now_ms)().saturating_sub(policy.after_ms);
        let progress: HashMap<i32, i64> = self
            .store
            .archive_progress(topic.id)
            .await?
            .into_iter()
            .collect();
        let mut report = PassReport::default();
        let mut files = Vec::new();
        let mut written = Vec::new();
        for partition in 0..topic.partitions {
            if stop.is_cancelled() {
                break;
            }
            if *budget == 0 {
                report.backlog += 1;
                continue;
            }
            let archived_to = progress.get(&partition).copied().unwrap_or(0);
            let Some(range) = self
                .pick_range(topic.id, partition, archived_to, cutoff, *budget)
                .await?
            else {
                continue;
            };
            let bytes: u64 = range.rows.iter().map(|r| r.byte_len).sum();
            *budget = budget.saturating_sub(bytes.max(1));
            if range.more {
                report.backlog += 1;
            }
            if let Some((file, stats)) = self.write_file(topic, &range).await? {
                written.push(stats);
                files.push(file);
            }
        }
        if files.is_empty() {
            return Ok(report);
        }
        let data_files: Vec<DataFile> = files
            .iter()
            .map(|f| DataFile {
                path: table.uri(&SegmentKey::from_stored(f.object_key.clone())),
                records: f.records,
                size: f.size,
            })
            .collect();
        let (manifest_key, manifest_length) = table.write_manifest(&data_files).await?;
        let commit = ArchiveCommit {
            topic_id: topic.id,
            snapshot_id: rand::random::<i64>() & i64::MAX,
            manifest_key: manifest_key.as_str().to_string(),
            manifest_length,
            committed_ms: (self.now_ms)(),
            files,
            drop_segments: policy.drop_segments,
        };
        match self.store.commit_archive(&commit, fence).await? {
            ArchiveOutcome::Committed { sequence_number } => {
                for stats in &written {
                    self.metrics.archived_bytes.inc_by(stats.record_bytes);
                    self.metrics.archived_records.inc_by(stats.records());
                }
                self.metrics
                    .archived_files
                    .inc_by(commit.files.len() as u64);
                report.done += commit.files.len() as u64;
                info!(
                    topic = %topic.name,
                    files = commit.files.len(),
                    sequence_number,
                    drop_segments = policy.drop_segments,
                    "archived"
                );
                let manifests = self.store.archive_manifests(topic.id).await?;
                table.publish(&manifests).await?;
            }
            outcome => {
                warn!(topic = %topic.name, ?outcome, "archive pass not recorded; deleting its files");
                for file in &commit.files {
                    self.storage
                        .delete_segment(&SegmentKey::from_stored(file.object_key.clone()))
                        .await?;
                }
                self.storage.delete_segment(&manifest_key).await?;
            }
        }
        Ok(report)
    }

    /// The rows of `partition` to archive next: from `archived_to` (or the
    /// log start), whole rows in order while all their records are older
    /// than `cutoff` and below the last stable offset (so every
    /// transaction they hold has ended, and whether it aborted is known),
    /// up to a file's worth or `budget` bytes. `None` if the first row is
    /// not old enough (or none is left).
    async fn pick_range(
        &self,
        topic: TopicId,
        partition: i32,
        archived_to: i64,
        cutoff: i64,
        budget: u64,
    ) -> Result<Option<Range>> {
        let Some(bounds) = self.store.partition_offsets(topic, partition).await? else {
            return Ok(None);
        };
        let from = archived_to.max(bounds.log_start_offset);
        let cap = MAX_FILE_BYTES.min(budget);
        let mut rows: Vec<IndexRow> = Vec::new();
        let mut bytes = 0u64;
        let mut next = from;
        let stable = bounds.last_stable_offset.min(bounds.high_watermark);
        'scan: while next < stable {
            let page = self
                .store
                .index_rows(topic, partition, next, ROWS_PER_QUERY)
                .await?;
            if page.is_empty() {
                break;
            }
            for row in page {
                let adjacent = rows
                    .last()
                    .is_none_or(|prev| prev.last_offset + 1 == row.base_offset);
                if row.last_offset >= stable
                    || row.max_timestamp >= cutoff
                    || SegmentKey::from_stored(row.object_key.clone()).is_archive()
                    || !adjacent
                {
                    break 'scan;
                }
                if bytes >= cap {
                    return Ok(Some(Range {
                        partition,
                        from,
                        rows,
                        more: true,
                        last_aborted_offset: bounds.last_aborted_offset,
                    }));
                }
                bytes += row.byte_len;
                next = row.last_offset + 1;
                rows.push(row);
            }
        }
        Ok((!rows.is_empty()).then_some(Range {
            partition,
            from,
            rows,
            more: false,
            last_aborted_offset: bounds.last_aborted_offset,
        }))
    }

    /// Reads the range's batches, writes their committed records as one
    /// Parquet file and uploads it. A range holding no committed record
    /// (only markers and aborted transactions) makes a file of no rows and
    /// no row groups: its offsets become a gap, as a compacted range's do.
    /// `None` only for a range of no rows.
    async fn write_file(
        &self,
        topic: &Topic,
        range: &Range,
    ) -> Result<Option<(ArchivedFile, ArchiveFile)>> {
        let (Some(first), Some(last)) = (range.rows.first(), range.rows.last()) else {
            return Ok(None);
        };
        let base_offset = first.base_offset.max(range.from);
        let last_offset = last.last_offset;
        let mut writer = ArchiveWriter::new().map_err(AgentError::from)?;
        let (mut aborted, mut markers) = (0u64, 0u64);
        for row in &range.rows {
            let data = self.row_bytes(row).await?;
            let ranges = if row.base_offset > range.last_aborted_offset {
                AbortedRanges::default()
            } else {
                self.aborted_in(topic.id, range.partition, row).await?
            };
            let (partition, from) = (range.partition, range.from);
            let (added, back) = tokio::task::spawn_blocking(move || {
                add_batches(data, partition, from, &ranges, &mut writer).map(|a| (a, writer))
            })
            .await
            .map_err(|e| AgentError::Corrupt(format!("archive encoding failed: {e}")))??;
            writer = back;
            aborted += added.aborted;
            markers += added.markers;
        }
        if aborted > 0 || markers > 0 {
            info!(
                topic = %topic.name,
                partition = range.partition,
                aborted_records = aborted,
                markers,
                "left out of the archive: aborted transactions and markers"
            );
        }
        let file = tokio::task::spawn_blocking(move || writer.finish())
            .await
            .map_err(|e| AgentError::Corrupt(format!("archive encoding failed: {e}")))??;
        let id = uuid::Uuid::new_v4();
        let key = SegmentKey::for_archive_file(
            &topic.name,
            range.partition,
            base_offset,
            last_offset,
            id,
        );
        self.storage.put_segment(&key, file.bytes.clone()).await?;
        let archived = ArchivedFile {
            file_id: id,
            object_key: key.as_str().to_string(),
            size: file.bytes.len() as u64,
            partition: range.partition,
            base_offset,
            last_offset,
            records: file.records(),
            row_groups: contiguous_groups(&file, base_offset, last_offset),
        };
        Ok(Some((archived, file)))
    }

    /// The aborted transactions overlapping `row`'s offsets, read in pages:
    /// at most one per abort marker in the row plus one per producer whose
    /// transaction straddles its ends, so bounded by the row's size.
    async fn aborted_in(
        &self,
        topic: TopicId,
        partition: i32,
        row: &IndexRow,
    ) -> Result<AbortedRanges> {
        let mut all = Vec::new();
        let mut from = row.base_offset;
        loop {
            let page = self
                .store
                .aborted_transactions(topic, partition, from, row.last_offset, ABORTED_PER_QUERY)
                .await?;
            let full = page.len() == ABORTED_PER_QUERY as usize;
            let Some(last) = page.last().map(|a| a.last_offset) else {
                break;
            };
            all.extend(page);
            if !full {
                break;
            }
            from = last + 1;
        }
        Ok(AbortedRanges::new(all))
    }

    /// A row's stored batches with their real base offsets.
    async fn row_bytes(&self, row: &IndexRow) -> Result<Bytes> {
        let key = SegmentKey::from_stored(row.object_key.clone());
        let fetched = self
            .storage
            .get_range(&key, row.byte_offset..row.byte_offset + row.byte_len)
            .await?;
        let mut data = fetched
            .try_into_mut()
            .unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        patch_run(&mut data, row.base_offset, LEADER_EPOCH)?;
        Ok(data.freeze())
    }
}

/// The file's row groups as index rows that cover `base..=last` without a
/// gap: a batch's offsets past its last record (or before the range's
/// first) belong to the neighbouring row group, so a fetch of any offset
/// of the range finds a row. A file of no records gets one row of no
/// bytes (served as one empty batch) and no timestamp, so consumers move
/// past its offsets and timestamp lookups never pick it.
fn contiguous_groups(file: &ArchiveFile, base: i64, last: i64) -> Vec<ArchivedRowGroup> {
    let groups = &file.row_groups;
    if groups.is_empty() {
        return vec![ArchivedRowGroup {
            base_offset: base,
            last_offset: last,
            byte_offset: 0,
            byte_len: 0,
            max_timestamp: -1,
        }];
    }
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| ArchivedRowGroup {
            base_offset: if i == 0 { base } else { g.base_offset },
            last_offset: groups.get(i + 1).map_or(last, |next| next.base_offset - 1),
            byte_offset: g.byte_offset,
            byte_len: g.byte_len,
            max_timestamp: g.max_timestamp,
        })
        .collect()
}
