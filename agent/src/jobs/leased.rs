//! Runs a cluster-wide background job under its lease in the metadata
//! store, so one agent at a time does each job's work: every interval the
//! agent takes (or renews) the job's lease and, while it holds it, runs one
//! bounded pass. The lease is renewed while a pass runs, and the pass is
//! dropped if the lease is lost; every write the pass makes carries the
//! lease's fence and is refused by the store once another agent took over,
//! so a paused or cut-off agent never writes behind the new holder's back.
//! An agent that stops releases its leases, so another takes over at its
//! next tick rather than after the lease lapses.
//!
//! Each pass is visible in `/metrics`: `floe_job_runs_total{job,outcome}`,
//! `floe_job_last_run_timestamp_seconds`, `floe_job_last_duration_seconds`,
//! `floe_job_backlog`, `floe_job_items_total` and `floe_job_lease_held`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use floe_metadata::{JobFence, MetadataError, MetadataStore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, info_span, warn};

use super::periodic::Ticks;
use crate::error::{AgentError, Result};
use crate::metrics::Metrics;
use crate::wall_clock;

/// Shortest lease: long enough that a pass of a job with a short interval
/// is not cut by a slow renewal.
const MIN_LEASE: Duration = Duration::from_secs(15);

/// What one pass did, in the job's own unit (partitions, segments, rows).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Items handled.
    pub done: u64,
    /// Items still waiting after this pass (0 when it caught up).
    pub backlog: u64,
}

/// Starts the leased jobs of one agent.
#[derive(Debug, Clone)]
pub struct JobRunner {
    store: Arc<dyn MetadataStore>,
    metrics: Arc<Metrics>,
    /// Unique to this agent process: a restarted agent is a new holder.
    holder: String,
    stop: CancellationToken,
}

impl JobRunner {
    /// A runner whose jobs hold leases as `node_id` plus a random instance
    /// id, until `stop`.
    pub fn new(
        store: Arc<dyn MetadataStore>,
        metrics: Arc<Metrics>,
        node_id: i32,
        stop: CancellationToken,
    ) -> Self {
        Self {
            store,
            metrics,
            holder: format!("agent-{node_id}/{}", uuid::Uuid::new_v4()),
            stop,
        }
    }

