//! Compaction of small segments: every flush writes one small object and
//! one index row per partition, so a long log would cost millions of
//! objects and rows. Each pass merges the oldest small segments of a level
//! into one new segment of at most `compaction_target_bytes` (planning in
//! `compaction/plan.rs`, the byte copy in `compaction/merge.rs`), uploads
//! it, and swaps the index rows in one store transaction: each partition's
//! adjacent rows become one row of the new file. Committed offsets and
//! batch bytes never change.
//!
//! Only what index rows still point at is copied (retention and
//! DeleteRecords may have removed some). A partition whose rows changed
//! between the read and the swap keeps its rows (the store checks them
//! under the partition's lock); a new file no swap committed is deleted.
//! Replaced segments become candidates of the segment collector, which
//! deletes them once `segment_gc_grace_ms` has passed: a fetch that read an
//! old row just before the swap still finds its object (see
//! `fetch/reader.rs` for the bound on how long a reader keeps rows).

pub mod merge;
pub mod plan;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use floe_metadata::{
    CompactionCandidate, CompactionSwap, JobFence, MetadataError, MetadataStore, SegmentId,
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use super::leased::PassReport;
use crate::error::{AgentError, Result};
use crate::metrics::Metrics;
use crate::segment::reader::read_footer;
use crate::storage::{ObjectStorage, SegmentKey};

/// Index rows read per step at most; a step whose inputs hold more merges
/// fewer of them.
const MAX_ROWS: u32 = 100_000;
/// Merges per pass at most, so a pass is bounded (each moves at most the
/// target's worth of bytes).
const MAX_STEPS: usize = 16;

/// What compaction needs, cloned into each pass. One agent at a time runs
/// it, under the `compaction` lease (`leased.rs`); every swap carries the
/// lease's fence.
#[derive(Debug, Clone)]
pub struct Compaction {
    /// Where the index rows are.
    pub store: Arc<dyn MetadataStore>,
    /// Where the segments are.
    pub storage: ObjectStorage,
    /// Where compaction's work is counted.
    pub metrics: Arc<Metrics>,
    /// Largest segment written (`compaction_target_bytes`).
    pub target_bytes: u64,
}

impl Compaction {
    /// One bounded pass: merges level by level, lowest first, until no
    /// level has a merge worth making, [`MAX_STEPS`] merges were made, or
    /// `stop`. Reports the input segments merged and the candidates seen
    /// still waiting.
    pub async fn pass(self, fence: JobFence, stop: CancellationToken) -> Result<PassReport> {
        let mut report = PassReport::default();
        let mut steps = 0;
        for level in 0..plan::LEVELS - 1 {
            loop {
                if stop.is_cancelled() || steps == MAX_STEPS {
                    return Ok(report);
                }
                let candidates = self
                    .store
                    .compaction_candidates(level, self.target_bytes / 2, plan::MAX_INPUTS)
                    .await?;
                let picked = plan::pick_inputs(&candidates, self.target_bytes);
                if picked.is_empty() {
                    break;
                }
                steps += 1;
                report.done += self.step(picked, &fence).await?;
                report.backlog = (candidates.len() - picked.len()) as u64;
            }
        }
        Ok(report)
    }

    /// Merges `picked` (or its oldest part, if their rows are too many) into
    /// one new segment and swaps it in. Returns how many inputs were merged.
    async fn step(&self, mut picked: &[CompactionCandidate], fence: &JobFence) -> Result<u64> {
        let (store, storage, metrics) = (&*self.store, &self.storage, &*self.metrics);
        let target = self.target_bytes;
        let rows = loop {
            let ids: Vec<SegmentId> = picked.iter().map(|c| c.id).collect();
            let rows = store.segment_rows(&ids, MAX_ROWS).await?;
            if (rows.len() as u64) < u64::from(MAX_ROWS) {
                break rows;
            }
            if picked.len() < 2 {
                return Err(AgentError::Corrupt(format!(
                    "segment {} has {MAX_ROWS} index rows or more",
                    picked[0].id
                )));
            }
            picked = &picked[..picked.len() / 2];
        };
        let layout = plan::lay_out(&rows, plan::MAX_ROW_BYTES.min(target));
        if layout.is_empty() {
            return Ok(0); // their rows went since the candidates were listed
        }

        let mut inputs: HashMap<SegmentId, Bytes> = HashMap::with_capacity(picked.len());
        for c in picked {
            let key = SegmentKey::from_stored(c.object_key.clone());
            let file = storage.get_range(&key, 0..c.size).await?;
            read_footer(&file)?;
            inputs.insert(c.id, file);
        }
        let live_bytes: u64 = rows.iter().map(|r| r.byte_len).sum();
        let merged = tokio::task::spawn_blocking(move || {
            merge::merge(&layout, &inputs).map(|m| (m, layout))
        })
        .await
        .map_err(|e| AgentError::Corrupt(format!("merge failed: {e}")))?
        .map_err(|e| AgentError::Corrupt(e.to_string()))?;
        let (segment, layout) = merged;

        let id = Uuid::now_v7();
        let key = SegmentKey::for_segment(id);
        let size = segment.data.len() as u64;
        storage.put_segment(&key, segment.data).await?;
        let (level, compactable) = plan::output_level(picked, size, target);
        let swap = CompactionSwap {
            segment_id: id,
            object_key: key.as_str().to_string(),
            size,
            level,
            compactable,
            inputs: picked.iter().map(|c| c.id).collect(),
            partitions: layout,
        };
        let outcome = match store.swap_compacted(&swap, fence).await {
            Ok(outcome) => outcome,
            Err(lost @ MetadataError::LeaseLost(_)) => {
                // Refused before writing anything: nothing points at it.
                drop_unused(storage, &key).await;
                return Err(lost.into());
            }
            // Any other error leaves the outcome unknown: the new object
            // stays, for the orphan sweep if the swap did not happen.
            Err(e) => return Err(e.into()),
        };
        let skipped = outcome.skipped.len() as u64;
        metrics.compaction.skipped_partitions.inc_by(skipped);
        if !outcome.committed() {
            warn!(segment = %id, "every partition changed during the merge; dropping it");
            drop_unused(storage, &key).await;
            return Ok(0);
        }
        metrics.compaction.input_bytes.inc_by(live_bytes);
        metrics.compaction.output_bytes.inc_by(size);
        metrics
            .compaction
            .input_segments
            .inc_by(picked.len() as u64);
        metrics.compaction.output_segments.inc();
        metrics.compaction.rows_removed.inc_by(outcome.rows_removed);
        metrics.compaction.rows_added.inc_by(outcome.rows_added);
        info!(
            segment = %id,
            level,
            inputs = picked.len(),
            bytes = size,
            rows_removed = outcome.rows_removed,
            rows_added = outcome.rows_added,
            skipped_partitions = skipped,
            "compacted segments"
        );
        Ok(picked.len() as u64)
    }
}

/// Deletes a compacted segment no swap committed (a failure is only
/// logged: the orphan sweep finds it later).
async fn drop_unused(storage: &ObjectStorage, key: &SegmentKey) {
    if let Err(e) = storage.delete_segment(key).await {
        warn!(key = %key, error = %e, "cannot delete an unused compacted segment");
    }
}

#[cfg(test)]
#[path = "compaction/tests.rs"]
mod tests;
