//! Runs a cluster-wide background job under its lease in the metadata
//! store, so that each pass runs once in the cluster, on one agent: every
//! agent asks for the job's lease twice an interval; the store grants it
//! only when it is free and the job's last pass finished an interval ago
//! (by the asking agent's interval, so a changed setting applies at once),
//! and the agent that gets it runs one bounded pass, then releases the
//! lease and records the pass. The lease is renewed while a pass runs, and the
//! pass is dropped if the lease is lost; every write the pass makes carries
//! the lease's fence and is refused by the store once another agent took
//! over, so a paused or cut-off agent never writes behind the new holder's
//! back. An agent that dies mid-pass delays the job by a lease's length
//! ([`LEASE`]).
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

/// How long a lease lasts unless renewed: a pass renews it every third of
/// this, so a slow renewal does not cut it short, and an agent that dies
/// mid-pass holds its job up for this long at most.
const LEASE: Duration = Duration::from_secs(15);

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

    /// Runs `pass` whenever this agent gets the lease of `job`, which the
    /// store grants once per `interval` in the cluster, until the runner's
    /// stop; the pass gets the fence its writes must carry and a token
    /// cancelled when the agent stops.
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
        // Twice an interval, so a due pass starts within half an interval
        // wherever the previous one ran.
        let mut ticks = Ticks::new((interval / 2).max(Duration::from_millis(1)));
        while ticks.next(&self.stop).await {
            let asked = self.store.acquire_lease(job, &self.holder, LEASE, interval);
            let fence = match asked.await {
                Ok(Some(fence)) => fence,
                Ok(None) => {
                    self.count(job, "not_due");
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "could not take the job's lease; trying at the next tick");
                    self.count(job, "error");
                    continue;
                }
            };
            self.metrics.job_lease_held.with_label_values(&[job]).set(1);
            let started = Instant::now();
            let pass_stop = self.stop.child_token();
            let outcome = tokio::select! {
                outcome = pass(fence.clone(), pass_stop.clone()) => outcome,
                lost = self.renew_while_running(job, &fence) => Err(lost),
            };
            pass_stop.cancel();
            // A pass cut short by the agent's stop is due again at once,
            // on another agent.
            let finished = !self.stop.is_cancelled();
            self.record(job, started, outcome);
            if let Err(e) = self.store.release_lease(&fence, finished).await {
                debug!(error = %e, "could not release the job's lease; it lapses");
            }
            self.metrics.job_lease_held.with_label_values(&[job]).set(0);
        }
    }

    /// Renews the lease every third of its length while the pass runs;
    /// returns only when it was lost (taken over, or not renewed in time).
    async fn renew_while_running(&self, job: &str, fence: &JobFence) -> AgentError {
        let mut renewed_at = Instant::now();
        loop {
            tokio::time::sleep(LEASE / 3).await;
            match self
                .store
                .acquire_lease(job, &self.holder, LEASE, Duration::ZERO)
                .await
            {
                Ok(Some(now)) if now.token == fence.token => renewed_at = Instant::now(),
                Ok(_) => break,
                Err(e) if renewed_at.elapsed() < LEASE => {
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// Waits until `done` holds, for 20 s at most.
    async fn until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// What the passes of every agent saw, in the order they ran.
    #[derive(Default)]
    struct Passes {
        running: AtomicBool,
        tokens: Mutex<Vec<(i32, i64)>>,
    }

    fn recording(runner: &JobRunner, agent: i32, passes: Arc<Passes>) -> JoinHandle<()> {
        runner.spawn(
            "test-job",
            Duration::from_millis(100),
            move |fence, _stop| {
                let passes = passes.clone();
                async move {
                    assert!(
                        !passes.running.swap(true, Ordering::SeqCst),
                        "two passes at once"
                    );
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    passes.tokens.lock().unwrap().push((agent, fence.token));
                    passes.running.store(false, Ordering::SeqCst);
                    Ok(PassReport {
                        done: 2,
                        backlog: 1,
                    })
                }
            },
        )
    }

    #[tokio::test]
    async fn each_pass_runs_once_in_the_cluster_with_a_new_fence() {
        let store = floe_metadata::open("sqlite::memory:").await.unwrap();
        let passes = Arc::new(Passes::default());
        let stop = CancellationToken::new();
        let metrics: Vec<_> = (0..3).map(|_| Arc::new(Metrics::new().unwrap())).collect();
        let tasks: Vec<_> = (0..3)
            .map(|agent| {
                let runner = JobRunner::new(
                    store.clone(),
                    metrics[agent].clone(),
                    agent as i32,
                    stop.clone(),
                );
                recording(&runner, agent as i32, passes.clone())
            })
            .collect();
        until("ten passes", || passes.tokens.lock().unwrap().len() >= 10).await;
        stop.cancel();
        for task in tasks {
            task.await.unwrap();
        }
        let tokens: Vec<i64> = passes.tokens.lock().unwrap().iter().map(|p| p.1).collect();
        assert!(
            tokens.windows(2).all(|w| w[0] < w[1]),
            "every pass has a fence of its own, newer than the last: {tokens:?}"
        );
        let refused: u64 = metrics
            .iter()
            .map(|m| m.job_runs.with_label_values(&["test-job", "not_due"]).get())
            .sum();
        assert!(refused > 0, "agents asked while the pass was not due");
        let ok: u64 = metrics
            .iter()
            .map(|m| m.job_runs.with_label_values(&["test-job", "ok"]).get())
            .sum();
        assert_eq!(ok as usize, passes.tokens.lock().unwrap().len());
        let items: u64 = metrics
            .iter()
            .map(|m| m.job_items.with_label_values(&["test-job"]).get())
            .sum();
        assert_eq!(items, 2 * ok);
    }

    #[tokio::test]
    async fn a_pass_that_loses_its_lease_is_dropped() {
        let store = floe_metadata::open("sqlite::memory:").await.unwrap();
        let metrics = Arc::new(Metrics::new().unwrap());
        let stop = CancellationToken::new();
        let runner = JobRunner::new(store.clone(), metrics.clone(), 1, stop.clone());
        let thief = store.clone();
        // The pass hands its lease to another holder (as a takeover after a
        // lapse would), then waits for ever: the renewal finds it gone.
        let task = runner.spawn("stolen", Duration::from_secs(1), move |fence, _stop| {
            let thief = thief.clone();
            async move {
                thief.release_lease(&fence, false).await?;
                thief
                    .acquire_lease(
                        "stolen",
                        "someone-else",
                        Duration::from_secs(60),
                        Duration::ZERO,
                    )
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
        // Renewals come every third of the lease.
        until("the pass is dropped", || lost() == 1).await;
        assert_eq!(
            metrics.job_lease_held.with_label_values(&["stolen"]).get(),
            0
        );
        stop.cancel();
        task.await.unwrap();
    }
}
