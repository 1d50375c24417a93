//! Forgets what the metadata store keeps only for a while, so it does not
//! grow with every flush and every producer ever seen: the stored outcomes
//! of commits older than the grace (only a retried commit reads them), and
//! the state of idempotent producers silent for `producer_id_expiration_ms`
//! (Kafka's `producer.id.expiration.ms`).
//!
//! Any number of agents may run it at once: each statement deletes what is
//! old at that moment, and deleting twice deletes nothing more.

use std::sync::Arc;
use std::time::Duration;

use floe_metadata::{MetadataStore, Pruned};
use tokio_util::sync::CancellationToken;

use super::periodic;
use crate::metrics::Metrics;

/// Segments and producer-partitions forgotten per store call.
const BATCH: u32 = 1_000;
/// Most store calls in one pass, so a large backlog is worked off over
/// several passes rather than in one long one.
const MAX_CALLS_PER_PASS: usize = 100;

/// When and what the job forgets.
#[derive(Debug, Clone, Copy)]
pub struct PruneSettings {
    /// Time between passes (Kafka's
    /// `producer.id.expiration.check.interval.ms`).
    pub interval: Duration,
    /// Age of a commit after which its stored outcomes go: the segment
    /// collector's grace, which outlasts every retry of a commit.
    pub outcomes_after: Duration,
    /// Silence after which an idempotent producer's state goes.
    pub producers_after: Duration,
}

/// Runs passes every `settings.interval` until `stop`.
pub async fn run(
    store: Arc<dyn MetadataStore>,
    metrics: Arc<Metrics>,
    settings: PruneSettings,
    stop: CancellationToken,
) {
    let mut ticks = periodic::Ticks::new(settings.interval);
    while ticks.next(&stop).await {
        periodic::pass("prune metadata", prune(&*store, &metrics, settings, &stop)).await;
    }
}

/// One pass: prunes a batch at a time until nothing old is left, the pass
/// has made [`MAX_CALLS_PER_PASS`] calls, or `stop`.
async fn prune(
    store: &dyn MetadataStore,
    metrics: &Metrics,
    settings: PruneSettings,
    stop: &CancellationToken,
) -> floe_metadata::Result<Pruned> {
    let mut total = Pruned::default();
    for _ in 0..MAX_CALLS_PER_PASS {
        if stop.is_cancelled() {
            break;
        }
        let pruned = store
            .prune(settings.outcomes_after, settings.producers_after, BATCH)
            .await?;
        metrics
            .metadata_pruned
            .with_label_values(&["commit_outcomes"])
            .inc_by(pruned.outcomes);
        metrics
            .metadata_pruned
            .with_label_values(&["producer_batches"])
            .inc_by(pruned.producer_batches);
        total.outcomes += pruned.outcomes;
        total.producer_batches += pruned.producer_batches;
        if pruned == Pruned::default() {
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
    Ok(total)
}
