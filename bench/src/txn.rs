//! Transactional producers for `floe bench produce --transactional-id`:
//! each producer commits a transaction every `--txn-records` records and
//! times each commit, so a run reports what transactions cost beside an
//! idempotent producer (`--idempotent`) and how long a commit takes.
//!
//! A commit is timed from after the transaction's records are acknowledged
//! (a flush) to the end of `commit_transaction`: the EndTxn round trip,
//! which on Floe includes writing and committing the markers.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rdkafka::ClientContext;
use rdkafka::producer::{Producer, ThreadedProducer};

use crate::BenchError;

/// How long InitProducerId and a commit may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest commit the histogram holds, in µs.
const MAX_COMMIT_US: u64 = 60_000_000;

/// One producer's transaction bookkeeping.
#[derive(Debug)]
pub(crate) struct TxnCycle {
    every: u64,
    in_txn: u64,
    commits: Histogram<u64>,
}

impl TxnCycle {
    /// Initialises `producer`'s transactional id and opens its first
    /// transaction; one commit every `every` records.
    pub(crate) fn start<C: ClientContext + rdkafka::producer::ProducerContext>(
        producer: &ThreadedProducer<C>,
        every: u64,
    ) -> Result<Self, BenchError> {
        producer
            .init_transactions(TXN_TIMEOUT)
            .map_err(BenchError::kafka("InitProducerId failed"))?;
        producer
            .begin_transaction()
            .map_err(BenchError::kafka("cannot begin a transaction"))?;
        let commits = Histogram::new_with_bounds(1, MAX_COMMIT_US, 3)
            .map_err(|e| BenchError::InvalidArgs(format!("commit histogram: {e}")))?;
        Ok(Self {
            every,
            in_txn: 0,
            commits,
        })
    }

    /// Counts a sent record; every `every` records, commits the
    /// transaction (timing it) and opens the next.
    pub(crate) fn sent<C: ClientContext + rdkafka::producer::ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), String> {
        self.in_txn += 1;
        if self.in_txn < self.every {
            return Ok(());
        }
        self.commit(producer)?;
        producer.begin_transaction().map_err(|e| e.to_string())
    }

    /// Commits the open transaction, if it holds records.
    pub(crate) fn commit<C: ClientContext + rdkafka::producer::ProducerContext>(
        &mut self,
        producer: &ThreadedProducer<C>,
    ) -> Result<(), String> {
        if self.in_txn == 0 {
            return Ok(());
        }
        producer.flush(TXN_TIMEOUT).map_err(|e| e.to_string())?;
        let started = Instant::now();
        producer
            .commit_transaction(TXN_TIMEOUT)
            .map_err(|e| e.to_string())?;
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.commits.saturating_record(us.max(1));
        self.in_txn = 0;
        Ok(())
    }

    /// The commit latencies recorded.
    pub(crate) fn into_commits(self) -> Histogram<u64> {
        self.commits
    }
}

/// Prints the commit count and latency of a run.
pub(crate) fn print_commits(commits: &Histogram<u64>) {
    let ms = |q: f64| commits.value_at_quantile(q) as f64 / 1_000.0;
    eprintln!(
        "transactions committed: {}; commit (flushed records to EndTxn answered) p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        commits.len(),
        ms(0.5),
        ms(0.99),
        commits.max() as f64 / 1_000.0
    );
}
