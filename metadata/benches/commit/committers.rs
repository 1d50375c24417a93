//! Concurrent committers over a measured window: the loop that the
//! throughput cases and the hot-row reference share, so that the two
//! numbers are measured the same way and can be read against each other.

use std::time::{Duration, Instant};

use anyhow::Result;
use hdrhistogram::Histogram;

use crate::stats::{histogram, micros};

/// Concurrent committers of the throughput cases.
pub const COMMITTERS: [usize; 3] = [1, 4, 16];
/// Most stores (agents) the committers are spread over.
pub const MAX_STORES: usize = 4;
/// Unmeasured time at the start of each throughput case.
pub const THROUGHPUT_WARMUP: Duration = Duration::from_millis(500);

/// Runs `committers` tasks for a warm-up and then `measure`, and returns
/// the latencies of the commits that completed within `measure` (so their
/// count is the throughput). `committer(i)` makes task `i`'s step: each call
/// prepares one commit (not timed) and returns the future that makes it
/// (timed); the task calls it as fast as it can until the window ends.
pub async fn measure<Step, Commit>(
    committers: usize,
    measure: Duration,
    mut committer: impl FnMut(usize) -> Step,
) -> Result<Histogram<u64>>
where
    Step: FnMut() -> Commit + Send + 'static,
    Commit: Future<Output = Result<()>> + Send + 'static,
{
    let start = Instant::now() + THROUGHPUT_WARMUP;
    let end = start + measure;
    let mut tasks = Vec::with_capacity(committers);
    for index in 0..committers {
        let mut step = committer(index);
        tasks.push(tokio::spawn(async move {
            let mut histogram = histogram()?;
            while Instant::now() < end {
                let commit = step();
                let begun = Instant::now();
                commit.await?;
                let done = Instant::now();
                if done >= start && done < end {
                    histogram.record(micros(done - begun))?;
                }
            }
            anyhow::Ok(histogram)
        }));
    }
    let mut histogram = histogram()?;
    for task in tasks {
        histogram.add(task.await??)?;
    }
    Ok(histogram)
}
