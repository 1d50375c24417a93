//! Background jobs that run a pass every interval until the agent stops:
//! the consumer-lag metrics and the re-reading of broker configs (the
//! cluster-wide jobs tick here too, under their leases: `leased.rs`). A
//! failed pass is logged and tried again at the next tick; a late tick is
//! not made up for.

use std::fmt::Display;
use std::time::Duration;

use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span, warn};

/// The ticks of one job.
#[derive(Debug)]
pub struct Ticks {
    interval: Interval,
}

impl Ticks {
    /// Ticks every `every`, the first at once.
    pub fn new(every: Duration) -> Self {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self { interval }
    }

    /// Waits for the next tick: `false` once `stop` is cancelled.
    pub async fn next(&mut self, stop: &CancellationToken) -> bool {
        tokio::select! {
            _ = self.interval.tick() => true,
            _ = stop.cancelled() => false,
        }
    }
}

/// Runs one pass of `job` in a span named after it, logging its failure.
pub async fn pass<T, E: Display>(job: &'static str, run: impl Future<Output = Result<T, E>>) {
    if let Err(e) = run.instrument(info_span!("job", job)).await {
        warn!(job, error = %e, "background pass failed; retrying at the next one");
    }
}
