//! Forgets what the metadata store keeps only for a while, so it does not
//! grow with every flush and every producer ever seen: the stored outcomes
//! of commits older than the grace (only a retried commit reads them), and
//! the state of idempotent producers silent for `producer_id_expiration_ms`
//! (Kafka's `producer.id.expiration.ms`).
//!
//! One agent at a time runs it, under the `prune` lease (`leased.rs`);
//! were two to run at once nothing would break: each statement deletes
//! what is old at that moment, and deleting twice deletes nothing more.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::{JobFence, MetadataStore, Pruned};
use tokio_util::sync::CancellationToken;

use super::leased::PassReport;
use crate::metrics::Metrics;

/// Segments and producer-partitions forgotten per store call.
const BATCH: u32 = 1_000;
/// Most store calls in one pass, so a large backlog is worked off over
/// several passes rather than in one long one.
const MAX_CALLS_PER_PASS: usize = 100;

/// What the prune job forgets, and when.
#[derive(Debug, Clone)]
pub struct Prune {
    /// Where it is forgotten.
    pub store: Arc<dyn MetadataStore>,
    /// Where forgotten rows are counted.
    pub metrics: Arc<Metrics>,
    /// Age of a commit after which its stored outcomes go: the segment
    /// collector's grace, which outlasts every retry of a commit.
    pub outcomes_after: Duration,
    /// Silence after which an idempotent producer's state goes.
    pub producers_after: Duration,
}

impl Prune {
    /// One pass: prunes a batch at a time until nothing old is left, the
    /// pass has made [`MAX_CALLS_PER_PASS`] calls, or `stop`. Reports the
    /// rows forgotten, and a batch as backlog when it stopped early.
    pub async fn pass(
        self,
        fence: JobFence,
        stop: CancellationToken,
    ) -> crate::error::Result<PassReport> {
        let mut total = Pruned::default();
        let mut caught_up = false;
        for _ in 0..MAX_CALLS_PER_PASS {
            if stop.is_cancelled() {
                break;
            }
            let pruned = self
                .store
                .prune(self.outcomes_after, self.producers_after, BATCH, &fence)
                .await?;
            self.metrics
                .metadata_pruned
                .with_label_values(&["commit_outcomes"])
                .inc_by(pruned.outcomes);
            self.metrics
                .metadata_pruned
                .with_label_values(&["producer_batches"])
                .inc_by(pruned.producer_batches);
            total.outcomes += pruned.outcomes;
            total.producer_batches += pruned.producer_batches;
            if pruned.outcomes < u64::from(BATCH) && pruned.producer_batches < u64::from(BATCH) {
                caught_up = true;
                break;
            }
        }
        if total != Pruned::default() {
            tracing::info!(
                outcomes = total.outcomes,
                producer_batches = total.producer_batches,
                "pruned metadata"
            );
        }
        Ok(PassReport {
            done: total.outcomes + total.producer_batches,
            backlog: if caught_up { 0 } else { u64::from(BATCH) },
        })
    }
}
