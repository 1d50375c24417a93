//! The orphan sweep: finds segment objects in the bucket that the metadata
//! store never committed (an agent crashed between its PUT and its commit,
//! or the commit was refused for good) and deletes them once they are older
//! than the grace (`segment_gc_grace_ms`, which outlasts every retry of a
//! commit, so an object whose commit may still land is never taken). It
//! also hands the segment collector the committed segments no index row
//! points at (every batch of their commit was a duplicate or refused),
//! which nothing else would make candidates.
//!
//! It works by listing: segment keys spread over 256 folders
//! (`segments/<xx>/`, see `storage.rs`), and each pass lists
//! [`FOLDERS_PER_PASS`] of them in turn, asking the store about their
//! objects [`CHUNK`] at a time, so a pass's memory and work are bounded
//! whatever the size of the bucket and a full sweep takes 256 /
//! [`FOLDERS_PER_PASS`] passes. It runs under the `orphan_sweep` lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use floe_metadata::{JobFence, MetadataStore};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::leased::PassReport;
use crate::storage::{ObjectStorage, SegmentKey};
use crate::wall_clock;

/// Folders listed per pass.
pub const FOLDERS_PER_PASS: usize = 16;
/// Folders in all: one per value of the key's spread byte.
const FOLDERS: usize = 256;
/// Objects asked about per store call.
const CHUNK: usize = 1_000;

/// What the sweep needs, cloned into each pass.
#[derive(Debug, Clone)]
pub struct OrphanSweep {
    /// Which segments were committed.
    pub store: Arc<dyn MetadataStore>,
    /// Where their objects are.
    pub storage: ObjectStorage,
    /// Least age of an object the sweep deletes.
    pub grace: Duration,
    /// The next folder to list; this agent's own cursor (another agent
    /// taking the lease over starts from its own).
    pub next_folder: Arc<AtomicUsize>,
}

impl OrphanSweep {
    /// A sweep starting at the first folder.
    pub fn new(store: Arc<dyn MetadataStore>, storage: ObjectStorage, grace: Duration) -> Self {
        Self {
            store,
            storage,
            grace,
            next_folder: Arc::default(),
        }
    }

    /// One pass over the next [`FOLDERS_PER_PASS`] folders. Reports the
    /// orphans deleted and, as backlog, the folders left in this sweep of
    /// the bucket.
    pub async fn pass(
        self,
        fence: JobFence,
        stop: CancellationToken,
    ) -> crate::error::Result<PassReport> {
        let grace_ms = i64::try_from(self.grace.as_millis()).unwrap_or(i64::MAX);
        let mut report = PassReport::default();
        for _ in 0..FOLDERS_PER_PASS {
            if stop.is_cancelled() {
                break;
            }
            let folder = self.next_folder.load(Ordering::Relaxed) % FOLDERS;
            // Objects written after this were written within the grace.
            let older_than = wall_clock::now_ms().saturating_sub(grace_ms);
            report.done += self.sweep_folder(folder, older_than, &fence).await?;
            self.next_folder
                .store((folder + 1) % FOLDERS, Ordering::Relaxed);
        }
        let next = self.next_folder.load(Ordering::Relaxed);
        report.backlog = ((FOLDERS - next) % FOLDERS) as u64;
        Ok(report)
    }

    /// Sweeps one folder: returns the orphans deleted.
    async fn sweep_folder(
        &self,
        folder: usize,
        older_than_ms: i64,
        fence: &JobFence,
    ) -> crate::error::Result<u64> {
        let spread = u8::try_from(folder).unwrap_or(u8::MAX);
        let mut listing = self.storage.list_folder(&SegmentKey::folder(spread));
        let mut deleted = 0;
        let mut chunk = Vec::with_capacity(CHUNK);
        loop {
            let next = listing.next().await.transpose()?;
            let done = next.is_none();
            if let Some((key, written_ms)) = next {
                match key.segment_id() {
                    Some(id) if written_ms < older_than_ms => chunk.push(id),
                    Some(_) => {}
                    None => debug!(%key, "not a segment key; left alone"),
                }
            }
            if chunk.len() == CHUNK || (done && !chunk.is_empty()) {
                deleted += self.delete_orphans(&chunk, fence).await?;
                chunk.clear();
            }
            if done {
                return Ok(deleted);
            }
        }
    }

    /// Asks the store which of `ids` it never committed, and deletes their
    /// objects. Returns how many went.
    async fn delete_orphans(
        &self,
        ids: &[uuid::Uuid],
        fence: &JobFence,
    ) -> crate::error::Result<u64> {
        let orphans = self.store.sweep_segments(ids, fence).await?;
        let mut deleted = 0;
        for id in orphans {
            let key = SegmentKey::for_segment(id);
            match self.storage.delete_segment(&key).await {
                Ok(()) => {
                    info!(%key, "deleted an orphan segment object (uploaded, never committed)");
                    deleted += 1;
                }
                Err(e) => warn!(%key, error = %e, "cannot delete an orphan segment object"),
            }
        }
        Ok(deleted)
    }
}
