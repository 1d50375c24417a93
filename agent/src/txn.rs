//! The transaction coordinator (KIP-98): InitProducerId of transactional
//! ids, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn,
//! and the timeout job's aborts.
//!
//! An agent keeps no transaction in memory: every state lives in the
//! metadata store and every change is a compare-and-set there on (producer
//! id, epoch, state). So any agent can serve any transactional id (the one
//! FindCoordinator names is only where clients go first), and an agent that
//! dies mid-transaction leaves nothing another cannot finish. Ending a
//! transaction is PrepareX (stored) → markers appended to every partition
//! through the produce pipeline, in one segment → CompleteX (stored); a
//! crash between is finished by the producer's retry, its next
//! InitProducerId, or the `transactions` job.

mod coordinator;
mod markers;

pub use coordinator::{TimeoutPass, TxnCoordinator, TxnSettings};

use floe_metadata::MetadataError;

use crate::produce::FlushError;

/// Why a transactional request was refused; each maps to Kafka's error
/// code for the same situation (`kafka/error_codes.rs`).
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    /// The transactional id is unknown or maps to another producer id
    /// (INVALID_PRODUCER_ID_MAPPING).
    #[error("transactional id does not map to this producer id")]
    InvalidProducerIdMapping,
    /// An older epoch of the producer (PRODUCER_FENCED, or
    /// INVALID_PRODUCER_EPOCH for requests too old to know it).
    #[error("producer fenced by a newer epoch")]
    ProducerFenced,
    /// Markers of the previous transaction are being written
    /// (CONCURRENT_TRANSACTIONS): retry.
    #[error("a transaction is ending")]
    ConcurrentTransactions,
    /// The request does not fit the transaction's state (INVALID_TXN_STATE).
    #[error("invalid transaction state")]
    InvalidTxnState,
    /// `transaction.timeout.ms` is not positive or above
    /// `transaction_max_timeout_ms` (INVALID_TRANSACTION_TIMEOUT).
    #[error("transaction timeout out of range")]
    InvalidTransactionTimeout,
    /// An empty transactional id (INVALID_REQUEST).
    #[error("empty transactional id")]
    InvalidRequest,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] MetadataError),
    /// A marker could not be written; the transaction stays prepared and
    /// is finished by a retry or the job.
    #[error("markers not written: {0}")]
    Markers(FlushError),
}
