//! The segment collector: deletes the objects of segments no index row
//! points at any more (their topics were deleted, or none of their batches
//! was appended), then forgets them in the metadata store.
//!
//! One agent at a time runs it, under the `collector` lease (`leased.rs`);
//! were two to run at once nothing would break: deleting an object that is
//! already gone succeeds, and a segment is forgotten only while no index
//! row points at it. A segment is only collected once it was committed
//! more than the grace ago, longer than any retry of its commit (a retry of
//! a forgotten segment would commit it again).

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::{JobFence, MetadataStore};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::leased::PassReport;
use crate::metrics::Metrics;
use crate::storage::{ObjectStorage, SegmentKey};

/// Segments handled per store query.
const BATCH: u32 = 256;
/// Store queries one pass makes at most, so a large backlog (a deleted
/// topic of a million segments) is worked off over several passes.
const BATCHES_PER_PASS: usize = 100;

/// What the collector needs, cloned into each pass.
#[derive(Debug, Clone)]
pub struct Collector {
    /// Where the segments' rows are.
    pub store: Arc<dyn MetadataStore>,
    /// Where their objects are.
    pub storage: ObjectStorage,
    /// Where collected segments are counted.
    pub metrics: Arc<Metrics>,
    /// Least age of a collected segment's commit.
    pub grace: Duration,
}

impl Collector {
    /// One pass: collects unreferenced segments, a batch at a time, until
    /// none is left, [`BATCHES_PER_PASS`] batches, or `stop`. Reports the
    /// segments collected and, when it stopped early, a batch still
    /// waiting.
    pub async fn pass(
        self,
        fence: JobFence,
        stop: CancellationToken,
    ) -> crate::error::Result<PassReport> {
        let mut report = PassReport::default();
        for _ in 0..BATCHES_PER_PASS {
            if stop.is_cancelled() {
                break;
            }
            let segments = self.store.unreferenced_segments(self.grace, BATCH).await?;
            if segments.is_empty() {
                break;
            }
            let mut deleted = Vec::with_capacity(segments.len());
            for segment in &segments {
                match self
                    .storage
                    .delete_segment(&SegmentKey::from_stored(segment.object_key.clone()))
                    .await
                {
                    Ok(()) => deleted.push(segment.id),
                    Err(e) => {
                        warn!(key = %segment.object_key, error = %e, "cannot delete a segment object")
                    }
                }
            }
            if deleted.is_empty() {
                report.backlog = segments.len() as u64;
                break;
            }
            let forgotten = self.store.forget_segments(&deleted, &fence).await?;
            self.metrics.segments_collected.inc_by(deleted.len() as u64);
            report.done += forgotten;
            if deleted.len() < segments.len() {
                // The object store refuses some: wait for the next pass.
                report.backlog = (segments.len() - deleted.len()) as u64;
                break;
            }
        }
        if report.done == 0 && report.backlog == 0 {
            return Ok(report);
        }
        info!(segments = report.done, "collected unreferenced segments");
        if !stop.is_cancelled() && report.backlog == 0 {
            report.backlog = self
                .store
                .unreferenced_segments(self.grace, BATCH)
                .await?
                .len() as u64;
        }
        Ok(report)
    }
}