    /// Runs `pass` every `interval` while this agent holds the lease of
    /// `job`, until the runner's stop; the pass gets the fence its writes
    /// must carry and a token cancelled when the agent stops.
    pub fn spawn<F, Fut>(&self, job: &'static str, interval: Duration, pass: F) -> JoinHandle<()>
    where
        F: FnMut(JobFence, CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = Result<PassReport>> + Send + 'static,
    {
        let runner = self.clone();
        tokio::spawn(
            async move { runner.run(job, interval, pass).await }.instrument(info_span!("job", job)),
        )
    }

    async fn run<F, Fut>(self, job: &'static str, interval: Duration, mut pass: F)
    where
        F: FnMut(JobFence, CancellationToken) -> Fut,
        Fut: Future<Output = Result<PassReport>>,
    {
        let ttl = lease_length(interval);
        let mut ticks = Ticks::new(interval);
        let mut held: Option<JobFence> = None;
        while ticks.next(&self.stop).await {
            let fence = match self.store.acquire_lease(job, &self.holder, ttl).await {
                Ok(Some(fence)) => fence,
                Ok(None) => {
                    held = None;
                    self.metrics.job_lease_held.with_label_values(&[job]).set(0);
                    self.count(job, "not_holder");
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "could not take the job's lease; trying at the next tick");
                    self.count(job, "error");
                    continue;
                }
            };
            self.metrics.job_lease_held.with_label_values(&[job]).set(1);
            held = Some(fence.clone());
            let started = Instant::now();
            let pass_stop = self.stop.child_token();
            let outcome = tokio::select! {
                outcome = pass(fence.clone(), pass_stop.clone()) => outcome,
                lost = self.renew_while_running(job, ttl, &fence) => Err(lost),
            };
            pass_stop.cancel();
            self.record(job, started, outcome);
        }
        if let Some(fence) = held
            && let Err(e) = self.store.release_lease(&fence).await
        {
            debug!(error = %e, "could not release the job's lease; it lapses");
        }
        self.metrics.job_lease_held.with_label_values(&[job]).set(0);
    }

    /// Renews the lease every third of its length while the pass runs;
    /// returns only when it was lost (taken over, or not renewed in time).
    async fn renew_while_running(&self, job: &str, ttl: Duration, fence: &JobFence) -> AgentError {
        let mut renewed_at = Instant::now();
        loop {
            tokio::time::sleep(ttl / 3).await;
            match self.store.acquire_lease(job, &self.holder, ttl).await {
                Ok(Some(now)) if now.token == fence.token => renewed_at = Instant::now(),
                Ok(_) => break,
                Err(e) if renewed_at.elapsed() < ttl => {
                    warn!(error = %e, "could not renew the job's lease; trying again");
                }
                Err(_) => break,
            }
        }
        AgentError::Metadata(MetadataError::LeaseLost(job.to_string()))
    }

    fn record(&self, job: &str, started: Instant, outcome: Result<PassReport>) {
        let m = &self.metrics;
        m.job_last_duration
            .with_label_values(&[job])
            .set(started.elapsed().as_secs_f64());
        m.job_last_run
            .with_label_values(&[job])
            .set(wall_clock::now_ms() as f64 / 1000.0);
        match outcome {
            Ok(report) => {
                m.job_items.with_label_values(&[job]).inc_by(report.done);
                m.job_backlog
                    .with_label_values(&[job])
                    .set(i64::try_from(report.backlog).unwrap_or(i64::MAX));
                self.count(job, "ok");
            }
            Err(AgentError::Metadata(MetadataError::LeaseLost(_))) => {
                warn!("lost the job's lease during a pass; another agent took it over");
                m.job_lease_held.with_label_values(&[job]).set(0);
                self.count(job, "lease_lost");
            }
            Err(e) => {
                warn!(error = %e, "background pass failed; retrying at the next one");
                self.count(job, "error");
            }
        }
    }

    fn count(&self, job: &str, outcome: &str) {
        self.metrics
            .job_runs
            .with_label_values(&[job, outcome])
            .inc();
    }
}

/// How long a lease lasts: two intervals, so the holder renews it at each
/// tick with time to spare, and at least [`MIN_LEASE`]. An agent that dies
/// holding a lease delays the job by at most this.
fn lease_length(interval: Duration) -> Duration {
    interval.saturating_mul(2).max(MIN_LEASE)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Waits until `done` holds, for 20 s at most.
    async fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn counting(
        runner: &JobRunner,
        passes: Arc<AtomicU64>,
        fences: Arc<std::sync::Mutex<Vec<i64>>>,
    ) -> JoinHandle<()> {
        runner.spawn(
            "test-job",
            Duration::from_millis(30),
            move |fence, _stop| {
                let (passes, fences) = (passes.clone(), fences.clone());
                async move {
                    passes.fetch_add(1, Ordering::SeqCst);
                    fences.lock().unwrap().push(fence.token);
                    Ok(PassReport {
                        done: 2,
                        backlog: 1,
                    })
                }
            },
        )
    }

    #[tokio::test]
    async fn one_agent_at_a_time_runs_a_job_and_another_takes_over_when_it_stops() {
        let store: Arc<dyn MetadataStore> = floe_metadata::open("sqlite::memory:").await.unwrap();
        let (metrics_a, metrics_b) = (
            Arc::new(Metrics::new().unwrap()),
            Arc::new(Metrics::new().unwrap()),
        );
        let (stop_a, stop_b) = (CancellationToken::new(), CancellationToken::new());
        let a = JobRunner::new(store.clone(), metrics_a.clone(), 1, stop_a.clone());
        let (passes_a, fences_a) = (Arc::new(AtomicU64::new(0)), Arc::default());
        let task_a = counting(&a, passes_a.clone(), Arc::clone(&fences_a));
        until("a runs", || passes_a.load(Ordering::SeqCst) >= 2).await;

        let b = JobRunner::new(store.clone(), metrics_b.clone(), 2, stop_b.clone());
        let (passes_b, fences_b) = (Arc::new(AtomicU64::new(0)), Arc::default());
        let task_b = counting(&b, passes_b.clone(), Arc::clone(&fences_b));
        let refused = || {
            metrics_b
                .job_runs
                .with_label_values(&["test-job", "not_holder"])
                .get()
        };
        until("b is refused a few times", || refused() >= 3).await;
        assert_eq!(
            passes_b.load(Ordering::SeqCst),
            0,
            "b never ran while a held"
        );
        assert_eq!(
            metrics_a
                .job_lease_held
                .with_label_values(&["test-job"])
                .get(),
            1
        );
        assert!(metrics_a.job_items.with_label_values(&["test-job"]).get() >= 4);
        assert_eq!(
            metrics_a.job_backlog.with_label_values(&["test-job"]).get(),
            1
        );

        // A stops: it releases the lease, and b takes over at its next tick,
        // not after the lease would have lapsed.
        stop_a.cancel();
        task_a.await.unwrap();
        until("b runs", || passes_b.load(Ordering::SeqCst) >= 2).await;
        let a_tokens = fences_a.lock().unwrap().clone();
        let b_tokens = fences_b.lock().unwrap().clone();
        assert!(a_tokens.iter().all(|t| *t == a_tokens[0]), "{a_tokens:?}");
        assert!(b_tokens[0] > a_tokens[0], "a takeover gets a new token");
        stop_b.cancel();
        task_b.await.unwrap();
    }

    #[tokio::test]
    async fn a_pass_that_loses_its_lease_is_dropped() {
        let store: Arc<dyn MetadataStore> = floe_metadata::open("sqlite::memory:").await.unwrap();
        let metrics = Arc::new(Metrics::new().unwrap());
        let stop = CancellationToken::new();
        let runner = JobRunner::new(store.clone(), metrics.clone(), 1, stop.clone());
        let thief = store.clone();
        // The pass hands its lease to another holder (as a takeover after a
        // lapse would), then waits for ever: the renewal finds it gone.
        let task = runner.spawn("stolen", Duration::from_secs(1), move |fence, _stop| {
            let thief = thief.clone();
            async move {
                thief.release_lease(&fence).await?;
                thief
                    .acquire_lease("stolen", "someone-else", Duration::from_secs(60))
                    .await?;
                std::future::pending::<()>().await;
                Ok(PassReport::default())
            }
        });
        let lost = || {
            metrics
                .job_runs
                .with_label_values(&["stolen", "lease_lost"])
                .get()
        };
        // Renewals come every third of the 15 s minimum lease.
        until("the pass is dropped", || lost() == 1).await;
        assert_eq!(
            metrics.job_lease_held.with_label_values(&["stolen"]).get(),
            0
        );
        stop.cancel();
        task.await.unwrap();
    }
}
