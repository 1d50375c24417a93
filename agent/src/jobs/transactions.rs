//! The `transactions` job: aborts transactions open longer than their
//! `transaction.timeout.ms` (bumping the epoch, so their producer is
//! fenced and its later batches refused), finishes prepared transactions an
//! agent left when it died (their markers were maybe not all written), and
//! forgets transactional ids idle longer than
//! `transactional_id_expiration_ms` (Kafka's coordinator does all three on
//! timers).
//!
//! One agent at a time runs it, under the `transactions` lease
//! (`leased.rs`), in bounded passes. Its writes are not fenced by the lease
//! but by the transactions' own compare-and-set: a second agent running a
//! pass at once could only write a second, harmless set of markers.

use crate::error::{AgentError, Result};
use crate::txn::TxnCoordinator;

use super::leased::PassReport;

/// Transactional ids one pass looks at; the rest wait for the next pass.
const MAX_IDS_PER_PASS: u32 = 10_000;

/// One pass of the job.
pub async fn pass(coordinator: TxnCoordinator) -> Result<PassReport> {
    let pass = coordinator
        .timeout_pass(MAX_IDS_PER_PASS)
        .await
        .map_err(|e| match e {
            crate::txn::TxnError::Store(e) => AgentError::from(e),
            other => AgentError::FlushFailed(other.to_string()),
        })?;
    if pass.timed_out + pass.finished + pass.expired > 0 {
        tracing::info!(
            timed_out = pass.timed_out,
            finished = pass.finished,
            expired = pass.expired,
            ongoing = pass.ongoing,
            "transactions pass"
        );
    }
    Ok(PassReport {
        done: pass.timed_out + pass.finished + pass.expired,
        backlog: 0,
    })
}
