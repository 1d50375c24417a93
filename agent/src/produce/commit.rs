//! Committing an uploaded segment until its outcome is known. This is the
//! one layer that retries a commit: the stores try once, and a commit is
//! idempotent by its segment id, so asking again after an error (a lost
//! connection, a timeout) either commits it or answers as the first commit
//! did. A producer is told "failed" only when the store refused for good,
//! never while the commit may have happened.

use std::time::Duration;

use floe_metadata::{CommittedSegment, MetadataStore, SegmentCommit};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::metrics::Metrics;

/// Longest wait for one commit attempt; the Postgres store's statement
/// timeout ends the server's side of an abandoned attempt soon after.
pub const COMMIT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a commit is retried.
#[derive(Debug, Clone, Copy)]
pub struct CommitRetry {
    /// Longest wait for one attempt ([`COMMIT_ATTEMPT_TIMEOUT`]).
    pub attempt_timeout: Duration,
    /// How long a commit whose outcome is unknown is retried before its
    /// producers are answered REQUEST_TIMED_OUT.
    pub window: Duration,
}
/// Once the agent is shutting down, the longest it keeps retrying a commit
/// whose outcome is unknown; its producers then hear nothing definite.
const SHUTDOWN_RETRY_BOUND: Duration = Duration::from_secs(10);
/// Pause after the first failed attempt; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What became of a commit.
#[derive(Debug)]
pub(super) enum CommitResult {
    /// Committed: one outcome per batch, per entry, and each entry's log
    /// start offset.
    Committed(CommittedSegment),
    /// The store refused it for good and wrote nothing.
    Refused(String),
    /// Still unknown when the retry window closed (or shutdown's bound
    /// passed): it may or may not be committed.
    Unknown(String),
}

/// Commits `commit`, retrying every error that leaves the outcome unknown
/// or may pass, for at most the retry window (then the outcome stays
/// unknown).
/// Once `shutdown` fires, retries stop within [`SHUTDOWN_RETRY_BOUND`].
pub(super) async fn commit_until_known(
    store: &dyn MetadataStore,
    commit: &SegmentCommit,
    retry: CommitRetry,
    shutdown: &CancellationToken,
    metrics: &Metrics,
) -> CommitResult {
    let started = Instant::now();
    let mut deadline = started + retry.window;
    let mut shutdown_seen = None;
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1u32;
    loop {
        let attempt_started = Instant::now();
        let error = match tokio::time::timeout(
            retry.attempt_timeout,
            store.commit_segment_reporting(commit),
        )
        .await
        {
            Ok(Ok(committed)) => {
                metrics
                    .commit_seconds
                    .observe(attempt_started.elapsed().as_secs_f64());
                return CommitResult::Committed(committed);
            }
            Ok(Err(e)) if e.is_definitive() => return CommitResult::Refused(e.to_string()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", retry.attempt_timeout),
        };
        let now = Instant::now();
        if shutdown.is_cancelled() && shutdown_seen.is_none() {
            shutdown_seen = Some(now);
            deadline = deadline.min(now + SHUTDOWN_RETRY_BOUND);
        }
        if now >= deadline {
            warn!(attempt, error, "segment commit still unknown; giving up");
            return CommitResult::Unknown(error);
        }
        warn!(attempt, error, "segment commit failed; retrying");
        metrics.commit_retries.inc();
        let pause = jittered(backoff).min(deadline - now);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            // Shutting down: retry at once, the bound above now applies.
            _ = shutdown.cancelled(), if !shutdown.is_cancelled() => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

/// `base` plus up to half of it again, so agents that failed together do
/// not retry together.
fn jittered(base: Duration) -> Duration {
    let extra = rand::random::<u64>() % (base.as_millis() as u64 / 2 + 1);
    base + Duration::from_millis(extra)
}
