//! The segment collector: deletes the objects of segments no index row
//! points at any more (their topics were deleted, or none of their batches
//! was appended), then forgets them in the metadata store.
//!
//! Any number of agents may run it at once: deleting an object that is
//! already gone succeeds, and a segment is forgotten only while no index
//! row points at it. A segment is only collected once it was committed
//! more than the grace ago, longer than any retry of its commit (a retry of
//! a forgotten segment would commit it again).

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::MetadataStore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::periodic;
use crate::metrics::Metrics;
use crate::storage::{ObjectStorage, SegmentKey};

/// Segments handled per store query.
const BATCH: u32 = 256;

/// When and what the collector collects.
#[derive(Debug, Clone, Copy)]
pub struct CollectorSettings {
    /// Time between passes.
    pub interval: Duration,
    /// Least age of a collected segment's commit.
    pub grace: Duration,
}

/// Runs passes every `settings.interval` until `stop`.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    storage: ObjectStorage,
    metrics: Arc<Metrics>,
    settings: CollectorSettings,
    stop: CancellationToken,
) {
    let mut ticks = periodic::Ticks::new(settings.interval);
    while ticks.next(&stop).await {
        let run = collect(&*store, &storage, &metrics, settings.grace, &stop);
        periodic::pass("collect segments", run).await;
    }
}

/// One pass: collects unreferenced segments, a batch at a time, until none
/// is left or `stop`. Returns how many were collected.
async fn collect(
    store: &dyn MetadataStore,
    storage: &ObjectStorage,
    metrics: &Metrics,
    grace: Duration,
    stop: &CancellationToken,
) -> crate::error::Result<u64> {
    let mut collected = 0;
    while !stop.is_cancelled() {
        let segments = store.unreferenced_segments(grace, BATCH).await?;
        if segments.is_empty() {
            break;
        }
        let mut deleted = Vec::with_capacity(segments.len());
        for segment in &segments {
            match storage
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
            break;
        }
        let forgotten = store.forget_segments(&deleted).await?;
        metrics.segments_collected.inc_by(deleted.len() as u64);
        collected += forgotten;
        if deleted.len() < segments.len() {
            break; // the object store refuses some: wait for the next pass
        }
    }
    if collected > 0 {
        info!(segments = collected, "collected unreferenced segments");
    }
    Ok(collected)
}
